"""Compact HTML for result objects in a notebook: values with units, assumptions folded away.

Every result object's ``_repr_html_`` goes through :func:`result_table`, so a
notebook shows a small table instead of printed text. Every name and value
is escaped (:func:`costkit._safe.html_text`): model and GPU names can come
from user files.
"""

from __future__ import annotations

from ._safe import html_text

__all__ = ["frame_table", "number_text", "result_table"]

_STYLE = ("<style>.ck-result td,.ck-result th{padding:2px 8px;text-align:left}"
          ".ck-result td.n{text-align:right;font-variant-numeric:tabular-nums}"
          ".ck-result caption{text-align:left;font-weight:bold}"
          ".ck-result details{margin-top:4px}</style>")


def number_text(v) -> str:
    """A cell's text.

    Thousands separated, two decimals from 1, four digits below, a dash for NaN, escaped text
    otherwise (the report's tables and the result tables alike).
    """
    if isinstance(v, bool) or v is None:
        return html_text(v)
    if isinstance(v, int | float):
        if v != v:  # NaN
            return "—"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 1:
            return f"{v:,.2f}"
        return f"{v:.4g}"
    return html_text(v)


def _folded(assumptions: dict | None) -> str:
    """The assumptions as a table inside a closed ``<details>`` (empty without any)."""
    if not assumptions:
        return ""
    items = "".join(f"<tr><th>{html_text(k)}</th><td>{html_text(v)}</td></tr>"
                    for k, v in assumptions.items())
    return (f"<details><summary>assumptions ({len(assumptions)})</summary>"
            f"<table>{items}</table></details>")


def result_table(title: str, rows, assumptions: dict | None = None, note: str = "") -> str:
    """A caption, ``(quantity, value, unit)`` rows and the assumptions in a ``<details>``."""
    body = "".join(
        f"<tr><th>{html_text(q)}</th><td class=n>{number_text(v)}</td><td>{html_text(u)}</td></tr>"
        for q, v, u in rows)
    extra = f"<p>{html_text(note)}</p>" if note else ""
    return (f"{_STYLE}<div class=ck-result><table><caption>{html_text(title)}</caption>{body}"
            f"</table>{extra}{_folded(assumptions)}</div>")


def frame_table(title: str, frame, assumptions: dict | None = None, most: int = 20) -> str:
    """An array result: its first ``most`` rows as a table, the assumptions folded."""
    import numpy as np

    shown = frame.head(most)
    head = "".join(f"<th>{html_text(c)}</th>" for c in shown.columns)
    rows = "".join("<tr>" + "".join(
        f"<td class=n>{number_text(v.item() if isinstance(v, np.generic) else v)}</td>" for v in r)
        + "</tr>" for r in shown.itertuples(index=False))
    more = (f"<p>{len(frame) - most:,} more rows: .to_frame()</p>" if len(frame) > most else "")
    return (f"{_STYLE}<div class=ck-result><table><caption>{html_text(title)}</caption>"
            f"<tr>{head}</tr>{rows}</table>{more}{_folded(assumptions)}</div>")
