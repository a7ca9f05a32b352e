"""Benchmark: `import costkit` stays light, a first look-up needs no pandas, look-ups are cached.

Run with `make bench` (or `python benchmarks/bench_catalog.py`). Prints the
median of repeated measurements; it asserts nothing about speed (timings vary
by machine), but exits 1 if `import costkit` takes more than the 0.3 s budget,
or the first `ck.gpu()` or `ck.gpu_hour_price()` in a fresh process more than
0.2 s of CPU, so a regression is visible when someone runs it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

IMPORT_BUDGET_S = 0.3
COLD_LOOKUP_BUDGET_CPU_S = 0.2

_COLD = """
import sys, time
t0 = time.process_time()
import costkit as ck
{call}
print(time.process_time() - t0, "pandas" in sys.modules)
"""


def cold_lookup_cpu_s(call: str, repeats: int = 5) -> tuple[float, bool]:
    """Median CPU seconds of `import costkit` + ``call`` in a fresh process; was pandas imported?"""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _COLD.format(call=call)], check=True,
                             capture_output=True, text=True).stdout.split()
        runs.append((float(out[0]), out[1] == "True"))
    return statistics.median(r[0] for r in runs), any(r[1] for r in runs)


def import_time_s(repeats: int = 7) -> tuple[float, float]:
    """Median wall time of a fresh `python -c "import costkit"`, minus bare start-up."""

    def run(code):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(run("pass") for _ in range(repeats))
    full = statistics.median(run("import costkit") for _ in range(repeats))
    return full, full - bare


def skypilot_import_cpu_s(n: int = 200_000) -> float:
    """CPU seconds to read a generated SkyPilot ``vms.csv`` of ``n`` rows (9 accelerators)."""
    import tempfile
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from costkit.catalog import read_skypilot_catalog

    rng = np.random.default_rng(0)
    accs = np.array(["A100", "H100", "L4", "", "T4", "MI300X", "Gaudi9", "V100-32GB", "A10G"])
    df = pd.DataFrame({
        "InstanceType": [f"inst-{i % 5000}" for i in range(n)],
        "AcceleratorName": accs[rng.integers(0, len(accs), n)],
        "AcceleratorCount": rng.choice(["1", "2", "8", "0.5", "4.0"], n),
        "Price": np.round(rng.uniform(0.5, 40, n), 3).astype(str),
        "SpotPrice": np.where(rng.random(n) < 0.5, "",
                              np.round(rng.uniform(0.1, 10, n), 3).astype(str)),
        "Region": rng.choice(["us-east-1", "us-west-2", "eu-west-1"], n)})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "aws" / "vms.csv"
        path.parent.mkdir()
        df.to_csv(path, index=False)
        t0 = time.process_time()
        read_skypilot_catalog(path, price_date="2026-11-20")
        return time.process_time() - t0


def currency_times_s(n: int = 200_000) -> tuple[float, float, float]:
    """CPU seconds to load a generated price table of ``n`` rows in CNY, USD and EUR (60 price
    dates), to quote one GPU in CNY over it, and to convert a 1e6-row estimate table to CNY."""
    import tempfile
    from pathlib import Path

    import numpy as np
    import pandas as pd

    import costkit as ck

    rng = np.random.default_rng(0)
    days = pd.date_range("2025-01-01", periods=60, freq="W").strftime("%Y-%m-%d")
    df = pd.DataFrame({
        "cloud": rng.choice(["Tencent Cloud", "Alibaba Cloud", "AWS"], n),
        "instance_type": [f"inst-{i}" for i in range(n)],
        "gpu": rng.choice(["T4", "A10", "H20"], n),
        "gpu_count": rng.choice([1, 2, 8], n), "region": "r",
        "currency": rng.choice(["CNY", "USD", "EUR"], n),
        "on_demand_per_hour": np.round(rng.uniform(1, 200, n), 2), "spot_per_hour": np.nan,
        "subscription_per_month": np.nan, "price_date": rng.choice(days, n), "source": "generated",
        "note": ""})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "prices.csv"
        df.to_csv(path, index=False)
        t0 = time.process_time()
        ck.gpu_prices(path)
        load = time.process_time() - t0
        t0 = time.process_time()
        ck.price_quote("T4", path=path, currency="CNY")
        quote = time.process_time() - t0
    frame = pd.DataFrame({"usd_per_1k_requests": rng.uniform(0, 1, 1_000_000),
                          "latency_s": rng.uniform(0, 1, 1_000_000)})
    t0 = time.process_time()
    ck.in_currency(frame, "CNY")
    return load, quote, time.process_time() - t0


def lookup_times_s(repeats: int = 2000):
    import costkit as ck
    from costkit.catalog import _load_gpu_records, _quote

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
    info = _load_gpu_records.cache_info(), _quote.cache_info()
    return first, cached_gpu, cached_price, info


def main() -> int:
    full, extra = import_time_s()
    print(f"python -c 'import costkit': {full * 1000:.0f} ms in all, "
          f"{extra * 1000:.0f} ms more than a bare interpreter "
          f"(budget {IMPORT_BUDGET_S * 1000:.0f} ms)")
    cold = {}
    for call in ('ck.gpu("H100")', 'ck.model("llama-2-7b")', 'ck.gpu_hour_price("H100")'):
        cpu, pandas = cold_lookup_cpu_s(call)
        cold[call] = cpu
        print(f"fresh process, import costkit + {call}: {cpu * 1000:.0f} ms CPU "
              f"({'imports' if pandas else 'without'} pandas)")
    print(f"read_skypilot_catalog on 200,000 generated rows: {skypilot_import_cpu_s():.2f} s CPU")
    load, quote, frame = currency_times_s()
    print(f"price table of 200,000 rows in CNY, USD and EUR (60 dates): load and convert "
          f"{load:.2f} s CPU; a CNY quote over it {quote:.2f} s; in_currency on 1e6 rows "
          f"{frame * 1000:.0f} ms")
    first, gpu_s, price_s, (gi, pi) = lookup_times_s()
    print(f"first gpu() + gpu_hour_price() (loads and validates the CSVs): {first * 1000:.1f} ms")
    print(f"cached gpu('H100 SXM5 80GB'): {gpu_s * 1e6:.1f} us per call")
    print(f"cached gpu_hour_price('H100'): {price_s * 1e6:.1f} us per call")
    print(f"GPU table loads {gi.misses}, cache hits {gi.hits}; price quotes computed {pi.misses}, "
          f"served from cache {pi.hits}")
    ok = full < IMPORT_BUDGET_S and all(cold[c] < COLD_LOOKUP_BUDGET_CPU_S for c in
                                        ('ck.gpu("H100")', 'ck.gpu_hour_price("H100")'))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
