"""The costkit command: outputs parsed back and checked against the library, exit codes, one-line
errors, --help on every command, the installed entry point, the progress bar."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from costkit import cli, serving, training
from costkit.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "examples" / "small.yaml")
ECOMMERCE = str(ROOT / "examples" / "ecommerce.yaml")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_gpus_json_filters(capsys):
    code, out, err = run(capsys, "gpus", "--format", "json", "--vendor", "nvidia",
                         "--min-memory-gb", "80", "--priced")
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert rows and all(r["vendor"] == "NVIDIA" and r["memory_gb"] >= 80 for r in rows)
    assert all(r["median_usd_per_gpu_hour"] > 0 and r["offers"] >= 1 for r in rows)
    assert "H100-SXM" in {r["name"] for r in rows}


def test_gpus_csv_and_table(capsys):
    code, out, _ = run(capsys, "gpus", "--format", "csv", "--sources")
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and {"name", "bf16_tflops", "source"} <= set(df.columns)
    assert df.loc[df.name == "H100-SXM", "bf16_tflops"].item() == 989.5   # dense, not sparse
    code, out, _ = run(capsys, "gpus")
    assert code == 0 and "H100-SXM" in out and "median_usd_per_gpu_hour" in out


def test_train_json_matches_the_library(capsys):
    code, out, _ = run(capsys, "train", "--model", "llama-2-7b", "--tokens", "2e12",
                       "--gpu", "A100-80GB", "--n-gpus", "64", "--format", "json")
    assert code == 0
    got = json.loads(out)
    want = training.estimate(model="llama-2-7b", tokens=2e12, gpu="A100-80GB", n_gpus=64)
    assert got["summary"]["central"]["cost_usd"] == pytest.approx(want.cost_usd)
    assert got["summary"]["central"]["gpu_hours"] == pytest.approx(want.gpu_hours)
    assert got["n_gpus"] == 64
    assert "mfu_basis" in got["assumptions"]


def test_train_table_and_csv(capsys):
    code, out, _ = run(capsys, "train", "--params", "1.1e8", "--tokens", "7.68e9", "--gpu",
                       "L4", "--n-gpus", "1")
    assert code == 0 and out.startswith("TrainingEstimate")
    code, out, _ = run(capsys, "train", "--params", "1.1e8", "--tokens", "7.68e9", "--gpu",
                       "L4", "--n-gpus", "1", "--format", "csv")
    df = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(df.columns) == ["low", "central", "high"]
    assert df.loc["cost_usd", "low"] <= df.loc["cost_usd", "central"] <= df.loc["cost_usd",
                                                                                "high"]


def test_serve_engine_options_match_the_library(capsys):
    from costkit.engine import EngineFeatures, Speculation

    code, out, _ = run(capsys, "serve", "--model", "llama-2-70b", "--n-gpus", "4",
                       "--batch-size", "8", "--speculative", "4:0.7:llama-2-7b",
                       "--prefix-hit-rate", "0.5", "--prefix-cache-gb", "20", "--lora-adapters",
                       "10", "--lora-rank", "8", "--chunked-prefill", "--token-budget", "4096",
                       "--format", "json")
    assert code == 0
    want = serving.estimate("llama-2-70b", n_gpus=4, batch_size=8, features=EngineFeatures(
        prefix_cache_hit_rate=0.5, prefix_cache_gb=20, lora_adapters=10, lora_rank=8,
        speculation=Speculation(4, 0.7, "draft", "llama-2-7b"), chunked_prefill=True,
        token_budget=4096))
    got = json.loads(out)
    assert got["tpot_s"] == pytest.approx(want.tpot_s) and got["ttft_s"] == pytest.approx(
        want.ttft_s)
    assert "4096 tokens per step" in got["assumptions"]["batching"]
    assert "10 adapters of rank 8" in got["assumptions"]["multi_lora"]


def test_buy_or_build_matches_the_library(capsys):
    from costkit import hosted_api

    code, out, _ = run(capsys, "buy-or-build", "--api", "deepseek-v4-flash", "--model",
                       "llama-3-8b", "--batch-size", "32", "--prompt-tokens", "256",
                       "--output-tokens", "32", "--requests-per-day", "3e6", "--cached-share",
                       "0.6", "--currency", "CNY", "--format", "json")
    assert code == 0
    est = serving.estimate("llama-3-8b", batch_size=32, prompt_tokens=256, output_tokens=32)
    want = hosted_api.buy_or_build("deepseek-v4-flash", est, 3e6, cached_share=0.6,
                                   currency="CNY")
    got = json.loads(out)
    assert got["api_per_month"] == pytest.approx(want.api_per_month)
    assert got["self_per_month"] == pytest.approx(want.self_per_month)
    assert got["currency"] == "CNY" and got["api"]["currency"] == "CNY"
    code, out, _ = run(capsys, "buy-or-build", "--api", "gpt-5-mini", "--model", "llama-3-8b",
                       "--requests-per-day", "1e6", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("self_host,currency")


def test_serve_llm_and_encoder_match_the_library(capsys):
    code, out, _ = run(capsys, "serve", "--model", "llama-2-7b", "--gpu", "H100-SXM",
                       "--batch-size", "16", "--format", "json")
    assert code == 0
    want = serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=16)
    assert json.loads(out)["usd_per_1k_requests"] == pytest.approx(want.usd_per_1k_requests)
    code, out, _ = run(capsys, "serve", "--model", "bert-base", "--gpu", "L4", "--batch-size",
                       "100", "--candidates-per-query", "100", "--format", "json",
                       "--requests-per-day", "1e6", "--slo-s", "0.1")
    got = json.loads(out)
    want = serving.encoder_estimate("bert-base", gpu="L4", batch_size=100,
                                    candidates_per_query=100)
    assert got["usd_per_1k_queries"] == pytest.approx(want.usd_per_1k_queries)
    assert got["peak_replicas"] >= 2 and got["usd_per_month"] > 0


def test_report_json_csv_and_html(capsys, tmp_path):
    want = Scenario.from_yaml(SMALL).evaluate()
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "report", SMALL, "--format", "json", "--out", str(out_json))
    assert code == 0 and out == ""
    back = json.loads(out_json.read_text())
    npv = {r["scenario"]: r["npv_usd"] for r in back["comparison"]}
    assert npv["BERT re-ranker"] == pytest.approx(want.table.loc["BERT re-ranker", "npv_usd"])
    code, out, _ = run(capsys, "report", SMALL, "--format", "csv")
    df = pd.read_csv(io.StringIO(out)).set_index("scenario")
    assert df.loc["BERT re-ranker", "npv_usd"] == pytest.approx(
        want.table.loc["BERT re-ranker", "npv_usd"])
    html = tmp_path / "r.html"
    code, out, err = run(capsys, "report", SMALL, "--out", str(html))
    assert code == 0 and f"wrote {html}" in err
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<section id='assumptions'>" in page


def test_report_draws_and_seed_override_the_file(capsys):
    code, out, _ = run(capsys, "report", ECOMMERCE, "--format", "json", "--draws", "2000",
                       "--seed", "1", "--no-progress")
    mc = json.loads(out)["monte_carlo"]
    assert code == 0 and mc["BERT re-ranker"]["draws"] == 2000
    code, out, _ = run(capsys, "report", ECOMMERCE, "--format", "json", "--draws", "0")
    assert json.loads(out)["monte_carlo"] == {}


def test_progress_bar_on_request(capsys):
    code, _, err = run(capsys, "report", ECOMMERCE, "--format", "csv", "--draws", "3000",
                       "--progress")
    assert code == 0
    assert "Monte Carlo [" in err and "100% 6,000/6,000 draws" in err   # two options


@pytest.mark.parametrize("argv, words", [
    (["train", "--model", "llama-2-7x", "--tokens", "1e9"], "Did you mean"),
    (["serve", "--model", "bert-base", "--gpu", "H100-SMX"], "H100-SXM"),
    (["gpus", "--vendor", "acme"], "vendors: AMD"),
    (["serve", "--model", "bert-base", "--slo-s", "0.1"], "give --requests-per-day too"),
    (["report", "missing.yaml"], "cannot read the file"),
    (["report", SMALL], "needs --out"),
    (["validate", str(ROOT / "pyproject.toml")], "problem"),
    (["train", "--model", "bert-base", "--tokens", "-3"], "must be a finite number > 0"),
    (["train", "--tokens", "1e9"], "one of the arguments --model --params is required"),
    (["gpus", "--format", "xml"], "invalid choice"),
    (["fly"], "invalid choice"),
    (["serve", "--model", "llama-2-7b", "--speculative", "4"], "K:ACCEPTANCE"),
    (["serve", "--model", "llama-2-7b", "--speculative", "4:0.7:llama-2-70b"], "not smaller"),
    (["serve", "--model", "llama-2-7b", "--prefix-hit-rate", "1"], "below 1"),
    (["serve", "--model", "bert-base", "--lora-adapters", "8"], "are for decoders"),
    (["buy-or-build", "--api", "gpt-6", "--model", "llama-3-8b", "--requests-per-day", "1e6"],
     "Did you mean: gpt-5-mini"),
    (["buy-or-build", "--api", "gpt-5-mini", "--model", "bert-base", "--requests-per-day",
      "1e6"], "not a decoder"),
    (["buy-or-build", "--api", "gpt-5-mini", "--model", "llama-3-8b", "--requests-per-day",
      "1e6", "--api-price-file", "/"], "is a folder"),
    (["buy-or-build", "--api", "gpt-5-mini", "--model", "llama-3-8b", "--requests-per-day",
      "1e13"], "at most 1e+09"),
    (["serve", "--model", "llama-2-7b", "--chunked-prefill", "--batch-size", "180",
      "--token-budget", "256"], "cannot sustain batch 180"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    try:
        code = cli.main(argv)
    except SystemExit as ex:  # argparse's own usage errors
        code = ex.code
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_validate_prints_the_options(capsys):
    code, out, _ = run(capsys, "validate", ECOMMERCE)
    assert code == 0
    assert "2 option(s): BERT re-ranker, LLM rewriter + re-ranker" in out


@pytest.mark.parametrize("command", ["gpus", "train", "serve", "validate", "report"])
def test_help_on_every_command(capsys, command):
    with pytest.raises(SystemExit) as ex:
        cli.main([command, "--help"])
    assert ex.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: costkit {command}")


def _costkit():
    exe = shutil.which("costkit", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the costkit entry point is not installed next to this Python")
    return exe


def test_installed_entry_point_and_exit_codes(tmp_path):
    exe = _costkit()
    ok = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("costkit ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsite: {sessions_per_day: 1000}\noptions: []\n")
    res = subprocess.run([exe, "validate", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "site.searches_per_session: is required" in res.stderr
    res = subprocess.run([sys.executable, "-m", "costkit", "gpus", "--format", "json"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and json.loads(res.stdout)


def test_validate_speaks_json_for_valid_and_invalid_files(capsys, tmp_path):
    assert cli.main(["validate", str(ROOT / "examples" / "ecommerce.yaml"),
                     "--format", "json"]) == 0
    ok = json.loads(capsys.readouterr().out)
    assert ok["valid"] is True and ok["options"] == ["BERT re-ranker", "LLM rewriter + re-ranker"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noptions: 5\n", encoding="utf-8")
    assert cli.main(["validate", str(bad), "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert {"path": "options", "message": "expected a list, got int 5"} in out["problems"]
    assert {"path": "site", "message": "is required"} in out["problems"]


def test_schema_writes_the_scenario_format_as_json_schema(capsys, tmp_path):
    import jsonschema

    from costkit import _yaml

    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["required"]) == {"name", "site", "options"}
    assert schema["properties"]["site"]["properties"]["gross_margin"]["anyOf"][0] == \
        {"type": "number", "minimum": 0.0, "maximum": 1.0}
    for f in (SMALL, ECOMMERCE):
        data = _yaml.load(Path(f).read_text(encoding="utf-8"))
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    out = tmp_path / "scenario.schema.json"
    assert cli.main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema
    with pytest.raises(jsonschema.ValidationError):      # an unknown key is refused by both
        jsonschema.validate({**_yaml.load(Path(SMALL).read_text(encoding="utf-8")),
                             "colour": "red"}, schema, cls=jsonschema.Draft202012Validator)
