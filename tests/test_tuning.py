"""costkit.tuning: search budgets worked by hand, Hyperband's table, A/B sample sizes, errors."""

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import training as tr
from costkit import tuning as tu

# --------------------------------------------------------------------------- search


def test_hyperband_brackets_reproduce_table_1_of_the_paper():
    # Li et al. 2018, Table 1: R = 81, eta = 3 (n_i, r_i per bracket)
    want = {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    hb = tu.hyperband_brackets(81, eta=3)
    for s, rungs in want.items():
        got = hb[hb.bracket == s]
        assert list(zip(got.n_trials, got.resource_per_trial, strict=True)) == rungs


def test_hyperband_cost_by_hand():
    # without resuming, each rung costs n_i x r_i:
    # 405 + (102 + 99 + 81 + 81) + (135 + 135 + 81) + (216 + 162) + 405 = 1902 units of 81
    c = tu.search_cost("hyperband", trial_gpu_hours=10, usd_per_gpu_hour=2, resume=False)
    assert c.n_configurations == 143
    assert c.full_trials == 1 + 1 + 1 + 2 + 5
    assert c.full_trial_equivalents == pytest.approx(1902 / 81)
    assert c.gpu_hours == pytest.approx(1902 / 81 * 10)
    assert c.cost_usd == pytest.approx(1902 / 81 * 20)
    # one trial at a time: the wall clock is the GPU-hours of one GPU
    assert c.wall_clock_hours == pytest.approx(1902 / 81 * 10)
    # 200 configurations need two whole iterations
    assert tu.search_cost("hyperband", 200, trial_gpu_hours=10, usd_per_gpu_hour=2,
                          resume=False).gpu_hours == pytest.approx(2 * 1902 / 81 * 10)


def test_successive_halving_by_hand():
    rungs = tu.successive_halving_rungs(81, max_resource=81, eta=3)
    assert rungs.n_trials.tolist() == [81, 27, 9, 3, 1]
    assert rungs.resource_per_trial.tolist() == [1, 3, 9, 27, 81]
    # resuming: 81 x 1 + 27 x 2 + 9 x 6 + 3 x 18 + 1 x 54 = 297 units
    sha = tu.search_cost("sha", 81, trial_gpu_hours=10, usd_per_gpu_hour=2)
    assert sha.full_trial_equivalents == pytest.approx(297 / 81)
    assert sha.saving_vs_full_trials == pytest.approx(1 - 297 / 81 / 81)
    # from scratch at every rung: 5 rungs of 81 units
    assert tu.search_cost("sha", 81, trial_gpu_hours=10, usd_per_gpu_hour=2,
                          resume=False).full_trial_equivalents == pytest.approx(5.0)


def test_a_last_rung_at_the_full_resource_when_it_is_not_a_power_of_eta():
    rungs = tu.successive_halving_rungs(100, min_resource=1, max_resource=50, eta=3)
    assert rungs.resource_per_trial.tolist() == [1, 3, 9, 27, 50]
    assert rungs.n_trials.tolist() == [100, 33, 11, 3, 1]


def test_grid_and_random_train_everything_and_wall_clock_in_waves():
    r = tu.search_cost("random", 143, trial_gpu_hours=10, usd_per_gpu_hour=2, parallel_trials=8)
    assert r.gpu_hours == 1430 and r.cost_usd == 2860
    assert r.wall_clock_hours == math.ceil(143 / 8) * 10  # 18 waves of 10 h
    assert r.saving_vs_full_trials == 0
    assert tu.grid_size({"lr": [1e-5, 3e-5, 1e-4, 3e-4, 1e-3], "warmup": 4, "wd": [0, 0.01],
                         "epochs": [1, 2, 3]}) == 120
    assert tu.search_cost("grid", 120, trial_gpu_hours=1, usd_per_gpu_hour=1).gpu_hours == 120


def test_asha_never_slower_than_sync_halving_and_never_faster_than_one_trial():
    kw = dict(trial_gpu_hours=8, usd_per_gpu_hour=2, gpus_per_trial=2)
    for w in (1, 4, 16, 256):
        sha = tu.search_cost("sha", 500, parallel_trials=w, **kw)
        asha = tu.search_cost("asha", 500, parallel_trials=w, **kw)
        assert asha.gpu_hours == pytest.approx(sha.gpu_hours)
        assert asha.wall_clock_hours <= sha.wall_clock_hours + 1e-9
        assert asha.wall_clock_hours >= 8 / 2 - 1e-9  # one full trial on its 2 GPUs
        assert asha.gpus == 2 * w
    # one worker: the wall clock is the resource on one trial's GPUs
    one = tu.search_cost("asha", 500, parallel_trials=1, **kw)
    assert one.wall_clock_hours == pytest.approx(one.gpu_hours / 2)


def test_search_from_a_training_estimate():
    trial = tr.estimate(model="bert-base", tokens=7.68e8, gpu="A100-80GB", n_gpus=8)
    c = tu.search_cost("asha", 81, trial=trial)
    assert c.trial_gpu_hours == pytest.approx(trial.gpu_hours)
    assert c.usd_per_gpu_hour == pytest.approx(trial.usd_per_gpu_hour)
    assert c.gpus == 8
    led = c.to_ledger()
    assert led.by_phase()["tune"] == pytest.approx(c.cost_usd)
    assert "asha" in repr(c)


def test_search_vectorised_equals_scalar_loop():
    n = np.array([10, 81, 500, 3000])
    h = np.array([1.0, 2.5, 10.0, 0.3])
    w = np.array([1, 8, 3, 64])
    for s in tu.STRATEGIES:
        vec = tu.search_cost(s, n, trial_gpu_hours=h, usd_per_gpu_hour=2.0, parallel_trials=w)
        for i in range(len(n)):
            one = tu.search_cost(s, int(n[i]), trial_gpu_hours=h[i], usd_per_gpu_hour=2.0,
                                 parallel_trials=int(w[i]))
            assert vec.gpu_hours[i] == pytest.approx(one.gpu_hours)
            assert vec.wall_clock_hours[i] == pytest.approx(one.wall_clock_hours)
        assert len(vec.to_frame()) == 4


def test_series_in_series_out():
    n = pd.Series([27, 81], index=["small", "large"])
    c = tu.search_cost("sha", n, trial_gpu_hours=1, usd_per_gpu_hour=1)
    assert list(c.gpu_hours.index) == ["small", "large"]


def test_affordable_configurations_by_hand():
    kw = dict(trial_gpu_hours=10, usd_per_gpu_hour=2)
    assert tu.affordable_configurations("random", budget_gpu_hours=100, **kw) == 10
    assert tu.affordable_configurations("random", budget_usd=200, **kw) == 10
    # 242 configurations: 242 + 80 x 2 + 26 x 6 + 8 x 18 + 2 x 54 = 810 units = 100 GPU-hours;
    # 243 need 243 + 81 x 2 + 27 x 6 + 9 x 18 + 3 x 54 = 891
    assert tu.affordable_configurations("sha", budget_gpu_hours=100, **kw) == 242
    assert tu.affordable_configurations("asha", budget_gpu_hours=100, **kw) == 242
    # Hyperband: whole iterations of 1,902 / 81 x 10 GPU-hours each (resuming: less)
    it = tu.search_cost("hyperband", **kw).gpu_hours
    assert tu.affordable_configurations("hyperband", budget_gpu_hours=2.5 * it, **kw) == 286
    assert tu.affordable_configurations("sha", budget_gpu_hours=0.01, **kw) == 0


@settings(max_examples=examples(40))
@given(budget=st.floats(0.2, 5000.0), strategy=st.sampled_from(["sha", "asha", "random"]))
def test_affordable_is_the_largest_search_that_fits(budget, strategy):
    kw = dict(trial_gpu_hours=3.0, usd_per_gpu_hour=1.0)
    n = tu.affordable_configurations(strategy, budget_gpu_hours=budget, **kw)
    if n > 0:
        assert tu.search_cost(strategy, n, **kw).gpu_hours <= budget + 1e-6
    assert tu.search_cost(strategy, n + 1, **kw).gpu_hours > budget - 1e-6


def test_affordable_vectorised():
    got = tu.affordable_configurations("asha", budget_usd=np.array([20, 200, 2000]),
                                       trial_gpu_hours=10, usd_per_gpu_hour=2)
    assert got.tolist() == [tu.affordable_configurations("asha", budget_usd=b,
                                                         trial_gpu_hours=10, usd_per_gpu_hour=2)
                            for b in (20, 200, 2000)]


@settings(max_examples=examples(40))
@given(n=st.integers(1, 5000), h=st.floats(0.01, 100.0), p=st.floats(0.0, 50.0))
def test_search_cost_properties(n, h, p):
    kw = dict(trial_gpu_hours=h, usd_per_gpu_hour=p)
    full = tu.search_cost("random", n, **kw)
    for s in ("sha", "asha", "hyperband"):
        c = tu.search_cost(s, n, **kw)
        assert c.cost_usd == pytest.approx(c.gpu_hours * p)  # linear in price
        assert c.gpu_hours <= c.n_configurations * h + 1e-9  # never dearer than all to the end
    more = tu.search_cost("sha", n + 50, **kw)
    assert more.gpu_hours >= tu.search_cost("sha", n, **kw).gpu_hours  # monotone in n
    assert full.gpu_hours == pytest.approx(n * h)


def test_random_search_trials():
    assert tu.random_search_trials(0.05, 0.95) == 59  # 1 - 0.95^59 = 0.952 > 0.95 > 0.946
    assert 1 - 0.95**59 >= 0.95 > 1 - 0.95**58
    assert tu.random_search_trials(np.array([0.01, 0.1]), 0.9).tolist() == [230, 22]


def test_search_errors():
    kw = dict(trial_gpu_hours=1, usd_per_gpu_hour=1)
    with pytest.raises(ValueError, match="unknown search strategy"):
        tu.search_cost("bayesian", 10, **kw)
    with pytest.raises(ValueError, match="eta"):
        tu.search_cost("sha", 10, eta=1, **kw)
    with pytest.raises(ValueError, match="must not exceed"):
        tu.search_cost("sha", 10, min_resource=100, max_resource=81, **kw)
    with pytest.raises(ValueError, match="whole number"):
        tu.search_cost("random", 10.5, **kw)
    with pytest.raises(ValueError, match=">= 0|> 0"):
        tu.search_cost("random", 10, trial_gpu_hours=-1, usd_per_gpu_hour=1)
    with pytest.raises(ValueError, match="finite"):
        tu.search_cost("random", 10, trial_gpu_hours=1, usd_per_gpu_hour=float("nan"))
    with pytest.raises(TypeError, match="n_configurations"):
        tu.search_cost("random", **kw)
    with pytest.raises(TypeError, match="usd_per_gpu_hour"):
        tu.search_cost("random", 10, trial_gpu_hours=1)
    with pytest.raises(TypeError, match="budget"):
        tu.affordable_configurations("sha", **kw)
    with pytest.raises(TypeError, match="levels"):
        tu.grid_size({})
    with pytest.raises(ValueError, match="strictly between"):
        tu.random_search_trials(0.0, 0.9)


# --------------------------------------------------------------------------- LoRA and methods


def test_lora_contract_and_hand_count():
    # Llama-2-7B, r = 8 on q and v: 32 layers x 2 matrices x 8 x (4096 + 4096)
    assert tu.lora_trainable_params(model="llama-2-7b", rank=8,
                                    target_modules=("q_proj", "v_proj")) == 32 * 2 * 8 * 8192
    # Llama-3-8B's k and v are 4096 x 1024 (8 KV heads of 128): r 16 on q, k, v, o
    want = 32 * 16 * ((4096 + 4096) + 2 * (4096 + 1024) + (4096 + 4096))
    assert tu.lora_trainable_params(model="llama-3-8b", rank=16,
                                    target_modules=("q_proj", "k_proj", "v_proj",
                                                    "o_proj")) == want
    # Qwen2.5-1.5B all-linear r 16 (gated MLP, 2 KV heads of 128): 18,464,768 as PEFT prints
    assert tu.lora_trainable_params(model="qwen2.5-1.5b", rank=16,
                                    target_modules="all-linear") == 18_464_768
    assert tu.lora_trainable_params is tr.lora_trainable_params  # one implementation


def test_lora_rank_larger_than_the_layer_is_an_error():
    with pytest.raises(ValueError, match="larger than the value matrix"):
        tu.lora_trainable_params(model="bert-base", rank=1024, target_modules=("value",))
    with pytest.raises(ValueError, match="at most the smaller side, 1024"):
        tu.lora_trainable_params(model="llama-3-8b", rank=2048, target_modules=("k_proj",))
    # exactly the smaller side is allowed (full rank)
    assert tu.lora_trainable_params(model="bert-base", rank=768, target_modules=("query",)) == (
        12 * 768 * (768 + 768))
    with pytest.raises(ValueError, match="whole number"):
        tu.lora_trainable_params(model="bert-base", rank=2.5)


def test_finetune_options_pick_the_fewest_gpus_and_reuse_training():
    df = tu.finetune_options("llama-3-8b", 5e7, gpu=["H100-SXM", "L40S"], usd_per_gpu_hour=3.0)
    byk = df.set_index(["method", "gpu"])
    # full: 16 bytes x 8.03e9 = 128.5 GB > 0.9 x 80 GiB, so 2 H100s; 3 L40S (48 GiB) -> 4
    assert byk.loc[("full", "H100-SXM"), "n_gpus"] == 2
    assert byk.loc[("full", "L40S"), "n_gpus"] == 4
    assert byk.loc[("lora", "L40S"), "n_gpus"] == 1
    assert (byk.loc["qlora", "memory_per_gpu_gb"] < byk.loc["lora", "memory_per_gpu_gb"]).all()
    direct = tr.estimate(model="llama-3-8b", tokens=5e7, gpu="H100-SXM", n_gpus=2,
                         usd_per_gpu_hour=3.0)
    assert byk.loc[("full", "H100-SXM"), "cost_usd"] == pytest.approx(direct.cost_usd)
    with pytest.raises(TypeError, match="n_gpus"):
        tu.finetune_options("llama-3-8b", 5e7, n_gpus=8)


# --------------------------------------------------------------------------- A/B tests


def _fleiss(p1, p2, alpha=0.05, power=0.8):
    z = NormalDist().inv_cdf  # independent of scipy
    za, zb = z(1 - alpha / 2), z(power)
    pb = (p1 + p2) / 2
    return ((za * math.sqrt(2 * pb * (1 - pb)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
            ** 2 / (p2 - p1) ** 2)


def test_sample_size_textbook_case():
    # baseline 10%, +1 point, alpha 0.05, power 0.8: about 14,750 per arm
    n = tu.ab_test_sample_size(0.10, 0.01)
    assert n == 14_751 and isinstance(n, int)
    assert n == math.ceil(_fleiss(0.10, 0.11))
    # by hand: z = 1.95996 and 0.84162; 1.95996 x sqrt(2 x 0.105 x 0.895) + 0.84162 x
    # sqrt(0.09 + 0.0979) = 1.21452; 1.21452^2 / 0.01^2 = 14,750.8
    assert _fleiss(0.10, 0.11) == pytest.approx(14_750.8, abs=0.1)
    assert tu.ab_test_sample_size(0.10, 0.10, relative=True) == n


@pytest.mark.parametrize("p1, lift, alpha, power", [
    (0.03, 0.003, 0.05, 0.8), (0.5, 0.05, 0.01, 0.9), (0.2, 0.02, 0.1, 0.95),
])  # fmt: skip
def test_sample_size_other_cases_match_the_formula(p1, lift, alpha, power):
    got = tu.ab_test_sample_size(p1, lift, alpha=alpha, power=power)
    assert got == math.ceil(_fleiss(p1, p1 + lift, alpha, power))


def test_sample_size_vectorised():
    lifts = np.array([0.005, 0.01, 0.02])
    got = tu.ab_test_sample_size(0.1, lifts)
    assert got.tolist() == [tu.ab_test_sample_size(0.1, x) for x in lifts]
    s = tu.ab_test_sample_size(pd.Series([0.05, 0.1], index=["ctr", "cvr"]), 0.01)
    assert list(s.index) == ["ctr", "cvr"]


@settings(max_examples=examples(60))
@given(p1=st.floats(0.01, 0.6), lift=st.floats(0.002, 0.25), power=st.floats(0.55, 0.97),
       alpha=st.floats(0.005, 0.2))
def test_sample_size_properties(p1, lift, power, alpha):
    n = tu.ab_test_sample_size(p1, lift, alpha=alpha, power=power)
    assert tu.ab_test_sample_size(p1, lift * 1.5, alpha=alpha, power=power) <= n
    assert tu.ab_test_sample_size(p1, lift, alpha=alpha, power=min(power + 0.02, 0.99)) >= n
    assert tu.ab_test_sample_size(p1, lift, alpha=alpha / 2, power=power) >= n
    # the minimum detectable lift at that n is no more than the lift asked for
    mde = tu.ab_test_minimum_detectable_lift(p1, n, alpha=alpha, power=power)
    assert mde <= lift * (1 + 1e-6)
    assert tu.ab_test_sample_size(p1, mde, alpha=alpha, power=power) <= n + 1


def test_minimum_detectable_lift_round_trip():
    assert tu.ab_test_minimum_detectable_lift(0.10, 14_751) == pytest.approx(0.01, rel=1e-4)
    rel = tu.ab_test_minimum_detectable_lift(0.10, 14_751, relative=True)
    assert rel == pytest.approx(0.10, rel=1e-4)


def test_ab_plan_by_hand():
    p = tu.ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000, traffic_fraction=0.5,
                        requests_per_unit=3, control_usd_per_1k_requests=0.1,
                        treatment_usd_per_1k_requests=0.3, gross_profit_per_conversion_usd=20)
    n = tu.ab_test_sample_size(0.03, 0.05, relative=True)
    assert p.units_per_arm == n
    # 2n / 100,000 a day = 4.2 -> 5 days -> at least 7 -> one week
    assert p.days == 7 and p.weeks == 1
    assert p.enrolled_per_arm == 7 * 100_000 / 2
    assert p.serving_cost_usd == pytest.approx(350_000 * 3 / 1000 * (0.1 + 0.3))
    assert p.treatment_serving_cost_usd == pytest.approx(315.0)
    # the control forgoes 0.03 x 5% = 0.0015 conversions per visitor at 20 USD
    assert p.worse_arm == "control"
    assert p.opportunity_cost_usd == pytest.approx(350_000 * 0.0015 * 20)
    led = p.to_ledger()
    assert led.by_phase()["tune"] == pytest.approx(315.0)  # opportunity cost is not spending
    assert "not in the ledger" in repr(p)


def test_ab_plan_long_tests_and_a_worse_treatment():
    p = tu.ab_test_plan(0.10, 0.01, daily_units=1_000, expected_lift=-0.005,
                        gross_profit_per_conversion_usd=10)
    # 2 x 14,751 / 1,000 = 29.5 -> 30 days -> 5 weeks
    assert p.days == 35
    assert p.worse_arm == "treatment"
    assert p.opportunity_cost_usd == pytest.approx(35 * 500 * 0.005 * 10)
    q = tu.ab_test_plan(0.10, 0.01, daily_units=1_000, whole_weeks=False, min_days=0)
    assert q.days == 30
    many = tu.ab_test_plan(0.10, np.array([0.005, 0.01, 0.02]), daily_units=10_000)
    assert (np.diff(many.days) <= 0).all() and len(many.to_frame()) == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(power=1.0), "power"), (dict(power=0.0), "power"), (dict(power=1.5), "fraction"),
    (dict(alpha=0.0), "alpha"), (dict(alpha=float("nan")), "finite"),
])  # fmt: skip
def test_ab_errors_on_alpha_and_power(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tu.ab_test_sample_size(0.1, 0.01, **kwargs)


def test_ab_errors_on_rates_and_lifts():
    with pytest.raises(ValueError, match="> 0"):
        tu.ab_test_sample_size(0.1, -0.01)
    with pytest.raises(ValueError, match="> 0"):
        tu.ab_test_sample_size(0.1, 0.0)
    with pytest.raises(ValueError, match="strictly between"):
        tu.ab_test_sample_size(0.0, 0.01)
    with pytest.raises(ValueError, match="not a percentage"):
        tu.ab_test_sample_size(10, 0.01)
    with pytest.raises(ValueError, match="relative=True"):
        tu.ab_test_sample_size(0.5, 0.6)
    with pytest.raises(ValueError, match="> 0"):
        tu.ab_test_plan(0.1, 0.01, daily_units=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        tu.ab_test_plan(0.1, 0.01, daily_units=100, expected_lift=-0.2)


def test_tuning_is_imported_lazily():
    assert "tuning" in ck.__all__ and ck.tuning is tu


def test_normal_quantile_without_scipy():
    from costkit.tuning import _ndtri

    # Abramowitz & Stegun table 26.5 / the textbook z-values
    got = _ndtri(np.array([[0.975, 0.8], [0.995, 0.5]]))
    assert got == pytest.approx(np.array([[1.959963984540054, 0.8416212335729143],
                                          [2.5758293035489004, 0.0]]), rel=1e-12, abs=1e-15)
    assert float(_ndtri(0.025)) == pytest.approx(-1.959963984540054, rel=1e-12)
