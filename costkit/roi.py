r"""Return on investment: from a better model to money, and whether it pays off.

The chain, each step a vectorised function:

1. **Funnel** (:class:`Funnel`), per month::

       searches = sessions x searches_per_session      clicks = searches x CTR
       orders   = clicks x CVR (orders per click)       GMV    = orders x AOV [USD]
       gross profit = GMV x gross margin [USD]

2. **Uplift** (:func:`order_lift`): a model changes CTR and CVR by relative lifts;
   an optimised variant's ``accuracy_loss`` is a negative lift on conversion,
   and a latency change moves conversion by an elasticity *you* state:
   ``(1 + e) ** (latency_change_ms / 100)`` with ``e`` the relative change per
   +100 ms (Amazon's often-quoted figure is -1% per 100 ms; Akamai 2017 measured
   -2.4% on desktop and -7.1% on phones; Deloitte 2020 found +8.4% retail
   conversion per 100 ms faster on mobile, which is e = 1/1.084 - 1 = -0.0775
   per 100 ms slower, not -0.084). The relative change in orders is
   ``(1 + ctr_lift)(1 + cvr_lift)(1 - accuracy_loss)(latency factor) - 1``.

3. **Cash flows** (:class:`Case`, :meth:`Case.evaluate`), months 0..H:
   month 0 carries the one-off cost (training, tuning, optimisation,
   engineering); fixed monthly costs (monitoring, on-call people, licences) run
   from month 1; from ``launch_month`` the model rolls out linearly over
   ``ramp_months`` (:func:`rollout_share`), and the incremental gross profit
   and the incremental serving cost both scale with the share of traffic it
   serves; retraining costs ``retrain_usd`` every ``retrain_every_months``
   after launch.

   Value and cost meet only in the net cash flow ``gain - cost``. The origin
   documents of this project added "economic value" to cost; here the
   incremental gross profit is a gain and is never added to a cost.

4. **Decision metrics**: :func:`npv`, :func:`irr` and :func:`payback_period`
   (one vectorised solver for one stream or many; numpy-financial is the
   tests' oracle), the
   discounted payback, the ROI ratio ``NPV / PV(costs)``, the **break-even
   lift** (the relative lift in orders at which NPV = 0) and the **break-even
   traffic** (the sessions per month at which NPV = 0). NPV is linear in both,
   so both are closed forms, checked by substitution in the tests.

5. **Sensitivity**: :func:`tornado` (one input at a time, every swing in one
   vectorised evaluation) and :func:`monte_carlo` (seeded draws from the
   distributions you give; 100,000 draws in a fraction of a second), with
   P(NPV > 0) and percentiles.

6. **Scenarios**: :func:`compare` puts cases side by side in one DataFrame, and
   :func:`costkit.decision.decision_summary` (with the decision rule it follows) turns it
   into plain language, from the numbers.

Assumptions, printed by :attr:`ROIResult.assumptions`: an annual discount
rate of 10% unless you give one (a common corporate hurdle rate; use your
finance team's), turned into a monthly rate ``(1 + a) ** (1 / 12) - 1``; cash
flows fall at the start of each month, month 0 undiscounted; incremental
serving cost is linear in traffic (a cost per 1,000 searches at the planned
utilisation, from :mod:`costkit.serving` / :mod:`costkit.capacity`); gross
margin is on GMV and already net of returns and payment fees if you want
them netted.

References: Brealey, Myers & Allen, *Principles of Corporate Finance*, ch. 5-6
(NPV, IRR, payback); numpy-financial's ``npv`` and ``irr`` (the tests' oracle); Malcolm et al.
(1959) for the PERT distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from costkit._checks import (
    as_fraction,
    as_quantity,
    broadcast,
    count,
    scalar_or,
    whole,
    wrap_like,
)

if TYPE_CHECKING:
    from ._typing import ArrayLike, Floats, Frame, NDArray, Series
    from .ledger import Ledger

__all__ = [
    "DEFAULT_ANNUAL_DISCOUNT_RATE",
    "Case",
    "Funnel",
    "MonteCarloResult",
    "ROIResult",
    "annual_rate",
    "compare",
    "cost_of_delay_usd_per_month",
    "irr_label",
    "default_swings",
    "discounted_payback_period",
    "irr",
    "linear_model_cost",
    "monte_carlo",
    "monthly_rate",
    "npv",
    "optimal_model_size",
    "order_lift",
    "payback_period",
    "rollout_share",
    "size_for_value",
    "tornado",
    "value_of_size",
]

DEFAULT_ANNUAL_DISCOUNT_RATE = 0.10
"""Default discount rate per year: a common corporate hurdle rate (assumption; use your WACC)."""
MAX_HORIZON_MONTHS = 600
"""Longest horizon a case accepts (50 years) [months]; raise it to go past."""
MAX_DRAWS = 10_000_000
"""Most Monte Carlo draws :func:`monte_carlo` makes; raise it if the memory allows."""
MAX_CELLS = 50_000_000
"""Most scenario-months one evaluation holds (each array 8 bytes a cell); raise to go past."""


# --------------------------------------------------------------------------- cash-flow metrics


def _cashflows(cashflows):
    try:
        arr = np.asarray(cashflows, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"cashflows must be numbers, got {cashflows!r}") from None
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError("cashflows must hold at least one period (time runs along the last "
                         "axis; a horizon of 0 has no cash flows)")
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(f"cashflows must be finite, got {arr[tuple(where)]!r} at period "
                         f"{where[-1]}")
    return arr


def _discount(discount_rate, n_periods):
    r = as_fraction("discount_rate", discount_rate)
    return (1.0 + r[..., None]) ** -np.arange(n_periods)


def npv(discount_rate: Floats, cashflows: ArrayLike) -> Floats:
    """Net present value of cash flows at periods 0, 1, 2, ... [currency of the flows].

    ``NPV = sum_t v_t / (1 + r)**t``: the first flow is at period 0 and is not
    discounted (the convention of numpy-financial, not Excel's ``NPV``).

    Parameters
    ----------
    discount_rate : float or array
        Rate **per period**, 0 to 1 (for monthly flows use :func:`monthly_rate`).
    cashflows : array-like
        One stream, or many with time on the last axis; ``discount_rate``
        broadcasts over the leading axes.

    Returns
    -------
    numeric
        Net present value of cash flows at periods 0, 1, 2, ... [currency of the flows].

    Examples
    --------
    >>> round(npv(0.10, [-100, 60, 60]), 4)        # -100 + 60/1.1 + 60/1.21
    4.1322
    """
    v = _cashflows(cashflows)
    r = as_fraction("discount_rate", discount_rate)
    return wrap_like(np.sum(v * _discount(r, v.shape[-1]), axis=-1))


def _irr_rows(v):
    """numpy-financial's IRR rule for each row of ``v``, batched through one eigen-solve.

    Like ``numpy_financial.irr``: the real roots ``x > 0`` of ``sum_t v_t x**t``
    give rates ``1/x - 1``, and the one closest to zero is returned (NaN if
    none). Rows are grouped by their first and last non-zero period (zero flows
    at either end do not change the roots), so the loop runs over distinct
    lengths, not over rows.
    """
    out = np.full(v.shape[0], np.nan)
    nz = v != 0
    has = nz.any(axis=1)
    first = np.argmax(nz, axis=1)
    last = v.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1)
    for f, la in {(int(a), int(b)) for a, b in zip(first[has], last[has], strict=True)}:
        deg = la - f
        if deg == 0:
            continue  # a single flow has no rate
        rows = np.flatnonzero(has & (first == f) & (last == la))
        p = v[rows, la:f - 1 if f else None:-1]  # coefficients, highest power first
        comp = np.zeros((len(rows), deg, deg))
        comp[:, 1:, :-1] = np.eye(deg - 1)
        comp[:, 0, :] = -p[:, 1:] / p[:, :1]
        roots = np.linalg.eigvals(comp)
        ok = (roots.imag == 0) & (roots.real > 0)
        rate = np.where(ok, 1.0 / np.where(ok, roots.real, 1.0) - 1.0, np.inf)
        best = rate[np.arange(len(rows)), np.argmin(np.abs(rate), axis=1)]
        out[rows] = np.where(np.isfinite(best), best, np.nan)
    return out


_IRR_CHUNK_CELLS = 4_000_000  # rows x periods solved at once: bounded memory, any row count


def _sign_changes(v):
    """How many times the sign of each row's non-zero flows changes (zeros are skipped)."""
    n, periods = v.shape
    s = np.sign(v)
    idx = np.where(s != 0, np.arange(periods), -1)
    last = np.maximum.accumulate(idx, axis=1)  # index of the last non-zero flow up to t
    prev = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)
    prev_s = np.where(prev >= 0, np.take_along_axis(s, np.maximum(prev, 0), axis=1), 0.0)
    return np.sum((s != 0) & (prev_s != 0) & (s != prev_s), axis=1)


def _horner(c, z, derivative=False):
    """``sum_t c_t z**t`` per row (``c[:, 0]`` the constant term), and its derivative."""
    f = c[:, -1].copy()
    df = np.zeros_like(f)
    for t in range(c.shape[1] - 2, -1, -1):
        if derivative:
            df = df * z + f
        f = f * z + c[:, t]
    return (f, df) if derivative else f


def _unit_root(c):
    """The root ``z`` in [e**-40, 1] of ``sum_t c_t z**t``, where the sum changes sign there.

    Bisection on ``log z`` (44 halvings: 2e-12 in log z), then three Newton steps kept
    inside the bracket, to full double precision. Horner in ``z <= 1`` cannot overflow.
    """
    lo, hi = np.full(c.shape[0], -40.0), np.zeros(c.shape[0])
    s_lo = np.sign(_horner(c, np.exp(lo)))
    for _ in range(44):
        mid = 0.5 * (lo + hi)
        same = np.sign(_horner(c, np.exp(mid))) == s_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    z, z_lo, z_hi = np.exp(0.5 * (lo + hi)), np.exp(lo), np.exp(hi)
    for _ in range(3):
        f, df = _horner(c, z, derivative=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = z - f / df
        z = np.where(np.isfinite(step) & (step >= z_lo) & (step <= z_hi), step, z)
    return z


def _irr_one_sign_change(v):
    """IRR of rows whose flows change sign once: the one positive root, without eigenvalues.

    Descartes' rule of signs: one sign change, one positive root ``x`` of
    ``sum_t v_t x**t``, so numpy-financial's rule has one candidate, ``1/x - 1``. The sign
    of the sum at ``x = 1`` says on which side of 1 the root is: below 1 it is found in
    ``x``; above 1, as ``1/x`` of the reversed polynomial. NaN where the root lies beyond
    ``e**40`` either way (a rate above ``e**40`` or within ``e**-40`` of -1), for the
    eigen-solve to take.
    """
    out = np.full(v.shape[0], np.nan)
    at_one = np.sign(v.sum(axis=1))
    first = np.sign(_horner(v, np.full(v.shape[0], np.exp(-40.0))))
    last = np.sign(_horner(v[:, ::-1], np.full(v.shape[0], np.exp(-40.0))))
    out[at_one == 0] = 0.0
    below = (at_one != 0) & (first * at_one < 0)  # the root is at x < 1: a rate above 0
    above = (at_one != 0) & (last * at_one < 0)  # at x > 1: a rate below 0
    if below.any():
        out[below] = 1.0 / _unit_root(v[below]) - 1.0
    if above.any():
        out[above] = _unit_root(v[above][:, ::-1]) - 1.0
    return out


def _irr_many(v):
    """numpy-financial's IRR rule for every row of ``v``, in bounded memory.

    Rows with no sign change have no rate (NaN); rows with one (an investment, then
    returns: nearly every business case) have one positive root, found by bisection;
    rows with several go through the eigen-solve of :func:`_irr_rows`. Both run in chunks
    of rows, so a million 37-month cases need tens of megabytes, not gigabytes.
    """
    out = np.full(v.shape[0], np.nan)
    step = max(1, _IRR_CHUNK_CELLS // max(1, v.shape[1]))
    for start in range(0, v.shape[0], step):
        part = np.asarray(v[start:start + step], dtype=float)
        changes = _sign_changes(part)
        res = np.full(part.shape[0], np.nan)
        one = changes == 1
        if one.any():
            res[one] = _irr_one_sign_change(part[one])
        hard = (changes >= 2) | (one & np.isnan(res))
        rows = np.flatnonzero(hard)
        eig_step = max(1, 200_000 // max(1, v.shape[1]) ** 2)  # a few hundred MB at most
        for k in range(0, rows.size, eig_step):
            res[rows[k:k + eig_step]] = _irr_rows(part[rows[k:k + eig_step]])
        out[start:start + step] = res
    return out


def irr(cashflows: ArrayLike) -> Floats:
    """Internal rate of return per period: the rate at which the NPV is zero.

    One solver for one stream or many (time on the last axis): the real root
    closest to zero, numpy-financial's rule (whose ``irr`` the tests use as
    the oracle). NaN when there is no such rate, e.g. when every flow has the
    same sign (numpy-financial 1.1 returns -1.0 there; 1.0 returned NaN).
    Streams that change sign more than once can have several IRRs: prefer
    :func:`npv` to decide.

    Parameters
    ----------
    cashflows : array_like
        Cash flows at periods 0, 1, 2, ... (last axis: time); negative = money out.
        [currency]

    Returns
    -------
    numeric
        Internal rate of return per period: the rate at which the NPV is zero.

    Examples
    --------
    >>> round(irr([-100, 39, 59, 55, 20]), 5)
    0.28095
    """
    v = _cashflows(cashflows)
    out = _irr_many(v.reshape(-1, v.shape[-1])).reshape(v.shape[:-1])
    return float(out) if v.ndim == 1 else out


def payback_period(cashflows: ArrayLike) -> Floats:
    """Periods until the cumulative cash flow first turns non-negative, interpolated.

    With ``C_t`` the cumulative sum, the payback is ``k - 1 + (-C_{k-1}) / v_k``
    for the first ``k`` with ``C_k >= 0`` (0 if ``C_0 >= 0``), i.e. flows are
    taken as spread evenly over the period in which the crossing falls. **NaN**
    when the cumulative sum never turns non-negative within the flows given.

    Parameters
    ----------
    cashflows : array_like
        Cash flows at periods 0, 1, 2, ... (last axis: time); negative = money out.
        [currency]

    Returns
    -------
    numeric
        Periods until the cumulative cash flow first turns non-negative, interpolated.

    Examples
    --------
    >>> round(payback_period([-100, 60, 60]), 4)    # 1 + 40/60
    1.6667
    >>> payback_period([-100, 10, 10])
    nan
    """
    v = _cashflows(cashflows)
    c = np.cumsum(v, axis=-1)
    ok = c >= 0
    found = ok.any(axis=-1)
    k = np.argmax(ok, axis=-1)
    before = np.take_along_axis(c, np.maximum(k - 1, 0)[..., None], axis=-1)[..., 0]
    step = np.take_along_axis(v, k[..., None], axis=-1)[..., 0]
    frac = np.where(k > 0, -before / np.where(k > 0, step, 1.0), 0.0)
    out = np.where(found, np.where(k > 0, k - 1 + frac, 0.0), np.nan)
    return scalar_or(out)


def discounted_payback_period(discount_rate: Floats, cashflows: ArrayLike) -> Floats:
    """:func:`payback_period` of the discounted flows ``v_t / (1 + r)**t``; NaN if never.

    Parameters
    ----------
    discount_rate : numeric
        Discount rate per period. [unitless]
    cashflows : array_like
        Cash flows at periods 0, 1, 2, ... (last axis: time); negative = money out.
        [currency]

    Returns
    -------
    numeric
        :func:`payback_period` of the discounted flows ``v_t / (1 + r)**t``; NaN if never.

    Examples
    --------
    >>> round(float(discounted_payback_period(0.01, [-1000, 300, 300, 300, 300])), 3)
    3.408
    """
    v = _cashflows(cashflows)
    return payback_period(v * _discount(discount_rate, v.shape[-1]))


def monthly_rate(annual_rate: Floats) -> Floats:
    """Monthly rate equivalent to an annual one: ``(1 + a) ** (1/12) - 1``.

    Parameters
    ----------
    annual_rate : numeric
        Rate per year. [unitless]

    Returns
    -------
    numeric
        Monthly rate equivalent to an annual one: ``(1 + a) ** (1/12) - 1``.

    Examples
    --------
    >>> round(monthly_rate(0.12), 6)
    0.009489
    """
    a = as_fraction("annual_rate", annual_rate)
    return wrap_like((1.0 + a) ** (1.0 / 12.0) - 1.0, annual_rate)


def annual_rate(monthly_rate: Floats) -> Floats:
    """Annual rate equivalent to a monthly one: ``(1 + m) ** 12 - 1`` (NaN stays NaN).

    Parameters
    ----------
    monthly_rate : numeric
        Rate per month. [unitless]

    Returns
    -------
    numeric
        Annual rate equivalent to a monthly one: ``(1 + m) ** 12 - 1`` (NaN stays NaN).

    Examples
    --------
    >>> round(annual_rate(0.01), 6)
    0.126825
    """
    m = np.asarray(monthly_rate, dtype=float)
    return wrap_like((1.0 + m) ** 12 - 1.0, monthly_rate)


def rollout_share(months: ArrayLike, launch_month: Floats = 1,
                  ramp_months: Floats = 3.0) -> NDArray[np.float64]:
    """Share of traffic the new model serves in each month, 0 to 1.

    0 before ``launch_month``; then a linear ramp that reaches 1 after
    ``ramp_months`` months (``min((t - launch + 1) / ramp, 1)``); ``ramp_months=0``
    is a full launch. ``launch_month`` and ``ramp_months`` broadcast over
    scenarios; months run along the last axis.

    Parameters
    ----------
    months : array_like
        Month numbers (0 = launch decision). [month]
    launch_month : numeric, default 1
        Month the model starts serving. [month]
    ramp_months : numeric, default 3.0
        Months from launch to full traffic. [month]

    Returns
    -------
    ndarray
        Share of traffic the new model serves in each month, 0 to 1.

    Examples
    --------
    >>> rollout_share(range(6), launch_month=2, ramp_months=2).tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]
    """
    launch = whole("launch_month", as_quantity("launch_month", launch_month, allow_zero=False))
    return _share(np.asarray(months, dtype=float), launch, as_quantity("ramp_months", ramp_months))


def _share(t, launch, ramp):
    launch, ramp = launch[..., None], ramp[..., None]
    with np.errstate(over="ignore"):  # a tiny ramp is a full launch
        share = np.clip((t - launch + 1.0) / np.where(ramp > 0, ramp, 1.0), 0.0, 1.0)
    return np.where(ramp > 0, share, (t >= launch).astype(float))


# --------------------------------------------------------------------------- funnel and uplift


def _lift(name, value):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)].flat[0]!r}")
    if arr.size and (arr <= -1).any():
        raise ValueError(f"{name} is a relative change and must be > -1 (-1 loses everything), "
                         f"got {arr[arr <= -1].flat[0]!r}")
    return arr


def order_lift(*, ctr_lift: Floats = 0.0, cvr_lift: Floats = 0.0, accuracy_loss: Floats = 0.0,
               latency_change_ms: Floats = 0.0,
               latency_elasticity_per_100ms: Floats = 0.0) -> Floats:
    """Relative change in orders from the model's effects (0.02 = 2% more orders).

    ``(1 + ctr_lift)(1 + cvr_lift)(1 - accuracy_loss)(1 + e) ** (latency_change_ms / 100) - 1``.

    Parameters
    ----------
    ctr_lift, cvr_lift : numeric, default 0.0
        Relative lifts of click-through and click-to-order rates (> -1). [unitless]
    accuracy_loss : numeric, default 0.0
        Relative drop in conversion of a cheaper variant, 0 to < 1
        (:attr:`costkit.optimization.Variant.accuracy_loss`). [unitless]
    latency_change_ms : numeric, default 0.0
        Added latency per search (negative: faster). [ms]
    latency_elasticity_per_100ms : numeric, default 0.0
        Relative change in conversion when latency grows by 100 ms, <= 0 (e.g. -0.01 for
        Amazon's 1% per 100 ms). [unitless]

    Returns
    -------
    numeric
        Relative change in orders from the model's effects (0.02 = 2% more orders).

    Examples
    --------
    >>> round(order_lift(cvr_lift=0.02, latency_change_ms=100,
    ...                  latency_elasticity_per_100ms=-0.01), 6)   # 1.02 x 0.99 - 1
    0.0098
    """
    ctr = _lift("ctr_lift", ctr_lift)
    cvr = _lift("cvr_lift", cvr_lift)
    loss = as_fraction("accuracy_loss", accuracy_loss)
    if loss.size and (loss >= 1).any():
        raise ValueError("accuracy_loss must be < 1 (a relative drop in conversion)")
    ms = np.asarray(latency_change_ms, dtype=float)
    if ms.size and not np.isfinite(ms).all():
        raise ValueError(f"latency_change_ms must be finite, got {ms[~np.isfinite(ms)].flat[0]!r}")
    e = np.asarray(latency_elasticity_per_100ms, dtype=float)
    bad = ~np.isfinite(e) | (e > 0) | (e <= -1)
    if bad.any():
        raise ValueError(
            "latency_elasticity_per_100ms is the relative change in conversion when latency grows "
            "by 100 ms, so it lies in (-1, 0] (e.g. -0.01 for 1% fewer orders per +100 ms; a "
            "'+8.4% per 100 ms faster' figure is 1/1.084 - 1 = -0.0775), got "
            f"{e[bad].flat[0]!r}")
    return wrap_like(_lift_of(ctr, cvr, loss, ms, e), ctr_lift, cvr_lift, accuracy_loss,
                     latency_change_ms)


def _lift_of(ctr, cvr, loss, ms, e):
    return (1 + ctr) * (1 + cvr) * (1 - loss) * (1 + e) ** (ms / 100.0) - 1


def _profit_per_search(ctr, cvr, aov_usd, margin):
    """Gross profit per search [USD]: ``CTR x CVR x AOV x margin`` (inputs already checked)."""
    return np.multiply(np.multiply(ctr, cvr), np.multiply(aov_usd, margin))


@dataclass(frozen=True)
class Funnel:
    """An e-commerce search funnel per month; every field broadcasts.

    Attributes
    ----------
    sessions_per_month : visits per month.
    searches_per_session : searches per visit.
    click_through_rate : share of searches with a click on a result, 0 to 1.
    conversion_rate : orders per click (click-to-order rate), 0 to 1. A site-wide
        "conversion" per session is ``searches_per_session x CTR x CVR``.
    average_order_value_usd : GMV per order [USD].
    gross_margin : gross profit per USD of GMV, 0 to 1.

    Examples
    --------
    >>> f = Funnel(2.5e6 * 730 / 24, 4, 0.30, 0.025, 60.0, 0.30)
    >>> round(f.gross_profit_per_1k_searches_usd, 6)    # 0.3 x 0.025 x 60 x 0.3 x 1000
    135.0
    """

    sessions_per_month: float
    searches_per_session: float
    click_through_rate: float
    conversion_rate: float
    average_order_value_usd: float
    gross_margin: float

    def __post_init__(self):
        as_quantity("sessions_per_month", self.sessions_per_month)
        as_quantity("searches_per_session", self.searches_per_session)
        as_fraction("click_through_rate", self.click_through_rate)
        as_fraction("conversion_rate", self.conversion_rate)
        as_quantity("average_order_value_usd", self.average_order_value_usd)
        as_fraction("gross_margin", self.gross_margin)

    def _out(self, value):
        return wrap_like(value, *(getattr(self, f.name) for f in fields(self)))

    @property
    def searches_per_month(self) -> Floats:
        """Searches a month: sessions x searches per session. [1/month]"""
        return self._out(np.multiply(self.sessions_per_month, self.searches_per_session))

    @property
    def clicks_per_month(self) -> Floats:
        """Clicks a month: searches x click-through rate. [1/month]"""
        return self._out(np.multiply(self.searches_per_month, self.click_through_rate))

    @property
    def orders_per_month(self) -> Floats:
        """Orders a month: clicks x conversion rate. [1/month]"""
        return self._out(np.multiply(self.clicks_per_month, self.conversion_rate))

    @property
    def gmv_usd_per_month(self) -> Floats:
        """Gross merchandise value a month: orders x average order value. [USD/month]"""
        return self._out(np.multiply(self.orders_per_month, self.average_order_value_usd))

    @property
    def gross_profit_usd_per_month(self) -> Floats:
        """Gross profit a month: GMV x gross margin. [USD/month]"""
        return self._out(np.multiply(self.gmv_usd_per_month, self.gross_margin))

    @property
    def gross_profit_per_1k_searches_usd(self) -> Floats:
        """Gross profit that flows through 1,000 searches [USD]."""
        return self._out(1000.0 * _profit_per_search(
            self.click_through_rate, self.conversion_rate, self.average_order_value_usd,
            self.gross_margin))

    @property
    def orders_per_session(self) -> Floats:
        """Search-led orders per session: ``searches_per_session x CTR x CVR``."""
        return self._out(np.multiply(self.searches_per_session,
                                     np.multiply(self.click_through_rate, self.conversion_rate)))

    @property
    def gross_profit_per_order_usd(self) -> Floats:
        """``average_order_value_usd x gross_margin`` [USD]."""
        return self._out(np.multiply(self.average_order_value_usd, self.gross_margin))

    def usd_per_1k_searches(self, usd_per_month: Floats) -> Floats:
        """A monthly amount (e.g. a capacity plan's bill) per 1,000 of this funnel's searches.

        Parameters
        ----------
        usd_per_month : numeric
            A monthly amount (a capacity plan's bill). [USD/month]

        Returns
        -------
        numeric
            A monthly amount (e.g. a capacity plan's bill) per 1,000 of this funnel's
            searches.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> case.funnel.usd_per_1k_searches(3000.0)
        1.0
        """
        usd = as_quantity("usd_per_month", usd_per_month)
        return self._out(usd / np.asarray(self.searches_per_month, dtype=float) * 1000.0)

    def uplift(self, **effects: Floats) -> dict[str, Floats]:
        """Incremental orders, GMV and gross profit per month for :func:`order_lift`'s effects.

        Returns a dict with ``order_lift``, ``incremental_orders_per_month``,
        ``incremental_gmv_usd_per_month`` and ``incremental_gross_profit_usd_per_month``.
        Raises ``ValueError`` when a lifted rate would exceed 1.

        Parameters
        ----------
        **effects
            The model's effects, as for :func:`order_lift` (``ctr_lift=0.02``, ...).

        Returns
        -------
        dict of str to numeric
            Incremental orders, GMV and gross profit per month for :func:`order_lift`'s
            effects.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> u = case.funnel.uplift(cvr_lift=0.02)
        >>> u["incremental_orders_per_month"], u["incremental_gross_profit_usd_per_month"]
        (1200.0000000000011, 12000.000000000011)
        """
        lift = order_lift(**effects)
        _check_lifted_rates(self.click_through_rate, self.conversion_rate, effects)
        return {
            "order_lift": lift,
            "incremental_orders_per_month": self._out(np.multiply(self.orders_per_month, lift)),
            "incremental_gmv_usd_per_month": self._out(np.multiply(self.gmv_usd_per_month, lift)),
            "incremental_gross_profit_usd_per_month":
                self._out(np.multiply(self.gross_profit_usd_per_month, lift)),
        }  # fmt: skip


def cost_of_delay_usd_per_month(case: Case) -> Floats:
    r"""What one month of delay forgoes.

    The case's incremental gross profit per month at full rollout, less the incremental serving
    that month would cost. [USD/month]

    .. math::  D = S\,(\text{CTR}\cdot\text{CVR}\cdot\text{AOV}\cdot m)\,L
               - \frac{S}{1000}\,c_{1k}

    with S searches a month, L the order lift and c_1k the serving price per
    1,000 searches. Launching one month later (same ramp, no retraining) lowers
    the undiscounted net value over the horizon by exactly D: the month lost
    is the last one, at full rollout. Fixed monthly costs run from month 1
    either way and are not in D. Negative when the model loses money each month
    (then a delay saves money). Broadcasts like the case.

    Parameters
    ----------
    case : Case
        The business case.

    Returns
    -------
    numeric
        What one month of delay forgoes.

    Examples
    --------
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> round(cost_of_delay_usd_per_month(case))
    12000
    """
    searches = np.multiply(case.sessions_per_month, case.searches_per_session)
    gp = np.multiply(searches, _profit_per_search(
        case.click_through_rate, case.conversion_rate, case.average_order_value_usd,
        case.gross_margin)) * case.order_lift
    serving = np.multiply(searches / 1000.0, case.serving_usd_per_1k_searches)
    return wrap_like(gp - serving, case.sessions_per_month, case.searches_per_session,
                     case.serving_usd_per_1k_searches)


def _check_lifted_rates(ctr, cvr, effects):
    new_ctr = np.multiply(ctr, 1 + np.asarray(effects.get("ctr_lift", 0.0), dtype=float))
    if (np.asarray(new_ctr) > 1).any():
        raise ValueError("click_through_rate x (1 + ctr_lift) exceeds 1: a lift that large is "
                         "impossible at this click-through rate")
    new_cvr = np.multiply(cvr, 1 + np.asarray(effects.get("cvr_lift", 0.0), dtype=float))
    if (np.asarray(new_cvr) > 1).any():
        raise ValueError("conversion_rate x (1 + cvr_lift) exceeds 1: a lift that large is "
                         "impossible at this conversion rate")


# --------------------------------------------------------------------------- the case


_FUNNEL = ("sessions_per_month", "searches_per_session", "click_through_rate", "conversion_rate",
           "average_order_value_usd", "gross_margin")
_EFFECTS = ("ctr_lift", "cvr_lift", "accuracy_loss", "latency_change_ms",
            "latency_elasticity_per_100ms")


@dataclass(frozen=True)
class Case:
    """One decision: a funnel, what the model changes in it, what it costs, over what horizon.

    Every numeric field but ``horizon_months`` may be an array (scenarios
    broadcast); :func:`tornado` and :func:`monte_carlo` use that.

    Funnel (per month, before the model): ``sessions_per_month``,
    ``searches_per_session``, ``click_through_rate``, ``conversion_rate``
    (orders per click), ``average_order_value_usd``, ``gross_margin``.

    Effects at full rollout (see :func:`order_lift`): ``ctr_lift``,
    ``cvr_lift``, ``accuracy_loss``, ``latency_change_ms``,
    ``latency_elasticity_per_100ms``.

    Costs [USD]: ``one_off_usd`` (month 0: training, tuning, optimisation,
    engineering; e.g. a ledger's ``total()``), ``serving_usd_per_1k_searches``
    (incremental, at full rollout; scales with traffic and rollout),
    ``fixed_usd_per_month`` (monitoring, on-call people, licences; from month
    1), ``retrain_usd`` every ``retrain_every_months`` after launch (0: never).

    Timeline: ``horizon_months`` (a whole number >= 1), ``launch_month``
    (>= 1), ``ramp_months`` (0: full launch), ``annual_discount_rate``
    (default 10%, 0 to 1).
    """

    sessions_per_month: float
    searches_per_session: float
    click_through_rate: float
    conversion_rate: float
    average_order_value_usd: float
    gross_margin: float
    ctr_lift: float = 0.0
    cvr_lift: float = 0.0
    accuracy_loss: float = 0.0
    latency_change_ms: float = 0.0
    latency_elasticity_per_100ms: float = 0.0
    one_off_usd: float = 0.0
    serving_usd_per_1k_searches: float = 0.0
    fixed_usd_per_month: float = 0.0
    retrain_usd: float = 0.0
    retrain_every_months: float = 0.0
    horizon_months: int = 36
    launch_month: float = 1
    ramp_months: float = 3.0
    annual_discount_rate: float = DEFAULT_ANNUAL_DISCOUNT_RATE
    name: str = ""

    def __post_init__(self):
        broadcast(**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"})
        Funnel(*(getattr(self, f) for f in _FUNNEL))  # validates the funnel fields
        order_lift(**self.effects)
        _check_lifted_rates(self.click_through_rate, self.conversion_rate, self.effects)
        for f in ("one_off_usd", "serving_usd_per_1k_searches", "fixed_usd_per_month",
                  "retrain_usd"):
            as_quantity(f, getattr(self, f))
        whole("retrain_every_months", as_quantity("retrain_every_months",
                                                  self.retrain_every_months))
        h = np.asarray(self.horizon_months)
        if (h.ndim or h.dtype.kind not in "iuf" or not np.isfinite(float(h)) or float(h) < 1
                or float(h) % 1):
            raise ValueError("horizon_months must be one whole number >= 1 (a horizon of 0 has "
                             "no cash flows; run one case per horizon), got "
                             f"{self.horizon_months!r}")
        if float(h) > MAX_HORIZON_MONTHS:
            raise ValueError(f"horizon_months is at most {MAX_HORIZON_MONTHS} (50 years), got "
                             f"{float(h):,.0f}; raise costkit.roi.MAX_HORIZON_MONTHS to go past")
        launch = whole("launch_month", as_quantity("launch_month", self.launch_month,
                                                   allow_zero=False))
        if (launch > float(h)).any():
            raise ValueError(f"launch_month {launch.max():g} is after the {int(h)}-month horizon: "
                             "the model would never earn")
        as_quantity("ramp_months", self.ramp_months)
        as_fraction("annual_discount_rate", self.annual_discount_rate)

    @property
    def funnel(self) -> Funnel:
        """The case's funnel (traffic, click-through, conversion, order value, margin)."""
        return Funnel(*(getattr(self, f) for f in _FUNNEL))

    @property
    def effects(self) -> dict:
        """The model's effects on the funnel: ``{effect name: value}``."""
        return {f: getattr(self, f) for f in _EFFECTS}

    @property
    def order_lift(self) -> Floats:
        """Relative change in orders at full rollout."""
        return order_lift(**self.effects)

    def replace(self, **changes: Any) -> Case:
        """A copy with some fields changed (validated again).

        Parameters
        ----------
        **changes
            Fields to change and their new values.

        Returns
        -------
        Case
            The changed copy.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> case.replace(cvr_lift=0.03).cvr_lift
        0.03
        """
        return replace(self, **changes)

    def evaluate(self) -> ROIResult:
        """Monthly cash flows and the decision metrics (see :class:`ROIResult`).

        Returns
        -------
        ROIResult
            Monthly cash flows and the decision metrics (see :class:`ROIResult`).

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> r = case.evaluate()
        >>> round(r.npv_usd), round(r.payback_month, 2)
        (342364, 2.67)
        """
        return ROIResult(self)


_NUMERIC = tuple(f.name for f in fields(Case) if f.name != "name")
_CONTINUOUS = tuple(f for f in _NUMERIC if f not in ("horizon_months", "launch_month",
                                                      "retrain_every_months"))


class _Flows:
    """The monthly flows of a case and the figures every evaluation needs.

    One source of the equations for :class:`ROIResult` (all the metrics) and
    :func:`monte_carlo` (the NPV and payback month of each draw only). Inputs keep their own
    shapes (a scalar stays a scalar): only flows that depend on drawn inputs grow to
    (scenarios, months).
    """

    def __init__(self, case: Case):
        names = [f for f in _NUMERIC if f != "horizon_months"]
        vals = {f: np.asarray(getattr(case, f), dtype=float) for f in names}
        self.vals = vals
        self.shape = np.broadcast_shapes(*(v.shape for v in vals.values()))
        cells = int(np.prod(self.shape)) * (int(case.horizon_months) + 1)
        if cells > MAX_CELLS:
            raise ValueError(f"{int(np.prod(self.shape)):,} scenarios x "
                             f"{int(case.horizon_months) + 1} months is {cells:,} cells, more "
                             f"than costkit.roi.MAX_CELLS ({MAX_CELLS:,}); evaluate fewer "
                             "scenarios at a time, or raise the limit if the memory allows")
        t = self.t = np.arange(int(case.horizon_months) + 1)
        self.full = (*self.shape, t.size)

        def col(name):
            return vals[name][..., None]

        # the case validated its inputs when it was made: the formulas run unchecked here
        self.share = _share(t, vals["launch_month"], vals["ramp_months"])
        self.lift = _lift_of(*(vals[f] for f in _EFFECTS))
        self.per_search = _profit_per_search(vals["click_through_rate"], vals["conversion_rate"],
                                             vals["average_order_value_usd"], vals["gross_margin"])
        searches = vals["sessions_per_month"] * vals["searches_per_session"]
        self.base_gp = searches * self.per_search
        self.serving_month = searches / 1000.0 * vals["serving_usd_per_1k_searches"]
        every = col("retrain_every_months")
        since = t - col("launch_month")
        self.retrain_mask = (every > 0) & (since >= every) & (
            np.mod(since, np.where(every > 0, every, 1.0)) == 0)
        self.other = (col("fixed_usd_per_month") * (t >= 1) + col("retrain_usd") * self.retrain_mask
                      + col("one_off_usd") * (t == 0))
        self.monthly_discount_rate = (1.0 + vals["annual_discount_rate"]) ** (1 / 12) - 1.0
        self.d = (1.0 + np.asarray(self.monthly_discount_rate)[..., None]) ** -t
        self.exposure = np.sum(self.share * self.d, axis=-1)  # discounted full-traffic months
        self.pv_other = np.sum(self.other * self.d, axis=-1)
        self.pv_cost_usd = np.broadcast_to(self.serving_month * self.exposure + self.pv_other,
                                           self.shape)
        self.npv_usd = (np.broadcast_to(self.base_gp * self.lift * self.exposure, self.shape)
                        - self.pv_cost_usd)
        if not (np.isfinite(self.npv_usd).all() and np.isfinite(self.pv_cost_usd).all()):
            raise ValueError("the case's money overflows to infinity: an input (sessions, "
                             "order value, a cost) is far too large; check its units")

    def net_usd(self):
        """Net cash flow of each month: gross profit less serving, fixed, retraining, one-off."""
        return np.broadcast_to((self.base_gp * self.lift - self.serving_month)[..., None]
                               * self.share - self.other, self.full)


class ROIResult:
    """Cash flows and decision metrics of a :class:`Case` (arrays for array cases).

    Monthly flows (months on the last axis, month 0 first) [USD]:
    ``incremental_gross_profit_usd``, ``serving_usd``, ``fixed_usd``,
    ``retraining_usd``, ``one_off_usd``, ``net_usd``; ``rollout_share``.

    Metrics: ``npv_usd``, ``irr_monthly`` / ``irr_annual`` (NaN without a sign
    change), ``payback_month`` and ``discounted_payback_month`` (NaN: never
    within the horizon), ``roi`` (``NPV / PV(costs)``; NaN with no cost),
    ``pv_gross_profit_usd``, ``pv_cost_usd``, ``net_value_usd`` (undiscounted),
    ``order_lift``, ``break_even_lift`` (relative lift in orders at which NPV
    = 0; inf without profit to lift), ``break_even_sessions_per_month`` (inf
    when a session's margin never covers its serving).
    """

    def __init__(self, case: Case):
        self.case = case
        f = _Flows(case)
        vals, t, full, self.shape, self.months = f.vals, f.t, f.full, f.shape, f.t
        share, lift, base_gp, serving_month = f.share, f.lift, f.base_gp, f.serving_month
        per_search, other, d, exposure, pv_other = (f.per_search, f.other, f.d, f.exposure,
                                                    f.pv_other)

        def col(name):
            return vals[name][..., None]

        self.rollout_share = np.broadcast_to(share, full)
        self.incremental_gross_profit_usd = np.broadcast_to((base_gp * lift)[..., None] * share,
                                                            full)
        self.serving_usd = np.broadcast_to(serving_month[..., None] * share, full)
        self.fixed_usd = np.broadcast_to(col("fixed_usd_per_month") * (t >= 1), full)
        self.retraining_usd = np.broadcast_to(col("retrain_usd") * f.retrain_mask, full)
        self.one_off_usd = np.broadcast_to(col("one_off_usd") * (t == 0), full)
        self.cost_usd = np.broadcast_to(serving_month[..., None] * share + other, full)
        self.net_usd = f.net_usd()
        self.monthly_discount_rate = f.monthly_discount_rate
        self.discount_factor = np.broadcast_to(d, full)
        self.pv_gross_profit_usd = np.broadcast_to(base_gp * lift * exposure, self.shape)
        self.pv_cost_usd = f.pv_cost_usd
        self.npv_usd = f.npv_usd
        self.net_value_usd = np.sum(self.net_usd, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.roi = np.where(self.pv_cost_usd > 0, self.npv_usd / self.pv_cost_usd, np.nan)
        self.payback_month = np.asarray(payback_period(self.net_usd))
        self.discounted_payback_month = np.asarray(payback_period(self.net_usd * d))
        self.order_lift = np.broadcast_to(lift, self.shape)

        # break-even lift: NPV(L) = L * base_gp * exposure - PV(cost) = 0
        lifted = np.broadcast_to(base_gp * exposure, self.shape)
        # break-even traffic: NPV(S) = S * a - PV(fixed + retraining + one-off), a per session
        a = np.broadcast_to(vals["searches_per_session"] * (
            per_search * lift - vals["serving_usd_per_1k_searches"] / 1000.0) * exposure,
            self.shape)
        # a cost too large for any lift to repay overflows to inf: the same answer as no lift
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.break_even_lift = np.where(lifted > 0, self.pv_cost_usd / lifted, np.inf)
            self.break_even_sessions_per_month = np.where(
                a > 0, np.broadcast_to(pv_other, self.shape) / np.where(a > 0, a, 1.0), np.inf)
        if self.shape == ():  # one case: plain floats
            for k in ("pv_gross_profit_usd", "pv_cost_usd", "npv_usd", "net_value_usd", "roi",
                      "payback_month", "discounted_payback_month", "order_lift",
                      "break_even_lift", "break_even_sessions_per_month",
                      "monthly_discount_rate"):
                setattr(self, k, float(getattr(self, k)))
        self._irr: Floats | None = None

    # ------------------------------------------------------------------ derived
    @property
    def irr_monthly(self) -> Floats:
        """IRR per month of the net flows (NaN without a sign change); solved on first use."""
        if self._irr is None:
            self._irr = irr(self.net_usd)
        return self._irr

    @property
    def irr_annual(self) -> Floats:
        """IRR per year, from the monthly IRR: ``(1 + m)**12 - 1``. [unitless]"""
        return annual_rate(self.irr_monthly)

    @property
    def cumulative_usd(self) -> NDArray[np.float64]:
        """Cumulative net cash flow at the end of each month [USD]."""
        return np.cumsum(self.net_usd, axis=-1)

    @property
    def assumptions(self) -> dict:
        """Every input of the case, with its unit, as the report prints it."""
        c = self.case
        return {
            "horizon_months": int(c.horizon_months),
            "annual_discount_rate": scalar_or(c.annual_discount_rate),
            "monthly_discount_rate": scalar_or(self.monthly_discount_rate),
            "launch_month": scalar_or(c.launch_month),
            "ramp_months": scalar_or(c.ramp_months),
            "timing": "one-off cost in month 0; fixed costs from month 1; gain and serving scale "
                      "with the rollout share; flows at the start of each month",
            "serving": "incremental cost per 1,000 searches, linear in traffic",
            "latency_model": "conversion x (1 + elasticity) ** (latency_change_ms / 100)",
        }

    def _scalar(self, what):
        if self.shape != ():
            raise ValueError(f"{what} needs a single case; this result holds {self.shape} "
                             "scenarios (use to_frame() for their metrics)")

    def metrics(self) -> Series | Frame:
        """The decision metrics as a pandas Series (one case) or DataFrame (many).

        Returns
        -------
        Series or DataFrame
            The decision metrics as a pandas Series (one case) or DataFrame (many).

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> case.evaluate().metrics()[["npv_usd", "payback_month"]].round(1)
        npv_usd          342363.8
        payback_month         2.7
        dtype: float64
        """
        import pandas as pd

        cols = {
            "order_lift": self.order_lift, "npv_usd": self.npv_usd,
            "irr_annual": self.irr_annual, "payback_month": self.payback_month,
            "discounted_payback_month": self.discounted_payback_month, "roi": self.roi,
            "pv_gross_profit_usd": self.pv_gross_profit_usd, "pv_cost_usd": self.pv_cost_usd,
            "net_value_usd": self.net_value_usd, "break_even_lift": self.break_even_lift,
            "break_even_sessions_per_month": self.break_even_sessions_per_month,
        }  # fmt: skip
        if self.shape == ():
            return pd.Series({k: float(v) for k, v in cols.items()}, name=self.case.name or None)
        return pd.DataFrame({k: np.broadcast_to(v, self.shape).ravel() for k, v in cols.items()})

    def to_frame(self) -> Frame:
        """One case: the monthly cash-flow table. Many: :meth:`metrics` per scenario.

        Returns
        -------
        DataFrame
            One case: the monthly cash-flow table. Many: :meth:`metrics` per scenario.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> case.evaluate().to_frame().shape
        (37, 9)
        """
        import pandas as pd

        if self.shape != ():
            return self.metrics()
        df = pd.DataFrame({
            "rollout_share": self.rollout_share,
            "incremental_gross_profit_usd": self.incremental_gross_profit_usd,
            "serving_usd": self.serving_usd, "fixed_usd": self.fixed_usd,
            "retraining_usd": self.retraining_usd, "one_off_usd": self.one_off_usd,
            "net_usd": self.net_usd, "cumulative_usd": self.cumulative_usd,
            "discounted_net_usd": self.net_usd * self.discount_factor,
        }, index=pd.Index(self.months, name="month"))  # fmt: skip
        return df

    def waterfall(self) -> Series:
        """From incremental gross profit to NPV, step by step (one case) [USD].

        Steps: gross profit (+), serving, fixed, retraining, one-off (-) give
        the undiscounted net value; ``discounting`` (the time value of money)
        takes it to the NPV. Totals are marked ``is_total`` in ``.attrs``.

        Returns
        -------
        Series
            From incremental gross profit to NPV, step by step (one case) [USD].

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> case.evaluate().waterfall().round(0)
        incremental gross profit      420000.0
        serving                           -0.0
        fixed (monitoring, people)        -0.0
        retraining                        -0.0
        one-off                       -20000.0
        net value                     400000.0
        discounting                   -57636.0
        NPV                           342364.0
        Name: usd, dtype: float64
        """
        import pandas as pd

        self._scalar("waterfall()")
        steps = {
            "incremental gross profit": self.incremental_gross_profit_usd.sum(),
            "serving": -self.serving_usd.sum(),
            "fixed (monitoring, people)": -self.fixed_usd.sum(),
            "retraining": -self.retraining_usd.sum(),
            "one-off": -self.one_off_usd.sum(),
            "net value": float(self.net_value_usd),
            "discounting": float(self.npv_usd - self.net_value_usd),
            "NPV": float(self.npv_usd),
        }  # fmt: skip
        s = pd.Series({k: float(v) for k, v in steps.items()}, name="usd")
        s.attrs["is_total"] = ["net value", "NPV"]
        return s

    def to_ledger(self, ledger: Ledger | None = None, *, one_off: Ledger | None = None,
                  title: str = "", fixed_by_category: dict | None = None) -> Ledger:
        """The case's costs over the horizon as ledger lines (one case).

        ``one_off`` (a :class:`~costkit.ledger.Ledger` whose total is
        ``one_off_usd``) is copied item by item; without it the one-off cost is
        one fixed line in ``opt``. Serving is a ``run`` line in 1k searches
        (category hardware), retraining a ``train`` line (hardware), fixed costs
        ``run`` lines in months: one ``operations`` line, or one per category of
        ``fixed_by_category`` (``{"labour": 4200, "operations": 500}``, USD a
        month, summing to ``fixed_usd_per_month``). Value is not a cost and is
        not in the ledger.

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.
        one_off : Ledger, optional
            The one-off work as a ledger, copied item by item; default one fixed line.
        title : str, default ''
            Title of a new ledger; default from the case.
        fixed_by_category : dict, optional
            ``{category: USD a month}`` splitting the fixed monthly cost; default one
            ``operations`` line.

        Returns
        -------
        Ledger
            The case's costs over the horizon as ledger lines (one case).

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> led = case.evaluate().to_ledger()
        >>> led.by_phase().round(0)
        train        0.0
        run          0.0
        opt      20000.0
        tune         0.0
        Name: cost_usd, dtype: float64
        """
        from costkit.ledger import Ledger

        self._scalar("to_ledger()")
        c = self.case
        led = ledger if ledger is not None else Ledger(
            title=title or f"{c.name or 'case'}: {int(c.horizon_months)} months")
        if one_off is not None:
            delay = one_off.total(led.currency) - one_off.cash_total(led.currency)
            if delay:
                raise ValueError(f"the one-off ledger holds {delay:,.2f} of cost of delay "
                                 "(category 'time'): the case's timeline already forgoes the "
                                 "months before launch_month, so it would count twice; leave "
                                 "it out of the one-off ledger")
            if not np.isclose(one_off.total(led.currency), float(c.one_off_usd), rtol=1e-9,
                              atol=0.005):
                raise ValueError(f"the one-off ledger totals {one_off.total():,.2f} but the case "
                                 f"has one_off_usd = {float(c.one_off_usd):,.2f}")
            led.extend(one_off)
        elif float(c.one_off_usd) > 0:
            led.add_fixed("opt", "one-off cost", float(c.one_off_usd))
        k_searches = float(np.sum(self.rollout_share) * c.funnel.searches_per_month / 1000.0)
        if float(c.serving_usd_per_1k_searches) > 0 and k_searches > 0:
            led.add("run", "serving (incremental)", k_searches, "1k requests",
                    float(c.serving_usd_per_1k_searches), "USD/1k requests", category="hardware",
                    note=f"{np.sum(self.rollout_share):.2f} full-traffic months of rollout")
        fixed = float(c.fixed_usd_per_month)
        split = _fixed_split(fixed, fixed_by_category)
        for cat, usd in split.items():
            if usd > 0:
                led.add("run", f"fixed: {cat}" if fixed_by_category else "monitoring and people",
                        int(c.horizon_months), "month", usd, "USD/month", category=cat,
                        note="part of the case's fixed_usd_per_month" if fixed_by_category
                        else "the case's fixed_usd_per_month: monitoring, upkeep, on-call people")
        n = int(np.count_nonzero(self.retraining_usd))
        if n:
            led.add("train", "retraining", n, "retraining", float(c.retrain_usd),
                    "USD/retraining", category="hardware",
                    note=f"every {float(c.retrain_every_months):g} months after launch")
        return led

    def _repr_html_(self) -> str:
        from ._html import frame_table, result_table

        if self.shape != ():
            return frame_table(f"ROIResult over {self.shape} scenarios", self.metrics())
        m = self.metrics()
        never = "never (within the horizon)"
        rows = [("order lift", f"{m.order_lift:+.2%}", ""), ("NPV", m.npv_usd, "USD"),
                ("IRR", irr_label(m.irr_annual), "a year"),
                ("payback", never if np.isnan(m.payback_month) else
                 f"{m.payback_month:.1f}", "month"),
                ("discounted payback", never if np.isnan(m.discounted_payback_month) else
                 f"{m.discounted_payback_month:.1f}", "month"),
                ("PV of gross profit", m.pv_gross_profit_usd, "USD"),
                ("PV of costs", m.pv_cost_usd, "USD"),
                ("break-even lift", f"{m.break_even_lift:.2%}", "more orders")]
        return result_table(f"ROI: {self.case.name or 'case'} over "
                            f"{int(self.case.horizon_months)} months", rows)

    def __repr__(self) -> str:
        if self.shape != ():
            return (f"ROIResult over {self.shape} scenarios; mean NPV "
                    f"{np.mean(self.npv_usd):,.0f} USD")
        c, m = self.case, self.metrics()
        pb = "never" if np.isnan(m.payback_month) else f"month {m.payback_month:.1f}"
        dpb = ("never" if np.isnan(m.discounted_payback_month)
               else f"month {m.discounted_payback_month:.1f}")
        irr_s = "n/a" if np.isnan(m.irr_annual) else f"{m.irr_annual:.1%}"
        return "\n".join([
            f"ROIResult{' ' + repr(c.name) if c.name else ''}: {int(c.horizon_months)} months at "
            f"{float(c.annual_discount_rate):.1%} a year",
            f"  order lift {m.order_lift:+.2%} (break-even {m.break_even_lift:.2%})",
            f"  PV gross profit {m.pv_gross_profit_usd:>14,.0f} USD",
            f"  PV cost         {m.pv_cost_usd:>14,.0f} USD",
            f"  NPV             {m.npv_usd:>14,.0f} USD   IRR {irr_s} a year   ROI {m.roi:.2f}",
            f"  payback {pb} (discounted: {dpb})",
            f"  break-even traffic {m.break_even_sessions_per_month:,.0f} sessions a month",
        ])


# --------------------------------------------------------------------------- sensitivity


def _fixed_split(fixed: float, by_category) -> dict:
    """``{category: USD a month}`` for the fixed costs; the parts must sum to ``fixed``."""
    if by_category is None:
        return {"operations": fixed}
    if not hasattr(by_category, "items"):
        raise TypeError(f"fixed_by_category maps a category to USD a month, got {by_category!r}")
    parts = {str(k): float(as_quantity(f"fixed_by_category[{k!r}]", v))
             for k, v in by_category.items()}
    if not np.isclose(sum(parts.values()), fixed, rtol=1e-9, atol=0.005):
        raise ValueError(f"fixed_by_category sums to {sum(parts.values()):,.2f} USD a month but "
                         f"the case has fixed_usd_per_month = {fixed:,.2f}")
    return parts

def _unknown_inputs(unknown):
    from costkit._tables import UnknownNameError, suggest

    raise UnknownNameError(f"unknown case input(s) {', '.join(unknown)}."
                           f"{suggest(unknown[0], _NUMERIC)}")


def _require_scalar_case(case, what):
    for f in _NUMERIC:
        if np.ndim(getattr(case, f)):
            raise ValueError(f"{what} starts from one case; {f} is an array")


def default_swings(case: Case, relative: float = 0.2) -> dict:
    """``{input: (low, high)}``: each non-zero continuous input of ``case`` +- ``relative``.

    Rates (CTR, CVR, margin, accuracy loss, discount rate) are capped at 1 and
    the elasticity at 0; a rate and its lift are capped so that the lifted rate
    stays at most 1 (a CVR of 0.03 lifted by 27x is impossible).

    Parameters
    ----------
    case : Case
        The business case whose inputs swing.
    relative : float, default 0.2
        Swing: ± this share of each input's value. [unitless]

    Returns
    -------
    dict
        ``{input: (low, high)}``: each non-zero continuous input of ``case`` +-
        ``relative``.

    Examples
    --------
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> default_swings(case)["cvr_lift"]
    (0.016, 0.024)
    """
    _require_scalar_case(case, "default_swings")
    rel = float(as_quantity("relative", relative))
    ctr, cvr = float(case.click_through_rate), float(case.conversion_rate)
    ctr_lift, cvr_lift = float(case.ctr_lift), float(case.cvr_lift)
    coupled = {"click_through_rate": 1 / (1 + ctr_lift), "conversion_rate": 1 / (1 + cvr_lift),
               "ctr_lift": 1 / ctr - 1 if ctr else np.inf,
               "cvr_lift": 1 / cvr - 1 if cvr else np.inf}
    out = {}
    for f in _CONTINUOUS:
        v = float(getattr(case, f))
        if v == 0:
            continue
        lo, hi = sorted((v * (1 - rel), v * (1 + rel)))
        if f in ("click_through_rate", "conversion_rate", "gross_margin", "accuracy_loss",
                 "annual_discount_rate"):
            hi = min(hi, 1.0 if f != "accuracy_loss" else 0.999)
        if f in coupled:
            hi = min(hi, coupled[f])
        out[f] = (lo, hi)
    return out


def tornado(case: Case, swings: dict | None = None, *, relative: float = 0.2) -> Frame:
    """One-at-a-time sensitivity of the NPV: each input at its low and its high value.

    All ``2 x len(swings)`` cases are evaluated in one vectorised call.

    Parameters
    ----------
    case : Case
        The business case.
    swings : dict, optional
        ``{input: (low, high)}``; default each numeric input ± ``relative``.
    relative : float, default 0.2
        Swing of each input without its own range: ± this share of its value. [unitless]

    Returns
    -------
    DataFrame
        Indexed by input: ``low``, ``high``, ``npv_low_usd``, ``npv_high_usd`` and
        ``swing_usd`` (the absolute difference), largest swing first;
        ``.attrs["base_npv_usd"]`` is the NPV of ``case``. [USD]

    Examples
    --------
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> t = tornado(case)
    >>> t.index[0], bool((t["swing_usd"] >= 0).all())
    ('cvr_lift', True)
    """
    import pandas as pd

    _require_scalar_case(case, "tornado")
    swings = default_swings(case, relative) if swings is None else dict(swings)
    unknown = sorted(set(swings) - set(_NUMERIC) - {"horizon_months"})
    if unknown:
        _unknown_inputs(unknown)
    if "horizon_months" in swings:
        raise ValueError("horizon_months cannot swing inside one evaluation; compare cases "
                         "with different horizons instead")
    names = list(swings)
    k = len(names)
    batch = {f: np.full(2 * k, float(getattr(case, f))) for f in _NUMERIC
             if f != "horizon_months"}
    for i, nm in enumerate(names):
        lo, hi = swings[nm]
        batch[nm][2 * i], batch[nm][2 * i + 1] = lo, hi
    res = case.replace(**batch).evaluate()
    npv_ = res.npv_usd.reshape(k, 2)
    df = pd.DataFrame({
        "low": [swings[n][0] for n in names], "high": [swings[n][1] for n in names],
        "npv_low_usd": npv_[:, 0], "npv_high_usd": npv_[:, 1],
        "swing_usd": np.abs(npv_[:, 1] - npv_[:, 0]),
    }, index=pd.Index(names, name="input")).sort_values("swing_usd", ascending=False)  # fmt: skip
    df.attrs["base_npv_usd"] = float(case.evaluate().npv_usd)
    return df


def _draw(name, spec, rng, n):
    if callable(spec):
        out = np.asarray(spec(rng, n), dtype=float)
    elif isinstance(spec, tuple | list) and spec and isinstance(spec[0], str):
        kind, *p = spec
        p = [float(x) for x in p]
        need = {"normal": 2, "lognormal": 2, "uniform": 2, "triangular": 3, "pert": 3}
        if kind not in need:
            raise ValueError(f"{name}: unknown distribution {kind!r}; use one of "
                             f"{sorted(need)}, an array of draws or a function (rng, n)")
        if len(p) != need[kind]:
            raise ValueError(f"{name}: {kind} takes {need[kind]} parameters, got {len(p)}")
        if kind == "normal":
            if p[1] < 0:
                raise ValueError(f"{name}: normal sd must be >= 0")
            out = rng.normal(p[0], p[1], n)
        elif kind == "lognormal":  # (median, sigma of the log)
            if p[0] <= 0 or p[1] < 0:
                raise ValueError(f"{name}: lognormal takes (median > 0, sigma >= 0)")
            out = p[0] * np.exp(rng.normal(0.0, p[1], n))
        elif kind == "uniform":
            if p[1] < p[0]:
                raise ValueError(f"{name}: uniform needs low <= high")
            out = rng.uniform(p[0], p[1], n)
        else:
            lo, mode, hi = p
            if not lo <= mode <= hi or lo == hi:
                raise ValueError(f"{name}: {kind} needs low <= mode <= high and low < high")
            if kind == "triangular":
                out = rng.triangular(lo, mode, hi, n)
            else:  # beta-PERT, lambda = 4
                a = 1 + 4 * (mode - lo) / (hi - lo)
                b = 1 + 4 * (hi - mode) / (hi - lo)
                out = lo + (hi - lo) * rng.beta(a, b, n)
    else:
        out = np.asarray(spec, dtype=float)
    if out.shape != (n,):
        raise ValueError(f"{name}: need {n} draws, got shape {out.shape}")
    return out


def _stream(seed, name: str):
    """The random stream of one named input: the seed and the name, hashed together.

    Two runs with the same seed draw an input of the same name from the same
    stream (common random numbers), so options that share an uncertain input
    can be compared draw by draw (:func:`costkit.decision.decide`).
    """
    import zlib

    if seed is None:
        raise ValueError("monte_carlo needs an integer seed: the draws must be reproducible")
    return np.random.default_rng([int(seed), zlib.crc32(str(name).encode("utf-8"))])


def monte_carlo(case: Case, distributions: dict, *, n: int = 100_000, seed: int = 0,
                progress: Callable[[int, int], object] | None = None,
                chunk_size: int = 100_000) -> MonteCarloResult:
    """NPV under uncertainty: draw the uncertain inputs, evaluate every draw at once.

    Parameters
    ----------
    case : Case
        The other inputs stay at their values here.
    distributions : dict
        ``input -> spec``; a spec is ``("normal", mean, sd)``,
        ``("lognormal", median, sigma)``, ``("uniform", low, high)``,
        ``("triangular", low, mode, high)``, ``("pert", low, mode, high)``,
        an array of ``n`` draws, or a function ``(rng, n) -> draws``. Each
        input is drawn independently from its own stream, seeded by ``seed``
        and its name: the same seed gives the same draws, and two cases run
        with the same seed share the draws of an input they both name (common
        random numbers), so their NPVs compare draw by draw.
    n : int
        Number of draws.
    progress : callable, optional
        ``progress(done, total)`` is called after each chunk of ``chunk_size``
        draws is evaluated (a progress bar for long runs). All inputs are
        drawn before the first chunk, so the result does not depend on the
        chunking.

    seed : int, default 0
        Seed of the generator (the same seed gives the same draws).
    chunk_size : int, default 100000
        Draws evaluated together (memory). [count]

    Returns
    -------
    MonteCarloResult
        NPV under uncertainty: draw the uncertain inputs, evaluate every draw at once.

    Raises
    ------
    ValueError
        A draw that is not a valid input (a margin above 1, a negative price): choose a
        bounded distribution (uniform, triangular, PERT) for it.

    Examples
    --------
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> mc = monte_carlo(case, {"cvr_lift": ("pert", 0.0, 0.02, 0.04)}, n=10_000, seed=1)
    >>> mc.n, bool(0 < mc.summary()["p_npv_positive"] <= 1)
    (10000, True)
    """
    import pandas as pd

    _require_scalar_case(case, "monte_carlo")
    n = count("n", n, minimum=1, maximum=MAX_DRAWS,
              beyond="raise costkit.roi.MAX_DRAWS if the memory allows (about 100 bytes a draw "
                     "per uncertain input)")
    unknown = sorted(set(distributions) - set(_NUMERIC))
    if unknown:
        _unknown_inputs(unknown)
    if "horizon_months" in distributions:
        raise ValueError("horizon_months cannot be drawn; run one case per horizon")
    draws = {k: _draw(k, spec, _stream(seed, k), n) for k, spec in distributions.items()}
    # a chunk's months x draws stay within a few million cells, whatever the horizon
    step = min(count("chunk_size", chunk_size, minimum=1),
               max(1, 4_000_000 // (int(case.horizon_months) + 1)))
    npv_usd, payback = np.empty(n), np.empty(n)
    for start in range(0, n, step):  # chunks bound memory and feed the progress bar
        stop = min(start + step, n)
        part = {k: v[start:stop] for k, v in draws.items()}
        try:  # the NPV and the payback month only: the other metrics are not kept
            flows = _Flows(case.replace(**part))
        except ValueError as exc:
            raise ValueError(f"a Monte Carlo draw is not a valid input: {exc}. Use a bounded "
                             "distribution (uniform, triangular, pert) for it") from None
        npv_usd[start:stop] = flows.npv_usd
        payback[start:stop] = payback_period(flows.net_usd())
        if progress is not None:
            progress(stop, n)
    return MonteCarloResult(case, pd.DataFrame(draws), npv_usd, payback, seed)


class MonteCarloResult:
    """NPV draws of :func:`monte_carlo` and their summary.

    Attributes: ``npv_usd`` and ``payback_month`` (NaN: never) per draw,
    ``draws`` (DataFrame of the inputs drawn), ``seed``;
    ``probability_positive`` = P(NPV > 0); ``percentiles()``; ``drivers()``.
    """

    def __init__(self, case, draws, npv_usd, payback_month, seed):
        self.case, self.draws, self.seed = case, draws, seed
        self.npv_usd = np.asarray(npv_usd)
        self.payback_month = np.asarray(payback_month)
        self.n = self.npv_usd.size

    @property
    def probability_positive(self) -> float:
        """Share of draws with NPV > 0."""
        return float(np.mean(self.npv_usd > 0))

    @property
    def probability_payback(self) -> float:
        """Share of draws that pay back within the horizon."""
        return float(np.mean(~np.isnan(self.payback_month)))

    def percentiles(self, q: Sequence[float] = (5, 25, 50, 75, 95)) -> Series:
        """NPV percentiles [USD] as a Series indexed by ``q``.

        Parameters
        ----------
        q : sequence of float, default (5, 25, 50, 75, 95)
            Percentiles, 0 to 100.

        Returns
        -------
        Series
            NPV percentiles [USD] as a Series indexed by ``q``.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> mc = monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01)}, n=2000)
        >>> mc.percentiles([5, 50, 95]).round(-3)
        percentile
        5      41000.0
        50    340000.0
        95    650000.0
        Name: npv_usd, dtype: float64
        """
        import pandas as pd

        return pd.Series(np.percentile(self.npv_usd, q), index=pd.Index(q, name="percentile"),
                         name="npv_usd")

    def drivers(self) -> Series:
        """Spearman rank correlation of each drawn input with the NPV, largest first.

        Returns
        -------
        Series
            Spearman rank correlation of each drawn input with the NPV, largest first.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> mc = monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01),
        ...                         "gross_margin": ("uniform", 0.18, 0.22)}, n=2000)
        >>> mc.drivers().index[0]
        'cvr_lift'
        """
        import pandas as pd

        ranks = self.draws.rank()
        npv_rank = pd.Series(self.npv_usd).rank()
        corr = ranks.apply(lambda col: col.corr(npv_rank))
        return corr.reindex(corr.abs().sort_values(ascending=False).index).rename("spearman")

    def summary(self) -> Series:
        """Mean, P(NPV > 0), P(payback), and the 5/50/95th NPV percentiles as a Series.

        Returns
        -------
        Series
            Mean, P(NPV > 0), P(payback), and the 5/50/95th NPV percentiles as a Series.

        Examples
        --------
        >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
        ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
        ...             cvr_lift=0.02, one_off_usd=2e4)
        >>> mc = monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01)}, n=2000)
        >>> round(float(mc.summary()["p_npv_positive"]), 2)
        0.97
        """
        import pandas as pd

        p = np.percentile(self.npv_usd, [5, 50, 95])
        return pd.Series({
            "draws": float(self.n), "mean_npv_usd": float(self.npv_usd.mean()),
            "p_npv_positive": self.probability_positive,
            "p_payback_within_horizon": self.probability_payback,
            "npv_p5_usd": p[0], "npv_p50_usd": p[1], "npv_p95_usd": p[2],
        })  # fmt: skip

    def __repr__(self) -> str:
        s = self.summary()
        return (f"MonteCarloResult: {self.n:,} draws (seed {self.seed}) of "
                f"{', '.join(self.draws.columns)}\n"
                f"  P(NPV > 0) = {s.p_npv_positive:.1%}; mean NPV {s.mean_npv_usd:,.0f} USD\n"
                f"  NPV 5th / 50th / 95th percentile: {s.npv_p5_usd:,.0f} / "
                f"{s.npv_p50_usd:,.0f} / {s.npv_p95_usd:,.0f} USD")


# --------------------------------------------------------------------------- scenarios


def _named(cases: Mapping[str, Case] | Sequence[Case]) -> dict[str, Case]:
    """``name -> Case`` from a mapping, or from a list of cases named by their ``name``."""
    if isinstance(cases, Mapping):
        return dict(cases)
    return {c.name or f"case {i}": c for i, c in enumerate(cases)}


def compare(cases: Mapping[str, Case] | Sequence[Case]) -> Frame:
    """Cases side by side: one row per case, evaluated together in one vectorised call.

    ``cases`` is a dict ``name -> Case`` or a list of named cases, all with the
    same ``horizon_months`` (NPVs over different horizons do not compare).

    Columns: ``order_lift``, ``incremental_gross_profit_usd_per_month`` and
    ``serving_usd_per_month`` (at full rollout), ``fixed_usd_per_month``,
    ``one_off_usd``, ``npv_usd``, ``irr_annual``, ``payback_month``,
    ``discounted_payback_month``, ``roi``, ``break_even_lift``,
    ``lift_margin`` (assumed / break-even lift), ``break_even_sessions_per_month``.

    Parameters
    ----------
    cases : mapping of str to Case, or sequence of Case
        ``{name: Case}`` or a list of cases (named by their ``name``).

    Returns
    -------
    DataFrame
        Cases side by side: one row per case, evaluated together in one vectorised call.

    Examples
    --------
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> t = compare({"BERT": case, "bigger": case.replace(cvr_lift=0.03, one_off_usd=6e4)})
    >>> t["npv_usd"].round(0).tolist()
    [342364.0, 483546.0]
    """
    import pandas as pd

    cases = _named(cases)
    if not cases:
        raise ValueError("compare needs at least one case")
    for nm, c in cases.items():
        _require_scalar_case(c, f"compare ({nm})")
    horizons = {int(c.horizon_months) for c in cases.values()}
    if len(horizons) > 1:
        raise ValueError(f"cases have different horizons {sorted(horizons)}; NPVs over different "
                         "horizons do not compare")
    first = next(iter(cases.values()))
    stacked = first.replace(**{f: np.array([float(getattr(c, f)) for c in cases.values()])
                               for f in _NUMERIC if f != "horizon_months"})
    r = stacked.evaluate()
    funnel = stacked.funnel
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(np.isfinite(r.break_even_lift) & (r.break_even_lift > 0),
                          r.order_lift / r.break_even_lift, np.nan)
    df = pd.DataFrame({
        "order_lift": r.order_lift,
        "incremental_gross_profit_usd_per_month": funnel.gross_profit_usd_per_month * r.order_lift,
        "serving_usd_per_month": funnel.searches_per_month / 1000.0
        * stacked.serving_usd_per_1k_searches,
        "fixed_usd_per_month": stacked.fixed_usd_per_month,
        "one_off_usd": stacked.one_off_usd,
        "npv_usd": r.npv_usd, "irr_annual": r.irr_annual, "payback_month": r.payback_month,
        "discounted_payback_month": r.discounted_payback_month, "roi": r.roi,
        "break_even_lift": r.break_even_lift, "lift_margin": margin,
        "break_even_sessions_per_month": r.break_even_sessions_per_month,
    }, index=pd.Index(list(cases), name="scenario"))  # fmt: skip
    df.attrs.update(horizon_months=horizons.pop(),
                    annual_discount_rate=[float(c.annual_discount_rate) for c in cases.values()])
    return df



IRR_SHOWN_UP_TO = 10.0
"""Annual IRRs above this (1,000%) are shown as "above 1,000%": they arise when the one-off
cost is tiny next to the monthly gain, and their digits say nothing a decision can use."""


def irr_label(irr_annual: float) -> str:
    """An annual IRR as a person reads it: "23%", "above 1,000%", or "n/a" (none exists).

    Parameters
    ----------
    irr_annual : float
        Annual IRR (NaN without one). [unitless]

    Returns
    -------
    str
        An annual IRR as a person reads it: "23%", "above 1,000%", or "n/a" (none exists).

    Examples
    --------
    >>> irr_label(0.234), irr_label(162.26), irr_label(float("nan"))
    ('23%', 'above 1,000%', 'n/a')
    """
    v = float(irr_annual)
    if not np.isfinite(v):
        return "n/a"
    if v > IRR_SHOWN_UP_TO:
        return f"above {IRR_SHOWN_UP_TO:,.0%}"
    return f"{v:.0%}"


# --------------------------------------------------------------------------- model size


def linear_model_cost(params_billion: Floats, complexity: Floats, *,
                      cost_per_billion_params: Floats = 125.0,
                      cost_per_complexity: Floats = 17.0) -> Floats:
    """The origin's linear cost model: ``a P + b C`` (its example: ``125 P + 17 C``).

    The origin sums hardware, software and labour, each linear in the
    parameter count P and a complexity score C. It gives no unit of money;
    costkit reads P in billions of parameters and the cost in the notebook's
    unit (thousand USD). Minimising this alone drives P to 0: see
    :func:`optimal_model_size` for what a value term changes.

    Parameters
    ----------
    params_billion : numeric
        Model size. [billion parameters]
    complexity : numeric
        Task complexity, C. [unitless]
    cost_per_billion_params : numeric, default 125.0
        Cost per billion parameters, a. [currency]
    cost_per_complexity : numeric, default 17.0
        Cost per unit of complexity, b. [currency]

    Returns
    -------
    numeric
        The origin's linear cost model: ``a P + b C`` (its example: ``125 P + 17 C``).

    Examples
    --------
    The origin document's example: ``125 P + 17 C`` for 7B parameters at complexity 10.

    >>> linear_model_cost(7, 10)
    1045.0
    """
    p = as_quantity("params_billion", params_billion)
    c = as_quantity("complexity", complexity)
    a = as_quantity("cost_per_billion_params", cost_per_billion_params)
    b = as_quantity("cost_per_complexity", cost_per_complexity)
    return wrap_like(a * p + b * c, params_billion, complexity)


def _value_args(max_value, scale_params_billion, exponent):
    v = as_quantity("max_value", max_value)
    s = as_quantity("scale_params_billion", scale_params_billion, allow_zero=False)
    a = as_quantity("exponent", exponent, allow_zero=False)
    return v, s, a


def value_of_size(params_billion: Floats, *, max_value: Floats, scale_params_billion: Floats,
                  exponent: Floats) -> Floats:
    """A saturating value of model size: ``V(P) = V_max (1 - (1 + P/P_s) ** -alpha)``.

    Zero at P = 0, rising with diminishing returns (a power-law tail, as in
    scaling laws) towards ``max_value``. Its parameters are yours to fit (e.g.
    offline metric against size, turned into money with :class:`Funnel`).

    Parameters
    ----------
    params_billion : numeric
        Model size. [billion parameters]
    max_value : numeric
        Value a model of unbounded size would reach, V_max. [currency]
    scale_params_billion : numeric
        Size at which the value is half-way saturated's scale, P_s. [billion parameters]
    exponent : numeric
        Saturation exponent of the value curve. [unitless]

    Returns
    -------
    numeric
        A saturating value of model size: ``V(P) = V_max (1 - (1 + P/P_s) ** -alpha)``.

    Examples
    --------
    >>> round(value_of_size(10, max_value=1e5, scale_params_billion=10, exponent=1.0))
    50000
    """
    p = as_quantity("params_billion", params_billion)
    v, s, a = _value_args(max_value, scale_params_billion, exponent)
    return wrap_like(v * (1.0 - (1.0 + p / s) ** -a), params_billion)


def optimal_model_size(*, max_value: Floats, scale_params_billion: Floats, exponent: Floats,
                       cost_per_billion_params: Floats = 125.0) -> Floats:
    """The size that maximises ``V(P) - a P`` (value of :func:`value_of_size` minus linear cost).

    ``V'(P) = a`` gives ``P* = P_s ((V_max alpha / (P_s a)) ** (1/(1+alpha)) - 1)``,
    or 0 when even the first parameters are worth less than they cost. The
    complexity term ``b C`` does not depend on P, so it does not move P*.

    Parameters
    ----------
    max_value : numeric
        Value a model of unbounded size would reach, V_max. [currency]
    scale_params_billion : numeric
        Size at which the value is half-way saturated's scale, P_s. [billion parameters]
    exponent : numeric
        Saturation exponent of the value curve. [unitless]
    cost_per_billion_params : numeric, default 125.0
        Cost per billion parameters, a. [currency]

    Returns
    -------
    numeric
        The size that maximises ``V(P) - a P`` (value of :func:`value_of_size` minus linear
        cost).

    Examples
    --------
    >>> round(optimal_model_size(max_value=1e5, scale_params_billion=10, exponent=1.0), 1)
    79.4
    """
    v, s, al = _value_args(max_value, scale_params_billion, exponent)
    a = as_quantity("cost_per_billion_params", cost_per_billion_params, allow_zero=False)
    x = (v * al / (s * a)) ** (1.0 / (1.0 + al))
    return wrap_like(np.maximum(s * (x - 1.0), 0.0), max_value, cost_per_billion_params)


def size_for_value(min_value: Floats, *, max_value: Floats, scale_params_billion: Floats,
                   exponent: Floats) -> Floats:
    """Smallest size whose :func:`value_of_size` reaches ``min_value`` (the quality constraint).

    ``P = P_s ((1 - V_min/V_max) ** (-1/alpha) - 1)``; raises if ``min_value >= max_value``.

    Parameters
    ----------
    min_value : numeric
        Value the model must reach. [currency]
    max_value : numeric
        Value a model of unbounded size would reach, V_max. [currency]
    scale_params_billion : numeric
        Size at which the value is half-way saturated's scale, P_s. [billion parameters]
    exponent : numeric
        Saturation exponent of the value curve. [unitless]

    Returns
    -------
    numeric
        Smallest size whose :func:`value_of_size` reaches ``min_value`` (the quality
        constraint).

    Examples
    --------
    >>> round(size_for_value(5e4, max_value=1e5, scale_params_billion=10, exponent=1.0), 1)
    10.0
    """
    vmin = as_quantity("min_value", min_value)
    v, s, a = _value_args(max_value, scale_params_billion, exponent)
    if (vmin >= v).any():
        raise ValueError("min_value must be below max_value: no size reaches it")
    return wrap_like(s * ((1.0 - vmin / v) ** (-1.0 / a) - 1.0), min_value)
