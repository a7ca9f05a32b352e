"""costkit.optimization: techniques priced through serving and training, payback by hand."""

import numpy as np
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import optimization as op
from costkit import serving as sv
from costkit import training as tr

ENCODER = dict(gpu="L4", seq_len=128, batch_size=64, candidates_per_query=100,
               usd_per_gpu_hour=0.8)
LLM = dict(gpu="H100-SXM", prompt_tokens=256, output_tokens=32, batch_size=32,
           usd_per_gpu_hour=4.0)


# --------------------------------------------------------------------------- money


def test_payback_and_break_even_by_hand():
    assert op.payback_months(12_000, 1_000) == 12.0
    assert op.payback_months(0, -5) == 0.0
    assert np.isinf(op.payback_months(12_000, 0.0))
    assert np.isinf(op.payback_months(12_000, -1.0))
    # 12,000 USD repaid in 12 months at 5 cents per 1k requests: 20 M requests a month
    assert op.break_even_monthly_requests(12_000, 0.05, 12) == pytest.approx(2e7)
    assert np.isinf(op.break_even_monthly_requests(12_000, -0.01, 12))
    assert op.break_even_accuracy_loss(0.2, 40.0) == pytest.approx(0.005)
    assert op.break_even_accuracy_loss(-0.2, 40.0) == 0.0


@settings(max_examples=examples(60))
@given(c=st.floats(1.0, 1e6), b=st.floats(0.01, 1e5), k=st.floats(1.01, 10.0))
def test_payback_properties(c, b, k):
    m = op.payback_months(c, b)
    assert m * b == pytest.approx(c)  # repaid exactly
    assert op.payback_months(c, b * k) < m  # more benefit, sooner
    assert op.payback_months(c * k, b) > m  # more to repay, later
    # at the break-even traffic the horizon's net benefit equals the one-off cost
    req = op.break_even_monthly_requests(c, b, 12)
    assert req / 1000 * b * 12 == pytest.approx(c)


def test_payback_vectorised_over_traffic():
    req = np.array([1e6, 1e7, 1e8])
    got = op.payback_months(5_000, req / 1000 * 0.01)
    assert got.tolist() == pytest.approx([500.0, 50.0, 5.0])


# --------------------------------------------------------------------------- variants


def test_baseline_from_the_catalog():
    b = op.baseline("llama-3-8b")
    # 2 x 4096^2 (q, o) + 2 x 4096 x 1024 (k, v) + 3 x 4096 x 14336 (gate, up, down)
    assert b.layer_params == 2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336 == 218_103_808
    assert b.kind == "llm" and b.one_off_usd == 0 and b.accuracy_loss == 0
    e = op.baseline("bert-base")
    assert e.kind == "encoder" and e.embedding_params == (30522 + 512 + 2) * 768
    with pytest.raises(ValueError, match="Transformer shape"):
        op.baseline("dlrm")


def test_quantized_variant_is_priced_by_serving_itself():
    q = op.quantize(op.baseline("llama-3-8b"), "fp8", kv_dtype="fp8")
    direct = sv.estimate("llama-3-8b", dtype="fp8", kv_dtype="fp8", **LLM)
    got = q.serve(**LLM)
    assert got.usd_per_1k_requests == pytest.approx(direct.usd_per_1k_requests)
    assert got.weights_gb == pytest.approx(direct.weights_gb)
    enc = op.quantize(op.baseline("bert-base"), "int8").serve(**ENCODER)
    assert enc.usd_per_1k_queries == pytest.approx(
        sv.encoder_estimate("bert-base", dtype="int8", **ENCODER).usd_per_1k_queries)
    with pytest.raises(ValueError, match="fp8"):
        op.quantize(op.baseline("bert-base"), "fp8").serve(**{**ENCODER, "gpu": "A100-80GB"})


def test_quantize_one_off_cost_by_hand():
    q = op.quantize(op.baseline("llama-3-8b"), "int4", gpu_hours=2, usd_per_gpu_hour=3.0,
                    engineering_days=4, usd_per_engineer_day=900, accuracy_loss=0.01)
    assert q.one_off_usd == pytest.approx(2 * 3.0 + 4 * 900)
    led = q.to_ledger()
    assert led.by_phase()["opt"] == pytest.approx(3606.0)
    assert set(led.to_frame()["category"]) == {"hardware", "labour"}
    with pytest.raises(TypeError, match="usd_per_engineer_day"):
        op.quantize(op.baseline("llama-3-8b"), "int4", engineering_days=4)


def test_prune_by_hand():
    b = op.baseline("llama-3-8b")
    p = op.prune(b, layers_removed=8)
    assert p.n_layers == 24
    assert p.params == 8_030_261_248 - 8 * 218_103_808
    w = op.prune(b, width_removed_fraction=0.25)
    assert w.n_layers == 32
    assert w.params == pytest.approx(8_030_261_248 - 0.25 * 32 * 218_103_808)
    both = op.prune(b, layers_removed=8, width_removed_fraction=0.5)
    assert both.params == pytest.approx(8_030_261_248 - 32 * 218_103_808 + 24 * 109_051_904)
    # fewer layers: a smaller KV cache per token; width pruning keeps it
    assert p.serve(**LLM).kv_cache_bytes_per_token == 0.75 * b.serve(**LLM).kv_cache_bytes_per_token
    assert w.serve(**LLM).kv_cache_bytes_per_token == b.serve(**LLM).kv_cache_bytes_per_token


def test_prune_recovery_uses_training():
    b = op.baseline("bert-base")
    p = op.prune(b, layers_removed=6, recovery_tokens=1e9, usd_per_gpu_hour=2.0, mfu=0.4)
    want = tr.estimate(params=p.params, tokens=1e9, gpu="H100-SXM", mfu=0.4,
                       usd_per_gpu_hour=2.0)
    assert p.one_off_usd == pytest.approx(want.cost_usd)


def test_distill_one_off_reuses_serving_and_training():
    b = op.baseline("llama-3-8b")
    s = op.distill(b, "qwen2.5-1.5b", examples=1e6, tokens_per_example=288,
                   teacher_output_tokens=32, usd_per_gpu_hour=4.0, mfu=0.35,
                   accuracy_loss=0.02)
    teacher = sv.estimate("llama-3-8b", gpu="H100-SXM", batch_size=64, prompt_tokens=256,
                          output_tokens=32, usd_per_gpu_hour=4.0)
    label_h = 1e6 / teacher.requests_per_second / 3600
    student = tr.estimate(model="qwen2.5-1.5b", tokens=2.88e8, gpu="H100-SXM", mfu=0.35,
                          usd_per_gpu_hour=4.0)
    assert s.one_off_usd == pytest.approx((label_h + student.gpu_hours) * 4.0)
    assert s.model == "Qwen2.5-1.5B" and s.n_kv_heads == 2
    assert s.accuracy_loss == pytest.approx(0.02)
    e = op.distill(op.baseline("bert-base"), "minilm", examples=1e8, tokens_per_example=128,
                   usd_per_gpu_hour=3.0, mfu=0.3)
    enc = sv.encoder_estimate("bert-base", gpu="H100-SXM", seq_len=128, batch_size=64,
                              usd_per_gpu_hour=3.0)
    lab = e.one_off.to_frame().iloc[0]
    assert lab["quantity"] == pytest.approx(1e8 / enc.sequences_per_second / 3600)


def test_techniques_chain_and_losses_compound():
    b = op.baseline("bert-base")
    s = op.distill(b, "minilm", examples=1e7, tokens_per_example=128, usd_per_gpu_hour=3.0,
                   accuracy_loss=0.02, engineering_days=10, usd_per_engineer_day=1000)
    q = op.quantize(s, "int8", accuracy_loss=0.01, engineering_days=2, usd_per_engineer_day=1000)
    assert q.technique == "distillation + quantization"
    assert q.accuracy_loss == pytest.approx(1 - 0.98 * 0.99)
    assert q.one_off_usd == pytest.approx(s.one_off_usd + 2000)
    assert q.model == "MiniLM-L6-H384" and q.dtype == "int8"
    assert len(s.one_off) == 3  # the parent's ledger is not changed by the child


def test_variant_errors():
    b = op.baseline("bert-base")
    with pytest.raises(ValueError, match="below 1"):
        op.quantize(b, "int8", accuracy_loss=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        op.quantize(b, "int8", accuracy_loss=-0.01)
    with pytest.raises(ValueError, match="at least one"):
        op.prune(b, layers_removed=12)
    with pytest.raises(ValueError, match="needs layers_removed"):
        op.prune(b)
    with pytest.raises(ValueError, match="not smaller"):
        op.distill(b, "bert-large", examples=1e6, tokens_per_example=128)
    with pytest.raises(ValueError, match="same kind"):
        op.distill(op.baseline("llama-3-8b"), "minilm", examples=1e6, tokens_per_example=128)
    with pytest.raises(TypeError, match="Variant"):
        op.quantize("bert-base", "int8")
    with pytest.raises(ck.UnknownNameError, match="BERT-base"):
        op.baseline("bert-bsae")


# --------------------------------------------------------------------------- compare


def test_compare_by_hand():
    b = op.baseline("bert-base")
    q = op.quantize(b, "int8", accuracy_loss=0.001, engineering_days=3, usd_per_engineer_day=1000)
    c = op.compare([b, q], monthly_requests=3e8, gross_profit_per_1k_requests_usd=50.0,
                   **ENCODER)
    c0 = sv.encoder_estimate("bert-base", **ENCODER).usd_per_1k_queries
    c1 = sv.encoder_estimate("bert-base", dtype="int8", **ENCODER).usd_per_1k_queries
    t = c.table
    monthly = np.array([c0, c1]) * 3e8 / 1000 / 0.7
    assert t.monthly_serving_usd.tolist() == pytest.approx(monthly.tolist())
    saving = monthly[0] - monthly[1]
    acc = 0.001 * 50.0 * 3e5
    assert t.monthly_accuracy_cost_usd.iloc[1] == pytest.approx(acc)
    assert t.monthly_net_benefit_usd.iloc[1] == pytest.approx(saving - acc)
    assert t.one_off_usd.iloc[1] == 3000
    net = saving - acc
    if net > 0:
        assert t.payback_months.iloc[1] == pytest.approx(3000 / net)
    else:
        assert np.isinf(t.payback_months.iloc[1])
    assert t.break_even_accuracy_loss.iloc[1] == pytest.approx(saving / 3e5 / 50.0)
    assert t.net_value_usd.iloc[1] == pytest.approx(12 * net - 3000)
    assert c.baseline == "BERT-base" and "baseline" in repr(c)


def test_compare_payback_curve_falls_with_traffic():
    b = op.baseline("llama-3-8b")
    q = op.quantize(b, "fp8", kv_dtype="fp8", engineering_days=5, usd_per_engineer_day=1000)
    c = op.compare([b, q], monthly_requests=9e7, **LLM)
    curve = c.payback_curve(np.array([1e6, 1e7, 1e8]))
    col = curve[q.name].to_numpy()
    assert (np.diff(col) < 0).all()
    net_per_1k = c.table.monthly_net_benefit_usd.iloc[1] / 9e7 * 1000
    assert col[0] == pytest.approx(5000 / (1e6 / 1000 * net_per_1k))
    led = c.to_ledger(q.name)
    assert led.by_phase()["opt"] == pytest.approx(5000)


def test_compare_under_an_slo_gives_the_smaller_model_a_bigger_batch():
    b = op.baseline("llama-3-8b")
    s = op.distill(b, "qwen2.5-1.5b", examples=1e5, tokens_per_example=288, mfu=0.3,
                   usd_per_gpu_hour=4.0)
    kw = {k: v for k, v in LLM.items() if k != "batch_size"}
    c = op.compare([b, s], monthly_requests=1e8, slo_s=1.0, **kw)
    t = c.table
    assert t.batch_size.iloc[1] >= t.batch_size.iloc[0]
    for name, est in c.serving.items():
        assert est.request_latency_s <= 1.0, name
    with pytest.raises(ValueError, match="SLO"):
        op.compare([b, s], monthly_requests=1e8, slo_s=0.001, **kw)


def test_compare_errors():
    b = op.baseline("bert-base")
    with pytest.raises(TypeError, match="at least one"):
        op.compare([b], monthly_requests=1e6, **ENCODER)
    with pytest.raises(ValueError, match="encoders with encoders"):
        op.compare([b, op.baseline("llama-3-8b")], monthly_requests=1e6, **ENCODER)
    with pytest.raises(ValueError, match="must differ"):
        op.compare([b, b], monthly_requests=1e6, **ENCODER)
    with pytest.raises(ValueError, match="> 0"):
        op.compare([b, op.quantize(b, "int8")], monthly_requests=0, **ENCODER)
    with pytest.raises(ValueError, match="> 0"):
        op.compare([b, op.quantize(b, "int8")], monthly_requests=1e6, utilization=0,
                   **ENCODER)


def test_compare_break_even_traffic_by_hand():
    """int8 without accuracy loss saves money: 12 months of its net benefit pay 3,000 USD back
    at 3000 / (12 x net) x 3e8 monthly requests (a make-mutate survivor divided by 1000)."""
    b = op.baseline("bert-base")
    q = op.quantize(b, "int8", accuracy_loss=0.0, engineering_days=3, usd_per_engineer_day=1000)
    t = op.compare([b, q], monthly_requests=3e8, gross_profit_per_1k_requests_usd=50.0,
                   **ENCODER).table
    net = t.monthly_net_benefit_usd.iloc[1]
    assert net > 0
    assert t.break_even_monthly_requests.iloc[1] == pytest.approx(3000 / (12 * net) * 3e8)


def test_the_payback_curve_at_the_compared_traffic_is_the_tables_payback():
    """At the traffic it was compared at, the curve gives the table's payback: the saving is
    divided by the utilisation and the accuracy cost taken off (a make-mutate survivor added
    it, unseen while the gross profit was 0)."""
    b = op.baseline("bert-base")
    q = op.quantize(b, "int8", accuracy_loss=1e-5, engineering_days=3, usd_per_engineer_day=1000)
    c = op.compare([b, q], monthly_requests=3e8, gross_profit_per_1k_requests_usd=50.0,
                   utilization=0.5, **ENCODER)
    t = c.table
    assert t.monthly_accuracy_cost_usd.iloc[1] == pytest.approx(1e-5 * 50.0 * 3e5)
    assert np.isfinite(t.payback_months.iloc[1])
    curve = c.payback_curve([3e8, 6e8])
    assert curve[q.name].iloc[0] == pytest.approx(t.payback_months.iloc[1], rel=1e-12)
    assert curve[q.name].iloc[1] == pytest.approx(t.payback_months.iloc[1] / 2, rel=1e-12)


def test_a_latency_exactly_at_the_slo_meets_it():
    """The SLO is a bound (latency <= SLO): with the SLO set to the smallest latency the
    sweep reaches, that batch is served, not refused."""
    b = op.baseline("bert-base")
    kw = {k: v for k, v in ENCODER.items() if k != "batch_size"}
    sweep = b.serve(batch_size=op._BATCHES, **kw)
    lat = np.asarray(sweep.request_latency_s)
    fastest = float(op._BATCHES[np.argmin(lat)])
    c = op.compare([b, op.quantize(b, "int8")], monthly_requests=1e8, slo_s=float(lat.min()),
                   **kw)
    assert c.serving[b.name].request_latency_s == lat.min()
    assert c.table.batch_size.iloc[0] == fastest


def test_the_teachers_default_output_is_a_quarter_of_the_example_and_at_least_a_token():
    b = op.baseline("llama-3-8b")
    kw = dict(examples=1e4, usd_per_gpu_hour=4.0, mfu=0.35)
    line = op.distill(b, "qwen2.5-1.5b", tokens_per_example=288, **kw).one_off.to_frame()
    assert "writes 72 tokens for each" in line["name"].iloc[0]  # round(288 / 4)
    line = op.distill(b, "qwen2.5-1.5b", tokens_per_example=2, **kw).one_off.to_frame()
    assert "writes 1 tokens for each" in line["name"].iloc[0]  # max(1, round(0.5))
    with pytest.raises(ValueError, match="fewer than tokens_per_example"):
        op.distill(b, "qwen2.5-1.5b", tokens_per_example=32, teacher_output_tokens=32, **kw)
    op.distill(b, "qwen2.5-1.5b", tokens_per_example=32, teacher_output_tokens=31, **kw)
