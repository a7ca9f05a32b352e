"""costkit.roi: cash-flow metrics against numpy-financial and by hand, the funnel, the case,
break-even values by substitution, sensitivity, Monte Carlo, scenarios and bad input."""

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from costkit import roi
from costkit._tables import UnknownNameError
from costkit.decision import decision_summary

# A small case worked by hand: 1,000,000 sessions x 3 searches = 3M searches a month;
# x 0.4 CTR = 1.2M clicks; x 0.05 = 60,000 orders; x 50 USD = 3M GMV; x 0.2 = 600,000 USD
# of gross profit a month. A 1% lift earns 6,000 USD a month; serving 0.5 USD per 1k
# searches costs 1,500; people 1,000; one-off 10,000 at month 0.
HAND = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
            conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
            cvr_lift=0.01, one_off_usd=10_000.0, serving_usd_per_1k_searches=0.5,
            fixed_usd_per_month=1_000.0, horizon_months=3, launch_month=1, ramp_months=0,
            annual_discount_rate=0.0)
MONTHLY_1PCT = 1.01**12 - 1  # an annual rate that is exactly 1% a month
ANNUITY_3 = 1 / 1.01 + 1 / 1.01**2 + 1 / 1.01**3  # 2.940985...


def hand_case(**kw):
    return roi.Case(**{**HAND, **kw})


# ------------------------------------------------------------------ NPV, IRR, payback


def test_npv_known_streams():
    assert roi.npv(0.10, [-100, 60, 60]) == pytest.approx(-100 + 60 / 1.1 + 60 / 1.21)
    # numpy-financial's documented example
    assert roi.npv(0.08, [-40_000, 5_000, 8_000, 12_000, 30_000]) == pytest.approx(3065.22267)
    assert roi.npv(0.0, [-5, 2, 2, 2]) == pytest.approx(1.0)


def test_npv_vectorised_matches_numpy_financial_row_by_row():
    rng = np.random.default_rng(1)
    flows = rng.normal(0, 100, size=(50, 13))
    rates = rng.uniform(0, 0.2, size=50)
    got = roi.npv(rates, flows)
    want = [npf.npv(r, f) for r, f in zip(rates, flows, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # one rate for many streams, and many rates for one stream
    np.testing.assert_allclose(roi.npv(0.05, flows), [npf.npv(0.05, f) for f in flows])
    np.testing.assert_allclose(roi.npv(rates, flows[0]), [npf.npv(r, flows[0]) for r in rates])


@pytest.mark.parametrize("flows, want", [
    ([-100, 39, 59, 55, 20], 0.28095), ([-100, 0, 0, 74], -0.0955),
    ([-100, 100, 0, -7], -0.0833), ([-100, 100, 0, 7], 0.06206), ([-5, 10.5, 1, -8, 1], 0.0886),
])  # fmt: skip
def test_irr_numpy_financial_examples(flows, want):
    assert round(roi.irr(flows), 5) == pytest.approx(want)
    assert round(float(roi.irr(np.array([flows, flows]))[1]), 5) == pytest.approx(want)


def oracle_irr(flows):
    """numpy-financial's IRR, with no rate (NaN) where the flows never change sign.

    numpy-financial 1.0 answers NaN there and 1.1 answers -1.0; neither is a rate.
    """
    signs = np.sign(np.asarray(flows, dtype=float))
    if not ((signs > 0).any() and (signs < 0).any()):
        return np.nan
    return npf.irr(flows)


@pytest.mark.parametrize("flows", [[-1.0, -1.0, -1.0], [0.0, 5.0, 5.0], [-100.0, 0.0, 0.0]])
def test_irr_without_a_sign_change_is_nan_one_stream_or_many(flows):
    assert np.isnan(roi.irr(flows)) and np.isnan(oracle_irr(flows))
    assert np.isnan(roi.irr(np.array([flows, flows]))).all()


def test_irr_one_stream_equals_the_batch():
    rng = np.random.default_rng(3)
    flows = np.concatenate([-rng.uniform(50, 150, (20, 1)), rng.uniform(0, 40, (20, 8))], axis=1)
    np.testing.assert_array_equal([roi.irr(f) for f in flows], roi.irr(flows))


def test_irr_batched_equals_numpy_financial():
    rng = np.random.default_rng(7)
    flows = np.concatenate([-rng.uniform(50, 150, (40, 1)), rng.uniform(0, 40, (40, 12))], axis=1)
    flows[::5, -3:] = 0.0  # trailing zeros: a shorter polynomial
    flows[1::7, 0] = 0.0  # a leading zero
    flows[2] = -1.0  # every flow negative: no IRR
    got = roi.irr(flows)
    want = np.array([oracle_irr(f) for f in flows])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert np.isnan(got[2])
    ok = ~np.isnan(got)
    np.testing.assert_allclose(roi.npv(np.clip(got[ok], 0, 1), flows[ok])[got[ok] >= 0], 0,
                               atol=1e-6)


def test_payback_by_hand():
    assert roi.payback_period([-100, 60, 60]) == pytest.approx(1 + 40 / 60)
    assert roi.payback_period([-100, 50, 50]) == pytest.approx(2.0)
    assert roi.payback_period([0, 5, 5]) == 0.0
    assert np.isnan(roi.payback_period([-100, 10, 10]))
    # the first crossing is reported, even if the sum dips again later
    assert roi.payback_period([-100, 150, -100, 60]) == pytest.approx(100 / 150)
    rows = roi.payback_period(np.array([[-100, 60, 60], [-100, 10, 10]]))
    assert rows[0] == pytest.approx(5 / 3) and np.isnan(rows[1])
    # discounted at 10%: -100, 54.545, 49.587 -> 1 + 45.455 / 49.587
    assert roi.discounted_payback_period(0.1, [-100, 60, 60]) == pytest.approx(
        1 + (100 - 60 / 1.1) / (60 / 1.21))


def test_rates_and_rollout():
    assert roi.monthly_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1)
    assert roi.annual_rate(roi.monthly_rate(0.25)) == pytest.approx(0.25)
    assert roi.rollout_share(range(6), launch_month=2, ramp_months=2).tolist() == [
        0, 0, 0.5, 1, 1, 1]
    assert roi.rollout_share(range(4), launch_month=1, ramp_months=0).tolist() == [0, 1, 1, 1]
    shares = roi.rollout_share(range(5), launch_month=np.array([1, 3]), ramp_months=3)
    np.testing.assert_allclose(shares, [[0, 1 / 3, 2 / 3, 1, 1], [0, 0, 0, 1 / 3, 2 / 3]])


# ------------------------------------------------------------------ funnel and lift


def test_funnel_by_hand():
    f = roi.Funnel(1e6, 3, 0.4, 0.05, 50.0, 0.2)
    assert f.searches_per_month == 3e6
    assert f.clicks_per_month == pytest.approx(1.2e6)
    assert f.orders_per_month == pytest.approx(60_000)
    assert f.gmv_usd_per_month == pytest.approx(3e6)
    assert f.gross_profit_usd_per_month == pytest.approx(600_000)
    assert f.gross_profit_per_1k_searches_usd == pytest.approx(200.0)
    assert f.orders_per_session == pytest.approx(0.06)  # 60,000 orders / 1M sessions
    assert f.gross_profit_per_order_usd == pytest.approx(10.0)
    assert f.usd_per_1k_searches(1_500) == pytest.approx(0.5)  # 1,500 USD over 3,000k searches
    up = f.uplift(cvr_lift=0.01)
    assert up["incremental_orders_per_month"] == pytest.approx(600)
    assert up["incremental_gross_profit_usd_per_month"] == pytest.approx(6_000)
    s = pd.Series([1e6, 2e6], index=["a", "b"])
    assert list(roi.Funnel(s, 3, 0.4, 0.05, 50.0, 0.2).orders_per_month.index) == ["a", "b"]


def test_order_lift_by_hand():
    assert roi.order_lift(cvr_lift=0.02) == pytest.approx(0.02)
    assert roi.order_lift(ctr_lift=0.1, cvr_lift=0.1) == pytest.approx(0.21)
    assert roi.order_lift(cvr_lift=0.02, accuracy_loss=0.01) == pytest.approx(1.02 * 0.99 - 1)
    # 250 ms slower at -1% per 100 ms: 0.99 ** 2.5
    assert roi.order_lift(latency_change_ms=250, latency_elasticity_per_100ms=-0.01) == \
        pytest.approx(0.99**2.5 - 1)
    assert roi.order_lift(latency_change_ms=-100, latency_elasticity_per_100ms=-0.01) > 0


# ------------------------------------------------------------------ the case


def test_case_cash_flows_by_hand():
    r = hand_case().evaluate()
    np.testing.assert_allclose(r.net_usd, [-10_000, 3_500, 3_500, 3_500])
    assert r.npv_usd == pytest.approx(500.0)
    assert r.payback_month == pytest.approx(2 + 3_000 / 3_500)
    assert r.net_value_usd == pytest.approx(500.0)
    assert isinstance(r.roi, float) and r.roi == pytest.approx(500 / 17_500)
    r1 = hand_case(annual_discount_rate=MONTHLY_1PCT).evaluate()
    assert r1.monthly_discount_rate == pytest.approx(0.01)
    assert r1.npv_usd == pytest.approx(-10_000 + 3_500 * ANNUITY_3)
    # NPV through the contract function and numpy-financial agree with the result's own
    assert r1.npv_usd == pytest.approx(roi.npv(0.01, r1.net_usd))
    assert r1.npv_usd == pytest.approx(npf.npv(0.01, r1.net_usd))
    assert r1.irr_monthly == pytest.approx(oracle_irr(r1.net_usd))


def test_break_even_lift_solved_and_substituted():
    c = hand_case(annual_discount_rate=MONTHLY_1PCT)
    r = c.evaluate()
    pv_cost = 10_000 + (1_500 + 1_000) * ANNUITY_3
    assert r.break_even_lift == pytest.approx(pv_cost / (600_000 * ANNUITY_3))
    assert c.replace(cvr_lift=float(r.break_even_lift)).evaluate().npv_usd == pytest.approx(
        0, abs=1e-6)


def test_break_even_traffic_solved_and_substituted():
    c = hand_case(annual_discount_rate=MONTHLY_1PCT)
    r = c.evaluate()
    # per session: 3 x (0.4 x 0.05 x 50 x 0.2 x 1% - 0.5 / 1000) = 0.0045 USD a month
    want = (10_000 + 1_000 * ANNUITY_3) / (3 * (0.002 - 0.0005) * ANNUITY_3)
    assert r.break_even_sessions_per_month == pytest.approx(want)
    assert c.replace(sessions_per_month=want).evaluate().npv_usd == pytest.approx(0, abs=1e-6)
    # serving dearer than the gain per search: no traffic is enough
    assert np.isinf(hand_case(serving_usd_per_1k_searches=5.0).evaluate()
                    .break_even_sessions_per_month)


def test_ramp_launch_and_retraining():
    r = hand_case(horizon_months=12, launch_month=2, ramp_months=2, retrain_usd=300,
                  retrain_every_months=3).evaluate()
    np.testing.assert_allclose(r.rollout_share[:5], [0, 0, 0.5, 1, 1])
    assert np.flatnonzero(r.retraining_usd).tolist() == [5, 8, 11]
    assert r.fixed_usd[0] == 0 and (r.fixed_usd[1:] == 1_000).all()
    np.testing.assert_allclose(r.incremental_gross_profit_usd[:4], [0, 0, 3_000, 6_000])
    np.testing.assert_allclose(r.serving_usd[:4], [0, 0, 750, 1_500])


def test_waterfall_and_ledger_add_up():
    r = hand_case(horizon_months=24, ramp_months=4, retrain_usd=300, retrain_every_months=6,
                  annual_discount_rate=0.1).evaluate()
    w = r.waterfall()
    steps = ["incremental gross profit", "serving", "fixed (monitoring, people)", "retraining",
             "one-off"]
    assert w[steps].sum() == pytest.approx(w["net value"])
    assert w["net value"] + w["discounting"] == pytest.approx(w["NPV"])
    assert w["NPV"] == pytest.approx(r.npv_usd) and w["discounting"] < 0
    led = r.to_ledger()
    assert led.total() == pytest.approx(r.cost_usd.sum())
    assert led.by_phase()["train"] == pytest.approx(300 * 3)  # months 7, 13, 19
    df = r.to_frame()
    assert df.cumulative_usd.iloc[-1] == pytest.approx(r.net_value_usd)
    assert df.discounted_net_usd.sum() == pytest.approx(r.npv_usd)


def test_ledger_takes_an_itemised_one_off():
    from costkit.ledger import Ledger

    one = Ledger()
    one.add_fixed("train", "fine-tune", 4_000)
    one.add("opt", "engineers", 6, "engineer-day", 1_000, "USD/engineer-day")
    led = hand_case().evaluate().to_ledger(one_off=one)
    assert led.by_phase()["opt"] == 6_000 and led.by_phase()["train"] == 4_000
    with pytest.raises(ValueError, match="one-off ledger totals"):
        hand_case(one_off_usd=9_000).evaluate().to_ledger(one_off=one)


def test_accuracy_loss_and_latency_reduce_the_gain():
    base = hand_case().evaluate()
    lossy = hand_case(accuracy_loss=0.005).evaluate()
    slow = hand_case(latency_change_ms=200, latency_elasticity_per_100ms=-0.01).evaluate()
    assert lossy.npv_usd < base.npv_usd and slow.npv_usd < base.npv_usd
    assert lossy.order_lift == pytest.approx(1.01 * 0.995 - 1)


# ------------------------------------------------------------------ properties

finite = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=examples(60))
@given(lift=st.floats(0, 0.2, **finite), dl=st.floats(1e-4, 0.1, **finite),
       margin=st.floats(0.05, 0.8, **finite), dm=st.floats(1e-3, 0.19, **finite),
       rate=st.floats(0, 0.5, **finite), ramp=st.floats(0, 12, **finite))
def test_npv_rises_with_lift_and_margin(lift, dl, margin, dm, rate, ramp):
    c = hand_case(cvr_lift=lift, gross_margin=margin, annual_discount_rate=rate,
                  ramp_months=ramp, horizon_months=24)
    npv = c.evaluate().npv_usd
    assert c.replace(cvr_lift=lift + dl).evaluate().npv_usd > npv
    if lift > 1e-6:
        assert c.replace(gross_margin=margin + dm).evaluate().npv_usd > npv


@settings(max_examples=examples(60))
@given(one_off=st.floats(0, 1e6, **finite), serving=st.floats(0, 5, **finite),
       fixed=st.floats(0, 1e5, **finite), extra=st.floats(1, 1e5, **finite))
def test_npv_falls_with_every_cost(one_off, serving, fixed, extra):
    c = hand_case(one_off_usd=one_off, serving_usd_per_1k_searches=serving,
                  fixed_usd_per_month=fixed, horizon_months=12, annual_discount_rate=0.1)
    npv = c.evaluate().npv_usd
    assert c.replace(one_off_usd=one_off + extra).evaluate().npv_usd < npv
    assert c.replace(serving_usd_per_1k_searches=serving + extra / 1e4).evaluate().npv_usd < npv
    assert c.replace(fixed_usd_per_month=fixed + extra).evaluate().npv_usd < npv


@settings(max_examples=examples(60))
@given(lift=st.floats(0.001, 0.1, **finite), one_off=st.floats(0, 1e7, **finite),
       rate=st.floats(0, 0.3, **finite), launch=st.integers(1, 6))
def test_npv_is_affine_in_lift_and_break_even_substitutes(lift, one_off, rate, launch):
    c = hand_case(one_off_usd=one_off, annual_discount_rate=rate, horizon_months=18,
                  launch_month=launch, ramp_months=2)
    n0, n1, n2 = (c.replace(cvr_lift=x).evaluate().npv_usd for x in (0, lift, 2 * lift))
    assert n2 - n1 == pytest.approx(n1 - n0, rel=1e-9, abs=1e-6)
    be = float(c.evaluate().break_even_lift)
    assert c.replace(cvr_lift=be).evaluate().npv_usd == pytest.approx(0, abs=1e-6 * max(1, one_off))


# ------------------------------------------------------------------ sensitivity and MC


def test_tornado_matches_one_at_a_time():
    c = hand_case(horizon_months=24, annual_discount_rate=0.1, ramp_months=3)
    swings = {"cvr_lift": (0.005, 0.02), "one_off_usd": (5_000, 50_000),
              "serving_usd_per_1k_searches": (0.1, 1.0)}
    t = roi.tornado(c, swings)
    for name, (lo, hi) in swings.items():
        assert t.loc[name, "npv_low_usd"] == pytest.approx(
            c.replace(**{name: lo}).evaluate().npv_usd)
        assert t.loc[name, "npv_high_usd"] == pytest.approx(
            c.replace(**{name: hi}).evaluate().npv_usd)
    assert list(t.swing_usd) == sorted(t.swing_usd, reverse=True)
    assert t.attrs["base_npv_usd"] == pytest.approx(c.evaluate().npv_usd)
    default = roi.tornado(c)
    assert "cvr_lift" in default.index and "launch_month" not in default.index
    assert default.loc["gross_margin", "high"] == pytest.approx(0.24)


DISTS = {"cvr_lift": ("pert", -0.002, 0.01, 0.02), "gross_margin": ("uniform", 0.15, 0.25),
         "one_off_usd": ("lognormal", 10_000, 0.3),
         "serving_usd_per_1k_searches": ("triangular", 0.3, 0.5, 0.9)}


def test_monte_carlo_is_seeded_and_evaluates_each_draw():
    c = hand_case(horizon_months=12, annual_discount_rate=0.1)
    a = roi.monte_carlo(c, DISTS, n=5_000, seed=42)
    b = roi.monte_carlo(c, DISTS, n=5_000, seed=42)
    other = roi.monte_carlo(c, DISTS, n=5_000, seed=43)
    np.testing.assert_array_equal(a.npv_usd, b.npv_usd)
    assert not np.array_equal(a.npv_usd, other.npv_usd)
    i = 123
    one = c.replace(**{k: float(a.draws[k].iloc[i]) for k in DISTS}).evaluate()
    assert a.npv_usd[i] == pytest.approx(one.npv_usd)
    assert a.probability_positive == pytest.approx(np.mean(a.npv_usd > 0))
    assert 0 < a.probability_positive < 1
    assert a.draws.cvr_lift.between(-0.002, 0.02).all()
    # PERT mean is (low + 4 mode + high) / 6
    assert a.draws.cvr_lift.mean() == pytest.approx((-0.002 + 0.04 + 0.02) / 6, abs=3e-4)
    assert a.drivers().index[0] == "cvr_lift"
    p = a.percentiles([5, 50, 95])
    assert p[5] < p[50] < p[95]
    assert set(a.summary().index) >= {"p_npv_positive", "npv_p5_usd", "npv_p95_usd"}


def test_monte_carlo_accepts_arrays_and_functions():
    c = hand_case()
    draws = np.linspace(0.0, 0.02, 11)
    mc = roi.monte_carlo(c, {"cvr_lift": draws,
                             "fixed_usd_per_month": lambda rng, n: rng.uniform(0, 10, n)}, n=11)
    assert mc.draws.cvr_lift.tolist() == draws.tolist()
    deterministic = roi.monte_carlo(c, {"cvr_lift": ("uniform", 0.01, 0.01)}, n=3)
    np.testing.assert_allclose(deterministic.npv_usd, c.evaluate().npv_usd)


def test_monte_carlo_errors():
    c = hand_case()
    with pytest.raises(ValueError, match="bounded distribution"):
        roi.monte_carlo(c, {"gross_margin": ("normal", 0.2, 0.5)}, n=1000)
    with pytest.raises(UnknownNameError, match="cvr_lift"):
        roi.monte_carlo(c, {"cvr_lfit": ("uniform", 0, 0.1)})
    with pytest.raises(ValueError, match="unknown distribution"):
        roi.monte_carlo(c, {"cvr_lift": ("gauss", 0, 0.1)})
    with pytest.raises(ValueError, match="takes 3 parameters"):
        roi.monte_carlo(c, {"cvr_lift": ("pert", 0, 0.1)})
    with pytest.raises(ValueError, match="need 10 draws"):
        roi.monte_carlo(c, {"cvr_lift": np.zeros(3)}, n=10)
    with pytest.raises(ValueError, match="horizon_months"):
        roi.monte_carlo(c, {"horizon_months": ("uniform", 1, 2)})


# ------------------------------------------------------------------ scenarios


def three_options():
    keep = hand_case(cvr_lift=0, one_off_usd=0, serving_usd_per_1k_searches=0,
                     fixed_usd_per_month=0, horizon_months=24, annual_discount_rate=0.1)
    small = hand_case(horizon_months=24, annual_discount_rate=0.1)
    big = hand_case(ctr_lift=0.01, cvr_lift=0.012, one_off_usd=60_000,
                    serving_usd_per_1k_searches=1.0, latency_change_ms=50,
                    latency_elasticity_per_100ms=-0.01, horizon_months=24,
                    annual_discount_rate=0.1)
    return {"keep": keep, "re-ranker": small, "rewriter + re-ranker": big}


def test_compare_equals_individual_evaluations():
    cases = three_options()
    t = roi.compare(cases)
    assert list(t.index) == list(cases)
    for name, c in cases.items():
        r = c.evaluate()
        assert t.loc[name, "npv_usd"] == pytest.approx(r.npv_usd)
        assert t.loc[name, "break_even_lift"] == pytest.approx(r.break_even_lift)
        assert t.loc[name, "payback_month"] == pytest.approx(r.payback_month, nan_ok=True)
    assert t.loc["keep", "npv_usd"] == 0
    assert t.loc["re-ranker", "irr_annual"] == pytest.approx(
        (1 + npf.irr(cases["re-ranker"].evaluate().net_usd)) ** 12 - 1)
    assert t.loc["re-ranker", "serving_usd_per_month"] == pytest.approx(1_500)
    with pytest.raises(ValueError, match="different horizons"):
        roi.compare({"a": hand_case(), "b": hand_case(horizon_months=4)})


def test_decision_summary_follows_the_numbers():
    cases = three_options()
    t = roi.compare(cases)
    best = t.drop("keep").npv_usd.idxmax()
    text = decision_summary(cases)
    assert text.startswith(f"Deploy {best}.")
    assert f"{t.loc[best, 'npv_usd']:,.0f} USD" in text
    # make every option lose money: the summary says keep
    losing = {k: c.replace(one_off_usd=float(c.one_off_usd) * 1000) for k, c in cases.items()}
    assert decision_summary(losing).startswith("Keep the current system.")
    mc = roi.monte_carlo(cases[best], {"cvr_lift": ("uniform", -0.01, 0.03)}, n=2000)
    text = decision_summary(cases, {best: mc}, roi.tornado(cases[best]))
    assert f"P(NPV > 0) is {mc.probability_positive:.0%}" in text
    assert "most sensitive to" in text


# ------------------------------------------------------------------ the origin's linear model


def test_linear_cost_and_optimal_size():
    assert roi.linear_model_cost(2.0, 3.0) == pytest.approx(125 * 2 + 17 * 3)
    kw = dict(max_value=2000.0, scale_params_billion=0.5, exponent=0.5)
    assert roi.value_of_size(0.0, **kw) == 0.0
    p_star = roi.optimal_model_size(**kw)
    grid = np.linspace(0, 20, 200_001)
    net = roi.value_of_size(grid, **kw) - roi.linear_model_cost(grid, 0)
    assert p_star == pytest.approx(grid[np.argmax(net)], abs=1e-3)
    assert p_star > 0
    # minimising cost alone: the cheapest model is no model
    assert grid[np.argmin(roi.linear_model_cost(grid, 4.0))] == 0
    # not worth any parameters when the value is small
    assert roi.optimal_model_size(max_value=50.0, scale_params_billion=0.5, exponent=0.5) == 0
    p_min = roi.size_for_value(1500.0, **kw)
    assert roi.value_of_size(p_min, **kw) == pytest.approx(1500.0)
    with pytest.raises(ValueError, match="below max_value"):
        roi.size_for_value(2000.0, **kw)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kw, match", [
    ({"click_through_rate": 1.5}, "fraction from 0 to 1"),
    ({"conversion_rate": -0.1}, "conversion_rate must be >= 0"),
    ({"gross_margin": 30}, "not a percentage"),
    ({"sessions_per_month": -1}, "sessions_per_month must be >= 0"),
    ({"sessions_per_month": float("nan")}, "finite"),
    ({"annual_discount_rate": 1.5}, "annual_discount_rate"),
    ({"annual_discount_rate": -0.05}, "annual_discount_rate"),
    ({"horizon_months": 0}, "horizon of 0"),
    ({"horizon_months": 2.5}, "whole number"),
    ({"horizon_months": np.array([12, 24])}, "one whole number"),
    ({"launch_month": 5}, "after the 3-month horizon"),
    ({"launch_month": 0}, "launch_month must be > 0"),
    ({"cvr_lift": -1.0}, "must be > -1"),
    ({"accuracy_loss": 1.0}, "accuracy_loss must be < 1"),
    ({"latency_elasticity_per_100ms": 0.084}, "-0.0775"),
    ({"ctr_lift": 2.0}, "exceeds 1"),
    ({"one_off_usd": -5}, "one_off_usd must be >= 0"),
    ({"retrain_every_months": 1.5}, "whole number"),
    ({"cvr_lift": np.zeros(3), "ctr_lift": np.zeros(2)}, "do not broadcast"),
])  # fmt: skip
def test_bad_case_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        hand_case(**kw)


def test_bad_cash_flows():
    with pytest.raises(ValueError, match="at least one period"):
        roi.npv(0.1, [])
    with pytest.raises(ValueError, match="period 1"):
        roi.npv(0.1, [-1, float("nan"), 2])
    with pytest.raises(ValueError, match="discount_rate"):
        roi.npv(1.2, [-1, 2])
    with pytest.raises(ValueError, match="discount_rate"):
        roi.npv(-0.1, [-1, 2])
    with pytest.raises(TypeError):
        roi.payback_period(["a", "b"])
    with pytest.raises(ValueError, match="at least one period"):
        roi.irr(np.zeros((3, 0)))


def test_single_case_only_operations():
    r = hand_case(cvr_lift=np.array([0.01, 0.02])).evaluate()
    assert r.shape == (2,) and r.to_frame().shape[0] == 2
    with pytest.raises(ValueError, match="single case"):
        r.waterfall()
    with pytest.raises(ValueError, match="is an array"):
        roi.tornado(hand_case(cvr_lift=np.array([0.01, 0.02])))


def test_default_swings_keep_lifted_rates_possible():
    # found by make fuzz: a 27x conversion lift at 3% conversion is 84%; +20% on the lift or the
    # rate would be above 100%, and the tornado of that case raised instead of drawing
    case = roi.Case(sessions_per_month=30, searches_per_session=1.5, click_through_rate=0.35,
                    conversion_rate=0.03, average_order_value_usd=45, gross_margin=0.25,
                    cvr_lift=27, one_off_usd=8000, horizon_months=24)
    swings = roi.default_swings(case)
    assert swings["cvr_lift"][1] == pytest.approx(1 / 0.03 - 1)
    assert swings["conversion_rate"][1] == pytest.approx(1 / 28)
    t = roi.tornado(case, swings)
    assert np.isfinite(t["npv_low_usd"]).all() and np.isfinite(t["npv_high_usd"]).all()


def test_a_huge_irr_reads_as_above_1000_percent():
    assert roi.irr_label(162.26) == "above 1,000%" and roi.irr_label(0.2345) == "23%"
    assert roi.irr_label(float("nan")) == "n/a"
    from costkit.widgets import roi_summary_html

    cases = three_options()
    t = roi.compare(cases)
    t.loc["re-ranker", "irr_annual"] = 162.26  # 16,226% a year: a tiny one-off, a monthly gain
    html = roi_summary_html(t)
    assert "above 1,000%" in html and "16226" not in html and "16,226" not in html


def test_cost_of_delay_by_hand_and_against_a_later_launch():
    case = roi.Case(sessions_per_month=12e6, searches_per_session=2, click_through_rate=0.3,
                conversion_rate=0.05, average_order_value_usd=60, gross_margin=0.25,
                ctr_lift=0.02, serving_usd_per_1k_searches=0.05, fixed_usd_per_month=1_000,
                one_off_usd=50_000, horizon_months=24)
    # 24M searches x 0.3 x 0.05 x 60 x 0.25 = 5.4M gross profit a month; 2% of it is 108,000;
    # serving 24,000 x 0.05 = 1,200
    assert roi.cost_of_delay_usd_per_month(case) == pytest.approx(108_000 - 1_200)
    later = case.replace(launch_month=2)
    lost = case.evaluate().net_value_usd - later.evaluate().net_value_usd
    assert lost == pytest.approx(106_800)
    many = case.replace(ctr_lift=np.array([0.0, 0.02]))
    assert np.allclose(roi.cost_of_delay_usd_per_month(many), [-1_200, 106_800])


def test_fixed_costs_split_by_category_in_the_ledger():
    case = roi.Case(sessions_per_month=1e6, searches_per_session=2, click_through_rate=0.3,
                    conversion_rate=0.05, average_order_value_usd=50, gross_margin=0.3,
                    ctr_lift=0.01, fixed_usd_per_month=1_500, horizon_months=12)
    res = case.evaluate()
    led = res.to_ledger(fixed_by_category={"labour": 1_000, "operations": 500})
    by = led.by_category()
    assert by["labour"] == pytest.approx(12_000) and by["operations"] == pytest.approx(6_000)
    assert led.total() == pytest.approx(res.cost_usd.sum())
    assert res.to_ledger().by_category()["operations"] == pytest.approx(18_000)
    with pytest.raises(ValueError, match="sums to 1,400.00"):
        res.to_ledger(fixed_by_category={"labour": 900, "operations": 500})


def test_monte_carlo_keeps_exactly_what_a_full_evaluation_gives():
    # monte_carlo computes only the NPV and the payback month of each draw; they must be the
    # full ROIResult's, bit for bit, whatever the chunking
    case = roi.Case(sessions_per_month=12.2e6, searches_per_session=1.2, click_through_rate=0.4,
                    conversion_rate=0.025, average_order_value_usd=60.0, gross_margin=0.3,
                    cvr_lift=0.02, one_off_usd=33_000, serving_usd_per_1k_searches=0.01,
                    fixed_usd_per_month=4_700, retrain_usd=1_031, retrain_every_months=3,
                    launch_month=2, ramp_months=3)
    dists = {"cvr_lift": ("pert", -0.03, 0.0, 0.04), "one_off_usd": ("lognormal", 33_000, 0.5)}
    mc = roi.monte_carlo(case, dists, n=5_000, seed=3, chunk_size=700)
    full = case.replace(**{k: mc.draws[k].to_numpy() for k in dists}).evaluate()
    assert np.array_equal(mc.npv_usd, full.npv_usd)
    assert np.array_equal(mc.payback_month, full.payback_month, equal_nan=True)
    assert np.isnan(mc.payback_month).any() and not np.isnan(mc.payback_month).all()


def test_irr_by_bisection_equals_the_eigen_solve_and_numpy_financial(monkeypatch):
    # one sign change (an investment, then returns): the unique positive root is found by
    # bisection; several: the eigen-solve. Both must give numpy-financial's rate, chunked
    # or not.
    rng = np.random.default_rng(11)
    up = np.concatenate([-rng.uniform(50, 150, (300, 1)), rng.uniform(0, 40, (300, 24))], axis=1)
    down = np.concatenate([-np.full((100, 1), 100.0), rng.uniform(0, 3, (100, 12))], axis=1)
    down = np.pad(down, ((0, 0), (0, 12)))  # rates below zero, trailing zeros
    mixed = rng.uniform(-40, 40, (200, 25))  # several sign changes
    flows = np.concatenate([up, down, mixed])
    flows[5] = [-100.0, 50.0, 50.0] + [0.0] * 22  # a rate of exactly 0
    got = roi.irr(flows)
    assert got[5] == 0.0
    np.testing.assert_allclose(got, roi._irr_rows(flows), rtol=1e-11, atol=1e-13)
    want = np.array([oracle_irr(f) for f in flows[::7]])
    np.testing.assert_allclose(got[::7], want, rtol=1e-9, atol=1e-12)
    assert (roi._sign_changes(up) == 1).all() and (roi._sign_changes(mixed[:20]) > 1).any()
    monkeypatch.setattr(roi, "_IRR_CHUNK_CELLS", 100)  # a few rows per chunk
    np.testing.assert_array_equal(roi.irr(flows), got)


def test_monte_carlo_summary_percentiles_by_hand():
    """The summary's 5th, 50th and 95th NPV percentiles are numpy's (a make-mutate survivor
    reported the 95th as the median)."""
    import numpy as np

    case = roi.Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                    conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
                    cvr_lift=0.02, one_off_usd=2e4)
    mc = roi.monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01)}, n=500, seed=1)
    s = mc.summary()
    want = np.percentile(mc.npv_usd, [5, 50, 95])
    assert [s["npv_p5_usd"], s["npv_p50_usd"], s["npv_p95_usd"]] == pytest.approx(want)


def test_the_defaults_of_the_rollout_and_of_the_percentiles():
    """The documented defaults, worked by hand: a launch in month 1 ramped over 3 months, and
    the 5/25/50/75/95th NPV percentiles."""
    got = roi.rollout_share(range(6))
    np.testing.assert_allclose(got, [0, 1 / 3, 2 / 3, 1, 1, 1], rtol=1e-12)
    case = roi.Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                    conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
                    cvr_lift=0.02, one_off_usd=2e4)
    mc = roi.monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01)}, n=400, seed=2)
    p = mc.percentiles()
    assert p.index.tolist() == [5, 25, 50, 75, 95]
    np.testing.assert_allclose(p.to_numpy(), np.percentile(mc.npv_usd, [5, 25, 50, 75, 95]))
