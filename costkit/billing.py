"""The real bill: cloud billing exports in the FinOps Foundation's FOCUS format, through DuckDB.

FOCUS (FinOps Open Cost and Usage Specification, focus.finops.org) gives every
cloud's bill the same columns. costkit reads these (version 1.0 names):

=====================  ============================================================
column                 meaning
=====================  ============================================================
``BilledCost``         what the invoice charges for the line [billing currency]
``EffectiveCost``      the cost after commitment discounts are amortised (the
                       figure to charge back) [billing currency]
``ChargePeriodStart``  start of the period the line covers (inclusive)
``ChargePeriodEnd``    end of that period (exclusive)
``ResourceId``         the billed resource: here a replica (instance) id
``ServiceName``        the cloud service
``Tags``               a JSON object of key-value tags, e.g. ``{"team": "search"}``
=====================  ============================================================

Exports are large (a month of a big account is many files and many millions
of lines), so nothing here loads them into pandas: DuckDB scans the CSV or
Parquet files (a glob such as ``"bill/*.parquet"`` or a list of paths) and
only the aggregate comes back. Money stays in the export's currency; the
functions check that ``BillingCurrency`` (if present) is one currency.
"""

from __future__ import annotations

import glob as _glob
from pathlib import Path

from costkit._tables import DataFileError

__all__ = ["FOCUS_COLUMNS", "focus_resource_hours", "focus_summary", "focus_validate"]

FOCUS_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd",
                 "ResourceId", "ServiceName", "Tags")
_PERIODS = ("hour", "day", "week", "month")


def _files(paths) -> list[str]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files = []
    for p in items:
        hits = sorted(_glob.glob(str(p)))
        if not hits:
            raise FileNotFoundError(f"no billing file matches {p}")
        files.extend(hits)
    kinds = {Path(f).suffix.lower() for f in files}
    if not kinds <= {".csv", ".parquet"} or len(kinds) != 1:
        raise DataFileError(f"billing files must be all .csv or all .parquet, got {sorted(kinds)}")
    return files


def _scan(files) -> str:
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    if files[0].lower().endswith(".parquet"):
        return f"read_parquet([{listed}], union_by_name = true)"
    return f"read_csv([{listed}], union_by_name = true, header = true)"


def _connect():
    import duckdb

    return duckdb.connect()


def focus_validate(paths) -> list[str]:
    """Check every file has the FOCUS columns costkit reads; return the list of files.

    Raises :class:`~costkit.DataFileError` naming the file and the missing columns.
    """
    files = _files(paths)
    con = _connect()
    for f in files:
        cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_scan([f])}").fetchall()}
        missing = [c for c in FOCUS_COLUMNS if c not in cols]
        if missing:
            raise DataFileError(f"{f}: not a FOCUS export costkit can read: missing column(s) "
                                f"{', '.join(missing)}")
    return files


def _key(name: str) -> tuple[str, str]:
    """SQL expression and output column for a grouping key (a column or ``tag:<key>``)."""
    if name.startswith("tag:"):
        key = name[4:].replace("'", "")
        return f"coalesce(json_extract_string(Tags, '$.{key}'), '')", key
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r} is not a column name")
    return f'"{name}"', name


def _check(con, src):
    bad = con.execute(
        f"SELECT count(*) FILTER (WHERE BilledCost IS NULL OR EffectiveCost IS NULL), "
        f"count(*) FILTER (WHERE ChargePeriodEnd <= ChargePeriodStart) FROM {src}").fetchone()
    if bad[0]:
        raise DataFileError(f"{bad[0]} billing line(s) have no BilledCost or EffectiveCost")
    if bad[1]:
        raise DataFileError(f"{bad[1]} billing line(s) end before they start "
                            "(ChargePeriodEnd <= ChargePeriodStart)")
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if "BillingCurrency" in cols:
        cur = [r[0] for r in con.execute(f"SELECT DISTINCT BillingCurrency FROM {src}").fetchall()]
        if len(cur) > 1:
            raise DataFileError(f"the export mixes currencies {sorted(map(str, cur))}; summarise "
                                "one currency at a time")


def focus_summary(paths, *, by=("ServiceName",), period: str | None = "day"):
    """Billed and effective cost by period and keys, aggregated by DuckDB over the files.

    Parameters
    ----------
    paths : str, Path or list
        Files or globs (all CSV or all Parquet).
    by : sequence of str
        FOCUS columns (``ServiceName``, ``ResourceId`` ...) or ``"tag:<key>"``
        for a tag (``"tag:team"``).
    period : ``"hour"``, ``"day"``, ``"week"``, ``"month"`` or None
        Lines are assigned to the period of their ``ChargePeriodStart``.

    Returns
    -------
    DataFrame with ``period`` (if any), the keys, ``billed_cost``,
    ``effective_cost`` and ``lines``.
    """
    if period is not None and period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS} or None, got {period!r}")
    files = focus_validate(paths)
    src = _scan(files)
    con = _connect()
    _check(con, src)
    keys = [_key(b) for b in by]
    select = [f"{expr} AS \"{name}\"" for expr, name in keys]
    if period:
        select.insert(0, f"date_trunc('{period}', CAST(ChargePeriodStart AS TIMESTAMP)) AS period")
    group = ", ".join(str(i + 1) for i in range(len(select)))
    sql = (f"SELECT {''.join(c + ', ' for c in select)}sum(BilledCost) AS billed_cost, "
           f"sum(EffectiveCost) AS effective_cost, count(*) AS lines FROM {src}"
           + (f" GROUP BY {group} ORDER BY {group}" if select else ""))
    return con.execute(sql).df()


def focus_resource_hours(paths, *, resource_ids=None):
    """Effective and billed cost of each resource in each clock hour [billing currency].

    A line that touches several clock hours is spread evenly over them (a
    daily line gives each hour 1/24; the total is kept), so it can be joined
    to hourly telemetry. Only
    ``resource_ids`` (if given) are kept, inside DuckDB.

    Returns a DataFrame with ``resource_id``, ``hour`` (UTC), ``effective_cost``,
    ``billed_cost``, and the line's ``service`` and ``tags``.
    """
    import pandas as pd

    files = focus_validate(paths)
    src = _scan(files)
    con = _connect()
    _check(con, src)
    where = ""
    if resource_ids is not None:
        con.register("wanted", pd.DataFrame({"rid": pd.Series(list(resource_ids), dtype=str)}))
        where = "WHERE CAST(ResourceId AS VARCHAR) IN (SELECT rid FROM wanted)"
    sql = f"""
        WITH lines AS (
            SELECT CAST(ResourceId AS VARCHAR) AS resource_id,
                   CAST(ChargePeriodStart AS TIMESTAMP) AS t0,
                   CAST(ChargePeriodEnd AS TIMESTAMP) AS t1,
                   EffectiveCost, BilledCost, ServiceName AS service, CAST(Tags AS VARCHAR) AS tags
            FROM {src} {where}),
        spread AS (
            SELECT resource_id, unnest(generate_series(date_trunc('hour', t0),
                                                       t1 - INTERVAL 1 MICROSECOND,
                                                       INTERVAL 1 HOUR)) AS hour,
                   epoch(date_trunc('hour', t1 - INTERVAL 1 MICROSECOND)
                         - date_trunc('hour', t0)) / 3600.0 + 1 AS hours,
                   EffectiveCost, BilledCost, service, tags
            FROM lines)
        SELECT resource_id, hour, sum(EffectiveCost / hours) AS effective_cost,
               sum(BilledCost / hours) AS billed_cost, any_value(service) AS service,
               any_value(tags) AS tags
        FROM spread GROUP BY resource_id, hour ORDER BY resource_id, hour"""
    out = con.execute(sql).df()
    out["hour"] = pd.to_datetime(out["hour"]).dt.tz_localize("UTC")
    return out
