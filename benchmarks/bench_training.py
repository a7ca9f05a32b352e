"""Benchmark: a 1,000,000-configuration training sweep, vectorised vs a Python loop.

Run with `make bench` (or `python benchmarks/bench_training.py`). The same
function, `costkit.training.estimate`, is called once on arrays of 1,000,000
(params, tokens, MFU, price, GPU count) and, for comparison, in a plain
Python loop over scalars of the same configurations. The loop is timed on the
first 20,000 configurations and scaled to 1,000,000 (the full loop would take
minutes); the per-call figure is printed so the scaling is visible. Results are
checked to agree before any timing is reported. Asserts nothing about speed.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

N = 1_000_000
N_LOOP = 20_000


def configurations(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return dict(
        params=10 ** rng.uniform(8, 11.5, n),  # 100M to 300B parameters
        tokens=10 ** rng.uniform(9, 13, n),  # 1B to 10T tokens
        mfu=rng.uniform(0.2, 0.55, n),
        usd_per_gpu_hour=rng.uniform(1.0, 8.0, n),  # GPUs as prices
        n_gpus=8 * rng.integers(1, 129, n),  # 8 to 1,024 GPUs
    )


def main() -> int:
    from costkit.training import estimate

    cfg = configurations(N)
    estimate(**{k: v[:10] for k, v in cfg.items()}, gpu="H100")  # load the tables once
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        vec = estimate(**cfg, gpu="H100")
        times.append(time.perf_counter() - t0)
    t_vec = statistics.median(times)

    t0 = time.perf_counter()
    loop = [estimate(**{k: float(v[i]) for k, v in cfg.items()}, gpu="H100").cost_usd
            for i in range(N_LOOP)]
    t_loop = time.perf_counter() - t0
    np.testing.assert_allclose(loop, vec.cost_usd[:N_LOOP], rtol=1e-12)

    per_call = t_loop / N_LOOP
    print(f"estimate() on {N:,} configurations at once: {t_vec:.3f} s "
          f"(median of 5; {t_vec / N * 1e9:.0f} ns per configuration)")
    print(f"plain Python loop of scalar estimate(): {per_call * 1e6:.0f} us per call, "
          f"{t_loop:.1f} s for {N_LOOP:,}, so about {per_call * N:,.0f} s for {N:,}")
    print(f"vectorised speed-up: about {per_call * N / t_vec:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
