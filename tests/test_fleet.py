"""costkit.fleet on DuckDB: the same tables as costkit.monitoring, to the cent; its refusals.

The Spark half is tests/test_fleet_spark.py (make test-spark).
"""

import glob

import numpy as np
import pandas as pd
import pytest
from _hyp import examples
from fleet_cases import SLO, assert_same, fleet_tables, pandas_tables
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("ibis", reason="costkit.fleet needs the fleet extra (Ibis)")

from test_monitoring import T0, bill_lines, samples  # noqa: E402  (the same hand-made frames)

from costkit import fleet as fl  # noqa: E402
from costkit import monitoring as mo  # noqa: E402
from costkit._tables import DataFileError  # noqa: E402


def con():
    return fl.connect(threads=1, memory_limit="1GB")


def _frame(pattern):
    """The files of a glob, read by pandas in name order (days in order)."""
    return pd.concat([pd.read_parquet(f) for f in sorted(glob.glob(pattern))],
                     ignore_index=True)


@pytest.fixture(scope="module")
def week_files(tmp_path_factory):
    """A week with every kind of row: gaps, an hour nobody measured, one nobody billed,
    purchases, taxes and credits; telemetry and bill as daily Parquet files."""
    d = tmp_path_factory.mktemp("week")
    w = mo.synthetic_telemetry(days=7, replicas=24, freq="5min", seed=3)
    tel = w.telemetry
    gone = (tel.replica_id == "rr-000") & (tel.timestamp < T0 + pd.Timedelta("6h"))
    tel = tel[~gone]                                        # billed, never measured
    bill = w.bill[~((w.bill.ResourceId == "rec-001")
                    & (w.bill.ChargePeriodStart >= T0 + pd.Timedelta("2D")))]  # unbilled
    extra = bill.iloc[:3].copy()
    extra["ChargeCategory"] = ["Purchase", "Tax", "Credit"]
    extra["EffectiveCost"] = [0.0, 12.5, -40.0]
    extra["BilledCost"] = [900.0, 12.5, -40.0]
    bill = pd.concat([bill, extra], ignore_index=True)
    for day, part in tel.groupby(tel.timestamp.dt.date):
        part.to_parquet(d / f"tel-{day}.parquet", index=False)
    for day, part in bill.groupby(bill.ChargePeriodStart.dt.date):
        part.to_parquet(d / f"bill-{day}.parquet", index=False)
    return {"telemetry": str(d / "tel-*.parquet"), "bill": str(d / "bill-*.parquet")}


# ------------------------------------------------------------------ the same numbers


def test_the_bundled_sample_gives_the_tables_of_pandas():
    files = mo.sample_files()
    assert_same(pandas_tables(files["telemetry"], files["bill"]),
                fleet_tables(files["telemetry"], files["bill"], con()))


def test_a_week_of_parquet_with_gaps_unbilled_and_unmeasured_hours_gives_the_same_tables(
        week_files):
    a = pandas_tables(_frame(week_files["telemetry"]), week_files["bill"])
    b = fleet_tables(week_files["telemetry"], week_files["bill"], con())
    assert_same(a, b)
    join = b["join"].set_index("check")
    assert join.at["billed hours without telemetry", "rows"] == 6
    assert join.at["telemetry hours without a bill line", "rows"] > 0
    assert join.at["bill lines that are not usage", "usd"] == pytest.approx(12.5 - 40.0)
    # the owner of an hour nobody measured comes from its bill line's tags
    assert b["chargeback"]["unobserved_usd"].sum() == pytest.approx(join.at[
        "billed hours without telemetry", "usd"])
    assert (b["report"].set_index("check").at["missing samples", "rows"]) > 0
    assert len(b["alerts"]) > 0


def test_money_is_conserved_from_the_bill_to_the_chargeback(week_files):
    c = con()
    bill = fl.bill_hours(week_files["bill"], con=c)
    costed = fl.cost_usage(fl.read_telemetry(week_files["telemetry"], con=c), bill)
    usage = _frame(week_files["bill"])
    usage = usage[usage.ChargeCategory.str.lower() == "usage"]
    cb = fl.chargeback(costed)
    assert cb["cost_usd"].sum() == pytest.approx(usage.EffectiveCost.sum(), rel=1e-12)
    assert set(bill.not_usage.charge_category) == {"Purchase", "Tax", "Credit"}


def test_a_line_of_several_hours_is_spread_evenly_as_pandas_does():
    b = bill_lines(hours=1, usd=24.0)
    b["ChargePeriodEnd"] = b["ChargePeriodStart"] + pd.Timedelta("1D")
    c = con()
    hours = c.execute(fl.bill_hours(b, con=c).table.order_by("hour"))
    assert len(hours) == 24 and np.allclose(hours.effective_cost, 1.0)  # 24 / 24 by hand


@settings(max_examples=examples(8))
@given(util=st.floats(0.0, 1.0), requests=st.floats(0.0, 1e6), usd=st.floats(0.0, 1e4),
       minutes=st.integers(61, 240))
def test_generated_telemetry_gives_the_chargeback_of_pandas(util, requests, usd, minutes):
    tel = pd.concat([samples("a", minutes, util=util, requests=requests),
                     samples("b", minutes, util=max(util / 2, 0.01), requests=requests / 3)],
                    ignore_index=True)
    bill = pd.concat([bill_lines("a", 3, usd), bill_lines("b", 2, usd / 2)], ignore_index=True)
    from costkit import billing as bi
    from costkit import telemetry as te

    want = mo.chargeback(mo.cost_usage(te.read_telemetry(tel), bi.focus_resource_hours(bill)))
    c = con()
    got = fl.chargeback(fl.cost_usage(fl.read_telemetry(tel, con=c), fl.bill_hours(bill, con=c)))
    pd.testing.assert_frame_equal(want, got, check_dtype=False, check_index_type=False,
                                  check_freq=False, rtol=1e-9, atol=1e-9)


def test_nan_is_missing_as_in_pandas_not_above_every_slo():
    tel = samples(minutes=4, latency_p95_s=[0.1, np.nan, 0.3, np.nan])
    tel.loc[3, "gpu_utilization"] = np.nan  # dropped and counted, as pandas does
    got = fl.slo_violations(fl.read_telemetry(tel, con=con()), 0.2)
    assert got["samples"].iloc[0] == 3 and got["violations"].iloc[0] == 1


def test_hostile_names_are_data_not_sql():
    evil = "x'); DROP TABLE t; --"
    tel = samples(evil, 60, latency_p95_s=0.5).assign(model=evil)
    c = con()
    got = fl.slo_violations(fl.read_telemetry(tel, con=c), {evil: 0.2})
    assert got.index.tolist() == [evil] and got["violations"].iloc[0] == 60


# ------------------------------------------------------------------ the reader's report


def test_the_report_counts_what_it_drops_converts_and_finds():
    df = pd.concat([samples("a", 5, util=50.0), samples("b", 5, util=100.0)], ignore_index=True)
    df.loc[2, "requests"] = np.nan                    # dropped: cannot be costed
    df = pd.concat([df, df.iloc[[6]]], ignore_index=True)   # an identical duplicate of b
    df = df.drop(index=8)                              # a missing sample of b
    tel = fl.read_telemetry(df, con=con())
    rep = tel.report.set_index("check")
    assert rep.loc["utilisation in per cent", "action"] == "converted"
    assert rep.loc["missing requests", "rows"] == 1
    assert rep.loc["duplicate sample", "rows"] == 1
    assert rep.loc["duplicate sample", "requests"] == 10.0
    assert rep.loc["missing samples", "rows"] == 2
    assert rep.loc["samples kept", "rows"] == 8
    assert tel.interval == pd.Timedelta("1min")
    assert float(tel.con.execute(tel.table.gpu_utilization.max())) == 1.0
    assert "duplicate sample: 1 rows dropped" in repr(tel)


@pytest.mark.parametrize("change, match", [
    (lambda d: d.drop(columns="requests"), "missing column"),
    (lambda d: d.assign(gpu_utilization=[30.0, 130.0, 20.0]), "above 100"),
    (lambda d: d.assign(requests=[1.0, -1.0, 2.0]), "replica 'r1' at .*'requests'.* negative"),
    (lambda d: d.assign(requests=["1", "x", "2"]), "'x' is not a number"),
    (lambda d: d.assign(errors=[0.0, np.inf, 0.0]), "not a finite number"),
    (lambda d: d.assign(gpus=[1.0, 1.5, 1.0]), "whole number of GPUs"),
    (lambda d: d.assign(gpu_utilization=[0.0, 1.0, 1.0]), "every value is 0 or 1"),
    (lambda d: d.assign(timestamp=["2026-11-02T00:00:00Z", "2026-11-02 00:01:00",
                                   "2026-11-02T00:02:00Z"]), "no time zone"),
    (lambda d: d.assign(timestamp=[1, 2, 3]), "epoch_unit"),
    (lambda d: pd.concat([d, d.iloc[[1]].assign(requests=99.0)]), "different samples"),
    (lambda d: d.assign(timestamp=T0 + pd.to_timedelta([0, 20, 40], unit="s")), None),
])
def test_bad_telemetry_is_refused_with_an_example(change, match):
    df = change(samples(minutes=3))
    if match is None:  # samples 20 s apart read with interval=1min: time counted twice
        with pytest.raises(DataFileError, match="closer than interval"):
            fl.read_telemetry(df, con=con(), interval="1min")
        return
    with pytest.raises(DataFileError, match=match):
        fl.read_telemetry(df, con=con())


def test_a_zone_other_than_utc_and_an_unknown_engine_are_refused():
    with pytest.raises(ValueError, match="UTC only"):
        fl.read_telemetry(samples(minutes=3), con=con(), timezone="Asia/Shanghai")
    with pytest.raises(ValueError, match="engine must be one of"):
        fl.connect("sqlite")
    with pytest.raises(FileNotFoundError, match="no telemetry file matches"):
        fl.read_telemetry("/nonexistent/*.parquet", con=con())


def test_naive_and_text_timestamps_are_utc_and_said_so(tmp_path):
    df = samples(minutes=3)
    df["timestamp"] = ["2026-11-02 00:00:00", "2026-11-02 00:01:00", "2026-11-02 00:02:00"]
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    tel = fl.read_telemetry(path, con=con())
    assert "timestamps without a zone" in set(tel.report.check)
    first = tel.con.execute(tel.table.timestamp.min())
    assert pd.Timestamp(first).tz_localize(None) == T0.tz_localize(None)
    offset = df.assign(timestamp=["2026-11-02T08:00:00+08:00", "2026-11-02T08:01:00+08:00",
                                  "2026-11-02T08:02:00+08:00"])
    tel = fl.read_telemetry(offset, con=con())
    assert pd.Timestamp(tel.con.execute(tel.table.timestamp.min())).tz_localize(None) == \
        T0.tz_localize(None)  # 08:00 in +08:00 is 00:00 UTC


# ------------------------------------------------------------------ the bill


@pytest.mark.parametrize("change, match", [
    (lambda b: b.drop(columns="Tags"), "missing column"),
    (lambda b: b.assign(ChargePeriodStart=[None, b.ChargePeriodStart[1]]), "no ChargePeriodStart"),
    (lambda b: b.assign(BillingCurrency=["USD", "CNY"]), "mixes currencies"),
    (lambda b: b.assign(EffectiveCost=[1.0, np.inf]), "infinite or NaN"),
    (lambda b: b.assign(ChargePeriodEnd=b.ChargePeriodStart), "end before they start"),
    (lambda b: b.assign(ChargePeriodEnd=b.ChargePeriodStart + pd.Timedelta("400D")),
     "more than a year"),
])
def test_bad_bills_are_refused(change, match):
    with pytest.raises(DataFileError, match=match):
        fl.bill_hours(change(bill_lines()), con=con())


def test_the_telemetry_and_the_bill_must_share_a_connection():
    with pytest.raises(ValueError, match="different connections"):
        fl.cost_usage(fl.read_telemetry(samples(), con=con()), fl.bill_hours(bill_lines(),
                                                                             con=con()))


def test_chargeback_and_slo_arguments_are_checked():
    c = con()
    tel = fl.read_telemetry(samples(latency_p95_s=0.5), con=c)
    costed = fl.cost_usage(tel, fl.bill_hours(bill_lines(), con=c))
    with pytest.raises(ValueError, match="freq must be one of"):
        fl.chargeback(costed, freq="W")
    with pytest.raises(ValueError, match="no SLO given for model m"):
        fl.slo_violations(tel, {"other": 1.0})
    with pytest.raises(ValueError, match="no 'latency_p50_s' values"):
        fl.slo_violations(tel, 1.0, column="latency_p50_s")
    assert fl.slo_violations(tel, SLO | {"m": 0.4})["violations"].iloc[0] == 120


def test_synthetic_fleet_files_are_written_chunk_by_chunk(tmp_path):
    out = mo.synthetic_fleet_files(tmp_path, chunks=3, days=1, replicas=6, freq="30min")
    tel = fl.read_telemetry(out["telemetry"], con=con())
    kept = tel.report.set_index("check")
    assert kept.at["rows read", "rows"] == out["samples"]
    assert kept.at["rows read", "requests"] == pytest.approx(out["requests"])
    ids = tel.con.execute(tel.table.select("replica_id").distinct())["replica_id"]
    assert {i.split("-")[0] for i in ids} == {"c0", "c1", "c2"}
    with pytest.raises(ValueError, match="chunks"):
        mo.synthetic_fleet_files(tmp_path, chunks=0)


def test_the_duplicate_check_in_time_windows_finds_what_one_window_finds(monkeypatch):
    df = pd.concat([samples("a", 30), samples("b", 30)], ignore_index=True)
    df = pd.concat([df, df.iloc[[0, 17, 29, 45, 59]]], ignore_index=True)  # edges included
    one = fl.read_telemetry(df, con=con()).report
    monkeypatch.setattr(fl, "_window_rows", lambda c: 7)  # 60 samples: 9 windows
    many = fl.read_telemetry(df, con=con()).report
    pd.testing.assert_frame_equal(one, many)
    assert one.set_index("check").at["duplicate sample", "rows"] == 5
