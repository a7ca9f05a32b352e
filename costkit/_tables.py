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

__all__ = ["Column", "DataFileError", "Schema", "UnknownNameError", "attrs_frame", "bundled_path",
           "frame_from_rows", "read_rows", "read_table", "validate_rows"]


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
    # callables (columns, fail) for cross-column rules on the typed columns ({name: [value or
    # None]}), run without pandas by validate_rows, so the catalog's look-ups check them too
    row_checks: tuple = field(default=())


MAX_WHOLE = 2**53
"""The largest whole number a table's integer column accepts: exact in a float, and in int64."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def bundled_path(filename: str):
    """Path (a Traversable) of a table shipped in the package's ``data`` folder."""
    return resources.files("costkit.data") / filename


def stamp(path) -> tuple[str, float]:
    """(path as text, modification time): the cache key of a loaded table.

    Keying caches on the modification time makes an edited file load afresh. Every table
    file a user passes comes through here first, so a folder is refused here, once.
    """
    p = str(path)
    if os.path.isdir(p):
        raise DataFileError(f"{p}: is a folder, not a table file; give the path of the CSV "
                            "file itself")
    try:
        return p, os.stat(p).st_mtime
    except OSError:
        return p, 0.0


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INFINITE = re.compile(r"^[+-]?inf(inity)?$", re.IGNORECASE)


def _read_csv_text(path, label: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file as text (blank lines skipped), without pandas."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            lines = list(csv.reader(fh, skipinitialspace=True))
    except FileNotFoundError:
        raise FileNotFoundError(f"{label}: no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(f"{label}: not a readable CSV table ({exc})") from None
    lines = [r for r in lines if r and any(c.strip() for c in r)]
    if not lines:
        raise DataFileError(f"{label}: not a readable CSV table (the file is empty)")
    header, rows = [c.strip() for c in lines[0]], lines[1:]
    for n, r in enumerate(rows):
        if len(r) > len(header):
            raise DataFileError(f"{label}: not a readable CSV table (data row {n + 1} has "
                                f"{len(r)} fields, the header {len(header)})")
    return header, [r + [""] * (len(header) - len(r)) for r in rows]


def _cell_number(text: str, col: Column, fail) -> float:
    """One non-empty numeric cell, checked as the schema says; ``fail`` names the problem."""
    if not _NUMBER.match(text):
        return fail("is not a finite number" if _INFINITE.match(text) else "is not a number")
    x = float(text)
    if x in (float("inf"), float("-inf")):
        return fail("is not a finite number")
    if col.kind == "int":
        if x % 1:
            return fail("is not a whole number")
        if abs(x) > MAX_WHOLE:
            return fail(f"is out of range (a whole number must be <= {MAX_WHOLE:,})", quote=False)
    if col.min is not None and (x <= col.min if col.min_exclusive else x < col.min):
        op = ">" if col.min_exclusive else ">="
        return fail(f"is out of range (must be {op} {col.min:g})", quote=False)
    if col.max is not None and x > col.max:
        return fail(f"is out of range (must be <= {col.max:g})", quote=False)
    return x


def _cell(text: str, col: Column, fail):
    """The typed value of one cell (None when empty), or ``fail`` with the problem."""
    if text == "":
        return fail("empty cell in a required column", bare=True) if col.required else None
    if col.kind in ("float", "int"):
        x = _cell_number(text, col, fail)
        return int(x) if col.kind == "int" else x
    if col.kind == "date":
        try:
            if not _DATE.match(text):
                raise ValueError
            import datetime

            datetime.date.fromisoformat(text)
        except ValueError:
            return fail("is not a date written YYYY-MM-DD")
        return text
    if col.choices is not None and text not in col.choices:
        return fail(f"is not one of {', '.join(col.choices)}")
    return text


def _failer(label: str):
    """``fail(row, column, problem)``: raise :class:`DataFileError` naming the file, row, column."""

    def fail(row: int | None, column: str | None, problem: str):
        where = [label]
        if row is not None:
            where.append(f"row {row + 1} (line {row + 2})")
        if column is not None:
            where.append(f"column '{column}'")
        raise DataFileError(f"{', '.join(where)}: {problem}")

    return fail


def validate_rows(header: list[str], rows: list[list[str]], schema: Schema, label: str) -> dict:
    """Check text rows against ``schema``; return ``{column: [typed value or None, ...]}``.

    The one validator of every table, used with and without pandas: the first
    problem, in schema column order and then row order, raises
    :class:`DataFileError` naming the file, row and column. Columns of the
    file that the schema does not name follow, as text. Cross-column
    ``schema.checks`` need a DataFrame and are run by :func:`read_table`.
    """
    fail_at = _failer(label)
    names = [c.name for c in schema.columns]
    position = {h: j for j, h in reversed(list(enumerate(header)))}
    missing = [c.name for c in schema.columns if c.name not in position
               and not (c.absent_ok and not c.required)]
    if missing:
        fail_at(None, missing[0], f"required column is missing (a {schema.name} table needs: "
                f"{', '.join(names)})")
    if not rows:
        fail_at(None, None, "the table has no rows")
    out: dict[str, list] = {}
    for col in schema.columns:
        j = position.get(col.name)
        values = []
        for i, r in enumerate(rows):
            text = "" if j is None else r[j].strip()

            def fail(problem, *, quote=True, bare=False, i=i, text=text, col=col):
                fail_at(i, col.name, problem if bare else
                        f"{text!r} {problem}" if quote else f"{text} {problem}")

            values.append(_cell(text, col, fail))
        out[col.name] = values
    for h, j in position.items():
        if h not in out:
            out[h] = [r[j] for r in rows]
    if schema.key:
        seen: dict[tuple, int] = {}
        for i in range(len(rows)):
            typed = tuple(out[k][i] for k in schema.key)
            k = tuple(v.lower() if isinstance(v, str) else v for v in typed)
            if k in seen:
                fail_at(i, schema.key[-1], f"duplicate key {typed} (first seen in row "
                        f"{seen[k] + 1})")
            seen[k] = i
    for check in schema.row_checks:
        check(out, fail_at)
    return out


def read_rows(path, schema: Schema, *, label: str | None = None) -> dict:
    """Read and validate ``path`` without pandas: ``{column: [value or None, ...]}``.

    For the catalog's look-ups (:func:`costkit.gpu` in a fresh process):
    the same checks as :func:`read_table` except the cross-column ones that
    need a DataFrame (``schema.checks``; the catalog's GPU and model tables
    have none).
    """
    label = label or str(path)
    header, rows = _read_csv_text(path, label)
    return validate_rows(header, rows, schema, label)


def read_table(path, schema: Schema, *, label: str | None = None, frame=None):
    """Read ``path`` (or take ``frame``) and validate it against ``schema``.

    Returns a pandas DataFrame with typed columns in schema order, followed by
    any extra columns the file has (kept as text). Empty numeric cells are
    NaN (``Int64`` columns: ``<NA>``).
    """
    label = label or str(path)
    if frame is None:
        header, rows = _read_csv_text(path, label)
    else:
        raw = frame.astype(object).where(frame.notna(), "").map(str)
        header, rows = [str(c).strip() for c in raw.columns], raw.to_numpy().tolist()
    return frame_from_rows(validate_rows(header, rows, schema, label), schema, label)


def frame_from_rows(values: dict, schema: Schema, label: str):
    """The DataFrame of :func:`validate_rows`' typed columns, after the schema's DataFrame checks.

    Float columns hold NaN where a cell was empty, whole-number columns ``<NA>``
    (``Int64``), text columns ``""``.
    """
    import numpy as np
    import pandas as pd

    kinds = {c.name: c.kind for c in schema.columns}
    out: dict = {}
    for name, v in values.items():
        kind = kinds.get(name, "str")
        if kind == "float":
            out[name] = np.array([np.nan if x is None else x for x in v], dtype=float)
        elif kind == "int":
            out[name] = pd.array(v, dtype="Int64")
        else:
            out[name] = [("" if x is None else x) for x in v]
    df = pd.DataFrame(out)

    fail = _failer(label)
    for check in schema.checks:
        check(df, fail)
    return df


_ATTRS_FRAME: list = []


def attrs_frame(df):
    """``df`` made fit to keep in another frame's ``.attrs`` (a report, the lines left out).

    pandas compares ``.attrs`` when it concatenates frames, and a DataFrame there makes
    ``pd.concat`` fail ("truth value ... ambiguous"). This copy compares as one value, so a
    concatenation keeps the report when every part has the same one and drops it otherwise.
    Slices and operations give plain DataFrames.
    """
    import pandas as pd

    if not _ATTRS_FRAME:
        class AttrsFrame(pd.DataFrame):
            @property
            def _constructor(self):
                return pd.DataFrame

            def __eq__(self, other):  # one value, as .attrs comparisons need
                return isinstance(other, pd.DataFrame) and bool(self.equals(other))

            def __ne__(self, other):
                return not self.__eq__(other)

            __hash__ = None

        _ATTRS_FRAME.append(AttrsFrame)
    return _ATTRS_FRAME[0](df)


def _same_bytes(files: list[str]) -> tuple[str, str] | None:
    """The first two of ``files`` with identical contents (same size, then same SHA-256)."""
    import hashlib

    by_size: dict[int, list[str]] = {}
    for f in files:
        by_size.setdefault(os.path.getsize(f), []).append(f)
    for group in by_size.values():
        if len(group) < 2:
            continue
        seen: dict[str, str] = {}
        for f in group:
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
            if h.hexdigest() in seen:
                return seen[h.hexdigest()], f
            seen[h.hexdigest()] = f
    return None


def glob_files(paths, what: str, unit: str) -> list[str]:
    """The files a path, a glob or a list of them names: each once, all CSV or all Parquet.

    ``what`` names the files in messages ("billing"), ``unit`` what each holds ("billing
    line"). Raises FileNotFoundError for a glob that matches nothing and DataFileError for a
    file named twice, two files with the same bytes (a copy under another name), or a mix of
    formats.
    """
    import glob
    from pathlib import Path

    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise ValueError(f"no {what} files given")
    files: list[str] = []
    for p in items:
        if not isinstance(p, str | Path):
            raise TypeError(f"a {what} file is a path or a glob, got {type(p).__name__}")
        hits = sorted(glob.glob(str(p)))
        if not hits:
            raise FileNotFoundError(f"no {what} file matches {p}")
        files.extend(str(Path(h).resolve()) for h in hits)
    seen: set[str] = set()
    for f in files:
        if f in seen:
            raise DataFileError(f"{f}: given more than once (a glob and a path overlap?); each "
                                f"{unit} must be counted once")
        seen.add(f)
    kinds = {Path(f).suffix.lower() for f in files}
    if not kinds <= {".csv", ".parquet"} or len(kinds) != 1:
        raise DataFileError(f"{what} files must be all .csv or all .parquet, got {sorted(kinds)}")
    copy = _same_bytes(files)
    if copy is not None:
        raise DataFileError(f"{copy[1]}: the same bytes as {copy[0]} (a copy of one export under "
                            f"another name?); each {unit} must be counted once")
    return files
