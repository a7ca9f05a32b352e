"""Benchmark: the monitoring pipeline out of core (costkit.fleet) on 1e6, 1e7 and 1e8 samples.

Run with `python benchmarks/bench_fleet.py` (default 1e6 and 1e7 rows; `--rows 1e8` for the
large one, about 2.5 GB of Parquet and several minutes; `--spark` adds Spark local at 1e7).

For each size, `costkit.monitoring.synthetic_fleet_files` writes the telemetry and the FOCUS bill
as Parquet in chunks of about a million samples (a week of 100 replicas each, one chunk in
memory at a time), in a separate process. Then a fresh process runs the whole pipeline on
DuckDB with `memory_limit` (default 3 GB) and reports: rows per second end to end, the time of
each step, and its peak resident memory (ru_maxrss: Python, pandas and DuckDB together). The
chargeback total is checked against the bill's effective cost before anything is printed.
With `--spark`, the same pipeline runs on Spark in local mode (all cores) at 1e7 rows, beside
DuckDB, as a ratio (Spark's JVM is a separate process: its memory is not in the figure).
Asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS_PER_CHUNK = 1_017_000  # a week of 100 replicas (and the over-provisioned night) at 1 min


def generate(directory: Path, rows: float) -> dict:
    chunks = max(1, round(rows / ROWS_PER_CHUNK))
    code = ("import json, sys; from costkit.monitoring import synthetic_fleet_files as f; "
            f"print(json.dumps(f(sys.argv[1], chunks={chunks}, days=7, replicas=100)))")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(directory)], check=True,
                         capture_output=True, text=True)
    made = json.loads(out.stdout)
    made["generate_s"] = time.perf_counter() - t0
    made["parquet_mb"] = sum(p.stat().st_size for p in directory.rglob("*.parquet")) / 1e6
    return made


def run_one(directory: str, engine: str, memory_limit: str) -> dict:
    """The pipeline in this (fresh) process; its steps' seconds and the peak memory."""
    from costkit import fleet as fl

    made = json.loads((Path(directory) / "made.json").read_text())
    steps = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        steps[name] = time.perf_counter() - t0
        return out

    if engine == "spark":
        con = timed("connect", lambda: fl.connect("spark"))
        con._session.sparkContext.setLogLevel("ERROR")
    else:
        con = fl.connect(memory_limit=memory_limit,
                         temp_directory=str(Path(directory) / "spill"))
    tel = timed("read_telemetry", lambda: fl.read_telemetry(made["telemetry"], con=con,
                                                            interval="1min"))
    bill = timed("bill_hours", lambda: fl.bill_hours(made["bill"], con=con))
    costed = timed("cost_usage", lambda: fl.cost_usage(tel, bill))
    cb = timed("chargeback", lambda: fl.chargeback(costed))
    slo = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
    timed("slo_violations", lambda: fl.slo_violations(tel, slo))
    found = timed("alerts", lambda: fl.alerts(costed))
    total = cb["cost_usd"].sum()
    assert abs(total - made["effective_cost"]) < 1e-6 * made["effective_cost"], (
        total, made["effective_cost"])
    kept = tel.report.set_index("check").at["samples kept", "rows"]
    return {"engine": engine, "rows": int(made["samples"]), "kept": int(kept),
            "alerts": len(found), "steps": steps,
            "seconds": sum(v for k, v in steps.items() if k != "connect"),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(directory: Path, engine: str, memory_limit: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--run-one", str(directory), engine,
                          memory_limit], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1e6,1e7", help="sizes, e.g. 1e6,1e7,1e8")
    ap.add_argument("--memory-limit", default="3GB", help="DuckDB's memory limit")
    ap.add_argument("--spark", action="store_true", help="Spark local at 1e7 rows, as a ratio")
    ap.add_argument("--dir", default=None, help="where to write the files (default a temp dir; "
                    "files an earlier run left there are reused)")
    ap.add_argument("--run-one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        print(json.dumps(run_one(*args.run_one)))
        return 0
    base = Path(args.dir or tempfile.mkdtemp(prefix="costkit-fleet-"))
    sizes = [float(x) for x in args.rows.split(",")]
    for rows in sizes:
        d = base / f"rows-{rows:.0e}"
        if (d / "made.json").is_file():  # --dir of an earlier run: its files are reused
            made = json.loads((d / "made.json").read_text())
        else:
            made = generate(d, rows)
            (d / "made.json").write_text(json.dumps(made))
        r = measure(d, "duckdb", args.memory_limit)
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in r["steps"].items())
        print(f"{r['rows']:>12,} samples ({made['parquet_mb']:,.0f} MB Parquet, generated in "
              f"{made['generate_s']:.0f} s): DuckDB {r['seconds']:.1f} s, "
              f"{r['rows'] / r['seconds']:,.0f} rows/s, peak {r['peak_mb']:,.0f} MB "
              f"(memory_limit {args.memory_limit}); {r['alerts']} alerts")
        print(f"{'':>14}{steps}")
        if args.spark and rows == 1e7:
            s = measure(d, "spark", args.memory_limit)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in s["steps"].items())
            print(f"{'':>14}Spark local: {s['seconds']:.1f} s ({s['seconds'] / r['seconds']:.1f}x "
                  f"DuckDB; session start {s['steps']['connect']:.1f} s not counted)")
            print(f"{'':>14}{steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
