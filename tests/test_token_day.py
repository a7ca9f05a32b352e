"""A published production day on expert-parallel pools: kernels by hand, the day, refusals."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costkit import token_day as td
from costkit.serving_efficiency import ServingEfficiency, default

DAY = td.DEEPSEEK_V3_R1_DAY
EXPERT = 3 * 7168 * 2048          # one DeepSeek-V3 routed expert (gated, d_ff_expert 2048)
DENSE = 37552282624 - 58 * 8 * EXPERT  # active minus the routed experts a token uses
KV = 61 * (512 + 64) * 2          # MLA latent in bf16 per token, all layers [bytes]


def test_weights_per_gpu_by_hand():
    # decode: 288 expert copies over 144 GPUs = 2 per GPU per layer; prefill: 9 per GPU
    assert td.ep_weight_bytes_per_gpu(DENSE, EXPERT, 58, 256, 32, 144, 1) == pytest.approx(
        DENSE + 58 * 2 * EXPERT)
    assert td.ep_weight_bytes_per_gpu(DENSE, EXPERT, 58, 256, 32, 32, 1) == pytest.approx(
        DENSE + 58 * 9 * EXPERT)
    # bf16 doubles it; a vector of pools broadcasts
    got = td.ep_weight_bytes_per_gpu(DENSE, EXPERT, 58, 256, 32, np.array([32, 144]), 2)
    assert got == pytest.approx(2 * np.array([DENSE + 58 * 9 * EXPERT, DENSE + 58 * 2 * EXPERT]))


def test_attention_flops_by_hand():
    # MLA absorbed: scores over 512 + 64, values over 512 -> 2·L·H·1088·c
    assert td.attention_flops_per_token(61, 128, 4989, head_dim=192, kv_lora_rank=512,
                                        rope_head_dim=64) == pytest.approx(
        2 * 61 * 128 * 1088 * 4989)
    # MLA expanded (prefill): keys of 192, values of 128
    assert td.attention_flops_per_token(61, 128, 100, head_dim=192, kv_lora_rank=512,
                                        rope_head_dim=64, absorbed=False) == pytest.approx(
        2 * 61 * 128 * 320 * 100)
    # grouped-query / multi-head: 4·L·H·d_head·c, whatever `absorbed` says
    for absorbed in (True, False):
        assert td.attention_flops_per_token(32, 32, 1000, head_dim=128,
                                            absorbed=absorbed) == pytest.approx(
            4 * 32 * 32 * 128 * 1000)


def test_network_bytes_by_hand():
    per_expert = 58 * 8 * 7168 * (1 + 2) * 143 / 144
    assert td.network_bytes_per_token(58, 8, 7168, 1, 2, 144, 8, False) == pytest.approx(
        per_expert)
    # 4 nodes: the 3 others are each missed by all 8 experts with probability (3/4)^8
    by_node = 58 * 7168 * 3 * 3 * (1 - 0.75 ** 8)
    assert td.network_bytes_per_token(58, 8, 7168, 1, 2, 32, 8, True) == pytest.approx(by_node)
    # one node: nothing crosses the network either way
    assert td.network_bytes_per_token(58, 8, 7168, 1, 2, 8, 8, True) == 0.0
    assert td.network_bytes_per_token(58, 8, 7168, 1, 2, 1, 8, False) == 0.0


def test_overlap_between_max_and_sum():
    assert td.overlapped_s(3.0, 2.0, 1.0) == 3.0
    assert td.overlapped_s(3.0, 2.0, 0.0) == 5.0
    assert td.overlapped_s(2.0, 3.0, 0.5) == pytest.approx(4.0)
    assert np.allclose(td.overlapped_s(np.array([1.0, 4.0]), 2.0, 1.0), [2.0, 4.0])


def _hand_hw(eff: ServingEfficiency) -> dict:
    """H800 roofs at the efficiency's shares, typed in from the datasheet row."""
    return {"flops8": 1979e12 * eff.compute_max * eff.eight_bit_factor,
            "flops16": 989.5e12 * eff.compute_max, "bytes_per_s": 3.35e12 * eff.bandwidth_max,
            "nic": 50e9, "layer_s": eff.layer_overhead_s}


def test_decode_pass_by_hand():
    """The decode batch and tokens/s per node, worked from the equations with typed-in shapes."""
    eff = default()
    h = _hand_hw(eff)
    t = td.reproduce()
    weights = DENSE + 58 * 2 * EXPERT
    batch = np.floor((0.9 * 80e9 - weights) / (4989 * KV))
    assert t.decode_batch == batch == 141
    mm = DENSE - 129280 * 7168
    dense = max(2 * mm * batch / h["flops8"], mm / h["bytes_per_s"])
    experts = max(2 * 58 * 8 * EXPERT * batch / h["flops8"], 58 * 2 * EXPERT / h["bytes_per_s"])
    attention = max(batch * 2 * 61 * 128 * 1088 * 4989 / h["flops16"],
                    batch * 4989 * KV / h["bytes_per_s"])
    compute = max(dense + experts + attention, 61 * h["layer_s"])
    network = batch * 58 * 8 * 7168 * 3 * 143 / 144 / h["nic"]
    step = max(compute, network)
    assert t.decode_tokens_per_s_per_node == pytest.approx(8 * batch / step)
    assert t.decode_user_tokens_per_s == pytest.approx(1 / step)
    assert t.decode_user_tokens_per_s >= DAY.user_tokens_per_s[0]


def test_prefill_pass_by_hand():
    eff = default()
    h = _hand_hw(eff)
    n = 16384
    mm = DENSE - 129280 * 7168
    dense = max(2 * mm * n / h["flops8"], mm / h["bytes_per_s"])
    experts = max(2 * 58 * 8 * EXPERT * n / h["flops8"], 58 * 9 * EXPERT / h["bytes_per_s"])
    attention = n * 2 * 61 * 128 * 320 * 4989 / h["flops16"]
    compute = dense + experts + attention
    network = n * 58 * 7168 * 3 * 3 * (1 - 0.75 ** 8) / h["nic"]
    per_node = 8 * n / max(compute, network) / (1 - 342 / 608)
    t = td.reproduce()
    assert t.prefill_tokens_per_s_per_node == pytest.approx(per_node)
    serial = 8 * n / (compute + network) / (1 - 342 / 608)
    assert td.reproduce(overlap=0.0).prefill_tokens_per_s_per_node == pytest.approx(serial)


def test_the_day_adds_up():
    t = td.reproduce()
    seconds = 24 * 3600
    # the published throughputs reproduce the published average nodes (226.9 vs 226.75)
    assert t.published_nodes_check == pytest.approx(
        (608e9 / 73.7e3 + 168e9 / 14.8e3) / seconds)
    assert abs(t.published_nodes_check - DAY.average_nodes) < 0.5
    assert t.prefill_nodes == pytest.approx(608e9 / (t.prefill_tokens_per_s_per_node * seconds))
    assert t.decode_nodes == pytest.approx(168e9 / (t.decode_tokens_per_s_per_node * seconds))
    assert t.nodes == pytest.approx(t.prefill_nodes + t.decode_nodes)
    assert t.usd_per_day == pytest.approx(t.nodes * 8 * 2.0 * 24)
    assert DAY.average_nodes * 8 * 2.0 * 24 == DAY.usd_per_day  # the published cost, by hand
    assert t.nodes_low < t.nodes < t.nodes_high
    assert t.usd_per_day_low < t.usd_per_day < t.usd_per_day_high
    # every token at R1's prices: 342B x 0.14 + 266B x 0.55 + 168B x 2.19 per 1M
    assert t.revenue_usd_per_day == pytest.approx(342e3 * 0.14 + 266e3 * 0.55 + 168e3 * 2.19)
    assert t.revenue_usd_per_day == pytest.approx(DAY.revenue_usd_per_day, rel=1e-3)
    assert t.published_decode_batch == pytest.approx(14.8e3 / 8 / 21)


def test_gap_terms_multiply_to_the_published_figure():
    t = td.reproduce()
    g = t.gap_table()
    for pool, published in (("prefill", DAY.prefill_tokens_per_s_per_node),
                            ("decode", DAY.decode_tokens_per_s_per_node)):
        rows = g[g["pool"] == pool]
        first = rows["tokens_per_s_per_node"].iloc[0]
        assert np.prod(rows["factor"]) * first == pytest.approx(published)
        assert rows["tokens_per_s_per_node"].iloc[-1] == published
        assert rows["term"].iloc[-1] == "not explained"
    c = t.comparison().set_index("figure")
    assert c.loc["average nodes", "published"] == 226.75
    assert c.loc["average nodes", "costkit"] == pytest.approx(t.nodes)


def test_hiding_the_network_saves_nodes():
    hidden, serial = td.reproduce(overlap=1.0), td.reproduce(overlap=0.0)
    assert serial.nodes > hidden.nodes
    assert "0% hidden" in serial.gap_table()["term"].iloc[0]
    # a slower network costs nodes; the range goes with the central figure
    slow = td.reproduce(nic_gb_per_s=10.0)
    assert slow.nodes > hidden.nodes
    assert slow.nodes_high / slow.nodes == pytest.approx(hidden.nodes_high / hidden.nodes)


@given(overlap=st.floats(0, 1), nic=st.floats(5, 400))
def test_more_overlap_or_network_never_costs_more(overlap, nic):
    t = td.reproduce(overlap=overlap, nic_gb_per_s=nic)
    assert np.isfinite(t.usd_per_day) and t.usd_per_day > 0
    assert td.reproduce(overlap=1.0, nic_gb_per_s=nic).nodes <= t.nodes * (1 + 1e-12)
    assert td.reproduce(overlap=overlap, nic_gb_per_s=nic * 2).nodes <= t.nodes * (1 + 1e-12)


def test_assumptions_are_printed():
    t = td.reproduce()
    text = repr(t)
    for word in ("efficiency", "network", "lengths", "memory", "window", "revenue", "source",
                 "226.75", "UTC"):
        assert word in text
    assert t.day.hours == 24.0
    assert t.day.cache_hit_rate == pytest.approx(342 / 608)


@pytest.mark.parametrize("change, message", [
    ({"window_start_utc": "2025-02-27T12:00:00+08:00"}, "UTC"),
    ({"window_end_utc": "2025-02-26T04:00:00Z"}, "before it starts"),
    ({"window_end_utc": "yesterdayZ"}, "not a timestamp"),
    ({"cache_hit_tokens": 700e9}, "exceed input_tokens"),
    ({"peak_nodes": 100}, "below average_nodes"),
    ({"output_tokens": -1.0}, "must be > 0"),
    ({"input_tokens": float("nan")}, "finite"),
    ({"user_tokens_per_s": (22.0, 20.0)}, "low, high"),
    ({"source": " "}, "source"),
    ({"user_tokens_per_s": (20.0, 21.0, 22.0)}, "low, high"),
    ({"gpus_per_node": 8.5}, "whole number"),
    ({"decode_expert_parallel": 0}, ">= 1"),
    ({"redundant_experts": 10**9}, "at most"),
])
def test_a_bad_day_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        replace(DAY, **change)


@pytest.mark.parametrize("change, message", [
    ({"model": "llama-2-7b"}, "not a mixture of experts"),
    ({"decode_expert_parallel": 140}, "not whole nodes"),
    ({"gpu": "L4"}, "prefill pool's weights"),
    ({"decode_expert_parallel": 8}, "no decode batch fits"),         # 109 GB of weights
    ({"user_tokens_per_s": (500.0, 600.0)}, "no decode batch fits"),  # 2 ms per step
    ({"weight_dtype": "fp9"}, "fp9"),
])
def test_what_the_kernels_cannot_price_is_refused(change, message):
    with pytest.raises((ValueError, KeyError), match=message):
        td.reproduce(replace(DAY, **change))


def test_an_overflowing_day_is_refused():
    with pytest.raises(ValueError, match="infinity"):
        td.reproduce(replace(DAY, input_tokens=1e308, cache_hit_tokens=0.0,
                             usd_per_1m_input_miss=1e10))


def test_unknown_gpu_suggests_names():
    with pytest.raises(KeyError, match="H800"):
        td.reproduce(replace(DAY, gpu="H8OO"))


@pytest.mark.parametrize("kw, message", [
    ({"overlap": 1.5}, "fraction"), ({"nic_gb_per_s": 0.0}, "> 0"),
    ({"usable_memory_fraction": 0.0}, "> 0"), ({"overlap": float("nan")}, "finite"),
])
def test_bad_arguments_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        td.reproduce(**kw)


def _decode_pool(day=DAY):
    m, g, w = td._resolve(day, None, None)
    hw = td._hardware(g, default(), day.weight_dtype, td.NIC_GB_PER_S)
    shape = td._shape(m, day.decode_expert_parallel, day.redundant_experts, w, 2.0,
                      day.gpus_per_node, by_node=False)
    return shape, hw, g.memory_gb * 1e9


def test_the_decode_search_runs_from_batch_1_to_the_largest():
    """A user-speed SLO only batch 1 meets gives batch 1; memory to spare and no speed to
    meet gives MAX_BATCH (the search's both ends)."""
    shape, hw, mem = _decode_pool()
    one = td.pool_pass(1.0, context_tokens=DAY.mean_kv_tokens, shape=shape, hw=hw)
    speed = float(1.0 / one["pass_s"])
    strict = replace(DAY, user_tokens_per_s=(speed, speed * 2))
    assert td._decode(shape, hw, strict, mem, 0.9, 1.0)[0] == 1.0
    lax = replace(DAY, user_tokens_per_s=(1e-6, 1.0))
    assert td._decode(shape, hw, lax, mem * 1e3, 0.9, 1.0)[0] == td.MAX_BATCH


def test_a_model_without_latent_attention_is_priced_as_grouped_query():
    """Qwen3-235B has no MLA latent: its attention is 4 L H d per cached token (a make-mutate
    survivor gave it a latent of width 1)."""
    from costkit.catalog import model

    m = model("qwen3-235b-a22b")
    s = td._shape(m, 8, 0, 1.0, 2.0, 8, by_node=False)
    assert s["att_flops_decode"] == 4 * 94 * 64 * 128
    assert s["att_flops_prefill"] == 4 * 94 * 64 * 128


def test_one_gpu_per_node_and_pools_of_one_are_a_valid_day():
    day = replace(DAY, gpus_per_node=1, prefill_expert_parallel=1, decode_expert_parallel=1,
                  redundant_experts=0)
    assert (day.gpus_per_node, day.prefill_expert_parallel, day.decode_expert_parallel) == (
        1, 1, 1)
    for f in ("gpus_per_node", "prefill_expert_parallel", "decode_expert_parallel"):
        with pytest.raises(ValueError, match=">= 1"):
            replace(DAY, **{f: 0})
    with pytest.raises(ValueError, match=">= 0"):
        replace(DAY, redundant_experts=-1)


def test_each_gap_rows_figure_is_its_own_pass():
    """Each row of the gap table is its pool's figure per node, not only their ratios (the
    product of the factors telescopes, so a wrong middle row kept it)."""
    t = td.reproduce()
    g = t.gap_table()
    shape, hw, _ = _decode_pool()
    dec = g[g["pool"] == "decode"]["tokens_per_s_per_node"].to_numpy()
    assert dec[0] == pytest.approx(t.decode_tokens_per_s_per_node, rel=1e-12)
    for row, overlap in ((1, 1.0), (2, 0.0)):
        want = td._at_batch(shape, hw, DAY, t.published_decode_batch, overlap) * 8
        assert dec[row] == pytest.approx(want, rel=1e-12)
    pre = g[g["pool"] == "prefill"]["tokens_per_s_per_node"].to_numpy()
    assert pre[0] == pytest.approx(t.prefill_tokens_per_s_per_node, rel=1e-12)


def test_a_day_whose_high_cost_alone_overflows_is_refused():
    """A price that puts the central cost at 79 % of the largest float: the high end (the
    central / the low range factor, about 0.76) overflows, and the day is refused, not
    priced with an infinite high end."""
    t = td.reproduce()
    lo = t.nodes / t.nodes_high
    price = np.finfo(float).max * lo * 1.05 / (t.nodes * 8 * 24)
    assert np.isfinite(t.nodes * 8 * 24 * price)
    with pytest.raises(ValueError, match="usd_per_day overflows to infinity"):
        td.reproduce(replace(DAY, usd_per_gpu_hour=price))
