r"""What a deployed model really costs: telemetry joined to the bill, waste, SLOs, alerts.

The chain:

1. :func:`costkit.telemetry.read_telemetry` validates the samples;
   :func:`costkit.billing.focus_resource_hours` reads the FOCUS bill per
   resource and hour (through DuckDB).
2. :func:`usage_by_hour` sums each replica's clock hour: replica-hours
   observed, busy replica-hours (``utilisation x time``), requests, errors.
3. :func:`cost_usage` joins the two by resource id and hour, so each hour of
   each replica has its **effective cost** (FOCUS ``EffectiveCost``, the
   figure to charge back), split into **busy** and **idle** money by the
   measured utilisation. Hours billed without telemetry are ``unobserved``;
   hours with telemetry and no bill are flagged ``unbilled``; both are
   counted in ``attrs["report"]``, never dropped silently.
4. :func:`chargeback` (cost, USD per 1,000 requests, average and p95
   utilisation, idle GPU-hours and money per team / model / day),
   :func:`slo_violations`, :func:`utilization_matrix`.
5. :func:`alerts`: cost-per-request anomalies (robust z-score against a
   trailing median and MAD) and sustained low utilisation.
6. :func:`variance_report`: realised against estimated cost, split into
   traffic, utilisation, price and throughput (sequential substitution, so
   the parts add up to the gap exactly), with :class:`Drivers` built from a
   :class:`~costkit.capacity.CapacityPlan` or from the costed usage.

:func:`synthetic_telemetry` makes a seeded, realistic week (diurnal traffic, a
promotion, an incident, an over-provisioned night) with its FOCUS bill.

Steps 2 to 5 are the rules of :mod:`costkit.usage_lines`, written once: these
functions hand the pandas frames to an in-memory DuckDB connection that reads no file
(:func:`costkit.usage_lines.frame_engine`) and run them there, as
:mod:`costkit.fleet` runs them on its engine. They need ``costkit[billing]`` (DuckDB
and Ibis), as reading the bill does.

Conventions: a replica is the billed resource (one or more GPUs); costs are in
the bill's currency (USD in the examples); an hour is a UTC clock hour.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from costkit._checks import as_fraction, as_quantity, count
from costkit._relational import execute as _execute
from costkit._relational import ibis as _ibis
from costkit._tables import attrs_frame
from costkit.usage_lines import safe_div

if TYPE_CHECKING:
    from ._typing import Frame, NDArray, Series, StrPath
    from .capacity import CapacityPlan
    from .telemetry import Telemetry

__all__ = [
    "Drivers",
    "SyntheticWeek",
    "SAMPLE_CALL",
    "alerts",
    "alerts_from_hourly",
    "chargeback",
    "cost_usage",
    "slo_violations",
    "robust_z",
    "sample_files",
    "synthetic_fleet_files",
    "synthetic_telemetry",
    "usage_by_hour",
    "utilization_matrix",
    "variance_report",
]


# --------------------------------------------------------------------------- usage and cost


def _as_telemetry(tel):
    """A :class:`~costkit.telemetry.Telemetry`; a DataFrame or a path is read first."""
    from costkit.telemetry import Telemetry, read_telemetry

    if isinstance(tel, Telemetry):
        return tel
    if type(tel).__name__ == "DataFrame" or isinstance(tel, str) or hasattr(tel, "__fspath__"):
        return read_telemetry(tel)
    raise TypeError("telemetry is a costkit.telemetry.Telemetry (read_telemetry(...)), a "
                    f"DataFrame or a file path, got {type(tel).__name__}")


_BILL_HOURS = ("resource_id", "hour", "effective_cost", "billed_cost")
_SAMPLE_COLUMNS = ("replica_id", "timestamp", "model", "team", "gpu", "gpus", "gpu_utilization",
                   "requests", "errors", "latency_p95_s")
_COSTED_COLUMNS = ("hour", "cost_usd", "billed_usd", "requests", "errors", "busy_replica_hours",
                   "replica_hours", "idle_gpu_hours", "idle_usd", "unobserved_usd",
                   "utilization")


def _bill_hours(bill_hours):
    """The bill's resource-hours checked (columns there, hours in UTC, costs finite numbers).

    Returned with ``hour`` as naive UTC and ``tags`` as text (None where a line has none),
    as :func:`costkit.usage_lines.costed` takes them.
    """
    import pandas as pd

    if type(bill_hours).__name__ != "DataFrame":
        raise TypeError("bill_hours is a DataFrame such as costkit.billing.focus_resource_hours("
                        f"...) gives, got {type(bill_hours).__name__}")
    missing = [c for c in _BILL_HOURS if c not in bill_hours.columns]
    if missing:
        raise ValueError(f"bill_hours lacks column(s) {', '.join(missing)}; it needs "
                         f"{', '.join(_BILL_HOURS)} (costkit.billing.focus_resource_hours)")
    bill = bill_hours[list(_BILL_HOURS)].copy()
    hour = bill["hour"]
    if not isinstance(hour.dtype, pd.DatetimeTZDtype):
        raise ValueError("bill_hours.hour has no time zone; costkit works in UTC: give "
                         "hour.dt.tz_localize('UTC') if these are UTC hours")
    bill["hour"] = hour.dt.tz_convert("UTC")
    if (bill["hour"] != bill["hour"].dt.floor("h")).any():
        raise ValueError("bill_hours.hour must be whole clock hours (focus_resource_hours)")
    for c in ("effective_cost", "billed_cost"):
        v = pd.to_numeric(bill[c], errors="coerce")
        if v.isna().any() or not np.isfinite(v).all():
            i = v.index[v.isna() | ~np.isfinite(v.fillna(0))][0]
            raise ValueError(f"bill_hours, row {i}, column {c!r}: {bill_hours.at[i, c]!r} is not "
                             "a finite number")
        bill[c] = v.astype(float)
    bill["resource_id"] = bill["resource_id"].astype(str)
    dup = bill.duplicated(["resource_id", "hour"])
    if dup.any():
        i = dup.idxmax()
        raise ValueError(f"bill_hours, row {i}: resource {bill.at[i, 'resource_id']!r} at "
                         f"{bill.at[i, 'hour']} appears twice; sum it first (a bill given twice?)")
    bill["hour"] = bill["hour"].dt.tz_convert(None)
    tags = bill_hours["tags"] if "tags" in bill_hours else pd.Series(None, index=bill.index)
    bill["tags"] = pd.Series([None if v is None or v != v else str(v)
                              for v in tags.astype(object)], index=bill.index, dtype=object)
    bill.attrs = {}  # not_usage and fx stay on bill_hours: cost_usage carries them over
    return bill


def _engine_table(frame, columns, what):
    """``frame``'s ``columns`` as an in-memory table of a new connection (naive UTC times).

    The connection is :func:`costkit.usage_lines.frame_engine`: the rules run there. A
    timestamp column without a zone is refused (costkit works in UTC). Returns
    (connection, table).
    """
    import pandas as pd

    from costkit import usage_lines

    if type(frame).__name__ != "DataFrame":
        raise TypeError(f"{what} is a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(map(repr, missing))} "
                         f"(have: {', '.join(map(str, frame.columns))})")
    part = frame[list(dict.fromkeys(columns))]  # a new frame: the caller's is not touched
    naive = {}
    for c in part.columns:
        if isinstance(part[c].dtype, pd.DatetimeTZDtype):
            naive[c] = part[c].dt.tz_convert(None)
        elif pd.api.types.is_datetime64_dtype(part[c]):
            raise ValueError(f"{what}.{c} has no time zone; costkit works in UTC: give "
                             f"{c}.dt.tz_localize('UTC') if these are UTC times")
    part = part.assign(**naive)
    part.attrs = {}  # the report tables there are not columns (and Arrow cannot hold them)
    con = usage_lines.frame_engine()
    return con, _ibis().memtable(part)


def usage_by_hour(tel: Telemetry) -> Frame:
    """Each replica's clock hours from :class:`~costkit.telemetry.Telemetry`.

    The rule of :func:`costkit.usage_lines.hourly`: ``model``, ``team``, ``gpu`` and
    ``gpus`` are the hour's (the greatest of its samples'), so a replica redeployed for
    another model is charged to each by the hour.

    Columns: ``replica_id``, ``hour``, ``model``, ``team``, ``gpu``, ``gpus``,
    ``samples``, ``replica_hours`` (observed: samples x interval) [h],
    ``busy_replica_hours`` (sum of utilisation x interval) [h], ``requests``,
    ``errors``, ``latency_p95_s`` (worst sample of the hour) [s].

    Parameters
    ----------
    tel : Telemetry
        Validated telemetry from :func:`costkit.telemetry.read_telemetry`.

    Returns
    -------
    DataFrame
        Each replica's clock hours from :class:`~costkit.telemetry.Telemetry`.

    Examples
    --------
    >>> from costkit import telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> u = usage_by_hour(tel)
    >>> len(u), u["hour"].nunique()
    (288, 24)
    """
    from costkit import usage_lines

    tel = _as_telemetry(tel)
    con, t = _engine_table(tel.frame, _SAMPLE_COLUMNS, "the telemetry")
    hours = usage_lines.hourly(t, tel.interval_hours)
    return _execute(con, hours.order_by(["replica_id", "hour"]))


def cost_usage(tel: Telemetry, bill_hours: Frame) -> Frame:
    """Join hourly usage to the bill's resource-hours: the money of each replica-hour [USD].

    ``bill_hours`` is :func:`costkit.billing.focus_resource_hours` (or any
    table with ``resource_id``, ``hour``, ``effective_cost``, ``billed_cost``
    and optional ``tags``). Adds ``cost_usd`` (effective), ``billed_usd``,
    ``utilization`` (busy / observed), ``busy_usd`` and ``idle_usd`` (cost split
    by utilisation), ``idle_gpu_hours``, ``unobserved_usd`` (billed hours
    without telemetry: their use is unknown) and ``unbilled`` (telemetry hours
    with no bill line). ``attrs["report"]`` counts both kinds.

    Parameters
    ----------
    tel : Telemetry
        Validated telemetry from :func:`costkit.telemetry.read_telemetry`.
    bill_hours : DataFrame
        The bill's resource-hours, from :func:`costkit.billing.focus_resource_hours`.

    Returns
    -------
    DataFrame
        One row per replica-hour: its requests, utilisation and money (``cost_usd``,
        ``billed_usd``, busy and idle). [USD]

    Examples
    --------
    >>> from costkit import billing, telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> hours = billing.focus_resource_hours(week.bill)
    >>> costed = cost_usage(tel, hours)
    >>> bool(abs(costed["cost_usd"].sum() - hours["effective_cost"].sum()) < 1e-6)
    True
    """
    from costkit import usage_lines

    tel = _as_telemetry(tel)
    con, t = _engine_table(tel.frame, _SAMPLE_COLUMNS, "the telemetry")
    bill = _bill_hours(bill_hours)
    use = usage_lines.cached(con, usage_lines.hourly(t, tel.interval_hours))
    out = usage_lines.cached(con, usage_lines.costed(con, use, _ibis().memtable(bill),
                                                     where="bill_hours"))
    counts = usage_lines.join_counts(con, out)
    out = _execute(con, out.drop("unobserved").order_by(["replica_id", "hour"]))
    other = bill_hours.attrs.get("not_usage")
    if other is not None and len(other):
        out.attrs["not_usage"] = attrs_frame(other)
    out.attrs["fx"] = tuple(bill_hours.attrs.get("fx", ()))
    out.attrs["report"] = attrs_frame(usage_lines.join_report(counts, other,
                                                              "attrs['not_usage']"))
    return out


def chargeback(costed: Frame, *, by: str | Sequence[str] = ("team", "model"),
               freq: str | None = "D") -> Frame:
    """Realised cost per period and key: the chargeback table.

    Columns: ``cost_usd``, ``billed_usd``, ``requests``, ``usd_per_1k_requests``
    (inf when money was spent on no request), ``mean_utilization`` (busy /
    observed replica-hours), ``p95_utilization`` (95th percentile of the
    replica-hours' utilisation), ``idle_gpu_hours``, ``idle_usd``,
    ``unobserved_usd``, ``errors``.

    Parameters
    ----------
    costed : DataFrame
        Costed usage, one row per replica-hour, from :func:`costkit.monitoring.cost_usage`.
    by : str or sequence of str, default ('team', 'model')
        Keys of the chargeback (``team``, ``model``).
    freq : ``"D"``, ``"h"`` or None, default 'D'
        Period of each row (a UTC day or hour); None for one total per key.

    Returns
    -------
    DataFrame
        Realised cost per period and key: the chargeback table.

    Examples
    --------
    >>> from costkit import billing, telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> hours = billing.focus_resource_hours(week.bill)
    >>> costed = cost_usage(tel, hours)
    >>> cb = chargeback(costed, freq=None)
    >>> bool(abs(cb["cost_usd"].sum() - costed["cost_usd"].sum()) < 1e-6)
    True
    """
    from costkit import usage_lines

    by = usage_lines.keys(by)
    con, t = _engine_table(costed, _COSTED_COLUMNS + tuple(by), "costed")
    return usage_lines.chargeback(con, t, by, freq)


def slo_violations(tel: Telemetry, slo_s: float, *, column: str = "latency_p95_s",
                   by: str | Sequence[str] = ("model",)) -> Frame:
    """Samples whose ``column`` latency exceeded ``slo_s`` [s], per key.

    ``slo_s`` is one target or a dict with one per value of ``by[0]``
    (e.g. ``{"re-ranker": 0.1, "query-rewriter": 1.0}``).

    Columns: ``samples``, ``violations``, ``violation_share``, ``requests_in_violation``
    (requests served during those samples), ``minutes_in_violation``.

    Parameters
    ----------
    tel : Telemetry
        Validated telemetry from :func:`costkit.telemetry.read_telemetry`.
    slo_s : float
        Latency target. [s]
    column : str, default 'latency_p95_s'
        Latency column compared with the SLO.
    by : str or sequence of str, default ('model',)
        Keys to count violations by.

    Returns
    -------
    DataFrame
        Samples whose ``column`` latency exceeded ``slo_s`` [s], per key.

    Examples
    --------
    >>> from costkit import telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> slo = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
    >>> list(slo_violations(tel, slo).columns)
    ['samples', 'violations', 'requests_in_violation', 'violation_share', 'minutes_in_violation']
    """
    from costkit import usage_lines

    tel = _as_telemetry(tel)
    by = usage_lines.keys(by)
    if column not in tel.frame.columns:
        raise ValueError(f"the telemetry has no column {column!r}")
    con, t = _engine_table(tel.frame, (*by, column, "requests"), "the telemetry")
    return usage_lines.slo_violations(con, t, slo_s, tel.interval_hours, column=column, by=by)


def utilization_matrix(tel: Telemetry, *, model: str | None = None, freq: str = "h") -> Frame:
    """Mean utilisation per replica (rows) and period (columns), for a heat map.

    Parameters
    ----------
    tel : Telemetry
        Validated telemetry from :func:`costkit.telemetry.read_telemetry`.
    model : str, optional
        Only this model's replicas; default all.
    freq : str, default 'h'
        Period of each column (a pandas frequency).

    Returns
    -------
    DataFrame
        Mean utilisation per replica (rows) and period (columns), for a heat map.

    Examples
    --------
    >>> from costkit import telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> m = utilization_matrix(tel, model="re-ranker")
    >>> m.shape[1], bool(((m >= 0) & (m <= 1)).all().all())
    (24, True)
    """
    f = tel.frame if model is None else tel.frame[tel.frame["model"] == model]
    if f.empty:
        raise ValueError(f"no telemetry for model {model!r}")
    return f.pivot_table(index="replica_id", columns=f["timestamp"].dt.floor(freq),
                         values="gpu_utilization", aggfunc="mean", observed=True)


# --------------------------------------------------------------------------- alerts


def _runs(flag):
    """(start index, end index inclusive) of each run of True."""
    flag = np.asarray(flag, dtype=bool)
    edges = np.diff(np.concatenate([[0], flag.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def robust_z(values: NDArray[np.float64] | Series, window: int, *, period: int = 1,
             min_history: int = 2,
             min_relative_mad: float = 0.05) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Robust z-score of each point against its own history: ``(x - median) / (1.4826 MAD)``.

    The history of point ``i`` is ``x[i - period], x[i - 2 period], ...``, up to
    ``window`` earlier points (``period=24`` on hourly data compares each hour
    with the same hour of earlier days, so a daily cycle is not an anomaly).
    The point is not part of its own baseline. The MAD is floored at
    ``min_relative_mad`` x the absolute median so that a near-constant history does not
    make every wiggle infinite. NaN with fewer than ``min_history`` points.

    Returns ``(z, median)`` arrays.

    Parameters
    ----------
    values : ndarray or Series
        The series, in time order.
    window : int
        Earlier points in each history. [count]
    period : int, default 1
        Step between a point and its history (24 on hourly data: the same hour of earlier
        days). [count]
    min_history : int, default 2
        Fewest earlier points for a score; NaN below. [count]
    min_relative_mad : float, default 0.05
        Floor of the MAD, as a share of the absolute median. [unitless]

    Returns
    -------
    tuple of ndarray
        ``(z, median)``: the score of each point and the median of its history (NaN without
        enough history).

    Examples
    --------
    A flat history with one spike: the spike scores high, the rest near 0.

    >>> z, med = robust_z([10, 11, 10, 11, 10, 40], window=5)
    >>> round(float(z[-1]), 1), float(med[-1])
    (40.5, 10.0)
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    window = count("window", window, minimum=1, maximum=10_000)
    period = count("period", period, minimum=1)
    min_history = count("min_history", min_history, minimum=1)
    if n * window > 200_000_000:
        raise ValueError(f"{n:,} points x a window of {window:,} is more than 200 million "
                         "lags; use a shorter window or fewer points")
    lags = np.full((n, window), np.nan)
    for j in range(1, window + 1):  # one shifted copy per lag, not per point
        k = j * period
        if k < n:
            lags[k:, j - 1] = x[:-k]
    enough = np.sum(~np.isnan(lags), axis=1) >= min_history
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN history: NaN, said above
        med = np.nanmedian(lags, axis=1)
        mad = np.nanmedian(np.abs(lags - med[:, None]), axis=1)
        mad = np.maximum(mad, min_relative_mad * np.abs(med))
        z = np.where(enough & (mad > 0), (x - med) / (1.4826 * mad), np.nan)
    return z, np.where(enough, med, np.nan)


def alerts(costed: Frame, *, by: str = "model", window_days: int = 7, mad_threshold: float = 4.0,
           low_utilization: float = 0.15, min_hours: int = 3,
           min_error_rate: float = 0.01) -> Frame:
    """Alerts per ``by`` key: cost-per-request and error-rate spikes, sustained low utilisation.

    - **cost per request** and **error rate**: the hour's USD per 1,000
      requests (or share of failed requests) has a robust z-score above
      ``mad_threshold`` against the same hour of the previous ``window_days``
      days (:func:`robust_z` with ``period=24``: the daily cycle is the
      baseline, not an anomaly); consecutive hours make one alert.
      An error-rate alert also needs at least ``min_error_rate`` of requests
      failing: a rise from 0.05% to 0.08% is noise worth no page.
    - **low utilisation**: the fleet's busy share stays below
      ``low_utilization`` for at least ``min_hours`` consecutive hours.

    Returns a DataFrame: ``kind``, the key, ``start``, ``end`` (last hour),
    ``hours``, ``value`` (worst), ``baseline``, ``usd`` (money in the alert
    hours), ``detail``.

    Parameters
    ----------
    costed : DataFrame
        Costed usage, one row per replica-hour, from :func:`costkit.monitoring.cost_usage`.
    by : str, default 'model'
        Key each alert series is computed for (``model``, ``team``).
    window_days : int, default 7
        Days of history each hour is compared with. [day]
    mad_threshold : float, default 4.0
        Robust z-score above which an hour is a spike. [unitless]
    low_utilization : float, default 0.15
        Busy share below which the fleet is idle. [unitless, 0-1]
    min_hours : int, default 3
        Consecutive idle hours that make an alert. [h]
    min_error_rate : float, default 0.01
        Share of failed requests an error alert needs at least. [unitless, 0-1]

    Returns
    -------
    DataFrame
        Alerts per ``by`` key: cost-per-request and error-rate spikes, sustained low
        utilisation.

    Examples
    --------
    >>> from costkit import billing, telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> tel = telemetry.read_telemetry(week.telemetry)
    >>> hours = billing.focus_resource_hours(week.bill)
    >>> costed = cost_usage(tel, hours)
    >>> list(alerts(costed).columns)[:4]
    ['kind', 'model', 'start', 'end']
    """
    from costkit import usage_lines

    if not isinstance(by, str):
        raise ValueError(f"by must be a column of the costed table, got {by!r}")
    con, t = _engine_table(costed, (*_COSTED_COLUMNS, by), "costed")
    hourly = usage_lines.alert_hours(con, t, by)
    return alerts_from_hourly(hourly, by=by, window_days=window_days,
                              mad_threshold=mad_threshold, low_utilization=low_utilization,
                              min_hours=min_hours, min_error_rate=min_error_rate)


def alerts_from_hourly(hourly: Frame, *, by: str = "model", window_days: int = 7,
                       mad_threshold: float = 4.0, low_utilization: float = 0.15,
                       min_hours: int = 3, min_error_rate: float = 0.01) -> Frame:
    """The alerts of :func:`alerts`, from the hourly aggregates an engine computed.

    ``hourly`` is indexed by (``by``, ``hour``) with the columns ``cost`` [USD],
    ``requests``, ``errors``, ``busy`` and ``observed`` [replica-hours]: one row per
    key and hour, however many replica-hours it sums (:func:`costkit.fleet.alerts`
    computes it where the data is). The scoring is the same as :func:`alerts`.

    Parameters
    ----------
    hourly : DataFrame
        Hourly aggregates per key, indexed by (``by``, ``hour``).
    by : str, default 'model'
        The name of the key level (``model``, ``team``).
    window_days : int, default 7
        Days of history each hour is compared with. [day]
    mad_threshold : float, default 4.0
        Robust z-score above which an hour is a spike. [unitless]
    low_utilization : float, default 0.15
        Busy share below which the fleet is idle. [unitless, 0-1]
    min_hours : int, default 3
        Consecutive idle hours that make an alert. [h]
    min_error_rate : float, default 0.01
        Share of failed requests an error alert needs at least. [unitless, 0-1]

    Returns
    -------
    DataFrame
        The alerts, with the columns of :func:`alerts`.

    Examples
    --------
    Three idle hours of one model:

    >>> import pandas as pd
    >>> hours = pd.date_range("2026-11-02", periods=3, freq="h", tz="UTC")
    >>> hourly = pd.DataFrame({"model": "re-ranker", "hour": hours, "cost": 10.0,
    ...                        "requests": 100.0, "errors": 0.0, "busy": 0.5,
    ...                        "observed": 10.0}).set_index(["model", "hour"])
    >>> alerts_from_hourly(hourly)[["kind", "hours", "usd"]]
                  kind  hours   usd
    0  low utilisation      3  30.0
    """
    import pandas as pd

    as_quantity("mad_threshold", mad_threshold, allow_zero=False)
    as_fraction("low_utilization", low_utilization)
    as_fraction("min_error_rate", min_error_rate)
    window_days = count("window_days", window_days, minimum=2, maximum=365)
    min_hours = count("min_hours", min_hours, minimum=1)
    rows = []
    for key, h in hourly.groupby(level=0, observed=True):
        h = h.droplevel(0)
        h = h.reindex(pd.date_range(h.index.min(), h.index.max(), freq="h"), fill_value=0.0)
        hours = h.index
        per_1k = safe_div(h["cost"], h["requests"], 1000.0)
        for kind, series, unit in [
                ("cost per request", np.where(np.isfinite(per_1k), per_1k, np.nan),
                 "USD per 1k requests"),
                ("error rate", safe_div(h["errors"], h["requests"]), "of requests failed")]:
            z, med = robust_z(series, window_days, period=24)
            spike = np.nan_to_num(z, nan=0.0) > mad_threshold
            if kind == "error rate":
                spike &= series >= min_error_rate
            for a, b in _runs(spike):
                worst = a + int(np.nanargmax(np.where(spike[a:b + 1], z[a:b + 1], -np.inf)))
                fmt = "{:.4f}" if kind == "cost per request" else "{:.2%}"
                rows.append({"kind": kind, by: key, "start": hours[a], "end": hours[b],
                             "hours": b - a + 1, "value": series[worst], "baseline": med[worst],
                             "usd": float(h["cost"].iloc[a:b + 1].sum()),
                             "detail": f"{fmt.format(series[worst])} {unit} against "
                                       f"{fmt.format(med[worst])} at that hour on earlier days "
                                       f"(z = {z[worst]:.1f})"})
        util = safe_div(h["busy"], h["observed"])
        low = (util < low_utilization) & (h["observed"].to_numpy() > 0)
        for a, b in _runs(low):
            if b - a + 1 >= min_hours:
                rows.append({"kind": "low utilisation", by: key, "start": hours[a],
                             "end": hours[b], "hours": b - a + 1,
                             "value": float(util[a:b + 1].mean()), "baseline": low_utilization,
                             "usd": float(h["cost"].iloc[a:b + 1].sum()),
                             "detail": f"mean utilisation {util[a:b + 1].mean():.1%} for "
                                       f"{b - a + 1} h (threshold {low_utilization:.0%})"})
    cols = ["kind", by, "start", "end", "hours", "value", "baseline", "usd", "detail"]
    return pd.DataFrame(rows, columns=cols).sort_values(["start", "kind"]).reset_index(drop=True)


# --------------------------------------------------------------------------- variance


@dataclass(frozen=True)
class Drivers:
    """The four drivers of serving cost: ``cost = requests / throughput / utilisation x price``.

    ``requests`` [count], ``requests_per_busy_replica_hour`` (throughput of a
    fully busy replica) [1/h], ``utilization`` (busy share of the replica-hours
    paid) [0-1], ``usd_per_replica_hour`` [USD/h].
    """

    requests: float
    requests_per_busy_replica_hour: float
    utilization: float
    usd_per_replica_hour: float

    def __post_init__(self):
        as_quantity("requests", self.requests)
        as_quantity("requests_per_busy_replica_hour", self.requests_per_busy_replica_hour,
                    allow_zero=False)
        u = as_fraction("utilization", self.utilization)
        if (u <= 0).any():
            raise ValueError("utilization must be > 0")
        as_quantity("usd_per_replica_hour", self.usd_per_replica_hour)

    @property
    def replica_hours(self) -> float:
        """Replica-hours the requests need: requests / throughput / utilisation. [h]"""
        return self.requests / self.requests_per_busy_replica_hour / self.utilization

    @property
    def cost_usd(self) -> float:
        """Replica-hours x price per replica-hour. [USD]"""
        return self.replica_hours * self.usd_per_replica_hour

    @classmethod
    def from_usage(cls, costed: Frame, **where: str) -> Drivers:
        """The realised drivers of the costed usage (``model="..."`` etc. select rows).

        Parameters
        ----------
        costed : DataFrame
            Costed usage, one row per replica-hour, from
            :func:`costkit.monitoring.cost_usage`.
        **where
            Column = value filters (``model="reranker"``).

        Examples
        --------
        >>> from costkit import billing, telemetry
        >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
        >>> tel = telemetry.read_telemetry(week.telemetry)
        >>> hours = billing.focus_resource_hours(week.bill)
        >>> costed = cost_usage(tel, hours)
        >>> d = Drivers.from_usage(costed, model="re-ranker")
        >>> 0 < d.utilization < 1
        True
        """
        rows = costed
        for k, v in where.items():
            rows = rows[rows[k] == v]
        rows = rows[rows["replica_hours"] > 0]
        if rows.empty:
            raise ValueError(f"no observed usage for {where}")
        busy, observed = rows["busy_replica_hours"].sum(), rows["replica_hours"].sum()
        return cls(float(rows["requests"].sum()), float(rows["requests"].sum() / busy),
                   float(busy / observed), float(rows["cost_usd"].sum() / observed))

    @classmethod
    def from_plan(cls, plan: CapacityPlan, *, hours: float, strategy: str | None = None) -> Drivers:
        """The planned drivers of a :class:`~costkit.capacity.CapacityPlan`, scaled to ``hours``.

        Parameters
        ----------
        plan : CapacityPlan
            A capacity plan.
        hours : float
            Hours the drivers are scaled to. [h]
        strategy : str, optional
            Provisioning strategy of the plan; default the cheapest.

        Examples
        --------
        >>> from costkit.capacity import plan, traffic_profile
        >>> p = plan(traffic_profile(2e6), replica_rps=25.0, request_latency_s=0.04,
        ...          usd_per_replica_hour=1.0)
        >>> d = Drivers.from_plan(p, hours=24)
        >>> round(d.requests / 1e6, 2)
        2.0
        """
        from costkit.capacity import HOURS_PER_MONTH

        row = plan.summary.loc[strategy or plan.cheapest]
        scale = float(as_quantity("hours", hours, allow_zero=False)) / HOURS_PER_MONTH
        replica_hours = row["replica_hours_per_month"] * scale
        cost = row["monthly_cost_usd"] * scale
        requests = cost / row["usd_per_1k_requests"] * 1000.0
        u = row["mean_utilization"]
        return cls(float(requests), float(requests / (replica_hours * u)), float(u),
                   float(cost / replica_hours))


def variance_report(estimate: Drivers, actual: Drivers) -> Series:
    """Why the realised cost differs from the estimate, in USD, step by step.

    Sequential substitution from the estimate: traffic first, then
    utilisation, price and throughput, each replaced by its actual value;
    every step's USD is the change it causes, so the steps sum to the gap.

    Returns a Series: ``estimate``, ``traffic``, ``utilisation``, ``price``,
    ``throughput``, ``actual`` (``attrs["is_total"]`` marks the two totals).

    Parameters
    ----------
    estimate : Drivers
        The planned drivers (:meth:`Drivers.from_plan`).
    actual : Drivers
        The realised drivers (:meth:`Drivers.from_usage`).

    Returns
    -------
    Series
        Why the realised cost differs from the estimate, in USD, step by step.

    Examples
    --------
    Planned 1M requests at 25 per busy replica-hour, 70% busy, 1 USD an hour; served 1.2M,
    60% busy:

    >>> plan_ = Drivers(1e6, 25.0, 0.7, 1.0)
    >>> actual = Drivers(1.2e6, 25.0, 0.6, 1.0)
    >>> variance_report(plan_, actual).round(2)
    estimate       57142.86
    traffic        11428.57
    utilisation    11428.57
    price              0.00
    throughput         0.00
    actual         80000.00
    Name: usd, dtype: float64
    """
    import pandas as pd

    e, a = estimate, actual
    c0 = e.cost_usd
    c1 = a.requests / e.requests_per_busy_replica_hour / e.utilization * e.usd_per_replica_hour
    c2 = a.requests / e.requests_per_busy_replica_hour / a.utilization * e.usd_per_replica_hour
    c3 = a.requests / e.requests_per_busy_replica_hour / a.utilization * a.usd_per_replica_hour
    c4 = a.cost_usd
    s = pd.Series({"estimate": c0, "traffic": c1 - c0, "utilisation": c2 - c1,
                   "price": c3 - c2, "throughput": c4 - c3, "actual": c4}, name="usd")
    s.attrs["is_total"] = ["estimate", "actual"]
    return s


# --------------------------------------------------------------------------- synthetic data

SAMPLE_CALL: dict[str, Any] = dict(days=1, replicas=12, freq="15min", seed=0)
"""The call that wrote ``data/telemetry_sample.csv`` and ``data/focus_bill_sample.csv``."""


def sample_files(directory: StrPath | None = None) -> dict:
    """Paths of the bundled sample telemetry and FOCUS bill (``telemetry``, ``bill``).

    With ``directory``, (re)write them there from :data:`SAMPLE_CALL` instead.

    Parameters
    ----------
    directory : str or Path, optional
        Folder to rewrite the samples into; default none (return the bundled ones).

    Returns
    -------
    dict
        ``{"telemetry": path, "bill": path}``.

    Examples
    --------
    >>> sorted(sample_files())
    ['bill', 'telemetry']
    """
    from pathlib import Path

    from costkit._tables import bundled_path

    if directory is None:
        return {"telemetry": bundled_path("telemetry_sample.csv"),
                "bill": bundled_path("focus_bill_sample.csv")}
    d = Path(directory)
    w = synthetic_telemetry(**SAMPLE_CALL)
    src = "synthetic: costkit.monitoring.synthetic_telemetry(" + ", ".join(
        f"{k}={v!r}" for k, v in SAMPLE_CALL.items()) + ")"
    tel = w.telemetry.assign(source=src)
    tel["timestamp"] = tel["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    bill = w.bill.assign(source=src)
    for c in ("ChargePeriodStart", "ChargePeriodEnd"):
        bill[c] = bill[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {"telemetry": d / "telemetry_sample.csv", "bill": d / "focus_bill_sample.csv"}
    tel.to_csv(out["telemetry"], index=False)
    bill.to_csv(out["bill"], index=False)
    return out



def synthetic_fleet_files(directory: StrPath, *, chunks: int, days: int = 7, replicas: int = 200,
                          freq: str = "1min", seed: int = 0) -> dict:
    """A fleet larger than memory, as Parquet files written one chunk at a time.

    Each chunk is :func:`synthetic_telemetry` (``days``, ``replicas``, ``freq``, seed
    ``seed + k``) with its replica ids prefixed ``c<k>-``, written as
    ``telemetry/part-<k>.parquet`` and ``bill/part-<k>.parquet`` under ``directory``;
    only one chunk is in memory at a time. For the pipeline of :mod:`costkit.fleet`.

    Parameters
    ----------
    directory : str or Path
        Folder to write into (created if missing).
    chunks : int
        Chunks written, 1-100,000. [count]
    days : int, default 7
        Days of each chunk. [day]
    replicas : int, default 200
        Replicas of each chunk. [count]
    freq : str, default '1min'
        Sampling interval.
    seed : int, default 0
        Seed of the first chunk.

    Returns
    -------
    dict
        ``telemetry`` and ``bill`` (globs of the files), ``samples`` and ``bill_lines``
        (rows written), ``requests`` and ``effective_cost`` (totals, to check against).

    Examples
    --------
    >>> import tempfile
    >>> out = synthetic_fleet_files(tempfile.mkdtemp(), chunks=2, days=1, replicas=6,
    ...                             freq="15min")
    >>> out["samples"], out["bill_lines"]
    (1150, 288)
    """
    from pathlib import Path

    from ._optional import require

    require("pyarrow", "writing Parquet files")
    chunks = count("chunks", chunks, minimum=1, maximum=100_000)
    root = Path(directory)
    for sub in ("telemetry", "bill"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    totals = {"samples": 0, "bill_lines": 0, "requests": 0.0, "effective_cost": 0.0}
    for k in range(chunks):
        w = synthetic_telemetry(days=days, replicas=replicas, freq=freq, seed=seed + k)
        tel = w.telemetry.assign(replica_id=f"c{k}-" + w.telemetry["replica_id"].astype(str))
        bill = w.bill.assign(ResourceId=f"c{k}-" + w.bill["ResourceId"].astype(str))
        tel.to_parquet(root / "telemetry" / f"part-{k:05d}.parquet", index=False)
        bill.to_parquet(root / "bill" / f"part-{k:05d}.parquet", index=False)
        totals["samples"] += len(tel)
        totals["bill_lines"] += len(bill)
        totals["requests"] += float(tel["requests"].sum())
        totals["effective_cost"] += float(bill["EffectiveCost"].sum())
    return {"telemetry": str(root / "telemetry" / "*.parquet"),
            "bill": str(root / "bill" / "*.parquet"), **totals}


@dataclass
class SyntheticWeek:
    """A synthetic deployment: ``telemetry`` (samples) and ``bill`` (FOCUS lines)."""

    telemetry: Frame
    bill: Frame
    fleet: Frame


_FLEET = (  # model, team, gpu, share of replicas, requests per busy minute, p50 at idle [s], id
    ("re-ranker", "search", "L4", 0.60, 1500.0, 0.012, "rr"),
    ("query-rewriter", "search", "H100-SXM", 0.15, 2400.0, 0.20, "qr"),
    ("recommender", "recs", "L40S", 0.25, 9000.0, 0.008, "rec"),
)
_RESERVED_DISCOUNT = 0.35


def synthetic_telemetry(days: int = 7, replicas: int = 200, freq: str = "1min", seed: int = 0, *,
                        start: str = "2026-11-02", missing_share: float = 0.001,
                        hourly_swing: float = 0.06) -> SyntheticWeek:
    """A seeded, realistic week of serving telemetry and its FOCUS bill.

    Three models on a static fleet (60% re-ranker on L4, 15% query rewriter on
    H100, 25% recommender on L40S; team ``search`` or ``recs``), traffic on a
    retail day curve (:data:`costkit.capacity.RETAIL_HOURLY_SHAPE`) with:

    - a **promotion**: day 5, 19:00-23:00 UTC, 3x traffic;
    - an **incident**: day 3, 14:00-16:00, the rewriter fails 25% of requests
      and its latency quadruples;
    - an **over-provisioned night**: day 4, 18:00 to day 5, 08:00, a scale-up
      that was not reverted: 50% extra recommender replicas with no traffic;
    - ``missing_share`` of samples lost (scrape gaps), reported by the reader;
    - each hour's traffic off the day curve by a lognormal factor of sigma
      ``hourly_swing`` (6%: no two Mondays at 10:00 are alike), so an hour's
      robust z-score against the same hour of other days spreads as real ones
      do, instead of sitting near 0 or far above any threshold.

    The bill has one FOCUS line per replica and hour it ran, at the catalog's
    median on-demand price per GPU-hour. Half of each fleet is covered by a
    commitment: ``BilledCost`` 0 and ``EffectiveCost`` the amortised rate
    (35% off); the rest is on demand (both costs equal).

    Returns :class:`SyntheticWeek` (``telemetry`` DataFrame, ``bill``
    DataFrame, ``fleet`` table). Vectorised: 7 days x 200 replicas x 1 min
    (about 2 million samples) take a second or two.

    Parameters
    ----------
    days : int, default 7
        Days simulated. [day]
    replicas : int, default 200
        Replicas in the static fleet. [count]
    freq : str, default '1min'
        Sampling interval (a pandas frequency).
    seed : int, default 0
        Seed of the generator.
    start : str, default '2026-11-02'
        First day, ``YYYY-MM-DD`` (UTC).
    missing_share : float, default 0.001
        Share of samples dropped, as a scrape would. [unitless, 0-1]
    hourly_swing : float, default 0.06
        Sigma of the lognormal factor that moves each hour's traffic off the day curve
        (0: the week without it). [unitless, 0-1]

    Returns
    -------
    SyntheticWeek
        A seeded, realistic week of serving telemetry and its FOCUS bill.

    Examples
    --------
    >>> w = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> w.telemetry["replica_id"].nunique(), sorted(w.fleet.index)
    (12, ['query-rewriter', 're-ranker', 'recommender'])
    """
    import pandas as pd

    from costkit.capacity import RETAIL_HOURLY_SHAPE

    days = count("days", days, minimum=1, maximum=366)
    replicas = count("replicas", replicas, minimum=3, maximum=100_000)
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC")
    times = pd.date_range(t0, t0 + pd.Timedelta(days=days), freq=freq, inclusive="left")
    minutes = pd.Timedelta(freq) / pd.Timedelta("1min")
    hour_of_day = (times.hour + times.minute / 60).to_numpy()
    shape = np.interp(hour_of_day, np.arange(25), np.append(RETAIL_HOURLY_SHAPE,
                                                            RETAIL_HOURLY_SHAPE[0]))
    day = ((times - t0) / pd.Timedelta(days=1)).to_numpy().astype(int)
    promo = (day == 4) & (times.hour >= 19) & (times.hour < 23)
    incident = (day == 2) & (times.hour >= 14) & (times.hour < 16)
    night = ((day == 3) & (times.hour >= 18)) | ((day == 4) & (times.hour < 8))

    swing = float(as_quantity("hourly_swing", hourly_swing))
    if swing > 1:
        raise ValueError(f"hourly_swing must be <= 1 (a lognormal sigma), got {hourly_swing!r}")
    hour_of_run = ((times - t0) // pd.Timedelta("1h")).to_numpy().astype(int)
    swing_rng = np.random.default_rng([seed, 1])  # its own stream, seeded from seed
    parts, fleets = [], []
    counts = np.maximum(1, np.round(np.array([f[3] for f in _FLEET]) * replicas)).astype(int)
    counts[0] += replicas - counts.sum()
    for (model, team, gpu, _share, cap, p50, prefix), n in zip(_FLEET, counts, strict=True):
        ids = [f"{prefix}-{i:03d}" for i in range(n)]
        active = np.ones((len(times), n), dtype=bool)
        if model == "recommender":
            extra = max(1, int(round(0.5 * n)))
            ids += [f"{prefix}-x{i:02d}" for i in range(extra)]
            active = np.concatenate([active, np.repeat(night[:, None], extra, axis=1)], axis=1)
        m = len(ids)
        mean_util = 0.35  # planned busy share at an average minute
        load = cap * mean_util * n * shape * np.where(promo, 3.0, 1.0) * minutes
        load = load * rng.lognormal(0.0, 0.05, len(times))
        load = load * swing_rng.lognormal(0.0, swing, days * 24)[hour_of_run]
        served = np.zeros((len(times), m))
        served[:, :n] = (load[:, None] / n) * rng.lognormal(0.0, 0.08, (len(times), n))
        util = np.clip(served / (cap * minutes) + rng.normal(0.0, 0.01, served.shape), 0.0, 1.0)
        util = np.where(active, np.maximum(util, 0.01), 0.0)
        lat50 = p50 * (1 + 0.6 * util / np.maximum(1 - 0.9 * util, 0.05))
        if model == "query-rewriter":
            lat50 = np.where(incident[:, None], lat50 * 4.0, lat50)
        lat95 = lat50 * rng.uniform(2.2, 2.8, served.shape)
        errors = rng.poisson(served * 0.0005)
        if model == "query-rewriter":
            errors = np.where(incident[:, None], rng.binomial(served.astype(int), 0.25), errors)
        keep = active & (rng.random(served.shape) >= missing_share)
        ti, ri = np.nonzero(keep)
        parts.append(pd.DataFrame({
            "timestamp": times[ti], "replica_id": np.asarray(ids)[ri],
            "gpu": gpu, "gpus": 1, "model": model, "team": team,
            "gpu_utilization": util[ti, ri].round(4), "requests": np.round(served[ti, ri]),
            "latency_p50_s": lat50[ti, ri].round(4), "latency_p95_s": lat95[ti, ri].round(4),
            "errors": errors[ti, ri].astype(float)}))
        fleets.append({"ids": ids, "active": active, "gpu": gpu, "model": model, "team": team,
                       "n": n})
    tel = pd.concat(parts, ignore_index=True).sort_values(["replica_id", "timestamp"],
                                                         kind="stable")
    for c in ("replica_id", "gpu", "model", "team"):
        tel[c] = tel[c].astype("category")
    tel = tel.reset_index(drop=True)

    bill, fleet = _synthetic_bill(fleets, times, t0)
    return SyntheticWeek(tel, bill, fleet)


def _synthetic_bill(fleets: list, times, t0):
    """The FOCUS bill of the synthetic fleet: one usage line per replica-hour it ran.

    Half of each fleet's base replicas are reserved (BilledCost 0, EffectiveCost at the
    reserved discount); the rest on demand at the catalog's median price. Returns the bill
    and the fleet table (per model).
    """
    import pandas as pd

    from costkit.catalog import gpu_hour_price

    hours = pd.date_range(t0, times[-1].floor("h"), freq="h")
    hour_idx = ((times.floor("h") - t0) / pd.Timedelta("1h")).to_numpy().astype(int)
    bills, fleet = [], []
    for a in fleets:
        price = float(gpu_hour_price(a["gpu"]))
        ran = np.zeros((len(hours), len(a["ids"])), dtype=bool)
        np.logical_or.at(ran, hour_idx, a["active"])
        hi, ri = np.nonzero(ran)
        reserved = ri < a["n"] // 2
        effective = np.where(reserved, price * (1 - _RESERVED_DISCOUNT), price)
        bills.append(pd.DataFrame({
            "BillingAccountId": "acct-0001", "ChargeCategory": "Usage",
            "ChargePeriodStart": hours[hi], "ChargePeriodEnd": hours[hi] + pd.Timedelta("1h"),
            "ResourceId": np.asarray(a["ids"])[ri], "ServiceName": "Compute",
            "SkuId": f"gpu-{a['gpu']}", "PricingUnit": "Hours", "PricingQuantity": 1.0,
            "ListCost": price, "BilledCost": np.where(reserved, 0.0, price),
            "EffectiveCost": effective, "BillingCurrency": "USD",
            "CommitmentDiscountStatus": np.where(reserved, "Used", ""),
            "Tags": f'{{"team": "{a["team"]}", "model": "{a["model"]}"}}'}))
        fleet.append({"model": a["model"], "team": a["team"], "gpu": a["gpu"],
                      "replicas": a["n"], "extra_replicas": len(a["ids"]) - a["n"],
                      "usd_per_gpu_hour": price,
                      "effective_usd_per_gpu_hour_reserved": price * (1 - _RESERVED_DISCOUNT)})
    return pd.concat(bills, ignore_index=True), pd.DataFrame(fleet).set_index("model")

