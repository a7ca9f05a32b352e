r"""Usage and its money, defined once: the hours, the join to the bill, chargeback, SLO, alerts.

Both monitoring pipelines run these Ibis expressions and nothing else:
:mod:`costkit.monitoring` (pandas frames in, pandas tables out, on an in-memory DuckDB
connection that can read no file, :func:`frame_engine`) and :mod:`costkit.fleet` (out of
core on DuckDB, or on Spark). A rule changed here changes both. The samples come in as
:func:`costkit.telemetry.read_telemetry` or :func:`costkit.fleet.read_telemetry` left them:
utilisation a fraction, timestamps naive UTC, ``gpus`` a whole count.

The rules, with :math:`\Delta t` the sampling interval [h]:

hourly usage (:func:`hourly`)
    a replica's samples in the clock hour :math:`h = \lfloor t / 3600\,\mathrm{s} \rfloor`:
    ``replica_hours`` :math:`= n\,\Delta t`, ``busy_replica_hours`` :math:`= \Delta t \sum u`,
    ``requests`` and ``errors`` summed, ``latency_p95_s`` the worst sample's; ``model``,
    ``team``, ``gpu`` and ``gpus`` are the greatest of the hour's samples (one value whatever
    the order of the samples; a replica redeployed for another model or team is charged to
    each by the hour).
the join (:func:`costed`)
    usage and bill meet per (replica, hour), each side kept without the other. With
    :math:`C` the hour's effective cost and :math:`\rho` = busy / observed replica-hours
    (0 for an hour nobody measured): ``busy_usd`` :math:`= C\rho`, ``idle_usd``
    :math:`= C(1 - \rho)`, ``idle_gpu_hours`` :math:`= (\text{observed} - \text{busy})
    \times \text{gpus}`; a billed hour without telemetry is ``unobserved_usd`` (neither
    busy nor idle) and its owners are its tags' (:func:`costkit.bill_lines.parse_tags`);
    an hour of telemetry without a bill line costs 0 and is ``unbilled``.
chargeback (:func:`chargeback`)
    the costed hours summed per period and key; USD per 1,000 requests
    :math:`= 1000\,C / R` (infinite when money bought no request, 0 when neither), mean
    utilisation = busy / observed, ``p95_utilization`` the 95th percentile (linear, as
    pandas) of the observed replica-hours' utilisation.
SLO (:func:`slo_violations`)
    a sample violates when its latency exceeds the target of its key; minutes in violation
    :math:`= 60\,\Delta t \times` violations.
alerts (:func:`alert_hours`)
    cost, requests, errors, busy and observed replica-hours per key and clock hour, scored by
    :func:`costkit.monitoring.alerts_from_hourly`.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from costkit import bill_lines
from costkit._checks import as_quantity
from costkit._relational import DUCKDB_SESSION, execute, ibis, one

if TYPE_CHECKING:
    from ._typing import Frame

__all__ = ["CHARGEBACK_COLUMNS", "FREQS", "HOURLY_COLUMNS", "hourly", "safe_div"]
# frame_engine, cached, keys, costed, join_counts, join_report, chargeback, slo_violations and
# alert_hours are the steps the two pipelines run: public for them, documented above and in
# their docstrings, outside __all__ (users call costkit.monitoring or costkit.fleet)

HOURLY_COLUMNS = ("replica_id", "hour", "model", "team", "gpu", "gpus", "samples",
                  "replica_hours", "busy_replica_hours", "requests", "errors", "latency_p95_s")
"""The columns of one replica's clock hour, in order."""
CHARGEBACK_COLUMNS = ("cost_usd", "billed_usd", "requests", "usd_per_1k_requests",
                      "mean_utilization", "p95_utilization", "idle_gpu_hours", "idle_usd",
                      "unobserved_usd", "errors")
"""The columns of the chargeback table, in order."""
FREQS = {"h": "h", "D": "D"}
"""The periods of a chargeback: a UTC clock hour or a UTC day (None: one total per key)."""
_SECONDS_PER_HOUR = 3600


def frame_engine() -> Any:
    """An in-memory DuckDB connection for pandas frames: UTC, and no file access.

    The pandas entry points of :mod:`costkit.monitoring` run the rules here; the frames
    they pass are in-memory tables, so the connection needs to read nothing from disk. Each
    call is a new connection (its own tables) to one in-memory database a process makes once
    (starting a database costs about 30 ms, a connection to it a few microseconds). The
    database's external access is off before the first connection is handed out, and DuckDB
    cannot turn it back on while the database runs.
    """
    ib = ibis("the monitoring tables", "billing")
    cursor = _frame_database(os.getpid()).cursor()
    for setting in DUCKDB_SESSION:
        cursor.execute(setting)
    return ib.duckdb.from_connection(cursor)


@functools.cache
def _frame_database(pid: int) -> Any:
    """The process's in-memory database without file access (a forked process makes its own)."""
    from ._optional import require

    duckdb = require("duckdb", "the monitoring tables", "billing")
    raw = duckdb.connect()
    raw.execute("SET enable_external_access = false")
    return raw


def cached(con: Any, expr: Any) -> Any:
    """``expr`` computed once in ``con``: a temporary table (DuckDB), a cached view (Spark)."""
    name = f"costkit_{uuid.uuid4().hex}"  # generated here, never from user text
    if con.name == "pyspark":
        con.create_view(name, expr)
        con.raw_sql(f"CACHE TABLE {name}")
    else:
        con.create_table(name, expr, temp=True)
    return con.table(name)


def keys(by: Any) -> list[str]:
    """``by`` as a list of column names (``"model"`` is one key, not five letters)."""
    out = [by] if isinstance(by, str) else list(by) if isinstance(by, Sequence) else None
    if not out or not all(isinstance(k, str) for k in out):
        raise TypeError(f"by is a column name or a list of them, got {by!r}")
    return out


def safe_div(a: Any, b: Any, scale: float = 1.0) -> Any:
    r"""``scale * a / b``; where :math:`b = 0`: :math:`\infty` if :math:`a > 0`, else 0.

    Money spent on no request costs infinitely much per request; nothing spent on nothing
    costs nothing.

    Parameters
    ----------
    a, b : array_like
        Numerator and denominator.
    scale : float, default 1.0
        Factor of the ratio (1000 for "per 1,000").

    Returns
    -------
    ndarray
        The ratios.

    Examples
    --------
    >>> safe_div([3.0, 2.0, 0.0], [2.0, 0.0, 0.0], 1000.0).tolist()
    [1500.0, inf, 0.0]
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0) * scale, np.where(a > 0, np.inf, 0.0))


# --------------------------------------------------------------------------- hours


def hourly(t: Any, interval_hours: float) -> Any:
    r"""Each replica's clock hours from validated samples (an expression).

    The hour is :math:`\lfloor t / 3600\,\mathrm{s} \rfloor` of the naive UTC timestamp:
    the same hour as a truncation, and several times faster on DuckDB than truncating a
    timestamp.

    Parameters
    ----------
    t : ibis Table
        Validated samples: ``replica_id``, ``timestamp`` (naive UTC), ``gpu_utilization``
        (0-1), ``requests``, ``errors``, ``latency_p95_s``, ``model``, ``team``, ``gpu``,
        ``gpus``.
    interval_hours : float
        Sampling interval :math:`\Delta t`. [h]

    Returns
    -------
    ibis Table
        :data:`HOURLY_COLUMNS`; ``hour`` a naive UTC timestamp.

    Examples
    --------
    Two minutes of one replica, sampled every half hour:

    >>> import pandas as pd
    >>> con = frame_engine()
    >>> t = ibis().memtable(pd.DataFrame({
    ...     "replica_id": "r", "timestamp": pd.to_datetime(["2026-11-02 10:00",
    ...                                                     "2026-11-02 10:30"]),
    ...     "gpu_utilization": [0.2, 0.6], "requests": 5.0, "errors": 0.0,
    ...     "latency_p95_s": 0.1, "model": "m", "team": "t", "gpu": "L4", "gpus": 1}))
    >>> row = con.execute(hourly(t, 0.5)).iloc[0]
    >>> str(row.hour), float(row.replica_hours), round(float(row.busy_replica_hours), 3)
    ('2026-11-02 10:00:00', 1.0, 0.4)
    """
    import ibis.expr.datatypes as dt

    hour = (t.timestamp.epoch_seconds() // _SECONDS_PER_HOUR).cast(dt.int64).name("hour_n")
    # what ran on the replica in that hour and who pays: the greatest text (and GPU count) of
    # its samples, one value whatever the engine or the order of the samples
    out = t.group_by(["replica_id", hour]).aggregate(
        samples=t.count().cast(dt.float64), busy=t.gpu_utilization.sum(),
        requests=t.requests.sum(), errors=t.errors.sum(), latency_p95_s=t.latency_p95_s.max(),
        **{c: t[c].max() for c in ("model", "team", "gpu", "gpus")})
    start = out.hour_n * _SECONDS_PER_HOUR
    return out.select(
        "replica_id", hour=start.as_timestamp("s").cast(dt.timestamp), model=out.model,
        team=out.team, gpu=out.gpu, gpus=out.gpus, samples=out.samples,
        replica_hours=out.samples * interval_hours,
        busy_replica_hours=out.busy * interval_hours, requests=out.requests,
        errors=out.errors, latency_p95_s=out.latency_p95_s)


# --------------------------------------------------------------------------- the join


def _owners(con: Any, lone: Any, where: str) -> Any:
    """The model and team of each distinct tag text of hours nobody measured (a memtable)."""
    import pandas as pd

    texts = list(con.execute(lone.select("tags").distinct())["tags"])
    owners = pd.DataFrame({"tags": texts})
    for k in ("model", "team"):
        found = []
        for x in owners["tags"]:
            try:
                found.append(bill_lines.parse_tags(x).get(k, ""))
            except ValueError as exc:
                raise ValueError(f"{where}: tags {exc}") from None
        owners[f"tag_{k}"] = found
    return owners.astype(str)


def costed(con: Any, use: Any, bill: Any, *, where: str = "the bill") -> Any:
    r"""The money of each replica-hour: hourly usage joined to the bill (an expression).

    Parameters
    ----------
    con : ibis backend
        The engine both tables are on.
    use : ibis Table
        :func:`hourly` (cached: it is read twice).
    bill : ibis Table
        The bill's resource-hours: ``resource_id``, ``hour`` (naive UTC),
        ``effective_cost``, ``billed_cost`` [USD] and ``tags`` (text or NULL).
    where : str, default 'the bill'
        Names the bill in the message about tags that are not a JSON object.

    Returns
    -------
    ibis Table
        :data:`HOURLY_COLUMNS`, then ``cost_usd``, ``billed_usd``, ``utilization``,
        ``busy_usd``, ``idle_usd``, ``unobserved_usd``, ``idle_gpu_hours``, ``unbilled``
        and ``unobserved`` (booleans).
    """
    ib = ibis()
    import ibis.expr.datatypes as dt

    b = bill.rename(replica_id="resource_id", bill_hour="hour")
    # text even when every line is untagged (an all-NULL column has no type of its own)
    b = b.mutate(tags=b.tags.cast(dt.string).fill_null(""))
    lone = b.anti_join(use, [b.replica_id == use.replica_id, b.bill_hour == use.hour])
    owners = _owners(con, lone, where)
    if len(owners):
        b = b.left_join(ib.memtable(owners), "tags")
        b = b.select([c for c in b.columns if c != "tags_right"])
    else:
        b = b.mutate(tag_model=ib.literal(""), tag_team=ib.literal(""))
    m = use.outer_join(b, [use.replica_id == b.replica_id, use.hour == b.bill_hour])
    m = m.select(
        replica_id=ib.coalesce(m.replica_id, m.replica_id_right),
        hour=ib.coalesce(m.hour, m.bill_hour), observed_side=m.replica_id.notnull(),
        billed_side=m.replica_id_right.notnull(), model=m.model, team=m.team, gpu=m.gpu,
        gpus=m.gpus, samples=m.samples, replica_hours=m.replica_hours,
        busy_replica_hours=m.busy_replica_hours, requests=m.requests, errors=m.errors,
        latency_p95_s=m.latency_p95_s, effective_cost=m.effective_cost,
        billed_cost=m.billed_cost, tag_model=m.tag_model, tag_team=m.tag_team)
    return _money(m)


def _money(m: Any) -> Any:
    r"""Each joined hour's money: busy :math:`C\rho`, idle :math:`C(1-\rho)`, or unobserved."""
    ib = ibis()
    unobserved = ~m.observed_side
    zero = ib.literal(0.0)
    observed = m.replica_hours.fill_null(0.0)
    busy = m.busy_replica_hours.fill_null(0.0)
    gpus = m.gpus.fill_null(1.0)
    util = ib.ifelse(observed > 0, busy / observed, zero)
    cost = m.effective_cost.fill_null(0.0)
    return m.select(
        replica_id=m.replica_id, hour=m.hour,
        model=ib.ifelse(unobserved, m.tag_model.fill_null(""), m.model.fill_null("")),
        team=ib.ifelse(unobserved, m.tag_team.fill_null(""), m.team.fill_null("")),
        gpu=m.gpu.fill_null(""), gpus=gpus, samples=m.samples.fill_null(0.0),
        replica_hours=observed, busy_replica_hours=busy,
        requests=m.requests.fill_null(0.0), errors=m.errors.fill_null(0.0),
        latency_p95_s=m.latency_p95_s, cost_usd=cost, billed_usd=m.billed_cost.fill_null(0.0),
        utilization=util, busy_usd=ib.ifelse(unobserved, zero, cost * util),
        idle_usd=ib.ifelse(unobserved, zero, cost * (1 - util)),
        unobserved_usd=ib.ifelse(unobserved, cost, zero),
        idle_gpu_hours=(observed - busy) * gpus, unbilled=~m.billed_side,
        unobserved=unobserved)


def join_counts(con: Any, out: Any) -> dict:
    """Hours on one side of the join only: ``unobserved`` (and their USD), ``unbilled``."""
    found = one(con, out.aggregate(
        unobserved=out.unobserved.sum(), unobserved_usd=out.cost_usd.sum(where=out.unobserved),
        unbilled=out.unbilled.sum()))
    return {"unobserved": int(found["unobserved"] or 0),
            "unobserved_usd": float(found["unobserved_usd"] or 0.0),
            "unbilled": int(found["unbilled"] or 0)}


def join_report(counts: dict, not_usage: Any, where: str) -> Frame:
    """The report of the join: hours on one side only, and the bill lines that are not usage.

    Parameters
    ----------
    counts : dict
        :func:`join_counts`.
    not_usage : DataFrame or None
        The bill's lines that are not usage, per ChargeCategory.
    where : str
        Where the caller keeps ``not_usage`` (named in the report).

    Returns
    -------
    DataFrame
        ``check``, ``rows``, ``usd``, ``detail``.
    """
    import pandas as pd

    report = [
        {"check": "billed hours without telemetry", "rows": counts["unobserved"],
         "usd": counts["unobserved_usd"],
         "detail": "cost kept as unobserved_usd: neither busy nor idle"},
        {"check": "telemetry hours without a bill line", "rows": counts["unbilled"], "usd": 0.0,
         "detail": "kept with cost 0 and unbilled=True; check the ResourceId mapping"},
    ]
    if not_usage is not None and len(not_usage):
        report.append({
            "check": "bill lines that are not usage", "rows": int(not_usage["lines"].sum()),
            "usd": float(not_usage["effective_cost"].sum()),
            "detail": "purchases, taxes, credits, adjustments (ChargeCategory): money of the "
                      f"bill, not of a replica-hour; per category in {where}"})
    return pd.DataFrame(report)


# --------------------------------------------------------------------------- tables


def chargeback(con: Any, t: Any, by: Any = ("team", "model"), freq: str | None = "D") -> Frame:
    """Realised cost per period and key, aggregated in ``con`` (a pandas table).

    Parameters
    ----------
    con : ibis backend
        The engine ``t`` is on.
    t : ibis Table
        Costed replica-hours (:func:`costed`).
    by : str or sequence of str, default ('team', 'model')
        Keys of the chargeback.
    freq : ``"D"``, ``"h"`` or None, default 'D'
        Period of each row (a UTC day or hour); None for one total per key.

    Returns
    -------
    DataFrame
        :data:`CHARGEBACK_COLUMNS`, indexed by (period,) key. [USD]
    """
    if freq is not None and freq not in FREQS:
        raise ValueError(f"freq must be one of {sorted(FREQS)} or None, got {freq!r}")
    group_keys = keys(by)
    missing = [k for k in group_keys if k not in t.columns]
    if missing:
        raise ValueError(f"by names {', '.join(map(repr, missing))}, not a column of the costed "
                         f"table (have: {', '.join(t.columns)})")
    group = ([t.hour.truncate(FREQS[freq]).name("hour")] if freq else []) + group_keys
    observed = t.replica_hours > 0
    agg = t.group_by(group).aggregate(
        cost_usd=t.cost_usd.sum(), billed_usd=t.billed_usd.sum(), requests=t.requests.sum(),
        busy=t.busy_replica_hours.sum(), observed=t.replica_hours.sum(),
        idle_gpu_hours=t.idle_gpu_hours.sum(), idle_usd=t.idle_usd.sum(),
        unobserved_usd=t.unobserved_usd.sum(), errors=t.errors.sum(),
        p95_utilization=t.utilization.quantile(0.95, where=observed))
    out = execute(con, agg).set_index(([] if not freq else ["hour"]) + group_keys)
    out = out.sort_index()
    out["p95_utilization"] = out["p95_utilization"].astype(float).fillna(0.0)
    out["usd_per_1k_requests"] = safe_div(out["cost_usd"], out["requests"], 1000.0)
    out["mean_utilization"] = safe_div(out["busy"], out["observed"])
    return out[list(CHARGEBACK_COLUMNS)]


def _target(t: Any, slo_s: Any, key: str) -> Any:
    """The SLO of each sample: one literal, or a ``CASE`` over the values of ``key``.

    A value of ``key`` without a target gets NULL (:func:`slo_violations` names it).
    """
    ib = ibis()
    if not isinstance(slo_s, dict):
        return ib.literal(float(as_quantity("slo_s", slo_s, allow_zero=False)))
    for k, v in slo_s.items():
        as_quantity(f"slo_s[{k!r}]", v, allow_zero=False)
    if not slo_s:
        return ib.null("float64")
    return ib.cases(*[(t[key] == str(k), float(v)) for k, v in slo_s.items()],
                    else_=ib.null("float64"))


def slo_violations(con: Any, t: Any, slo_s: Any, interval_hours: float, *,
                   column: str = "latency_p95_s", by: Any = ("model",)) -> Frame:
    """Samples whose latency exceeded the SLO, per key, counted in ``con`` (a pandas table).

    One pass over the samples: the counts, and whether each key had latencies and a target.

    Parameters
    ----------
    con : ibis backend
        The engine ``t`` is on.
    t : ibis Table
        Validated samples.
    slo_s : float or dict
        Latency target, or one per value of ``by[0]``. [s]
    interval_hours : float
        Sampling interval. [h]
    column : str, default 'latency_p95_s'
        Latency column compared with the SLO.
    by : str or sequence of str, default ('model',)
        Keys to count violations by.

    Returns
    -------
    DataFrame
        ``samples``, ``violations``, ``requests_in_violation``, ``violation_share``,
        ``minutes_in_violation`` per key.
    """
    ib = ibis()
    group_keys = keys(by)
    if column not in t.columns:
        raise ValueError(f"the telemetry has no column {column!r}")
    target = _target(t, slo_s, group_keys[0])
    bad = (t[column] > target).fill_null(False)
    agg = t.group_by(group_keys).aggregate(
        samples=t.count(), violations=bad.sum(),
        requests_in_violation=ib.ifelse(bad, t.requests, 0.0).sum(),
        measured=t[column].count(),
        untargeted=t.count(where=target.isnull()) if isinstance(slo_s, dict) else ib.literal(0))
    out = execute(con, agg)
    if not out["measured"].sum():
        raise ValueError(f"the telemetry has no {column!r} values to check against the SLO")
    unknown = sorted({str(v) for v in out.loc[out["untargeted"] > 0, group_keys[0]]})
    if unknown:
        raise ValueError(f"no SLO given for {group_keys[0]} {', '.join(unknown)}")
    out = out.drop(columns=["measured", "untargeted"]).set_index(group_keys).sort_index()
    out["samples"] = out["samples"].astype("int64")
    out["violations"] = out["violations"].astype("int64")
    out["violation_share"] = out["violations"] / out["samples"]
    out["minutes_in_violation"] = out["violations"] * interval_hours * 60
    return out


def alert_hours(con: Any, t: Any, by: str) -> Frame:
    """Cost, requests, errors, busy and observed replica-hours per key and hour (pandas).

    Parameters
    ----------
    con : ibis backend
        The engine ``t`` is on.
    t : ibis Table
        Costed replica-hours (:func:`costed`).
    by : str
        The key of each alert series.

    Returns
    -------
    DataFrame
        Indexed by (``by``, ``hour``): ``cost`` [USD], ``requests``, ``errors``, ``busy``,
        ``observed`` [replica-hours]; :func:`costkit.monitoring.alerts_from_hourly` scores it.
    """
    if not isinstance(by, str) or by not in t.columns:
        raise ValueError(f"by must be a column of the costed table, got {by!r}")
    hours = execute(con, t.group_by([by, "hour"]).aggregate(
        cost=t.cost_usd.sum(), requests=t.requests.sum(), errors=t.errors.sum(),
        busy=t.busy_replica_hours.sum(), observed=t.replica_hours.sum()))
    return hours.set_index([by, "hour"]).sort_index()
