"""What the trust checks cost: the bounded YAML reader against yaml.safe_load, refusing an alias
bomb, the telemetry reader on text timestamps, the locked DuckDB connection, and a fleet plan too
large for one matrix (evaluated in blocks). Prints timings; asserts only that results agree."""

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from bench_tuning import best_of  # the same median-of-runs timer (scripts run from benchmarks/)

from costkit import _yaml
from costkit import billing as bi
from costkit import capacity as cp
from costkit import monitoring as mo
from costkit import telemetry as te
from costkit.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def main():
    text = (ROOT / "examples" / "ecommerce.yaml").read_text()
    a, t_safe = best_of(lambda: yaml.safe_load(text), repeats=20)
    b, t_ours = best_of(lambda: _yaml.load(text), repeats=20)
    # YAML 1.1 and 1.2 differ on '400_000' and '7.68e9'; the validated scenarios agree
    assert Scenario.from_dict(a).spec == Scenario.from_dict(b).spec
    print(f"ecommerce.yaml: yaml.safe_load {t_safe * 1e3:.1f} ms, bounded YAML 1.2 reader "
          f"{t_ours * 1e3:.1f} ms")
    bomb = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi",
                                                                     strict=True))
    t0 = time.perf_counter()
    try:
        _yaml.load(bomb)
    except _yaml.YAMLLimitError as exc:
        print(f"alias bomb ({len(bomb)} bytes, 9^9 values if expanded) refused in "
              f"{(time.perf_counter() - t0) * 1e3:.1f} ms: {exc}")

    week = mo.synthetic_telemetry(days=2, replicas=60, freq="1min", seed=0)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tel.csv"
        week.telemetry.to_csv(path, index=False)  # timestamps as ISO 8601 text with +00:00
        tel, t_csv = best_of(lambda: te.read_telemetry(path), repeats=3)
        print(f"read_telemetry of a CSV with {len(tel.frame):,} samples (text timestamps, unit "
              f"detection per replica): {t_csv:.2f} s")
        frame = pd.read_csv(path)
        _, t_read = best_of(lambda: pd.read_csv(path), repeats=3)
        _, t_df = best_of(lambda: te.read_telemetry(frame), repeats=3)
        print(f"  of which pandas.read_csv {t_read:.2f} s; validating the frame {t_df:.2f} s")

        bill = Path(d) / "bill.parquet"
        week.bill.to_parquet(bill)
        s, t_sum = best_of(lambda: bi.focus_summary(bill, by=("tag:team", "tag:model"),
                                                     period="day"), repeats=5)
        assert abs(s.effective_cost.sum() - week.bill.EffectiveCost.sum()) < 1e-6
        h, t_hours = best_of(lambda: bi.focus_resource_hours(bill), repeats=5)
        print(f"FOCUS bill of {len(week.bill):,} lines, locked UTC connection with bound "
              f"parameters and checks: focus_summary {t_sum * 1e3:.0f} ms, "
              f"focus_resource_hours {t_hours * 1e3:.0f} ms ({len(h):,} resource-hours)")

    traffic = cp.traffic_profile(37_000 * 3.0 * 86400 / 1.93, days=30)
    plan, t_plan = best_of(lambda: cp.plan(traffic, replica_rps=3.0, usd_per_replica_hour=1.0,
                                           spot_usd_per_replica_hour=0.5, min_replicas=1),
                           repeats=1)
    s = plan.summary["monthly_cost_usd"]
    assert s["mix"] <= s["autoscale"] <= s["static_peak"]
    counts = plan.hourly["replicas_needed"].max() + 1
    needs = plan.hourly["replicas_needed"].nunique()
    print(f"capacity plan, 37,000 replicas at peak over 720 hours ({counts:,.0f} reserved counts "
          f"x {needs} distinct hourly needs, in blocks of 4 million cells): {t_plan:.1f} s, "
          f"{np.round(s.to_numpy() / 1e6, 2)} million USD a month (static, autoscale, mix)")
    # a year's profile is the longest traffic_profile makes; a million hours repeat a week
    week = cp.traffic_profile(2_000 * 3.0 * 86400 / 1.93, days=7).to_numpy()
    long = np.resize(week, 1_000_000)
    (lp, t_long) = best_of(lambda: cp.plan(long, replica_rps=3.0, usd_per_replica_hour=1.0,
                                             spot_usd_per_replica_hour=0.5), repeats=1)
    print(f"capacity plan over {len(long):,} hours ({lp.hourly['replicas_needed'].max():,.0f} "
          f"replicas at peak): {t_long:.1f} s")


if __name__ == "__main__":
    main()
