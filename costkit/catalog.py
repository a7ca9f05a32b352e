"""The data catalog: accelerators, reference models and cloud GPU prices.

Three curated tables ship with costkit (``data/`` in the repository, installed
as ``costkit/data``); every row has a ``source``. Each loader takes an optional
``path`` so that users can bring their own table (negotiated prices, an
in-house GPU), and the price loader also reads a SkyPilot-format ``vms.csv``.
Files are validated when loaded and cached (per path and modification time).

==================  =========================================================
``gpus()``          one row per accelerator: memory, bandwidth, dense peak
                    TFLOPS per dtype, TDP, release year
``gpu(name)``       one accelerator as a :class:`GPU` record
``models()``        reference architectures (BERT, Llama, DLRM)
``model(name)``     one as a :class:`Model` record
``gpu_prices()``    cloud offers, whole-instance USD per hour
``price_quote()``   USD per GPU-hour for a GPU, with its offers and dates
``gpu_hour_price``  the number alone
==================  =========================================================

All tensor-core figures are **dense** peak rates (vendors often print the 2:4
structured-sparsity figure, twice as large). They are theoretical peaks at boost
clock; real jobs reach a fraction of them (model FLOPs utilisation, MFU).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from costkit._age import (  # noqa: F401  (the age rule lives below the catalog: costkit.fx uses it)
    PRICE_AGE_WARN_DAYS,
    TODAY_ENV,
    age_warning,
    price_age_days,
    price_age_warning,
    today,
)
from costkit._tables import (
    Column,
    DataFileError,
    Schema,
    UnknownNameError,
    bundled_path,
    frame_from_rows,
    read_rows,
    read_table,
    suggest,
)
from costkit._tables import stamp as _stamp

if TYPE_CHECKING:
    import numpy as np

    from ._typing import Frame, NamesLike, NDArray, Series, StrPath

__all__ = [
    "DTYPES",
    "DTYPE_BYTES",
    "GPU",
    "GPU_MEMORY_BYTES_PER_GB",
    "Model",
    "PriceQuote",
    "gpu",
    "gpu_hour_price",
    "gpu_prices",
    "gpus",
    "model",
    "models",
    "price_quote",
    "price_summary",
    "read_skypilot_catalog",
    "bytes_per_element",
    "compute_dtype",
]

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")
"""Data types with a peak-throughput column in ``gpus.csv``."""

GPU_MEMORY_BYTES_PER_GB = 2**30
"""Bytes in one "GB" of a GPU memory label: memory sizes are binary, so an
"A100 80GB" has 80 GiB (nvidia-smi shows 81,920 MiB), 7% more than 80e9 bytes.
Bandwidth and FLOP/s labels are decimal (TB/s = 1e12 bytes/s)."""

WEIGHT_ONLY_DTYPES = {"int4": "fp16"}
"""Weight-only formats and the data type their matmuls run in: int4 weights
(AWQ, GPTQ) are dequantised to 16 bits on the fly, so they save bytes, not
FLOPs (W4A16). :func:`compute_dtype` maps them; the peak comes from the catalog."""

DTYPE_BYTES = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0,
               "int4": 0.5}
"""Storage per element [bytes] (tf32 is stored as fp32). Quantisation scales
add a little (about 0.125 bit per weight for int4 with group size 128); it is
not counted."""

_DTYPE_COLUMN = {
    "fp32": "fp32_tflops", "tf32": "tf32_tflops", "bf16": "bf16_tflops",
    "fp16": "fp16_tflops", "fp8": "fp8_tflops", "int8": "int8_tops",
}  # fmt: skip
_DTYPE_ALIASES = {
    "float32": "fp32", "single": "fp32", "float": "fp32", "tensorfloat32": "tf32",
    "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
    "float8": "fp8", "e4m3": "fp8", "e5m2": "fp8", "fp8e4m3": "fp8", "fp8e5m2": "fp8",
}  # fmt: skip

def _check_moe(v, fail):
    """A mixture-of-experts row gives all of its MoE columns, consistently."""
    moe = ["active_params", "n_experts", "experts_per_token", "moe_layers", "d_ff_expert"]
    rows = range(len(v["name"]))
    for i in rows:
        given = [v[c][i] is not None for c in moe]
        if any(given) and not all(given):
            fail(i, moe[given.index(False)], "a mixture-of-experts model needs active_params, "
                 "n_experts, experts_per_token, moe_layers and d_ff_expert together")
    for col, hi in (("active_params", "params"), ("experts_per_token", "n_experts"),
                    ("moe_layers", "n_layers")):
        for i in rows:
            x, top = v[col][i], v[hi][i]
            if x is not None and top is not None and x > top:
                fail(i, col, f"{x:g} exceeds {hi} ({top:g})")
    for i in rows:
        if (v["kv_lora_rank"][i] is None) != (v["rope_head_dim"][i] is None):
            fail(i, "rope_head_dim", "latent attention (MLA) needs kv_lora_rank and "
                 "rope_head_dim together")


GPU_SCHEMA = Schema(
    "GPU",
    (
        Column("name"),
        Column("aliases", required=False),
        Column("vendor"),
        Column("form_factor", required=False),
        Column("architecture", required=False),
        Column("memory_gb", "float", required=False, min=0, min_exclusive=True, max=10_000),
        Column("memory_bandwidth_tbps", "float", required=False, min=0, min_exclusive=True,
               max=1_000),
        *(
            Column(c, "float", required=False, min=0, min_exclusive=True, max=1e6)
            for c in _DTYPE_COLUMN.values()
        ),
        Column("tdp_w", "float", required=False, min=0, min_exclusive=True, max=100_000),
        Column("interconnect_gbps", "float", required=False, min=0, min_exclusive=True,
               max=100_000, absent_ok=True),
        Column("release_year", "int", min=1990, max=2100),
        Column("source"),
    ),
    key=("name",),
)

MODEL_SCHEMA = Schema(
    "model",
    (
        Column("name"),
        Column("aliases", required=False),
        Column("family"),
        Column("architecture", choices=("encoder", "decoder", "encoder-decoder", "dlrm")),
        Column("params", "float", min=0, min_exclusive=True),
        Column("n_layers", "int", required=False, min=1),
        Column("d_model", "int", required=False, min=1),
        Column("n_heads", "int", required=False, min=1),
        Column("n_kv_heads", "int", required=False, min=1),
        Column("d_ff", "int", required=False, min=1),
        Column("vocab_size", "int", required=False, min=1),
        Column("max_seq_len", "int", required=False, min=1),
        *(Column(c, kind, required=False, min=lo, absent_ok=True) for c, kind, lo in (
            ("head_dim", "int", 1), ("active_params", "float", 1), ("n_experts", "int", 1),
            ("experts_per_token", "int", 1), ("shared_experts", "int", 0),
            ("moe_layers", "int", 1), ("d_ff_expert", "int", 1), ("kv_lora_rank", "int", 1),
            ("rope_head_dim", "int", 1))),
        Column("gated_mlp", choices=("true", "false"), required=False, absent_ok=True),
        Column("source"),
    ),
    key=("name",),
    row_checks=(_check_moe,),
)


def _first(flags) -> int | None:
    """Index of the first true flag, or None."""
    return next((i for i, f in enumerate(flags) if f), None)


def _check_prices(cols, fail):
    """A USD table's row has an on-demand or a spot price, and spot is not dearer."""
    i = _first(od is None and sp is None for od, sp in
               zip(cols["on_demand_usd_per_hour"], cols["spot_usd_per_hour"], strict=True))
    if i is not None:
        fail(i, "on_demand_usd_per_hour", "neither an on-demand nor a spot price is given")
    _check_spot(cols, fail, "on_demand_usd_per_hour", "spot_usd_per_hour")


def _check_spot(cols, fail, on_demand: str, spot: str):
    i = _first(od is not None and sp is not None and sp > od
               for od, sp in zip(cols[on_demand], cols[spot], strict=True))
    if i is not None:
        fail(i, spot, "the spot price is above the on-demand price")


_OFFER = (  # the columns that say what is offered where, in both price formats
    Column("cloud"),
    Column("instance_type"),
    Column("gpu"),
    Column("gpu_count", "float", min=0, min_exclusive=True, max=1_000_000),
    Column("region"),
)

PRICE_SCHEMA = Schema(
    "GPU price",
    (
        *_OFFER,
        Column("on_demand_usd_per_hour", "float", required=False, min=0, min_exclusive=True),
        Column("spot_usd_per_hour", "float", required=False, min=0, min_exclusive=True),
        Column("price_date", "date"),
        Column("source"),
    ),
    key=("cloud", "instance_type", "region"),
    row_checks=(_check_prices,),
)
"""A price table in US dollars (the columns name the currency): costkit's format before prices
had a ``currency`` column, and the one ``costkit prices import`` writes. Still read as is."""

PRICE_COLUMNS = ("on_demand_per_hour", "spot_per_hour", "subscription_per_month")
"""Price columns of a table with a ``currency`` column, each in that row's currency: whole
instance per hour (pay as you go, spot) and per month (a monthly subscription)."""


def _check_priced_or_noted(cols, fail):
    """A row has a price, or a note saying why not; spot is not dearer than on demand."""
    notes = cols.get("note") or [None] * len(cols["on_demand_per_hour"])
    i = _first(all(x is None for x in prices) and not (note or "").strip()
               for *prices, note in zip(*(cols[c] for c in PRICE_COLUMNS), notes, strict=True))
    if i is not None:
        fail(i, "on_demand_per_hour",
             "no price is given (on demand, spot or subscription): give one, or say in 'note' "
             "why the offer is listed without a price")
    _check_spot(cols, fail, "on_demand_per_hour", "spot_per_hour")


CURRENCY_PRICE_SCHEMA = Schema(
    "GPU price",
    (
        *_OFFER,
        Column("currency"),
        *(Column(c, "float", required=False, min=0, min_exclusive=True, max=1e12)
          for c in PRICE_COLUMNS),
        Column("price_date", "date"),
        Column("source"),
        Column("note", required=False, absent_ok=True),
    ),
    key=("cloud", "instance_type", "region"),
    row_checks=(_check_priced_or_noted,),
)
"""The price catalog's format: prices stored in the ``currency`` they are published in (an ISO
code that ``costkit.fx`` has a rate for on or before the row's ``price_date``)."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class GPU:
    """An accelerator from the catalog.

    Attributes carry their unit: ``memory_gb`` [GB, as the vendor labels it],
    ``memory_bandwidth_tbps`` [TB/s = 1e12 bytes/s], ``tdp_w`` [W] (each None if
    unpublished: :attr:`memory_bytes` and :attr:`memory_bandwidth_bytes_per_s` then
    raise). :meth:`peak_tflops` gives the dense peak per data type.
    """

    name: str
    vendor: str
    memory_gb: float | None
    memory_bandwidth_tbps: float | None
    tdp_w: float | None
    release_year: int
    source: str
    form_factor: str = ""
    architecture: str = ""  # GPU generation (Ampere, Hopper, ...); sets the default training MFU
    interconnect_gbps: float | None = None  # scale-up link per device [GB/s, both directions]
    tflops: dict = field(default_factory=dict, repr=False)

    def peak_tflops(self, dtype: str = "bf16") -> float:
        """Dense peak throughput for ``dtype``. [TFLOPS; TOPS for int8]

        Raises ``ValueError`` when the part has no (published) dense figure for
        that data type, e.g. fp8 on an A100 or bf16 on a V100.

        Parameters
        ----------
        dtype : str, default 'bf16'
            Data type: ``fp32``, ``tf32``, ``bf16``, ``fp16``, ``fp8`` or ``int8``.

        Returns
        -------
        float
            Dense peak throughput for ``dtype``. [TFLOPS; TOPS for int8]

        Examples
        --------
        >>> g = gpu("H100-SXM")
        >>> g.peak_tflops("bf16"), g.peak_tflops("fp8")
        (989.5, 1979.0)
        """
        key = normalize_dtype(dtype)
        value = self.tflops.get(key)
        if value is None:
            have = [d for d in DTYPES if self.tflops.get(d) is not None]
            raise ValueError(
                f"{self.name} has no dense {key} peak in the catalog (unsupported by its "
                f"tensor units or unpublished); available: {', '.join(have)}"
            )
        return value

    @property
    def memory_bytes(self) -> float:
        """Memory capacity [bytes]: the label read as GiB (:data:`GPU_MEMORY_BYTES_PER_GB`)."""
        return self._published("memory_gb", "memory size") * GPU_MEMORY_BYTES_PER_GB

    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        """Peak memory bandwidth. [bytes/s]"""
        return self._published("memory_bandwidth_tbps", "memory bandwidth") * 1e12

    def _published(self, attr: str, what: str) -> float:
        value = getattr(self, attr)
        if value is None:
            raise ValueError(f"{self.name} has no published {what} in the catalog ({attr} is "
                             "empty); pass gpu_path= with a GPU table whose row gives it")
        return float(value)


@dataclass(frozen=True)
class Model:
    """A reference model architecture from the catalog (None where not applicable)."""

    name: str
    family: str
    architecture: str
    params: float
    n_layers: int | None
    d_model: int | None
    n_heads: int | None
    n_kv_heads: int | None
    d_ff: int | None
    vocab_size: int | None
    max_seq_len: int | None
    source: str
    active_params: float | None = None  # MoE: parameters one token multiplies [count]
    n_experts: int | None = None        # MoE: routed experts per MoE layer
    experts_per_token: int | None = None
    shared_experts: int | None = None
    moe_layers: int | None = None       # layers whose MLP is a mixture of experts
    d_ff_expert: int | None = None
    kv_lora_rank: int | None = None     # MLA: the cached latent is kv_lora_rank + rope_head_dim
    rope_head_dim: int | None = None
    head_dim_given: int | None = field(default=None, repr=False)
    gated_mlp_given: bool | None = field(default=None, repr=False)

    @property
    def head_dim(self) -> int | None:
        """Width of one attention head: as the config gives it, else d_model / n_heads."""
        if self.head_dim_given is not None:
            return self.head_dim_given
        if self.d_model is None or self.n_heads is None:
            return None
        return self.d_model // self.n_heads

    @property
    def is_moe(self) -> bool:
        """Whether this is a mixture-of-experts model."""
        return bool(self.n_experts)

    @property
    def flop_params(self) -> float:
        """Parameters a token multiplies: the active ones for MoE, all for dense. [count]"""
        if self.is_moe and self.active_params is not None:
            return float(self.active_params)
        return float(self.params)

    @property
    def kv_latent_dim(self) -> float:
        """Values cached per token per layer with latent attention (MLA); 0 otherwise."""
        return float((self.kv_lora_rank or 0) + (self.rope_head_dim or 0)
                     if self.kv_lora_rank else 0)

    @property
    def gated_mlp(self) -> bool:
        """Whether the MLP has a gate matrix.

        As the ``gated_mlp`` column says, else the decoders' SwiGLU (Llama, Qwen) and the
        encoders' two-matrix GELU MLP (BERT).
        """
        if self.gated_mlp_given is not None:
            return self.gated_mlp_given
        return self.architecture == "decoder"

    def linear_shapes(self) -> dict:
        """The weight matrices of one layer: :func:`linear_shapes` for this model's shape.

        Returns
        -------
        dict
            The weight matrices of one layer: :func:`linear_shapes` for this model's
            shape.

        Examples
        --------
        >>> model("llama-2-7b").linear_shapes()["q"]
        (4096, 4096)
        """
        if self.n_layers is None or self.d_model is None or self.n_heads is None:
            raise ValueError(f"{self.name} has no Transformer shape in the catalog")
        return linear_shapes(self.d_model, self.n_heads, n_kv_heads=self.n_kv_heads,
                             d_ff=self.d_ff, gated_mlp=self.gated_mlp,
                             head_dim=self.head_dim_given)

    @property
    def layer_params(self) -> float:
        """Weights of one Transformer layer, biases and norms left out. [count]"""
        return float(sum(i * o for i, o in self.linear_shapes().values()))


@dataclass(frozen=True)
class PriceQuote:
    """A USD per GPU-hour price taken from the price catalog, with its provenance."""

    gpu: str
    usd_per_gpu_hour: float
    pricing: str
    stat: str
    cloud: str | None
    n_offers: int
    clouds: tuple[str, ...]
    price_dates: tuple[str, str]  # oldest and newest price_date among the offers
    sources: tuple[str, ...]
    offer: str | None = None  # "cloud instance_type (region)" picked by stat min / max
    currency: str = "USD"  # the currency of per_gpu_hour
    per_gpu_hour: float | None = None  # the price in ``currency`` [currency per GPU-hour]
    fx: tuple[str, ...] = ()  # the exchange rates used, each with its date

    @property
    def price(self) -> float:
        """The price in :attr:`currency`. [currency per GPU-hour]"""
        return self.usd_per_gpu_hour if self.per_gpu_hour is None else self.per_gpu_hour

    @property
    def age_days(self) -> int:
        """Days from the oldest offer's ``price_date`` to :func:`today`."""
        return price_age_days(self.price_dates[0])

    @property
    def warning(self) -> str | None:
        """A warning when the oldest offer is older than :data:`PRICE_AGE_WARN_DAYS`."""
        return price_age_warning(self.price_dates[0])

    def __str__(self) -> str:
        if self.offer:
            where = self.offer
        elif len(self.clouds) == 1:
            where = self.clouds[0]
        else:
            where = f"{len(self.clouds)} clouds"
        dates = self.price_dates[0] if self.price_dates[0] == self.price_dates[1] else (
            f"{self.price_dates[0]} to {self.price_dates[1]}")
        offers = "1 offer" if self.n_offers == 1 else f"{self.n_offers} offers"
        fx = f"; converted at {', '.join(self.fx)}" if self.fx else ""
        return (f"{self.price:.2f} {self.currency} per {self.gpu}-hour ({self.stat} "
                f"{self.pricing} price of {offers}, {where}; prices dated {dates}, up to "
                f"{self.age_days} days old on {today().isoformat()}{fx})")


# --------------------------------------------------------------------------- names


def _key(name: str) -> str:
    k = re.sub(r"[^a-z0-9.]", "", str(name).lower().replace("_", ""))
    return re.sub(r"^(nvidia|amd|intel|google|aws|tesla)", "", k) or k


# Tokens that may follow a GPU's name without changing which GPU it is.
_GPU_SUFFIX = re.compile(r"^(sxm\d?|pcie|gpu|tensorcore|\d+gb|hbm\d?e?|gen\d|x\d+)*$")


def _resolve(name, index: dict, display: list, what: str, suffix=None) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a {what} name must be a string, got {type(name).__name__} {name!r}")
    if not name.strip():
        raise ValueError(f"a {what} name must not be empty: name one of the catalog's "
                         f"{what}s (costkit gpus lists the GPUs)")
    k = _key(name)
    if k in index:
        return index[k]
    if suffix is not None:
        for cand in sorted(index, key=len, reverse=True):
            if k.startswith(cand) and suffix.match(k[len(cand):]):
                return index[cand]
    prefixed = sorted({index[c] for c in index if c.startswith(k)})
    if len(prefixed) > 1:
        raise UnknownNameError(f"{what} name {name!r} is ambiguous: say which of "
                               f"{', '.join(prefixed)}")
    raise UnknownNameError(f"unknown {what} {name!r}." + suggest(name, display))


# --------------------------------------------------------------------------- loading


def _alias_index(names, aliases, label: str, *, unique: bool) -> dict[str, str]:
    """Normalised name or alias -> canonical name; ``unique``: an alias names one row only."""
    index: dict[str, str] = {}
    for i, (name, more) in enumerate(zip(names, aliases, strict=True)):
        for alias in [name, *[a for a in (more or "").split(";") if a.strip()]]:
            k = _key(alias)
            if unique and k in index and index[k] != name:
                raise DataFileError(f"{label}, row {i + 1} (line {i + 2}), column 'aliases': "
                                    f"{alias!r} also names {index[k]}")
            index[k] = name
    return index


@functools.lru_cache(maxsize=32)
def _gpu_rows(path: str, mtime: float) -> dict:
    """The GPU table's validated columns, read once per file version (csv module, no pandas)."""
    return read_rows(path, GPU_SCHEMA)


@functools.lru_cache(maxsize=32)
def _load_gpu_records(path: str, mtime: float):
    """(alias index, {name: GPU}) from the validated columns: a look-up needs no pandas."""
    v = _gpu_rows(path, mtime)
    index = _alias_index(v["name"], v["aliases"], path, unique=True)
    records = {}
    for i, name in enumerate(v["name"]):
        records[name] = GPU(
            name=name, vendor=v["vendor"][i], memory_gb=v["memory_gb"][i],
            memory_bandwidth_tbps=v["memory_bandwidth_tbps"][i], tdp_w=v["tdp_w"][i],
            release_year=v["release_year"][i], source=v["source"][i],
            form_factor=v["form_factor"][i] or "", architecture=v["architecture"][i] or "",
            interconnect_gbps=v["interconnect_gbps"][i],
            tflops={d: v[c][i] for d, c in _DTYPE_COLUMN.items()},
        )
    return index, records


@functools.lru_cache(maxsize=32)
def _load_gpus(path: str, mtime: float):
    _load_gpu_records(path, mtime)  # the alias checks
    return frame_from_rows(_gpu_rows(path, mtime), GPU_SCHEMA, path)


def _gpu_table(path=None):
    return _load_gpu_records(*_stamp(path or bundled_path("gpus.csv")))


def gpus(path: StrPath | None = None) -> Frame:
    """The accelerator catalog as a DataFrame (a copy; one row per accelerator).

    Parameters
    ----------
    path : str or Path, optional
        Your own table with the same columns; default: costkit's ``gpus.csv``.

    Returns
    -------
    DataFrame
        One row per accelerator: ``name``, ``aliases``, ``vendor``, ``form_factor``,
        ``architecture`` (generation: Ampere, Hopper, ...), ``memory_gb`` [GB],
        ``memory_bandwidth_tbps`` [TB/s], ``fp32_tflops``, ``tf32_tflops``, ``bf16_tflops``,
        ``fp16_tflops``, ``fp8_tflops`` [dense TFLOPS], ``int8_tops`` [dense TOPS], ``tdp_w``
        [W], ``release_year``, ``source``. Empty (NaN) = unsupported or unpublished.

    Examples
    --------
    >>> g = gpus().set_index("name")
    >>> g.loc["A100-80GB", ["memory_gb", "bf16_tflops", "tdp_w"]].tolist()
    [80.0, 312.0, 400.0]
    """
    return _load_gpus(*_stamp(path or bundled_path("gpus.csv"))).copy()


def gpu(name: str, *, path: StrPath | None = None) -> GPU:
    """Look up one accelerator; names match forgivingly.

    Case, spaces, dashes and a vendor prefix are ignored, and known aliases
    and suffixes are accepted: ``"h100"``, ``"H100 SXM5 80GB"`` and
    ``"nvidia-h100-sxm"`` all give ``H100-SXM``.

    Parameters
    ----------
    name : str
        Accelerator name; case, spaces, dashes, a vendor prefix and known aliases are
        forgiven.
    path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    GPU
        The accelerator: memory, bandwidth, dense peaks per data type, power, source.

    Raises
    ------
    UnknownNameError
        (a ``KeyError``) listing the closest known names.

    Examples
    --------
    >>> g = gpu("H100 SXM5 80GB")
    >>> g.name, g.memory_gb, g.peak_tflops("bf16")
    ('H100-SXM', 80.0, 989.5)
    """
    index, records = _gpu_table(path)
    return records[_resolve(name, index, list(records), "GPU", _GPU_SUFFIX)]


@functools.lru_cache(maxsize=32)
def _model_rows(path: str, mtime: float) -> dict:
    """The model table's validated columns, read once per file version (csv module, no pandas)."""
    return read_rows(path, MODEL_SCHEMA)


@functools.lru_cache(maxsize=32)
def _load_model_records(path: str, mtime: float):
    """(alias index, {name: Model}) from the validated columns: a look-up needs no pandas."""
    v = _model_rows(path, mtime)
    index = _alias_index(v["name"], v["aliases"], path, unique=False)
    records = {}
    for i, name in enumerate(v["name"]):
        gated = v["gated_mlp"][i]
        records[name] = Model(
            name=name, family=v["family"][i], architecture=v["architecture"][i],
            params=v["params"][i], n_layers=v["n_layers"][i], d_model=v["d_model"][i],
            n_heads=v["n_heads"][i], n_kv_heads=v["n_kv_heads"][i], d_ff=v["d_ff"][i],
            vocab_size=v["vocab_size"][i], max_seq_len=v["max_seq_len"][i], source=v["source"][i],
            active_params=v["active_params"][i], n_experts=v["n_experts"][i],
            experts_per_token=v["experts_per_token"][i], shared_experts=v["shared_experts"][i],
            moe_layers=v["moe_layers"][i], d_ff_expert=v["d_ff_expert"][i],
            kv_lora_rank=v["kv_lora_rank"][i], rope_head_dim=v["rope_head_dim"][i],
            head_dim_given=v["head_dim"][i],
            gated_mlp_given=None if gated is None else gated == "true",
        )
    return index, records


@functools.lru_cache(maxsize=32)
def _load_models(path: str, mtime: float):
    return frame_from_rows(_model_rows(path, mtime), MODEL_SCHEMA, path)


def _model_table(path=None):
    return _load_model_records(*_stamp(path or bundled_path("models.csv")))


def models(path: StrPath | None = None) -> Frame:
    """The reference model catalog as a DataFrame (a copy).

    Columns: ``name``, ``aliases``, ``family``, ``architecture``, ``params``
    [count], ``n_layers``, ``d_model``, ``n_heads``, ``n_kv_heads``, ``d_ff``,
    ``vocab_size``, ``max_seq_len`` [tokens], ``source``.

    Parameters
    ----------
    path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.

    Returns
    -------
    DataFrame
        The reference model catalog as a DataFrame (a copy).

    Examples
    --------
    >>> m = models().set_index("name")
    >>> int(m.loc["Llama-2-7B", "n_layers"]), int(m.loc["Llama-2-7B", "d_model"])
    (32, 4096)
    """
    return _load_models(*_stamp(path or bundled_path("models.csv"))).copy()


def linear_shapes(d_model, n_heads, *, n_kv_heads=None, d_ff=None, gated_mlp=False,
                  head_dim=None) -> dict:
    """(d_in, d_out) of each weight matrix in one Transformer layer.

    Keys are the short module names ``q``, ``k``, ``v``, ``o`` (attention;
    ``k`` and ``v`` have ``n_kv_heads`` heads under grouped-query attention),
    ``up``, ``down`` and, for a gated MLP (SwiGLU), ``gate``. Defaults:
    ``n_kv_heads = n_heads``, ``d_ff = 4 d_model``, ``head_dim = d_model /
    n_heads``. LoRA (:func:`costkit.training.lora_trainable_params`) and
    pruning (:mod:`costkit.optimization`) both count from this table.

    >>> linear_shapes(4096, 32, n_kv_heads=8, d_ff=14336, gated_mlp=True)["k"]
    (4096, 1024)
    """
    n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
    d_ff = 4 * d_model if d_ff is None else d_ff
    head_dim = d_model // n_heads if head_dim is None else head_dim
    shapes = {"q": (d_model, n_heads * head_dim), "k": (d_model, n_kv_heads * head_dim),
              "v": (d_model, n_kv_heads * head_dim), "o": (n_heads * head_dim, d_model),
              "up": (d_model, d_ff), "down": (d_ff, d_model)}
    if gated_mlp:
        shapes["gate"] = (d_model, d_ff)
    return shapes


def model(name: str, *, path: StrPath | None = None) -> Model:
    """Look up one reference model (``"llama-2-7b"``, ``"bert-base-uncased"`` ...).

    Parameters
    ----------
    name : str
        Model name; case, dashes and known aliases are forgiven.
    path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.

    Returns
    -------
    Model
        The model: shape, parameters, mixture-of-experts columns, source.

    Examples
    --------
    >>> m = model("llama-2-70b")
    >>> m.n_layers, m.n_kv_heads, m.head_dim
    (80, 8, 128)
    """
    index, records = _model_table(path)
    return records[_resolve(name, index, list(records), "model")]


# --------------------------------------------------------------------------- prices

# SkyPilot's accelerator names -> costkit names, where they differ (SkyPilot
# says "A100" for the 40 GB SXM part and "H100" for the SXM part).
_SKYPILOT_NAMES = {
    "A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100-SXM", "H100-MEGA": "H100-SXM",
    "H100-SXM": "H100-SXM", "H200": "H200", "H200-SXM": "H200", "V100": "V100-16GB",
    "V100-32GB": "V100-32GB", "B200": "B200",
}  # fmt: skip
_SKYPILOT_COLUMNS = {"InstanceType", "AcceleratorName", "AcceleratorCount", "Price", "SpotPrice",
                     "Region"}


def _skypilot_gpu_rows(raw, acc, inst, path, dropped: dict):
    """The rows of a SkyPilot table that are GPU instances costkit knows.

    Returns their positions, GPU counts and canonical GPU names; every row left out is
    counted in ``dropped``.

    Vectorised: each distinct count text and accelerator name is read once, not each row.
    """
    import numpy as np
    import pandas as pd

    index, records = _gpu_table()
    empty = ((acc == "") | (inst == "")).to_numpy()
    if empty.any():
        dropped["no accelerator or no instance type"] = int(empty.sum())
    keep = np.flatnonzero(~empty)
    count_codes, count_texts = pd.factorize(raw["AcceleratorCount"].to_numpy()[keep])
    parsed = []
    for k, text in enumerate(count_texts):  # in order of first appearance: the first bad row
        try:
            parsed.append(float(text))
        except ValueError:
            i = int(keep[np.argmax(count_codes == k)])
            raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'AcceleratorCount': "
                                f"{text!r} is not a number") from None
    counts = np.asarray(parsed, dtype=float)[count_codes]
    with np.errstate(invalid="ignore"):
        whole = (counts >= 1) & (counts % 1 == 0)  # NaN and inf are not whole counts
    if (~whole).any():
        dropped["fractional accelerator count"] = int((~whole).sum())
    keep, counts = keep[whole], counts[whole]
    acc_codes, acc_names = pd.factorize(acc.to_numpy()[keep])
    rows_per_name = np.bincount(acc_codes, minlength=len(acc_names))
    canonical: list[str | None] = []
    for k, a in enumerate(acc_names):
        try:
            canonical.append(_SKYPILOT_NAMES.get(a) or _resolve(a, index, list(records), "GPU",
                                                                _GPU_SUFFIX))
        except UnknownNameError:
            canonical.append(None)
            dropped[f"accelerator not in the GPU catalog ({a})"] = int(rows_per_name[k])
    names = np.asarray(canonical, dtype=object)[acc_codes]
    known = np.asarray([n is not None for n in names], dtype=bool)
    keep, counts, names = keep[known], counts[known], names[known]
    if not keep.size:
        raise DataFileError(f"{path}: no GPU instance rows could be read")
    return keep, counts, names


def _skypilot_prices(column, rows, path, col: str):
    """A price column as numbers (blank: NaN); text that is not a finite number is refused."""
    import pandas as pd

    text = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    values = pd.to_numeric(text.where(text != "", None), errors="coerce")
    bad = (values.isna() & (text != "")) | values.abs().eq(float("inf"))
    if bad.any():
        j = int(bad.to_numpy().nonzero()[0][0])
        i = int(rows.iloc[j])
        raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column '{col}': "
                            f"{text.iloc[j]!r} is not a finite number")
    return values


def read_skypilot_catalog(path: StrPath, *, cloud: str | None = None,
                          price_date: str | None = None) -> Frame:
    """Convert a SkyPilot-format ``vms.csv`` to costkit's price table.

    Parameters
    ----------
    path : str or Path
        A SkyPilot catalog file (columns ``InstanceType``, ``AcceleratorName``,
        ``AcceleratorCount``, ``Price``, ``SpotPrice``, ``Region``, ...).
    cloud : str, optional
        Provider name; default: the file's folder name (``.../aws/vms.csv``).
    price_date : str, optional
        ``YYYY-MM-DD`` the prices are valid for; default: the file's
        modification date in UTC (a SkyPilot file carries no date of its own).

    Returns
    -------
    DataFrame
        The offers in the columns of ``data/gpu_prices.csv``; ``attrs["dropped"]`` counts
        the rows left out, by reason.

    Notes
    -----
    One row is kept per (instance type, region): the lowest on-demand price
    and the lowest spot price over that region's zones. Rows without an
    accelerator or an instance type (GCP's separately priced accelerator
    rows), with a fractional accelerator count, or whose accelerator is not in
    the GPU catalog are dropped; how many is recorded in
    ``frame.attrs["dropped"]``.

    Examples
    --------
    >>> from importlib.resources import files
    >>> vms = files("costkit.examples") / "price_lists" / "lambda" / "vms.csv"
    >>> df = read_skypilot_catalog(vms, cloud="Lambda", price_date="2026-11-20")
    >>> df[["instance_type", "gpu", "gpu_count", "on_demand_usd_per_hour"]]
          instance_type       gpu  gpu_count  on_demand_usd_per_hour
    0        gpu_1x_a10       A10        1.0                    0.75
    1  gpu_1x_h100_sxm5  H100-SXM        1.0                    3.29
    2  gpu_8x_h100_sxm5  H100-SXM        8.0                   23.92
    """
    import datetime

    import pandas as pd

    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    missing = sorted(_SKYPILOT_COLUMNS - set(raw.columns))
    if missing:
        raise DataFileError(f"{path}, column '{missing[0]}': required column of a SkyPilot "
                            "vms.csv is missing")
    cloud = cloud or path.parent.name
    if not cloud or cloud in (".", ""):
        raise ValueError(f"{path}: say which cloud this catalog is for (cloud='AWS')")
    from ._safe import plain_name

    plain_name(cloud, "cloud", f"{path}: cloud (given, or the folder's name)")
    if price_date is None:
        price_date = datetime.datetime.fromtimestamp(path.stat().st_mtime,
                                                     tz=datetime.UTC).date().isoformat()
    dropped: dict[str, int] = {}
    acc, inst = raw["AcceleratorName"].str.strip(), raw["InstanceType"].str.strip()
    keep, counts, names = _skypilot_gpu_rows(raw, acc, inst, path, dropped)
    for col, kind, values in (("InstanceType", "instance", inst), ("Region", "region",
                                                                     raw["Region"].str.strip())):
        _plain_column(values.to_numpy()[keep], keep, kind, f"{path}", col)
    df = pd.DataFrame({"instance_type": inst.to_numpy()[keep], "gpu": names, "gpu_count": counts,
                       "region": raw["Region"].to_numpy()[keep],
                       "od": raw["Price"].to_numpy()[keep],
                       "spot": raw["SpotPrice"].to_numpy()[keep], "row": keep})
    for c, col in (("od", "Price"), ("spot", "SpotPrice")):
        df[c] = _skypilot_prices(df[c], df["row"], path, col)
    g = df.groupby(["instance_type", "region"], sort=True)
    out = g.agg(gpu=("gpu", "first"), gpu_count=("gpu_count", "first"),
                on_demand_usd_per_hour=("od", "min"), spot_usd_per_hour=("spot", "min"))
    out = out.reset_index()
    copies = int(raw.iloc[keep].duplicated().sum())   # rows identical to an earlier one
    if copies:
        dropped["a copy of an earlier row"] = copies
    if len(out) < len(df) - copies:
        dropped["another zone of one instance type and region (the lowest price kept)"] = int(
            len(df) - copies - len(out))
    # A spot price at or above on-demand is not a spot offer (SkyPilot repeats the
    # on-demand price there for some providers): the row stays, its spot price goes.
    dearer = (out.spot_usd_per_hour >= out.on_demand_usd_per_hour).to_numpy()
    if dearer.any():
        dropped["spot price at or above on-demand (not a spot offer; on-demand kept)"] = int(
            dearer.sum())
    out.loc[dearer, "spot_usd_per_hour"] = float("nan")
    out.insert(0, "cloud", cloud)
    out["price_date"] = price_date
    out["source"] = f"SkyPilot-format catalog {path.name} (cloud {cloud}, read {price_date})"
    out = out[[c.name for c in PRICE_SCHEMA.columns]]
    result = read_table(None, PRICE_SCHEMA, label=str(path), frame=out)
    result.attrs["dropped"] = dropped
    return result


# The price table, read once per file version into typed columns ({column: [value or None]})
# in pure Python: the one definition that both the DataFrame (gpu_prices) and a look-up
# (price_quote, gpu_hour_price: no pandas, no numpy in a fresh process) are made from.


def _plain_column(values, rows, kind: str, label: str, column: str) -> None:
    """Every distinct text of a column is a plain ``kind`` name (checked once per value)."""
    import pandas as pd

    from ._safe import plain_name

    codes, uniques = pd.factorize(values)
    for k, text in enumerate(uniques):
        try:
            plain_name(text, kind, "")
        except DataFileError as exc:
            i = int(rows[int((codes == k).nonzero()[0][0])])
            raise DataFileError(f"{label}, row {i + 1} (line {i + 2}), column '{column}'"
                                f"{exc}") from None


def _price_header(path: str) -> list[str]:
    """The file's header row (csv module); empty when unreadable (the reader then says why)."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return [c.strip() for c in next(csv.reader(fh, skipinitialspace=True), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _read_price_columns(path: str) -> dict:
    """The table's typed columns in the catalog's format, whichever of the three it is in."""
    head = _price_header(path)
    if _SKYPILOT_COLUMNS.issubset(head):
        return _from_usd(_columns_of(read_skypilot_catalog(path)))
    if "currency" in head:
        usd_cols = [c for c in head if c in ("on_demand_usd_per_hour", "spot_usd_per_hour")]
        if usd_cols:
            raise DataFileError(f"{path}: column {usd_cols[0]!r} names USD but the table has a "
                                "'currency' column; write on_demand_per_hour / spot_per_hour "
                                "in each row's currency")
        cols = read_rows(path, CURRENCY_PRICE_SCHEMA)
        cols["currency"] = [c.strip().upper() for c in cols["currency"]]
        return cols
    return _from_usd(read_rows(path, PRICE_SCHEMA))


def _columns_of(frame) -> dict:
    """A validated DataFrame as typed columns (NaN read as None)."""
    return {c: [None if isinstance(x, float) and x != x else x for x in frame[c].tolist()]
            for c in frame.columns}


def _from_usd(cols: dict) -> dict:
    """A USD-only table (legacy columns) in the catalog's format."""
    n = len(cols["gpu"])
    out: dict[str, list] = {}
    for k, v in cols.items():
        if k == "on_demand_usd_per_hour":
            out["currency"], out["on_demand_per_hour"] = ["USD"] * n, v
        elif k == "spot_usd_per_hour":
            out["spot_per_hour"], out["subscription_per_month"] = v, [None] * n
        else:
            out[k] = v
    out.setdefault("note", [None] * n)
    return out


def _fx_to(currencies, dates, path: str, to_currency: str, fx_date: str | None,
           fx_path: str | None) -> tuple[list[float], list[str]]:
    """Rate of each row's currency to ``to_currency``, and its date (one of each per row).

    The newest rate on or before the row's date (``price_date``; ``fx_date`` for every row);
    looked up once per distinct (currency, date), so a long table costs a dict, not a search.
    """
    from .fx import fx_rate

    keys = list(zip(currencies, dates if fx_date is None else [fx_date] * len(currencies),
                    strict=True))
    rates: dict[tuple[str, str], tuple[float, str]] = {}
    for i, key in enumerate(keys):
        if key in rates:
            continue
        cur, day = key
        if cur == to_currency:  # no conversion, no rate needed
            rates[key] = (1.0, "")
            continue
        try:
            r = fx_rate(cur, to_currency, date=day, path=fx_path)
        except (UnknownNameError, LookupError) as exc:
            column = ("currency" if isinstance(exc, UnknownNameError)
                      else "price_date" if fx_date is None else "fx_date")
            raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column {column!r}: "
                                f"{str(exc).strip(chr(39))}") from None
        rates[key] = (r.rate, r.date)
    return [rates[k][0] for k in keys], [rates[k][1] for k in keys]


def _times(values, factors) -> list:
    """``values * factors`` row by row; an empty cell stays empty."""
    return [None if x is None else x * f for x, f in zip(values, factors, strict=True)]


def _over(values, divisors) -> list:
    """``values / divisors`` row by row; an empty cell stays empty."""
    return [None if x is None else x / d for x, d in zip(values, divisors, strict=True)]


@functools.lru_cache(maxsize=32)
def _price_rows(path: str, mtime: float, gpu_path: str | None, fx_date: str | None,
                fx_path: str | None) -> dict:
    """Read, validate, resolve GPU names and convert to USD once per file version.

    Adds ``fx_date`` and ``usd_per_currency_unit`` (the rate used), the prices in USD
    (``on_demand_usd_per_hour`` ...), per GPU-hour (``price / gpu_count``) and
    ``subscription_discount = 1 - subscription_per_month / (on_demand_per_hour x 730)``.
    """
    cols = _read_price_columns(path)
    index, records = _gpu_table(gpu_path)
    names: dict[str, str] = {}
    for i, name in enumerate(cols["gpu"]):  # once per distinct spelling, not per row
        if name not in names:
            try:
                names[name] = _resolve(name, index, list(records), "GPU", _GPU_SUFFIX)
            except UnknownNameError as exc:
                raise DataFileError(
                    f"{path}, row {i + 1} (line {i + 2}), column 'gpu': {exc}") from None
    cols["gpu"] = [names[n] for n in cols["gpu"]]
    rate, day = _fx_to(cols["currency"], cols["price_date"], path, "USD", fx_date, fx_path)
    cols["fx_date"], cols["usd_per_currency_unit"] = day, rate
    for c in PRICE_COLUMNS:
        cols[c.replace("_per_", "_usd_per_")] = _times(cols[c], rate)
    for key in ("on_demand", "spot"):
        cols[f"{key}_usd_per_gpu_hour"] = _over(cols[f"{key}_usd_per_hour"], cols["gpu_count"])
    from .units import HOURS_PER_MONTH

    # the subscription's discount on 730 on-demand hours (capacity.plan's reserved_discount)
    cols["subscription_discount"] = [
        None if sub is None or od is None else 1.0 - sub / (od * HOURS_PER_MONTH)
        for sub, od in zip(cols["subscription_per_month"], cols["on_demand_per_hour"],
                           strict=True)]
    return cols


@functools.lru_cache(maxsize=32)
def _price_rows_in(path: str, mtime: float, gpu_path: str | None, currency: str = "USD",
                   fx_date: str | None = None, fx_path: str | None = None) -> dict:
    """:func:`_price_rows` with per-GPU-hour columns in ``currency`` too (the rows' own rates)."""
    cols = _price_rows(path, mtime, gpu_path, fx_date, fx_path)
    if currency == "USD":
        return cols
    rate, _ = _fx_to(cols["currency"], cols["price_date"], path, currency, fx_date, fx_path)
    cols = dict(cols)
    for key in ("on_demand", "spot"):
        cols[f"{key}_{currency.lower()}_per_gpu_hour"] = _over(
            _times(cols[f"{key}_per_hour"], rate), cols["gpu_count"])
    return cols


_PRICE_FLOATS = frozenset(
    {c.name for c in CURRENCY_PRICE_SCHEMA.columns if c.kind == "float"}
    | {c.replace("_per_", "_usd_per_") for c in PRICE_COLUMNS}
    | {"usd_per_currency_unit", "subscription_discount"})
_PER_GPU_HOUR = re.compile(r"^(on_demand|spot)_[a-z]{3}_per_gpu_hour$")


@functools.lru_cache(maxsize=32)
def _load_prices(path: str, mtime: float, gpu_path: str | None, currency: str = "USD",
                 fx_date: str | None = None, fx_path: str | None = None):
    """The DataFrame of :func:`_price_rows_in`: float columns NaN where empty, text ``""``."""
    import numpy as np
    import pandas as pd

    cols = _price_rows_in(path, mtime, gpu_path, currency, fx_date, fx_path)
    return pd.DataFrame({
        k: np.array([np.nan if x is None else x for x in v], dtype=float)
        if k in _PRICE_FLOATS or _PER_GPU_HOUR.match(k) else ["" if x is None else x for x in v]
        for k, v in cols.items()})


def gpu_prices(path: StrPath | None = None, *, gpu_path: StrPath | None = None,
               currency: str = "USD", fx_date: str | None = None,
               fx_path: StrPath | None = None) -> Frame:
    """Cloud GPU offers as a DataFrame (a copy), with USD and per-GPU-hour columns added.

    Prices are stored in the currency they are published in (``currency``
    column) and converted through :mod:`costkit.fx`: each row at the newest rate
    on or before its ``price_date``, or every row at the rate of ``fx_date``.

    Parameters
    ----------
    path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``; a table with
        ``on_demand_usd_per_hour`` / ``spot_usd_per_hour`` and no ``currency`` is
        read as USD) or a SkyPilot-format ``vms.csv``; default: costkit's offers.
    gpu_path : str or Path, optional
        GPU table the ``gpu`` names are checked against (default: costkit's).
    currency : str, default 'USD'
        Also add ``on_demand_<currency>_per_gpu_hour`` and
        ``spot_<currency>_per_gpu_hour`` columns in this currency (ISO code).
    fx_date : str, optional
        Convert every row at the rate of this date (YYYY-MM-DD; the newest on or
        before it) instead of its ``price_date``.
    fx_path : str or Path, optional
        Your own exchange-rate table (default: costkit's ``data/fx.csv``).

    Returns
    -------
    DataFrame
        One row per offer: ``cloud``, ``instance_type``, ``gpu``, ``gpu_count``,
        ``region``, ``currency``, ``on_demand_per_hour``, ``spot_per_hour``
        [currency/h, whole instance], ``subscription_per_month`` [currency/month],
        ``price_date``, ``source``, ``note``, ``fx_date`` and
        ``usd_per_currency_unit`` (the rate used), the same prices in USD
        (``on_demand_usd_per_hour``, ``spot_usd_per_hour``,
        ``subscription_usd_per_month``) and ``on_demand_usd_per_gpu_hour``,
        ``spot_usd_per_gpu_hour`` [USD per GPU-hour], and ``subscription_discount``
        [unitless]: 1 - subscription / (730 on-demand hours), the ``reserved_discount``
        of :func:`costkit.capacity.plan`. Offers listed without a price (``note`` says
        why) have empty price cells.

    Examples
    --------
    >>> p = gpu_prices()
    >>> p.loc[p.gpu == "H100-SXM", "cloud"].nunique() >= 3
    True
    >>> t4 = p[(p.cloud == "Tencent Cloud") & (p.instance_type == "GN7.2XLARGE32")].iloc[0]
    >>> t4.currency, float(t4.on_demand_per_hour), float(t4.subscription_per_month)
    ('CNY', 8.68, 2500.0)
    >>> round(float(t4.subscription_discount), 4)  # 1 - 2500 / (8.68 x 730)
    0.6055
    """
    cur = _currency_code(currency)
    if cur != "USD":
        from .fx import fx_rate

        fx_rate("USD", cur, path=fx_path)  # an unknown currency fails here, with suggestions
    p = _stamp(path or bundled_path("gpu_prices.csv"))
    return _load_prices(*p, None if gpu_path is None else str(gpu_path), cur,
                        _fx_day(fx_date), None if fx_path is None else str(fx_path)).copy()


def _currency_code(currency) -> str:
    from .fx import _iso_code  # here, not at import: costkit.fx reads its table when asked

    return _iso_code(currency)


def _fx_day(fx_date) -> str | None:
    if fx_date is None:
        return None
    import datetime

    try:
        return datetime.date.fromisoformat(str(fx_date)).isoformat()
    except ValueError:
        raise ValueError(f"fx_date must be written YYYY-MM-DD, got {fx_date!r}") from None


_STATS = ("min", "p25", "median", "p75", "max", "mean")
_PRICING = {"on_demand": "on_demand", "on-demand": "on_demand", "ondemand": "on_demand",
            "spot": "spot", "preemptible": "spot"}


def _price_path(path, price_path):
    """``path=`` and ``price_path=`` (the name the estimates use) are one argument."""
    if path is not None and price_path is not None and str(path) != str(price_path):
        raise ValueError(f"give the price table once: path={str(path)!r} and "
                         f"price_path={str(price_path)!r} differ")
    return path if path is not None else price_path


def price_quote(gpu: str, cloud: str | None = None, pricing: str = "on_demand",
                stat: str = "median", *, path: StrPath | None = None,
                gpu_path: StrPath | None = None, price_path: StrPath | None = None,
                currency: str = "USD", fx_date: str | None = None,
                fx_path: StrPath | None = None) -> PriceQuote:
    """Price per GPU-hour for ``gpu`` from the price catalog, with its provenance.

    Parameters
    ----------
    gpu : str
        Accelerator name (matched as in :func:`gpu`).
    cloud : str, optional
        Restrict to one provider (case-insensitive); default: all clouds.
    pricing : {"on_demand", "spot"}
        Which price column.
    stat : {"min", "p25", "median", "p75", "max", "mean"}
        How to summarise the offers, each divided by its GPU count (p25 / p75:
        the quartiles, linear interpolation).
    path, gpu_path : optional
        Your own price / GPU tables (see :func:`gpu_prices`).
    price_path : optional
        Another name for ``path`` (the name estimates use), e.g. a table
        written by ``costkit prices import``.
    currency : str, default 'USD'
        Currency of the quote (ISO code). An offer published in it is taken as
        is; others are converted through :mod:`costkit.fx`.
    fx_date : str, optional
        Rate date for every conversion (YYYY-MM-DD); default: each offer's
        ``price_date`` (the newest rate on or before it).
    fx_path : str or Path, optional
        Your own exchange-rate table.

    Returns
    -------
    PriceQuote
        The price in ``currency`` (``.price``) and in USD (``.usd_per_gpu_hour``),
        with the offers, dates, sources and exchange rates used.

    Notes
    -----
    Per-GPU prices of small instances include the host CPU and memory, so
    ``max`` is often a big host rather than a dear GPU; ``median`` is the
    default. Prices are list prices on their ``price_date``: re-check before
    quoting them.

    Examples
    --------
    >>> q = price_quote("H100", stat="min")
    >>> q.gpu, round(q.usd_per_gpu_hour, 2), q.n_offers >= 3
    ('H100-SXM', 1.85, True)
    >>> q = price_quote("T4", cloud="Tencent Cloud", stat="min", currency="CNY")
    >>> round(q.price, 2), q.currency, q.fx
    (8.68, 'CNY', ())
    """
    if stat not in _STATS:
        raise ValueError(f"stat must be one of {', '.join(_STATS)}, got {stat!r}")
    key = _PRICING.get(str(pricing).lower())
    if key is None:
        raise ValueError(f"pricing must be 'on_demand' or 'spot', got {pricing!r}")
    cur = _currency_code(currency)
    fx_path = None if fx_path is None else str(fx_path)
    if cur != "USD":
        from .fx import fx_rate

        fx_rate("USD", cur, path=fx_path)  # an unknown currency fails here, with suggestions
    path = _price_path(path, price_path)
    index, records = _gpu_table(gpu_path)
    name = _resolve(gpu, index, list(records), "GPU", _GPU_SUFFIX)
    return _quote(name, None if cloud is None else str(cloud), key, stat,
                  _stamp(path or bundled_path("gpu_prices.csv")),
                  None if gpu_path is None else str(gpu_path), cur, _fx_day(fx_date), fx_path)


def _percentile(values, q: float) -> float:
    """The linear ``percentile(values, 100 q)`` of numpy (its default), in pure Python."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = int(pos)
    t = pos - lo
    if t == 0:
        return float(v[lo])
    a, b = v[lo], v[lo + 1]
    return float(a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t))


def _summarise(stat: str, values) -> float:
    """One figure of the offers' prices: min, p25, median, p75, max or mean."""
    import statistics

    values = list(values)
    if stat == "min":
        return float(min(values))
    if stat == "max":
        return float(max(values))
    if stat == "mean":
        return float(statistics.fmean(values))
    if stat == "median":
        return float(statistics.median(values))
    return _percentile(values, {"p25": 0.25, "p75": 0.75}[stat])


@functools.lru_cache(maxsize=1024)
def _quote(name, cloud, key, stat, price_stamp, gpu_path, currency="USD", fx_date=None,
           fx_path=None) -> PriceQuote:
    cols = _price_rows_in(*price_stamp, gpu_path, currency, fx_date, fx_path)
    col, ccol = f"{key}_usd_per_gpu_hour", f"{key}_{currency.lower()}_per_gpu_hour"
    rows = [i for i, g in enumerate(cols["gpu"]) if g == name]
    if cloud is not None:
        clouds = {c.lower(): c for c in cols["cloud"]}
        if str(cloud).lower() not in clouds:
            raise UnknownNameError(f"unknown cloud {cloud!r}." + suggest(cloud, clouds.values()))
        rows = [i for i in rows if cols["cloud"][i].lower() == str(cloud).lower()]
    rows = [i for i in rows if cols[col][i] is not None]
    if not rows:
        where = f" on {cloud}" if cloud else ""
        have = sorted({g for g, v in zip(cols["gpu"], cols[col], strict=True) if v is not None})
        raise LookupError(f"no {key} price for {name}{where} in the price catalog; GPUs with "
                          f"{key} prices: {', '.join(have)}")
    values = [cols[ccol][i] for i in rows]
    offer = None
    if stat in ("min", "max"):
        i = rows[(min if stat == "min" else max)(range(len(values)), key=values.__getitem__)]
        offer = f"{cols['cloud'][i]} {cols['instance_type'][i]} ({cols['region'][i]})"
    converted = {(cols["currency"][i], cols["price_date"][i]) for i in rows
                 if cols["currency"][i] != currency}
    fx = tuple(sorted({f"1 {c} = {_rate_to(c, currency, d, fx_path):.6g} {currency} "
                       f"(rate of {d})" for c, d in _fx_pairs(converted, currency, fx_date,
                                                               fx_path)}))
    dates = [cols["price_date"][i] for i in rows]
    return PriceQuote(
        gpu=name, usd_per_gpu_hour=_summarise(stat, (cols[col][i] for i in rows)), pricing=key,
        stat=stat, cloud=None if cloud is None else cols["cloud"][rows[0]], n_offers=len(rows),
        clouds=tuple(sorted({cols["cloud"][i] for i in rows})),
        price_dates=(min(dates), max(dates)),
        sources=tuple(sorted({cols["source"][i] for i in rows})), offer=offer, currency=currency,
        per_gpu_hour=_summarise(stat, values), fx=fx,
    )  # fmt: skip


def _fx_pairs(pairs, currency, fx_date, fx_path):
    """(currency, rate date) of each conversion of (currency, price_date) ``pairs``."""
    from .fx import fx_rate

    return {(c, fx_rate(c, currency, date=fx_date or d, path=fx_path).date) for c, d in pairs}


def _rate_to(src, dst, date, fx_path) -> float:
    from .fx import fx_rate

    return fx_rate(src, dst, date=date, path=fx_path).rate


def gpu_hour_price(gpu: NamesLike, cloud: str | None = None, pricing: str = "on_demand",
                   stat: str = "median", *, path: StrPath | None = None,
                   gpu_path: StrPath | None = None, price_path: StrPath | None = None,
                   currency: str = "USD", fx_date: str | None = None,
                   fx_path: StrPath | None = None) -> float | NDArray[np.float64] | Series:
    """Price per GPU-hour for ``gpu`` (a name, or an array / Series of names) in ``currency``.

    See :func:`price_quote` for the parameters and the provenance record.

    Parameters
    ----------
    gpu : str or array_like of str
        A GPU name, or an array / Series of names (one price each).
    cloud : str, optional
        Restrict catalog prices to one provider; default all clouds.
    pricing : str, default 'on_demand'
        ``on_demand`` or ``spot`` price from the catalog.
    stat : str, default 'median'
        How to summarise the offers: ``min``, ``p25``, ``median``, ``p75``, ``max`` or
        ``mean``.
    path : str or Path, optional
        Your own price table; the same as ``price_path``.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.
    currency : str, default 'USD'
        Currency of the result (ISO code, e.g. ``"CNY"``); offers published in
        another currency are converted at the rate of their ``price_date``.
    fx_date : str, optional
        Rate date for every conversion instead (YYYY-MM-DD).
    fx_path : str or Path, optional
        Your own exchange-rate table.

    Returns
    -------
    float, ndarray or Series
        Price per GPU-hour for ``gpu`` (a name, or an array / Series of names).
        [currency per GPU-hour]

    Examples
    --------
    >>> round(gpu_hour_price("H100", stat="min"), 2)
    1.85
    >>> round(gpu_hour_price("V100-32GB", cloud="Tencent Cloud", stat="min", currency="CNY"), 2)
    18.02
    """
    path = _price_path(path, price_path)
    kw = dict(path=path, gpu_path=gpu_path, currency=currency, fx_date=fx_date, fx_path=fx_path)
    if isinstance(gpu, str):
        return price_quote(gpu, cloud, pricing, stat, **kw).price  # type: ignore[arg-type]
    if not hasattr(gpu, "__iter__"):
        raise TypeError(f"gpu must be a GPU name or a list / array / Series of names, got "
                        f"{type(gpu).__name__} {gpu!r}")
    names = list(gpu)
    if not names:
        raise ValueError("gpu is empty: name at least one GPU")
    import numpy as np

    cache = {n: price_quote(n, cloud, pricing, stat, **kw).price  # type: ignore[arg-type]
             for n in dict.fromkeys(names)}
    out = np.array([cache[n] for n in names], dtype=float)
    if type(gpu).__name__ == "Series":
        import pandas as pd

        return pd.Series(out, index=cast(Any, gpu).index,
                         name=f"{_currency_code(currency).lower()}_per_gpu_hour")
    return out


def price_summary(pricing: str = "on_demand", *, path: StrPath | None = None,
                  gpu_path: StrPath | None = None) -> Frame:
    """Per-GPU summary of the offers: count, clouds, min / median / max. [USD per GPU-hour]

    One row per GPU with at least one price of that kind, sorted by median.
    Columns: ``gpu``, ``offers``, ``clouds``, ``min_usd_per_gpu_hour``,
    ``median_usd_per_gpu_hour``, ``max_usd_per_gpu_hour``, ``oldest_price_date``,
    ``newest_price_date``.

    Parameters
    ----------
    pricing : str, default 'on_demand'
        ``on_demand`` or ``spot`` price from the catalog.
    path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``); default costkit's.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    DataFrame
        Per-GPU summary of the offers: count, clouds, min / median / max. [USD per GPU-hour]

    Examples
    --------
    >>> s = price_summary().set_index("gpu")
    >>> bool(s.loc["H100-SXM", "min_usd_per_gpu_hour"] < s.loc["H100-SXM", "max_usd_per_gpu_hour"])
    True
    """
    key = _PRICING.get(str(pricing).lower())
    if key is None:
        raise ValueError(f"pricing must be 'on_demand' or 'spot', got {pricing!r}")
    df = gpu_prices(path, gpu_path=gpu_path)
    col = f"{key}_usd_per_gpu_hour"
    df = df[df[col].notna()]
    out = df.groupby("gpu").agg(
        offers=(col, "size"), clouds=("cloud", "nunique"), min_usd_per_gpu_hour=(col, "min"),
        median_usd_per_gpu_hour=(col, "median"), max_usd_per_gpu_hour=(col, "max"),
        oldest_price_date=("price_date", "min"), newest_price_date=("price_date", "max"),
    )  # fmt: skip
    return out.sort_values("median_usd_per_gpu_hour").reset_index()


def normalize_dtype(dtype: str) -> str:
    """Canonical dtype name (``"bfloat16"`` -> ``"bf16"``); raise for unknown ones."""
    d = str(dtype).lower().replace("_", "").replace("-", "")
    d = _DTYPE_ALIASES.get(d, d)
    if d not in _DTYPE_COLUMN and d not in WEIGHT_ONLY_DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of "
                         f"{', '.join(DTYPES + tuple(WEIGHT_ONLY_DTYPES))}")
    return d


def bytes_per_element(dtype: str) -> float:
    """Bytes one value of ``dtype`` takes in memory (``"int4"`` -> 0.5). [bytes]

    Parameters
    ----------
    dtype : str
        Data type (``bf16``, ``fp8``, ``int4``, ... or a spelling such as ``float16``).

    Returns
    -------
    float
        Bytes one value of ``dtype`` takes in memory (``"int4"`` -> 0.5). [bytes]

    Examples
    --------
    >>> bytes_per_element("bf16"), bytes_per_element("fp8"), bytes_per_element("int4")
    (2.0, 1.0, 0.5)
    """
    return DTYPE_BYTES[normalize_dtype(dtype)]


def compute_dtype(dtype: str, gpu: GPU | None = None) -> str:
    """The data type the matmuls of a ``dtype`` model run in.

    Formats with tensor-core support (fp16, bf16, fp8, int8) run as
    themselves; weight-only formats (int4) run in 16 bits: fp16, or bf16 on a
    ``gpu`` with no fp16 peak (TPUs).

    Parameters
    ----------
    dtype : str
        Storage data type of the weights.
    gpu : GPU, optional
        The GPU: a weight-only format runs in bf16 on one without an fp16 peak (TPUs);
        default fp16.

    Returns
    -------
    str
        The data type the matmuls of a ``dtype`` model run in.

    Examples
    --------
    >>> compute_dtype("bf16"), compute_dtype("fp8"), compute_dtype("int4")
    ('bf16', 'fp8', 'fp16')
    >>> compute_dtype("int4", gpu("TPU-v5e"))  # no fp16 peak: weight-only int4 runs in bf16
    'bf16'
    """
    d = normalize_dtype(dtype)
    if d not in WEIGHT_ONLY_DTYPES:
        return d
    c = WEIGHT_ONLY_DTYPES[d]
    if gpu is not None and gpu.tflops.get(c) is None and gpu.tflops.get("bf16") is not None:
        return "bf16"
    return c
