"""A room without network: `make install OFFLINE=1` into a fresh venv from wheelhouse/ alone.

The package index is disabled (`--no-index` in the Makefile, PIP_NO_INDEX here), pip's own
configuration files are ignored, and the only place to find wheels is the wheelhouse that
`make wheelhouse` wrote. Run through `make test-offline`, which builds the wheelhouse first.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_install_from_the_wheelhouse_with_the_index_disabled(tmp_path):
    wheelhouse = os.environ.get("COSTKIT_WHEELHOUSE", str(ROOT / "wheelhouse"))
    if not Path(wheelhouse).is_dir() or not any(Path(wheelhouse).glob("*.whl")):
        pytest.skip(f"no wheels in {wheelhouse}: run `make wheelhouse` (with network) first")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=wheelhouse, PIP_CONFIG_FILE=os.devnull,
               PIP_NO_CACHE_DIR="1")
    t0 = time.perf_counter()
    res = subprocess.run(["make", "-C", str(ROOT), f"VENV={venv}", "OFFLINE=1",
                          f"WHEELHOUSE={wheelhouse}", "install"], env=env, capture_output=True,
                         text=True)
    minutes = (time.perf_counter() - t0) / 60
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    print(f"offline install: {minutes:.1f} min")
    bin_ = venv / "bin"
    ok = subprocess.run([bin_ / "costkit", "--version"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("costkit ")
    # make install is the room's install: costkit and the notebooks' needs, no test tools
    lean = subprocess.run([bin_ / "python", "-c", "import nbval"], capture_output=True,
                          text=True, env=env)
    assert lean.returncode != 0, "make install brought the test tools too"
    probe = ("import costkit as ck, ipywidgets, matplotlib, voila, duckdb, pyarrow;"
             "from costkit.scenario import Scenario, example_path;"
             "print(Scenario.from_yaml(example_path('ecommerce')).evaluate(draws=0).best_option);"
             "print(ck.exercises.check('06.1', ck.exercises.expected('06.1')).status)")
    out = subprocess.run([bin_ / "python", "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["LLM rewriter + re-ranker", "right"]
    kernels = subprocess.run([bin_ / "jupyter", "kernelspec", "list"], capture_output=True,
                             text=True, env=env)
    assert "costkit" in kernels.stdout
    lab = subprocess.run([bin_ / "jupyter", "lab", "--version"], capture_output=True, text=True,
                         env=env)
    assert lab.returncode == 0 and lab.stdout.strip()[0].isdigit()
