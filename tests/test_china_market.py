"""The origin's market (issue 22): China-market accelerators, prices published in CNY, CNY as a
display currency, and grid intensity by region. Figures worked by hand from the data rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import costkit as ck
from costkit import cli, fx, grid, report, serving, training
from costkit.ledger import Ledger
from costkit.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "examples" / "small.yaml")
USD_CNY_2024_12_31 = 7.1884  # CFETS central parity, 100 USD = 718.84 CNY (data/fx.csv)
USD_CNY_2026_01_27 = 6.9858  # the newest in data/fx.csv: 100 USD = 698.58 CNY


# --------------------------------------------------------------------------- accelerators

def test_h20_decode_time_per_token_by_hand():
    # H20 datasheet row: 4.0 TB/s, 148 dense BF16/FP16 TFLOPS. Llama-2-7B in fp16, batch 1,
    # 512 prompt tokens, 128 out. Decode reads every weight but the input embedding table
    # (6,738,415,616 - 32,000 x 4,096 = 6,607,343,616 params x 2 bytes) and the KV cache of
    # the mean context 512 + 128/2 = 576 tokens (2 x 32 layers x 32 heads x 128 x 2 bytes =
    # 524,288 bytes per token), at 80% of the peak bandwidth.
    weights = (6_738_415_616 - 32_000 * 4_096) * 2
    kv = 2 * 32 * 32 * 128 * 2 * 576
    t_mem = (weights + kv) / (0.8 * 4.0e12)
    t_cmp = (2 * 6_607_343_616 + 4 * 32 * 576 * 4_096) / (0.6 * 148e12)
    assert t_mem == pytest.approx(4.2240e-3, rel=1e-4) and t_cmp < t_mem / 20
    est = serving.estimate("llama-2-7b", gpu="H20", dtype="fp16", batch_size=1,
                           prompt_tokens=512, output_tokens=128, calibrated=False,
                           usd_per_gpu_hour=1.0)
    assert est.tpot_s == pytest.approx(t_mem, rel=1e-9)
    assert est.decode_bound == "memory"


def test_h20_is_quicker_to_decode_and_slower_to_prefill_than_the_h100():
    kw = dict(dtype="fp16", batch_size=1, prompt_tokens=512, output_tokens=128,
              calibrated=False, usd_per_gpu_hour=1.0)
    h20 = serving.estimate("llama-2-7b", gpu="H20", **kw)
    h100 = serving.estimate("llama-2-7b", gpu="H100-SXM", **kw)
    assert h20.tpot_s / h100.tpot_s == pytest.approx(3.35 / 4.0, rel=1e-9)  # bandwidth ratio
    assert h20.ttft_s / h100.ttft_s == pytest.approx(989.5 / 148.0, rel=1e-9)  # compute ratio


def test_china_market_rows_and_their_sources():
    g = ck.gpus().set_index("name")
    for name in ("H20", "L20", "A800-80GB", "A800-40GB-PCIe", "H800", "Ascend-910B"):
        assert name in g.index and g.loc[name, "source"].strip()
    a800, a100 = ck.gpu("A800"), ck.gpu("A100-80GB")
    assert a800.name == "A800-80GB" and a800.interconnect_gbps == 400
    assert a800.tflops == a100.tflops and a800.memory_gb == a100.memory_gb  # same GA100 part
    assert ck.gpu("H20").peak_tflops("fp8") == 296.0


def test_unpublished_figures_stay_empty_and_say_so():
    with pytest.raises(ValueError, match="L20 has no dense bf16 peak"):
        ck.gpu("L20").peak_tflops("bf16")
    with pytest.raises(ValueError, match="Ascend-910B has no dense fp16 peak.*unpublished"):
        serving.estimate("llama-2-7b", gpu="Ascend-910B", usd_per_gpu_hour=1.0)
    row = ck.gpus().set_index("name").loc["Ascend-910B"]
    numeric = ["memory_gb", "memory_bandwidth_tbps", "bf16_tflops", "fp16_tflops", "tdp_w"]
    assert row[numeric].isna().all() and "left empty" in row["source"]


# --------------------------------------------------------------------------- prices in CNY

def test_cny_price_is_stored_as_published_and_converted_at_the_dated_rate():
    p = ck.gpu_prices()
    t4 = p[(p.cloud == "Tencent Cloud") & (p.instance_type == "GN7.2XLARGE32")].iloc[0]
    assert (t4.currency, t4.on_demand_per_hour, t4.subscription_per_month) == ("CNY", 8.68, 2500)
    assert t4.price_date >= "2026-01-27"
    assert t4.fx_date == "2026-01-27"  # the newest rate on or before the price date
    assert t4.on_demand_usd_per_hour == pytest.approx(8.68 / USD_CNY_2026_01_27, rel=1e-12)
    # an older rate on request: 2024-07-24 parity 100 USD = 713.58 CNY
    old = ck.gpu_prices(fx_date="2024-08-01")
    row = old[(old.cloud == "Tencent Cloud") & (old.instance_type == "GN7.2XLARGE32")].iloc[0]
    assert row.fx_date == "2024-07-24"
    assert row.on_demand_usd_per_hour == pytest.approx(8.68 / 7.1358, rel=1e-12)
    q = ck.price_quote("T4", cloud="Tencent Cloud", stat="min")  # in USD, the rate shown
    assert q.usd_per_gpu_hour == pytest.approx(8.68 / USD_CNY_2026_01_27)
    assert "1 CNY = 0.143148 USD (rate of 2026-01-27)" in str(q)


def test_cny_display_of_usd_and_cny_offers():
    # a CNY offer shown in CNY is taken as published (no round trip through USD)
    assert ck.gpu_hour_price("V100-32GB", "Tencent Cloud", stat="min",
                             currency="CNY") == pytest.approx(18.02, abs=1e-12)
    # a USD offer shown in CNY: times the rate of its price date
    usd = ck.gpu_hour_price("H100", "Lambda")
    assert ck.gpu_hour_price("H100", "Lambda", currency="cny") == pytest.approx(
        usd * USD_CNY_2026_01_27, rel=1e-12)
    s = ck.gpu_hour_price(pd.Series(["T4", "H100", "T4"], index=list("abc")), currency="CNY")
    assert s.name == "cny_per_gpu_hour" and list(s.index) == list("abc") and s["a"] == s["c"]
    with pytest.raises(KeyError, match="unknown currency 'CNH'"):
        ck.gpu_hour_price("T4", currency="CNH")
    with pytest.raises(ValueError, match="ISO 4217"):
        ck.gpu_hour_price("T4", currency="yuan")
    with pytest.raises(KeyError, match="unknown currency 'CNH'"):
        ck.gpu_prices(currency="CNH")


def test_offers_without_a_price_are_listed_with_a_note_and_never_quoted():
    p = ck.gpu_prices()
    china = p[p.cloud.isin(["Alibaba Cloud", "Tencent Cloud", "Huawei Cloud", "Volcano Engine"])]
    assert set(china.cloud) == {"Alibaba Cloud", "Tencent Cloud", "Huawei Cloud",
                                "Volcano Engine"}
    assert (china.currency == "CNY").all() and china.source.str.len().gt(0).all()
    unpriced = china[china[["on_demand_per_hour", "spot_per_hour",
                            "subscription_per_month"]].isna().all(axis=1)]
    assert len(unpriced) >= 4 and unpriced.note.str.contains("not confirmed").all()
    with pytest.raises(LookupError, match="no on_demand price for L20"):
        ck.price_quote("L20")


def _price_file(tmp_path, rows, header="cloud,instance_type,gpu,gpu_count,region,currency,"
                "on_demand_per_hour,spot_per_hour,subscription_per_month,price_date,source,note"):
    f = tmp_path / "quotes.csv"
    f.write_text(header + "\n" + "\n".join(rows) + "\n")
    return f


def test_your_own_cny_quote(tmp_path):
    f = _price_file(tmp_path, [
        "Alibaba Cloud,ecs.gn7i-c8g1.2xlarge,A10,1,cn-hangzhou,CNY,10.5,,6000,2026-11-01,"
        "our account manager's quote of 2026-11-01,"])
    q = ck.price_quote("A10", path=f, currency="CNY")
    assert q.price == 10.5 and q.fx == ()
    assert ck.price_quote("A10", path=f).usd_per_gpu_hour == pytest.approx(
        10.5 / USD_CNY_2026_01_27)


@pytest.mark.parametrize("row, match", [
    ("X,y,T4,1,r,XYZ,1,,,2026-11-01,s,", "row 1 \\(line 2\\), column 'currency': unknown "
     "currency 'XYZ'"),
    ("X,y,T4,1,r,CNY,1,,,2001-01-01,s,", "column 'price_date': no exchange rates on or before "
     "2001-01-01"),
    ("X,y,T4,1,r,CNY,,,,2026-11-01,s,", "no price is given"),
    ("X,y,T4,1,r,CNY,1,2,,2026-11-01,s,", "spot price is above"),
])
def test_bad_cny_rows_name_file_row_and_column(tmp_path, row, match):
    with pytest.raises(ck.DataFileError, match=match):
        ck.gpu_prices(_price_file(tmp_path, [row]))


def test_a_usd_column_beside_a_currency_column_is_refused(tmp_path):
    f = _price_file(tmp_path, ["X,y,T4,1,r,CNY,1,,2026-11-01,s"],
                    header="cloud,instance_type,gpu,gpu_count,region,currency,"
                    "on_demand_usd_per_hour,spot_per_hour,price_date,source")
    with pytest.raises(ck.DataFileError, match="names USD but the table has a 'currency'"):
        ck.gpu_prices(f)


def test_a_usd_table_without_currency_is_still_read(tmp_path):
    f = _price_file(tmp_path, ["X,y,T4,1,r,0.5,0.2,2019-06-01,s"],
                    header="cloud,instance_type,gpu,gpu_count,region,on_demand_usd_per_hour,"
                    "spot_usd_per_hour,price_date,source")
    p = ck.gpu_prices(f).iloc[0]
    assert p.currency == "USD" and p.on_demand_usd_per_gpu_hour == 0.5 and p.fx_date == ""


# --------------------------------------------------------------------------- ledgers, reports

def test_a_ledger_in_cny_matches_the_usd_one_at_the_rate():
    cny_price = 8.68  # Tencent GN7.2XLARGE32, CNY per hour (one T4)
    usd = Ledger("USD", fx_date="2024-12-31")
    cny = Ledger("CNY", fx_date="2024-12-31")
    for led in (usd, cny):
        led.add("run", "re-ranker on T4", 720, "GPU-hour", cny_price, "CNY/GPU-hour")
        led.add("train", "fine-tune", 16, "GPU-hour", 2.5, "USD/GPU-hour")
    assert cny.total() == pytest.approx(usd.total() * USD_CNY_2024_12_31, rel=1e-12)
    assert cny.total() == pytest.approx(720 * 8.68 + 40 * USD_CNY_2024_12_31, rel=1e-12)
    assert "CNY" in str(cny) and "cost_cny" in cny.to_frame().columns


def test_an_estimate_table_in_cny():
    est = serving.estimate("llama-2-7b", gpu="H20", usd_per_gpu_hour=2.0, batch_size=[1, 8])
    t = fx.in_currency(est.to_frame(), "CNY", date="2024-12-31")
    assert "usd_per_million_tokens" not in t and "cny_per_million_tokens" in t
    np.testing.assert_allclose(t["cny_per_million_tokens"],
                               np.asarray(est.usd_per_million_tokens) * USD_CNY_2024_12_31)
    assert t.attrs["fx"] == "1 USD = 7.1884 CNY (rate of 2024-12-31)"


def test_scenario_currency_key_and_cli_currency(tmp_path, capsys):
    text = Path(SMALL).read_text()
    f = tmp_path / "cny.yaml"
    f.write_text(text + "\ncurrency: CNY\nfx_date: '2024-12-31'\n")
    res = Scenario.from_yaml(f).evaluate(draws=0)
    usd_csv = pd.read_csv(__import__("io").StringIO(report.csv_text(res, currency="USD")))
    cny_csv = pd.read_csv(__import__("io").StringIO(report.csv_text(res)))
    np.testing.assert_allclose(cny_csv["npv_cny"], usd_csv["npv_usd"] * USD_CNY_2024_12_31)
    page = report.html(res, generated="x")
    assert "Money in CNY, converted from USD at 1 USD = 7.1884 CNY (rate of 2024-12-31)" in page
    assert cli.main(["report", SMALL, "--format", "csv", "--currency", "CNY"]) == 0
    assert "npv_cny" in capsys.readouterr().out.splitlines()[0]
    assert cli.main(["report", SMALL, "--format", "csv", "--currency", "XYZ"]) == 2
    assert "unknown currency 'XYZ'" in capsys.readouterr().err
    f.write_text(text + "\ncurrency: yuan\n")
    with pytest.raises(ScenarioError, match="currency.*ISO 4217"):
        Scenario.from_yaml(f)
    f.write_text(text + "\ncurrency: CNH\n")
    with pytest.raises(ScenarioError, match="currency: unknown currency 'CNH'"):
        Scenario.from_yaml(f)
    f.write_text(text + "\ncurrency: CNY\nfx_date: '2001-01-01'\n")
    with pytest.raises(ScenarioError, match="fx_date: no exchange rates on or before 2001-01-01"):
        Scenario.from_yaml(f)


# --------------------------------------------------------------------------- grid intensity

def test_grid_intensity_by_name_with_sources():
    assert grid.grid_intensity("china").kg_co2e_per_kwh == 0.5366
    assert grid.grid_intensity("CN-East-2022").year == 2022
    assert grid.grid_intensity().name == "US-LLaMA-paper" == grid.DEFAULT_GRID
    t = grid.grid_intensities()
    assert t["source"].str.len().gt(20).all() and len(t) >= 10
    with pytest.raises(KeyError, match="unknown grid 'chinaa'.*CN-national-2022"):
        grid.grid_intensity("chinaa")


def test_training_names_its_grid_and_scales_with_it():
    kw = dict(model="llama-2-7b", tokens=1e11, gpu="H800", n_gpus=64, usd_per_gpu_hour=2.0)
    us = training.estimate(**kw)
    cn = training.estimate(**kw, grid="CN-national-2022")
    assert "grid US-LLaMA-paper" in us.assumptions["grid"] and "the default" in str(us)
    assert cn.assumptions["grid"] == "grid CN-national-2022, 2022"
    assert cn.co2_kg == pytest.approx(us.co2_kg * 0.5366 / 0.385, rel=1e-12)
    assert cn.energy_kwh == pytest.approx(us.energy_kwh, rel=1e-12)
    with pytest.raises(ValueError, match="kg_co2_per_kwh or grid, not both"):
        training.estimate(**kw, grid="china", kg_co2_per_kwh=0.5)


def test_cli_train_and_serve_in_cny(capsys):
    argv = ["train", "--model", "llama-2-7b", "--tokens", "1e9", "--gpu", "H20",
            "--usd-per-gpu-hour", "2", "--grid", "CN-East-2022", "--format", "csv"]
    assert cli.main(argv + ["--currency", "CNY", "--fx-date", "2024-12-31"]) == 0
    t = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), index_col=0)
    np.testing.assert_allclose(t.loc["cost_cny"], t.loc["cost_usd"] * USD_CNY_2024_12_31)
    assert t.loc["cny_per_gpu_hour", "central"] == pytest.approx(2 * USD_CNY_2024_12_31)
    expected = training.estimate(model="llama-2-7b", tokens=1e9, gpu="H20", usd_per_gpu_hour=2,
                                 grid="CN-East-2022").co2_kg
    assert t.loc["co2_kg", "central"] == pytest.approx(float(expected), rel=1e-9)
    assert cli.main(["serve", "--model", "bert-base", "--gpu", "T4", "--usd-per-gpu-hour", "1",
                     "--currency", "CNY", "--format", "csv"]) == 0
    s = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), index_col=0)["value"]
    assert float(s["cny_per_1k_queries"]) == pytest.approx(
        float(s["usd_per_1k_queries"]) * ck.fx_rate("USD", "CNY").rate)
    assert cli.main(argv + ["--currency", "CNY", "--fx-date", "2001-01-01"]) == 2
    assert "no exchange rates on or before 2001-01-01" in capsys.readouterr().err


def test_report_json_in_cny_is_strict_json():
    import json

    res = Scenario.from_yaml(ROOT / "examples" / "ecommerce.yaml").evaluate(draws=0)
    text = report.json_text(res, currency="CNY")

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    d = json.loads(text, parse_constant=refuse)
    assert d["money"]["currency"] == "CNY" and d["money"]["fx_date"] == "2026-01-27"
    usd = res.table["npv_usd"].to_numpy()
    np.testing.assert_allclose([r["npv_cny"] for r in d["comparison"]], usd * USD_CNY_2026_01_27)
