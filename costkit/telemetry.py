"""Serving telemetry as teams have it, validated: a table of samples or Prometheus JSON.

One row per sample of one replica (a serving instance: one or more GPUs that a
cloud bills as one resource). Columns:

=====================  ========  ===================================================
column                 required  meaning [unit]
=====================  ========  ===================================================
``timestamp``          yes       sample time (parsed to UTC)
``replica_id``         yes       the replica; also the billing ``ResourceId``
``gpu_utilization``    yes       busy share of the interval, 0-1 (0-100 is detected)
``requests``           yes       requests served in the interval [count]
``gpu``                no        GPU type (a catalog name)
``gpus``               no        GPUs per replica [count], default 1
``model``, ``team``    no        what runs there and who pays (chargeback keys)
``latency_p50_s``      no        median latency in the interval [s]
``latency_p95_s``      no        95th-percentile latency in the interval [s]
``errors``             no        failed requests in the interval [count]
=====================  ========  ===================================================

:func:`read_telemetry` never drops a row silently: every row it drops, and
every oddity it finds (a utilisation in per cent, missing samples), is a line
of :attr:`Telemetry.report` with the number of rows and the reason. Input that
cannot be repaired without guessing (a missing column, time running backwards
within a replica, a utilisation above 100) raises
:class:`~costkit.DataFileError` naming the row and the column.

:func:`read_prometheus` turns the JSON of Prometheus's HTTP API
``/api/v1/query_range`` (``resultType: matrix``) into the same long table.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from costkit._tables import DataFileError

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["OPTIONAL", "REQUIRED", "Telemetry", "read_prometheus", "read_telemetry"]
# utilization_unit, check_spacing and default_interval are the decisions both readers run
# (this module's and costkit.fleet's): public for them, outside __all__

REQUIRED = ("timestamp", "replica_id", "gpu_utilization", "requests")
OPTIONAL = {"gpu": "", "gpus": 1.0, "model": "", "team": "", "latency_p50_s": np.nan,
            "latency_p95_s": np.nan, "errors": 0.0}
_NUMERIC = ("gpu_utilization", "requests", "gpus", "latency_p50_s", "latency_p95_s", "errors")
CHECKED = ("requests", "errors", "latency_p50_s", "latency_p95_s", "gpus", "gpu_utilization")
"""The columns no sample may have negative or infinite (both readers check these)."""
NOT_NEGATIVE, NOT_FINITE = "is negative", "is not a finite number"
NOT_GPUS = "is not a whole number of GPUs >= 1"
DROPPED = (("missing replica_id", "no replica, no place in a series"),
           ("unparseable timestamp", "no time, no place in a series"),
           ("missing gpu_utilization", "a sample without it cannot be costed"),
           ("missing requests", "a sample without it cannot be costed"))
"""The samples both readers drop, in this order (a sample is counted under its first
reason), and why: they cannot be placed in a series or costed."""


@dataclass
class Telemetry:
    """Validated samples: ``frame`` (sorted by replica and time), ``report`` and ``interval``.

    ``report`` has one row per check: ``check``, ``rows`` (affected), ``action``
    (``dropped``, ``converted`` or ``kept``), ``detail`` and ``requests`` (the
    requests in those rows, so dropped requests are counted, not lost).
    """

    frame: Frame
    report: Frame
    interval: Any  # numpy.timedelta64: the sampling step
    label: str = "telemetry"

    @property
    def interval_hours(self) -> float:
        """Sampling interval [h]."""
        return self.interval / np.timedelta64(1, "h")

    def __repr__(self) -> str:
        f = self.frame
        lines = [f"Telemetry {self.label!r}: {len(f):,} samples of {f.replica_id.nunique():,} "
                 f"replicas every {self.interval}, {f.timestamp.min()} to {f.timestamp.max()}"]
        for _, r in self.report.iterrows():
            lines.append(f"  {r.check}: {r.rows:,} rows {r.action} ({r.detail})")
        return "\n".join(lines)


_MAX_FILE_BYTES = 2 * 1024**3


def _load(data, label):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy(), label or "telemetry"
    if isinstance(data, Telemetry):
        raise TypeError("this is already a Telemetry object: use it as it is")
    if not isinstance(data, str | Path):
        raise TypeError("telemetry is a DataFrame or the path of a CSV or Parquet file, got "
                        f"{type(data).__name__}")
    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"no telemetry file {path}")
    name = label or path.name
    if path.stat().st_size > _MAX_FILE_BYTES:
        raise DataFileError(f"{path}: larger than {_MAX_FILE_BYTES / 1024**3:g} GiB; aggregate "
                            "it first, or read it in parts and concatenate the frames")
    try:
        if path.suffix.lower() == ".parquet":
            from ._optional import require

            require("pyarrow", "reading a Parquet file")
            return pd.read_parquet(path), name
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, encoding="utf-8", index_col=False), name
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") \
            from None
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError, OSError) as exc:
        kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: not a readable {kind} file: {first}") from None
    except Exception as exc:  # pyarrow's errors for a file that only looks like Parquet
        if type(exc).__module__.startswith("pyarrow"):
            raise DataFileError(f"{path}: not a readable Parquet file: "
                                f"{str(exc).splitlines()[0]}") from None
        raise


_ZONED = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"


_NS_PER = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}


def _epoch_outside(values, unit: str) -> int | None:
    """Position of the first epoch time pandas cannot hold (1677-09-22 to 2262-04-11 UTC).

    The one bound of every reader that takes epoch numbers (CSV / Parquet telemetry and
    Prometheus), checked before pandas would raise its raw ``OutOfBoundsDatetime``.
    """
    import pandas as pd

    ns = np.asarray(values, dtype=float) * _NS_PER[unit]
    bad = np.flatnonzero((ns < pd.Timestamp.min.value) | (ns > pd.Timestamp.max.value))
    return int(bad[0]) if bad.size else None


def _epoch_words(value, unit: str) -> str:
    """The refusal of an epoch time outside the range, in one wording."""
    return (f"{value!r} {unit} since 1970 is outside the times costkit can hold (1678 to 2262 "
            "UTC): check the epoch unit")


def _timestamps(raw, label, timezone, epoch_unit):
    """Parse the timestamp column to UTC; a unit or zone the data cannot tell must be given.

    Returns the parsed Series (NaT where unparseable) and a note for the report (or None).
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(raw):
        raise DataFileError(f"{label}, column 'timestamp': true/false is not a time")
    if pd.api.types.is_numeric_dtype(raw):
        if epoch_unit is None:
            raise DataFileError(
                f"{label}, column 'timestamp': the times are numbers ({raw.iloc[0]!r}, ...); "
                "say what they count: read_telemetry(..., epoch_unit='s') (or 'ms', 'us', 'ns')")
        if epoch_unit not in ("s", "ms", "us", "ns"):
            raise ValueError(f"epoch_unit must be 's', 'ms', 'us' or 'ns', got {epoch_unit!r}")
        if not np.isfinite(raw.to_numpy(dtype=float)).all():
            i = raw.index[~np.isfinite(raw.to_numpy(dtype=float))][0]
            raise DataFileError(f"{label}, row {i}, column 'timestamp': {raw[i]!r} is not a time")
        far = _epoch_outside(raw, epoch_unit)
        if far is not None:
            i = raw.index[far]
            raise DataFileError(f"{label}, row {i}, column 'timestamp': "
                                + _epoch_words(float(raw[i]), epoch_unit))
        return pd.to_datetime(raw, unit=epoch_unit, utc=True), f"epoch {epoch_unit}"
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC"), None
    zone = timezone or "UTC"
    if pd.api.types.is_datetime64_dtype(raw):
        return raw.dt.tz_localize(zone), "naive"
    text = raw.astype("string").str.strip()
    zoned = text.str.contains(_ZONED, regex=True, na=False)
    naive = text.notna() & ~zoned
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        out[zoned] = _parse_times(text[zoned], utc=True)
    local = _parse_times(text[naive], utc=False) if naive.any() else None
    if local is None or local.isna().all():
        return out, None                  # unparseable text stays NaT: dropped and reported
    parsed = local.dropna()
    if zoned.any() and timezone is None:
        i = parsed.index[0]
        raise DataFileError(
            f"{label}, row {i}, column 'timestamp': {raw[i]!r} has no time zone, but other rows "
            "do; say what zone the naive ones are in: read_telemetry(..., timezone='UTC')")
    try:
        out[parsed.index] = parsed.dt.tz_localize(zone, ambiguous="raise",
                                                  nonexistent="raise").dt.tz_convert("UTC")
    except Exception as exc:  # pandas/pytz ambiguous or non-existent local times
        raise DataFileError(f"{label}, column 'timestamp': {str(exc).splitlines()[0]} in "
                            f"{zone} (a clock change); write the times in UTC") from None
    return out, "naive"


def _parse_times(text, *, utc: bool):
    """ISO 8601 first (fast), then any other format pandas reads; NaT where neither does.

    Naive text that pandas would read with a zone of its own (``"10:00 EST"``) stays NaT:
    dropped and reported, not guessed.
    """
    import pandas as pd

    t = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    retry = t.isna()
    if retry.any():
        again = pd.to_datetime(text[retry], format="mixed", errors="coerce", utc=utc)
        if utc or not isinstance(again.dtype, pd.DatetimeTZDtype):
            t = t.copy()
            t[retry] = again
    return t


def _utilization(df, label, unit):
    """Utilisation as a fraction 0-1, the unit decided by :func:`utilization_unit`.

    Returns the frame and a note for the report (or None).
    """
    import pandas as pd

    u = df["gpu_utilization"]
    counts = {"above_1": int((u > 1).sum()), "above_100": int((u > 100).sum()),
              "ones": int((u == 1).sum()), "other": int((~u.isin((0.0, 1.0))).sum()),
              "top": float(u.max()) if len(u) else 0.0}
    per = (pd.DataFrame({"rmax": u, "nonzero": u > 0, "below": (u > 0) & (u < 1)})
           .groupby(df["replica_id"], sort=False)
           .agg(rmax=("rmax", "max"), nonzero=("nonzero", "sum"), below=("below", "sum"))
           .rename_axis("replica_id").reset_index())

    def example(threshold, message):  # the largest value is above any threshold there is
        i = u.idxmax()
        raise DataFileError(f"{label}, row {i}, column 'gpu_utilization': {u[i]!r} {message}")

    unit, note = utilization_unit(unit, per, counts, label, example)
    if unit == "percent":
        df["gpu_utilization"] = u / 100.0
    return df, note


def _text_column(raw):
    """``raw`` as text (the dtype ``astype(str)`` gives), converting each distinct value once.

    Returns the text (missing values as ``""``) and the mask of missing or blank values. A
    million samples carry a few hundred replicas and a handful of models: converting the
    distinct values and taking them by code is ~30x faster than converting every sample.
    """
    import pandas as pd

    codes, values = pd.factorize(raw, use_na_sentinel=True)
    names = [str(v) for v in values] + [""]  # the last one stands for a missing value
    codes = np.where(codes < 0, len(names) - 1, codes)
    text_dtype = pd.Series(["x"]).astype(str).dtype
    text = pd.array(names, dtype=text_dtype).take(codes)
    blank = np.array([n.strip() == "" for n in names], dtype=bool)[codes]
    return pd.Series(text, index=raw.index, name=raw.name), pd.Series(blank, index=raw.index)


def read_telemetry(data: Frame | StrPath, *, interval: Any = None, label: str | None = None,
                   utilization_unit: str = "auto", timezone: str | None = None,
                   epoch_unit: str | None = None) -> Telemetry:
    """Validate telemetry (a DataFrame, or a CSV / Parquet path) into :class:`Telemetry`.

    Parameters
    ----------
    data : DataFrame or path
        Columns as in the module docstring; extra columns are kept.
    interval : str or Timedelta, optional
        Sampling interval (e.g. ``"1min"``); by default the median step
        between a replica's samples (:func:`default_interval`). A replica with
        more samples than its span holds at 0.9 intervals apart is refused
        (:func:`check_spacing`): the samples would overlap and time would be
        counted twice.
    label : str, optional
        Name used in messages (default: the file name).
    utilization_unit : ``"auto"``, ``"fraction"`` or ``"percent"``
        The unit of ``gpu_utilization``. ``"auto"`` decides only when the data
        can tell (see :func:`_utilization`) and otherwise asks.
    timezone : str, optional
        The zone of timestamps written without one. By default naive
        timestamps are read as UTC (the report says so), and a file that
        mixes naive and zoned timestamps is refused.
    epoch_unit : ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``, optional
        Required when the timestamps are numbers (seconds since 1970 ...).

    Returns
    -------
    Telemetry
        The samples in UTC with their interval, and a report of every row dropped.

    Raises
    ------
    DataFileError
        Missing required columns; time going backwards within a replica;
        utilisation above 100 or negative, or of a unit the data cannot
        tell; negative or infinite requests, errors or latencies; a GPU count
        that is not a whole number >= 1. Messages name the row (as in the
        input) and the column.

    Every row read is either in ``frame`` or counted in ``report`` with the
    requests it carried, so ``frame.requests.sum() + report.requests[dropped]``
    is the file's total.

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> tel = read_telemetry(synthetic_telemetry(days=1, replicas=12, freq="15min").telemetry)
    >>> tel.interval_hours, len(tel.frame)
    (0.25, 1150)
    """
    import pandas as pd

    df, label = _load(data, label)
    _check_columns(df, label)
    report = []

    def note(check, rows, action, detail, requests=0.0):
        report.append({"check": check, "rows": int(rows), "action": action, "detail": detail,
                       "requests": float(requests)})

    for col, default in OPTIONAL.items():
        if col not in df.columns:
            df[col] = default
    _numbers(df, label)
    note("rows read", len(df), "kept", f"{df.replica_id.nunique():,} replicas",
         df["requests"].sum())
    df["replica_id"], no_id = _text_column(df["replica_id"])
    for col in ("gpu", "model", "team"):
        df[col], _ = _text_column(df[col])
    df["timestamp"], when = _timestamps(df["timestamp"], label, timezone, epoch_unit)
    df = _drop_unplaceable(df, no_id, note)
    if when == "naive":
        note("timestamps without a zone", len(df), "converted",
             f"read as {timezone or 'UTC'}" + ("" if timezone else
                                               " (pass timezone= if they are local time)"))
    elif when is not None:
        note("timestamps as numbers", len(df), "converted", f"read as {when}")
    _check_values(df, label)
    df, converted = _utilization(df, label, utilization_unit)
    if converted:
        note("utilisation in per cent", len(df), "converted", converted)
    df, step = _in_time_order(df, label, note)
    interval = _sampling_interval(df, step, interval, label, note)
    df = df.sort_values(["replica_id", "timestamp"], kind="stable").reset_index(drop=True)
    note("samples kept", len(df), "kept", f"interval {interval}", df["requests"].sum())
    return Telemetry(df, pd.DataFrame(report, columns=["check", "rows", "action", "detail",
                                                       "requests"]),
                     interval, label)


def _check_columns(df, label: str) -> None:
    """The required columns are there, each once, with rows."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataFileError(f"{label}: missing column(s) {', '.join(missing)}; telemetry needs "
                            f"{', '.join(REQUIRED)} (have: {', '.join(map(str, df.columns))})")
    if df.empty:
        raise DataFileError(f"{label}: no rows")
    if not df.columns.is_unique:
        dup = df.columns[df.columns.duplicated()][0]
        raise DataFileError(f"{label}: column {dup!r} appears more than once")


def _numbers(df, label: str) -> None:
    """The numeric columns as numbers, in place; text (or true/false) is refused by row."""
    import pandas as pd

    for col in _NUMERIC:
        raw = df[col]
        df[col] = pd.to_numeric(raw, errors="coerce")
        bad = df[col].isna() & raw.notna()
        if pd.api.types.is_bool_dtype(raw):
            bad |= True
        elif raw.dtype == object:  # a True among numbers is not a count
            bad |= raw.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)
        if bad.any():
            i = bad.idxmax()
            raise DataFileError(f"{label}, row {i}, column {col!r}: {raw[i]!r} is not a number")


def _drop_unplaceable(df, no_id, note):
    """Drop the samples that cannot be placed, each reason counted with its requests.

    A sample without a replica, a time, a utilisation or requests cannot be costed.
    """
    import pandas as pd

    drop = pd.Series(False, index=df.index)
    masks = (no_id, df["timestamp"].isna(), df["gpu_utilization"].isna(), df["requests"].isna())
    for (check, why), mask in zip(DROPPED, masks, strict=True):
        mask = mask & ~drop
        if mask.any():
            note(check, mask.sum(), "dropped", why, df.loc[mask, "requests"].sum())
            drop |= mask
    return df[~drop]


def _check_values(df, label: str) -> None:
    """No negative or infinite number; ``gpus`` a whole count >= 1 (missing: 1), in place."""
    for col in CHECKED:
        neg = df[col] < 0
        if neg.any():
            i = neg.idxmax()
            raise DataFileError(f"{label}, row {i}, column {col!r}: {df.at[i, col]!r} "
                                + NOT_NEGATIVE)
        inf = np.isinf(df[col])
        if inf.any():
            i = inf.idxmax()
            raise DataFileError(f"{label}, row {i}, column {col!r}: {df.at[i, col]!r} "
                                + NOT_FINITE)
    gpus = df["gpus"].fillna(1.0)
    bad = (gpus < 1) | (gpus % 1 != 0)
    if bad.any():
        i = bad.idxmax()
        raise DataFileError(f"{label}, row {i}, column 'gpus': {df.at[i, 'gpus']!r} " + NOT_GPUS)
    df["gpus"] = gpus


def _in_time_order(df, label: str, note):
    """Each replica's samples forward in time (refused otherwise); a repeated time dropped.

    Returns the samples and the step from each replica's previous sample.
    """
    import pandas as pd

    step = df.groupby("replica_id", sort=False)["timestamp"].diff()
    back = step < pd.Timedelta(0)
    if back.any():
        i = back.idxmax()
        rid = df.at[i, "replica_id"]
        prev = df.loc[:i][df.loc[:i, "replica_id"] == rid]["timestamp"].iloc[-2]
        raise DataFileError(f"{label}, row {i}, column 'timestamp': replica {rid!r} goes back in "
                            f"time ({df.at[i, 'timestamp']} after {prev}); sort each replica's "
                            "samples by time or fix its clock")
    dup = step == pd.Timedelta(0)
    if dup.any():
        note("duplicate sample", dup.sum(), "dropped", "same replica and timestamp; first kept",
             df.loc[dup, "requests"].sum())
        df = df[~dup]
        step = step[~dup]
    return df, step


def _sampling_interval(df, step, interval, label: str, note):
    """The sampling interval (given, or the median step), checked by :func:`check_spacing`.

    Gaps are counted in the report: missing time is neither used nor idle.
    """
    import pandas as pd

    if interval is None:
        pos = step[step > pd.Timedelta(0)] / pd.Timedelta(microseconds=1)
        interval = default_interval(pos.median() if len(pos) else None, len(pos), label)
    interval = _as_interval(interval)
    g = df.groupby("replica_id", sort=False)["timestamp"]
    per = pd.DataFrame({"n": g.count(), "first": g.min(), "last": g.max()})
    check_spacing(per.rename_axis("replica_id").reset_index(), interval, label, note)
    return interval


def _as_interval(interval: Any) -> Any:
    """A sampling interval as a positive ``pandas.Timedelta`` (``"1min"``, a Timedelta ...)."""
    import pandas as pd

    try:
        out = pd.Timedelta(interval)
    except (ValueError, TypeError):
        raise ValueError(f"interval must be a duration such as '1min', got {interval!r}") \
            from None
    if pd.isna(out) or out <= pd.Timedelta(0):
        raise ValueError(f"interval must be positive, got {interval!r}")
    return out


# --------------------------------------------------------------------------- rules of both readers
# The decisions below are the one definition both readers run: this module's read_telemetry
# (pandas) and costkit.fleet.read_telemetry (an engine). Each reader computes the small
# per-replica tables they take in its own way; what is refused, converted or counted is
# decided here only.

_UNITS = ("auto", "fraction", "percent")
_ASK_UNIT = "; pass utilization_unit='fraction' or 'percent'"


def utilization_unit(unit: str, per: Frame, counts: Mapping[str, Any], label: str,
                     example: Any) -> tuple[str, str | None]:
    """The unit of ``gpu_utilization``: given, or decided per replica when the data can tell.

    ``"auto"`` reads a replica whose values exceed 1 as per cent, one with values in (0, 1]
    as fractions, and asks (raises) when the fleet mixes the two, when the replicas in per
    cent have most of their non-zero values below 1 (a fraction with stray values?), or when
    every value is 0 or 1 (idle fractions, or a nearly idle fleet in per cent?).

    Parameters
    ----------
    unit : ``"auto"``, ``"fraction"`` or ``"percent"``
        What the caller said.
    per : DataFrame
        One row per replica: ``replica_id``, ``rmax`` (its largest value), ``nonzero`` and
        ``below`` (its values above 0, and those of them below 1).
    counts : mapping
        Over all samples: ``above_1``, ``above_100`` (values above 1 and 100), ``ones``
        (values equal to 1), ``other`` (values neither 0 nor 1), ``top`` (the largest).
    label : str
        The source, for messages.
    example : callable
        ``example(threshold, message)`` raises :class:`~costkit.DataFileError` naming one
        sample above ``threshold`` (None: the largest) and ``message``.

    Returns
    -------
    tuple
        The unit (``"fraction"`` or ``"percent"``) and the report's note (None for fractions).
    """
    if unit not in _UNITS:
        raise ValueError(f"utilization_unit must be 'auto', 'fraction' or 'percent', got {unit!r}")
    top = 1.0 if unit == "fraction" else 100.0
    if counts["above_1" if unit == "fraction" else "above_100"]:
        what = ("utilisation is a fraction 0-1 or a percentage 0-100" if unit == "auto" else
                f"utilization_unit={unit!r} allows at most {top:g}")
        example(top, f"is above {top:g}; {what}")
    if unit == "auto":
        unit = _unit_from_replicas(per, counts, label, example)
    if unit == "percent":
        return unit, f"largest value {counts['top']:g}; every value was divided by 100"
    return unit, None


def _unit_from_replicas(per: Frame, counts: Mapping[str, Any], label: str, example: Any) -> str:
    """The ``"auto"`` decision of :func:`utilization_unit`, from the per-replica maxima."""
    if counts["ones"] and not counts["other"]:
        raise DataFileError(f"{label}, column 'gpu_utilization': every value is 0 or 1, which "
                            "reads as fractions (idle or saturated) or as per cent (nearly "
                            "idle)" + _ASK_UNIT)
    pct = per[per["rmax"] > 1].sort_values("replica_id")
    frac = per[(per["rmax"] > 0) & (per["rmax"] <= 1)].sort_values("replica_id")
    if len(pct) and len(frac):
        p, f = pct.iloc[0], frac.iloc[0]
        raise DataFileError(
            f"{label}, column 'gpu_utilization': replica {p['replica_id']!r} looks like per "
            f"cent (up to {p['rmax']:g}) and replica {f['replica_id']!r} like a fraction (up "
            f"to {f['rmax']:g}); one file has one unit" + _ASK_UNIT)
    if not len(pct):
        return "fraction"  # fractions, or all zero (the same in both units)
    if pct["below"].sum() > 0.5 * pct["nonzero"].sum():
        example(None, "is above 1 but most values are below 1: a fraction with stray values, "
                      "or a near-idle fleet in per cent?" + _ASK_UNIT)
    return "percent"


def default_interval(median_step_us: Any, steps: int, label: str) -> Any:
    """The sampling interval when none is given: the median step between a replica's samples.

    Parameters
    ----------
    median_step_us : float or None
        The median of the positive steps between each sample and its replica's previous
        one, over all replicas. [us]
    steps : int
        How many positive steps there are.
    label : str
        The source, for messages.

    Returns
    -------
    pandas.Timedelta
        The interval.

    Examples
    --------
    >>> default_interval(60e6, 10, "t")
    Timedelta('0 days 00:01:00')
    """
    import pandas as pd

    if not steps:
        raise DataFileError(f"{label}: each replica has one sample; give interval=")
    return pd.Timedelta(microseconds=float(median_step_us))


_MAX_SPAN_INTERVALS = 1e8
_CLOSEST_STEP = 0.9  # samples closer than 0.9 intervals overlap: time counted twice


def check_spacing(per: Frame, interval: Any, label: str, note: Any) -> None:
    r"""Refuse samples closer than the interval; count the missing ones.

    A replica with :math:`n` samples from :math:`t_0` to :math:`t_1` spans
    :math:`s = (t_1 - t_0) / \Delta t` intervals. It is refused when
    :math:`n > \lfloor s / 0.9 \rfloor + 1` (its samples would overlap: time counted
    twice) or when :math:`s > 10^8`; :math:`\max(0, \mathrm{round}(s) + 1 - n)` samples
    are missing (neither used nor idle).

    Parameters
    ----------
    per : DataFrame
        One row per replica: ``replica_id``, ``n``, ``first``, ``last``.
    interval : pandas.Timedelta
        The sampling interval :math:`\Delta t`.
    label : str
        The source, for messages.
    note : callable
        ``note(check, rows, action, detail)`` adds a line to the reader's report.
    """
    import pandas as pd

    span = (pd.to_datetime(per["last"]) - pd.to_datetime(per["first"])) / interval
    if len(span) and span.max() > _MAX_SPAN_INTERVALS:
        raise DataFileError(f"{label}: a replica's samples span {span.max():,.0f} intervals of "
                            f"{interval}; check the timestamps and the interval")
    tight = per[per["n"] > np.floor(span / _CLOSEST_STEP) + 1]
    if len(tight):
        r = tight.sort_values("replica_id").iloc[0]
        raise DataFileError(f"{label}: replica {r['replica_id']!r} has {int(r['n']):,} samples "
                            f"between {r['first']} and {r['last']}, closer than "
                            f"interval={interval} (time counted twice); give the sampling "
                            "interval of the data")
    missing = (span.round().astype("int64") + 1 - per["n"]).clip(lower=0)
    if missing.sum():
        note("missing samples", int(missing.sum()), "kept",
             f"{int((missing > 0).sum())} replicas have gaps; the missing time counts as "
             "neither used nor idle")


def _payload(p, value):
    if isinstance(p, dict):
        return p
    if not isinstance(p, str | Path):
        raise TypeError(f"{value}: a Prometheus payload is a dict, JSON text or a .json path, "
                        f"got {type(p).__name__}")
    s = str(p)
    where = "the JSON text"
    try:
        if not s.lstrip().startswith(("{", "[")):
            where = s
            s = Path(s).read_text(encoding="utf-8")
        out = json.loads(s)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{value}: cannot read {where}: {exc}") from None
    if not isinstance(out, dict):
        raise ValueError(f"{value}: a query_range answer is a JSON object with status and data, "
                         f"got {type(out).__name__}")
    return out


def _one_metric(payload, value, id_label):
    import pandas as pd

    p = _payload(payload, value)
    if p.get("status") != "success":
        raise ValueError(f"Prometheus answered {p.get('status')!r} for {value}: "
                         f"{p.get('errorType', '')} {p.get('error', '')}".strip())
    data = p.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{value}: expected a query_range result (resultType 'matrix'), got "
                         f"{kind!r}")
    result = data.get("result") or []
    if not isinstance(result, list):
        raise ValueError(f"{value}: 'result' must be a list of series")
    if not result:
        raise ValueError(f"{value}: the Prometheus result is empty: the query matched no series "
                         "in that time range")
    frames = []
    for k, series in enumerate(result):
        if not isinstance(series, dict) or not isinstance(series.get("metric", {}), dict):
            raise ValueError(f"{value}: series {k} is not an object with 'metric' and 'values'")
        labels = dict(series.get("metric", {}))
        if id_label not in labels:
            raise ValueError(f"{value}: a series has no {id_label!r} label (labels: "
                             f"{sorted(labels)}); pass id_label=")
        try:
            vals = np.asarray(series.get("values", []), dtype=object).reshape(-1, 2)
            seconds = vals[:, 0].astype(float)
        except (ValueError, TypeError):
            raise ValueError(f"{value}: series {k}'s values are not [time, value] pairs") \
                from None
        if not np.isfinite(seconds).all():
            raise ValueError(f"{value}: series {k} has a time that is not a number")
        far = _epoch_outside(seconds, "s")
        if far is not None:
            raise ValueError(f"{value}: series {k}, sample {far}: "
                             + _epoch_words(float(seconds[far]), "s"))
        numbers = pd.to_numeric(pd.Series(vals[:, 1]), errors="coerce").to_numpy(dtype=float,
                                                                             copy=True)
        numbers[~np.isfinite(numbers)] = np.nan  # "NaN", "+Inf", "-Inf": no measurement
        f = pd.DataFrame({"timestamp": pd.to_datetime(seconds, unit="s", utc=True),
                          value: numbers})
        f["replica_id"] = str(labels.pop(id_label))
        labels.pop("__name__", None)
        for key, v in labels.items():
            f[key] = v
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    dropped = int(out[value].isna().sum())
    return out.dropna(subset=[value]), dropped


def read_prometheus(payloads: Mapping[str, Any], *, id_label: str = "replica") -> Frame:
    """Prometheus ``query_range`` JSON to a long DataFrame ready for :func:`read_telemetry`.

    Parameters
    ----------
    payloads : dict
        ``column name -> payload``, one query per metric, e.g.
        ``{"gpu_utilization": ..., "requests": ...}``; a payload is the parsed
        JSON (a dict), its text, or a path to a ``.json`` file.
    id_label : str
        The series label that names the replica (becomes ``replica_id``).
        Other labels (``gpu``, ``model``, ``team`` ...) become columns.

    Returns
    -------
    DataFrame
        ``timestamp``, ``replica_id``, the labels and one column per metric, outer-joined
        on (``timestamp``, ``replica_id``). ``attrs["dropped"]`` counts the samples whose
        value was not a finite number ("NaN", "+Inf", "-Inf"), per metric: they are dropped.

    Raises
    ------
    ValueError
        An error status, a non-matrix result or an empty result.

    Examples
    --------
    One ``query_range`` result per metric, as Prometheus returns it:

    >>> series = {"metric": {"replica": "r1", "model": "re-ranker"},
    ...           "values": [[1764547200, "0.5"], [1764547260, "0.7"]]}
    >>> payload = {"status": "success", "data": {"resultType": "matrix", "result": [series]}}
    >>> read_prometheus({"gpu_utilization": payload})[["replica_id", "gpu_utilization"]]
      replica_id  gpu_utilization
    0         r1              0.5
    1         r1              0.7
    """
    if not isinstance(payloads, dict) or not payloads or "status" in payloads:
        raise TypeError("payloads must be a dict: column name -> query_range payload")
    frames, dropped = [], {}
    for value, p in payloads.items():
        f, dropped[value] = _one_metric(p, value, id_label)
        frames.append(f)
    out = frames[0]
    for f in frames[1:]:
        keys = [c for c in f.columns if c in out.columns]  # time, replica, shared labels
        out = out.merge(f, on=keys, how="outer")
    out = out.sort_values(["replica_id", "timestamp"]).reset_index(drop=True)
    out.attrs["dropped"] = dropped
    return out
