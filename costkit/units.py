"""Units of the quantities that appear on a bill, and the checks that keep them apart.

A cost line is ``quantity [unit] x unit price [currency / unit]``.  The product
is money only when the unit of the quantity cancels the unit in the price's
denominator.  :func:`parse_unit` turns strings such as ``"GPU-hour"``,
``"GB-month"`` or ``"1M tokens"`` into a :class:`Unit` (a scale and a set of
dimensions); :func:`parse_price_unit` reads ``"USD/GPU-hour"`` or
``"EUR per GB-month"``; :func:`conversion_factor` says how many price units one
quantity unit is, or raises :class:`UnitError` naming the dimensions that do
not cancel (the classic case: gigabytes priced per GB-month with no months).

Dimensions and their base units:

=========  ================  ==================================================
dimension  base unit         also understood
=========  ================  ==================================================
time       hour              ms, s, min, day, week, month (730 h), year (8760 h)
data       GB (10^9 bytes)   byte, kB, MB, TB, PB, KiB, MiB, GiB, TiB; bits: Gb, Gbit
energy     kWh               Wh, MWh
counts     the word itself   GPU, request, query, token, user, engineer, ...
=========  ================  ==================================================

Assumptions: a month is 730 hours (8760 / 12), the convention of cloud price
lists; a year is 8760 hours. Data sizes follow SI symbols with their case:
``GB`` is gigabytes and ``Gb`` / ``Gbit`` gigabits (1/8 of a GB); an all
lower-case ``gb`` could be either, so it is refused. Rates (``Gbps``) are not
supported.
Any other word is taken as a count of that thing (plural ``s`` dropped), so
``"seat-month"`` or ``"engineer-day"`` work; a misspelt word still cannot be
mixed with the correctly spelt one, because the dimensions then differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DAYS_PER_MONTH",
    "HOURS_PER_MONTH",
    "HOURS_PER_YEAR",
    "Unit",
    "UnitError",
    "conversion_factor",
    "parse_price_unit",
    "parse_unit",
]

HOURS_PER_MONTH = 730.0
"""Hours in a billing month (8760 h / 12), as cloud price lists use. [h]"""
HOURS_PER_YEAR = 8760.0
"""Hours in a (non-leap) year. [h]"""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
"""Days in a billing month (730 h / 24 = 30.42): a daily figure times this is a month's. [day]"""


class UnitError(ValueError):
    """A quantity's unit does not match the unit its price is quoted in."""


_TIME = {
    "ms": 1 / 3_600_000, "millisecond": 1 / 3_600_000,
    "s": 1 / 3600, "sec": 1 / 3600, "second": 1 / 3600,
    "min": 1 / 60, "minute": 1 / 60,
    "h": 1.0, "hr": 1.0, "hour": 1.0,
    "day": 24.0, "week": 168.0,
    "month": HOURS_PER_MONTH, "mo": HOURS_PER_MONTH,
    "year": HOURS_PER_YEAR, "yr": HOURS_PER_YEAR,
}  # fmt: skip
_DATA = {
    "byte": 1e-9, "kb": 1e-6, "mb": 1e-3, "gb": 1.0, "tb": 1e3, "pb": 1e6,
    "kib": 2**10 / 1e9, "mib": 2**20 / 1e9, "gib": 2**30 / 1e9, "tib": 2**40 / 1e9,
}  # fmt: skip
_ENERGY = {"wh": 1e-3, "kwh": 1.0, "mwh": 1e3}
_DIMENSIONLESS = {"unit", "each", "ea", "item_count"}
_BITS = {"b", "bit", "kbit", "mbit", "gbit", "tbit"}
_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9}
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)([kmbg]?)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Unit:
    """A parsed unit: ``scale`` base units, with dimension exponents ``dims``.

    ``Unit("GB-month")`` is scale 730 (GB x hours) with dims (data 1, time 1).
    """

    text: str
    scale: float
    dims: tuple[tuple[str, int], ...]

    def describe_dims(self) -> str:
        """The unit's dimensions in words: ``"time^-1 x usd"`` for USD/hour, or a pure number.

        Returns
        -------
        str
            The unit's dimensions in words: ``"time^-1 x usd"`` for USD/hour, or a pure
            number.

        Examples
        --------
        >>> parse_unit("USD/GPU-hour").describe_dims(), parse_unit("1k").describe_dims()
        ('gpu^-1 x time^-1 x usd', 'a pure number')
        """
        if not self.dims:
            return "a pure number"
        return " x ".join(d if e == 1 else f"{d}^{e}" for d, e in self.dims)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


_PREFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BIT_SYMBOL = re.compile(r"^([kKMGTP])(?:b|bit)$")
_BYTE_SYMBOL = re.compile(r"^([kKMGTP])B$")
_AMBIGUOUS_B = re.compile(r"^[kmgtp]b$")


def _data_symbol(token: str):
    """Bytes (``GB``), bits (``Gb``, ``Gbit``: 1/8 of a byte) or an ambiguous case (``gb``)."""
    m = _BIT_SYMBOL.match(token)
    if m:
        return _PREFIX[m.group(1)] / 8 / 1e9, {"data": 1}
    if _AMBIGUOUS_B.match(token):
        raise UnitError(f"unit {token!r}: bytes or bits? write {token.upper()} for bytes or "
                        f"{token[0].upper()}b / {token[0].upper()}bit for bits")
    return None


def _factor(token: str) -> tuple[float, dict[str, int]]:
    symbol = _data_symbol(token)
    if symbol is not None:
        return symbol
    low = token.lower()
    m = _NUMBER.match(low.replace(",", ""))
    if m:
        return float(m.group(1)) * _SUFFIX[m.group(2)], {}
    for word in (low, _singular(low)):
        if word in _TIME:
            return _TIME[word], {"time": 1}
        if word in _DATA:
            return _DATA[word], {"data": 1}
        if word in _ENERGY:
            return _ENERGY[word], {"energy": 1}
        if word in _DIMENSIONLESS:
            return 1.0, {}
    if low == "bit":
        return 1e-9 / 8, {"data": 1}
    if low in _BITS or low.endswith("bit") or low.endswith("bps"):
        raise UnitError(f"unit {token!r}: write bits as kbit, Mbit, Gbit or Tbit (or bytes as "
                        "GB); rates per second are not supported")
    if not re.match(r"^[a-z][a-z0-9_']*$", low):
        raise UnitError(f"cannot read unit word {token!r}")
    return 1.0, {_singular(low.replace("'", "")): 1}


def parse_unit(text: str) -> Unit:
    """Parse a unit such as ``"GPU-hour"``, ``"GB*month"`` or ``"1M tokens"``.

    Factors are separated by ``-``, ``*``, ``·`` or
    spaces; ``/`` divides. Parentheses are ignored (``"(GB*month)"``).

    Parameters
    ----------
    text : str
        A unit as written: ``"GB-month"``, ``"USD/GPU-hour"``, ``"1k requests"``.

    Returns
    -------
    Unit
        The unit: its scale and its dimensions.

    Examples
    --------
    >>> u = parse_unit("GB-month")
    >>> u.scale, u.dims
    (730.0, (('data', 1), ('time', 1)))
    >>> parse_unit("1M tokens").scale
    1000000.0
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError(f"a unit must be a non-empty string, got {text!r}")
    body = text.strip().replace("(", " ").replace(")", " ")
    parts = body.split("/")
    scale = 1.0
    dims: dict[str, int] = {}
    for i, part in enumerate(parts):
        sign = 1 if i == 0 else -1
        tokens = [t for t in re.split(r"[\s*·\-]+", part.strip()) if t]
        if not tokens:
            raise UnitError(f"cannot read unit {text!r}")
        for tok in tokens:
            f, d = _factor(tok)
            scale *= f**sign
            for k, e in d.items():
                dims[k] = dims.get(k, 0) + sign * e
    clean = tuple(sorted((k, e) for k, e in dims.items() if e != 0))
    return Unit(text=text.strip(), scale=scale, dims=clean)


def parse_price_unit(text: str) -> tuple[str, Unit]:
    """Split a price unit such as ``"USD/GPU-hour"`` into currency and per-unit.

    ``"USD per GB-month"`` and ``"EUR/(GB*month)"`` are accepted. The currency
    is a three-letter upper-case ISO code.

    Parameters
    ----------
    text : str
        A price unit: ``"USD/GPU-hour"``, ``"CNY per 1k tokens"``.

    Returns
    -------
    tuple of (str, Unit)
        The currency and the unit the price is per.

    Examples
    --------
    >>> cur, per = parse_price_unit("USD per GPU-hour")
    >>> cur, per.dims
    ('USD', (('gpu', 1), ('time', 1)))
    """
    if not isinstance(text, str):
        raise UnitError(f"a price unit must be a string such as 'USD/h', got {text!r}")
    m = re.match(r"^\s*([A-Za-z]{2,4})\s*(?:/|\bper\b)\s*(.+)$", text)
    if not m:
        raise UnitError(
            f"cannot read price unit {text!r}: write it as CURRENCY/unit, e.g. 'USD/GPU-hour'"
        )
    currency, rest = m.group(1), m.group(2)
    if not _CURRENCY.match(currency):
        raise UnitError(
            f"price unit {text!r}: {currency!r} is not a currency code (three capital "
            "letters such as USD, EUR, CNY); a quantity such as GB has to be priced, "
            "not used as money"
        )
    return currency, parse_unit(rest)


def conversion_factor(quantity_unit: Unit | str, price_per_unit: Unit | str) -> float:
    """How many price units one quantity unit is worth; raise if they differ.

    ``cost = quantity x unit_price x conversion_factor(q_unit, p_unit)``.

    Parameters
    ----------
    quantity_unit : Unit or str
        Unit of the quantity (``"min"``, ``"GB-month"``).
    price_per_unit : Unit or str
        Unit the price is per (``"hour"``, ``"GB-month"``).

    Returns
    -------
    float
        Price units per quantity unit. [unitless]

    Raises
    ------
    UnitError
        When the dimensions do not cancel; the message names what is missing.

    Examples
    --------
    >>> conversion_factor("min", "hour")   # 1 minute is 1/60 of an hour
    0.016666666666666666
    """
    q = parse_unit(quantity_unit) if isinstance(quantity_unit, str) else quantity_unit
    p = parse_unit(price_per_unit) if isinstance(price_per_unit, str) else price_per_unit
    if q.dims != p.dims:
        qd, pd_ = dict(q.dims), dict(p.dims)
        missing = [k for k in pd_ if qd.get(k, 0) != pd_[k]]
        extra = [k for k in qd if pd_.get(k, 0) != qd[k]]
        msg = (
            f"the quantity is in {q.text!r} ({q.describe_dims()}) but the price is per "
            f"{p.text!r} ({p.describe_dims()})"
        )
        if missing:
            msg += f"; the quantity lacks {', '.join(missing)}"
        if extra:
            msg += f"; the quantity has {', '.join(extra)} that the price does not"
        if "time" in missing and "data" in pd_:
            msg += (
                ": storage is billed per GB per unit of time, so multiply the gigabytes "
                "by how long they are kept (Ledger.add_storage does this)"
            )
        raise UnitError(msg)
    return q.scale / p.scale
