"""The decision rule: which option to deploy, led by risk, not by the central case.

A central NPV is one draw from a wide distribution. Deciding on it alone picks
the option with the best story, even when its own Monte Carlo says it is
worth less on average and can lose a lot. :func:`decide` instead walks the
options in the order they build on each other (keep today's system, then the
first option, then the one that adds to it, ...) and takes a step only when
the step itself pays under uncertainty:

1. For every option: the expected NPV (the mean of its Monte Carlo draws),
   P(NPV > 0) and the 5th and 95th percentiles.
2. For every step from the option recommended so far to the next one: the
   **incremental** NPV draw by draw (the options' draws share their random
   numbers when drawn with the same seed, see :func:`costkit.roi.monte_carlo`),
   its mean, P(gain > 0) and 5th percentile.
3. A step is **taken** when its expected gain is positive and P(gain > 0) is at
   least ``confidence`` (0.8 by default). A step whose central gain is positive
   but which fails that test is **gated on the A/B test**: deploy what has been
   recommended so far, test the next option on top of it, and roll it out only
   if the test measures at least the order lift at which it beats the current
   one (its break-even against the current option, not against zero). The walk
   stops at the first step not taken.
4. The recommendation is never **dominated**: if another option has a higher
   expected NPV and a higher 5th percentile, that one is recommended instead.

Every number in :meth:`Decision.text` comes from these tables; nothing is
typed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .roi import _named, compare

if TYPE_CHECKING:
    from ._typing import Frame
    from .roi import Case

__all__ = ["DEFAULT_CONFIDENCE", "Decision", "decide", "decision_and_recommendation",
           "decision_summary"]

DEFAULT_CONFIDENCE = 0.8
"""P(a step adds value) needed to take it without an A/B-test gate [unitless]."""

KEEP = "keep the current system"


def _usd(x: float) -> str:
    return f"{x:,.0f} USD"


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` recommends, and the tables behind it.

    ``recommended``: the option to deploy now (``KEEP`` for none); ``gated``:
    the next option to A/B test before rolling it out (or None);
    ``gate_order_lift``: the lift in orders the test must measure for it
    [fraction]; ``options``: one row per option (central, mean, P(NPV > 0),
    5th and 95th percentile NPV [USD]); ``steps``: one row per step walked
    (mean, central and 5th-percentile gain [USD], P(gain > 0), taken);
    ``basis``: what the numbers rest on.
    """

    recommended: str
    gated: str | None
    gate_order_lift: float
    options: Frame
    steps: Frame
    confidence: float
    basis: str
    notes: tuple = field(default=())

    def text(self) -> str:
        """The decision in words, risk first.

        Returns
        -------
        str
            The decision in words, risk first.

        Examples
        --------
        See :func:`decide`: ``decide(cases, draws).text()`` is the decision in words.

        >>> from costkit import roi
        >>> shop = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)
        >>> cases = {"keep": roi.Case(**shop),
        ...          "BERT": roi.Case(**shop, cvr_lift=0.02, one_off_usd=2e4)}
        >>> mc = {k: roi.monte_carlo(c, {"cvr_lift": ("normal", c.cvr_lift, 0.005)}, n=2000)
        ...       for k, c in cases.items()}
        >>> decide(cases, mc).text().split(".")[0]
        'Deploy BERT'
        """
        o = self.options
        lines = []
        if self.recommended == KEEP and self.gated:
            lines.append(f"Keep the current system for now, and test {self.gated} first.")
        elif self.recommended == KEEP:
            best = o.drop(KEEP, errors="ignore")
            top = best["mean_npv_usd"].idxmax() if len(best) else None
            lines.append(
                "Keep the current system. " + (
                    "No option changes anything." if top is None else
                    f"No option pays its risk: the best, {top}, has an expected NPV of "
                    f"{_usd(best.loc[top, 'mean_npv_usd'])} (P(NPV > 0) "
                    f"{best.loc[top, 'p_npv_positive']:.0%})."))
        else:
            r = o.loc[self.recommended]
            lines.append(
                f"Deploy {self.recommended}. Its expected NPV is {_usd(r.mean_npv_usd)}, "
                f"P(NPV > 0) is {r.p_npv_positive:.0%}, and 90% of outcomes lie between "
                f"{_usd(r.npv_p5_usd)} and {_usd(r.npv_p95_usd)} "
                f"({_usd(r.central_npv_usd)} at the central assumptions).")
        for s in self.steps.itertuples():
            if s.taken:
                continue
            gain = (f"its expected gain over {s.from_option} is {_usd(s.mean_gain_usd)} "
                    f"(P(gain > 0) {s.p_gain:.0%}, 5th percentile {_usd(s.gain_p5_usd)}; "
                    f"{_usd(s.central_gain_usd)} at the central assumptions)")
            if s.to_option == self.gated:
                lines.append(
                    f"{s.to_option} on top: {gain}. That is too uncertain to commit: A/B test "
                    f"it against {s.from_option} and roll it out only if the test measures at "
                    f"least {self.gate_order_lift:.2%} more orders ({s.assumed_order_lift:.2%} "
                    "is assumed).")
            else:
                lines.append(f"{s.to_option} instead: {gain}. It does not pay its risk.")
        lines.extend(self.notes)
        lines.append(f"({self.basis}; a step is taken when its P(gain > 0) is at least "
                     f"{self.confidence:.0%}.)")
        return "\n".join(lines)


def _gate_lift(table, current, nxt) -> float:
    """The order lift at which ``nxt``'s central NPV equals ``current``'s.

    The NPV is linear in the lift in orders (gross profit is proportional to
    it; costs do not depend on it), so with ``l`` the assumed lift and ``l0``
    the break-even lift: NPV(x) = NPV(l) (x - l0) / (l - l0).
    """
    y = table.loc[nxt]
    target = 0.0 if current == KEEP else float(table.loc[current, "npv_usd"])
    span = float(y.order_lift - y.break_even_lift)
    if not np.isfinite(span) or span == 0 or y.npv_usd == 0:
        return float("nan")
    return float(y.break_even_lift + target * span / y.npv_usd)


def _check_drawn_for(name: str, case, result) -> None:
    """Refuse draws made for another case than the option's (a result that records its case)."""
    import dataclasses

    drawn = getattr(result, "case", None)
    if drawn is None or drawn is case or not dataclasses.is_dataclass(drawn):
        return
    differ = [f.name for f in dataclasses.fields(drawn) if f.name != "name"
              and not np.array_equal(getattr(drawn, f.name), getattr(case, f.name))]
    if differ:
        f = differ[0]
        raise ValueError(f"the Monte Carlo draws given for {name!r} were drawn for another case "
                         f"({f} {getattr(drawn, f)!r} there, {getattr(case, f, None)!r} here"
                         f"{f' and {len(differ) - 1} more fields' if len(differ) > 1 else ''}); "
                         "draw each option from its own case")


def decide(cases: Mapping[str, Case], monte_carlo_results: dict, *,
           confidence: float = DEFAULT_CONFIDENCE, order: Sequence[str] | None = None) -> Decision:
    """Recommend an option from paired Monte Carlo draws, leading with risk (see the module).

    Parameters
    ----------
    cases : dict
        ``name -> costkit.roi.Case``; an option with no lift and no cost is
        today's system and is left out (the walk starts from it).
    monte_carlo_results : dict
        ``name -> MonteCarloResult`` for every option, drawn with the same
        ``seed`` and ``n`` so the steps compare draw by draw.
    confidence : float
        P(a step adds value) needed to take it [0 to 1]; default 0.8.
    order : list, optional
        The options in the order they build on each other; default the
        order of ``cases``.

    Returns
    -------
    Decision
        The option to deploy, the steps considered with their risk, and the decision in
        words (:meth:`Decision.text`).

    Examples
    --------
    Two options with known draws: B adds 50 on average over A but only half
    the time, so A is deployed and B is gated on its test.

    >>> class MC:
    ...     def __init__(self, draws, seed=0):
    ...         self.npv_usd, self.seed, self.n = np.asarray(draws, float), seed, len(draws)
    >>> from costkit import roi
    >>> shop = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)
    >>> cases = {"A": roi.Case(**shop, cvr_lift=0.01, one_off_usd=1e4),
    ...          "B": roi.Case(**shop, cvr_lift=0.02, one_off_usd=5e4)}
    >>> d = decide(cases, {"A": MC([100, 120, 90, 110]), "B": MC([300, 20, 250, 50])})
    >>> d.recommended, d.gated
    ('A', 'B')
    """
    import pandas as pd

    from ._checks import as_fraction

    conf = float(as_fraction("confidence", confidence))
    table = compare(cases)
    names = list(order) if order is not None else list(table.index)
    unknown = [n for n in names if n not in table.index]
    if unknown:
        raise ValueError(f"order names options that are not cases: {', '.join(unknown)}")
    active = [n for n in names if (table.loc[n, ["order_lift", "one_off_usd",
                                                   "serving_usd_per_month",
                                                   "fixed_usd_per_month"]] != 0).any()]
    missing = [n for n in active if n not in monte_carlo_results]
    if missing:
        raise ValueError(f"decide needs Monte Carlo draws for every option; missing: "
                         f"{', '.join(missing)} (use costkit.decision.decision_summary for the "
                         "central case alone)")
    for name in active:
        _check_drawn_for(name, cases[name], monte_carlo_results[name])
    ns = {monte_carlo_results[n].n for n in active}
    seeds = {monte_carlo_results[n].seed for n in active}
    if len(ns) > 1:
        raise ValueError(f"the options' Monte Carlo runs have different numbers of draws "
                         f"{sorted(ns)}; draw them with the same n and seed")
    paired = len(seeds) <= 1
    n = ns.pop() if ns else 0
    zero = np.zeros(n)

    def draws(name):
        """An option's NPV draws; today's system is 0 in every draw."""
        if name == KEEP:
            return zero
        return np.asarray(monte_carlo_results[name].npv_usd, dtype=float)

    rows = {KEEP: dict(central_npv_usd=0.0, mean_npv_usd=0.0, p_npv_positive=0.0,
                       npv_p5_usd=0.0, npv_p95_usd=0.0)}
    for name in active:
        d = draws(name)
        rows[name] = dict(central_npv_usd=float(table.loc[name, "npv_usd"]),
                          mean_npv_usd=float(d.mean()), p_npv_positive=float(np.mean(d > 0)),
                          npv_p5_usd=float(np.percentile(d, 5)),
                          npv_p95_usd=float(np.percentile(d, 95)))
    options = pd.DataFrame.from_dict(rows, orient="index")
    options.index.name = "option"

    current, gated, gate, steps = KEEP, None, float("nan"), []
    for name in active:
        gain = draws(name) - draws(current)
        central = float(options.loc[name, "central_npv_usd"]
                        - options.loc[current, "central_npv_usd"])
        p_gain = float(np.mean(gain > 0)) if paired else float("nan")
        taken = bool(gain.mean() > 0 and p_gain >= conf)
        steps.append(dict(from_option=current, to_option=name, mean_gain_usd=float(gain.mean()),
                          central_gain_usd=central, p_gain=p_gain,
                          gain_p5_usd=float(np.percentile(gain, 5)),
                          assumed_order_lift=float(table.loc[name, "order_lift"]), taken=taken))
        if taken:
            current = name
            continue
        if central > 0 or gain.mean() > 0:
            gated, gate = name, _gate_lift(table, current, name)
        break
    notes = []
    # never dominated: a higher mean and a higher 5th percentile elsewhere wins
    better = options[(options.mean_npv_usd > options.loc[current, "mean_npv_usd"])
                     & (options.npv_p5_usd > options.loc[current, "npv_p5_usd"])]
    if len(better):
        switch = better.mean_npv_usd.idxmax()
        notes.append(f"{switch} beats {current} on both the expected NPV and the 5th "
                     "percentile, so it is recommended although a step on the way failed "
                     "the confidence test.")
        current = switch
        if gated == current:
            gated, gate = None, float("nan")
    basis = ("no option differs from today's system, so no Monte Carlo draw was needed"
             if not active else
             f"Monte Carlo, {n:,} paired draws per option" if paired else
             f"Monte Carlo, {n:,} draws per option with different seeds: the steps are not "
             "paired, so P(a step adds value) is unknown")
    return Decision(recommended=current, gated=gated, gate_order_lift=gate, options=options,
                    steps=pd.DataFrame(steps), confidence=conf, basis=basis, notes=tuple(notes))


def decision_summary(cases: Mapping[str, Case] | Sequence[Case],
                     monte_carlo_results: dict | None = None,
                     tornado_table: Frame | None = None) -> str:
    """A plain-language decision written from the numbers (no fixed conclusion).

    With ``monte_carlo_results`` for every option (``name ->
    MonteCarloResult``, drawn with the same seed), the decision leads with
    risk: :func:`costkit.decision.decide` walks the options step by step on
    their paired draws and gates a risky step on the A/B test. Without them
    (or with draws for some options only) it ranks by the central NPV and
    says what the Monte Carlo of the chosen option shows.

    ``cases``: as for :func:`compare` (include the status quo if you want it
    named; a case with no lift and no cost has NPV 0 and stands for it).
    ``tornado_table``: optional :func:`tornado` output for the option, to name
    the input that matters most.

    Parameters
    ----------
    cases : mapping of str to Case, or sequence of Case
        ``{name: Case}`` or a list of cases (named by their ``name``).
    monte_carlo_results : dict, optional
        ``{option: MonteCarloResult}`` drawn with the same seed; default none.
    tornado_table : DataFrame, optional
        A :func:`tornado` of the chosen option, to name the input that matters most.

    Returns
    -------
    str
        A plain-language decision written from the numbers (no fixed conclusion).

    Examples
    --------
    >>> from costkit.roi import Case
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> text = decision_summary({"keep": case.replace(cvr_lift=0.0, one_off_usd=0.0),
    ...                          "BERT": case})
    >>> text.split(".")[0]
    'Deploy BERT'
    """
    return decision_and_recommendation(cases, monte_carlo_results, tornado_table)[0]


def decision_and_recommendation(cases: Mapping[str, Case] | Sequence[Case],
                                monte_carlo_results: dict | None = None,
                                tornado_table: Frame | None = None) -> tuple[str, str]:
    """The decision in words and the one option it recommends (one rule for both).

    The recommendation is :func:`costkit.decision.decide`'s when every option has Monte
    Carlo draws, else the option with the highest central NPV if that NPV is positive;
    ``costkit.decision.KEEP`` when nothing should be deployed.

    Parameters
    ----------
    cases : mapping of str to Case, or sequence of Case
        As for :func:`decision_summary`.
    monte_carlo_results : dict, optional
        ``{option: MonteCarloResult}`` drawn with the same seed; default none.
    tornado_table : DataFrame, optional
        A :func:`tornado` of the chosen option.

    Returns
    -------
    tuple of str
        (the decision's text, the recommended option or ``KEEP``).

    Examples
    --------
    >>> from costkit.roi import Case
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> decision_and_recommendation({"keep": case.replace(cvr_lift=0.0, one_off_usd=0.0),
    ...                              "BERT": case})[1]
    'BERT'
    """
    table = compare(cases)
    h = table.attrs["horizon_months"]
    rate = table.attrs["annual_discount_rate"][0]
    active = table[(table.order_lift != 0) | (table.one_off_usd > 0)
                   | (table.serving_usd_per_month > 0) | (table.fixed_usd_per_month > 0)]
    if active.empty:
        return "No option changes anything: there is nothing to decide.", KEEP
    if monte_carlo_results and all(n in monte_carlo_results for n in active.index):
        d = decide(_named(cases), dict(monte_carlo_results))
        text = d.text()
        central = "; ".join(f"{nm} {_usd(r.npv_usd)}" for nm, r in active.iterrows())
        text += (f"\nAt the central assumptions, over {h} months at a {rate:.0%} discount rate, "
                 f"the NPVs are: {central}.")
        if tornado_table is not None and len(tornado_table):
            text += (f"\nThe NPV is most sensitive to "
                     f"{tornado_table.index[0].replace('_', ' ')} (a swing of "
                     f"{_usd(tornado_table.swing_usd.iloc[0])}).")
        return text, d.recommended
    ranked = active.sort_values("npv_usd", ascending=False)
    best_name, best = ranked.index[0], ranked.iloc[0]
    chosen = str(best_name) if best.npv_usd > 0 else KEEP
    return _central_text(ranked, table, h, rate, monte_carlo_results, tornado_table), chosen


def _central_text(ranked, table, h, rate, monte_carlo_results, tornado_table) -> str:
    """The decision in words when it rests on the central NPVs."""
    best_name, best = ranked.index[0], ranked.iloc[0]
    lines = []
    if best.npv_usd <= 0:
        lines.append(
            f"Keep the current system. No option pays over {h} months at a {rate:.0%} discount "
            f"rate: the best, {best_name}, has an NPV of {_usd(best.npv_usd)}. It would need "
            f"{best.break_even_lift:.2%} more orders to break even; {best.order_lift:.2%} is "
            "assumed.")
    else:
        pb = ("does not pay back within the horizon" if np.isnan(best.payback_month)
              else f"pays back in month {best.payback_month:.1f}")
        irr_s = ("" if np.isnan(best.irr_annual) else
                 ", an IRR above 1,000% a year (the one-off cost is small next to the monthly "
                 "gain)" if best.irr_annual > 10 else f", an IRR of {best.irr_annual:.0%} a year")
        lines.append(
            f"Deploy {best_name}. Over {h} months at a {rate:.0%} discount rate its NPV is "
            f"{_usd(best.npv_usd)}{irr_s}; it {pb}. It breaks even at "
            f"{best.break_even_lift:.2%} more orders against the {best.order_lift:.2%} assumed, "
            f"a margin of {best.lift_margin:.1f}x.")
        for nm, row in ranked.iloc[1:].iterrows():
            if row.npv_usd > 0:
                lines.append(f"{nm} pays too (NPV {_usd(row.npv_usd)}), but "
                             f"{_usd(best.npv_usd - row.npv_usd)} less.")
            else:
                lines.append(f"{nm} does not pay: NPV {_usd(row.npv_usd)}; it would need "
                             f"{row.break_even_lift:.2%} more orders, not {row.order_lift:.2%}.")
    if monte_carlo_results and best_name in monte_carlo_results:
        mc = monte_carlo_results[best_name]
        p = mc.probability_positive
        lo, hi = np.percentile(mc.npv_usd, [5, 95])
        verdict = ("a robust case" if p >= 0.9 else
                   "likely but not certain: confirm the lift with the A/B test before the full "
                   "rollout" if p >= 0.7 else
                   "too uncertain to commit: run the A/B test first and decide on the lift it "
                   "measures")
        lines.append(f"Under uncertainty ({mc.n:,} draws) P(NPV > 0) is {p:.0%}, and 90% of "
                     f"outcomes lie between {_usd(lo)} and {_usd(hi)}: {verdict}.")
        safer = [(nm, r.probability_positive) for nm, r in monte_carlo_results.items()
                 if nm != best_name and nm in table.index and r.probability_positive > p + 0.05]
        for nm, q in safer:
            lines.append(f"{nm} is the safer choice: P(NPV > 0) is {q:.0%} against {p:.0%}, for "
                         f"{_usd(best.npv_usd - table.loc[nm, 'npv_usd'])} less NPV at the central "
                         "assumptions.")
    if tornado_table is not None and len(tornado_table):
        top = tornado_table.index[0]
        lines.append(f"The NPV is most sensitive to {top.replace('_', ' ')} "
                     f"(a swing of {_usd(tornado_table.swing_usd.iloc[0])}).")
    return "\n".join(lines)
