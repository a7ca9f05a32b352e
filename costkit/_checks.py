"""Validation of arguments at the boundary of the public functions.

Every public formula calls these before it computes anything, so that a
negative, NaN or infinite quantity raises a ``ValueError`` that names the
argument, instead of turning into a silent NaN or negative cost.
"""

from __future__ import annotations

import numpy as np


def as_quantity(name: str, value, *, allow_zero: bool = True):
    """Return ``value`` as a float ndarray after checking it is finite and >= 0.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : numeric
        Scalar, array-like or pandas Series.
    allow_zero : bool
        If False, zero is rejected too (for divisors such as a GPU count).
    """
    raw = value if isinstance(value, np.ndarray) else None
    if isinstance(value, str | bytes | bool | np.bool_) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    if raw is None and type(value).__name__ not in ("Series", "Index"):
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError):
            raw = None
    kind = (raw.dtype if raw is not None else getattr(value, "dtype", np.dtype(float))).kind
    if kind in "USb":
        raise TypeError(f"{name} must be numbers, got {'booleans' if kind == 'b' else 'text'}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if arr.ndim and not arr.size:
        raise ValueError(f"{name} is empty: give at least one value")
    if arr.size:
        bad = ~np.isfinite(arr)
        if bad.any():
            first = arr[bad].flat[0]
            raise ValueError(f"{name} must be finite, got {first!r}")
        if allow_zero:
            if (arr < 0).any():
                raise ValueError(f"{name} must be >= 0, got {arr[arr < 0].flat[0]!r}")
        elif (arr <= 0).any():
            raise ValueError(f"{name} must be > 0, got {arr[arr <= 0].flat[0]!r}")
    return arr


def as_fraction(name: str, value, *, allow_zero: bool = True):
    """Return ``value`` as a float ndarray after checking 0 <= value <= 1 (0 < with allow_zero)."""
    arr = as_quantity(name, value, allow_zero=allow_zero)
    if arr.size and (arr > 1).any():
        raise ValueError(
            f"{name} is a fraction from 0 to 1 (not a percentage), got {arr[arr > 1].flat[0]!r}"
        )
    return arr


def wrap_like(result, *inputs):
    """Return a Python float for scalar results, else keep the array.

    If any input was a pandas Series of the same length, the result is
    returned as a Series with that index (pvlib's convention).
    """
    series = [x for x in inputs if type(x).__name__ == "Series"]
    for x in series[1:]:
        if not x.index.equals(series[0].index):
            raise ValueError("Series arguments have different indexes, so their rows do not "
                             "match up; align them first (a, b = a.align(b)) or pass arrays")
    result = np.asarray(result, dtype=float)
    if result.ndim == 0:
        return float(result)
    for x in inputs:
        if type(x).__name__ == "Series" and getattr(x, "shape", None) == result.shape:
            import pandas as pd

            return pd.Series(result, index=x.index)
    return result


def count(name: str, value, *, minimum: int = 0, maximum: int | None = None,
          beyond: str = "") -> int:
    """One whole number ``minimum <= value <= maximum``, as an int (never truncated).

    ``beyond`` says how to go past ``maximum`` where a limit guards memory or time.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if not np.isfinite(value) or float(value) % 1:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} is at most {maximum:,}, got {value:,}" + (
            f"; {beyond}" if beyond else ""))
    return int(value)


def whole(name: str, arr):
    """Check that every value of ``arr`` is a whole number (a count)."""
    if arr.size and (np.mod(arr, 1) != 0).any():
        raise ValueError(f"{name} must be a whole number, got {arr[np.mod(arr, 1) != 0].flat[0]!r}")
    return arr


def broadcast(**arrays):
    """``np.broadcast_arrays`` with an error that names the arguments that clash."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items() if np.ndim(v))
        raise ValueError(f"array arguments do not broadcast together: {shapes}") from None


def finite_result(what: str, **results):
    """Raise if a result overflowed to inf (inputs finite, but their product too large)."""
    for name, value in results.items():
        arr = np.asarray(value, dtype=float)
        if np.isinf(arr).any():
            raise ValueError(f"{what}: {name} overflows to infinity; an input is far too large "
                             "(check the units: tokens, not tokens x 1e9?)")


def scalar_or(arr):
    """A Python scalar for a 0-d array, else the array."""
    arr = np.asarray(arr)
    return arr.item() if arr.ndim == 0 else arr


def table(obj, columns, primary):
    """A DataFrame of ``obj``'s ``columns``, one row per configuration of its ``primary`` field.

    Scalars broadcast to the primary field's shape; a Series primary field gives
    the table its index. Shared by the result objects' ``to_frame()``.
    """
    import pandas as pd

    main = getattr(obj, primary)
    shape = np.shape(main)
    df = pd.DataFrame({k: np.broadcast_to(np.asarray(getattr(obj, k)), shape).ravel()
                       for k in columns})
    index = getattr(main, "index", None)
    if index is not None:
        df.index = index
    return df


def gpu_lookup(gpu, gpu_path=None):
    """Canonical names, GPU records and the index array for a str or array-like ``gpu``.

    For a single name the index is None; for an array of names it maps each
    element to its record, so per-GPU values broadcast with :func:`per_gpu`.
    """
    from .catalog import gpu as lookup

    if isinstance(gpu, str):
        g = lookup(gpu, path=gpu_path)
        return [g.name], [g], None
    if not hasattr(gpu, "__iter__"):
        raise TypeError(f"gpu must be a GPU name or a list / array / Series of names, got "
                        f"{type(gpu).__name__} {gpu!r}")
    if isinstance(gpu, np.ndarray) and gpu.dtype.kind == "U":
        arr = gpu  # fixed-width text: sorted as it is, no copy to Python objects
    else:
        arr = np.asarray(list(gpu) if not hasattr(gpu, "to_numpy") else gpu.to_numpy(),
                         dtype=object)
    if not arr.size:
        raise ValueError("gpu is empty: name at least one GPU")
    if arr.dtype.kind == "U":
        uniq, inv = np.unique(arr, return_inverse=True)
    else:  # Python strings: a hash table finds the distinct names, no sort, no text copy
        import pandas as pd

        inv, uniq = pd.factorize(arr.ravel(), use_na_sentinel=False)
    recs = [lookup(str(u), path=gpu_path) for u in uniq]  # each distinct name resolved once
    return [r.name for r in recs], recs, np.asarray(inv).reshape(arr.shape)


def per_gpu(values, inv):
    """Spread one value per distinct GPU over the array of GPU names."""
    values = np.asarray(values, dtype=float)
    return values[0] if inv is None else values[inv]


def gpu_names_like(names, inv, gpu, shape):
    """The GPU name of each configuration: a str, an object array or a named Series."""
    if inv is None:
        return names[0]
    out = np.broadcast_to(np.asarray(names, dtype=object)[inv], shape)
    if type(gpu).__name__ == "Series" and out.shape == np.shape(gpu):
        import pandas as pd

        return pd.Series(out, index=gpu.index, name="gpu")
    return out


class CatalogPrices:
    """Per-configuration catalog prices [USD per GPU-hour] with their range and provenance."""

    def __init__(self, price, low, high, note, sources, dates):
        self.missing: list[str] = []  # GPUs without a price (missing="nan" only)
        self.price, self.low, self.high = price, low, high
        self.note, self.sources, self.dates = note, sources, dates


def catalog_prices(names, inv, *, cloud=None, pricing="on_demand", stat="median",
                   price_path=None, gpu_path=None, missing: str = "raise") -> CatalogPrices:
    """The ``stat`` catalog price of each GPU, with the offers' quartiles as its range.

    ``missing="nan"``: a GPU the catalog has no price for gets NaN, named in the note and
    in ``CatalogPrices.missing``, instead of the ``LookupError`` it raises by default.
    """
    from .catalog import price_quote

    priced, absent = list(names), []
    if missing == "nan":
        for nm in names:
            try:
                price_quote(nm, cloud, pricing, stat, path=price_path, gpu_path=gpu_path)
            except LookupError as exc:
                absent.append((nm, str(exc).split(";")[0]))
        priced = [nm for nm in names if nm not in dict(absent)]

    def quotes(s):
        got = {nm: price_quote(nm, cloud, pricing, s, path=price_path, gpu_path=gpu_path)
               for nm in priced}
        return [got.get(nm) for nm in names]

    def usd(qs):
        return per_gpu([np.nan if q is None else q.usd_per_gpu_hour for q in qs], inv)

    qs, q25, q75 = quotes(stat), quotes("p25"), quotes("p75")
    price = usd(qs)
    found = [q for q in qs if q is not None]
    note = "; ".join([str(q) for q in found] + [f"no price: {why}" for _, why in absent])
    cp = CatalogPrices(
        price=price, low=np.fmin(usd(q25), price), high=np.fmax(usd(q75), price),
        note=note + ("; range: the offers' quartiles" if found else ""),
        sources=sorted({s for q in found for s in q.sources}),
        dates=((min(q.price_dates[0] for q in found), max(q.price_dates[1] for q in found))
               if found else None),
    )
    cp.missing = [nm for nm, _ in absent]
    return cp


def price_age_notes(dates) -> dict:
    """``price_age_days`` (of the oldest offer) and, past 90 days, ``price_warning``."""
    if not dates:
        return {}
    from .catalog import price_age_days, price_age_warning

    out: dict[str, int | str] = {"price_age_days": price_age_days(dates[0])}
    warning = price_age_warning(dates[0])
    if warning:
        out["price_warning"] = warning
    return out


def warning_lines(assumptions: dict) -> list[str]:
    """The printed lines of a result's warnings (``price_warning`` and any other ``*_warning``)."""
    keys = ["price_warning"] + sorted(k for k in assumptions
                                      if k.endswith("_warning") and k != "price_warning")
    return [f"  WARNING: {assumptions[k]}" for k in keys if assumptions.get(k)]

