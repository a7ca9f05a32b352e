"""The step time of a served model, the efficiency that corrects its roofline, and the stored fit.

:func:`step_time_s` is the kernel :func:`costkit.serving.estimate` runs on every pass;
:class:`ServingEfficiency` holds the parameters a fit found (utilisations, the layer floor,
the stacks' speed factors, the out-of-sample residuals that give every estimate its range);
:func:`default` reads the fit bundled in ``data/serving_efficiency.csv``.

This module sits below :mod:`costkit.serving`; the fitting, which runs the roofline of
:mod:`costkit.serving` on published benchmarks, sits above it in
:mod:`costkit.serving_efficiency` (which re-exports everything here), so that neither imports
the other in a circle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._typing import Floats, StrPath

__all__: list[str] = []  # documented, and imported, as costkit.serving_efficiency's

REFERENCE_STACK = "TensorRT-LLM"
"""The software stack whose speed factor is 1 by definition."""

VENDOR_SIGMA = float(np.log(2.0) / 1.2816)
"""One-sigma log spread added for a vendor with no published row [unitless]: an assumption
(a factor of 2 either way at the 80% level); no evidence allowed by the cut-off sets it."""

EIGHT_BIT = ("fp8", "int8")
"""Compute types whose tensor-core peak is reached at its own share (``eight_bit_factor``)."""

_Z80 = 1.2816  # the standard normal's 90th percentile: an 80% two-sided interval


def step_time_s(roofline_s: Floats, n_layers: Floats, layer_floor_s: Floats,
                stack_factor: Floats = 1.0) -> Floats:
    """Time of one pass: its roofline time, at least its layers' floor, at the stack's speed. [s]

    ``t = max(t_roofline, L·t_layer) / s_stack``: a pass of L layers cannot take
    less than L launches of its kernels however small the batch (the floor binds
    only for tiny passes, e.g. a batch-1 encoder), and the stack runs it at
    ``s_stack`` times the reference stack's speed.

    Parameters
    ----------
    roofline_s : numeric
        The pass's roofline time at the achieved utilisations. [s]
    n_layers : numeric
        Layers the pass launches, L. [count]
    layer_floor_s : numeric
        The shortest time one layer takes, t_layer. [s]
    stack_factor : numeric, default 1.0
        The software stack's speed relative to the reference. [unitless]

    Returns
    -------
    numeric
        Time of one pass. [s]

    Examples
    --------
    A batch-1 BERT-base pass whose roofline is 0.12 ms, 12 layers of at least 45 us:

    >>> round(float(step_time_s(0.12e-3, 12, 45e-6)) * 1e3, 2)
    0.54
    """
    return np.maximum(roofline_s, n_layers * layer_floor_s) / stack_factor


def _fmt(x) -> str:
    """A parameter for printing: its value, or 'per configuration' for an array of them."""
    return f"{float(x):.3g}" if np.size(x) == 1 else "(per configuration)"


@dataclass(frozen=True, repr=False)
class ServingEfficiency:
    """A fitted serving-efficiency model: its parameters, its evidence and its ranges.

    ``compute_max`` (c_max) and ``bandwidth_max`` (b_max) set the
    utilisations, ``eight_bit_factor`` (f_8) the 8-bit matmuls' share,
    ``layer_overhead_s`` (t_layer) [s] the fixed cost of a layer; ``stacks`` maps each
    software stack to its speed factor; ``default_stack`` names the stack an
    estimate of each kind (llm, encoder, recommender) uses. ``residual_low``,
    ``residual_mid`` and ``residual_high`` are the 10th, 50th and 90th
    percentiles of the leave-one-out log residuals ln(published / predicted);
    ``generation_sigma`` is the spread between GPU generations, added for one
    without evidence, ``vendor_sigma`` for a vendor without evidence.
    """

    compute_max: Any
    layer_overhead_s: Any
    bandwidth_max: Any
    eight_bit_factor: Any = 1.0
    all_reduce_latency_s: Any = 0.0
    gather_max: Any = 1.0
    stacks: dict = field(default_factory=lambda: {REFERENCE_STACK: 1.0})
    default_stack: dict = field(default_factory=lambda: {"llm": REFERENCE_STACK,
                                                         "encoder": REFERENCE_STACK,
                                                         "recommender": REFERENCE_STACK})
    residual_low: float = 0.0
    residual_mid: float = 0.0
    residual_high: float = 0.0
    generation_sigma: float = 0.0
    vendor_sigma: float = VENDOR_SIGMA
    roofline_low: float = 0.0
    roofline_mid: float = 0.0
    roofline_high: float = 0.0
    vendors: tuple = ()
    architectures: tuple = ()
    n_rows: int = 0
    fitted_on: str = ""

    def compute_utilization(self, dtype: str = "fp16") -> Floats:
        """The share u_c of the dense peak that matmuls in ``dtype`` reach. [unitless]

        ``c_max``, times ``f_8`` for fp8 and int8.

        Parameters
        ----------
        dtype : str, default "fp16"
            The matmuls' data type (a normalised name: fp16, bf16, fp8, int8 ...).

        Returns
        -------
        numeric
            The share of the dense peak FLOP/s reached. [unitless, 0-1]

        Examples
        --------
        >>> e = ServingEfficiency(compute_max=0.6, layer_overhead_s=0.0, bandwidth_max=0.8,
        ...                       eight_bit_factor=0.5)
        >>> e.compute_utilization("fp16"), e.compute_utilization("fp8")
        (0.6, 0.3)
        """
        return self.compute_max * (self.eight_bit_factor if dtype in EIGHT_BIT else 1.0)

    def stack_factor(self, kind: str) -> float:
        """The speed of the software stack an estimate of ``kind`` uses. [unitless]

        Parameters
        ----------
        kind : {"llm", "encoder", "recommender"}
            The estimate's kind.

        Returns
        -------
        float
            The stack's speed relative to the reference stack (TensorRT-LLM = 1). [unitless]

        Examples
        --------
        >>> default().stack_factor("llm")
        1.0
        """
        return float(self.stacks[self.default_stack[kind]])

    def range_factors(self, vendors: list | tuple, architectures: list | tuple) -> tuple:
        """Low and high multipliers of throughput for GPUs of these vendors / generations.

        ``exp(q10)`` and ``exp(q90)`` of the leave-one-out residuals, widened in
        quadrature where the generation or vendor has no row.

        Parameters
        ----------
        vendors : sequence of str
            Each GPU's vendor (``costkit.gpu(name).vendor``).
        architectures : sequence of str
            Each GPU's generation (``costkit.gpu(name).architecture``).

        Returns
        -------
        tuple of ndarray
            (low, high) multipliers of the central throughput, aligned with the inputs.
            [unitless]

        Examples
        --------
        >>> lo, hi = default().range_factors(["NVIDIA", "AMD"], ["Hopper", "CDNA 3"])
        >>> bool(hi[1] / lo[1] > hi[0] / lo[0])  # a vendor without evidence: wider
        True
        """
        v = np.asarray(vendors, dtype=object)
        a = np.asarray(architectures, dtype=object)
        extra = (np.where(np.isin(a, self.architectures), 0.0, self.generation_sigma) ** 2
                 + np.where(np.isin(v, self.vendors), 0.0, self.vendor_sigma) ** 2)
        lo = self.residual_mid - np.hypot(self.residual_mid - self.residual_low,
                                          _Z80 * np.sqrt(extra))
        hi = self.residual_mid + np.hypot(self.residual_high - self.residual_mid,
                                          _Z80 * np.sqrt(extra))
        return np.exp(lo), np.exp(hi)

    def notes(self, kind: str) -> dict:
        """The assumptions an estimate of ``kind`` prints (the model and its range).

        Parameters
        ----------
        kind : {"llm", "encoder", "recommender"}
            The estimate's kind.

        Returns
        -------
        dict
            ``efficiency`` and ``range`` lines.

        Examples
        --------
        >>> sorted(default().notes("encoder"))
        ['efficiency', 'range']
        """
        stack = self.default_stack[kind]
        return {
            "efficiency": f"calibrated: u_c = {_fmt(self.compute_max)} (x "
                          f"{_fmt(self.eight_bit_factor)} for fp8 / int8), u_bw = "
                          f"{_fmt(self.bandwidth_max)} (gathers {_fmt(self.gather_max)}), at "
                          f"least {_fmt(self.layer_overhead_s * 1e6)} us per layer per pass, "
                          f"{_fmt(self.all_reduce_latency_s * 1e6)} us per all-reduce, "
                          f"software stack {stack} x "
                          f"{self.stack_factor(kind):.3g}; fitted on {self.fitted_on}",
            "range": f"low-high: the 10th-90th percentile of {self.n_rows} leave-one-out "
                     f"residuals (x{np.exp(self.residual_low):.2f} to "
                     f"x{np.exp(self.residual_high):.2f} on throughput), wider for a GPU "
                     f"generation ({self.generation_sigma:.2f}) or vendor "
                     f"({self.vendor_sigma:.2f} log-sigma, assumed) without evidence",
        }

    def __repr__(self) -> str:
        stacks = ", ".join(f"{k} {v:.3g}" for k, v in self.stacks.items())
        return (f"ServingEfficiency: u_c = {_fmt(self.compute_max)} (x "
                f"{_fmt(self.eight_bit_factor)} in 8 bits), u_bw = {_fmt(self.bandwidth_max)}, "
                f"{_fmt(self.layer_overhead_s * 1e6)} us per layer; "
                f"stacks {stacks}; 80% range x{np.exp(self.residual_low):.2f} to "
                f"x{np.exp(self.residual_high):.2f} ({self.n_rows} rows: {self.fitted_on})")


# --------------------------------------------------------------------------- the stored fit

_FLOATS = ("compute_max", "eight_bit_factor", "bandwidth_max", "layer_overhead_s",
           "all_reduce_latency_s", "gather_max", "residual_low", "residual_mid",
           "residual_high", "generation_sigma", "vendor_sigma", "roofline_low", "roofline_mid",
           "roofline_high", "n_rows")
_UNITS = {"layer_overhead_s": "s", "all_reduce_latency_s": "s", "n_rows": "count"}

def _schema():
    from ._tables import Column, Schema

    return Schema("serving efficiency", (Column("term"), Column("value"), Column("unit"),
                                         Column("source")), key=("term",))


def to_rows(eff: ServingEfficiency, source: str) -> list:
    """The model as rows of (term, value, unit, source): what :func:`read` reads back.

    Parameters
    ----------
    eff : ServingEfficiency
        The model.
    source : str
        Where it comes from (written on every row).

    Returns
    -------
    list of tuple
        One row per parameter, stack factor, default stack and evidence list.

    Examples
    --------
    >>> rows = to_rows(default(), "example")
    >>> rows[0][0], rows[0][2]
    ('compute_max', 'unitless')
    """
    rows = [(k, repr(float(getattr(eff, k))), _UNITS.get(k, "unitless"), source)
            for k in _FLOATS]
    rows += [(f"stack:{k}", repr(float(v)), "unitless", source) for k, v in eff.stacks.items()]
    rows += [(f"default_stack:{k}", v, "name", source) for k, v in eff.default_stack.items()]
    rows += [("vendors", ";".join(eff.vendors), "names", source),
             ("architectures", ";".join(eff.architectures), "names", source),
             ("fitted_on", eff.fitted_on, "text", source)]
    return rows


def write(eff: ServingEfficiency, path: StrPath, source: str) -> None:
    """Write the model to a CSV :func:`read` reads (columns term, value, unit, source).

    Parameters
    ----------
    eff : ServingEfficiency
        The model.
    path : str or Path
        The CSV to write.
    source : str
        Where the model comes from (written on every row).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "mine.csv")
    >>> write(default(), p, "example"); read(p).compute_max == default().compute_max
    True
    """
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["term", "value", "unit", "source"])
        w.writerows(to_rows(eff, source))


def read(path: StrPath) -> ServingEfficiency:
    """Read a model written by :func:`write` (your own fit, or the bundled one), validated.

    Parameters
    ----------
    path : str or Path
        The CSV.

    Returns
    -------
    ServingEfficiency
        The model the estimates accept as ``efficiency=``.

    Raises
    ------
    DataFileError
        A missing or unknown term, or a value that is not a number in range, naming the file
        and the term.

    Examples
    --------
    >>> from costkit._tables import bundled_path
    >>> read(bundled_path("serving_efficiency.csv")).stacks["TensorRT-LLM"]
    1.0
    """
    from ._tables import DataFileError, read_rows

    label = str(path)
    cols = read_rows(path, _schema(), label=label)
    terms = dict(zip(cols["term"], cols["value"], strict=True))

    def number(k):
        if k not in terms:
            raise DataFileError(f"{label}: term {k!r} is missing (write it with "
                                "costkit.serving_efficiency.write)")
        try:
            v = float(terms[k])
        except (TypeError, ValueError):
            raise DataFileError(f"{label}: term {k!r} has value {terms[k]!r}, not a number"
                                ) from None
        if not np.isfinite(v) or (k in _POSITIVE and v <= 0) or (k in _SHARES and v > 1) or (
                k in _NONNEGATIVE and v < 0):
            raise DataFileError(f"{label}: term {k!r} = {v!r} is out of range")
        return v

    known = set(_FLOATS) | {"vendors", "architectures", "fitted_on"}
    for k in terms:
        if k not in known and not k.startswith(("stack:", "default_stack:")):
            raise DataFileError(f"{label}: unknown term {k!r}")
    values = {k: number(k) for k in _FLOATS}
    stacks = {k[6:]: number(k) for k in terms if k.startswith("stack:")}
    default_stack = {k[14:]: terms[k] for k in terms if k.startswith("default_stack:")}
    for kind in ("llm", "encoder", "recommender"):
        if default_stack.get(kind) not in stacks:
            raise DataFileError(f"{label}: default_stack:{kind} must name one of the stacks "
                                f"({', '.join(stacks)})")
    values["n_rows"] = int(values["n_rows"])
    return ServingEfficiency(
        **values, stacks=stacks, default_stack=default_stack,
        vendors=tuple(v for v in (terms.get("vendors") or "").split(";") if v),
        architectures=tuple(v for v in (terms.get("architectures") or "").split(";") if v),
        fitted_on=terms.get("fitted_on") or "")


_POSITIVE = {"compute_max", "eight_bit_factor", "bandwidth_max", "gather_max"}
_SHARES = _POSITIVE
_NONNEGATIVE = {"layer_overhead_s", "all_reduce_latency_s", "generation_sigma", "vendor_sigma",
                "n_rows"}


@functools.lru_cache(maxsize=4)
def _default(path: str, mtime: float) -> ServingEfficiency:
    return read(path)


def default() -> ServingEfficiency:
    """The model fitted on the bundled ``data/serving_benchmarks.csv``, as stored.

    The fit takes a few seconds, so it is stored in ``data/serving_efficiency.csv``
    (``python -m costkit.serving_efficiency`` writes it; a test checks that refitting
    gives the stored numbers) and read once per process.

    Returns
    -------
    ServingEfficiency
        The fit :func:`costkit.serving.estimate` applies by default.

    Examples
    --------
    >>> default() is default()
    True
    """
    from ._tables import bundled_path, stamp

    return _default(*stamp(bundled_path("serving_efficiency.csv")))
