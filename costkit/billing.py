"""The real bill: cloud billing exports in the FinOps Foundation's FOCUS format, through DuckDB.

FOCUS (FinOps Open Cost and Usage Specification, focus.finops.org) gives every
cloud's bill the same columns. costkit reads these (version 1.0 names):

=====================  ============================================================
column                 meaning
=====================  ============================================================
``BilledCost``         what the invoice charges for the line [billing currency]
``EffectiveCost``      the cost after commitment discounts are amortised (the
                       figure to charge back) [billing currency]
``ChargePeriodStart``  start of the period the line covers (inclusive)
``ChargePeriodEnd``    end of that period (exclusive)
``ResourceId``         the billed resource: here a replica (instance) id
``ServiceName``        the cloud service
``Tags``               a JSON object of key-value tags, e.g. ``{"team": "search"}``
``ChargeCategory``     (when present) ``Usage``, ``Purchase``, ``Tax``, ``Credit``
                       or ``Adjustment``: only usage is spread over resource-hours
=====================  ============================================================

Versions. :func:`focus_version` reads which FOCUS version an export follows
(1.0-preview, 1.0, 1.1 or 1.2) from the columns each version introduced; the
columns above are in all of them. Purchases, taxes, credits and adjustments are
money of the bill but not of a replica-hour: :func:`focus_resource_hours` sums
them per category in ``attrs["not_usage"]`` and
:func:`costkit.monitoring.cost_usage` reports them with their amount (a
commitment's purchase has an EffectiveCost of 0 in FOCUS: its cost is
amortised into the usage lines it covers).

Exports are large (a month of a big account is many files and many millions
of lines), so nothing here loads them into pandas: DuckDB scans the CSV or
Parquet files (a glob such as ``"bill/*.parquet"`` or a list of paths) and
only the aggregate comes back. :func:`focus_summary` keeps the export's
currency; :func:`focus_resource_hours` converts to USD.

One definition. The bill's rules (its columns, what is refused, the currency, the spread over
hours) are the Ibis expressions of :mod:`costkit.bill_lines`; this module runs them on its
locked DuckDB connection, and :func:`costkit.fleet.bill_hours` runs the same ones on its
engine, so the two readers cannot drift apart.

Safety and time. No SQL is built from the caller's text: the file list and
tag paths are bound as parameters, grouping keys are checked against the
file's columns, and the DuckDB connection may read only the given files
(external access is disabled and the configuration locked), so a tag key
such as ``x") , read_text('/etc/passwd`` selects a tag of that name and
nothing else. Every time is UTC whatever the machine's time zone: zoned
timestamps are converted to UTC, and naive ones are taken as UTC, which is
what FOCUS requires of ``ChargePeriodStart`` and ``ChargePeriodEnd``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costkit import bill_lines
from costkit._relational import DUCKDB_SESSION, execute, ibis
from costkit._tables import DataFileError, attrs_frame, glob_files, suggest
from costkit.bill_lines import FOCUS_COLUMNS, MAX_LINE_COST, NO_CATEGORY

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["FOCUS_COLUMNS", "FOCUS_VERSION_MARKERS", "MAX_LINE_COST", "NO_CATEGORY",
           "focus_conformance", "focus_resource_hours", "focus_summary", "focus_validate",
           "focus_version"]

# Columns each FOCUS version introduced (the specification's "Introduced (version)"), newest
# first: an export is at least the version of the newest column it has. 1.0-preview named
# some 1.0 columns differently (Region, UsageQuantity, UsageUnit, ChargeSubcategory).
FOCUS_VERSION_MARKERS = (
    ("1.2", ("BillingAccountType", "InvoiceId", "PricingCurrency", "SubAccountType")),
    ("1.1", ("CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
             "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails")),
    ("1.0", ("ChargeClass", "CommitmentDiscountStatus", "ConsumedQuantity", "ConsumedUnit",
             "ContractedCost", "ContractedUnitPrice", "RegionId", "RegionName")),
    ("1.0-preview", ("UsageQuantity", "UsageUnit", "ChargeSubcategory", "Region")),
)  # fmt: skip
_PERIODS = ("hour", "day", "week", "month")
_SUMMARY_COLUMNS = ("period", "billed_cost", "effective_cost", "lines")


def _files(paths) -> list[str]:
    if type(paths).__name__ == "DataFrame":
        return []
    if isinstance(paths, bytes) or not isinstance(paths, str | Path) and not hasattr(
            paths, "__iter__"):
        raise TypeError("paths must be a file, a glob, a list of them or a DataFrame of FOCUS "
                        f"lines, got {type(paths).__name__}")
    return glob_files(paths, "billing", "billing line")


class _Bill:
    """A DuckDB connection locked to one bill, and the same connection as an Ibis backend.

    ``table`` is the bill as an Ibis table, also the view ``costkit_bill`` for SQL (``{bill}``
    in :meth:`sql`). The connection runs in UTC, may read only the bill's files, and its
    configuration is locked so that no later statement can lift either.
    """

    def __init__(self, paths):
        from ._optional import require

        duckdb = require("duckdb", "reading a billing export")
        ib = ibis("reading a billing export", "billing")
        self.files = _files(paths)
        self.con = duckdb.connect()
        for setting in DUCKDB_SESSION:
            self.con.execute(setting)
        self.ib = ib.duckdb.from_connection(self.con)
        if not self.files:
            self.label = "the DataFrame"
            self.ib.create_view("costkit_bill", ib.memtable(paths))
            self.parts = [(self.label, self.ib.table("costkit_bill"))]
        else:
            self.label = self.files[0] if len(self.files) == 1 else f"{len(self.files)} files"
            self._view("costkit_bill", self.files)
            self.parts = ([(f, self._view(f"costkit_part_{i}", [f]))
                           for i, f in enumerate(self.files)] if len(self.files) > 1 else
                          [(self.label, self.ib.table("costkit_bill"))])
            self.con.execute("SET allowed_paths = $files", {"files": self.files})
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self.table = self.ib.table("costkit_bill")

    def _view(self, name: str, files: list[str]):
        """The files as the view ``name`` (DuckDB's reader, the paths bound, not formatted)."""
        import duckdb

        try:
            if files[0].lower().endswith(".parquet"):
                rel = self.con.read_parquet(files, union_by_name=True)
            else:
                rel = self.con.read_csv(files, union_by_name=True, header=True)
            rel.create_view(name)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            label = files[0] if len(files) == 1 else self.label
            raise DataFileError(f"{label}: cannot read the bill: {first}") from None
        return self.ib.table(name)

    def sql(self, query: str, **params):
        """Run ``query`` (with ``{bill}`` for the relation); values are bound, never formatted."""
        import duckdb

        query = query.replace("{bill}", "costkit_bill")
        named = set(re.findall(r"\$(\w+)", query))
        try:
            return self.con.execute(query, {k: v for k, v in params.items() if k in named})
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise DataFileError(f"{self.label}: cannot read the bill: {first}") from None

    @contextlib.contextmanager
    def engine_errors(self):
        """DuckDB's own error on a malformed bill becomes a DataFileError naming it."""
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise DataFileError(f"{self.label}: cannot read the bill: {first}") from None

    @property
    def cols(self) -> list[str]:
        return list(self.table.columns)


def _open(paths, *, check_lines: bool = True) -> _Bill:
    """Open the bill; check each file's columns, then its lines (:func:`bill_lines.check`)."""
    bill = _Bill(paths)
    for label, part in bill.parts:
        bill_lines.check_columns(part.schema(), label)
    if check_lines:
        with bill.engine_errors():
            bill_lines.check(bill.ib, bill_lines.lines(bill.table, bill.label), bill.label)
    return bill


def focus_validate(paths: StrPath | Sequence[StrPath]) -> list[str]:
    """Check every file has the FOCUS columns costkit reads; return the list of files.

    Raises :class:`~costkit.DataFileError` naming the file and the missing
    column(s) or the column of the wrong type.

    Parameters
    ----------
    paths : str, Path or sequence of them
        FOCUS billing export(s): CSV or Parquet files.

    Returns
    -------
    list of str
        The files checked, in the order given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> bill = pathlib.Path(tempfile.mkdtemp()) / "focus.csv"
    >>> week.bill.to_csv(bill, index=False)
    >>> [pathlib.Path(f).name for f in focus_validate(bill)]
    ['focus.csv']
    """
    return _open(paths).files


def _version_of(columns) -> str:
    for version, markers in FOCUS_VERSION_MARKERS:
        if any(m in columns for m in markers):
            return version
    return "unknown"


def focus_version(paths: StrPath | Sequence[StrPath]) -> str:
    """The FOCUS version an export follows, read from the columns it has.

    An export is at least the version that introduced the newest column it carries
    (:data:`FOCUS_VERSION_MARKERS`, from the specification's "Introduced (version)" of each
    column): ``"1.2"``, ``"1.1"``, ``"1.0"``, ``"1.0-preview"`` (its names for region and
    usage quantity), or ``"unknown"`` when it has none of them (the columns costkit reads
    are in every version from 1.0-preview on).

    Parameters
    ----------
    paths : str, Path or sequence of them
        FOCUS billing export(s): CSV or Parquet files.

    Returns
    -------
    str
        ``"1.2"``, ``"1.1"``, ``"1.0"``, ``"1.0-preview"`` or ``"unknown"``.

    Raises
    ------
    DataFileError
        The export lacks a column costkit reads, or one has the wrong type.

    Examples
    --------
    >>> import pandas as pd
    >>> from costkit.monitoring import synthetic_telemetry
    >>> bill = synthetic_telemetry(days=1, replicas=12, freq="15min").bill
    >>> focus_version(bill), focus_version(bill.assign(InvoiceId="INV-1"))
    ('1.0', '1.2')
    """
    return _version_of(_open(paths).cols)


_VALIDATOR_HINT = (
    "install the FinOps Foundation's focus-validator in an environment of its own (it pins "
    "numpy<2, pandas<3 and sqlglot<19, which costkit's cannot share): pipx install "
    "focus-validator && pipx inject focus-validator 'multimethod<1.11' (its pandera 0.17 breaks "
    "with later multimethod); then put it on PATH or set COSTKIT_FOCUS_VALIDATOR")


def _validator(executable):
    import os
    import shutil

    exe = executable or os.environ.get("COSTKIT_FOCUS_VALIDATOR") or shutil.which(
        "focus-validator")
    if not exe:
        raise FileNotFoundError("no focus-validator found: " + _VALIDATOR_HINT)
    if not Path(exe).is_file():
        raise FileNotFoundError(f"focus-validator {exe!r} is not a file: " + _VALIDATOR_HINT)
    return str(exe)


def focus_conformance(path: StrPath, *, version: str | None = None,
                      validator: StrPath | None = None, timeout_s: float = 600.0) -> Frame:
    """Every rule of the FOCUS specification checked by the FinOps Foundation's focus-validator.

    :func:`focus_validate` checks what costkit reads; this runs the Foundation's own
    validator, https://github.com/finopsfoundation/focus-spec-validator (an executable,
    found on PATH, in ``COSTKIT_FOCUS_VALIDATOR`` or given as ``validator``), on one CSV or
    Parquet file and returns each rule with its outcome. The
    validator is a separate program because its pins (numpy<2, pandas<3) cannot share
    costkit's environment: see the error message for the install line.

    Parameters
    ----------
    path : str or Path
        One FOCUS export file (CSV or Parquet).
    version : str, optional
        The FOCUS version to check against; default the export's own
        (:func:`focus_version`). Refused when the validator does not know it.
    validator : str or Path, optional
        The ``focus-validator`` executable; default from the environment or PATH.
    timeout_s : float, default 600.0
        Longest the validator may run. [s]

    Returns
    -------
    DataFrame
        One row per rule: ``rule``, ``check``, ``passed`` and ``message``; ``attrs`` hold
        the ``version`` checked and the ``validator`` run.

    Raises
    ------
    FileNotFoundError
        No validator installed (the message says how to install it).

    Examples
    --------
    >>> focus_conformance("bill.csv")  # doctest: +SKIP
    """
    import subprocess
    import tempfile
    import xml.etree.ElementTree as ET

    import pandas as pd

    exe = _validator(validator)
    file = Path(path)
    if not file.is_file() or file.suffix.lower() not in (".csv", ".parquet"):
        raise DataFileError(f"{file}: focus_conformance checks one .csv or .parquet file")
    version = version or focus_version(file)
    known = subprocess.run([exe, "--supported-versions"], capture_output=True, text=True,
                           timeout=timeout_s).stdout.split()
    if version not in known:
        raise ValueError(f"{exe} checks FOCUS versions {', '.join(known) or '(none listed)'}, "
                         f"not {version!r}; pass version= one of those")
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "report.xml"
        run = subprocess.run([exe, "--data-file", str(file), "--validate-version", version,
                              "--output-type", "unittest", "--output-destination", str(report)],
                             capture_output=True, text=True, timeout=timeout_s)
        if not report.is_file():
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DataFileError(f"{file}: focus-validator wrote no report ({tail[0][:200]})")
        if report.stat().st_size > 50 * 1024**2:
            raise DataFileError(f"{file}: focus-validator's report is over 50 MB")
        root = ET.parse(report).getroot()
    rows = []
    for case in root.iter("testcase"):
        rule, _, check = str(case.get("name", "")).partition(" :: ")
        failure = case.find("failure")
        rows.append({"rule": rule, "check": check, "passed": failure is None,
                     "message": "" if failure is None else str(failure.get("message", ""))})
    out = pd.DataFrame(rows, columns=["rule", "check", "passed", "message"])
    out.attrs.update(version=version, validator=exe)
    return out


def _tag_path(key: str) -> str:
    """The JSON pointer of a tag key: the key exactly, ``~`` and ``/`` escaped (RFC 6901)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _keys(by, columns) -> list[tuple[str, dict, str]]:
    """For each grouping key: its SQL (parameters only), its bound values and its output name."""
    if isinstance(by, str):
        by = (by,)
    out, names = [], set()
    for i, name in enumerate(by):
        if not isinstance(name, str):
            raise TypeError(f"a grouping key is a column name or 'tag:<key>', got {name!r}")
        if name.startswith("tag:"):
            key = name[4:]
            if not key:
                raise ValueError("'tag:' needs a key, e.g. 'tag:team'")
            expr, params, label = (f"coalesce(json_extract_string(Tags, $k{i}), '')",
                                   {f"k{i}": _tag_path(key)}, key)
        else:
            if name not in columns:
                raise ValueError(f"{name!r} is not a column of the bill." + suggest(name, columns))
            expr, params, label = f'"{name.replace(chr(34), chr(34) * 2)}"', {}, name
        if label in names or label in _SUMMARY_COLUMNS:
            raise ValueError(f"grouping key {name!r} gives a column {label!r} that another key "
                             "or the summary already has")
        names.add(label)
        out.append((expr, params, label))
    return out


def focus_summary(paths: StrPath | Sequence[StrPath], *, by: str | Sequence[str] = ("ServiceName",),
                  period: str | None = "day") -> Frame:
    """Billed and effective cost by period and keys, aggregated by DuckDB over the files.

    Parameters
    ----------
    paths : str, Path, list or DataFrame
        Files or globs (all CSV or all Parquet), or the FOCUS lines as a DataFrame.
    by : sequence of str
        FOCUS columns (``ServiceName``, ``ResourceId`` ...) or ``"tag:<key>"``
        for a tag (``"tag:team"``); the key is matched exactly (``"tag:app.name"``
        is the key ``app.name``). Lines without the tag get ``""``.
    period : ``"hour"``, ``"day"``, ``"week"``, ``"month"`` or None
        Lines are assigned to the UTC period of their ``ChargePeriodStart``.

    Returns
    -------
    DataFrame
        ``period`` (if any), the keys, ``billed_cost``, ``effective_cost`` and ``lines``.
        Every line of the bill is in one row. [billing currency]

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> bill = pathlib.Path(tempfile.mkdtemp()) / "focus.csv"
    >>> week.bill.to_csv(bill, index=False)
    >>> focus_summary(bill, by=("tag:team",), period=None).round(2)
         team  billed_cost  effective_cost  lines
    0    recs       108.64          143.94     72
    1  search       191.80          300.86    216
    """
    if period is not None and period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS} or None, got {period!r}")
    bill = _open(paths)
    keys = _keys(by, bill.cols)
    select = [f"{expr} AS k{i}" for i, (expr, _, _) in enumerate(keys)]
    params = {k: v for _, p, _ in keys for k, v in p.items()}
    if period:
        select.insert(0, f"date_trunc('{period}', CAST(ChargePeriodStart AS TIMESTAMP)) AS period")
    group = ", ".join(str(i + 1) for i in range(len(select)))
    query = (f"SELECT {''.join(c + ', ' for c in select)}sum(BilledCost) AS billed_cost, "
             "sum(EffectiveCost) AS effective_cost, count(*) AS lines FROM {bill}"
             + (f" GROUP BY {group} ORDER BY {group}" if select else ""))
    out = bill.sql(query, **params).df()
    out = out.rename(columns={f"k{i}": label for i, (_, _, label) in enumerate(keys)})
    if period:
        out["period"] = out["period"].dt.tz_localize("UTC")
    return out


def focus_resource_hours(paths: StrPath | Sequence[StrPath], *,
                         resource_ids: Sequence[str] | None = None) -> Frame:
    """Effective and billed cost of each resource in each UTC clock hour [USD].

    A line that touches several clock hours is spread evenly over them (a
    daily line gives each hour 1/24; the total is kept), so it can be joined
    to hourly telemetry. Only ``resource_ids`` (if given) are kept, inside
    DuckDB. ``paths`` are files or globs, or the FOCUS lines as a DataFrame.

    Returns a DataFrame with ``resource_id``, ``hour`` (UTC), ``effective_cost``,
    ``billed_cost``, and the line's ``service`` and ``tags``. The money of every
    line kept is in it: a line without its period or cost is refused. Costs are in
    USD: a bill in another ``BillingCurrency`` is converted at the newest rate on or
    before each line's start day (:func:`usd_rates`), and ``attrs["fx"]`` lists the rates.

    Parameters
    ----------
    paths : str, Path or sequence of them
        FOCUS billing export(s): CSV or Parquet files.
    resource_ids : sequence of str, optional
        Only these resources (``ResourceId``); default all.

    Returns
    -------
    DataFrame
        Effective and billed cost of each resource in each UTC clock hour [USD].

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from costkit.monitoring import synthetic_telemetry
    >>> week = synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> bill = pathlib.Path(tempfile.mkdtemp()) / "focus.csv"
    >>> week.bill.to_csv(bill, index=False)
    >>> hours = focus_resource_hours(bill)
    >>> len(hours), round(float(hours["effective_cost"].sum()), 2)
    (288, 444.81)
    """
    bill = _open(paths, check_lines=False)  # resource_hours checks them
    if isinstance(resource_ids, str):
        resource_ids = [resource_ids]
    with bill.engine_errors():
        hours = bill_lines.resource_hours(
            bill.ib, bill.table, bill.label,
            resource_ids=None if resource_ids is None else [str(r) for r in resource_ids])
        out = execute(bill.ib, hours.table.order_by(["resource_id", "hour"]))
    out.attrs["not_usage"] = attrs_frame(hours.not_usage)
    out.attrs["fx"] = hours.fx
    out.attrs["focus_version"] = _version_of(bill.cols)
    return out
