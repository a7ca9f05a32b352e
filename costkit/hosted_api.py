"""Buy or build: a hosted model's API against serving a model of that class yourself.

The hosted side is a price list (``data/api_prices.csv``: input, cached-input and output
prices per 1M tokens, each in the currency its provider publishes, with its date and
source); the self-hosted side is :func:`costkit.capacity.plan` on a
:func:`costkit.serving.estimate` replica. For a request of P prompt tokens (a share c of
them served from the provider's prompt cache) and O output tokens::

    API per request        = (P(1 - c)·p_in + P·c·p_cached + O·p_out) / 1e6
    API per month          = requests per day x 730/24 x API per request
    self-host per month    = the capacity plan's cheapest provisioning (replicas x price)
    per 1,000 searches     = per month / (searches per month / 1,000)
    break-even traffic     = the smallest daily traffic at which self-hosting costs no more

Self-hosting has a floor (``min_replicas`` kept up for redundancy) and then grows with the
traffic; the API grows in proportion from zero. So the API wins below the break-even and
self-hosting above it, when a self-hosted request costs less than an API call at all.

Money is shown in one currency: the API price converted at the exchange rate on or before
its price date, the self-hosted USD at ``fx_date`` (both from :mod:`costkit.fx`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_fraction, as_quantity, wrap_like
from ._tables import (
    Column,
    DataFileError,
    Schema,
    UnknownNameError,
    bundled_path,
    read_table,
    suggest,
)
from ._tables import stamp as _stamp
from .units import DAYS_PER_MONTH, HOURS_PER_MONTH

if TYPE_CHECKING:
    from ._typing import Floats, Frame, StrPath

__all__ = ["API_PRICE_SCHEMA", "ApiPrice", "BuyOrBuild", "MAX_REQUESTS_PER_DAY",
           "api_cost_per_request", "api_price", "api_prices", "buy_or_build"]

MAX_REQUESTS_PER_DAY = 1e9
"""The largest daily traffic a buy-or-build plan (and its break-even search) takes. [1/day]"""

_GRID = np.geomspace(1e2, MAX_REQUESTS_PER_DAY, 29)   # break-even search: x 2.1 a step


def _cached_not_above_input(cols, fail):
    for i, (inp, cached) in enumerate(zip(cols["input_per_million"],
                                          cols["cached_input_per_million"], strict=True)):
        if cached is not None and inp is not None and cached > inp:
            fail(i, "cached_input_per_million", f"the cached-input price {cached:g} is above "
                 f"the input price {inp:g}")


API_PRICE_SCHEMA = Schema(
    "hosted-API price",
    (
        Column("provider"),
        Column("model"),
        Column("currency"),
        Column("input_per_million", "float", min=0),
        Column("cached_input_per_million", "float", min=0),
        Column("output_per_million", "float", min=0, min_exclusive=True),
        Column("price_date", "date"),
        Column("source"),
        Column("note", required=False),
    ),
    key=("model", "price_date"),
    row_checks=(_cached_not_above_input,),
)


# --------------------------------------------------------------------------- the price list


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float):
    from .catalog import _fx_to
    from .fx import _iso_code

    df = read_table(path, API_PRICE_SCHEMA)
    for i, cur in enumerate(df["currency"]):
        try:
            _iso_code(cur)
        except ValueError as exc:
            raise DataFileError(f"{path}, row {i + 1} (line {i + 2}), column 'currency': "
                                f"{exc}") from None
    df["currency"] = df["currency"].str.upper()
    rate, day = _fx_to(df["currency"].tolist(), df["price_date"].astype(str).tolist(), path,
                       "USD", None, None)   # an unknown currency fails here
    for col in ("input", "cached_input", "output"):
        df[f"{col}_usd_per_million"] = df[f"{col}_per_million"] * rate
    df["fx_date"] = day
    return df.sort_values(["model", "price_date"], kind="stable").reset_index(drop=True)


def api_prices(path: StrPath | None = None) -> Frame:
    """The hosted-API price list, validated (a copy).

    Parameters
    ----------
    path : str or Path, optional
        Your own list (negotiated prices) with the columns of ``data/api_prices.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per (model, price date): provider, model, currency, input, cached-input and
        output prices per 1M tokens in that currency, the same in USD
        (``*_usd_per_million``, at the rate on or before the price date, ``fx_date``),
        ``price_date``, ``source`` and ``note``.

    Examples
    --------
    >>> p = api_prices()
    >>> sorted(set(p["currency"]))
    ['CNY', 'USD']
    """
    return _load(*_stamp(path or bundled_path("api_prices.csv"))).copy()


@dataclass(frozen=True)
class ApiPrice:
    """One hosted model's prices per 1M tokens, in the currency it is published in."""

    provider: str
    model: str
    currency: str
    input_per_million: float
    cached_input_per_million: float
    output_per_million: float
    price_date: str
    source: str
    note: str

    @property
    def age_days(self) -> int:
        """Days from ``price_date`` to today. [days]"""
        from ._age import price_age_days

        return price_age_days(self.price_date)

    def __str__(self) -> str:
        return (f"{self.provider} {self.model}: {self.input_per_million:g} input, "
                f"{self.cached_input_per_million:g} cached input, {self.output_per_million:g} "
                f"output {self.currency} per 1M tokens (price of {self.price_date}, "
                f"{self.age_days} days old)")


def api_price(model: str, *, date: str | None = None, path: StrPath | None = None) -> ApiPrice:
    """A hosted model's newest price on or before ``date`` (default: the newest).

    Parameters
    ----------
    model : str
        Model name as the provider spells it (``"deepseek-v4-flash"``), any case.
    date : str, optional
        ``YYYY-MM-DD``: the price in force then.
    path : str or Path, optional
        Your own price list.

    Returns
    -------
    ApiPrice
        Provider, currency, the three prices per 1M tokens, the date and source.

    Raises
    ------
    UnknownNameError
        A model not in the list (with the closest names).

    Examples
    --------
    >>> p = api_price("DeepSeek-V4-Flash")
    >>> p.currency, p.input_per_million, p.cached_input_per_million, p.output_per_million
    ('CNY', 1.0, 0.02, 2.0)
    """
    df = _load(*_stamp(path or bundled_path("api_prices.csv")))
    rows = df[df["model"].str.lower() == str(model).strip().lower()]
    if rows.empty:
        raise UnknownNameError(f"unknown hosted model {model!r}."
                               + suggest(str(model), sorted(set(df["model"]))))
    if date is not None:
        rows = rows[rows["price_date"] <= str(date)]
        if rows.empty:
            raise LookupError(f"no price for {model} on or before {date}")
    r = rows.iloc[-1]
    return ApiPrice(provider=r["provider"], model=r["model"], currency=r["currency"],
                    input_per_million=float(r["input_per_million"]),
                    cached_input_per_million=float(r["cached_input_per_million"]),
                    output_per_million=float(r["output_per_million"]),
                    price_date=r["price_date"], source=r["source"], note=r["note"] or "")


# --------------------------------------------------------------------------- the kernel


def api_cost_per_request(prompt_tokens: Floats, output_tokens: Floats, cached_share: Floats,
                         input_per_million: Floats, cached_input_per_million: Floats,
                         output_per_million: Floats) -> Floats:
    """What one API call costs, in the prices' currency. [currency per request]

    ``(P(1 - c)·p_in + P·c·p_cached + O·p_out) / 1e6``.

    Parameters
    ----------
    prompt_tokens, output_tokens : numeric
        Tokens in (P) and out (O) per request. [tokens]
    cached_share : numeric
        Share c of the prompt billed at the cached-input price. [0 to 1]
    input_per_million, cached_input_per_million, output_per_million : numeric
        Prices p_in, p_cached, p_out. [currency per 1M tokens]

    Returns
    -------
    numeric
        Cost of one request. [currency]

    Examples
    --------
    256 prompt tokens (60% cached) and 32 out at 1 / 0.02 / 2 CNY per 1M tokens:

    >>> round(float(api_cost_per_request(256, 32, 0.6, 1.0, 0.02, 2.0)) * 1e6, 2)
    169.47
    """
    p = as_quantity("prompt_tokens", prompt_tokens)
    o = as_quantity("output_tokens", output_tokens)
    c = as_fraction("cached_share", cached_share)
    prices = [as_quantity(n, v) for n, v in (("input_per_million", input_per_million),
                                             ("cached_input_per_million",
                                              cached_input_per_million),
                                             ("output_per_million", output_per_million))]
    cost = (p * (1.0 - c) * prices[0] + p * c * prices[1] + o * prices[2]) / 1e6
    return wrap_like(cost, prompt_tokens, output_tokens, cached_share)


# --------------------------------------------------------------------------- buy or build


@dataclass(frozen=True, repr=False)
class BuyOrBuild:
    """An API and a self-hosted fleet at one traffic, in one currency, and where they cross.

    Money in ``currency`` (per month = 730 hours); ``*_low`` / ``*_high`` are the
    self-hosted fleet's nominal 80% range. ``break_even_requests_per_day`` is None where
    self-hosting is dearer at every traffic up to :data:`MAX_REQUESTS_PER_DAY` (the note in
    ``assumptions["break_even"]`` says which). ``curve``: both sides per month over the
    traffic the break-even search walked (a DataFrame, for a chart).
    """

    api: ApiPrice
    self_host: str
    currency: str
    requests_per_day: float
    requests_per_search: float
    api_per_request: float
    api_per_month: float
    api_per_1k_searches: float
    self_per_month: float
    self_per_month_low: float
    self_per_month_high: float
    self_per_1k_searches: float
    self_strategy: str
    break_even_requests_per_day: float | None
    break_even_requests_per_day_low: float | None
    break_even_requests_per_day_high: float | None
    cheaper: str
    curve: Any = None
    slo: dict = field(default_factory=dict)
    assumptions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The figures as a plain dict (for JSON).

        Returns
        -------
        dict
            Every field but the price object, which comes as its fields.

        Examples
        --------
        >>> import costkit as ck
        >>> e = ck.serving.estimate("llama-3-8b", batch_size=32, prompt_tokens=256,
        ...                         output_tokens=32, usd_per_gpu_hour=2.0)
        >>> d = buy_or_build("gpt-5-mini", e, 1e6).to_dict()
        >>> d["currency"], d["api"]["model"]
        ('USD', 'gpt-5-mini')
        """
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "curve"}
        out["api"] = dict(self.api.__dict__)
        return out

    def __repr__(self) -> str:
        c = self.currency

        def be(x):
            return "never below the bound" if x is None else f"{x:,.0f}"

        lines = [
            f"BuyOrBuild at {self.requests_per_day:,.0f} requests a day "
            f"({self.requests_per_search:g} per search), in {c}:",
            f"  API {self.api.model} ({self.api.provider}): {self.api_per_month:,.0f} {c}/month,"
            f" {self.api_per_1k_searches:,.4f} {c} per 1,000 searches",
            f"  self-hosted {self.self_host}: {self.self_per_month:,.0f} {c}/month "
            f"({self.self_per_month_low:,.0f}-{self.self_per_month_high:,.0f}), "
            f"{self.self_per_1k_searches:,.4f} {c} per 1,000 searches ({self.self_strategy})",
            f"  cheaper here: {self.cheaper}; break-even {be(self.break_even_requests_per_day)} "
            f"requests a day (range {be(self.break_even_requests_per_day_low)} to "
            f"{be(self.break_even_requests_per_day_high)})",
            *(f"  SLO, {k}: {v}" for k, v in self.slo.items()),
            *(f"  {k}: {v}" for k, v in self.assumptions.items() if not k.endswith("warning")),
            *(f"  WARNING: {v}" for k, v in self.assumptions.items() if k.endswith("warning")),
        ]
        return "\n".join(lines)


def _curve(self_costs: np.ndarray, per_request: float):
    """Both sides per month over the searched traffic (in the result's currency)."""
    import pandas as pd

    return pd.DataFrame({"requests_per_day": _GRID,
                         "api_per_month": _GRID * per_request * DAYS_PER_MONTH,
                         "self_per_month": self_costs[:, 0],
                         "self_per_month_low": self_costs[:, 1],
                         "self_per_month_high": self_costs[:, 2]})


def _exchange_note(api_currency: str, cur: str, api_rate, usd_rate) -> str:
    """The rates used, or that none was needed."""
    parts = [f"API price at {api_rate}" if api_currency != cur else "",
             f"self-hosted USD at {usd_rate}" if cur != "USD" else ""]
    return "; ".join(p for p in parts if p) or f"none: every price is in {cur}"


def _plan_costs(serving, requests_per_day, slo_s, min_replicas, shape, paths):
    """Self-hosted USD per month (central, low, high) and the strategy, from capacity.plan."""
    from . import capacity

    plan = capacity.plan(capacity.traffic_profile(requests_per_day, shape=shape), serving,
                         slo_s=slo_s, min_replicas=min_replicas, **paths)
    best = plan.summary.loc[plan.cheapest]
    return (float(plan.monthly_cost_usd()), float(best["monthly_cost_usd_low"]),
            float(best["monthly_cost_usd_high"]), plan.cheapest)


def _break_even(costs: np.ndarray, api_per_day: float) -> float | None:
    """The smallest grid traffic from which self-hosting stays no dearer than the API.

    Between the last grid point where it was dearer and the first where it is not, the
    crossing is interpolated linearly in traffic (exact where the fleet's cost is flat
    between the two points, as it is on its floor of ``min_replicas``).
    """
    api = _GRID * api_per_day * DAYS_PER_MONTH
    dearer = costs > api
    if dearer.all():
        return None
    if not dearer.any():
        return float(_GRID[0])
    last = int(np.flatnonzero(dearer)[-1])
    if last == len(_GRID) - 1:
        return None
    g = _GRID[last:last + 2]
    gap = costs[last:last + 2] - api[last:last + 2]          # > 0, then <= 0
    t = gap[0] / (gap[0] - gap[1])
    return float(g[0] + t * (g[1] - g[0]))


def buy_or_build(api_model: str, serving: Any, requests_per_day: float, *,
                 cached_share: float = 0.0, requests_per_search: float = 1.0,
                 currency: str = "USD", fx_date: str | None = None,
                 slo_s: float | None = None, min_replicas: int = 2,
                 shape: Any = None, api_price_path: StrPath | None = None,
                 price_path: StrPath | None = None,
                 gpu_path: StrPath | None = None) -> BuyOrBuild:
    """Set calling a hosted API against self-hosting a model of that class at your traffic.

    Parameters
    ----------
    api_model : str
        A model of the price list (:func:`api_prices`).
    serving : ServingEstimate
        One self-hosted replica (:func:`costkit.serving.estimate`, scalar); its prompt and
        output tokens are the request both sides price.
    requests_per_day : float
        Traffic, at most :data:`MAX_REQUESTS_PER_DAY`. [1/day]
    cached_share : float
        Share of prompt tokens the provider bills as cached (a shared system prompt). [0 to 1]
    requests_per_search : float
        Model calls per search (0.3 when 30% of searches are rewritten), for the per-1,000-
        searches figures. [count]
    currency : str
        Currency of every figure (ISO code).
    fx_date : str, optional
        Rate date for the self-hosted USD (default: the newest rate); the API's price is
        converted at the rate on or before its own price date.
    slo_s : float, optional
        The self-hosted fleet's p95 latency target [s] (:func:`costkit.capacity.plan`).
    min_replicas : int
        Replicas the self-hosted fleet keeps up at any traffic (redundancy). [count]
    shape : sequence of 24 floats, optional
        The daily traffic curve (:func:`costkit.capacity.traffic_profile`).
    api_price_path : str or Path, optional
        Your own price list (negotiated prices).
    price_path, gpu_path : str or Path, optional
        Your own GPU price and GPU tables, for the self-hosted fleet's spot price (price
        ``serving`` with the same ``price_path``).

    Returns
    -------
    BuyOrBuild
        Both sides per month and per 1,000 searches, the self-hosted range, the break-even
        traffic with its range, which is cheaper, the SLO on each side and the assumptions.

    Examples
    --------
    >>> import costkit as ck
    >>> e = ck.serving.estimate("llama-3-8b", batch_size=32, prompt_tokens=256,
    ...                         output_tokens=32, usd_per_gpu_hour=2.0)
    >>> r = buy_or_build("deepseek-v4-flash", e, 3e6, cached_share=0.6, currency="CNY")
    >>> r.cheaper in ("API", "self-hosted")
    True
    """
    from . import fx
    from ._age import price_age_warning
    from .serving import ServingEstimate

    if not isinstance(serving, ServingEstimate) or not serving.is_scalar:
        raise TypeError("serving must be one LLM replica: a scalar costkit.serving.estimate(...)")
    lam = float(as_quantity("requests_per_day", requests_per_day, allow_zero=False))
    if lam > MAX_REQUESTS_PER_DAY:
        raise ValueError(f"requests_per_day is at most {MAX_REQUESTS_PER_DAY:.0e} "
                         f"({MAX_REQUESTS_PER_DAY / 86400:,.0f} per second), got {lam:.3g}")
    per_search = float(as_quantity("requests_per_search", requests_per_search,
                                   allow_zero=False))
    cur = fx._iso_code(currency)
    price = api_price(api_model, path=api_price_path)
    api_rate = (fx.fx_rate(price.currency, cur, date=price.price_date)
                if price.currency != cur else fx.FxRate(cur, cur, 1.0, price.price_date, ()))
    usd_rate = (fx.fx_rate("USD", cur, date=fx_date) if cur != "USD"
                else fx.FxRate("USD", "USD", 1.0, fx_date or "", ()))
    per_request = api_rate.rate * float(api_cost_per_request(
        serving.prompt_tokens, serving.output_tokens, cached_share, price.input_per_million,
        price.cached_input_per_million, price.output_per_million))
    paths = {"price_path": price_path, "gpu_path": gpu_path}
    mid, lo, hi, strategy = _plan_costs(serving, lam, slo_s, min_replicas, shape, paths)
    grid = np.array([_plan_costs(serving, g, slo_s, min_replicas, shape, paths)[:3]
                     for g in _GRID])
    per_day_usd = per_request / usd_rate.rate          # the API's cost per request in USD
    even = [_break_even(grid[:, k], per_day_usd) for k in range(3)]
    searches_k = lam / per_search * DAYS_PER_MONTH / 1e3
    curve = _curve(grid * usd_rate.rate, per_request)
    api_month = per_request * lam * DAYS_PER_MONTH
    self_month = mid * usd_rate.rate
    return BuyOrBuild(
        api=price, self_host=f"{serving.model} on {serving.n_gpus:g} x {serving.gpu}",
        currency=cur, requests_per_day=lam, requests_per_search=per_search,
        api_per_request=per_request, api_per_month=api_month,
        api_per_1k_searches=api_month / searches_k, self_per_month=self_month,
        self_per_month_low=lo * usd_rate.rate, self_per_month_high=hi * usd_rate.rate,
        self_per_1k_searches=self_month / searches_k, self_strategy=strategy,
        break_even_requests_per_day=even[0],
        # the fleet's cheap end (low cost) crosses at lower traffic
        break_even_requests_per_day_low=even[1], break_even_requests_per_day_high=even[2],
        cheaper="API" if api_month < self_month else "self-hosted", curve=curve,
        slo={"self-hosted": (f"p95 <= {slo_s:g} s planned (M/M/c queueing on the replica's "
                             "latency)" if slo_s else "no latency target given (slo_s=None)"),
             "API": "no published latency guarantee on the standard tier; rate limits and "
                    "queueing are the provider's: measure its p95 from your region"},
        assumptions={
            "request": f"{serving.prompt_tokens:g} prompt tokens ({float(cached_share):.0%} "
                       f"billed as cached) and {serving.output_tokens:g} output tokens on both "
                       "sides",
            "api_price": str(price),
            "api_source": price.source,
            **({"api_note": price.note} if price.note else {}),
            "exchange": _exchange_note(price.currency, cur, api_rate, usd_rate),
            "self_hosted": f"capacity.plan's cheapest provisioning ({strategy}), "
                           f"{min_replicas} replicas at least; price "
                           f"{serving.assumptions.get('price', '')}",
            "break_even": ("the smallest daily traffic from which self-hosting costs no more, "
                           "searched from 100 to "
                           f"{MAX_REQUESTS_PER_DAY:.0e} requests a day; None: dearer at every "
                           "traffic searched (an API call costs less than a self-hosted "
                           "request)"),
            "month": f"{HOURS_PER_MONTH:g} hours",
            **({"api_price_warning": w} if (w := price_age_warning(
                price.price_date, remedy="api_price_path=")) else {}),
        })
