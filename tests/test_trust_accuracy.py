"""Trust II: mixture-of-experts, latent attention, beams, padding, tensor parallelism, and
the kernels that the estimates, the fit and the validation report share."""

import math

import numpy as np
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import kernels, moe
from costkit import mfu as mfu_mod
from costkit import serving as sv
from costkit import training as tr

# --------------------------------------------------------------------------- parameter counts


def test_mixtral_8x7b_counts_by_hand():
    # per layer: attention 2 x 4096 x 4096 (Q, O) + 2 x 4096 x 1024 (K, V) = 41,943,040;
    # one expert 3 x 4096 x 14336 = 176,160,768; router 4096 x 8; two norms 2 x 4096
    attention = 2 * 4096 * 4096 + 2 * 4096 * 1024
    expert = 3 * 4096 * 14336
    layer_total = attention + 8 * expert + 4096 * 8 + 2 * 4096
    layer_active = attention + 2 * expert + 4096 * 8 + 2 * 4096
    outside = 2 * 32000 * 4096 + 4096  # embeddings, output head, final norm
    total, active = moe.param_counts(
        n_layers=32, d_model=4096, attention_params=moe.gqa_attention_params(4096, 32, 8, 128),
        vocab_size=32000, moe_layers=32, n_experts=8, experts_per_token=2, d_ff_expert=14336)
    assert total == 32 * layer_total + outside == 46_702_792_704  # Hugging Face's count
    assert active == 32 * layer_active + outside
    assert active / 1e9 == pytest.approx(12.9, abs=0.05)  # Mixtral paper: 12.9B active
    m = ck.model("mixtral-8x7b")
    assert (m.params, m.active_params) == (total, active)


def test_deepseek_v3_counts_by_hand():
    # MLA per layer: q 7168x1536 + 1536 + 1536x128x192; kv 7168x576 + 512 + 512x128x256;
    # o 128x128x7168
    mla = (7168 * 1536 + 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 + 512 * 128 * 256
           + 128 * 128 * 7168)
    assert moe.mla_attention_params(7168, 128, q_lora_rank=1536, kv_lora_rank=512,
                                    qk_nope_head_dim=128, qk_rope_head_dim=64,
                                    v_head_dim=128) == mla == 187_107_328
    expert = 3 * 7168 * 2048
    dense_layer = mla + 2 * 7168 + 3 * 7168 * 18432
    moe_total = mla + 2 * 7168 + 257 * expert + 7168 * 256   # 256 routed + 1 shared + router
    moe_active = mla + 2 * 7168 + 9 * expert + 7168 * 256    # 8 routed + 1 shared
    outside = 2 * 129280 * 7168 + 7168
    total, active = moe.param_counts(
        n_layers=61, d_model=7168, attention_params=mla, vocab_size=129280, d_ff=18432,
        moe_layers=58, n_experts=256, experts_per_token=8, shared_experts=1, d_ff_expert=2048)
    assert total == 3 * dense_layer + 58 * moe_total + outside
    assert active == 3 * dense_layer + 58 * moe_active + outside
    assert round(total / 1e9) == 671 and round(active / 1e9) == 38  # paper: 671B, 37B
    m = ck.model("deepseek-v3")
    assert m.params == total and m.active_params == active


@pytest.mark.parametrize("name, total_b, active_b", [
    ("Qwen3-30B-A3B", 30.5, 3.3), ("Qwen3-235B-A22B", 235, 22), ("Llama-4-Maverick", 400, 17),
    ("Llama-4-Scout", 108, 17), ("Mixtral-8x22B", 141, 39), ("DeepSeek-V2", 236, 21)])
def test_catalog_moe_counts_match_their_published_sizes(name, total_b, active_b):
    m = ck.model(name)
    assert m.params / 1e9 == pytest.approx(total_b, rel=0.02)
    assert m.active_params / 1e9 == pytest.approx(active_b, rel=0.05)


def test_moe_catalog_rows_are_validated(tmp_path):
    rows = (ck.catalog.bundled_path("models.csv")).read_text().splitlines()
    header = rows[0].split(",")
    i = header.index("n_experts")
    bad = [r for r in rows if r.startswith("Mixtral-8x7B,")][0].split(",")
    bad[i] = ""  # an MoE row without its expert count
    f = tmp_path / "m.csv"
    f.write_text("\n".join([rows[0], ",".join(bad)]) + "\n")
    with pytest.raises(ck.DataFileError, match="n_experts"):
        ck.model("mixtral-8x7b", path=f)


# --------------------------------------------------------------------------- kernels


def test_deepseek_v3_kv_bytes_per_token_by_hand():
    # MLA caches kv_lora_rank + rope_head_dim = 576 values per layer: 61 x 576 x 2 bytes
    assert sv.kv_cache_bytes_per_token(61, 128, 192, 2, latent_dim=576) == 61 * 576 * 2 == 70_272
    e = sv.estimate("deepseek-v3", gpu="H200", n_gpus=8, dtype="fp8", kv_dtype="bf16",
                    batch_size=4, usd_per_gpu_hour=1.0)
    assert e.kv_cache_bytes_per_token == 70_272
    # against 2 x 61 x 128 x 192 x 2 = 5,996,544 bytes with ordinary multi-head attention
    assert sv.kv_cache_bytes_per_token(61, 128, 192, 2) / 70_272 == pytest.approx(85.3, abs=0.1)


def test_distinct_experts_grow_with_the_batch():
    assert kernels.distinct_experts(8, 2, 1) == pytest.approx(2.0)
    # 2 tokens, 8 experts, 2 each: 8 x (1 - (6/8)^2) = 3.5
    assert kernels.distinct_experts(8, 2, 2) == pytest.approx(3.5)
    assert kernels.distinct_experts(256, 8, 10_000) == pytest.approx(256.0)
    t = np.arange(1, 200)
    assert (np.diff(kernels.distinct_experts(64, 4, t)) >= 0).all()


def test_all_to_all_bytes_by_hand():
    # 59 MoE layers x 4 passes x 6 experts x 5120 x 2 bytes x 7/8 remote (EP 8)
    got = kernels.all_to_all_bytes_per_token(59, 6, 5120, 2.0, 8)
    assert got == pytest.approx(59 * 4 * 6 * 5120 * 2 * 7 / 8)
    assert kernels.all_to_all_bytes_per_token(59, 6, 5120, 2.0, 1) == 0.0


def test_one_flop_kernel_behind_flops_estimate_and_the_fit():
    runs = mfu_mod.training_runs().set_index("run")
    r = runs.loc["Llama-2-7B"]
    by_kernel = kernels.training_flops(r.active_params, r.active_params, r.tokens)
    assert r.flops == by_kernel == tr.flops(r.params, r.tokens)
    e = tr.estimate(r.params, r.tokens, gpu="A100-80GB", mfu=0.4, usd_per_gpu_hour=1.0)
    assert e.flops == pytest.approx(by_kernel)
    attn = kernels.attention_flops_per_token(32, 4096, 4096)
    assert tr.flops(r.params, r.tokens, n_layers=32, d_model=4096, seq_len=4096) == \
        pytest.approx(by_kernel + attn * r.tokens)


# --------------------------------------------------------------------------- training MoE


def test_moe_training_flops_from_active_memory_from_total():
    m = ck.model("mixtral-8x7b")
    e = tr.estimate(model="mixtral-8x7b", tokens=1e11, gpu="H100", mfu=0.4, goodput=1.0,
                    usd_per_gpu_hour=2.0, n_gpus=16)
    assert e.flops == pytest.approx(6 * m.active_params * 1e11)
    dense = tr.estimate(m.params, 1e11, gpu="H100", mfu=0.4, goodput=1.0,
                        usd_per_gpu_hour=2.0, n_gpus=16)
    assert e.memory_per_gpu_gb == pytest.approx(dense.memory_per_gpu_gb)  # all experts held
    # all-to-all: 32 layers x 4 passes x 2 experts x 4096 x 2 bytes x 7/8 remote, at
    # 450 GB/s (half of NVLink's 900 two-way) per token
    per_token = 32 * 4 * 2 * 4096 * 2 * 7 / 8
    assert e.all_to_all_gpu_hours == pytest.approx(1e11 * per_token / 450e9 / 3600)
    compute = 6 * m.active_params * 1e11 / (0.4 * 989.5e12 * 3600)
    assert e.gpu_hours == pytest.approx(compute + e.all_to_all_gpu_hours)
    # 4.5x less than counting every parameter (the old way)
    assert dense.gpu_hours / e.gpu_hours > 3.4
    wide = tr.estimate(model="mixtral-8x7b", tokens=1e11, gpu="H100", mfu=0.4, goodput=1.0,
                       usd_per_gpu_hour=2.0, n_gpus=16, expert_parallel=16)
    assert wide.all_to_all_gpu_hours > e.all_to_all_gpu_hours  # over the network, 50 GB/s


def test_active_params_for_a_moe_given_by_size():
    e = tr.estimate(46.7e9, 1e10, active_params=12.9e9, gpu="H100", mfu=0.4, goodput=1.0,
                    usd_per_gpu_hour=1.0)
    assert e.flops == pytest.approx(6 * 12.9e9 * 1e10)
    with pytest.raises(ValueError, match="cannot exceed"):
        tr.estimate(1e9, 1e10, active_params=2e9, gpu="H100", usd_per_gpu_hour=1.0)
    with pytest.raises(ValueError, match="brings its own"):
        tr.estimate(model="mixtral", tokens=1e9, active_params=1e9, gpu="H100")


# --------------------------------------------------------------------------- serving


def test_moe_decode_reads_only_the_experts_a_batch_touches():
    one = sv.estimate("mixtral-8x7b", gpu="H100-SXM", n_gpus=2, batch_size=1, prompt_tokens=1,
                      output_tokens=2, bandwidth_utilization=1.0, usd_per_gpu_hour=1.0)
    m = ck.model("mixtral-8x7b")
    expert = 3 * 4096 * 14336
    emb = 32000 * 4096  # the input table is looked up, not streamed
    # batch 1: the non-routed weights plus 2 experts in each of 32 layers, fp16, over 2 GPUs
    read = (m.params - emb - 32 * 8 * expert + 32 * 2 * expert) * 2
    kv = one.kv_cache_bytes_per_token  # the prompt token's and the mean generated token's KV
    # plus the tensor-parallel all-reduces: 2 x 32 layers of 4096 x 2 bytes, ring 2 x 1/2,
    # over 450 GB/s (half of NVLink's 900 two-way)
    t_tp = 2 * 32 * (4096 * 2) * 1.0 / 450e9
    assert one.tpot_s == pytest.approx((read + 2 * kv) / (2 * 3.35e12) + t_tp)
    big = sv.estimate("mixtral-8x7b", gpu="H100-SXM", n_gpus=2, batch_size=256,
                      usd_per_gpu_hour=1.0)
    assert big.weights_gb == pytest.approx(m.params * 2 / 1e9)  # memory holds every expert
    dense_total = sv.estimate(params=m.params, n_layers=32, d_model=4096, n_heads=32,
                              n_kv_heads=8, gpu="H100-SXM", n_gpus=2, batch_size=1,
                              usd_per_gpu_hour=1.0)
    assert one.tpot_s < dense_total.tpot_s / 3  # the 46.7B dense bracket was 3.6x too slow


def test_beam_search_prefills_once_and_decodes_per_beam():
    kw = dict(gpu="H100-SXM", batch_size=4, prompt_tokens=1000, output_tokens=100,
              usd_per_gpu_hour=1.0)
    one = sv.estimate("llama-2-7b", **kw)
    four = sv.estimate("llama-2-7b", n_beams=4, **kw)
    assert four.ttft_s == one.ttft_s  # the prompt once per request, not per beam
    kv = one.kv_cache_bytes_per_token
    # KV: 4 requests x (1000 prompt + 4 beams x 100 generated) tokens
    assert four.kv_cache_gb == pytest.approx(4 * (1000 + 4 * 100) * kv / 1e9)
    # counting beams as sequences would have charged the prompt's KV four times
    assert four.kv_cache_gb < sv.estimate("llama-2-7b", **{**kw, "batch_size": 16}).kv_cache_gb
    assert four.tpot_s > one.tpot_s and four.tokens_per_second < one.tokens_per_second


def test_bert_at_an_effective_length_by_hand():
    kw = dict(seq_len=384, batch_size=256, gpu="H100", dtype="int8", usd_per_gpu_hour=1.0,
              calibrated=False)
    padded = sv.encoder_estimate("bert-large", **kw)
    unpadded = sv.encoder_estimate("bert-large", effective_seq_len=192, **kw)
    m = ck.model("bert-large")
    emb = (30522 + 512 + 2) * 1024
    want = 2 * (m.params - emb) * 192 + 4 * 24 * 192**2 * 1024
    assert unpadded.flops_per_sequence == pytest.approx(want)
    # compute-bound: 256 x FLOPs / (0.6 x 1979e12)
    assert unpadded.sequences_per_second == pytest.approx(256 / (256 * want / (0.6 * 1979e12)))
    assert unpadded.sequences_per_second > 2 * padded.sequences_per_second * 0.95
    with pytest.raises(ValueError, match="cannot exceed seq_len"):
        sv.encoder_estimate("bert-large", effective_seq_len=400, **kw)


def test_tensor_parallel_all_reduce_by_hand():
    kw = dict(gpu="H100-SXM", batch_size=32, prompt_tokens=512, output_tokens=128,
              usd_per_gpu_hour=1.0, calibrated=False)
    tp4 = sv.estimate("llama-2-70b", n_gpus=4, **kw)
    free = sv.estimate("llama-2-70b", n_gpus=4, **kw, all_reduce_latency_s=0.0)
    assert tp4.tpot_s == free.tpot_s
    # 2 all-reduces x 80 layers of 32 tokens x 8192 x 2 bytes, ring 2 x 3/4 of it, 450 GB/s
    t_tp = 2 * 80 * (32 * 8192 * 2) * 1.5 / 450e9
    lat = sv.estimate("llama-2-70b", n_gpus=4, all_reduce_latency_s=10e-6, **kw)
    assert lat.tpot_s - tp4.tpot_s == pytest.approx(2 * 80 * 10e-6)
    assert kernels.all_reduce_seconds(32 * 8192 * 2, 4, 450e9) * 2 * 80 == pytest.approx(t_tp)
    assert kernels.all_reduce_seconds(1e6, 1, 450e9) == 0.0


# --------------------------------------------------------------------------- properties


@settings(max_examples=examples(40), deadline=None)
@given(n=st.floats(1e8, 1e12), k=st.floats(1.5, 10.0))
def test_default_mfu_grows_with_size_and_hours_are_linear_in_tokens(n, k):
    a = mfu_mod.default_mfu("H100", params=n)
    b = mfu_mod.default_mfu("H100", params=n * k)
    assert b.central >= a.central
    assert a.low <= a.central <= a.high
    e1 = tr.estimate(n, 1e10, gpu="H100", usd_per_gpu_hour=1.0, n_gpus=8)
    e2 = tr.estimate(n, 1e10 * k, gpu="H100", usd_per_gpu_hour=1.0, n_gpus=8)
    assert e2.gpu_hours == pytest.approx(e1.gpu_hours * k)


@settings(max_examples=examples(40), deadline=None)
@given(e=st.integers(1, 512), k=st.integers(1, 16), t=st.integers(1, 10_000))
def test_distinct_experts_bounded(e, k, t):
    k = min(k, e)
    d = float(kernels.distinct_experts(e, k, t))
    assert min(k, e) - 1e-9 <= d <= e + 1e-9
    assert math.isfinite(d)


def test_dlrm_v2_flops_per_sample_from_its_published_architecture():
    s = sv.DLRM_V2
    bottom = 2 * (13 * 512 + 512 * 256 + 256 * 128)                          # 340,992
    w = 27 * 128                                                            # 3456
    dcn = 3 * (2 * 2 * w * 512 + 3 * w)                                     # 21,264,768
    top = 2 * (3456 * 1024 + 1024 * 1024 + 1024 * 512 + 512 * 256 + 256)   # 10,486,272
    pooling = (214 - 26) * 128                                              # 24,064
    assert s.rows_per_item == 214
    assert s.flops_per_sample == bottom + dcn + top + pooling
    assert s.flops_per_sample / 1e6 == pytest.approx(32.1, abs=0.05)
    assert sv.DLRM_CRITEO_TB.flops_per_sample / 1e6 == pytest.approx(4.8, abs=0.1)  # v1
    assert s.embedding_params == sum(s.table_rows) * 128
    r = sv.recommender_estimate(s, gpu="H100-SXM", dtype="int8", embedding_dtype="fp16",
                                usd_per_gpu_hour=1.0, n_gpus=2)
    assert r.bytes_per_sample == 214 * 128 * 2
    with pytest.raises(ValueError, match="one pooling factor per table"):
        sv.RecommenderSpec("x", (10, 10), 4, (1, 4), (8, 1), lookups=(1,))
    with pytest.raises(ValueError, match="dcn_layers"):
        sv.RecommenderSpec("x", (10, 10), 4, (1, 4), (12, 1), interaction="dcn")
