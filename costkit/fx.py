"""Dated exchange rates, so that a cost can be shown in the reader's currency.

``data/fx.csv`` holds official daily rates with their date and source: one
row per (date, currency) saying that one unit of ``currency`` is worth
``rate`` units of ``rate_currency``. Each date uses one ``rate_currency``
(the numeraire of that day's table: CNY for the China Foreign Exchange Trade
System's central parity, EUR for the ECB's reference rates), and any two
currencies of that date convert through it. Users may pass their own table.

By default the newest date in the table is used; ``date="2024-07-24"`` picks
the newest rate on or before that day. The date used is part of every
:class:`FxRate`, so it can be printed beside the converted figure.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from costkit._tables import (
    Column,
    Schema,
    UnknownNameError,
    bundled_path,
    frame_from_rows,
    read_rows,
    suggest,
)
from costkit._tables import stamp as _stamp

if TYPE_CHECKING:
    from ._typing import Floats, Frame, StrPath

__all__ = ["FxRate", "USD_COLUMN", "convert", "fx_rate", "fx_rates", "in_currency"]

USD_COLUMN = re.compile(r"(^|_)usd(_|$)")
"""A column is money in US dollars when ``usd`` is a word of its name (``npv_usd``,
``usd_per_1k_requests``): costkit names every money column so."""


def _one_numeraire(cols, fail):
    """Each date quotes its rates in one ``rate_currency`` (the typed columns; no pandas)."""
    first: dict[str, str] = {}
    for i, (d, num) in enumerate(zip(cols["date"], cols["rate_currency"], strict=True)):
        num = num.upper()
        if first.setdefault(d, num) != num:
            fail(i, "rate_currency", f"date {d} quotes rates in more than one currency; use one "
                 "rate_currency per date")


FX_SCHEMA = Schema(
    "exchange-rate",
    (
        Column("date", "date"),
        Column("currency"),
        Column("rate", "float", min=0, min_exclusive=True),
        Column("rate_currency"),
        Column("source"),
    ),
    key=("date", "currency"),
    row_checks=(_one_numeraire,),
)


@dataclass(frozen=True)
class FxRate:
    """``1 from_currency = rate to_currency`` on ``date``, with the sources used."""

    from_currency: str
    to_currency: str
    rate: float
    date: str
    sources: tuple[str, ...]
    asked: str | None = None  # the day the rate was asked for (None: the newest, for today)

    @property
    def warning(self) -> str | None:
        """Past 90 days between the rate's date and the day it is for: a warning, else None.

        The same rule and threshold as prices (``costkit.catalog.age_warning``); a rate of a
        currency into itself never ages.
        """
        if self.from_currency == self.to_currency:
            return None
        from ._age import age_warning

        return age_warning(self.date, what="exchange rates", why="rates move every day",
                           remedy="fx_date= of a day in your table, with fx_path=",
                           on=self.asked)

    def __str__(self) -> str:
        text = f"1 {self.from_currency} = {self.rate:.6g} {self.to_currency} (rate of {self.date})"
        warning = self.warning
        return text if warning is None else f"{text}; WARNING: {warning}"


@functools.lru_cache(maxsize=16)
def _rows(path: str, mtime: float) -> dict:
    """The validated table's typed columns, currencies upper-case (csv module, no pandas)."""
    cols = read_rows(path, FX_SCHEMA)
    cols["currency"] = [c.upper() for c in cols["currency"]]
    cols["rate_currency"] = [c.upper() for c in cols["rate_currency"]]
    return cols


@functools.lru_cache(maxsize=16)
def _days(path: str, mtime: float) -> tuple[list[str], dict[str, tuple[str, dict]]]:
    """(sorted dates, {date: (rate_currency, {currency: (rate, source)})}) of the table."""
    cols = _rows(path, mtime)
    days: dict[str, tuple[str, dict]] = {}
    for d, cur, rate, num, src in zip(cols["date"], cols["currency"], cols["rate"],
                                      cols["rate_currency"], cols["source"], strict=True):
        days.setdefault(d, (num, {}))[1][cur] = (rate, src)
    return sorted(days), days


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: float):
    df = frame_from_rows(_rows(path, mtime), FX_SCHEMA, path)
    return df.sort_values(["date", "currency"], kind="stable").reset_index(drop=True)


def fx_rates(path: StrPath | None = None) -> Frame:
    """The exchange-rate table as a DataFrame (a copy).

    Columns: ``date`` (YYYY-MM-DD), ``currency``, ``rate`` [units of
    ``rate_currency`` per unit of ``currency``], ``rate_currency``, ``source``.

    Parameters
    ----------
    path : str or Path, optional
        Your own exchange-rate table (the columns of ``data/fx.csv``); default costkit's.

    Returns
    -------
    DataFrame
        The exchange-rate table as a DataFrame (a copy).

    Examples
    --------
    >>> r = fx_rates()
    >>> set(r["rate_currency"]) == {"CNY"}, "USD" in set(r["currency"])
    (True, True)
    """
    return _load(*_stamp(path or bundled_path("fx.csv"))).copy()


def fx_rate(from_currency: str, to_currency: str, *, date: str | None = None,
            path: StrPath | None = None) -> FxRate:
    """Exchange rate from one currency to another on (or before) ``date``.

    Parameters
    ----------
    from_currency, to_currency : str
        ISO codes such as ``"USD"``, ``"EUR"``, ``"CNY"``.
    date : str, optional
        ``YYYY-MM-DD``; the newest table date on or before it is used.
        Default: the newest date in the table.
    path : optional
        Your own table with the same columns.

    Returns
    -------
    FxRate
        Exchange rate from one currency to another on (or before) ``date``.

    Examples
    --------
    >>> r = fx_rate("USD", "CNY", date="2024-12-31")
    >>> r.rate, r.date
    (7.1884, '2024-12-31')
    """
    return _rate(str(from_currency).upper(), str(to_currency).upper(),
                 None if date is None else str(date), _stamp(path or bundled_path("fx.csv")))


@functools.lru_cache(maxsize=256)
def _rate(src: str, dst: str, date: str | None, table_stamp) -> FxRate:
    dates, days = _days(*table_stamp)
    known = sorted({c for num, day in days.values() for c in (num, *day)})
    for c in (src, dst):
        if c not in known:
            raise UnknownNameError(f"unknown currency {c!r}." + suggest(c, known))
    if date is not None:
        import datetime

        try:
            datetime.date.fromisoformat(str(date))
        except ValueError:
            raise ValueError(f"date must be written YYYY-MM-DD, got {date!r}") from None
        first = dates[0]
        dates = [d for d in dates if d <= str(date)]
        if not dates:
            raise LookupError(f"no exchange rates on or before {date}; the table starts "
                              f"{first}")
    if src == dst:
        return FxRate(src, dst, 1.0, dates[-1], (), date)
    for d in reversed(dates):
        num, day = days[d]
        value = {num: 1.0, **{c: r for c, (r, _) in day.items()}}
        if src in value and dst in value:
            srcs = tuple(day[c][1] for c in sorted({src, dst}) if c != num and c in day)
            return FxRate(src, dst, value[src] / value[dst], d, srcs, date)
    raise LookupError(f"no date in the table quotes both {src} and {dst}")


def convert(amount: Floats, from_currency: str, to_currency: str, *, date: str | None = None,
            path: StrPath | None = None) -> Floats:
    """Convert ``amount`` (scalar, array or Series) between currencies.

    Amounts must be finite and >= 0 (costs, not balances).

    Parameters
    ----------
    amount : numeric
        Amount in ``from_currency`` (scalar, array or Series). [currency]
    from_currency : str
        Currency of ``amount`` (ISO code).
    to_currency : str
        Currency wanted (ISO code).
    date : str, optional
        Rate date ``YYYY-MM-DD`` (the latest on or before it); default the latest.
    path : str or Path, optional
        Your own exchange-rate table (the columns of ``data/fx.csv``); default costkit's.

    Returns
    -------
    numeric
        ``amount`` in ``to_currency``, shaped like ``amount``. [currency]

    Examples
    --------
    >>> round(convert(100.0, "USD", "EUR", date="2024-12-31"), 2)
    95.52
    """
    from ._checks import as_quantity, wrap_like  # here: a rate look-up needs no numpy

    values = as_quantity("amount", amount)
    rate = fx_rate(from_currency, to_currency, date=date, path=path).rate
    return wrap_like(values * rate, amount)


def _iso_code(currency) -> str:
    """``currency`` as an upper-case ISO 4217 code; anything else is refused."""
    code = str(currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"currency must be an ISO 4217 code such as 'USD' or 'CNY', got "
                         f"{currency!r}")
    return code


def in_currency(frame: Frame, currency: str, *, date: str | None = None,
                path: StrPath | None = None) -> Frame:
    """A copy of ``frame`` with its USD columns converted to ``currency`` and renamed.

    Every column named as money in US dollars (:data:`USD_COLUMN`: ``npv_usd``,
    ``usd_per_gpu_hour``) is multiplied by the rate of ``date`` and renamed for
    ``currency`` (``npv_cny``, ``cny_per_gpu_hour``); other columns are kept. The
    rate used is in ``.attrs["fx"]``, so it can be printed beside the table.

    Parameters
    ----------
    frame : DataFrame
        A table of costkit results (``estimate(...).to_frame()``, a comparison).
    currency : str
        ISO code of the currency wanted (``"CNY"``).
    date : str, optional
        Rate date ``YYYY-MM-DD`` (the newest on or before it); default the newest.
    path : str or Path, optional
        Your own exchange-rate table.

    Returns
    -------
    DataFrame
        The converted copy, with ``attrs["fx"]`` the :class:`FxRate` text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = in_currency(pd.DataFrame({"npv_usd": [100.0], "roi": [0.5]}), "CNY",
    ...                 date="2024-12-31")
    >>> t
       npv_cny  roi
    0   718.84  0.5
    >>> t.attrs["fx"]
    '1 USD = 7.1884 CNY (rate of 2024-12-31)'
    """
    rate = fx_rate("USD", currency, date=date, path=path)
    out = frame.copy()
    cur = rate.to_currency.lower()
    names = {}
    for c in out.columns:
        if USD_COLUMN.search(str(c)):
            out[c] = out[c] * rate.rate
            names[c] = USD_COLUMN.sub(rf"\g<1>{cur}\g<2>", str(c))
    out = out.rename(columns=names)
    out.attrs["fx"] = str(rate)
    return out
