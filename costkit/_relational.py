"""Running Ibis expressions: the engine module, one-row results, pandas results in UTC.

The helpers the readers that run on an engine share (:mod:`costkit.bill_lines`,
:mod:`costkit.fleet`). Nothing here imports Ibis until it is called.
"""

from __future__ import annotations

from typing import Any

DUCKDB_SESSION = ("SET TimeZone = 'UTC'", "SET enable_progress_bar = false")
"""What every DuckDB connection costkit opens runs first: UTC (costkit works in UTC), and no
progress bar (a connection's own setting: in a notebook DuckDB draws one for any query over
2 s, an output that comes and goes with the machine's speed)."""


def ibis(what: str = "the fleet pipeline (costkit.fleet)", extra: str | None = None) -> Any:
    """The ``ibis`` module, with two warnings of its own silenced.

    Missing, the error names ``what`` needs it and the ``extra`` that installs it.
    """
    import warnings

    from ._optional import require

    module = require("ibis", what, extra)
    # Ibis 12 asks pandas 3 about an option pandas deprecated; nothing for a user to act on
    warnings.filterwarnings("ignore", message="The 'future.infer_string' option",
                            module="ibis")
    # Ibis 12 calls a DuckDB 2 method DuckDB deprecated (fetch_arrow_table)
    warnings.filterwarnings("ignore", message="fetch_arrow_table", module="ibis")
    return module


def one(con: Any, expr: Any) -> dict:
    """A one-row aggregate as a dict of Python values (NULL and NaN as None)."""
    row = con.execute(expr).iloc[0]
    return {k: (None if v is None or v != v else v) for k, v in row.items()}


def execute(con: Any, expr: Any) -> Any:
    """The expression's result as pandas, its timestamps in UTC."""
    import pandas as pd

    out = con.execute(expr)
    if isinstance(out, pd.DataFrame):
        for c in out.columns:
            if pd.api.types.is_datetime64_dtype(out[c]):
                out[c] = out[c].dt.tz_localize("UTC")
            elif isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].dt.tz_convert("UTC")
    return out
