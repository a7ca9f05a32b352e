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

The ledger is two-dimensional: each item also has a **category**, the origin's
six (:data:`CATEGORIES`: hardware, software, data, labour, operations, time)
or a name of your own. :meth:`Ledger.by_category` and
:meth:`Ledger.by_phase_category` total it that way. ``time`` is the cost of
delay (:meth:`Ledger.add_cost_of_delay`): gain forgone while the model is not
live, an opportunity cost rather than a payment, so :meth:`Ledger.cash_total`
leaves it out and an ROI case refuses it (its timeline already forgoes the
months before launch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from costkit._checks import as_fraction, as_quantity, wrap_like
from costkit.units import UnitError, conversion_factor, parse_price_unit, parse_unit

if TYPE_CHECKING:
    from ._typing import Floats, Frame, Series

__all__ = [
    "CATEGORIES",
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


CATEGORIES = ("hardware", "software", "data", "labour", "operations", "time")
"""The origin's six cost categories, in order. Other category names are allowed.

hardware: GPUs and servers, bought or rented by the hour (compute); software:
licences and subscriptions; data: acquisition, labelling, storage; labour:
people's time (engineer-days); operations: energy, monitoring, upkeep; time:
the cost of delay (an opportunity cost, not a payment).
"""

OPPORTUNITY_CATEGORY = "time"
"""The category that is forgone gain rather than money paid (see :meth:`Ledger.cash_total`)."""

_CATEGORY_ALIASES = {
    "labor": "labour", "people": "labour", "staff": "labour", "personnel": "labour",
    "licence": "software", "license": "software", "licences": "software",
    "licenses": "software", "subscription": "software", "subscriptions": "software",
    "delay": "time", "cost of delay": "time", "ops": "operations",
}  # fmt: skip

MAX_CATEGORY_CHARS = 40


def _category(category) -> str:
    """A category name, lower case and trimmed; aliases (labor, people, licence ...) resolved.

    An empty category is ``"other"``; a name one typo away from a standard
    category is refused with the closest names, so that "hardwre" does not open
    a seventh column.
    """
    if not isinstance(category, str):
        raise TypeError(f"category must be a string, got {type(category).__name__}")
    c = " ".join(category.strip().lower().split())
    if not c:
        return "other"
    if len(c) > MAX_CATEGORY_CHARS or not c.isprintable():
        raise ValueError(f"category {category[:MAX_CATEGORY_CHARS]!r}...: a category is a "
                         f"short printable name (at most {MAX_CATEGORY_CHARS} characters)")
    c = _CATEGORY_ALIASES.get(c, c)
    if c not in CATEGORIES and c != "other":
        import difflib

        close = difflib.get_close_matches(c, CATEGORIES, n=2, cutoff=0.75)
        if close:
            raise ValueError(f"unknown category {category!r}: did you mean "
                             f"{' or '.join(repr(x) for x in close)}? (the six are "
                             f"{', '.join(CATEGORIES)}; a name of your own must not be one "
                             "typo away from them)")
    return c


def _phase(phase: str) -> str:
    p = str(phase).strip().lower()
    p = _PHASE_ALIASES.get(p, p)
    if p not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; use one of {', '.join(PHASES)}")
    return p


def phase_cost(hours: Floats, usd_per_hour: Floats, storage_gb: Floats = 0.0,
               usd_per_gb_month: Floats = 0.0, storage_months: Floats = 0.0) -> Floats:
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
    float or ndarray
        Cost of the phase, broadcast over all inputs. [USD]

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


def naive_phase_total(hours: Floats, usd_per_hour: Floats, storage_gb: Floats) -> Floats:
    """The origin document's formula ``T x rate + resources``. [no unit: wrong on purpose]

    It adds gigabytes to dollars, so the result is not money: 1 h at 1 USD/h
    plus 100 GB gives "101", a number that changes if the storage is written
    in TB (1.1) or MB (100001). It is here only so that the notebooks can show
    the mistake next to :func:`phase_cost`; never use it to budget.

    Parameters
    ----------
    hours : numeric
        Time of the phase. [h]
    usd_per_hour : numeric
        Price per hour. [USD/h]
    storage_gb : numeric
        Storage, added as if it were money (the mistake shown). [GB]

    Returns
    -------
    numeric
        The origin document's formula ``T x rate + resources``. [no unit: wrong on purpose]

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
    def add(self, phase: str, name: str, quantity: float, unit: str, unit_price: float,
            price_unit: str, *, category: str = "", note: str = "") -> LineItem:
        """Add ``quantity [unit] x unit_price [price_unit]``; the units must cancel.

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What the line is ("fine-tune on 8 x H100").
        quantity : float
            How much, in ``unit``.
        unit : str
            Unit of ``quantity`` (``GPU-hour``, ``GB-month``, ``1k requests``).
        unit_price : float
            Price per ``price_unit``.
        price_unit : str
            Unit of the price, money per something (``USD/GPU-hour``); it must cancel
            ``unit``.
        category : str, default ''
            Cost category: ``hardware``, ``software``, ``data``, ``labour``,
            ``operations``, ``time`` or your own.
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Raises
        ------
        UnitError
            If ``unit`` is not what ``price_unit`` is per (e.g. GB against
            USD/GB-month), or ``price_unit`` has no currency.
        ValueError
            For a negative, NaN or infinite quantity or price, or an unknown phase.

        Examples
        --------
        >>> led = Ledger()
        >>> item = led.add("train", "fine-tune", 16, "GPU-hour", 2.5, "USD/GPU-hour")
        >>> item.amount, item.currency
        (40.0, 'USD')
        """
        phase, category = _phase(phase), _category(category)
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

    def add_fixed(self, phase: str, name: str, amount: float, currency: str = "USD", *,
                  category: str = "", note: str = "") -> LineItem:
        """Add a fixed amount of money (a licence, a contract, a figure given as such).

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What the line is ("annual licence").
        amount : float
            The amount. [currency]
        currency : str, default 'USD'
            Currency of the amount (an ISO code in ``data/fx.csv``).
        category : str, default ''
            Cost category: ``hardware``, ``software``, ``data``, ``labour``,
            ``operations``, ``time`` or your own.
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Examples
        --------
        >>> led = Ledger()
        >>> led.add_fixed("run", "annual licence", 7200, "CNY", category="software").amount
        7200.0
        """
        phase, category = _phase(phase), _category(category)
        a = float(as_quantity(f"amount of {name!r}", amount))
        cur = str(currency)
        if not (len(cur) == 3 and cur.isalpha() and cur.isupper()):
            raise UnitError(f"line item {name!r}: {currency!r} is not a currency code; a "
                            "quantity such as GB or hours must be priced with Ledger.add")
        self._check_currency(cur)
        item = LineItem(phase, name, category, None, "", None, "", a, cur, note)
        self._items.append(item)
        return item

    def add_storage(self, phase: str, name: str, *, storage_gb: float, usd_per_gb_month: float,
                    months: float, category: str = "data", note: str = "") -> LineItem:
        """Add storage: ``storage_gb`` [GB] x ``months`` [month] x ``usd_per_gb_month``.

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What the line is ("checkpoints").
        storage_gb : float
            Storage kept. [GB]
        usd_per_gb_month : float
            Storage price. [USD/GB-month]
        months : float
            Months it is kept. [month]
        category : str, default 'data'
            Cost category: ``hardware``, ``software``, ``data``, ``labour``,
            ``operations``, ``time`` or your own.
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Examples
        --------
        >>> led = Ledger()
        >>> item = led.add_storage("train", "checkpoints", storage_gb=200, usd_per_gb_month=0.023,
        ...                       months=3)
        >>> round(item.amount, 2)
        13.8
        """
        gb = float(as_quantity(f"storage_gb of {name!r}", storage_gb))
        mo = float(as_quantity(f"months of {name!r}", months))
        note = note or f"{gb:g} GB kept {mo:g} month(s)"
        return self.add(phase, name, gb * mo, "GB-month", usd_per_gb_month, "USD/GB-month",
                        category=category, note=note)

    def add_compute(self, phase: str, name: str, *, hours: float, usd_per_hour: float,
                    unit: str = "hour", category: str = "hardware", note: str = "") -> LineItem:
        """Add compute time: ``hours`` [unit] x ``usd_per_hour`` [USD/unit] (hardware).

        ``unit="GPU-hour"`` when the rate is per GPU-hour and ``hours`` counts
        GPU-hours (GPUs x wall-clock hours).

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What the line is ("re-ranker replicas").
        hours : float
            Time, in ``unit``. [unit]
        usd_per_hour : float
            Price per ``unit``. [USD/unit]
        unit : str, default 'hour'
            Unit of time (``hour``, ``GPU-hour``, ``replica-hour``).
        category : str, default 'hardware'
            Cost category: ``hardware``, ``software``, ``data``, ``labour``,
            ``operations``, ``time`` or your own.
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Examples
        --------
        >>> led = Ledger()
        >>> led.add_compute("run", "re-ranker replicas", hours=2 * 730, usd_per_hour=0.8).amount
        1168.0
        """
        return self.add(phase, name, hours, unit, usd_per_hour, f"USD/{unit}",
                        category=category, note=note)

    def add_labelling(self, phase: str, name: str, *, items: float, usd_per_label: float,
                      labels_per_item: float = 1.0, review_share: float = 0.0,
                      usd_per_review: float | None = None, note: str = "") -> tuple[LineItem, ...]:
        """Add data labelling (category ``data``): one line for the labels, one for the review.

        labels = items x labels_per_item [label], priced at ``usd_per_label``
        [USD/label]; reviewed labels = labels x ``review_share`` (0 to 1, the share
        checked a second time), priced at ``usd_per_review`` (default: the label
        price). Returns the items added.

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What is labelled ("query relevance pairs").
        items : float
            Items labelled. [count]
        usd_per_label : float
            Price of one label. [USD]
        labels_per_item : float, default 1.0
            Labels per item (several annotators). [count]
        review_share : float, default 0.0
            Share of labels reviewed by an expert. [unitless, 0-1]
        usd_per_review : float, optional
            Price of one review; required with ``review_share``. [USD]
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        tuple of LineItem
            The labelling line, and the review line when there is a review share.

        Examples
        --------
        10,000 pairs at 0.05 USD a label, two labels each, 10% reviewed at 0.5 USD:

        >>> led = Ledger()
        >>> [round(i.amount, 2) for i in led.add_labelling("train", "relevance pairs", items=10_000,
        ...     usd_per_label=0.05, labels_per_item=2, review_share=0.1, usd_per_review=0.5)]
        [1000.0, 1000.0]
        """
        n = float(as_quantity(f"items of {name!r}", items))
        per = float(as_quantity(f"labels_per_item of {name!r}", labels_per_item))
        share = float(as_fraction(f"review_share of {name!r}", review_share))
        labels = n * per
        out = [self.add(phase, name, labels, "label", usd_per_label, "USD/label",
                        category="data",
                        note=note or f"{n:,.0f} items x {per:g} label(s) per item")]
        if share > 0:
            price = usd_per_label if usd_per_review is None else usd_per_review
            out.append(self.add(phase, f"{name}: review", labels * share, "label", price,
                                "USD/label", category="data",
                                note=f"{share:.0%} of the labels checked again"))
        return tuple(out)

    def add_subscription(self, phase: str, name: str, *, seats: float, usd_per_seat_month: float,
                         months: float, note: str = "") -> LineItem:
        """Add software licences: ``seats`` x ``months`` [seat-month] x ``usd_per_seat_month``.

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What is licensed ("experiment tracker").
        seats : float
            Seats licensed. [count]
        usd_per_seat_month : float
            Price of a seat for a month. [USD/seat-month]
        months : float
            Months licensed. [month]
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Examples
        --------
        >>> led = Ledger()
        >>> led.add_subscription("run", "experiment tracker", seats=5, usd_per_seat_month=50,
        ...                      months=12).amount
        3000.0
        """
        n = float(as_quantity(f"seats of {name!r}", seats))
        mo = float(as_quantity(f"months of {name!r}", months))
        return self.add(phase, name, n * mo, "seat-month", usd_per_seat_month,
                        "USD/seat-month", category="software",
                        note=note or f"{n:g} seat(s) for {mo:g} month(s)")

    def add_cost_of_delay(self, phase: str, name: str, *, months: float, usd_per_month: float,
                          note: str = "") -> LineItem:
        """Add the cost of delay (category ``time``): ``months`` x the gain a month forgoes.

        ``usd_per_month`` is what one month without the model forgoes, e.g.
        :func:`costkit.roi.cost_of_delay_usd_per_month` of a case (its monthly
        gross profit at full rollout less the serving it would cost). It is an
        opportunity cost, not a payment: :meth:`cash_total` leaves it out.

        Parameters
        ----------
        phase : str
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str
            What the delay is ("launch one month later").
        months : float
            Months of delay. [month]
        usd_per_month : float
            What a month of delay forgoes
            (:func:`costkit.roi.cost_of_delay_usd_per_month`). [USD/month]
        note : str, default ''
            Free text shown with the line (a source, an assumption).

        Returns
        -------
        LineItem
            The line added.

        Examples
        --------
        >>> led = Ledger()
        >>> led.add_cost_of_delay("opt", "launch one month later", months=1,
        ...                       usd_per_month=12_000).amount
        12000.0
        """
        return self.add(phase, name, months, "month", usd_per_month, "USD/month",
                        category=OPPORTUNITY_CATEGORY,
                        note=note or "gain forgone while the model is not live (not a payment)")

    def extend(self, other: Ledger) -> Ledger:
        """Append every item of ``other`` (e.g. a ledger built by another module).

        Parameters
        ----------
        other : Ledger
            Ledger whose lines are copied in.

        Returns
        -------
        Ledger
            This ledger, with ``other``'s lines appended.

        Examples
        --------
        >>> a, b = Ledger(), Ledger()
        >>> _ = b.add_compute("tune", "search", hours=100, usd_per_hour=2.0)
        >>> len(a.extend(b).items)
        1
        """
        for it in other.items:
            self._check_currency(it.currency)
            self._items.append(it)
        return self

    # ------------------------------------------------------------------ reading
    @property
    def items(self) -> tuple[LineItem, ...]:
        """The line items in the order they were added."""
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

    def to_frame(self, currency: str | None = None) -> Frame:
        """The items as a DataFrame, with the cost in ``currency`` (default: the ledger's).

        Columns: ``phase``, ``name``, ``category``, ``quantity``, ``unit``,
        ``unit_price``, ``price_unit``, ``amount``, ``currency``,
        ``cost`` (in the reporting currency), ``note``.

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.

        Returns
        -------
        DataFrame
            The items as a DataFrame, with the cost in ``currency`` (default: the
            ledger's).

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> led.to_frame()[["phase", "name", "quantity", "cost_usd"]]
           phase       name  quantity  cost_usd
        0  train  fine-tune      16.0      40.0
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

    def by_phase(self, currency: str | None = None) -> Series:
        """Cost per phase (all four, zero where empty) as a Series. [currency]

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.

        Returns
        -------
        Series
            Cost per phase (all four, zero where empty) as a Series. [currency]

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> led.by_phase()
        train    40.0
        run       0.0
        opt       0.0
        tune      0.0
        Name: cost_usd, dtype: float64
        """
        import pandas as pd

        cur = (currency or self.currency).upper()
        totals = dict.fromkeys(PHASES, 0.0)
        for it in self._items:
            totals[it.phase] += it.amount * self._rate(it.currency, cur)
        return pd.Series(totals, name=f"cost_{cur.lower()}")

    def by_category(self, currency: str | None = None) -> Series:
        """Cost per category as a Series.

        The six of :data:`CATEGORIES` (zero where empty), then any others in the order they
        first appear. [currency]

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.

        Returns
        -------
        Series
            Cost per category as a Series.

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> _ = led.add_fixed("run", "licence", 100, category="software")
        >>> led.by_category().loc[["hardware", "software"]]
        hardware     40.0
        software    100.0
        Name: cost_usd, dtype: float64
        """
        import pandas as pd

        cur = (currency or self.currency).upper()
        totals = dict.fromkeys(self.categories, 0.0)
        for it in self._items:
            totals[it.category] += it.amount * self._rate(it.currency, cur)
        return pd.Series(totals, name=f"cost_{cur.lower()}")

    @property
    def categories(self) -> tuple[str, ...]:
        """The six standard categories, then the others used by an item (first use first)."""
        extra = [c for c in dict.fromkeys(it.category for it in self._items)
                 if c not in CATEGORIES]
        return (*CATEGORIES, *extra)

    def by_phase_category(self, currency: str | None = None, *, totals: bool = False) -> Frame:
        """Cost by phase (rows, all four) and category (columns, see :meth:`by_category`).

        ``totals=True`` adds a ``total`` row and column; every row and column
        then sums to its total and the corner is :meth:`total`. [currency]

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.
        totals : bool, default False
            Add a total row and column.

        Returns
        -------
        DataFrame
            Cost by phase (rows, all four) and category (columns, see
            :meth:`by_category`).

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> float(led.by_phase_category(totals=True).loc["total", "total"])
        40.0
        """
        import pandas as pd

        cur = (currency or self.currency).upper()
        table = pd.DataFrame(0.0, index=pd.Index(PHASES, name="phase"),
                             columns=pd.Index(self.categories, name="category"))
        for it in self._items:
            table.loc[it.phase, it.category] += it.amount * self._rate(it.currency, cur)
        if totals:
            table["total"] = table.sum(axis=1)
            table.loc["total"] = table.sum(axis=0)
        return table

    def total(self, currency: str | None = None) -> float:
        """Total cost, the sum over all items, the cost of delay included. [currency]

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.

        Returns
        -------
        float
            Total cost, the sum over all items, the cost of delay included. [currency]

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> led.total(), led.total("USD")
        (40.0, 40.0)
        """
        return self._sum(self._items, currency)

    def cash_total(self, currency: str | None = None) -> float:
        """Money paid: :meth:`total` less the ``time`` category (the cost of delay). [currency]

        Parameters
        ----------
        currency : str, optional
            Currency of the result (an ISO code in ``data/fx.csv``); default the
            ledger's.

        Returns
        -------
        float
            Money paid: :meth:`total` less the ``time`` category (the cost of delay).
            [currency]

        Examples
        --------
        >>> led = Ledger()
        >>> _ = led.add_compute("train", "fine-tune", hours=16, usd_per_hour=2.5)
        >>> _ = led.add_cost_of_delay("opt", "a month late", months=1, usd_per_month=1000)
        >>> led.total(), led.cash_total()
        (1040.0, 40.0)
        """
        return self._sum([it for it in self._items if it.category != OPPORTUNITY_CATEGORY],
                         currency)

    def _sum(self, items, currency):
        cur = (currency or self.currency).upper()
        total = float(sum(it.amount * self._rate(it.currency, cur) for it in items))
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
        delay = self.total() - self.cash_total()
        if delay:
            lines.append(f"  of which cost of delay (forgone, not paid) {delay:,.2f} "
                         f"{self.currency}")
        return "\n".join(lines)


def four_part_ledger(hours: Mapping[str, float], usd_per_hour: Mapping[str, float],
                     storage_gb: Mapping[str, float], *,
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
    title : str, default ''
        Title of the ledger.

    Returns
    -------
    Ledger
        The ledger: a compute line and a storage line per phase.

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
