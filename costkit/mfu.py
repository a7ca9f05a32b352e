"""Model FLOPs utilisation (MFU) of published training runs, and the default MFU.

MFU is the fraction of the accelerators' dense peak that a run turned into
model FLOPs: ``MFU = model FLOPs / (GPU-hours x 3600 x peak FLOP/s)``. It is
the one number that converts a FLOP count into GPU-hours, so costkit does not
pick it out of the air: ``data/training_runs.csv`` lists published runs
(parameters, tokens, GPU, GPU-hours, each with its source) and this module
computes the MFU each of them implies, with the same FLOP count that
:func:`costkit.training.flops` uses.

The default for a GPU is the **pooled MFU of the runs on its generation**
(``architecture`` in ``gpus.csv``): their total model FLOPs over their total
peak FLOPs, i.e. the MFU of the runs taken as one fleet, each counting in
proportion to its GPU-hours. Its **range** is the spread of the individual
runs around their own generation's pooled value (the lowest and highest
ratio over all runs) applied to this one, so every published run in the table
lies inside the range its own generation gets.

What the evidence supports (``training_runs()`` shows it run by run):

- *Generation*: A100 (Ampere) runs pool at about 0.43; H100 (Hopper) runs at
  about 0.33. The H100's peak grew more than its memory and network bandwidth,
  so a smaller share of it is used. A generation with no published run in the
  table (Blackwell, AMD, TPU, ...) gets the pooled MFU of all runs, and the
  assumption says so.
- *Precision*: the runs trained in bf16/fp16. fp8 doubles the dense peak but
  measured end-to-end speed-ups over bf16 are 1.25-1.3x (torchtitan Llama 3
  8B: +25%; TorchAO MXFP8 Llama 4 Scout on GB200: +30.2%), and small models
  gain less (about +5-7% for nanoGPT-scale runs). So an fp8 MFU, counted
  against the fp8 peak, is the 16-bit MFU x speed-up / 2 (the speed-up range
  :data:`FP8_SPEEDUP_OVER_BF16` widens the range). fp32 / tf32 runs are not in
  the table: the 16-bit MFU is applied to that dtype's peak, and said so.
- *Scale*: within a generation the runs show no consistent trend with model
  size (Llama 1 and 2 on A100 are flat from 7B to 70B; Llama 3 on H100 rises
  from 8B to 405B), so there is no size term; that spread is in the range.

References
----------
.. [1] Chowdhery et al., "PaLM: Scaling Language Modeling with Pathways",
   arXiv:2204.02311, 2022, Appendix B (definition of MFU).
.. [2] The sources of each run are in the ``source`` column of
   ``data/training_runs.csv``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ._tables import Column, DataFileError, Schema, bundled_path, read_table, stamp

__all__ = ["FP8_SPEEDUP_OVER_BF16", "MfuAssumption", "default_mfu", "training_runs"]

FP8_SPEEDUP_OVER_BF16 = {"low": 1.05, "central": 1.3, "high": 1.35}
"""End-to-end training speed-up of fp8 over bf16 (measured, not the 2x of the peaks).

central 1.3: torchtitan Llama 3 8B float8 (+25%) and TorchAO MXFP8 Llama 4
Scout (+30.2%); low 1.05: nanoGPT-scale models (Karpathy, llm.c fp8, ~+5-7%);
high 1.35: the best end-to-end figures reported for 7-70B dense models.
"""

RUNS_SCHEMA = Schema(
    "training run",
    (
        Column("run"),
        Column("params", "float", min=0, min_exclusive=True),
        Column("tokens", "float", min=0, min_exclusive=True),
        Column("gpu"),
        Column("gpu_hours", "float", min=0, min_exclusive=True),
        Column("dtype"),
        Column("n_layers", "int", required=False, min=1),
        Column("d_model", "int", required=False, min=1),
        Column("seq_len", "int", required=False, min=1),
        Column("source"),
    ),
    key=("run",),
)

_SIXTEEN_BIT = ("bf16", "fp16")


@dataclass(frozen=True)
class MfuAssumption:
    """The MFU used for an estimate, its range and where it comes from.

    ``central``, ``low`` and ``high`` are fractions of the dense peak of
    ``dtype`` [unitless, 0 to 1]. ``runs`` names the published runs behind it.
    """

    central: float
    low: float
    high: float
    gpu: str
    architecture: str
    dtype: str
    basis: str
    runs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (f"MFU {self.central:.3f} (range {self.low:.3f}-{self.high:.3f}) for {self.gpu} "
                f"{self.dtype}: {self.basis}")


def _sixteen_bit_peak(g) -> float:
    for d in _SIXTEEN_BIT:
        if g.tflops.get(d) is not None:
            return g.tflops[d]
    raise ValueError(f"{g.name} has no dense bf16 or fp16 peak in the catalog; pass mfu= yourself")


@functools.lru_cache(maxsize=8)
def _load_runs(path: str, mtime: float, gpu_path: str | None):
    import numpy as np

    from .catalog import gpu, normalize_dtype

    df = read_table(path, RUNS_SCHEMA)
    names, archs, peaks = [], [], []
    for i, row in enumerate(df.itertuples()):
        def fail(column, problem, i=i):
            raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column '{column}': {problem}")

        try:
            g = gpu(row.gpu, path=gpu_path)
        except KeyError as exc:
            fail("gpu", str(exc))
        try:
            peak = g.peak_tflops(normalize_dtype(row.dtype))
        except ValueError as exc:
            fail("dtype", str(exc))
        names.append(g.name)
        archs.append(g.architecture or g.name)
        peaks.append(peak)
    df["gpu"] = names
    df["architecture"] = archs
    df["peak_tflops"] = np.array(peaks, dtype=float)
    n, d = df["params"].to_numpy(), df["tokens"].to_numpy()
    df["flops"] = 6.0 * n * d
    shape = df[["n_layers", "d_model", "seq_len"]].astype(float).to_numpy()
    attention = 12.0 * shape[:, 0] * shape[:, 1] * shape[:, 2] * d
    df["flops_with_attention"] = df["flops"] + attention  # NaN where the shape is unknown
    peak_flop = df["gpu_hours"].to_numpy() * 3600.0 * df["peak_tflops"].to_numpy() * 1e12
    df["peak_flop"] = peak_flop
    df["mfu"] = df["flops"] / peak_flop
    df["mfu_with_attention"] = df["flops_with_attention"] / peak_flop
    if (df["mfu"] > 1).any():
        i = int((df["mfu"] > 1).to_numpy().nonzero()[0][0])
        raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'gpu_hours': implies an "
                            f"MFU of {df['mfu'].iloc[i]:.2f} > 1 (too few GPU-hours)")
    return df


def _runs_frame(path=None, gpu_path=None):
    return _load_runs(*stamp(path or bundled_path("training_runs.csv")),
                      None if gpu_path is None else str(gpu_path))


def training_runs(path=None, *, gpu_path=None):
    """Published training runs with the MFU each implies (a copy).

    Parameters
    ----------
    path : str or Path, optional
        Your own table with the columns of ``data/training_runs.csv`` (run,
        params, tokens, gpu, gpu_hours, dtype, n_layers, d_model, seq_len,
        source), e.g. your own past runs, to calibrate the default MFU.
    gpu_path : optional
        Your own GPU table (see :func:`costkit.gpus`).

    Returns
    -------
    pandas.DataFrame
        The table plus ``architecture``, ``peak_tflops`` [TFLOPS, dense],
        ``flops`` (6·N·D) and ``flops_with_attention`` (6·N·D + 12·L·d·s·D)
        [FLOP], ``peak_flop`` [FLOP bought: GPU-hours x peak], ``mfu`` and
        ``mfu_with_attention`` [unitless].

    Examples
    --------
    >>> runs = training_runs().set_index("run")
    >>> # 6 x 6.74e9 x 2e12 FLOP / (184,320 GPU-h x 3600 s/h x 312e12 FLOP/s)
    >>> round(float(runs.loc["Llama-2-7B", "mfu"]), 3)
    0.391
    """
    return _runs_frame(path, gpu_path).copy()


@functools.lru_cache(maxsize=256)
def _default(name: str, dtype: str, attention: bool, runs_stamp, gpu_path) -> MfuAssumption:
    import numpy as np

    from .catalog import gpu

    g = gpu(name, path=gpu_path)
    df = _load_runs(*runs_stamp, gpu_path)
    col = "flops_with_attention" if attention else "flops"
    df = df[df[col].notna()]
    if df.empty:
        raise ValueError("no training run in the evidence table has the shape needed for the "
                         "attention FLOP count; pass mfu= yourself")
    pooled = df.groupby("architecture")[[col, "peak_flop"]].sum()
    pooled = pooled[col] / pooled["peak_flop"]
    ratio = (df[col] / df["peak_flop"]) / df["architecture"].map(pooled)
    r_low, r_high = float(ratio.min()), float(ratio.max())
    arch = g.architecture or g.name
    convention = "6·N·D + attention" if attention else "6·N·D"
    if arch in pooled.index:
        mine = df[df["architecture"] == arch]
        central = float(pooled[arch])
        runs = tuple(mine["run"])
        basis = (f"pooled MFU ({convention} FLOPs) of {len(runs)} published runs on {arch} GPUs "
                 f"({', '.join(runs)})")
    else:
        central = float(df[col].sum() / df["peak_flop"].sum())
        runs = tuple(df["run"])
        basis = (f"no published run on {arch} GPUs in the evidence table: pooled MFU "
                 f"({convention} FLOPs) of all {len(runs)} runs")
    basis += (f"; range = the spread of single runs around their generation's pooled MFU "
              f"(x{r_low:.2f} to x{r_high:.2f})")
    low, high = central * r_low, central * r_high
    if dtype == "fp8":
        peak16, peak8 = _sixteen_bit_peak(g), g.peak_tflops("fp8")
        s = FP8_SPEEDUP_OVER_BF16
        low, central, high = (v * s[k] * peak16 / peak8 for v, k in
                              ((low, "low"), (central, "central"), (high, "high")))
        basis += (f"; fp8: 16-bit MFU x the measured fp8 speed-up {s['central']} (range "
                  f"{s['low']}-{s['high']}) / the fp8-to-16-bit peak ratio {peak8 / peak16:.2f}")
    elif dtype not in _SIXTEEN_BIT:
        basis += f"; no {dtype} run in the table: the 16-bit MFU is applied to the {dtype} peak"
    g.peak_tflops(dtype)  # raise now if the GPU has no peak for this dtype
    return MfuAssumption(central=central, low=low, high=float(np.minimum(high, 1.0)), gpu=name,
                         architecture=arch, dtype=dtype, basis=basis, runs=runs)


def default_mfu(gpu: str = "H100-SXM", dtype: str = "bf16", *, attention: bool = False,
                path=None, gpu_path=None) -> MfuAssumption:
    """The evidence-based MFU for training on ``gpu`` in ``dtype``, with its range.

    Parameters
    ----------
    gpu : str
        Accelerator name (matched as in :func:`costkit.gpu`).
    dtype : str
        Training data type; the MFU is a fraction of this dtype's dense peak.
    attention : bool
        If True, calibrate on FLOPs that include the attention term
        (6·N·D + 12·L·d·s·D), for estimates that count it (``seq_len`` given).
    path, gpu_path : optional
        Your own runs table (see :func:`training_runs`) and GPU table.

    Returns
    -------
    MfuAssumption
        ``central``, ``low``, ``high`` [unitless], ``basis`` (text) and ``runs``.

    Examples
    --------
    >>> m = default_mfu("A100-80GB")
    >>> round(m.central, 2), m.architecture
    (0.43, 'Ampere')
    """
    from .catalog import gpu as lookup
    from .catalog import normalize_dtype

    name = lookup(gpu, path=gpu_path).name
    d = normalize_dtype(dtype)
    if d == "int8":
        raise ValueError("int8 is an inference data type; train in bf16, fp16, fp8 or fp32")
    return _default(name, d, bool(attention), stamp(path or bundled_path("training_runs.csv")),
                    None if gpu_path is None else str(gpu_path))
