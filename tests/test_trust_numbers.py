"""No silent wrong number: inputs that cannot exist, jobs that do not fit, overflow, truncated
counts, bounded sizes and one validator for validate and report. Each case here was accepted
(or crashed) before."""

import copy
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from costkit import capacity as cp
from costkit import cli, roi, serving, training, tuning
from costkit import monitoring as mo
from costkit._checks import as_quantity, count
from costkit.catalog import gpu_hour_price
from costkit.ledger import Ledger
from costkit.scenario import Scenario, ScenarioError
from costkit.units import UnitError

SMALL = Path(__file__).resolve().parents[1] / "examples" / "small.yaml"
BASE = yaml.safe_load(SMALL.read_text())


def case(**kw):
    site = dict(sessions_per_month=1e6, searches_per_session=1.5, click_through_rate=0.35,
                conversion_rate=0.03, average_order_value_usd=45.0, gross_margin=0.25,
                one_off_usd=1e4, cvr_lift=0.01, horizon_months=12)
    return roi.Case(**{**site, **kw})


def scenario(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


def component(**kw):
    return lambda d: d["options"][0]["serving"][0].update(kw)


# --------------------------------------------------------------------------- what cannot exist
@pytest.mark.parametrize("kwargs, match", [
    (dict(model="llama-2-7b", prompt_tokens=16_000), "context window of Llama-2-7B, 4,096"),
    (dict(model="llama-2-7b", prompt_tokens=4_000, output_tokens=97), "4,097 tokens"),
    (dict(params=7e9, n_layers=32, d_model=4096, n_heads=30), "not divisible by n_heads"),
    (dict(params=7e9, n_layers=32, d_model=4096, n_heads=32, n_kv_heads=40), "cannot exceed"),
    (dict(params=7e9, n_layers=32, d_model=4096, n_heads=32, n_kv_heads=5), "multiple of"),
    (dict(params=7e9, n_layers=31.5, d_model=4096, n_heads=32), "whole number"),
    (dict(model="llama-2-7b", usable_memory_fraction=0), "must be > 0"),
    (dict(params=7e9, n_layers=32, d_model=4096, n_heads=32, context_tokens=2048,
          prompt_tokens=2000, output_tokens=100), "2,100 tokens"),
])  # fmt: skip
def test_llm_inputs_that_cannot_exist(kwargs, match):
    with pytest.raises(ValueError, match=match):
        serving.estimate(gpu="H100-SXM", usd_per_gpu_hour=2.0, **kwargs)


def test_llm_at_its_context_limit_is_fine():
    e = serving.estimate("llama-2-7b", gpu="H100-SXM", prompt_tokens=4000, output_tokens=96,
                         usd_per_gpu_hour=2.0)
    assert e.request_latency_s > 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="llama-2-7b"), "not a Transformer encoder"),
    (dict(model="bert-base", seq_len=4096), "512 positions"),
    (dict(model="bert-base", seq_len=1e6), "512 positions"),
    (dict(model="bert-base", batch_size=1e12), "does not fit.*largest batch is"),
    (dict(params=1e9, seq_len=128, max_positions=64), "64 positions"),
])  # fmt: skip
def test_encoder_inputs_that_cannot_exist(kwargs, match):
    with pytest.raises(ValueError, match=match):
        serving.encoder_estimate(gpu="H100-SXM", usd_per_gpu_hour=2.0, **kwargs)


def test_encoder_batch_memory_by_hand():
    # BERT-base fp16, s = 128, d = 768, 12 heads: (8 x 768 + 12 x 128) x 128 x 2 bytes
    per_seq = (8 * 768 + 12 * 128) * 128 * 2
    kw = dict(gpu="L4", usd_per_gpu_hour=1.0, usable_memory_fraction=0.9)
    gpu_bytes = serving._hardware("L4", "fp16", usd_per_gpu_hour=1.0, cloud=None,
                                  pricing="on_demand", compute_utilization=0.6,
                                  bandwidth_utilization=0.8, price_path=None,
                                  gpu_path=None).mem
    room = float(gpu_bytes) * 0.9 - 109_482_240 * 2  # 90% of an L4, minus the weights
    biggest = math.floor(room / per_seq)
    serving.encoder_estimate("bert-base", batch_size=biggest, **kw)
    with pytest.raises(ValueError, match=f"largest batch is {biggest:,}"):
        serving.encoder_estimate("bert-base", batch_size=biggest + 1, **kw)


def test_recommender_batch_must_fit():
    with pytest.raises(ValueError, match="does not fit.*largest batch"):
        serving.recommender_estimate(gpu="H100-SXM", usd_per_gpu_hour=3.0, batch_size=1e12)
    assert serving.recommender_estimate(gpu="H100-SXM", usd_per_gpu_hour=3.0).requests_per_second


# --------------------------------------------------------------------------- no price, no run
def test_a_training_run_that_does_not_fit_has_no_price():
    e = training.estimate(model="llama-3.1-405b", tokens=1e9, gpu="L4", n_gpus=1)
    assert not e.fits_in_memory
    with pytest.raises(ValueError, match="does not fit in memory.*at least 280 GPUs"):
        e.to_ledger()
    with pytest.raises(ValueError, match="does not fit"):
        tuning.search_cost("random", 10, trial=e)
    data = scenario(lambda d: d["options"][0].update(training=[
        {"name": "t", "model": "llama-3.1-405b", "tokens": 1e9, "gpu": "L4", "n_gpus": 1}]))
    with pytest.raises(ScenarioError, match=r"options\[0\]\.training\[0\]: .*does not fit"):
        Scenario.from_dict(data).evaluate(draws=0)


# --------------------------------------------------------------------------- overflow, types
def test_overflow_is_not_a_result(capsys):
    with pytest.raises(ValueError, match="overflows to infinity"):
        training.estimate(model="llama-2-7b", tokens=1e308, gpu="H100-SXM")
    with pytest.raises(ValueError, match="overflows"):
        Ledger().add("train", "x", 1e308, "GPU-hour", 10.0, "USD/GPU-hour")
    led = Ledger()
    led.add_fixed("train", "a", 1e308)
    led.add_fixed("train", "b", 1e308)
    with pytest.raises(ValueError, match="total overflows"):
        led.total()
    assert cli.main(["train", "--model", "llama-2-7b", "--tokens", "1e308"]) == 2
    assert "overflows" in capsys.readouterr().err


@pytest.mark.parametrize("value, error", [
    (True, TypeError), ("5", TypeError), (np.array([True, False]), TypeError), (None, TypeError),
    (np.array([]), ValueError), ([], ValueError), (float("inf"), ValueError),
])  # fmt: skip
def test_not_a_quantity(value, error):
    with pytest.raises(error):
        as_quantity("x", value)


def test_series_are_combined_by_label_not_position():
    a = pd.Series([1e9, 2e9], index=["a", "b"])
    t = pd.Series([1e12, 2e12], index=["b", "a"])
    with pytest.raises(ValueError, match="different indexes"):
        training.flops(a, t)
    same = training.flops(a, t.reindex(a.index))
    assert list(same.index) == ["a", "b"] and same["a"] == pytest.approx(6 * 1e9 * 2e12)


@pytest.mark.parametrize("value, match", [
    (2.7, "whole number"), (True, "whole number"), (float("nan"), "whole number"), (-1, ">= 0"),
    (11, "at most 10"),
])  # fmt: skip
def test_counts_are_never_truncated(value, match):
    with pytest.raises((TypeError, ValueError), match=match):
        count("n", value, maximum=10)


def test_fractional_counts_in_the_api():
    c = case()
    with pytest.raises(ValueError, match="n must be a whole number"):
        roi.monte_carlo(c, {"cvr_lift": ("uniform", 0.0, 0.02)}, n=2.7)
    with pytest.raises(ValueError, match="promotion_days must be a whole number"):
        cp.traffic_profile(1e6, days=2, promotion_multiplier=2, promotion_days=(0.5,))
    with pytest.raises(ValueError, match="days must be a whole number"):
        mo.synthetic_telemetry(days=1.5, replicas=3)


@pytest.mark.parametrize("bad, error", [(123, TypeError), ([], ValueError), ("", ValueError)])
def test_gpu_names_of_the_wrong_kind(bad, error):
    with pytest.raises(error):
        gpu_hour_price(bad)


def test_units_from_a_scenario_string_are_bits_or_bytes():
    with pytest.raises(UnitError, match="bytes or bits"):
        from costkit.units import parse_unit

        parse_unit("gb")


# --------------------------------------------------------------------------- limits
def test_limits_name_themselves_and_the_way_past():
    with pytest.raises(ValueError, match="MAX_HORIZON_MONTHS"):
        case(horizon_months=3000)
    with pytest.raises(ValueError, match="horizon_months must be one whole number"):
        case(horizon_months=1e6 + 0.5)
    c = case()
    with pytest.raises(ValueError, match="MAX_DRAWS"):
        roi.monte_carlo(c, {"cvr_lift": ("uniform", 0.0, 0.02)}, n=10**9)
    with pytest.raises(ValueError, match="MAX_CELLS"):
        c.replace(cvr_lift=np.zeros(10**7)).evaluate()
    with pytest.raises(ValueError, match="MAX_TRAFFIC_DAYS"):
        cp.traffic_profile(1e6, days=10_000)


def test_a_huge_fleet_is_planned_in_bounded_memory():
    # 37,000 replicas at the peak for 30 days: the mix is evaluated in blocks
    traffic = cp.traffic_profile(37_000 * 3.0 * 86400 / 1.93, days=30)
    p = cp.plan(traffic, replica_rps=3.0, usd_per_replica_hour=1.0,
                spot_usd_per_replica_hour=0.5, min_replicas=1)
    s = p.summary["monthly_cost_usd"]
    assert s["mix"] <= s["autoscale"] <= s["static_peak"]


def test_the_queue_table_is_refused_past_its_limit():
    with pytest.raises(ValueError, match="no replica count|MAX_QUEUE_CELLS"):
        cp.plan(cp.traffic_profile(1e15 * 86400), replica_rps=3.0, request_latency_s=0.5,
                usd_per_replica_hour=1.0, slo_s=1.0)
    with pytest.raises(ValueError, match="MAX_QUEUE_CELLS"):
        cp.replicas_for_slo(np.full(8760, 5e5), 0.5, 1.0, slots_per_replica=64)


def test_monte_carlo_over_a_long_horizon_is_chunked_not_refused():
    mc = roi.monte_carlo(case(horizon_months=600), {"cvr_lift": ("uniform", 0.0, 0.02)},
                         n=20_000)
    assert len(mc.npv_usd) == 20_000 and np.isfinite(mc.npv_usd).all()


# --------------------------------------------------------------------------- one validator
@pytest.mark.parametrize("change, path, match", [
    (component(dtype="fp4"), r"options\[0\]\.serving\[0\]", "unknown dtype 'fp4'"),
    (component(dtype="int3"), r"options\[0\]\.serving\[0\]", "unknown dtype 'int3'"),
    (component(prompt_tokens=100), r"serving\[0\]\.prompt_tokens", "does not apply"),
    (lambda d: d["options"][0]["effects"].update(cvr_lift=40), r"options\[0\]", "exceeds 1"),
    (lambda d: d.update(monte_carlo={"draws": 10**8}), r"monte_carlo\.draws", "<= 1000000"),
    (component(share_of_searches=0), r"share_of_searches", "above 0"),
    (component(seq_len=4096), r"serving\[0\]", "512 positions"),
    (component(batch_size=10**12), r"serving\[0\]", "does not fit"),
    (component(candidates_per_query=10**400), r"candidates_per_query", "too large"),
    (lambda d: d.update(traffic={"days": 7, "promotion_multiplier": 2, "promotion_days": [9]}),
     r"traffic\.promotion_days\[0\]", "past the 7-day profile"),
    (lambda d: d.update(traffic={"days": 7, "promotion_multiplier": 2,
                                 "promotion_days": [0.5]}),
     r"traffic\.promotion_days\[0\]", "whole number"),
    (lambda d: d["timeline"].update(horizon_months=3000), r"horizon_months", "<= 600"),
])  # fmt: skip
def test_validate_refuses_what_report_refuses(tmp_path, capsys, change, path, match):
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(scenario(change)))
    for argv in (["validate", str(file)], ["report", str(file), "--format", "json",
                                           "--draws", "0"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1
        assert re.search(path, err) and re.search(match, err), err


def test_draws_override_is_bounded(tmp_path, capsys):
    assert cli.main(["report", str(SMALL), "--format", "json", "--draws", "100000000"]) == 2
    assert "monte_carlo.draws" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match="monte_carlo.draws"):
        Scenario.from_yaml(SMALL).evaluate(draws=2.5)


def test_empty_model_name_on_the_command_line(capsys):
    assert cli.main(["serve", "--model", "", "--gpu", "L4"]) == 2
    assert "must not be empty" in capsys.readouterr().err


def test_a_case_whose_money_overflows_is_refused():
    # found by make fuzz: huge sessions or order values overflow the gross profit to inf
    with pytest.raises(ValueError, match="overflows to infinity"):
        case(average_order_value_usd=1e308).evaluate()
    assert np.isfinite(case(average_order_value_usd=1e300).evaluate().npv_usd)
