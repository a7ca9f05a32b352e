"""Serving efficiency: the share of the roofline a serving stack reaches, fitted on benchmarks.

The roofline of :mod:`costkit.serving` says how fast a pass *could* run; a
real engine reaches a share of each roof, runs its kernels one after
another and cannot go below the launch time of its layers. costkit models
that with five physical terms and one per software stack::

    u_c        = c_max (x f_8 for fp8 / int8 matmuls)  share of the dense peak FLOP/s reached
    u_bw       = b_max (g_max for random-row gathers)  share of the peak bandwidth reached
    t_roofline = sum over the pass's kernels (matmuls, attention, gathers) of
                 max(FLOPs / (u_c·peak), bytes / (u_bw·BW)),  + 2·L·t_ar with tensor parallelism
    t_pass     = max(t_roofline, L·t_layer) / s_stack                                    [s]

for one pass (a prefill, a decode step, an encoder or recommender batch) of
a model of L layers. The matmuls stream the weights and the attention reads
the KV cache in separate kernels, so each takes its own roofline and the
pass their sum. ``t_layer`` [s] is the shortest time a layer takes (its
kernel launches and one wave of thread blocks): the floor that makes a
batch-1 encoder slower than its roofline. ``t_ar`` [s] is the latency of one
all-reduce. ``f_8`` is the share of the 8-bit tensor-core peak reached
relative to the 16-bit one (scaling, dequantisation, attention kept in 16
bits). ``s_stack`` is the software stack's speed relative to the reference
stack (NVIDIA's TensorRT-LLM, ``s = 1``): an older stack, or an encoder /
recommender engine, gets its own factor from its rows.

What a published figure counts is read from the benchmark table, never
fitted: MLPerf BERT skips padding (``effective_seq_len``: 177 of 384 tokens
in SQuAD v1.1), an MLPerf DLRM sample is a query of 270 user-item pairs
(``items_per_sample``), MLPerf GPT-J's mean lengths are shorter than its
maxima (``mean_prompt_tokens``, ``mean_output_tokens``).

Fit and ranges
--------------
:func:`fit` chooses the terms on a grid by least absolute deviations in log
throughput (one outlier moves it little), each stack factor the median log
residual of its rows. A term no row can see keeps its documented default
(the gathers at the streaming share without a recommender row, no
all-reduce latency without a tensor-parallel row). Only the evidence the
issue allows is used: ``data/serving_benchmarks.csv`` (MLPerf Inference up
to v4.0, vendor tables published before 2024-07-01); :func:`fit` refuses
rows published later. The nominal 80% range of every estimate is the 10th
to 90th percentile of the *leave-one-out* log residuals (each row predicted
by the model fitted without it), widened in quadrature for a GPU generation
(architecture) without a row by the spread between generations, and for a
vendor without a row by a further ``VENDOR_SIGMA`` (no evidence sets it: an
assumption, printed). :func:`default` is the fit on the bundled table,
stored in ``data/serving_efficiency.csv`` (the fit takes a few seconds; a
test checks that refitting gives the stored numbers).

References
----------
- [1] Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009.
- [2] See, Liu and Manning, "Get To The Point: Summarization with
  Pointer-Generator Networks", ACL 2017 (CNN/DailyMail lengths).
- [3] Zeng et al., "Boosting Distributed Training Performance of the Unpadded
  BERT Model", arXiv:2208.08124, 2022 (SQuAD v1.1 padding).
- [4] mlcommons/inference, ``recommendation/dlrm_v2`` (the aggregation trace).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from costkit.step_time import (  # re-exported: costkit.serving_efficiency is their public home
    _Z80,
    REFERENCE_STACK,
    VENDOR_SIGMA,
    ServingEfficiency,
    default,
    read,
    step_time_s,
    to_rows,
    write,
)

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["CUTOFF_DATE", "MAX_SAMPLES", "REFERENCE_STACK", "SAMPLE_COLUMNS", "VENDOR_SIGMA",
           "ServingEfficiency", "default", "fit", "fit_from_samples", "forward", "leave_one_out",
           "predict_rows", "read", "step_time_s", "synthetic_samples", "to_rows", "write"]

CUTOFF_DATE = "2024-07-01"
"""Evidence published on or after this date is kept out of the fit (it measures the model
forward)."""


# the grid the fit searches: c_max, t_layer [s], b_max, f_8
_GRID_C = np.linspace(0.3, 1.0, 8)
_GRID_8 = np.linspace(0.6, 1.0, 5)
_GRID_B = np.linspace(0.5, 1.0, 8)
_GRID_L = np.concatenate([[0.0], np.geomspace(1e-6, 64e-6, 7)])
_GRID_A = np.array([0.0, 3e-6, 6e-6, 12e-6, 25e-6])
_GRID_G = np.concatenate([np.geomspace(0.05, 0.6, 6), [1.0]])  # gathers / streaming


# --------------------------------------------------------------------------- predictions

_PROBE = ServingEfficiency(compute_max=1.0, layer_overhead_s=0.0, bandwidth_max=1.0)
# a model with no residuals: what the fit's own predictions pass (their range is not used), so
# fitting never asks for the default fit


def _given(v) -> bool:
    """A table cell holds a value (not NaN, NA or empty text)."""
    from .serving_evidence import _given as given

    return given(v)


def _row_roofline(row, eff: ServingEfficiency | None) -> np.ndarray:
    """A benchmark row's throughput in its metric's unit, before the stack factor.

    With ``eff`` (parameters may be arrays: a grid) the calibrated
    utilisations, stack factor 1; without, costkit's plain roofline.
    """
    from . import serving as sv

    cal = eff is not None
    kw: dict = dict(calibrated=cal, efficiency=eff if cal else _PROBE, usd_per_gpu_hour=0.0)
    if row.kind == "encoder":
        s_eff = float(row.effective_seq_len) if _given(row.effective_seq_len) else None
        e = sv.encoder_estimate(row.model, seq_len=int(row.seq_len), gpu=row.gpu,
                                dtype=row.dtype, batch_size=int(row.batch_size),
                                effective_seq_len=s_eff, **kw)
        return np.asarray(e.sequences_per_second, dtype=float)
    if row.kind == "recommender":
        spec = {"DLRM-v2": sv.DLRM_V2, "DLRM-CriteoTB": sv.DLRM_CRITEO_TB}[row.model]
        items = float(row.items_per_sample) if _given(row.items_per_sample) else 1.0
        batch = int(row.batch_size * items)  # a batch of samples holds batch x items rows
        while True:  # costkit's check holds every layer's activations: halve until it fits
            try:
                r = sv.recommender_estimate(spec, gpu=row.gpu, dtype=row.dtype,
                                            embedding_dtype="fp16", batch_size=batch, **kw)
                break
            except ValueError as exc:
                if "does not fit" not in str(exc) or batch < 2:
                    raise
                batch //= 2
        return np.asarray(r.samples_per_second, dtype=float) / float(np.max(r.n_gpus)) / items
    llm = dict(gpu=row.gpu, n_gpus=int(row.n_gpus), dtype=row.dtype,
               kv_dtype=row.kv_dtype if _given(row.kv_dtype) else None,
               prompt_tokens=_mean_or_max(row, "prompt_tokens"),
               output_tokens=_mean_or_max(row, "output_tokens"),
               n_beams=int(row.n_beams) if _given(row.n_beams) else 1,
               usable_memory_fraction=(float(row.usable_memory_fraction)
                                       if _given(row.usable_memory_fraction) else 0.9))
    batch = _row_batch(row, llm)
    est = sv.estimate(row.model, batch_size=batch, **llm, **kw)
    value = (est.tokens_per_second if row.metric == "output_tokens_per_s"
             else est.requests_per_second)
    return np.asarray(value, dtype=float)


def _mean_or_max(row, name) -> int:
    """A row's mean length where the dataset's is known, else the one the row gives. [tokens]"""
    mean = getattr(row, f"mean_{name}", None)
    if not _given(mean):
        return int(getattr(row, name))
    return int(round(float(np.asarray(mean, dtype=float))))


def _row_batch(row, llm) -> int:
    """The row's batch, or (MLPerf Offline) the largest that fits, at most 1024."""
    from . import serving as sv

    if _given(row.batch_size):
        return int(row.batch_size)
    probe = sv.estimate(row.model, batch_size=1, calibrated=False, efficiency=_PROBE,
                        usd_per_gpu_hour=0.0, **llm)
    return int(max(1, min(1024, probe.max_batch_size)))


def predict_rows(table: Frame, eff: ServingEfficiency | None = None) -> np.ndarray:
    """Predicted throughput of every benchmark row, in each row's metric.

    With ``eff`` the calibrated model (its stack factors applied; a stack it
    has no factor for gets 1, the reference); without, the plain roofline at
    costkit's default utilisations.

    Parameters
    ----------
    table : DataFrame
        Benchmark rows (:func:`costkit.validation.serving_benchmarks`).
    eff : ServingEfficiency, optional
        The model; default none (the roofline).

    Returns
    -------
    ndarray
        One prediction per row, in the row's metric unit. [1/s]

    Examples
    --------
    >>> from costkit.validation import serving_benchmarks
    >>> t = serving_benchmarks()
    >>> bool((predict_rows(t, default()) > 0).all())
    True
    """
    out = np.array([float(_row_roofline(r, eff)) for r in table.itertuples()])
    if eff is not None:
        out = out * np.array([eff.stacks.get(s, 1.0) for s in table["software"]])
    return out


# --------------------------------------------------------------------------- fit


_PARAMS = ("compute_max", "eight_bit_factor", "bandwidth_max", "layer_overhead_s",
           "all_reduce_latency_s", "gather_share")


def _grid() -> dict:
    """Every grid point's parameters, with ``gather_max`` = b_max x the gathers' share."""
    axes = np.meshgrid(_GRID_C, _GRID_8, _GRID_B, _GRID_L, _GRID_A, _GRID_G, indexing="ij")
    g = {name: a.ravel() for name, a in zip(_PARAMS, axes, strict=True)}
    g["gather_max"] = g["bandwidth_max"] * g["gather_share"]
    return g


def _model_params(grid: dict, k: int) -> dict:
    return {name: float(v[k]) for name, v in grid.items() if name != "gather_share"}


def _grid_log_predictions(table: Frame) -> np.ndarray:
    """ln(predicted) of every row (axis 0) at every grid point (axis 1), stack factor 1."""
    grid = _grid()
    del grid["gather_share"]
    probe = ServingEfficiency(**grid)
    return np.log(np.vstack([_row_roofline(r, probe) for r in table.itertuples()]))


@dataclass(frozen=True)
class _Fitted:
    """The evidence and the grid's predictions of it, ready for any subset of rows."""

    logp: np.ndarray      # ln(predicted) per row (axis 0) and grid point (axis 1)
    y: np.ndarray         # ln(published) per row
    stacks: np.ndarray
    kinds: np.ndarray
    n_gpus: np.ndarray
    grid: dict


def _fit_on(f: _Fitted, use: np.ndarray) -> tuple:
    """Best grid point and stack log-factors on the rows ``use``.

    Least absolute deviations in log throughput (one outlier moves the fit little), the
    stack factors their rows' median residual at each grid point (the reference stack's is
    0). A term no row in ``use`` can see keeps its documented default: the gathers at the
    streaming bandwidth share without a recommender row, no all-reduce latency without a
    tensor-parallel row. Returns (grid index, {stack: log factor}).
    """
    allowed = np.ones(f.logp.shape[1], bool)
    if not (f.kinds[use] == "recommender").any():
        allowed &= f.grid["gather_share"] == 1.0
    if not (f.n_gpus[use] > 1).any():
        allowed &= f.grid["all_reduce_latency_s"] == 0.0
    resid = f.y[use, None] - f.logp[use][:, allowed]     # rows x grid
    st = f.stacks[use]
    if REFERENCE_STACK not in set(st):
        raise ValueError(f"the fit needs rows of the reference stack {REFERENCE_STACK}")
    log_f = np.zeros_like(resid)
    factors = {}
    for s in np.unique(st):
        sel = st == s
        mid = np.median(resid[sel], axis=0) if s != REFERENCE_STACK else np.zeros(resid.shape[1])
        log_f[sel] = mid
        factors[s] = mid
    k_allowed = int(np.argmin(np.abs(resid - log_f).sum(axis=0)))
    k = int(np.flatnonzero(allowed)[k_allowed])
    return k, {s: float(v[k_allowed]) for s, v in factors.items()}


def _check_evidence(table: Frame) -> None:
    dates = table["published_date"].astype(str)
    late = dates >= CUTOFF_DATE
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise ValueError(f"row {i + 1} ({table['case'].iloc[i]}) was published on "
                         f"{dates.iloc[i]}, on or after the cut-off {CUTOFF_DATE}: later "
                         "figures measure the model forward and are not fitted")
    if "software" not in table or table["software"].isna().any():
        raise ValueError("every benchmark row needs its software stack (column software)")


def _residual_stats(table: Frame, loo_resid: np.ndarray) -> dict:
    """Percentiles of the LOO residuals and the spread between GPU generations."""
    from .catalog import gpu as lookup

    arch = np.array([lookup(g).architecture for g in table["gpu"]], dtype=object)
    means = [loo_resid[arch == a].mean() for a in np.unique(arch)]
    q = np.percentile(loo_resid, [10, 50, 90])
    return {"residual_low": float(q[0]), "residual_mid": float(q[1]),
            "residual_high": float(q[2]),
            "generation_sigma": float(np.std(means, ddof=1)) if len(means) > 1 else VENDOR_SIGMA,
            "architectures": tuple(sorted(set(arch))),
            "vendors": tuple(sorted({lookup(g).vendor for g in table["gpu"]}))}


def _prepare(table: Frame) -> _Fitted:
    _check_evidence(table)
    return _Fitted(logp=_grid_log_predictions(table),
                   y=np.log(table["published"].to_numpy(dtype=float)),
                   stacks=table["software"].astype(str).to_numpy(),
                   kinds=table["kind"].astype(str).to_numpy(),
                   n_gpus=table["n_gpus"].to_numpy(dtype=float), grid=_grid())


def _model(table, f: _Fitted, use, k, log_factors, resid) -> ServingEfficiency:
    grid = _grid()
    kinds = table.loc[use, ["kind", "software", "published_date"]]
    default_stack = {}
    for kind in ("llm", "encoder", "recommender"):
        rows = kinds[kinds["kind"] == kind]
        if REFERENCE_STACK in set(rows["software"]) or rows.empty:
            default_stack[kind] = REFERENCE_STACK
        else:  # the kind's newest stack
            default_stack[kind] = str(rows.sort_values("published_date")["software"].iloc[-1])
    first, last = table["published_date"].min(), table["published_date"].max()
    return ServingEfficiency(
        **_model_params(grid, k),
        stacks={s: float(np.exp(v)) for s, v in log_factors.items()},
        default_stack=default_stack, n_rows=int(np.sum(use)),
        fitted_on=f"{int(np.sum(use))} published figures from {first} to {last} "
                  f"(MLPerf Inference up to v4.0, vendor tables before {CUTOFF_DATE})",
        **_residual_stats(table.loc[use], resid))


def leave_one_out(table: Frame) -> dict:
    """Every row predicted by the model fitted without it; residuals and nested intervals.

    Returns ``loo`` (predictions), ``low`` / ``high`` (each row's 80% range
    from the *other* rows' leave-one-out residuals, widened as
    :meth:`ServingEfficiency.range_factors` does when the row's generation
    has no other row), ``in_sample`` (the fit on all rows) and ``covered``.

    Parameters
    ----------
    table : DataFrame
        Benchmark rows published before :data:`CUTOFF_DATE`.

    Returns
    -------
    dict
        Arrays aligned with the rows. [metric units]

    Examples
    --------
    >>> from costkit.validation import serving_benchmarks
    >>> r = leave_one_out(serving_benchmarks())
    >>> 0.5 < float(r["covered"].mean()) <= 1.0
    True
    """
    f = _prepare(table)
    n = len(table)
    loo = np.empty(n)
    for i in range(n):
        use = np.arange(n) != i
        k, lf = _fit_on(f, use)
        loo[i] = np.exp(f.logp[i, k] + lf.get(f.stacks[i], 0.0))
    resid = f.y - np.log(loo)
    k, lf = _fit_on(f, np.ones(n, bool))
    in_sample = np.exp(f.logp[np.arange(n), k] + np.array([lf.get(s, 0.0) for s in f.stacks]))
    from .catalog import gpu as lookup

    arch = np.array([lookup(g).architecture for g in table["gpu"]], dtype=object)
    low, high = np.empty(n), np.empty(n)
    for i in range(n):
        others = np.arange(n) != i
        q = np.percentile(resid[others], [10, 50, 90])
        means = [resid[others & (arch == a)].mean() for a in np.unique(arch[others])]
        extra = 0.0 if (arch[others] == arch[i]).any() else float(np.std(means, ddof=1))
        w_lo, w_hi = np.hypot(q[1] - q[0], _Z80 * extra), np.hypot(q[2] - q[1], _Z80 * extra)
        low[i], high[i] = loo[i] * np.exp(q[1] - w_lo), loo[i] * np.exp(q[1] + w_hi)
    pub = table["published"].to_numpy(dtype=float)
    return {"loo": loo, "in_sample": in_sample, "low": low, "high": high,
            "covered": (pub >= low) & (pub <= high), "residuals": resid}


def fit(table: Frame | None = None, *, path: StrPath | None = None) -> ServingEfficiency:
    """Fit the serving-efficiency model on published figures (default: the bundled table).

    Parameters
    ----------
    table : DataFrame, optional
        Benchmark rows in the columns of ``data/serving_benchmarks.csv``.
    path : str or Path, optional
        Or a benchmark CSV to read and validate; default the bundled table.

    Returns
    -------
    ServingEfficiency
        The parameters, stack factors and the leave-one-out ranges.

    Raises
    ------
    ValueError
        A row published on or after :data:`CUTOFF_DATE`, a row without its
        software stack, or no row of the reference stack.

    Examples
    --------
    >>> e = fit()
    >>> 0 < e.compute_max <= 1 and 0 < e.bandwidth_max <= 1
    True
    """
    from .serving_evidence import serving_benchmarks

    t = serving_benchmarks(path) if table is None else table.reset_index(drop=True)
    f = _prepare(t)
    n = len(t)
    loo_log = np.empty(n)
    for i in range(n):
        use = np.arange(n) != i
        k, lf = _fit_on(f, use)
        loo_log[i] = f.logp[i, k] + lf.get(f.stacks[i], 0.0)
    k, lf = _fit_on(f, np.ones(n, bool))
    roof = np.percentile(f.y - np.log(predict_rows(t, None)), [10, 50, 90])
    model = _model(t, f, np.ones(n, bool), k, lf, f.y - loo_log)
    return replace(model, roofline_low=float(roof[0]), roofline_mid=float(roof[1]),
                   roofline_high=float(roof[2]))


def forward(table: Frame, before: str) -> dict:
    """Fit on the rows published before ``before``, predict the rest (the forward check).

    Parameters
    ----------
    table : DataFrame
        Benchmark rows (:func:`costkit.validation.serving_benchmarks`).
    before : str
        The first publication date predicted (YYYY-MM-DD).

    Returns
    -------
    dict
        ``model`` (fitted on the earlier rows), ``rows`` (the later ones), and for them
        ``predicted``, the 80% ``low`` / ``high`` and ``covered``. [metric units]

    Examples
    --------
    >>> from costkit.validation import serving_benchmarks
    >>> r = forward(serving_benchmarks(), "2024-03-27")
    >>> sorted(r["rows"]["round"].unique()), r["model"].n_rows
    (['v4.0'], 20)
    """
    from .catalog import gpu as lookup

    t = table.reset_index(drop=True)
    early = (t["published_date"].astype(str) < before).to_numpy()
    model = fit(t[early])
    late = t[~early].reset_index(drop=True)
    pred = predict_rows(late, model)
    recs = [lookup(g) for g in late["gpu"]]
    lo, hi = model.range_factors([r.vendor for r in recs], [r.architecture for r in recs])
    pub = late["published"].to_numpy(dtype=float)
    return {"model": model, "rows": late, "predicted": pred, "low": pred * lo,
            "high": pred * hi, "covered": (pub >= pred * lo) & (pub <= pred * hi)}


# --------------------------------------------------------------------------- your own fleet

SAMPLE_COLUMNS = ("batch_size", "prompt_tokens", "output_tokens", "output_tokens_per_s_per_gpu")
"""Columns of a monitoring-sample frame for :func:`fit_from_samples`: the batch (concurrent
sequences), the mean prompt and output tokens, and the measured output tokens per second per
GPU, one row per sample (e.g. one per replica and minute)."""

MAX_SAMPLES = 5000
"""The most samples :func:`fit_from_samples` takes (the grid evaluates 432 models on each);
aggregate longer telemetry first (one row per minute and replica is plenty)."""

_FLEET_GRID = 12  # points per axis, coarse and then fine


def _sample_values(samples: Frame) -> dict:
    """The sample columns as float arrays, each value finite and > 0 (refuse with the row)."""
    missing = [c for c in SAMPLE_COLUMNS if c not in getattr(samples, "columns", ())]
    if missing:
        raise ValueError(f"samples lack the column(s) {', '.join(missing)}; give "
                         f"{', '.join(SAMPLE_COLUMNS)} (one row per monitoring sample)")
    n = len(samples)
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"samples has {n:,} rows: give 1 to {MAX_SAMPLES:,} (aggregate longer "
                         "telemetry, e.g. one row per replica and minute)")
    out = {}
    for c in SAMPLE_COLUMNS:
        try:
            v = np.asarray(samples[c], dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"samples column {c!r} must hold numbers") from None
        bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
        if bad.size:
            raise ValueError(f"samples row {int(bad[0])}, column {c!r}: {v[bad[0]]!r} is not a "
                             "finite number > 0")
        out[c] = v
    frac = np.flatnonzero(out["batch_size"] % 1)
    if frac.size:
        raise ValueError(f"samples row {int(frac[0])}, column 'batch_size': "
                         f"{out['batch_size'][frac[0]]!r} is not a whole number of sequences")
    for c in ("prompt_tokens", "output_tokens"):
        out[c] = np.round(out[c])  # mean lengths round to whole tokens
    return out


def _fleet_log_predictions(base: ServingEfficiency, c: np.ndarray, bw: np.ndarray, s: dict,
                           estimate_args: dict) -> np.ndarray:
    """ln(predicted output tokens/s per GPU), one row per grid model and one column per sample.

    One vectorised :func:`costkit.serving.estimate` over all (model, sample) pairs.
    """
    from . import serving

    g, n = c.size, s["batch_size"].size
    eff = replace(base, compute_max=np.repeat(c, n), bandwidth_max=np.repeat(bw, n))
    est = serving.estimate(efficiency=eff, batch_size=np.tile(s["batch_size"], g),
                           prompt_tokens=np.tile(s["prompt_tokens"], g),
                           output_tokens=np.tile(s["output_tokens"], g), oversized="flag",
                           usd_per_gpu_hour=1.0, **estimate_args)
    per_gpu = np.asarray(est.tokens_per_second, dtype=float) / estimate_args["n_gpus"]
    return np.log(per_gpu).reshape(g, n)


def _grid_fit(logp: np.ndarray, y: np.ndarray, c: np.ndarray, bw: np.ndarray,
              base: ServingEfficiency) -> tuple:
    """Least absolute deviations over the grid: the best index, in sample and leaving each out.

    Ties (a term the samples cannot see) go to the grid point nearest ``base``.
    """
    absdev = np.abs(y[None, :] - logp)                               # (grid, samples)
    loss = absdev.sum(axis=1)
    prior = np.hypot(np.log(c / float(base.compute_max)), np.log(bw / float(base.bandwidth_max)))
    tie = 1e-9 * (1.0 + loss.min()) * prior / (1.0 + prior.max())  # breaks exact ties only
    best = int(np.argmin(loss + tie))
    loo = np.argmin((loss[:, None] - absdev) + tie[:, None], axis=0)  # (samples,)
    return best, loo


def _seen(logp: np.ndarray, c: np.ndarray, bw: np.ndarray, best: int) -> dict:
    """Whether the samples' predictions move with each term around the fit."""
    return {"compute": bool(np.ptp(logp[bw == bw[best]], axis=0).max() > 1e-3),
            "bandwidth": bool(np.ptp(logp[c == c[best]], axis=0).max() > 1e-3)}


def fit_from_samples(samples: Frame, model: str, *, gpu: str, n_gpus: int = 1,
                     dtype: str = "fp16", kv_dtype: str | None = None,
                     base: ServingEfficiency | None = None,
                     model_path: StrPath | None = None,
                     gpu_path: StrPath | None = None) -> ServingEfficiency:
    """Fit the serving efficiency of your own fleet from its monitoring samples.

    Each sample is a measured throughput at a known operating point: batch
    ``B`` (concurrent sequences), mean prompt ``P`` and output ``O`` tokens and
    output tokens per second per GPU. The fit keeps the model's structure (the
    roofline of :mod:`costkit.serving`, the layer floor and the stack of
    ``base``) and chooses the two shares that the fleet sets, by least absolute
    deviations in log throughput (as :func:`fit`)::

        (c_max, b_max) = argmin  sum_i | ln(measured_i) - ln(predicted_i(c_max, b_max)) |

    on a 12 x 12 log grid (c_max 0.02 to 1, b_max 0.05 to 1), refined twice on 12 x
    12 grids around the best point (within x1.3, then x1.05). The range is the 10th
    to 90th percentile of the leave-one-out residuals (each sample predicted by the
    grid model that fits the others best), widened as usual for a GPU generation or
    vendor other than the fleet's. A term the samples cannot see (all memory-bound:
    no sample moves with c_max) keeps ``base``'s value, said in ``fitted_on``. A
    share only weakly seen (batch-1 samples see c_max through their prefill alone)
    is fitted but uncertain: sample the batches you will plan for.

    Parameters
    ----------
    samples : DataFrame
        One row per sample, columns :data:`SAMPLE_COLUMNS`: ``batch_size``
        [count], ``prompt_tokens`` and ``output_tokens`` [tokens, means],
        ``output_tokens_per_s_per_gpu`` [tokens/s]; at most :data:`MAX_SAMPLES`.
    model : str
        The served decoder (catalog name).
    gpu : str
        The fleet's GPU.
    n_gpus : int, default 1
        GPUs per replica (tensor parallel). [count]
    dtype, kv_dtype : str
        Weight and KV-cache formats, as in :func:`costkit.serving.estimate`.
    base : ServingEfficiency, optional
        The model whose structure is kept; default :func:`default`.
    model_path, gpu_path : optional
        Your own catalog tables.

    Returns
    -------
    ServingEfficiency
        The fleet's model: pass it as ``efficiency=`` to
        :func:`costkit.serving.estimate` (whose throughput a
        :func:`costkit.capacity.plan` takes) or :func:`costkit.engine.disaggregated`;
        :func:`write` stores it as a table, :func:`read` reads it back.

    Raises
    ------
    ValueError
        A missing column, a value that is not finite and > 0 (with its row), more than
        :data:`MAX_SAMPLES` rows, or a sample whose batch does not fit the replica's memory.

    Examples
    --------
    Samples generated at a known efficiency are recovered:

    >>> import pandas as pd
    >>> from costkit import serving
    >>> truth = replace(default(), compute_max=0.3, bandwidth_max=0.5)
    >>> s = pd.DataFrame({"batch_size": [1, 8, 64, 160], "prompt_tokens": 512,
    ...                   "output_tokens": 128})
    >>> e = serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=s.batch_size,
    ...                      efficiency=truth, usd_per_gpu_hour=1.0)
    >>> s["output_tokens_per_s_per_gpu"] = e.tokens_per_second
    >>> f = fit_from_samples(s, "llama-2-7b", gpu="H100-SXM")
    >>> bool(abs(f.compute_max / 0.3 - 1) < 0.05 and abs(f.bandwidth_max / 0.5 - 1) < 0.05)
    True
    """
    from ._checks import count
    from ._resolve import gpu_lookup

    s = _sample_values(samples)
    base = default() if base is None else base
    if not isinstance(base, ServingEfficiency):
        raise TypeError(f"base must be a ServingEfficiency, got {type(base).__name__}")
    n_gpus = count("n_gpus", n_gpus, minimum=1)
    rec = gpu_lookup(gpu, gpu_path)[1][0]
    args = dict(model=model, gpu=gpu, n_gpus=n_gpus, dtype=dtype, kv_dtype=kv_dtype,
                model_path=model_path, gpu_path=gpu_path)
    y = np.log(s["output_tokens_per_s_per_gpu"])
    axes: tuple = (np.geomspace(0.02, 1.0, _FLEET_GRID), np.geomspace(0.05, 1.0, _FLEET_GRID))
    for zoom in (1.3, 1.05, None):  # coarse, then finer around the best point
        c, bw = (a.ravel() for a in np.meshgrid(*axes, indexing="ij"))
        logp = _fleet_log_predictions(base, c, bw, s, args)
        unfit = np.flatnonzero(np.isnan(logp).all(axis=0))
        if unfit.size:
            raise ValueError(f"samples row {int(unfit[0])}: batch {s['batch_size'][unfit[0]]:g} "
                             f"of {s['prompt_tokens'][unfit[0]]:g} + "
                             f"{s['output_tokens'][unfit[0]]:g} tokens does not fit {n_gpus} "
                             f"{rec.name} in {dtype}: check model, gpu, n_gpus and dtype")
        logp = np.where(np.isnan(logp), np.inf, logp)
        best, loo = _grid_fit(logp, y, c, bw, base)
        if zoom is not None:
            axes = tuple(np.geomspace(max(v[best] / zoom, lo), min(v[best] * zoom, 1.0),
                                      _FLEET_GRID) for v, lo in ((c, 0.01), (bw, 0.02)))
    seen = _seen(logp, c, bw, best)
    cm = float(c[best]) if seen["compute"] else float(base.compute_max)
    bm = float(bw[best]) if seen["bandwidth"] else float(base.bandwidth_max)
    resid = y - logp[loo, np.arange(y.size)]
    q = np.percentile(resid, [10, 50, 90])
    kept = [k for k, v in seen.items() if not v]
    note = (f"{y.size} monitoring samples of {model} on {n_gpus} x {rec.name} ({dtype}), "
            f"batch {s['batch_size'].min():g}-{s['batch_size'].max():g}"
            + (f"; {' and '.join(kept)} share unseen by the samples: kept the base value"
               if kept else ""))
    return replace(base, compute_max=cm, bandwidth_max=bm, residual_low=float(q[0]),
                   residual_mid=float(q[1]), residual_high=float(q[2]),
                   vendors=(rec.vendor,), architectures=(rec.architecture,),
                   generation_sigma=max(float(base.generation_sigma), float(np.std(resid))),
                   n_rows=int(y.size), fitted_on=note)


def synthetic_samples(model: str, *, gpu: str, efficiency: ServingEfficiency, n: int = 500,
                      n_gpus: int = 1, batch_sizes: tuple = (1, 4, 16, 32, 64, 96),
                      prompt_tokens: tuple = (128, 512), output_tokens: tuple = (16, 64),
                      noise_sigma: float = 0.08, seed: int = 0,
                      model_path: StrPath | None = None) -> Frame:
    """Seeded monitoring samples of a fleet that runs at a known efficiency (for teaching).

    Each sample draws a batch from ``batch_sizes`` and mean lengths uniformly
    from the ``prompt_tokens`` and ``output_tokens`` ranges [tokens]; its
    throughput is :func:`costkit.serving.estimate`'s at ``efficiency`` times
    log-normal noise ``exp(N(0, noise_sigma))`` (minute-to-minute variation).

    Parameters
    ----------
    model : str
        A decoder of the catalog.
    gpu : str
        The fleet's GPU.
    efficiency : ServingEfficiency
        The efficiency the fleet really runs at (what :func:`fit_from_samples` should find).
    n : int, default 500
        Samples, 1 to :data:`MAX_SAMPLES`. [count]
    n_gpus : int, default 1
        GPUs per replica. [count]
    batch_sizes : sequence of int
        Batches the samples draw from. [count]
    prompt_tokens, output_tokens : (int, int)
        Lowest and highest mean lengths. [tokens]
    noise_sigma : float, default 0.08
        Log-sigma of the measurement noise. [unitless]
    seed : int, default 0
        Seed of the generator.
    model_path : optional
        Your own model table.

    Returns
    -------
    DataFrame
        The columns :data:`SAMPLE_COLUMNS`, one row per sample.

    Examples
    --------
    >>> s = synthetic_samples("llama-2-7b", gpu="H100-SXM", efficiency=default(), n=5)
    >>> list(s.columns) == list(SAMPLE_COLUMNS), len(s)
    (True, 5)
    """
    import pandas as pd

    from . import serving
    from ._checks import as_quantity, count

    n = count("n", n, minimum=1, maximum=MAX_SAMPLES)
    sigma = float(as_quantity("noise_sigma", noise_sigma))
    rng = np.random.default_rng(seed)
    b = rng.choice(np.asarray(batch_sizes, dtype=float), n)
    p = rng.integers(int(prompt_tokens[0]), int(prompt_tokens[1]) + 1, n)
    o = rng.integers(int(output_tokens[0]), int(output_tokens[1]) + 1, n)
    e = serving.estimate(model, gpu=gpu, n_gpus=n_gpus, batch_size=b, prompt_tokens=p,
                         output_tokens=o, efficiency=efficiency, usd_per_gpu_hour=1.0,
                         model_path=model_path)
    per_gpu = np.asarray(e.tokens_per_second, dtype=float) / n_gpus
    return pd.DataFrame({"batch_size": b, "prompt_tokens": p, "output_tokens": o,
                         "output_tokens_per_s_per_gpu": per_gpu * np.exp(rng.normal(0, sigma, n))})


def main(argv=None) -> int:
    """Refit on the bundled benchmarks and write ``data/serving_efficiency.csv``."""
    import argparse
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m costkit.serving_efficiency",
                                description=main.__doc__)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "data"
                                        / "serving_efficiency.csv"))
    args = p.parse_args(argv)
    eff = fit()
    write(eff, args.out, "costkit.serving_efficiency.fit() on data/serving_benchmarks.csv "
                         f"({eff.n_rows} published figures before {CUTOFF_DATE}); "
                         "python -m costkit.serving_efficiency writes it")
    print(f"wrote {args.out}: {eff!r}")
    return 0


if __name__ == "__main__":  # run the package's own module, not a second copy of its classes
    from costkit.serving_efficiency import main as _main

    raise SystemExit(_main())
