"""Benchmark: a week of one-minute telemetry for 200 replicas (about 2 million samples).

Run with `make bench` (or `python benchmarks/bench_monitoring.py`).

Steps timed one by one: generating the synthetic week and its FOCUS bill;
`read_telemetry` (validation, gap and duplicate checks); writing the bill as
seven daily Parquet files and reading it back per resource-hour through DuckDB
(the rules of costkit.bill_lines; importing Ibis for them is timed as its own
step and counted in the total); `cost_usage` (the join and the busy / idle
split); `chargeback` per team, model and day; `alerts`; `slo_violations` with
one target per model, as notebook 07 calls it. The money is checked to be
conserved (the chargeback total equals the bill's effective cost). Prints wall
and CPU seconds per step; asserts nothing about speed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    from costkit import billing as bi
    from costkit import monitoring as mo
    from costkit import telemetry as te

    timings, cpu = {}, {}

    def timed(name, fn):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        timings[name], cpu[name] = time.perf_counter() - t0, time.process_time() - c0
        return out

    week = timed("synthetic week", lambda: mo.synthetic_telemetry(days=7, replicas=200,
                                                                  freq="1min", seed=0))
    tel = timed("read_telemetry", lambda: te.read_telemetry(week.telemetry))
    with tempfile.TemporaryDirectory() as d:
        for day, part in week.bill.groupby(week.bill.ChargePeriodStart.dt.date):
            part.to_parquet(Path(d) / f"focus-{day}.parquet", index=False)
        # the bill's rules are Ibis expressions (costkit.bill_lines): importing Ibis, once a
        # process, is its own step; a notebook that reads a second bill does not pay it again
        timed("importing Ibis (once)", lambda: __import__("ibis").duckdb)
        hours = timed("DuckDB resource-hours", lambda: bi.focus_resource_hours(
            Path(d) / "*.parquet"))
    costed = timed("cost_usage", lambda: mo.cost_usage(tel, hours))
    cb = timed("chargeback", lambda: mo.chargeback(costed))
    found = timed("alerts", lambda: mo.alerts(costed))
    slo = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
    timed("slo_violations", lambda: mo.slo_violations(tel, slo))
    total = sum(v for k, v in timings.items() if k != "synthetic week")
    total_cpu = sum(v for k, v in cpu.items() if k != "synthetic week")
    assert abs(cb.cost_usd.sum() - week.bill.EffectiveCost.sum()) < 1e-6 * cb.cost_usd.sum()
    print(f"{len(tel.frame):,} samples of {tel.frame.replica_id.nunique()} replicas, "
          f"{len(week.bill):,} billing lines, {len(found)} alerts")
    for k, v in timings.items():
        print(f"  {k:22} {v:6.2f} s ({cpu[k]:.2f} s CPU)")
    print(f"  processing in all      {total:6.2f} s ({total_cpu:.2f} s CPU; without generating "
          "the data)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
