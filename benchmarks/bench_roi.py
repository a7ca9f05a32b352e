"""Benchmark: the ROI Monte Carlo, batched IRR and the scenario comparison.

Run with `make bench` (or `python benchmarks/bench_roi.py`).

1. `costkit.roi.monte_carlo` with 100,000 and 1,000,000 draws of four inputs
   (PERT lift, uniform margin, lognormal one-off cost, triangular serving
   cost) over a 36-month case, against a Python loop of `Case.evaluate()`
   (timed on the first 2,000 draws and scaled).
2. `costkit.roi.irr` on 10,000 monthly cash-flow streams at once (one batched
   eigen-solve per stream length) against `numpy_financial.irr` in a loop.
3. `costkit.roi.tornado` of 10 inputs (20 cases in one evaluation).
4. `costkit.decision.decide` on two options' 100,000 paired draws.
5. One update of the ROI panel with its Monte Carlo (`widgets.roi_panel(uncertainty=...)`,
   3 options, 4,000 paired draws each): what a slider move costs before the chart.

Results of the vectorised and looped paths are checked to agree first.
Asserts nothing about speed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from bench_tuning import best_of  # the same median-of-runs timer (scripts run from benchmarks/)


def main() -> int:
    import numpy_financial as npf

    from costkit import roi

    case = roi.Case(sessions_per_month=12.2e6, searches_per_session=1.2, click_through_rate=0.4,
                    conversion_rate=0.025, average_order_value_usd=60.0, gross_margin=0.3,
                    cvr_lift=0.02, latency_change_ms=12, latency_elasticity_per_100ms=-0.01,
                    one_off_usd=33_000, serving_usd_per_1k_searches=0.01,
                    fixed_usd_per_month=4_700, retrain_usd=1_031, retrain_every_months=3,
                    launch_month=2, ramp_months=3)
    dists = {"cvr_lift": ("pert", -0.005, 0.02, 0.04), "gross_margin": ("uniform", 0.25, 0.35),
             "one_off_usd": ("lognormal", 33_000, 0.3),
             "serving_usd_per_1k_searches": ("triangular", 0.005, 0.01, 0.03)}
    roi.monte_carlo(case, dists, n=1_000)  # warm up imports
    for n in (100_000, 1_000_000):
        mc, t = best_of(lambda n=n: roi.monte_carlo(case, dists, n=n, seed=0), repeats=3)
        print(f"monte_carlo: {n:,} draws in {t:.3f} s (P(NPV > 0) = {mc.probability_positive:.3f})")
        if n == 100_000:
            t_mc = t
            draws = mc.draws
            k = 2_000
            t0 = time.perf_counter()
            loop = [case.replace(**{c: float(draws[c].iloc[i]) for c in dists}).evaluate().npv_usd
                    for i in range(k)]
            per = (time.perf_counter() - t0) / k
            np.testing.assert_allclose(loop, mc.npv_usd[:k], rtol=1e-12)
            print(f"  loop of Case.evaluate(): {per * 1e3:.2f} ms per draw (~{per * n:.0f} s for "
                  f"{n:,}): {per * n / t_mc:,.0f}x")

    rng = np.random.default_rng(0)
    flows = np.concatenate([-rng.uniform(5e4, 2e5, (10_000, 1)),
                            rng.uniform(-5e3, 3e4, (10_000, 36))], axis=1)
    got, t_irr = best_of(lambda: roi.irr(flows), repeats=3)
    t0 = time.perf_counter()
    want = [npf.irr(f) for f in flows]
    t_loop = time.perf_counter() - t0
    np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)
    print(f"irr: 10,000 streams of 37 months in {t_irr:.3f} s batched; numpy_financial.irr loop "
          f"{t_loop:.3f} s: {t_loop / t_irr:.1f}x")

    # a million business cases (an investment, then returns: one sign change each), their
    # annual IRR at once: bisection in chunks of rows, checked against the eigen-solve
    m = 1_000_000
    many = case.replace(cvr_lift=rng.uniform(0.001, 0.04, m), one_off_usd=rng.uniform(1e4, 2e5, m))
    res = many.evaluate()
    c0 = time.process_time()
    annual = res.irr_annual
    t_many = time.process_time() - c0
    k = np.arange(0, m, 50_000)
    ref = (1 + roi._irr_rows(np.asarray(res.net_usd[k]))) ** 12 - 1
    np.testing.assert_allclose(annual[k], ref, rtol=1e-10)
    print(f"irr_annual of {m:,} cases of 37 months: {t_many:.1f} s CPU "
          f"({int(np.isnan(annual).sum()):,} without a rate)")

    swings = roi.default_swings(case)
    table, t_tor = best_of(lambda: roi.tornado(case, swings))
    print(f"tornado: {len(table)} inputs ({2 * len(table)} cases) in {t_tor * 1e3:.1f} ms")

    from costkit.decision import decide

    bigger = case.replace(ctr_lift=0.015, one_off_usd=76_000, serving_usd_per_1k_searches=0.3)
    cases = {"re-ranker": case, "rewriter + re-ranker": bigger}
    mcs = {k: roi.monte_carlo(c, dists, n=100_000, seed=0) for k, c in cases.items()}
    d, t_dec = best_of(lambda: decide(cases, mcs))
    print(f"decide: 2 options x 100,000 paired draws in {t_dec * 1e3:.1f} ms "
          f"(recommends {d.recommended}{f', gates {d.gated}' if d.gated else ''})")

    from costkit.widgets import roi_panel

    keep = case.replace(cvr_lift=0.0, latency_change_ms=0, one_off_usd=0,
                        serving_usd_per_1k_searches=0, fixed_usd_per_month=0, retrain_usd=0)
    panel = roi_panel({"keep": keep, **cases}, chart=False,
                      uncertainty={k: dists for k in cases}, draws=4_000, seed=0)
    slider = panel.controls["average_order_value_usd"]

    def move():
        slider.value = 61.0 if slider.value == 60.0 else 60.0
        return panel.summary.value

    _, t_panel = best_of(move)
    print(f"roi_panel update with its Monte Carlo: 3 options x 4,000 draws in "
          f"{t_panel * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
