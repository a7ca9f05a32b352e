"""Benchmark: `import costkit` stays light, and catalog look-ups are cached.

Run with `make bench` (or `python benchmarks/bench_catalog.py`). Prints the
median of repeated measurements; it asserts nothing about speed (timings vary
by machine), but exits 1 if `import costkit` takes more than the 0.3 s budget,
so a regression is visible when someone runs it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

IMPORT_BUDGET_S = 0.3


def import_time_s(repeats: int = 7) -> tuple[float, float]:
    """Median wall time of a fresh `python -c "import costkit"`, minus bare start-up."""

    def run(code):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(run("pass") for _ in range(repeats))
    full = statistics.median(run("import costkit") for _ in range(repeats))
    return full, full - bare


def lookup_times_s(repeats: int = 2000):
    import costkit as ck
    from costkit.catalog import _load_gpus, _quote

    t0 = time.perf_counter()
    ck.gpu("H100 SXM5 80GB")
    ck.gpu_hour_price("H100")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        ck.gpu("H100 SXM5 80GB")
    cached_gpu = (time.perf_counter() - t0) / repeats
    t0 = time.perf_counter()
    for _ in range(repeats // 10):
        ck.gpu_hour_price("H100")
    cached_price = (time.perf_counter() - t0) / (repeats // 10)
    info = _load_gpus.cache_info(), _quote.cache_info()
    return first, cached_gpu, cached_price, info


def main() -> int:
    full, extra = import_time_s()
    print(f"python -c 'import costkit': {full * 1000:.0f} ms in all, "
          f"{extra * 1000:.0f} ms more than a bare interpreter "
          f"(budget {IMPORT_BUDGET_S * 1000:.0f} ms)")
    first, gpu_s, price_s, (gi, pi) = lookup_times_s()
    print(f"first gpu() + gpu_hour_price() (loads and validates the CSVs): {first * 1000:.1f} ms")
    print(f"cached gpu('H100 SXM5 80GB'): {gpu_s * 1e6:.1f} us per call")
    print(f"cached gpu_hour_price('H100'): {price_s * 1e6:.1f} us per call")
    print(f"GPU table loads {gi.misses}, cache hits {gi.hits}; price quotes computed {pi.misses}, "
          f"served from cache {pi.hits}")
    return 0 if full < IMPORT_BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
