"""costkit.engine: each serving-engine feature worked by hand through serving.estimate.

A toy decoder keeps the arithmetic short: N = 1e9 parameters (no input embeddings),
L = 10 layers of width d = 1,000 (10 heads, no GQA), fp16, on one H100-SXM at the
plain roofline with full utilisation (F = peak FLOP/s, BW = peak bytes/s), so every
figure below is a line of arithmetic from the equations in costkit/engine.py.
"""

import math

import numpy as np
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import engine
from costkit.engine import EngineFeatures, Speculation

N, L, D = 1e9, 10, 1000
KV_TOK = 2 * L * D * 2                 # 2 (K, V) x layers x width x 2 bytes = 40,000 bytes
H100 = ck.gpu("H100-SXM")
F = H100.peak_tflops("fp16") * 1e12    # FLOP/s at u_c = 1
BW = H100.memory_bandwidth_tbps * 1e12  # bytes/s at u_bw = 1
W = 2 * N                              # weight bytes streamed per pass


def toy(**kw):
    args = dict(params=N, n_layers=L, d_model=D, n_heads=10, embedding_params=0,
                gpu="H100-SXM", calibrated=False, compute_utilization=1.0,
                bandwidth_utilization=1.0, usd_per_gpu_hour=2.0)
    return ck.serving.estimate(**{**args, **kw})


def roofline(gemm, attn, read, kv):
    """The plain roofline of one pass: max(FLOPs / F, bytes / BW)."""
    return max((gemm + attn) / F, (read + kv) / BW)


# --------------------------------------------------------------------------- kernels


def test_tokens_per_step_by_hand():
    # alpha = 0.8, k = 4: 1 + 0.8 + 0.64 + 0.512 + 0.4096 = 3.3616
    assert engine.tokens_per_step(0.8, 4) == pytest.approx(3.3616)
    assert engine.tokens_per_step(0.0, 7) == 1.0          # nothing accepted: the target's token
    assert engine.tokens_per_step(1.0, 3) == 4.0          # everything accepted: k + 1
    np.testing.assert_allclose(engine.tokens_per_step(np.array([0.5, 0.9]), 2),
                               [1.75, 2.71])


@given(a=st.floats(0, 1), k=st.integers(1, 16))
@settings(max_examples=examples(60))
def test_tokens_per_step_between_one_and_k_plus_one(a, k):
    e = float(engine.tokens_per_step(a, k))
    assert 1.0 - 1e-12 <= e <= k + 1 + 1e-12
    assert e <= float(engine.tokens_per_step(min(a + 0.05, 1.0), k)) + 1e-12   # monotone in a


def test_prefill_attention_with_a_cache_keeps_the_last_tokens():
    # positions 500..1000 attend 500..1000 tokens: 2·L·d·(1000² - 500²) = 1.5e10 FLOP
    assert engine.prefill_attention_flops(L, D, 1000, 0.5) == pytest.approx(1.5e10)
    assert engine.prefill_attention_flops(L, D, 1000) == pytest.approx(2e10)


def test_adapter_params_and_distinct_adapters_by_hand():
    # rank 16 on q, k, v, o: 10 x 16 x (6 x 1000 + 2 x 1000) = 1.28e6
    assert engine.adapter_params(L, D, D, 16) == 1.28e6
    # GQA narrows k and v: 10 x 16 x (6000 + 2 x 250)
    assert engine.adapter_params(L, D, 250, 16) == 1.04e6
    assert engine.distinct_adapters(100, 8) == pytest.approx(100 * (1 - 0.99 ** 8))
    assert engine.distinct_adapters(1000, 1) == pytest.approx(1.0)


def test_chunked_schedule_by_hand():
    x, f, n = engine.chunked_schedule(1000, 64, 100, 64, 2048)
    assert (x, n) == (640.0, 1.0) and f == pytest.approx(640 / 1984)
    # a budget that only holds the decode rows cannot prefill anything
    _, f0, n0 = engine.chunked_schedule(1000, 64, 100, 64, 64)
    assert np.isinf(f0) and np.isinf(n0)


def test_kv_transfer_by_hand():
    assert engine.kv_transfer_s(1000, KV_TOK, 40e9) == pytest.approx(1e-3)   # 40 MB at 40 GB/s


# --------------------------------------------------------------------------- prefix caching


def test_prefix_cache_skips_the_cached_prompt_by_hand():
    P, h = 1000, 0.5
    e = toy(batch_size=1, prompt_tokens=P, output_tokens=1,
            features=EngineFeatures(prefix_cache_hit_rate=h))
    want = roofline(2 * N * P * (1 - h), 2 * L * D * P**2 * (1 - h**2), W, h * P * KV_TOK)
    assert e.ttft_s == pytest.approx(want, rel=1e-12)
    cold = toy(batch_size=1, prompt_tokens=P, output_tokens=1)
    assert cold.ttft_s == pytest.approx(roofline(2 * N * P, 2 * L * D * P**2, W, 0), rel=1e-12)
    assert e.tpot_s == cold.tpot_s                        # decoding reads the same context


def test_prefix_cache_pool_takes_memory_from_the_batch():
    P, Q = 1000, 100
    usable = 80 * 2**30 * 0.9
    cold = toy(prompt_tokens=P, output_tokens=Q)
    warm = toy(prompt_tokens=P, output_tokens=Q,
               features=EngineFeatures(prefix_cache_hit_rate=0.2, prefix_cache_gb=20))
    assert cold.max_batch_size == math.floor((usable - W) / (KV_TOK * (P + Q)))
    assert warm.max_batch_size == math.floor((usable - W - 20e9) / (KV_TOK * (P + Q)))
    assert warm.memory_per_gpu_gb == pytest.approx(cold.memory_per_gpu_gb + 20)


def test_prefix_hit_rate_broadcasts_and_lowers_ttft():
    e = toy(batch_size=4, features=EngineFeatures(prefix_cache_hit_rate=np.array([0, .5, .9])))
    assert np.shape(e.ttft_s) == (3,) and np.all(np.diff(e.ttft_s) < 0)


# --------------------------------------------------------------------------- speculation


def test_ngram_speculation_by_hand():
    P, Q, k, a = 100, 100, 4, 0.8
    e = toy(batch_size=1, prompt_tokens=P, output_tokens=Q,
            features=EngineFeatures(speculation=Speculation(k, a, "ngram")))
    verify = roofline(2 * N * (k + 1), 4 * (k + 1) * L * (P + Q / 2) * D, W,
                      KV_TOK * (P + Q / 2))
    assert e.tpot_s == pytest.approx(verify / 3.3616, rel=1e-12)
    assert e.request_latency_s == pytest.approx(e.ttft_s + (Q - 1) * e.tpot_s)
    assert e.tokens_per_second == pytest.approx(Q / e.request_latency_s)


def test_mtp_head_costs_its_share_of_layers_by_hand():
    P, Q = 100, 100
    e = toy(batch_size=1, prompt_tokens=P, output_tokens=Q,
            features=EngineFeatures(speculation=Speculation(1, 0.9, "mtp")))
    verify = roofline(2 * N * 2, 4 * 2 * L * (P + Q / 2) * D, W, KV_TOK * (P + Q / 2))
    # one head = 1 of 10 layers: (t + 0.1 t) / (1 + 0.9)
    assert e.tpot_s == pytest.approx(verify * 1.1 / 1.9, rel=1e-12)
    cold = toy(batch_size=1, prompt_tokens=P, output_tokens=Q)
    assert e.memory_per_gpu_gb == pytest.approx(cold.memory_per_gpu_gb + W / 10 / 1e9
                                                + KV_TOK / 10 * (P + Q) / 1e9)


def test_draft_model_pays_its_steps_prefill_and_weights():
    kw = dict(gpu="H100-SXM", n_gpus=4, batch_size=8, usd_per_gpu_hour=2.0)
    k, a = 4, 0.7
    ngram = ck.serving.estimate("llama-2-70b", **kw,
                                features=EngineFeatures(speculation=Speculation(k, a, "ngram")))
    draft = ck.serving.estimate("llama-2-7b", **kw)
    both = ck.serving.estimate("llama-2-70b", **kw, features=EngineFeatures(
        speculation=Speculation(k, a, "draft", "llama-2-7b")))
    e = float(engine.tokens_per_step(a, k))
    assert both.tpot_s == pytest.approx(ngram.tpot_s + k * draft.tpot_s / e, rel=1e-12)
    assert both.ttft_s == pytest.approx(ngram.ttft_s + draft.ttft_s, rel=1e-12)
    assert both.memory_per_gpu_gb == pytest.approx(
        ngram.memory_per_gpu_gb + draft.memory_per_gpu_gb, rel=1e-9)
    assert "speculation_warning" in both.assumptions


def test_speculation_helps_a_memory_bound_batch_and_not_a_compute_bound_one():
    # k + 1 rows cost nothing when the weights' bytes bind, k + 1 times the FLOPs when compute does
    spec = EngineFeatures(speculation=Speculation(4, 0.3, "ngram"))      # E = 1.4251
    kw = dict(prompt_tokens=32, output_tokens=32)
    small = toy(batch_size=1, features=spec, **kw).tpot_s / toy(batch_size=1, **kw).tpot_s
    large = toy(batch_size=2048, features=spec, **kw).tpot_s / toy(batch_size=2048, **kw).tpot_s
    assert small == pytest.approx(1 / 1.4251, rel=1e-3) and large > 3.0


# --------------------------------------------------------------------------- chunked prefill


def test_chunked_prefill_steady_state_by_hand():
    B, P, Q, T = 64, 1000, 100, 2048
    e = toy(batch_size=B, prompt_tokens=P, output_tokens=Q,
            features=EngineFeatures(chunked_prefill=True, token_budget=T))
    c = P + Q / 2
    kv_dec = B * KV_TOK * c
    decode = roofline(2 * N * B, 4 * B * L * c * D, W, kv_dec)
    chunk = T - B                                          # 1,984 prompt tokens in a full step
    full = roofline(2 * N * T, 4 * B * L * c * D + chunk * 2 * L * D * P, W,
                    kv_dec + chunk / P * P / 2 * KV_TOK)
    f = (B * P / Q) / chunk                                # 640 prompt tokens needed per step
    step = f * full + (1 - f) * decode
    assert e.tpot_s == pytest.approx(step, rel=1e-12)
    assert e.ttft_s == pytest.approx(full, rel=1e-12)      # ceil(1000 / 1984) = 1 full step
    assert e.tokens_per_second == pytest.approx(B / step, rel=1e-12)
    assert e.requests_per_second == pytest.approx(B / step / Q, rel=1e-12)
    assert "chunked prefill" in e.assumptions["batching"]


def test_chunked_prefill_refuses_a_batch_the_budget_cannot_sustain():
    feats = EngineFeatures(chunked_prefill=True, token_budget=512)
    with pytest.raises(ValueError, match="cannot sustain batch 256.*token_budget"):
        toy(batch_size=256, prompt_tokens=512, output_tokens=128, features=feats)
    swept = toy(batch_size=np.array([8, 256]), prompt_tokens=512, output_tokens=128,
                features=feats, oversized="flag")
    assert np.isfinite(swept.tpot_s[0]) and np.isnan(swept.tpot_s[1])


# --------------------------------------------------------------------------- multi-LoRA


def test_multi_lora_memory_and_reads_by_hand():
    B, P, Q, n = 8, 100, 100, 100
    e = toy(batch_size=B, prompt_tokens=P, output_tokens=Q,
            features=EngineFeatures(lora_adapters=n, lora_rank=16))
    lora = 1.28e6
    distinct = n * (1 - (1 - 1 / n) ** B)
    c = P + Q / 2
    decode = roofline(2 * B * (N + lora), 4 * B * L * c * D, W + distinct * lora * 2,
                      B * KV_TOK * c)
    assert e.tpot_s == pytest.approx(decode, rel=1e-12)
    cold = toy(batch_size=B, prompt_tokens=P, output_tokens=Q)
    assert e.memory_per_gpu_gb == pytest.approx(cold.memory_per_gpu_gb + n * lora * 2 / 1e9)
    assert "100 adapters of rank 16" in e.assumptions["multi_lora"]


# --------------------------------------------------------------------------- disaggregation


def test_disaggregated_pools_meet_their_slos_and_are_sized_by_hand():
    kw = dict(prompt_tokens=1024, output_tokens=128, usd_per_gpu_hour=2.0)
    p = engine.disaggregated("llama-2-7b", 30.0, ttft_slo_s=0.4, tpot_slo_s=0.03,
                             kv_link_gb_per_s=25.0, **kw)
    pre = ck.serving.estimate("llama-2-7b", batch_size=p.prefill_batch, output_tokens=1,
                              prompt_tokens=1024, usd_per_gpu_hour=2.0)
    dec = ck.serving.estimate("llama-2-7b", batch_size=p.decode_batch, **kw)
    t_kv = 1024 * 2**19 / 25e9                             # 0.5 MiB per token over 25 GB/s
    assert p.kv_transfer_s == pytest.approx(t_kv)
    assert p.ttft_s == pytest.approx(pre.ttft_s + t_kv) and p.ttft_s <= 0.4
    assert p.tpot_s == pytest.approx(dec.tpot_s) and p.tpot_s <= 0.03
    # the next batch up breaks each SLO (or does not fit)
    nxt = ck.serving.estimate("llama-2-7b", batch_size=2 * p.prefill_batch, output_tokens=1,
                              prompt_tokens=1024, usd_per_gpu_hour=2.0, oversized="flag")
    assert not nxt.ttft_s + t_kv <= 0.4
    assert p.prefill_replicas == math.ceil(30 / (p.prefill_batch / p.ttft_s * 0.7))
    assert p.decode_replicas == math.ceil(30 / (dec.requests_per_second * 0.7))
    assert p.usd_per_hour == pytest.approx(2.0 * (p.prefill_replicas + p.decode_replicas))
    assert p.usd_per_1k_requests == pytest.approx(p.usd_per_hour / (30 * 3.6))
    assert p.usd_per_hour_low <= p.usd_per_hour <= p.usd_per_hour_high


def test_disaggregated_broadcasts_over_hours_and_refuses_an_impossible_slo():
    p = engine.disaggregated("llama-2-7b", np.array([1.0, 10.0, 100.0]), ttft_slo_s=1.0,
                             tpot_slo_s=0.05, usd_per_gpu_hour=2.0)
    assert np.all(np.diff(p.gpus) >= 0) and len(p.to_frame()) == 3
    with pytest.raises(ValueError, match="no batch meets the TPOT SLO"):
        engine.disaggregated("llama-2-70b", 1.0, n_gpus=2, ttft_slo_s=1.0, tpot_slo_s=1e-4,
                             usd_per_gpu_hour=2.0)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, match", [
    (lambda: EngineFeatures(prefix_cache_hit_rate=1.0), "below 1"),
    (lambda: EngineFeatures(prefix_cache_hit_rate=50), "fraction"),
    (lambda: EngineFeatures(prefix_cache_gb=-1), ">= 0"),
    (lambda: EngineFeatures(lora_adapters=2.5), "whole number"),
    (lambda: EngineFeatures(token_budget=0), ">= 1"),
    (lambda: Speculation(0, 0.5, "ngram"), ">= 1"),
    (lambda: Speculation(40, 0.5, "ngram"), "at most 16"),
    (lambda: Speculation(2, float("nan"), "ngram"), "finite"),
    (lambda: Speculation(2, 0.5, "medusa"), "one of draft, ngram, mtp"),
    (lambda: Speculation(2, 0.5), "needs draft_model"),
    (lambda: toy(features=EngineFeatures(speculation=Speculation(2, .5, "ngram")), n_beams=2),
     "beam search"),
    (lambda: ck.serving.estimate("llama-2-7b", usd_per_gpu_hour=2.0, features=EngineFeatures(
        speculation=Speculation(2, .5, "draft", "llama-2-13b"))), "not smaller"),
])  # fmt: skip
def test_bad_features_are_refused(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_features_must_be_engine_features():
    with pytest.raises(TypeError, match="EngineFeatures"):
        toy(features={"prefix_cache_hit_rate": 0.5})
    with pytest.raises(TypeError, match="Speculation"):
        EngineFeatures(speculation=(4, 0.8))


def test_default_features_change_nothing():
    a = ck.serving.estimate("llama-2-7b", batch_size=np.array([1, 32]), usd_per_gpu_hour=2.0)
    b = ck.serving.estimate("llama-2-7b", batch_size=np.array([1, 32]), usd_per_gpu_hour=2.0,
                            features=EngineFeatures())
    np.testing.assert_array_equal(a.tpot_s, b.tpot_s)
    np.testing.assert_array_equal(a.ttft_s, b.ttft_s)
    assert a.assumptions["prefix_caching"] == "off"
