"""Benchmark: a scenario file from YAML to report, and the command line's start-up.

Run with `make bench` (or `python benchmarks/bench_scenario.py`).

1. `Scenario.from_yaml` (parse and validate examples/ecommerce.yaml).
2. `Scenario.evaluate(draws=0)`: the serving estimates, capacity plans for the
   week, training, search, A/B test, ledgers, ROI comparison and tornado.
3. `Scenario.evaluate()` with the file's Monte Carlo (100,000 draws per option,
   two options), and the same in chunks of 10,000 (how the progress bar runs),
   checked to give identical NPVs first.
4. `costkit.report.html` (nine sections, seven inline SVG charts).
5. `costkit --version` and `costkit report ... --format csv --draws 0` as
   subprocesses: what a user waits for at the shell.

Asserts nothing about speed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from bench_tuning import best_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ecommerce.yaml"


def main() -> int:
    from costkit import report, roi
    from costkit.scenario import Scenario, monte_carlo_inputs

    Scenario.from_yaml(EXAMPLE).evaluate(draws=0)  # warm up imports and catalog caches
    sc, t_read = best_of(lambda: Scenario.from_yaml(EXAMPLE))
    res0, t_eval = best_of(lambda: sc.evaluate(draws=0), repeats=3)
    res, t_mc = best_of(lambda: sc.evaluate(), repeats=3)
    name = "LLM rewriter + re-ranker"
    spec = monte_carlo_inputs(res.cases[name], sc.spec["options"][1]["uncertainty"])
    chunked = roi.monte_carlo(res.cases[name], spec, n=100_000, seed=6, chunk_size=10_000)
    if not np.array_equal(chunked.npv_usd, res.monte_carlo[name].npv_usd):
        print("chunked Monte Carlo differs from the scenario's", file=sys.stderr)
        return 1
    _, t_chunked = best_of(lambda: roi.monte_carlo(res.cases[name], spec, n=100_000, seed=6,
                                                   chunk_size=10_000), repeats=3)
    _, t_one = best_of(lambda: roi.monte_carlo(res.cases[name], spec, n=100_000, seed=6),
                       repeats=3)
    page, t_html = best_of(lambda: report.html(res, generated="bench"), repeats=3)

    exe = [sys.executable, "-m", "costkit"]
    _, t_version = best_of(lambda: subprocess.run([*exe, "--version"], check=True,
                                                  capture_output=True), repeats=3)
    _, t_cli = best_of(lambda: subprocess.run([*exe, "report", str(EXAMPLE), "--format", "csv",
                                               "--draws", "0"], check=True,
                                              capture_output=True), repeats=3)

    print(f"scenario {EXAMPLE.name}: {len(sc.option_names)} options, "
          f"{len(res0.components)} serving components")
    print(f"  read and validate the YAML            {t_read * 1e3:8.1f} ms")
    print(f"  evaluate without Monte Carlo          {t_eval:8.2f} s")
    print(f"  evaluate with 2 x 100,000 draws       {t_mc:8.2f} s")
    print(f"  100,000 draws in one chunk / in 10    {t_one:8.2f} s / {t_chunked:.2f} s "
          "(identical NPVs)")
    print(f"  HTML report ({len(page) / 1e3:,.0f} kB)               {t_html:8.2f} s")
    print(f"  costkit --version (subprocess)        {t_version:8.2f} s")
    print(f"  costkit report --format csv --draws 0 {t_cli:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
