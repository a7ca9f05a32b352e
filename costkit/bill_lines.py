r"""A FOCUS bill's lines, defined once: their columns, the checks, USD, and the spread over hours.

Both readers of a bill run these Ibis expressions and nothing else:
:func:`costkit.billing.focus_resource_hours` (pandas results, on an in-memory DuckDB
connection locked to the bill's files) and :func:`costkit.fleet.bill_hours` (out of core on
DuckDB, or on Spark). A rule changed here changes both; :func:`costkit.billing.focus_summary`
runs the same checks before it sums.

The rules:

columns
    :data:`FOCUS_COLUMNS` are there; ``BilledCost`` and ``EffectiveCost`` are numbers;
    ``ChargePeriodStart`` and ``ChargePeriodEnd`` are timestamps, dates or ISO 8601 text
    (a time without a zone is UTC, as FOCUS requires).
refused
    a line without its cost or its period, a period that is not a date-time, one that ends
    before it starts, a cost that is infinite, NaN or above :data:`MAX_LINE_COST`, ``Tags``
    that are not a JSON object (:func:`parse_tags`), more than one currency, and a usage line
    longer than :data:`MAX_LINE_HOURS`.
currency
    each line in USD at :func:`usd_rates` (no ``BillingCurrency`` column: USD).
usage
    only lines whose ``ChargeCategory`` is usage (in any case) are spread over hours; the
    others are summed per category, a line without one as :data:`NO_CATEGORY`.
spread
    a line from :math:`t_0` to :math:`t_1` touches the clock hours
    :math:`h_0 = \lfloor t_0 \rfloor_h` to :math:`h_1 = \lfloor t_1 - 1\,\mu s \rfloor_h`;
    each of the :math:`n = h_1 - h_0 + 1` hours gets :math:`\text{cost} / n`.
one resource-hour
    the costs of its lines are summed; its ``service`` and ``tags`` are the greatest of its
    lines' texts (a line with tags wins over one without; the same text whatever the engine
    or the order of the lines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costkit._relational import execute, ibis, one
from costkit._tables import DataFileError

if TYPE_CHECKING:
    from ._typing import Frame

__all__ = ["FOCUS_COLUMNS", "MAX_DISTINCT_TAGS", "MAX_LINE_COST", "MAX_LINE_HOURS",
           "NOT_USAGE_COLUMNS", "NO_CATEGORY", "Checked", "ResourceHours", "parse_tags",
           "resource_hours", "too_large_lines", "usd_rates"]
# check_columns, lines, check, in_usd, not_usage and spread are the steps of resource_hours:
# public for the two readers, documented above, outside __all__

FOCUS_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd",
                 "ResourceId", "ServiceName", "Tags")
MAX_LINE_COST = 1e15
"""The largest cost one billing line may have [billing currency]: a quadrillion, far above any
bill, and low enough that the sum of a billion lines stays finite (two lines of 1e308 sum to
infinity)."""
MAX_LINE_HOURS = 24 * 366
"""The most clock hours one usage line may be spread over [h]: a year (a leap year)."""
MAX_DISTINCT_TAGS = 1_000_000
"""The most distinct ``Tags`` texts a bill may hold (each is parsed once)."""
NO_CATEGORY = "(no ChargeCategory)"
"""How a line without a ChargeCategory is reported: not spread as usage, its money counted with
the other lines that are not usage (FOCUS requires the column to be filled)."""
NOT_USAGE_COLUMNS = ("charge_category", "lines", "billed_cost", "effective_cost")
_MONEY = ("BilledCost", "EffectiveCost")
_PERIOD = ("ChargePeriodStart", "ChargePeriodEnd")


def too_large_lines(label: str, lines: int, largest: float) -> str:
    """The refusal of lines above :data:`MAX_LINE_COST`.

    Parameters
    ----------
    label : str
        The bill's name in messages (a file, "3 files", "the DataFrame").
    lines : int
        How many lines are too large.
    largest : float
        The largest cost among them. [billing currency]

    Returns
    -------
    str
        The message.

    Examples
    --------
    >>> too_large_lines("bill.csv", 2, 1.7e308)[:52]
    'bill.csv: 2 billing line(s) cost more than 1e+15 (th'
    """
    return (f"{label}: {lines} billing line(s) cost more than {MAX_LINE_COST:.0e} (the largest "
            f"{largest:.3g}); no bill line is that large: check the cost columns' unit")


def usd_rates(pairs: Frame, label: str) -> tuple[Frame, tuple[str, ...]]:
    """USD per unit of a bill's currency on each UTC day its lines start: (rates, rates used).

    Each line converts at the newest :mod:`costkit.fx` rate on or before the day of its
    ``ChargePeriodStart``; USD is 1. A line without a currency, or in one the exchange-rate
    table cannot convert on its day, is refused with the bill's name.

    Parameters
    ----------
    pairs : DataFrame
        The distinct ``currency`` (ISO code, upper case) and ``day`` (``YYYY-MM-DD``) of the
        lines.
    label : str
        The bill's name in messages.

    Returns
    -------
    tuple of (DataFrame, tuple of str)
        The pairs with ``usd_per_unit`` [USD per unit] and ``fx_date``, and the text of each
        rate used (its age warning with it).

    Examples
    --------
    >>> import pandas as pd
    >>> rates, used = usd_rates(pd.DataFrame({"currency": ["CNY"], "day": ["2026-11-02"]}), "b")
    >>> round(float(rates["usd_per_unit"].iloc[0]), 4), rates["fx_date"].iloc[0]
    (0.1431, '2026-01-27')
    """
    from costkit._tables import UnknownNameError
    from costkit.fx import fx_rate

    out = pairs.reset_index(drop=True).copy()
    blank = out["currency"].isna() | (out["currency"].astype(str).str.strip() == "")
    if blank.any():
        raise DataFileError(f"{label}, column 'BillingCurrency': lines without a currency (on "
                            f"{out.loc[blank, 'day'].iloc[0]}); FOCUS requires one, and costkit "
                            "will not guess it")
    rates, dates, used = [], [], set()
    for cur, day in zip(out["currency"].astype(str), out["day"].astype(str), strict=True):
        if cur == "USD":
            rates.append(1.0)
            dates.append("")
            continue
        try:
            r = fx_rate(cur, "USD", date=day)
        except (UnknownNameError, LookupError, ValueError) as exc:
            raise DataFileError(f"{label}, column 'BillingCurrency': {cur!r} on {day} cannot be "
                                f"converted to USD: {str(exc).strip(chr(39))}") from None
        rates.append(r.rate)
        dates.append(r.date)
        used.add(str(r))
    out["usd_per_unit"], out["fx_date"] = rates, dates
    return out, tuple(sorted(used))


def parse_tags(text: Any) -> dict:
    """A bill line's ``Tags`` as a dict of text; ``{}`` when blank or missing.

    The one reading of a tag text: :func:`check` refuses a bill whose tags it cannot read,
    and the owners of an hour nobody measured are read from the tags with it.

    Parameters
    ----------
    text : str or None
        The ``Tags`` of a line.

    Returns
    -------
    dict
        Each key's value as text.

    Raises
    ------
    ValueError
        The text is neither blank nor a JSON object.

    Examples
    --------
    >>> parse_tags('{"team": "search", "gpus": 8}'), parse_tags("")
    ({'team': 'search', 'gpus': '8'}, {})
    """
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError(f"{text[:80]!r} is not JSON") from None
    if not isinstance(tags, dict):
        raise ValueError(f"{text[:80]!r} is not a JSON object")
    return {k: str(v) for k, v in tags.items()}


# --------------------------------------------------------------------------- columns


def check_columns(schema: Any, label: str) -> None:
    """Refuse a table (its Ibis ``schema``) that lacks a FOCUS column or types one wrongly."""
    missing = [c for c in FOCUS_COLUMNS if c not in schema.names]
    if missing:
        raise DataFileError(f"{label}: not a FOCUS export costkit can read: missing column(s) "
                            f"{', '.join(missing)}")
    for c in _MONEY:
        kind = schema[c]
        if not (kind.is_numeric() or kind.is_null()) or kind.is_boolean():
            raise DataFileError(f"{label}, column {c!r}: is {kind}, not a number; FOCUS money "
                                "columns are decimal numbers")
    for c in _PERIOD:
        kind = schema[c]
        if not (kind.is_timestamp() or kind.is_date() or kind.is_string() or kind.is_null()):
            raise DataFileError(f"{label}, column {c!r}: is {kind}, not a timestamp; FOCUS "
                                "wants ISO 8601 date-times in UTC")


def _instant(col):
    """A period column as a naive UTC timestamp; text that is not a date-time becomes NULL."""
    import ibis.expr.datatypes as dt

    kind = col.type()
    if kind.is_timestamp():
        return (col.cast(dt.Timestamp(timezone="UTC")) if kind.timezone else col).cast(
            dt.timestamp)
    if kind.is_string():
        return col.strip().try_cast(dt.Timestamp(timezone="UTC")).cast(dt.timestamp)
    return col.cast(dt.timestamp)  # a date (midnight UTC) or a column of NULLs


def lines(raw: Any, label: str) -> Any:
    """The lines of a raw FOCUS table in costkit's columns (after :func:`check_columns`).

    ``resource_id``, ``t0``, ``t1`` (UTC), ``effective``, ``billed`` [billing currency],
    ``service``, ``tags``, ``category`` (usage when the export has no ``ChargeCategory``),
    ``currency`` (``"USD"`` when it has no ``BillingCurrency``), and ``t0_text`` / ``t1_text``:
    the period as text where it was text (for :func:`check`).
    """
    import ibis.expr.datatypes as dt

    ib = ibis()
    check_columns(raw.schema(), label)
    cols = raw.columns

    def text(c):
        return raw[c].cast(dt.string) if raw[c].type().is_string() else ib.null(dt.string)

    return raw.select(
        resource_id=raw.ResourceId.cast(dt.string),
        t0=_instant(raw.ChargePeriodStart), t1=_instant(raw.ChargePeriodEnd),
        t0_text=text("ChargePeriodStart"), t1_text=text("ChargePeriodEnd"),
        effective=raw.EffectiveCost.cast(dt.float64), billed=raw.BilledCost.cast(dt.float64),
        service=raw.ServiceName.cast(dt.string).fill_null(""),
        tags=raw.Tags.cast(dt.string).fill_null(""),
        category=(raw.ChargeCategory.cast(dt.string).fill_null(NO_CATEGORY)
                  if "ChargeCategory" in cols else ib.literal("Usage")),
        currency=(raw.BillingCurrency.cast(dt.string).strip().upper()
                  if "BillingCurrency" in cols else ib.literal("USD")))


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Checked:
    """What :func:`check` found in lines it let through."""

    longest_usage_hours: int  # the most clock hours a usage line touches (0: no usage)
    currency: str | None  # the one currency of the lines (None: a line has none)


def check(con: Any, t: Any, label: str) -> Checked:
    """Refuse a bill whose money cannot all be placed (the rules under *refused* above).

    ``t`` is :func:`lines`; one aggregate over it, then an example of what is refused.
    """
    ib = ibis()
    no_time = t.t0.isnull() | t.t1.isnull()
    _, n = _hours_touched(t)
    found = one(con, t.aggregate(
        no_cost=(t.billed.isnull() | t.effective.isnull()).sum(),
        bad_t0=(t.t0.isnull() & t.t0_text.notnull()).sum(),
        bad_t1=(t.t1.isnull() & t.t1_text.notnull()).sum(),
        no_time=no_time.sum(), no_time_usd=t.billed.sum(where=no_time),
        backwards=(t.t1 <= t.t0).sum(),
        infinite=(t.billed.isinf() | t.effective.isinf() | t.billed.isnan()
                  | t.effective.isnan()).sum(),
        too_large=((t.billed.abs() > MAX_LINE_COST) | (t.effective.abs() > MAX_LINE_COST)).sum(),
        largest=ib.greatest(t.billed.abs(), t.effective.abs()).max(),
        longest=n.max(where=_usage(t)), tag_texts=t.tags.nunique(),
        currencies=t.currency.nunique(), currency=t.currency.max(),
        no_currency=t.currency.isnull().sum()))
    found = {k: v if k in ("no_time_usd", "largest", "currency") else int(v or 0)
             for k, v in found.items()}
    if found["no_cost"]:
        raise DataFileError(f"{label}: {found['no_cost']} billing line(s) have no BilledCost or "
                            "EffectiveCost")
    for column, end in (("ChargePeriodStart", "t0"), ("ChargePeriodEnd", "t1")):
        if found[f"bad_{end}"]:
            bad = t.filter(t[end].isnull() & t[f"{end}_text"].notnull())
            value = one(con, bad.select(v=bad[f"{end}_text"]).limit(1))["v"]
            raise DataFileError(f"{label}, column {column!r}: {found[f'bad_{end}']} billing "
                                f"line(s) are not an ISO 8601 date-time, e.g. {value!r}")
    if found["no_time"]:
        raise DataFileError(f"{label}: {found['no_time']} billing line(s) have no "
                            "ChargePeriodStart or ChargePeriodEnd "
                            f"({found['no_time_usd'] or 0:,.4f} billed); FOCUS requires both, "
                            "and a line without its period cannot be placed in an hour")
    if found["backwards"]:
        raise DataFileError(f"{label}: {found['backwards']} billing line(s) end before they "
                            "start (ChargePeriodEnd <= ChargePeriodStart)")
    if found["infinite"]:
        raise DataFileError(f"{label}: {found['infinite']} billing line(s) have an infinite or "
                            "NaN cost")
    if found["longest"] > MAX_LINE_HOURS:
        raise DataFileError(f"{label}: a usage line spans {found['longest']:,} hours (more than "
                            "a year); split it before spreading it over hours")
    if found["too_large"]:
        raise DataFileError(too_large_lines(label, found["too_large"], found["largest"]))
    _check_tags(con, t, label, found["tag_texts"])
    if found["currencies"] > 1:
        cur = sorted(map(str, con.execute(t.select("currency").distinct())["currency"]))
        raise DataFileError(f"{label}: the export mixes currencies {cur}; read one currency "
                            "at a time")
    return Checked(found["longest"], None if found["no_currency"] else found["currency"])


def _check_tags(con, t, label, distinct: int) -> None:
    """Every distinct ``Tags`` text parses (:func:`parse_tags`), at most MAX_DISTINCT_TAGS."""
    if distinct > MAX_DISTINCT_TAGS:
        raise DataFileError(f"{label}, column 'Tags': {distinct:,} different tag texts (more "
                            f"than {MAX_DISTINCT_TAGS:,}); tag resources with a few keys")
    bad = []
    for text in sorted(con.execute(t.select("tags").distinct())["tags"]):
        try:
            parse_tags(text)
        except ValueError as exc:
            bad.append((text, exc))
    if bad:
        n = int(con.execute(t.filter(t.tags.isin([x for x, _ in bad])).count()))
        raise DataFileError(f"{label}, column 'Tags': {n} line(s) are not a JSON object of "
                            f"keys and values, as FOCUS wants (e.g. {bad[0][1]})")


# --------------------------------------------------------------------------- money and hours


def in_usd(con: Any, t: Any, label: str) -> tuple[Any, tuple[str, ...]]:
    """The lines with their costs in USD (:func:`usd_rates`); the text of the rates used."""
    t = t.mutate(fx_day=t.t0.strftime("%Y-%m-%d"))
    pairs = execute(con, t.select(currency=t.currency, day=t.fx_day).distinct())
    rates, used = usd_rates(pairs, label)
    if (rates["usd_per_unit"] == 1.0).all():
        return t.drop("fx_day"), used
    r = ibis().memtable(rates.rename(columns={"currency": "r_currency", "day": "r_day"})[
        ["r_currency", "r_day", "usd_per_unit"]])
    j = t.join(r, [t.currency == r.r_currency, t.fx_day == r.r_day])
    j = j.mutate(effective=j.effective * j.usd_per_unit, billed=j.billed * j.usd_per_unit)
    return j.select([c for c in t.columns if c != "fx_day"]), used


def not_usage(con: Any, t: Any) -> Frame:
    """The lines that are not usage, summed per ChargeCategory (a pandas table).

    Purchases, taxes, credits and adjustments are money of the bill but not of a
    resource-hour, so they are reported with their amounts instead of spread over replicas
    (a commitment's purchase already has an EffectiveCost of 0: its cost is amortised into
    the usage lines).
    """
    nu = t.filter(~_usage(t))
    out = con.execute(nu.group_by(charge_category=nu.category).aggregate(
        lines=nu.count(), billed_cost=nu.billed.sum(), effective_cost=nu.effective.sum())
        .order_by("charge_category"))
    return out.reindex(columns=list(NOT_USAGE_COLUMNS))


def _usage(t):
    return t.category.lower() == "usage"


def _hours_touched(t):
    """The first clock hour :math:`h_0` a line touches and how many, :math:`n = h_1 - h_0 + 1`."""
    import ibis.expr.datatypes as dt

    start = t.t0.truncate("h")
    last = (t.t1 - ibis().interval(microseconds=1)).truncate("h")
    return start, ((last.epoch_seconds() - start.epoch_seconds()) // 3600 + 1).cast(dt.int64)


def spread(t: Any, longest_hours: int) -> Any:
    """The usage lines spread evenly over the clock hours they touch, summed per resource-hour.

    ``longest_hours`` is :attr:`Checked.longest_usage_hours`. Columns ``resource_id``,
    ``hour``, ``effective_cost``, ``billed_cost``, ``service``, ``tags`` (a lazy table).
    """
    import numpy as np

    if not 0 <= longest_hours <= MAX_LINE_HOURS:
        raise ValueError(f"longest_hours is {longest_hours}: check() the lines first")
    t = t.filter(_usage(t))
    start, n = _hours_touched(t)
    t = t.mutate(start=start, n=n)
    steps = ibis().memtable({"k": np.arange(max(longest_hours, 1), dtype=np.int64)})
    s = t.join(steps, steps.k < t.n)
    s = s.select(s.resource_id, hour=s.start + s.k.as_interval("h"),
                 effective=s.effective / s.n, billed=s.billed / s.n, service=s.service,
                 tags=s.tags)
    return s.group_by(["resource_id", "hour"]).aggregate(
        effective_cost=s.effective.sum(), billed_cost=s.billed.sum(), service=s.service.max(),
        tags=s.tags.max())


@dataclass
class ResourceHours:
    """A bill's usage per resource and UTC hour (``table``, lazy) and what is not usage.

    Costs in USD; ``fx`` lists the exchange rates used (none for a bill in USD).
    """

    table: Any
    not_usage: Frame
    fx: tuple[str, ...]


def resource_hours(con: Any, raw: Any, label: str, *,
                   resource_ids: list[str] | None = None) -> ResourceHours:
    """The bill ``raw`` (an Ibis table of ``con``) per resource-hour, by every rule above.

    :func:`lines`, :func:`check`, :func:`in_usd`, :func:`not_usage`, :func:`spread`.

    Parameters
    ----------
    con : ibis backend
        The engine ``raw`` is in (DuckDB, Spark).
    raw : ibis Table
        The FOCUS lines as the export has them.
    label : str
        The bill's name in messages.
    resource_ids : list of str, optional
        Only these resources, their lines that are not usage included; default all.

    Returns
    -------
    ResourceHours
        The usage per resource and hour (lazy) [USD], the lines that are not usage, the
        exchange rates used.

    Examples
    --------
    >>> import ibis
    >>> from costkit.monitoring import synthetic_telemetry
    >>> con = ibis.duckdb.connect()
    >>> bill = synthetic_telemetry(days=1, replicas=12, freq="15min").bill
    >>> hours = resource_hours(con, ibis.memtable(bill), "the bill")
    >>> round(float(con.execute(hours.table.effective_cost.sum())), 2), hours.fx
    (444.81, ())
    """
    import pandas as pd

    t = lines(raw, label)
    found = check(con, t, label)
    t = t.drop("t0_text", "t1_text")
    if resource_ids is not None:
        t = t.filter(t.resource_id.isin(list(resource_ids)))
    fx: tuple[str, ...] = ()
    if found.currency != "USD":  # one currency (checked), or lines without: in_usd refuses
        t, fx = in_usd(con, t, label)
    other = (not_usage(con, t) if "ChargeCategory" in raw.columns
             else pd.DataFrame(columns=list(NOT_USAGE_COLUMNS)))
    return ResourceHours(spread(t, found.longest_usage_hours), other, fx)
