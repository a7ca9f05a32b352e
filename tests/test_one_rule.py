"""One rule, written once (issue 31): the tests that would catch the next mistake.

Each one was let through by every earlier test when its factor was dropped (a mutation run):
the idle GPU-hours' factor ``gpus``, ``Ledger.by_category``'s currency conversion, the check
that spot still beats on-demand after interruptions, the per-cent test of the fleet reader.
"""

import pandas as pd
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from costkit import capacity as cp
from costkit import fleet
from costkit import monitoring as mo
from costkit import telemetry as te
from costkit._tables import DataFileError
from costkit.ledger import Ledger

T0 = pd.Timestamp("2026-11-02", tz="UTC")


def _two_replicas():
    """One hour of minutes: a 4-GPU replica a quarter busy, a 1-GPU replica half busy; each
    billed 8 USD for the hour."""
    stamps = pd.date_range(T0, periods=60, freq="1min")
    tel = pd.concat([pd.DataFrame({"timestamp": stamps, "replica_id": r, "gpus": g,
                                   "gpu_utilization": u, "requests": 10.0, "model": "m",
                                   "team": "t"})
                     for r, g, u in (("big", 4, 0.25), ("small", 1, 0.5))], ignore_index=True)
    bill = pd.DataFrame({"resource_id": ["big", "small"], "hour": [T0, T0],
                         "effective_cost": [8.0, 8.0], "billed_cost": [8.0, 8.0]})
    return tel, bill


def test_idle_gpu_hours_count_every_gpu_of_a_replica():
    """By hand: 4 GPUs x (1 - 0.25) = 3 idle GPU-hours, and 1 x 0.5 = 0.5: 3.5 in all."""
    tel, bill = _two_replicas()
    costed = mo.cost_usage(te.read_telemetry(tel), bill)
    by = costed.set_index("replica_id")
    assert by.loc["big", "idle_gpu_hours"] == pytest.approx(3.0)
    assert by.loc["small", "idle_gpu_hours"] == pytest.approx(0.5)
    assert mo.chargeback(costed, by="team", freq=None)["idle_gpu_hours"].sum() == pytest.approx(
        3.5)
    con = fleet.connect(threads=1)
    f = fleet.cost_usage(fleet.read_telemetry(tel, con=con),
                         fleet.bill_hours(_focus(bill), con=con))
    cb = fleet.chargeback(f, by="team", freq=None)
    assert float(cb["idle_gpu_hours"].sum()) == pytest.approx(3.5)


def _focus(hours):
    return pd.DataFrame({
        "ChargePeriodStart": hours.hour, "ChargePeriodEnd": hours.hour + pd.Timedelta("1h"),
        "ResourceId": hours.resource_id, "ServiceName": "Compute",
        "BilledCost": hours.billed_cost, "EffectiveCost": hours.effective_cost, "Tags": "{}"})


def test_a_ledger_in_yuan_converts_every_view():
    """A CNY ledger with a USD line: by_category, by_phase and total all convert it."""
    led = Ledger("CNY", fx_date="2026-01-27")
    led.add_fixed("run", "licence", 100.0, "CNY", category="software")
    led.add_fixed("run", "support", 10.0, "USD", category="software")   # 69.858 CNY
    want = 100.0 + 10.0 * 6.9858
    assert led.by_category()["software"] == pytest.approx(want)
    assert led.by_phase()["run"] == pytest.approx(want)
    assert led.total() == pytest.approx(want)
    assert led.by_category("USD")["software"] == pytest.approx(want / 6.9858)


def test_spot_dearer_after_interruptions_is_left_out_and_said():
    """Spot at 0.98 with 5% of it lost costs 0.98 / 0.95 = 1.03 per useful replica-hour: more
    than on-demand's 1.00, so the mix buys none, and says why; at 0.50 it buys some."""
    traffic = cp.traffic_profile(2e6)
    kw = dict(replica_rps=5.0, usd_per_replica_hour=1.0, spot_interruption_rate=0.05,
              max_spot_fraction=0.5, reserved_discount=0.0)
    dear = cp.plan(traffic, spot_usd_per_replica_hour=0.98, **kw)
    assert dear.hourly["mix_spot"].sum() == 0
    assert "not cheaper than on-demand after interruptions" in dear.assumptions["spot"]
    cheap = cp.plan(traffic, spot_usd_per_replica_hour=0.5, **kw)
    assert cheap.hourly["mix_spot"].sum() > 0
    assert "not cheaper" not in cheap.assumptions["spot"]


@pytest.mark.parametrize("share_below_1, refused", [(0.4, False), (0.6, True)])
def test_the_per_cent_rule_is_the_same_on_both_paths(share_below_1, refused):
    """A fleet in per cent whose values are mostly below 1 is refused (a fraction with stray
    values?), by the pandas reader and the fleet reader alike; a minority below 1 reads as
    per cent."""
    n = 100
    below = int(share_below_1 * n)
    util = [0.5] * below + [40.0] * (n - below)
    tel = pd.DataFrame({"timestamp": pd.date_range(T0, periods=n, freq="1min"),
                        "replica_id": "r0", "gpu_utilization": util, "requests": 1.0})
    for read in (te.read_telemetry, lambda t: fleet.read_telemetry(
            t, con=fleet.connect(threads=1))):
        if refused:
            with pytest.raises(DataFileError, match="most values are below 1"):
                read(tel)
        else:
            read(tel)   # read as per cent: 0.5 % and 40 %


# --------------------------------------------------------------------------- layers

def _imports() -> dict[str, dict[str, int]]:
    """costkit module -> {costkit module it imports: first line}, counting the imports inside
    functions and under TYPE_CHECKING too (an import hidden in a function is still a layer)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "costkit"
    mods = {p.stem for p in root.glob("*.py")} - {"__init__", "__main__"}
    graph: dict[str, dict[str, int]] = {}
    for m in mods:
        found: dict[str, int] = {}
        for node in ast.walk(ast.parse((root / f"{m}.py").read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    names = [node.module.split(".")[0]]
                elif node.level == 1 or node.module == "costkit":
                    names = [a.name for a in node.names]
                elif node.module and node.module.startswith("costkit."):
                    names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names
                         if a.name.startswith("costkit.")]
            for n in names:
                if n in mods and n != m:
                    found.setdefault(n, node.lineno)
        graph[m] = found
    return graph


def _cycles(graph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# Bottom to top: a module imports only from its own layer or below.
LAYERS = [
    {"_tables", "_safe", "units", "_age", "_typing",    # tables, safe text, units, dates,
     "_optional", "_relational"},                       # optional packages, running Ibis
    {"_checks"},                                          # validating numbers
    {"fx"},                                               # exchange rates
    {"catalog"},                                          # GPUs, models, prices
    {"_resolve"},                                         # names and prices for estimates
    {"roi"},                                              # the money model
    {"decision"},                                         # the decision rule and its words
    {"bill_lines"},                                       # a bill's rules, once
    {"usage_lines"},                                      # usage and its money, once
    {"billing"},                                          # FOCUS files: summary, versions
    {"fleet", "monitoring"},                              # the pipeline: engine, pandas
]
# Serving, bottom to top: the evidence table, the step time and the engine features below the
# estimate; the fit and the pools above it; the out-of-sample report on top.
SERVING_LAYERS = [
    {"serving_evidence", "step_time", "engine_features"},
    {"serving"},
    {"serving_efficiency", "engine"},
    {"validation"},
]
def test_no_import_circles():
    """Before issue 31: catalog -> fx -> _checks -> catalog, decision <-> roi, and serving ->
    serving_efficiency -> validation -> serving_efficiency -> serving, engine <-> serving."""
    assert _cycles(_imports()) == []


@pytest.mark.parametrize("layers", [LAYERS, SERVING_LAYERS], ids=["money", "serving"])
def test_every_import_goes_down_the_layers(layers):
    graph = _imports()
    layer = {m: i for i, mods in enumerate(layers) for m in mods}
    wrong = [f"costkit.{m} (layer {layer[m]}) imports costkit.{d} (layer {layer[d]}) at line "
             f"{line}" for m, deps in graph.items() if m in layer
             for d, line in deps.items() if d in layer and layer[d] > layer[m]]
    assert not wrong, wrong
    if layers is SERVING_LAYERS:
        return
    # and nothing in the bottom layers reaches up to the modules that use them
    low = set().union(*LAYERS[:5])
    assert "fx" in low and "bill_lines" not in low
    up = [f"costkit.{m} imports costkit.{d}" for m in sorted(low)
          for d in graph.get(m, {}) if d not in low]
    assert not up, up


# --------------------------------------------------------------------------- the bill, once
# costkit.bill_lines is the one definition of a bill's rules; costkit.billing (pandas) and
# costkit.fleet (an engine) run it. Each test below failed before, when each reader had its
# own copy of the rules.

def _lines(**cols):
    base = {"ChargePeriodStart": [T0, T0], "ChargePeriodEnd": [T0 + pd.Timedelta("1h")] * 2,
            "ResourceId": ["r1", "r1"], "ServiceName": ["Compute", "Compute"],
            "BilledCost": [3.0, 5.0], "EffectiveCost": [3.0, 5.0], "Tags": ['{"team": "a"}'] * 2}
    return pd.DataFrame({**base, **cols})


def _pandas_hours(bill):
    from costkit import billing

    return billing.focus_resource_hours(bill)


def _fleet_hours(bill):
    b = fleet.bill_hours(bill, con=fleet.connect(threads=1))
    return fleet._execute(b.con, b.table.order_by(["resource_id", "hour"]))


READERS = pytest.mark.parametrize("read", [_pandas_hours, _fleet_hours],
                                  ids=["pandas", "fleet"])


@READERS
@pytest.mark.parametrize("tags", ["{team: a", "[1, 2]", '"search"'])
def test_tags_that_are_not_a_json_object_are_refused_by_both_readers(read, tags):
    """Before: the fleet reader took any text, and the pandas one any JSON (an array too)."""
    with pytest.raises(DataFileError, match=r"column 'Tags': 1 line\(s\) are not a JSON object"):
        read(_lines(Tags=['{"team": "a"}', tags]))


@READERS
def test_blank_tags_are_no_tags_in_both_readers(read):
    """Before: the pandas reader refused an empty Tags text that the fleet reader read as {}."""
    out = read(_lines(Tags=["", "  "]))
    assert out["effective_cost"].tolist() == [8.0]
    assert out["tags"].tolist() == ["  "]   # the greatest text; parse_tags reads it as {}


@READERS
@pytest.mark.parametrize("order", [1, -1])
def test_lines_sharing_a_resource_hour_keep_the_same_tags_in_both_readers(read, order):
    """Before: the pandas reader kept any line's tags (any_value), the fleet reader the least
    text, so an hour with a tagged and an untagged line had no owner there. Now the greatest
    text, whatever the order of the lines: the tagged line's."""
    bill = _lines(Tags=["", '{"team": "search"}'], ServiceName=["", "Compute"]).iloc[::order]
    out = read(bill.reset_index(drop=True))
    assert out[["tags", "service"]].values.tolist() == [['{"team": "search"}', "Compute"]]
    assert out["effective_cost"].tolist() == [8.0]


@READERS
def test_a_usage_line_longer_than_a_year_is_refused_by_both_readers(read):
    """Before: only the fleet reader refused it; the pandas one spread it over 9,000 hours."""
    bill = _lines(ChargePeriodEnd=[T0 + pd.Timedelta("1h"), T0 + pd.Timedelta(days=370)])
    with pytest.raises(DataFileError, match="spans 8,880 hours"):
        read(bill)
    a_year = _lines(ChargePeriodEnd=[T0 + pd.Timedelta("1h"), T0 + pd.Timedelta(days=366)])
    assert read(a_year)["effective_cost"].sum() == pytest.approx(8.0)


@READERS
def test_a_period_that_is_not_a_date_time_is_refused_with_an_example(read):
    """Before: the fleet reader called it a line without its period; one message now."""
    bill = _lines(ChargePeriodStart=["2026-11-02T00:00:00Z", "the second of November"])
    with pytest.raises(DataFileError, match=r"column 'ChargePeriodStart': 1 billing line\(s\) "
                                            r"are not an ISO 8601 date-time, e.g. 'the second"):
        read(bill)


def _outcome(read, bill):
    """The reader's table, or its refusal without the label (the readers name a DataFrame
    differently)."""
    try:
        out = read(bill)
    except DataFileError as exc:
        return str(exc).split(":", 1)[1] if str(exc).startswith("the ") else str(exc)
    return out.reset_index(drop=True)


@st.composite
def _bills(draw):
    n = draw(st.integers(1, 8))
    start = [T0 + pd.Timedelta(minutes=30 * draw(st.integers(0, 6))) for _ in range(n)]
    hours = [draw(st.sampled_from([0.5, 1, 2, 25] * 4 + [24 * 366, 24 * 367])) for _ in range(n)]
    df = pd.DataFrame({
        "ChargePeriodStart": start,
        "ChargePeriodEnd": [s + pd.Timedelta(hours=h) for s, h in zip(start, hours, strict=True)],
        "ResourceId": [draw(st.sampled_from(["r0", "r1"])) for _ in range(n)],
        "ServiceName": [draw(st.sampled_from(["Compute", "GPU", ""])) for _ in range(n)],
        "BilledCost": [draw(st.floats(-10, 1e4, allow_nan=False)) for _ in range(n)],
        "Tags": [draw(st.sampled_from(['{"team": "a"}', '{"team": "b", "model": "m"}', "",
                                       None, "{}"] * 6 + ["{bad", "[1]"])) for _ in range(n)]})
    df["EffectiveCost"] = df["BilledCost"] * draw(st.sampled_from([1.0, 0.7]))
    if draw(st.booleans()):
        df["ChargeCategory"] = [draw(st.sampled_from(["Usage", "usage", "Tax", "Credit", None]))
                                for _ in range(n)]
    currency = draw(st.sampled_from([None, "USD", "CNY", "cny "]))
    if currency is not None:
        df["BillingCurrency"] = currency
    return df


@settings(max_examples=examples(25))
@given(bill=_bills())
def test_both_readers_give_the_same_hours_or_the_same_refusal(bill):
    """Generated bills: tags good, blank and broken; lines of half an hour to over a year;
    categories; currencies. Both readers agree, table for table or word for word."""
    a, b = _outcome(_pandas_hours, bill), _outcome(_fleet_hours, bill)
    assert type(a) is type(b), (a, b)
    if isinstance(a, str):
        assert a == b
        return
    pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)


# the words of a bill's rules: each appears in costkit.bill_lines and in no other module
BILL_RULES = ("MAX_LINE_COST", "MAX_LINE_HOURS", "usd_rates(", "too_large_lines(", "json_valid",
              "generate_series", "ChargePeriodEnd <=", "== \"usage\"", "= 'usage'",
              "EffectiveCost.cast")


def test_the_rules_of_a_bill_are_written_in_bill_lines_only():
    """A second copy of a bill rule in another module (the state before issue 31) fails here."""
    from pathlib import Path

    import costkit

    root = Path(costkit.__file__).parent
    found = {(p.name, word) for p in root.glob("*.py") if p.name != "bill_lines.py"
             for word in BILL_RULES if word in p.read_text(encoding="utf-8")
             and not (p.name == "billing.py" and word == "MAX_LINE_COST")}  # re-exported
    assert not found, found


# --------------------------------------------------------------------------- no long function
MAX_CODE_LINES = 80


def _code_lines(lines: list[str], node) -> int:
    """A function's lines without its docstring, blank lines and comment-only lines (its
    signature and nested functions counted)."""
    import ast

    body = node.body
    doc = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = set(range(body[0].lineno, body[0].end_lineno + 1))
    code = [lines[i - 1].strip() for i in range(node.lineno, node.end_lineno + 1)
            if i not in doc]
    return sum(1 for t in code if t and not t.startswith("#"))


def test_no_function_is_longer_than_80_code_lines():
    """Issue 31 found 12 (scenario._evaluate_checked 153, cli.build_parser 157, ...): each is
    split into resolve -> kernels -> result now, and a new one fails here."""
    import ast
    from pathlib import Path

    import costkit

    long = {}
    for path in sorted(Path(costkit.__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(lines, node)
                if n > MAX_CODE_LINES:
                    long[f"{path.stem}.{node.name}"] = n
    assert not long, long


def test_the_line_count_counts_code_not_words():
    import ast

    src = ('def f(x):\n    """Doc.\n\n    More.\n    """\n    # a comment\n\n    y = x\n'
           '    return y\n')
    node = ast.parse(src).body[0]
    assert _code_lines(src.splitlines(), node) == 3


# --------------------------------------------------------------------------- make mutate's
# survivors in costkit.bill_lines: with one definition, the two readers agree even when the
# definition is wrong, so these pin its figures by hand

def test_a_line_of_three_hours_gives_each_of_its_own_hours_a_third():
    """A 3-hour line from 02:00: 02:00, 03:00 and 04:00 get 1/3 each (a mutant spread it
    backwards, over 00:00-02:00, and both readers agreed)."""
    bill = _lines(ChargePeriodStart=[T0 + pd.Timedelta("2h")] * 2,
                  ChargePeriodEnd=[T0 + pd.Timedelta("3h"), T0 + pd.Timedelta("5h")],
                  ResourceId=["a", "b"], BilledCost=[1.0, 6.0], EffectiveCost=[1.0, 3.0])
    out = _pandas_hours(bill).set_index(["resource_id", "hour"])
    b = out.loc["b"]
    assert list(b.index) == [T0 + pd.Timedelta(hours=h) for h in (2, 3, 4)]
    assert b["effective_cost"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert b["billed_cost"].tolist() == pytest.approx([2.0, 2.0, 2.0])


def test_a_bill_in_yuan_converts_billed_and_effective_cost():
    """Both money columns at the day's rate (a mutant divided the billed cost by it)."""
    from costkit.fx import fx_rate

    rate = fx_rate("CNY", "USD", date="2026-11-02").rate
    bill = _lines(BilledCost=[7.0, 0.0], EffectiveCost=[3.5, 3.5]).assign(BillingCurrency="CNY")
    for read in (_pandas_hours, _fleet_hours):
        out = read(bill)
        assert out["billed_cost"].sum() == pytest.approx(7.0 * rate)
        assert out["effective_cost"].sum() == pytest.approx(7.0 * rate)


def test_the_limits_are_inclusive():
    """A line of exactly MAX_LINE_COST is a bill line; a tag text more than the limit is not
    (the limit lowered to 2 distinct texts to test it)."""
    from costkit import bill_lines

    at_limit = _lines(BilledCost=[bill_lines.MAX_LINE_COST, 1.0],
                      EffectiveCost=[bill_lines.MAX_LINE_COST, 1.0])
    assert _pandas_hours(at_limit)["billed_cost"].sum() == pytest.approx(
        bill_lines.MAX_LINE_COST + 1.0)
    with pytest.raises(DataFileError, match="cost more than"):
        _pandas_hours(at_limit.assign(BilledCost=[bill_lines.MAX_LINE_COST * 1.01, 1.0]))


def test_the_distinct_tags_limit_is_inclusive(monkeypatch):
    from costkit import bill_lines

    monkeypatch.setattr(bill_lines, "MAX_DISTINCT_TAGS", 2)
    assert len(_pandas_hours(_lines(Tags=['{"team": "a"}', '{"team": "b"}']))) == 1
    with pytest.raises(DataFileError, match="3 different tag texts"):
        _pandas_hours(pd.concat([_lines(Tags=['{"team": "a"}', '{"team": "b"}']),
                                 _lines(Tags=['{"team": "c"}'] * 2)], ignore_index=True))


# --------------------------------------------------------------------------- usage, once
# costkit.usage_lines is the one definition of the hours, the join, the chargeback, the SLO
# counts and the alerts' hours; costkit.monitoring (pandas frames) and costkit.fleet (an
# engine) run it.

def _pandas_costed(tel, bill):
    return mo.cost_usage(te.read_telemetry(tel), bill)


def _fleet_costed(tel, bill):
    con = fleet.connect(threads=1)
    focus = _focus(bill)
    if "tags" in bill:
        focus["Tags"] = bill["tags"].to_numpy()
    return fleet.cost_usage(fleet.read_telemetry(tel, con=con),
                            fleet.bill_hours(focus, con=con))


def _chargeback(costed, **kw):
    return (mo.chargeback(costed, **kw) if isinstance(costed, pd.DataFrame)
            else fleet.chargeback(costed, **kw))


PIPELINES = pytest.mark.parametrize("costed", [_pandas_costed, _fleet_costed],
                                    ids=["pandas", "fleet"])


@PIPELINES
def test_a_redeployed_replica_is_charged_to_each_model_by_the_hour(costed):
    """Replica r serves model A for an hour, then model B: each hour's 10 USD goes to the model
    that ran in it. Before, both pipelines gave the whole 20 USD to the first sample's A."""
    stamps = pd.date_range(T0, periods=120, freq="1min")
    tel = pd.DataFrame({"timestamp": stamps, "replica_id": "r", "gpu_utilization": 0.5,
                        "requests": 1.0, "model": ["A"] * 60 + ["B"] * 60,
                        "team": ["x"] * 60 + ["y"] * 60, "gpus": [1] * 60 + [2] * 60})
    bill = pd.DataFrame({"resource_id": ["r", "r"], "hour": [T0, T0 + pd.Timedelta("1h")],
                         "effective_cost": [10.0, 10.0], "billed_cost": [10.0, 10.0]})
    cb = _chargeback(costed(tel, bill), by=("team", "model"), freq=None)
    assert cb["cost_usd"].to_dict() == {("x", "A"): pytest.approx(10.0),
                                        ("y", "B"): pytest.approx(10.0)}
    # and the GPUs of the hour: 1 x 0.5 idle, then 2 x 0.5
    assert cb["idle_gpu_hours"].tolist() == pytest.approx([0.5, 1.0])


def _hand_costed():
    """Two hours of replica r (1 GPU, a quarter busy, 30 requests an hour, 3 errors), billed
    8 USD each; hour 2 is billed with tags but nobody measured it; replica s is measured
    (1 hour) and not billed."""
    stamps = pd.date_range(T0, periods=120, freq="1min")
    tel = pd.concat([
        pd.DataFrame({"timestamp": stamps, "replica_id": "r", "gpu_utilization": 0.25,
                      "requests": 0.5, "errors": 0.05, "model": "m", "team": "t",
                      "latency_p95_s": [0.2] * 90 + [0.05] * 30}),
        pd.DataFrame({"timestamp": stamps[:60], "replica_id": "s", "gpu_utilization": 1.0,
                      "requests": 1.0, "errors": 0.0, "model": "m", "team": "t",
                      "latency_p95_s": 0.05})], ignore_index=True)
    bill = pd.DataFrame({
        "resource_id": ["r", "r", "r"], "hour": T0 + pd.to_timedelta([0, 1, 2], unit="h"),
        "effective_cost": [8.0, 8.0, 4.0], "billed_cost": [9.0, 9.0, 4.5],
        "tags": ["", "", '{"model": "m2", "team": "t2"}']})
    return tel, bill


@PIPELINES
def test_the_money_of_each_hour_by_hand(costed):
    """Busy 8 x 0.25 = 2, idle 6, idle GPU-hours 0.75 per hour of r; the unmeasured hour's 4
    USD is unobserved and its owners its tags'; s costs 0 and is unbilled."""
    tel, bill = _hand_costed()
    out = costed(tel, bill)
    frame = out if isinstance(out, pd.DataFrame) else fleet._execute(
        out.con, out.table.order_by(["replica_id", "hour"]))
    rows = frame.set_index(["replica_id", "hour"])
    r0 = rows.loc[("r", T0)]
    assert (r0.busy_usd, r0.idle_usd, r0.idle_gpu_hours) == pytest.approx((2.0, 6.0, 0.75))
    assert (r0.cost_usd, r0.billed_usd, r0.requests) == pytest.approx((8.0, 9.0, 30.0))
    lone = rows.loc[("r", T0 + pd.Timedelta("2h"))]
    assert (lone.model, lone.team, lone.unobserved_usd, lone.busy_usd, lone.idle_usd) == (
        "m2", "t2", pytest.approx(4.0), 0.0, 0.0)
    assert (lone.gpus, lone.idle_gpu_hours) == (1, 0.0)  # nobody measured it: one GPU, no time
    s = rows.loc[("s", T0)]
    assert bool(s.unbilled) and s.cost_usd == 0.0
    cb = _chargeback(out, by="model", freq=None)
    # 16 USD for 60 requests of r and 60 of s: 16 / 120 x 1000
    assert cb.loc["m", "usd_per_1k_requests"] == pytest.approx(16 / 120 * 1000)
    # busy (0.25 + 0.25 + 1.0) / observed 3 replica-hours
    assert cb.loc["m", "mean_utilization"] == pytest.approx(1.5 / 3)
    # the 95th percentile of (0.25, 0.25, 1.0), linear: 0.25 + 0.9 x 0.75
    assert cb.loc["m", "p95_utilization"] == pytest.approx(0.25 + 0.9 * 0.75)
    # money on no request: infinitely dear per request
    assert cb.loc["m2", "usd_per_1k_requests"] == float("inf")
    assert cb.loc["m2", "mean_utilization"] == 0.0


@PIPELINES
def test_slo_minutes_by_hand(costed):
    """r is above 0.1 s for 90 of its 120 minutes, s never: 90 minutes in violation, 45 of
    the requests (0.5 a minute)."""
    tel, _ = _hand_costed()
    if costed is _pandas_costed:
        got = mo.slo_violations(te.read_telemetry(tel), 0.1, by="replica_id")
    else:
        got = fleet.slo_violations(fleet.read_telemetry(tel, con=fleet.connect(threads=1)), 0.1,
                                   by="replica_id")
    assert got.loc["r"].tolist() == pytest.approx([120, 90, 45.0, 0.75, 90.0])
    assert got.loc["s", "violations"] == 0
    with pytest.raises(ValueError, match="no SLO given for replica_id s"):
        (mo.slo_violations(te.read_telemetry(tel), {"r": 0.1}, by="replica_id")
         if costed is _pandas_costed else
         fleet.slo_violations(fleet.read_telemetry(tel, con=fleet.connect(threads=1)),
                              {"r": 0.1}, by="replica_id"))


def test_the_pandas_chargeback_takes_the_periods_of_the_engine():
    """A UTC day or hour; pandas' "W" (weeks ending on Sunday) is refused, not guessed."""
    tel, bill = _hand_costed()
    costed = _pandas_costed(tel, bill)
    with pytest.raises(ValueError, match="freq must be one of"):
        mo.chargeback(costed, freq="W")
    with pytest.raises(ValueError, match="lacks column.*'region'"):
        mo.chargeback(costed, by="region")
    with pytest.raises(ValueError, match="lacks column"):
        mo.chargeback(costed.drop(columns="idle_usd"))


@st.composite
def _fleets(draw):
    """Replicas with 1 to 8 GPUs, some hours billed without telemetry (with or without tags),
    some measured without a bill line, latencies with gaps."""
    n = draw(st.integers(1, 4))
    frames, lines = [], []
    for i in range(n):
        minutes = draw(st.integers(1, 4)) * 60
        stamps = pd.date_range(T0, periods=minutes, freq="1min")
        util = draw(st.floats(0.0, 1.0))
        lat = draw(st.sampled_from([0.05, 0.2, float("nan")]))
        frames.append(pd.DataFrame({
            "timestamp": stamps, "replica_id": f"r{i}", "gpus": draw(st.integers(1, 8)),
            "gpu_utilization": util, "requests": draw(st.floats(0.0, 100.0)),
            "model": draw(st.sampled_from(["a", "b"])), "team": "t",
            "latency_p95_s": [lat] * (minutes - 1) + [0.3]}))
        for h in range(draw(st.integers(0, minutes // 60 + 2))):
            lines.append({"resource_id": f"r{i}", "hour": T0 + pd.Timedelta(hours=h),
                          "effective_cost": draw(st.floats(0.0, 100.0)),
                          "billed_cost": 1.0,
                          "tags": draw(st.sampled_from(["", '{"model": "a"}']))})
    bill = pd.DataFrame(lines, columns=["resource_id", "hour", "effective_cost", "billed_cost",
                                        "tags"])
    return pd.concat(frames, ignore_index=True), bill


@settings(max_examples=examples(15), deadline=None)
@given(case=_fleets())
def test_both_pipelines_give_the_same_tables(case):
    """The cross-engine check, over generated fleets with mixed GPU counts."""
    tel, bill = case
    if bill.empty:
        return
    focus = _focus(bill).assign(Tags=bill["tags"].to_numpy())
    from costkit import billing

    hours = billing.focus_resource_hours(focus)
    want = mo.cost_usage(te.read_telemetry(tel), hours)
    con = fleet.connect(threads=1)
    got = fleet.cost_usage(fleet.read_telemetry(tel, con=con), fleet.bill_hours(focus, con=con))
    table = fleet._execute(con, got.table.drop("unobserved").order_by(["replica_id", "hour"]))
    pd.testing.assert_frame_equal(want, table, check_dtype=False, rtol=1e-9, atol=1e-9)
    for kw in ({"by": "model", "freq": "h"}, {"by": ("team", "model"), "freq": None}):
        pd.testing.assert_frame_equal(mo.chargeback(want, **kw), fleet.chargeback(got, **kw),
                                      check_dtype=False, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(mo.alerts(want), fleet.alerts(got), check_dtype=False)


USAGE_RULES = ("quantile(0.95", "(1 - util)", "requests_in_violation=", "interval_hours * 60",
               "unobserved_usd=", '"unobserved_usd"] =', '"idle_gpu_hours"] =',
               "idle_gpu_hours=(", '.dt.floor("h").rename("hour")')


def test_the_usage_rules_are_written_in_usage_lines_only():
    """A second copy of a usage rule in another module (the state before: monitoring and
    fleet each had one) fails here."""
    from pathlib import Path

    import costkit

    root = Path(costkit.__file__).parent
    found = {(p.name, word) for p in root.glob("*.py") if p.name != "usage_lines.py"
             for word in USAGE_RULES if word in p.read_text(encoding="utf-8")}
    assert not found, found


# --------------------------------------------------------------------------- reading, once
# costkit.telemetry's utilization_unit, check_spacing and default_interval are the decisions
# both readers run; each reader only computes the small tables they take.

def _fleet_read(tel, **kw):
    return fleet.read_telemetry(tel, con=fleet.connect(threads=1), **kw)


BOTH_READERS = pytest.mark.parametrize("read", [te.read_telemetry, _fleet_read],
                                       ids=["pandas", "fleet"])


def _minutes(rid, n, step="1min", util=0.5):
    return pd.DataFrame({"timestamp": pd.date_range(T0, periods=n, freq=step),
                         "replica_id": rid, "gpu_utilization": util, "requests": 1.0})


@BOTH_READERS
def test_one_replica_sampled_faster_than_the_interval_is_refused(read):
    """Four replicas every minute and one every 20 s: with interval 1min, that one's time
    would count three times. Before, the pandas reader looked only at the median step of the
    whole file (a minute) and took it."""
    tel = pd.concat([*(_minutes(f"r{i}", 60) for i in range(4)), _minutes("fast", 60, "20s")],
                    ignore_index=True)
    with pytest.raises(DataFileError, match="replica 'fast' has 60 samples.*closer than"):
        read(tel, interval="1min")


@BOTH_READERS
def test_the_default_interval_is_the_median_step_of_every_replica(read):
    """Replica 'a' (first by name) every 2 minutes, three others every minute: the interval is
    a minute, and 'a' has gaps. Before, the fleet reader took the first replica's 2 minutes
    and then refused the others as sampled too fast."""
    tel = pd.concat([_minutes("a", 30, "2min"), *(_minutes(f"b{i}", 60) for i in range(3))],
                    ignore_index=True)
    got = read(tel)
    assert got.interval == pd.Timedelta("1min")
    report = got.report.set_index("check")
    assert report.at["missing samples", "rows"] == 29


@BOTH_READERS
def test_the_default_interval_is_exact_to_the_microsecond(read):
    """Steps of 250.001 ms and 250.003 ms (two replicas, one more step of the first): the
    median is 250.001 ms to the microsecond on both readers, late in the century too."""
    for start in (T0, pd.Timestamp("2099-12-30", tz="UTC")):
        a = _minutes("a", 40, pd.Timedelta(microseconds=250_001))
        b = _minutes("b", 39, pd.Timedelta(microseconds=250_003))
        a["timestamp"] += start - T0
        b["timestamp"] += start - T0
        assert read(pd.concat([a, b], ignore_index=True)).interval == pd.Timedelta(
            microseconds=250_001)


@BOTH_READERS
def test_mixed_units_name_the_first_replicas_by_name(read):
    """Per cent in 'z' and 'b', fractions in 'a': the message names 'b' and 'a' whatever the
    order of the file. Before, the pandas reader named the first in file order ('z')."""
    tel = pd.concat([_minutes("z", 10, util=50.0), _minutes("b", 10, util=40.0),
                     _minutes("a", 10, util=0.5)], ignore_index=True)
    with pytest.raises(DataFileError, match="replica 'b' looks like per cent.*replica 'a'"):
        read(tel)


READ_RULES = ("looks like per", "most values are below 1", "every value is 0 or 1",
              "closer than", "one sample; give interval", "intervals of", "no place in a series",
              "cannot be costed", '"is negative"', "whole number of GPUs")


def test_the_reading_rules_are_written_in_telemetry_only():
    """Each decision's words appear in costkit.telemetry only (before, fleet had a copy of
    each)."""
    from pathlib import Path

    import costkit

    root = Path(costkit.__file__).parent
    found = {(p.name, word) for p in root.glob("*.py") if p.name != "telemetry.py"
             for word in READ_RULES if word in p.read_text(encoding="utf-8")}
    assert not found, found


def test_the_frame_engine_reads_no_file_and_keeps_each_calls_tables_apart(tmp_path):
    """The pandas entry points' connections share one database a process starts once; none
    can read a file or turn file access back on, and a table made on one is not seen by
    another."""
    from costkit import usage_lines

    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    a, b = usage_lines.frame_engine(), usage_lines.frame_engine()
    for sql in (f"SELECT * FROM read_csv('{secret}')", "SET enable_external_access = true"):
        with pytest.raises(Exception, match="(?i)external.access|file system|Permission"):
            a.raw_sql(sql)
    assert a.raw_sql("SELECT current_setting('TimeZone')").fetchone()[0] in ("UTC", "Etc/UTC")
    # no progress bar in a notebook (a widget output whenever a query took over 2 s)
    for con in (a, b, fleet.connect()):
        assert con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
    t = usage_lines.ibis().memtable(pd.DataFrame({"x": [1, 2]}))
    assert usage_lines.cached(a, t.filter(t.x > 1)).count().execute() == 1
    tables = "SELECT count(*) FROM duckdb_tables()"
    assert a.raw_sql(tables).fetchone()[0] == 1 and b.raw_sql(tables).fetchone()[0] == 0
