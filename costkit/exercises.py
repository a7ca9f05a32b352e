"""Exercises that check themselves: right, close or wrong, with a hint, never the answer.

Each notebook ends with three exercises, each with the tolerance it accepts
(:attr:`Exercise.tolerance`, stated beside the answer). ``check("06.1", answer)`` compares
a student's number with the value costkit computes for it (every expected
answer is a call into costkit, none is typed in) and says:

- **right**: within the exercise's tolerance (``rtol`` relative, or ``atol``
  in the answer's unit);
- **close**: within ``close_rtol`` (5% unless stated), with the hint for the
  usual slip (rounding, a unit prefix);
- **wrong**: otherwise; when the answer matches a known mistake (sparse
  TFLOPS, gigabytes added to money, one-sided z, query heads for KV heads)
  the hint names that mistake.

``None`` means "not answered yet" (the hand-outs start that way); anything
else that is not a finite number raises ``TypeError`` or ``ValueError``.
``check_all("06", a1, a2, a3)`` checks a notebook's three answers at once.

>>> check("05.1", 4.0).status
'right'
>>> check("05.1", None).status
'not answered'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["EXERCISES", "CheckResult", "Exercise", "check", "check_all", "expected"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its question in a line, the unit of the answer, how to compute it.

    ``compute()`` returns the expected answer from costkit; ``mistakes`` are
    ``(compute_wrong_value, hint)`` pairs for the usual mistakes; ``hint`` is
    what a close answer is told.
    """

    id: str
    question: str
    unit: str
    compute: Callable[[], float]
    rtol: float = 1e-6
    atol: float = 0.0
    close_rtol: float = 0.05
    hint: str = "check your rounding and units"
    mistakes: tuple = field(default_factory=tuple)
    whole: bool = False

    @property
    def tolerance(self) -> str:
        """What answers are accepted, in words (stated beside each exercise)."""
        if self.whole:
            return "a whole number"
        if self.atol:
            return f"within ±{self.atol:g} {self.unit}"
        if self.rtol >= 1e-3:
            return f"within {self.rtol:.0%}"
        return "to 6 significant figures"


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` says: ``status`` ("right", "close", "wrong", "not answered")."""

    exercise: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        """Whether the answer is right (within the exercise's tolerance)."""
        return self.status == "right"

    def __str__(self) -> str:
        return f"{self.exercise} {self.status}: {self.message}"

    __repr__ = __str__


# --------------------------------------------------------------------------- expected values
# Each function computes an answer with costkit from the exercise's own inputs.


def _cheapest_l4_spot(on_demand=False):
    from .catalog import price_quote

    return price_quote("L4", pricing="on_demand" if on_demand else "spot",
                       stat="min").usd_per_gpu_hour


def _p5_memory_gb(per_gpu=False):
    from .catalog import gpu

    return gpu("H100-SXM").memory_gb * (1 if per_gpu else 8)


def _h100_spread():
    from .catalog import price_quote

    return (price_quote("H100-SXM", stat="max").usd_per_gpu_hour
            / price_quote("H100-SXM", stat="min").usd_per_gpu_hour)


def _origin_total(storage_months=1.0, currency=None):
    from .ledger import ORIGIN_EXAMPLE, four_part_ledger

    return four_part_ledger(**ORIGIN_EXAMPLE, storage_months=storage_months).total(currency)


def _origin_naive():
    from .ledger import ORIGIN_EXAMPLE, PHASES, naive_phase_total

    e = ORIGIN_EXAMPLE
    return sum(naive_phase_total(e["hours"][p], e["usd_per_hour"][p], e["storage_gb"][p])
               for p in PHASES)


def _fixed_50_overstatement():
    from .ledger import phase_cost

    return 50 - phase_cost(0, 0, storage_gb=50, usd_per_gb_month=0.023, storage_months=1)


def _usd_in_cny_inverted():
    from .fx import convert

    return _origin_total(3) / convert(1.0, "USD", "CNY")


def _bert_large_hours(peak_scale=1.0):
    from .catalog import model
    from .training import estimate

    est = estimate(model("BERT-large").params, 7.68e9, gpu="A100-80GB", mfu=0.40, goodput=1.0)
    return est.gpu_hours / peak_scale


def _llama13_min_gpus():
    from .training import estimate

    return float(estimate(model="Llama-2-13B", tokens=1e9, gpu="A100-80GB").min_gpus_for_memory)


def _optimal_params():
    from .training import compute_optimal

    return compute_optimal(1e5, gpu="H100-SXM").params


def _kv_kib(heads_scale=1.0, kv_factor=1.0):
    from .serving import estimate

    est = estimate("Llama-3-8B", usd_per_gpu_hour=1.0)
    return est.kv_cache_bytes_per_token / 1024 * heads_scale * kv_factor


def _decode_floor_ms(bytes_scale=1.0):
    from .serving import estimate

    est = estimate("Llama-2-13B", gpu="A100-80GB", batch_size=1, prompt_tokens=1, output_tokens=1,
                   bandwidth_utilization=1.0, usd_per_gpu_hour=1.0)
    return est.weights_gb / 2.039e3 * 1e3 * bytes_scale


def _replicas(target=0.7):
    from .capacity import replicas_for_utilization

    return float(replicas_for_utilization(100, 30, target_utilization=target))


def _sample_size(two_sided=True):
    from .tuning import ab_test_sample_size

    return float(ab_test_sample_size(0.05, 0.005, alpha=0.05 if two_sided else 0.10))


def _hyperband_starts(all_rungs=False):
    from .tuning import hyperband_brackets

    hb = hyperband_brackets(27, eta=3)
    return float(hb.n_trials.sum() if all_rungs else hb[hb.rung == 0].n_trials.sum())


def _random_trials():
    from .tuning import random_search_trials

    return float(random_search_trials(0.10, 0.90))


def _payback():
    from .optimization import payback_months

    return float(payback_months(6000, 1500))


def _break_even_loss_pct(scale=100.0):
    from .optimization import break_even_accuracy_loss

    return float(break_even_accuracy_loss(0.50, 180)) * scale


def _pruned_params(mha=False):
    from .optimization import baseline, prune

    left = prune(baseline("Llama-3-8B"), layers_removed=4).params
    if mha:  # k and v as wide as q: the grouped-query attention forgotten
        left -= 4 * 2 * 4096 * (4096 - 1024)
    return float(left)


def _npv_by_hand(discount_month_0=False, rate=0.01):
    from .roi import npv

    flows = [-10_000, 3_500, 3_500, 3_500]
    value = npv(rate, flows)
    return value / (1 + rate) if discount_month_0 else value


def _payback_by_hand():
    from .roi import payback_period

    return float(payback_period([-12_000, 2_000, 5_000, 5_000, 5_000]))


def _heavy_reranker_break_even(fixed=21_500):
    from .scenario import Scenario, example_path

    case = Scenario.from_yaml(example_path("ecommerce")).evaluate(draws=0).cases["BERT re-ranker"]
    return case.replace(fixed_usd_per_month=fixed).evaluate().break_even_lift


def _idle_usd(busy=False):
    import pandas as pd

    from .monitoring import cost_usage
    from .telemetry import read_telemetry

    minutes = pd.DataFrame({"timestamp": pd.date_range("2026-11-02", periods=600, freq="1min",
                                                       tz="UTC"),
                            "replica_id": "r1", "gpu_utilization": 0.30, "requests": 1.0})
    bill = pd.DataFrame({"resource_id": "r1", "hour": pd.date_range("2026-11-02", periods=10,
                                                                    freq="h", tz="UTC"),
                         "effective_cost": 2.0, "billed_cost": 2.0})
    costed = cost_usage(read_telemetry(minutes), bill)
    return float(costed.busy_usd.sum() if busy else costed.idle_usd.sum())


def _robust_z(scale=True):
    from .monitoring import robust_z

    z = float(robust_z([10, 12, 11, 13, 40], window=4, min_relative_mad=0.0)[0][-1])
    return z if scale else z * 1.4826


def _traffic_variance(step="traffic"):
    from .monitoring import Drivers, variance_report

    return float(variance_report(Drivers(1000, 100, 0.5, 2.0), Drivers(1200, 100, 0.5, 2.0))
                 [step])


EXERCISES = {e.id: e for e in [
    Exercise("00.1", "cheapest spot price of an L4 GPU-hour in the catalog", "USD per GPU-hour",
             _cheapest_l4_spot, atol=0.005,
             mistakes=((lambda: _cheapest_l4_spot(on_demand=True), "that is on demand: use "
                        "pricing='spot'"),)),
    Exercise("00.2", "memory of the eight H100-SXM of one p5.48xlarge", "GB", _p5_memory_gb,
             whole=True,
             mistakes=((lambda: _p5_memory_gb(per_gpu=True), "memory_gb is per GPU: there are "
                        "eight"),)),
    Exercise("00.3", "dearest over cheapest on-demand H100-SXM offer, per GPU-hour", "x",
             _h100_spread, rtol=0.01,
             mistakes=((lambda: 1 / _h100_spread(), "divide the dearest by the cheapest"),)),
    Exercise("01.1", "C with six months of storage", "USD", lambda: _origin_total(6),
             atol=0.01,
             mistakes=((lambda: _origin_total(1), "that is one month: multiply the GB by six "
                        "months of storage"),
                       (_origin_naive, "did you add GB to money? Storage is GB x USD per "
                        "GB-month x months"))),
    Exercise("01.2", "overstatement of C_run when 50 GB is entered as 50 USD", "USD",
             _fixed_50_overstatement, atol=0.01,
             mistakes=((lambda: 50.0, "50 USD is what was entered; the overstatement is that "
                        "minus what the storage really costs"),)),
    Exercise("01.3", "C in CNY with three months of storage, at the newest rate", "CNY",
             lambda: _origin_total(3, "CNY"), atol=0.01,
             mistakes=((lambda: _origin_total(3), "that is the USD total: convert it"),
                       (lambda: _origin_total(1, "CNY"), "keep the storage for three months"),
                       (_usd_in_cny_inverted, "did you divide by the rate instead of "
                        "multiplying?"))),
    Exercise("02.1", "GPU-hours to fine-tune BERT-large on 7.68e9 tokens", "GPU-hour",
             _bert_large_hours, rtol=0.01,
             mistakes=((lambda: _bert_large_hours(2.0), "did you use sparse TFLOPS? The A100's "
                        "dense BF16 peak is 312, not 624"),
                       (lambda: _bert_large_hours(1 / 3600), "that is GPU-seconds: divide by "
                        "3,600"))),
    Exercise("02.2", "fewest A100-80GB for Llama-2-13B's training state", "GPU",
             _llama13_min_gpus, whole=True, hint="16 bytes per parameter over 90% of "
             "80 x 2**30 bytes, rounded up to whole GPUs"),
    Exercise("02.3", "compute-optimal parameters for 100,000 USD of H100 time", "parameters",
             _optimal_params, rtol=0.01, hint="N = sqrt(C / 120) with C in FLOPs"),
    Exercise("03.1", "KV cache of one Llama-3-8B token in fp16", "KiB", _kv_kib, atol=0.5,
             mistakes=((lambda: _kv_kib(heads_scale=4.0), "count the KV heads (8), not the "
                        "query heads (32)"),
                       (lambda: _kv_kib(kv_factor=0.5), "K and V: two tensors per layer"))),
    Exercise("03.2", "lowest time per output token, Llama-2-13B fp16 on an A100-80GB", "ms",
             _decode_floor_ms, rtol=0.01,
             mistakes=((lambda: _decode_floor_ms(2.0), "fp16 is 2 bytes per parameter, "
                        "not 4"),
                       (lambda: _decode_floor_ms(0.5), "fp16 is 2 bytes per parameter, "
                        "not 1"))),
    Exercise("03.3", "replicas to stay at most 70% busy at 100 queries/s", "replicas",
             _replicas, whole=True,
             mistakes=((lambda: _replicas(1.0), "leave the headroom: each replica may be only "
                        "70% busy"),)),
    Exercise("04.1", "visitors per arm: 5% -> 5.5%, alpha 0.05, power 0.8", "visitors",
             _sample_size, whole=True, close_rtol=0.02, hint="round up, and use z at "
             "1 - alpha/2 and at the power",
             mistakes=((lambda: _sample_size(two_sided=False), "two-sided: z at 1 - alpha/2 "
                        "(1.96), not 1 - alpha (1.64)"),)),
    Exercise("04.2", "configurations one Hyperband iteration starts (R=27, eta=3)",
             "configurations", _hyperband_starts, whole=True,
             mistakes=((lambda: _hyperband_starts(all_rungs=True), "count only the first rung "
                        "of each bracket: later rungs continue the same configurations"),)),
    Exercise("04.3", "random trials for one in the top 10% at 90% confidence", "trials",
             _random_trials, whole=True, hint="round up: ln(1 - c) / ln(1 - q)"),
    Exercise("05.1", "payback of 6,000 USD saving 1,500 a month", "months", _payback, atol=0.05),
    Exercise("05.2", "break-even accuracy loss", "%", _break_even_loss_pct, rtol=0.01,
             mistakes=((lambda: _break_even_loss_pct(1.0), "the answer is in per cent: "
                        "multiply the fraction by 100"),)),
    Exercise("05.3", "Llama-3-8B parameters after removing 4 layers", "parameters",
             _pruned_params, whole=True,
             mistakes=((lambda: _pruned_params(mha=True), "k and v are 4096 x 1024 (grouped-"
                        "query attention), not 4096 x 4096"),)),
    Exercise("06.1", "NPV of -10,000 then 3 x 3,500 at 1% a month", "USD", _npv_by_hand,
             atol=0.5,
             mistakes=((lambda: _npv_by_hand(discount_month_0=True), "month 0 is not "
                        "discounted"),
                       (lambda: _npv_by_hand(rate=0.0), "discount each month's flow by "
                        "1.01 ** t"))),
    Exercise("06.2", "payback month of -12,000, 2,000, 5,000, 5,000, 5,000", "month",
             _payback_by_hand, atol=0.05),
    Exercise("06.3", "break-even lift of the re-ranker with a full engineer", "fraction",
             _heavy_reranker_break_even, rtol=0.01,
             mistakes=((lambda: _heavy_reranker_break_even(fixed=21_000), "add the 500 USD of "
                        "monitoring to the engineer"),
                       (lambda: 100 * _heavy_reranker_break_even(), "a lift is a fraction "
                        "(0.01 for 1%), not per cent"))),
    Exercise("07.1", "idle money of a 30%-busy replica over 10 hours at 2 USD", "USD",
             _idle_usd, atol=0.01,
             mistakes=((lambda: _idle_usd(busy=True), "that is the busy money: idle is "
                        "1 - utilisation"),)),
    Exercise("07.2", "robust z of 40 against 10, 12, 11, 13", "z", _robust_z, atol=0.05,
             mistakes=((lambda: _robust_z(scale=False), "scale the MAD by 1.4826 (a normal "
                        "distribution's MAD is 0.6745 sd)"),)),
    Exercise("07.3", "dollars of the gap due to traffic", "USD", _traffic_variance, atol=0.01),
]}


def _exercise(exercise_id: str) -> Exercise:
    if exercise_id not in EXERCISES:
        from ._tables import UnknownNameError, suggest

        raise UnknownNameError(f"unknown exercise {exercise_id!r}; ids are 'notebook.number' "
                               "such as '06.1'." + suggest(str(exercise_id), EXERCISES))
    return EXERCISES[exercise_id]


def expected(exercise_id: str) -> float:
    """The expected answer, computed with costkit (for teachers and the tests).

    Parameters
    ----------
    exercise_id : str
        Exercise name, e.g. ``"06.1"`` (notebook and number).

    Returns
    -------
    float
        The expected answer, computed with costkit (for teachers and the tests).

    Examples
    --------
    >>> expected("06.1") > 0
    True
    """
    return float(_exercise(exercise_id).compute())


def _within(a, b, rtol, atol):
    return abs(a - b) <= max(atol, rtol * abs(b))


def check(exercise_id: str, answer: float) -> CheckResult:
    """Right, close or wrong, with a hint; the expected value is never shown.

    Parameters
    ----------
    exercise_id : str
        Exercise name, e.g. ``"06.1"`` (notebook and number).
    answer : float
        Your answer, in the unit the question asks for.

    Returns
    -------
    CheckResult
        Right, close or wrong, with a hint.

    Examples
    --------
    >>> check("06.1", expected("06.1")).status
    'right'
    """
    ex = _exercise(exercise_id)
    if answer is None:
        return CheckResult(ex.id, "not answered", f"set your answer ({ex.unit}) and run this "
                           "cell again")
    if isinstance(answer, bool) or not isinstance(answer, int | float) and not hasattr(
            answer, "__float__"):
        raise TypeError(f"exercise {ex.id}: the answer is a number in {ex.unit}, got "
                        f"{type(answer).__name__} {answer!r}")
    value = float(answer)
    if not math.isfinite(value):
        raise ValueError(f"exercise {ex.id}: the answer must be a finite number, got {answer!r}")
    want = float(ex.compute())
    if _within(value, want, ex.rtol, ex.atol):
        if ex.whole and value != round(value):
            return CheckResult(ex.id, "close", f"{value:g} {ex.unit}: count whole "
                               f"{ex.unit}, rounding up")
        return CheckResult(ex.id, "right", f"{value:,.6g} {ex.unit} (accepted: "
                           f"{ex.tolerance})")
    for wrong, hint in ex.mistakes:
        if _within(value, float(wrong()), max(ex.rtol, 1e-6), ex.atol):
            return CheckResult(ex.id, "wrong", hint)
    if _within(value, want, ex.close_rtol, 0.0):
        return CheckResult(ex.id, "close", f"within {ex.close_rtol:.0%} but outside what is "
                           f"accepted ({ex.tolerance}): {ex.hint}")
    return CheckResult(ex.id, "wrong", f"not within {ex.close_rtol:.0%}; re-read the question "
                       f"({ex.question}) and its hint")


class Checks(list):
    """The results of :func:`check_all`, shown one line each."""

    def __repr__(self) -> str:
        return "\n".join(str(r) for r in self)

    @property
    def all_right(self) -> bool:
        return all(r.right for r in self)


def check_all(notebook: str, *answers: float) -> Checks:
    """Check a notebook's answers in order: ``check_all("06", a1, a2, a3)``.

    Parameters
    ----------
    notebook : str
        Notebook number, ``"06"``.
    *answers
        Your answers, in the order of the notebook's exercises.

    Returns
    -------
    Checks
        One result per answer, in order.

    Examples
    --------
    >>> [c.status for c in check_all("06", expected("06.1"), expected("06.2"), 0.0)]
    ['right', 'right', 'wrong']
    """
    ids = sorted(k for k in EXERCISES if k.split(".")[0] == str(notebook))
    if not ids:
        raise ValueError(f"no exercises for notebook {notebook!r}; notebooks "
                         f"{sorted({k.split('.')[0] for k in EXERCISES})}")
    if len(answers) != len(ids):
        raise ValueError(f"notebook {notebook} has {len(ids)} exercises, got "
                         f"{len(answers)} answers")
    return Checks(check(i, a) for i, a in zip(ids, answers, strict=True))
