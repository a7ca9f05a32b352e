"""What a newcomer met (issue 30): one set of price options, sizes bounded, raw errors gone."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import costkit as ck
from costkit import cli
from costkit._tables import DataFileError

ROOT = Path(__file__).resolve().parents[1]
AWS = ROOT / "examples" / "price_lists" / "aws_ec2_us-east-1.json"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The table `costkit prices import` writes from the AWS sample (H100 at 55.04 / 8)."""
    out = tmp_path_factory.mktemp("prices") / "mine.csv"
    assert cli.main(["prices", "import", str(AWS), "--out", str(out)]) == 0
    return str(out)


def _json(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_every_pricing_command_reads_the_imported_table(imported, capsys):
    own = 55.04 / 8  # p5.48xlarge, per GPU-hour
    serve = _json(capsys, "serve", "--model", "llama-2-7b", "--gpu", "H100-SXM", "--price-file",
                  imported, "--format", "json")
    assert serve["usd_per_replica_hour"] == pytest.approx(own)
    train = _json(capsys, "train", "--model", "llama-2-7b", "--tokens", "1e9", "--gpu",
                  "H100-SXM", "--n-gpus", "8", "--price-file", imported, "--format", "json")
    hours = train["summary"]["central"]["gpu_hours"]
    assert train["summary"]["central"]["cost_usd"] == pytest.approx(hours * own)
    bob = _json(capsys, "buy-or-build", "--api", "gpt-5-mini", "--model", "llama-3-8b",
                "--requests-per-day", "1e6", "--price-file", imported, "--format", "json")
    default = _json(capsys, "buy-or-build", "--api", "gpt-5-mini", "--model", "llama-3-8b",
                    "--requests-per-day", "1e6", "--format", "json")
    # the imported table has no spot prices: the fleet runs on demand and says so
    assert bob["self_per_month"] != pytest.approx(default["self_per_month"])
    fleet = _json(capsys, "serve", "--model", "llama-3-8b", "--requests-per-day", "1e6",
                  "--price-file", imported, "--format", "json")
    assert fleet["usd_per_month"] == pytest.approx(bob["self_per_month"])
    est = ck.serving.estimate("llama-3-8b", price_path=imported)
    plan = ck.capacity.plan(ck.capacity.traffic_profile(1e6), est, price_path=imported)
    assert "no spot price" in plan.assumptions["spot"]
    assert plan.hourly["mix_spot"].sum() == 0


@pytest.mark.parametrize("command", ["gpus", "train", "serve", "buy-or-build"])
def test_the_price_options_are_the_same_everywhere(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = capsys.readouterr().out
    assert "--price-file" in text and "--gpu-file" in text
    if command != "gpus":
        assert "--cloud" in text and "--pricing" in text


def test_a_folder_as_a_price_file_is_refused(tmp_path, capsys):
    with pytest.raises(DataFileError, match="is a folder"):
        ck.gpu_prices(tmp_path)
    with pytest.raises(DataFileError, match="is a folder"):
        ck.gpu_hour_price("H100", price_path=tmp_path)
    code = cli.main(["serve", "--model", "bert-base", "--gpu", "L4", "--price-file",
                     str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "is a folder" in err and "Traceback" not in err


def test_a_fleet_beyond_any_plan_is_refused():
    with pytest.raises(ValueError, match="MAX_REPLICAS"):
        ck.capacity.plan(np.full(24, 1e15), replica_rps=25.0, request_latency_s=0.04,
                         usd_per_replica_hour=1.0)
    # the limit itself is still planned
    p = ck.capacity.plan(np.full(2, 25.0 * 0.7 * 1000), replica_rps=25.0,
                         request_latency_s=0.04, usd_per_replica_hour=1.0)
    assert p.hourly["replicas_needed"].max() == 1000


@pytest.mark.parametrize("args", [
    ["--model", "bert-base", "--gpu", "L4", "--requests-per-day", "1e30"],
    ["--model", "llama-2-7b", "--requests-per-day", "1e15"],
    ["--model", "llama-2-7b", "--requests-per-day", "1e300"],
])
def test_absurd_traffic_is_refused_at_once(args):
    """Ran past 60 s (1e30) and hung in the spot cover (1e15): a hang fails here."""
    r = subprocess.run([sys.executable, "-m", "costkit", "serve", *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "MAX_REPLICAS" in r.stderr and "Traceback" not in r.stderr


def test_epoch_times_beyond_pandas_are_refused():
    series = {"metric": {"replica": "r1"}, "values": [[1764547200, "0.5"], [1e20, "0.7"]]}
    payload = {"status": "success", "data": {"resultType": "matrix", "result": [series]}}
    with pytest.raises(ValueError, match=r"series 0, sample 1: 1e\+20 s since 1970"):
        ck.telemetry.read_prometheus({"gpu_utilization": payload})
    df = pd.DataFrame({"timestamp": [1.7e12, 1e20], "replica_id": ["a", "a"],
                       "gpu_utilization": [0.5, 0.5], "requests": [1, 1]})
    with pytest.raises(DataFileError, match=r"row 1, column 'timestamp': 1e\+20 ms since 1970"):
        ck.telemetry.read_telemetry(df, epoch_unit="ms")
    # the edge of the range still reads
    ok = df.assign(timestamp=[1.7e12, 9.2e12])  # 2261
    assert len(ck.telemetry.read_telemetry(ok, epoch_unit="ms").frame) == 2


def test_the_report_json_recommends_what_the_decision_deploys(capsys):
    """best_option was the central-NPV winner (the rewriter), which the decision itself
    rejects: a program reading the JSON got the dominated option."""
    ecommerce = str(ROOT / "examples" / "ecommerce.yaml")
    out = _json(capsys, "report", ecommerce, "--format", "json", "--draws", "2000",
                "--no-progress")
    assert out["recommended"] == "BERT re-ranker"
    assert out["decision"].startswith(f"Deploy {out['recommended']}")
    assert out["best_central_npv_option"] == "LLM rewriter + re-ranker"
    assert "best_option" not in out
    mc = out["monte_carlo"]
    # the recommended option dominates in mean and 5th-percentile NPV
    assert mc["BERT re-ranker"]["mean_npv_usd"] > mc["LLM rewriter + re-ranker"]["mean_npv_usd"]


def test_train_says_how_it_chose_the_gpus_and_what_memory_counts(capsys):
    assert cli.main(["train", "--model", "llama-2-7b", "--tokens", "1e8"]) == 0
    out = capsys.readouterr().out
    assert "GPUs: 8 (one 8-GPU node, or as many nodes as memory needs)" in out
    assert "activations not counted (pass seq_len" in out
    assert "wall clock (hours)" in out and "wall clock (days)" not in out
    row = next(line for line in out.splitlines() if "wall clock" in line)
    assert "0.0" not in row.split()[-3:]
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "one 8-GPU node, or as many whole nodes as memory needs" in " ".join(
        capsys.readouterr().out.split())
    assert cli.main(["train", "--model", "llama-2-7b", "--tokens", "1e12", "--seq-len",
                     "4096"]) == 0
    out = capsys.readouterr().out
    assert "wall clock (days)" in out and "activations 2·s·b·h" in out


def test_a_lora_estimate_says_its_mfu_comes_from_pre_training():
    est = ck.training.estimate(model="llama-2-7b", tokens=1e8, method="lora")
    assert "pre-training runs only" in est.assumptions["mfu_warning"]
    assert "WARNING: the MFU model is fitted on published pre-training" in repr(est)
    assert "mfu_warning" not in ck.training.estimate(model="llama-2-7b", tokens=1e8).assumptions
    assert "mfu_warning" not in ck.training.estimate(model="llama-2-7b", tokens=1e8,
                                                     method="lora", mfu=0.2).assumptions


def test_exchange_rates_show_their_age(monkeypatch):
    monkeypatch.setenv("COSTKIT_TODAY", "2026-12-07")
    r = ck.fx_rate("USD", "CNY")
    assert "314 days old" in r.warning and "WARNING" in str(r)   # the newest, of 2026-01-27
    assert ck.fx_rate("USD", "CNY", date="2025-01-15").warning is None  # 15 days: fresh
    stale = ck.fx_rate("USD", "CNY", date="2025-08-31")  # 187 days after the rate of 2025-02-25
    assert "187 days old" in stale.warning and "used for 2025-08-31" in stale.warning
    assert ck.fx_rate("CNY", "CNY").warning is None


def test_the_accuracy_chart_shows_where_each_line_crosses_zero():
    """05's chart ran to -500 k, so every crossing of 0 (its point) sat in one pixel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from costkit.optimization import baseline, compare, quantize

    b = baseline("bert-base")
    c = compare([b, quantize(b, "int8", accuracy_loss=0.003)], monthly_requests=3e8, gpu="L4",
                seq_len=128, batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8,
                gross_profit_per_1k_requests_usd=50.0)
    ax = ck.plots.accuracy_tradeoff(c, np.geomspace(1e-6, 1e-2, 81), log=True)
    assert ax.get_yscale() == "symlog"
    be = float(c.table.break_even_accuracy_loss.iloc[1]) * 100
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == pytest.approx(be)
    # the linear band around 0 holds the savings: the crossing is drawn at full height
    near_zero = float(c.net_benefit_at(1e-6).abs().to_numpy().max())
    assert near_zero > 500  # the saving, about 1.1 k USD a month
    assert ax.yaxis.get_transform().linthresh == pytest.approx(near_zero, rel=1e-6)
    plt.close("all")


_FRESH = """
import sys
import costkit as ck
print(ck.gpu_hour_price({args}), "pandas" in sys.modules, "numpy" in sys.modules)
"""


@pytest.mark.parametrize("args", [
    "'H100'", "'H100', stat='p25'",
    "'V100-32GB', cloud='Tencent Cloud', stat='min', currency='CNY'"])
def test_a_first_price_quote_imports_neither_pandas_nor_numpy(args):
    """A fresh process's first quote reads the tables with the csv module, as ck.gpu() does."""
    out = subprocess.run([sys.executable, "-c", _FRESH.format(args=args)], check=True,
                         capture_output=True, text=True, timeout=60).stdout.split()
    assert out[1:] == ["False", "False"], out
    assert float(out[0]) == pytest.approx(eval(f"ck.gpu_hour_price({args})"))


@pytest.mark.parametrize("stat", ["min", "p25", "median", "p75", "max", "mean"])
@pytest.mark.parametrize("currency", ["USD", "CNY", "EUR"])
def test_the_lean_quote_summarises_as_numpy_does(stat, currency):
    """The pure-Python summary of the offers equals numpy's over the frame gpu_prices() gives."""
    prices = ck.gpu_prices(currency=currency)
    col = f"on_demand_{currency.lower()}_per_gpu_hour"
    fn = {"min": np.min, "max": np.max, "mean": np.mean, "median": np.median,
          "p25": lambda v: np.percentile(v, 25), "p75": lambda v: np.percentile(v, 75)}[stat]
    checked = 0
    for gpu, rows in prices[prices[col].notna()].groupby("gpu"):
        quote = ck.price_quote(gpu, stat=stat, currency=currency)
        assert quote.price == pytest.approx(fn(rows[col].to_numpy()), rel=1e-12), gpu
        assert quote.n_offers == len(rows)
        checked += len(rows) > 3
    assert checked >= 5   # GPUs with enough offers that p25 / p75 interpolate


def test_percentile_kernel_by_hand():
    from costkit.catalog import _percentile, _summarise

    assert _percentile([4.0, 1.0, 3.0, 2.0], 0.25) == 1.75   # position 0.75 between 1 and 2
    assert _percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.75) == 4.0   # position 3: a value
    assert _percentile([7.0], 0.25) == 7.0
    assert _summarise("median", [1.0, 10.0, 2.0, 3.0]) == 2.5
    assert _summarise("mean", [1.0, 2.0, 6.0]) == 3.0


def test_the_price_table_checks_run_without_pandas(tmp_path):
    """The cross-column checks (a price or a note; spot not dearer) run on the typed columns."""
    from costkit._tables import read_rows
    from costkit.catalog import CURRENCY_PRICE_SCHEMA

    head = ("cloud,instance_type,gpu,gpu_count,region,currency,on_demand_per_hour,"
            "spot_per_hour,subscription_per_month,price_date,source,note\n")
    dearer = tmp_path / "dearer.csv"
    dearer.write_text(head + "X,a,H100,1,r,USD,2,1,,2026-11-01,s,\n"
                      "X,b,H100,1,r,USD,2,3,,2026-11-01,s,\n")
    with pytest.raises(DataFileError, match=r"row 2 \(line 3\), column 'spot_per_hour'"):
        read_rows(dearer, CURRENCY_PRICE_SCHEMA)
    unpriced = tmp_path / "unpriced.csv"
    unpriced.write_text(head + "X,a,H100,1,r,USD,,,,2026-11-01,s,sold out\n"
                        "X,b,H100,1,r,USD,,,,2026-11-01,s,\n")
    with pytest.raises(DataFileError, match=r"row 2 \(line 3\), column 'on_demand_per_hour'"):
        read_rows(unpriced, CURRENCY_PRICE_SCHEMA)
    with pytest.raises(DataFileError, match="row 2"):
        ck.gpu_hour_price("H100", price_path=unpriced)


def test_every_converted_price_uses_a_rate_of_its_year():
    """The bundled rates keep up with the bundled prices: no offer is converted at a rate more
    than a year older than its price_date (before 2026-01-27's parity came, 700 days)."""
    p = ck.gpu_prices()
    converted = p[p.currency != "USD"]
    assert len(converted) >= 10
    age = (pd.to_datetime(converted.price_date) - pd.to_datetime(converted.fx_date)).dt.days
    assert age.max() <= 366, converted.loc[age.idxmax(), ["cloud", "price_date", "fx_date"]]
