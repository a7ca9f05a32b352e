"""How old dated data is, and when its age earns a warning: one rule for prices and rates.

Below the catalog and :mod:`costkit.fx` (both date what they hold), with no import of
either, so neither depends on the other for it.
"""

from __future__ import annotations

import os

__all__ = ["PRICE_AGE_WARN_DAYS", "TODAY_ENV", "age_warning", "price_age_days",
           "price_age_warning", "today"]

PRICE_AGE_WARN_DAYS = 90
"""A price older than this many days adds a warning to the result's assumptions. [days]"""

TODAY_ENV = "COSTKIT_TODAY"
"""Environment variable that pins :func:`today` (YYYY-MM-DD): the notebooks' stored outputs are
computed on one date, and their checks run with it pinned, as a seed pins random draws."""


def today():
    """Today's date in UTC, or the date in ``$COSTKIT_TODAY`` (YYYY-MM-DD) when it is set."""
    import datetime as dt

    pinned = os.environ.get(TODAY_ENV, "").strip()
    if pinned:
        try:
            return dt.date.fromisoformat(pinned)
        except ValueError:
            raise ValueError(f"{TODAY_ENV}={pinned!r} is not a date written YYYY-MM-DD") from None
    return dt.datetime.now(dt.UTC).date()


def price_age_days(price_date: str, on: str | None = None) -> int:
    """Days from ``price_date`` (YYYY-MM-DD) to ``on`` (default :func:`today`); 0 if later."""
    import datetime as dt

    ref = today() if on is None else dt.date.fromisoformat(str(on))
    return max(0, (ref - dt.date.fromisoformat(str(price_date))).days)


def price_age_warning(price_date: str | None, *,
                      remedy: str = "usd_per_gpu_hour= or price_path=") -> str | None:
    """The warning for a price dated ``price_date``, or None when it is recent enough.

    ``remedy`` names the arguments that pass your own price (GPU prices by default).
    """
    return age_warning(price_date, what="prices", why="list prices change", remedy=remedy)


def age_warning(dated: str | None, *, what: str, why: str, remedy: str,
                on: str | None = None) -> str | None:
    """The one age rule of dated data (prices, exchange rates): a warning, or None.

    Past ``PRICE_AGE_WARN_DAYS`` between ``dated`` and ``on`` (default :func:`today`): a
    rate of 2024-12-31 used for 2026-04-26 is 481 days stale however old it is today.

    Parameters
    ----------
    dated : str or None
        The figure's date, YYYY-MM-DD (None: no warning).
    what : str
        What is dated, in the plural ("prices", "exchange rates").
    why : str
        Why age matters for it.
    remedy : str
        The arguments that pass a newer figure.
    on : str, optional
        The day the figure is used for, YYYY-MM-DD; default today.

    Returns
    -------
    str or None
        The warning, or None when the figure is recent enough.

    Examples
    --------
    >>> age_warning("2024-12-31", what="exchange rates", why="rates move", remedy="fx_path=",
    ...             on="2025-01-10") is None
    True
    """
    if not dated:
        return None
    age = price_age_days(dated, on)
    if age <= PRICE_AGE_WARN_DAYS:
        return None
    when = f"today {today().isoformat()}" if on is None else f"used for {on}"
    return (f"{what} up to {age} days old (the oldest dated {dated}, {when}): {why}; check them "
            f"or pass your own ({remedy})")
