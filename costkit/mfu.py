"""Training efficiency: the MFU of a running step, the goodput, and the model behind them.

Published training runs report GPU-hours = GPUs x wall clock, which is

    GPU-hours = FLOPs / (MFU x goodput x dense peak x 3600) + all-to-all hours

- **MFU** (model FLOPs utilisation [1]) is the share of the dense peak that
  a *running* training step turns into model FLOPs;
- **goodput** is the share of the GPU-hours bought that run training steps
  at all: restarts after failures, checkpointing, evaluation and idle time
  are the rest (:data:`DEFAULT_GOODPUT`, with its own evidence);
- mixture-of-experts runs add the **all-to-all** time that expert
  parallelism spends moving tokens (:func:`costkit.kernels.all_to_all_bytes_per_token`).

``data/training_runs.csv`` lists published runs (each with its source and
publication date). New rows come only from publications before 2024-07-01,
so the model is always checked forward, on runs newer than its evidence.
This module fits, on their *effective* MFU (MFU x goodput), a small ridge
regression in log space on what the evidence says matters:

    log(MFU x goodput) = b0 + a[generation] + b1 x (log10 N_active - log10 peak - 8)
                         + b2 x [legacy stack]

- *generation* (``architecture`` in ``gpus.csv``): Volta, Ampere, Hopper,
  TPU v3, v4 each get an effect, shrunk towards the average (ridge), so a
  generation with one run is not fitted to that run alone, and one with no
  run (Blackwell, AMD, Trainium, ...) gets the average with a wider range;
- *model size against the accelerator*: active parameters per dense peak
  TFLOPS. Small models leave big GPUs idle: Llama-3-8B on H100 ran at half
  the MFU of Llama-3.1-405B, Pythia-70M on A100 at two thirds of Pythia-1B;
- *software stack*: runs published before 2023 (OPT, BLOOM, GLM-130B, GPT-3,
  Gopher, PaLM) predate fused attention kernels and today's checkpoint and
  restart tooling, and ran at about 0.6 of the efficiency of later runs;
  an estimate for a new run uses the current stack.

Cluster size is not a term: the table gives GPU counts for only 21 of its
33 runs. Nor is sequence length: a log sequence-length term did not lower
the leave-one-out error; long sequences enter through the attention FLOPs.

The **range** is out-of-sample: the 10th and 90th percentiles of the
leave-one-out residuals (each run predicted by the model fitted without it),
so a nominal 80% interval is measured, not assumed
(:func:`calibration`, ``make validate``).

fp8: the 16-bit MFU x the measured fp8 speed-up / the fp8-to-16-bit peak
ratio (:data:`FP8_SPEEDUP_OVER_BF16`), as before.

References
----------
- [1] Chowdhery et al., "PaLM: Scaling Language Modeling with Pathways",
  arXiv:2204.02311, 2022, Appendix B (definition of MFU).
- [2] Jiang et al., "MegaScale: Scaling Large Language Model Training to
  More Than 10,000 GPUs", arXiv:2402.15627, 2024 (effective training time
  above 90%).
- [3] The sources of each run are in the ``source`` column of
  ``data/training_runs.csv``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._tables import Column, DataFileError, Schema, bundled_path, read_table, stamp

if TYPE_CHECKING:
    import numpy as np

    from ._typing import Bools, Floats, Frame, NamesLike, NDArray, StrPath
    from .catalog import GPU

__all__ = ["DEFAULT_EXPERT_PARALLEL", "DEFAULT_GOODPUT", "FP8_SPEEDUP_OVER_BF16",
           "GOODPUT_EVIDENCE", "NETWORK_GBPS_PER_GPU", "EfficiencyModel", "MfuAssumption",
           "FORWARD_BEFORE", "MIN_FORWARD", "MIN_HISTORY", "calibration", "default_mfu",
           "efficiency_model", "forward_check", "link_bytes_per_s", "mfu_arrays",
           "training_runs"]

FP8_SPEEDUP_OVER_BF16 = {"low": 1.05, "central": 1.3, "high": 1.35}
"""End-to-end training speed-up of fp8 over bf16 (measured, not the 2x of the peaks).

central 1.3: torchtitan Llama 3 8B float8 (+25%) and TorchAO MXFP8 Llama 4
Scout (+30.2%); low 1.05: nanoGPT-scale models (Karpathy, llm.c fp8, ~+5-7%);
high 1.35: the best end-to-end figures reported for 7-70B dense models.
"""

DEFAULT_GOODPUT = 0.9
"""Share of a training job's GPU-hours that run training steps [unitless].

MegaScale (ByteDance, 12,288 GPUs, arXiv:2402.15627, 2024) reports an
effective training time above 90% with automatic fault detection and
restart. Older runs did worse (:data:`GOODPUT_EVIDENCE`); their lower goodput
is part of what the fitted legacy-stack term measures. The fitted model
predicts MFU x goodput; the step MFU it reports is that / this default, so
changing ``goodput=`` in :func:`costkit.training.estimate` moves only the
idle share.
"""

GOODPUT_EVIDENCE = (
    ("MegaScale (2024)", 0.90, "Jiang et al. 2024, arXiv:2402.15627: effective training time "
                               "rate above 90% on 12,288 GPUs"),
    ("PaLM-540B (2022)", 0.67, "Chowdhery et al. 2022, arXiv:2204.02311: 46.2% MFU while "
                               "training (Table 3) against 0.309 implied by its 8.4M "
                               "TPU v4 chip-hours for 6·N·D + attention FLOPs (Sec. 12)"),
    ("OPT-175B (2022)", 0.47, "Zhang et al. 2022, arXiv:2205.01068 Sec. 2.4: up to 147 "
                              "TFLOP/s per A100 while training (0.47 of the peak) against "
                              "0.22 implied by its 809,472 GPU-hours; its logbook records "
                              "over 100 restarts (an upper bound on the step MFU, so a "
                              "lower bound on goodput)"),
)
"""(run, goodput, source): published step efficiency against published GPU-hours."""

DEFAULT_EXPERT_PARALLEL = 8
"""Expert-parallel GPUs for a mixture-of-experts run when not given: one 8-GPU node,
capped at the number of experts; its all-to-all runs over NVLink."""

NETWORK_GBPS_PER_GPU = 50.0
"""Scale-out bandwidth per GPU [GB/s, one direction]: one 400 Gb/s InfiniBand NDR or
RoCE port per GPU (DGX H100: 8 ConnectX-7 ports for 8 GPUs). Expert parallelism over
more than one 8-GPU node moves tokens over this network instead of NVLink."""

RIDGE = 1.0
"""Ridge penalty on the fitted terms (not the intercept), on standardised columns: the
conventional 1, not tuned (0.3 and 3 move the leave-one-out error by 1-3 points)."""

MIN_RUNS_FOR_TERMS = 5
MIN_HISTORY = 8
"""Runs published earlier that a forward (out-of-time) prediction of a run needs. [count]"""
MIN_FORWARD = 10
"""Forward residuals the out-of-time range needs; with fewer, the leave-one-out range. [count]"""
"""With fewer runs (e.g. your own table of one or two runs) the model is their pooled
effective MFU (total FLOPs over total peak FLOPs), with no generation or size term."""

_REFERENCE_PARAMS = 7e9
_LEGACY_BEFORE = "2023-01-01"

RUNS_SCHEMA = Schema(
    "training run",
    (
        Column("run"),
        Column("params", "float", min=0, min_exclusive=True),
        Column("active_params", "float", required=False, min=0, min_exclusive=True,
               absent_ok=True),
        Column("tokens", "float", min=0, min_exclusive=True),
        Column("gpu"),
        Column("n_gpus", "int", required=False, min=1, absent_ok=True),
        Column("gpu_hours", "float", min=0, min_exclusive=True),
        Column("dtype"),
        Column("n_layers", "int", required=False, min=1),
        Column("d_model", "int", required=False, min=1),
        Column("seq_len", "int", required=False, min=1),
        Column("n_experts", "int", required=False, min=1, absent_ok=True),
        Column("experts_per_token", "int", required=False, min=1, absent_ok=True),
        Column("moe_layers", "int", required=False, min=1, absent_ok=True),
        Column("published", "date", required=False, absent_ok=True),
        Column("source"),
    ),
    key=("run",),
)

_SIXTEEN_BIT = ("bf16", "fp16")


@dataclass(frozen=True)
class MfuAssumption:
    """The step MFU used for an estimate, its range, the goodput and where they come from.

    ``central``, ``low`` and ``high`` are fractions of the dense peak of
    ``dtype`` reached by a running step [unitless, 0 to 1]; ``goodput`` the
    share of GPU-hours that run steps. GPU-hours use MFU x goodput.
    ``runs`` names the published runs behind it.
    """

    central: float
    low: float
    high: float
    gpu: str
    architecture: str
    dtype: str
    basis: str
    runs: tuple[str, ...] = ()
    goodput: float = DEFAULT_GOODPUT

    def __str__(self) -> str:
        return (f"MFU {self.central:.3f} (range {self.low:.3f}-{self.high:.3f}) for {self.gpu} "
                f"{self.dtype}, goodput {self.goodput:.2f}: {self.basis}")


def _sixteen_bit_peak(g) -> float:
    for d in _SIXTEEN_BIT:
        if g.tflops.get(d) is not None:
            return g.tflops[d]
    raise ValueError(f"{g.name} has no dense bf16 or fp16 peak in the catalog; pass mfu= yourself")


def link_bytes_per_s(g: GPU, expert_parallel: float) -> float:
    """One-direction bytes/s of the link an all-to-all over ``expert_parallel`` GPUs uses.

    Within one 8-GPU node: half the catalog's two-way scale-up figure
    (``interconnect_gbps``; the network's if the part has none); beyond it,
    :data:`NETWORK_GBPS_PER_GPU`.

    Parameters
    ----------
    g : GPU
        The GPU.
    expert_parallel : float
        GPUs the experts are spread over, EP. [count]

    Returns
    -------
    float
        One-direction bytes/s of the link an all-to-all over ``expert_parallel`` GPUs uses.

    Examples
    --------
    Within a node the all-to-all runs over NVLink (900 GB/s both ways); beyond it, the network.

    >>> from costkit.catalog import gpu
    >>> link_bytes_per_s(gpu("H100-SXM"), 8) / 1e9, link_bytes_per_s(gpu("H100-SXM"), 64) / 1e9
    (450.0, 50.0)
    """
    if expert_parallel <= DEFAULT_EXPERT_PARALLEL:
        return (g.interconnect_gbps or 2 * NETWORK_GBPS_PER_GPU) / 2.0 * 1e9
    return NETWORK_GBPS_PER_GPU * 1e9


@functools.lru_cache(maxsize=8)
def _load_runs(path: str, mtime: float, gpu_path: str | None):
    import numpy as np
    import pandas as pd

    from . import kernels
    from .catalog import gpu, normalize_dtype

    df = read_table(path, RUNS_SCHEMA)
    names, archs, peaks, peak16s, links = [], [], [], [], []
    for i, row in enumerate(df.itertuples()):
        def fail(column, problem, i=i):
            raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column '{column}': {problem}")

        try:
            g = gpu(row.gpu, path=gpu_path)
        except KeyError as exc:
            fail("gpu", str(exc))
        try:
            peak = g.peak_tflops(normalize_dtype(row.dtype))
            peak16 = _sixteen_bit_peak(g)
        except ValueError as exc:
            fail("dtype", str(exc))
        names.append(g.name)
        archs.append(g.architecture or g.name)
        peaks.append(peak)
        peak16s.append(peak16)
        ep = 1 if pd.isna(row.n_experts) else min(int(row.n_experts), DEFAULT_EXPERT_PARALLEL)
        links.append(link_bytes_per_s(g, ep))
    moe_cols = ["n_experts", "experts_per_token", "moe_layers", "active_params"]
    partial = df[moe_cols].notna().any(axis=1) & ~df[moe_cols].notna().all(axis=1)
    if partial.any():
        i = int(partial.to_numpy().nonzero()[0][0])
        raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'active_params': a "
                            "mixture-of-experts run needs active_params, n_experts, "
                            "experts_per_token and moe_layers together")
    df["gpu"] = names
    df["architecture"] = archs
    df["peak_tflops"] = np.array(peaks, dtype=float)
    df["peak16_tflops"] = np.array(peak16s, dtype=float)
    df["active_params"] = df["active_params"].fillna(df["params"])
    n, d = df["active_params"].to_numpy(), df["tokens"].to_numpy()
    df["flops"] = kernels.training_flops(n, n, d)
    shape = df[["n_layers", "d_model", "seq_len"]].astype(float).to_numpy()
    attn = kernels.attention_flops_per_token(shape[:, 0], shape[:, 1], shape[:, 2])
    df["flops_with_attention"] = kernels.training_flops(n, n, d, attn)  # NaN: no shape
    moe = df["n_experts"].notna().to_numpy()
    ep = np.minimum(df["n_experts"].fillna(1).to_numpy(float), DEFAULT_EXPERT_PARALLEL)
    a2a = kernels.all_to_all_bytes_per_token(
        df["moe_layers"].fillna(0).to_numpy(float),
        df["experts_per_token"].fillna(0).to_numpy(float),
        np.nan_to_num(shape[:, 1]), 2.0, ep)
    df["all_to_all_gpu_hours"] = np.where(moe, d * a2a / np.array(links) / 3600.0, 0.0)
    busy = df["gpu_hours"].to_numpy() - df["all_to_all_gpu_hours"].to_numpy()
    if (busy <= 0).any():
        i = int((busy <= 0).nonzero()[0][0])
        raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'gpu_hours': fewer "
                            "GPU-hours than the all-to-all alone needs")
    peak_flop = busy * 3600.0 * df["peak_tflops"].to_numpy() * 1e12
    df["peak_flop"] = peak_flop
    df["mfu"] = df["flops"] / peak_flop
    df["mfu_with_attention"] = df["flops_with_attention"] / peak_flop
    df["legacy_stack"] = (df["published"].notna()
                          & (df["published"].astype(str) < _LEGACY_BEFORE))
    if (df["mfu"] > 1).any():
        i = int((df["mfu"] > 1).to_numpy().nonzero()[0][0])
        raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'gpu_hours': implies an "
                            f"MFU of {df['mfu'].iloc[i]:.2f} > 1 (too few GPU-hours)")
    return df


def _runs_frame(path=None, gpu_path=None):
    return _load_runs(*stamp(path or bundled_path("training_runs.csv")),
                      None if gpu_path is None else str(gpu_path))


def training_runs(path: StrPath | None = None, *, gpu_path: StrPath | None = None) -> Frame:
    """Published training runs with the effective MFU each implies (a copy).

    Parameters
    ----------
    path : str or Path, optional
        Your own table with the columns of ``data/training_runs.csv`` (run,
        params, tokens, gpu, gpu_hours, dtype, n_layers, d_model, seq_len,
        source; optionally active_params, n_gpus, n_experts,
        experts_per_token, moe_layers, published), e.g. your own past runs,
        to calibrate the default MFU.
    gpu_path : optional
        Your own GPU table (see :func:`costkit.gpus`).

    Returns
    -------
    pandas.DataFrame
        The table plus ``architecture``, ``peak_tflops`` [TFLOPS, dense],
        ``flops`` (6·N·D, N the active parameters) and
        ``flops_with_attention`` (+ 12·L·d·s·D) [FLOP],
        ``all_to_all_gpu_hours`` [GPU-hour, MoE only], ``peak_flop`` [FLOP
        bought in the remaining GPU-hours], ``mfu`` and
        ``mfu_with_attention`` (effective: step MFU x goodput) [unitless] and
        ``legacy_stack`` (published before 2023).

    Examples
    --------
    >>> runs = training_runs().set_index("run")
    >>> # 6 x 6.74e9 x 2e12 FLOP / (184,320 GPU-h x 3600 s/h x 312e12 FLOP/s)
    >>> round(float(runs.loc["Llama-2-7B", "mfu"]), 3)
    0.391
    """
    return _runs_frame(path, gpu_path).copy()


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class EfficiencyModel:
    """The fitted effective-MFU model (see the module) and its out-of-sample residuals.

    ``intercept``, ``size_slope`` [per decade of active params per peak
    TFLOPS], ``legacy_effect`` and ``arch_effects`` are in natural-log units
    of MFU x goodput; ``residual_low`` / ``residual_high`` the 10th / 90th
    percentiles of the leave-one-out log residuals log(published / predicted
    GPU-hours); ``arch_spread`` the standard deviation of the generation
    effects, added to the range of a generation with no run. ``loo`` holds,
    per run, the leave-one-out prediction.

    The range is out of time: ``residual_low`` / ``residual_high`` are the
    percentiles of the *forward* residuals, each run predicted by the model
    fitted on the runs published strictly before it (``forward`` holds them;
    runs with fewer than :data:`MIN_HISTORY` earlier runs have none), because
    a user predicts a run that comes after the evidence, and forward errors
    are twice the leave-one-out ones (a new generation, a new stack).
    ``range_basis`` says which residuals set it (leave-one-out when fewer than
    :data:`MIN_FORWARD` runs have a forward residual).
    """

    intercept: float
    size_slope: float
    legacy_effect: float
    arch_effects: dict
    arch_spread: float
    residual_low: float
    residual_high: float
    attention: bool
    runs: tuple
    loo: Frame = field(repr=False, default=None)
    forward: Frame = field(repr=False, default=None)
    range_basis: str = "leave-one-out"

    def effective_mfu(self, architecture: NamesLike, active_params: Floats, peak16_tflops: Floats,
                      legacy: Bools = False) -> Floats:
        """Log-model prediction of MFU x goodput [unitless]; broadcasts over arrays.

        Parameters
        ----------
        architecture : str or array_like of str
            GPU generation (``Ampere``, ``Hopper``, ...), or several.
        active_params : numeric
            Active parameters of the model. [count]
        peak16_tflops : numeric
            Dense 16-bit peak of the GPU. [TFLOPS]
        legacy : bool or array_like of bool, default False
            Published before 2023 (an older software stack).

        Returns
        -------
        numeric
            Effective MFU (MFU x goodput) for each configuration. [unitless]

        Examples
        --------
        >>> m = efficiency_model()
        >>> 0.2 < float(m.effective_mfu("Hopper", 7e9, 989.5)) < 0.6
        True
        """
        import numpy as np

        keys, inv = np.unique(np.asarray(architecture, dtype=object).astype(str),
                              return_inverse=True)
        effect = np.array([self.arch_effects.get(k, 0.0) for k in keys])[inv].reshape(
            np.shape(architecture))
        return self.effective_mfu_from_effect(effect, active_params, peak16_tflops, legacy)

    def effective_mfu_from_effect(self, arch_effect: Floats, active_params: Floats,
                                  peak16_tflops: Floats, legacy: Bools = False) -> Floats:
        """The same with the generation's effect given as a number (or array) [log units].

        Parameters
        ----------
        arch_effect : numeric
            The generation's fitted effect, in log space. [unitless]
        active_params : numeric
            Parameters one token multiplies (all of them for a dense model). [count]
        peak16_tflops : numeric
            Dense 16-bit peak of the GPU. [TFLOPS]
        legacy : bool or array_like of bool, default False
            Published before 2023 (an older software stack).

        Returns
        -------
        numeric
            The same with the generation's effect given as a number (or array) [log
            units].

        Examples
        --------
        >>> m = efficiency_model()
        >>> a = m.effective_mfu("Hopper", 7e9, 989.5)
        >>> bool(abs(m.effective_mfu_from_effect(m.arch_effects["Hopper"], 7e9, 989.5) - a) < 1e-12)
        True
        """
        import numpy as np

        x = np.log10(active_params) - np.log10(peak16_tflops) - 8.0
        return np.exp(self.intercept + arch_effect + self.size_slope * x
                      + self.legacy_effect * np.asarray(legacy, dtype=float))


def _design(archs, known, x, legacy):
    import numpy as np

    cols = [np.ones(len(x)), x, legacy.astype(float)]
    cols += [(archs == a).astype(float) for a in known]
    return np.column_stack(cols)


def _ridge(X, y, lam):
    import numpy as np

    scale = X.std(axis=0)
    scale[0] = 1.0
    scale[scale == 0] = 1.0
    Z = X / scale
    P = lam * np.eye(X.shape[1])
    P[0, 0] = 0.0
    return np.linalg.solve(Z.T @ Z + P, Z.T @ y) / scale


def _fit_arrays(df, attention):
    import numpy as np

    col = "flops_with_attention" if attention else "flops"
    df = df[df[col].notna()]
    y = np.log((df[col] / df["peak_flop"]).to_numpy())
    x = (np.log10(df["active_params"].to_numpy()) - np.log10(df["peak16_tflops"].to_numpy())
         - 8.0)
    return df, y, x, df["architecture"].to_numpy(object), df["legacy_stack"].to_numpy(bool)


def _forward_residuals(X, y, dates, lam):
    """Each run's log residual from the model fitted on the runs published before it.

    NaN where fewer than :data:`MIN_HISTORY` runs came earlier. A generation none of the
    earlier runs used has an all-zero column there, which the ridge keeps at 0: the average.
    """
    import numpy as np

    out = np.full(len(y), np.nan)
    for i in range(len(y)):
        keep = dates < dates[i]
        if keep.sum() >= MIN_HISTORY:
            out[i] = y[i] - X[i] @ _ridge(X[keep], y[keep], lam)
    return out


def _loo_residuals(X, y, lam):
    import numpy as np

    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        out[i] = y[i] - X[i] @ _ridge(X[keep], y[keep], lam)
    return out  # log(observed / predicted effective MFU) = log(predicted / published hours)


@functools.lru_cache(maxsize=32)
def _model(runs_stamp, gpu_path, attention: bool) -> EfficiencyModel:
    return _fit_model(_load_runs(*runs_stamp, gpu_path), attention)


def _fit_model(df, attention: bool) -> EfficiencyModel:
    """The effective-MFU model fitted on the runs of ``df`` (a loaded runs table)."""
    import numpy as np

    df, y, x, archs, legacy = _fit_arrays(df, attention)
    if len(df) == 0:
        raise ValueError("no training run in the evidence table has the shape needed for "
                         "its FLOP count; pass mfu= yourself")
    if len(df) < MIN_RUNS_FOR_TERMS:  # a few own runs: their pooled MFU, no terms
        pooled = float(np.log(np.sum(np.exp(y) * df["peak_flop"]) / df["peak_flop"].sum()))
        loo = (y - pooled) if len(df) > 1 else np.zeros(1)
        frame = df[["run", "gpu", "architecture", "gpu_hours"]].copy()
        frame["predicted_gpu_hours"] = df["gpu_hours"].to_numpy() * np.exp(loo)
        frame["ratio"] = np.exp(loo)
        return EfficiencyModel(
            intercept=pooled, size_slope=0.0, legacy_effect=0.0, arch_effects={},
            arch_spread=0.0, residual_low=float(np.quantile(-loo, 0.1)),
            residual_high=float(np.quantile(-loo, 0.9)), attention=attention,
            runs=tuple(df["run"]), loo=frame)
    known = sorted(set(archs))
    X = _design(archs, known, x, legacy)
    b = _ridge(X, y, RIDGE)
    loo = _loo_residuals(X, y, RIDGE)
    hours_ratio = np.exp(-loo)  # published / predicted GPU-hours, out of sample
    frame = df[["run", "gpu", "architecture", "gpu_hours"]].copy()
    frame["predicted_gpu_hours"] = df["gpu_hours"].to_numpy() / hours_ratio
    frame["ratio"] = 1.0 / hours_ratio
    effects = dict(zip(known, (float(v) for v in b[3:]), strict=True))
    r = np.log(hours_ratio)
    fwd = -_forward_residuals(X, y, df["published"].astype(str).to_numpy(), RIDGE)
    forward = df[["run", "gpu", "architecture", "published", "gpu_hours"]].copy()
    forward["forward_ratio"] = np.exp(-fwd)   # predicted / published GPU-hours, NaN: no history
    ok = fwd[np.isfinite(fwd)]
    basis = "forward" if ok.size >= MIN_FORWARD else "leave-one-out"
    q = np.quantile(ok if basis == "forward" else r, [0.1, 0.9])
    return EfficiencyModel(
        intercept=float(b[0]), size_slope=float(b[1]), legacy_effect=float(b[2]),
        arch_effects=effects, arch_spread=float(np.std(list(effects.values()))),
        residual_low=float(q[0]), residual_high=float(q[1]),
        attention=attention, runs=tuple(df["run"]), loo=frame, forward=forward,
        range_basis=basis)


_RANGE_WORDS = {"forward": "out-of-time residuals (each run predicted from the runs published "
                           "before it)", "leave-one-out": "leave-one-out residuals"}

FORWARD_BEFORE = "2024-01-01"
"""The training forward check fits on the runs published before 2024 and predicts 2024's."""


def forward_check(*, before: str = FORWARD_BEFORE, attention: bool = True,
                  path: StrPath | None = None, gpu_path: StrPath | None = None) -> Frame:
    """Fit on the runs published before ``before``; predict the later ones, with the range.

    The model and its out-of-time range come from the earlier runs only; a
    later run on a generation none of them used gets the average generation
    and the range widened by the generations' spread, as an estimate does.

    Parameters
    ----------
    before : str, default "2024-01-01"
        The first publication date predicted (YYYY-MM-DD).
    attention : bool, default True
        Count the attention FLOPs (12·L·d·s per token) beside 6·N·D.
    path : str or Path, optional
        Your own training-run table; default the bundled runs.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    DataFrame
        The later runs: ``run``, ``gpu``, ``architecture``, ``published``,
        ``gpu_hours`` (published), ``predicted_gpu_hours``, ``low_gpu_hours``,
        ``high_gpu_hours``, ``ratio`` (predicted / published) and ``covered``;
        ``attrs["fitted_on"]`` counts the earlier runs.

    Examples
    --------
    >>> f = forward_check()
    >>> bool((f["published"].astype(str) >= "2024-01-01").all()), f.attrs["fitted_on"] > 20
    (True, True)
    """
    import numpy as np

    df = _load_runs(*stamp(path or bundled_path("training_runs.csv")),
                    None if gpu_path is None else str(gpu_path))
    dates = df["published"].astype(str)
    model = _fit_model(df[(dates < before).to_numpy()], attention)
    late, y, _x, archs, legacy = _fit_arrays(df[(dates >= before).to_numpy()], attention)
    pred = np.log(model.effective_mfu(archs, late["active_params"].to_numpy(),
                                      late["peak16_tflops"].to_numpy(), legacy))
    widen = np.array([0.0 if a in model.arch_effects else model.arch_spread for a in archs])
    hours = late["gpu_hours"].to_numpy()
    predicted = hours * np.exp(y - pred)       # hours scale as 1 / effective MFU
    out = late[["run", "gpu", "architecture", "published", "gpu_hours"]].copy()
    out["predicted_gpu_hours"] = predicted
    out["low_gpu_hours"] = predicted * np.exp(model.residual_low - widen)
    out["high_gpu_hours"] = predicted * np.exp(model.residual_high + widen)
    out["ratio"] = predicted / hours
    out["covered"] = (out["low_gpu_hours"] <= hours) & (hours <= out["high_gpu_hours"])
    out = out.reset_index(drop=True)
    out.attrs["fitted_on"] = len(model.runs)
    out.attrs["range_basis"] = model.range_basis
    return out


def efficiency_model(*, attention: bool = False, path: StrPath | None = None,
                     gpu_path: StrPath | None = None) -> EfficiencyModel:
    """The effective-MFU model fitted on ``path`` (default the bundled runs).

    ``attention=True`` fits it on FLOPs that count attention (12·L·d·s·D),
    for estimates that count it.

    Parameters
    ----------
    attention : bool, default False
        Count the attention FLOPs (12·L·d·s per token) beside 6·N·D.
    path : str or Path, optional
        Your own training-run table; default the bundled runs.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    EfficiencyModel
        The effective-MFU model fitted on ``path`` (default the bundled runs).

    Examples
    --------
    >>> m = efficiency_model()
    >>> m.size_slope > 0 and m.legacy_effect < 0
    True
    """
    return _model(stamp(path or bundled_path("training_runs.csv")),
                  None if gpu_path is None else str(gpu_path), bool(attention))


def mfu_arrays(names: Sequence[str], inv: NDArray[np.intp], dtype: str, active_params: Floats, *,
               attention: bool = False, legacy: Bools = False, goodput: Floats = DEFAULT_GOODPUT,
               path: StrPath | None = None, gpu_path: StrPath | None = None,
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], str,
                      EfficiencyModel]:
    """Step MFU (central, low, high) per configuration, vectorised, and the basis text.

    ``names``/``inv`` as :func:`costkit._checks.gpu_lookup` gives them;
    ``active_params`` an array. Used by :func:`costkit.training.estimate`.

    Parameters
    ----------
    names : sequence of str
        GPU names, one per distinct GPU.
    inv : ndarray of int
        Index into ``names`` of each configuration's GPU.
    dtype : str
        Training data type (``bf16``, ``fp8``, ...).
    active_params : numeric
        Active parameters per configuration. [count]
    attention : bool, default False
        Count the attention FLOPs (12·L·d·s per token) beside 6·N·D.
    legacy : bool or array_like of bool, default False
        Published before 2023 (an older software stack).
    goodput : numeric, default 0.9
        Share of paid time that runs steps. [unitless, 0-1]
    path : str or Path, optional
        Your own training-run table; default the bundled runs.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    tuple
        ``(central, low, high, basis, model)``: step MFU per configuration, the text saying
        where it comes from, and the fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> c, lo, hi, basis, _ = mfu_arrays(["H100-SXM"], np.zeros((), dtype=int), "bf16",
    ...                                  np.asarray(7e9))
    >>> bool(lo < c < hi)
    True
    """
    import numpy as np

    from ._resolve import per_gpu
    from .catalog import gpu

    m = efficiency_model(attention=attention, path=path, gpu_path=gpu_path)
    recs = [gpu(nm, path=gpu_path) for nm in names]
    archs = [r.architecture or r.name for r in recs]
    for r in recs:
        r.peak_tflops(dtype)  # raise now if the GPU has no peak for this dtype
    # per distinct GPU first (a handful), then spread over the configurations
    peak16 = per_gpu([_sixteen_bit_peak(r) for r in recs], inv)
    effect = per_gpu([m.arch_effects.get(a, 0.0) for a in archs], inv)
    eff = m.effective_mfu_from_effect(effect, active_params, peak16, legacy)
    unseen = [a for a in archs if a not in m.arch_effects]
    widen = per_gpu([m.arch_spread if a in unseen else 0.0 for a in archs], inv)
    hi = eff * np.exp(-m.residual_low + widen)   # more MFU: fewer hours
    lo = eff * np.exp(-m.residual_high - widen)
    central, low, high = (v / goodput for v in (eff, lo, hi))
    convention = "6·N·D + attention" if attention else "6·N·D"
    basis = (f"effective MFU (x goodput) from a model fitted on {len(m.runs)} published runs "
             f"({convention} FLOPs, N active): generation, active params per peak TFLOPS "
             f"(slope {m.size_slope:+.3f} per decade), {'legacy' if np.any(legacy) else 'current'}"
             f" software stack; range = 10th-90th percentile of {_RANGE_WORDS[m.range_basis]} "
             f"(x{np.exp(-m.residual_high):.2f} to x{np.exp(-m.residual_low):.2f}); step MFU = "
             f"effective / goodput {goodput:g}")
    if unseen:
        basis += (f"; no published run on {', '.join(sorted(set(unseen)))}: the average "
                  f"generation, range widened by the generations' spread "
                  f"(x{np.exp(m.arch_spread):.2f})")
    if dtype == "fp8":
        s = FP8_SPEEDUP_OVER_BF16
        ratio = per_gpu([r.peak_tflops("fp8") / _sixteen_bit_peak(r) for r in recs], inv)
        central, low, high = (v * s[k] / ratio for v, k in
                              ((central, "central"), (low, "low"), (high, "high")))
        basis += (f"; fp8: 16-bit MFU x the measured fp8 speed-up {s['central']} (range "
                  f"{s['low']}-{s['high']}) / the fp8-to-16-bit peak ratio")
    elif dtype not in _SIXTEEN_BIT:
        basis += f"; no {dtype} run in the table: the 16-bit MFU is applied to the {dtype} peak"
    return np.minimum(central, 1.0), np.minimum(low, 1.0), np.minimum(high, 1.0), basis, m


def default_mfu(gpu: str = "H100-SXM", dtype: str = "bf16", *, params: float | None = None,
                attention: bool = False, legacy_stack: bool = False,
                goodput: float = DEFAULT_GOODPUT, path: StrPath | None = None,
                gpu_path: StrPath | None = None) -> MfuAssumption:
    """The evidence-based step MFU for training on ``gpu`` in ``dtype``, with its range.

    Parameters
    ----------
    gpu : str
        Accelerator name (matched as in :func:`costkit.gpu`).
    dtype : str
        Training data type; the MFU is a fraction of this dtype's dense peak.
    params : float, optional
        Parameters a token multiplies (a MoE model's active ones) [count];
        default 7e9, the middle of the evidence.
    attention : bool
        If True, calibrate on FLOPs that include the attention term
        (6·N·D + 12·L·d·s·D), for estimates that count it (``seq_len`` given).
    legacy_stack : bool
        Predict for a pre-2023 software stack (only to reproduce old runs).
    goodput : float
        Share of GPU-hours running steps [0 to 1]; the effective MFU the model
        predicts is divided by it.
    path, gpu_path : optional
        Your own runs table (see :func:`training_runs`) and GPU table.

    Returns
    -------
    MfuAssumption
        ``central``, ``low``, ``high`` [unitless], ``goodput``, ``basis`` (text)
        and ``runs``.

    Examples
    --------
    >>> m = default_mfu("H100", params=405e9)
    >>> small = default_mfu("H100", params=8e9)
    >>> small.central < m.central  # small models leave big GPUs idle
    True
    """
    import numpy as np

    from ._checks import as_fraction, as_quantity
    from .catalog import gpu as lookup
    from .catalog import normalize_dtype

    g = lookup(gpu, path=gpu_path)
    d = normalize_dtype(dtype)
    if d == "int8":
        raise ValueError("int8 is an inference data type; train in bf16, fp16, fp8 or fp32")
    n = _REFERENCE_PARAMS if params is None else float(as_quantity("params", params,
                                                                   allow_zero=False))
    gp = float(as_fraction("goodput", goodput, allow_zero=False))
    c, lo, hi, basis, m = mfu_arrays([g.name], np.zeros((), dtype=int), d, np.asarray(n),
                                     attention=attention, legacy=legacy_stack, goodput=gp,
                                     path=path, gpu_path=gpu_path)
    if params is None:
        basis += f"; for a {_REFERENCE_PARAMS:.0e}-parameter model (pass params=)"
    return MfuAssumption(central=float(c), low=float(lo), high=float(hi), gpu=g.name,
                         architecture=g.architecture or g.name, dtype=d, basis=basis,
                         runs=m.runs, goodput=gp)


def calibration(*, attention: bool = True, path: StrPath | None = None,
                gpu_path: StrPath | None = None) -> Frame:
    """Per run: the published GPU-hours, the in-sample and the out-of-sample prediction.

    Returns a DataFrame with ``run``, ``gpu``, ``architecture``, ``published``,
    ``gpu_hours`` (published), ``in_sample_gpu_hours``, ``loo_gpu_hours`` (the
    model fitted without that run), their ratios to the published figure,
    and ``loo_low_gpu_hours`` / ``loo_high_gpu_hours``: the nominal 80%
    interval of a model fitted without the run, from the leave-one-out
    residuals of the *other* runs only (nested), and ``covered``.

    Parameters
    ----------
    attention : bool, default True
        Count the attention FLOPs (12·L·d·s per token) beside 6·N·D.
    path : str or Path, optional
        Your own training-run table; default the bundled runs.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    DataFrame
        Per run: the published GPU-hours, the in-sample and the out-of-sample prediction.

    Examples
    --------
    >>> c = calibration()
    >>> len(c) >= 30, bool((c["loo_ratio"] > 0).all())
    (True, True)
    """
    import numpy as np

    df = _load_runs(*stamp(path or bundled_path("training_runs.csv")),
                    None if gpu_path is None else str(gpu_path))
    df, y, x, archs, legacy = _fit_arrays(df, attention)
    known = sorted(set(archs))
    X = _design(archs, known, x, legacy)
    b = _ridge(X, y, RIDGE)
    n = len(y)
    pred_loo, lo, hi = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        bi = _ridge(X[keep], y[keep], RIDGE)
        pred_loo[i] = X[i] @ bi
        inner = _loo_residuals(X[keep], y[keep], RIDGE)
        q10, q90 = np.quantile(inner, [0.1, 0.9])
        lo[i], hi[i] = pred_loo[i] + q10, pred_loo[i] + q90   # log effective-MFU bounds
    hours = df["gpu_hours"].to_numpy()
    out = df[["run", "gpu", "architecture", "published", "gpu_hours"]].copy()
    out["in_sample_gpu_hours"] = hours * np.exp(y - X @ b)
    out["loo_gpu_hours"] = hours * np.exp(y - pred_loo)
    out["loo_low_gpu_hours"] = hours * np.exp(y - hi)
    out["loo_high_gpu_hours"] = hours * np.exp(y - lo)
    out["in_sample_ratio"] = out["in_sample_gpu_hours"] / hours
    out["loo_ratio"] = out["loo_gpu_hours"] / hours
    out["covered"] = (out["loo_low_gpu_hours"] <= hours) & (hours <= out["loo_high_gpu_hours"])
    return out.reset_index(drop=True)
