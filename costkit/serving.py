"""Serving cost: what one replica can do, and what a token, query or request costs.

Three kinds of model, each from first principles (a roofline: the slower of
the compute time and the memory time), each with a result object that prints
its assumptions:

- **LLM generation** (:func:`estimate`, e.g. an LLM rewriting search queries)::

    weights [bytes]        = N x bytes per weight
    KV per token [bytes]   = 2 x L x kv_heads x head_dim x bytes per element
    prefill (TTFT) [s]     = max(B(2NP + 2LP²d) / (u_c·peak·n), weights / (u_bw·BW·n))
    decode step (TPOT) [s] = max((weights + B·KV·c) / (u_bw·BW·n), B(2N + 4Lcd) / (u_c·peak·n))
    request latency [s]    = TTFT + (O - 1) x TPOT,   c = P + O/2 (mean context)
    tokens/s = B·O / latency,  requests/s = B / latency
    USD per 1M tokens      = n x USD per GPU-hour / (tokens/s x 3600) x 1e6

  for batch B, prompt P and output O tokens, N parameters, L layers, width d,
  n GPUs in tensor parallel (weights, KV cache, FLOPs and bandwidth all split
  n ways, plus two all-reduces of the activations per layer over the
  catalog's interconnect). A mixture-of-experts model multiplies its active
  parameters and reads the experts its batch touches; latent attention (MLA)
  caches one compressed vector per layer; beam search prefills once and
  decodes every beam (:mod:`costkit.kernels` holds each of these formulas).
- **Encoders** (:func:`encoder_throughput`, :func:`encoder_estimate`, e.g. a
  BERT cross-encoder scoring k candidates per query): 2·N·s + 4·L·s²·d FLOPs
  per sequence of s tokens, weights read once per batch.
- **Recommenders** (:func:`recommender_estimate`, DLRM-style): embedding
  tables (rows x dim x bytes) set the memory and the GPUs that hold them; the
  MLPs and the feature interaction set the FLOPs; the row gathers the bytes.

Quantised data types change bytes and peak through the catalog
(:data:`costkit.catalog.DTYPE_BYTES`, :func:`costkit.catalog.compute_dtype`):
fp8 and int8 run on their own tensor-core peak with 1-byte weights; int4 is
weight-only (0.5 byte weights, 16-bit matmuls).

Every argument broadcasts over numpy arrays and pandas Series (batch-size
sweeps, GPU comparisons) without Python loops over configurations.

Default assumptions (printed by every result)
---------------------------------------------
- Compute utilisation ``u_c`` = 0.6 of the dense peak and bandwidth
  utilisation ``u_bw`` = 0.8 of the peak memory bandwidth. They are calibrated
  against NVIDIA's published TensorRT figures: BERT-base on A100 implies 0.57,
  Llama-7B prefill 0.69, and Llama-7B decode on A100 0.78 of bandwidth.
  :func:`costkit.validation.serving_report` (``make validate``, notebook 03
  section 12) checks them against 26 published figures, MLPerf Inference up
  to v4.0 included, out of sample.
- 90% of GPU memory usable for weights and KV cache (vLLM's default
  ``gpu_memory_utilization``); the rest holds activations and the CUDA
  context. GB = 1e9 bytes.
- KV cache in the model's 16-bit type (fp16) unless ``kv_dtype`` says
  otherwise (e.g. ``"fp8"``), also for quantised weights.
- Price: the catalog's median on-demand USD per GPU-hour, as in training.
- Costs are for a replica kept busy; :mod:`costkit.capacity` adds the idle
  headroom that traffic and a latency SLO require.

References
----------
- [1] Williams, Waterman and Patterson, "Roofline: an insightful visual
  performance model for multicore architectures", CACM 52(4), 2009.
- [2] Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023,
  arXiv:2211.05102, Sec. 2 (memory time vs compute time, KV-cache size).
- [3] Kwon et al., "Efficient Memory Management for Large Language Model
  Serving with PagedAttention" (vLLM), SOSP 2023, arXiv:2309.06180.
- [4] Ainslie et al., "GQA: Training Generalized Multi-Query Transformer
  Models from Multi-Head Checkpoints", arXiv:2305.13245, 2023.
- [5] Naumov et al., "Deep Learning Recommendation Model for
  Personalization and Recommendation Systems", arXiv:1906.00091, 2019.
- [7] Wang et al., "DCN V2: Improved Deep & Cross Network", WWW 2021,
  arXiv:2008.13535, Sec. 3 (low-rank cross layers).
- [6] NVIDIA, TensorRT-LLM ``docs/source/performance.md`` (v0.6.1 tables)
  and TensorRT ``demo/BERT/README.md`` (A100 results): the calibration data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import (
    as_fraction,
    as_quantity,
    broadcast,
    scalar_or,
    table,
    warning_lines,
    whole,
    wrap_like,
)
from ._resolve import catalog_prices, gpu_lookup, gpu_names_like, per_gpu, price_age_notes
from .step_time import step_time_s

if TYPE_CHECKING:
    from ._typing import Bools, Floats, Names, NamesLike, NDArray, StrPath
    from .engine_features import EngineFeatures
    from .step_time import ServingEfficiency

__all__ = [
    "DEFAULT_BANDWIDTH_UTILIZATION", "DEFAULT_COMPUTE_UTILIZATION", "DLRM_CRITEO_TB", "DLRM_V2",
    "EncoderEstimate", "RecommenderEstimate", "RecommenderSpec", "ServingEstimate",
    "USABLE_MEMORY_FRACTION", "encoder_estimate", "encoder_throughput", "estimate",
    "break_even_gpu_hour_price", "kv_cache_bytes_per_token", "recommender_estimate", "weights_gb",
]  # fmt: skip

DEFAULT_COMPUTE_UTILIZATION = 0.6
"""Share of the dense peak FLOP/s reached by compute-bound phases [unitless]
(prefill, encoders, MLPs); calibrated in notebook 03 (0.57 to 0.69 implied)."""
DEFAULT_BANDWIDTH_UTILIZATION = 0.8
"""Share of peak memory bandwidth reached by memory-bound phases [unitless]
(decode, embedding gathers); Llama-7B decode on A100 implies 0.78."""
USABLE_MEMORY_FRACTION = 0.9
"""Share of GPU memory for weights and KV cache (vLLM's ``gpu_memory_utilization``)."""

_OVERSIZED = ("raise", "flag")


# --------------------------------------------------------------------------- helpers


def _dtypes(dtype, kv_dtype):
    from .catalog import bytes_per_element, normalize_dtype

    d = normalize_dtype(dtype)
    if kv_dtype is None:
        kv = d if d in ("fp32", "tf32", "bf16", "fp16") else "fp16"
        kv_note = (f"{kv} (the model's type)" if kv == d
                   else "fp16 (16-bit, as serving engines keep it)")
    else:
        kv = normalize_dtype(kv_dtype)
        if kv == "int4":
            raise ValueError("kv_dtype int4 is not a KV-cache format; use fp16, bf16, fp8 or int8")
        kv_note = f"{kv} (given)"
    return d, bytes_per_element(d), kv, bytes_per_element(kv), kv_note


def _peaks(recs, inv, d):
    from .catalog import compute_dtype

    peaks = []
    for r in recs:
        c = compute_dtype(d, r)
        peaks.append(r.peak_tflops(c))
    note = ", ".join(f"{r.name} {compute_dtype(d, r)} {p:g} TFLOPS" for r, p in zip(recs, peaks,
                                                                                  strict=True))
    return per_gpu(peaks, inv), note


@dataclass(frozen=True)
class _Hardware:
    """Per-configuration GPU figures, price and utilisations, with their notes."""

    names: list
    inv: NDArray[np.intp]  # index of each configuration's GPU in names
    peak: Floats
    bw: Floats
    mem: Floats
    price: Floats
    u_c: Floats
    u_bw: Floats
    notes: dict
    recs: list = field(default_factory=list)


def _hardware(gpu, d, *, usd_per_gpu_hour, cloud, pricing, compute_utilization,
              bandwidth_utilization, price_path, gpu_path) -> _Hardware:
    """Look up the GPUs, their peak for dtype ``d``, bandwidth, memory and price."""
    names, recs, inv = gpu_lookup(gpu, gpu_path)
    peak, peak_note = _peaks(recs, inv, d)
    if usd_per_gpu_hour is not None:
        price = as_quantity("usd_per_gpu_hour", usd_per_gpu_hour)
        price_notes = {"price": "given", "price_sources": ["given"], "price_dates": None}
    else:
        cp = catalog_prices(names, inv, cloud=cloud, pricing=pricing, price_path=price_path,
                            gpu_path=gpu_path)
        price = cp.price
        price_notes = {"price": cp.note, "price_sources": cp.sources, "price_dates": cp.dates,
                       **price_age_notes(cp.dates)}
    u_c = as_fraction("compute_utilization", compute_utilization)
    u_bw = as_fraction("bandwidth_utilization", bandwidth_utilization)
    if (u_c == 0).any() or (u_bw == 0).any():
        raise ValueError("compute_utilization and bandwidth_utilization must be > 0")
    notes = {
        "compute_utilization": scalar_or(u_c) if u_c.size == 1 else "per config",
        "bandwidth_utilization": scalar_or(u_bw) if u_bw.size == 1 else "per config",
        "peak": peak_note,
        **price_notes,
    }
    return _Hardware(
        names=names, inv=inv, peak=peak,
        bw=per_gpu([r.memory_bandwidth_bytes_per_s for r in recs], inv),
        mem=per_gpu([r.memory_bytes for r in recs], inv), price=price, u_c=u_c, u_bw=u_bw,
        notes=notes, recs=recs,
    )


@dataclass(frozen=True)
class _Calibration:
    """How an estimate sets its utilisations and its range (resolved at the boundary)."""

    mode: str                  # "calibrated", "roofline" (costkit's defaults) or "given"
    eff: Any                   # the ServingEfficiency that sets the range (and u in calibrated)
    u_c: Floats                # the utilisations _hardware validates (1.0 placeholders if fitted)
    u_bw: Floats


def _calibration(calibrated, efficiency, compute_utilization, bandwidth_utilization):
    """Resolve ``calibrated`` / ``efficiency`` and the utilisations the caller gave.

    Calibrated (the default): the efficiency model sets u_c (by rows per matmul), u_bw and the
    stack factor. ``calibrated=False``: the plain roofline at the given or default utilisations.
    Utilisations given with ``calibrated=True``: used as given (the model still sets the range).
    """
    from . import step_time as se

    if efficiency is not None and not isinstance(efficiency, se.ServingEfficiency):
        raise TypeError("efficiency must be a ServingEfficiency (costkit.serving_efficiency.fit()"
                        f" or fit_from_samples()), got {type(efficiency).__name__}")
    if not isinstance(calibrated, (bool, np.bool_)):
        raise TypeError(f"calibrated must be True or False, got {calibrated!r}")
    given = compute_utilization is not None or bandwidth_utilization is not None
    u_c = DEFAULT_COMPUTE_UTILIZATION if compute_utilization is None else compute_utilization
    u_bw = (DEFAULT_BANDWIDTH_UTILIZATION if bandwidth_utilization is None
            else bandwidth_utilization)
    eff = efficiency if efficiency is not None else se.default()
    if calibrated and not given:
        return _Calibration("calibrated", eff, 1.0, 1.0)
    return _Calibration("given" if given else "roofline", eff, u_c, u_bw)


def _range_factors(cal: _Calibration, hw) -> tuple:
    """Low and high multipliers of throughput per configuration, and the range's note."""
    eff = cal.eff
    if cal.mode == "roofline":
        lo_q, mid_q, hi_q = eff.roofline_low, eff.roofline_mid, eff.roofline_high
        eff = type(eff)(**{**eff.__dict__, "residual_low": lo_q, "residual_mid": mid_q,
                           "residual_high": hi_q})
    lo, hi = eff.range_factors([r.vendor for r in hw.recs], [r.architecture for r in hw.recs])
    note = {"calibrated": "the calibrated model's leave-one-out residuals",
            "roofline": "the plain roofline's residuals against the same published figures "
                        "(calibrated=False: for teaching; budget from the calibrated default)",
            "given": "the calibrated model's leave-one-out spread, applied around your "
                     "utilisations"}[cal.mode]
    return per_gpu(lo, hw.inv), per_gpu(hi, hw.inv), note


_TP_WARNING = ("tensor parallelism is the model's weakest case: the one published 4-GPU figure "
               "(Llama-2-70B, H200, 128/2048) is 2x slower than predicted, outside its range; "
               "measure a multi-GPU replica before you budget from it")


def _efficiency_notes(cal: _Calibration, kind: str, range_note: str) -> dict:
    """The utilisation, efficiency and range lines of an estimate's assumptions."""
    from .step_time import _fmt as se_fmt

    if cal.mode == "calibrated":
        notes = cal.eff.notes(kind)
        return {"compute_utilization": f"calibrated: {se_fmt(cal.eff.compute_max)} (x "
                                       f"{se_fmt(cal.eff.eight_bit_factor)} for fp8 / int8)",
                "bandwidth_utilization": f"calibrated: {se_fmt(cal.eff.bandwidth_max)}",
                "kernels": "calibrated: each kind of kernel (matmuls, attention, gathers) takes "
                           "its own roofline and a pass their sum; a pass takes at least its "
                           "layers x the per-layer floor",
                **notes, "range": f"{notes['range']} ({range_note})"}
    return {"efficiency": ("not calibrated (calibrated=False): the pure roofline"
                           if cal.mode == "roofline" else
                           "your utilisations (the calibrated model not applied)"),
            "range": f"low-high 80%: {range_note}"}


def _ranged(central, lo, hi, *, time: bool) -> tuple:
    """(low, high) of a figure from throughput multipliers: times and costs divide by them."""
    if time:
        return central / hi, central / lo
    return central * lo, central * hi


class _Table:
    """``is_scalar`` and ``to_frame`` for the serving results.

    A subclass names its main result field (``_primary``, whose shape and
    index the table takes) and the fields of the table (``_columns``); the
    table starts with the model's name and carries the dtype third.
    """

    _primary = ""
    _columns: tuple = ()
    # fields every serving result has (declared for type checkers; the dataclasses set them)
    model: str | None
    gpu: Names
    dtype: str
    assumptions: dict

    @property
    def _model_name(self) -> str:
        return self.model or ""

    _html_rows: tuple = ()  # (label, attribute, unit) shown by _repr_html_

    def _repr_html_(self) -> str:
        from ._html import frame_table, result_table

        name = type(self).__name__
        if not self.is_scalar:
            return frame_table(f"{name} over {np.size(getattr(self, self._primary))} "
                               "configurations", self.to_frame(), self.assumptions)
        rows = [(label, getattr(self, attr), unit) for label, attr, unit in self._html_rows]
        return result_table(f"{name}: {self._model_name or 'model'} on {self.gpu}, "
                            f"{self.dtype}", rows, self.assumptions)

    @property
    def is_scalar(self) -> bool:
        return np.ndim(getattr(self, self._primary)) == 0

    def to_frame(self):
        """One row per configuration: inputs and results."""
        df = table(self, self._columns, self._primary)
        df.insert(0, "model", self._model_name)
        df.insert(2, "dtype", self.dtype)
        return df


def kv_cache_bytes_per_token(n_layers: Floats, n_kv_heads: Floats, head_dim: Floats,
                             bytes_per_element: Floats = 2.0, latent_dim: Floats = 0.0) -> Floats:
    """KV-cache size of one token: 2 x L x kv_heads x head_dim x bytes. [bytes]

    Keys and values (the 2) of every layer. With grouped-query attention
    ``n_kv_heads`` is the number of KV heads, not of query heads [4]. With
    multi-head latent attention (DeepSeek-V2/V3) pass ``latent_dim`` =
    kv_lora_rank + rope_head_dim: each layer caches that one vector,
    ``L x latent_dim x bytes`` (:func:`costkit.kernels.kv_bytes_per_token`).

    DeepSeek-V3 (61 layers, latent 512 + 64) in bf16: 70,272 bytes a token.

    Parameters
    ----------
    n_layers : numeric
        Transformer layers. [count]
    n_kv_heads : numeric
        Key/value heads (grouped-query attention; = n_heads without it). [count]
    head_dim : numeric
        Width of one attention head. [count]
    bytes_per_element : numeric, default 2.0
        Bytes of one stored value (2 for fp16/bf16). [bytes]
    latent_dim : numeric, default 0.0
        Cached latent width per layer for multi-head latent attention (0: standard KV
        cache). [count]

    Returns
    -------
    numeric
        KV-cache size of one token: 2 x L x kv_heads x head_dim x bytes. [bytes]

    Examples
    --------
    >>> kv_cache_bytes_per_token(61, 128, 192, 2, latent_dim=512 + 64)
    70272.0

    Llama 2 7B (32 layers, 32 KV heads of 128) in fp16: 0.5 MiB per token.

    >>> kv_cache_bytes_per_token(32, 32, 128, 2)
    524288.0
    """
    from .kernels import kv_bytes_per_token

    out = kv_bytes_per_token(*broadcast(
        n_layers=as_quantity("n_layers", n_layers, allow_zero=False),
        n_kv_heads=as_quantity("n_kv_heads", n_kv_heads, allow_zero=False),
        head_dim=as_quantity("head_dim", head_dim, allow_zero=False),
        bytes_per_element=as_quantity("bytes_per_element", bytes_per_element,
                                      allow_zero=False),
        latent_dim=as_quantity("latent_dim", latent_dim)))
    return wrap_like(out, n_layers, n_kv_heads, head_dim, bytes_per_element)


def break_even_gpu_hour_price(reference_price_per_gpu_hour: Floats,
                              reference_throughput_per_gpu: Floats,
                              throughput_per_gpu: Floats) -> Floats:
    r"""The price per GPU-hour at which a GPU's work costs what the reference GPU's does.

    .. math::  p^* = p_\text{ref} \cdot r / r_\text{ref}

    with :math:`r` the throughput of one GPU (tokens/s, requests/s: the same unit
    for both). Pay less than :math:`p^*` and the GPU is the cheaper way to do the
    work; the answer is in the reference price's currency. Useful where one part
    has a list price and the other only a quote to come (the H20 in China).

    Parameters
    ----------
    reference_price_per_gpu_hour : numeric
        The reference GPU's price. [currency per GPU-hour]
    reference_throughput_per_gpu : numeric
        Work per second of one reference GPU, > 0. [unit of work/s]
    throughput_per_gpu : numeric
        Work per second of one GPU of the candidate. [unit of work/s]

    Returns
    -------
    numeric
        The break-even price. [currency per GPU-hour]

    Examples
    --------
    >>> break_even_gpu_hour_price(18.0, 400.0, [400.0, 1200.0])
    array([18., 54.])
    """
    p = as_quantity("reference_price_per_gpu_hour", reference_price_per_gpu_hour)
    r_ref = as_quantity("reference_throughput_per_gpu", reference_throughput_per_gpu,
                        allow_zero=False)
    r = as_quantity("throughput_per_gpu", throughput_per_gpu)
    return wrap_like(p * r / r_ref, throughput_per_gpu)


def weights_gb(params: Floats, dtype: str = "fp16") -> Floats:
    """Memory of the weights: params x bytes per element of ``dtype``. [GB]

    Parameters
    ----------
    params : numeric
        Parameters. [count]
    dtype : str, default 'fp16'
        Weight data type.

    Returns
    -------
    numeric
        Memory of the weights: params x bytes per element of ``dtype``. [GB]

    Examples
    --------
    >>> round(weights_gb(6_738_415_616, "fp16"), 1)  # Llama 2 7B
    13.5
    """
    from .catalog import bytes_per_element

    n = as_quantity("params", params, allow_zero=False)
    return wrap_like(n * bytes_per_element(dtype) / 1e9, params)


def _llm_shape(model, params, n_layers, d_model, n_heads, n_kv_heads, head_dim, model_path):
    if model is not None:
        from .catalog import model as lookup

        if any(v is not None for v in (params, n_layers, d_model, n_heads, n_kv_heads,
                                       head_dim)):
            raise ValueError("give model= or params= with the shape, not both")
        m = lookup(model, path=model_path)
        if m.architecture != "decoder" or m.n_layers is None or m.n_heads is None:
            raise ValueError(f"{m.name} is not a decoder LLM ({m.architecture}); use "
                             "encoder_estimate() for encoders and recommender_estimate() for "
                             "recommenders")
        return (m.name, float(m.params), float(m.n_layers), float(m.d_model),
                float(m.n_heads), float(m.n_kv_heads or m.n_heads), float(m.head_dim),
                float(m.max_seq_len) if m.max_seq_len else None, _embedding_params(m), m)
    if params is None:
        raise TypeError("estimate() needs model= (a catalog name) or params= with the shape")
    missing = [k for k, v in (("n_layers", n_layers), ("d_model", d_model),
                              ("n_heads", n_heads)) if v is None]
    if missing:
        raise ValueError("the KV cache and attention need the shape: pass n_layers, d_model and "
                         f"n_heads with params (missing: {', '.join(missing)})")
    n = as_quantity("params", params, allow_zero=False)
    L = whole("n_layers", as_quantity("n_layers", n_layers, allow_zero=False))
    d = whole("d_model", as_quantity("d_model", d_model, allow_zero=False))
    h = whole("n_heads", as_quantity("n_heads", n_heads, allow_zero=False))
    kvh = h if n_kv_heads is None else whole(
        "n_kv_heads", as_quantity("n_kv_heads", n_kv_heads, allow_zero=False))
    _check_heads(d, h, kvh, head_dim)
    hd = d / h if head_dim is None else as_quantity("head_dim", head_dim, allow_zero=False)
    return "", n, L, d, h, kvh, hd, None, 0.0, None


def _moe_parts(m):
    """The MoE shape of a catalog model, or None for a dense one.

    A tuple (active, routed experts E, k, MoE layers, weights of one routed expert).
    """
    if m is None or not m.is_moe:
        return None
    return (float(m.active_params), float(m.n_experts), float(m.experts_per_token),
            float(m.moe_layers), (3.0 if m.gated_mlp else 2.0) * m.d_model * m.d_ff_expert)


def _check_heads(d_model, n_heads, n_kv_heads, head_dim):
    """Refuse an attention shape that cannot exist (heads that do not divide the width ...)."""
    d, h, kvh = np.broadcast_arrays(d_model, n_heads, n_kv_heads)
    if (kvh > h).any():
        raise ValueError(f"n_kv_heads ({kvh[kvh > h].flat[0]:g}) cannot exceed n_heads "
                         f"({h[kvh > h].flat[0]:g}): KV heads are shared by query heads")
    if (np.mod(h, kvh) != 0).any():
        bad = np.mod(h, kvh) != 0
        raise ValueError(f"n_heads ({h[bad].flat[0]:g}) must be a multiple of n_kv_heads "
                         f"({kvh[bad].flat[0]:g}): each KV head serves a whole group")
    if head_dim is None and (np.mod(d, h) != 0).any():
        bad = np.mod(d, h) != 0
        raise ValueError(f"d_model ({d[bad].flat[0]:g}) is not divisible by n_heads "
                         f"({h[bad].flat[0]:g}); give head_dim if the heads are not d_model / "
                         "n_heads wide")



# --------------------------------------------------------------------------- LLM


def _ranged_value(self, name: str, end: str):
    """``name``'s low or high from the result's throughput multipliers (nominal 80%)."""
    lo, hi = self.throughput_low_factor, self.throughput_high_factor
    central = getattr(self, name)
    low, high = _ranged(np.asarray(central, dtype=float), lo, hi, time=name in _TIMES)
    return wrap_like(low if end == "low" else high, central)


class _RangeEnd:
    """A result's ``<figure>_low`` or ``<figure>_high``, computed when it is read.

    From the figure and the throughput multipliers: no array is made for a range nobody reads.
    """

    name = end = ""

    def __set_name__(self, owner: Any, attr: str) -> None:
        self.name, _, self.end = attr.rpartition("_")
        self.__doc__ = (f"{self.name} at the {self.end} end of its nominal 80% range (from "
                        f"throughput_{self.end}_factor).")

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return _ranged_value(obj, self.name, self.end)


_RANGED_LLM_FIGURES = ("ttft_s", "tpot_s", "request_latency_s", "tokens_per_second",
                       "requests_per_second", "usd_per_million_tokens", "usd_per_1k_requests")
_RANGED_LLM = tuple(f"{k}_{end}" for k in _RANGED_LLM_FIGURES for end in ("low", "high"))
"""The LLM figures that carry a low and a high (the nominal 80% range)."""


@dataclass(frozen=True, repr=False)
class ServingEstimate(_Table):
    """What one LLM replica does with a batch: latency, throughput, memory, money.

    Scalars for one configuration, arrays (or Series) for many. A replica is
    ``n_gpus`` GPUs in tensor parallel. Units are in the names: ``ttft_s``
    (time to first token = the batch's prefill) [s], ``tpot_s`` (time per
    output token = one decode step) [s], ``request_latency_s`` [s],
    ``tokens_per_second`` (output tokens of the whole replica) [1/s],
    ``requests_per_second`` [1/s], memory in GB, money in USD
    (``usd_per_million_tokens`` per million *output* tokens, the prefill's GPU
    time included; ``usd_per_1k_requests``). ``fits_in_memory`` is False
    where the batch's KV cache does not fit (results there are NaN, only
    with ``oversized="flag"``). ``decode_bound`` says which roof binds the
    decode step: ``"memory"`` or ``"compute"``.
    """

    model: str
    gpu: Names
    dtype: str
    kv_dtype: str
    n_gpus: Floats
    batch_size: Floats
    prompt_tokens: Floats
    output_tokens: Floats
    params: Floats
    ttft_s: Floats
    tpot_s: Floats
    request_latency_s: Floats
    tokens_per_second: Floats
    requests_per_second: Floats
    weights_gb: Floats
    kv_cache_bytes_per_token: Floats
    kv_cache_gb: Floats
    max_batch_size: Floats
    memory_per_gpu_gb: Floats
    fits_in_memory: Bools
    decode_bound: Bools
    usd_per_gpu_hour: Floats
    usd_per_replica_hour: Floats
    usd_per_million_tokens: Floats
    usd_per_1k_requests: Floats
    throughput_low_factor: Floats = 1.0
    throughput_high_factor: Floats = 1.0
    assumptions: dict = field(default_factory=dict)

    _primary = "tpot_s"
    # the nominal 80% range of each figure, read from throughput_{low,high}_factor
    ttft_s_low = _RangeEnd()
    ttft_s_high = _RangeEnd()
    tpot_s_low = _RangeEnd()
    tpot_s_high = _RangeEnd()
    request_latency_s_low = _RangeEnd()
    request_latency_s_high = _RangeEnd()
    tokens_per_second_low = _RangeEnd()
    tokens_per_second_high = _RangeEnd()
    requests_per_second_low = _RangeEnd()
    requests_per_second_high = _RangeEnd()
    usd_per_million_tokens_low = _RangeEnd()
    usd_per_million_tokens_high = _RangeEnd()
    usd_per_1k_requests_low = _RangeEnd()
    usd_per_1k_requests_high = _RangeEnd()
    _columns = (
        "gpu", "n_gpus", "batch_size", "prompt_tokens", "output_tokens", "ttft_s", "tpot_s",
        "request_latency_s", "tokens_per_second", "requests_per_second", "weights_gb",
        "kv_cache_gb", "max_batch_size", "memory_per_gpu_gb", "fits_in_memory",
        "decode_bound", "usd_per_gpu_hour", "usd_per_replica_hour",
        "usd_per_million_tokens", "usd_per_1k_requests", *_RANGED_LLM,
    )  # fmt: skip

    _html_rows = (("GPUs per replica", "n_gpus", ""), ("batch", "batch_size", "sequences"),
                  ("time to first token", "ttft_s", "s"),
                  ("time per output token", "tpot_s", "s"),
                  ("request latency", "request_latency_s", "s"),
                  ("throughput", "tokens_per_second", "output tokens/s"),
                  ("weights", "weights_gb", "GB"), ("KV cache", "kv_cache_gb", "GB"),
                  ("largest batch", "max_batch_size", "sequences"),
                  ("price", "usd_per_replica_hour", "USD per replica-hour"),
                  ("cost", "usd_per_million_tokens", "USD per 1M output tokens"),
                  ("cost", "usd_per_1k_requests", "USD per 1,000 requests"))

    @property
    def tokens_per_second_per_gpu(self) -> Floats:
        """Output tokens per second per GPU. [1/s]"""
        return self.tokens_per_second / self.n_gpus

    def __repr__(self) -> str:
        a = self.assumptions
        if not self.is_scalar:
            ok = np.asarray(self.fits_in_memory)
            return (f"ServingEstimate over {np.size(self.tpot_s)} configurations "
                    f"({int(ok.sum())} fit in memory): "
                    f"{np.nanmin(self.usd_per_million_tokens):,.3f} to "
                    f"{np.nanmax(self.usd_per_million_tokens):,.3f} USD per 1M output tokens; "
                    f".to_frame() for the table, .assumptions for the defaults")
        if not self.fits_in_memory:
            return (f"ServingEstimate: {self.model or f'{self.params:.3g} params'} on "
                    f"{self.n_gpus:g} x {self.gpu}: batch {self.batch_size:g} DOES NOT FIT "
                    f"(max batch {self.max_batch_size:g}); results are NaN")
        return "\n".join([
            f"ServingEstimate: {self.model or f'{self.params:.3g} params'} on {self.n_gpus:g} x "
            f"{self.gpu}, {self.dtype} weights, {self.kv_dtype} KV cache",
            f"  batch {self.batch_size:g} x ({self.prompt_tokens:g} prompt + "
            f"{self.output_tokens:g} output tokens); max batch {self.max_batch_size:g}",
            f"  TTFT {self.ttft_s * 1e3:,.1f} ms, TPOT {self.tpot_s * 1e3:,.2f} ms "
            f"({self.decode_bound}-bound), request {self.request_latency_s:,.2f} s",
            f"  {self.tokens_per_second:,.0f} output tokens/s, {self.requests_per_second:,.2f} "
            f"requests/s per replica",
            f"  memory per GPU {self.memory_per_gpu_gb:,.1f} GB (weights {self.weights_gb:,.1f} "
            f"GB, KV cache {self.kv_cache_gb:,.1f} GB in all)",
            f"  {self.usd_per_million_tokens:,.3f} USD per 1M output tokens, "
            f"{self.usd_per_1k_requests:,.4f} USD per 1,000 requests at "
            f"{self.usd_per_replica_hour:,.2f} USD per replica-hour (kept busy)",
            f"  80% range: {self.tokens_per_second_low:,.0f}-{self.tokens_per_second_high:,.0f}"
            f" output tokens/s, TTFT {self.ttft_s_low * 1e3:,.1f}-{self.ttft_s_high * 1e3:,.1f}"
            f" ms, TPOT {self.tpot_s_low * 1e3:,.2f}-{self.tpot_s_high * 1e3:,.2f} ms, "
            f"{self.usd_per_million_tokens_low:,.3f}-{self.usd_per_million_tokens_high:,.3f} "
            "USD per 1M output tokens",
            f"  efficiency: {a['efficiency']}",
            f"  utilisation: compute {a['compute_utilization']}, bandwidth "
            f"{a['bandwidth_utilization']}; price: {a['price']}",
            *warning_lines(a),
        ])


def estimate(model: str | None = None, *, params: Floats | None = None,
             n_layers: Floats | None = None, d_model: Floats | None = None,
             n_heads: Floats | None = None, n_kv_heads: Floats | None = None,
             head_dim: Floats | None = None, gpu: NamesLike = "H100-SXM", n_gpus: Floats = 1,
             dtype: str = "fp16", kv_dtype: str | None = None, batch_size: Floats = 1,
             prompt_tokens: Floats = 512, output_tokens: Floats = 128,
             usd_per_gpu_hour: Floats | None = None, pricing: str = "on_demand",
             cloud: str | None = None, compute_utilization: Floats | None = None,
             bandwidth_utilization: Floats | None = None, calibrated: bool = True,
             efficiency: ServingEfficiency | None = None,
             usable_memory_fraction: Floats = USABLE_MEMORY_FRACTION, oversized: str = "raise",
             context_tokens: Floats | None = None, embedding_params: Floats | None = None,
             n_beams: Floats = 1, active_params: Floats | None = None,
             all_reduce_latency_s: Floats | None = None,
             features: EngineFeatures | None = None, gpu_path: StrPath | None = None,
             price_path: StrPath | None = None,
             model_path: StrPath | None = None) -> ServingEstimate:
    """Latency, throughput and cost of one LLM replica generating text (roofline).

    Parameters
    ----------
    model : str, optional
        A decoder in the model catalog (``"llama-2-7b"``); or give ``params``
        and the shape.
    params : numeric, optional
        Parameters N. [count]
    n_layers, d_model, n_heads : numeric, optional
        The shape, with ``params``. [count]
    n_kv_heads : numeric, optional
        KV heads (grouped-query attention); default ``n_heads``. [count]
    head_dim : numeric, optional
        Width of a head; default ``d_model / n_heads``. [count]
    gpu : str or array of str
        Accelerator (matched as in :func:`costkit.gpu`); an array compares GPUs.
    n_gpus : numeric
        GPUs per replica, in tensor parallel. [count]
    dtype : str
        Weight format: fp16, bf16, fp8, int8 (weights and matmuls quantised)
        or int4 (weight-only). One per call.
    kv_dtype : str, optional
        KV-cache format; default 16-bit (the model's type if 16/32-bit).
    batch_size : numeric
        Sequences decoded together (continuous batching: the concurrency). [count]
    prompt_tokens, output_tokens : numeric
        Tokens in and out per request. [tokens]
    usd_per_gpu_hour : numeric, optional
        Your price [USD per GPU-hour]; default the catalog's median offer.
    pricing : {"on_demand", "spot"}
    cloud : str, optional
        Restrict catalog prices to one provider.
    compute_utilization, bandwidth_utilization : numeric, optional
        Shares of the dense peak FLOP/s and of the peak bandwidth reached
        [unitless, 0 to 1]; given, they replace the calibrated utilisations.
        Default: the efficiency model's (u_c by the rows of each phase's
        matmuls: B·P in prefill, B·beams in decode), or 0.6 and 0.8 with
        ``calibrated=False``.
    calibrated : bool, default True
        Apply the serving-efficiency model fitted on published figures
        (:mod:`costkit.serving_efficiency`); False keeps the pure roofline at
        0.6 / 0.8 (for teaching: what the roofline alone promises).
    efficiency : ServingEfficiency, optional
        Your own model (:func:`costkit.serving_efficiency.fit` on your
        benchmarks, or :func:`~costkit.serving_efficiency.fit_from_samples` on
        your fleet's telemetry); default the fit on the bundled table.
    usable_memory_fraction : numeric
        Share of GPU memory for weights and KV cache [0 to 1].
    embedding_params : numeric, optional
        Parameters of the input embedding table [count]: held in memory, but
        neither multiplied nor streamed each step (a lookup reads B rows), as
        in :func:`encoder_estimate`. A catalog model's own (vocabulary x
        d_model, 0 when tied to the output head); 0 with ``params``.
    context_tokens : numeric, optional
        The model's context window [tokens]; prompt + output tokens beyond it
        raise ``ValueError``. A catalog model's own (4,096 for Llama 2) by
        default; with ``params`` and a shape, none unless given.
    n_beams : numeric
        Beam-search width (or n-best) [count]: each request's prompt is
        prefilled once, then ``n_beams`` sequences decode together, each with
        its own generated KV cache; the request returns ``output_tokens``.
    active_params : numeric, optional
        With ``params``: the parameters one token multiplies in a mixture of
        experts [count]; FLOPs use them, every weight is read each step (an
        upper bound). A catalog MoE model brings its own, and each decode step
        reads only the experts the batch touches
        (:func:`costkit.kernels.distinct_experts`).
    all_reduce_latency_s : numeric
        Fixed time of one tensor-parallel all-reduce [s], on top of its bytes
        over the catalog's interconnect; 0 by default (not counted).
    features : costkit.engine.EngineFeatures, optional
        The serving engine's features: prefix caching, speculative decoding,
        multi-LoRA, chunked prefill at steady state (:mod:`costkit.engine`
        gives each equation); all off by default, printed in the assumptions.
    oversized : {"raise", "flag"}
        A batch whose KV cache does not fit (or weights that do not fit, or a
        chunked-prefill budget that cannot sustain the batch): raise
        ``ValueError`` (default), or flag it (``fits_in_memory`` False where
        memory is short, results NaN) so a sweep can run past the limit.
    gpu_path, price_path, model_path : optional
        Your own tables.

    Returns
    -------
    ServingEstimate
        Time to first token, time per output token, request latency, throughput, memory
        (weights and KV cache), the largest batch that fits and the cost per million tokens
        and per 1,000 requests, with the assumptions.

    Raises
    ------
    ValueError
        Negative, NaN or infinite quantities, a dtype the GPU has no peak for,
        a batch or model that does not fit (``oversized="raise"``).
    UnknownNameError
        Unknown GPU or model name (with the closest names).

    Examples
    --------
    Llama 2 7B at batch 1 on one H100: each decode step reads the 13.2 GB of
    weights outside the input embedding table, so at the full 3.35 TB/s a
    token takes at least 3.9 ms.

    >>> e = estimate("llama-2-7b", gpu="H100-SXM", batch_size=1, prompt_tokens=1,
    ...              output_tokens=2, bandwidth_utilization=1.0, usd_per_gpu_hour=2.0)
    >>> round(e.tpot_s * 1e3, 2), round(e.kv_cache_bytes_per_token / 2**20, 2)
    (3.94, 0.5)
    """
    llm = _resolve_llm(model, params, n_layers, d_model, n_heads, n_kv_heads, head_dim,
                       active_params, embedding_params, context_tokens, model_path)
    feat = _features(features, n_beams)
    d, wbytes, kv, kvbytes, kv_note = _dtypes(dtype, kv_dtype)
    cal = _calibration(calibrated, efficiency, compute_utilization, bandwidth_utilization)
    hw = _hardware(gpu, d, usd_per_gpu_hour=usd_per_gpu_hour, cloud=cloud, pricing=pricing,
                   compute_utilization=cal.u_c, bandwidth_utilization=cal.u_bw,
                   price_path=price_path, gpu_path=gpu_path)
    usable = as_fraction("usable_memory_fraction", usable_memory_fraction, allow_zero=False)
    b = _llm_inputs(llm, hw, feat, usable, n_gpus=n_gpus, batch_size=batch_size,
                    prompt_tokens=prompt_tokens, output_tokens=output_tokens, n_beams=n_beams,
                    all_reduce_latency_s=all_reduce_latency_s, oversized=oversized)
    ar_lat = b["ar_lat"]

    draft = feat.speculation is not None and feat.speculation.method == "draft" and estimate(
        feat.speculation.draft_model, gpu=gpu, n_gpus=n_gpus, dtype=dtype, kv_dtype=kv_dtype,
        batch_size=batch_size, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
        usd_per_gpu_hour=1.0, calibrated=calibrated, efficiency=efficiency,
        compute_utilization=compute_utilization, bandwidth_utilization=bandwidth_utilization,
        usable_memory_fraction=usable_memory_fraction, oversized="flag",
        all_reduce_latency_s=all_reduce_latency_s, gpu_path=gpu_path, model_path=model_path)
    extra = _engine_extra(feat, b, llm, wbytes, draft)
    memory = _llm_memory(b, llm, wbytes, kvbytes, extra)
    if oversized == "raise" and not memory["fits"].all():
        _refuse_oversized(b, memory, d, hw, gpu)
    split = cal.mode == "calibrated"
    stack, per_layer = _calibrate_llm(b, cal, d, all_reduce_latency_s) if split else (1.0, 0.0)
    t = {k: step_time_s(v, b["n_layers"], per_layer, stack) if k in _STEPS else v
         for k, v in _llm_times(b, llm, wbytes, memory["kv_tok"], extra, split=split,
                                feat_chunked=feat.chunked_prefill).items()}
    n, ng, B, Q, fits = (b["params"], b["n_gpus"], b["batch_size"], b["output_tokens"],
                         memory["fits"])
    ttft, tpot, tok_s, sustained = _serve_rates(feat, b, extra, t, oversized)
    latency, tok_s, req_s = _request_rates(ttft, tpot, tok_s, B, Q)
    replica_usd_h = ng * b["price"]
    bound = np.where(t["t_mem"] >= t["t_cmp"], "memory", "compute")
    out = _shaped_like(np.where(fits & sustained, 1.0, np.nan), params, batch_size,
                       prompt_tokens, output_tokens, n_gpus, usd_per_gpu_hour,
                       None if isinstance(gpu, str) else gpu)
    w_bytes, kv_bytes = memory["weights_bytes"], memory["kv_bytes"]
    lo, hi, range_note = _range_factors(cal, hw)
    usd_tok, usd_req = (replica_usd_h / (tok_s * 3600.0) * 1e6,
                        replica_usd_h / (req_s * 3600.0) * 1e3)
    return ServingEstimate(
        model=llm.label, gpu=gpu_names_like(hw.names, hw.inv, gpu, np.shape(tpot)), dtype=d,
        kv_dtype=kv, n_gpus=out(ng, False), batch_size=out(B, False),
        prompt_tokens=out(b["prompt_tokens"], False), output_tokens=out(Q, False),
        params=out(n, False), ttft_s=out(ttft), tpot_s=out(tpot),
        request_latency_s=out(latency), tokens_per_second=out(tok_s),
        requests_per_second=out(req_s), weights_gb=out(w_bytes / 1e9, False),
        kv_cache_bytes_per_token=out(memory["kv_tok"], False),
        kv_cache_gb=out(kv_bytes / 1e9, False), max_batch_size=out(memory["max_batch"], False),
        memory_per_gpu_gb=out((w_bytes + kv_bytes + extra.memory_bytes) / ng / 1e9, False),
        fits_in_memory=bool(fits) if fits.ndim == 0 else fits,
        decode_bound=str(bound) if bound.ndim == 0 else bound,
        usd_per_gpu_hour=out(b["price"], False), usd_per_replica_hour=out(replica_usd_h, False),
        usd_per_million_tokens=out(usd_tok), usd_per_1k_requests=out(usd_req),
        throughput_low_factor=out(lo, False), throughput_high_factor=out(hi, False),
        assumptions={**_llm_assumptions(llm, hw, d, wbytes, kv_note, kvbytes, usable, ar_lat,
                                        active_params),
                     **_efficiency_notes(cal, "llm", range_note), **feat._notes(),
                     **({"tensor_parallel_warning": _TP_WARNING} if np.any(ng > 1) else {})},
    )  # fmt: skip


def _shaped_like(mask, *inputs):
    """``out(x, masked=True)``: a result wrapped like the inputs (a Series in, a Series out).

    Masked results are multiplied by ``mask`` (NaN for a configuration that does not fit).
    """
    ref = [x for x in inputs if x is not None]

    def out(x, masked=True):
        return wrap_like(x * mask if masked else x, *ref)

    return out


def _llm_inputs(llm, hw, feat, usable, *, n_gpus, batch_size, prompt_tokens, output_tokens,
                n_beams, all_reduce_latency_s, oversized) -> dict:
    """Every per-configuration input of an LLM estimate, checked and broadcast together.

    Prompt plus output must fit the context window; tensor parallelism needs the GPU's link
    (``link``: half its interconnect, the bytes each direction carries per second).
    """
    if oversized not in _OVERSIZED:
        raise ValueError(f"oversized must be 'raise' or 'flag', got {oversized!r}")
    ng = whole("n_gpus", as_quantity("n_gpus", n_gpus, allow_zero=False))
    B = whole("batch_size", as_quantity("batch_size", batch_size, allow_zero=False))
    P = whole("prompt_tokens", as_quantity("prompt_tokens", prompt_tokens, allow_zero=False))
    Q = whole("output_tokens", as_quantity("output_tokens", output_tokens, allow_zero=False))
    beams = whole("n_beams", as_quantity("n_beams", n_beams, allow_zero=False))
    ar_lat = as_quantity("all_reduce_latency_s",
                         0.0 if all_reduce_latency_s is None else all_reduce_latency_s)
    if llm.context is not None and (np.asarray(P + Q) > llm.context).any():
        raise ValueError(f"{np.max(np.asarray(P + Q)):,.0f} tokens (prompt + output) exceed the "
                         f"context window of {llm.label or 'the model'}, {llm.context:,.0f} "
                         "tokens; shorten the prompt or use a longer-context model")
    link = per_gpu([(r.interconnect_gbps or 0.0) / 2.0 * 1e9 for r in hw.recs], hw.inv)
    arrays = dict(params=llm.params, emb=llm.emb, n_layers=llm.n_layers, d_model=llm.d_model,
                  n_kv_heads=llm.n_kv_heads, head_dim=llm.head_dim, peak=hw.peak, bw=hw.bw,
                  mem=hw.mem, price=hw.price, u_c=hw.u_c, u_bw=hw.u_bw, usable=usable,
                  n_gpus=ng, batch_size=B, prompt_tokens=P, output_tokens=Q, active=llm.active,
                  beams=beams, link=link, ar_lat=ar_lat)
    # the features' own inputs join the broadcast only as arrays (scalars cost no array passes)
    scalars = {"hit": feat.prefix_cache_hit_rate, "accept": 1.0 if feat.speculation is None
               else feat.speculation.acceptance_rate, "budget": float(feat.token_budget)}
    arrays.update({k: v for k, v in scalars.items() if np.ndim(v)})
    b = dict(zip(arrays, broadcast(**arrays), strict=True))
    b.update({k: float(v) for k, v in scalars.items() if not np.ndim(v)})
    if ((b["n_gpus"] > 1) & (b["link"] <= 0)).any():
        raise ValueError("tensor parallelism needs the GPU's interconnect_gbps in the catalog")
    return b


def _calibrate_llm(b: dict, cal, dtype: str, all_reduce_latency_s) -> tuple[float, float]:
    """Put the fitted utilisations (and all-reduce latency, unless given) into ``b``.

    Returns the stack's speed factor and the layer floor [s] for :func:`step_time_s`.
    """
    b["u_c"] = cal.eff.compute_utilization(dtype)
    b["u_bw"] = cal.eff.bandwidth_max
    if all_reduce_latency_s is None:
        b["ar_lat"] = cal.eff.all_reduce_latency_s
    return cal.eff.stack_factor("llm"), cal.eff.layer_overhead_s


@dataclass(frozen=True)
class _Llm:
    """A decoder resolved from the catalog or from counts: shape, MoE and cache layout."""

    label: str
    params: Floats            # every weight [count]
    active: Floats            # multiplied per token [count]
    n_layers: Floats
    d_model: Floats
    n_kv_heads: Floats
    head_dim: Floats
    context: float | None     # the context window [tokens]
    emb: Floats               # the input embedding table [count]
    moe: tuple | None         # (active, experts E, k, MoE layers, weights of one expert)
    latent: float             # MLA: values cached per layer per token (0: keys and values)


def _resolve_llm(model, params, n_layers, d_model, n_heads, n_kv_heads, head_dim,
                 active_params, embedding_params, context_tokens, model_path) -> _Llm:
    """The decoder's shape and counts, checked at the boundary."""
    label, n, L, dm, _h, kvh, hd, context, emb, rec = _llm_shape(
        model, params, n_layers, d_model, n_heads, n_kv_heads, head_dim, model_path)
    moe = _moe_parts(rec)
    if active_params is not None:
        if moe is not None:
            raise ValueError(f"{label} brings its own active_params")
        act = as_quantity("active_params", active_params, allow_zero=False)
        if (np.asarray(act) > np.asarray(n)).any():
            raise ValueError("active_params cannot exceed params")
    else:
        act = n if moe is None else moe[0]
    if embedding_params is not None:
        emb = as_quantity("embedding_params", embedding_params)
    if (np.asarray(emb) >= np.asarray(n)).any():
        raise ValueError("embedding_params must be smaller than params")
    if context_tokens is not None:
        context = float(as_quantity("context_tokens", context_tokens, allow_zero=False))
    return _Llm(label=label, params=n, active=act, n_layers=L, d_model=dm, n_kv_heads=kvh,
                head_dim=hd, context=context, emb=emb, moe=moe,
                latent=rec.kv_latent_dim if rec is not None else 0.0)


def _features(features, n_beams):
    """The engine features, checked against what this estimate can combine them with."""
    from .engine_features import EngineFeatures

    if features is None:
        return EngineFeatures()
    if not isinstance(features, EngineFeatures):
        raise TypeError("features must be a costkit.engine.EngineFeatures, got "
                        f"{type(features).__name__}")
    if features.speculation is not None and np.any(np.asarray(n_beams) > 1):
        raise ValueError("speculative decoding with beam search is not modelled; use n_beams=1")
    return features


@dataclass(frozen=True)
class _Extra:
    """What the engine features add to each pass and to memory (resolved once)."""

    rows: int              # rows per sequence in a decode pass: k + 1 with speculation
    lora_params: Floats    # adapter parameters multiplied per token [count]
    lora_read: Floats      # adapter bytes read per pass [bytes]
    memory_bytes: Floats   # held beside the weights and KV: cache pool, adapters, draft [bytes]
    kv_share: float        # extra KV per target KV byte (an MTP head's layers)
    draft_kv_tok: Floats   # the draft model's KV per token [bytes]
    draft_ttft: Floats     # the draft's prefill [s]
    draft_step: Any        # the draft's decode step [s], or ("mtp", layers) / 0.0


def _engine_extra(feat, b, llm, wbytes, draft) -> _Extra:
    """Memory, rows and time the features add: adapters, the prefix-cache pool, the draft."""
    from . import engine_features as engine

    s = feat.speculation
    lora_p: Any = 0.0
    lora_read: Any = 0.0
    mem: Any = feat.prefix_cache_gb * 1e9
    if feat.lora_adapters:
        lora_p = engine.adapter_params(b["n_layers"], b["d_model"],
                                       b["n_kv_heads"] * b["head_dim"], feat.lora_rank)
        one = lora_p * engine.ADAPTER_BYTES_PER_PARAM
        lora_read = engine.distinct_adapters(feat.lora_adapters, b["batch_size"]) * one
        mem = mem + feat.lora_adapters * one
    kv_share = 0.0
    draft_kv: Any = 0.0
    draft_ttft: Any = 0.0
    draft_step: Any = 0.0
    if s is not None and s.method == "mtp":
        kv_share = s.mtp_layers / b["n_layers"]
        mem = mem + (b["params"] - b["emb"]) * wbytes * kv_share
        draft_step = ("mtp", s.mtp_layers)
    elif s is not None and s.method == "draft":
        if np.any(np.asarray(draft.params) >= np.asarray(b["params"])):
            raise ValueError(f"the draft model {s.draft_model} is not smaller than the target")
        mem = mem + np.asarray(draft.weights_gb) * 1e9
        draft_kv = np.asarray(draft.kv_cache_bytes_per_token)
        draft_ttft, draft_step = np.asarray(draft.ttft_s), np.asarray(draft.tpot_s)
    return _Extra(rows=feat.verify_rows, lora_params=lora_p, lora_read=lora_read,
                  memory_bytes=mem, kv_share=kv_share, draft_kv_tok=draft_kv,
                  draft_ttft=draft_ttft, draft_step=draft_step)


def _llm_memory(b, llm, wbytes, kvbytes, extra: _Extra) -> dict:
    """Weights and KV cache: bytes per token, the largest batch, whether the batch fits.

    KV per request = (P + beams x O) x KV per token: the prompt's cache is shared by the
    beams, each beam keeps its generated tokens'. The engine features' memory (cache pool,
    adapters, a draft model's weights) comes off the room first, a draft's KV per token on top.
    """
    from . import kernels

    w_bytes = b["params"] * wbytes
    kv_tok = kernels.kv_bytes_per_token(b["n_layers"], b["n_kv_heads"], b["head_dim"], kvbytes,
                                        llm.latent)
    kv_all = kv_tok
    if extra.kv_share or not _zero(extra.draft_kv_tok):
        kv_all = kv_tok * (1.0 + extra.kv_share) + extra.draft_kv_tok
    room = b["n_gpus"] * b["mem"] * b["usable"] - w_bytes
    if not _zero(extra.memory_bytes):
        room = room - extra.memory_bytes
    per_request = b["prompt_tokens"] + b["beams"] * b["output_tokens"]
    max_batch = np.where(room > 0, np.floor(np.maximum(room, 0) / (kv_all * per_request)), 0.0)
    return {"weights_bytes": w_bytes, "kv_tok": kv_tok, "room": room, "max_batch": max_batch,
            "kv_bytes": b["batch_size"] * per_request * kv_all,
            "fits": b["batch_size"] <= max_batch}


def _refuse_oversized(b, memory, d, hw, gpu):
    """Raise for the first configuration whose weights or KV cache do not fit."""
    fits, room, w_bytes = memory["fits"], memory["room"], memory["weights_bytes"]
    i = int(np.flatnonzero(~fits.ravel())[0])
    r = {k: np.broadcast_to(v, fits.shape).ravel()[i] for k, v in b.items()}
    gn = gpu_names_like(hw.names, hw.inv, gpu, fits.shape)
    gname = gn if isinstance(gn, str) else np.asarray(gn).ravel()[i]
    if room.ravel()[i] <= 0:
        need = int(np.floor(w_bytes.ravel()[i] / (r["mem"] * r["usable"]))) + 1
        raise ValueError(
            f"the {w_bytes.ravel()[i] / 1e9:,.1f} GB of {d} weights do not fit in "
            f"{r['n_gpus']:g} x {gname} ({r['usable']:.0%} of {r['mem'] / 1e9:,.1f} GB "
            f"usable each) beside what the engine features hold; use n_gpus >= {need} (room "
            "for the KV cache too) or a smaller dtype")
    raise ValueError(
        f"batch_size {r['batch_size']:g} does not fit: its KV cache needs "
        f"{memory['kv_bytes'].ravel()[i] / 1e9:,.1f} GB at "
        f"{r['prompt_tokens'] + r['output_tokens']:g} tokens per sequence, and "
        f"{room.ravel()[i] / 1e9:,.1f} GB is left after the weights on {r['n_gpus']:g} x "
        f"{gname}; max batch is {memory['max_batch'].ravel()[i]:g} "
        "(pass oversized='flag' to sweep past it)")


_STEPS = ("prefill", "decode", "full")
"""The passes whose roofline time takes the per-layer floor and the stack factor."""


def _weights_read(b, llm, wbytes, tokens):
    """Weight bytes one pass of ``tokens`` rows streams. [bytes]

    Every weight outside the input embeddings; for a mixture of experts, the shared
    weights and the distinct routed experts the tokens touch.
    """
    from . import kernels

    streamed = (b["params"] - b["emb"]) * wbytes
    moe = llm.moe
    if moe is None:
        return streamed
    routed = moe[3] * moe[1] * moe[4] * wbytes
    expert = moe[3] * moe[4] * wbytes
    return streamed - routed + expert * kernels.distinct_experts(moe[1], moe[2], tokens)


def _zero(x) -> bool:
    """True for a scalar 0 (a feature that is off adds no array pass)."""
    return np.ndim(x) == 0 and float(x) == 0.0


def _pass_s(b, llm, wbytes, extra: _Extra, rows, attn_flops, kv_read, *, split: bool,
            limits: bool = False):
    """Roofline time [s] of one forward pass of ``rows`` token rows, and its two limits.

    gemm = 2·rows·(N' + adapters); read = weights streamed + adapters; plain roofline
    ``max((gemm + attn) / FLOP/s, (read + KV) / bytes/s)``; ``split`` (calibrated): the
    matmuls and the attention are separate kernels, ``max(gemm/F, read/BW) + max(attn/F,
    KV/BW)``; plus two all-reduces of the activations per layer in tensor parallel.
    """
    from . import kernels

    L, ng = b["n_layers"], b["n_gpus"]
    flops_s = b["u_c"] * b["peak"] * 1e12 * ng             # achieved FLOP/s of the replica
    bytes_s = b["u_bw"] * b["bw"] * ng                     # achieved bytes/s of the replica
    dense = b["active"] - b["emb"]
    gemm = 2.0 * rows * (dense if _zero(extra.lora_params) else dense + extra.lora_params)
    read = _weights_read(b, llm, wbytes, rows)
    if not _zero(extra.lora_read):
        read = read + extra.lora_read
    t_mem: Any = None
    t_cmp: Any = None
    if limits or not split:
        t_mem, t_cmp = (read + kv_read) / bytes_s, (gemm + attn_flops) / flops_s
    if split:
        t = np.maximum(gemm / flops_s, read / bytes_s) + np.maximum(attn_flops / flops_s,
                                                                    kv_read / bytes_s)
    else:
        t = np.maximum(t_mem, t_cmp)
    if np.any(ng > 1):  # all_reduce_seconds is linear in the bytes: per row, plus a latency
        per_row = kernels.all_reduce_seconds(b["d_model"] * 2.0, ng, b["link"])
        t = t + 2.0 * L * (per_row * rows + np.where(ng > 1, b["ar_lat"], 0.0))
    return t, t_mem, t_cmp


def _llm_times(b, llm, wbytes, kv_tok, extra: _Extra, *, split: bool = False,
               feat_chunked: bool = False) -> dict:
    """The roofline times [s] of the passes an estimate is made of, and the decode limits.

    prefill: B·P(1 - h) rows, attention 2·B·L·P²·d·(1 - h²), the cached KV read; decode:
    seqs·r rows (r = k + 1 verified with speculation), attention 4·rows·L·c·d, KV read
    B·c·kv (c = P + O/2); full (chunked prefill): the decode rows plus T - B·r prompt
    tokens at attention 2·L·d·P(1 + h) each. N' = active - input embeddings.
    """
    from . import engine_features as engine

    L, dm = b["n_layers"], b["d_model"]
    B, P, Q, nb, h = (b["batch_size"], b["prompt_tokens"], b["output_tokens"], b["beams"],
                      b["hit"])
    if _zero(h):  # no prefix cache: the whole prompt, nothing cached to read
        prefill, _, _ = _pass_s(b, llm, wbytes, extra, B * P,
                                B * engine.prefill_attention_flops(L, dm, P), 0.0, split=split)
    else:
        prefill, _, _ = _pass_s(b, llm, wbytes, extra, B * P * (1.0 - h),
                                B * engine.prefill_attention_flops(L, dm, P, h),
                                B * h * P * kv_tok, split=split)
    seqs = B * nb                                          # sequences decoding together
    ctx = P + Q / 2.0                                      # mean context while decoding
    if np.all(nb == 1):
        kv_read = B * kv_tok * ctx
    else:  # the prompt's KV once per request, each beam's generated KV
        kv_read = kv_tok * (seqs * (Q / 2.0) + B * P)
    rows = seqs * extra.rows
    attn = rows * 4.0 * L * ctx * dm
    decode, t_mem, t_cmp = _pass_s(b, llm, wbytes, extra, rows, attn, kv_read, split=split,
                                   limits=True)
    out = {"prefill": prefill, "decode": decode, "t_mem": t_mem, "t_cmp": t_cmp}
    if feat_chunked:  # a full chunked step: the decode rows and a chunk of prompts
        chunk = np.maximum(b["budget"] - rows, 0.0)
        new = P * (1.0 - h)
        prompts_read = np.maximum(chunk / new, 1.0) * P * (1.0 + h) / 2.0 * kv_tok
        out["full"] = _pass_s(b, llm, wbytes, extra, rows + chunk,
                              attn + chunk * 2.0 * L * dm * P * (1.0 + h),
                              kv_read + prompts_read, split=split)[0]
    return out


def _request_rates(ttft, tpot, tokens_per_s, batch_size, output_tokens):
    """A request's latency [s], the replica's output tokens/s and requests/s.

    ``latency = TTFT + (O - 1) TPOT``; a static batch (``tokens_per_s`` None) prefills, then
    decodes: ``B O / latency`` tokens/s; requests/s ``= tokens/s / O``.
    """
    latency = ttft + (output_tokens - 1.0) * tpot
    if tokens_per_s is None:
        tokens_per_s = batch_size * output_tokens / latency
    return latency, tokens_per_s, tokens_per_s / output_tokens


def _serve_rates(feat, b, extra: _Extra, t: dict, oversized: str) -> tuple:
    """TTFT and TPOT [s], output tokens/s and where the schedule is sustained.

    From the passes and the features (:mod:`costkit.engine`); tokens/s is None for the
    static batch (the caller takes it from the latency).
    """
    from . import engine_features as engine

    B, P, Q = b["batch_size"], b["prompt_tokens"], b["output_tokens"]
    s = feat.speculation
    k = 0.0 if s is None else float(s.draft_tokens)
    E = 1.0 if s is None else engine.tokens_per_step(b["accept"], k)
    draft = extra.draft_step
    if isinstance(draft, tuple):                            # an MTP head: its share of layers
        draft = t["decode"] * draft[1] / b["n_layers"]
    if not feat.chunked_prefill:
        if s is None:
            return t["prefill"], t["decode"], None, True
        tpot = (t["decode"] + k * draft) / E
        return t["prefill"] + extra.draft_ttft, tpot, None, True
    new = P * (1.0 - b["hit"])
    _x, share, chunks = engine.chunked_schedule(new, B, Q / E, B * extra.rows, b["budget"])
    sustained = share <= 1.0
    if oversized == "raise" and not sustained.all():
        i = int(np.flatnonzero(~sustained.ravel())[0])
        r = {key: np.broadcast_to(v, sustained.shape).ravel()[i] for key, v in b.items()}
        raise ValueError(
            f"chunked prefill cannot sustain batch {r['batch_size']:g}: its {r['batch_size']:g}"
            f" decode rows and the {r['prompt_tokens']:g}-token prompts of the requests that "
            f"replace finished ones need more than the {r['budget']:g}-token budget per step; "
            "raise token_budget, lower batch_size, or pass oversized='flag'")
    f = np.minimum(share, 1.0)
    step = f * t["full"] + (1.0 - f) * t["decode"]
    tpot = (step + k * draft) / E
    ttft = np.where(np.isfinite(chunks), chunks, 1.0) * t["full"] + extra.draft_ttft
    return ttft, tpot, B / tpot, sustained


def _llm_assumptions(llm, hw, d, wbytes, kv_note, kvbytes, usable, ar_lat, active_params):
    moe = llm.moe
    return {
        "roofline": "prefill: max(FLOPs, weight bytes); decode step: max(weights + KV bytes, "
                    "FLOPs); attention FLOPs 2·L·P²·d (causal prefill), 4·L·c·d per token; "
                    "the input embedding table is held in memory but neither multiplied nor "
                    "streamed (2·N' FLOPs and N' weights read per token, N' = N - embeddings)",
        **hw.notes,
        "weights": f"{d}, {wbytes:g} bytes per parameter",
        "kv_cache": f"{kv_note}, {kvbytes:g} bytes per element; " + (
            f"latent attention: {llm.latent:g} values per layer" if llm.latent else
            "2 x layers x KV heads x head dim"),
        "memory": f"{float(np.max(usable)):.0%} of GPU memory (labels read as GiB) for weights "
                  "and KV cache; activations and CUDA context in the rest; results in GB = 1e9 "
                  "bytes",
        "tensor_parallel": "weights, KV, FLOPs and bandwidth split evenly over n_gpus; two "
                           "ring all-reduces of the activations (2 bytes x d per token) per "
                           "layer over half the catalog's two-way interconnect, not "
                           "overlapped" + ("" if float(np.max(ar_lat)) else
                                           "; per-call latency not counted"),
        "mixture_of_experts": ("none (dense)" if moe is None and active_params is None else
                               "FLOPs from the active parameters; every weight read each step "
                               "(an upper bound)" if moe is None else
                               f"FLOPs from {moe[0]:.3g} active parameters; weights from all "
                               f"{float(np.max(llm.params)):.3g}; a step reads the expected "
                               f"distinct experts of its tokens, E(1 - (1 - k/E)^T), "
                               f"E = {moe[1]:g}, k = {moe[2]:g}"),
        "beams": "prompt prefilled once per request; n_beams sequences decode, each with its "
                 "own generated KV; output_tokens returned per request",
        "decode_context": "mean context P + O/2 during decoding",
        "batching": "the batch prefills together, then decodes together (continuous batching "
                    "at a steady concurrency of batch_size)",
        "cost_basis": "replica kept busy; USD per 1M output tokens includes the prefill time",
    }


# --------------------------------------------------------------------------- encoders


_RANGED_ENCODER = ("sequences_per_second", "batch_latency_s", "requests_per_second",
                   "request_latency_s", "usd_per_million_sequences", "usd_per_1k_queries")
_RANGED_RECOMMENDER = ("samples_per_second", "batch_latency_s", "requests_per_second",
                       "request_latency_s", "usd_per_1k_requests")
_TIMES = {"ttft_s", "tpot_s", "batch_latency_s", "request_latency_s", "usd_per_million_tokens",
          "usd_per_million_sequences", "usd_per_1k_queries", "usd_per_1k_requests"}
"""Figures that fall as throughput rises (their low comes from the high throughput)."""


@dataclass(frozen=True, repr=False)
class EncoderEstimate(_Table):
    """Throughput and cost of an encoder on one GPU (BERT-class, cross-encoder re-ranking).

    ``sequences_per_second`` is per GPU [1/s]; ``batch_latency_s`` the time
    of one batch [s]; a query scores ``candidates_per_query`` sequences, so
    ``requests_per_second`` (queries) = sequences per second / k and
    ``request_latency_s`` is the time to score one query's candidates in
    batches of ``batch_size`` [s]. Money: ``usd_per_1k_queries``,
    ``usd_per_million_sequences`` [USD], for a GPU kept busy.
    """

    model: str
    gpu: Names
    dtype: str
    seq_len: Floats
    batch_size: Floats
    candidates_per_query: Floats
    params: Floats
    flops_per_sequence: Floats
    sequences_per_second: Floats
    batch_latency_s: Floats
    requests_per_second: Floats
    request_latency_s: Floats
    bound: Names
    usd_per_gpu_hour: Floats
    usd_per_replica_hour: Floats
    usd_per_million_sequences: Floats
    usd_per_1k_queries: Floats
    n_gpus: float = 1.0
    throughput_low_factor: Floats = 1.0
    throughput_high_factor: Floats = 1.0
    assumptions: dict = field(default_factory=dict)

    _primary = "sequences_per_second"
    # the nominal 80% range of each figure, read from throughput_{low,high}_factor
    sequences_per_second_low = _RangeEnd()
    sequences_per_second_high = _RangeEnd()
    batch_latency_s_low = _RangeEnd()
    batch_latency_s_high = _RangeEnd()
    requests_per_second_low = _RangeEnd()
    requests_per_second_high = _RangeEnd()
    request_latency_s_low = _RangeEnd()
    request_latency_s_high = _RangeEnd()
    usd_per_million_sequences_low = _RangeEnd()
    usd_per_million_sequences_high = _RangeEnd()
    usd_per_1k_queries_low = _RangeEnd()
    usd_per_1k_queries_high = _RangeEnd()
    _html_rows = (("sequence length", "seq_len", "tokens"), ("batch", "batch_size", "sequences"),
                  ("throughput", "sequences_per_second", "sequences/s per GPU"),
                  ("batch latency", "batch_latency_s", "s"),
                  ("candidates per query", "candidates_per_query", ""),
                  ("query latency", "request_latency_s", "s"),
                  ("cost", "usd_per_1k_queries", "USD per 1,000 queries"))
    _columns = (
        "gpu", "seq_len", "batch_size", "candidates_per_query", "flops_per_sequence",
        "sequences_per_second", "batch_latency_s", "requests_per_second",
        "request_latency_s", "bound", "usd_per_gpu_hour", "usd_per_million_sequences",
        "usd_per_1k_queries", *(f"{k}_{e}" for k in _RANGED_ENCODER for e in ("low", "high")),
    )  # fmt: skip

    def __repr__(self) -> str:
        if not self.is_scalar:
            return (f"EncoderEstimate over {np.size(self.sequences_per_second)} configurations: "
                    f"{np.min(self.sequences_per_second):,.0f} to "
                    f"{np.max(self.sequences_per_second):,.0f} sequences/s per GPU; .to_frame()")
        a = self.assumptions
        return "\n".join([
            f"EncoderEstimate: {self.model or f'{self.params:.3g} params'} on {self.gpu}, "
            f"{self.dtype}, {self.seq_len:g} tokens, batch {self.batch_size:g} "
            f"({self.bound}-bound)",
            f"  {self.sequences_per_second:,.0f} sequences/s per GPU; batch in "
            f"{self.batch_latency_s * 1e3:,.2f} ms",
            f"  {self.candidates_per_query:g} candidates per query: "
            f"{self.requests_per_second:,.1f} queries/s, {self.usd_per_1k_queries:.3g} USD per "
            f"1,000 queries "
            f"at {self.usd_per_gpu_hour:,.2f} USD per GPU-hour (kept busy)",
            f"  80% range: {self.sequences_per_second_low:,.0f}-"
            f"{self.sequences_per_second_high:,.0f} sequences/s, "
            f"{self.usd_per_1k_queries_low:.3g}-{self.usd_per_1k_queries_high:.3g} USD per "
            "1,000 queries",
            f"  efficiency: {a['efficiency']}",
            f"  utilisation: compute {a['compute_utilization']}, bandwidth "
            f"{a['bandwidth_utilization']}; price: {a['price']}",
            *_feature_lines(a),
            *warning_lines(a),
        ])


def _feature_lines(a: dict) -> list[str]:
    """The engine features a result prints when they are on (:mod:`costkit.engine`)."""
    on = [k for k in ("prefix_caching", "speculative_decoding", "multi_lora")
          if a.get(k, "off") != "off"]
    if a.get("batching", "").startswith("chunked"):
        on.append("batching")
    return [f"  {k.replace('_', ' ')}: {a[k]}" for k in on]


def _embedding_params(m) -> float:
    """Parameters of a catalog model's input embeddings, which cost no FLOPs. [count]

    Encoders: (vocabulary + positions + 2 token types) x d_model (BERT);
    decoders: vocabulary x d_model when the output head is a separate matrix
    (the head does multiply), 0 when it is tied to the embeddings (the one
    matrix is read and multiplied by the head every step: Qwen2.5-1.5B).
    A decoder is untied when its weights outside the blocks hold two
    vocabulary x d_model matrices.
    """
    if m.architecture == "decoder":
        table = float((m.vocab_size or 0) * m.d_model)
        outside = float(m.params) - m.n_layers * m.layer_params if m.n_heads else 0.0
        return table if outside >= 1.5 * table else 0.0
    return float(((m.vocab_size or 0) + (m.max_seq_len or 0) + 2) * m.d_model)


def encoder_estimate(model: str | None = None, *, params: Floats | None = None,
                     n_layers: Floats | None = None, d_model: Floats | None = None,
                     embedding_params: Floats | None = None, seq_len: Floats = 128,
                     gpu: NamesLike = "H100-SXM", dtype: str = "fp16", batch_size: Floats = 64,
                     candidates_per_query: Floats = 1, usd_per_gpu_hour: Floats | None = None,
                     pricing: str = "on_demand", cloud: str | None = None,
                     compute_utilization: Floats | None = None,
                     bandwidth_utilization: Floats | None = None, calibrated: bool = True,
                     efficiency: ServingEfficiency | None = None,
                     usable_memory_fraction: Floats = USABLE_MEMORY_FRACTION,
                     max_positions: Floats | None = None, effective_seq_len: Floats | None = None,
                     gpu_path: StrPath | None = None, price_path: StrPath | None = None,
                     model_path: StrPath | None = None) -> EncoderEstimate:
    """Throughput, latency and cost of a Transformer encoder on one GPU.

    FLOPs per sequence of s tokens = 2·N'·s + 4·L·s²·d, with N' the
    parameters outside the embedding tables (lookups cost no FLOPs) and the
    second term bidirectional attention (QK^T and AV). A batch takes the
    longer of its FLOPs at ``compute_utilization`` x peak and one read of the
    weights at ``bandwidth_utilization`` x bandwidth.

    Parameters
    ----------
    model : str, optional
        An encoder in the model catalog (``"bert-base"``, ``"minilm"``).
    params, n_layers, d_model : numeric, optional
        Instead of ``model``: parameters and, for the attention term, the
        shape (without it the FLOPs are 2·N·s). [count]
    embedding_params : numeric, optional
        Parameters in embedding tables; default from the catalog
        ((vocab + positions + 2 token types) x d_model), 0 with ``params``.
    seq_len : numeric
        Tokens per sequence (query + candidate for a cross-encoder). [tokens]
    gpu : str or array of str
        Accelerator (matched as in :func:`costkit.gpu`); an array compares GPUs.
    dtype : str
        Weight data type: fp16, bf16, fp8, int8 or int4 (weight-only).
    batch_size : numeric
        Sequences per batch. [count]
    candidates_per_query : numeric
        Candidates k: sequences scored per query (1 for query understanding, e.g. 100
        for re-ranking the top 100). [count]
    usd_per_gpu_hour : numeric, optional
        Your price; default the catalog's median on-demand offer.
    compute_utilization, bandwidth_utilization : numeric, optional
        [unitless, 0 to 1]; default the calibrated model's (u_c at B·s rows).
    calibrated : bool, default True
        Apply the serving-efficiency model (as in :func:`estimate`).
    efficiency : ServingEfficiency, optional
        Your own model (as in :func:`estimate`).
    usable_memory_fraction : numeric
        Share of the GPU's memory for the weights and one layer's activations
        of the batch [0 to 1]; a batch that does not fit raises ``ValueError``
        naming the largest that does.
    max_positions : numeric, optional
        The encoder's position limit [tokens]; ``seq_len`` beyond it raises.
        A catalog model's own (512 for BERT) by default.
    effective_seq_len : numeric, optional
        Mean tokens actually computed per sequence when the engine skips
        padding (variable-length kernels: TensorRT, FasterTransformer,
        MLPerf's BERT) [tokens, <= seq_len]; default ``seq_len`` (padded).
        The FLOPs use it (the attention term at its square, which
        undercounts a spread of lengths a little); memory keeps ``seq_len``.
    pricing : str, default 'on_demand'
        ``on_demand`` or ``spot`` price from the catalog.
    cloud : str, optional
        Restrict catalog prices to one provider; default all clouds.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.
    model_path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.

    Returns
    -------
    EncoderEstimate
        Sequences per second, batch and request latency, the bound (compute or memory) and
        the cost per million sequences and per 1,000 queries, with the assumptions.

    Examples
    --------
    BERT-base, 128 tokens, batch 128 on an A100-40GB: NVIDIA's TensorRT
    demo measures 7,930 sequences/s in fp16 (16.14 ms a batch).

    >>> e = encoder_estimate("bert-base", seq_len=128, batch_size=128, gpu="A100-40GB",
    ...                      usd_per_gpu_hour=2.0)
    >>> round(e.sequences_per_second, -2)
    8300.0
    """
    from .catalog import bytes_per_element, normalize_dtype

    label, n, L, dm, positions, heads, emb = _encoder_shape(
        model, params, n_layers, d_model, embedding_params, model_path)
    d = normalize_dtype(dtype)
    cal = _calibration(calibrated, efficiency, compute_utilization, bandwidth_utilization)
    hw = _hardware(gpu, d, usd_per_gpu_hour=usd_per_gpu_hour, cloud=cloud, pricing=pricing,
                   compute_utilization=cal.u_c, bandwidth_utilization=cal.u_bw,
                   price_path=price_path, gpu_path=gpu_path)
    s = _encoder_seq_len(seq_len, max_positions if max_positions is not None else positions,
                         label)
    B = whole("batch_size", as_quantity("batch_size", batch_size, allow_zero=False))
    k = whole("candidates_per_query", as_quantity("candidates_per_query", candidates_per_query,
                                                  allow_zero=False))
    s_eff = s if effective_seq_len is None else as_quantity("effective_seq_len",
                                                            effective_seq_len, allow_zero=False)
    b = dict(zip(("n", "emb", "L", "dm", "peak", "bw", "price", "u_c", "u_bw", "s", "B", "k",
                  "mem", "s_eff"),
                 broadcast(n=n, emb=emb, L=L, dm=dm, peak=hw.peak, bw=hw.bw, price=hw.price,
                           u_c=hw.u_c, u_bw=hw.u_bw, s=s, B=B, k=k, mem=hw.mem, s_eff=s_eff),
                 strict=True))
    if (b["s_eff"] > b["s"]).any():
        raise ValueError("effective_seq_len is the unpadded mean and cannot exceed seq_len")
    usable = as_fraction("usable_memory_fraction", usable_memory_fraction, allow_zero=False)
    mem_note = _encoder_fits(b, bytes_per_element(d), heads, label, usable)
    stack, per_layer = 1.0, 0.0
    if cal.mode == "calibrated":  # fitted utilisations, a fixed cost per layer, the stack
        b["u_c"] = cal.eff.compute_utilization(d)
        b["u_bw"] = cal.eff.bandwidth_max
        stack, per_layer = cal.eff.stack_factor("encoder"), cal.eff.layer_overhead_s
    gemm_seq, attn_seq = _encoder_flops(b["n"], b["emb"], b["L"], b["dm"], b["s_eff"])
    fl_seq = gemm_seq + attn_seq
    flops_s = b["u_c"] * b["peak"] * 1e12
    t_mem = (b["n"] - b["emb"]) * bytes_per_element(d) / (b["u_bw"] * b["bw"])
    timing = dict(gemm_seq=gemm_seq, attn_seq=attn_seq, flops_s=flops_s, t_mem=t_mem,
                  n_layers=b["L"], layer_floor_s=per_layer, stack=stack,
                  calibrated=cal.mode == "calibrated")
    t_cmp = b["B"] * fl_seq / flops_s
    t_batch = _encoder_batch_time(b["B"], **timing)
    seq_s = b["B"] / t_batch
    q_s = seq_s / b["k"]
    q_latency = np.ceil(b["k"] / b["B"]) * np.where(
        b["k"] < b["B"], _encoder_batch_time(b["k"], **timing), t_batch)
    ref = [x for x in (params, seq_len, batch_size, candidates_per_query, usd_per_gpu_hour,
                       None if isinstance(gpu, str) else gpu) if x is not None]

    def out(x):
        return wrap_like(x, *ref)

    bound = np.where(t_mem > t_cmp, "memory", "compute")
    assumptions = _encoder_assumptions(hw.notes, d, attention=model is not None
                                       or n_layers is not None,
                                       padded=effective_seq_len is None, mem_note=mem_note)
    lo, hi, range_note = _range_factors(cal, hw)
    assumptions.update(_efficiency_notes(cal, "encoder", range_note))
    usd_seq = b["price"] / (seq_s * 3600.0) * 1e6
    usd_q = b["price"] / (q_s * 3600.0) * 1e3
    return EncoderEstimate(
        model=label, gpu=gpu_names_like(hw.names, hw.inv, gpu, seq_s.shape), dtype=d,
        seq_len=out(b["s"]), batch_size=out(b["B"]), candidates_per_query=out(b["k"]),
        params=out(b["n"]), flops_per_sequence=out(fl_seq), sequences_per_second=out(seq_s),
        batch_latency_s=out(t_batch), requests_per_second=out(q_s),
        request_latency_s=out(q_latency), bound=str(bound) if bound.ndim == 0 else bound,
        usd_per_gpu_hour=out(b["price"]), usd_per_replica_hour=out(b["price"]),
        usd_per_million_sequences=out(usd_seq), usd_per_1k_queries=out(usd_q),
        throughput_low_factor=out(lo), throughput_high_factor=out(hi),
        assumptions=assumptions,
    )  # fmt: skip


def _encoder_shape(model, params, n_layers, d_model, embedding_params, model_path):
    """An encoder's label, N, L, d, positions, heads and embedding parameters (fewer than N).

    From the model table (``model=``), or from ``params=`` and an optional shape.
    """
    label, n, L, dm, positions, heads, emb = _encoder_table_or_shape(
        model, params, n_layers, d_model, embedding_params, model_path)
    emb = as_quantity("embedding_params", 0.0 if emb is None else emb)
    if (np.asarray(emb) >= np.asarray(n)).any():
        raise ValueError("embedding_params must be smaller than params")
    return label, n, L, dm, positions, heads, emb


def _encoder_table_or_shape(model, params, n_layers, d_model, embedding_params, model_path):
    if model is not None:
        from .catalog import model as lookup

        if params is not None or n_layers is not None or d_model is not None:
            raise ValueError("give model= or params= with the shape, not both")
        m = lookup(model, path=model_path)
        if m.architecture != "encoder" or m.n_layers is None or m.d_model is None:
            raise ValueError(f"{m.name} is not a Transformer encoder ({m.architecture}); use "
                             "estimate() for decoder LLMs and recommender_estimate() for DLRM")
        emb = _embedding_params(m) if embedding_params is None else embedding_params
        return (m.name, float(m.params), float(m.n_layers), float(m.d_model), m.max_seq_len,
                m.n_heads, emb)
    if params is None:
        raise TypeError("encoder_estimate() needs model= or params=")
    if (n_layers is None) != (d_model is None):
        raise ValueError("the attention term needs n_layers and d_model together")
    n = as_quantity("params", params, allow_zero=False)
    L = 0.0 if n_layers is None else as_quantity("n_layers", n_layers, allow_zero=False)
    dm = 0.0 if d_model is None else as_quantity("d_model", d_model, allow_zero=False)
    return "", n, L, dm, None, None, embedding_params


def _encoder_assumptions(hw_notes: dict, dtype: str, *, attention: bool, padded: bool,
                         mem_note: str) -> dict:
    """What an encoder estimate assumed, for its result."""
    return {
        "flop_count": "2·(N - embeddings)·s + 4·L·s²·d per sequence (bidirectional attention)"
                      + ("" if attention else
                         "; attention term left out: pass n_layers and d_model"),
        **hw_notes,
        "weights": f"{dtype}, read once per batch",
        "sequence_length": ("padded: every sequence computes seq_len tokens" if padded else
                            "FLOPs at effective_seq_len (padding skipped); memory at seq_len"),
        "query_latency": "a query's k candidates scored in ceil(k / batch) batches",
        "memory": mem_note,
        "cost_basis": "GPU kept busy; tokenisation and candidate retrieval not counted",
    }  # fmt: skip


def _encoder_seq_len(seq_len, positions, label: str):
    """The sequence length, a whole number that fits the encoder's positions (if known)."""
    s = whole("seq_len", as_quantity("seq_len", seq_len, allow_zero=False))
    if positions is not None:
        positions = float(as_quantity("max_positions", positions, allow_zero=False))
    if positions and (s > positions).any():
        raise ValueError(f"seq_len {s.max():,.0f} exceeds {label or 'the encoder'}'s "
                         f"{positions:,.0f} positions; "
                         "truncate the query-document pair or use a longer-context encoder")
    return s


def _encoder_flops(n, emb, n_layers, d_model, seq_len):
    """FLOPs of one sequence through an encoder: its matmuls and its attention.

    ``F_gemm = 2 (N - N_emb) s`` and ``F_attn = 4 L s² d`` (bidirectional attention: every
    token attends to every token) [FLOPs].
    """
    return 2.0 * (n - emb) * seq_len, 4.0 * n_layers * seq_len ** 2 * d_model


def _encoder_batch_time(seqs, *, gemm_seq, attn_seq, flops_s, t_mem, n_layers, layer_floor_s,
                        stack, calibrated):
    """Seconds for a batch of ``seqs`` sequences.

    Roofline: ``max(B (F_gemm + F_attn) / F, t_mem)``. Calibrated: the matmuls against the
    weight reads, then attention, at least the layers' floor, at the stack's speed:
    ``step_time_s(max(B F_gemm / F, t_mem) + B F_attn / F, L, t_layer, s_stack)``.
    """
    if not calibrated:
        return np.maximum(seqs * (gemm_seq + attn_seq) / flops_s, t_mem)
    return step_time_s(np.maximum(seqs * gemm_seq / flops_s, t_mem) + seqs * attn_seq / flops_s,
                       n_layers, layer_floor_s, stack)


ENCODER_ACTIVATION_WIDTHS = 8
"""Activations alive per token in one encoder layer, in units of d_model (Q, K, V, the
attention output and the 4 x d_model FFN intermediate), plus the heads x s attention scores."""


def _encoder_fits(b, wbytes, heads, label, usable):
    """Refuse a batch whose weights and one layer's activations do not fit in one GPU."""
    mem = b["mem"] * usable
    heads = np.where(b["dm"] > 0, b["dm"] / 64.0, 0.0) if heads is None else float(heads)
    weights = b["n"] * wbytes
    per_seq = b["s"] * (ENCODER_ACTIVATION_WIDTHS * b["dm"] + heads * b["s"]) * wbytes
    room = mem - weights
    if (room <= 0).any():
        raise ValueError(f"the {np.max(weights) / 1e9:,.1f} GB of {label or 'encoder'} weights "
                         "do not fit in one GPU's usable memory")
    with np.errstate(over="ignore"):
        over = b["B"] * per_seq > room
    if over.any():
        i = int(np.flatnonzero(over.ravel())[0])
        most = np.floor(room.ravel()[i] / per_seq.ravel()[i])
        need_gb = float(b["B"].ravel()[i]) * float(per_seq.ravel()[i]) / 1e9  # inf past 1e308
        need = ("more bytes than a float holds" if not math.isfinite(need_gb) else
                f"{need_gb:,.1f} GB" if need_gb < 1e12 else f"{need_gb:.3g} GB")
        batch = float(b["B"].ravel()[i])
        batch_text = f"{batch:,.0f}" if batch < 1e15 else f"{batch:.3g}"
        raise ValueError(f"batch_size {batch_text} at seq_len {b['s'].ravel()[i]:g} "
                         f"does not fit: its activations need {need} and "
                         f"{room.ravel()[i] / 1e9:,.1f} GB is left after the weights; the "
                         f"largest batch is {most:,.0f}")
    return (f"weights + one layer's activations ({ENCODER_ACTIVATION_WIDTHS} x d_model per "
            "token plus heads x seq_len attention scores) within the usable memory of one GPU")


def encoder_throughput(model: str | None = None, *, params: Floats | None = None,
                       n_layers: Floats | None = None, d_model: Floats | None = None,
                       seq_len: Floats = 128, gpu: NamesLike = "H100-SXM", dtype: str = "fp16",
                       batch_size: Floats = 64, **kwargs: Any) -> Floats:
    """Sequences per second per GPU of a Transformer encoder. [1/s]

    The throughput of :func:`encoder_estimate` (same parameters); use that
    function for latency and the cost per 1,000 queries with k candidates.

    Parameters
    ----------
    model : str, optional
        Encoder from the catalog; or give ``params`` with the shape.
    params : numeric, optional
        Parameters, if no ``model`` is given. [count]
    n_layers : numeric, optional
        Encoder layers, with ``params``. [count]
    d_model : numeric, optional
        Encoder width, with ``params``. [count]
    seq_len : numeric, default 128
        Tokens per sequence. [tokens]
    gpu : str or array_like of str, default 'H100-SXM'
        Accelerator name from the catalog.
    dtype : str, default 'fp16'
        Weight data type.
    batch_size : numeric, default 64
        Sequences per batch. [count]
    **kwargs
        Passed on to :func:`encoder_estimate`.

    Returns
    -------
    numeric
        Sequences per second per GPU of a Transformer encoder. [1/s]

    Examples
    --------
    >>> round(encoder_throughput("bert-large", seq_len=128, batch_size=128,
    ...                          gpu="A100-40GB"), -1)
    2360.0
    """
    kwargs.setdefault("usd_per_gpu_hour", 0.0)  # throughput needs no price (nor a priced GPU)
    return encoder_estimate(model, params=params, n_layers=n_layers, d_model=d_model,
                            seq_len=seq_len, gpu=gpu, dtype=dtype, batch_size=batch_size,
                            **kwargs).sequences_per_second


# --------------------------------------------------------------------------- recommenders


@dataclass(frozen=True)
class RecommenderSpec:
    """A DLRM-style model: embedding tables, the bottom and top MLPs, the interaction.

    ``table_rows`` [rows per table], ``embedding_dim`` [values per row],
    ``bottom_mlp`` and ``top_mlp`` the layer widths including the input.
    ``lookups`` [rows pooled per table per item]: 1 each (one-hot, DLRM v1)
    by default; multi-hot models pool several (DLRM-v2: 214 rows in all).
    ``interaction``: ``"dot"`` (DLRM's pairwise dot products, top-MLP input
    F(F-1)/2 + dim with F = tables + 1) or ``"dcn"`` (DCNv2 low-rank cross
    layers over the F·dim concatenation [7]: ``dcn_layers`` of rank
    ``dcn_rank``, top-MLP input F·dim).
    """

    name: str
    table_rows: tuple
    embedding_dim: int
    bottom_mlp: tuple
    top_mlp: tuple
    source: str = ""
    lookups: tuple = ()
    interaction: str = "dot"
    dcn_layers: int = 0
    dcn_rank: int = 0

    def __post_init__(self):
        if self.interaction not in ("dot", "dcn"):
            raise ValueError(f"interaction must be 'dot' or 'dcn', got {self.interaction!r}")
        if self.lookups and len(self.lookups) != len(self.table_rows):
            raise ValueError(f"{self.name}: lookups needs one pooling factor per table "
                             f"({len(self.table_rows)}), got {len(self.lookups)}")
        if any(v <= 0 for v in self.lookups):
            raise ValueError(f"{self.name}: every table pools at least one row")
        if self.interaction == "dcn" and (self.dcn_layers <= 0 or self.dcn_rank <= 0):
            raise ValueError(f"{self.name}: a DCN interaction needs dcn_layers and dcn_rank")

    @property
    def rows_per_item(self) -> float:
        """Embedding rows gathered per scored item (all tables). [count]"""
        return float(sum(self.lookups)) if self.lookups else float(len(self.table_rows))

    @property
    def interaction_width(self) -> int:
        """F·dim: the dense feature and every table's pooled vector, concatenated."""
        return (len(self.table_rows) + 1) * self.embedding_dim

    @property
    def dcn_params(self) -> float:
        """DCNv2 low-rank cross layers: U and V (2·D·r) and a bias (D) each. [count]"""
        if self.interaction != "dcn":
            return 0.0
        w = self.interaction_width
        return float(self.dcn_layers * (2 * w * self.dcn_rank + w))

    @property
    def n_layers(self) -> int:
        """Layers one batch launches: the embedding gather, the MLPs' and the cross layers."""
        return (1 + len(self.bottom_mlp) - 1 + len(self.top_mlp) - 1
                + (self.dcn_layers if self.interaction == "dcn" else 1))

    @property
    def n_tables(self) -> int:
        """Number of embedding tables. [count]"""
        return len(self.table_rows)

    @property
    def embedding_params(self) -> float:
        """Embedding parameters: rows of all tables x embedding width. [count]"""
        return float(sum(self.table_rows)) * self.embedding_dim

    @property
    def mlp_params(self) -> float:
        """Parameters of the bottom and top MLPs (weights and biases). [count]"""
        def count(widths):
            return float(sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False)))

        return count(self.bottom_mlp) + count(self.top_mlp) + self.dcn_params

    @property
    def params(self) -> float:
        """All parameters: embeddings + MLPs. [count]"""
        return self.embedding_params + self.mlp_params

    @property
    def flops_per_sample(self) -> float:
        """Dense FLOPs per scored item [FLOP].

        2 x the MLP weights, plus the interaction: DLRM's pairwise dots
        ``2·dim·F(F-1)/2``, or DCNv2's cross layers, ``layers x (2·2·D·r + 3·D)``
        (two matmuls, then x0 * (.) + x_l), plus the pooling adds,
        ``(rows per item - tables)·dim``.
        """
        f = self.n_tables + 1
        mlp = (self.mlp_params - self.dcn_params - sum(self.bottom_mlp[1:])
               - sum(self.top_mlp[1:]))
        if self.interaction == "dcn":
            w = self.interaction_width
            inter = self.dcn_layers * (4.0 * w * self.dcn_rank + 3.0 * w)
        else:
            inter = 2.0 * self.embedding_dim * f * (f - 1) / 2
        pooling = (self.rows_per_item - self.n_tables) * self.embedding_dim
        return 2.0 * mlp + inter + pooling


DLRM_CRITEO_TB = RecommenderSpec(
    name="DLRM-CriteoTB",
    table_rows=(39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546,
                403346, 10, 2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935,
                12972, 108, 36),
    embedding_dim=128,
    bottom_mlp=(13, 512, 256, 128),
    top_mlp=(479, 1024, 1024, 512, 256, 1),
    source="MLPerf DLRM reference for Criteo Terabyte (facebookresearch/dlrm, "
           "--max-ind-range=40000000, --arch-sparse-feature-size=128, "
           "--arch-mlp-bot=13-512-256-128, --arch-mlp-top=1024-1024-512-256-1); 26 tables, "
           "187,767,399 rows; 24,036,595,969 parameters, as in data/models.csv",
)
"""The MLPerf DLRM (v1) benchmark model: 26 tables, 128-d embeddings, 96 GB in fp32."""

DLRM_V2 = RecommenderSpec(
    name="DLRM-v2",
    table_rows=(40000000, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63, 40000000, 3067956,
                405282, 10, 2209, 11938, 155, 4, 976, 14, 40000000, 40000000, 40000000, 590152,
                12973, 108, 36),
    embedding_dim=128,
    bottom_mlp=(13, 512, 256, 128),
    top_mlp=(3456, 1024, 1024, 512, 256, 1),
    lookups=(3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1),
    interaction="dcn", dcn_layers=3, dcn_rank=512,
    source="MLPerf DLRM-v2 (Inference v3.1+, Training v3.0+): mlcommons/training "
           "recommendation_v2/torchrec_dlrm (--num_embeddings_per_feature 40000000,39060,...,36 "
           "--multi_hot_sizes 3,2,1,...,1,1 --embedding_dim 128 --dense_arch_layer_sizes "
           "512,256,128 --over_arch_layer_sizes 1024,1024,512,256,1 --interaction_type=dcn "
           "--dcn_num_layers=3 --dcn_low_rank_dim=512); Criteo 1TB with synthetic multi-hot",
)
"""MLPerf's current recommender: DCNv2 interaction, 214 multi-hot rows per item, 32 MFLOP."""


@dataclass(frozen=True, repr=False)
class RecommenderEstimate(_Table):
    """Memory, GPUs, throughput and cost of serving a DLRM-style recommender.

    ``tables_gb`` [GB] and ``min_gpus`` (GPUs whose usable memory holds the
    tables, sharded, plus a copy of the MLPs on each); ``samples_per_second``
    is items scored per second by the whole replica of ``n_gpus`` [1/s];
    a request ranks ``candidates_per_request`` items, so
    ``requests_per_second`` = samples / k and ``usd_per_1k_requests`` [USD].
    """

    spec: RecommenderSpec
    gpu: Names
    dtype: str
    n_gpus: Floats
    min_gpus: Floats
    batch_size: Floats
    candidates_per_request: Floats
    tables_gb: Floats
    mlp_gb: Floats
    memory_per_gpu_gb: Floats
    flops_per_sample: float
    bytes_per_sample: float
    samples_per_second: Floats
    batch_latency_s: Floats
    requests_per_second: Floats
    request_latency_s: Floats
    bound: Names
    usd_per_gpu_hour: Floats
    usd_per_replica_hour: Floats
    usd_per_1k_requests: Floats
    throughput_low_factor: Floats = 1.0
    throughput_high_factor: Floats = 1.0
    assumptions: dict = field(default_factory=dict)

    _primary = "samples_per_second"
    # the nominal 80% range of each figure, read from throughput_{low,high}_factor
    samples_per_second_low = _RangeEnd()
    samples_per_second_high = _RangeEnd()
    batch_latency_s_low = _RangeEnd()
    batch_latency_s_high = _RangeEnd()
    requests_per_second_low = _RangeEnd()
    requests_per_second_high = _RangeEnd()
    request_latency_s_low = _RangeEnd()
    request_latency_s_high = _RangeEnd()
    usd_per_1k_requests_low = _RangeEnd()
    usd_per_1k_requests_high = _RangeEnd()
    _html_rows = (("GPUs per replica", "n_gpus", ""), ("tables", "tables_gb", "GB"),
                  ("throughput", "samples_per_second", "items/s"),
                  ("batch latency", "batch_latency_s", "s"),
                  ("items per request", "candidates_per_request", ""),
                  ("cost", "usd_per_1k_requests", "USD per 1,000 requests"))
    _columns = (
        "gpu", "n_gpus", "min_gpus", "batch_size", "candidates_per_request", "tables_gb",
        "memory_per_gpu_gb", "samples_per_second", "batch_latency_s", "requests_per_second",
        "request_latency_s", "bound", "usd_per_gpu_hour", "usd_per_replica_hour",
        "usd_per_1k_requests", *(f"{k}_{e}" for k in _RANGED_RECOMMENDER for e in ("low", "high")),
    )  # fmt: skip

    @property
    def _model_name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        if not self.is_scalar:
            return (f"RecommenderEstimate over {np.size(self.samples_per_second)} configurations;"
                    " .to_frame()")
        a = self.assumptions
        return "\n".join([
            f"RecommenderEstimate: {self.spec.name} ({self.spec.n_tables} tables, "
            f"{self.tables_gb:,.1f} GB in {self.dtype}) on {self.n_gpus:g} x {self.gpu} "
            f"(at least {self.min_gpus:g} to hold the tables)",
            f"  {self.samples_per_second:,.0f} items scored per second ({self.bound}-bound), "
            f"batch of {self.batch_size:g} in {self.batch_latency_s * 1e3:,.2f} ms",
            f"  {self.candidates_per_request:g} items per request: "
            f"{self.requests_per_second:,.0f} requests/s, {self.usd_per_1k_requests:.3g} USD "
            f"per 1,000 requests at {self.usd_per_replica_hour:,.2f} USD per replica-hour",
            f"  80% range: {self.samples_per_second_low:,.0f}-{self.samples_per_second_high:,.0f}"
            f" items/s, {self.usd_per_1k_requests_low:.3g}-{self.usd_per_1k_requests_high:.3g} "
            "USD per 1,000 requests",
            f"  efficiency: {a['efficiency']}",
            f"  {a['sharding']}; price: {a['price']}",
            *warning_lines(a),
        ])


def recommender_estimate(spec: RecommenderSpec = DLRM_CRITEO_TB, *, gpu: NamesLike = "H100-SXM",
                         n_gpus: Floats | None = None, dtype: str = "fp16",
                         embedding_dtype: str | None = None, batch_size: Floats = 2048,
                         candidates_per_request: Floats = 100, lookups_per_table: Floats = 1,
                         usd_per_gpu_hour: Floats | None = None, pricing: str = "on_demand",
                         cloud: str | None = None,
                         compute_utilization: Floats | None = None,
                         bandwidth_utilization: Floats | None = None, calibrated: bool = True,
                         efficiency: ServingEfficiency | None = None,
                         usable_memory_fraction: Floats = USABLE_MEMORY_FRACTION,
                         gpu_path: StrPath | None = None,
                         price_path: StrPath | None = None) -> RecommenderEstimate:
    """GPUs, throughput and cost of a DLRM-style recommender ranking k items per request.

    Memory: the embedding tables (rows x dim x bytes per table) are sharded
    over the GPUs; each GPU also keeps the MLPs. Time per batch of B items on
    each GPU: the longer of the dense FLOPs (MLPs and the dot-product
    interaction) at ``compute_utilization`` x peak and the bytes (MLP weights
    once, plus ``lookups_per_table`` embedding rows per table per item) at
    ``bandwidth_utilization`` x bandwidth. GPUs work on different batches
    (data parallel for the MLPs), so a replica scores n x B items per batch time.

    Parameters
    ----------
    spec : RecommenderSpec
        The model; :data:`DLRM_CRITEO_TB` by default (MLPerf's DLRM).
    gpu : str or array of str
        Accelerator (matched as in :func:`costkit.gpu`); an array compares GPUs.
    n_gpus : numeric, optional
        GPUs per replica; default the fewest that hold the tables. [count]
    dtype : str
        MLP format (fp16, bf16, fp8, int8, fp32).
    embedding_dtype : str, optional
        Table format; default ``dtype`` (int8 and int4 tables are common).
    batch_size : numeric
        Items scored per batch per GPU. [count]
    candidates_per_request : numeric
        Items ranked per request, k. [count]
    lookups_per_table : numeric
        Rows read per table per item (multi-hot pooling factor). [count]
    usd_per_gpu_hour : numeric, optional
        Your price; default the catalog's median on-demand offer.
    pricing : str, default 'on_demand'
        ``on_demand`` or ``spot`` price from the catalog.
    cloud : str, optional
        Restrict catalog prices to one provider; default all clouds.
    compute_utilization : numeric, optional
        Share of the dense peak the MLPs reach [unitless, 0-1]; default the
        calibrated model's (u_c at B rows), 0.6 with ``calibrated=False``.
    bandwidth_utilization : numeric, optional
        Share of the memory bandwidth the lookups reach [unitless, 0-1];
        default the calibrated model's, 0.8 with ``calibrated=False``.
    calibrated : bool, default True
        Apply the serving-efficiency model (as in :func:`estimate`).
    efficiency : ServingEfficiency, optional
        Your own model (as in :func:`estimate`).
    usable_memory_fraction : numeric, default 0.9
        Share of GPU memory usable for weights, KV cache and activations. [unitless, 0-1]
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.

    Returns
    -------
    RecommenderEstimate
        GPUs per replica, memory, samples and requests per second, latency and the cost per
        1,000 requests, with the assumptions.

    Examples
    --------
    MLPerf's DLRM in fp16 holds 48 GB of tables: one H100 holds them.

    >>> r = recommender_estimate(gpu="H100-SXM", usd_per_gpu_hour=3.0)
    >>> round(r.tables_gb, 1), r.min_gpus
    (48.1, 1.0)
    """
    from .catalog import bytes_per_element, normalize_dtype

    if not isinstance(spec, RecommenderSpec):
        raise TypeError("spec must be a RecommenderSpec (e.g. costkit.serving.DLRM_CRITEO_TB)")
    if not spec.table_rows or min(spec.table_rows) <= 0 or spec.embedding_dim <= 0:
        raise ValueError(f"{spec.name}: table_rows and embedding_dim must be positive")
    d = normalize_dtype(dtype)
    ed = d if embedding_dtype is None else normalize_dtype(embedding_dtype)
    cal = _calibration(calibrated, efficiency, compute_utilization, bandwidth_utilization)
    hw = _hardware(gpu, d, usd_per_gpu_hour=usd_per_gpu_hour, cloud=cloud, pricing=pricing,
                   compute_utilization=cal.u_c, bandwidth_utilization=cal.u_bw,
                   price_path=price_path, gpu_path=gpu_path)
    mem = hw.mem
    usable = as_fraction("usable_memory_fraction", usable_memory_fraction, allow_zero=False)
    B = whole("batch_size", as_quantity("batch_size", batch_size, allow_zero=False))
    k = whole("candidates_per_request", as_quantity("candidates_per_request",
                                                    candidates_per_request, allow_zero=False))
    lk = as_quantity("lookups_per_table", lookups_per_table, allow_zero=False)
    tables_bytes, mlp_bytes, min_gpus, ng, ng_note = _recommender_gpus(spec, d, ed, mem * usable,
                                                                       n_gpus)
    keys = ("ng", "min_gpus", "peak", "bw", "price", "u_c", "u_bw", "B", "k", "lk")
    b = dict(zip(keys, broadcast(ng=ng, min_gpus=min_gpus, peak=hw.peak, bw=hw.bw,
                                 price=hw.price, u_c=hw.u_c, u_bw=hw.u_bw, B=B, k=k, lk=lk),
                 strict=True))
    _recommender_fits(spec, b, mem * usable, tables_bytes, mlp_bytes, d, ed)
    fl = spec.flops_per_sample
    gather = spec.rows_per_item * spec.embedding_dim * bytes_per_element(ed)  # bytes per item
    stack, per_layer = 1.0, 0.0
    if cal.mode == "calibrated":  # fitted utilisations, a fixed cost per layer, the stack
        b["u_c"] = cal.eff.compute_utilization(d)
        b["u_bw"] = cal.eff.bandwidth_max
        stack, per_layer = cal.eff.stack_factor("recommender"), cal.eff.layer_overhead_s
    t_cmp = b["B"] * fl / (b["u_c"] * b["peak"] * 1e12)
    t_mem = (mlp_bytes + b["B"] * b["lk"] * gather) / (b["u_bw"] * b["bw"])
    t_batch = (np.maximum(t_cmp, t_mem) if cal.mode != "calibrated" else
               _recommender_calibrated_s(b, t_cmp, mlp_bytes, gather, cal.eff.gather_max,
                                         spec.n_layers, per_layer, stack))
    samples = b["ng"] * b["B"] / t_batch
    req_s = samples / b["k"]
    replica_usd_h = b["ng"] * b["price"]
    ref = [x for x in (n_gpus, batch_size, candidates_per_request, usd_per_gpu_hour,
                       None if isinstance(gpu, str) else gpu) if x is not None]

    def out(x):
        return wrap_like(x, *ref)

    bound = np.where(t_mem > t_cmp, "memory", "compute")
    assumptions = {**_recommender_assumptions(spec, ng_note, usable, d, ed), **hw.notes,
                   "spec_source": spec.source}
    lo, hi, range_note = _range_factors(cal, hw)
    assumptions.update(_efficiency_notes(cal, "recommender", range_note))
    lat = np.ceil(b["k"] / b["B"]) * t_batch
    usd_req = replica_usd_h / (req_s * 3600.0) * 1e3
    return RecommenderEstimate(
        spec=spec, gpu=gpu_names_like(hw.names, hw.inv, gpu, samples.shape), dtype=d,
        n_gpus=out(b["ng"]), min_gpus=out(b["min_gpus"]), batch_size=out(b["B"]),
        candidates_per_request=out(b["k"]), tables_gb=tables_bytes / 1e9,
        mlp_gb=mlp_bytes / 1e9, memory_per_gpu_gb=out((tables_bytes / b["ng"] + mlp_bytes) / 1e9),
        flops_per_sample=fl, bytes_per_sample=gather, samples_per_second=out(samples),
        batch_latency_s=out(t_batch), requests_per_second=out(req_s),
        request_latency_s=out(lat), bound=str(bound)
        if bound.ndim == 0 else bound, usd_per_gpu_hour=out(b["price"]),
        usd_per_replica_hour=out(replica_usd_h),
        usd_per_1k_requests=out(usd_req), throughput_low_factor=out(lo),
        throughput_high_factor=out(hi), assumptions=assumptions,
    )  # fmt: skip


def _recommender_fits(spec, b, usable_bytes, tables_bytes, mlp_bytes, dtype, emb_dtype):
    """Refuse too few GPUs for the tables, or a batch whose activations do not fit.

    A batch's activations on each GPU: the gathered rows, the interaction input and the MLP
    layers' outputs for B items, next to the MLPs and the GPU's share of the tables.
    """
    from .catalog import bytes_per_element

    short = b["ng"] < b["min_gpus"]
    if short.any():
        i = int(np.flatnonzero(short.ravel())[0])
        raise ValueError(f"{spec.name}: {tables_bytes / 1e9:,.1f} GB of {emb_dtype} tables need "
                         f"at least {b['min_gpus'].ravel()[i]:g} GPUs, got n_gpus="
                         f"{b['ng'].ravel()[i]:g}")
    per_item = ((spec.rows_per_item + 1) * spec.embedding_dim * bytes_per_element(emb_dtype)
                + (sum(spec.bottom_mlp) + sum(spec.top_mlp)) * bytes_per_element(dtype))
    left = (np.broadcast_to(np.asarray(usable_bytes, dtype=float), b["ng"].shape) - mlp_bytes
            - tables_bytes / b["ng"])
    over = b["B"] * per_item > left
    if over.any():
        i = int(np.flatnonzero(over.ravel())[0])
        raise ValueError(f"{spec.name}: batch_size {b['B'].ravel()[i]:,.0f} does not fit: its "
                         f"activations need {b['B'].ravel()[i] * per_item / 1e9:,.1f} GB per GPU "
                         f"and {max(left.ravel()[i], 0) / 1e9:,.1f} GB is left after the MLPs "
                         f"and tables; the largest batch is "
                         f"{max(np.floor(left.ravel()[i] / per_item), 0):,.0f}")


def _recommender_calibrated_s(b, t_cmp, mlp_bytes, gather_bytes, gather_max, n_layers,
                              layer_floor_s, stack):
    """A calibrated recommender batch [s]: the gathers (random rows) before the MLPs.

    ``step_time_s(max(t_cmp, W_mlp / (u_bw BW)) + B k G / (g_max BW), L, t_layer, s_stack)``
    with G the bytes gathered per item and k the lookups per table.
    """
    t_gather = b["B"] * b["lk"] * gather_bytes / (gather_max * b["bw"])
    return step_time_s(np.maximum(t_cmp, mlp_bytes / (b["u_bw"] * b["bw"])) + t_gather,
                       n_layers, layer_floor_s, stack)


def _recommender_gpus(spec, dtype, emb_dtype, usable_bytes, n_gpus):
    """Table and MLP bytes, the fewest GPUs whose usable memory holds the tables, the GPUs.

    ``n_min = ceil(W_tables / (M_usable - W_mlp))``: the tables are sharded, the MLPs on
    every GPU.
    """
    from .catalog import bytes_per_element

    tables_bytes = spec.embedding_params * bytes_per_element(emb_dtype)
    mlp_bytes = spec.mlp_params * bytes_per_element(dtype)
    room = usable_bytes - mlp_bytes
    if (np.asarray(room) <= 0).any():
        raise ValueError(f"{spec.name}'s MLPs do not fit in one GPU's usable memory")
    min_gpus = np.ceil(tables_bytes / room)
    if n_gpus is None:
        return (tables_bytes, mlp_bytes, min_gpus, min_gpus,
                "the fewest GPUs whose usable memory holds the tables")
    ng = whole("n_gpus", as_quantity("n_gpus", n_gpus, allow_zero=False))
    return tables_bytes, mlp_bytes, min_gpus, ng, "given"


def _recommender_assumptions(spec, ng_note, usable, dtype, emb_dtype) -> dict:
    """What a recommender estimate assumed (before the hardware's notes)."""
    return {
        "sharding": f"tables sharded over GPUs ({ng_note}); MLPs on every GPU; the all-to-all "
                    "of pooled embeddings between GPUs is not modelled",
        "memory": f"{float(np.max(usable)):.0%} of GPU memory (labels read as GiB) usable; "
                  f"tables in {emb_dtype}, MLPs in {dtype}",
        "flop_count": f"2 x MLP weights + {spec.interaction} interaction + pooling per item "
                      f"({spec.flops_per_sample:,.0f} FLOP)",
        "gathers": f"{spec.rows_per_item:g} rows per item x lookups_per_table, "
                   f"{spec.embedding_dim} values each, at the same bandwidth utilisation as "
                   "streaming reads",
    }  # fmt: skip
