"""Trust III (issue 32): the new surfaces refuse what they cannot price right.

Each test failed before its fix: a silently wrong number, a row dropped without a count, a crash
or a hang, or user text written verbatim into a table.
"""

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from costkit import cli
from costkit._tables import DataFileError
from costkit.moe import gqa_attention_params, mla_attention_params, param_counts
from costkit.price_lists import import_price_lists, read_aws_price_list, read_azure_retail_prices

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "examples" / "price_lists"
AWS = SAMPLES / "aws_ec2_us-east-1.json"
AZURE = SAMPLES / "azure_retail_prices_page.json"


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return p


# --------------------------------------------------------------------------- price imports

def test_an_azure_price_not_yet_in_force_is_left_out_and_counted(tmp_path):
    doc = json.loads(AZURE.read_text())
    future = copy.deepcopy(doc["Items"][0])
    future.update(effectiveStartDate="2099-01-01T00:00:00Z", retailPrice=0.01)
    doc["Items"].append(future)
    df = read_azure_retail_prices(_write(tmp_path, "page.json", doc), price_date="2026-11-20")
    a100 = df.set_index("instance_type").loc["Standard_NC24ads_A100_v4"]
    assert a100.on_demand_usd_per_hour == 3.673          # the 2024-06-01 price, in force
    why = "not yet in force on the price date 2026-11-20 (effectiveStartDate later)"
    assert df.attrs["dropped"][why] == 1
    doc["Items"][-1]["effectiveStartDate"] = "soon"
    with pytest.raises(DataFileError, match=r"Items\[\d+\], effectiveStartDate: 'soon'"):
        read_azure_retail_prices(_write(tmp_path, "bad.json", doc), price_date="2026-11-20")


def test_an_aws_term_not_yet_in_force_is_left_out_and_counted(tmp_path):
    doc = json.loads(AWS.read_text())
    terms = doc["terms"]["OnDemand"]["P5SKU000000000001"]
    (term,) = terms.values()
    later = copy.deepcopy(term)
    later["effectiveDate"] = "2099-01-01T00:00:00Z"
    for dim in later["priceDimensions"].values():
        dim["pricePerUnit"]["USD"] = "0.01"
    terms["P5SKU000000000001.LATER"] = later
    df = read_aws_price_list(_write(tmp_path, "aws.json", doc))
    assert df.set_index("instance_type").loc["p5.48xlarge", "on_demand_usd_per_hour"] == 55.04
    terms.pop(next(iter(terms)))          # only the later term left: the product is counted out
    df = read_aws_price_list(_write(tmp_path, "aws2.json", doc))
    assert "p5.48xlarge" not in set(df.instance_type)
    assert df.attrs["dropped"]["not yet in force on the price date 2024-11-01 (effectiveDate "
                               "later)"] == 1


def test_json_nested_100000_deep_is_a_clear_error(tmp_path, capsys):
    p = _write(tmp_path, "deep.json", '{"Items": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(DataFileError, match="nested deeper"):
        import_price_lists([p])
    assert cli.main(["prices", "import", str(p), "--out", str(tmp_path / "o.csv")]) == 2
    assert "nested deeper" in capsys.readouterr().err


SKY = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
       "Region\n")


@pytest.mark.parametrize("field, text", [
    ("Region", '=HYPERLINK("http://x")'), ("Region", "+1+cmd|' /C calc'!A0"),
    ("InstanceType", "@SUM(A1)"), ("Region", "east\x1b[2Jus")])
def test_a_formula_in_a_skypilot_field_is_refused(tmp_path, field, text):
    row = {"InstanceType": "gpu_1x_a10", "Region": "us-east-1"}
    row[field] = text
    d = tmp_path / "lambda"
    d.mkdir()
    body = SKY + "gpu_1x_h100,H100,1,26,225,,3.29,,us-east-1\n" + (
        f'"{row["InstanceType"]}",A10,1,30,200,,0.75,,"{row["Region"]}"\n'.replace(
            '"=HYPERLINK("http://x")"', '"=HYPERLINK(""http://x"")"'))
    p = _write(d, "vms.csv", body)
    with pytest.raises(DataFileError, match=rf"row 2 \(line 3\), column '{field}'.*not a plain "
                                            "name"):
        import_price_lists([p], price_date="2026-11-20")


@pytest.mark.parametrize("cloud", ['=HYPERLINK("http://x")', "-2+3", "Lambda\x1b]0;x\x07"])
def test_a_formula_given_as_the_cloud_is_refused(tmp_path, capsys, cloud):
    p = _write(tmp_path, "vms.csv", SKY + "gpu_1x_a10,A10,1,30,200,,0.75,,us-east-1\n")
    with pytest.raises(DataFileError, match="cloud .*not a plain name"):
        import_price_lists([p], cloud=cloud, price_date="2026-11-20")
    out = tmp_path / "o.csv"
    assert cli.main(["prices", "import", str(p), f"--cloud={cloud}", "--out", str(out)]) == 2
    assert not out.exists()


def test_skypilot_copies_zones_and_dear_spot_prices_are_counted(tmp_path):
    d = tmp_path / "aws"
    d.mkdir()
    p = _write(d, "vms.csv", SKY
               + "g6.xlarge,L4,1,4,16,,0.80,0.30,us-east-1\n"
               + "g6.xlarge,L4,1,4,16,,0.80,0.30,us-east-1\n"     # a copy
               + "g6.xlarge,L4,1,4,16,,0.80,0.25,us-east-1\n"     # another zone, cheaper spot
               + "p5.48xlarge,H100,8,192,2048,,55.04,60.00,us-east-1\n")  # spot above on-demand
    imp = import_price_lists([p], price_date="2026-11-20")
    got = imp.dropped[str(p)]
    assert got["a copy of an earlier row"] == 1
    assert got["another zone of one instance type and region (the lowest price kept)"] == 1
    assert got["spot price at or above on-demand (not a spot offer; on-demand kept)"] == 1
    f = imp.frame.set_index("instance_type")
    assert f.loc["g6.xlarge", "spot_usd_per_hour"] == 0.25
    assert f.loc["p5.48xlarge", "on_demand_usd_per_hour"] == 55.04
    assert "spot price at or above on-demand" in str(imp)


# --------------------------------------------------------------------------- hangs

@pytest.mark.parametrize("per_day", ["1e15", "1e30", "1e300"])
def test_an_llm_fleet_beyond_any_plan_is_refused_at_once(per_day):
    res = subprocess.run([sys.executable, "-m", "costkit", "serve", "--model", "llama-2-7b",
                          "--requests-per-day", per_day], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "MAX_REPLICAS" in res.stderr


# --------------------------------------------------------------------------- MoE shapes

MIXTRAL = dict(n_layers=32, d_model=4096, attention_params=gqa_attention_params(4096, 32, 8, 128),
               vocab_size=32000, moe_layers=32, n_experts=8, experts_per_token=2,
               d_ff_expert=14336)
V3_MLA = dict(q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64,
              v_head_dim=128)


@pytest.mark.parametrize("change, match", [
    (dict(n_experts=-8), "n_experts must be >= 0"),
    (dict(n_experts=float("nan")), "n_experts must be finite"),
    (dict(experts_per_token=1.5), "experts_per_token must be a whole number"),
    (dict(d_ff_expert=-1), "d_ff_expert must be >= 0"),
    (dict(shared_experts=-1), "shared_experts must be >= 0"),
    (dict(shared_experts=0.5), "shared_experts must be a whole number"),
    (dict(moe_layers=33), r"moe_layers \(33\) cannot exceed n_layers \(32\)"),
    (dict(experts_per_token=9), r"experts_per_token \(9\) cannot exceed n_experts \(8\)"),
    (dict(n_experts=0), "MoE layers need n_experts"),
    (dict(n_layers=0), "n_layers must be > 0"),
    (dict(vocab_size=32000.5), "vocab_size must be a whole number"),
    (dict(attention_params=-1.0), "attention_params must be > 0"),
    (dict(n_experts=np.array([8, 8]), experts_per_token=np.array([2, 9])),
     r"experts_per_token \(9\) cannot exceed n_experts \(8\)"),
])
def test_moe_shapes_that_are_not_counts_are_refused(change, match):
    with pytest.raises(ValueError, match=match):
        param_counts(**{**MIXTRAL, **change})


@pytest.mark.parametrize("fn, args, change, match", [
    (mla_attention_params, (7168, 128), dict(kv_lora_rank=-512), "kv_lora_rank must be > 0"),
    (mla_attention_params, (7168, 128), dict(q_lora_rank=float("nan")), "q_lora_rank must be "
                                                                          "finite"),
    (mla_attention_params, (7168, 127.5), {}, "n_heads must be a whole number"),
    (gqa_attention_params, (4096, -32), {}, "n_heads must be > 0"),
    (gqa_attention_params, (4096, 32, 8.5), {}, "n_kv_heads must be a whole number"),
])
def test_attention_shapes_that_are_not_counts_are_refused(fn, args, change, match):
    kw = {**V3_MLA, **change} if fn is mla_attention_params else change
    with pytest.raises(ValueError, match=match):
        fn(*args, **kw)


@settings(max_examples=examples(60))
@given(layers=st.integers(1, 96), moe_share=st.floats(0, 1), experts=st.integers(1, 512),
       k=st.integers(1, 16), shared=st.integers(0, 4), d=st.integers(64, 16384),
       f=st.integers(16, 65536), vocab=st.integers(1, 300_000))
def test_active_never_exceeds_total_and_arrays_match_scalars(layers, moe_share, experts, k,
                                                             shared, d, f, vocab):
    k = min(k, experts)
    shape = dict(n_layers=layers, d_model=d, attention_params=4.0 * d * d, vocab_size=vocab,
                 d_ff=4 * d, moe_layers=int(layers * moe_share), n_experts=experts,
                 experts_per_token=k, shared_experts=shared, d_ff_expert=f)
    total, active = param_counts(**shape)
    assert 0 < active <= total
    both = param_counts(**{**shape, "n_experts": np.array([experts, experts])})
    assert both[0].tolist() == [total, total] and both[1].tolist() == [active, active]


# --------------------------------------------------------------------------- the decision rule

SHOP = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
            conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)


def test_decide_refuses_draws_of_another_case():
    from costkit import decision, roi

    a = roi.Case(**SHOP, cvr_lift=0.01, one_off_usd=1e4)
    b = roi.Case(**SHOP, cvr_lift=0.02, one_off_usd=5e4)
    dist = {"cvr_lift": ("normal", 0.01, 0.005)}
    ma, mb = (roi.monte_carlo(c, dist, n=500, seed=1) for c in (a, b))
    with pytest.raises(ValueError, match=r"given for 'A' were drawn for another case \(cvr_lift "
                                         r"0.02 there, 0.01 here and 1 more fields\)"):
        decision.decide({"A": a, "B": b}, {"A": mb, "B": ma})
    d = decision.decide({"A": a, "B": b.replace(name="renamed")}, {"A": ma, "B": mb})
    assert "500 paired draws" in d.text()


def test_decide_with_nothing_to_decide_does_not_claim_zero_draws():
    from costkit import decision, roi

    keep = roi.Case(**SHOP)
    mc = roi.monte_carlo(keep, {"conversion_rate": ("normal", 0.05, 0.001)}, n=500)
    text = decision.decide({"keep": keep}, {"keep": mc}).text()
    assert "0 paired draws" not in text and "no Monte Carlo draw was needed" in text


# --------------------------------------------------------------------------- bills, both paths

def _week_bill():
    from costkit import monitoring as mo

    return mo.synthetic_telemetry(days=1, replicas=3, freq="15min", seed=2).bill


def _pandas_hours(bill):
    from costkit import billing

    h = billing.focus_resource_hours(bill)
    return float(h.effective_cost.sum()), h.attrs["not_usage"], h.attrs["fx"]


def _fleet_hours(bill):
    from costkit import fleet

    b = fleet.bill_hours(bill, con=fleet.connect(threads=1))
    return float(b.con.execute(b.table.effective_cost.sum())), b.not_usage, b.fx


PATHS = pytest.mark.parametrize("hours", [_pandas_hours, _fleet_hours], ids=["duckdb-sql", "ibis"])


@PATHS
def test_a_bill_in_yuan_is_converted_at_the_rate_of_its_day(hours):
    from costkit import fx

    usd = _week_bill()
    cny = usd.assign(BillingCurrency="CNY")     # the same numbers, in yuan
    total_usd, _, none = hours(usd)
    total, _, used = hours(cny)
    rate = fx.fx_rate("CNY", "USD", date="2026-11-02")       # the week's day: 2026-01-27's
    assert none == () and rate.date == "2026-01-27"
    assert total == pytest.approx(total_usd * rate.rate, rel=1e-12)
    assert used == (str(rate),) and "1 CNY = 0.143148 USD" in used[0]
    with pytest.raises(DataFileError, match="'XYZ' on 2026-11-02 cannot be converted"):
        hours(usd.assign(BillingCurrency="XYZ"))
    with pytest.raises(DataFileError, match="lines without a currency"):
        hours(usd.assign(BillingCurrency=""))


@PATHS
def test_lines_without_a_charge_category_are_reported_with_their_money(hours):
    from costkit.billing import NO_CATEGORY

    bill = _week_bill()
    bill["ChargeCategory"] = bill["ChargeCategory"].astype(object)
    blank = bill.index[:5]
    bill.loc[blank, "ChargeCategory"] = None
    total, other, _ = hours(bill)
    row = other.set_index("charge_category").loc[NO_CATEGORY]
    assert row.lines == 5
    assert row.effective_cost == pytest.approx(bill.loc[blank, "EffectiveCost"].sum())
    assert total + row.effective_cost == pytest.approx(bill.EffectiveCost.sum(), rel=1e-12)


@PATHS
def test_a_line_too_large_to_sum_is_refused(hours):
    bill = _week_bill()
    bill.loc[bill.index[:2], ["BilledCost", "EffectiveCost"]] = 1e308   # finite, sum inf
    with pytest.raises(DataFileError, match=r"2 billing line\(s\) cost more than 1e\+15"):
        hours(bill)


@PATHS
def test_a_copy_of_a_bill_under_another_name_is_refused(tmp_path, hours):
    bill = _week_bill()
    a, b = tmp_path / "2026-11-02.csv", tmp_path / "copy of 2026-11-02.csv"
    bill.to_csv(a, index=False)
    b.write_bytes(a.read_bytes())
    with pytest.raises(DataFileError, match="the same bytes as .*2026-11-02.csv"):
        hours(str(tmp_path / "*.csv"))
    bill.iloc[:10].to_csv(b, index=False)          # a different file: read, and summed
    assert hours([a, b])[0] == pytest.approx(bill.EffectiveCost.sum()
                                             + bill.EffectiveCost.iloc[:10].sum())


def test_results_with_reports_concatenate():
    from costkit import billing
    from costkit import monitoring as mo
    from costkit import telemetry as te

    w = mo.synthetic_telemetry(days=1, replicas=3, freq="15min", seed=2)
    half = len(w.bill) // 2
    a, b = (billing.focus_resource_hours(x) for x in (w.bill.iloc[:half], w.bill.iloc[half:]))
    both = pd.concat([a, b])
    assert len(both) == len(a) + len(b)
    same = pd.concat([a, a])        # equal reports are kept, as pandas keeps equal attrs
    assert same.attrs["not_usage"].equals(a.attrs["not_usage"])
    tel = te.read_telemetry(w.telemetry)
    costed = mo.cost_usage(tel, billing.focus_resource_hours(w.bill))
    assert len(pd.concat([costed, costed])) == 2 * len(costed)


# --------------------------------------------------------------------------- the fleet readers

@pytest.mark.parametrize("name, body", [
    ("bad.parquet", b"PAR1junk"),
    ("junk.csv", bytes(range(256)) * 12),
    ("late.csv", None),                       # a number column with text on its last line
])
@pytest.mark.parametrize("reader", ["read_telemetry", "bill_hours"])
def test_the_fleet_readers_name_the_file_they_cannot_read(tmp_path, name, body, reader):
    from costkit import fleet
    from costkit import monitoring as mo

    path = tmp_path / name
    if body is None:
        w = mo.synthetic_telemetry(days=1, replicas=30, freq="1min", seed=1)
        frame = (w.telemetry.assign(timestamp=w.telemetry.timestamp.dt.strftime(
            "%Y-%m-%dT%H:%M:%SZ")) if reader == "read_telemetry" else w.bill)
        col = "requests" if reader == "read_telemetry" else "EffectiveCost"
        frame = frame.astype({col: object})
        frame.iloc[-1, frame.columns.get_loc(col)] = "abc"
        frame.to_csv(path, index=False)
    else:
        path.write_bytes(body)
    # a bill's money column typed as text is refused by the bill's column rule, naming it
    match = (rf"{name}, column 'EffectiveCost': is string, not a number"
             if reader == "bill_hours" and body is None else rf"{name}: the engine cannot read it")
    with pytest.raises(DataFileError, match=match):
        getattr(fleet, reader)(str(path), con=fleet.connect(threads=1))


def test_moe_shapes_too_large_to_count_are_refused_not_nan():
    """Found by make fuzz: a d_ff_expert of 6e307 overflowed to inf, and 0 MoE layers times inf
    gave a NaN total. Unused, it is ignored; used, the overflow is refused."""
    shape = dict(n_layers=1, d_model=1, attention_params=4.0, vocab_size=32000,
                 n_experts=1, experts_per_token=1, d_ff_expert=5.992310449541053e307)
    total, active = param_counts(**shape, moe_layers=0)
    assert total == active == 2.0 + 4.0 + 32000 * 2 + 1   # norms, attention, embeddings, norm
    with pytest.raises(ValueError, match="overflows"):
        param_counts(**shape, moe_layers=1)
    with pytest.raises(ValueError, match="overflows"):
        gqa_attention_params(1e300, 1e10)


def test_moe_counts_of_a_tiny_model_by_hand():
    """Two layers of width 4, attention 10 weights, vocabulary 5 (gated MLPs):
    per layer 10 + 2 x 4 norms = 18, outside 5 x 4 x 2 + 4 = 44.

    - dense, no MLP width given: 2 x 18 + 44 = 80 (the defaults add nothing);
    - dense with d_ff 3: each layer + 3 x 4 x 3 = 36, so 2 x 54 + 44 = 152;
    - one MoE layer of a single expert of width 1 (the smallest valid one): the expert
      3 x 4 x 1 = 12 and a router of 4 x 1, so 54 + 18 + 12 + 4 + 44 = 132, all active.
    """
    tiny = dict(n_layers=2, d_model=4, attention_params=10, vocab_size=5)
    assert param_counts(**tiny) == (80.0, 80.0)
    assert param_counts(**tiny, d_ff=3) == (152.0, 152.0)
    assert param_counts(**tiny, d_ff=3, moe_layers=1, n_experts=1, experts_per_token=1,
                        d_ff_expert=1) == (132.0, 132.0)
    for left_out in ("n_experts", "experts_per_token", "d_ff_expert"):
        moe = dict(moe_layers=1, n_experts=2, experts_per_token=1, d_ff_expert=2)
        del moe[left_out]
        with pytest.raises(ValueError, match="MoE layers need"):
            param_counts(**tiny, **moe)
