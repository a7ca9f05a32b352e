"""costkit.telemetry, costkit.billing and costkit.monitoring: hand-made telemetry and bills
whose cost is known, DuckDB against pandas, malformed input, properties, the synthetic week."""

import json

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from costkit import billing as bi
from costkit import monitoring as mo
from costkit import telemetry as te
from costkit._tables import DataFileError

T0 = pd.Timestamp("2026-11-02", tz="UTC")


def samples(replica="r1", minutes=120, util=0.5, requests=10.0, **extra):
    ts = T0 + pd.to_timedelta(np.arange(minutes), unit="min")
    return pd.DataFrame({"timestamp": ts, "replica_id": replica, "gpu_utilization": util,
                         "requests": requests, "model": "m", "team": "t", **extra})


def bill_lines(rid="r1", hours=2, usd=2.0, **extra):
    start = T0 + pd.to_timedelta(np.arange(hours), unit="h")
    return pd.DataFrame({"ChargePeriodStart": start, "ChargePeriodEnd": start + pd.Timedelta("1h"),
                         "ResourceId": rid, "ServiceName": "Compute", "BilledCost": usd,
                         "EffectiveCost": usd, "BillingCurrency": "USD",
                         "Tags": json.dumps({"team": "t", "model": "m"}), **extra})


# ------------------------------------------------------------------ telemetry


def test_read_telemetry_reports_what_it_changes():
    df = pd.concat([samples("a", 5, util=50.0), samples("b", 5, util=100.0)], ignore_index=True)
    df.loc[2, "requests"] = np.nan                    # dropped: cannot be costed
    df = pd.concat([df, df.iloc[[6]]], ignore_index=True).sort_values(
        ["replica_id", "timestamp"], kind="stable")   # a duplicate sample of b
    df = df.drop(index=8)                              # a missing sample of b
    tel = te.read_telemetry(df)
    rep = tel.report.set_index("check")
    assert rep.loc["utilisation in per cent", "action"] == "converted"
    assert tel.frame.gpu_utilization.max() == 1.0
    assert rep.loc["missing requests", "rows"] == 1
    assert rep.loc["duplicate sample", "rows"] == 1
    assert rep.loc["missing samples", "rows"] == 2     # a lost its NaN row, b its dropped row
    assert tel.interval == pd.Timedelta("1min") and tel.interval_hours == pytest.approx(1 / 60)
    assert len(tel.frame) == 10 - 1 - 1
    assert "duplicate sample: 1 rows dropped" in repr(tel)


@pytest.mark.parametrize("change, match", [
    (lambda d: d.drop(columns="requests"), "missing column"),
    (lambda d: d.assign(gpu_utilization=[30.0, 130.0, 20.0]), "above 100"),
    (lambda d: d.assign(requests=[1.0, -1.0, 2.0]), "negative"),
    (lambda d: d.assign(requests=["1", "x", "2"]), "not a number"),
    (lambda d: d.iloc[[0, 2, 1]], "goes back in time"),
])  # fmt: skip
def test_read_telemetry_rejects_what_it_cannot_repair(change, match):
    with pytest.raises(DataFileError, match=match):
        te.read_telemetry(change(samples(minutes=3)), label="t.csv")


def test_non_monotonic_error_names_replica_and_row():
    df = samples("gpu-7", 3).iloc[[0, 2, 1]]
    with pytest.raises(DataFileError, match=r"row 1, column 'timestamp': replica 'gpu-7'"):
        te.read_telemetry(df)


def test_read_telemetry_from_the_sample_file():
    tel = te.read_telemetry(mo.sample_files()["telemetry"])
    assert tel.label == "telemetry_sample.csv"
    assert tel.interval == pd.Timedelta("15min")
    assert set(tel.frame.model) == {"re-ranker", "query-rewriter", "recommender"}


def prom(metric, series, status="success", kind="matrix"):
    return {"status": status, "data": {"resultType": kind, "result": [
        {"metric": {"__name__": metric, "replica": rid, "model": "m"},
         "values": [[T0.timestamp() + 60 * i, str(v)] for i, v in enumerate(vals)]}
        for rid, vals in series.items()]}}


def test_read_prometheus_merges_metrics_and_reports_nan():
    util = prom("DCGM_FI_DEV_GPU_UTIL", {"a": [50, 60, "NaN"], "b": [10, 20, 30]})
    reqs = prom("requests", {"a": [5, 6, 7], "b": [1, 2, 3]})
    df = te.read_prometheus({"gpu_utilization": util, "requests": json.dumps(reqs)})
    assert df.attrs["dropped"] == {"gpu_utilization": 1, "requests": 0}
    assert len(df) == 6 and df.model.eq("m").all()
    tel = te.read_telemetry(df)   # the NaN utilisation sample is dropped, and said
    assert tel.report.set_index("check").loc["missing gpu_utilization", "rows"] == 1
    assert tel.frame.gpu_utilization.max() == pytest.approx(0.6)  # per cent detected


@pytest.mark.parametrize("payload, match", [
    (prom("x", {}), "empty"),
    (prom("x", {"a": [1]}, status="error"), "'error'"),
    (prom("x", {"a": [1]}, kind="vector"), "matrix"),
    ({"status": "success", "data": {"resultType": "matrix",
                                    "result": [{"metric": {"pod": "a"}, "values": []}]}},
     "no 'replica' label"),
])  # fmt: skip
def test_read_prometheus_errors(payload, match):
    with pytest.raises(ValueError, match=match):
        te.read_prometheus({"requests": payload})


# ------------------------------------------------------------------ billing through DuckDB


@pytest.fixture
def parquet_bill(tmp_path):
    rng = np.random.default_rng(3)
    parts = []
    for day in range(3):
        start = T0 + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(24), unit="h")
        n = len(start)
        df = pd.DataFrame({
            "ChargePeriodStart": np.repeat(start, 4), "ResourceId": np.tile(
                ["r1", "r2", "r3", "r4"], n), "ServiceName": "Compute",
            "BilledCost": rng.uniform(0, 3, 4 * n), "EffectiveCost": rng.uniform(0, 3, 4 * n),
            "BillingCurrency": "USD",
            "Tags": np.tile([json.dumps({"team": "search"}), json.dumps({"team": "recs"}),
                             json.dumps({"team": "search"}), "{}"], n)})
        df["ChargePeriodEnd"] = df["ChargePeriodStart"] + pd.Timedelta("1h")
        df.to_parquet(tmp_path / f"bill-{day}.parquet", index=False)
        parts.append(df)
    return tmp_path, pd.concat(parts, ignore_index=True)


def test_duckdb_summary_over_several_parquet_files_equals_pandas(parquet_bill):
    path, df = parquet_bill
    got = bi.focus_summary(str(path / "*.parquet"), by=("tag:team",), period="day")
    df["team"] = df.Tags.map(lambda t: json.loads(t).get("team", ""))
    want = df.groupby([df.ChargePeriodStart.dt.floor("D"), "team"]).agg(
        effective_cost=("EffectiveCost", "sum"), billed_cost=("BilledCost", "sum"),
        lines=("EffectiveCost", "size")).reset_index()
    assert len(got) == len(want) == 9
    np.testing.assert_allclose(got.effective_cost, want.effective_cost, rtol=1e-12)
    np.testing.assert_allclose(got.billed_cost, want.billed_cost, rtol=1e-12)
    assert got.lines.tolist() == want.lines.tolist()
    total = bi.focus_summary(str(path / "*.parquet"), by=(), period=None)
    assert total.effective_cost[0] == pytest.approx(df.EffectiveCost.sum())


def test_resource_hours_spread_lines_and_keep_totals(tmp_path):
    lines = pd.concat([bill_lines("r1", 1, 4.0),
                       bill_lines("r2", 1, 3.0).assign(
                           ChargePeriodEnd=T0 + pd.Timedelta("3h")),          # 3 hours
                       bill_lines("r3", 1, 2.0).assign(
                           ChargePeriodStart=T0 + pd.Timedelta("30min"),
                           ChargePeriodEnd=T0 + pd.Timedelta("90min"))])      # straddles
    lines.to_csv(tmp_path / "b.csv", index=False)
    h = bi.focus_resource_hours(tmp_path / "b.csv")
    assert h.groupby("resource_id").effective_cost.sum().to_dict() == pytest.approx(
        {"r1": 4.0, "r2": 3.0, "r3": 2.0})
    assert h[h.resource_id == "r2"].effective_cost.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert len(h[h.resource_id == "r3"]) == 2
    only = bi.focus_resource_hours(tmp_path / "b.csv", resource_ids=["r1"])
    assert only.resource_id.unique().tolist() == ["r1"]


def test_billing_errors(tmp_path):
    bill_lines().drop(columns="EffectiveCost").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataFileError, match="bad.csv.*EffectiveCost"):
        bi.focus_summary(tmp_path / "bad.csv")
    pd.concat([bill_lines(), bill_lines().assign(BillingCurrency="EUR")]).to_csv(
        tmp_path / "mixed.csv", index=False)
    with pytest.raises(DataFileError, match="mixes currencies"):
        bi.focus_summary(tmp_path / "mixed.csv")
    with pytest.raises(FileNotFoundError):
        bi.focus_summary(tmp_path / "none-*.parquet")
    with pytest.raises(ValueError, match="period"):
        bi.focus_summary(tmp_path / "mixed.csv", period="fortnight")


# ------------------------------------------------------------------ cost of usage


def hand_costed():
    # r1: hour 0 at 25% busy, hour 1 at 100% busy, 2 USD an hour; hour 2 billed, not observed.
    # r2: observed one hour, never billed.
    tel = te.read_telemetry(pd.concat([
        samples("r1", 60, util=0.25), samples("r1", 60, util=1.0).assign(
            timestamp=lambda d: d.timestamp + pd.Timedelta("1h")),
        samples("r2", 60, util=0.5)], ignore_index=True))
    hours = pd.DataFrame({"resource_id": "r1", "hour": T0 + pd.to_timedelta([0, 1, 2], unit="h"),
                          "effective_cost": 2.0, "billed_cost": 0.0,
                          "tags": json.dumps({"team": "t", "model": "m"})})
    return tel, mo.cost_usage(tel, hours)


def test_cost_usage_by_hand():
    tel, c = hand_costed()
    r1 = c[c.replica_id == "r1"].set_index("hour")
    assert r1.busy_usd.tolist() == pytest.approx([0.5, 2.0, 0.0])
    assert r1.idle_usd.tolist() == pytest.approx([1.5, 0.0, 0.0])
    assert r1.unobserved_usd.tolist() == pytest.approx([0.0, 0.0, 2.0])
    assert r1.idle_gpu_hours.iloc[0] == pytest.approx(0.75)
    r2 = c[c.replica_id == "r2"]
    assert r2.unbilled.all() and r2.cost_usd.sum() == 0
    rep = c.attrs["report"].set_index("check")
    assert rep.loc["billed hours without telemetry", "usd"] == 2.0
    assert rep.loc["telemetry hours without a bill line", "rows"] == 1
    cb = mo.chargeback(c, freq=None)
    row = cb.loc[("t", "m")]
    assert row.cost_usd == 6.0 and row.requests == 10 * 180
    assert row.usd_per_1k_requests == pytest.approx(6.0 / 1800 * 1000)
    assert row.mean_utilization == pytest.approx((15 + 60 + 30) / 180)
    assert row.idle_usd == pytest.approx(1.5)


def test_slo_violations_by_hand():
    tel = te.read_telemetry(samples("r1", 4, latency_p95_s=[0.1, 0.3, 0.5, 0.2],
                                    requests=[10.0, 20.0, 30.0, 40.0]))
    v = mo.slo_violations(tel, 0.25).loc["m"]
    assert v.violations == 2 and v.violation_share == 0.5
    assert v.requests_in_violation == 50 and v.minutes_in_violation == pytest.approx(2)
    with pytest.raises(ValueError, match="no 'latency_p50_s'"):
        mo.slo_violations(tel, 0.25, column="latency_p50_s")


@settings(max_examples=examples(25))
@given(costs=st.lists(st.floats(0, 10, allow_nan=False), min_size=3, max_size=3),
       utils=st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=2))
def test_money_is_conserved(costs, utils):
    tel = te.read_telemetry(pd.concat([
        samples("r1", 60, util=utils[0]), samples("r1", 60, util=utils[1]).assign(
            timestamp=lambda d: d.timestamp + pd.Timedelta("1h"))], ignore_index=True),
        utilization_unit="fraction")  # 0 and 1 alone could be per cent: say which
    hours = pd.DataFrame({"resource_id": "r1", "hour": T0 + pd.to_timedelta([0, 1, 2], unit="h"),
                          "effective_cost": costs, "billed_cost": costs})
    c = mo.cost_usage(tel, hours)
    assert c.cost_usd.sum() == pytest.approx(sum(costs))
    assert (c.busy_usd + c.idle_usd + c.unobserved_usd).sum() == pytest.approx(sum(costs))
    assert (c.idle_usd >= 0).all() and (c.busy_usd >= 0).all()


# ------------------------------------------------------------------ alerts and variance


def test_robust_z_by_hand():
    z, med = mo.robust_z([10, 12, 11, 13, 40], window=4, min_relative_mad=0.0)
    # history of the last point: 10, 12, 11, 13 -> median 11.5, MAD 1.0
    assert med[-1] == 11.5 and z[-1] == pytest.approx((40 - 11.5) / 1.4826)
    assert np.isnan(z[0])
    daily = np.tile(np.r_[np.ones(12), 5 * np.ones(12)], 4)
    z, _ = mo.robust_z(daily, 3, period=24)
    assert np.nanmax(np.abs(z)) == 0  # the daily cycle is its own baseline


def _costed(week):
    """The week's telemetry joined to its bill (the bill's columns renamed as the join wants)."""
    tel = te.read_telemetry(week.telemetry)
    hours = week.bill.rename(columns={
        "ResourceId": "resource_id", "EffectiveCost": "effective_cost",
        "BilledCost": "billed_cost", "ChargePeriodStart": "hour"})
    return mo.cost_usage(tel, hours[["resource_id", "hour", "effective_cost", "billed_cost"]])


def test_alerts_find_what_was_injected():
    c = _costed(mo.synthetic_telemetry(days=7, replicas=20, freq="10min", seed=1))
    found = mo.alerts(c)
    spikes = found[found.kind != "low utilisation"]
    assert set(zip(spikes.kind, spikes.model, strict=True)) == {
        ("error rate", "query-rewriter"), ("cost per request", "recommender")}
    err = spikes[spikes.kind == "error rate"].iloc[0]
    assert err.start == T0 + pd.Timedelta(days=2, hours=14) and err.hours == 2
    over = spikes[spikes.kind == "cost per request"].iloc[0]
    assert over.start >= T0 + pd.Timedelta(days=3, hours=18)
    assert over.end <= T0 + pd.Timedelta(days=4, hours=8)
    assert len(mo.alerts(c, low_utilization=0.0).query("kind == 'low utilisation'")) == 0
    with pytest.raises(ValueError, match="window_days"):
        mo.alerts(c, window_days=1)


def _spikes(week, threshold):
    found = mo.alerts(_costed(week), mad_threshold=threshold)
    return found[found.kind != "low utilisation"]


def test_the_z_threshold_moves_the_alerts():
    """Notebook 07's week: z 4 finds the two injected events alone, z 3 and z 2 more and more
    ordinary hours (issue 30: without the hourly swing, z 2 to 9 all gave the same alerts)."""
    week = mo.synthetic_telemetry(days=7, replicas=60, freq="5min", seed=0)
    counts = {z: len(_spikes(week, z)) for z in (2.0, 3.0, 4.0)}
    assert counts[2.0] > counts[3.0] > counts[4.0], counts
    at4 = _spikes(week, 4.0)
    assert set(zip(at4.kind, at4.model, strict=True)) == {
        ("error rate", "query-rewriter"), ("cost per request", "recommender")}
    still = mo.synthetic_telemetry(days=7, replicas=60, freq="5min", seed=0, hourly_swing=0)
    assert len(_spikes(still, 2.0)) == len(_spikes(still, 4.0))   # the week before the swing
    with pytest.raises(ValueError, match="hourly_swing"):
        mo.synthetic_telemetry(days=1, replicas=3, hourly_swing=1.5)
    with pytest.raises(ValueError, match="hourly_swing"):
        mo.synthetic_telemetry(days=1, replicas=3, hourly_swing=-0.1)


def test_variance_report_by_hand_and_from_a_plan():
    e = mo.Drivers(requests=1000, requests_per_busy_replica_hour=100, utilization=0.5,
                   usd_per_replica_hour=2.0)
    a = mo.Drivers(requests=1200, requests_per_busy_replica_hour=80, utilization=0.4,
                   usd_per_replica_hour=2.5)
    v = mo.variance_report(e, a)
    assert v["estimate"] == pytest.approx(40) and v["actual"] == pytest.approx(93.75)
    assert v["traffic"] == pytest.approx(8)          # 200 more requests at 0.04 USD each
    assert v["utilisation"] == pytest.approx(12)     # 24 -> 30 replica-hours at 2 USD
    assert v["price"] == pytest.approx(15)           # 30 replica-hours at 0.5 USD more
    assert v["throughput"] == pytest.approx(18.75)   # 30 -> 37.5 replica-hours at 2.5 USD
    from costkit import capacity as cp

    plan = cp.plan(cp.traffic_profile(2e6), replica_rps=50, request_latency_s=0.2,
                   slots_per_replica=8, usd_per_replica_hour=3.0)
    d = mo.Drivers.from_plan(plan, hours=168)
    assert d.cost_usd == pytest.approx(plan.monthly_cost_usd() * 168 / 730)
    with pytest.raises(ValueError, match="utilization"):
        mo.Drivers(1, 1, 0.0, 1)


@settings(max_examples=examples(50))
@given(st.lists(st.floats(0.05, 1e6, allow_nan=False), min_size=8, max_size=8))
@example([413586.0, 0.0625, 1.0, 0.0546875, 163804.0, 116800.0, 1.0, 267415.0])  # make fuzz
def test_variance_steps_add_up(x):
    e = mo.Drivers(x[0], x[1], min(x[2] / 1e6 + 0.05, 1), x[3])
    a = mo.Drivers(x[4], x[5], min(x[6] / 1e6 + 0.05, 1), x[7])
    v = mo.variance_report(e, a)
    steps = v.drop(["estimate", "actual"])
    # the steps telescope exactly; in floating point each carries a rounding error of its own
    # size (price and throughput steps of 1e13 USD can cancel to a gap of 1e5), so the sum is
    # as exact as float64 allows: a few ulps of the largest terms
    ulps = 8 * np.finfo(float).eps * (steps.abs().sum() + abs(v["actual"]) + abs(v["estimate"]))
    assert steps.sum() == pytest.approx(v["actual"] - v["estimate"], rel=1e-9, abs=1e-6 + ulps)


# ------------------------------------------------------------------ synthetic data


def test_synthetic_week_is_seeded_and_has_its_events():
    a = mo.synthetic_telemetry(days=7, replicas=10, freq="30min", seed=4)
    b = mo.synthetic_telemetry(days=7, replicas=10, freq="30min", seed=4)
    pd.testing.assert_frame_equal(a.telemetry, b.telemetry)
    pd.testing.assert_frame_equal(a.bill, b.bill)
    t = a.telemetry
    inc = t[(t.model == "query-rewriter") & (t.timestamp >= T0 + pd.Timedelta(days=2, hours=14))
            & (t.timestamp < T0 + pd.Timedelta(days=2, hours=16))]
    assert inc.errors.sum() / inc.requests.sum() == pytest.approx(0.25, abs=0.03)
    extra = t[t.replica_id.astype(str).str.contains("-x")]
    assert extra.timestamp.min() == T0 + pd.Timedelta(days=3, hours=18)
    assert extra.requests.sum() == 0
    # the bill covers every replica-hour that ran, at the catalog price, half committed
    assert a.bill.groupby("ResourceId").size().min() >= 1
    assert (a.bill.BilledCost.eq(0) == a.bill.CommitmentDiscountStatus.eq("Used")).all()


def test_sample_files_are_the_generator_output(tmp_path):
    written = mo.sample_files(tmp_path)
    for kind, path in mo.sample_files().items():
        assert path.read_text(encoding="utf-8") == written[kind].read_text(encoding="utf-8")
        rows = pd.read_csv(str(path))
        assert rows.source.str.startswith("synthetic: costkit.monitoring").all()
    summary = bi.focus_summary(str(mo.sample_files()["bill"]), by=("tag:model",), period=None)
    assert set(summary.model) == {"re-ranker", "query-rewriter", "recommender"}


def test_slo_targets_per_model_equal_one_target_at_a_time():
    # the dict of targets is looked up once per model; the counts must equal each model's
    # own run with its scalar target
    tel = te.read_telemetry(mo.synthetic_telemetry(days=1, replicas=12, freq="15min").telemetry)
    slo = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
    together = mo.slo_violations(tel, slo)
    for model, target in slo.items():
        one = mo.slo_violations(tel, target).loc[[model]]
        pd.testing.assert_frame_equal(together.loc[[model]], one)
    with pytest.raises(ValueError, match="no SLO given for model recommender"):
        mo.slo_violations(tel, {"re-ranker": 0.1, "query-rewriter": 1.0})


def test_text_columns_keep_what_astype_str_gave():
    from costkit.telemetry import _text_column

    raw = pd.Series([7, None, 7, "  ", "a"], dtype=object)
    text, blank = _text_column(raw)
    assert text.tolist() == ["7", "", "7", "  ", "a"]
    assert blank.tolist() == [False, True, False, True, False]
    cat = pd.Series(["b", "a", None], dtype="category")
    assert _text_column(cat)[0].tolist() == ["b", "a", ""]


def test_focus_version_is_read_from_the_columns_each_version_introduced():
    bill = mo.synthetic_telemetry(days=1, replicas=12, freq="15min").bill
    assert bi.focus_version(bill) == "1.0"  # CommitmentDiscountStatus came with 1.0
    assert bi.focus_version(bill.assign(SkuMeter="GPU hours")) == "1.1"
    assert bi.focus_version(bill.assign(SkuMeter="x", InvoiceId="INV-1")) == "1.2"
    preview = bill.drop(columns=["CommitmentDiscountStatus"]).assign(UsageQuantity=1.0)
    assert bi.focus_version(preview) == "1.0-preview"
    assert bi.focus_version(bill.drop(columns=["CommitmentDiscountStatus"])) == "unknown"
    assert bi.focus_resource_hours(bill).attrs["focus_version"] == "1.0"


def test_purchases_taxes_and_credits_are_reported_not_spread_over_replicas():
    week = mo.synthetic_telemetry(days=1, replicas=12, freq="15min")
    extra = week.bill.iloc[:4].copy()
    extra["ChargeCategory"] = ["Purchase", "Tax", "Credit", "Adjustment"]
    extra["BilledCost"] = [8760.0, 52.0, -100.0, 3.0]
    extra["EffectiveCost"] = [0.0, 52.0, -100.0, 3.0]  # a commitment's purchase: amortised
    bill = pd.concat([week.bill, extra], ignore_index=True)
    usage_only = bi.focus_resource_hours(week.bill)
    hours = bi.focus_resource_hours(bill)
    pd.testing.assert_frame_equal(hours, usage_only, check_like=True)  # the same replica-hours
    other = hours.attrs["not_usage"].set_index("charge_category")
    assert other["effective_cost"].to_dict() == {"Adjustment": 3.0, "Credit": -100.0,
                                                 "Purchase": 0.0, "Tax": 52.0}
    assert other.loc["Purchase", "billed_cost"] == 8760.0 and other["lines"].sum() == 4
    costed = mo.cost_usage(te.read_telemetry(week.telemetry), hours)
    row = costed.attrs["report"].set_index("check").loc["bill lines that are not usage"]
    assert row["rows"] == 4 and row["usd"] == pytest.approx(-45.0)
    assert costed["cost_usd"].sum() + row["usd"] == pytest.approx(bill["EffectiveCost"].sum())


# ------------------------------------------------------------------ focus-validator


FAKE_VALIDATOR = '''#!{python}
import sys
if "--supported-versions" in sys.argv:
    print("0.5\\n1.0\\n1.0-preview")
    sys.exit(0)
out = sys.argv[sys.argv.index("--output-destination") + 1]
version = sys.argv[sys.argv.index("--validate-version") + 1]
open(out, "w").write(
    '<testsuites><testsuite name="a"><testcase name="BilledCost_Required :: ColumnRequired"/>'
    '</testsuite><testsuite name="b"><testcase name="InvoiceId_Required :: ColumnRequired">'
    '<failure message="InvoiceId is a required column (' + version + ')">Failed</failure>'
    '</testcase></testsuite></testsuites>')
'''


def test_focus_conformance_reads_each_rule_the_validator_reports(tmp_path, monkeypatch):
    import sys

    fake = tmp_path / "focus-validator"
    fake.write_text(FAKE_VALIDATOR.format(python=sys.executable))
    fake.chmod(0o755)
    bill = tmp_path / "bill.csv"
    mo.synthetic_telemetry(days=1, replicas=3, freq="15min").bill.to_csv(bill, index=False)
    out = bi.focus_conformance(bill, validator=fake)
    assert out[["rule", "passed"]].values.tolist() == [["BilledCost_Required", True],
                                                        ["InvoiceId_Required", False]]
    assert out.attrs["version"] == "1.0" and "(1.0)" in out.message.iloc[1]  # the export's own
    with pytest.raises(ValueError, match="not '1.2'"):
        bi.focus_conformance(bill, validator=fake, version="1.2")
    monkeypatch.delenv("COSTKIT_FOCUS_VALIDATOR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="pipx install focus-validator"):
        bi.focus_conformance(bill)


def test_focus_conformance_with_the_real_validator(tmp_path):
    import os
    import shutil

    exe = os.environ.get("COSTKIT_FOCUS_VALIDATOR") or shutil.which("focus-validator")
    if not exe:
        pytest.skip("focus-validator is not installed (pipx install focus-validator; see "
                    "costkit.billing.focus_conformance)")
    bill = tmp_path / "bill.csv"
    mo.synthetic_telemetry(days=1, replicas=3, freq="15min").bill.to_csv(bill, index=False)
    out = bi.focus_conformance(bill)
    assert len(out) > 100 and out.passed.any()
    # the columns costkit reads pass their rules; the synthetic bill leaves others out
    assert out.set_index("rule").loc["BilledCost_Required", "passed"]
