"""Trust II: what the out-of-sample machinery costs, and the accuracy figures it reports.

- the default MFU model on 1,000,000 training configurations (params as an array: the MFU
  depends on each model's size, so it is evaluated per configuration), against a given MFU;
- a mixture-of-experts serving sweep (Mixtral-8x7B, 100,000 batch / token / GPU-count
  configurations: the distinct experts each batch touches, the tensor-parallel all-reduces);
- the validation report (``make validate`` without the peer): 33 training runs refitted
  33 x 32 times for the nested intervals, 26 serving benchmarks; and its headline figures.

Timings are printed, never asserted.
"""

from __future__ import annotations

import time

import numpy as np
from bench_tuning import best_of


def main() -> int:
    from costkit import serving, training, validation

    rng = np.random.default_rng(0)
    n = 1_000_000
    params = 10 ** rng.uniform(8, 11.5, n)
    tokens = 10 ** rng.uniform(9, 13, n)
    training.estimate(params[:10], tokens[:10], gpu="H100", usd_per_gpu_hour=2.0, n_gpus=64)
    est, t_default = best_of(lambda: training.estimate(params, tokens, gpu="H100",
                                                       usd_per_gpu_hour=2.0, n_gpus=64))
    _, t_given = best_of(lambda: training.estimate(params, tokens, gpu="H100", mfu=0.3,
                                                   usd_per_gpu_hour=2.0, n_gpus=64))
    print(f"training.estimate on {n:,} configurations: default MFU model {t_default:.3f} s, "
          f"given MFU {t_given:.3f} s (MFU {np.min(est.mfu):.3f} to {np.max(est.mfu):.3f})")

    m = 100_000
    batch = 2 ** rng.integers(0, 9, m)
    prompt = rng.integers(16, 4097, m)
    out = rng.integers(1, 1025, m)
    gpus = 2 ** rng.integers(1, 4, m)
    serving.estimate("Mixtral-8x7B", batch_size=batch[:10], prompt_tokens=prompt[:10],
                     output_tokens=out[:10], n_gpus=gpus[:10], usd_per_gpu_hour=2.0,
                     oversized="flag")
    moe, t_moe = best_of(lambda: serving.estimate(
        "Mixtral-8x7B", batch_size=batch, prompt_tokens=prompt, output_tokens=out, n_gpus=gpus,
        usd_per_gpu_hour=2.0, oversized="flag"))
    print(f"serving.estimate of Mixtral-8x7B on {m:,} configurations: {t_moe:.3f} s "
          f"({t_moe / m * 1e9:.0f} ns each; {np.isnan(moe.tpot_s).sum():,} do not fit)")

    t0 = time.perf_counter()
    train = validation.training_report(peers=False)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    serve = validation.serving_report(peers=False)
    t_serve = time.perf_counter() - t0
    s = validation.summary(train["loo_ratio"], train["covered"])
    print(f"validation: {len(train)} training runs (nested leave-one-out) in {t_train:.2f} s, "
          f"{len(serve)} serving benchmarks in {t_serve:.2f} s")
    print(f"  training, leave-one-out: median |error| {s['median_abs_error']:.1%}, within ±25% "
          f"{s['within_25pct']:.0%}, 80% intervals cover {s['coverage_80']:.0%}")
    for fam, g in serve.groupby("family", sort=False):
        print(f"  {fam}: roofline median ratio {g.roofline_ratio.median():.2f}, calibrated "
              f"{g.calibrated_ratio.median():.2f} ({len(g)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
