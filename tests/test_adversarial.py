"""The adversarial suite: generated broken scenarios, telemetry and bills.

Whatever hypothesis generates, the command line exits 0 or 2 (never 1, a bug), no money comes
out NaN, infinite or negative, money is conserved from the bill to the chargeback, and telemetry
rows are conserved into the output or the report. ``make test`` runs it derandomised (the same
examples everywhere); ``make fuzz`` runs many more random examples.
"""

import copy
import datetime
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _hyp import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costkit import billing as bi
from costkit import cli
from costkit import monitoring as mo
from costkit import telemetry as te
from costkit._tables import DataFileError
from costkit.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = yaml.safe_load((ROOT / "examples" / "small.yaml").read_text())
T0 = pd.Timestamp("2026-11-02", tz="UTC")
# a deadline per example: an input that takes a minute is a bug here, whatever the machine
SETTINGS = dict(deadline=datetime.timedelta(seconds=60),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --------------------------------------------------------------------------- hostile values
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
NASTY = st.sampled_from([
    "", " ", "0", "-1", "1e400", "-1e400", "nan", ".inf", "NaN", "1_000", "30%", "300%", "no",
    "yes", "~", "100 GB", "100 ms", "2 months", "Gb", "=HYPERLINK(\"x\")", "\x1b[2J", "<img>",
    "$\\frac{1}$", "'; DROP TABLE x; --", "1:20", "0x1F", "2026-01-01", "9" * 400,
])  # fmt: skip
HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(10**15, 10**400),
    st.floats(allow_nan=True, allow_infinity=True), NASTY, TEXT,
    st.lists(st.integers(-3, 30), max_size=3), st.dictionaries(TEXT, st.integers(), max_size=2),
)  # fmt: skip
PLAUSIBLE = st.one_of(
    st.integers(1, 64), st.floats(0.001, 0.999), st.floats(1.0, 5_000.0),
    st.sampled_from(["L4", "H100-SXM", "A100-80GB", "BERT-base", "MiniLM-L6", "fp16", "int8",
                     "200 ms", "1 month", "25%", "a name", [0], [0, 1]]),
)  # fmt: skip
VALUE = st.one_of(PLAUSIBLE, HOSTILE)

PATHS = [
    ("site", "sessions_per_day"), ("site", "gross_margin"), ("site", "conversion_rate"),
    ("site", "average_order_value_usd"), ("timeline", "horizon_months"),
    ("timeline", "annual_discount_rate"), ("timeline", "latency_elasticity_per_100ms"),
    ("people", "usd_per_engineer_day"), ("options", 0, "effects", "cvr_lift"),
    ("options", 0, "serving", 0, "batch_size"), ("options", 0, "serving", 0, "seq_len"),
    ("options", 0, "serving", 0, "gpu"), ("options", 0, "serving", 0, "model"),
    ("options", 0, "serving", 0, "dtype"), ("options", 0, "serving", 0, "slo_s"),
    ("options", 0, "serving", 0, "candidates_per_query"),
    ("options", 0, "serving", 0, "share_of_searches"), ("options", 0, "launch_month"),
    ("options", 0, "ramp_months"), ("options", 0, "name"), ("name",),
    ("traffic", "days"), ("traffic", "promotion_days"), ("traffic", "promotion_multiplier"),
    ("monte_carlo", "draws"), ("options", 0, "running", "engineers_fte"),
    ("options", 0, "engineering", 0, "days"),
]  # fmt: skip


def _set(data, path, value):
    node = data
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        else:
            node = node[key]
    node[path[-1]] = value


@st.composite
def broken_scenarios(draw):
    data = copy.deepcopy(SMALL)
    data["traffic"] = {"days": 2}
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=0, max_size=3)):
        _set(data, path, draw(VALUE))
    return data


def _money(result):
    table = result.table
    for col in ("one_off_usd", "npv_usd"):
        if col in table:
            assert np.isfinite(table[col].to_numpy(dtype=float)).all(), (col, table[col])
    assert (table["one_off_usd"].to_numpy(dtype=float) >= 0).all()
    for led in result.ledgers.values():
        for _, usd in led.by_phase().items():
            assert math.isfinite(usd) and usd >= 0


@settings(max_examples=examples(40), **SETTINGS)
@given(data=broken_scenarios())
def test_broken_scenarios_exit_0_or_2_and_money_is_sane(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("adv") / "s.yaml"
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        assume(False)
    path.write_text(text, encoding="utf-8")
    code = cli.main(["validate", str(path)])
    assert code in (0, 2)
    code = cli.main(["report", str(path), "--format", "json", "--draws", "0",
                     "--out", str(path.with_suffix(".json"))])
    assert code in (0, 2)
    if code == 0:
        out = json.loads(path.with_suffix(".json").read_text())
        assert out["recommended"] and out["best_central_npv_option"]
        _money(Scenario.from_yaml(path).evaluate(draws=0))


YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(lambda k, v, n: "\n".join([f"{k}: {v}"] * n), TEXT, NASTY, st.integers(1, 3)),
    st.builds(lambda d: "a: " + "[" * d + "]" * d, st.integers(1, 200)),
    st.builds(lambda n: "a: &a [1]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} "
                                                 f"[{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                                                 for i in range(n)), st.integers(1, 9)),
)  # fmt: skip


@settings(max_examples=examples(60), **SETTINGS)
@given(text=YAML_TEXT)
def test_any_text_as_a_scenario_exits_0_or_2(tmp_path_factory, capsys, text):
    path = tmp_path_factory.mktemp("adv") / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code = cli.main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "\x1b" not in err


@settings(max_examples=examples(40), **SETTINGS)
@given(data=broken_scenarios())
def test_the_library_raises_scenario_errors_only(data):
    try:
        Scenario.from_dict(data).evaluate(draws=0)
    except ScenarioError:
        pass


# --------------------------------------------------------------------------- telemetry
UTIL = st.one_of(st.floats(0, 1), st.floats(0, 1), st.floats(0, 100), st.just(np.nan),
                 st.just(np.inf), st.floats(-5, 150), st.sampled_from([0.0, 1.0]))
REQS = st.one_of(st.floats(0, 1e4), st.floats(0, 1e4), st.just(np.nan), st.just(np.inf),
                 st.floats(-10, 0))


@st.composite
def telemetry_frames(draw):
    n_rep = draw(st.integers(1, 3))
    style = draw(st.sampled_from(["iso"] * 4 + ["naive", "mixed", "epoch"]))
    hostile = draw(st.booleans())  # half the frames get impossible values somewhere
    rows = []
    for r in range(n_rep):
        minutes = draw(st.integers(2, 8))
        rid = draw(st.one_of(st.just(f"r{r}"), st.just(None), st.just(""), TEXT)
                   if hostile else st.just(f"r{r}"))
        util = draw(st.sampled_from(["fraction", "percent", "any"]))
        for m in range(minutes):
            ts = T0 + pd.Timedelta(minutes=m)
            kind = style if style != "mixed" else draw(st.sampled_from(["iso", "naive"]))
            if hostile and draw(st.integers(0, 4)) == 0:
                kind = draw(st.sampled_from(["bad", "dup"]))
            t = {"iso": ts.isoformat(), "naive": ts.tz_localize(None).isoformat(),
                 "epoch": ts.isoformat(), "bad": "yesterday", "dup": T0.isoformat()}[kind]
            u = {"fraction": st.floats(0, 1), "percent": st.floats(0, 100),
                 "any": UTIL if hostile else st.floats(0, 1)}[util]
            rows.append({"timestamp": t, "replica_id": rid, "gpu_utilization": draw(u),
                         "requests": draw(REQS if hostile else st.floats(0, 1e4)),
                         "gpus": draw(st.sampled_from([1, 2, 0, 1.5] if hostile else [1, 2])),
                         "model": "m", "team": draw(st.sampled_from(["a", "b", None]))})
    df = pd.DataFrame(rows)
    if style == "epoch" and not df.timestamp.eq("yesterday").any():
        df["timestamp"] = pd.to_datetime(df.timestamp).astype("int64") // 10**9
    return df


@settings(max_examples=examples(80), **SETTINGS)
@given(df=telemetry_frames(), unit=st.sampled_from(["auto", "fraction", "percent"]),
       tz=st.sampled_from([None, "UTC", "Asia/Shanghai"]))
def test_telemetry_rows_are_kept_or_reported(df, unit, tz):
    try:
        tel = te.read_telemetry(df, utilization_unit=unit, timezone=tz,
                                epoch_unit="s" if df.timestamp.dtype.kind == "i" else None)
    except (DataFileError, ValueError):
        return
    f = tel.frame
    assert f["gpu_utilization"].between(0, 1).all()
    assert np.isfinite(f["requests"]).all() and (f["requests"] >= 0).all()
    rep = tel.report.set_index("check")
    dropped = tel.report.loc[tel.report.action == "dropped"]
    assert rep.loc["rows read", "rows"] == len(df)
    assert len(f) + dropped["rows"].sum() == len(df)
    assert f["requests"].sum() + dropped["requests"].sum() == pytest.approx(
        df["requests"].sum(), rel=1e-9, abs=1e-9)
    usage = mo.usage_by_hour(tel)
    assert usage["requests"].sum() == pytest.approx(f["requests"].sum(), rel=1e-9, abs=1e-9)


def fleet_outcome(df, unit):
    """``costkit.fleet.read_telemetry`` on DuckDB: refused, or every row kept or reported.

    Returns ``None`` when refused with a clear error, else the telemetry; raises
    AssertionError when a row or a request goes missing or a kept value is impossible.
    """
    from costkit import fleet

    try:
        tel = fleet.read_telemetry(df, con=fleet.connect(threads=1), utilization_unit=unit,
                                   epoch_unit="s" if df.timestamp.dtype.kind == "i" else None)
    except (DataFileError, ValueError):
        return None
    rep = tel.report.set_index("check")
    dropped = tel.report.loc[tel.report.action == "dropped"]
    kept = tel.con.execute(tel.table.aggregate(
        n=tel.table.count(), r=tel.table.requests.sum(), lo=tel.table.gpu_utilization.min(),
        hi=tel.table.gpu_utilization.max(), neg=(tel.table.requests < 0).sum()))
    assert rep.loc["rows read", "rows"] == len(df)
    assert int(kept.n.iloc[0]) + dropped["rows"].sum() == len(df)
    assert float(kept.r.iloc[0] or 0.0) + dropped["requests"].sum() == pytest.approx(
        df["requests"].sum(), rel=1e-9, abs=1e-9)
    if int(kept.n.iloc[0]):
        assert 0 <= kept.lo.iloc[0] and kept.hi.iloc[0] <= 1 and kept.neg.iloc[0] == 0
    return tel


@settings(max_examples=examples(30), **SETTINGS)
@given(df=telemetry_frames(), unit=st.sampled_from(["auto", "fraction", "percent"]))
def test_fleet_telemetry_rows_are_kept_or_reported_and_agree_with_pandas(df, unit):
    pytest.importorskip("ibis")
    tel = fleet_outcome(df, unit)
    if tel is None:
        return
    try:
        ref = te.read_telemetry(df, utilization_unit=unit,
                                epoch_unit="s" if df.timestamp.dtype.kind == "i" else None)
    except (DataFileError, ValueError):
        return  # pandas refuses what a table cannot see (time running backwards in the file)
    a, b = ref.report.set_index("check"), tel.report.set_index("check")
    assert a.at["samples kept", "rows"] == b.at["samples kept", "rows"]
    assert a.at["samples kept", "requests"] == pytest.approx(b.at["samples kept", "requests"],
                                                             rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- bills
@st.composite
def bills(draw):
    n = draw(st.integers(1, 12))
    start = [T0 + pd.Timedelta(hours=draw(st.integers(0, 47))) for _ in range(n)]
    hours = [draw(st.integers(1, 30)) for _ in range(n)]
    cost = [draw(st.floats(0, 1e4, allow_nan=False)) for _ in range(n)]
    rid = [draw(st.sampled_from(["r0", "r1", "r2"])) for _ in range(n)]
    tags = [draw(st.sampled_from(['{"team": "a"}', '{"team": "b", "model": "m"}', "{}",
                                  '{"app.name": "x"}'])) for _ in range(n)]
    zone = draw(st.sampled_from(["UTC", "America/New_York", "Asia/Shanghai"]))
    # FOCUS ChargeCategory, when the export has it: usage is spread over resource-hours, the
    # rest (credits negative) is reported; a hostile value is data, never SQL
    category = draw(st.one_of(st.none(), st.lists(st.sampled_from(
        ["Usage", "usage", "Purchase", "Tax", "Credit", "Adjustment", "'; DROP TABLE x; --",
         None]), min_size=n, max_size=n)))
    if category is not None:
        cost = [-c if k == "Credit" else c for c, k in zip(cost, category, strict=True)]
    df = pd.DataFrame({
        "ChargePeriodStart": [s.tz_convert(zone) for s in start],
        "ChargePeriodEnd": [(s + pd.Timedelta(hours=h)).tz_convert(zone)
                            for s, h in zip(start, hours, strict=True)],
        "ResourceId": rid, "ServiceName": "Compute", "BilledCost": cost, "EffectiveCost": cost,
        "Tags": tags, "hours": 1.0, "lines": 2, "resource_id": "collide",
    })  # columns named like costkit's own, to collide
    if category is not None:
        df["ChargeCategory"] = category
    # the export's currency (FOCUS BillingCurrency): absent (read as USD), or converted
    currency = draw(st.sampled_from([None, "USD", "CNY", "EUR", "cny"]))
    if currency is not None:
        df["BillingCurrency"] = currency
    if draw(st.integers(0, 9)) == 0:  # a line too large to sum: refused
        df.loc[df.index[0], ["BilledCost", "EffectiveCost"]] = draw(st.sampled_from(
            [1e308, 1.7e308, 2e15]))
    return df


def bill_total_usd(bill):
    """What the bill's lines are worth in USD: the rate of the synthetic days (2026-11-02..04),
    or None when a line is too large to be a bill line (the readers refuse it)."""
    from costkit.billing import MAX_LINE_COST
    from costkit.fx import fx_rate

    if (bill["EffectiveCost"].abs() > MAX_LINE_COST).any():
        return None
    cur = str(bill["BillingCurrency"].iloc[0]).upper() if "BillingCurrency" in bill else "USD"
    rate = 1.0 if cur == "USD" else fx_rate(cur, "USD", date="2026-11-02").rate
    return float(bill["EffectiveCost"].sum()) * rate


def _not_usage_usd(hours):
    other = hours.attrs["not_usage"]
    return float(other["effective_cost"].sum()) if len(other) else 0.0


@settings(max_examples=examples(60), **SETTINGS)
@given(bill=bills(), key=st.one_of(TEXT, st.sampled_from(["team", "model", "app.name"])))
def test_money_is_conserved_from_bill_to_summary_and_hours(bill, key):
    usd = bill_total_usd(bill)
    if usd is None:
        with pytest.raises(DataFileError, match="cost more than"):
            bi.focus_resource_hours(bill)
        return
    total = bill["EffectiveCost"].sum()   # the summary stays in the bill's own currency
    hours = bi.focus_resource_hours(bill)
    assert hours["effective_cost"].sum() + _not_usage_usd(hours) == pytest.approx(
        usd, rel=1e-9, abs=1e-6)
    assert (hours["effective_cost"] >= 0).all() and str(hours["hour"].dt.tz) == "UTC"
    try:
        summary = bi.focus_summary(bill, by=(f"tag:{key}",), period="day")
    except ValueError as exc:  # an empty key, or one named like a summary column
        assert "needs a key" in str(exc) or "already has" in str(exc)
        return
    assert summary["effective_cost"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert summary["lines"].sum() == len(bill)


@settings(max_examples=examples(30), **SETTINGS)
@given(bill=bills())
def test_the_same_bill_from_a_file_in_any_zone(tmp_path_factory, bill):
    assume(bill_total_usd(bill) is not None)
    path = tmp_path_factory.mktemp("bill") / "b.parquet"
    bill.to_parquet(path)
    pd.testing.assert_frame_equal(bi.focus_resource_hours(path), bi.focus_resource_hours(bill))


@settings(max_examples=examples(40), **SETTINGS)
@given(bill=bills(), seed=st.integers(0, 3))
def test_chargeback_conserves_the_bill(bill, seed):
    usd = bill_total_usd(bill)
    assume(usd is not None)
    rng = np.random.default_rng(seed)
    hours = bi.focus_resource_hours(bill)
    stamps = pd.date_range(T0, T0 + pd.Timedelta(hours=80), freq="15min", inclusive="left")
    rows = [{"timestamp": t, "replica_id": r, "gpu_utilization": rng.uniform(0.01, 1.0),
             "requests": float(rng.integers(0, 100)), "model": "m", "team": "t"}
            for r in ("r0", "r1") for t in stamps if rng.uniform() < 0.5]
    costed = mo.cost_usage(pd.DataFrame(rows), hours)
    cb = mo.chargeback(costed, by=("team", "model"), freq="D")
    billed = usd - _not_usage_usd(hours)  # the usage lines' money, in USD
    assert cb["cost_usd"].sum() == pytest.approx(billed, rel=1e-9, abs=1e-6)
    parts = costed["busy_usd"].sum() + costed["idle_usd"].sum() + costed["unobserved_usd"].sum()
    assert parts == pytest.approx(billed, rel=1e-9, abs=1e-6)
    report = costed.attrs["report"].set_index("check")
    if _not_usage_usd(hours) or len(hours.attrs["not_usage"]):
        assert report.loc["bill lines that are not usage", "usd"] == pytest.approx(
            _not_usage_usd(hours))
    for col in ("cost_usd", "idle_usd", "unobserved_usd"):
        assert np.isfinite(cb[col]).all() and (cb[col] >= -1e-9).all()


# --------------------------------------------------------------------------- hostile evidence

RUN_COLUMNS = ["run", "params", "active_params", "tokens", "gpu", "n_gpus", "gpu_hours", "dtype",
               "n_layers", "d_model", "seq_len", "n_experts", "experts_per_token", "moe_layers",
               "published", "source"]


@st.composite
def runs_tables(draw):
    """A user's own training-runs table: sane rows with hostile cells dropped in."""
    from costkit.mfu import training_runs

    base = training_runs()[RUN_COLUMNS].head(draw(st.integers(1, 8))).astype(object)
    for _ in range(draw(st.integers(0, 3))):
        r = draw(st.integers(0, len(base) - 1))
        c = draw(st.sampled_from(RUN_COLUMNS))
        base.iat[r, RUN_COLUMNS.index(c)] = draw(st.one_of(NASTY, TEXT))
    return base


@settings(max_examples=examples(40), **SETTINGS)
@given(table=runs_tables())
def test_hostile_runs_table_gives_a_named_error_or_a_sane_mfu(tmp_path_factory, table):
    from costkit import mfu as mfu_mod

    path = tmp_path_factory.mktemp("runs") / "runs.csv"
    table.to_csv(path, index=False)
    try:
        m = mfu_mod.default_mfu("H100", params=7e9, path=path)
    except DataFileError as exc:
        assert str(path) in str(exc) and "column" in str(exc)
        return
    except ValueError as exc:  # too little evidence for the FLOP count: said so, not NaN
        assert "mfu=" in str(exc)
        return
    assert 0 < m.low <= m.central <= m.high <= 1
    assert all(math.isfinite(v) for v in (m.low, m.central, m.high))


@settings(max_examples=examples(60), **SETTINGS)
@given(experts=st.integers(1, 512), k=st.integers(1, 16), layers=st.integers(1, 128),
       batch=st.integers(1, 4096), beams=st.integers(1, 8))
def test_moe_serving_is_finite_and_reads_at_most_every_expert(experts, k, layers, batch, beams):
    from costkit import kernels, moe

    assume(k <= experts)
    attn = moe.gqa_attention_params(1024, 8, 2)
    total, active = moe.param_counts(n_layers=layers, d_model=1024, attention_params=attn,
                                     vocab_size=1000, moe_layers=layers, n_experts=experts,
                                     experts_per_token=k, d_ff_expert=512)
    assert 0 < active <= total
    touched = kernels.distinct_experts(experts, k, batch * beams)
    assert k - 1e-9 <= touched <= experts + 1e-9
    assert kernels.all_to_all_bytes_per_token(layers, k, 1024, 2.0, min(experts, 8)) >= 0


@settings(max_examples=examples(40), **SETTINGS)
@given(data=broken_scenarios())
def test_whatever_the_validator_accepts_matches_the_published_schema(data):
    """`costkit schema` is generated from the validator's checkers: a generated file the
    validator accepts must match it (the schema may accept more; never less)."""
    import jsonschema

    from costkit.scenario import json_schema

    try:
        Scenario.from_dict(data)
    except ScenarioError:
        return
    jsonschema.validate(data, json_schema(), cls=jsonschema.Draft202012Validator)


# --------------------------------------------------------------------------- price tables
PRICE_COLUMNS = ["cloud", "instance_type", "gpu", "gpu_count", "region", "currency",
                 "on_demand_per_hour", "spot_per_hour", "subscription_per_month", "price_date",
                 "source", "note"]


@st.composite
def price_tables(draw):
    """A user's own price table in several currencies: sane rows with hostile cells dropped in."""
    rows = []
    for i in range(draw(st.integers(1, 6))):
        od = draw(st.floats(0.01, 500.0))
        rows.append({"cloud": draw(st.sampled_from(["Tencent Cloud", "Alibaba Cloud", "X"])),
                     "instance_type": f"t{i}", "gpu": draw(st.sampled_from(["T4", "H20", "A10"])),
                     "gpu_count": draw(st.sampled_from([1, 2, 8])), "region": "r",
                     "currency": draw(st.sampled_from(["CNY", "USD", "EUR", "cny"])),
                     "on_demand_per_hour": od, "spot_per_hour": "",
                     "subscription_per_month": draw(st.sampled_from(["", od * 300])),
                     "price_date": draw(st.sampled_from(["2026-11-01", "2024-12-31"])),
                     "source": "quote", "note": ""})
    table = pd.DataFrame(rows, columns=PRICE_COLUMNS).astype(object)
    for _ in range(draw(st.integers(0, 3))):
        r = draw(st.integers(0, len(table) - 1))
        c = draw(st.sampled_from(PRICE_COLUMNS))
        table.iat[r, PRICE_COLUMNS.index(c)] = draw(st.one_of(NASTY, TEXT, st.sampled_from(
            ["XYZ", "usd ", "C NY", "2001-01-01", "1e308", "-0"])))
    return table


def price_outcome(table, path):
    """None for a named error; else checks every quote and returns the frame."""
    import costkit as ck

    table.to_csv(path, index=False)
    try:
        p = ck.gpu_prices(path)
    except DataFileError as exc:
        assert str(path) in str(exc) and ("column" in str(exc) or "currency" in str(exc)), exc
        return None
    priced = p[p.on_demand_per_hour.notna()]
    assert set(p.currency) <= {"CNY", "USD", "EUR"}
    for _, row in priced.iterrows():
        rate = 1.0 if row.currency == "USD" else ck.fx_rate(row.currency, "USD",
                                                              date=row.price_date).rate
        assert row.on_demand_usd_per_hour == pytest.approx(row.on_demand_per_hour * rate)
        assert math.isfinite(row.on_demand_usd_per_gpu_hour) and row.on_demand_usd_per_gpu_hour > 0
    for g in priced.gpu.unique():
        try:  # a USD row dated before the first CNY rate cannot be shown in CNY: said so
            q = ck.price_quote(g, path=path, currency="CNY")
        except DataFileError as exc:
            assert str(path) in str(exc) and "no exchange rates on or before" in str(exc), exc
            continue
        assert math.isfinite(q.price) and q.price > 0 and math.isfinite(q.usd_per_gpu_hour)
    return p


@settings(max_examples=examples(40), **SETTINGS)
@given(table=price_tables())
def test_hostile_price_tables_give_a_named_error_or_sane_quotes(tmp_path_factory, table):
    price_outcome(table, tmp_path_factory.mktemp("prices") / "prices.csv")


def write_bill_files(bill, copies, d):
    """``bill`` as ``d/b0.parquet`` and one more file per entry of ``copies``: "same" (its
    bytes under another name), "other" (its lines on other resources) or "subset" (half of
    them); returns the parts' frames, the copies left out."""
    bill.to_parquet(d / "b0.parquet", index=False)
    parts = [bill]
    for i, how in enumerate(copies, 1):
        if how == "same":
            (d / f"b{i}.parquet").write_bytes((d / "b0.parquet").read_bytes())
            continue
        part = bill if how == "other" else bill.iloc[: max(1, len(bill) // 2)]
        part.assign(ResourceId=part.ResourceId + f"-{i}").to_parquet(d / f"b{i}.parquet",
                                                                     index=False)
        parts.append(part)
    return parts


@settings(max_examples=examples(20), **SETTINGS)
@given(bill=bills(), copies=st.lists(st.sampled_from(["same", "other", "subset"]), min_size=1,
                                     max_size=3))
def test_bill_files_copied_under_other_names_are_refused(tmp_path_factory, bill, copies):
    assume(bill_total_usd(bill) is not None)
    d = tmp_path_factory.mktemp("bills")
    write_bill_files(bill, copies, d)
    if "same" in copies:
        with pytest.raises(DataFileError, match="the same bytes as"):
            bi.focus_resource_hours(str(d / "*.parquet"))
    else:
        bi.focus_resource_hours(str(d / "*.parquet"))


# --------------------------------------------------------------------------- the command line,
# in a subprocess with a timeout: a hang fails here instead of stalling the suite

CLI_NUMBER = st.one_of(
    st.sampled_from(["1", "0", "-1", "1e15", "1e30", "1e300", "nan", "inf", "-inf", "0.5",
                     "1e-300", "abc", "=HYPERLINK(\"x\")", "\x1b[2J", "1_000", "2e-5"]),
    st.integers(-5, 10**7).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr))
CLI_TIMEOUT_S = 60


@st.composite
def cli_calls(draw):
    """``serve``, ``train``, ``prices import`` and ``report`` (drawing Monte Carlo) argv."""
    kind = draw(st.sampled_from(["serve", "train", "prices", "report"]))
    opt = st.one_of(st.none(), CLI_NUMBER)
    if kind == "serve":
        argv = ["serve", "--model", draw(st.sampled_from(["llama-2-7b", "bert-base",
                                                           "Llama-3-8B", "nope"])),
                "--gpu", draw(st.sampled_from(["L4", "H100", "T4", "H20", "Z9"]))]
        for flag in ("--requests-per-day", "--batch-size", "--slo-s", "--prompt-tokens",
                     "--prefix-hit-rate", "--usd-per-gpu-hour"):
            v = draw(opt)
            if v is not None:
                argv.append(f"{flag}={v}")
    elif kind == "train":
        argv = ["train", "--model", draw(st.sampled_from(["llama-2-7b", "bert-base", "nope"]))]
        for flag in ("--tokens", "--n-gpus", "--mfu", "--seq-len", "--lora-rank"):
            v = draw(opt)
            if v is not None:
                argv.append(f"{flag}={v}")
        argv.append(f"--method={draw(st.sampled_from(['full', 'lora', 'qlora']))}")
    elif kind == "prices":
        argv = ["prices", "import", "PRICE_LIST", "--out", "OUT"]
        if draw(st.booleans()):
            argv.append(f"--price-date={draw(st.sampled_from(['2026-11-20', '2099-01-01', 'x']))}")
    else:
        argv = ["report", "SCENARIO", "--format", "json", f"--draws={draw(CLI_NUMBER)}"]
    argv.append("--format=json" if kind in ("serve", "train") else "")
    return [a for a in argv if a]


def _money_values(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _money_values(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _money_values(v, key)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield key, float(node)


def cli_outcome(argv, workdir):
    """One call of the command line in a subprocess: its class (see adversarial_tally.py)."""
    argv = [str(workdir / "prices.csv") if a == "OUT" else
            str(ROOT / "examples" / "price_lists" / "aws_ec2_us-east-1.json")
            if a == "PRICE_LIST" else str(ROOT / "examples" / "small.yaml")
            if a == "SCENARIO" else a for a in argv]
    try:
        res = subprocess.run([sys.executable, "-m", "costkit", *argv], capture_output=True,
                             text=True, timeout=CLI_TIMEOUT_S, cwd=workdir)
    except subprocess.TimeoutExpired:
        return "crash"   # a hang
    out, err = res.stdout, res.stderr
    if "\x1b" in out + err or "\x07" in out + err:
        return "security"
    if res.returncode == 2:
        return "clear error" if len(err.strip().splitlines()) == 1 else "crash"
    if res.returncode != 0:
        return "crash"
    if "--format" in argv and "json" in argv[argv.index("--format") + 1:][:1] or any(
            a == "--format=json" for a in argv):
        try:
            data = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        except ValueError:
            return "silently wrong"   # NaN or Infinity in the JSON, or not JSON
        for k, v in _money_values(data):
            if not math.isfinite(v) or (v < 0 and any(w in k for w in (
                    "usd", "cost", "hours", "replicas", "kwh", "co2", "price"))
                    and "npv" not in k and "gain" not in k and "p5" not in k):
                return "silently wrong"
    return "handled"


@settings(max_examples=examples(8), **{**SETTINGS, "deadline": None})
@given(argv=cli_calls())
def test_the_command_line_exits_0_or_2_in_time_with_sane_money(tmp_path_factory, argv):
    outcome = cli_outcome(argv, tmp_path_factory.mktemp("cli"))
    assert outcome in ("clear error", "handled"), (argv, outcome)


# --------------------------------------------------------------------------- price lists

@st.composite
def price_list_files(draw):
    """A downloaded price list of each importer (Azure, AWS, SkyPilot) with hostile values."""
    fmt = draw(st.sampled_from(["azure", "aws", "skypilot"]))
    samples = ROOT / "examples" / "price_lists"
    hostile = st.one_of(NASTY, TEXT, st.sampled_from(
        ["2099-01-01T00:00:00Z", "1e308", "-0", "NaN", None, 0, -3, 1e300, [], {}]))
    if fmt == "azure":
        doc = json.loads((samples / "azure_retail_prices_page.json").read_text())
        for _ in range(draw(st.integers(0, 3))):
            item = doc["Items"][draw(st.integers(0, len(doc["Items"]) - 1))]
            item[draw(st.sampled_from(["retailPrice", "armRegionName", "armSkuName",
                                       "effectiveStartDate", "currencyCode", "skuName",
                                       "unitOfMeasure", "type"]))] = draw(hostile)
        if draw(st.integers(0, 7)) == 0:
            doc = {"Items": "[" * 5000 + "]" * 5000}
        return "page.json", json.dumps(doc)
    if fmt == "aws":
        doc = json.loads((samples / "aws_ec2_us-east-1.json").read_text())
        sku = draw(st.sampled_from(sorted(doc["products"])))
        for _ in range(draw(st.integers(0, 3))):
            where = draw(st.sampled_from(["instanceType", "regionCode", "gpu", "price", "date"]))
            if where in ("price", "date"):
                for term in (doc["terms"]["OnDemand"].get(sku) or {}).values():
                    if where == "date":
                        term["effectiveDate"] = draw(hostile)
                    for dim in term["priceDimensions"].values():
                        if where == "price":
                            dim["pricePerUnit"]["USD"] = draw(hostile)
            else:
                doc["products"][sku].setdefault("attributes", {})[where] = draw(hostile)
        return "aws.json", json.dumps(doc)
    rows = (samples / "lambda" / "vms.csv").read_text().splitlines()
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(1, len(rows) - 1))
        cells = rows[i].split(",")
        j = draw(st.integers(0, len(cells) - 1))
        cells[j] = json.dumps(str(draw(hostile)))   # quoted: the CSV stays a table
        rows[i] = ",".join(cells)
    if draw(st.booleans()):
        rows.append(rows[1])   # a copied row
    return "lambda/vms.csv", "\n".join(rows) + "\n"


def price_list_outcome(name, text, workdir):
    """None for a named error; else checks the imported table and returns it."""
    from costkit._safe import PLAIN_NAMES
    from costkit.price_lists import import_price_lists

    path = workdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        imp = import_price_lists([path], price_date="2026-11-20")
    except (DataFileError, ValueError) as exc:
        assert str(exc), "an error without a message"
        return None
    f = imp.frame
    kept = imp.kept[str(path)]
    assert kept == len(f) and len(f) > 0
    od = f["on_demand_usd_per_hour"].dropna()
    assert np.isfinite(od).all() and (od > 0).all()
    spot = f["spot_usd_per_hour"].dropna()
    assert np.isfinite(spot).all() and (spot > 0).all()
    both = f.dropna(subset=["on_demand_usd_per_hour", "spot_usd_per_hour"])
    assert (both.spot_usd_per_hour < both.on_demand_usd_per_hour).all()
    for col, kind in (("cloud", "cloud"), ("region", "region"), ("instance_type", "instance")):
        assert f[col].map(lambda v, k=kind: bool(PLAIN_NAMES[k].match(v))).all(), (col, f[col])
    assert (f["price_date"] == "2026-11-20").all()
    if name.endswith("page.json") and "2099" in text:   # a price not yet in force is not used
        doc = json.loads(text)
        future = [it.get("retailPrice") for it in doc.get("Items", []) if isinstance(it, dict)
                  and str(it.get("effectiveStartDate", "")).startswith("2099")]
        assert not (set(od) & {float(x) for x in future if isinstance(x, int | float)}
                    - {3.673, 0.746721})
    return f


@settings(max_examples=examples(40), **SETTINGS)
@given(doc=price_list_files())
def test_hostile_price_lists_give_a_named_error_or_a_sane_table(tmp_path_factory, doc):
    price_list_outcome(*doc, tmp_path_factory.mktemp("lists"))


# --------------------------------------------------------------------------- MoE shapes

SHAPE = st.one_of(st.integers(-4, 600), st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from([0.5, 1.5, -0.0, 2**60, None, "8"]))


def moe_outcome(shape):
    """None for a clear refusal; else (total, active) checked."""
    from costkit.moe import gqa_attention_params, param_counts

    try:
        attn = gqa_attention_params(shape["d_model"], shape["n_heads"])
        total, active = param_counts(
            n_layers=shape["n_layers"], d_model=shape["d_model"], attention_params=attn,
            vocab_size=32000, moe_layers=shape["moe_layers"], n_experts=shape["n_experts"],
            experts_per_token=shape["experts_per_token"], shared_experts=shape["shared"],
            d_ff_expert=shape["d_ff_expert"])
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return None
    assert math.isfinite(total) and math.isfinite(active) and 0 < active <= total
    for k in ("n_layers", "d_model", "n_heads", "n_experts", "experts_per_token", "shared",
              "d_ff_expert", "moe_layers"):
        assert float(shape[k]) >= 0 and float(shape[k]) % 1 == 0, (k, shape[k])
    return total, active


@settings(max_examples=examples(80), **SETTINGS)
@given(shape=st.fixed_dictionaries({k: SHAPE for k in (
    "n_layers", "d_model", "n_heads", "n_experts", "experts_per_token", "shared", "d_ff_expert",
    "moe_layers")}))
def test_moe_shapes_give_a_refusal_or_counts_that_fit(shape):
    moe_outcome(shape)
