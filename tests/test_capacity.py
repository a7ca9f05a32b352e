"""costkit.capacity: Erlang C against textbook values, replica counts, strategies, errors."""

import math

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import capacity as cp
from costkit import serving as sv

# --------------------------------------------------------------------------- Erlang C


def test_erlang_c_by_hand_and_textbook():
    # a = 2 on c = 3: B = (8/6) / (1 + 2 + 2 + 8/6) = 4/19, C = 3B / (3 - 2(1 - B)) = 4/9
    assert cp.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # the classic call-centre case: 10 Erlangs on 12 agents waits 44.9% of the time
    assert cp.erlang_c(12, 10.0) == pytest.approx(0.4494, abs=5e-5)
    # M/M/1: the probability of waiting is the utilisation
    assert cp.erlang_c(1, 0.37) == pytest.approx(0.37)


def test_erlang_c_matches_the_closed_form_sum():
    a, c = 7.3, 10
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    assert cp.erlang_c(c, a) == pytest.approx(top / (terms + top))


def test_erlang_c_is_one_when_unstable():
    assert cp.erlang_c(4, 4.0) == 1.0 and cp.erlang_c(4, 9.0) == 1.0


@settings(max_examples=examples(50))
@given(c=st.integers(1, 60), a=st.floats(0.01, 59.0))
def test_erlang_c_falls_with_servers_and_rises_with_load(c, a):
    pw = cp.erlang_c(c, a)
    assert 0 <= pw <= 1
    assert cp.erlang_c(c + 1, a) <= pw + 1e-12
    assert cp.erlang_c(c, a * 1.01) >= pw - 1e-12


def test_mm1_wait_quantile_by_hand():
    # M/M/1: P(W > t) = rho exp(-(mu - lambda) t) -> t_p = ln(rho / (1 - p)) / (mu - lambda)
    lam, s, p = 8.0, 0.1, 0.95
    want = math.log(0.8 / 0.05) / (10.0 - 8.0)
    assert cp.wait_time_quantile_s(1, lam, s, p) == pytest.approx(want)
    assert cp.wait_time_quantile_s(1, 0.4, 0.1, 0.95) == 0.0    # only 4% wait at all
    assert cp.wait_time_quantile_s(1, 20.0, 0.1, 0.95) == math.inf


# --------------------------------------------------------------------------- replicas


def test_replicas_for_utilization_by_hand():
    # 100 requests/s, 30 per replica, 70% busy at most: 100 / 21 = 4.8 -> 5
    assert cp.replicas_for_utilization(100.0, 30.0, target_utilization=0.7) == 5
    assert cp.replicas_for_utilization(0.0, 30.0, min_replicas=2) == 2
    assert cp.replicas_for_utilization(21.0, 30.0, target_utilization=0.7) == 1  # exactly full


@settings(max_examples=examples(40))
@given(lam=st.floats(0.1, 400.0), s=st.floats(0.01, 2.0), extra=st.floats(0.05, 3.0),
       slots=st.sampled_from([1, 4, 16]), p=st.sampled_from([0.9, 0.95, 0.99]))
def test_slo_replicas_are_the_fewest_that_meet_it(lam, s, extra, slots, p):
    slo = s * (1 + extra)
    r = cp.replicas_for_slo(lam, s, slo, slots_per_replica=slots, percentile=p)
    t = cp.wait_time_quantile_s(r * slots, lam, s, p)
    assert s + t <= slo + 1e-9
    if r > 1:
        fewer = cp.wait_time_quantile_s((r - 1) * slots, lam, s, p)
        assert s + fewer > slo


def test_slo_replicas_vectorised_over_hours_equal_scalar_calls():
    lam = np.array([0.5, 5.0, 50.0, 120.0])
    many = cp.replicas_for_slo(lam, 0.4, 0.6, slots_per_replica=8, percentile=0.99)
    one = [cp.replicas_for_slo(x, 0.4, 0.6, slots_per_replica=8, percentile=0.99) for x in lam]
    assert list(many) == one


def test_slo_below_service_time_is_an_error():
    with pytest.raises(ValueError, match="service time .* alone exceeds the SLO"):
        cp.replicas_for_slo(10.0, 2.0, 1.0)


# --------------------------------------------------------------------------- traffic


def test_traffic_profile_scales_and_promotes():
    t = cp.traffic_profile(8.64e6, days=2)
    assert len(t) == 48 and t.name == "requests_per_second"
    assert t.mean() == pytest.approx(100.0)                       # 8.64e6 / 86,400 s
    assert int(t.iloc[:24].idxmax()) == 21 and int(t.iloc[:24].idxmin()) == 4
    promo = cp.traffic_profile(8.64e6, days=2, promotion_multiplier=3.0, promotion_days=(1,),
                               promotion_hours=(20, 21))
    assert promo[45] == pytest.approx(3 * t[45]) and promo[21] == pytest.approx(t[21])
    assert promo.sum() == pytest.approx(t.sum() + 2 * (t[44] + t[45]))


def test_own_shape_is_normalised():
    flat = cp.traffic_profile(86_400, shape=np.full(24, 7.0))
    assert np.allclose(flat, 1.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(daily_requests=-5), "must be > 0"),
    (dict(daily_requests=1e6, shape=[1, 2, 3]), "24 non-negative hourly weights"),
    (dict(daily_requests=1e6, promotion_multiplier=0.5), ">= 1"),
    (dict(daily_requests=1e6, days=0), "whole number >= 1"),
    (dict(daily_requests=1e6, promotion_multiplier=2, promotion_days=(3,)), "promotion_days"),
])  # fmt: skip
def test_traffic_profile_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cp.traffic_profile(**kwargs)


# --------------------------------------------------------------------------- strategies


def test_strategies_by_hand():
    # flat 10 requests/s, 5 per replica, 100% utilisation allowed: 2 replicas every hour.
    traffic = pd.Series(np.full(24, 10.0))
    p = cp.plan(traffic, replica_rps=5.0, usd_per_replica_hour=1.0, target_utilization=1.0,
                min_replicas=1, reserved_discount=0.37, spot_usd_per_replica_hour=0.3,
                spot_interruption_rate=0.05, max_spot_fraction=0.5)
    s = p.summary
    assert s.loc["static_peak", "monthly_cost_usd"] == pytest.approx(2 * 730)
    assert s.loc["autoscale", "monthly_cost_usd"] == pytest.approx(2 * 730)
    # R = 1 reserved at 0.63 + 1 replica of need on spot, over-provisioned: ceil(1 / 0.95) = 2
    # -> 0.63 + 2 x 0.3 = 1.23 USD/h, cheaper than R = 2 (1.26) or R = 0 (1.0 + 0.6 = 1.6)
    assert p.reserved_replicas == 1
    assert s.loc["mix", "monthly_cost_usd"] == pytest.approx(1.23 * 730)
    assert p.cheapest == "mix"
    requests = 10.0 * 3600 * 730
    assert s.loc["mix", "usd_per_1k_requests"] == pytest.approx(1.23 * 730 / requests * 1e3)


def test_autoscaling_beats_static_on_a_diurnal_curve():
    t = cp.traffic_profile(5e6)
    p = cp.plan(t, replica_rps=10.0, usd_per_replica_hour=2.0, use_spot=False)
    s = p.summary
    assert s.loc["autoscale", "monthly_cost_usd"] < s.loc["static_peak", "monthly_cost_usd"]
    assert s.loc["mix", "monthly_cost_usd"] <= s.loc["autoscale", "monthly_cost_usd"]
    assert (p.hourly["mix_spot"] == 0).all()
    # every strategy covers the need in every hour
    mix = p.hourly[["mix_reserved", "mix_on_demand"]].sum(axis=1)
    assert (mix >= p.hourly["replicas_needed"]).all()
    assert (p.hourly["static_peak"] >= p.hourly["replicas_needed"]).all()


@settings(max_examples=examples(30))
@given(scale=st.floats(1e4, 5e7), price=st.floats(0.5, 40), ratio=st.floats(0.1, 1.2),
       disc=st.floats(0.0, 0.7))
def test_mix_is_never_dearer_than_autoscaling_or_static_reserved(scale, price, ratio, disc):
    t = cp.traffic_profile(scale)
    p = cp.plan(t, replica_rps=3.0, usd_per_replica_hour=price, reserved_discount=disc,
                spot_usd_per_replica_hour=price * ratio)
    s = p.summary["monthly_cost_usd"]
    static_reserved = p.summary.loc["static_peak", "monthly_cost_usd"] * (1 - disc)
    assert s["mix"] <= s["autoscale"] * (1 + 1e-12)
    assert s["mix"] <= static_reserved * (1 + 1e-12)
    assert s["autoscale"] <= s["static_peak"] * (1 + 1e-12)
    spot = p.hourly["mix_spot"] * (1 - 0.05)
    assert (spot <= np.floor(0.5 * p.hourly["replicas_needed"]) + 1).all()


def test_plan_from_a_serving_estimate_with_an_slo():
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=16, prompt_tokens=256,
                    output_tokens=64, usd_per_gpu_hour=4.0)
    t = cp.traffic_profile(4e6, days=7, promotion_multiplier=3.0, promotion_days=(5,),
                           promotion_hours=range(18, 24))
    p = cp.plan(t, e, slo_s=1.5, percentile=0.99, label="rewriter")
    a = p.assumptions
    assert a["replica_rps"] == pytest.approx(e.requests_per_second)
    assert a["slots_per_replica"] == pytest.approx(16)
    assert a["usd_per_replica_hour"] == 4.0
    assert a["spot_usd_per_replica_hour"] == pytest.approx(4.0 * cp.spot_price_ratio("H100")[0])
    assert (p.hourly["replicas_needed"] >= p.hourly["replicas_slo"]).all()
    assert p.hourly["replicas_needed"].max() == p.hourly.loc[5 * 24 + 21, "replicas_needed"]
    led = p.to_ledger(months=12)
    assert led.total() == pytest.approx(12 * p.monthly_cost_usd())
    assert set(led.to_frame()["phase"]) == {"run"}
    assert "CapacityPlan: rewriter" in repr(p) and "cheapest" in repr(p)


def test_plan_from_encoder_and_recommender_estimates():
    enc = sv.encoder_estimate("minilm", seq_len=256, batch_size=100, candidates_per_query=100,
                              gpu="L4", usd_per_gpu_hour=0.8)
    p = cp.plan(cp.traffic_profile(2e7), enc, slo_s=0.2)
    assert p.summary.loc["autoscale", "usd_per_1k_requests"] > enc.usd_per_1k_queries
    rec = sv.recommender_estimate(gpu="H100-SXM", usd_per_gpu_hour=4.0)
    p = cp.plan(cp.traffic_profile(2e7), rec, slo_s=0.05)
    assert p.summary.loc["static_peak", "peak_replicas"] == 2        # the floor of two


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(), TypeError, "serving= or replica_rps="),
    (dict(replica_rps=5.0), TypeError, "usd_per_replica_hour"),
    (dict(replica_rps=5.0, usd_per_replica_hour=1.0, slo_s=1.0), TypeError, "request latency"),
    (dict(replica_rps=-5.0, usd_per_replica_hour=1.0), ValueError, "must be > 0"),
    (dict(replica_rps=5.0, usd_per_replica_hour=1.0, spot_interruption_rate=1.0), ValueError,
     "below 1"),
    (dict(replica_rps=5.0, usd_per_replica_hour=1.0, reserved_discount=37), ValueError,
     "fraction"),
])  # fmt: skip
def test_plan_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cp.plan(cp.traffic_profile(1e6), **kwargs)


def test_plan_rejects_bad_traffic_and_sweeps():
    with pytest.raises(ValueError, match="traffic_rps must be finite"):
        cp.plan([1.0, float("nan")], replica_rps=1.0, usd_per_replica_hour=1.0)
    many = sv.estimate("llama-2-7b", batch_size=[1, 2], usd_per_gpu_hour=1.0)
    with pytest.raises(ValueError, match="one serving configuration"):
        cp.plan(cp.traffic_profile(1e6), many)


def test_spot_ratio_is_taken_offer_by_offer():
    df = ck.gpu_prices()
    both = df[(df.gpu == "H100-SXM") & df.spot_usd_per_gpu_hour.notna()
              & df.on_demand_usd_per_gpu_hour.notna()]
    want = (both.spot_usd_per_gpu_hour / both.on_demand_usd_per_gpu_hour).median()
    ratio, note = cp.spot_price_ratio("H100")
    assert ratio == pytest.approx(want) and ratio < 1 and "median ratio" in note


def test_mix_with_whole_spot_replicas_is_not_dearer_than_autoscaling():
    # one spot replica covers 0.95 of one: two were bought for one needed, at 0.75 each
    p = cp.plan(cp.traffic_profile(187641.0), replica_rps=3.0, usd_per_replica_hour=1.0,
                reserved_discount=0.0, spot_usd_per_replica_hour=0.75)
    s = p.summary["monthly_cost_usd"]
    assert s["mix"] <= s["autoscale"] + 1e-9
    h = p.hourly
    covered = h.mix_reserved + h.mix_on_demand + np.floor(h.mix_spot * 0.95 + 1e-9)
    assert (covered >= h.replicas_needed - 1e-9).all()


def test_spot_cover_takes_the_cheaper_choice_each_hour():
    from costkit.capacity import _spot_cover

    excess = np.array([1.0, 19.0, 0.0])
    n_spot, n_od = _spot_cover(excess, excess, 0.05, 1.0, 0.75)
    # 1 needed: 2 spot (1.50) or 1 on demand (1.00) -> on demand
    # 19 needed: 20 spot (15.00) beats 19 on demand, and 19 spot cover 18 (+1 od = 15.25)
    np.testing.assert_array_equal(n_spot, [0.0, 20.0, 0.0])
    np.testing.assert_array_equal(n_od, [1.0, 0.0, 0.0])


def test_slots_from_rate_times_latency_are_not_truncated():
    # (B / S) x S is 5.999... in floating point: 6 slots, not 5
    slots = (6 / 0.7) * 0.7
    assert slots < 6
    assert cp.replicas_for_slo(12.0, 0.7, 1.0, slots_per_replica=slots) == 2.0
    p = cp.plan(np.full(24, 12.0), replica_rps=6 / 0.7, request_latency_s=0.7, slo_s=1.0,
                usd_per_replica_hour=1.0, min_replicas=1, target_utilization=1.0)
    assert p.hourly["replicas_slo"].max() == 2.0


def test_mix_cost_is_the_sum_of_its_hours_and_repeating_the_traffic_keeps_it():
    # the mix prices each distinct hourly need once, weighted by its hours: the summary must
    # still be the sum over the hourly table, and three copies of the traffic the same plan
    rng = np.random.default_rng(2)
    traffic = 300 + 200 * np.sin(np.arange(500) / 24 * 2 * np.pi) + rng.uniform(0, 30, 500)
    kw = dict(replica_rps=25.0, request_latency_s=0.04, usd_per_replica_hour=1.0,
              spot_usd_per_replica_hour=0.4)
    p = cp.plan(traffic, **kw)
    h = p.hourly
    reserved = h["mix_reserved"].iloc[0] * len(h) * 1.0 * (1 - cp.DEFAULT_RESERVED_DISCOUNT)
    usd = reserved + (h["mix_on_demand"] * 1.0 + h["mix_spot"] * 0.4).sum()
    assert p.summary.loc["mix", "monthly_cost_usd"] == pytest.approx(
        usd * cp.HOURS_PER_MONTH / len(h), rel=1e-12)
    assert h["mix_spot"].sum() > 0 and h["mix_reserved"].iloc[0] > 0
    p3 = cp.plan(np.tile(traffic, 3), **kw)
    assert p3.hourly["mix_reserved"].iloc[0] == h["mix_reserved"].iloc[0]
    assert p3.summary.loc["mix", "monthly_cost_usd"] == pytest.approx(
        p.summary.loc["mix", "monthly_cost_usd"], rel=1e-12)
