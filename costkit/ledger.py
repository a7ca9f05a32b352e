r"""The four-part cost ledger: ``C = C_train + C_run + C_opt + C_tune``.

Each phase's cost is a sum of line items, and each line item is

.. math::  \text{cost} = \text{quantity}\,[u] \times \text{unit price}\,[\text{currency}/u]

with the unit *u* of the quantity cancelling the unit of the price (hours
against USD per hour, GB-months against USD per GB-month), or a fixed amount
of money. Resources such as storage are therefore priced
(GB x USD per GB-month x months), never added raw to money: an item whose
units do not cancel is rejected with :class:`~costkit.units.UnitError`.

The origin documents of this project wrote each phase as
``T x rate + resources`` and added gigabytes to dollars. :func:`naive_phase_total`
reproduces that formula so the notebooks can show where it goes wrong;
:func:`phase_cost` is the correct, vectorised version, and :class:`Ledger`
keeps itemised accounts with totals by phase, a DataFrame view and currency
conversion.

Phases are ``"train"``, ``"run"`` (serving, monitoring), ``"opt"``
(optimisation: quantisation, distillation ...) and ``"tune"`` (hyperparameter
search, fine-tuning, A/B tests); ``"training"``, ``"serving"``,
``"optimisation"`` and ``"tuning"`` are accepted too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costkit._checks import as_quantity, wrap_like
from costkit.units import UnitError, conversion_factor, parse_price_unit, parse_unit

__all__ = [
    "ORIGIN_EXAMPLE",
    "PHASES",
    "PHASE_LABELS",
    "S3_STANDARD_USD_PER_GB_MONTH",
    "Ledger",
    "LineItem",
    "four_part_ledger",
    "naive_phase_total",
    "phase_cost",
]

PHASES = ("train", "run", "opt", "tune")
"""The four phases of the cost model, in order."""

PHASE_LABELS = {"train": "C_train", "run": "C_run", "opt": "C_opt", "tune": "C_tune"}

_PHASE_ALIASES = {
    "training": "train", "serving": "run", "inference": "run", "running": "run",
    "optimisation": "opt", "optimization": "opt", "optimise": "opt", "optimize": "opt",
    "tuning": "tune",
}  # fmt: skip

S3_STANDARD_USD_PER_GB_MONTH = 0.023
"""Default storage price: Amazon S3 Standard, first 50 TB, us-east-1. [USD/GB-month]

Source: aws.amazon.com/s3/pricing (list price unchanged since December 2016;
checked against the price page as quoted in 2022-2026 material).
"""

ORIGIN_EXAMPLE = {
    "hours": {"train": 1.0, "run": 0.1, "opt": 0.05, "tune": 0.2},
    "usd_per_hour": {"train": 1.0, "run": 0.5, "opt": 0.2, "tune": 0.1},
    "storage_gb": {"train": 100.0, "run": 50.0, "opt": 20.0, "tune": 30.0},
}
"""The worked example of the origin document: time [h], rate [USD/h], storage [GB].

The origin wrote its rates as "1/h" without a currency; costkit reads them
as USD per hour.
"""


def _phase(phase: str) -> str:
    p = str(phase).strip().lower()
    p = _PHASE_ALIASES.get(p, p)
    if p not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; use one of {', '.join(PHASES)}")
    return p


def phase_cost(hours, usd_per_hour, storage_gb=0.0, usd_per_gb_month=0.0, storage_months=0.0):
    r"""Cost of one phase: compute time plus priced storage. [USD]

    .. math::  C = T\,r + S\,p_S\,m

    Parameters
    ----------
    hours : numeric
        Compute time T of the phase. [h]
    usd_per_hour : numeric
        Rate r for that time (per machine or per GPU, as ``hours`` counts). [USD/h]
    storage_gb : numeric
        Data kept for the phase, S. [GB]
    usd_per_gb_month : numeric
        Storage price p_S. [USD/(GB*month)]
    storage_months : numeric
        How long the data is kept, m. [month]

    Returns
    -------
    cost_usd : float or ndarray
        Broadcast over all inputs. [USD]

    Examples
    --------
    One hour at 1 USD/h plus 100 GB kept for a month at 0.023 USD/GB-month:

    >>> round(phase_cost(1, 1, 100, 0.023, 1), 2)
    3.3
    """
    t = as_quantity("hours", hours)
    r = as_quantity("usd_per_hour", usd_per_hour)
    s = as_quantity("storage_gb", storage_gb)
    p = as_quantity("usd_per_gb_month", usd_per_gb_month)
    m = as_quantity("storage_months", storage_months)
    return wrap_like(t * r + s * p * m, hours, usd_per_hour, storage_gb)


def naive_phase_total(hours, usd_per_hour, storage_gb):
    """The origin document's formula ``T x rate + resources``. [no unit: wrong on purpose]

    It adds gigabytes to dollars, so the result is not money: 1 h at 1 USD/h
    plus 100 GB gives "101", a number that changes if the storage is written
    in TB (1.1) or MB (100001). It is here only so that the notebooks can show
    the mistake next to :func:`phase_cost`; never use it to budget.

    Examples
    --------
    >>> naive_phase_total(1, 1, 100)
    101.0
    """
    t = as_quantity("hours", hours)
    r = as_quantity("usd_per_hour", usd_per_hour)
    s = as_quantity("storage_gb", storage_gb)
    return wrap_like(t * r + s, hours, usd_per_hour, storage_gb)


@dataclass(frozen=True)
class LineItem:
    """One line of the ledger.

    ``amount`` is in ``currency`` (the price's currency); fixed amounts have
    ``quantity`` None.
    """

    phase: str
    name: str
    category: str
    quantity: float | None
    unit: str
    unit_price: float | None
    price_unit: str
    amount: float
    currency: str
    note: str = ""


class Ledger:
    """Itemised costs of a model's life, by phase, in one reporting currency.

    Parameters
    ----------
    currency : str
        Reporting currency of totals (ISO code). Items priced in another
        currency are converted at the exchange rate of ``fx_date``.
    fx_date : str, optional
        ``YYYY-MM-DD`` of the exchange rates used; default: the newest date in
        the rate table (see :mod:`costkit.fx`).
    fx_path : optional
        Your own exchange-rate table.
    title : str
        A name for the ledger, shown in its repr.

    Examples
    --------
    >>> led = Ledger()
    >>> _ = led.add("train", "GPU time", 8, "GPU-hour", 2.5, "USD/GPU-hour")
    >>> _ = led.add_storage("train", "checkpoints", storage_gb=100, usd_per_gb_month=0.023,
    ...                     months=3)
    >>> round(led.total(), 2)
    26.9
    """

    def __init__(self, currency: str = "USD", *, fx_date: str | None = None, fx_path=None,
                 title: str = ""):
        self.currency = str(currency).upper()
        self.fx_date = fx_date
        self.fx_path = fx_path
        self.title = title
        self._items: list[LineItem] = []
        if self.currency != "USD":
            self._rate(self.currency, "USD")  # fail now on an unknown currency

    # ------------------------------------------------------------------ building
    def add(self, phase: str, name: str, quantity, unit: str, unit_price, price_unit: str, *,
            category: str = "", note: str = "") -> LineItem:
        """Add ``quantity [unit] x unit_price [price_unit]``; the units must cancel.

        Raises
        ------
        UnitError
            If ``unit`` is not what ``price_unit`` is per (e.g. GB against
            USD/GB-month), or ``price_unit`` has no currency.
        ValueError
            For a negative, NaN or infinite quantity or price, or an unknown phase.
        """
        phase = _phase(phase)
        q = float(as_quantity(f"quantity of {name!r}", quantity))
        p = float(as_quantity(f"unit_price of {name!r}", unit_price))
        currency, per = parse_price_unit(price_unit)
        try:
            factor = conversion_factor(parse_unit(unit), per)
        except UnitError as exc:
            raise UnitError(f"line item {name!r}: {exc}") from None
        if not math.isfinite(q * p * factor):
            raise ValueError(f"line item {name!r}: {q:g} x {p:g} overflows to infinity; a "
                             "quantity or price is far too large")
        item = LineItem(phase, name, category, q, unit, p, price_unit, q * p * factor,
                        currency, note)
        self._check_currency(currency)
        self._items.append(item)
        return item

    def add_fixed(self, phase: str, name: str, amount, currency: str = "USD", *,
                  category: str = "", note: str = "") -> LineItem:
        """Add a fixed amount of money (a licence, a contract, a figure given as such)."""
        phase = _phase(phase)
        a = float(as_quantity(f"amount of {name!r}", amount))
        cur = str(currency)
        if not (len(cur) == 3 and cur.isalpha() and cur.isupper()):
            raise UnitError(f"line item {name!r}: {currency!r} is not a currency code; a "
                            "quantity such as GB or hours must be priced with Ledger.add")
        self._check_currency(cur)
        item = LineItem(phase, name, category, None, "", None, "", a, cur, note)
        self._items.append(item)
        return item

    def add_storage(self, phase: str, name: str, *, storage_gb, usd_per_gb_month, months,
                    category: str = "storage", note: str = "") -> LineItem:
        """Add storage: ``storage_gb`` [GB] x ``months`` [month] x ``usd_per_gb_month``."""
        gb = float(as_quantity(f"storage_gb of {name!r}", storage_gb))
        mo = float(as_quantity(f"months of {name!r}", months))
        note = note or f"{gb:g} GB kept {mo:g} month(s)"
        return self.add(phase, name, gb * mo, "GB-month", usd_per_gb_month, "USD/GB-month",
                        category=category, note=note)

    def add_compute(self, phase: str, name: str, *, hours, usd_per_hour, unit: str = "hour",
                    category: str = "compute", note: str = "") -> LineItem:
        """Add compute time: ``hours`` [unit] x ``usd_per_hour`` [USD/unit].

        ``unit="GPU-hour"`` when the rate is per GPU-hour and ``hours`` counts
        GPU-hours (GPUs x wall-clock hours).
        """
        return self.add(phase, name, hours, unit, usd_per_hour, f"USD/{unit}",
                        category=category, note=note)

    def extend(self, other: Ledger) -> Ledger:
        """Append every item of ``other`` (e.g. a ledger built by another module)."""
        for it in other.items:
            self._check_currency(it.currency)
            self._items.append(it)
        return self

    # ------------------------------------------------------------------ reading
    @property
    def items(self) -> tuple[LineItem, ...]:
        return tuple(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def _rate(self, src: str, dst: str) -> float:
        if src == dst:
            return 1.0
        from costkit.fx import fx_rate

        return fx_rate(src, dst, date=self.fx_date, path=self.fx_path).rate

    def _check_currency(self, currency: str):
        if currency != self.currency:
            self._rate(currency, self.currency)

    def to_frame(self, currency: str | None = None):
        """The items as a DataFrame, with the cost in ``currency`` (default: the ledger's).

        Columns: ``phase``, ``name``, ``category``, ``quantity``, ``unit``,
        ``unit_price``, ``price_unit``, ``amount``, ``currency``,
        ``cost`` (in the reporting currency), ``note``.
        """
        import pandas as pd

        cur = (currency or self.currency).upper()
        rows = []
        for it in self._items:
            rows.append({
                "phase": it.phase, "name": it.name, "category": it.category,
                "quantity": it.quantity, "unit": it.unit, "unit_price": it.unit_price,
                "price_unit": it.price_unit, "amount": it.amount, "currency": it.currency,
                f"cost_{cur.lower()}": it.amount * self._rate(it.currency, cur), "note": it.note,
            })  # fmt: skip
        cols = ["phase", "name", "category", "quantity", "unit", "unit_price", "price_unit",
                "amount", "currency", f"cost_{cur.lower()}", "note"]
        return pd.DataFrame(rows, columns=cols)

    def by_phase(self, currency: str | None = None):
        """Cost per phase (all four, zero where empty) as a Series. [currency]"""
        import pandas as pd

        cur = (currency or self.currency).upper()
        totals = dict.fromkeys(PHASES, 0.0)
        for it in self._items:
            totals[it.phase] += it.amount * self._rate(it.currency, cur)
        return pd.Series(totals, name=f"cost_{cur.lower()}")

    def total(self, currency: str | None = None) -> float:
        """Total cost, the sum over all items. [currency]"""
        cur = (currency or self.currency).upper()
        total = float(sum(it.amount * self._rate(it.currency, cur) for it in self._items))
        if not math.isfinite(total):
            raise ValueError(f"the ledger's total overflows to infinity in {cur}; an item is far "
                             "too large")
        return total

    @property
    def assumptions(self) -> dict:
        """What the totals rest on: currency, exchange rates, unit conventions."""
        from costkit.units import HOURS_PER_MONTH

        out = {"currency": self.currency, "hours_per_month": HOURS_PER_MONTH}
        foreign = sorted({it.currency for it in self._items} - {self.currency})
        if foreign:
            from costkit.fx import fx_rate

            out["fx"] = [str(fx_rate(c, self.currency, date=self.fx_date, path=self.fx_path))
                         for c in foreign]
        return out

    def __repr__(self) -> str:
        head = f"Ledger{' ' + repr(self.title) if self.title else ''} ({len(self)} items, " \
               f"{self.currency})"
        lines = [head]
        by = self.by_phase()
        for ph in PHASES:
            lines.append(f"  {PHASE_LABELS[ph]:<8} {by[ph]:>14,.2f} {self.currency}")
        lines.append(f"  {'C':<8} {by.sum():>14,.2f} {self.currency}")
        return "\n".join(lines)


def four_part_ledger(hours, usd_per_hour, storage_gb, *,
                     usd_per_gb_month: float = S3_STANDARD_USD_PER_GB_MONTH,
                     storage_months: float = 1.0, title: str = "") -> Ledger:
    """Build the four-part ledger from per-phase time, rate and storage.

    Parameters
    ----------
    hours, usd_per_hour, storage_gb : mapping phase -> number
        Compute time [h], its rate [USD/h] and the data kept [GB] for each of
        ``"train"``, ``"run"``, ``"opt"``, ``"tune"`` (a missing phase is 0).
    usd_per_gb_month : float
        Storage price; default S3 Standard, 0.023 USD/GB-month. [USD/(GB*month)]
    storage_months : float
        How long each phase's data is kept; default one month. [month]

    Examples
    --------
    The origin document's example, storage priced at the defaults:

    >>> led = four_part_ledger(**ORIGIN_EXAMPLE)
    >>> round(led.total(), 2)
    5.68
    """
    led = Ledger(title=title)

    def by_phase(mapping, what):
        if not hasattr(mapping, "items"):
            raise TypeError(f"{what} must map phase names to numbers, got {mapping!r}")
        out = {}
        for k, v in mapping.items():
            ph = _phase(k)
            if ph in out:
                raise ValueError(f"{what} gives phase {ph!r} twice (as {k!r} and another name)")
            out[ph] = v
        return out

    hours = by_phase(hours, "hours")
    usd_per_hour = by_phase(usd_per_hour, "usd_per_hour")
    storage_gb = by_phase(storage_gb, "storage_gb")
    for ph in PHASES:
        t = hours.get(ph, 0.0)
        r = usd_per_hour.get(ph, 0.0)
        led.add_compute(ph, f"{ph} compute", hours=t, usd_per_hour=r,
                        note=f"{t:g} h at {r:g} USD/h")
        led.add_storage(ph, f"{ph} storage", storage_gb=storage_gb.get(ph, 0.0),
                        usd_per_gb_month=usd_per_gb_month, months=storage_months)
    return led
