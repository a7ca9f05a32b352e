"""A scenario's results as one self-contained HTML page, or as JSON and CSV for scripts.

:func:`html` writes every section a reader of a cost case needs, from a
:class:`costkit.scenario.ScenarioResult`: the decision, the comparison of
the options, the serving plan, each option's one-off ledger, the costs over
the horizon, cash flows and the waterfall to NPV, the tornado, the Monte
Carlo, and the assumptions with their sources. Charts are inline SVG and
the style sheet is inline: the file opens anywhere, offline, and can be
mailed. Output is deterministic for the same scenario and seed (SVG ids
are salted, no timestamps but the one in the footer, which can be fixed).

Needs matplotlib (``pip install costkit[plots]``); :func:`json_text` and
:func:`csv_text` do not.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._html import number_text as _fmt  # one cell formatter for every table
from ._safe import html_text, spreadsheet_frame
from .fx import USD_COLUMN as _USD

if TYPE_CHECKING:
    from ._typing import Frame, StrPath
    from .scenario import ScenarioResult

__all__ = ["SECTIONS", "csv_text", "html", "json_text"]

SECTIONS = (
    ("summary", "Decision"),
    ("comparison", "Options compared"),
    ("serving", "Serving plan"),
    ("one-off", "One-off costs"),
    ("ledger", "Costs over the horizon"),
    ("cash-flow", "Cash flow and NPV"),
    ("sensitivity", "Sensitivity"),
    ("risk", "Risk (Monte Carlo)"),
    ("assumptions", "Assumptions and sources"),
)
"""The report's sections: (HTML id, heading), in order."""

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d2330;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #dfe3ea;padding-bottom:.2em;
margin-top:2em}nav a{margin-right:.9em;font-size:.92em}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}
th,td{border:1px solid #d5dae3;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#f2f4f8;font-weight:600}td.t,th.t{text-align:left}.scroll{overflow-x:auto}
.decision{background:#f4f8f2;border-left:4px solid #3b7d2b;padding:.6em 1em;white-space:pre-wrap}
.note{color:#5a6372;font-size:.88em}.fig svg{max-width:100%;height:auto}
footer{margin-top:3em;color:#5a6372;font-size:.82em}
"""


_esc = html_text


def _table(df, *, index=True) -> str:
    """A DataFrame as an HTML table: text left, numbers right, NaN as a dash."""
    import numbers

    cols = list(df.columns)
    head = ("<th class=t></th>" if index else "") + "".join(
        f"<th class=t>{_esc(c)}</th>" for c in cols)
    rows = []
    for idx, row in df.iterrows():
        cells = [f"<td class=t>{_esc(idx)}</td>"] if index else []
        for c in cols:
            v = row[c]
            if hasattr(v, "item"):
                v = v.item()
            cls = "" if isinstance(v, numbers.Number) and not isinstance(v, bool) else " class=t"
            cells.append(f"<td{cls}>{_fmt(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table></div>")


def _figure(draw, figsize=(9, 3.8)) -> str:
    """``draw(ax)`` on a figure outside pyplot (no backend switched, nothing left open), as SVG."""
    import matplotlib
    from matplotlib.figure import Figure

    buf = io.StringIO()
    # stable ids (the same report twice); names drawn as typed: "$x$" is text, not mathtext
    with matplotlib.rc_context({"svg.hashsalt": "costkit", "text.parse_math": False}):
        fig = Figure(figsize=figsize)
        draw(fig.subplots())
        fig.tight_layout()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return f"<div class=fig>{text[text.index('<svg'):]}</div>"


def _section(sid, title, body) -> str:
    return f"<section id='{sid}'><h2>{_esc(title)}</h2>{body}</section>"


def in_currency(df, rate):
    """``df`` with its USD columns in ``rate``'s currency (see :func:`costkit.fx.in_currency`)."""
    from .fx import in_currency as convert_frame

    return convert_frame(df, rate.to_currency, date=rate.date or None)


def _money_note(rate) -> str:
    if rate.to_currency == rate.from_currency:
        return "Money in USD"
    src = f"; {rate.sources[0]}" if rate.sources else ""
    return (f"Money in {rate.to_currency}, converted from USD at {rate}{src} (the scenario's "
            "inputs and the charts are in USD)")


@dataclass(frozen=True)
class _Page:
    """What every section of the HTML report reads: the result, the money and the options."""

    r: ScenarioResult
    rate: Any
    cur: str
    note: str
    t: Frame
    options: list
    best: str
    focus: str


def _summary_section(c: _Page) -> str:
    """The decision and the best option's NPV."""
    r, cur, best = c.r, c.cur, c.best
    head = c.t.loc[best]
    return (
        f"<p class=decision>{_esc(r.decision)}</p>"
        f"<p>Recommended: <b>{_esc(r.recommended)}</b>. Highest NPV at the central "
        f"assumptions (risk left out): <b>{_esc(best)}</b>, "
        f"{_fmt(float(head[f'npv_{cur.lower()}']))} {cur} over "
        f"{r.table.attrs['horizon_months']} months at a "
        f"{r.table.attrs['annual_discount_rate'][0]:.0%} annual discount rate.</p>")


def _comparison_section(c: _Page) -> str:
    """Every option side by side."""
    from .roi import irr_label

    cur, t = c.cur, c.t
    cols = [_USD.sub(rf"\g<1>{cur.lower()}\g<2>", col) for col in (
        "order_lift", "incremental_gross_profit_usd_per_month", "serving_usd_per_month",
        "fixed_usd_per_month", "one_off_usd", "npv_usd", "irr_annual", "payback_month",
        "discounted_payback_month", "roi", "break_even_lift", "lift_margin")]
    shown = t[cols].copy()
    shown["irr_annual"] = [irr_label(v) for v in t["irr_annual"]]
    return (_table(shown) + f"<p class=note>{_esc(c.note)}; lifts and rates are "
            "fractions; months from the decision (month 0). NPV decides; IRR "
            "and payback are shown for reference (an IRR above 1,000% a year "
            "means a one-off cost tiny next to the monthly gain).</p>")


def _serving_section(c: _Page) -> str:
    """The serving components, their fleets and cost."""
    r, rate, cur = c.r, c.rate, c.cur
    comp = in_currency(r.components, rate).set_index("component")
    return "<p>The scenario serves no model (no serving components).</p>" \
        if comp.empty else _table(comp[["option", "model", "dtype", "gpu", "share_of_searches",
                                    "replaces", "latency_ms", f"{cur.lower()}_per_1k_requests",
                                    "peak_replicas", "strategy", f"{cur.lower()}_per_month"]]) + \
        ("<p class=note>One replica priced by costkit.serving; replicas per hour for the traffic "
         "week by costkit.capacity (M/M/c against each SLO), bought the cheapest way "
         f"(strategy). {_esc(cur)} per month.</p>") + _figure(
             lambda ax: _serving_bars(r.components, ax), figsize=(9, 3.2))


def _one_off_section(c: _Page) -> str:
    """Each option's one-off ledger."""
    r, rate, cur = c.r, c.rate, c.cur
    return "".join(
        f"<h3>{_esc(n)}: {_fmt(r.one_off[n].total() * rate.rate)} {_esc(cur)}</h3>"
        + _table(in_currency(r.one_off[n].to_frame(), rate)[
            ["phase", "category", "name", "quantity", "unit", "unit_price", "price_unit",
             f"cost_{cur.lower()}"]], index=False)
        for n in c.options)


def _ledger_section(c: _Page) -> str:
    """The cost model by phase and by category, the focus option in detail."""
    import pandas as pd

    from . import plots

    r, rate, cur, options, focus = c.r, c.rate, c.cur, c.options, c.focus
    by_phase = {n: r.ledgers[n].by_phase() for n in options}
    phase_table = pd.DataFrame(by_phase).T * rate.rate
    phase_table["total"] = phase_table.sum(axis=1)
    category_table = pd.DataFrame({n: r.ledgers[n].by_category() for n in options}).T * rate.rate
    category_table["total"] = category_table.sum(axis=1)
    focus_led = r.ledgers[focus]
    return (
        _table(phase_table) + "<p class=note>C = C_train + C_run + C_opt + C_tune over the "
        f"horizon, undiscounted, {_esc(cur)}. Value (gross profit) is not a cost and is not in "
        "the ledger.</p>" + _table(category_table) + "<p class=note>The same costs by the six "
        f"categories of the origin documents, {_esc(cur)}.</p>" + f"<h3>{_esc(focus)}</h3>"
        + _table(focus_led.by_phase_category(totals=True) * rate.rate)
        + _figure(lambda ax: plots.ledger_items(focus_led, ax=ax),
                  figsize=(9, 0.32 * min(len(focus_led), 15) + 1.4))
        + _figure(lambda ax: plots.ledger_matrix(focus_led, ax=ax), figsize=(9, 3.4)))


def _cash_section(c: _Page) -> str:
    """Cumulative discounted cash and the focus option's waterfall."""
    from . import plots
    from .style import option_colors

    r, rate, cur, options, focus = c.r, c.rate, c.cur, c.options, c.focus
    colors = option_colors(c.t.index)

    def cash(ax):
        for n in options:
            plots.cumulative_cash_flow(r.results[n], ax=ax, discounted=True, color=colors[n])
        ax.legend(fontsize=8)

    return (_figure(cash) + f"<h3>{_esc(focus)}: from gross profit to NPV</h3>"
            + _table(r.results[focus].waterfall().to_frame(cur.lower()) * rate.rate)
            + _figure(lambda ax: plots.roi_waterfall(r.results[focus], ax=ax)))


def _sensitivity_section(c: _Page) -> str:
    """The tornado of the best option."""
    from . import plots

    r = c.r
    if r.tornado is None:
        return "<p>No input of the best option has a value to swing.</p>"
    return (f"<p>{_esc(r.tornado_option)}: each input at its low and high value, the others "
            f"held (NPV in {_esc(c.cur)}).</p>" + _table(in_currency(r.tornado, c.rate))
            + _figure(lambda ax: plots.tornado(r.tornado, ax=ax)))


def _risk_section(c: _Page) -> str:
    """The Monte Carlo draws, their inputs and NPV histograms."""
    import pandas as pd

    from . import plots

    r, sc = c.r, c.r.scenario
    if not r.monte_carlo:
        return ("<p>No Monte Carlo: the scenario gives no <code>uncertainty</code> "
                "(or it was run with 0 draws).</p>")
    summary = pd.DataFrame({n: m.summary() for n, m in r.monte_carlo.items()})
    figs = "".join(_figure(lambda ax, m=m, n=n: (plots.npv_histogram(m, ax=ax),
                                                 ax.set_title(f"{n}: P(NPV > 0) = "
                                                              f"{m.probability_positive:.1%}")),
                           figsize=(9, 3))
                   for n, m in r.monte_carlo.items())
    dists = "".join(f"<li>{_esc(n)}: " + ", ".join(
        f"{_esc(k)} {_esc(v[0])}{tuple(v[1])}{' x its value' if v[2] else ''}"
        for k, v in o["uncertainty"].items()) + "</li>"
        for o in sc.spec["options"] for n in [o["name"]] if o["uncertainty"])
    seed = next(iter(r.monte_carlo.values())).seed
    return (f"<p>Draws: {next(iter(r.monte_carlo.values())).n:,}, seed {seed}. "
            f"Inputs drawn independently:</p><ul>{dists}</ul>" + _table(summary) + figs)


def _assumptions_section(c: _Page) -> str:
    """Every assumption with its source."""
    return (_table(c.r.assumptions, index=False)
            + "<p class=note>Prices carry their dates and sources; change them "
              "with <code>usd_per_gpu_hour</code> in the scenario file or your "
              "own price file.</p>")


_SECTION_BUILDERS = {
    "summary": _summary_section, "comparison": _comparison_section,
    "serving": _serving_section, "one-off": _one_off_section, "ledger": _ledger_section,
    "cash-flow": _cash_section, "sensitivity": _sensitivity_section, "risk": _risk_section,
    "assumptions": _assumptions_section,
}


def html(result: ScenarioResult, path: StrPath | None = None, *,
         generated: str | None = None, currency: str | None = None) -> str:
    """The report as an HTML string; written to ``path`` too when given.

    ``generated`` is the footer's date-time text (default: now, UTC).

    Parameters
    ----------
    result : ScenarioResult
        An evaluated scenario.
    path : str or Path, optional
        File to write the report to as well; default none.
    generated : str, optional
        Timestamp written in the report; default now (UTC).
    currency : str, optional
        The tables' currency (ISO code); default the scenario's ``currency:`` (USD unless
        set), converted at its ``fx_date:`` rate.

    Returns
    -------
    str
        The report as an HTML string; written to ``path`` too when given.

    Examples
    --------
    >>> from costkit.scenario import Scenario, example_path
    >>> res = Scenario.from_yaml(example_path("small")).evaluate(draws=0)
    >>> page = html(res, generated="2026-11-26 00:00 UTC")
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page
    (True, False)
    """
    import datetime as dt

    from . import __version__

    r = result
    sc = r.scenario
    rate = r.money_rate(currency)
    t = in_currency(r.table, rate)
    page_ctx = _Page(r=r, rate=rate, cur=rate.to_currency, note=_money_note(rate), t=t,
                     options=[n for n in t.index if n in r.one_off], best=r.best_option,
                     focus=r.best_investment)  # focus: the best option that is an investment
    parts = {sid: build(page_ctx) for sid, build in _SECTION_BUILDERS.items()}

    generated = generated or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f"<a href='#{sid}'>{_esc(title)}</a>" for sid, title in SECTIONS)
    body = "".join(_section(sid, title, parts[sid]) for sid, title in SECTIONS)
    desc = sc.spec.get("description")
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{_esc(sc.name)} - costkit report</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(sc.name)}</h1>" + (f"<p>{_esc(desc)}</p>" if desc else "")
        + f"<nav>{nav}</nav>{body}<footer>costkit {__version__}, scenario "
        f"<code>{_esc(sc.source)}</code>, generated {_esc(generated)}.</footer></body></html>")
    if path is not None:
        from pathlib import Path

        Path(path).write_text(page, encoding="utf-8")
    return page


def _serving_bars(components, ax):
    labels = [f"{o}\n{c}" if o != "baseline" else f"today\n{c}"
              for o, c in zip(components["option"], components["component"], strict=True)]
    ax.barh(range(len(labels)), components["usd_per_month"], color="C0")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("USD per month")
    ax.set_title("Serving fleet cost per component")


def json_text(result: ScenarioResult, *, currency: str | None = None) -> str:
    """The results as JSON (see :meth:`ScenarioResult.to_dict`).

    Parameters
    ----------
    result : ScenarioResult
        An evaluated scenario.
    currency : str, optional
        Currency of the ``comparison`` rows (default the scenario's ``currency:``); the
        ``money`` entry gives the rate, its date and source. Other entries stay in USD.

    Returns
    -------
    str
        The results as JSON (see :meth:`ScenarioResult.to_dict`).

    Examples
    --------
    >>> from costkit.scenario import Scenario, example_path
    >>> res = Scenario.from_yaml(example_path("small")).evaluate(draws=0)
    >>> import json
    >>> sorted(json.loads(json_text(res)))[:4]
    ['assumptions', 'best_central_npv_option', 'comparison', 'decision']
    """
    out = result.to_dict()
    rate = result.money_rate(currency)
    out["money"] = {"currency": rate.to_currency, "usd_to_currency": rate.rate,
                    "fx_date": rate.date, "sources": list(rate.sources),
                    "note": _money_note(rate)}
    if rate.to_currency != "USD":  # the same cleaning as to_dict's: non-finite -> null
        rows = in_currency(result.table, rate).reset_index().to_dict(orient="records")
        out["comparison"] = [{str(k): _plain(v) for k, v in row.items()} for row in rows]
    return json.dumps(out, indent=2, default=str)


def _plain(x):
    """A JSON-safe scalar: numpy scalars as Python's, NaN and infinities as None."""
    if hasattr(x, "item"):
        x = x.item()
    return None if isinstance(x, float) and not math.isfinite(x) else x


def csv_text(result: ScenarioResult, *, currency: str | None = None) -> str:
    """The comparison table as CSV: one row per option (the status quo first).

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` ...)
    is prefixed with ``'`` (:func:`costkit._safe.spreadsheet_cell`).

    Parameters
    ----------
    result : ScenarioResult
        An evaluated scenario.
    currency : str, optional
        Currency of the money columns (default the scenario's ``currency:``), named in
        them (``npv_cny``).

    Returns
    -------
    str
        The comparison table as CSV: one row per option (the status quo first).

    Examples
    --------
    >>> from costkit.scenario import Scenario, example_path
    >>> res = Scenario.from_yaml(example_path("small")).evaluate(draws=0)
    >>> csv_text(res).splitlines()[0].split(",")[:3]
    ['scenario', 'order_lift', 'incremental_gross_profit_usd_per_month']
    """
    table = in_currency(result.table, result.money_rate(currency))
    return spreadsheet_frame(table.reset_index()).to_csv(index=False)
