"""Optimisation cost (C_opt): quantise, distil or prune a model, and when it pays back.

Each technique is modelled by what it changes, and the changed model is
priced by :mod:`costkit.serving` (never by a separate formula):

=================  ==========================================================
technique          what changes
=================  ==========================================================
:func:`quantize`   bytes per weight and the tensor-core peak (fp16 -> fp8,
                   int8; int4 weight-only), through :mod:`costkit.catalog`
:func:`distill`    the model: a smaller student (a catalog model) trained on
                   the teacher's outputs
:func:`prune`      parameters and layers: ``layers_removed`` (depth) and
                   ``width_removed_fraction`` of each remaining layer's
                   weights (MLP channels, heads)
=================  ==========================================================

Each returns a :class:`Variant`: the served architecture, its
``accuracy_loss`` (a relative drop in the business metric, e.g. 0.01 for 1%
fewer conversions) and its one-off cost as a :class:`costkit.Ledger` in the
``opt`` phase: GPU-hours (teacher labelling and student training through
:func:`costkit.serving.estimate` and :func:`costkit.training.estimate`,
calibration, recovery fine-tuning) plus engineering days at a day rate.
Techniques chain: ``quantize(distill(base, ...), "int8")``.

:func:`compare` then sets the variants against the first (the baseline) at a
traffic level::

    monthly serving [USD]   = USD per 1k requests x requests per month / 1000 / utilisation
    monthly saving          = baseline's monthly serving - variant's
    accuracy cost [USD/mo]  = accuracy_loss x gross profit flowing through the requests
    net benefit [USD/mo]    = saving - accuracy cost
    payback [months]        = one-off / net benefit           (inf: never)
    break-even traffic      = one-off / (horizon x net benefit per request)
    break-even accuracy     = saving per request / gross profit per request

all linear in traffic, so :func:`payback_months` and
:func:`break_even_monthly_requests` broadcast over traffic arrays. The
``accuracy_loss`` is the input the ROI of a project takes as a (negative)
lift: a cheaper but worse model is judged in money, not only in cost.

Default assumptions (stated in each result)
-------------------------------------------
- Replicas average 70% busy (:data:`costkit.capacity.DEFAULT_TARGET_UTILIZATION`),
  so monthly serving is the busy cost / 0.7; pass ``utilization`` or plan
  capacity with :func:`costkit.capacity.plan`.
- The optimised model serves for a 12-month horizon before a retrain
  replaces it (break-even traffic).
- Every variant is served at the same batch unless ``slo_s`` is given: then
  each at its cheapest batch (powers of two) whose latency meets the SLO, so
  a smaller model's room for larger batches counts.
- Width pruning keeps the KV heads and ``d_model`` (it removes MLP channels
  and query heads), so the KV cache per token does not shrink; depth pruning
  removes whole layers and their KV cache. Unstructured and 2:4 sparsity are
  not modelled: dense kernels get no faster from zeros.
- Accuracy losses are inputs: measure them (offline replay, A/B test). The
  literature is a guide only: 8-bit weights and activations lose well under
  1% on LLM benchmarks [1], 4-bit weight-only a little more [2], a
  6-layer MiniLM student keeps most of its teacher's ranking quality [3].

References
----------
- [1] Dettmers et al., "LLM.int8()", NeurIPS 2022, arXiv:2208.07339;
  Micikevicius et al., "FP8 Formats for Deep Learning", arXiv:2209.05433.
- [2] Lin et al., "AWQ: Activation-aware Weight Quantization for LLM
  Compression and Acceleration", MLSys 2024, arXiv:2306.00978.
- [3] Wang et al., "MiniLM: Deep Self-Attention Distillation for
  Task-Agnostic Compression of Pre-Trained Transformers", NeurIPS 2020,
  arXiv:2002.10957; Hinton, Vinyals and Dean, "Distilling the Knowledge in
  a Neural Network", arXiv:1503.02531, 2015.
- [4] Men et al., "ShortGPT: Layers in Large Language Models are More
  Redundant Than You Expect", arXiv:2403.03853, 2024; Muralidharan et al.,
  "Compact Language Models via Pruning and Knowledge Distillation"
  (Minitron), arXiv:2407.14679, 2024 (depth and width pruning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._checks import as_fraction, as_quantity, broadcast, whole, wrap_like

if TYPE_CHECKING:
    from ._typing import Floats, Frame, StrPath
    from .ledger import Ledger
    from .serving import EncoderEstimate, ServingEstimate

__all__ = [
    "DEFAULT_HORIZON_MONTHS", "OptimizationComparison", "Variant", "baseline",
    "break_even_accuracy_loss", "break_even_monthly_requests", "compare", "distill",
    "payback_months", "prune", "quantize",
]  # fmt: skip

DEFAULT_HORIZON_MONTHS = 12.0
"""Months an optimised model serves before a retrain replaces it. [month]"""
_BATCHES = 2.0 ** np.arange(0, 11)  # 1 ... 1024: batch sizes tried under an SLO


# --------------------------------------------------------------------------- money


def payback_months(one_off_usd: Floats, monthly_net_benefit_usd: Floats) -> Floats:
    """Months until a one-off cost is repaid by a monthly net benefit. [month]

    ``one_off / benefit``; ``inf`` where the benefit is zero or negative
    (it never pays back), 0 where there is nothing to repay.

    Parameters
    ----------
    one_off_usd : numeric
        One-off cost. [USD]
    monthly_net_benefit_usd : numeric
        Net benefit a month. [USD/month]

    Returns
    -------
    numeric
        Months until a one-off cost is repaid by a monthly net benefit. [month]

    Examples
    --------
    >>> payback_months(12_000, 1_000)
    12.0
    >>> payback_months(12_000, -50)
    inf
    """
    c = as_quantity("one_off_usd", one_off_usd)
    b = np.asarray(monthly_net_benefit_usd, dtype=float)
    if not np.isfinite(b).all():
        raise ValueError("monthly_net_benefit_usd must be finite")
    c, b = broadcast(one_off_usd=c, monthly_net_benefit_usd=b)
    with np.errstate(divide="ignore"):
        out = np.where(c == 0, 0.0, np.where(b > 0, c / np.where(b > 0, b, 1.0), np.inf))
    return wrap_like(out, one_off_usd, monthly_net_benefit_usd)


def break_even_monthly_requests(one_off_usd: Floats, net_benefit_per_1k_requests_usd: Floats,
                                horizon_months: Floats = DEFAULT_HORIZON_MONTHS) -> Floats:
    """Monthly requests below which an optimisation does not pay back within the horizon.

    ``one_off / (horizon x net benefit per 1k requests) x 1000`` [requests
    per month]; ``inf`` where the net benefit per request is not positive
    (no traffic makes it pay).

    Parameters
    ----------
    one_off_usd : numeric
        One-off cost. [USD]
    net_benefit_per_1k_requests_usd : numeric
        Net benefit per 1,000 requests (saving less accuracy cost). [USD]
    horizon_months : numeric, default 12.0
        Months within which the one-off cost must pay back. [month]

    Returns
    -------
    numeric
        Monthly requests below which an optimisation does not pay back within the horizon.

    Examples
    --------
    >>> round(break_even_monthly_requests(12_000, 0.05, 12))  # 5 cents net per 1k requests
    20000000
    """
    c = as_quantity("one_off_usd", one_off_usd)
    b = np.asarray(net_benefit_per_1k_requests_usd, dtype=float)
    if not np.isfinite(b).all():
        raise ValueError("net_benefit_per_1k_requests_usd must be finite")
    h = as_quantity("horizon_months", horizon_months, allow_zero=False)
    c, b, h = broadcast(one_off_usd=c, net_benefit_per_1k_requests_usd=b, horizon_months=h)
    with np.errstate(divide="ignore"):
        out = np.where(b > 0, c / (h * np.where(b > 0, b, 1.0)) * 1000.0, np.inf)
    return wrap_like(out, one_off_usd, net_benefit_per_1k_requests_usd, horizon_months)


def break_even_accuracy_loss(saving_per_1k_requests_usd: Floats,
                             gross_profit_per_1k_requests_usd: Floats) -> Floats:
    """The relative accuracy loss a serving saving can pay for. [unitless]

    ``saving per request / gross profit per request``: a variant that loses
    more of the profit flowing through the model than this costs more than
    it saves (one-off costs aside). Capped at 1 (losing everything).

    Parameters
    ----------
    saving_per_1k_requests_usd : numeric
        Serving saving per 1,000 requests. [USD]
    gross_profit_per_1k_requests_usd : numeric
        Gross profit that flows through 1,000 requests (what accuracy losses eat into).
        [USD]

    Returns
    -------
    numeric
        The relative accuracy loss a serving saving can pay for. [unitless]

    Examples
    --------
    >>> break_even_accuracy_loss(0.20, 40.0)  # 20 cents saved on 40 USD of profit
    0.005
    """
    s = np.asarray(saving_per_1k_requests_usd, dtype=float)
    if not np.isfinite(s).all():
        raise ValueError("saving_per_1k_requests_usd must be finite")
    g = as_quantity("gross_profit_per_1k_requests_usd", gross_profit_per_1k_requests_usd,
                    allow_zero=False)
    s, g = broadcast(saving=s, profit=g)
    return wrap_like(np.clip(s / g, 0.0, 1.0), saving_per_1k_requests_usd,
                     gross_profit_per_1k_requests_usd)


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True, repr=False)
class Variant:
    """A model as served: architecture, weight format, accuracy loss and one-off cost.

    ``kind`` is ``"llm"`` (priced by :func:`costkit.serving.estimate`) or
    ``"encoder"`` (:func:`costkit.serving.encoder_estimate`). Shape fields
    are counts; ``layer_params`` [count] the weights of one layer;
    ``embedding_params`` [count] the FLOP-free input embeddings.
    ``accuracy_loss`` [unitless, 0 to 1] is the relative drop in the business
    metric against the baseline; ``one_off`` a ledger of the one-off work
    (``opt`` phase), ``one_off_usd`` its total; ``max_seq_len`` [tokens] the
    model's context window (positions), checked when it is served.
    """

    name: str
    technique: str
    kind: str
    model: str
    params: float
    n_layers: float
    d_model: float
    n_heads: float
    n_kv_heads: float
    head_dim: float
    layer_params: float
    embedding_params: float
    dtype: str
    kv_dtype: str | None
    accuracy_loss: float
    one_off: Frame
    notes: tuple = field(default_factory=tuple)
    max_seq_len: float | None = None

    @property
    def one_off_usd(self) -> float:
        """One-off cost of getting this variant. [USD]"""
        return self.one_off.total("USD")

    def serve(self, **kwargs: Any) -> ServingEstimate | EncoderEstimate:
        """Price this variant with :mod:`costkit.serving`; keyword arguments go there.

        LLMs take ``gpu``, ``n_gpus``, ``batch_size``, ``prompt_tokens``,
        ``output_tokens`` ...; encoders ``gpu``, ``seq_len``, ``batch_size``,
        ``candidates_per_query`` ...

        Parameters
        ----------
        **kwargs
            Passed on to :func:`costkit.serving.estimate` or
            :func:`costkit.serving.encoder_estimate` (``gpu=``, ``batch_size=``, ...).

        Returns
        -------
        ServingEstimate or EncoderEstimate
            The serving estimate of this variant's model and data types.

        Examples
        --------
        >>> e = baseline("bert-base").serve(gpu="L4", seq_len=128, batch_size=64,
        ...                                usd_per_gpu_hour=0.8)
        >>> type(e).__name__, e.bound
        ('EncoderEstimate', 'compute')
        """
        from . import serving

        if self.kind == "llm":
            kwargs.setdefault("kv_dtype", self.kv_dtype)
            kwargs.setdefault("context_tokens", self.max_seq_len)
            kwargs.setdefault("embedding_params", self.embedding_params)
            return serving.estimate(params=self.params, n_layers=self.n_layers,
                                    d_model=self.d_model, n_heads=self.n_heads,
                                    n_kv_heads=self.n_kv_heads, head_dim=self.head_dim,
                                    dtype=self.dtype, **kwargs)
        kwargs.setdefault("max_positions", self.max_seq_len)
        return serving.encoder_estimate(params=self.params, n_layers=self.n_layers,
                                        d_model=self.d_model,
                                        embedding_params=self.embedding_params,
                                        dtype=self.dtype, **kwargs)

    def to_ledger(self, ledger: Ledger | None = None) -> Ledger:
        """The one-off work in the ``opt`` phase, added to ``ledger`` (or a new one).

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.

        Returns
        -------
        Ledger
            The one-off work in the ``opt`` phase, added to ``ledger`` (or a new one).

        Examples
        --------
        >>> q = quantize(baseline("llama-2-7b"), "int8", engineering_days=2,
        ...              usd_per_engineer_day=800)
        >>> q.to_ledger().total()
        1600.0
        """
        from .ledger import Ledger

        led = Ledger(title=self.name) if ledger is None else ledger
        return led.extend(self.one_off)

    def __repr__(self) -> str:
        lines = [f"Variant {self.name!r} ({self.technique}): {self.kind}, {self.params:,.0f} "
                 f"params, {self.n_layers:g} layers, {self.dtype} weights",
                 f"  accuracy loss {self.accuracy_loss:.2%}; one-off {self.one_off_usd:,.0f} USD"]
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _ledger(title):
    from .ledger import Ledger

    return Ledger(title=title)


def _price(gpu, usd_per_gpu_hour):
    if usd_per_gpu_hour is not None:
        return float(as_quantity("usd_per_gpu_hour", usd_per_gpu_hour)), "given"
    from .catalog import price_quote

    q = price_quote(gpu)
    return q.usd_per_gpu_hour, str(q)


def _engineering(led, days, usd_per_engineer_day, what):
    d = float(as_quantity("engineering_days", days))
    if d == 0:
        return
    if usd_per_engineer_day is None:
        raise TypeError("engineering_days needs usd_per_engineer_day= (your fully loaded cost "
                        "of an engineer-day); costkit has no default for it")
    led.add("opt", f"engineering: {what}", d, "engineer-day", usd_per_engineer_day,
            "USD/engineer-day", category="labour")


def _loss(name, value):
    a = float(as_fraction(name, value))
    if a >= 1:
        raise ValueError(f"{name} is a relative drop below 1 (0.01 for 1%), got {a!r}")
    return a


def _check_base(base):
    if not isinstance(base, Variant):
        raise TypeError(f"base must be a Variant (from optimization.baseline), got {base!r}")


def _derive(base, *, name, technique, one_off, accuracy_loss, note, **changes):
    """A new variant from ``base``: one-off costs add up, accuracy losses compound."""
    led = _ledger(name)
    led.extend(base.one_off)
    led.extend(one_off)
    loss = 1.0 - (1.0 - base.accuracy_loss) * (1.0 - accuracy_loss)
    tech = technique if base.technique == "baseline" else f"{base.technique} + {technique}"
    return replace(base, name=name, technique=tech, one_off=led, accuracy_loss=loss,
                   notes=base.notes + (note,), **changes)


def baseline(model: str, *, dtype: str = "fp16", kv_dtype: str | None = None,
             name: str | None = None, model_path: StrPath | None = None) -> Variant:
    """The model as served today, from the catalog: the reference of :func:`compare`.

    Parameters
    ----------
    model : str
        Catalog model as served today.
    dtype : str, default 'fp16'
        Weight data type served today.
    kv_dtype : str, optional
        KV-cache data type; default the weights'.
    name : str, optional
        Name of the variant; default the model's.
    model_path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.

    Returns
    -------
    Variant
        The model as served today, from the catalog: the reference of :func:`compare`.

    Examples
    --------
    >>> b = baseline("bert-base")
    >>> b.kind, b.n_layers, round(b.layer_params / 1e6, 2)
    ('encoder', 12.0, 7.08)
    """
    from .catalog import model as lookup
    from .catalog import normalize_dtype
    from .serving import _embedding_params

    m = lookup(model, path=model_path)
    if m.n_layers is None or m.d_model is None or m.n_heads is None or m.head_dim is None:
        raise ValueError(f"{m.name} has no Transformer shape; optimisation covers LLMs and "
                         "encoders (for DLRM tables use serving.recommender_estimate's "
                         "embedding_dtype)")
    kind = "llm" if m.architecture == "decoder" else "encoder"
    d = normalize_dtype(dtype)
    return Variant(
        name=name or m.name, technique="baseline", kind=kind, model=m.name,
        params=float(m.params), n_layers=float(m.n_layers), d_model=float(m.d_model),
        n_heads=float(m.n_heads), n_kv_heads=float(m.n_kv_heads or m.n_heads),
        head_dim=float(m.head_dim), layer_params=m.layer_params,
        embedding_params=_embedding_params(m), dtype=d, kv_dtype=kv_dtype, accuracy_loss=0.0,
        one_off=_ledger(name or m.name), notes=(f"{m.name} in {d}",),
        max_seq_len=float(m.max_seq_len) if m.max_seq_len else None,
    )  # fmt: skip


def quantize(base: Variant, dtype: str, *, kv_dtype: str | None = None, accuracy_loss: Floats = 0.0,
             gpu_hours: Floats = 0.0, gpu: str = "H100-SXM", usd_per_gpu_hour: Floats | None = None,
             engineering_days: Floats = 0.0, usd_per_engineer_day: Floats | None = None,
             name: str | None = None) -> Variant:
    """Serve ``base`` with ``dtype`` weights (fp8, int8: weights and matmuls; int4: weights only).

    Parameters
    ----------
    base : Variant
        The variant to quantize (usually :func:`baseline`).
    dtype : str
        The new weight format (see :data:`costkit.catalog.DTYPE_BYTES`).
    kv_dtype : str, optional
        KV-cache format for LLMs (e.g. ``"fp8"``); default the base's.
    accuracy_loss : float
        Relative drop in the business metric it causes [unitless, 0 to 1).
    gpu_hours : numeric
        Calibration and evaluation GPU time (GPTQ / AWQ take minutes to an
        hour for a 7B model) [GPU-hour], on ``gpu`` at ``usd_per_gpu_hour``
        (default the catalog's median on-demand price).
    engineering_days, usd_per_engineer_day : numeric
        People's time [engineer-day] and its fully loaded cost [USD per engineer-day].
    gpu : str, default 'H100-SXM'
        GPU the calibration runs on.
    usd_per_gpu_hour : numeric, optional
        Price of that GPU; default the catalog's. [USD/GPU-hour]
    name : str, optional
        Name of the variant; default from the base and the dtype.

    Returns
    -------
    Variant
        The quantized variant, with its one-off work as a ledger.

    Examples
    --------
    >>> q = quantize(baseline("llama-3-8b"), "int4", accuracy_loss=0.01)
    >>> q.technique, q.dtype, q.one_off_usd
    ('quantization', 'int4', 0.0)
    """
    from .catalog import normalize_dtype

    _check_base(base)
    d = normalize_dtype(dtype)
    loss = _loss("accuracy_loss", accuracy_loss)
    led = _ledger("quantization")
    h = float(as_quantity("gpu_hours", gpu_hours))
    if h:
        price, note = _price(gpu, usd_per_gpu_hour)
        led.add_compute("opt", f"quantization to {d}: calibration and evaluation on {gpu}",
                        hours=h, usd_per_hour=price, unit="GPU-hour", note=note)
    _engineering(led, engineering_days, usd_per_engineer_day, f"quantization to {d}")
    return _derive(base, name=name or f"{base.name} {d}", technique="quantization",
                   one_off=led, accuracy_loss=loss, dtype=d,
                   kv_dtype=base.kv_dtype if kv_dtype is None else kv_dtype,
                   note=f"quantised {base.dtype} -> {d}"
                        + (f", KV cache {kv_dtype}" if kv_dtype else ""))


def distill(base: Variant, student: str, *, examples: Floats, tokens_per_example: Floats,
            epochs: Floats = 1, teacher_output_tokens: Floats | None = None,
            accuracy_loss: Floats = 0.0, gpu: str = "H100-SXM",
            usd_per_gpu_hour: Floats | None = None, teacher_batch_size: Floats = 64,
            teacher_n_gpus: Floats = 1, engineering_days: Floats = 0.0,
            usd_per_engineer_day: Floats | None = None, name: str | None = None,
            model_path: StrPath | None = None, **training_kwargs: Any) -> Variant:
    """Replace ``base`` (the teacher) by a smaller ``student`` trained on the teacher's outputs.

    The one-off cost has two GPU lines, both from the other modules:

    - **labelling**: the teacher scores (encoders) or writes (LLMs:
      ``teacher_output_tokens`` per example, sequence-level distillation)
      ``examples`` inputs, priced by :meth:`Variant.serve` at
      ``teacher_batch_size``;
    - **student training**: :func:`costkit.training.estimate` of the student
      on ``examples x tokens_per_example x epochs`` tokens (keyword
      arguments go there: ``mfu``, ``n_gpus`` ...).

    Parameters
    ----------
    base : Variant
        The teacher as served.
    student : str
        A catalog model of the same kind (``"MiniLM-L6-H384"``, ``"Qwen2.5-1.5B"``).
    examples : numeric
        Inputs the teacher labels [count].
    tokens_per_example : numeric
        Tokens per training example (query + document, or prompt + rewrite) [tokens].
    epochs : numeric
        Passes of the student over the examples [count].
    teacher_output_tokens : numeric, optional
        LLM teachers: tokens generated per example (default a quarter of
        ``tokens_per_example``) [tokens].
    accuracy_loss : float
        Relative drop in the business metric of the student [unitless, 0 to 1).
    gpu, usd_per_gpu_hour : str and numeric, optional
        Where labelling and training run, and the price (default the
        catalog's median on-demand).
    teacher_batch_size : numeric, default 64
        Batch the teacher labels at. [count]
    teacher_n_gpus : numeric, default 1
        GPUs per teacher replica. [count]
    engineering_days : numeric, default 0.0
        Engineer-days of work. [day]
    usd_per_engineer_day : numeric, optional
        Price of an engineer-day; default costkit's (stated in the result). [USD/day]
    name : str, optional
        Name of the variant; default the student's.
    model_path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.
    **training_kwargs
        Passed on to :func:`costkit.training.estimate` (``mfu=``, ``cloud=``, ...).

    Returns
    -------
    Variant
        The student as a variant, with the distillation's one-off work as a ledger.

    Notes
    -----
    100 million query-document pairs scored by BERT-base and learnt by MiniLM:
    about 1 GPU-hour of labelling and 1.6 of training on an H100.

    Examples
    --------
    >>> s = distill(baseline("bert-base"), "minilm", examples=1e8, tokens_per_example=128,
    ...             usd_per_gpu_hour=3.0, mfu=0.3)
    >>> s.model, round(s.one_off_usd)
    ('MiniLM-L6-H384', 9)
    """
    from .catalog import model as lookup
    from .training import estimate as train

    _check_base(base)
    st = baseline(student, dtype=base.dtype, kv_dtype=base.kv_dtype, model_path=model_path)
    if st.kind != base.kind:
        raise ValueError(f"the student {st.model} is an {st.kind} and the teacher an "
                         f"{base.kind}: distil into a model of the same kind")
    if st.params >= base.params:
        raise ValueError(f"the student {st.model} ({st.params:,.0f} params) is not smaller "
                         f"than the teacher ({base.params:,.0f})")
    loss = _loss("accuracy_loss", accuracy_loss)
    n_ex = float(as_quantity("examples", examples, allow_zero=False))
    tpe = float(whole("tokens_per_example", as_quantity("tokens_per_example",
                                                        tokens_per_example, allow_zero=False)))
    ep = float(as_quantity("epochs", epochs, allow_zero=False))
    price, price_note = _price(gpu, usd_per_gpu_hour)
    led = _ledger("distillation")
    if base.kind == "llm":
        out_tok = max(1.0, round(tpe / 4)) if teacher_output_tokens is None else float(
            whole("teacher_output_tokens", as_quantity("teacher_output_tokens",
                                                       teacher_output_tokens, allow_zero=False)))
        if out_tok >= tpe:
            raise ValueError("teacher_output_tokens must be fewer than tokens_per_example")
        t = base.serve(gpu=gpu, n_gpus=teacher_n_gpus, batch_size=teacher_batch_size,
                       prompt_tokens=tpe - out_tok, output_tokens=out_tok,
                       usd_per_gpu_hour=price)
        label_hours = n_ex / t.requests_per_second / 3600.0 * float(t.n_gpus)
        how = f"writes {out_tok:g} tokens for each of {n_ex:,.0f} examples"
    else:
        t = cast("EncoderEstimate", base.serve(gpu=gpu, seq_len=tpe,
                                               batch_size=teacher_batch_size,
                                               usd_per_gpu_hour=price))
        label_hours = n_ex / t.sequences_per_second / 3600.0
        how = f"scores {n_ex:,.0f} examples of {tpe:g} tokens"
    led.add_compute("opt", f"distillation: teacher {base.name} {how}", hours=label_hours,
                    usd_per_hour=price, unit="GPU-hour",
                    note=f"costkit.serving at batch {teacher_batch_size}; {price_note}")
    tr = train(model=lookup(student, path=model_path).name, tokens=n_ex * tpe * ep, gpu=gpu,
               usd_per_gpu_hour=price, model_path=model_path, **training_kwargs)
    led.add_compute("opt", f"distillation: train {st.model} on {n_ex * tpe * ep:.3g} tokens",
                    hours=tr.gpu_hours, usd_per_hour=price, unit="GPU-hour",
                    note=f"costkit.training.estimate, MFU {tr.mfu:.3f} on {tr.n_gpus:g} x {gpu}")
    _engineering(led, engineering_days, usd_per_engineer_day, f"distillation into {st.model}")
    changes = {k: getattr(st, k) for k in ("model", "params", "n_layers", "d_model", "n_heads",
                                           "n_kv_heads", "head_dim", "layer_params",
                                           "embedding_params")}
    return _derive(base, name=name or f"{st.model} (distilled)", technique="distillation",
                   one_off=led, accuracy_loss=loss,
                   note=f"distilled {base.model} -> {st.model} ({st.params:,.0f} params)",
                   **changes)


def prune(base: Variant, *, layers_removed: Floats = 0, width_removed_fraction: Floats = 0.0,
          recovery_tokens: Floats = 0.0, accuracy_loss: Floats = 0.0, gpu: str = "H100-SXM",
          usd_per_gpu_hour: Floats | None = None, engineering_days: Floats = 0.0,
          usd_per_engineer_day: Floats | None = None, name: str | None = None,
          **training_kwargs: Any) -> Variant:
    """Remove whole layers and/or a share of each layer's weights; optionally fine-tune back.

    ``params' = params - layers_removed x layer_params - width x (layers
    left) x layer_params`` [4]; the layer count falls with depth pruning
    (and with it the KV cache). ``recovery_tokens`` of training to win back
    accuracy are priced by :func:`costkit.training.estimate` (keyword
    arguments go there).

    Parameters
    ----------
    base : Variant
        The variant to prune.
    layers_removed : numeric, default 0
        Whole layers removed (depth pruning). [count]
    width_removed_fraction : numeric, default 0.0
        Share of each remaining layer's weights removed (width pruning). [unitless, 0-1]
    recovery_tokens : numeric, default 0.0
        Tokens of training to win accuracy back. [count]
    accuracy_loss : numeric, default 0.0
        Relative accuracy lost after recovery. [unitless, 0-1]
    gpu : str, default 'H100-SXM'
        GPU the recovery training runs on.
    usd_per_gpu_hour : numeric, optional
        Price of that GPU; default the catalog's. [USD/GPU-hour]
    engineering_days : numeric, default 0.0
        Engineer-days of work. [day]
    usd_per_engineer_day : numeric, optional
        Price of an engineer-day; default costkit's (stated in the result). [USD/day]
    name : str, optional
        Name of the variant; default from the base and the cut.
    **training_kwargs
        Passed on to :func:`costkit.training.estimate` (``mfu=``, ``cloud=``, ...).

    Returns
    -------
    Variant
        The pruned variant, with its one-off work as a ledger.

    Examples
    --------
    >>> p = prune(baseline("llama-3-8b"), layers_removed=8)
    >>> p.n_layers, round(p.params / 1e9, 2)
    (24.0, 6.29)
    """
    from .training import estimate as train

    _check_base(base)
    k = float(whole("layers_removed", as_quantity("layers_removed", layers_removed)))
    f = float(as_fraction("width_removed_fraction", width_removed_fraction))
    if k >= base.n_layers:
        raise ValueError(f"layers_removed ({k:g}) must leave at least one of the "
                         f"{base.n_layers:g} layers")
    if f >= 1:
        raise ValueError("width_removed_fraction must be below 1")
    if k == 0 and f == 0:
        raise ValueError("prune() needs layers_removed > 0 or width_removed_fraction > 0")
    loss = _loss("accuracy_loss", accuracy_loss)
    left = base.n_layers - k
    layer = base.layer_params * (1.0 - f)
    params = base.params - base.n_layers * base.layer_params + left * layer
    led = _ledger("pruning")
    rt = float(as_quantity("recovery_tokens", recovery_tokens))
    if rt:
        price, _ = _price(gpu, usd_per_gpu_hour)
        tr = train(params=params, tokens=rt, gpu=gpu, usd_per_gpu_hour=price, **training_kwargs)
        led.add_compute("opt", f"pruning: recovery training on {rt:.3g} tokens",
                        hours=tr.gpu_hours, usd_per_hour=price, unit="GPU-hour",
                        note=f"costkit.training.estimate, MFU {tr.mfu:.3f} on {tr.n_gpus:g} x "
                             f"{gpu}")
    _engineering(led, engineering_days, usd_per_engineer_day, "pruning")
    what = ", ".join(x for x in (f"{k:g} of {base.n_layers:g} layers" if k else "",
                                 f"{f:.0%} of each layer's width" if f else "") if x)
    return _derive(base, name=name or f"{base.name} pruned", technique="pruning",
                   one_off=led, accuracy_loss=loss, params=params, n_layers=left,
                   layer_params=layer, note=f"pruned {what}: {params:,.0f} params")


# --------------------------------------------------------------------------- compare


def _usd_per_1k(est):
    return est.usd_per_1k_requests if hasattr(est, "usd_per_1k_requests") else (
        est.usd_per_1k_queries)


def _serve_at_slo(v: Variant, slo_s, kwargs):
    """The cheapest batch (a power of two) whose request latency meets the SLO."""
    kw = dict(kwargs)
    kw["batch_size"] = _BATCHES
    if v.kind == "llm":
        kw["oversized"] = "flag"
    sweep = v.serve(**kw)
    cost = np.asarray(_usd_per_1k(sweep), dtype=float)
    ok = np.isfinite(cost) & (np.asarray(sweep.request_latency_s) <= slo_s)
    if not ok.any():
        raise ValueError(f"{v.name}: no batch size meets the {slo_s:g} s SLO on this hardware")
    best = float(_BATCHES[np.flatnonzero(ok)[np.argmin(cost[ok])]])
    kw = dict(kwargs)
    kw["batch_size"] = best
    return v.serve(**kw)


@dataclass(frozen=True, repr=False)
class OptimizationComparison:
    """Variants against the baseline at one traffic level; ``table`` has one row per variant.

    Columns: ``name``, ``technique``, ``params``, ``dtype``, ``batch_size``,
    ``usd_per_1k_requests`` [USD], ``monthly_serving_usd``,
    ``monthly_saving_usd``, ``accuracy_loss`` [unitless],
    ``monthly_accuracy_cost_usd``, ``monthly_net_benefit_usd`` [USD/month],
    ``one_off_usd`` [USD], ``payback_months`` [month, inf = never],
    ``break_even_monthly_requests`` [requests/month],
    ``break_even_accuracy_loss`` [unitless; NaN when no gross profit is given,
    as there is then nothing to weigh a loss against] and ``net_value_usd``
    over the horizon [USD]. ``variants`` and ``serving`` (the serving estimates) are
    keyed by name.
    """

    table: Frame
    variants: dict
    serving: dict
    monthly_requests: float
    gross_profit_per_1k_requests_usd: float
    utilization: float
    horizon_months: float
    assumptions: dict = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        """Name of the baseline variant (the first row of the table)."""
        return str(self.table.index[0])

    def payback_curve(self, monthly_requests: Floats) -> Frame:
        """Payback months of each variant over an array of monthly traffic (a DataFrame).

        Parameters
        ----------
        monthly_requests : numeric
            Traffic levels. [1/month]

        Returns
        -------
        DataFrame
            Payback months of each variant over an array of monthly traffic (a
            DataFrame).

        Examples
        --------
        >>> b = baseline("bert-base")
        >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
        ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
        >>> c.payback_curve([1e7, 1e8, 1e9]).shape
        (3, 1)
        """
        import pandas as pd

        req = as_quantity("monthly_requests", monthly_requests, allow_zero=False)
        t = self.table
        net_per_1k = ((t.usd_per_1k_requests.iloc[0] - t.usd_per_1k_requests) / self.utilization
                      - t.accuracy_loss * self.gross_profit_per_1k_requests_usd).to_numpy()
        months = payback_months(t.one_off_usd.to_numpy()[None, :],
                                np.asarray(req)[:, None] / 1000.0 * net_per_1k[None, :])
        return pd.DataFrame(np.atleast_2d(months), index=pd.Index(np.atleast_1d(req),
                                                                  name="monthly_requests"),
                            columns=t.index).iloc[:, 1:]

    def net_benefit_at(self, accuracy_loss: Floats) -> Frame:
        """Monthly net benefit of each variant if its accuracy loss were ``accuracy_loss``.

        ``saving - loss x gross profit`` [USD/month] over an array of losses
        [unitless]: the trade-off of a cheaper but worse model (a DataFrame,
        one column per variant, the baseline left out).

        Parameters
        ----------
        accuracy_loss : numeric
            Accuracy losses to evaluate (one row each). [unitless, 0-1]

        Returns
        -------
        DataFrame
            Monthly net benefit of each variant if its accuracy loss were
            ``accuracy_loss``.

        Examples
        --------
        >>> b = baseline("bert-base")
        >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
        ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
        >>> c.net_benefit_at([0.0, 0.01]).shape
        (2, 1)
        """
        import pandas as pd

        loss = as_fraction("accuracy_loss", accuracy_loss)
        t = self.table.iloc[1:]
        profit = self.gross_profit_per_1k_requests_usd * self.monthly_requests / 1000.0
        net = t.monthly_saving_usd.to_numpy()[None, :] - np.atleast_1d(loss)[:, None] * profit
        return pd.DataFrame(net, index=pd.Index(np.atleast_1d(loss), name="accuracy_loss"),
                            columns=t.index)

    def to_ledger(self, name: str, ledger: Ledger | None = None) -> Ledger:
        """The one-off work of variant ``name`` in the ``opt`` phase of a ledger.

        Parameters
        ----------
        name : str
            Name of the variant whose one-off work to add.
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.

        Returns
        -------
        Ledger
            The one-off work of variant ``name`` in the ``opt`` phase of a ledger.

        Examples
        --------
        >>> b = baseline("bert-base")
        >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
        ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
        >>> led = c.to_ledger(c.table.index[1])
        >>> bool(led.by_phase()["opt"] >= 0)
        True
        """
        if name not in self.variants:
            raise ValueError(f"unknown variant {name!r}; one of {', '.join(self.variants)}")
        return self.variants[name].to_ledger(ledger)

    def __repr__(self) -> str:
        t = self.table
        lines = [f"OptimizationComparison at {self.monthly_requests:,.0f} requests a month "
                 f"(baseline {self.baseline}; {self.utilization:.0%} utilisation, "
                 f"{self.horizon_months:g}-month horizon)",
                 f"  {'variant':<36}{'USD/1k':>9}{'USD/month':>12}{'net/month':>12}"
                 f"{'one-off':>10}{'payback':>10}"]
        for n, r in t.iterrows():
            pb = "never" if np.isinf(r.payback_months) else f"{r.payback_months:.1f} mo"
            pb = "baseline" if n == self.baseline else pb
            lines.append(f"  {n[:35]:<36}{r.usd_per_1k_requests:>9.4f}"
                         f"{r.monthly_serving_usd:>12,.0f}{r.monthly_net_benefit_usd:>12,.0f}"
                         f"{r.one_off_usd:>10,.0f}{pb:>10}")
        return "\n".join(lines)


def compare(variants: Sequence[Variant], *, monthly_requests: Floats,
            gross_profit_per_1k_requests_usd: Floats = 0.0, utilization: float | None = None,
            horizon_months: Floats = DEFAULT_HORIZON_MONTHS, slo_s: float | None = None,
            **serving_kwargs: Any) -> OptimizationComparison:
    """Serving cost, saving, accuracy cost, payback and break-even of each variant.

    Parameters
    ----------
    variants : sequence of Variant
        The first is the baseline the others are compared with; all of one kind.
    monthly_requests : numeric
        Requests (LLM) or queries (encoder) a month [count/month].
    gross_profit_per_1k_requests_usd : numeric
        Gross profit that flows through 1,000 requests (conversions per
        request x order value x margin) [USD]; ``accuracy_loss`` takes this
        share away. 0 ignores accuracy.
    utilization : numeric, optional
        Average busy share of the replicas paid for [0 to 1]; default
        :data:`costkit.capacity.DEFAULT_TARGET_UTILIZATION` (0.7).
    horizon_months : numeric
        Months the variant serves (break-even traffic, net value) [month].
    slo_s : numeric, optional
        Request latency target [s]: each variant at its cheapest batch that
        meets it. Without it, every variant at the same ``batch_size``.
    **serving_kwargs :
        To :meth:`Variant.serve` (``gpu``, ``batch_size``, ``prompt_tokens``,
        ``output_tokens``, ``seq_len``, ``candidates_per_query``,
        ``usd_per_gpu_hour`` ...).

    Returns
    -------
    OptimizationComparison
        One row per variant: serving cost, saving, accuracy cost, net benefit, one-off cost,
        payback and break-even traffic; the variants themselves.

    Examples
    --------
    >>> b = baseline("bert-base")
    >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4",
    ...             seq_len=128, batch_size=64, candidates_per_query=100,
    ...             usd_per_gpu_hour=0.8)
    >>> round(c.table.monthly_saving_usd.iloc[1])  # int8: half the bytes, 1.6 x the FLOP/s
    1114
    """
    import pandas as pd

    from .capacity import DEFAULT_TARGET_UTILIZATION

    vs = list(variants)
    if len(vs) < 2 or not all(isinstance(v, Variant) for v in vs):
        raise TypeError("compare() takes a baseline Variant and at least one other Variant")
    kinds = {v.kind for v in vs}
    if len(kinds) > 1:
        raise ValueError("compare LLMs with LLMs and encoders with encoders")
    names = [v.name for v in vs]
    if len(set(names)) < len(names):
        raise ValueError(f"variant names must differ: {names}")
    req = float(as_quantity("monthly_requests", monthly_requests, allow_zero=False))
    gp = float(as_quantity("gross_profit_per_1k_requests_usd", gross_profit_per_1k_requests_usd))
    u = float(as_fraction("utilization", DEFAULT_TARGET_UTILIZATION if utilization is None
                          else utilization))
    if u == 0:
        raise ValueError("utilization must be > 0")
    h = float(as_quantity("horizon_months", horizon_months, allow_zero=False))
    if slo_s is not None:
        slo = float(as_quantity("slo_s", slo_s, allow_zero=False))
        ests = [_serve_at_slo(v, slo, serving_kwargs) for v in vs]
    else:
        ests = [v.serve(**serving_kwargs) for v in vs]
    for v, e in zip(vs, ests, strict=True):
        if np.ndim(_usd_per_1k(e)) != 0:
            raise ValueError("compare() takes one serving configuration: pass scalars")
        if not np.isfinite(_usd_per_1k(e)):
            raise ValueError(f"{v.name} does not fit in memory at that batch")
    c1k = np.array([float(_usd_per_1k(e)) for e in ests])
    monthly = c1k * req / 1000.0 / u
    saving = monthly[0] - monthly
    loss = np.array([v.accuracy_loss for v in vs])
    # accuracy losses relative to the baseline's own loss (a baseline may carry one)
    rel_loss = 1.0 - (1.0 - loss) / (1.0 - loss[0])
    acc_cost = rel_loss * gp * req / 1000.0
    net = saving - acc_cost
    one_off = np.array([v.one_off_usd - vs[0].one_off_usd for v in vs])
    one_off = np.maximum(one_off, 0.0)
    net_per_1k = net / req * 1000.0
    table = pd.DataFrame({
        "technique": [v.technique for v in vs],
        "params": [v.params for v in vs],
        "dtype": [v.dtype for v in vs],
        "batch_size": [float(e.batch_size) for e in ests],
        "usd_per_1k_requests": c1k,
        "monthly_serving_usd": monthly,
        "monthly_saving_usd": saving,
        "accuracy_loss": rel_loss,
        "monthly_accuracy_cost_usd": acc_cost,
        "monthly_net_benefit_usd": net,
        "one_off_usd": one_off,
        "payback_months": payback_months(one_off, net),
        "break_even_monthly_requests": break_even_monthly_requests(one_off, net_per_1k, h),
        "break_even_accuracy_loss": (break_even_accuracy_loss(saving / req * 1000.0, gp)
                                     if gp > 0 else np.nan),
        "net_value_usd": net * h - one_off,
    }, index=pd.Index(names, name="variant"))  # fmt: skip
    assumptions = {
        "utilization": f"{u:g} average busy share of paid replicas",
        "horizon_months": h,
        "batch": (f"each variant at its cheapest power-of-two batch meeting the {slo_s:g} s SLO"
                  if slo_s is not None else "every variant at the same batch"),
        "accuracy": "accuracy_loss x gross profit flowing through the requests"
                    + ("" if gp else " (no gross profit given: accuracy not priced)"),
        "serving": ests[0].assumptions.get("price", ""),
    }
    return OptimizationComparison(
        table=table, variants=dict(zip(names, vs, strict=True)),
        serving=dict(zip(names, ests, strict=True)), monthly_requests=req,
        gross_profit_per_1k_requests_usd=gp, utilization=u, horizon_months=h,
        assumptions=assumptions,
    )
