"""The pipeline on pandas and on an engine, table by table: shared by the DuckDB and Spark tests.

`pandas_tables` runs costkit.monitoring on the files; `fleet_tables` runs costkit.fleet on the
same files through a connection; `assert_same` compares them, money to the cent and every other
number to 1e-9 relative.
"""

from __future__ import annotations

import pandas as pd

from costkit import billing as bi
from costkit import fleet as fl
from costkit import monitoring as mo
from costkit import telemetry as te

SLO = {"re-ranker": 0.1, "query-rewriter": 1.0, "recommender": 0.05}
MONEY = ("cost_usd", "billed_usd", "idle_usd", "unobserved_usd", "usd")


def pandas_tables(telemetry, bill) -> dict:
    tel = te.read_telemetry(telemetry)
    costed = mo.cost_usage(tel, bi.focus_resource_hours(bill))
    return {"report": tel.report, "join": costed.attrs["report"].drop(columns="detail"),
            "chargeback": mo.chargeback(costed), "total": mo.chargeback(costed, freq=None),
            "hourly": mo.chargeback(costed, by="model", freq="h"),
            "slo": mo.slo_violations(tel, SLO), "alerts": mo.alerts(costed)}


def fleet_tables(telemetry, bill, con) -> dict:
    tel = fl.read_telemetry(telemetry, con=con)
    costed = fl.cost_usage(tel, fl.bill_hours(bill, con=con))
    # the join reports differ only in where they point for the lines that are not usage
    return {"report": tel.report, "join": costed.report.drop(columns="detail"),
            "chargeback": fl.chargeback(costed), "total": fl.chargeback(costed, freq=None),
            "hourly": fl.chargeback(costed, by="model", freq="h"),
            "slo": fl.slo_violations(tel, SLO), "alerts": fl.alerts(costed)}


def assert_same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for name in a:
        x, y = a[name], b[name]
        assert list(x.columns) == list(y.columns), name
        assert len(x) == len(y), name
        for c in x.columns:
            if c in MONEY:  # to the cent, and in fact much closer
                gap = (x[c].to_numpy(float) - y[c].to_numpy(float))
                assert abs(gap).max(initial=0.0) < 0.005, (name, c)
        pd.testing.assert_frame_equal(x, y, check_dtype=False, check_index_type=False,
                                      check_freq=False, rtol=1e-9, obj=name)
