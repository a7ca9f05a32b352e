r"""The monitoring pipeline at fleet scale: relational expressions run where the data is.

:mod:`costkit.monitoring` works on pandas frames in memory. A year of one-minute
samples for 1,000 replicas is 525 million rows, and a platform team's bills live in
a warehouse. This module writes the same chain once, as Ibis expressions [1], and
runs it on the engine the data sits in:

- embedded **DuckDB** [2] by default: it streams Parquet and CSV globs and spills
  to ``temp_directory`` past ``memory_limit``, so files larger than memory are fine;
- **Apache Spark** [3] (``connect("spark")`` starts a local session; pass your
  cluster's ``SparkSession`` as ``session=``);
- any other engine Ibis connects to (BigQuery, Snowflake, Trino ...): pass
  ``con=ibis.<engine>.connect(...)`` and the tables as ``con.table("telemetry")``.

The chain, each step with the columns and numbers of its pandas twin:

1. :func:`read_telemetry` validates the samples in the engine (the checks of
   :func:`costkit.telemetry.read_telemetry`; every dropped row is counted in the
   report with its requests) and gives a :class:`FleetTelemetry`;
2. :func:`bill_hours` spreads the FOCUS usage lines over UTC clock hours
   (:func:`costkit.billing.focus_resource_hours`); purchases, taxes and credits are
   summed apart;
3. :func:`cost_usage` joins usage and bill per replica-hour (cached in the engine);
4. :func:`chargeback`, :func:`slo_violations` and :func:`alerts` aggregate in the
   engine and bring back small pandas tables.

Steps 2 to 4 run the rules of :mod:`costkit.bill_lines` and :mod:`costkit.usage_lines`,
the one definition :mod:`costkit.billing` and :mod:`costkit.monitoring` run too.

What differs from the pandas reader, because a table has no row order: two samples
of a replica at one time are dropped as duplicates only when they are identical (the
pandas reader keeps the first in file order; here samples that differ are refused,
not guessed between); time running backwards within a file cannot be seen and does
not matter; messages name a replica and a time instead of a row number; text
timestamps without a zone are read as UTC (and said so), other zones are refused.

References
----------
- [1] Ibis, "the portable Python dataframe library", https://ibis-project.org
- [2] DuckDB, "Tuning workloads" (spilling to disk past the memory limit),
  https://duckdb.org/docs/stable/guides/performance/how_to_tune_workloads
- [3] Apache Spark SQL, https://spark.apache.org/docs/latest/sql-programming-guide.html
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from costkit import bill_lines, usage_lines
from costkit._relational import DUCKDB_SESSION
from costkit._relational import execute as _execute
from costkit._relational import ibis as _ibis
from costkit._relational import one as _one
from costkit._tables import DataFileError, glob_files
from costkit.telemetry import CHECKED, DROPPED, NOT_FINITE, NOT_GPUS, NOT_NEGATIVE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._typing import Frame, StrPath

__all__ = ["FleetBill", "FleetCosted", "FleetTelemetry", "alerts", "bill_hours", "chargeback",
           "connect", "cost_usage", "read_telemetry", "slo_violations", "usage_by_hour"]

_ENGINES = ("duckdb", "spark")
_DEDUP_ROWS = 20_000_000  # samples per GiB of DuckDB's memory per window of the duplicate check
_ZONED = r"([Zz]|[+-][0-9][0-9](:?[0-9][0-9])?)$"


# --------------------------------------------------------------------------- engines


def connect(engine: str = "duckdb", *, memory_limit: str = "2GB", threads: int | None = None,
            temp_directory: StrPath | None = None, session: Any = None) -> Any:
    """An Ibis connection to the engine that runs the pipeline, in UTC.

    Parameters
    ----------
    engine : ``"duckdb"`` or ``"spark"``, default 'duckdb'
        Embedded DuckDB (out of core on one machine) or Apache Spark.
    memory_limit : str, default '2GB'
        DuckDB's memory limit; past it, DuckDB spills to ``temp_directory``. [bytes, as text]
    threads : int, optional
        DuckDB worker threads; default one per core.
    temp_directory : str or Path, optional
        Where DuckDB spills; default DuckDB's own (``.tmp`` beside the database).
    session : pyspark.sql.SparkSession, optional
        The Spark session to run on (your cluster's); default a local session with all
        cores. Its ``spark.sql.session.timeZone`` must be UTC.

    Returns
    -------
    ibis.BaseBackend
        The connection: pass it as ``con=`` to the readers.

    Examples
    --------
    >>> con = connect(memory_limit="1GB", threads=1)
    >>> con.name
    'duckdb'
    """
    ibis = _ibis()
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {_ENGINES}, got {engine!r}; other engines: "
                         "pass con=ibis.<engine>.connect(...) to the readers")
    if engine == "duckdb":
        config: dict[str, Any] = {"memory_limit": str(memory_limit),
                                  "preserve_insertion_order": False}
        if threads is not None:
            config["threads"] = int(threads)
        if temp_directory is not None:
            config["temp_directory"] = str(temp_directory)
        con = ibis.duckdb.connect(**config)
        for setting in DUCKDB_SESSION:
            con.raw_sql(setting)
        return con
    if session is None:
        from ._optional import require

        require("pyspark", "the Spark engine")
        from pyspark.sql import SparkSession

        # the workers run this interpreter (with pandas), not whatever python is on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        session = (SparkSession.builder.master("local[*]").appName("costkit")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "8").getOrCreate())
    zone = session.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "Z", "+00:00"):
        raise ValueError(f"the Spark session's time zone is {zone!r}; costkit works in UTC: "
                         "set spark.sql.session.timeZone to UTC")
    return ibis.pyspark.connect(session)


def _con(con):
    return connect() if con is None else con


def _table(source, con, what):
    """An Ibis table from a path / glob / list, a pandas DataFrame or an Ibis table.

    Returns the table, its label for messages, and the names of its timestamp columns that
    are instants although Ibis types them without a zone (Spark's ``TIMESTAMP``).
    """
    ibis = _ibis()
    if isinstance(source, ibis.expr.types.Table):
        return source, f"the {what} table", set()
    if type(source).__name__ == "DataFrame":
        return ibis.memtable(source), f"the {what} DataFrame", set()
    if isinstance(source, bytes) or not isinstance(source, str | Path) and not hasattr(
            source, "__iter__"):
        raise TypeError(f"{what} is a file, a glob, a list of them, a DataFrame or an Ibis "
                        f"table, got {type(source).__name__}")
    files = glob_files(source, what, "row")
    label = files[0] if len(files) == 1 else f"{len(files)} {what} files"
    parquet = files[0].lower().endswith(".parquet")
    if con.name == "pyspark":  # Spark reads a list of files through its session
        reader = con._session.read
        # RFC 4180: a quote inside a quoted field is doubled (Spark's default escape is "\\")
        frame = reader.parquet(*files) if parquet else reader.csv(files, header=True,
                                                                   inferSchema=True, escape='"')
        if not parquet and what == "telemetry" and "timestamp" in frame.columns:
            # as with DuckDB: the text's zone is ours to read, not the CSV inference's
            from pyspark.sql.types import StringType, StructField, StructType

            schema = StructType([StructField(f.name, StringType()) if f.name == "timestamp"
                                 else f for f in frame.schema.fields])
            frame = reader.schema(schema).csv(files, header=True, escape='"')
        name = f"costkit_{what}_{abs(hash(tuple(files))):x}"
        frame.createOrReplaceTempView(name)
        # Spark's TIMESTAMP is an instant; only TIMESTAMP_NTZ is a wall-clock time
        instants = {f.name for f in frame.schema.fields
                    if type(f.dataType).__name__ == "TimestampType"}
        return con.table(name), label, instants
    if parquet:
        return con.read_parquet(files), label, set()
    table = con.read_csv(files)
    if what == "telemetry" and "timestamp" in table.columns and \
            table.timestamp.type().is_timestamp():
        # DuckDB's sniffer types "...Z" and "...+08:00" text as zoned in one version and as
        # naive in another; read as text, the zone is ours to see (_time_column)
        table = con.read_csv(files, types={"timestamp": "VARCHAR"})
    return table, label, set()


_ENGINE_MODULES = ("duckdb", "pyspark", "py4j", "ibis")


def _from_engine(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by the engine (DuckDB, Spark) rather than by costkit."""
    return str(type(exc).__module__ or "").split(".")[0].lstrip("_") in _ENGINE_MODULES


def _reader(what: str):
    """Decorate a reader: an engine's own error on a malformed source becomes a DataFileError.

    The message names the source (a file, a glob, a list of files, a table) and the engine's
    first line.
    """

    def wrap(fn):
        @functools.wraps(fn)
        def read(source, *args, **kwargs):
            try:
                return fn(source, *args, **kwargs)
            except Exception as exc:
                if isinstance(exc, DataFileError) or not _from_engine(exc):
                    raise
                label = (str(source) if isinstance(source, str | Path) else
                         f"{len(source)} {what} files" if isinstance(source, list | tuple)
                         else f"the {what}")
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise DataFileError(f"{label}: the engine cannot read it as {what} "
                                    f"({type(exc).__name__}: {first[:300]})") from None

        return read

    return wrap


# --------------------------------------------------------------------------- telemetry


@dataclass
class FleetTelemetry:
    """Validated samples in an engine: ``table`` (an Ibis expression), ``report``, ``interval``.

    ``table`` has the columns of :attr:`costkit.telemetry.Telemetry.frame` (utilisation
    a fraction, timestamps UTC, dropped rows filtered out) and is evaluated lazily by
    ``con``. ``report`` is a pandas table like :attr:`costkit.telemetry.Telemetry.report`.
    """

    table: Any
    report: Frame
    interval: Any  # pandas.Timedelta: the sampling step
    con: Any
    label: str = "telemetry"

    @property
    def interval_hours(self) -> float:
        """Sampling interval [h]."""
        return self.interval / np.timedelta64(1, "h")

    def __repr__(self) -> str:
        lines = [f"FleetTelemetry {self.label!r} on {self.con.name}, every {self.interval}"]
        for _, r in self.report.iterrows():
            lines.append(f"  {r.check}: {r.rows:,} rows {r.action} ({r.detail})")
        return "\n".join(lines)


def _numbers(con, t, label):
    """The numeric columns as float64; text that is not a number is refused with an example."""
    import ibis.expr.datatypes as dt

    from costkit.telemetry import _NUMERIC

    ibis = _ibis()
    cols = {}
    for c in _NUMERIC:
        col = t[c]
        kind = col.type()
        if kind.is_boolean():
            raise DataFileError(f"{label}, column {c!r}: true/false is not a number")
        if kind.is_numeric():
            # NaN is missing, as in pandas: SQL engines sort NaN above every number, so a NaN
            # latency would "exceed" any SLO and a NaN utilisation would pass as a value
            col = col.cast(dt.float64)
            cols[c] = col.isnan().ifelse(ibis.null(dt.float64), col) if kind.is_floating() \
                else col
        elif kind.is_null():
            cols[c] = col.cast(dt.float64)
        else:
            num = col.cast(dt.string).strip().try_cast(dt.float64)
            bad = t.filter(num.isnull() & col.notnull() & (col.cast(dt.string).strip() != ""))
            example = con.execute(bad.select(bad[c]).limit(1))
            if len(example):
                raise DataFileError(f"{label}, column {c!r}: {example.iloc[0, 0]!r} is not a "
                                    "number")
            cols[c] = num
    return cols


def _time_column(con, t, label, timezone, epoch_unit, instant):
    """The timestamp column as a UTC timestamp expression and a note for the report.

    ``instant``: the engine stores the column as an instant though Ibis shows no zone.
    """
    import ibis.expr.datatypes as dt

    if timezone not in (None, "UTC"):
        raise ValueError(f"timezone={timezone!r}: the fleet pipeline reads UTC only; convert the "
                         "timestamps to UTC first (or use costkit.telemetry.read_telemetry)")
    col = t["timestamp"]
    kind = col.type()
    if kind.is_boolean():
        raise DataFileError(f"{label}, column 'timestamp': true/false is not a time")
    if kind.is_numeric():
        if epoch_unit not in ("s", "ms", "us"):
            raise DataFileError(
                f"{label}, column 'timestamp': the times are numbers; say what they count: "
                "read_telemetry(..., epoch_unit='s') (or 'ms', 'us')")
        return col.cast(dt.int64).as_timestamp(epoch_unit), f"read as epoch {epoch_unit}"
    if kind.is_timestamp():
        utc = col.cast(dt.Timestamp(timezone="UTC")) if kind.timezone else col
        return utc.cast(dt.timestamp), None if kind.timezone or instant else "naive"
    text = col.cast(dt.string).strip()
    counts = con.execute(t.aggregate(zoned=text.re_search(_ZONED).sum(),
                                     naive=(~text.re_search(_ZONED) & text.notnull()).sum()))
    zoned, naive = int(counts["zoned"].iloc[0] or 0), int(counts["naive"].iloc[0] or 0)
    if zoned and naive and timezone is None:
        raise DataFileError(f"{label}, column 'timestamp': {naive:,} times have no time zone "
                            "but others do; say what zone the naive ones are in: "
                            "read_telemetry(..., timezone='UTC')")
    parsed = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.timestamp)
    return parsed, "naive" if naive else None


def _example(con, table, cond, column, label, message):
    """Raise ``message`` with one offending row (replica, time, value) as the example."""
    ex = con.execute(table.filter(cond).select("replica_id", "timestamp", column).limit(1))
    r = ex.iloc[0]
    raise DataFileError(f"{label}, replica {r['replica_id']!r} at {r['timestamp']}, column "
                        f"{column!r}: {r[column]!r} {message}")


@_reader("telemetry")
def read_telemetry(source: Any, *, con: Any = None, interval: Any = None,
                   utilization_unit: str = "auto", timezone: str | None = None,
                   epoch_unit: str | None = None, label: str | None = None) -> FleetTelemetry:
    """Validate telemetry where it lies (files, a DataFrame or an engine's table).

    The checks of :func:`costkit.telemetry.read_telemetry`, run as aggregates in the
    engine: required columns; numbers that are numbers; rows without a replica, a time,
    a utilisation or requests dropped and counted with their requests; negative or
    infinite values and GPU counts that are not whole numbers refused; utilisation in
    per cent detected per replica as the pandas reader does (or given); duplicate
    samples; samples too close for the interval refused, missing ones counted (the decisions of
    :mod:`costkit.telemetry`, run on per-replica aggregates).

    Parameters
    ----------
    source : str, Path, list, DataFrame or ibis Table
        CSV or Parquet files (paths or globs), a DataFrame, or a table of ``con``.
    con : ibis backend, optional
        The engine (:func:`connect`); default a new DuckDB connection.
    interval : str or Timedelta, optional
        Sampling interval (``"1min"``); default the median step between a replica's
        samples (:func:`costkit.telemetry.default_interval`), which takes one more pass
        over the samples (a window: 2 s more at 1e7 samples on two cores).
    utilization_unit : ``"auto"``, ``"fraction"`` or ``"percent"``, default 'auto'
        The unit of ``gpu_utilization``, as in :func:`costkit.telemetry.read_telemetry`.
    timezone : None or ``"UTC"``, optional
        Naive timestamps are UTC; other zones are refused (convert first).
    epoch_unit : ``"s"``, ``"ms"`` or ``"us"``, optional
        Required when the timestamps are numbers.
    label : str, optional
        Name used in messages; default the file name.

    Returns
    -------
    FleetTelemetry
        The cleaned table (lazy), its report and its interval.

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = read_telemetry(week.telemetry, con=connect(threads=1))
    >>> tel.interval_hours, int(tel.report.set_index("check").at["samples kept", "rows"])
    (0.25, 1150)
    """
    import ibis.expr.datatypes as dt
    import pandas as pd

    from costkit.telemetry import OPTIONAL, REQUIRED, check_spacing

    ibis = _ibis()
    con = _con(con)
    raw, default_label, instants = _table(source, con, "telemetry")
    label = label or default_label
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DataFileError(f"{label}: missing column(s) {', '.join(missing)}; telemetry needs "
                            f"{', '.join(REQUIRED)} (have: {', '.join(raw.columns)})")
    def default(v):  # text, a number, or missing (NULL, not NaN: see _numbers)
        if isinstance(v, str):
            return ibis.literal(v, type=dt.string)
        v = float(v)
        return ibis.null(dt.float64) if v != v else ibis.literal(v, type=dt.float64)

    t = raw.mutate(**{c: default(v) for c, v in OPTIONAL.items() if c not in raw.columns})
    nums = _numbers(con, t, label)
    ts, when = _time_column(con, t, label, timezone, epoch_unit, "timestamp" in instants)
    rid = t["replica_id"].cast(dt.string).strip()
    text = {c: t[c].cast(dt.string).fill_null("") for c in ("gpu", "model", "team")}
    t = t.select(timestamp=ts, replica_id=rid, **text, **nums)
    reasons = (t.replica_id.isnull() | (t.replica_id == ""), t.timestamp.isnull(),
               t.gpu_utilization.isnull(), t.requests.isnull())
    why = ibis.cases(*[(cond, check) for cond, (check, _) in zip(reasons, DROPPED, strict=True)],
                     else_=ibis.null(dt.string))
    marked = t.mutate(_drop=why)
    counts = _execute(con, marked.group_by("_drop").aggregate(
        rows=marked.count(), requests=marked.requests.sum()))
    if counts["rows"].sum() == 0:
        raise DataFileError(f"{label}: no rows")
    replicas = int(_one(con, t.aggregate(n=t.replica_id.nunique()))["n"])
    report: list[dict] = []

    def note(check, rows, action, detail, requests=0.0):
        report.append({"check": check, "rows": int(rows), "action": action, "detail": detail,
                       "requests": float(requests or 0.0)})

    note("rows read", counts["rows"].sum(), "kept", f"{replicas:,} replicas",
         counts["requests"].sum())
    for check, detail in DROPPED:
        hit = counts[counts["_drop"] == check]
        if len(hit):
            note(check, hit["rows"].iloc[0], "dropped", detail, hit["requests"].iloc[0])
    kept = marked.filter(marked._drop.isnull()).drop("_drop")
    kept = kept.mutate(gpus=kept.gpus.fill_null(1.0))
    if when == "naive":
        note("timestamps without a zone", counts.loc[counts["_drop"].isna(), "rows"].sum(),
             "converted", "read as UTC (pass timezone= if they are local time)")
    elif when is not None:
        note("timestamps as numbers", counts.loc[counts["_drop"].isna(), "rows"].sum(),
             "converted", when)
    # one pass for every value check and the totals, one for a row per replica
    stats = _one(con, kept.aggregate(**_value_checks(kept)))
    if not stats["n"]:
        raise DataFileError(f"{label}: no sample is left to cost: every row was dropped "
                            f"({', '.join(r['check'] for r in report[1:])})")
    _refuse_bad_values(con, kept, label, stats)
    u = kept.gpu_utilization
    per = _execute(con, kept.group_by("replica_id").aggregate(
        n=kept.count(), first=kept.timestamp.min(), last=kept.timestamp.max(), rmax=u.max(),
        nonzero=(u > 0).sum(), below=((u > 0) & (u < 1)).sum()))
    kept, converted = _utilization(con, kept, label, utilization_unit, stats, per)
    if converted:
        note("utilisation in per cent", counts.loc[counts["_drop"].isna(), "rows"].sum(),
             "converted", converted)
    kept, extra, extra_requests = _deduplicated(con, kept, label, note, per, stats["n"])
    if extra:  # a replica's count without its duplicates
        per = per.drop(columns="n").merge(_execute(con, kept.group_by("replica_id").aggregate(
            n=kept.count())), on="replica_id")
    interval = _interval(con, kept, label, interval)
    check_spacing(per, interval, label, note)
    note("samples kept", stats["n"] - extra, "kept", f"interval {interval}",
         (stats["requests"] or 0.0) - extra_requests)
    return FleetTelemetry(kept, pd.DataFrame(report, columns=["check", "rows", "action",
                                                              "detail", "requests"]),
                          interval, con, label)


def _value_checks(t) -> dict:
    """The aggregates of one pass: totals, negative and infinite values, GPU counts, utilisation."""
    u = t.gpu_utilization
    checks = {"n": t.count(), "requests": t.requests.sum(), "u_top": u.max(),
              "u_above_1": (u > 1).sum(), "u_above_100": (u > 100).sum(), "u_ones": (u == 1).sum(),
              "u_other": (~u.isin([0.0, 1.0])).sum(),
              "gpus": ((t.gpus < 1) | (t.gpus % 1 != 0)).sum()}
    checks.update({f"neg_{c}": (t[c] < 0).sum() for c in CHECKED})
    checks.update({f"inf_{c}": t[c].isinf().sum() for c in CHECKED})
    return checks


def _refuse_bad_values(con, t, label, found):
    """Negative or infinite numbers and GPU counts that are not whole numbers >= 1."""
    for c in CHECKED:
        if found[f"neg_{c}"]:
            _example(con, t, t[c] < 0, c, label, NOT_NEGATIVE)
        if found[f"inf_{c}"]:
            _example(con, t, t[c].isinf(), c, label, NOT_FINITE)
    if found["gpus"]:
        _example(con, t, (t.gpus < 1) | (t.gpus % 1 != 0), "gpus", label, NOT_GPUS)


def _utilization(con, t, label, unit, stats, per):
    """Utilisation as a fraction, the unit decided by :func:`costkit.telemetry.utilization_unit`.

    ``stats`` are the one-pass aggregates (:func:`_value_checks`), ``per`` the per-replica
    table (``rmax``, ``nonzero``, ``below``).
    """
    from costkit.telemetry import utilization_unit

    u = t.gpu_utilization
    counts = {"above_1": stats["u_above_1"], "above_100": stats["u_above_100"],
              "ones": stats["u_ones"], "other": stats["u_other"], "top": stats["u_top"]}

    def example(threshold, message):
        _example(con, t, u > threshold if threshold is not None else u == stats["u_top"],
                 "gpu_utilization", label, message)

    unit, note = utilization_unit(unit, per, counts, label, example)
    if unit == "percent":
        return t.mutate(gpu_utilization=u / 100.0), note
    return t, None


def _window_rows(con) -> int:
    """Samples per window of the duplicate check: ``_DEDUP_ROWS`` per GiB of DuckDB's limit."""
    if con.name != "duckdb":
        return 10**12  # Spark and the warehouses spill their own aggregations: one window
    text = str(con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0])
    number, _, unit = text.partition(" ")
    scale = {"KiB": 2**-20, "MiB": 2**-10, "GiB": 1.0, "TiB": 2**10}.get(unit, 1.0)
    try:
        gib = float(number) * scale
    except ValueError:
        gib = 1.0
    return max(1_000_000, int(_DEDUP_ROWS * gib))


def _duplicate_keys(con, t, per, rows):
    """(replica, timestamp) pairs with more than one sample, and how many extra, as pandas.

    Two samples of one time fall in the same time window, so the check runs window by
    window, ``_DEDUP_ROWS`` samples per GiB of DuckDB's memory limit at a time: each
    window's hash table then fits (DuckDB 2.0 could not spill one table of 100 million
    keys in 1 GB: "Out of Memory Error"). Each window reads the samples again.
    """
    import pandas as pd

    ibis = _ibis()
    start = pd.Timestamp(per["first"].min()).tz_convert(None)
    stop = pd.Timestamp(per["last"].max()).tz_convert(None) + pd.Timedelta(microseconds=1)
    k = max(1, -(-int(rows) // _window_rows(con)))
    edges = [start + (stop - start) * i / k for i in range(k)] + [stop]
    found = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        w = t.filter((t.timestamp >= ibis.literal(a)) & (t.timestamp < ibis.literal(b)))
        keys = w.group_by(["replica_id", "timestamp"]).aggregate(n=w.count())
        found.append(_execute(con, keys.filter(keys.n > 1)))
    return pd.concat(found, ignore_index=True)


def _deduplicated(con, t, label, note, per, rows):
    """Identical samples of a replica at one time dropped (counted); differing ones refused."""
    ibis = _ibis()
    keys = _duplicate_keys(con, t, per, rows)
    if keys.empty:
        return t, 0, 0.0
    extra = int((keys["n"] - 1).sum())
    keys = keys.assign(timestamp=keys["timestamp"].dt.tz_convert(None))
    k = ibis.memtable(keys[["replica_id", "timestamp"]])
    dup = t.semi_join(k, ["replica_id", "timestamp"])
    distinct = dup.distinct()
    per_key = distinct.group_by(["replica_id", "timestamp"]).aggregate(n=distinct.count())
    differ = con.execute(per_key.filter(per_key.n > 1).limit(1))
    if len(differ):
        r = differ.iloc[0]
        raise DataFileError(f"{label}: replica {r.replica_id!r} has {int(r.n)} different samples "
                            f"at {r.timestamp}; keep one (the engine has no file order to "
                            "choose by)")
    requests = _one(con, dup.aggregate(r=dup.requests.sum()))["r"]
    kept = _one(con, distinct.aggregate(r=distinct.requests.sum()))["r"]
    extra_requests = (requests or 0.0) - (kept or 0.0)
    note("duplicate sample", extra, "dropped", "same replica and timestamp, identical; one kept",
         extra_requests)
    # the samples without a duplicate, and one of each identical set
    return t.anti_join(k, ["replica_id", "timestamp"]).union(distinct), extra, extra_requests


def _interval(con, t, label, interval):
    """The sampling interval: given, or :func:`costkit.telemetry.default_interval` of the steps.

    The steps are each sample's distance to its replica's previous one (a window in the
    engine); only their count and median come back.
    """
    from costkit.telemetry import _as_interval, default_interval

    if interval is None:
        ibis = _ibis()
        w = ibis.window(group_by="replica_id", order_by="timestamp")
        s = t.mutate(step_us=t.timestamp.delta(t.timestamp.lag().over(w), unit="microsecond"))
        s = s.filter(s.step_us > 0)
        found = _one(con, s.aggregate(median=s.step_us.median(), n=s.count()))
        return default_interval(found["median"], found["n"] or 0, label)
    return _as_interval(interval)


# --------------------------------------------------------------------------- usage and bill


def usage_by_hour(tel: FleetTelemetry) -> Any:
    """Each replica's clock hours, as :func:`costkit.monitoring.usage_by_hour` (an expression).

    Parameters
    ----------
    tel : FleetTelemetry
        Validated telemetry from :func:`read_telemetry`.

    Returns
    -------
    ibis Table
        ``replica_id``, ``hour``, ``model``, ``team``, ``gpu``, ``gpus``, ``samples``,
        ``replica_hours`` [h], ``busy_replica_hours`` [h], ``requests``, ``errors``,
        ``latency_p95_s`` [s].

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = read_telemetry(week.telemetry, con=connect(threads=1))
    >>> int(tel.con.execute(usage_by_hour(tel).count()))
    288
    """
    return usage_lines.hourly(tel.table, tel.interval_hours)


@dataclass
class FleetBill:
    """The bill's usage per resource and UTC hour (``table``, lazy) and what is not usage.

    Costs in USD; ``fx`` lists the exchange rates used (none for a bill in USD).
    """

    table: Any
    not_usage: Frame
    con: Any
    label: str = "bill"
    fx: tuple = ()


@_reader("a FOCUS bill")
def bill_hours(source: Any, *, con: Any = None) -> FleetBill:
    """Effective and billed cost of each resource in each UTC clock hour, in the engine.

    The rules of :mod:`costkit.bill_lines`, the one definition
    :func:`costkit.billing.focus_resource_hours` runs too: a line that touches several
    clock hours is spread evenly over them; with ``ChargeCategory``, only usage is spread
    and the other lines are summed per category in ``not_usage``. A line without its
    period or cost, one that ends before it starts, a non-finite or too large cost, tags
    that are not a JSON object, more than one currency, or a line longer than a year is
    refused.

    Parameters
    ----------
    source : str, Path, list, DataFrame or ibis Table
        FOCUS export(s): CSV or Parquet files or globs, a DataFrame, or a table of ``con``.
    con : ibis backend, optional
        The engine (:func:`connect`); default a new DuckDB connection.

    Returns
    -------
    FleetBill
        ``table``: ``resource_id``, ``hour``, ``effective_cost``, ``billed_cost``,
        ``service``, ``tags`` [USD: another ``BillingCurrency`` is converted by
        :func:`costkit.bill_lines.usd_rates`, the rates in ``fx``]; ``not_usage`` per
        ChargeCategory.

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> b = bill_hours(week.bill, con=connect(threads=1))
    >>> round(float(b.con.execute(b.table.effective_cost.sum())), 2)
    444.81
    """
    con = _con(con)
    raw, label, _ = _table(source, con, "bill")
    hours = bill_lines.resource_hours(con, raw, label)
    return FleetBill(hours.table, hours.not_usage, con, label, hours.fx)


# --------------------------------------------------------------------------- cost of usage


@dataclass
class FleetCosted:
    """Costed replica-hours in the engine (``table``, cached) and the report of the join."""

    table: Any
    report: Frame
    not_usage: Frame
    con: Any
    interval_hours: float
    fx: tuple = ()  # the exchange rates the bill was converted to USD at


def cost_usage(tel: FleetTelemetry, bill: FleetBill) -> FleetCosted:
    """Join hourly usage to the bill per replica-hour, in the engine.

    The columns and rules of :func:`costkit.monitoring.cost_usage`: ``cost_usd``
    (effective), ``billed_usd``, ``utilization``, ``busy_usd``, ``idle_usd``,
    ``idle_gpu_hours``, ``unobserved_usd`` (billed hours without telemetry: owners from
    the line's tags) and ``unbilled``. The result is cached in the engine (a temporary
    table in DuckDB, a cached frame in Spark), so the tables after it do not read the
    telemetry again.

    Parameters
    ----------
    tel : FleetTelemetry
        Validated telemetry from :func:`read_telemetry`.
    bill : FleetBill
        The bill's resource-hours from :func:`bill_hours`, on the same engine.

    Returns
    -------
    FleetCosted
        The costed replica-hours and the report of hours on one side only. [USD]

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> con = connect(threads=1)
    >>> costed = cost_usage(read_telemetry(week.telemetry, con=con),
    ...                     bill_hours(week.bill, con=con))
    >>> round(float(con.execute(costed.table.cost_usd.sum())), 2)
    444.81
    """
    con = tel.con
    if bill.con is not con:
        raise ValueError("the telemetry and the bill are on different connections; read both "
                         "with the same con=")
    use = usage_lines.cached(con, usage_by_hour(tel))  # read the samples once, not per join
    out = usage_lines.cached(con, usage_lines.costed(con, use, bill.table, where=bill.label))
    report = usage_lines.join_report(usage_lines.join_counts(con, out), bill.not_usage,
                                     "not_usage")
    return FleetCosted(out, report, bill.not_usage, con, tel.interval_hours, bill.fx)


# --------------------------------------------------------------------------- tables


def chargeback(costed: FleetCosted, *, by: str | Sequence[str] = ("team", "model"),
               freq: str | None = "D") -> Frame:
    """Realised cost per period and key, aggregated in the engine.

    The table of :func:`costkit.monitoring.chargeback`, with the same index and
    columns (``p95_utilization`` is the exact 95th percentile, linearly interpolated,
    as pandas computes it).

    Parameters
    ----------
    costed : FleetCosted
        Costed replica-hours from :func:`cost_usage`.
    by : str or sequence of str, default ('team', 'model')
        Keys of the chargeback.
    freq : ``"D"``, ``"h"`` or None, default 'D'
        Period of each row (a UTC day or hour); None for one total per key.

    Returns
    -------
    DataFrame
        Cost, requests, USD per 1,000 requests, utilisation and idle money per period and
        key. [USD]

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> con = connect(threads=1)
    >>> costed = cost_usage(read_telemetry(week.telemetry, con=con),
    ...                     bill_hours(week.bill, con=con))
    >>> chargeback(costed, freq=None)["cost_usd"].round(2).to_dict()
    {('recs', 'recommender'): 143.94, ('search', 'query-rewriter'): 158.0, \
('search', 're-ranker'): 142.86}
    """
    return usage_lines.chargeback(costed.con, costed.table, by, freq)


def slo_violations(tel: FleetTelemetry, slo_s: float | dict, *, column: str = "latency_p95_s",
                   by: str | Sequence[str] = ("model",)) -> Frame:
    """Samples whose latency exceeded the SLO, per key, counted in the engine.

    The table of :func:`costkit.monitoring.slo_violations`: ``samples``,
    ``violations``, ``requests_in_violation``, ``violation_share``,
    ``minutes_in_violation``. ``slo_s`` is one target or a dict with one per value of
    ``by[0]``; the targets go to the engine as literals of one ``CASE``, not per sample.

    Parameters
    ----------
    tel : FleetTelemetry
        Validated telemetry from :func:`read_telemetry`.
    slo_s : float or dict
        Latency target, or one per value of ``by[0]``. [s]
    column : str, default 'latency_p95_s'
        Latency column compared with the SLO.
    by : str or sequence of str, default ('model',)
        Keys to count violations by.

    Returns
    -------
    DataFrame
        Violations per key.

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = read_telemetry(week.telemetry, con=connect(threads=1))
    >>> slo = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
    >>> slo_violations(tel, slo)["violations"].to_dict()
    {'query-rewriter': 10, 're-ranker': 0, 'recommender': 6}
    """
    return usage_lines.slo_violations(tel.con, tel.table, slo_s, tel.interval_hours,
                                      column=column, by=by)


def alerts(costed: FleetCosted, *, by: str = "model", **thresholds: Any) -> Frame:
    """The alerts of :func:`costkit.monitoring.alerts`, their hourly aggregates from the engine.

    The engine sums cost, requests, errors, busy and observed replica-hours per key
    and hour (a small table: keys x hours); the robust scoring runs on that table
    in :func:`costkit.monitoring.alerts_from_hourly`.

    Parameters
    ----------
    costed : FleetCosted
        Costed replica-hours from :func:`cost_usage`.
    by : str, default 'model'
        Key each alert series is computed for (``model``, ``team``).
    **thresholds : Any
        ``window_days``, ``mad_threshold``, ``low_utilization``, ``min_hours``,
        ``min_error_rate`` as in :func:`costkit.monitoring.alerts`.

    Returns
    -------
    DataFrame
        The alerts: ``kind``, the key, ``start``, ``end``, ``hours``, ``value``,
        ``baseline``, ``usd``, ``detail``.

    Examples
    --------
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> con = connect(threads=1)
    >>> costed = cost_usage(read_telemetry(week.telemetry, con=con),
    ...                     bill_hours(week.bill, con=con))
    >>> list(alerts(costed).columns)[:4]
    ['kind', 'model', 'start', 'end']
    """
    from costkit.monitoring import alerts_from_hourly

    hourly = usage_lines.alert_hours(costed.con, costed.table, by)
    return alerts_from_hourly(hourly, by=by, **thresholds)
