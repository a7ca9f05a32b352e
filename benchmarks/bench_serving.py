"""Benchmark: a 100,000-point serving sweep and a week of capacity planning.

Run with `make bench` (or `python benchmarks/bench_serving.py`).

1. `costkit.serving.estimate` on 100,000 configurations at once (batch size,
   prompt and output tokens, GPUs per replica and price as arrays, over five
   GPU types), against a plain Python loop over scalar calls of the same
   configurations (timed on the first 5,000 and scaled). Results are checked
   to agree before any timing is reported.
2. The same 100,000 configurations with the engine's features on (a prefix-cache hit
   rate per configuration, n-gram speculation, chunked prefill, 50 LoRA adapters).
3. `costkit.serving_efficiency.fit_from_samples` on the largest sample table it takes
   (5,000 monitoring samples: 432 grid models evaluated on each), and the error of the
   recovered shares.
4. `costkit.token_day.reproduce`: DeepSeek's published day on expert-parallel pools
   (the decode batch searched over 1 to 1,024 sequences per GPU at once).
5. `costkit.capacity.plan` for a 168-hour week with a p99 SLO (Erlang C walk
   over replica counts, vectorised over the hours; the mix strategy evaluated
   for every reserved count at once).

Asserts nothing about speed.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

N = 100_000
N_LOOP = 5_000
GPUS = np.array(["H100-SXM", "A100-80GB", "H200", "L40S", "MI300X"])


def configurations(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return dict(
        gpu=GPUS[rng.integers(0, len(GPUS), n)],
        batch_size=2 ** rng.integers(0, 7, n),           # 1 to 64
        prompt_tokens=rng.integers(16, 2049, n),
        output_tokens=rng.integers(1, 513, n),
        n_gpus=2 ** rng.integers(0, 3, n),               # 1, 2 or 4 GPUs per replica
        usd_per_gpu_hour=rng.uniform(1.0, 8.0, n),
    )


def main() -> int:
    from costkit.capacity import plan, traffic_profile
    from costkit.serving import estimate

    cfg = configurations(N)
    estimate("llama-2-7b", **{k: v[:10] for k, v in cfg.items()})  # load the tables once
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        vec = estimate("llama-2-7b", **cfg, oversized="flag")
        times.append(time.perf_counter() - t0)
    t_vec = statistics.median(times)

    t0 = time.perf_counter()
    loop = [estimate("llama-2-7b", oversized="flag",
                     **{k: (str(v[i]) if k == "gpu" else float(v[i])) for k, v in cfg.items()}
                     ).usd_per_1k_requests for i in range(N_LOOP)]
    t_loop = time.perf_counter() - t0
    np.testing.assert_allclose(loop, vec.usd_per_1k_requests[:N_LOOP], rtol=1e-12)

    per_call = t_loop / N_LOOP
    print(f"serving.estimate() on {N:,} configurations at once: {t_vec:.3f} s "
          f"(median of 5; {t_vec / N * 1e9:.0f} ns per configuration)")
    print(f"plain Python loop of scalar estimate(): {per_call * 1e6:.0f} us per call, "
          f"{t_loop:.1f} s for {N_LOOP:,}, so about {per_call * N:,.0f} s for {N:,}")
    print(f"vectorised speed-up: about {per_call * N / t_vec:,.0f}x")

    from costkit.engine import EngineFeatures, Speculation

    feats = EngineFeatures(prefix_cache_hit_rate=np.random.default_rng(1).uniform(0, 0.9, N),
                           speculation=Speculation(3, 0.7, "ngram"), chunked_prefill=True,
                           lora_adapters=50)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        on = estimate("llama-2-7b", **cfg, features=feats, oversized="flag")
        times.append(time.perf_counter() - t0)
    print(f"the same with prefix caching, speculation, chunked prefill and LoRA: "
          f"{statistics.median(times):.3f} s (median of 5; "
          f"{np.isfinite(on.tpot_s).mean():.0%} sustained and in memory)")

    from dataclasses import replace

    from costkit import serving_efficiency as se

    truth = replace(se.default(), compute_max=0.35, bandwidth_max=0.6)
    samples = se.synthetic_samples("llama-2-7b", gpu="H100-SXM", efficiency=truth,
                                   n=se.MAX_SAMPLES, batch_sizes=(1, 4, 16, 32, 64, 128))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fitted = se.fit_from_samples(samples, "llama-2-7b", gpu="H100-SXM")
        times.append(time.perf_counter() - t0)
    print(f"fit_from_samples() on {len(samples):,} monitoring samples: "
          f"{statistics.median(times):.2f} s (median of 3); c_max {fitted.compute_max:.3f} "
          f"(true 0.35), b_max {fitted.bandwidth_max:.3f} (true 0.6)")

    from costkit.token_day import reproduce

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        day = reproduce()
        times.append(time.perf_counter() - t0)
    print(f"token_day.reproduce() of DeepSeek's day: {statistics.median(times) * 1e3:.1f} ms "
          f"(median of 5); {day.nodes:,.1f} nodes predicted, {day.day.average_nodes:g} "
          "published")

    replica = estimate("llama-2-7b", gpu="H100-SXM", batch_size=32, prompt_tokens=256,
                       output_tokens=64, usd_per_gpu_hour=4.0)
    week = traffic_profile(5e7, days=7, promotion_multiplier=4.0, promotion_days=(5,))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        p = plan(week, replica, slo_s=2.0, percentile=0.99)
        times.append(time.perf_counter() - t0)
    print(f"capacity.plan() for 168 hours, p99 SLO, peak {p.hourly['replicas_needed'].max():g} "
          f"replicas of {p.assumptions['slots_per_replica']:.3g} slots: "
          f"{statistics.median(times) * 1e3:.0f} ms (median of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
