"""costkit.serving: hand-worked values, published figures, roofline properties, errors."""

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import serving as sv

GIB = 2**30

# --------------------------------------------------------------------------- memory by hand


def test_llama2_7b_fp16_weights_are_13_5_gb():
    # 6,738,415,616 parameters x 2 bytes
    assert sv.weights_gb(6_738_415_616, "fp16") == pytest.approx(13.4768, abs=1e-4)
    e = sv.estimate("llama-2-7b", usd_per_gpu_hour=2.0)
    assert e.weights_gb == pytest.approx(13.4768, abs=1e-4)


@pytest.mark.parametrize("model, want_bytes", [
    ("llama-2-7b", 2 * 32 * 32 * 128 * 2),    # multi-head: 32 KV heads -> 0.5 MiB
    ("llama-2-70b", 2 * 80 * 8 * 128 * 2),    # grouped-query: 8 KV heads, not 64
    ("llama-3-8b", 2 * 32 * 8 * 128 * 2),
    ("qwen2.5-1.5b", 2 * 28 * 2 * 128 * 2),
])  # fmt: skip
def test_kv_cache_bytes_per_token_counts_kv_heads(model, want_bytes):
    e = sv.estimate(model, gpu="H200", n_gpus=2, usd_per_gpu_hour=2.0)
    assert e.kv_cache_bytes_per_token == want_bytes


def test_kv_cache_per_token_of_llama2_7b_is_half_a_mebibyte():
    assert sv.kv_cache_bytes_per_token(32, 32, 128, 2) / 2**20 == 0.5
    assert sv.kv_cache_bytes_per_token(32, 32, 128, 1) / 2**20 == 0.25   # fp8 cache


def test_max_batch_by_hand():
    # H100 80 GiB x 0.9 usable - 13.477 GB of weights, over 0.5 MiB x (512 + 128) tokens
    room = 80 * GIB * 0.9 - 6_738_415_616 * 2
    want = np.floor(room / (524_288 * 640))
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", prompt_tokens=512, output_tokens=128,
                    usd_per_gpu_hour=2.0)
    assert e.max_batch_size == want == 190
    assert e.kv_cache_gb == pytest.approx(524_288 * 640 / 1e9)


# --------------------------------------------------------------------------- time by hand


def test_decode_lower_bound_is_weights_over_bandwidth():
    # (13.48 - 0.26) GB / 3.35 TB/s = 3.95 ms per token at batch 1, full bandwidth: the
    # 32,000 x 4,096 input embedding table is looked up, not streamed
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=1, prompt_tokens=1,
                    output_tokens=2, bandwidth_utilization=1.0, usd_per_gpu_hour=2.0)
    kv = 524_288 * 2 / 3.35e12  # the cache of the mean context (1 + 2/2 tokens)
    dense = 6_738_415_616 - 32_000 * 4096
    assert e.tpot_s == pytest.approx(dense * 2 / 3.35e12 + kv, rel=1e-9)
    assert e.tpot_s * 1e3 == pytest.approx(3.95, abs=0.01)
    assert e.weights_gb == pytest.approx(6_738_415_616 * 2 / 1e9)  # all of it held
    assert e.decode_bound == "memory"


def test_prefill_is_compute_bound_by_hand():
    # 2N'·P + 2·L·P²·d FLOPs at 0.6 x 989.5 TFLOPS, N' without the input embeddings
    n, L, d, P = 6_738_415_616 - 32_000 * 4096, 32, 4096, 2048
    flops = 2 * n * P + 2 * L * P * P * d
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", prompt_tokens=P, output_tokens=1,
                    calibrated=False, usd_per_gpu_hour=2.0)
    assert e.ttft_s == pytest.approx(flops / (0.6 * 989.5e12))
    assert e.request_latency_s == e.ttft_s          # one output token: the prefill makes it


def test_throughput_and_cost_chain_by_hand():
    e = sv.estimate("llama-2-7b", gpu="A100-80GB", batch_size=8, prompt_tokens=256,
                    output_tokens=64, usd_per_gpu_hour=3.0)
    latency = e.ttft_s + 63 * e.tpot_s
    assert e.request_latency_s == pytest.approx(latency)
    assert e.tokens_per_second == pytest.approx(8 * 64 / latency)
    assert e.requests_per_second == pytest.approx(8 / latency)
    assert e.usd_per_million_tokens == pytest.approx(3.0 / (8 * 64 / latency * 3600) * 1e6)
    assert e.usd_per_1k_requests == pytest.approx(3.0 / (8 / latency * 3600) * 1e3)


def test_tensor_parallel_splits_weights_and_multiplies_price():
    one = sv.estimate("llama-2-7b", gpu="H100-SXM", n_gpus=1, usd_per_gpu_hour=2.0,
                      calibrated=False)
    two = sv.estimate("llama-2-7b", gpu="H100-SXM", n_gpus=2, usd_per_gpu_hour=2.0,
                      calibrated=False)
    # half the time, plus two all-reduces per layer of one token's 4096 x 2 bytes, each GPU
    # sending 2 x 1/2 of it over 450 GB/s (half of NVLink's 900 two-way)
    assert two.tpot_s == pytest.approx(one.tpot_s / 2 + 2 * 32 * 4096 * 2 * 1.0 / 450e9)
    assert two.usd_per_replica_hour == 4.0
    assert two.memory_per_gpu_gb == pytest.approx(one.memory_per_gpu_gb / 2)
    assert two.max_batch_size > 2 * one.max_batch_size   # the weights leave more room


def test_quantised_dtypes_change_bytes_and_peak_through_the_catalog():
    base = sv.estimate("llama-2-7b", gpu="H100-SXM", dtype="fp16",
                       calibrated=False, usd_per_gpu_hour=2.0)
    fp8 = sv.estimate("llama-2-7b", gpu="H100-SXM", dtype="fp8",
                       calibrated=False, usd_per_gpu_hour=2.0)
    int4 = sv.estimate("llama-2-7b", gpu="H100-SXM", dtype="int4",
                       calibrated=False, usd_per_gpu_hour=2.0)
    assert fp8.weights_gb == pytest.approx(base.weights_gb / 2)
    assert int4.weights_gb == pytest.approx(base.weights_gb / 4)
    assert fp8.kv_cache_bytes_per_token == base.kv_cache_bytes_per_token   # 16-bit cache
    assert "1979" in fp8.assumptions["peak"]          # fp8 tensor-core peak
    assert "fp16 989.5" in int4.assumptions["peak"]   # weight-only: 16-bit matmuls
    assert int4.ttft_s == pytest.approx(base.ttft_s)  # same FLOPs, same peak
    assert int4.tpot_s < fp8.tpot_s < base.tpot_s     # fewer bytes per step
    with pytest.raises(ValueError, match="no dense fp8 peak"):
        sv.estimate("llama-2-7b", gpu="A100-80GB", dtype="fp8",
                       calibrated=False, usd_per_gpu_hour=2.0)


def test_catalog_price_is_the_default():
    e = sv.estimate("llama-2-7b", gpu="H100-SXM")
    assert e.usd_per_gpu_hour == pytest.approx(ck.gpu_hour_price("H100-SXM"))
    assert "median on_demand" in e.assumptions["price"]


def test_params_and_shape_give_the_same_as_the_catalog_model():
    m = ck.model("llama-3-8b")
    a = sv.estimate("llama-3-8b", batch_size=4, usd_per_gpu_hour=2.0)
    b = sv.estimate(params=m.params, n_layers=m.n_layers, d_model=m.d_model, n_heads=m.n_heads,
                    n_kv_heads=m.n_kv_heads, batch_size=4, usd_per_gpu_hour=2.0,
                    embedding_params=m.vocab_size * m.d_model)
    assert a.tpot_s == pytest.approx(b.tpot_s) and a.ttft_s == pytest.approx(b.ttft_s)


def test_a_tied_output_head_is_streamed():
    # Qwen2.5-1.5B ties its embeddings to the head: the one matrix multiplies every step
    m = ck.model("qwen2.5-1.5b")
    tied = sv.estimate("qwen2.5-1.5b", batch_size=1, prompt_tokens=1, output_tokens=2,
                       bandwidth_utilization=1.0, usd_per_gpu_hour=2.0)
    full = sv.estimate(params=m.params, n_layers=m.n_layers, d_model=m.d_model,
                       n_heads=m.n_heads, n_kv_heads=m.n_kv_heads, batch_size=1,
                       prompt_tokens=1, output_tokens=2, bandwidth_utilization=1.0,
                       usd_per_gpu_hour=2.0)
    assert tied.tpot_s == pytest.approx(full.tpot_s)


# --------------------------------------------------------------------------- published figures


@pytest.mark.parametrize("gpu, dtype, kv, batch, p, o, published, tol", [
    # NVIDIA TensorRT-LLM docs/source/performance.md (v0.6.1), LLaMA 7B, output tokens/s
    ("A100-80GB", "fp16", None, 60, 128, 2048, 1928, 0.05),
    ("H100-SXM", "fp8", "fp8", 112, 128, 2048, 6818, 0.15),
    ("A100-80GB", "fp16", None, 384, 128, 128, 5586, 0.20),
])  # fmt: skip
def test_llm_throughput_close_to_tensorrt_llm(gpu, dtype, kv, batch, p, o, published, tol):
    e = sv.estimate("llama-2-7b", gpu=gpu, dtype=dtype, kv_dtype=kv, batch_size=batch,
                    prompt_tokens=p, output_tokens=o, usable_memory_fraction=1.0,
                    calibrated=False, usd_per_gpu_hour=2.0)
    assert e.tokens_per_second == pytest.approx(published, rel=tol)


@pytest.mark.parametrize("model, seq, published_ms", [
    # NVIDIA TensorRT demo/BERT/README.md, A100-40GB, fp16, batch 128, average latency
    ("bert-base", 128, 16.14), ("bert-large", 128, 51.61), ("bert-base", 384, 51.26),
])  # fmt: skip
def test_encoder_throughput_close_to_tensorrt(model, seq, published_ms):
    got = sv.encoder_throughput(model, seq_len=seq, batch_size=128, gpu="A100-40GB",
                                calibrated=False, usd_per_gpu_hour=2.0)
    assert got == pytest.approx(128 / (published_ms / 1e3), rel=0.10)


# --------------------------------------------------------------------------- vectorised


def test_gpu_and_batch_sweep_equals_scalar_calls():
    gpus = np.array(["H100-SXM", "A100-80GB", "L40S"])
    batches = np.array([[1], [8], [32]])
    e = sv.estimate("llama-2-7b", gpu=gpus, batch_size=batches, usd_per_gpu_hour=2.0)
    assert e.tpot_s.shape == (3, 3)
    for i, b in enumerate(batches[:, 0]):
        for j, g in enumerate(gpus):
            one = sv.estimate("llama-2-7b", gpu=g, batch_size=int(b), usd_per_gpu_hour=2.0)
            assert e.tpot_s[i, j] == pytest.approx(one.tpot_s)
            assert e.usd_per_1k_requests[i, j] == pytest.approx(one.usd_per_1k_requests)
    assert e.to_frame().shape[0] == 9


def test_series_in_series_out():
    b = pd.Series([1, 4, 16], index=["a", "b", "c"])
    e = sv.estimate("llama-2-7b", batch_size=b, usd_per_gpu_hour=2.0)
    assert isinstance(e.tokens_per_second, pd.Series)
    assert list(e.tokens_per_second.index) == ["a", "b", "c"]
    assert list(e.to_frame().index) == ["a", "b", "c"]


# --------------------------------------------------------------------------- properties

GPUS = ["H100-SXM", "A100-80GB", "L40S", "H200", "MI300X"]


@settings(max_examples=examples(60))
@given(gpu=st.sampled_from(GPUS), batch=st.integers(1, 256), p=st.integers(1, 2048),
       o=st.integers(1, 2048), n=st.sampled_from([1, 2, 4]))  # within Llama 2's 4,096 context
def test_throughput_never_exceeds_either_roof(gpu, batch, p, o, n):
    e = sv.estimate("llama-2-7b", gpu=gpu, n_gpus=n, batch_size=batch, prompt_tokens=p,
                    output_tokens=o, oversized="flag", usd_per_gpu_hour=2.0)
    if not e.fits_in_memory:
        assert np.isnan(e.tokens_per_second)
        return
    g = ck.gpu(gpu)
    dense = e.params - 32_000 * 4096  # N': the input embeddings are looked up
    compute_roof = 0.6 * g.peak_tflops("fp16") * 1e12 * n / (2 * dense)  # 2N' FLOPs a token
    bandwidth_roof = batch * 0.8 * g.memory_bandwidth_bytes_per_s * n / (dense * 2)
    assert e.tokens_per_second <= compute_roof * (1 + 1e-9)
    assert e.tokens_per_second <= bandwidth_roof * (1 + 1e-9)


@settings(max_examples=examples(40))
@given(gpu=st.sampled_from(GPUS), p=st.integers(16, 2048), o=st.integers(2, 1024))
def test_cost_per_token_falls_as_batch_grows_until_memory_binds(gpu, p, o):
    batches = np.arange(1, 1025)
    e = sv.estimate("llama-2-7b", gpu=gpu, batch_size=batches, prompt_tokens=p,
                    output_tokens=o, oversized="flag", usd_per_gpu_hour=2.0)
    cost = e.usd_per_million_tokens
    ok = np.asarray(e.fits_in_memory)
    assert ok[0] and (np.diff(ok.astype(int)) <= 0).all()      # fits up to a limit, not after
    assert (np.diff(cost[ok]) <= 1e-12 * cost[ok][:-1]).all()  # never dearer with a bigger batch
    assert np.isnan(cost[~ok]).all()
    assert ok.sum() == min(1024, e.max_batch_size[0])


@settings(max_examples=examples(30))
@given(k=st.integers(1, 500), price=st.floats(0.1, 50))
def test_encoder_cost_is_linear_in_candidates_and_price(k, price):
    one = sv.encoder_estimate("minilm", seq_len=256, candidates_per_query=1,
                              usd_per_gpu_hour=1.0, gpu="L4")
    e = sv.encoder_estimate("minilm", seq_len=256, candidates_per_query=k,
                            usd_per_gpu_hour=price, gpu="L4")
    assert e.usd_per_1k_queries == pytest.approx(one.usd_per_1k_queries * k * price)


# --------------------------------------------------------------------------- encoders


def test_encoder_flops_per_sequence_by_hand():
    # BERT-base: N' = 109,482,240 - (30,522 + 512 + 2) x 768 outside the embeddings
    n_dense = 109_482_240 - (30_522 + 512 + 2) * 768
    want = 2 * n_dense * 128 + 4 * 12 * 128**2 * 768
    e = sv.encoder_estimate("bert-base", seq_len=128, batch_size=128, gpu="A100-40GB",
                            calibrated=False, usd_per_gpu_hour=2.0)
    assert e.flops_per_sequence == pytest.approx(want)
    assert e.sequences_per_second == pytest.approx(128 / (128 * want / (0.6 * 312e12)))
    assert e.bound == "compute"


def test_cross_encoder_cost_per_1k_queries_by_hand():
    e = sv.encoder_estimate("minilm", seq_len=256, batch_size=100, candidates_per_query=100,
                            gpu="L4", usd_per_gpu_hour=0.8)
    assert e.requests_per_second == pytest.approx(e.sequences_per_second / 100)
    assert e.usd_per_1k_queries == pytest.approx(0.8 / 3600 * 1000 * 100 / e.sequences_per_second)
    assert e.request_latency_s == pytest.approx(e.batch_latency_s)   # 100 candidates: one batch


def test_small_batches_are_bandwidth_bound():
    e = sv.encoder_estimate("bert-large", seq_len=16, batch_size=1, gpu="L4",
                            calibrated=False, usd_per_gpu_hour=1.0)
    assert e.bound == "memory"
    assert e.batch_latency_s == pytest.approx(
        (335_141_888 - (30_522 + 512 + 2) * 1024) * 2 / (0.8 * 0.3e12))


# --------------------------------------------------------------------------- recommenders


def test_dlrm_spec_matches_the_model_catalog():
    assert sv.DLRM_CRITEO_TB.params == ck.model("dlrm").params
    assert sv.DLRM_CRITEO_TB.n_tables == 26


def test_dlrm_tables_and_gpus_by_hand():
    rows = sum(sv.DLRM_CRITEO_TB.table_rows)          # 187,767,399
    r = sv.recommender_estimate(gpu="A100-40GB", dtype="fp16", usd_per_gpu_hour=3.0)
    assert r.tables_gb == pytest.approx(rows * 128 * 2 / 1e9)  # 48.07 GB
    room = 40 * GIB * 0.9 - sv.DLRM_CRITEO_TB.mlp_params * 2
    assert r.min_gpus == np.ceil(rows * 128 * 2 / room) == 2
    r8 = sv.recommender_estimate(gpu="A100-40GB", dtype="fp16", embedding_dtype="int8",
                                 usd_per_gpu_hour=3.0)
    assert r8.tables_gb == pytest.approx(r.tables_gb / 2) and r8.min_gpus == 1


def test_dlrm_throughput_scales_with_gpus_and_cost_with_k():
    r2 = sv.recommender_estimate(gpu="H100-SXM", n_gpus=2, usd_per_gpu_hour=3.0)
    r4 = sv.recommender_estimate(gpu="H100-SXM", n_gpus=4, usd_per_gpu_hour=3.0)
    assert r4.samples_per_second == pytest.approx(2 * r2.samples_per_second)
    k = sv.recommender_estimate(gpu="H100-SXM", n_gpus=2, candidates_per_request=[100, 400],
                                usd_per_gpu_hour=3.0)
    assert k.usd_per_1k_requests[1] == pytest.approx(4 * k.usd_per_1k_requests[0])
    f = sv.DLRM_CRITEO_TB.flops_per_sample
    weights = sum(a * b for a, b in zip((13, 512, 256), (512, 256, 128), strict=True)) + sum(
        a * b for a, b in zip((479, 1024, 1024, 512, 256), (1024, 1024, 512, 256, 1),
                              strict=True))
    assert f == pytest.approx(2 * weights + 2 * 128 * 27 * 26 / 2)


def test_dlrm_too_few_gpus_is_an_error():
    with pytest.raises(ValueError, match="need at least 3 GPUs"):
        sv.recommender_estimate(gpu="A100-40GB", dtype="fp32", n_gpus=2, usd_per_gpu_hour=1.0)


# --------------------------------------------------------------------------- errors


def test_batch_that_does_not_fit_is_an_error_or_a_flag():
    with pytest.raises(ValueError, match="max batch is 190"):
        sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=191, usd_per_gpu_hour=2.0)
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=[190, 191], oversized="flag",
                    usd_per_gpu_hour=2.0)
    assert list(e.fits_in_memory) == [True, False]
    assert np.isnan(e.usd_per_million_tokens[1]) and np.isfinite(e.usd_per_million_tokens[0])
    assert "1 fit in memory" in repr(e)


def test_weights_that_do_not_fit_say_how_many_gpus():
    with pytest.raises(ValueError, match=r"do not fit .* n_gpus >= 2"):
        sv.estimate("llama-2-70b", gpu="A100-80GB", usd_per_gpu_hour=2.0)
    assert sv.estimate("llama-2-70b", gpu="A100-80GB", n_gpus=2,
                       usd_per_gpu_hour=2.0).fits_in_memory


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(batch_size=-1), ValueError, "batch_size must be > 0"),
    (dict(batch_size=2.5), ValueError, "whole number"),
    (dict(prompt_tokens=float("nan")), ValueError, "prompt_tokens must be finite"),
    (dict(usd_per_gpu_hour=-1.0), ValueError, "usd_per_gpu_hour must be >= 0"),
    (dict(compute_utilization=60), ValueError, "fraction from 0 to 1"),
    (dict(bandwidth_utilization=0), ValueError, "must be > 0"),
    (dict(gpu="H10"), ck.UnknownNameError, "H100"),
    (dict(dtype="int3"), ValueError, "unknown dtype"),
    (dict(kv_dtype="int4"), ValueError, "not a KV-cache format"),
    (dict(oversized="ignore"), ValueError, "oversized"),
])  # fmt: skip
def test_bad_input_is_a_clear_error(kwargs, exc, match):
    args = dict(model="llama-2-7b", usd_per_gpu_hour=2.0) | kwargs
    with pytest.raises(exc, match=match):
        sv.estimate(**args)


def test_wrong_kind_of_model_is_an_error():
    with pytest.raises(ValueError, match="not a decoder"):
        sv.estimate("bert-base", usd_per_gpu_hour=1.0)
    with pytest.raises(ValueError, match="not a Transformer encoder"):
        sv.encoder_estimate("dlrm", usd_per_gpu_hour=1.0)
    with pytest.raises(ValueError, match="need the shape"):
        sv.estimate(params=7e9, usd_per_gpu_hour=1.0)
    with pytest.raises(ck.UnknownNameError, match="Llama-2-7B"):
        sv.estimate("llama-2-7", usd_per_gpu_hour=1.0)


def test_repr_prints_the_assumptions():
    text = repr(sv.estimate("llama-2-7b", batch_size=8))
    assert "TTFT" in text and "USD per 1M output tokens" in text and "median on_demand" in text
    assert "calibrated: u_c" in text and "80% range" in text
    assert "leave-one-out" in sv.estimate("llama-2-7b", batch_size=8).assumptions["range"]
    roof = repr(sv.estimate("llama-2-7b", batch_size=8, calibrated=False))
    assert "compute 0.6, bandwidth 0.8" in roof and "pure roofline" in roof
    assert "sequences/s per GPU" in repr(sv.encoder_estimate("bert-base"))
    assert "at least 1 to hold the tables" in repr(sv.recommender_estimate(gpu="H100-SXM"))


def test_new_catalog_models_follow_from_their_shapes():
    # MiniLM-L6 (BERT layout): embeddings + LayerNorm, 6 layers, pooler
    d, f, v = 384, 1536, 30522
    emb = (v + 512 + 2) * d + 2 * d
    layer = 4 * (d * d + d) + 2 * d + (d * f + f) + (f * d + d) + 2 * d
    assert ck.model("minilm").params == emb + 6 * layer + (d * d + d) == 22_713_216
    # Qwen2.5-1.5B: q/k/v with biases, 2 KV heads of 128, SwiGLU MLP, tied embeddings
    d, f, v, kv = 1536, 8960, 151936, 2 * 128
    layer = (d * d + d) + 2 * (d * kv + kv) + d * d + 3 * d * f + 2 * d
    assert ck.model("qwen2.5-1.5b").params == v * d + 28 * layer + d == 1_543_714_304


def test_encoder_from_params_alone_leaves_attention_out():
    e = sv.encoder_estimate(params=1e8, seq_len=128, gpu="A100-80GB", batch_size=64,
                            calibrated=False, usd_per_gpu_hour=2.0)
    assert e.flops_per_sequence == 2 * 1e8 * 128
    assert "attention term left out" in e.assumptions["flop_count"]
    assert sv.encoder_throughput(params=1e8, seq_len=128, gpu="A100-80GB", dtype="fp16",
                                 calibrated=False, usd_per_gpu_hour=2.0) == pytest.approx(
        0.6 * 312e12 / (2 * 1e8 * 128))
    with pytest.raises(ValueError, match="together"):
        sv.encoder_estimate(params=1e8, n_layers=12, calibrated=False, usd_per_gpu_hour=1.0)


def test_flagged_scalar_says_it_does_not_fit():
    e = sv.estimate("llama-2-7b", gpu="L4", batch_size=64, oversized="flag", usd_per_gpu_hour=1.0)
    assert e.fits_in_memory is False and np.isnan(e.usd_per_1k_requests)
    assert "DOES NOT FIT (max batch 28)" in repr(e)   # (0.9 x 24 GiB - 13.5 GB) / 0.34 GB


def test_an_absurd_encoder_batch_is_refused_in_readable_numbers():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)      # no overflow on the way (make fuzz)
        with pytest.raises(ValueError) as err:
            ck.serving.encoder_estimate("BERT-base", gpu="L4", batch_size=1e300, seq_len=512)
    text = str(err.value)
    assert "batch_size 1e+300" in text and "1.26e+298 GB" in text and len(text) < 200
