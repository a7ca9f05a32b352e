"""Text from users made safe for where it goes: a terminal, a spreadsheet cell.

Names in a scenario, a bill or a telemetry file are the user's text, and
costkit echoes them. Two places would act on them rather than show them:

- a terminal runs ANSI control sequences (``ESC [ 2 J`` clears it, ``ESC ]``
  can set the title or a hyperlink): :func:`terminal` drops every control
  character but newline and tab, and the bidirectional overrides that make
  text read differently from how it is stored;
- a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return as a formula (``=HYPERLINK(...)``): :func:`spreadsheet_cell`
  prefixes such text with an apostrophe (OWASP's advice for CSV injection).
  Numbers are left as they are, so ``-6974.5`` stays a number.

- HTML shows text as markup (``<img onerror=...>`` runs in a page):
  :func:`html_text` escapes it, for the report and the widgets alike.

Names that costkit writes into a table of its own (a cloud, a region, an instance
type read from a price list) must be plain names: :func:`plain_name` refuses
anything else, for every price-list reader alike.
"""

from __future__ import annotations

import html
import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


PLAIN_NAMES = {
    "cloud": re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()/-]{0,63}$"),
    "region": re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()/-]{0,63}$"),
    "instance": re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"),
}
"""What a cloud, region and instance type may be written with: a letter or digit first (no
``=``, ``+``, ``-`` or ``@`` a spreadsheet would run), then letters, digits, space and
``. _ - ( ) /`` (instance types: no brackets or slash); at most 64 / 128 characters."""


def plain_name(value, kind: str, where: str) -> str:
    """``value`` if it is a plain ``kind`` name (see :data:`PLAIN_NAMES`), else DataFileError."""
    from ._tables import DataFileError

    if not isinstance(value, str) or not PLAIN_NAMES[kind].match(value):
        allowed = "letters, digits, space, . _ -" + (" ( ) /" if kind != "instance" else "")
        raise DataFileError(f"{where}: {terminal(repr(value))[:140]} is not a plain name for "
                            f"a {kind} (a letter or digit first, then {allowed})")
    return value


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (other than newline and tab) or bidi override."""
    return bool(_CONTROL.search(text))


def html_text(value) -> str:
    """``value`` as text for HTML: ``< > & " '`` escaped."""
    return html.escape(str(value), quote=True)


def terminal(text: str) -> str:
    """``text`` without control characters (newline and tab kept) and bidi overrides."""
    return _CONTROL.sub("", str(text))


def spreadsheet_cell(value):
    """A cell value a spreadsheet shows rather than runs: text that starts a formula gets ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_frame(df):
    """A copy of ``df`` with every text cell, column name and index label made safe."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(spreadsheet_cell)
        elif isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).map(spreadsheet_cell)
    out.columns = [spreadsheet_cell(c) for c in out.columns]
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index.dtype):
        out.index = out.index.map(spreadsheet_cell)
    return out
