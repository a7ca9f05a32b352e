"""No data lost silently and no time zone guessed: every telemetry row and every unit of billed
money is in the output or in a report with its amount, whatever the machine's time zone. Each
case reproduces an input that was silently mishandled before."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from costkit import billing as bi
from costkit import monitoring as mo
from costkit import telemetry as te
from costkit._tables import DataFileError

ROOT = Path(__file__).resolve().parents[1]
T0 = pd.Timestamp("2026-11-02", tz="UTC")


def samples(replica="r1", minutes=120, util=0.5, requests=10.0, **extra):
    ts = T0 + pd.to_timedelta(np.arange(minutes), unit="min")
    return pd.DataFrame({"timestamp": ts, "replica_id": replica, "gpu_utilization": util,
                         "requests": requests, "model": "m", "team": "t", **extra})


def bill(rid="r1", hours=2, usd=2.0):
    start = T0 + pd.to_timedelta(np.arange(hours), unit="h")
    return pd.DataFrame({"ChargePeriodStart": start, "ChargePeriodEnd": start + pd.Timedelta("1h"),
                         "ResourceId": rid, "ServiceName": "Compute", "BilledCost": usd,
                         "EffectiveCost": usd, "Tags": json.dumps({"team": "t"})})


def dropped_requests(tel):
    r = tel.report
    return r.loc[r.action == "dropped", "requests"].sum()


# --------------------------------------------------------------------------- bills
def test_a_line_without_its_period_is_refused_with_its_amount(tmp_path):
    b = bill(hours=3, usd=[1.0, 0.0001, 2.0]).astype({"ChargePeriodStart": object})
    b.loc[1, "ChargePeriodStart"] = None
    b.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataFileError, match=r"1 billing line\(s\) have no ChargePeriodStart.*"
                                            r"0\.0001 billed"):
        bi.focus_resource_hours(tmp_path / "b.parquet")


def test_the_same_file_twice_is_refused(tmp_path):
    bill().to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataFileError, match="more than once"):
        bi.focus_summary([tmp_path / "b.csv", str(tmp_path / "*.csv")])


def test_bill_as_a_dataframe_equals_the_file(tmp_path):
    b = bill(hours=5, usd=3.0)
    b.to_csv(tmp_path / "b.csv", index=False)
    pd.testing.assert_frame_equal(bi.focus_resource_hours(b),
                                  bi.focus_resource_hours(tmp_path / "b.csv"))


@pytest.mark.parametrize("change, match", [
    (lambda b: b.assign(BilledCost="12.5 USD"), "'BilledCost': is string, not a number"),
    (lambda b: b.assign(Tags="{team: x"), "'Tags': 2 line\\(s\\) are not a JSON object"),
    (lambda b: b.assign(ChargePeriodStart="yesterday"),
     "'ChargePeriodStart': 2 billing line\\(s\\) are not an ISO 8601 date-time, e.g. 'yesterday'"),
    (lambda b: b.assign(ChargePeriodEnd=True), "'ChargePeriodEnd': is boolean, not a timestamp"),
    (lambda b: b.drop(columns="ResourceId"), "missing column\\(s\\) ResourceId"),
])  # fmt: skip
def test_bad_bill_columns_get_a_clear_error(tmp_path, change, match):
    change(bill()).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataFileError, match=match):
        bi.focus_summary(tmp_path / "b.csv")


def test_bill_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="paths must be"):
        bi.focus_summary(123)


# --------------------------------------------------------------------------- time zones
SCRIPT = """
import json, sys, pathlib
from costkit import billing as bi, monitoring as mo, telemetry as te
d = pathlib.Path(sys.argv[1])
tel = te.read_telemetry(d / "tel.csv")
hours = bi.focus_resource_hours(d / "bill.parquet")
costed = mo.cost_usage(tel, hours)
day = bi.focus_summary(d / "bill.csv", by=(), period="day")
print(json.dumps({"unobserved": round(float(costed.unobserved_usd.sum()), 6),
                  "idle": round(float(costed.idle_usd.sum()), 6),
                  "first_hour": str(hours.hour.min()), "days": len(day),
                  "first_day": str(day.period.min()),
                  "total": round(float(costed.cost_usd.sum()), 6)}))
"""


def test_same_answer_in_every_machine_time_zone(tmp_path):
    week = mo.synthetic_telemetry(days=1, replicas=3, seed=2)
    week.telemetry.to_csv(tmp_path / "tel.csv", index=False)
    week.bill.to_parquet(tmp_path / "bill.parquet")
    week.bill.to_csv(tmp_path / "bill.csv", index=False)
    answers = {}
    for tz in ("UTC", "America/New_York", "Asia/Shanghai"):
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], check=True,
                             capture_output=True, text=True, env={**os.environ, "TZ": tz})
        answers[tz] = json.loads(out.stdout)
    first = answers["UTC"]
    assert first["unobserved"] == 0 and first["days"] == 1
    assert first["first_hour"] == first["first_day"] == "2026-11-02 00:00:00+00:00"
    assert all(a == first for a in answers.values()), answers


# --------------------------------------------------------------------------- telemetry rows
def test_missing_replica_id_is_dropped_and_counted():
    df = samples(minutes=60, requests=1.0)
    df["replica_id"] = df["replica_id"].astype(object)
    df.loc[::2, "replica_id"] = np.nan
    tel = te.read_telemetry(df)
    rep = tel.report.set_index("check")
    assert rep.loc["missing replica_id", "rows"] == 30
    assert rep.loc["missing replica_id", "requests"] == 30.0
    assert mo.usage_by_hour(tel)["requests"].sum() + dropped_requests(tel) == 60.0


def test_naive_and_zoned_timestamps_mixed_are_refused_not_dropped():
    df = samples(minutes=4)
    df["timestamp"] = ["2026-11-02T00:00:00Z", "2026-11-02T00:01:00", "2026-11-02T02:02:00+02:00",
                       "2026-11-02T00:03:00"]
    with pytest.raises(DataFileError, match="row 1, column 'timestamp'.*no time zone.*timezone="):
        te.read_telemetry(df)
    tel = te.read_telemetry(df, timezone="UTC")
    assert len(tel.frame) == 4 and tel.frame.timestamp.diff().dropna().eq(
        pd.Timedelta("1min")).all()
    local = te.read_telemetry(df.assign(timestamp=["2026-11-02T08:00:00", "2026-11-02T08:01:00",
                                                   "2026-11-02T08:02:00", "2026-11-02T08:03:00"]),
                              timezone="Asia/Shanghai")
    assert local.frame.timestamp.iloc[0] == T0


def test_all_naive_timestamps_are_read_as_utc_and_said():
    df = samples(minutes=3).assign(timestamp=lambda d: d.timestamp.dt.tz_localize(None))
    tel = te.read_telemetry(df)
    assert tel.frame.timestamp.iloc[0] == T0
    assert "read as UTC" in repr(tel)


def test_epoch_numbers_need_their_unit():
    df = samples(minutes=3).assign(timestamp=[1_790_000_000, 1_790_000_060, 1_790_000_120])
    with pytest.raises(DataFileError, match="epoch_unit='s'"):
        te.read_telemetry(df)
    tel = te.read_telemetry(df, epoch_unit="s")
    assert tel.interval == pd.Timedelta("1min")
    assert tel.frame.timestamp.iloc[0] == pd.Timestamp(1_790_000_000, unit="s", tz="UTC")


def test_an_interval_longer_than_the_sampling_is_refused():
    with pytest.raises(DataFileError, match="counted twice"):
        te.read_telemetry(samples(minutes=6), interval="1h")
    assert te.read_telemetry(samples(minutes=6), interval="1min").interval_hours == 1 / 60


@pytest.mark.parametrize("util, match", [
    ([0.5, 0.6, 1.2, 0.4], "above 1 but most values are below 1"),
    ([0.0, 1.0, 0.0, 1.0], "every value is 0 or 1"),
])  # fmt: skip
def test_utilisation_unit_is_asked_when_the_data_cannot_tell(util, match):
    with pytest.raises(DataFileError, match=match):
        te.read_telemetry(samples(minutes=4, util=util))


def test_a_replica_in_per_cent_does_not_convert_the_others():
    df = pd.concat([samples("a", 4, util=0.5), samples("b", 4, util=55.0)], ignore_index=True)
    with pytest.raises(DataFileError, match="replica 'b' looks like per cent.*'a' like a fraction"):
        te.read_telemetry(df)


def test_explicit_utilisation_units():
    idle = samples(minutes=4, util=[0.0, 1.0, 0.0, 1.0])
    assert te.read_telemetry(idle, utilization_unit="percent").frame.gpu_utilization.max() == 0.01
    assert te.read_telemetry(idle, utilization_unit="fraction").frame.gpu_utilization.max() == 1
    with pytest.raises(DataFileError, match="allows at most 1"):
        te.read_telemetry(samples(minutes=4, util=[0.5, 1.2, 0.5, 0.5]),
                          utilization_unit="fraction")


@pytest.mark.parametrize("col, value, match", [
    ("requests", np.inf, "not a finite number"), ("gpus", 0.0, "whole number of GPUs"),
    ("gpus", 1.5, "whole number of GPUs"), ("requests", True, "not a number"),
])  # fmt: skip
def test_impossible_samples_are_refused(col, value, match):
    with pytest.raises(DataFileError, match=match):
        te.read_telemetry(samples(minutes=3).assign(**{col: value}))


def test_prometheus_infinities_are_dropped_and_counted():
    payload = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"replica": "a"},
         "values": [[T0.timestamp() + 60 * i, v] for i, v in enumerate(["0.5", "+Inf", "-Inf"])]}]}}
    df = te.read_prometheus({"gpu_utilization": payload})
    assert df.attrs["dropped"] == {"gpu_utilization": 2} and len(df) == 1


@pytest.mark.parametrize("payload, match", [
    ("[1, 2]", "a JSON object"), ("{not json", "cannot read"), (7, "a dict, JSON text"),
    ({"status": "success", "data": []}, "matrix"),
    ({"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {"replica": "a"},
                                                                      "values": [[1]]}]}},
     "not \\[time, value\\] pairs"),
])  # fmt: skip
def test_malformed_prometheus_gets_a_clear_error(payload, match):
    with pytest.raises((ValueError, TypeError), match=match):
        te.read_prometheus({"requests": payload})


def test_categorical_columns_as_the_generator_makes_them():
    df = samples(minutes=4).astype({"replica_id": "category", "model": "category",
                                    "team": "category"})
    df["gpu"] = pd.Categorical(["L4", None, "L4", "L4"])
    tel = te.read_telemetry(df)
    assert len(tel.frame) == 4 and set(tel.frame.gpu) == {"L4", ""}


@pytest.mark.parametrize("content, match", [
    (b"", "empty"), (b"timestamp,replica_id\n1,2,3,4\n", "not a readable CSV"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8|not a readable"),
    ("timestamp,replica_id,gpu_utilization,requests\n2026-11-02,caf\xe9,0.5,1\n".encode("latin-1"),
     "not UTF-8 text"),
])  # fmt: skip
def test_unreadable_telemetry_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=f"{path}: .*({match})"):
        te.read_telemetry(path)


def test_fake_parquet_names_the_file(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_text("timestamp,replica_id\n")
    with pytest.raises(DataFileError, match=f"{path}: not a readable Parquet file"):
        te.read_telemetry(path)


# --------------------------------------------------------------------------- cost of usage
def test_cost_usage_takes_a_dataframe_of_samples():
    df = samples(minutes=120)
    a = mo.cost_usage(df, bi.focus_resource_hours(bill()))
    b = mo.cost_usage(te.read_telemetry(df), bi.focus_resource_hours(bill()))
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(TypeError, match="telemetry is a costkit.telemetry.Telemetry"):
        mo.cost_usage(42, bi.focus_resource_hours(bill()))


@pytest.mark.parametrize("change, match", [
    (lambda h: h.drop(columns="billed_cost"), "lacks column\\(s\\) billed_cost"),
    (lambda h: h.assign(hour=h.hour.dt.tz_localize(None)), "no time zone"),
    (lambda h: pd.concat([h, h]), "appears twice"),
    (lambda h: h.assign(effective_cost=np.inf), "not a finite number"),
])  # fmt: skip
def test_cost_usage_checks_the_bill_hours(change, match):
    with pytest.raises(ValueError, match=match):
        mo.cost_usage(samples(minutes=120), change(bi.focus_resource_hours(bill())))


def test_money_is_conserved_from_bill_to_chargeback():
    week = mo.synthetic_telemetry(days=1, replicas=6, seed=3)
    tel = te.read_telemetry(week.telemetry)
    hours = bi.focus_resource_hours(week.bill)
    costed = mo.cost_usage(tel, hours)
    cb = mo.chargeback(costed, by=("team", "model"), freq="D")
    billed = week.bill["EffectiveCost"].sum()
    assert hours["effective_cost"].sum() == pytest.approx(billed, rel=1e-12)
    assert cb["cost_usd"].sum() == pytest.approx(billed, rel=1e-12)
    assert (cb["idle_usd"].sum() + cb["unobserved_usd"].sum()
            + (costed["busy_usd"]).sum()) == pytest.approx(billed, rel=1e-9)
    assert costed["requests"].sum() + dropped_requests(tel) == pytest.approx(
        week.telemetry["requests"].sum())
