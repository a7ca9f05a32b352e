"""Tuning cost (C_tune): hyperparameter search, fine-tuning method, and the A/B test.

Three questions, each a function you can call on its own:

- **How much does a hyperparameter search cost?** :func:`search_cost` prices
  grid and random search (every configuration trained to the end) and the
  early-stopping methods successive halving (SHA), Hyperband and ASHA, from
  the GPU-hours of one full trial (a :class:`costkit.training.TrainingEstimate`
  or a number). Successive halving with reduction factor eta trains ``n``
  configurations for ``r_min`` units of resource (epochs, steps), keeps the
  best ``1/eta``, trains those ``eta`` times longer, and so on up to
  ``r_max`` [1] [2]::

      rung i:  n_i = max(1, floor(n / eta^i)) trials,  r_i = r_min x eta^i
      resource = sum_i n_i x (r_i - r_(i-1))     (trials resume: Ray Tune, Optuna)
               = sum_i n_i x r_i                 (resume=False: each rung from scratch)
      GPU-hours = resource / r_max x GPU-hours of one full trial

  :func:`hyperband_brackets` lays out Hyperband's brackets, :func:`affordable_configurations`
  inverts the budget, and :func:`random_search_trials` says how many random
  trials find a good configuration.
- **Full fine-tune, LoRA or QLoRA?** :func:`finetune_options` runs
  :func:`costkit.training.estimate` for each method on each GPU at the
  fewest GPUs that hold the job; :func:`lora_trainable_params` is
  :func:`costkit.training.lora_trainable_params` (one implementation).
- **What does the A/B test cost?** :func:`ab_test_sample_size` (two-sided
  test of two proportions), :func:`ab_test_minimum_detectable_lift` (its
  inverse) and :func:`ab_test_plan`: days at the site's traffic, serving cost
  of both arms and the opportunity cost of the worse arm.

Results go into the ``tune`` phase of a :class:`costkit.Ledger` with their
``to_ledger()`` methods. The opportunity cost of an A/B test is profit not
made, not money spent: it is reported, and left out of the ledger (the ROI
of a change accounts for it as a smaller gain).

Default assumptions (stated in each result's ``assumptions``)
-------------------------------------------------------------
- Search: reduction factor eta = 3, resource from 1 to 81 units (Hyperband
  paper's example); promoted trials resume from their checkpoint; ASHA
  promotes as many trials per rung as synchronous SHA does, and its wall
  clock is the ideal ``max(resource / workers, one full trial)`` (no idle
  worker); Hyperband runs its brackets one after another.
- A/B test: significance alpha = 0.05 (two-sided), power 0.8; the lift is
  absolute (rate units) unless ``relative=True``; visitors split 50/50;
  every day's visitors are new units; tests run whole weeks, at least one.

References
----------
- [1] Jamieson and Talwalkar, "Non-stochastic Best Arm Identification and
  Hyperparameter Optimization", AISTATS 2016 (successive halving).
- [2] Li et al., "Hyperband: A Novel Bandit-Based Approach to
  Hyperparameter Optimization", JMLR 18(185), 2018, Algorithm 1 and Table 1.
- [3] Li et al., "A System for Massively Parallel Hyperparameter Tuning"
  (ASHA), MLSys 2020, arXiv:1810.05934, Algorithm 2.
- [4] Bergstra and Bengio, "Random Search for Hyper-Parameter Optimization",
  JMLR 13, 2012 (random trials in the top fraction).
- [5] Fleiss, Levin and Paik, "Statistical Methods for Rates and
  Proportions", 3rd ed., Wiley, 2003, Sec. 4.2 (sample size for two
  proportions, without continuity correction).
- [6] Kohavi, Tang and Xu, "Trustworthy Online Controlled Experiments",
  Cambridge University Press, 2020, Ch. 17 (run whole weeks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_fraction, as_quantity, broadcast, scalar_or, table, whole, wrap_like
from .training import lora_trainable_params

if TYPE_CHECKING:
    from ._typing import Floats, Frame, Names
    from .ledger import Ledger
    from .training import TrainingEstimate

__all__ = [
    "STRATEGIES", "ABTestPlan", "SearchCost", "ab_test_minimum_detectable_lift", "ab_test_plan",
    "ab_test_sample_size", "affordable_configurations", "finetune_options", "grid_size",
    "hyperband_brackets", "lora_trainable_params", "random_search_trials", "search_cost",
    "successive_halving_rungs",
]  # fmt: skip

STRATEGIES = ("grid", "random", "successive_halving", "hyperband", "asha")
"""Search strategies :func:`search_cost` prices."""
_ALIASES = {"sha": "successive_halving", "halving": "successive_halving",
            "successive-halving": "successive_halving", "random_search": "random",
            "grid_search": "grid"}
DEFAULT_ETA = 3
"""Reduction factor: the share 1/eta of trials promoted at each rung (Hyperband paper)."""
DEFAULT_MIN_RESOURCE = 1
DEFAULT_MAX_RESOURCE = 81
"""Resource of a full trial, in the units of ``min_resource`` (e.g. epochs x 1/81)."""


# --------------------------------------------------------------------------- search


def _strategy(name: str) -> str:
    key = str(name).lower().replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in STRATEGIES:
        raise ValueError(f"unknown search strategy {name!r}; use one of {', '.join(STRATEGIES)}")
    return key


def _resources(min_resource, max_resource, eta):
    """Validated (r_min, r_max, eta) and the rung resources r_min x eta^i up to r_max."""
    eta = float(as_quantity("eta", eta, allow_zero=False))
    if eta < 2 or eta != int(eta):
        raise ValueError(f"eta must be a whole number >= 2, got {eta:g}")
    r_min = float(as_quantity("min_resource", min_resource, allow_zero=False))
    r_max = float(as_quantity("max_resource", max_resource, allow_zero=False))
    if r_min > r_max:
        raise ValueError(f"min_resource ({r_min:g}) must not exceed max_resource ({r_max:g})")
    k = int(math.floor(math.log(r_max / r_min, eta) + 1e-9)) + 1
    rungs = np.minimum(r_min * eta ** np.arange(k), r_max)
    if rungs[-1] < r_max:  # r_max is not r_min x a power of eta: a last rung at r_max
        rungs = np.append(rungs, r_max)
    return r_min, r_max, int(eta), rungs


def grid_size(levels: Mapping[str, Sequence[float] | int]) -> int:
    """Configurations in a grid: the product of each hyperparameter's number of values.

    ``levels`` maps a hyperparameter to its values (a list) or to their count.

    Parameters
    ----------
    levels : mapping
        ``{hyperparameter: values or their count}``.

    Returns
    -------
    int
        Configurations in a grid: the product of each hyperparameter's number of values.

    Examples
    --------
    >>> grid_size({"learning_rate": [1e-5, 3e-5, 1e-4], "warmup": [0, 500], "epochs": 4})
    24
    """
    if not hasattr(levels, "items") or not levels:
        raise TypeError("levels must be a non-empty mapping of hyperparameter -> values or count")
    n = 1
    for name, v in levels.items():
        count = len(v) if hasattr(v, "__len__") and not isinstance(v, str) else v
        c = float(whole(f"number of values of {name!r}",
                        as_quantity(f"number of values of {name!r}", count, allow_zero=False)))
        n *= int(c)
    return n


def random_search_trials(top_fraction: Floats = 0.05, confidence: Floats = 0.95) -> int | Floats:
    """Random trials needed to land one in the best ``top_fraction`` with ``confidence``.

    Each trial falls in the top fraction q with probability q, so n trials
    miss it with probability (1 - q)^n [4]: ``n = ceil(log(1 - c) / log(1 - q))``.

    Parameters
    ----------
    top_fraction : numeric, default 0.05
        Share of the search space counted as good, q. [unitless, 0-1]
    confidence : numeric, default 0.95
        Probability of at least one trial landing in it, c. [unitless, 0-1]

    Returns
    -------
    int or numeric
        Random trials needed to land one in the best ``top_fraction`` with ``confidence``.

    Examples
    --------
    >>> random_search_trials(0.05, 0.95)  # Bergstra and Bengio's "60 trials"
    59
    """
    q = as_fraction("top_fraction", top_fraction)
    c = as_fraction("confidence", confidence)
    if (q == 0).any() or (q == 1).any() or (c == 0).any() or (c == 1).any():
        raise ValueError("top_fraction and confidence must be strictly between 0 and 1")
    q, c = broadcast(top_fraction=q, confidence=c)
    n = np.ceil(np.log1p(-c) / np.log1p(-q) - 1e-9)
    return int(n) if n.ndim == 0 else wrap_like(n, top_fraction, confidence)


def successive_halving_rungs(n_configurations: Floats, *, min_resource: int = DEFAULT_MIN_RESOURCE,
                             max_resource: int = DEFAULT_MAX_RESOURCE,
                             eta: int = DEFAULT_ETA) -> Frame:
    """The rungs of one successive-halving run: trials and resource per rung.

    Returns a DataFrame with ``rung``, ``n_trials`` (max(1, floor(n / eta^i)):
    at least one trial reaches the full resource), ``resource_per_trial``
    (r_min x eta^i, capped at r_max) and ``new_resource_per_trial`` (what a
    promoted trial adds when it resumes).

    Parameters
    ----------
    n_configurations : numeric
        Configurations started at rung 0. [count]
    min_resource : int, default 1
        Smallest training budget of a trial (rung 0). [resource units]
    max_resource : int, default 81
        Largest training budget of a trial (the full budget). [resource units]
    eta : int, default 3
        Reduction factor: the share 1/eta of trials is promoted at each rung. [unitless]

    Returns
    -------
    DataFrame
        The rungs of one successive-halving run: trials and resource per rung.

    Examples
    --------
    >>> successive_halving_rungs(81, max_resource=81)["n_trials"].tolist()
    [81, 27, 9, 3, 1]
    """
    import pandas as pd

    r_min, r_max, eta, rungs = _resources(min_resource, max_resource, eta)
    n = float(whole("n_configurations", as_quantity("n_configurations", n_configurations,
                                                    allow_zero=False)))
    counts = np.maximum(1.0, np.floor(n / eta ** np.arange(len(rungs)) + 1e-9))
    return pd.DataFrame({"rung": np.arange(len(rungs)), "n_trials": counts.astype(int),
                         "resource_per_trial": rungs,
                         "new_resource_per_trial": np.diff(rungs, prepend=0.0)})


def hyperband_brackets(max_resource: int = DEFAULT_MAX_RESOURCE, *, eta: int = DEFAULT_ETA,
                       min_resource: int = DEFAULT_MIN_RESOURCE) -> Frame:
    """Hyperband's brackets: one successive-halving run per bracket s = s_max ... 0 [2].

    ``s_max = floor(log_eta(R / r_min))``; bracket s starts
    ``n = ceil((s_max + 1) / (s + 1) x eta^s)`` configurations at resource
    ``R / eta^s`` and halves them s times. Returns one row per bracket and
    rung: ``bracket``, ``rung``, ``n_trials``, ``resource_per_trial``.

    Parameters
    ----------
    max_resource : int, default 81
        Largest training budget of a trial (the full budget). [resource units]
    eta : int, default 3
        Reduction factor: the share 1/eta of trials is promoted at each rung. [unitless]
    min_resource : int, default 1
        Smallest training budget of a trial (rung 0). [resource units]

    Returns
    -------
    DataFrame
        Hyperband's brackets: one successive-halving run per bracket s = s_max ... 0 [2].

    Examples
    --------
    Table 1 of the Hyperband paper (R = 81, eta = 3): 143 configurations.

    >>> hb = hyperband_brackets(81, eta=3)
    >>> hb[hb.rung == 0].n_trials.tolist(), int(hb[hb.rung == 0].n_trials.sum())
    ([81, 34, 15, 8, 5], 143)
    """
    import pandas as pd

    r_min, r_max, eta, _ = _resources(min_resource, max_resource, eta)
    s_max = int(math.floor(math.log(r_max / r_min, eta) + 1e-9))
    rows = []
    for s in range(s_max, -1, -1):  # a handful of brackets: structure, not scenarios
        n = math.ceil((s_max + 1) / (s + 1) * eta**s - 1e-9)
        r = r_max * eta ** (-s)
        for i in range(s + 1):
            rows.append((s, i, max(1, math.floor(n * eta ** (-i) + 1e-9)), r * eta**i))
    return pd.DataFrame(rows, columns=["bracket", "rung", "n_trials", "resource_per_trial"])


def _trial_inputs(trial, trial_gpu_hours, usd_per_gpu_hour, gpus_per_trial):
    """GPU-hours, price and GPUs of one full trial, from a TrainingEstimate or numbers."""
    if trial is not None:
        if trial_gpu_hours is not None:
            raise ValueError("give trial= or trial_gpu_hours=, not both")
        if not hasattr(trial, "gpu_hours") or np.ndim(trial.gpu_hours) != 0:
            raise TypeError("trial must be one TrainingEstimate (costkit.training.estimate)")
        trial.require_fit()
        h = as_quantity("trial gpu_hours", trial.gpu_hours, allow_zero=False)
        p = as_quantity("usd_per_gpu_hour", trial.usd_per_gpu_hour if usd_per_gpu_hour is None
                        else usd_per_gpu_hour)
        g = as_quantity("gpus_per_trial", trial.n_gpus if gpus_per_trial is None
                        else gpus_per_trial, allow_zero=False)
        note = (f"one full trial = {trial.label or 'training run'}: {float(h):,.1f} GPU-hours "
                f"on {float(g):g} x {trial.gpu} (costkit.training.estimate)")
        return h, p, g, note
    if trial_gpu_hours is None:
        raise TypeError("search_cost() needs trial= (a TrainingEstimate) or trial_gpu_hours=")
    if usd_per_gpu_hour is None:
        raise TypeError("with trial_gpu_hours=, give usd_per_gpu_hour= too")
    h = as_quantity("trial_gpu_hours", trial_gpu_hours, allow_zero=False)
    p = as_quantity("usd_per_gpu_hour", usd_per_gpu_hour)
    g = as_quantity("gpus_per_trial", 1 if gpus_per_trial is None else gpus_per_trial,
                    allow_zero=False)
    return h, p, g, "one full trial: given GPU-hours"


def _rung_units(n, rungs, eta, resume):
    """Resource (in units) and wall-clock units with W slots, for SHA over arrays n."""
    i = np.arange(len(rungs)).reshape((-1,) + (1,) * np.ndim(n))
    counts = np.maximum(1.0, np.floor(n / float(eta) ** i + 1e-9))
    step = np.diff(rungs, prepend=0.0) if resume else rungs
    step = step.reshape(i.shape)
    return counts, step


@dataclass(frozen=True, repr=False)
class SearchCost:
    """What a hyperparameter search costs. Scalars for one search, arrays for many.

    ``n_configurations`` [count] explored; ``full_trials`` [count] trained to
    the full resource; ``full_trial_equivalents`` [count] the resource used
    over one full trial's; ``gpu_hours`` [GPU-hour], ``cost_usd`` [USD],
    ``wall_clock_hours`` [h] with ``parallel_trials`` trials at once on
    ``gpus`` [count] GPUs; ``saving_vs_full_trials`` [unitless] the share of
    GPU-hours that early stopping saves against training every
    configuration to the end. ``rungs`` (one search) lists each rung.
    """

    strategy: str
    n_configurations: Floats
    full_trials: Floats
    full_trial_equivalents: Floats
    trial_gpu_hours: Floats
    usd_per_gpu_hour: Floats
    gpu_hours: Floats
    cost_usd: Floats
    parallel_trials: Floats
    gpus: Floats
    wall_clock_hours: Floats
    saving_vs_full_trials: Floats
    rungs: Frame = None
    assumptions: dict = field(default_factory=dict)

    @property
    def is_scalar(self) -> bool:
        """Whether this is one search (scalar fields) rather than an array."""
        return np.ndim(self.gpu_hours) == 0

    def to_frame(self) -> Frame:
        """One row per search: inputs and results.

        Returns
        -------
        DataFrame
            One row per search: inputs and results.

        Examples
        --------
        >>> s = search_cost("sha", 81, trial_gpu_hours=10, usd_per_gpu_hour=2)
        >>> s.to_frame()[["strategy", "gpu_hours", "cost_usd"]]
                     strategy  gpu_hours   cost_usd
        0  successive_halving  36.666667  73.333333
        """
        df = table(self, ("n_configurations", "full_trials", "full_trial_equivalents",
                          "trial_gpu_hours", "usd_per_gpu_hour", "gpu_hours", "cost_usd",
                          "parallel_trials", "gpus", "wall_clock_hours",
                          "saving_vs_full_trials"), "gpu_hours")
        df.insert(0, "strategy", self.strategy)
        return df

    def to_ledger(self, ledger: Ledger | None = None, *, phase: str = "tune",
                  name: str | None = None) -> Ledger:
        """Add the search's GPU time to a :class:`costkit.Ledger` (``tune`` phase).

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.
        phase : str, default 'tune'
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str, optional
            Name of the line; default from the strategy.

        Returns
        -------
        Ledger
            The ledger with the search's line.

        Examples
        --------
        >>> s = search_cost("sha", 81, trial_gpu_hours=10, usd_per_gpu_hour=2)
        >>> round(s.to_ledger().total(), 2)
        73.33
        """
        from .ledger import Ledger

        if not self.is_scalar:
            raise ValueError("to_ledger() takes one search; pick one from to_frame()")
        led = Ledger(title="tuning") if ledger is None else ledger
        led.add_compute(phase, name or f"hyperparameter search ({self.strategy}, "
                                       f"{self.n_configurations:,.0f} configurations)",
                        hours=float(self.gpu_hours), usd_per_hour=float(self.usd_per_gpu_hour),
                        unit="GPU-hour", category="hardware",
                        note=f"{self.full_trial_equivalents:,.1f} full-trial equivalents; "
                             f"{self.assumptions['trial']}")
        return led

    def __repr__(self) -> str:
        if not self.is_scalar:
            return (f"SearchCost ({self.strategy}) over {np.size(self.gpu_hours)} searches: "
                    f"{np.min(self.cost_usd):,.0f} to {np.max(self.cost_usd):,.0f} USD; "
                    ".to_frame() for the table")
        a = self.assumptions
        return "\n".join([
            f"SearchCost: {self.strategy}, {self.n_configurations:,.0f} configurations, "
            f"{self.full_trials:,.0f} trained to the end",
            f"  {self.full_trial_equivalents:,.1f} full-trial equivalents x "
            f"{self.trial_gpu_hours:,.2f} GPU-hours = {self.gpu_hours:,.1f} GPU-hours, "
            f"{self.cost_usd:,.0f} USD at {self.usd_per_gpu_hour:,.2f} USD per GPU-hour",
            f"  early stopping saves {self.saving_vs_full_trials:.0%} against training every "
            f"configuration to the end",
            f"  wall clock {self.wall_clock_hours:,.1f} h with {self.parallel_trials:g} "
            f"trial{'' if self.parallel_trials == 1 else 's'} at once ({self.gpus:g} GPUs)",
            f"  {a['schedule']}",
        ])


def search_cost(strategy: str, n_configurations: Floats | None = None, *,
                trial: TrainingEstimate | None = None, trial_gpu_hours: Floats | None = None,
                usd_per_gpu_hour: Floats | None = None, gpus_per_trial: Floats | None = None,
                parallel_trials: Floats = 1, min_resource: int = DEFAULT_MIN_RESOURCE,
                max_resource: int = DEFAULT_MAX_RESOURCE, eta: int = DEFAULT_ETA,
                resume: bool = True) -> SearchCost:
    """GPU-hours, money and wall clock of a hyperparameter search.

    Parameters
    ----------
    strategy : {"grid", "random", "successive_halving", "hyperband", "asha"}
    n_configurations : numeric
        Configurations to try [count] (broadcasts). Grid and random train
        each to the end; SHA and ASHA start them all at ``min_resource``;
        Hyperband runs ``ceil(n / configurations per iteration)`` iterations of
        all its brackets (one iteration if not given).
    trial : TrainingEstimate, optional
        One full trial (:func:`costkit.training.estimate`): its GPU-hours,
        price and GPU count.
    trial_gpu_hours, usd_per_gpu_hour : numeric, optional
        Instead of ``trial``: GPU-hours of one full trial [GPU-hour] and the
        price [USD per GPU-hour] (the price overrides ``trial``'s if given).
    gpus_per_trial : numeric, optional
        GPUs one trial uses [count]; default ``trial.n_gpus`` or 1.
    parallel_trials : numeric
        Trials running at once [count]; GPUs in use = parallel x per trial.
    min_resource, max_resource : numeric
        Resource of the first rung and of a full trial (epochs, steps, or any
        unit) [unit]; a full trial's GPU-hours are spread evenly over it.
    eta : int
        Reduction factor (keep the best 1/eta at each rung), >= 2.
    resume : bool
        Promoted trials continue from their checkpoint (True, as Ray Tune and
        Optuna pruners do), or retrain from scratch at each rung (False, the
        Hyperband paper's accounting).

    Returns
    -------
    SearchCost
        Trials, GPU-hours, cost, wall clock and the saving against training every
        configuration in full, with the rungs for the halving strategies.

    Raises
    ------
    ValueError
        An unknown strategy, eta < 2, min_resource > max_resource, negative or
        NaN quantities, fractional counts.

    Examples
    --------
    81 configurations of a 10 GPU-hour fine-tune: random search trains all
    81 (810 GPU-hours); successive halving from 1/81 of a trial trains
    81, 27, 9, 3 and 1 trials to 1, 3, 9, 27 and 81 units, resuming:
    81 x 1 + 27 x 2 + 9 x 6 + 3 x 18 + 1 x 54 = 297 units = 3.67 trials.

    >>> search_cost("random", 81, trial_gpu_hours=10, usd_per_gpu_hour=2).gpu_hours
    810.0
    >>> round(search_cost("sha", 81, trial_gpu_hours=10, usd_per_gpu_hour=2).gpu_hours, 2)
    36.67
    """
    s = _strategy(strategy)
    h, p, g, trial_note = _trial_inputs(trial, trial_gpu_hours, usd_per_gpu_hour, gpus_per_trial)
    r_min, r_max, eta_i, rungs = _resources(min_resource, max_resource, eta)
    w = whole("parallel_trials", as_quantity("parallel_trials", parallel_trials,
                                             allow_zero=False))
    if n_configurations is None:
        if s != "hyperband":
            raise TypeError(f"{s} search needs n_configurations=")
        n_in = np.ones(())
    else:
        n_in = whole("n_configurations", as_quantity("n_configurations", n_configurations,
                                                     allow_zero=False))
    n, h, p, g, w = broadcast(n_configurations=n_in, trial_gpu_hours=h, usd_per_gpu_hour=p,
                              gpus_per_trial=g, parallel_trials=w)
    trial_wall = h / g  # wall-clock hours of one full trial
    rows = None
    if s in ("grid", "random"):
        units_total = n * r_max
        full = n
        wall = np.ceil(n / w) * trial_wall
        schedule = "every configuration trained to the full resource; ceil(n / parallel) waves"
    elif s in ("successive_halving", "asha"):
        counts, step = _rung_units(n, rungs, eta_i, resume)
        units_total = (counts * step).sum(axis=0)
        full = counts[-1]
        if s == "successive_halving":
            wall = (np.ceil(counts / w) * step).sum(axis=0) / r_max * trial_wall
            schedule = (f"synchronous successive halving, eta {eta_i}, rungs "
                        f"{', '.join(f'{r:g}' for r in rungs)}; each rung waits for its slowest "
                        "wave")
        else:
            wall = np.maximum(units_total / r_max * trial_wall / w, trial_wall)
            schedule = (f"ASHA, eta {eta_i}, rungs {', '.join(f'{r:g}' for r in rungs)}: as many "
                        "promotions as synchronous SHA; wall clock the ideal max(resource / "
                        "parallel, one full trial)")
        if np.ndim(n) == 0:
            rows = successive_halving_rungs(int(n), min_resource=r_min, max_resource=r_max,
                                            eta=eta_i)
    else:  # hyperband: whole iterations of every bracket
        units_total, full, wall, n, schedule, hb = _hyperband_schedule(
            n, n_configurations is not None, w, r_min, r_max, eta_i, resume, trial_wall)
        if np.ndim(n) == 0:
            rows = hb
    equiv = units_total / r_max
    gpu_hours = equiv * h
    ref = [x for x in (n_configurations, trial_gpu_hours, usd_per_gpu_hour, parallel_trials)
           if x is not None]

    def out(x):
        return wrap_like(x, *ref)

    assumptions = {
        "trial": trial_note,
        "schedule": schedule,
        "resume": ("promoted trials resume from their checkpoint" if resume else
                   "each rung retrains from scratch (Hyperband paper's accounting)"),
        "resource": f"{r_min:g} to {r_max:g} units; GPU-hours spread evenly over a full trial",
    }
    return SearchCost(
        strategy=s, n_configurations=out(n), full_trials=out(full),
        full_trial_equivalents=out(equiv), trial_gpu_hours=out(h), usd_per_gpu_hour=out(p),
        gpu_hours=out(gpu_hours), cost_usd=out(gpu_hours * p), parallel_trials=out(w),
        gpus=out(w * g), wall_clock_hours=out(wall),
        saving_vs_full_trials=out(1.0 - equiv / n), rungs=rows, assumptions=assumptions,
    )  # fmt: skip


def _hyperband_schedule(n, n_given: bool, w, r_min, r_max, eta, resume, trial_wall):
    """Hyperband's resource units, full trials, wall clock [h], configurations and schedule.

    Whole iterations of every bracket (``ceil(n / per iteration)``, or ``n`` iterations when
    no configuration count is given); brackets run one after another, each rung in
    ``ceil(n_i / parallel)`` waves.
    """
    hb = hyperband_brackets(r_max, eta=eta, min_resource=r_min)
    first = hb[hb.rung == 0]
    per_iter = float(first.n_trials.sum())
    iters = np.ceil(n / per_iter - 1e-9) if n_given else n
    res = hb.resource_per_trial.to_numpy()
    counts = hb.n_trials.to_numpy().astype(float)
    prev = np.where(hb.rung.to_numpy() == 0, 0.0, np.roll(res, 1))  # rows run rung by rung
    step = res - prev if resume else res
    units_total = iters * float((counts * step).sum())
    full = iters * float(counts[res == r_max].sum())
    shape = (-1,) + (1,) * np.ndim(w)
    waves = (np.ceil(counts.reshape(shape) / w) * step.reshape(shape)).sum(axis=0)
    schedule = (f"Hyperband, eta {eta}, R {r_max:g}: {len(first)} brackets of "
                f"{', '.join(str(int(x)) for x in first.n_trials)} configurations "
                f"({per_iter:g} per iteration), run one after another")
    return units_total, full, iters * waves / r_max * trial_wall, iters * per_iter, schedule, hb


def affordable_configurations(strategy: str, *, budget_usd: Floats | None = None,
                              budget_gpu_hours: Floats | None = None,
                              trial: TrainingEstimate | None = None,
                              trial_gpu_hours: Floats | None = None,
                              usd_per_gpu_hour: Floats | None = None,
                              min_resource: int = DEFAULT_MIN_RESOURCE,
                              max_resource: int = DEFAULT_MAX_RESOURCE, eta: int = DEFAULT_ETA,
                              resume: bool = True) -> int | Floats:
    """The most configurations ``strategy`` can explore within a budget. [count]

    Give ``budget_usd`` (with a price) or ``budget_gpu_hours`` (broadcasts).
    Grid and random: ``floor(budget / trial)``. SHA and ASHA: the largest n
    whose :func:`search_cost` fits (found by bisection, vectorised).
    Hyperband: whole iterations of its brackets. 0 where even the smallest
    search does not fit.

    Parameters
    ----------
    strategy : str
        Search strategy: ``grid``, ``random``, ``sha``, ``asha`` or ``hyperband``.
    budget_usd : numeric, optional
        Budget in money (or ``budget_gpu_hours``). [USD]
    budget_gpu_hours : numeric, optional
        Budget in GPU-hours (or ``budget_usd``). [GPU-hour]
    trial : TrainingEstimate, optional
        A training estimate of one full trial (or ``trial_gpu_hours``).
    trial_gpu_hours : numeric, optional
        GPU-hours of one full trial. [GPU-hour]
    usd_per_gpu_hour : numeric, optional
        Price per GPU-hour, with ``trial_gpu_hours``. [USD/GPU-hour]
    min_resource : int, default 1
        Smallest training budget of a trial (rung 0). [resource units]
    max_resource : int, default 81
        Largest training budget of a trial (the full budget). [resource units]
    eta : int, default 3
        Reduction factor: the share 1/eta of trials is promoted at each rung. [unitless]
    resume : bool, default True
        Promoted trials resume from their checkpoint.

    Returns
    -------
    int or numeric
        The most configurations ``strategy`` can explore within a budget. [count]

    Examples
    --------
    >>> affordable_configurations("random", budget_gpu_hours=100, trial_gpu_hours=10,
    ...                           usd_per_gpu_hour=2)
    10
    >>> affordable_configurations("sha", budget_gpu_hours=100, trial_gpu_hours=10,
    ...                           usd_per_gpu_hour=2)
    242
    """
    s = _strategy(strategy)
    if (budget_usd is None) == (budget_gpu_hours is None):
        raise TypeError("give budget_usd= or budget_gpu_hours=")
    h, p, _, _ = _trial_inputs(trial, trial_gpu_hours, usd_per_gpu_hour, None)
    if budget_gpu_hours is not None:
        budget_h = as_quantity("budget_gpu_hours", budget_gpu_hours)
    else:
        if (p == 0).any():
            raise ValueError("a budget in USD needs a price > 0")
        budget_h = as_quantity("budget_usd", budget_usd) / p
    budget_h, h = broadcast(budget=budget_h, trial_gpu_hours=h)
    units = budget_h / h * float(max_resource)  # resource units the budget buys

    def cost_units(n):
        return search_cost(s, n, trial_gpu_hours=1.0, usd_per_gpu_hour=0.0,
                           min_resource=min_resource, max_resource=max_resource, eta=eta,
                           resume=resume).full_trial_equivalents * float(max_resource)

    if s in ("grid", "random"):
        n = np.floor(units / float(max_resource) + 1e-9)
    elif s == "hyperband":
        per = cost_units(1)  # one iteration
        hb = hyperband_brackets(max_resource, eta=eta, min_resource=min_resource)
        n = np.floor(units / per + 1e-9) * float(hb[hb.rung == 0].n_trials.sum())
    else:
        lo = np.zeros_like(units)
        hi = np.maximum(1.0, np.ceil(units / float(min_resource)))  # every trial costs >= r_min
        ok = cost_units(np.ones_like(units)) <= units + 1e-9
        while (hi - lo > 1).any():  # bisection: resource is non-decreasing in n
            active = hi - lo > 1
            mid = np.floor((lo + hi) / 2)
            fits = cost_units(np.maximum(mid, 1.0)) <= units + 1e-9
            lo = np.where(active & fits, mid, lo)
            hi = np.where(active & ~fits, mid, hi)
        top = cost_units(np.maximum(hi, 1.0)) <= units + 1e-9
        n = np.where(ok, np.where(top, hi, lo), 0.0)
    ref = [x for x in (budget_usd, budget_gpu_hours, trial_gpu_hours) if x is not None]
    n = np.asarray(n, dtype=float)
    return int(n) if n.ndim == 0 else wrap_like(n, *ref)


# --------------------------------------------------------------------------- fine-tuning


def _next_power_of_two(x):
    return 2.0 ** np.ceil(np.log2(np.maximum(x, 1.0)) - 1e-9)


def finetune_options(model: str, tokens: float, *,
                     gpu: str | Sequence[str] = ("H100-SXM", "A100-80GB", "L40S"),
                     methods: Sequence[str] = ("full", "lora", "qlora"),
                     **training_kwargs: Any) -> Frame:
    """Full fine-tune vs LoRA vs QLoRA on each GPU, each at the fewest GPUs that hold it.

    For every method, :func:`costkit.training.estimate` is run over the GPUs
    once to find the memory floor, then again at ``n_gpus`` = that floor
    rounded up to a power of two (1, 2, 4, 8, 16 ...). Keyword arguments go
    to :func:`costkit.training.estimate` (``lora_rank``,
    ``lora_target_modules``, ``seq_len``, ``mfu``, ``usd_per_gpu_hour`` ...).

    Parameters
    ----------
    model : str
        Catalog model to fine-tune.
    tokens : float
        Fine-tuning tokens. [count]
    gpu : str or sequence of str, optional
        GPUs to compare.
    methods : sequence of str, optional
        Methods to compare (``full``, ``lora``, ``qlora``).
    **training_kwargs
        Passed on to :func:`costkit.training.estimate` (``mfu=``, ``cloud=``, ...).

    Returns
    -------
    DataFrame
        One row per method and GPU: ``method``, ``gpu``, ``trainable_params``,
        ``n_gpus``, ``memory_per_gpu_gb``, ``gpu_hours``,
        ``wall_clock_hours``, ``cost_usd`` with ``cost_usd_low`` /
        ``cost_usd_high``, and ``gpu_memory_gb``.

    Examples
    --------
    >>> df = finetune_options("llama-3-8b", 5e7, gpu=["H100-SXM"], usd_per_gpu_hour=3.0)
    >>> df.set_index("method").n_gpus.to_dict()
    {'full': 2.0, 'lora': 1.0, 'qlora': 1.0}
    """
    import pandas as pd

    from .catalog import gpu as lookup
    from .training import estimate

    if "n_gpus" in training_kwargs:
        raise TypeError("finetune_options() picks n_gpus itself (the fewest that fit); call "
                        "costkit.training.estimate for a given count")
    gpus = np.asarray([gpu] if isinstance(gpu, str) else list(gpu), dtype=object)
    frames = []
    for m in methods:  # a few methods, each vectorised over the GPUs
        first = estimate(model=model, tokens=tokens, gpu=gpus, method=m, **training_kwargs)
        ng = _next_power_of_two(np.asarray(first.min_gpus_for_memory, dtype=float))
        e = estimate(model=model, tokens=tokens, gpu=gpus, method=m, n_gpus=ng,
                     **training_kwargs)
        df = e.to_frame()[["gpu", "method", "trainable_params", "n_gpus", "memory_per_gpu_gb",
                           "gpu_hours", "wall_clock_hours", "cost_usd", "cost_usd_low",
                           "cost_usd_high", "usd_per_gpu_hour"]]
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "gpu_memory_gb", [lookup(g).memory_gb for g in out["gpu"]])
    return out[["method", "gpu", "gpu_memory_gb", "trainable_params", "n_gpus",
                "memory_per_gpu_gb", "gpu_hours", "wall_clock_hours", "usd_per_gpu_hour",
                "cost_usd", "cost_usd_low", "cost_usd_high"]]


# --------------------------------------------------------------------------- A/B tests


def _ab_rates(baseline_rate, minimum_detectable_lift, relative):
    p1 = as_fraction("baseline_rate", baseline_rate)
    if p1.size and ((p1 == 0) | (p1 == 1)).any():
        raise ValueError("baseline_rate must be strictly between 0 and 1")
    lift = np.asarray(minimum_detectable_lift, dtype=float) if not isinstance(
        minimum_detectable_lift, str) else minimum_detectable_lift
    if isinstance(lift, str) or not np.isfinite(lift).all():
        raise ValueError(f"minimum_detectable_lift must be a finite number, got "
                         f"{minimum_detectable_lift!r}")
    if (lift <= 0).any():
        raise ValueError(f"minimum_detectable_lift must be > 0 (the size of the change; the "
                         f"two-sided test detects a drop of that size too), got "
                         f"{lift[lift <= 0].flat[0]!r}")
    p1, lift = broadcast(baseline_rate=p1, minimum_detectable_lift=lift)
    p2 = p1 * (1.0 + lift) if relative else p1 + lift
    if (p2 >= 1).any():
        raise ValueError("baseline_rate + lift must stay below 1 (a rate); is the lift "
                         + ("relative (0.05 for +5%)?" if relative else
                            "absolute? pass relative=True for a relative lift"))
    return p1, p2


def _ndtri(p):
    """The standard normal quantile of ``p`` (the inverse CDF), elementwise.

    The standard library's :class:`statistics.NormalDist` (Wichura's AS241,
    accurate to about 1e-16) evaluated once per distinct value: an array of
    scenarios shares a handful of alphas and powers, so this costs microseconds
    and spares the 140 MB of scipy for one function.
    """
    from statistics import NormalDist

    q = np.asarray(p, dtype=float)
    distinct, where = np.unique(q, return_inverse=True)
    inv = NormalDist().inv_cdf
    return np.array([inv(float(x)) for x in distinct])[where].reshape(q.shape)


def _z(alpha, power):
    a = as_fraction("alpha", alpha)
    b = as_fraction("power", power)
    if ((a == 0) | (a == 1)).any():
        raise ValueError("alpha must be strictly between 0 and 1 (0.05 for 95% confidence)")
    if ((b == 0) | (b == 1)).any():
        raise ValueError("power must be strictly between 0 and 1 (0.8 for 80%)")
    return _ndtri(1.0 - a / 2.0), _ndtri(b)


def _n_per_arm(p1, p2, z_a, z_b):
    pbar = (p1 + p2) / 2.0
    num = z_a * np.sqrt(2.0 * pbar * (1.0 - pbar)) + z_b * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return num**2 / (p2 - p1) ** 2


def ab_test_sample_size(baseline_rate: Floats, minimum_detectable_lift: Floats, *,
                        alpha: Floats = 0.05, power: Floats = 0.8,
                        relative: bool = False) -> int | Floats:
    r"""Units (visitors) per arm to detect a change in a rate with a two-sided z-test.

    .. math::

        n = \frac{\left(z_{1-\alpha/2}\sqrt{2\bar p(1-\bar p)} +
            z_{1-\beta}\sqrt{p_1(1-p_1) + p_2(1-p_2)}\right)^2}{(p_2 - p_1)^2},
        \qquad \bar p = (p_1 + p_2)/2

    (Fleiss et al. [5], without continuity correction), rounded up.

    Parameters
    ----------
    baseline_rate : numeric
        The control's rate p1 (conversion, click-through) [unitless, 0 to 1].
    minimum_detectable_lift : numeric
        The smallest change worth detecting, > 0: absolute in rate units
        (0.01 = one percentage point) unless ``relative`` (0.05 = +5%).
    alpha : numeric
        Two-sided significance level [unitless, 0 to 1].
    power : numeric
        Probability of detecting the lift if it is real [unitless, 0 to 1].
    relative : bool
        Read the lift as a share of the baseline.

    Returns
    -------
    int or array
        Units per arm (two arms, 50/50). [count]

    Raises
    ------
    ValueError
        A rate outside (0, 1), a lift <= 0 or one that takes the rate to 1,
        alpha or power outside (0, 1).

    Examples
    --------
    Textbook case: 10% baseline, one point absolute lift, alpha 0.05, power 0.8.

    >>> ab_test_sample_size(0.10, 0.01)
    14751
    >>> ab_test_sample_size(0.10, 0.10, relative=True)  # the same lift, said relatively
    14751
    """
    p1, p2 = _ab_rates(baseline_rate, minimum_detectable_lift, relative)
    z_a, z_b = _z(alpha, power)
    n = np.ceil(_n_per_arm(p1, p2, z_a, z_b) - 1e-9)
    if n.ndim == 0:
        return int(n)
    return wrap_like(n, baseline_rate, minimum_detectable_lift, alpha, power)


def ab_test_minimum_detectable_lift(baseline_rate: Floats, units_per_arm: Floats, *,
                                    alpha: Floats = 0.05, power: Floats = 0.8,
                                    relative: bool = False) -> Floats:
    """The smallest lift a test with ``units_per_arm`` detects.

    The inverse of :func:`ab_test_sample_size` (vectorised bisection). [rate units, or share if
    relative]

    Parameters
    ----------
    baseline_rate : numeric
        The control's rate (conversion, click-through). [unitless, 0-1]
    units_per_arm : numeric
        Units (visitors) in each arm. [count]
    alpha : numeric, default 0.05
        Two-sided significance level. [unitless, 0-1]
    power : numeric, default 0.8
        Probability of detecting the lift if it is real. [unitless, 0-1]
    relative : bool, default False
        Return the lift as a share of the baseline.

    Returns
    -------
    numeric
        The smallest lift a test with ``units_per_arm`` detects.

    Examples
    --------
    >>> round(ab_test_minimum_detectable_lift(0.10, 14751), 4)
    0.01
    """
    p1 = as_fraction("baseline_rate", baseline_rate)
    if p1.size and ((p1 == 0) | (p1 == 1)).any():
        raise ValueError("baseline_rate must be strictly between 0 and 1")
    n = as_quantity("units_per_arm", units_per_arm, allow_zero=False)
    z_a, z_b = _z(alpha, power)
    p1, n, z_a, z_b = broadcast(baseline_rate=p1, units_per_arm=n, alpha=z_a, power=z_b)
    lo = np.zeros_like(p1)
    hi = 1.0 - p1  # the largest absolute lift a rate allows
    for _ in range(80):  # n falls as the lift grows: halve the bracket 80 times
        mid = (lo + hi) / 2.0
        need = _n_per_arm(p1, p1 + mid, z_a, z_b)
        lo = np.where(need > n, mid, lo)
        hi = np.where(need > n, hi, mid)
    lift = hi / p1 if relative else hi
    return wrap_like(lift, baseline_rate, units_per_arm, alpha, power)


@dataclass(frozen=True, repr=False)
class ABTestPlan:
    """What an A/B test of a search or recommendation change takes and costs.

    ``units_per_arm`` [count] from :func:`ab_test_sample_size`; ``days``
    [day] at the traffic in the test; ``enrolled_per_arm`` [count] the
    visitors each arm actually gets in those days; ``serving_cost_usd`` of
    both arms and ``treatment_serving_cost_usd`` of the new model's arm
    [USD]; ``opportunity_cost_usd`` [USD] the gross profit the worse arm
    forgoes at ``expected_lift`` (in the lift's units; ``expected_rate_change``
    the same in rate units), with ``worse_arm`` saying which.
    """

    baseline_rate: Floats
    treatment_rate: Floats
    units_per_arm: Floats
    daily_units: Floats
    traffic_fraction: Floats
    days: Floats
    enrolled_per_arm: Floats
    requests_per_unit: Floats
    serving_cost_usd: Floats
    treatment_serving_cost_usd: Floats
    treatment_usd_per_1k_requests: Floats
    expected_lift: Floats
    expected_rate_change: Floats
    worse_arm: Names
    opportunity_cost_usd: Floats
    assumptions: dict = field(default_factory=dict)

    @property
    def is_scalar(self) -> bool:
        """Whether this is one test (scalar fields) rather than an array."""
        return np.ndim(self.days) == 0

    @property
    def weeks(self) -> Floats:
        """Length of the test. [week]"""
        return self.days / 7.0

    def to_frame(self) -> Frame:
        """One row per case: inputs and results.

        Returns
        -------
        DataFrame
            One row per case: inputs and results.

        Examples
        --------
        >>> p = ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000, traffic_fraction=0.5,
        ...                  treatment_usd_per_1k_requests=0.3, requests_per_unit=3)
        >>> p.to_frame()[["units_per_arm", "days"]]
           units_per_arm  days
        0       207938.0   7.0
        """
        return table(self, ("baseline_rate", "treatment_rate", "units_per_arm", "daily_units",
                            "traffic_fraction", "days", "enrolled_per_arm", "serving_cost_usd",
                            "treatment_serving_cost_usd", "expected_lift",
                            "expected_rate_change", "opportunity_cost_usd", "worse_arm"), "days")

    def to_ledger(self, ledger: Ledger | None = None, *, phase: str = "tune",
                  name: str | None = None) -> Ledger:
        """Add the treatment arm's serving to a :class:`costkit.Ledger` (``tune`` phase).

        The control arm is served anyway, so only the new model's arm is a
        cost of the test. The opportunity cost is profit not made, not
        money spent, and stays out of the ledger (see :attr:`opportunity_cost_usd`).

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.
        phase : str, default 'tune'
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str, optional
            Name of the line; default from the test's length.

        Returns
        -------
        Ledger
            The ledger with the treatment arm's line.

        Examples
        --------
        >>> p = ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000, traffic_fraction=0.5,
        ...                  treatment_usd_per_1k_requests=0.3, requests_per_unit=3)
        >>> round(p.to_ledger().total(), 2)
        315.0
        """
        from .ledger import Ledger

        if not self.is_scalar:
            raise ValueError("to_ledger() takes one test; pick one from to_frame()")
        led = Ledger(title="tuning") if ledger is None else ledger
        requests_k = self.enrolled_per_arm * self.requests_per_unit / 1000.0
        if requests_k > 0 and self.treatment_usd_per_1k_requests > 0:
            led.add(phase, name or f"A/B test: treatment arm serving ({self.days:g} days)",
                    float(requests_k), "1k requests", float(self.treatment_usd_per_1k_requests),
                    "USD/1k requests", category="hardware",
                    note=f"{self.enrolled_per_arm:,.0f} visitors x "
                         f"{self.requests_per_unit:g} requests")
        return led

    def __repr__(self) -> str:
        if not self.is_scalar:
            return (f"ABTestPlan over {np.size(self.days)} cases: {np.min(self.days):g} to "
                    f"{np.max(self.days):g} days; .to_frame() for the table")
        a = self.assumptions
        return "\n".join([
            f"ABTestPlan: {self.baseline_rate:.2%} -> {self.treatment_rate:.2%} "
            f"({a['test']})",
            f"  {self.units_per_arm:,.0f} visitors per arm; at {self.daily_units:,.0f} a day with "
            f"{self.traffic_fraction:.0%} in the test: {self.days:g} days "
            f"({self.enrolled_per_arm:,.0f} per arm enrolled)",
            f"  serving both arms {self.serving_cost_usd:,.0f} USD (treatment arm "
            f"{self.treatment_serving_cost_usd:,.0f} USD)",
            f"  opportunity cost of the worse arm ({self.worse_arm}) at a true change of "
            f"{self.expected_rate_change * 100:+.3g} points: {self.opportunity_cost_usd:,.0f} USD "
            "of gross profit (not in the ledger)",
        ])


def ab_test_plan(baseline_rate: Floats, minimum_detectable_lift: Floats, *, daily_units: Floats,
                 traffic_fraction: Floats = 1.0, alpha: Floats = 0.05, power: Floats = 0.8,
                 relative: bool = False, min_days: int = 7, whole_weeks: bool = True,
                 requests_per_unit: Floats = 1.0, control_usd_per_1k_requests: Floats = 0.0,
                 treatment_usd_per_1k_requests: Floats = 0.0,
                 gross_profit_per_conversion_usd: Floats = 0.0,
                 expected_lift: Floats | None = None) -> ABTestPlan:
    """Length and cost of an A/B test at a site's traffic.

    Parameters
    ----------
    baseline_rate, minimum_detectable_lift, alpha, power, relative : numeric and bool
        As in :func:`ab_test_sample_size`.
    daily_units : numeric
        Visitors (randomisation units) a day [1/day].
    traffic_fraction : numeric
        Share of the traffic in the test, both arms together [unitless, 0 to 1].
    min_days : numeric
        Shortest test [day]; 7 covers a weekly cycle.
    whole_weeks : bool
        Round the length up to whole weeks (weekday effects [6]).
    requests_per_unit : numeric
        Model requests per visitor (searches per session) [count].
    control_usd_per_1k_requests, treatment_usd_per_1k_requests : numeric
        Serving cost of each arm's model [USD per 1,000 requests], e.g.
        ``usd_per_1k_requests`` of :func:`costkit.serving.estimate`.
    gross_profit_per_conversion_usd : numeric
        Average order value x gross margin [USD per conversion].
    expected_lift : numeric, optional
        The true change you expect, in the lift's units (negative if the new
        model may be worse); default ``minimum_detectable_lift``. Sets the
        opportunity cost of the worse arm.

    Returns
    -------
    ABTestPlan
        Units per arm, days, the serving cost of both arms and the opportunity cost of the
        worse arm.

    Examples
    --------
    3% conversion, +5% relative lift, 200,000 visitors a day, half in the test:

    >>> p = ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000, traffic_fraction=0.5)
    >>> p.units_per_arm, p.days
    (207938.0, 7.0)
    """
    p1, p2 = _ab_rates(baseline_rate, minimum_detectable_lift, relative)
    z_a, z_b = _z(alpha, power)
    n = np.ceil(_n_per_arm(p1, p2, z_a, z_b) - 1e-9)  # as ab_test_sample_size
    daily = as_quantity("daily_units", daily_units, allow_zero=False)
    frac = as_fraction("traffic_fraction", traffic_fraction)
    if (frac == 0).any():
        raise ValueError("traffic_fraction must be > 0")
    md = as_quantity("min_days", min_days)
    rpu = as_quantity("requests_per_unit", requests_per_unit)
    c_ctl = as_quantity("control_usd_per_1k_requests", control_usd_per_1k_requests)
    c_trt = as_quantity("treatment_usd_per_1k_requests", treatment_usd_per_1k_requests)
    gp = as_quantity("gross_profit_per_conversion_usd", gross_profit_per_conversion_usd)
    if expected_lift is None:
        exp_abs = p2 - p1
        exp_in = minimum_detectable_lift
    else:
        e = np.asarray(expected_lift, dtype=float)
        if not np.isfinite(e).all():
            raise ValueError(f"expected_lift must be finite, got {expected_lift!r}")
        exp_abs = p1 * e if relative else e
        if ((p1 + exp_abs < 0) | (p1 + exp_abs > 1)).any():
            raise ValueError("baseline_rate + expected_lift must stay between 0 and 1")
        exp_in = expected_lift
    b = dict(zip(("p1", "p2", "n", "daily", "frac", "md", "rpu", "c_ctl", "c_trt", "gp", "e"),
                 broadcast(p1=p1, p2=p2, n=n, daily=daily, frac=frac, md=md, rpu=rpu,
                           c_ctl=c_ctl, c_trt=c_trt, gp=gp, e=np.asarray(exp_abs, dtype=float)),
                 strict=True))
    per_day = b["daily"] * b["frac"]
    days = np.maximum(np.ceil(2.0 * b["n"] / per_day - 1e-9), b["md"])
    if whole_weeks:
        days = np.ceil(days / 7.0 - 1e-9) * 7.0
    enrolled = days * per_day / 2.0
    req_k = enrolled * b["rpu"] / 1000.0
    worse = np.where(b["e"] >= 0, "control", "treatment")
    ref = [baseline_rate, minimum_detectable_lift, daily_units, traffic_fraction]

    def out(x):
        return wrap_like(x, *ref)

    assumptions = {
        "test": f"two-sided z-test of two proportions, alpha {scalar_or(np.asarray(alpha))}"
                f", power {scalar_or(np.asarray(power))}, "
                f"{'relative' if relative else 'absolute'} lift",
        "split": "50/50; each day's visitors are new units",
        "length": f"at least {scalar_or(md):g} days" + (", whole weeks" if whole_weeks else ""),
        "opportunity_cost": "enrolled units of the worse arm x |expected lift| x gross profit "
                            "per conversion; profit not made, left out of the ledger",
        "expected_lift": "given" if expected_lift is not None else "the minimum detectable lift",
    }
    return ABTestPlan(
        baseline_rate=out(b["p1"]), treatment_rate=out(b["p2"]), units_per_arm=out(b["n"]),
        daily_units=out(b["daily"]), traffic_fraction=out(b["frac"]), days=out(days),
        enrolled_per_arm=out(enrolled), requests_per_unit=out(b["rpu"]),
        serving_cost_usd=out(req_k * (b["c_ctl"] + b["c_trt"])),
        treatment_serving_cost_usd=out(req_k * b["c_trt"]),
        treatment_usd_per_1k_requests=out(b["c_trt"]),
        expected_lift=wrap_like(np.broadcast_to(np.asarray(exp_in, dtype=float), days.shape)),
        expected_rate_change=out(b["e"]),
        worse_arm=str(worse) if worse.ndim == 0 else worse,
        opportunity_cost_usd=out(enrolled * np.abs(b["e"]) * b["gp"]), assumptions=assumptions,
    )  # fmt: skip
