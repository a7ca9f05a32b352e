"""Reading and validating costkit's CSV tables.

Each table has a schema: its columns, their kinds, ranges and which may be
empty, and the columns that form a unique key. :func:`read_table` reads a CSV
as text, checks it against the schema and returns typed columns, or raises
:class:`DataFileError` naming the file, the row (1-based data row and the line
in the file) and the column of the first problem it finds.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Column", "DataFileError", "Schema", "UnknownNameError", "bundled_path", "read_table"]


class DataFileError(ValueError):
    """A data file is malformed: the message names the file, row and column."""


class UnknownNameError(KeyError):
    """A GPU, model, cloud or currency name is not in the catalog.

    The message lists the closest known names. Subclass of ``KeyError`` (the
    name was looked up in a table) whose ``str`` is the plain message.
    """

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


def suggest(name: str, known, *, n: int = 5) -> str:
    """Return ' Did you mean: a, b?' listing the closest of ``known`` to ``name``."""
    known = list(dict.fromkeys(known))
    lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.4)
    picks = [lower[c] for c in close]
    if not picks:
        return f" Known names: {', '.join(sorted(known)[:20])}."
    return f" Did you mean: {', '.join(picks)}?"


@dataclass(frozen=True)
class Column:
    """One column of a table schema.

    kind is ``"str"``, ``"float"``, ``"int"`` or ``"date"`` (YYYY-MM-DD).
    """

    name: str
    kind: str = "str"
    required: bool = True  # False: the cell may be empty (unknown / not applicable)
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] | None = None
    absent_ok: bool = False  # True: a table may leave the column out (read as all empty)


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    checks: tuple = field(default=())  # callables (frame, fail) for cross-column rules


MAX_WHOLE = 2**53
"""The largest whole number a table's integer column accepts: exact in a float, and in int64."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def bundled_path(filename: str):
    """Path (a Traversable) of a table shipped in the package's ``data`` folder."""
    return resources.files("costkit.data") / filename


def stamp(path) -> tuple[str, float]:
    """(path as text, modification time): the cache key of a loaded table.

    Keying caches on the modification time makes an edited file load afresh.
    """
    p = str(path)
    try:
        return p, os.stat(p).st_mtime
    except OSError:
        return p, 0.0


def read_table(path, schema: Schema, *, label: str | None = None, frame=None):
    """Read ``path`` (or take ``frame``) and validate it against ``schema``.

    Returns a pandas DataFrame with typed columns in schema order, followed by
    any extra columns the file has (kept as text).
    """
    import pandas as pd

    label = label or str(path)
    if frame is None:
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                raw = pd.read_csv(fh, dtype=str, keep_default_na=False, skipinitialspace=True)
        except FileNotFoundError:
            raise FileNotFoundError(f"{label}: no such file") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataFileError(f"{label}: not a readable CSV table ({exc})") from None
    else:
        raw = frame.astype(object).where(frame.notna(), "").map(str)

    def fail(row: int | None, column: str | None, problem: str):
        where = [label]
        if row is not None:
            where.append(f"row {row + 1} (line {row + 2})")
        if column is not None:
            where.append(f"column '{column}'")
        raise DataFileError(f"{', '.join(where)}: {problem}")

    raw.columns = [str(c).strip() for c in raw.columns]
    names = [c.name for c in schema.columns]
    for col in schema.columns:
        if col.absent_ok and not col.required and col.name not in raw.columns:
            raw[col.name] = ""
    missing = [c for c in names if c not in raw.columns]
    if missing:
        fail(None, missing[0], f"required column is missing (a {schema.name} table needs: "
             f"{', '.join(names)})")
    if len(raw) == 0:
        fail(None, None, "the table has no rows")

    out = {}
    for col in schema.columns:
        text = raw[col.name].astype(str).str.strip()
        empty = text == ""
        if col.required and empty.any():
            fail(int(empty.to_numpy().nonzero()[0][0]), col.name, "empty cell in a required column")
        if col.kind in ("float", "int"):
            values = pd.to_numeric(text.where(~empty), errors="coerce")
            bad = (values.isna() | values.abs().eq(float("inf"))) & ~empty
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                fail(i, col.name, f"{text.iloc[i]!r} is not a number" if pd.isna(values.iloc[i])
                     else f"{text.iloc[i]!r} is not a finite number")
            if col.kind == "int":
                frac = (values % 1 != 0) & ~empty
                if frac.any():
                    i = int(frac.to_numpy().nonzero()[0][0])
                    fail(i, col.name, f"{text.iloc[i]!r} is not a whole number")
                # a whole number a count can hold exactly (1e100 is whole, but no count)
                huge = (values.abs() > MAX_WHOLE) & ~empty
                if huge.any():
                    i = int(huge.to_numpy().nonzero()[0][0])
                    fail(i, col.name, f"{text.iloc[i]} is out of range (a whole number must be "
                         f"<= {MAX_WHOLE:,})")
            if col.min is not None:
                low = (values <= col.min) if col.min_exclusive else (values < col.min)
                low &= ~empty
                if low.any():
                    i = int(low.to_numpy().nonzero()[0][0])
                    op = ">" if col.min_exclusive else ">="
                    fail(i, col.name, f"{text.iloc[i]} is out of range (must be {op} {col.min:g})")
            if col.max is not None:
                high = (values > col.max) & ~empty
                if high.any():
                    i = int(high.to_numpy().nonzero()[0][0])
                    fail(i, col.name, f"{text.iloc[i]} is out of range (must be <= {col.max:g})")
            out[col.name] = values.astype("Int64") if col.kind == "int" else values.astype(float)
        elif col.kind == "date":
            bad = ~empty & ~text.str.match(_DATE)
            parsed = pd.to_datetime(text.where(~empty & ~bad), format="%Y-%m-%d", errors="coerce")
            bad |= parsed.isna() & ~empty
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                fail(i, col.name, f"{text.iloc[i]!r} is not a date written YYYY-MM-DD")
            out[col.name] = text
        else:
            if col.choices is not None:
                bad = ~empty & ~text.isin(col.choices)
                if bad.any():
                    i = int(bad.to_numpy().nonzero()[0][0])
                    fail(i, col.name, f"{text.iloc[i]!r} is not one of {', '.join(col.choices)}")
            out[col.name] = text
    df = pd.DataFrame(out)
    extra = [c for c in raw.columns if c not in names]
    for c in extra:
        df[c] = raw[c].to_numpy()
    if schema.key:
        keys = df[list(schema.key)].apply(lambda s: s.str.lower() if s.dtype == object else s)
        dup = keys.duplicated()
        if dup.any():
            i = int(dup.to_numpy().nonzero()[0][0])
            first = int((keys == keys.iloc[i]).all(axis=1).to_numpy().nonzero()[0][0])
            fail(i, schema.key[-1], f"duplicate key {tuple(df.iloc[i][list(schema.key)])} "
                 f"(first seen in row {first + 1})")
    for check in schema.checks:
        check(df, fail)
    return df
