"""Hostile input is normal input: SQL through a tag key, YAML bombs and YAML 1.1 surprises, CSV
formulas, HTML in widgets and control codes on a terminal. Each case here failed before the fix."""

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml

from costkit import _yaml, cli, report, widgets
from costkit import billing as bi
from costkit._safe import spreadsheet_cell, terminal
from costkit._tables import DataFileError
from costkit.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "small.yaml"
SECRET = "costkit-secret-7d1c"


def _bill(tmp_path, tags):
    n = len(tags)
    df = pd.DataFrame({
        "BilledCost": [1.0 + i for i in range(n)], "EffectiveCost": [1.0 + i for i in range(n)],
        "ChargePeriodStart": [f"2026-01-01T{i:02d}:00:00Z" for i in range(n)],
        "ChargePeriodEnd": [f"2026-01-01T{i + 1:02d}:00:00Z" for i in range(n)],
        "ResourceId": [f"r{i}" for i in range(n)], "ServiceName": ["gpu"] * n, "Tags": tags})
    path = tmp_path / "bill.csv"
    df.to_csv(path, index=False)
    (tmp_path / "secret.txt").write_text(SECRET)
    return path


# --------------------------------------------------------------------------- SQL
INJECTIONS = [
    "x') , read_text('SECRET') --",
    'x") , (SELECT content FROM read_text(\'SECRET\')) AS "y',
    'x"), glob(\'DIR/*\') --',
    "x'); COPY (SELECT 1) TO 'DIR/pwned.csv'; --",
    'x"); COPY (SELECT 1) TO \'DIR/pwned.csv\'; --',
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_tag_key_cannot_run_sql(tmp_path, payload):
    path = _bill(tmp_path, ['{"team": "a"}', '{"team": "b"}'])
    key = payload.replace("SECRET", str(tmp_path / "secret.txt")).replace("DIR", str(tmp_path))
    out = bi.focus_summary(path, by=(f"tag:{key}",), period=None)
    # a tag of that (odd) name: no line has it, so every line is in one group with ""
    assert out.shape[0] == 1 and out["lines"].item() == 2 and out["billed_cost"].item() == 3.0
    assert SECRET not in out.to_string()
    assert not (tmp_path / "pwned.csv").exists()


@pytest.mark.parametrize("key, expected", [("app.name", ["", "a"]), ("te'am", ["", "t"]),
                                           ('we"ird', ["", "w"]), ("a/b~c", ["", "s"])])
def test_tag_key_selects_exactly_that_key(tmp_path, key, expected):
    tags = ['{"app.name": "a", "app": {"name": "WRONG"}, "te\'am": "t", "we\\"ird": "w", '
            '"a/b~c": "s", "team": "x"}', '{"team": "y"}']
    out = bi.focus_summary(_bill(tmp_path, tags), by=(f"tag:{key}",), period=None)
    assert sorted(out[key]) == expected


def test_connection_reads_only_the_bill(tmp_path):
    path = _bill(tmp_path, ['{}'])
    bill = bi._open(path)
    with pytest.raises(DataFileError, match="Permission|disabled"):
        bill.sql(f"SELECT * FROM read_text('{tmp_path / 'secret.txt'}')").fetchall()
    with pytest.raises(DataFileError):  # and the lock cannot be lifted
        bill.sql("SET enable_external_access = true")


def test_grouping_column_must_exist(tmp_path):
    path = _bill(tmp_path, ['{}'])
    with pytest.raises(ValueError, match="not a column of the bill.*ServiceName"):
        bi.focus_summary(path, by=('ServiceName" , 1 --',))
    with pytest.raises(ValueError, match="needs a key"):
        bi.focus_summary(path, by=("tag:",))
    with pytest.raises(ValueError, match="already has"):
        bi.focus_summary(path, by=("tag:billed_cost",))


# --------------------------------------------------------------------------- YAML
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi",
                                                                 strict=True)])


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text, message", [
    (BOMB, "expands to more than 100,000 values"),
    ("a: " + "[" * 10_000 + "]" * 10_000, "nested more than 64 levels"),
    ("a: &a [*a]", "refers to itself"),
    ("name: x\nname: y\n", "duplicate key 'name'"),
    ("x: 1\n" + "y" * (_yaml.MAX_BYTES + 1), "larger than"),
])
def test_yaml_limits_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    for command in ("validate", "report"):
        argv = [command, str(path)] + (["--format", "json"] if command == "report" else [])
        code, _, err = _cli(capsys, *argv)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_bomb_is_refused_before_it_expands():
    # 9^9 = 387 million strings if expanded; the check counts nodes with a memo
    with pytest.raises(_yaml.YAMLLimitError, match="alias bomb"):
        _yaml.load(BOMB)


def test_duplicate_gross_margin_is_refused_not_last_wins(tmp_path):
    text = SMALL.read_text().replace("  gross_margin: 0.25", "  gross_margin: 0.25\n"
                                     "  gross_margin: 0.95")
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="duplicate key 'gross_margin'"):
        Scenario.from_yaml(path)


@pytest.mark.parametrize("text, value", [
    ("7.68e9", 7.68e9), ("-1.5E-3", -1.5e-3), ("0o17", 15), ("0x1F", 31), ("TRUE", True),
    ("false", False), ("~", None), ("null", None), (".inf", float("inf")), ("-.Inf", -float("inf")),
    ("12", 12),
    # YAML 1.1 turned these into other things: 1.2 keeps them as text
    ("no", "no"), ("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"), ("1:20", "1:20"),
    ("2026-01-01", "2026-01-01"), ("1_000", "1_000"), ("0b101", "0b101"),
])
def test_yaml_1_2_core_schema(text, value):
    assert _yaml.load(f"v: {text}") == {"v": value}
    assert yaml.safe_load("v: 1_000") == {"v": 1000}  # what YAML 1.1 did


def test_yaml_1_1_boolean_is_not_a_flag():
    from costkit.scenario import _Bad, flag

    with pytest.raises(_Bad, match="expected true or false, got 'no'"):
        flag()(_yaml.load("relative: no")["relative"], "relative")
    assert flag()(_yaml.load("relative: false")["relative"], "relative") is False


def test_truthy_string_is_not_use_spot():
    from costkit import capacity as cp

    with pytest.raises(TypeError, match="use_spot must be True or False"):
        cp.plan(cp.traffic_profile(1e5), replica_rps=3.0, usd_per_replica_hour=1.0,
                use_spot="no")


def test_examples_still_read_the_same():
    for name in ("small", "ecommerce"):
        path = ROOT / "examples" / f"{name}.yaml"
        old = Scenario.from_dict(yaml.safe_load(path.read_text()))
        assert Scenario.from_yaml(path).spec == old.spec


# --------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("cell, safe", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("\tx", "'\tx"), ("BERT", "BERT"), (-6974.5, -6974.5),
])
def test_spreadsheet_cell(cell, safe):
    assert spreadsheet_cell(cell) == safe


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory):
    data = yaml.safe_load(SMALL.read_text())
    data["options"][0]["name"] = "=HYPERLINK(\"http://evil\",\"x\")<img src=x onerror=alert(1)>"
    data["site"]["sessions_per_day"] = 200_000  # the option pays, so it is named on stderr
    sc = Scenario.from_dict(data)
    path = tmp_path_factory.mktemp("s") / "hostile.yaml"
    path.write_text(yaml.safe_dump(data))
    return sc.evaluate(draws=0), path


def test_csv_report_neutralises_formulas(hostile_result, capsys):
    res, path = hostile_result
    frame = pd.read_csv(io.StringIO(report.csv_text(res)))
    first = frame.iloc[:, 0].astype(str)
    assert not first.str.startswith(("=", "+", "-", "@")).any()
    assert first.str.startswith("'=HYPERLINK").any()
    code, out, _ = _cli(capsys, "report", str(path), "--format", "csv", "--draws", "0")
    assert code == 0 and "\n=HYPERLINK" not in out and "'=HYPERLINK" in out


def test_terminal_escapes_never_reach_stderr(tmp_path, capsys):
    data = yaml.safe_load(SMALL.read_text())
    data["options"][0]["name"] = "re-ranker\x1b[2J\x1b]0;title\x07"
    path = tmp_path / "esc.yaml"
    path.write_text(yaml.safe_dump(data))
    for argv in (["validate", str(path)], ["report", str(path), "--format", "json"]):
        code, out, err = _cli(capsys, *argv)
        assert code == 2 and "control characters" in err
        assert "\x1b" not in err + out and "\x07" not in err + out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n\"\\e[31mred\": 1\n")
    code, _, err = _cli(capsys, "validate", str(bad))
    assert code == 2 and "\x1b" not in err and "red" in err


def test_report_names_the_best_option_safely(hostile_result, tmp_path, capsys):
    res, path = hostile_result
    assert res.best_option.startswith("=HYPERLINK")
    code, _, err = _cli(capsys, "report", str(path), "--out", str(tmp_path / "r.html"),
                        "--draws", "0")
    assert code == 0 and "=HYPERLINK" in err and "\x1b" not in err


def test_terminal_strips_controls():
    assert terminal("a\x1b[2Jb\x9b1mc\u202ed\ne\tf\x00") == "a[2Jb1mcd\ne\tf"


def test_widget_html_escapes_names(hostile_result):
    res, _ = hostile_result
    html = widgets.roi_summary_html(res.table, "decision: <script>alert(1)</script>")
    assert "<img" not in html and "<script>" not in html and "&lt;img" in html


def test_monitoring_widget_escapes_names():
    from costkit import monitoring as mo
    from costkit import telemetry as te

    week = mo.synthetic_telemetry(days=1, replicas=3, seed=1)
    costed = mo.cost_usage(te.read_telemetry(week.telemetry), bi.focus_resource_hours(week.bill))
    costed["model"] = "<img src=x onerror=alert(1)>"
    found = pd.DataFrame({"kind": ["<b>k</b>"], "model": ["<i>m</i>"],
                          "start": [pd.Timestamp("2026-01-01", tz="UTC")], "hours": [1],
                          "detail": ["<svg onload=alert(1)>"]})
    html = widgets.monitoring_summary_html(costed, found)
    assert "<img" not in html and "<svg" not in html and "<b>k" not in html


def test_report_chart_takes_math_text_literally(tmp_path):
    data = yaml.safe_load(SMALL.read_text())
    data["options"][0]["name"] = r"re-ranker $\frac{1}$"
    res = Scenario.from_dict(data).evaluate(draws=0)
    out = tmp_path / "r.html"
    report.html(res, out)
    assert out.stat().st_size > 10_000
