"""Serving telemetry as teams have it, validated: a table of samples or Prometheus JSON.

One row per sample of one replica (a serving instance: one or more GPUs that a
cloud bills as one resource). Columns:

==================  ========  ===================================================
column              required  meaning [unit]
==================  ========  ===================================================
``timestamp``       yes       sample time (parsed to UTC)
``replica_id``      yes       the replica; also the billing ``ResourceId``
``gpu_utilization`` yes       busy share of the interval, 0-1 (0-100 is detected)
``requests``        yes       requests served in the interval [count]
``gpu``             no        GPU type (a catalog name)
``gpus``            no        GPUs per replica [count], default 1
``model``, ``team`` no        what runs there and who pays (chargeback keys)
``latency_p50_s``   no        median latency in the interval [s]
``latency_p95_s``   no        95th-percentile latency in the interval [s]
``errors``          no        failed requests in the interval [count]
==================  ========  ===================================================

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costkit._tables import DataFileError

__all__ = ["OPTIONAL", "REQUIRED", "Telemetry", "read_prometheus", "read_telemetry"]

REQUIRED = ("timestamp", "replica_id", "gpu_utilization", "requests")
OPTIONAL = {"gpu": "", "gpus": 1.0, "model": "", "team": "", "latency_p50_s": np.nan,
            "latency_p95_s": np.nan, "errors": 0.0}
_NUMERIC = ("gpu_utilization", "requests", "gpus", "latency_p50_s", "latency_p95_s", "errors")


@dataclass
class Telemetry:
    """Validated samples: ``frame`` (sorted by replica and time), ``report`` and ``interval``.

    ``report`` has one row per check: ``check``, ``rows`` (affected), ``action``
    (``dropped``, ``converted`` or ``kept``) and ``detail``.
    """

    frame: object
    report: object
    interval: object
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


def _load(data, label):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy(), label or "telemetry"
    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"no telemetry file {path}")
    if path.suffix == ".parquet":
        return pd.read_parquet(path), label or path.name
    return pd.read_csv(path), label or path.name


def read_telemetry(data, *, interval=None, label: str | None = None) -> Telemetry:
    """Validate telemetry (a DataFrame, or a CSV / Parquet path) into :class:`Telemetry`.

    Parameters
    ----------
    data : DataFrame or path
        Columns as in the module docstring; extra columns are kept.
    interval : str or Timedelta, optional
        Sampling interval (e.g. ``"1min"``); by default the median step
        between a replica's samples.
    label : str, optional
        Name used in messages (default: the file name).

    Raises
    ------
    DataFileError
        Missing required columns; time going backwards within a replica;
        utilisation above 100 or negative; negative requests, errors or
        latencies. Messages name the row (as in the input) and the column.
    """
    import pandas as pd

    df, label = _load(data, label)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataFileError(f"{label}: missing column(s) {', '.join(missing)}; telemetry needs "
                            f"{', '.join(REQUIRED)} (have: {', '.join(map(str, df.columns))})")
    if df.empty:
        raise DataFileError(f"{label}: no rows")
    report = []

    def note(check, rows, action, detail):
        report.append({"check": check, "rows": int(rows), "action": action, "detail": detail})

    note("rows read", len(df), "kept", f"{df.replica_id.nunique():,} replicas")
    for col, default in OPTIONAL.items():
        if col not in df.columns:
            df[col] = default
    df["replica_id"] = df["replica_id"].astype(str)
    for col in ("gpu", "model", "team"):
        df[col] = df[col].fillna("").astype(str)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, errors="coerce")
    drop = df["timestamp"].isna()
    for col in _NUMERIC:
        raw = df[col]
        df[col] = pd.to_numeric(raw, errors="coerce")
        bad = df[col].isna() & raw.notna()
        if bad.any():
            i = bad.idxmax()
            raise DataFileError(f"{label}, row {i}, column {col!r}: {raw[i]!r} is not a number")
    if drop.any():
        note("unparseable timestamp", drop.sum(), "dropped", "no time, no place in a series")
    for col in ("gpu_utilization", "requests"):
        nan = df[col].isna() & ~drop
        if nan.any():
            note(f"missing {col}", nan.sum(), "dropped", "a sample without it cannot be costed")
            drop |= nan
    df = df[~drop]

    for col in ("requests", "errors", "latency_p50_s", "latency_p95_s", "gpus",
                "gpu_utilization"):
        neg = df[col] < 0
        if neg.any():
            i = neg.idxmax()
            raise DataFileError(f"{label}, row {i}, column {col!r}: {df.at[i, col]!r} is negative")
    top = df["gpu_utilization"].max()
    if top > 100:
        i = df["gpu_utilization"].idxmax()
        raise DataFileError(f"{label}, row {i}, column 'gpu_utilization': {top!r} is above 100; "
                            "utilisation is a fraction 0-1 or a percentage 0-100")
    if top > 1:
        df["gpu_utilization"] = df["gpu_utilization"] / 100.0
        note("utilisation in per cent", len(df), "converted",
             f"largest value {top:g} > 1, so every value was divided by 100")

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
        note("duplicate sample", dup.sum(), "dropped", "same replica and timestamp; first kept")
        df = df[~dup]
        step = step[~dup]

    if interval is None:
        pos = step[step > pd.Timedelta(0)]
        if pos.empty:
            raise DataFileError(f"{label}: each replica has one sample; give interval=")
        interval = pos.median()
    interval = pd.Timedelta(interval)
    if interval <= pd.Timedelta(0):
        raise ValueError("interval must be positive")
    g = df.groupby("replica_id")["timestamp"]
    expected = ((g.max() - g.min()) / interval).round().astype(int) + 1
    gaps = (expected - g.count()).clip(lower=0)
    if gaps.sum():
        note("missing samples", gaps.sum(), "kept",
             f"{(gaps > 0).sum()} replicas have gaps; the missing time counts as neither used "
             "nor idle")
    df = df.sort_values(["replica_id", "timestamp"], kind="stable").reset_index(drop=True)
    note("samples kept", len(df), "kept", f"interval {interval}")
    return Telemetry(df, pd.DataFrame(report, columns=["check", "rows", "action", "detail"]),
                     interval, label)


def _payload(p):
    if isinstance(p, dict):
        return p
    s = str(p)
    if s.lstrip().startswith("{"):
        return json.loads(s)
    return json.loads(Path(s).read_text(encoding="utf-8"))


def _one_metric(payload, value, id_label):
    import pandas as pd

    p = _payload(payload)
    if p.get("status") != "success":
        raise ValueError(f"Prometheus answered {p.get('status')!r} for {value}: "
                         f"{p.get('errorType', '')} {p.get('error', '')}".strip())
    data = p.get("data", {})
    if data.get("resultType") != "matrix":
        raise ValueError(f"{value}: expected a query_range result (resultType 'matrix'), got "
                         f"{data.get('resultType')!r}")
    result = data.get("result") or []
    if not result:
        raise ValueError(f"{value}: the Prometheus result is empty: the query matched no series "
                         "in that time range")
    frames = []
    for series in result:
        labels = dict(series.get("metric", {}))
        if id_label not in labels:
            raise ValueError(f"{value}: a series has no {id_label!r} label (labels: "
                             f"{sorted(labels)}); pass id_label=")
        vals = np.asarray(series.get("values", []), dtype=object).reshape(-1, 2)
        f = pd.DataFrame({"timestamp": pd.to_datetime(vals[:, 0].astype(float), unit="s",
                                                      utc=True),
                          value: pd.to_numeric(vals[:, 1], errors="coerce")})
        f["replica_id"] = str(labels.pop(id_label))
        labels.pop("__name__", None)
        for k, v in labels.items():
            f[k] = v
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    dropped = int(out[value].isna().sum())
    return out.dropna(subset=[value]), dropped


def read_prometheus(payloads, *, id_label: str = "replica"):
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
    DataFrame with ``timestamp``, ``replica_id``, the labels and one column per
    metric, outer-joined on (``timestamp``, ``replica_id``). ``attrs["dropped"]``
    counts the samples whose value was not a number ("NaN", "+Inf"), per metric.

    Raises ``ValueError`` for an error status, a non-matrix result or an empty result.
    """
    if not isinstance(payloads, dict) or not payloads or "status" in payloads:
        raise TypeError("payloads must be a dict: column name -> query_range payload")
    out, dropped = None, {}
    for value, p in payloads.items():
        f, dropped[value] = _one_metric(p, value, id_label)
        if out is None:
            out = f
        else:
            keys = [c for c in f.columns if c in out.columns]  # time, replica, shared labels
            out = out.merge(f, on=keys, how="outer")
    out = out.sort_values(["replica_id", "timestamp"]).reset_index(drop=True)
    out.attrs["dropped"] = dropped
    return out
