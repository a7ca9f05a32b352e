"""The serving-efficiency model: its kernels by hand, the ranges, the fit and its stored copy."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import costkit as ck
from costkit import serving as sv
from costkit import serving_efficiency as se
from costkit import step_time
from costkit.validation import serving_benchmarks

H100_FP16 = 989.5e12
H100_BW = 3.35e12


def _eff(**kw):
    base = dict(compute_max=0.5, layer_overhead_s=0.0, bandwidth_max=0.8)
    return se.ServingEfficiency(**{**base, **kw})


def test_step_time_is_the_roofline_or_the_layer_floor_at_the_stack_speed():
    assert se.step_time_s(2e-3, 32, 10e-6) == pytest.approx(2e-3)        # floor 0.32 ms
    assert se.step_time_s(0.1e-3, 32, 10e-6) == pytest.approx(0.32e-3)   # the floor binds
    assert se.step_time_s(2e-3, 32, 10e-6, 2.0) == pytest.approx(1e-3)


def test_calibrated_decode_step_sums_the_matmul_and_attention_rooflines_by_hand():
    # Llama 2 7B, batch 256, 64 + 64 tokens, fp16 on one H100, u_c 0.5, u_bw 0.8: the
    # matmuls are compute-bound, the attention's KV reads memory-bound
    n_dense, L, d, kv = 6_738_415_616 - 32_000 * 4096, 32, 4096, 2 * 32 * 32 * 128 * 2
    B, P, Q = 256, 64, 64
    ctx = P + Q / 2
    e = sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=B, prompt_tokens=P,
                    output_tokens=Q, usd_per_gpu_hour=2.0, efficiency=_eff())
    gemm = max(B * 2 * n_dense / (0.5 * H100_FP16), n_dense * 2 / (0.8 * H100_BW))
    attn = max(B * 4 * L * ctx * d / (0.5 * H100_FP16), B * kv * ctx / (0.8 * H100_BW))
    assert e.tpot_s == pytest.approx(gemm + attn, rel=1e-9)
    prefill = (max(B * 2 * n_dense * P / (0.5 * H100_FP16), n_dense * 2 / (0.8 * H100_BW))
               + B * 2 * L * P * P * d / (0.5 * H100_FP16))
    assert e.ttft_s == pytest.approx(prefill, rel=1e-9)
    # the plain roofline takes the max of the totals instead: never slower
    roof = sv.estimate("llama-2-7b", gpu="H100-SXM", batch_size=B, prompt_tokens=P,
                       output_tokens=Q, usd_per_gpu_hour=2.0, calibrated=False,
                       compute_utilization=0.5, bandwidth_utilization=0.8)
    assert roof.tpot_s < e.tpot_s and roof.tpot_s == pytest.approx(max(
        (n_dense * 2 + B * kv * ctx) / (0.8 * H100_BW),
        B * (2 * n_dense + 4 * L * ctx * d) / (0.5 * H100_FP16)))


def test_eight_bit_factor_stack_floor_and_all_reduce_latency_each_act():
    kw = dict(gpu="H100-SXM", batch_size=128, prompt_tokens=512, output_tokens=64,
              usd_per_gpu_hour=2.0)
    base = sv.estimate("llama-2-7b", dtype="fp8", efficiency=_eff(), **kw)
    slow8 = sv.estimate("llama-2-7b", dtype="fp8", efficiency=_eff(eight_bit_factor=0.5), **kw)
    assert slow8.ttft_s == pytest.approx(2 * base.ttft_s, rel=0.02)   # prefill: compute-bound
    fp16 = sv.estimate("llama-2-7b", dtype="fp16", efficiency=_eff(eight_bit_factor=0.5), **kw)
    fast = sv.estimate("llama-2-7b", dtype="fp16", efficiency=_eff(), **kw)
    assert fp16.ttft_s == fast.ttft_s                                  # not 8-bit: unchanged
    stacked = sv.estimate("llama-2-7b", efficiency=_eff(
        stacks={"TensorRT-LLM": 2.0}), **kw)
    assert stacked.tpot_s == pytest.approx(fast.tpot_s / 2)
    floor = sv.estimate("llama-2-7b", efficiency=_eff(layer_overhead_s=1e-3), **kw)
    assert floor.tpot_s == pytest.approx(32 * 1e-3)                    # 32 layers x 1 ms
    tp = dict(kw, n_gpus=2)
    free = sv.estimate("llama-2-7b", efficiency=_eff(), **tp)
    lat = sv.estimate("llama-2-7b", efficiency=_eff(all_reduce_latency_s=10e-6), **tp)
    assert lat.tpot_s - free.tpot_s == pytest.approx(2 * 32 * 10e-6)
    given = sv.estimate("llama-2-7b", efficiency=_eff(all_reduce_latency_s=10e-6),
                        all_reduce_latency_s=0.0, **tp)
    assert given.tpot_s == pytest.approx(free.tpot_s)                  # yours wins


def test_encoder_and_recommender_kernels_by_hand():
    # BERT-base, 128 tokens, batch 64, fp16 on an A100-40GB: matmuls then attention
    n_dense, L, d, s, B = 109_482_240 - (30_522 + 512 + 2) * 768, 12, 768, 128, 64
    e = sv.encoder_estimate("bert-base", seq_len=s, batch_size=B, gpu="A100-40GB",
                            usd_per_gpu_hour=1.0, efficiency=_eff())
    gemm = max(B * 2 * n_dense * s / (0.5 * 312e12), n_dense * 2 / (0.8 * 1.555e12))
    assert e.batch_latency_s == pytest.approx(gemm + B * 4 * L * s * s * d / (0.5 * 312e12))
    one = sv.encoder_estimate("bert-base", seq_len=s, batch_size=1, gpu="A100-40GB",
                              usd_per_gpu_hour=1.0, efficiency=_eff(layer_overhead_s=50e-6))
    assert one.batch_latency_s == pytest.approx(12 * 50e-6)            # the floor binds
    # DLRM: the gathers are their own kernel at the gathers' share of the bandwidth
    spec = sv.DLRM_V2
    r = sv.recommender_estimate(spec, gpu="H100-SXM", dtype="int8", embedding_dtype="fp16",
                                batch_size=4096, usd_per_gpu_hour=1.0,
                                efficiency=_eff(gather_max=0.25))
    mlp = max(4096 * spec.flops_per_sample / (0.5 * 1979e12),
              spec.mlp_params * 1 / (0.8 * H100_BW))
    gather = 4096 * spec.rows_per_item * 128 * 2 / (0.25 * H100_BW)
    assert r.batch_latency_s == pytest.approx(mlp + gather)
    assert spec.n_layers == 1 + 3 + 5 + 3


def test_ranges_bracket_every_figure_and_follow_the_evidence():
    e = sv.estimate("llama-2-7b", gpu=pd.Series(["H100-SXM", "MI300X", "B200"]),
                    batch_size=16, usd_per_gpu_hour=2.0)
    for name in sv._RANGED_LLM_FIGURES:
        lo, c, hi = (np.asarray(getattr(e, f"{name}{x}")) for x in ("_low", "", "_high"))
        assert (lo < c).all() and (c < hi).all(), name
    assert isinstance(e.tpot_s_low, pd.Series)
    # times fall as throughput rises: the shortest TPOT goes with the highest throughput
    assert np.allclose(e.tpot_s_low * e.tokens_per_second_high, e.tpot_s * e.tokens_per_second)
    width = e.tokens_per_second_high / e.tokens_per_second_low
    h100, mi300x, b200 = width
    assert h100 < b200 < mi300x          # seen; a new generation; a vendor without evidence
    d = se.default()
    assert h100 == pytest.approx(np.exp(d.residual_high - d.residual_low))
    f = e.to_frame()
    assert {"tokens_per_second_low", "usd_per_million_tokens_high"} <= set(f.columns)
    # encoders and recommenders carry theirs too
    enc = sv.encoder_estimate("bert-base", usd_per_gpu_hour=1.0)
    assert enc.usd_per_1k_queries_low < enc.usd_per_1k_queries < enc.usd_per_1k_queries_high
    rec = sv.recommender_estimate(gpu="H100-SXM", usd_per_gpu_hour=1.0)
    assert rec.samples_per_second_low < rec.samples_per_second < rec.samples_per_second_high


def test_the_three_modes_say_what_they_are():
    cal = sv.estimate("llama-2-7b", usd_per_gpu_hour=2.0)
    roof = sv.estimate("llama-2-7b", usd_per_gpu_hour=2.0, calibrated=False)
    given = sv.estimate("llama-2-7b", usd_per_gpu_hour=2.0, compute_utilization=0.6,
                        bandwidth_utilization=0.8)
    assert cal.assumptions["efficiency"].startswith("calibrated")
    assert "pure roofline" in roof.assumptions["efficiency"]
    assert "your utilisations" in given.assumptions["efficiency"]
    assert given.tpot_s == roof.tpot_s                   # given = the roofline at those values
    # the roofline's own range says how optimistic it is: its centre sits above its spread
    assert roof.tokens_per_second_high < roof.tokens_per_second * 1.1
    with pytest.raises(TypeError, match="ServingEfficiency"):
        sv.estimate("llama-2-7b", efficiency={"compute_max": 0.5})
    with pytest.raises(TypeError, match="True or False"):
        sv.estimate("llama-2-7b", calibrated="yes")


def test_the_fit_recovers_a_known_efficiency_from_generated_figures():
    t = serving_benchmarks()
    grid = se._grid()
    want = dict(compute_max=0.6, eight_bit_factor=0.8, bandwidth_max=0.72, layer_overhead_s=32e-6,
                all_reduce_latency_s=6e-6, gather_share=0.36)
    k = int(np.argmin(sum(np.abs(np.log(grid[n] + 1e-9) - np.log(v + 1e-9))
                          for n, v in want.items())))
    truth = se.ServingEfficiency(**se._model_params(grid, k),
                                 stacks={"TensorRT-LLM": 1.0, "TensorRT": 0.8,
                                         "TensorRT 9 (before TensorRT-LLM)": 0.5})
    t["published"] = se.predict_rows(t, truth)
    got = se.fit(t)
    for name in ("compute_max", "eight_bit_factor", "bandwidth_max", "layer_overhead_s",
                 "all_reduce_latency_s", "gather_max"):
        assert getattr(got, name) == pytest.approx(getattr(truth, name)), name
    assert got.stacks == pytest.approx(truth.stacks)
    assert abs(got.residual_low) < 1e-9 and abs(got.residual_high) < 1e-9


def test_the_fit_keeps_to_its_evidence():
    t = serving_benchmarks()
    late = t.copy()
    late.loc[0, "published_date"] = "2024-09-11"
    with pytest.raises(ValueError, match="cut-off 2024-07-01"):
        se.fit(late)
    nostack = t.copy()
    nostack.loc[3, "software"] = np.nan
    with pytest.raises(ValueError, match="software stack"):
        se.fit(nostack)
    with pytest.raises(ValueError, match="reference stack"):
        se.fit(t[t.software != "TensorRT-LLM"])


def test_the_stored_fit_is_what_fitting_gives():
    stored, refit = se.default(), se.fit()
    for name in step_time._FLOATS:
        assert getattr(refit, name) == pytest.approx(getattr(stored, name), rel=1e-12), (
            f"{name}: run python -m costkit.serving_efficiency to refresh "
            "data/serving_efficiency.csv")
    assert refit.stacks == pytest.approx(stored.stacks)
    assert refit.default_stack == stored.default_stack
    assert dataclasses.replace(refit) is not refit


def test_a_stored_fit_round_trips_and_a_broken_one_is_refused(tmp_path):
    p = tmp_path / "mine.csv"
    se.write(se.default(), p, "test")
    back = se.read(p)
    assert back.compute_max == se.default().compute_max and back.stacks == se.default().stacks
    text = p.read_text()
    for bad, match in ((text.replace("compute_max,0.5", "compute_max,abc"), "not a number"),
                       (text.replace("compute_max,0.5", "compute_max,1.5"), "out of range"),
                       (text.replace("bandwidth_max,", "bandwith_max,"), "unknown term"),
                       ("\n".join(line for line in text.splitlines()
                                  if not line.startswith("gather_max")), "is missing"),
                       (text.replace("default_stack:llm,TensorRT-LLM", "default_stack:llm,vLLM"),
                        "must name one of the stacks")):
        p.write_text(bad)
        with pytest.raises(ck.DataFileError, match=match):
            se.read(p)


def test_a_mlperf_dlrm_sample_is_a_query_of_items():
    t = serving_benchmarks()
    row = t[t.family == "MLPerf DLRM-v2-99"].iloc[[0]]
    items = se.predict_rows(row, None)[0] * 270
    r = sv.recommender_estimate(sv.DLRM_V2, gpu="H100-SXM", dtype="int8",
                                embedding_dtype="fp16", batch_size=2048 * 270 // 2,
                                usd_per_gpu_hour=0.0, calibrated=False)
    assert items == pytest.approx(r.samples_per_second)


def test_the_tensor_parallel_warning_states_what_the_evidence_shows():
    from costkit.validation import serving_report

    df = serving_report(peers=False)
    tp4 = df[df.n_gpus == 4].iloc[0]
    assert tp4.calibrated_ratio > 1.8 and not tp4.covered      # what the warning says
    e = sv.estimate("llama-2-70b", n_gpus=4, usd_per_gpu_hour=1.0)
    assert "tensor parallelism" in e.assumptions["tensor_parallel_warning"]
    assert "WARNING: tensor parallelism" in repr(e)
    assert "tensor_parallel_warning" not in sv.estimate("llama-2-7b").assumptions


def test_range_factors_add_the_sigmas_in_quadrature_by_hand():
    """An unknown vendor on an unknown generation: the residual spread and Z80 x
    sqrt(sigma_gen^2 + sigma_vendor^2) add in quadrature (make-mutate survivors cubed them)."""
    import dataclasses

    import numpy as np

    from costkit import step_time

    fit = dataclasses.replace(step_time.default(), generation_sigma=0.3, vendor_sigma=0.5)
    lo, hi = fit.range_factors(["Nobody"], ["Nothing"])
    spread = 1.2816 * np.sqrt(0.3 ** 2 + 0.5 ** 2)
    want_lo = fit.residual_mid - np.hypot(fit.residual_mid - fit.residual_low, spread)
    want_hi = fit.residual_mid + np.hypot(fit.residual_high - fit.residual_mid, spread)
    assert float(np.log(lo[0])) == pytest.approx(want_lo)
    assert float(np.log(hi[0])) == pytest.approx(want_hi)


def test_the_range_of_each_stored_term_is_closed_where_it_should_be(tmp_path):
    """A share such as compute_max lies in (0, 1]: 1 is read, 0 is refused; a time such as
    layer_overhead_s is >= 0: 0 is read, a negative one refused."""
    p = tmp_path / "mine.csv"
    se.write(se.default(), p, "test")
    text = p.read_text()
    overhead = f"layer_overhead_s,{se.default().layer_overhead_s!r}"
    assert overhead in text
    for good, term, want in ((text.replace("compute_max,0.5", "compute_max,1.0"),
                              "compute_max", 1.0),
                             (text.replace(overhead, "layer_overhead_s,0.0"),
                              "layer_overhead_s", 0.0)):
        p.write_text(good)
        assert getattr(se.read(p), term) == want
    for bad in (text.replace("compute_max,0.5", "compute_max,0.0"),
                text.replace(overhead, "layer_overhead_s,-1e-06")):
        p.write_text(bad)
        with pytest.raises(ck.DataFileError, match="out of range"):
            se.read(p)
