"""Benchmark: tuning and optimisation formulas on a million scenarios.

Run with `make bench` (or `python benchmarks/bench_tuning.py`).

1. `costkit.tuning.ab_test_sample_size` on 1,000,000 (baseline, lift, power)
   scenarios at once, against a Python loop over scalar calls (timed on the
   first 20,000 and scaled).
2. `costkit.tuning.search_cost` (ASHA) on 1,000,000 searches (configurations,
   trial GPU-hours, price, parallel trials), against a loop (first 5,000).
3. `costkit.tuning.affordable_configurations` (ASHA, bisection over n) for
   100,000 budgets.
4. `costkit.optimization.payback_months` on 1,000,000 (one-off, benefit) pairs.

Results of the vectorised and looped paths are checked to agree first.
Asserts nothing about speed.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

N = 1_000_000


def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def loop_time(fn, n):
    t0 = time.perf_counter()
    out = [fn(i) for i in range(n)]
    return out, (time.perf_counter() - t0) / n


def main() -> int:
    from costkit import optimization as op
    from costkit import tuning as tu

    rng = np.random.default_rng(0)
    p1 = rng.uniform(0.01, 0.3, N)
    lift = rng.uniform(0.01, 0.3, N)
    power = rng.uniform(0.6, 0.95, N)
    vec, t_vec = best_of(lambda: tu.ab_test_sample_size(p1, lift, power=power, relative=True))
    loop, per = loop_time(lambda i: tu.ab_test_sample_size(p1[i], lift[i], power=power[i],
                                                           relative=True), 20_000)
    np.testing.assert_array_equal(loop, vec[:20_000])
    print(f"ab_test_sample_size: {N:,} scenarios in {t_vec:.3f} s vectorised; loop "
          f"{per * 1e6:.0f} us per call (~{per * N:.0f} s for {N:,}): {per * N / t_vec:,.0f}x")

    n = rng.integers(1, 5000, N)
    hours = rng.uniform(0.1, 50.0, N)
    price = rng.uniform(1.0, 8.0, N)
    par = rng.integers(1, 64, N)
    vec, t_vec = best_of(lambda: tu.search_cost("asha", n, trial_gpu_hours=hours,
                                                usd_per_gpu_hour=price, parallel_trials=par))
    loop, per = loop_time(lambda i: tu.search_cost(
        "asha", int(n[i]), trial_gpu_hours=hours[i], usd_per_gpu_hour=price[i],
        parallel_trials=int(par[i])).cost_usd, 5_000)
    np.testing.assert_allclose(loop, vec.cost_usd[:5_000], rtol=1e-12)
    print(f"search_cost (ASHA): {N:,} searches in {t_vec:.3f} s vectorised; loop "
          f"{per * 1e3:.2f} ms per call (~{per * N:.0f} s for {N:,}): {per * N / t_vec:,.0f}x")

    budgets = rng.uniform(10.0, 1e5, 100_000)
    got, t_aff = best_of(lambda: tu.affordable_configurations(
        "asha", budget_usd=budgets, trial_gpu_hours=10.0, usd_per_gpu_hour=3.0), repeats=3)
    one = tu.affordable_configurations("asha", budget_usd=budgets[0], trial_gpu_hours=10.0,
                                       usd_per_gpu_hour=3.0)
    assert one == got[0]
    print(f"affordable_configurations (ASHA): 100,000 budgets in {t_aff:.3f} s")

    c = rng.uniform(0.0, 1e5, N)
    b = rng.normal(1000.0, 2000.0, N)
    _, t_pb = best_of(lambda: op.payback_months(c, b))
    print(f"payback_months: {N:,} pairs in {t_pb:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
