"""costkit prices import: published price lists -> a price table costkit reads, with its date.

The samples in examples/price_lists/ were written from the formats' public documentation
(Azure Retail Prices API, AWS Price List bulk offer files, SkyPilot's catalog); their prices are
examples of the format, not a price list.
"""

import copy
import json
import shutil
from pathlib import Path

import pytest
from _hyp import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costkit as ck
from costkit import cli
from costkit._tables import DataFileError
from costkit.catalog import gpu_prices, price_quote
from costkit.price_lists import (
    PriceImport,
    detect_format,
    import_price_lists,
    instance_gpus,
    read_aws_price_list,
    read_azure_retail_prices,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "examples" / "price_lists"
AWS = SAMPLES / "aws_ec2_us-east-1.json"
AZURE = SAMPLES / "azure_retail_prices_page.json"
SKYPILOT = SAMPLES / "lambda" / "vms.csv"
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("COSTKIT_TODAY", "2026-11-26")


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_formats_are_read_from_the_content():
    assert [detect_format(p) for p in (AWS, AZURE, SKYPILOT)] == ["aws", "azure", "skypilot"]


def test_instance_table_has_a_source_per_row_and_only_catalog_gpus():
    t = instance_gpus()
    assert t["source"].str.strip().ne("").all()
    for g in t["gpu"].unique():
        ck.gpu(g)


# --------------------------------------------------------------------------- each format
@pytest.mark.parametrize("path, gpu, want", [
    # p5.48xlarge 55.04 USD/h for 8 GPUs: 6.88 per GPU-hour
    (AWS, "H100-SXM", 55.04 / 8),
    # g5: 1.006 (1 GPU) and 5.672 / 4 = 1.418; the median of two is their mean
    (AWS, "A10G", (1.006 + 5.672 / 4) / 2),
    # ND96isr_H100_v5 98.32 / 8 = 12.29; the 2023 price of the NC24ads (3.4) is superseded
    (AZURE, "H100-SXM", 98.32 / 8),
    (AZURE, "A100-80GB-PCIe", 3.673),
    # SkyPilot rows for Lambda: 3.29 (1 GPU) and 23.92 / 8 = 2.99
    (SKYPILOT, "H100-SXM", (3.29 + 23.92 / 8) / 2),
])
def test_each_sample_gives_a_catalog_gpu_hour_price_reads(tmp_path, path, gpu, want):
    imp = import_price_lists([path], price_date="2026-11-20")
    out = tmp_path / "prices.csv"
    imp.to_csv(out)
    assert ck.gpu_hour_price(gpu, price_path=out) == pytest.approx(want, rel=1e-12)
    assert ck.gpu_hour_price(gpu, path=out) == pytest.approx(want, rel=1e-12)


def test_azure_spot_is_its_own_column_and_windows_reserved_low_priority_are_left_out():
    df = read_azure_retail_prices(AZURE, price_date="2026-11-20")
    a100 = df.set_index("instance_type").loc["Standard_NC24ads_A100_v4"]
    assert a100["on_demand_usd_per_hour"] == 3.673 and a100["spot_usd_per_hour"] == 0.746721
    dropped = df.attrs["dropped"]
    assert dropped["Windows licence included"] == 1
    assert dropped["not a pay-as-you-go price (type Reservation)"] == 1
    assert dropped["low-priority price (retired; use spot)"] == 1
    assert dropped["an older price of the same VM size and region"] == 1
    # every item is a price in the table or a count in the report
    items = json.loads(AZURE.read_text())["Items"]
    prices = int(df[["on_demand_usd_per_hour", "spot_usd_per_hour"]].notna().to_numpy().sum())
    assert prices + sum(dropped.values()) == len(items)


def test_aws_keeps_linux_shared_on_demand_and_counts_gpus_from_the_file():
    df = read_aws_price_list(AWS)
    assert set(df["instance_type"]) == {"p5.48xlarge", "g5.xlarge", "g5.12xlarge", "inf2.8xlarge"}
    counts = dict(zip(df["instance_type"], df["gpu_count"], strict=True))
    assert counts == {"p5.48xlarge": 8, "g5.xlarge": 1, "g5.12xlarge": 4, "inf2.8xlarge": 1}
    assert df["spot_usd_per_hour"].isna().all()  # the bulk file has no spot prices
    assert (df["price_date"] == "2024-11-01").all()  # its publicationDate
    products = json.loads(AWS.read_text())["products"]
    assert len(df) + sum(df.attrs["dropped"].values()) == len(products)


def test_price_date_defaults_are_stated_in_the_source(tmp_path):
    copy_ = tmp_path / "page.json"
    shutil.copy(AZURE, copy_)
    df = read_azure_retail_prices(copy_)
    assert "modification date" in df["source"].iloc[0]
    assert "publicationDate" in read_aws_price_list(AWS)["source"].iloc[0]


def test_round_trip_through_the_written_table(tmp_path):
    imp = import_price_lists([AWS, AZURE, SKYPILOT], price_date="2026-11-20", cloud="Lambda")
    out = tmp_path / "prices.csv"
    imp.to_csv(out)
    back = gpu_prices(out)
    assert len(back) == imp.n_rows == 10
    assert set(back["cloud"]) == {"AWS", "Azure", "Lambda"}
    cols = ["on_demand_usd_per_hour", "spot_usd_per_hour"]
    got, want = back[cols].fillna(-1).to_numpy(), imp.frame[cols].fillna(-1).to_numpy()
    assert got.tolist() == want.tolist()


# --------------------------------------------------------------------------- age
def test_an_old_price_list_warns_in_a_printed_estimate(tmp_path, today):
    imp = import_price_lists([AWS])  # publicationDate 2024-11-01: 755 days before 2026-11-26
    out = tmp_path / "aws.csv"
    imp.to_csv(out)
    q = price_quote("H100-SXM", price_path=out)
    assert q.age_days == 755 and "755 days old" in q.warning
    est = ck.training.estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", price_path=out)
    text = str(est)
    assert "WARNING: prices up to 755 days old (the oldest dated 2024-11-01" in text
    assert est.assumptions["price_age_days"] == 755 and "price_warning" in est.assumptions


def test_a_fresh_price_list_has_no_warning(tmp_path, today):
    imp = import_price_lists([AWS], price_date="2026-11-20")
    out = tmp_path / "aws.csv"
    imp.to_csv(out)
    est = ck.training.estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", price_path=out)
    assert "WARNING" not in str(est) and est.assumptions["price_age_days"] == 6


# --------------------------------------------------------------------------- refusals
def test_path_and_price_path_are_one_argument(tmp_path):
    with pytest.raises(ValueError, match="give the price table once"):
        ck.gpu_hour_price("H100", path=tmp_path / "a.csv", price_path=tmp_path / "b.csv")


def _azure(**item_changes):
    doc = json.loads(AZURE.read_text())
    doc["Items"][0].update(item_changes)
    return doc


def _aws_change(fn):
    doc = json.loads(AWS.read_text())
    fn(doc)
    return doc


@pytest.mark.parametrize("doc, match", [
    (_azure(currencyCode="EUR"), r"Items\[0\], currencyCode: 'EUR'.*USD"),
    (_azure(retailPrice="nan"), r"Items\[0\], retailPrice: 'nan' is not a finite price"),
    (_azure(retailPrice=-3), r"Items\[0\], retailPrice: -3 is not a finite price"),
    (_azure(retailPrice="cheap"), r"retailPrice: 'cheap' is not a number"),
    (_azure(armRegionName="=HYPERLINK(\"http://x\")"), r"armRegionName: .* not a plain name"),
    (_azure(armRegionName="east\x1b[2Jus"), r"armRegionName: .* not a plain name"),
    ({"Items": "none"}, r"JSON object with an 'Items' list"),
    ({"Items": [1]}, r"Items\[0\]: an item is a JSON object"),
])
def test_azure_refusals_name_the_file_item_and_field(tmp_path, doc, match):
    p = _write(tmp_path, "page.json", doc)
    with pytest.raises(DataFileError, match=match) as exc:
        import_price_lists([p])
    assert str(p) in str(exc.value)


def _cny(doc):
    dims = doc["terms"]["OnDemand"]["P5SKU000000000001"]
    for term in dims.values():
        for dim in term["priceDimensions"].values():
            dim["pricePerUnit"] = {"CNY": "300.0"}


@pytest.mark.parametrize("change, match", [
    (_cny, r"priced in CNY; costkit's price table is in USD"),
    (lambda d: d.update(offerCode="AmazonS3"), r"offerCode 'AmazonEC2' \(this one: 'AmazonS3'\)"),
    (lambda d: d["terms"].pop("OnDemand"), r"'products' and 'terms.OnDemand'"),
    (lambda d: d["products"]["G5SKU000000000001"]["attributes"].update(gpu="lots"),
     r"attributes.gpu: 'lots' is not a number"),
    (lambda d: d.update(publicationDate="yesterday"), r"publicationDate must be a date"),
])
def test_aws_refusals(tmp_path, change, match):
    p = _write(tmp_path, "aws.json", _aws_change(change))
    with pytest.raises((DataFileError, ValueError), match=match):
        import_price_lists([p])


def test_two_files_pricing_the_same_instance_are_refused(tmp_path):
    p = tmp_path / "copy.json"
    shutil.copy(AWS, p)
    with pytest.raises(DataFileError, match="both price AWS .* in us-east-1"):
        import_price_lists([AWS, p])


def test_size_is_bounded_before_reading(tmp_path):
    with pytest.raises(DataFileError, match="bytes is more than the 100"):
        import_price_lists([AWS], max_bytes=100)


def test_unknown_files_and_empty_results(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="not a price list costkit reads"):
        import_price_lists([p])
    with pytest.raises(DataFileError, match="no GPU instance price could be read"):
        import_price_lists([_write(tmp_path, "empty.json", {"Items": []})])
    with pytest.raises(ValueError, match="at least one"):
        import_price_lists([])


def test_own_instance_table_is_validated(tmp_path):
    t = tmp_path / "inst.csv"
    t.write_text("cloud,instance,gpu,gpu_count,source\nAzure,Standard_X,H100-SXM,,mine\n")
    with pytest.raises(DataFileError, match=r"row 1 \(line 2\), column 'gpu_count'"):
        import_price_lists([AZURE], instances_path=t)
    t.write_text("cloud,instance,gpu,gpu_count,source\nAWS,p5,H100-SXM,,mine\n")
    imp = import_price_lists([AWS], instances_path=t)
    assert set(imp.frame["instance_type"]) == {"p5.48xlarge"}


# --------------------------------------------------------------------------- command line
def test_cli_writes_the_table_and_reports_what_was_left_out(tmp_path, capsys):
    out = tmp_path / "mine.csv"
    assert cli.main(["prices", "import", str(AWS), str(AZURE), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}: 7 price rows (AWS, Azure)" in text
    assert "left out 1: Windows licence included" in text
    assert len(gpu_prices(out)) == 7
    assert cli.main(["prices", "import", str(AWS), "--out", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 4
    assert report["files"][0]["left_out"]["a capacity-reservation line"] == 1


def test_cli_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    p = _write(tmp_path, "page.json", _azure(currencyCode="CNY"))
    assert cli.main(["prices", "import", str(p), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "currencyCode: 'CNY'" in err
    assert not (tmp_path / "o.csv").exists()


# --------------------------------------------------------------------------- adversarial
ITEM_FIELDS = {
    "serviceName": st.sampled_from(["Virtual Machines", "Storage", "", None]),
    "type": st.sampled_from(["Consumption", "Reservation", "DevTestConsumption", None]),
    "productName": st.sampled_from(["Virtual Machines NDisrH100v5 Series", "X Windows", ""]),
    "unitOfMeasure": st.sampled_from(["1 Hour", "1/Month", "10 Hours"]),
    "skuName": st.sampled_from(["ND96isr H100 v5", "ND96isr H100 v5 Spot", "x Low Priority"]),
    "armSkuName": st.sampled_from(["Standard_ND96isr_H100_v5", "Standard_NC24ads_A100_v4",
                                   "Standard_D2s_v5", "=cmd|' /C calc'!A0", "", 7]),
    "armRegionName": st.sampled_from(["eastus", "westeurope", "", "\x1b]8;;x\x07", None]),
    "retailPrice": st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                             st.sampled_from(["1.5", "nan", "", None, "1e400", 0])),
    "effectiveStartDate": st.sampled_from(["2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z", ""]),
}


@settings(max_examples=examples(60), **SETTINGS)
@given(st.lists(st.fixed_dictionaries(ITEM_FIELDS), max_size=8))
def test_generated_azure_pages_are_refused_or_fully_accounted(tmp_path, items):
    p = _write(tmp_path, "gen.json", {"Items": items})
    try:
        df = read_azure_retail_prices(p, price_date="2026-11-20")
    except DataFileError:
        return
    money = df[["on_demand_usd_per_hour", "spot_usd_per_hour"]].to_numpy(dtype=float)
    kept = money[~(money != money)]
    assert (kept > 0).all() and (kept < float("inf")).all()
    assert len(kept) + sum(df.attrs["dropped"].values()) == len(items)
    if len(df):
        assert isinstance(import_price_lists([p], price_date="2026-11-20"), PriceImport)


@settings(max_examples=examples(40), **SETTINGS)
@given(st.dictionaries(st.sampled_from(["P5SKU000000000001", "G5SKU000000000001",
                                        "INF2SKU0000000008", "M7ISKU00000000001"]),
                       st.sampled_from(["gpu", "instanceType", "operatingSystem", "regionCode"]),
                       max_size=4),
       st.sampled_from(["8", "0", "-1", "x", "", "1e400", "=1+1"]))
def test_generated_aws_damage_is_refused_or_fully_accounted(tmp_path, damage, value):
    doc = json.loads(AWS.read_text())
    for sku, attr in damage.items():
        doc["products"][sku]["attributes"][attr] = value
    p = _write(tmp_path, "gen.json", doc)
    try:
        df = read_aws_price_list(p)
    except DataFileError:
        return
    assert (df["on_demand_usd_per_hour"] > 0).all() and (df["gpu_count"] > 0).all()
    assert len(df) + sum(df.attrs["dropped"].values()) == len(doc["products"])
    assert copy.deepcopy(df.attrs["dropped"])
