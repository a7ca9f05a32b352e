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
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
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


def as_fraction(name: str, value):
    """Return ``value`` as a float ndarray after checking 0 <= value <= 1."""
    arr = as_quantity(name, value)
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
    result = np.asarray(result, dtype=float)
    if result.ndim == 0:
        return float(result)
    for x in inputs:
        if type(x).__name__ == "Series" and getattr(x, "shape", None) == result.shape:
            import pandas as pd

            return pd.Series(result, index=x.index)
    return result
