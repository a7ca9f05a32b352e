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


def warning_lines(assumptions: dict) -> list[str]:
    """The printed lines of a result's warnings (``price_warning`` and any other ``*_warning``)."""
    keys = ["price_warning"] + sorted(k for k in assumptions
                                      if k.endswith("_warning") and k != "price_warning")
    return [f"  WARNING: {assumptions[k]}" for k in keys if assumptions.get(k)]

