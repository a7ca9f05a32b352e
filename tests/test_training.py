"""costkit.training and costkit.mfu: hand-worked values, published runs, properties, errors."""

import csv
import math

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import mfu as mfu_mod
from costkit import training as tr

# --------------------------------------------------------------------------- FLOPs


def test_flops_six_n_d_by_hand():
    assert tr.flops(7e9, 2e12) == pytest.approx(8.4e22)  # 6 x 7e9 x 2e12


def test_flops_attention_term_by_hand():
    # 6 x 7e9 x 1e9 + 12 x 32 layers x 4096 wide x 4096 tokens x 1e9
    want = 4.2e19 + 12 * 32 * 4096 * 4096 * 1e9
    assert tr.flops(7e9, 1e9, n_layers=32, d_model=4096, seq_len=4096) == pytest.approx(want)


def test_flops_with_adapters_skips_frozen_weight_gradients():
    # forward 2N, backward 2N (activations) + 2 x 1e6 (adapter weights): (4N + 2Nt) D
    assert tr.flops(1e9, 1e6, trainable_params=1e6) == pytest.approx((4e9 + 2e6) * 1e6)


def test_a100_dense_bf16_peak_is_312():
    assert ck.gpu("A100-80GB").peak_tflops("bf16") == 312.0


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize(
    "stage, want_gb",
    [
        (0, 112.0),  # 7e9 x (2 + 2 + 12) bytes
        (1, 14 + 14 + 84 / 8),  # optimizer states sharded over 8
        (2, 14 + 14 / 8 + 84 / 8),  # and gradients
        (3, 112.0 / 8),  # and weights (FSDP)
    ],
    ids=["no sharding", "ZeRO-1", "ZeRO-2", "ZeRO-3"],
)
def test_memory_zero_stages_by_hand(stage, want_gb):
    assert tr.memory(7e9, zero_stage=stage, n_gpus=8).total_gb == pytest.approx(want_gb)


def test_memory_fp32_and_optimizers():
    assert tr.memory(1e9, dtype="fp32").total_gb == pytest.approx(16.0)  # 4 + 4 + 8
    assert tr.memory(1e9, optimizer="sgd").total_gb == pytest.approx(12.0)  # 2 + 2 + 8
    assert tr.memory(1e9, optimizer="adamw_8bit").total_gb == pytest.approx(10.0)  # 2+2+4+1+1


def test_activation_memory_by_hand():
    shape = dict(n_layers=32, d_model=4096, seq_len=4096, micro_batch_size=1)
    sbh_l = 4096 * 4096 * 32  # s x b x h x layers
    m = tr.memory(7e9, **shape)
    assert m.activations_gb == pytest.approx(34 * sbh_l / 1e9)  # 18.25 GB
    ckpt = tr.memory(7e9, activation_checkpointing=True, **shape)
    assert ckpt.activations_gb == pytest.approx(2 * sbh_l / 1e9)
    eager = tr.memory(7e9, flash_attention=False, n_heads=32, **shape)
    assert eager.activations_gb == pytest.approx((34 * sbh_l + 5 * 32 * 4096**2 * 32) / 1e9)


def test_qlora_memory_holds_a_four_bit_base():
    m = tr.memory(7e9, trainable_params=0.0, frozen_bytes_per_param=4.127 / 8)
    assert m.weights_gb == pytest.approx(7e9 * 4.127 / 8 / 1e9)
    assert m.gradients_gb == 0 and m.optimizer_gb == 0


def test_bloom_checkpoint_size_matches_bigscience():
    # BigScience: bf16 weights 329 GB, full checkpoint with optimizer states 2.3 TB
    # (176e9 x 2 bytes = 352e9 B = 328 GiB; 176e9 x 14 bytes = 2.46e12 B = 2.24 TiB).
    e = tr.estimate(176e9, 366e9, gpu="A100-80GB", mfu=0.3, usd_per_gpu_hour=1.0)
    assert e.checkpoint_gb * 1e9 / 2**40 == pytest.approx(2.24, abs=0.01)
    assert tr.memory(176e9).weights_gb * 1e9 / 2**30 == pytest.approx(328, abs=1)


# --------------------------------------------------------------------------- LoRA


@pytest.mark.parametrize(
    "model, modules, rank, want",
    [
        ("llama-2-7b", ("q_proj", "v_proj"), 8, 32 * 8 * (8192 + 8192)),  # 4,194,304
        ("llama-3-8b", ("q_proj", "v_proj"), 8, 32 * 8 * (8192 + 4096 + 1024)),  # GQA: 3,407,872
        ("bert-base", ("query", "value"), 8, 12 * 8 * (1536 + 1536)),  # 294,912
        ("llama-2-7b", "all-linear", 16, 32 * 16 * (4 * 8192 + 3 * (4096 + 11008))),
    ],
    ids=["llama2-qv", "llama3-gqa", "bert", "all-linear"],
)
def test_lora_trainable_params_by_hand(model, modules, rank, want):
    assert tr.lora_trainable_params(model, rank=rank, target_modules=modules) == want


def test_lora_vectorised_over_rank():
    got = tr.lora_trainable_params("llama-2-7b", rank=np.array([8, 16, 64]))
    np.testing.assert_array_equal(got, np.array([8, 16, 64]) * 32 * 16384)


def test_lora_estimate_is_cheaper_and_smaller_than_full():
    kw = dict(model="llama-2-7b", tokens=1e9, gpu="A100-80GB", mfu=0.4, usd_per_gpu_hour=2.0)
    full, lora, qlora = (tr.estimate(method=m, **kw) for m in ("full", "lora", "qlora"))
    assert lora.flops / full.flops == pytest.approx(4 / 6, rel=0.01)
    assert lora.memory_per_gpu_gb < full.memory_per_gpu_gb
    assert qlora.memory.weights_gb < lora.memory.weights_gb / 3
    assert lora.trainable_params == tr.lora_trainable_params(
        "llama-2-7b", rank=16, target_modules=("q_proj", "k_proj", "v_proj", "o_proj"))


def test_lora_errors():
    with pytest.raises(ValueError, match="unknown LoRA target module"):
        tr.lora_trainable_params("llama-2-7b", target_modules=("qkv",))
    with pytest.raises(ValueError, match="gate"):
        tr.lora_trainable_params("bert-base", target_modules=("gate_proj",))
    with pytest.raises(ValueError, match="needs model="):
        tr.estimate(7e9, 1e9, method="lora")


# --------------------------------------------------------------------------- published runs


LLAMA2 = {  # Touvron et al. 2023, Table 2: A100-80GB GPU-hours for 2.0T tokens
    "llama-2-7b": (184_320, 0.39),  # implied MFU: 6 x 6.74e9 x 2e12 / (184,320 x 3600 x 312e12)
    "llama-2-70b": (1_720_320, 0.43),  # 6 x 6.90e10 x 2e12 / (1,720,320 x 3600 x 312e12)
}


@pytest.mark.parametrize("model", sorted(LLAMA2))
def test_llama2_gpu_hours_reproduced_at_their_implied_mfu(model):
    hours, implied_mfu = LLAMA2[model]
    # the implied MFU is a wall-clock one: goodput 1
    e = tr.estimate(model=model, tokens=2e12, gpu="A100-80GB", mfu=implied_mfu, goodput=1.0)
    assert e.gpu_hours == pytest.approx(hours, rel=0.10)
    # the default goodput (0.9) charges the idle tenth on top of the same step MFU
    idle = tr.estimate(model=model, tokens=2e12, gpu="A100-80GB", mfu=implied_mfu)
    assert idle.gpu_hours == pytest.approx(e.gpu_hours / 0.9)


@pytest.mark.parametrize("model", sorted(LLAMA2))
def test_llama2_with_default_mfu_central_close_and_range_covers(model):
    hours, _ = LLAMA2[model]
    e = tr.estimate(model=model, tokens=2e12, gpu="A100-80GB")
    assert e.gpu_hours == pytest.approx(hours, rel=0.15)
    assert e.low.gpu_hours <= hours <= e.high.gpu_hours


@pytest.mark.parametrize(
    "model, tokens, hours",
    [("llama-3-8b", 15e12, 1.3e6), ("llama-3-70b", 15e12, 6.4e6),
     ("llama-3.1-405b", 15.6e12, 30.84e6)],
)  # fmt: skip
def test_llama3_h100_runs_inside_the_range(model, tokens, hours):
    e = tr.estimate(model=model, tokens=tokens, gpu="H100")
    assert e.low.gpu_hours <= hours * 1.0001 and hours <= e.high.gpu_hours * 1.0001


def test_out_of_sample_error_and_interval_coverage():
    # every run predicted by the model fitted without it; its 80% interval from the
    # leave-one-out residuals of the other runs only (nested), so coverage is measured
    for attention in (False, True):
        c = mfu_mod.calibration(attention=attention)
        assert len(c) == len(mfu_mod.training_runs())
        err = (c.loo_ratio - 1).abs()
        assert err.median() <= 0.16
        assert (c.in_sample_ratio - 1).abs().median() <= err.median()  # in-sample flatters
        assert 0.7 <= c.covered.mean() <= 0.9
        assert (c.loo_low_gpu_hours < c.loo_gpu_hours).all()
        assert (c.loo_gpu_hours < c.loo_high_gpu_hours).all()
    widths = c.loo_high_gpu_hours / c.loo_low_gpu_hours
    assert widths.median() < 2.5  # narrower than the old pooled range


def test_default_mfu_depends_on_generation_size_and_precision():
    a100, h100 = mfu_mod.default_mfu("A100-80GB"), mfu_mod.default_mfu("H100")
    assert h100.central < a100.central  # Hopper uses a smaller share of its peak
    small, big = mfu_mod.default_mfu("H100", params=1e9), mfu_mod.default_mfu("H100", params=4e11)
    assert small.central < h100.central < big.central  # small models leave big GPUs idle
    fp8 = mfu_mod.default_mfu("H100", "fp8")
    assert fp8.central == pytest.approx(h100.central * 1.3 / 2)  # 1.3x speed-up of a 2x peak
    b200 = mfu_mod.default_mfu("B200")
    assert "no published run on Blackwell" in b200.basis
    assert b200.high / b200.low > h100.high / h100.low  # an unseen generation is less sure


def test_default_mfu_is_the_fitted_effective_mfu_over_goodput():
    m = mfu_mod.efficiency_model()
    h100 = ck.gpu("H100")
    # log(MFU x goodput) = b0 + a[Hopper] + b1 (log10 N - log10 peak - 8), by hand
    x = math.log10(70e9) - math.log10(989.5) - 8.0
    want = math.exp(m.intercept + m.arch_effects["Hopper"] + m.size_slope * x)
    d = mfu_mod.default_mfu(h100.name, params=70e9)
    assert d.central * d.goodput == pytest.approx(want)
    assert mfu_mod.default_mfu(h100.name, params=70e9, goodput=0.5).central == pytest.approx(
        want / 0.5)
    legacy = mfu_mod.default_mfu(h100.name, params=70e9, legacy_stack=True)
    assert legacy.central == pytest.approx(d.central * math.exp(m.legacy_effect))


def test_llama_carbon_accounting_reproduced():
    # LLaMA Table 15: 65B, 1,022,362 GPU-hours at 400 W, PUE 1.1 -> 449 MWh, 173 tCO2e
    runs = mfu_mod.training_runs().set_index("run")
    implied = runs.loc["LLaMA-65B", "mfu"]
    # The paper counts the GPU boards only: server_power_factor=1
    e = tr.estimate(65286819840, 1.4e12, gpu="A100-80GB", mfu=implied, usd_per_gpu_hour=1.0,
                    server_power_factor=1.0, goodput=1.0)
    assert e.gpu_hours == pytest.approx(1_022_362)
    assert e.energy_kwh == pytest.approx(1_022_362 * 0.4 * 1.1)  # 449.8 MWh
    assert e.co2_kg / 1000 == pytest.approx(173, abs=0.5)
    assert "GPU boards only" in e.assumptions["power"]
    # by default the server's share is counted too: x 10.2 kW / (8 x 700 W) = x 1.8214
    server = tr.estimate(65286819840, 1.4e12, gpu="A100-80GB", mfu=implied, usd_per_gpu_hour=1.0,
                         goodput=1.0)
    assert server.energy_kwh == pytest.approx(1_022_362 * 0.4 * 1.1 * 10_200 / 5_600)
    assert "DGX H100" in server.assumptions["power"]
    with pytest.raises(ValueError, match="server_power_factor must be >= 1"):
        tr.estimate(7e9, 1e9, gpu="A100-80GB", server_power_factor=0.5)


# --------------------------------------------------------------------------- estimate


def test_estimate_hand_worked_chain():
    # 8.4e22 FLOP / (0.5 x 312e12 FLOP/s x 3600 s/h) = 149,572.6 GPU-hours
    e = tr.estimate(7e9, 2e12, gpu="A100-80GB", mfu=0.5, usd_per_gpu_hour=2.0, n_gpus=64,
                    pue=1.2, kg_co2_per_kwh=0.5, goodput=0.8)
    hours = 8.4e22 / (0.5 * 0.8 * 312e12 * 3600)  # step MFU x goodput
    assert e.gpu_hours == pytest.approx(hours)
    assert e.wall_clock_hours == pytest.approx(hours / 64)
    assert e.cost_usd == pytest.approx(hours * 2.0)
    server = 10_200 / (8 * 700)  # DGX H100: the server's draw per watt of GPU TDP
    assert e.energy_kwh == pytest.approx(hours * 0.4 * server * 1.2)
    assert e.co2_kg == pytest.approx(hours * 0.4 * server * 1.2 * 0.5)
    assert e.low.gpu_hours == e.gpu_hours == e.high.gpu_hours  # a given MFU and price are exact


def test_estimate_defaults_come_from_the_catalogs_and_are_stated():
    e = tr.estimate(model="llama-2-7b", tokens=2e12, gpu="A100-80GB")
    assert e.usd_per_gpu_hour == pytest.approx(ck.gpu_hour_price("A100-80GB"))
    n = ck.model("llama-2-7b").params
    assert e.mfu == pytest.approx(mfu_mod.default_mfu("A100-80GB", params=n).central)
    assert e.goodput == 0.9 and e.assumptions["goodput"] == 0.9
    for key in ("mfu_basis", "price", "price_dates", "pue", "kg_co2_per_kwh", "power"):
        assert e.assumptions[key]
    text = repr(e)
    for word in ("GPU-hours", "cost (USD)", "CO2", "median on_demand", "PUE 1.1", "Llama-2-7B"):
        assert word in text
    assert e.low.cost_usd < e.cost_usd < e.high.cost_usd
    s = e.summary()
    assert list(s.columns) == ["low", "central", "high"]
    assert (s.loc["cost_usd"].diff().dropna() > 0).all()


def test_default_gpu_count_is_one_node_or_what_memory_needs():
    small = tr.estimate(1e9, 1e10, gpu="H100", mfu=0.4, usd_per_gpu_hour=2.0)
    assert small.n_gpus == 8 and small.min_gpus_for_memory == 1
    big = tr.estimate(model="llama-3.1-405b", tokens=1e12, gpu="H100", mfu=0.4,
                      usd_per_gpu_hour=2.0)
    # 405.85e9 x 16 bytes / (0.9 x 80 GiB = 77.31e9 bytes) = 83.996 -> 84 GPUs -> 11 nodes
    assert big.min_gpus_for_memory == 84 and big.n_gpus == 88 and big.fits_in_memory


def test_given_gpu_count_below_memory_need_is_flagged():
    e = tr.estimate(70e9, 1e9, gpu="A100-80GB", n_gpus=8, mfu=0.4, usd_per_gpu_hour=1.0)
    assert not e.fits_in_memory and "DOES NOT FIT" in repr(e)


def test_unshardable_job_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="cannot fit in GPU memory"):
        tr.estimate(70e9, 1e9, gpu="A100-80GB", zero_stage=0, mfu=0.4, usd_per_gpu_hour=1.0)


def test_scaling_loss_makes_more_gpus_dearer():
    n = np.array([8, 64, 512, 4096])
    flat = tr.estimate(7e9, 1e12, gpu="H100", n_gpus=n, mfu=0.4, usd_per_gpu_hour=2.0)
    lossy = tr.estimate(7e9, 1e12, gpu="H100", n_gpus=n, mfu=0.4, usd_per_gpu_hour=2.0,
                        scaling_loss_per_doubling=0.05)
    np.testing.assert_allclose(flat.cost_usd, flat.cost_usd[0])
    assert (np.diff(lossy.cost_usd) > 0).all() and (np.diff(lossy.wall_clock_hours) < 0).all()
    assert lossy.cost_usd[1] == pytest.approx(flat.cost_usd[1] / 0.95**3)  # 64 = 8 x 2^3


def test_gpu_without_tdp_gets_no_energy_but_says_why():
    e = tr.estimate(1e9, 1e10, gpu="TPU-v5e", mfu=0.4)
    assert e.cost_usd > 0 and math.isnan(e.energy_kwh)
    assert "pass watts_per_gpu" in e.assumptions["power"]
    assert "not estimated" in repr(e)
    e2 = tr.estimate(1e9, 1e10, gpu="TPU-v5e", mfu=0.4, watts_per_gpu=200)
    assert e2.energy_kwh > 0


def test_vectorised_equals_scalar_loop():
    params = np.array([1e8, 7e9, 7e10])
    tokens = np.array([1e10, 2e12, 1e12])
    gpus = np.array(["A100-80GB", "H100", "L40S"])
    vec = tr.estimate(params, tokens, gpu=gpus, n_gpus=64)
    for i in range(3):
        one = tr.estimate(params[i], tokens[i], gpu=gpus[i], n_gpus=64)
        assert vec.cost_usd[i] == pytest.approx(one.cost_usd)
        assert vec.high.gpu_hours[i] == pytest.approx(one.high.gpu_hours)
        assert vec.gpu[i] == one.gpu
    frame = vec.to_frame()
    assert len(frame) == 3 and {"cost_usd_low", "cost_usd_high", "gpu"} <= set(frame.columns)


def test_series_in_series_out():
    s = pd.Series([1e9, 2e9], index=["small", "large"])
    e = tr.estimate(s, 1e10, gpu="H100", mfu=0.4, usd_per_gpu_hour=2.0)
    assert isinstance(e.cost_usd, pd.Series) and list(e.cost_usd.index) == ["small", "large"]
    assert list(e.to_frame().index) == ["small", "large"]


def test_spot_pricing_is_cheaper_on_the_same_cloud():
    # (across all clouds the spot median can exceed the on-demand one: only the
    # hyperscalers, whose on-demand prices are high, sell spot capacity)
    on = tr.estimate(7e9, 1e11, gpu="H100", mfu=0.4, cloud="GCP")
    spot = tr.estimate(7e9, 1e11, gpu="H100", mfu=0.4, pricing="spot", cloud="GCP")
    assert spot.cost_usd < on.cost_usd and spot.gpu_hours == on.gpu_hours


def test_to_ledger_fills_the_training_phase():
    e = tr.estimate(7e9, 1e11, gpu="H100", mfu=0.4, usd_per_gpu_hour=2.0)
    led = e.to_ledger(preprocessing_hours=100, usd_per_preprocessing_hour=0.5,
                      checkpoint_months=3, checkpoints_kept=2)
    ckpt_gb = 7e9 * 14 / 1e9  # bf16 weights + fp32 master and two moments
    want = e.gpu_hours * 2.0 + 100 * 0.5 + 2 * ckpt_gb * 3 * 0.023
    assert led.total() == pytest.approx(want)
    phases = led.by_phase()
    assert phases["train"] == pytest.approx(want) and phases.drop("train").sum() == 0
    with pytest.raises(ValueError, match="one configuration"):
        tr.estimate([1e9, 2e9], 1e9, mfu=0.4, usd_per_gpu_hour=1.0).to_ledger()
    # nothing asked, nothing added: the GPU line alone
    alone = e.to_ledger()
    assert len(alone.to_frame()) == 1 and alone.total() == pytest.approx(e.gpu_hours * 2.0)
    with pytest.raises(ValueError, match="needs usd_per_preprocessing_hour"):
        e.to_ledger(preprocessing_hours=100)  # CPU time has no default price


# --------------------------------------------------------------------------- planner


def test_compute_optimal_recovers_chinchilla():
    p = tr.compute_optimal(flops=6 * 70e9 * 1.4e12)
    assert p.params == pytest.approx(70e9) and p.tokens == pytest.approx(1.4e12)


def test_compute_optimal_round_trip_budget():
    kw = dict(gpu="H100", mfu=0.4, usd_per_gpu_hour=2.5)
    plan = tr.compute_optimal(1e6, **kw)
    back = tr.compute_optimal_budget(plan.params, **kw)
    assert back.cost_usd == pytest.approx(1e6)
    assert back.tokens == pytest.approx(20 * plan.params)


def test_compute_optimal_vectorised_and_monotone():
    budgets = np.array([1e4, 1e5, 1e6, 1e7])
    p = tr.compute_optimal(budgets, gpu="A100-80GB")
    assert (np.diff(p.params) > 0).all()
    # the default MFU grows with N, so N grows a little faster than sqrt(budget)
    assert (p.params[1:] / p.params[:-1] > math.sqrt(10)).all()
    fixed = tr.compute_optimal(budgets, gpu="A100-80GB", mfu=0.4)
    np.testing.assert_allclose(fixed.params[1:] / fixed.params[:-1], math.sqrt(10))  # N ~ sqrt(C)
    # the solved MFU is the model's MFU at the solved N
    one = tr.compute_optimal(1e6, gpu="A100-80GB")
    assert one.mfu == pytest.approx(mfu_mod.default_mfu("A100-80GB", params=one.params).central,
                                    rel=1e-3)
    assert (p.params_range[0] <= p.params).all() and (p.params <= p.params_range[1]).all()
    with pytest.raises(ValueError, match="exactly one"):
        tr.compute_optimal(1e6, gpu_hours=10)


# --------------------------------------------------------------------------- properties

pos = st.floats(min_value=1e6, max_value=1e12, allow_nan=False)
frac = st.floats(min_value=0.05, max_value=1.0)
price = st.floats(min_value=0.01, max_value=100.0)


@settings(max_examples=examples(40))
@given(pos, pos, price, st.floats(min_value=1.1, max_value=10))
def test_cost_is_linear_in_price(n, d, p, k):
    a = tr.estimate(n, d, gpu="H100", mfu=0.4, usd_per_gpu_hour=p)
    b = tr.estimate(n, d, gpu="H100", mfu=0.4, usd_per_gpu_hour=p * k)
    assert b.cost_usd == pytest.approx(a.cost_usd * k)


@settings(max_examples=examples(40))
@given(pos, pos, frac, frac)
def test_gpu_hours_inversely_proportional_to_mfu(n, d, u1, u2):
    a = tr.estimate(n, d, gpu="A100-80GB", mfu=u1, usd_per_gpu_hour=1.0)
    b = tr.estimate(n, d, gpu="A100-80GB", mfu=u2, usd_per_gpu_hour=1.0)
    assert a.gpu_hours * u1 == pytest.approx(b.gpu_hours * u2)


@settings(max_examples=examples(40))
@given(pos, pos, st.integers(0, 3), st.integers(1, 64))
def test_memory_monotone_in_params(n1, n2, stage, gpus):
    lo, hi = sorted([n1, n2])
    assert tr.memory(lo, zero_stage=stage, n_gpus=gpus).total_gb <= tr.memory(
        hi, zero_stage=stage, n_gpus=gpus).total_gb


@settings(max_examples=examples(40))
@given(pos, pos, st.floats(min_value=1.0, max_value=100.0))
def test_flops_linear_in_tokens(n, d, k):
    assert tr.flops(n, d * k) == pytest.approx(tr.flops(n, d) * k)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(params=-1e9, tokens=1e9), ValueError, "params must be > 0"),
        (dict(params=1e9, tokens=float("nan")), ValueError, "tokens must be finite"),
        (dict(params=1e9, tokens=1e9, mfu=1.5), ValueError, "not a percentage"),
        (dict(params=1e9, tokens=1e9, mfu=0), ValueError, "mfu must be > 0"),
        (dict(params=1e9, tokens=1e9, pue=0.9), ValueError, "pue must be >= 1"),
        (dict(params=1e9, tokens=1e9, usd_per_gpu_hour=-2), ValueError, "must be >= 0"),
        (dict(params=1e9, tokens=1e9, n_gpus=2.5), ValueError, "whole number"),
        (dict(params=1e9, tokens=1e9, zero_stage=4), ValueError, "zero_stage"),
        (dict(params=1e9, tokens=1e9, optimizer="lion"), ValueError, "unknown optimizer"),
        (dict(params=1e9, tokens=1e9, dtype="int8"), ValueError, "inference data type"),
        (dict(params=1e9, tokens=1e9, gpu="V100"), ValueError, "no dense bf16"),
        (dict(params=1e9, tokens=1e9, gpu="H1000"), ck.UnknownNameError, "Did you mean"),
        (dict(model="llama-2-7x", tokens=1e9), ck.UnknownNameError, "Did you mean"),
        (dict(model="llama-2-7b", params=7e9, tokens=1e9), ValueError, "not both"),
        (dict(params=1e9), TypeError, "tokens"),
        (dict(params=1e9, tokens=1e9, seq_len=2048), ValueError, "seq_len needs"),
        (dict(params=[1e9, 2e9], tokens=[1e9, 2e9, 3e9]), ValueError, "do not broadcast"),
        (dict(params=1e9, tokens=1e9, method="dora"), ValueError, "method must be"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_estimate_rejects_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tr.estimate(**kwargs)


def test_flops_and_memory_reject_bad_input():
    with pytest.raises(ValueError, match="missing: seq_len"):
        tr.flops(7e9, 1e9, n_layers=32, d_model=4096)
    with pytest.raises(ValueError, match="cannot exceed"):
        tr.flops(1e9, 1e9, trainable_params=2e9)
    with pytest.raises(ValueError, match="n_heads"):
        tr.memory(1e9, n_layers=2, d_model=64, seq_len=128, flash_attention=False)


def test_runs_file_errors_name_file_row_and_column(tmp_path, data_dir):
    rows = list(csv.DictReader(open(data_dir / "training_runs.csv", newline="")))
    for column, value, match in [("gpu", "H1000", "column 'gpu'"),
                                 ("gpu_hours", "10", "MFU of"),
                                 ("dtype", "int4", "column 'dtype'")]:
        bad = [dict(r) for r in rows]
        bad[2][column] = value
        f = tmp_path / f"runs_{column}.csv"
        with open(f, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(bad)
        with pytest.raises(ck.DataFileError, match=rf"runs_{column}\.csv, row 3 .*{match}"):
            mfu_mod.training_runs(f)


def test_own_runs_file_recalibrates_the_default(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("run,params,tokens,gpu,gpu_hours,dtype,n_layers,d_model,seq_len,source\n"
                 "ours,1e9,1e11,H100,500,bf16,,,,our cluster logs 2026-10\n")
    m = mfu_mod.default_mfu("H100", path=f)
    # one run: its own effective MFU, 6e20 / (500 x 3600 x 989.5e12) = 0.337, is MFU x goodput
    assert m.central * m.goodput == pytest.approx(6e20 / (500 * 3600 * 989.5e12))
    e = tr.estimate(1e9, 1e11, gpu="H100", runs_path=f, usd_per_gpu_hour=1.0)
    assert e.gpu_hours == pytest.approx(500)


def test_qlora_keeps_embeddings_and_lm_head_in_16_bit():
    # Llama-3-8B: 8,030,261,248 params, of which 1,050,939,392 outside the blocks
    # (embeddings, lm_head, final norm): 1.05e9 x 2 B + 6.98e9 x 4.127 / 8 B = 5.70 GB
    e = tr.estimate(model="llama-3-8b", tokens=1e8, gpu="A100-80GB", method="qlora", n_gpus=1)
    m = ck.model("llama-3-8b")
    outside = m.params - m.n_layers * m.layer_params
    base = outside * 2 + (m.params - outside) * tr.QLORA_BITS_PER_PARAM / 8
    adapters = e.trainable_params * 2  # the LoRA adapters, 16-bit
    assert base / 1e9 == pytest.approx(5.70, abs=0.01)
    assert e.memory.weights_gb == pytest.approx((base + adapters) / 1e9)


def test_a_gpu_without_a_price_gets_every_figure_but_money():
    kw = dict(model="deepseek-v3", gpu="H800", tokens=14.8e12, n_gpus=2048)
    e = tr.estimate(**kw)
    priced = tr.estimate(**kw, usd_per_gpu_hour=2.0)
    for k in ("flops", "gpu_hours", "wall_clock_hours", "energy_kwh", "co2_kg",
              "memory_per_gpu_gb"):
        assert getattr(e, k) == pytest.approx(getattr(priced, k)), k
    assert e.low.gpu_hours == pytest.approx(priced.low.gpu_hours)
    assert np.isnan(e.cost_usd) and np.isnan(e.high.cost_usd)
    assert "no on_demand price for H800" in e.assumptions["price_missing_warning"]
    text = repr(e)
    assert "cost (USD)" in text and "not estimated" in text and "WARNING: no on_demand" in text
    with pytest.raises(ValueError, match="without a price cannot go in a ledger"):
        e.to_ledger()
    # a sweep over a priced and an unpriced GPU prices the one it can
    both = tr.estimate(model="llama-2-7b", gpu=["H800", "H100-SXM"], tokens=1e11, n_gpus=8)
    cost = np.asarray(both.cost_usd)
    assert np.isnan(cost[0]) and cost[1] > 0 and "H800" in both.assumptions["price"]


def test_one_expert_is_always_the_one_touched():
    """kernels.distinct_experts: a layer of one expert, one per token, touches exactly 1 (a
    make-mutate survivor treated E = 1 as no experts and returned 0)."""
    from costkit import kernels

    assert float(kernels.distinct_experts(1, 1, 5)) == pytest.approx(1.0)
    assert float(kernels.distinct_experts(0, 0, 5)) == 0.0


@pytest.mark.filterwarnings("ignore:overflow encountered")  # numpy's, before the refusal
def test_a_cost_that_overflows_only_at_the_high_end_is_refused():
    """GPU-hours near 1e290 at 1e20 USD each: the high cost overflows, so the estimate is
    refused by name, not returned with an infinite high end (a make-mutate survivor divided
    the hours by the price in the guard)."""
    with pytest.raises(ValueError, match="cost_usd overflows to infinity"):
        tr.estimate(7e9, 4e297, gpu="H100", mfu=0.4, usd_per_gpu_hour=1e20)
    with pytest.raises(ValueError, match="cost_usd overflows to infinity"):  # no energy
        tr.estimate(7e9, 4e297, gpu="H100", mfu=0.4, usd_per_gpu_hour=1e20, watts_per_gpu=0.0)
