"""Capacity planning: how many replicas a traffic curve and a latency SLO need, and what they cost.

The chain, each step a function you can call on its own::

    traffic [requests/s per hour]                         traffic_profile()
    replicas for a target utilisation = ceil(λ / (μ_r x ρ))   replicas_for_utilization()
    replicas for a latency SLO (M/M/c, Erlang C)          replicas_for_slo()
    replicas per hour = max(both, min_replicas)           plan()
    cost per strategy: static for peak, hourly autoscaling,
    reserved + on-demand + spot mix (cheapest)            plan() -> CapacityPlan

A replica is what :mod:`costkit.serving` describes: it serves
``requests_per_second`` when kept busy and handles ``slots`` requests at once
(the batch), each taking ``request_latency_s``.

Queueing model and where it stops being accurate
------------------------------------------------
Each hour is treated as a steady M/M/c queue: Poisson arrivals at rate λ,
c = replicas x slots servers, each finishing a request in a mean service
time S (exponential). A request waits with probability C(c, a) (Erlang C,
a = λ·S offered load) and then P(wait > t) = C·exp(-(c/S - λ)·t) [1]. The
SLO holds when S + the p-th percentile of the wait is at most the target.

- Service times of a batched LLM are closer to deterministic than
  exponential, so M/M/c *overstates* waiting (M/D/c waits are about half):
  the replica count errs on the safe side.
- Arrivals burstier than Poisson (a promotion launch, a bot) make M/M/c
  *understate* waiting; so does a batch whose latency grows with load (the
  model keeps the latency of the configured batch).
- Within an hour the rate is assumed flat; minute-level peaks above the
  hourly mean need headroom (a lower target utilisation).
- The SLO is on server time only: network, retrieval and queueing in front
  of the model are not counted.

Default assumptions (in every :class:`CapacityPlan`)
-----------------------------------------------------
- Traffic shape: :data:`RETAIL_HOURLY_SHAPE`, an illustrative retail curve
  (night trough at 04:00 about 0.2 x the daily mean, evening peak at 21:00
  about 1.9 x); pass your own hourly series.
- Target utilisation 0.7; at least 2 replicas (one can fail or restart).
- Reserved price: on-demand x (1 - 0.37), Google Cloud's resource-based
  1-year committed-use discount for GPUs; pass your negotiated discount.
- Spot: on-demand x the median spot / on-demand ratio of the GPU's catalog
  offers that list both (:func:`spot_price_ratio`, 0.60 for H100); 5% of spot capacity
  assumed lost to interruptions at any time (over-provisioned to cover it),
  and at most half of each hour's replicas on spot.
- 730 hours per month; autoscaling in whole hours, at least ``min_replicas``.

References
----------
- [1] Kleinrock, "Queueing Systems, Volume 1: Theory", Wiley, 1975,
  Sec. 3.5 (M/M/m, Erlang's C formula, waiting-time distribution).
- [2] Harchol-Balter, "Performance Modeling and Design of Computer
  Systems", Cambridge University Press, 2013, Ch. 14 (M/M/k, square-root
  staffing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_fraction, as_quantity, broadcast, count, wrap_like

if TYPE_CHECKING:
    from ._typing import Floats, Frame, Series, StrPath
    from .ledger import Ledger
    from .serving import EncoderEstimate, RecommenderEstimate, ServingEstimate

__all__ = [
    "DEFAULT_RESERVED_DISCOUNT", "HOURS_PER_MONTH", "MAX_REPLICAS", "RETAIL_HOURLY_SHAPE",
    "CapacityPlan",
    "erlang_c", "plan", "replicas_for_slo", "replicas_for_utilization", "spot_price_ratio",
    "traffic_profile", "wait_time_quantile_s",
]  # fmt: skip

HOURS_PER_MONTH = 730.0
"""Hours in an average month (8,760 / 12)."""
DEFAULT_RESERVED_DISCOUNT = 0.37
"""Google Cloud's resource-based 1-year committed-use discount for GPUs [unitless]
(3-year: 0.55). AWS Savings Plans and reserved instances are of the same order."""
MAX_TRAFFIC_DAYS = 366
"""Longest traffic profile :func:`traffic_profile` makes [days]; raise it to go past."""
MAX_QUEUE_CELLS = 50_000_000
"""Most servers x hours the SLO search tabulates (8 bytes a cell); raise it to go past."""
MAX_REPLICAS = 1_000_000
"""The largest fleet :func:`plan` prices (replicas in one hour): beyond it the traffic is far
outside what one configuration's plan is for, and the reserved-count search would not end."""
DEFAULT_TARGET_UTILIZATION = 0.7
DEFAULT_SPOT_INTERRUPTION = 0.05
DEFAULT_MAX_SPOT_FRACTION = 0.5

RETAIL_HOURLY_SHAPE = np.array([
    0.55, 0.38, 0.27, 0.21, 0.19, 0.22, 0.35, 0.55, 0.78, 0.95, 1.05, 1.12,
    1.18, 1.12, 1.06, 1.05, 1.08, 1.15, 1.30, 1.50, 1.70, 1.78, 1.55, 1.00,
])
RETAIL_HOURLY_SHAPE = RETAIL_HOURLY_SHAPE / RETAIL_HOURLY_SHAPE.mean()
"""Relative traffic per local hour 0-23 of an illustrative retail site (mean 1):
trough at 04:00 (0.2 x mean), lunch plateau, evening peak at 21:00 (1.9 x)."""


# --------------------------------------------------------------------------- traffic


def traffic_profile(daily_requests: Floats, *, shape: Sequence[float] | None = None, days: int = 1,
                    promotion_multiplier: Floats = 1.0, promotion_days: Sequence[int] = (0,),
                    promotion_hours: Sequence[int] = tuple(range(24))) -> Series:
    """Requests per second for each hour of ``days`` days: a diurnal curve with promotions.

    Parameters
    ----------
    daily_requests : float
        Requests on an ordinary day. [requests/day]
    shape : array of 24 floats, optional
        Relative traffic per hour (any scale; normalised to mean 1).
        Default :data:`RETAIL_HOURLY_SHAPE`.
    days : int
        Days in the profile. [days]
    promotion_multiplier : float
        Traffic multiple during a promotion (Singles' Day, Black Friday),
        >= 1. [unitless]
    promotion_days : sequence of int
        Days (0-based) with the promotion.
    promotion_hours : sequence of int
        Hours (0-23) of those days that the promotion lifts.

    Returns
    -------
    pandas.Series
        ``requests_per_second`` indexed by ``hour`` (0 to 24·days - 1).

    Examples
    --------
    >>> t = traffic_profile(8.64e6)            # 100 requests/s on average
    >>> round(float(t.mean()), 6), round(float(t.max() / t.mean()), 2)
    (100.0, 1.93)
    """
    import pandas as pd

    q = float(as_quantity("daily_requests", daily_requests, allow_zero=False))
    w = RETAIL_HOURLY_SHAPE if shape is None else as_quantity("shape", shape)
    if w.shape != (24,) or w.sum() <= 0:
        raise ValueError(f"shape must be 24 non-negative hourly weights, got shape {w.shape}")
    w = w / w.mean()
    days = count("days", days, minimum=1, maximum=MAX_TRAFFIC_DAYS,
                 beyond="raise costkit.capacity.MAX_TRAFFIC_DAYS to go past")
    m = float(as_quantity("promotion_multiplier", promotion_multiplier))
    if m < 1:
        raise ValueError(f"promotion_multiplier must be >= 1, got {m!r}")
    rps = np.tile(w * q / 86400.0, days)
    if m != 1.0:
        pd_ = np.asarray([count("promotion_days", d) for d in np.atleast_1d(promotion_days)])
        ph = np.asarray([count("promotion_hours", h) for h in np.atleast_1d(promotion_hours)])
        if ((pd_ < 0) | (pd_ >= days)).any() or ((ph < 0) | (ph > 23)).any():
            raise ValueError(f"promotion_days must be in 0..{days - 1} and promotion_hours in "
                             "0..23")
        idx = (pd_[:, None] * 24 + ph[None, :]).ravel()
        rps[idx] *= m
    return pd.Series(rps, index=pd.RangeIndex(24 * days, name="hour"), name="requests_per_second")


# --------------------------------------------------------------------------- queueing


def _erlang_b_upto(a, c_max):
    """Erlang B for every server count 0..c_max (rows) and each load in ``a`` (columns)."""
    a = np.atleast_1d(a)
    out = np.empty((int(c_max) + 1, a.size))
    out[0] = 1.0
    b = np.ones(a.size)
    for k in range(1, int(c_max) + 1):       # loop over servers, vectorised over scenarios
        b = a * b / (k + a * b)
        out[k] = b
    return out


def erlang_c(servers: Floats, offered_load: Floats) -> Floats:
    r"""Probability that an arriving request waits (M/M/c, Erlang's C formula). [unitless]

    .. math:: C(c, a) = \frac{c\,B(c, a)}{c - a\,(1 - B(c, a))}

    with B the Erlang B blocking probability (computed by its stable
    recursion) and ``a`` = λ / μ the offered load in Erlangs [1]. Returns 1
    where the queue is unstable (a >= c).

    Parameters
    ----------
    servers : numeric
        Servers c, a whole number >= 1. [count]
    offered_load : numeric
        Offered load a = arrival rate x mean service time. [Erlang]

    Returns
    -------
    numeric
        Probability that an arriving request waits (M/M/c, Erlang's C formula). [unitless]

    Examples
    --------
    Two Erlangs on three servers: B = 4/19, so C = 4/9.

    >>> round(erlang_c(3, 2.0), 6)
    0.444444
    """
    c = as_quantity("servers", servers, allow_zero=False)
    if (np.mod(c, 1) != 0).any():
        raise ValueError("servers must be a whole number")
    a = as_quantity("offered_load", offered_load)
    c_b, a_b = broadcast(servers=c, offered_load=a)
    table = _erlang_b_upto(a_b.ravel(), c_b.max())
    bc = table[c_b.ravel().astype(int), np.arange(a_b.size)]
    cb = c_b.ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        pw = cb * bc / (cb - a_b.ravel() * (1.0 - bc))
    pw = np.where(a_b.ravel() >= cb, 1.0, np.clip(pw, 0.0, 1.0))
    return wrap_like(pw.reshape(c_b.shape), servers, offered_load)


def wait_time_quantile_s(servers: Floats, arrival_rate_rps: Floats, service_time_s: Floats,
                         percentile: Floats = 0.95) -> Floats:
    """The ``percentile`` of the time a request waits before service in M/M/c. [s]

    P(W > t) = C(c, a)·exp(-(c/S - λ)·t), so the p-quantile is
    max(0, ln(C / (1 - p)) / (c/S - λ)): zero when fewer than 1 - p of the
    requests wait at all; infinite when the queue is unstable (λ·S >= c).

    Parameters
    ----------
    servers : numeric
        Servers (replica slots), c. [count]
    arrival_rate_rps : numeric
        Mean arrival rate of requests. [1/s]
    service_time_s : numeric
        Mean time one request holds a slot. [s]
    percentile : numeric, default 0.95
        Percentile of the latency that must meet the SLO. [unitless, 0-1]

    Returns
    -------
    numeric
        The ``percentile`` of the time a request waits before service in M/M/c. [s]

    Examples
    --------
    >>> round(wait_time_quantile_s(3, 2.0, 1.0, 0.95), 4)   # ln((4/9) / 0.05) / (3 - 2)
    2.1848
    """
    c = as_quantity("servers", servers, allow_zero=False)
    lam = as_quantity("arrival_rate_rps", arrival_rate_rps)
    s = as_quantity("service_time_s", service_time_s, allow_zero=False)
    p = as_fraction("percentile", percentile)
    if (p >= 1).any() or (p <= 0).any():
        raise ValueError("percentile must be between 0 and 1, e.g. 0.95")
    c, lam, s, p = broadcast(servers=c, arrival_rate_rps=lam, service_time_s=s, percentile=p)
    pw = np.asarray(erlang_c(c, lam * s))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(pw / (1.0 - p)) / (c / s - lam)
    t = np.where(lam * s >= c, np.inf, np.maximum(t, 0.0))
    return wrap_like(t, servers, arrival_rate_rps, service_time_s, percentile)


def replicas_for_utilization(arrival_rate_rps: Floats, replica_rps: Floats, *,
                             target_utilization: Floats = DEFAULT_TARGET_UTILIZATION,
                             min_replicas: Floats = 1) -> Floats:
    """Replicas that serve ``arrival_rate_rps`` with each at most ``target_utilization`` busy.

    ceil(λ / (μ_replica x ρ)), at least ``min_replicas``. [count]

    Parameters
    ----------
    arrival_rate_rps : numeric
        Mean arrival rate of requests. [1/s]
    replica_rps : numeric
        Requests per second one replica serves flat out. [1/s]
    target_utilization : numeric, default 0.7
        Busiest each replica may be. [unitless, 0-1]
    min_replicas : numeric, default 1
        Fewest replicas ever run. [count]

    Returns
    -------
    numeric
        Replicas that serve ``arrival_rate_rps`` with each at most ``target_utilization``
        busy.

    Examples
    --------
    >>> replicas_for_utilization(100.0, 30.0, target_utilization=0.7)
    5.0
    """
    lam = as_quantity("arrival_rate_rps", arrival_rate_rps)
    mu = as_quantity("replica_rps", replica_rps, allow_zero=False)
    rho = as_fraction("target_utilization", target_utilization)
    if (rho == 0).any():
        raise ValueError("target_utilization must be > 0")
    m = as_quantity("min_replicas", min_replicas)
    r = np.maximum(np.ceil(lam / (mu * rho) - 1e-9), m)
    return wrap_like(r, arrival_rate_rps, replica_rps)


def replicas_for_slo(arrival_rate_rps: Floats, service_time_s: Floats, slo_s: Floats, *,
                     slots_per_replica: Floats = 1, percentile: Floats = 0.95,
                     min_replicas: Floats = 1, max_replicas: int = 100_000) -> Floats:
    """Fewest replicas for which service time + the M/M/c wait percentile meets an SLO. [count]

    A replica has ``slots_per_replica`` servers (its batch), each taking
    ``service_time_s`` per request. The SLO holds when service time + the
    ``percentile`` of the wait (:func:`wait_time_quantile_s`) <= ``slo_s``.
    Vectorised over arrival rates (the hours of a day): the search walks
    the server count once for all of them.

    Raises ``ValueError`` when the service time alone exceeds the SLO (no
    number of replicas helps: use a faster GPU, a smaller batch or model).

    Parameters
    ----------
    arrival_rate_rps : numeric
        Mean arrival rate of requests. [1/s]
    service_time_s : numeric
        Mean time one request holds a slot. [s]
    slo_s : numeric
        Latency target at the percentile: service time + wait. [s]
    slots_per_replica : numeric, default 1
        Requests one replica serves at once. [count]
    percentile : numeric, default 0.95
        Percentile of the latency that must meet the SLO. [unitless, 0-1]
    min_replicas : numeric, default 1
        Fewest replicas ever run. [count]
    max_replicas : int, default 100000
        Largest fleet searched; a bigger need raises. [count]

    Returns
    -------
    numeric
        Fewest replicas for which service time + the M/M/c wait percentile meets an SLO.
        [count]

    Examples
    --------
    >>> replicas_for_slo([1.0, 20.0], service_time_s=0.5, slo_s=1.0)
    array([ 2., 13.])
    """
    lam = as_quantity("arrival_rate_rps", arrival_rate_rps)
    s = float(as_quantity("service_time_s", service_time_s, allow_zero=False))
    slo = float(as_quantity("slo_s", slo_s, allow_zero=False))
    k = float(as_quantity("slots_per_replica", slots_per_replica, allow_zero=False))
    p = float(as_fraction("percentile", percentile))
    if not 0 < p < 1:
        raise ValueError("percentile must be between 0 and 1, e.g. 0.95")
    if s > slo:
        raise ValueError(f"the service time {s:.3g} s alone exceeds the SLO of {slo:.3g} s; no "
                         "replica count meets it (use a faster GPU, a smaller batch or model)")
    slack = slo - s
    flat = lam.ravel()
    a = flat * s
    out = np.full(flat.size, np.nan)
    # servers needed grow about like a + z·sqrt(a): cap the walk generously
    c_cap = int(np.ceil(a.max() + 10.0 * np.sqrt(a.max()) + 20.0 * k + 10.0)) if a.size else 1
    c_cap = min(c_cap, int(max_replicas * k))
    if (c_cap + 1) * max(a.size, 1) > MAX_QUEUE_CELLS:
        raise ValueError(
            f"the SLO search needs up to {c_cap:,} servers x {a.size:,} hours "
            f"({(c_cap + 1) * a.size * 8 / 1e9:,.1f} GB), more than "
            f"costkit.capacity.MAX_QUEUE_CELLS ({MAX_QUEUE_CELLS:,} cells): at "
            f"{flat.max():,.4g} requests/s the fleet is beyond what an M/M/c table is for; size "
            "it with replicas_for_utilization, plan fewer hours, or raise the limit")
    table = _erlang_b_upto(a, c_cap)
    for r in range(1, int(c_cap // k) + 1):     # loop over replica counts, vectorised over hours
        ci = int(np.floor(r * k + 1e-9))       # whole servers: (B / S) x S = 5.999... is 6
        c = float(ci)
        bc = table[min(ci, c_cap)]
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = np.clip(c * bc / (c - a * (1.0 - bc)), 0.0, 1.0)
            t = np.log(pw / (1.0 - p)) / (c / s - flat)
        ok = (a < c) & (np.maximum(t, 0.0) <= slack + 1e-12)
        newly = ok & np.isnan(out)
        out[newly] = r
        if not np.isnan(out).any():
            break
    if np.isnan(out).any():
        raise ValueError(f"no replica count up to {max_replicas:,} meets the SLO for "
                         f"{flat[np.isnan(out)].max():.4g} requests/s")
    out = np.maximum(out, float(as_quantity("min_replicas", min_replicas)))
    return wrap_like(out.reshape(lam.shape), arrival_rate_rps)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, repr=False)
class CapacityPlan:
    """Replicas per hour and the monthly cost of each provisioning strategy.

    ``hourly``: a DataFrame indexed by hour with ``requests_per_second``,
    ``replicas_utilization``, ``replicas_slo``, ``replicas_needed`` and the
    replicas each strategy runs (``static_peak``, ``autoscale``,
    ``mix_reserved``, ``mix_on_demand``, ``mix_spot``). ``summary``: one row
    per strategy with ``replica_hours_per_month``, ``monthly_cost_usd``,
    ``usd_per_1k_requests``, ``peak_replicas`` and ``mean_utilization`` (busy
    share of the replicas paid for), and, for a plan made from a serving
    estimate, ``<figure>_low`` / ``<figure>_high`` of the replica-hours, cost,
    USD per 1,000 requests and peak replicas at the two ends of the estimate's
    nominal 80% range. ``cheapest`` names the strategy with
    the lowest monthly cost; ``assumptions`` lists prices and defaults.
    """

    hourly: Frame
    summary: Frame
    reserved_replicas: int
    assumptions: dict = field(default_factory=dict)
    label: str = ""

    @property
    def cheapest(self) -> str:
        """The strategy with the lowest monthly cost."""
        return str(self.summary["monthly_cost_usd"].idxmin())

    def monthly_cost_usd(self, strategy: str | None = None) -> float:
        """Monthly cost of ``strategy`` (default the cheapest). [USD/month]

        Parameters
        ----------
        strategy : str, optional
            Provisioning strategy; default the cheapest.

        Returns
        -------
        float
            Monthly cost of ``strategy`` (default the cheapest). [USD/month]

        Examples
        --------
        >>> p = plan(traffic_profile(2e6), replica_rps=25.0, request_latency_s=0.04,
        ...          usd_per_replica_hour=1.0)
        >>> p.cheapest, round(p.monthly_cost_usd()), round(p.monthly_cost_usd("static_peak"))
        ('mix', 1041, 2190)
        """
        return float(self.summary.loc[self._strategy(strategy), "monthly_cost_usd"])

    def _strategy(self, strategy):
        s = self.cheapest if strategy is None else strategy
        if s not in self.summary.index:
            raise ValueError(f"unknown strategy {s!r}; one of {', '.join(self.summary.index)}")
        return s

    def to_ledger(self, ledger: Ledger | None = None, *, strategy: str | None = None,
                  months: Floats = 1.0, phase: str = "run", name: str | None = None) -> Ledger:
        """Add ``months`` of serving under ``strategy`` (default the cheapest) to a ledger.

        One line per price class (reserved, on-demand, spot) in replica-hours
        x USD per replica-hour, in the ``run`` phase of the four-part model.

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.
        strategy : str, optional
            Provisioning strategy (a row of the plan's ``summary``); default the
            cheapest.
        months : numeric, default 1.0
            Months of serving. [month]
        phase : str, default 'run'
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str, optional
            Name of the ledger line; default from the plan's label and strategy.

        Returns
        -------
        Ledger
            The ledger with the serving line.

        Examples
        --------
        >>> p = plan(traffic_profile(2e6), replica_rps=25.0, request_latency_s=0.04,
        ...          usd_per_replica_hour=1.0)
        >>> led = p.to_ledger(months=12)
        >>> round(float(led.by_phase()["run"]))
        12498
        """
        from .ledger import Ledger

        s = self._strategy(strategy)
        m = float(as_quantity("months", months))
        led = Ledger(title=self.label or "serving") if ledger is None else ledger
        a = self.assumptions
        scale = HOURS_PER_MONTH / len(self.hourly) * m
        what = name or f"serving{': ' + self.label if self.label else ''}"
        parts = {"static_peak": [("static_peak", a["usd_per_replica_hour"], "on-demand")],
                 "autoscale": [("autoscale", a["usd_per_replica_hour"], "on-demand")],
                 "mix": [("mix_reserved", a["reserved_usd_per_replica_hour"], "reserved"),
                         ("mix_on_demand", a["usd_per_replica_hour"], "on-demand"),
                         ("mix_spot", a["spot_usd_per_replica_hour"], "spot")]}[s]
        for col, price, kind in parts:
            hours = float(self.hourly[col].sum()) * scale
            if hours > 0:
                led.add_compute(phase, f"{what} ({s}, {kind})", hours=hours,
                                usd_per_hour=price, unit="replica-hour",
                                note=f"{m:g} month(s) of {a['replica']}")
        return led

    def _repr_html_(self) -> str:
        from ._html import frame_table

        table = self.summary.reset_index()[["strategy", "replica_hours_per_month",
                                            "monthly_cost_usd", "usd_per_1k_requests",
                                            "peak_replicas", "mean_utilization"]]
        return frame_table(f"CapacityPlan{': ' + self.label if self.label else ''}: cheapest "
                           f"{self.cheapest}, {len(self.hourly)} hours", table, self.assumptions)

    def __repr__(self) -> str:
        a = self.assumptions
        lines = [f"CapacityPlan{': ' + self.label if self.label else ''} over "
                 f"{len(self.hourly)} hours; peak {self.hourly['requests_per_second'].max():,.1f} "
                 f"requests/s, {a['replica']}",
                 f"  {'strategy':<13}{'replica-h/month':>17}{'USD/month':>14}"
                 f"{'USD/1k req':>12}{'utilisation':>13}"]
        ranged = "monthly_cost_usd_low" in self.summary
        if ranged:
            lines[-1] += f"{'80% range USD/month':>24}"
        for s, r in self.summary.iterrows():
            lines.append(f"  {s:<13}{r.replica_hours_per_month:>17,.0f}"
                         f"{r.monthly_cost_usd:>14,.0f}{r.usd_per_1k_requests:>12.4g}"
                         f"{r.mean_utilization:>13.0%}"
                         + (f"{r.monthly_cost_usd_low:>13,.0f}-{r.monthly_cost_usd_high:<10,.0f}"
                            if ranged else ""))
        lines += [f"  cheapest: {self.cheapest} ({self.reserved_replicas} reserved replicas in "
                  "the mix)",
                  f"  SLO: {a['slo']}; target utilisation {a['target_utilization']:g}; "
                  f"min {a['min_replicas']:g} replicas",
                  f"  prices per replica-hour: on-demand {a['usd_per_replica_hour']:.3f}, "
                  f"reserved {a['reserved_usd_per_replica_hour']:.3f}, spot "
                  f"{a['spot_usd_per_replica_hour']:.3f} USD"]
        return "\n".join(lines)


def spot_price_ratio(gpu: str, *, price_path: StrPath | None = None,
                     gpu_path: StrPath | None = None) -> tuple[float, str]:
    """Median spot / on-demand price ratio of ``gpu``'s offers that list both. [unitless]

    Spot and on-demand medians over *all* offers compare different clouds
    (spot is sold mostly by the big three), so the ratio is taken offer by
    offer. A GPU with no such offer gets the median over all GPUs. Returns
    ``(ratio, note)``.

    Parameters
    ----------
    gpu : str
        Accelerator name from the catalog.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    tuple of (float, str)
        ``(ratio, note)``: the median spot / on-demand ratio and where it comes from.

    Examples
    --------
    >>> round(spot_price_ratio("H100-SXM")[0], 2)
    0.6
    """
    from .catalog import gpu as lookup
    from .catalog import gpu_prices

    name = lookup(gpu, path=gpu_path).name
    df = gpu_prices(price_path, gpu_path=gpu_path)
    both = df[df["spot_usd_per_gpu_hour"].notna() & df["on_demand_usd_per_gpu_hour"].notna()]
    r = both["spot_usd_per_gpu_hour"] / both["on_demand_usd_per_gpu_hour"]
    mine = r[both["gpu"] == name]
    if len(mine):
        return float(mine.median()), (f"spot = on-demand x {mine.median():.2f}, the median "
                                      f"ratio of {len(mine)} {name} offers with both prices")
    if not len(r):
        raise LookupError("no offer in the price catalog lists both spot and on-demand prices")
    return float(r.median()), (f"spot = on-demand x {r.median():.2f}, the median ratio over all "
                               f"GPUs ({name} has no offer with both prices)")


def _replica_from(serving):
    """(requests/s, latency s, slots, USD/replica-hour, gpu, n_gpus) of a serving estimate."""
    for attr in ("requests_per_second", "request_latency_s", "usd_per_replica_hour"):
        if not hasattr(serving, attr):
            raise TypeError("serving must be a ServingEstimate, EncoderEstimate or "
                            f"RecommenderEstimate (it has no {attr})")
    if np.ndim(serving.requests_per_second) != 0:
        raise ValueError("plan() takes one serving configuration; pick one from to_frame()")
    if not np.all(getattr(serving, "fits_in_memory", True)):
        raise ValueError("that serving configuration does not fit in memory")
    rps = float(serving.requests_per_second)
    lat = float(serving.request_latency_s)
    return (rps, lat, rps * lat, float(serving.usd_per_replica_hour), serving.gpu,
            float(getattr(serving, "n_gpus", 1.0)))


def _spot_cover(excess, eligible, q, usd_on_demand, usd_spot):
    """Spot and on-demand replicas for each hour's ``excess`` over the reserved ones.

    Replicas come whole, so covering ``e`` replicas with spot takes
    k = ceil(e / (1 - q)) of them, which can cost more than ``e`` on-demand
    (one replica at q = 0.05 takes two spot ones). Each hour takes the
    cheapest of: all ``eligible`` on spot (k), one spot replica fewer (k - 1,
    covering floor((k - 1)(1 - q))), or none, so the mix never costs more
    than on-demand alone.
    """
    k_all = np.maximum(np.ceil(eligible / (1.0 - q) - 1e-9), 0.0)
    best_spot, best_od = np.zeros_like(excess), excess.copy()
    best_cost = excess * usd_on_demand
    if not np.isfinite(usd_spot):
        return best_spot, best_od
    for k in (k_all, np.maximum(k_all - 1.0, 0.0)):
        covered = np.minimum(np.floor(k * (1.0 - q) + 1e-9), eligible)
        cost = k * usd_spot + (excess - covered) * usd_on_demand
        better = cost < best_cost - 1e-12
        best_spot = np.where(better, k, best_spot)
        best_od = np.where(better, excess - covered, best_od)
        best_cost = np.where(better, cost, best_cost)
    return best_spot, best_od


def plan(traffic_rps: Floats,
         serving: ServingEstimate | EncoderEstimate | RecommenderEstimate | None = None, *,
         replica_rps: Floats | None = None, request_latency_s: Floats | None = None,
         slots_per_replica: Floats | None = None, usd_per_replica_hour: Floats | None = None,
         spot_usd_per_replica_hour: Floats | None = None, slo_s: Floats | None = None,
         percentile: Floats = 0.95, target_utilization: Floats = DEFAULT_TARGET_UTILIZATION,
         min_replicas: int = 2, reserved_discount: Floats = DEFAULT_RESERVED_DISCOUNT,
         spot_interruption_rate: Floats = DEFAULT_SPOT_INTERRUPTION,
         max_spot_fraction: Floats = DEFAULT_MAX_SPOT_FRACTION, use_spot: bool = True,
         label: str = "", price_path: StrPath | None = None,
         gpu_path: StrPath | None = None) -> CapacityPlan:
    """Replicas per hour for a traffic curve and an SLO, and the cheapest way to buy them.

    Parameters
    ----------
    traffic_rps : Series or array
        Requests per second in each hour (:func:`traffic_profile`). [1/s]
    serving : ServingEstimate, EncoderEstimate or RecommenderEstimate, optional
        One replica's configuration; gives ``replica_rps``,
        ``request_latency_s``, ``slots_per_replica`` (its batch) and the
        on-demand price; the spot price comes from the catalog for its GPU.
    replica_rps, request_latency_s, slots_per_replica, usd_per_replica_hour : numeric, optional
        Instead of ``serving`` (or to override it): capacity [1/s], service
        time [s], concurrent requests [count] and price [USD/replica-hour].
    spot_usd_per_replica_hour : float, optional
        Spot price; default the on-demand price x :func:`spot_price_ratio`.
    slo_s : float, optional
        Latency target for the ``percentile`` of requests [s]; none by default.
    percentile : float
        0.95 for p95, 0.99 for p99. [unitless]
    target_utilization : float
        Busy share each replica may reach [0 to 1]; 0.7 by default.
    min_replicas : int
        Floor on replicas in every hour (redundancy). [count]
    reserved_discount : float
        Reserved / committed price = on-demand x (1 - discount). [0 to 1]
    spot_interruption_rate : float
        Share of spot capacity assumed lost at any time; spot replicas are
        over-provisioned by 1 / (1 - rate). [0 to 1)
    max_spot_fraction : float
        At most this share of each hour's needed replicas on spot. [0 to 1]
    use_spot : bool
        False leaves spot out of the mix.
    label : str, default ''
        Name of what is served, shown in the result.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    CapacityPlan
        Replicas per hour under each strategy, the monthly cost of each, the cheapest, and
        the assumptions.

    Notes
    -----
    Strategies: ``static_peak`` runs the peak hour's replicas all the time,
    on demand; ``autoscale`` runs each hour's need on demand; ``mix`` buys R
    reserved replicas for every hour and covers the rest with spot (up to
    the cap, over-provisioned for interruptions) and on-demand. R is chosen
    by evaluating every R from 0 to the peak at once and keeping the
    cheapest. Monthly figures scale the profile to 730 hours.

    Examples
    --------
    Two million requests a day on replicas that serve 25 requests a second:

    >>> p = plan(traffic_profile(2e6), replica_rps=25.0, request_latency_s=0.04,
    ...          usd_per_replica_hour=1.0)
    >>> p.summary[["monthly_cost_usd", "peak_replicas"]].round(0)  # doctest: +NORMALIZE_WHITESPACE
                 monthly_cost_usd  peak_replicas
    strategy
    static_peak            2190.0            3.0
    autoscale              1582.0            3.0
    mix                    1041.0            3.0
    """
    import pandas as pd

    if not isinstance(use_spot, bool | np.bool_):
        raise TypeError(f"use_spot must be True or False, got {use_spot!r}")
    rps_r, lat, slots, price, gpu, replica_label = _replica(
        serving, replica_rps, request_latency_s, slots_per_replica, usd_per_replica_hour)
    disc = float(as_fraction("reserved_discount", reserved_discount))
    q = float(as_fraction("spot_interruption_rate", spot_interruption_rate))
    if q >= 1:
        raise ValueError("spot_interruption_rate must be below 1")
    cap_f = float(as_fraction("max_spot_fraction", max_spot_fraction))
    spot, spot_note = _spot(spot_usd_per_replica_hour, use_spot, gpu, price, price_path,
                            gpu_path)
    index = getattr(traffic_rps, "index", None)
    lam = as_quantity("traffic_rps", traffic_rps)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError("traffic_rps must be a 1-d series of hourly request rates")
    mn = float(as_quantity("min_replicas", min_replicas))
    r_util, r_slo, slo_note = _needs(lam, rps_r, lat, slots, slo_s, percentile,
                                     target_utilization, mn)
    need = np.maximum(r_util, r_slo)
    peak = float(need.max())
    if peak > MAX_REPLICAS:
        raise ValueError(
            f"the busiest hour ({lam.max():,.4g} requests/s) needs {peak:,.4g} replicas of "
            f"{rps_r:,.4g} requests/s, more than costkit.capacity.MAX_REPLICAS "
            f"({MAX_REPLICAS:,}): check the traffic's unit (requests per second here, per day "
            "in traffic_profile), or raise the limit")
    hours = lam.size
    mix = _cheapest_mix(need, price, price * (1.0 - disc), spot, q, cap_f)
    hourly = pd.DataFrame({
        "requests_per_second": lam, "replicas_utilization": r_util, "replicas_slo": r_slo,
        "replicas_needed": need, "static_peak": np.full(hours, peak), "autoscale": need,
        "mix_reserved": np.full(hours, float(mix.reserved)), "mix_on_demand": mix.on_demand,
        "mix_spot": mix.spot,
    })  # fmt: skip
    if index is not None:
        hourly.index = index
    summary = _strategies(lam, rps_r, need, price, mix)
    assumptions = {
        "replica": replica_label,
        "replica_rps": rps_r, "request_latency_s": lat, "slots_per_replica": slots,
        "slo": slo_note, "target_utilization": float(np.asarray(target_utilization)),
        "min_replicas": mn, "usd_per_replica_hour": price,
        "reserved_discount": disc,
        "reserved_usd_per_replica_hour": price * (1.0 - disc),
        "spot_usd_per_replica_hour": float(spot) if np.isfinite(spot) else float("nan"),
        "spot": spot_note + ("" if mix.spot_used or not np.isfinite(spot) else
                             "; not cheaper than on-demand after interruptions, left out"),
        "spot_interruption_rate": q, "max_spot_fraction": cap_f,
        "hours_per_month": HOURS_PER_MONTH,
        "queueing": "M/M/c per hour (Erlang C); see costkit.capacity for its limits",
    }  # fmt: skip
    if serving is not None and replica_rps is None and request_latency_s is None:
        summary, assumptions["range"] = _plan_range(
            summary, serving, traffic_rps, dict(
                slots_per_replica=slots, usd_per_replica_hour=price,
                spot_usd_per_replica_hour=float(spot) if np.isfinite(spot) else None,
                slo_s=slo_s, percentile=percentile, target_utilization=target_utilization,
                min_replicas=min_replicas, reserved_discount=reserved_discount,
                spot_interruption_rate=spot_interruption_rate,
                max_spot_fraction=max_spot_fraction, use_spot=use_spot and np.isfinite(spot)))
    return CapacityPlan(hourly=hourly, summary=summary, reserved_replicas=mix.reserved,
                        assumptions=assumptions, label=label)


def _replica(serving, replica_rps, request_latency_s, slots_per_replica, usd_per_replica_hour):
    """One replica: requests/s, latency [s], slots, price [USD/h], GPU and a label.

    Each given argument overrides what the serving estimate says.
    """
    if serving is not None:
        s_rps, s_lat, s_slots, s_price, gpu, n_gpus = _replica_from(serving)
        replica_label = (f"{n_gpus:g} x {gpu} per replica, {s_rps:,.3g} requests/s each at "
                         f"{s_lat:.3g} s")
    else:
        s_rps = s_lat = s_slots = s_price = None
        gpu, replica_label = None, "replica as given"
    rps_r = s_rps if replica_rps is None else float(as_quantity("replica_rps", replica_rps,
                                                                 allow_zero=False))
    if rps_r is None:
        raise TypeError("plan() needs serving= or replica_rps=")
    lat = s_lat if request_latency_s is None else float(
        as_quantity("request_latency_s", request_latency_s, allow_zero=False))
    slots = s_slots if slots_per_replica is None else float(
        as_quantity("slots_per_replica", slots_per_replica, allow_zero=False))
    if slots is None:
        slots = 1.0 if lat is None else rps_r * lat
    price = s_price if usd_per_replica_hour is None else float(
        as_quantity("usd_per_replica_hour", usd_per_replica_hour))
    if price is None:
        raise TypeError("plan() needs serving= or usd_per_replica_hour=")
    return rps_r, lat, slots, price, gpu, replica_label


def _spot(spot_usd_per_replica_hour, use_spot, gpu, price, price_path, gpu_path):
    """The spot price of a replica [USD/h] (NaN: none) and where it came from."""
    given = (None if spot_usd_per_replica_hour is None else  # checked even when not used
             float(as_quantity("spot_usd_per_replica_hour", spot_usd_per_replica_hour)))
    if not use_spot:
        return np.nan, "spot not used"
    if given is not None:
        return given, "given"
    if not isinstance(gpu, str):
        return np.nan, "no spot price given"
    try:
        ratio, note = spot_price_ratio(gpu, price_path=price_path, gpu_path=gpu_path)
    except LookupError:  # a table of on-demand prices only (an import of a price list)
        return np.nan, (f"no spot price: {price_path or 'the price table'} has no offer with "
                        "both a spot and an on-demand price")
    return price * ratio, note


def _needs(lam, rps_r, lat, slots, slo_s, percentile, target_utilization, mn):
    """Replicas each hour needs for the utilisation target and for the SLO, and the SLO's note."""
    r_util = np.asarray(replicas_for_utilization(lam, rps_r, target_utilization=target_utilization,
                                                 min_replicas=mn), dtype=float)
    if slo_s is None:
        return r_util, np.full_like(r_util, mn), "none"
    if lat is None:
        raise TypeError("an SLO needs the request latency: serving= or request_latency_s=")
    r_slo = np.asarray(replicas_for_slo(lam, lat, slo_s, slots_per_replica=slots,
                                        percentile=percentile, min_replicas=mn), dtype=float)
    return r_util, r_slo, (f"service time + p{percentile * 100:g} of the M/M/c wait <= "
                           f"{slo_s:g} s ({slots:.3g} slots per replica)")


@dataclass(frozen=True)
class _Mix:
    """The cheapest reserved count and each hour's on-demand and spot cover."""

    reserved: int
    on_demand: np.ndarray
    spot: np.ndarray
    cost_usd: float  # over the traffic's hours
    spot_used: bool  # spot beats on-demand after interruptions


def _cheapest_mix(need, price, reserved_price, spot, q, cap_f) -> _Mix:
    """Every reserved count R from 0 to the peak x each distinct hourly need: the cheapest R.

    An hour's spot and on-demand cover depends only on its need and R, so the hours with the
    same need are priced once and weighted by their count: a year of hours costs what its few
    hundred distinct needs cost.
    """
    hours, peak = need.size, float(need.max())
    spot_ok = bool(np.isfinite(spot) and spot / (1.0 - q) < price)
    needs, where, n_hours = np.unique(need, return_inverse=True, return_counts=True)
    cap = np.floor(cap_f * needs)[None, :] if spot_ok else np.zeros((1, needs.size))
    spot_price = spot if spot_ok else 0.0

    def mix_for(R):
        excess = np.maximum(needs[None, :] - R[:, None], 0.0)
        n_spot, n_od = _spot_cover(excess, np.minimum(excess, cap), q, price,
                                   spot if spot_ok else np.inf)
        cost = R * hours * reserved_price + ((n_od * price + n_spot * spot_price)
                                             * n_hours).sum(axis=1)
        return cost, n_spot, n_od

    # R blocks of at most ~4 million cells: a 37k-replica fleet stays in memory
    block = max(1, 4_000_000 // needs.size)
    cost = np.concatenate([mix_for(np.arange(lo, min(lo + block, peak + 1), dtype=float))[0]
                           for lo in range(0, int(peak) + 1, block)])
    best = int(np.argmin(cost))
    _, best_spot, best_od = mix_for(np.array([float(best)]))
    return _Mix(best, best_od[0][where], best_spot[0][where], float(cost[best]), spot_ok)


def _strategies(lam, rps_r, need, price, mix: _Mix):
    """Static peak, autoscale and the mix, per month: replica-hours, cost, cost per request."""
    import pandas as pd

    hours, peak = lam.size, float(need.max())
    scale = HOURS_PER_MONTH / hours
    requests_month = lam.sum() * 3600.0 * scale
    busy = lam.sum() / rps_r                                  # replica-hours of pure work
    running_mix = mix.reserved + mix.on_demand + mix.spot     # replicas the mix runs per hour
    rows = {}
    for s, running, usd in (("static_peak", np.full(hours, peak), peak * hours * price),
                            ("autoscale", need, need.sum() * price),
                            ("mix", running_mix, mix.cost_usd)):
        rows[s] = {"replica_hours_per_month": running.sum() * scale,
                   "monthly_cost_usd": usd * scale,
                   "usd_per_1k_requests": usd * scale / requests_month * 1e3,
                   "peak_replicas": float(running.max()),
                   "mean_utilization": busy / running.sum()}
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "strategy"
    return summary


_RANGED_PLAN = ("replica_hours_per_month", "monthly_cost_usd", "usd_per_1k_requests",
                "peak_replicas")
"""The plan's figures that carry a low and a high (from the serving estimate's range)."""


def _plan_range(summary, serving, traffic_rps, kw) -> tuple:
    """The summary with ``<figure>_low`` / ``_high`` columns and the range's note.

    The plan is made again at the two ends of the serving estimate's nominal 80% range
    (requests/s x the throughput factors, latency / them): the fast end gives the low
    replicas and cost, the slow end the high. Where the slow end cannot meet the SLO at
    all, its figures are NaN and the note says so.
    """
    lo = float(np.asarray(getattr(serving, "throughput_low_factor", 1.0)))
    hi = float(np.asarray(getattr(serving, "throughput_high_factor", 1.0)))
    rps, lat = float(serving.requests_per_second), float(serving.request_latency_s)
    out = summary.copy()
    note = (f"low-high: re-planned at the serving estimate's 80% range (x{lo:.2f} to "
            f"x{hi:.2f} on throughput)")
    for end, f in (("low", hi), ("high", lo)):
        try:
            p = plan(traffic_rps, replica_rps=rps * f, request_latency_s=lat / f, **kw)
        except ValueError as exc:
            if "exceeds the SLO" not in str(exc):
                raise
            for col in _RANGED_PLAN:
                out[f"{col}_{end}"] = np.nan
            note += f"; at the slow end the SLO cannot be met ({exc})"
            continue
        for col in _RANGED_PLAN:
            out[f"{col}_{end}"] = p.summary[col]
    return out, note
