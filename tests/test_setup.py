"""Packaging and the newcomer's path: the wheel carries the data, `make lab` serves notebooks."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)], check=True)
    (path,) = out.glob("costkit-*.whl")
    return path


def test_wheel_contains_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ["gpus.csv", "gpu_prices.csv", "models.csv", "fx.csv", "training_runs.csv"]:
        assert f"costkit/data/{f}" in names
    # one copy of each file in the repository: data/, mapped into the package by the build
    assert not (ROOT / "costkit" / "data").exists()


def test_the_wheel_carries_py_typed_the_stub_and_the_price_list_samples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"costkit/py.typed", "costkit/__init__.pyi"} <= names
    assert "costkit/examples/price_lists/aws_ec2_us-east-1.json" in names
    assert "costkit/examples/price_lists/lambda/vms.csv" in names


def test_wheel_carries_the_licence_and_one_version(wheel):
    import costkit

    z = zipfile.ZipFile(wheel)
    names = z.namelist()
    licence = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert licence, names
    assert "Apache License" in z.read(licence[0]).decode()
    meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"Version: {costkit.__version__}\n" in meta      # written once, in costkit/__init__
    assert "License-Expression: Apache-2.0" in meta and "Classifier: " in meta
    assert wheel.name.startswith(f"costkit-{costkit.__version__}-")


def test_installed_wheel_reads_its_data_outside_the_repo(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = ("import costkit, sys; print(costkit.__file__); print(costkit.gpu('h100').name, "
            "len(costkit.gpu_prices()), costkit.model('bert').name)")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=env, check=True).stdout.splitlines()
    assert out[0].startswith(str(tmp_path / "site"))
    assert out[1].startswith("H100-SXM ") and out[1].endswith(" BERT-base")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_notebooks_headless():
    port, token = _free_port(), "costkit-test-token"
    args = f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    proc = subprocess.Popen(["make", "lab", f"LAB_ARGS={args}"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token={token}"
        deadline = time.time() + 90
        listing = None
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    listing = json.load(r)
                    break
            except OSError:
                time.sleep(1)
        assert listing is not None, "JupyterLab did not answer on its port"
        names = {item["name"] for item in listing["content"]}
        assert {"00_welcome.ipynb", "01_cost_accounting.ipynb"} <= names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_citation_and_changelog_name_the_same_version():
    import re

    import costkit

    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r'^version: "([^"]+)"$', cff, re.M).group(1) == costkit.__version__
    assert f"## [{costkit.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^license: Apache-2.0$", cff, re.M)


def test_billing_and_parquet_say_which_extra_they_need(monkeypatch, tmp_path):
    import duckdb

    import costkit as ck
    from costkit import billing, telemetry

    monkeypatch.setitem(sys.modules, "duckdb", None)       # as if the core install had no duckdb
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    bill = tmp_path / "bill.csv"
    bill.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(ImportError, match=r"pip install 'costkit\[billing\]'"):
        billing._Bill(str(bill))
    monkeypatch.setitem(sys.modules, "duckdb", duckdb)
    monkeypatch.setitem(sys.modules, "ibis", None)           # DuckDB there, Ibis not
    with pytest.raises(ImportError, match=r"reading a billing export needs ibis.*"
                                          r"pip install 'costkit\[billing\]'"):
        billing._Bill(str(bill))
    pq = tmp_path / "t.parquet"
    pq.write_bytes(b"PAR1")
    with pytest.raises(ImportError, match=r"pip install 'costkit\[parquet\]'"):
        telemetry._load(str(pq), None)
    assert ck.gpu("H100").memory_gb == 80                  # the formulas need neither


def test_the_core_install_is_the_formulas_only():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {d.split(">")[0].split("=")[0].strip().lower() for d in meta["dependencies"]}
    assert core == {"numpy", "pandas", "pyyaml"}
    extras = meta["optional-dependencies"]
    for heavy in ("duckdb", "pyarrow"):
        assert any(d.startswith(heavy) for d in extras["notebooks"])
        assert any(d.startswith(heavy) for d in extras["test"])


def test_pre_commit_runs_make_targets_that_exist():
    import re

    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert {h["id"] for h in hooks} >= {"lint", "unit", "notebooks"}
    for h in hooks:
        target = h["entry"].removeprefix("make ").strip()
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), h["entry"]
