"""costkit.scenario: the examples reproduce notebook 06, a small case priced by hand through the
library, each kind of validation error with its path, evaluation errors, and the report."""

import copy
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from costkit import capacity as cp
from costkit import optimization as op
from costkit import report, roi
from costkit.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
ECOMMERCE = ROOT / "examples" / "ecommerce.yaml"
SMALL = ROOT / "examples" / "small.yaml"

# A case small enough to price by hand: no serving, 10 engineer-days at 1,000 USD one-off,
# 1,000 USD a month of other running cost, a 1% conversion lift, 12 months at 0%.
HAND = {
    "name": "hand",
    "site": {"sessions_per_day": 24_000, "searches_per_session": 1.0,
             "click_through_rate": 0.5, "conversion_rate": 0.04,
             "average_order_value_usd": 50, "gross_margin": 0.2},
    "timeline": {"horizon_months": 12, "annual_discount_rate": 0.0},
    "people": {"usd_per_engineer_day": 1000},
    "options": [{"name": "better ranking", "effects": {"cvr_lift": 0.01},
                 "engineering": [{"name": "build", "days": 10}],
                 "running": {"other_usd_per_month": 1000},
                 "launch_month": 1, "ramp_months": 0}],
}


def hand(**changes):
    d = copy.deepcopy(HAND)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = d
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return d


_DELETE = object()


def problems(data, source="t.yaml"):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data, source=source).evaluate(draws=0)
    return err.value


def _notebook_text(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


# ------------------------------------------------------------------ the examples


@pytest.fixture(scope="module")
def ecommerce():
    return Scenario.from_yaml(ECOMMERCE).evaluate()


def test_ecommerce_example_reproduces_notebook_06(ecommerce):
    text = _notebook_text("06_roi_case_study.ipynb")
    npvs = dict(re.findall(r"(BERT re-ranker|LLM rewriter \+ re-ranker): ([\d,]+) USD", text))
    assert len(npvs) == 2
    for name, shown in npvs.items():
        assert round(ecommerce.table.loc[name, "npv_usd"]) == int(shown.replace(",", ""))
    m = re.search(r"one-off: re-ranker ([\d,]+) USD, rewriter \+ re-ranker ([\d,]+) USD", text)
    assert round(ecommerce.one_off["BERT re-ranker"].total()) == int(m[1].replace(",", ""))
    assert round(ecommerce.one_off["LLM rewriter + re-ranker"].total()) == int(
        m[2].replace(",", ""))
    p = re.search(r"p_npv_positive\s+([\d.]+)\s+([\d.]+)", text)
    assert ecommerce.monte_carlo["BERT re-ranker"].probability_positive == pytest.approx(
        float(p[1]), abs=5e-4)
    assert ecommerce.monte_carlo["LLM rewriter + re-ranker"].probability_positive == \
        pytest.approx(float(p[2]), abs=5e-4)
    assert ecommerce.best_option == "LLM rewriter + re-ranker"  # the higher central NPV
    # the decision leads with risk: the rewriter's step over the re-ranker loses on average
    # on their paired draws, so the re-ranker is deployed and the rewriter gated on its test
    assert ecommerce.decision.startswith("Deploy BERT re-ranker")
    assert "A/B test it against BERT re-ranker" in ecommerce.decision
    # one recommendation everywhere: the result, its JSON, the report's JSON
    assert ecommerce.recommended == "BERT re-ranker"


def test_ecommerce_serving_is_the_components_minus_what_they_replace(ecommerce):
    c = ecommerce.components.set_index("component")
    t = ecommerce.table
    rerank = c.loc["BERT-base int8 re-ranker", "usd_per_month"] - c.loc["MiniLM re-ranker",
                                                                        "usd_per_month"]
    assert t.loc["BERT re-ranker", "serving_usd_per_month"] == pytest.approx(rerank, abs=1e-9)
    both = rerank + c.loc["Llama-3-8B fp8 rewriter", "usd_per_month"]
    assert t.loc["LLM rewriter + re-ranker", "serving_usd_per_month"] == pytest.approx(both)
    # latency per search: the new re-ranker minus the old, plus the rewriter on 30% of searches
    case = ecommerce.cases["LLM rewriter + re-ranker"]
    want = (c.loc["BERT-base int8 re-ranker", "latency_ms"] - c.loc["MiniLM re-ranker",
                                                                    "latency_ms"]
            + 0.3 * c.loc["Llama-3-8B fp8 rewriter", "latency_ms"])
    assert case.latency_change_ms == pytest.approx(want)
    # extends: the child's one-off ledger holds the parent's lines and its own
    parent = ecommerce.one_off["BERT re-ranker"]
    child = ecommerce.one_off["LLM rewriter + re-ranker"]
    assert len(child) > len(parent)
    assert [it.name for it in child.items[:len(parent)]] == [it.name for it in parent.items]
    # the 36-month ledger holds exactly the cash flows' costs
    res = ecommerce.results["LLM rewriter + re-ranker"]
    assert ecommerce.ledgers["LLM rewriter + re-ranker"].total() == pytest.approx(
        res.cost_usd.sum())


def test_small_example_is_priced_and_does_not_pay():
    r = Scenario.from_yaml(SMALL).evaluate()
    assert r.best_option == "keep today's system"
    assert r.recommended == "keep today's system"  # the file's name for the status quo
    assert r.table.loc["BERT re-ranker", "npv_usd"] < 0
    assert "Keep" in r.decision
    assert r.monte_carlo == {}
    assert r.cases["BERT re-ranker"].latency_change_ms > 0   # nothing replaced: all added


# ------------------------------------------------------------------ by hand


def test_hand_case_equals_roi_case_built_directly():
    r = Scenario.from_dict(HAND).evaluate()
    assert r.one_off["better ranking"].total() == 10_000
    # 24,000 sessions a day x 730 / 24 = 730,000 sessions a month; x 0.5 x 0.04 = 14,600
    # orders x 50 USD x 0.2 = 146,000 USD of gross profit; a 1% lift earns 1,460 a month,
    # minus 1,000 of running cost: 460 a month for 12 months, minus 10,000 at month 0.
    assert r.table.loc["better ranking", "npv_usd"] == pytest.approx(12 * 460 - 10_000)
    direct = roi.Case(sessions_per_month=730_000, searches_per_session=1.0,
                      click_through_rate=0.5, conversion_rate=0.04, average_order_value_usd=50,
                      gross_margin=0.2, cvr_lift=0.01, one_off_usd=10_000,
                      fixed_usd_per_month=1000, horizon_months=12, launch_month=1,
                      ramp_months=0, annual_discount_rate=0.0)
    assert r.table.loc["better ranking", "npv_usd"] == pytest.approx(direct.evaluate().npv_usd)


def test_engineers_fte_and_retraining_are_priced():
    d = hand(**{"options.0.running": {"engineers_fte": 0.5, "retrain_every_months": 4,
                                      "retrain_engineering_days": 2},
                "people.engineer_days_per_month": 20})
    case = Scenario.from_dict(d).evaluate(draws=0).cases["better ranking"]
    assert case.fixed_usd_per_month == 0.5 * 20 * 1000
    assert case.retrain_usd == 2 * 1000
    assert case.retrain_every_months == 4


def test_serving_component_priced_by_the_library():
    comp = {"name": "encoder", "model": "BERT-base", "gpu": "L4", "seq_len": 128,
            "batch_size": 64, "candidates_per_query": 50, "slo_s": "200 ms"}
    d = hand(**{"options.0.serving": [comp]})
    r = Scenario.from_dict(d).evaluate(draws=0)
    est = op.baseline("BERT-base").serve(gpu="L4", seq_len=128, batch_size=64,
                                          candidates_per_query=50)
    plan = cp.plan(cp.traffic_profile(24_000, days=7), est, slo_s=0.2)
    assert r.table.loc["better ranking", "serving_usd_per_month"] == pytest.approx(
        plan.monthly_cost_usd())
    assert r.cases["better ranking"].latency_change_ms == pytest.approx(
        est.request_latency_s * 1e3)


def test_strings_with_units_percentages_and_yaml_exponents():
    d = hand(**{"site.gross_margin": "20%", "site.sessions_per_day": "2.4e4",
                "options.0.ramp_months": "2 months"})
    s = Scenario.from_dict(d)
    assert s.spec["site"]["gross_margin"] == pytest.approx(0.2)
    assert s.spec["site"]["sessions_per_day"] == 24_000
    assert s.spec["options"][0]["ramp_months"] == 2
    comp = {"name": "e", "model": "BERT-base", "gpu": "L4", "slo_s": "150 ms"}
    s = Scenario.from_dict(hand(**{"options.0.serving": [comp]}))
    assert s.spec["options"][0]["serving"][0]["slo_s"] == pytest.approx(0.15)


# ------------------------------------------------------------------ validation errors


def test_unknown_key_named_with_its_path_and_a_suggestion():
    err = problems(hand(**{"options.0.runing": {}}))
    assert err.problems[0][0] == "options[0].runing"
    assert "unknown key" in str(err) and "running" in str(err)
    assert str(err).startswith("t.yaml: 1 problem:")


def test_wrong_type_named_with_its_path():
    err = problems(hand(**{"site.sessions_per_day": "lots"}))
    assert err.problems == [("site.sessions_per_day", "expected a number, got 'lots'")]
    err = problems(hand(**{"options.0.engineering": {"name": "x", "days": 1}}))
    assert err.problems[0][0] == "options[0].engineering"
    assert "expected a list" in err.problems[0][1]
    err = problems(hand(**{"options.0.ab_test": {"minimum_detectable_lift": 0.02,
                                                 "relative": "yes"}}))
    assert err.problems[0][0] == "options[0].ab_test.relative"


def test_percentage_written_as_a_number_is_refused_with_the_fix():
    err = problems(hand(**{"site.gross_margin": 30}))
    path, msg = err.problems[0]
    assert path == "site.gross_margin"
    assert "not a percentage" in msg and "0.3" in msg and "30%" in msg


def test_wrong_unit_is_refused_with_the_dimension():
    comp = {"name": "e", "model": "BERT-base", "gpu": "L4", "slo_s": "100 GB"}
    err = problems(hand(**{"options.0.serving": [comp]}))
    path, msg = err.problems[0]
    assert path == "options[0].serving[0].slo_s"
    assert "data" in msg and "time" in msg
    err = problems(hand(**{"site.average_order_value_usd": "50 EUR"}))
    assert err.problems[0][0] == "site.average_order_value_usd"
    assert "unit is in its name" in err.problems[0][1]


def test_range_errors():
    assert problems(hand(**{"site.sessions_per_day": -5})).problems[0] == (
        "site.sessions_per_day", "must be > 0, got -5")
    msg = problems(hand(**{"timeline.latency_elasticity_per_100ms": 0.05})).problems[0][1]
    assert "in (-1, 0]" in msg
    msg = problems(hand(**{"timeline.latency_elasticity_per_100ms": -1})).problems[0][1]
    assert "in (-1, 0]" in msg  # -1 would lose every order: refused by the file's checker
    assert problems(hand(**{"options.0.effects": {"cvr_lift": -1.5}})).problems[0][0] == \
        "options[0].effects.cvr_lift"
    assert "whole number" in problems(hand(**{"timeline.horizon_months": 2.5})).problems[0][1]
    assert problems(hand(**{"site.click_through_rate": float("nan")})).problems[0][0] == \
        "site.click_through_rate"


def test_missing_required_keys_and_every_problem_reported():
    err = problems(hand(**{"site.conversion_rate": _DELETE, "name": _DELETE,
                           "options.0.launch_month": 0}))
    paths = [p for p, _ in err.problems]
    assert paths == ["name", "site.conversion_rate", "options[0].launch_month"]
    assert "3 problems" in str(err)
    assert problems(hand(**{"options": []})).problems[0] == ("options",
                                                             "needs at least 1 item")


def test_unknown_gpu_and_model_suggest_the_closest():
    comp = {"name": "e", "model": "BERT-bse", "gpu": "H100-SMX", "slo_s": 0.1}
    err = problems(hand(**{"options.0.serving": [comp]}))
    found = dict(err.problems)
    assert "BERT-base" in found["options[0].serving[0].model"]
    assert "H100-SXM" in found["options[0].serving[0].gpu"]


def test_references_between_options_are_checked():
    d = hand(**{"options.0.extends": "nothing"})
    assert problems(d).problems[0][0] == "options[0].extends"
    comp = {"name": "e", "model": "BERT-base", "gpu": "L4", "slo_s": 0.1, "replaces": "old"}
    assert "not a baseline component" in problems(
        hand(**{"options.0.serving": [comp]})).problems[0][1]
    d = hand(**{"options.0.search": [{"strategy": "asha", "configurations": 27,
                                      "trial": "fine-tune"}]})
    assert problems(d).problems[0][0] == "options[0].search[0].trial"
    d = hand(**{"options.0.running": {"retrain_trainings": ["x"]}})
    assert {p for p, _ in problems(d).problems} == {
        "options[0].running.retrain_trainings[0]", "options[0].running.retrain_every_months"}
    d = hand(**{"options.0.uncertainty": {"cvr_lfit": ["pert", 0, 0.01, 0.02]}})
    assert "cvr_lift" in problems(d).problems[0][1]
    d = hand(**{"options.0.uncertainty": {"cvr_lift": ["pert", 0, 0.01]}})
    assert "takes 3 parameters" in problems(d).problems[0][1]
    d = hand(**{"options.0.serving": [{"name": "q", "model": "Llama-3-8B", "gpu": "H100-SXM",
                                       "slo_s": 1, "optimization": {"technique": "quantize"}}]})
    assert problems(d).problems[0][0] == "options[0].serving[0].optimization.dtype"


def test_evaluation_errors_carry_their_path():
    comp = {"name": "big", "model": "Llama-3-70B", "gpu": "L4", "slo_s": 2, "batch_size": 8}
    err = problems(hand(**{"options.0.serving": [comp]}))
    assert err.problems[0][0] == "options[0].serving[0]"
    comp = {"name": "e", "model": "BERT-base", "gpu": "L4", "slo_s": 0.1, "prompt_tokens": 9}
    err = problems(hand(**{"options.0.serving": [comp]}))
    assert err.problems[0][0] == "options[0].serving[0].prompt_tokens"
    assert "encoder" in err.problems[0][1]


def test_files_not_yaml_not_a_mapping_and_missing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsite: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: 1 problem: not valid YAML: line \d"):
        Scenario.from_yaml(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ScenarioError, match="a scenario is a mapping"):
        Scenario.from_yaml(bad)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        Scenario.from_yaml(tmp_path / "missing.yaml")


def test_yaml_round_trip(tmp_path):
    import yaml

    path = tmp_path / "hand.yaml"
    path.write_text(yaml.safe_dump(HAND))
    a = Scenario.from_yaml(path).evaluate(draws=0)
    b = Scenario.from_dict(HAND).evaluate(draws=0)
    assert a.table.equals(b.table)
    assert a.scenario.source == str(path)


# ------------------------------------------------------------------ Monte Carlo and progress


def test_progress_reports_every_draw_and_chunks_do_not_change_results():
    d = hand(**{"options.0.uncertainty": {"cvr_lift": ["uniform", 0.0, 0.02]},
                "monte_carlo": {"draws": 2500, "seed": 3}})
    seen = []
    r = Scenario.from_dict(d).evaluate(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2500, 2500)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    case = r.cases["better ranking"]
    one = roi.monte_carlo(case, {"cvr_lift": ("uniform", 0.0, 0.02)}, n=2500, seed=3)
    chunked = roi.monte_carlo(case, {"cvr_lift": ("uniform", 0.0, 0.02)}, n=2500, seed=3,
                              chunk_size=700)
    np.testing.assert_array_equal(one.npv_usd, chunked.npv_usd)
    np.testing.assert_array_equal(r.monte_carlo["better ranking"].npv_usd, one.npv_usd)
    assert Scenario.from_dict(d).evaluate(draws=0).monte_carlo == {}


def test_relative_uncertainty_scales_the_case_value():
    d = hand(**{"options.0.uncertainty": {"one_off_usd": {"distribution": "uniform",
                                                          "values": [0.5, 2.0],
                                                          "relative": True}}})
    m = Scenario.from_dict(d).evaluate(draws=4000).monte_carlo["better ranking"]
    drawn = m.draws["one_off_usd"]
    assert drawn.min() >= 5_000 and drawn.max() <= 20_000 and drawn.max() > 19_000


# ------------------------------------------------------------------ outputs


def test_to_dict_is_strict_json(ecommerce):
    text = json.dumps(ecommerce.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["recommended"] == "BERT re-ranker"  # what the decision deploys
    assert back["best_central_npv_option"] == "LLM rewriter + re-ranker"  # named as such
    assert "best_option" not in back
    npv = {row["scenario"]: row["npv_usd"] for row in back["comparison"]}
    assert npv["BERT re-ranker"] == pytest.approx(ecommerce.table.loc["BERT re-ranker",
                                                                      "npv_usd"])
    assert back["one_off_usd"]["BERT re-ranker"] == pytest.approx(
        ecommerce.one_off["BERT re-ranker"].total())
    assert set(back["horizon_cost_usd"]["BERT re-ranker"]) == {"train", "run", "opt", "tune"}


def test_html_report_has_every_section_and_is_self_contained(ecommerce, tmp_path):
    out = tmp_path / "r.html"
    page = report.html(ecommerce, out, generated="fixed")
    assert out.read_text(encoding="utf-8") == page
    for sid, title in report.SECTIONS:
        assert f"<section id='{sid}'><h2>{title}</h2>" in page
    assert page.count("<svg") >= 6    # serving, ledger, cash flow, waterfall, tornado, 2 hists
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)   # nothing fetched
    assert "<script" not in page
    npv = f"{ecommerce.table.loc['LLM rewriter + re-ranker', 'npv_usd']:,.0f}"
    assert npv in page and "anycloud-sh/catalog" in page             # NPV and price sources
    assert report.html(ecommerce, generated="fixed") == page        # deterministic


def test_html_report_leaves_pyplot_alone(ecommerce):
    import matplotlib
    import matplotlib.pyplot as plt

    backend, figures = matplotlib.get_backend(), plt.get_fignums()
    report.html(ecommerce, generated="fixed")
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figures
    assert matplotlib.rcParams["svg.hashsalt"] is None


def test_html_report_without_monte_carlo_says_so():
    r = Scenario.from_dict(HAND).evaluate()
    page = report.html(r, generated="fixed")
    assert "No Monte Carlo" in page and "<section id='risk'>" in page
