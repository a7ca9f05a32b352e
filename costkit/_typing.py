"""Type aliases for costkit's annotations.

costkit's formulas broadcast: a field or argument written ``Floats`` holds a
float for scalar inputs, or a numpy array / pandas Series of them for arrays
of scenarios. Only type checkers import this module (``if TYPE_CHECKING:``),
so it may import numpy and pandas without slowing ``import costkit``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import NDArray as NDArray  # re-exported: a numpy array of a given dtype

Floats: TypeAlias = float | npt.NDArray[np.float64] | pd.Series
"""A quantity: a float, or a numpy array / pandas Series of floats (one per scenario)."""

Bools: TypeAlias = bool | np.bool_ | npt.NDArray[np.bool_] | pd.Series
"""A yes/no per scenario: a bool, or an array / Series of them."""

Names: TypeAlias = str | npt.NDArray[np.str_] | npt.NDArray[np.object_] | pd.Series
"""A name per scenario (GPU, model, bound): a str, or an array / Series of them."""

Frame: TypeAlias = pd.DataFrame
"""A pandas DataFrame (a table of results, one row per scenario, offer or period)."""

Table: TypeAlias = pd.DataFrame | pd.Series
"""A pandas DataFrame or Series."""

Series: TypeAlias = pd.Series
"""A pandas Series."""

NamesLike: TypeAlias = (str | Sequence[str] | npt.NDArray[np.str_] | npt.NDArray[np.object_]
                         | pd.Series)
"""One name (a GPU, a model) or several: a list, array or Series of them (estimates broadcast)."""

StrPath: TypeAlias = str | os.PathLike[str]
"""A file path: text or a :class:`pathlib.Path`."""

ArrayLike: TypeAlias = npt.ArrayLike
"""Anything numpy turns into an array: numbers, lists, arrays, Series."""
