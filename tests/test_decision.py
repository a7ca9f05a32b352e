"""The decision rule: risk first, steps on paired draws, a gate on the A/B test, never dominated."""

import numpy as np
import pytest
from _hyp import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from costkit import decision, roi

SHOP = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
            conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
            horizon_months=12, annual_discount_rate=0.1)


class Draws:
    """A stand-in MonteCarloResult with chosen NPV draws."""

    def __init__(self, npv, seed=0):
        self.npv_usd, self.seed, self.n = np.asarray(npv, dtype=float), seed, len(npv)


def two_options():
    return {"keep": roi.Case(**SHOP),
            "A": roi.Case(**SHOP, cvr_lift=0.01, one_off_usd=1e4),
            "B": roi.Case(**SHOP, cvr_lift=0.02, one_off_usd=5e4)}


def test_a_step_is_taken_only_when_it_pays_its_risk():
    cases = two_options()
    # A over keep: +105 on average, always positive: taken. B over A: +50 on average, positive
    # in 2 of 4 paired draws (P = 50% < 80%): gated on the A/B test
    d = decision.decide(cases, {"A": Draws([100, 120, 90, 110]), "B": Draws([300, 20, 250, 50])})
    assert (d.recommended, d.gated) == ("A", "B")
    s = d.steps.set_index("to_option")
    assert s.loc["A", "taken"] and not s.loc["B", "taken"]
    assert s.loc["B", "mean_gain_usd"] == pytest.approx(50.0)     # (200 - 100 + 160 - 60) / 4
    assert s.loc["B", "p_gain"] == pytest.approx(0.5)
    assert d.options.loc["A", "mean_npv_usd"] == pytest.approx(105.0)
    assert d.options.loc["A", "p_npv_positive"] == 1.0
    # the gate: the lift at which B's central NPV equals A's, checked by evaluating B there
    t = roi.compare(cases)
    at_gate = cases["B"].replace(cvr_lift=d.gate_order_lift).evaluate().npv_usd
    assert at_gate == pytest.approx(t.loc["A", "npv_usd"], rel=1e-9)
    assert t.loc["B", "break_even_lift"] < d.gate_order_lift < t.loc["B", "order_lift"]
    text = d.text()
    assert text.startswith("Deploy A.") and "A/B test it against A" in text
    assert f"{d.gate_order_lift:.2%} more orders" in text
    # a surer B is taken: P(gain) = 100%
    sure = decision.decide(cases, {"A": Draws([100, 120, 90, 110]),
                                   "B": Draws([200, 220, 190, 210])})
    assert (sure.recommended, sure.gated) == ("B", None)


def test_keep_when_nothing_pays_and_errors_when_draws_are_missing():
    cases = two_options()
    losing = {k: c.replace(one_off_usd=1e9) if k != "keep" else c for k, c in cases.items()}
    d = decision.decide(losing, {"A": Draws([-5, -10, 3, -1]), "B": Draws([-50, -20, -30, -1])})
    assert d.recommended == decision.KEEP and d.gated is None  # central and draws both lose
    assert d.text().startswith("Keep the current system. No option pays its risk")
    risky = decision.decide(cases, {"A": Draws([-50, 100, -50, 100]), "B": Draws([0, 0, 0, 0])})
    assert risky.recommended == decision.KEEP and risky.gated == "A"  # positive central NPV
    assert risky.text().startswith("Keep the current system for now, and test A first.")
    with pytest.raises(ValueError, match="missing: B"):
        decision.decide(cases, {"A": Draws([1, 2])})
    with pytest.raises(ValueError, match="different numbers of draws"):
        decision.decide(cases, {"A": Draws([1, 2]), "B": Draws([1, 2, 3])})
    unpaired = decision.decide(cases, {"A": Draws([5, 6], seed=1), "B": Draws([7, 9], seed=2)})
    assert "not paired" in unpaired.basis


@settings(max_examples=examples(60), deadline=None)
@given(a=st.lists(st.floats(-1e6, 1e6), min_size=20, max_size=20),
       b=st.lists(st.floats(-1e6, 1e6), min_size=20, max_size=20),
       conf=st.floats(0.5, 0.99))
def test_the_recommendation_is_never_dominated(a, b, conf):
    cases = two_options()
    d = decision.decide(cases, {"A": Draws(a), "B": Draws(b)}, confidence=conf)
    o = d.options
    rec = o.loc[d.recommended]
    dominated = (o.mean_npv_usd > rec.mean_npv_usd) & (o.npv_p5_usd > rec.npv_p5_usd)
    assert not dominated.any()
    assert d.gated != d.recommended


def test_monte_carlo_shares_the_draws_of_a_shared_input():
    cases = two_options()
    lift = ("pert", -0.005, 0.01, 0.02)
    a = roi.monte_carlo(cases["A"], {"cvr_lift": lift, "one_off_usd": ("uniform", 1e4, 2e4)},
                        n=500, seed=3)
    b = roi.monte_carlo(cases["B"], {"one_off_usd": ("uniform", 5e4, 9e4), "cvr_lift": lift},
                        n=500, seed=3)
    # the same name and seed: the same draws, whatever the order of the dict
    np.testing.assert_array_equal(a.draws["cvr_lift"], b.draws["cvr_lift"])
    assert not np.array_equal(a.draws["cvr_lift"],
                              roi.monte_carlo(cases["A"], {"cvr_lift": lift}, n=500,
                                              seed=4).draws["cvr_lift"])
    with pytest.raises(ValueError, match="integer seed"):
        roi.monte_carlo(cases["A"], {"cvr_lift": lift}, n=10, seed=None)


def test_decision_summary_leads_with_risk_when_every_option_has_draws():
    cases = two_options()
    lift_a, lift_b = ("pert", -0.005, 0.01, 0.02), ("pert", -0.02, 0.02, 0.05)
    mc = {"A": roi.monte_carlo(cases["A"], {"cvr_lift": lift_a}, n=2000, seed=1),
          "B": roi.monte_carlo(cases["B"], {"cvr_lift": lift_b}, n=2000, seed=1)}
    text = decision.decision_summary(cases, mc)
    d = decision.decide(cases, mc)
    assert text.startswith(d.text().splitlines()[0])
    assert "At the central assumptions" in text
    # with draws for one option only, the central ranking stays (the old summary)
    assert decision.decision_summary(cases, {"B": mc["B"]}).startswith("Deploy B.")


def test_only_an_option_clearly_safer_than_the_best_is_called_the_safer_choice():
    """With draws for some options only: B (P = 100 %) is the safer choice against A (72 %);
    C, about as risky as A, is not (a make-mutate survivor called every option within five
    points of A safer)."""
    from costkit.decision import decision_summary

    base = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)
    a = roi.Case(name="A", cvr_lift=0.05, one_off_usd=2e5, **base)
    b = roi.Case(name="B", cvr_lift=0.02, one_off_usd=2e4, **base)
    c = roi.Case(name="C", cvr_lift=0.01, one_off_usd=1e4, **base)
    d = roi.Case(name="D", cvr_lift=0.005, one_off_usd=1e4, **base)
    mc = {"A": roi.monte_carlo(a, {"cvr_lift": ("normal", 0.05, 0.06)}, n=2000, seed=0),
          "B": roi.monte_carlo(b, {"cvr_lift": ("normal", 0.02, 0.004)}, n=2000, seed=0),
          "C": roi.monte_carlo(c, {"cvr_lift": ("normal", 0.01, 0.012)}, n=2000, seed=0)}
    p_a, p_c = mc["A"].probability_positive, mc["C"].probability_positive
    assert abs(p_c - p_a) < 0.05
    text = decision_summary([a, b, c, d], mc)
    assert "B is the safer choice" in text
    assert "C is the safer choice" not in text


def _npv(case):
    return float(roi.compare({"x": case}).loc["x", "npv_usd"])


def test_an_npv_of_exactly_zero_is_kept_and_any_gain_is_deployed():
    """The central text's boundary: an option that changes orders but earns nothing on them
    (gross margin 0, NPV exactly 0) is not deployed; one worth half a dollar is."""
    keep = roi.Case(**SHOP)
    nil = roi.Case(**{**SHOP, "gross_margin": 0.0}, cvr_lift=0.02)
    assert _npv(nil) == 0.0
    text, chosen = decision.decision_and_recommendation({"keep": keep, "nil": nil})
    assert chosen == decision.KEEP and text.startswith("Keep the current system. No option pays")
    gain = roi.Case(**SHOP, cvr_lift=0.02)
    half = gain.replace(one_off_usd=_npv(gain) - 0.5)  # the one-off is paid in month 0
    assert _npv(half) == pytest.approx(0.5, abs=1e-6)
    text, chosen = decision.decision_and_recommendation({"keep": keep, "half": half})
    assert chosen == "half" and text.startswith("Deploy half.")


def test_what_counts_as_an_option_that_changes_something():
    """Only a lift, a one-off, serving or a fixed cost makes an option; half a dollar a month
    of fixed or serving cost is enough."""
    keep = roi.Case(**SHOP)
    text, chosen = decision.decision_and_recommendation({"keep": keep, "same": keep})
    assert (text, chosen) == ("No option changes anything: there is nothing to decide.",
                              decision.KEEP)
    searches_per_month = SHOP["sessions_per_month"] * SHOP["searches_per_session"]
    for change in (dict(fixed_usd_per_month=0.5),
                   dict(serving_usd_per_1k_searches=0.5 * 1000 / searches_per_month)):
        text, chosen = decision.decision_and_recommendation({"keep": keep,
                                                             "dear": keep.replace(**change)})
        assert chosen == decision.KEEP
        assert text.startswith("Keep the current system. No option pays"), change


def test_todays_system_is_zero_in_every_column_and_every_step():
    cases = two_options()
    d = decision.decide(cases, {"A": Draws([100, 120, 90, 110]), "B": Draws([300, 20, 250, 50])})
    assert d.options.loc[decision.KEEP].tolist() == [0.0] * 5
    first = d.steps.iloc[0]
    assert first.from_option == decision.KEEP
    assert first.central_gain_usd == pytest.approx(_npv(cases["A"]), rel=1e-12)


def test_a_step_that_is_not_taken_is_gated_only_when_it_may_gain():
    """Gated on an A/B test when the central gain or the mean gain is positive, however small;
    not when both are exactly zero."""
    keep = roi.Case(**SHOP)
    nil = roi.Case(**{**SHOP, "gross_margin": 0.0}, cvr_lift=0.02)  # central NPV 0
    gain = roi.Case(**SHOP, cvr_lift=0.02)
    half = gain.replace(one_off_usd=_npv(gain) - 0.5)  # central NPV 0.5
    # neither gain is positive: not gated
    d = decision.decide({"keep": keep, "nil": nil}, {"nil": Draws([0.0, 0.0, 0.0, 0.0])})
    assert (d.recommended, d.gated) == (decision.KEEP, None)
    # central 0.5 > 0, every draw loses: gated
    d = decision.decide({"keep": keep, "half": half}, {"half": Draws([-1.0, -1.0, -1.0, -1.0])})
    assert (d.recommended, d.gated) == (decision.KEEP, "half")
    # central 0, mean gain 0.5 > 0 but P(gain) = 50 %: gated
    d = decision.decide({"keep": keep, "nil": nil}, {"nil": Draws([2.0, -1.0, 2.0, -1.0])})
    assert (d.recommended, d.gated) == (decision.KEEP, "nil")
