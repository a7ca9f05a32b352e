"""Data files: every row has a source; a corrupted copy names its file, row and column."""

import csv
import shutil

import pytest

import costkit as ck
from costkit.catalog import gpu_prices, gpus, models
from costkit.fx import fx_rates
from costkit.hosted_api import api_prices
from costkit.mfu import training_runs
from costkit.price_lists import instance_gpus
from costkit.serving_efficiency import read as read_efficiency
from costkit.serving_efficiency import to_rows
from costkit.validation import serving_benchmarks

LOADERS = {"gpus.csv": gpus, "models.csv": models, "gpu_prices.csv": gpu_prices, "fx.csv": fx_rates,
           "training_runs.csv": training_runs, "serving_benchmarks.csv": serving_benchmarks,
           "instance_gpus.csv": instance_gpus, "api_prices.csv": api_prices,
           "serving_efficiency.csv": lambda p: to_rows(read_efficiency(p), "")}


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_row_has_a_source_and_loads(data_dir, name):
    rows = _rows(data_dir / name)
    assert rows and all(r["source"].strip() for r in rows)
    assert len(LOADERS[name](data_dir / name)) == len(rows)


def test_prices_cover_several_clouds_for_common_gpus():
    p = ck.gpu_prices()
    for g in ["H100-SXM", "A100-80GB", "L4", "T4", "H200", "B200", "L40S"]:
        assert p.loc[p.gpu == g, "cloud"].nunique() >= 3, g


def _corrupt(src, dst, row, column, value):
    rows = _rows(src)
    rows[row - 1][column] = value
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


CASES = [
    ("gpus.csv", "memory_gb", "eighty", "is not a number"),
    ("gpus.csv", "memory_bandwidth_tbps", "-3", "out of range"),
    ("gpus.csv", "bf16_tflops", "0", "out of range"),
    ("gpus.csv", "release_year", "2022.5", "not a whole number"),
    ("gpus.csv", "source", "", "empty cell in a required column"),
    ("gpus.csv", "name", "T4", "duplicate key"),
    ("training_runs.csv", "tokens", "-1", "out of range"),
    ("training_runs.csv", "run", "LLaMA-7B", "duplicate key"),
    ("models.csv", "params", "", "empty cell"),
    ("models.csv", "architecture", "transformer", "is not one of"),
    ("models.csv", "n_layers", "-1", "out of range"),
    ("gpu_prices.csv", "on_demand_per_hour", "abc", "is not a number"),
    ("gpu_prices.csv", "spot_per_hour", "999", "spot price is above the on-demand"),
    ("gpu_prices.csv", "currency", "XYZ", "unknown currency 'XYZ'"),
    ("gpu_prices.csv", "price_date", "22/11/2026", "YYYY-MM-DD"),
    ("gpu_prices.csv", "gpu", "H1000", "unknown GPU"),
    ("gpu_prices.csv", "gpu_count", "0", "out of range"),
    ("training_runs.csv", "published", "2024/01/01", "YYYY-MM-DD"),
    ("training_runs.csv", "active_params", "1e9", "needs active_params, n_experts"),
    ("models.csv", "gated_mlp", "yes", "is not one of"),
    ("gpus.csv", "interconnect_gbps", "-900", "out of range"),
    ("serving_benchmarks.csv", "published", "0", "out of range"),
    ("serving_benchmarks.csv", "metric", "qps", "is not one of"),
    ("serving_benchmarks.csv", "case", "LLaMA-7B A100 fp16 b60 128/2048", "duplicate key"),
    ("serving_benchmarks.csv", "batch_size", "1e12", "out of range"),
    ("fx.csv", "rate", "nan", "is not a number"),
    ("fx.csv", "date", "2024-13-01", "YYYY-MM-DD"),
    ("fx.csv", "rate_currency", "EUR", "more than one currency"),
]


@pytest.mark.parametrize("name, column, value, problem", CASES)
def test_corrupted_file_names_file_row_and_column(data_dir, tmp_path, name, column, value, problem):
    bad = tmp_path / f"bad_{name}"
    row = 3
    _corrupt(data_dir / name, bad, row, column, value)
    with pytest.raises(ck.DataFileError) as info:
        LOADERS[name](bad)
    msg = str(info.value)
    assert str(bad) in msg
    assert f"column '{column}'" in msg
    assert problem in msg
    if problem not in ("more than one currency",):  # that rule reports the date's last row
        assert f"row {row} (line {row + 1})" in msg


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_missing_column_is_named(data_dir, tmp_path, name):
    rows = _rows(data_dir / name)
    drop = "source"
    bad = tmp_path / name
    with open(bad, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=[c for c in rows[0] if c != drop])
        w.writeheader()
        w.writerows({k: v for k, v in r.items() if k != drop} for r in rows)
    with pytest.raises(ck.DataFileError, match=f"{bad}.*column 'source': required column"):
        LOADERS[name](bad)


def test_empty_and_unreadable_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ck.DataFileError, match="empty.csv"):
        gpus(empty)
    header_only = tmp_path / "header.csv"
    with open("data/gpus.csv", encoding="utf-8") as fh:
        header_only.write_text(fh.readline())
    with pytest.raises(ck.DataFileError, match="no rows"):
        gpus(header_only)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        gpus(tmp_path / "nope.csv")


def test_round_trip_of_a_copied_file(data_dir, tmp_path):
    copy = tmp_path / "gpus.csv"
    shutil.copy(data_dir / "gpus.csv", copy)
    a, b = gpus(), gpus(copy)
    assert a.drop(columns=[]).equals(b)
    # and a table written back by pandas reads the same
    again = tmp_path / "again.csv"
    b.to_csv(again, index=False)
    assert gpus(again)[["name", "bf16_tflops"]].equals(a[["name", "bf16_tflops"]])


def test_edited_file_is_reloaded(data_dir, tmp_path):
    f = tmp_path / "gpus.csv"
    shutil.copy(data_dir / "gpus.csv", f)
    assert ck.gpu("T4", path=f).memory_gb == 16
    old = "T4,Tesla T4;T4 16GB,NVIDIA,PCIe,Turing,16,"
    new = old.replace(",16,", ",17,")
    assert old in f.read_text()
    text = f.read_text().replace(old, new)
    import os
    import time

    f.write_text(text)
    os.utime(f, (time.time() + 5, time.time() + 5))
    assert ck.gpu("T4", path=f).memory_gb == 17


def test_a_whole_number_too_big_for_a_count_is_refused_by_name(data_dir, tmp_path):
    # found by make fuzz: n_layers = 1e100 is whole, but no count can hold it
    bad = tmp_path / "runs.csv"
    _corrupt(data_dir / "training_runs.csv", bad, 1, "n_layers", "1e100")
    with pytest.raises(ck.DataFileError, match=r"row 1 .*column 'n_layers'.*out of range"):
        training_runs(bad)


LOOKUPS = {"gpus.csv": lambda p: ck.gpu("H100", path=p),
           "models.csv": lambda p: ck.model("llama-2-7b", path=p)}


@pytest.mark.parametrize("name, column, value, problem",
                         [c for c in CASES if c[0] in LOOKUPS]
                         + [("models.csv", "active_params", "1e9", "needs active_params"),
                            ("models.csv", "n_experts", "1", "exceeds n_experts"),
                            ("models.csv", "kv_lora_rank", "512", "needs kv_lora_rank")])
def test_a_lookup_without_pandas_refuses_what_the_table_refuses(data_dir, tmp_path, name, column,
                                                                  value, problem):
    # ck.gpu() and ck.model() read with the csv module; gpus() and models() with pandas:
    # one validator, the same message
    bad = tmp_path / f"bad_{name}"
    rows = _rows(data_dir / name)
    row = next((i + 1 for i, r in enumerate(rows) if r.get("n_experts")), 3) \
        if column == "n_experts" else 3
    _corrupt(data_dir / name, bad, row, column, value)
    with pytest.raises(ck.DataFileError) as table:
        LOADERS[name](bad)
    with pytest.raises(ck.DataFileError) as lookup:
        LOOKUPS[name](bad)
    assert str(lookup.value) == str(table.value)
    assert problem in str(table.value) and str(bad) in str(table.value)


def test_a_first_lookup_does_not_import_pandas():
    import subprocess
    import sys

    code = ("import sys, costkit as ck; ck.gpu('H100'); ck.model('llama-2-7b'); "
            "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pandas" not in out.stdout, out.stdout
