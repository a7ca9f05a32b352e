"""The data catalog: every row loads, names match forgivingly, prices come with provenance."""

from pathlib import Path

import numpy
import pandas
import pytest
from numpy.testing import assert_allclose

import costkit as ck
from costkit.catalog import _load_gpu_records


def test_every_gpu_row_loads_as_a_record():
    table = ck.gpus()
    assert len(table) >= 14
    for name in table["name"]:
        g = ck.gpu(name)
        assert g.name == name
        if g.memory_gb is None or g.memory_bandwidth_tbps is None:  # unpublished, never guessed
            assert "left empty" in g.source
            with pytest.raises(ValueError, match="no published memory"):
                _ = g.memory_bytes if g.memory_gb is None else g.memory_bandwidth_bytes_per_s
        else:
            assert g.memory_gb > 0 and g.memory_bandwidth_tbps > 0
        assert g.source


def test_required_accelerators_are_present():
    for name in ["T4", "V100", "A10G", "L4", "L40S", "A100-40GB", "A100-80GB", "H100-SXM",
                 "H100-PCIe", "H200", "B200", "MI300X", "TPU v5e", "Gaudi 2"]:
        ck.gpu(name)


def test_every_model_row_loads_as_a_record():
    for name in ck.models()["name"]:
        m = ck.model(name)
        assert m.params > 0 and m.source


@pytest.mark.parametrize(
    "alias, expected",
    [
        ("h100", "H100-SXM"),
        ("H100 SXM5 80GB", "H100-SXM"),
        ("NVIDIA-H100-SXM", "H100-SXM"),
        ("h100_pcie", "H100-PCIe"),
        ("H100 PCIe 80GB", "H100-PCIe"),
        ("a100-sxm4-80gb", "A100-80GB"),
        ("A100 40GB", "A100-40GB"),
        ("tesla t4", "T4"),
        ("l40s", "L40S"),
        ("TPU v5e", "TPU-v5e"),
        ("gaudi 2", "Gaudi2"),
        ("Instinct MI300X", "MI300X"),
    ],
)
def test_gpu_names_match_forgivingly(alias, expected):
    assert ck.gpu(alias).name == expected


@pytest.mark.parametrize("alias, expected", [("llama-2-7b", "Llama-2-7B"),
                                             ("bert-base-uncased", "BERT-base"),
                                             ("meta-llama/Meta-Llama-3-70B", "Llama-3-70B"),
                                             ("DLRM", "DLRM-CriteoTB")])
def test_model_names_match_forgivingly(alias, expected):
    assert ck.model(alias).name == expected


def test_unknown_gpu_lists_closest_names():
    with pytest.raises(KeyError) as info:
        ck.gpu("H10O-SXM")
    msg = str(info.value)
    assert "unknown GPU 'H10O-SXM'" in msg and "H100-SXM" in msg


def test_unknown_gpu_with_a_known_prefix_is_not_silently_matched():
    # "T4G" (a Graviton instance's GPU) must not be read as T4.
    with pytest.raises(ck.UnknownNameError, match="T4"):
        ck.gpu("T4G")


def test_ambiguous_gpu_name_names_the_candidates():
    with pytest.raises(KeyError, match="A100-40GB, A100-80GB, A100-80GB-PCIe"):
        ck.gpu("A100")


def test_unknown_model_suggests():
    with pytest.raises(KeyError, match="Llama-2-7B"):
        ck.model("llama-2-7")


@pytest.mark.parametrize("bad, error", [("", ValueError), ("  ", ValueError), (None, TypeError),
                                        (3, TypeError)])
def test_gpu_name_must_be_text(bad, error):
    with pytest.raises(error, match="must not be empty|must be a string"):
        ck.gpu(bad)


def test_peak_tflops_is_dense():
    # H100 SXM datasheet prints 1,979 TFLOPS bf16 *with sparsity*; dense is half.
    h100 = ck.gpu("H100-SXM")
    assert h100.peak_tflops("bf16") == 1979 / 2
    assert h100.peak_tflops("bfloat16") == h100.peak_tflops("bf16")
    assert h100.peak_tflops("fp8") == 1979
    assert h100.memory_bandwidth_bytes_per_s == 3.35e12
    # fp8 is at most twice bf16 (up to vendor rounding): a ratio near 4 would betray a
    # sparse figure.
    t = ck.gpus().dropna(subset=["fp8_tflops", "bf16_tflops"])
    ratio = t["fp8_tflops"] / t["bf16_tflops"]
    assert ((ratio >= 1) & (ratio <= 2.05)).all()


def test_unsupported_dtype_raises():
    with pytest.raises(ValueError, match="no dense fp8 peak"):
        ck.gpu("A100-80GB").peak_tflops("fp8")
    with pytest.raises(ValueError, match="unknown dtype"):
        ck.gpu("H100").peak_tflops("fp7")


def test_llama_parameter_counts_follow_from_their_shapes():
    # decoder: untied embedding + LM head, per layer q,o (d*d each), k,v (d * kv*hd each),
    # gated MLP 3*d*d_ff, two RMSNorm weights; one final norm.
    for name in ["Llama-2-7B", "Llama-2-13B", "Llama-2-70B", "Llama-3-8B", "Llama-3-70B",
                 "Llama-3.1-405B"]:
        m = ck.model(name)
        hd = m.d_model // m.n_heads
        per_layer = (2 * m.d_model**2 + 2 * m.d_model * m.n_kv_heads * hd
                     + 3 * m.d_model * m.d_ff + 2 * m.d_model)
        total = 2 * m.vocab_size * m.d_model + m.n_layers * per_layer + m.d_model
        assert total == m.params, name


def test_llama_2_7b_by_hand():
    # 2*32000*4096 + 32*(4*4096^2 + 3*4096*11008 + 2*4096) + 4096 = 6,738,415,616
    assert ck.model("llama-2-7b").params == 6_738_415_616


def test_dlrm_parameter_count_by_hand():
    rows = [39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346,
            10, 2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108,
            36]

    def mlp(widths):
        return sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))

    interactions = 27 * 26 // 2  # dot products between 26 embeddings + the bottom MLP output
    total = 128 * sum(rows) + mlp([13, 512, 256, 128]) + mlp([128 + interactions, 1024, 1024,
                                                               512, 256, 1])
    assert ck.model("dlrm").params == total


def test_price_of_one_offer_by_hand():
    # AWS p5.48xlarge: 8 x H100-SXM for 55.04 USD/h in us-east-1 -> 6.88 USD per GPU-hour.
    p = ck.gpu_prices()
    row = p[(p.cloud == "AWS") & (p.instance_type == "p5.48xlarge")].iloc[0]
    assert row.gpu == "H100-SXM" and row.gpu_count == 8
    assert_allclose(row.on_demand_usd_per_gpu_hour, row.on_demand_usd_per_hour / 8)


def test_price_quote_statistics_follow_the_offers():
    p = ck.gpu_prices()
    h100 = p.loc[p.gpu == "H100-SXM", "on_demand_usd_per_gpu_hour"].dropna()
    assert ck.gpu_hour_price("h100") == pytest.approx(numpy.median(h100))
    assert ck.gpu_hour_price("h100", stat="min") == pytest.approx(h100.min())
    assert ck.gpu_hour_price("h100", stat="max") == pytest.approx(h100.max())
    q = ck.price_quote("h100", stat="min")
    assert q.n_offers == len(h100) and q.offer and q.price_dates[0] <= q.price_dates[1]
    spot = ck.price_quote("H100", pricing="spot", stat="min")
    assert spot.usd_per_gpu_hour < ck.gpu_hour_price("H100", stat="min")


def test_price_for_one_cloud():
    q = ck.price_quote("H100", cloud="aws")
    assert q.clouds == ("AWS",) and q.cloud == "AWS"
    with pytest.raises(KeyError, match="Lambda"):
        ck.price_quote("H100", cloud="Lamda")


def test_price_errors():
    with pytest.raises(ValueError, match="stat"):
        ck.gpu_hour_price("H100", stat="p90")
    with pytest.raises(ValueError, match="pricing"):
        ck.gpu_hour_price("H100", pricing="reserved")
    with pytest.raises(LookupError, match="no on_demand price for Gaudi2"):
        ck.gpu_hour_price("Gaudi2")


def test_gpu_hour_price_vector_equals_scalars():
    names = ["H100", "T4", "L4", "H100"]
    vec = ck.gpu_hour_price(names)
    assert_allclose(vec, [ck.gpu_hour_price(n) for n in names])
    s = pandas.Series(names, index=list("abcd"))
    out = ck.gpu_hour_price(s)
    assert list(out.index) == list("abcd")


def test_price_summary_matches_quotes():
    s = ck.price_summary()
    row = s[s.gpu == "A100-80GB"].iloc[0]
    assert row.median_usd_per_gpu_hour == pytest.approx(ck.gpu_hour_price("A100-80GB"))
    assert s.median_usd_per_gpu_hour.is_monotonic_increasing


def test_catalog_lookups_are_cached():
    ck.gpu("H100")
    before = _load_gpu_records.cache_info()
    for _ in range(5):
        ck.gpu("H100")
    after = _load_gpu_records.cache_info()
    assert after.hits >= before.hits + 5 and after.misses == before.misses


def test_returned_tables_are_copies():
    t = ck.gpus()
    t.loc[:, "memory_gb"] = 0
    assert ck.gpu("H100").memory_gb == 80


def test_user_price_file(tmp_path):
    f = tmp_path / "ours.csv"
    f.write_text(
        "cloud,instance_type,gpu,gpu_count,region,on_demand_usd_per_hour,spot_usd_per_hour,"
        "price_date,source\n"
        "Ours,8xh100,H100 SXM5 80GB,8,eu,16.00,8.00,2026-10-01,contract 117\n"
        "Ours,1xl4,l4,1,eu,0.50,,2026-10-01,contract 117\n"
    )
    assert ck.gpu_hour_price("H100", path=f) == 2.0
    assert ck.gpu_hour_price("H100", path=f, pricing="spot") == 1.0
    assert ck.price_quote("l4", path=f).sources == ("contract 117",)


def test_user_price_file_with_unknown_gpu(tmp_path):
    f = tmp_path / "ours.csv"
    f.write_text(
        "cloud,instance_type,gpu,gpu_count,region,on_demand_usd_per_hour,spot_usd_per_hour,"
        "price_date,source\nOurs,x,H1000,1,eu,1,,2026-10-01,c\n"
    )
    with pytest.raises(ck.DataFileError, match=r"ours.csv, row 1 \(line 2\), column 'gpu'"):
        ck.gpu_prices(f)


SKYPILOT = """\
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone
p5.48xlarge,H100,8,192,2048,,55.04,20.00,us-east-1,us-east-1a
p5.48xlarge,H100,8,192,2048,,55.04,18.50,us-east-1,us-east-1b
g6.xlarge,L4,1,4,16,,0.8048,0.3,us-east-1,us-east-1a
p4d.24xlarge,A100,8,96,1152,,21.96,,us-west-2,us-west-2a
m5.large,,,2,8,,0.096,0.03,us-east-1,us-east-1a
g4ad.xlarge,Radeon Pro V520,1,4,16,,0.379,,us-east-1,us-east-1a
"""


def test_skypilot_catalog_is_read(tmp_path):
    d = tmp_path / "aws"
    d.mkdir()
    f = d / "vms.csv"
    f.write_text(SKYPILOT)
    df = ck.read_skypilot_catalog(f, price_date="2026-09-01")
    assert set(df.cloud) == {"aws"}
    p5 = df[df.instance_type == "p5.48xlarge"].iloc[0]
    assert p5.gpu == "H100-SXM" and p5.spot_usd_per_hour == 18.5  # lowest over the zones
    assert df[df.instance_type == "p4d.24xlarge"].gpu.item() == "A100-40GB"
    assert len(df) == 3
    assert df.attrs["dropped"] == {
        "no accelerator or no instance type": 1,
        "accelerator not in the GPU catalog (Radeon Pro V520)": 1,
        "another zone of one instance type and region (the lowest price kept)": 1}
    # gpu_prices and price_quote take a SkyPilot file directly
    assert ck.gpu_hour_price("H100", path=f) == pytest.approx(55.04 / 8)


@pytest.mark.parametrize("price, match", [("abc", "row 3 \\(line 4\\), column 'Price': 'abc'"),
                                          ("inf", "'inf' is not a finite number")])
def test_skypilot_price_that_is_not_a_number_names_row_and_column(tmp_path, price, match):
    f = tmp_path / "vms.csv"
    f.write_text(SKYPILOT.replace("0.8048", price))
    with pytest.raises(ck.DataFileError, match=match):
        ck.read_skypilot_catalog(f, cloud="AWS")


def test_catalog_price_of_infinity_is_refused(tmp_path):
    f = tmp_path / "prices.csv"
    src = (Path(__file__).resolve().parents[1] / "data" / "gpu_prices.csv").read_text().splitlines()
    head, first = src[0].split(","), src[1].split(",")
    first[head.index("on_demand_per_hour")] = "inf"
    f.write_text("\n".join([src[0], ",".join(first), *src[2:]]) + "\n")
    with pytest.raises(ck.DataFileError, match="on_demand_per_hour.*not a finite number"):
        ck.gpu_hour_price("H100", path=f)


def test_skypilot_catalog_missing_column(tmp_path):
    f = tmp_path / "vms.csv"
    f.write_text(SKYPILOT.replace("SpotPrice", "Spot"))
    with pytest.raises(ck.DataFileError, match="SpotPrice"):
        ck.read_skypilot_catalog(f, cloud="AWS")


# --------------------------------------------------------------------------- price ages

def _one_price(tmp_path, date):
    p = tmp_path / "my_prices.csv"
    p.write_text("cloud,instance_type,gpu,gpu_count,region,on_demand_usd_per_hour,"
                 "spot_usd_per_hour,price_date,source\n"
                 f"MyCloud,h100x1,H100-SXM,1,eu-1,2.00,,{date},our contract (negotiated)\n",
                 encoding="utf-8")
    return p


def test_a_quote_states_the_age_of_its_prices(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTKIT_TODAY", "2026-11-26")
    q = ck.price_quote("H100", path=_one_price(tmp_path, "2026-11-06"))
    assert q.age_days == 20 and q.warning is None
    assert "prices dated 2026-11-06, up to 20 days old on 2026-11-26" in str(q)


def test_a_price_older_than_90_days_warns_in_a_printed_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTKIT_TODAY", "2026-11-26")
    old = _one_price(tmp_path, "2026-08-27")                   # 91 days before
    est = ck.serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=8, price_path=old)
    assert est.assumptions["price_age_days"] == 91
    assert "WARNING: prices up to 91 days old (the oldest dated 2026-08-27" in repr(est)
    run = ck.training.estimate(7e9, 1e10, gpu="H100-SXM", n_gpus=8, price_path=old)
    assert "WARNING: prices up to 91 days old" in repr(run)
    monkeypatch.setenv("COSTKIT_TODAY", "2026-11-25")          # exactly 90 days: no warning
    again = ck.serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=8, price_path=old)
    assert "price_warning" not in again.assumptions and "WARNING" not in repr(again)
    given = ck.serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=8, usd_per_gpu_hour=2)
    assert "price_age_days" not in given.assumptions          # a price you give has no date


def test_today_can_be_pinned_and_a_bad_pin_is_refused(monkeypatch):
    import datetime as dt

    from costkit.catalog import today

    monkeypatch.setenv("COSTKIT_TODAY", "2027-01-02")
    assert today() == dt.date(2027, 1, 2)
    monkeypatch.setenv("COSTKIT_TODAY", "02/01/2027")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        today()
    monkeypatch.delenv("COSTKIT_TODAY")
    assert today() == dt.datetime.now(dt.UTC).date()


def test_skypilot_reader_counts_every_row_and_names_the_first_bad_count(tmp_path):
    d = tmp_path / "aws"
    d.mkdir()
    head = "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
    rows = ["a,H100,8,40,,us", "b,,1,1,,us", "c,H100,0.5,5,,us", "d,Gaudi9,1,3,,us",
            "e,L4,1,1,0.5,us", "f,Gaudi9,2,6,,us"]
    (d / "vms.csv").write_text(head + "\n".join(rows) + "\n")
    df = ck.read_skypilot_catalog(d / "vms.csv", price_date="2026-11-20")
    assert df["instance_type"].tolist() == ["a", "e"]
    assert df.attrs["dropped"] == {"no accelerator or no instance type": 1,
                                   "fractional accelerator count": 1,
                                   "accelerator not in the GPU catalog (Gaudi9)": 2}
    assert len(df) + sum(df.attrs["dropped"].values()) == len(rows)
    bad = rows[:2] + ["x,H100,eight,1,,us", "y,L4,many,1,,us"]
    (d / "vms.csv").write_text(head + "\n".join(bad) + "\n")
    with pytest.raises(ck.DataFileError, match=r"row 3 \(line 4\), column 'AcceleratorCount': "
                                               r"'eight' is not a number"):
        ck.read_skypilot_catalog(d / "vms.csv", price_date="2026-11-20")
