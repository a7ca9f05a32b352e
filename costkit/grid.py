"""Grid carbon intensity by region, chosen by name.

``data/grid_intensity.csv`` holds a few sourced, location-based averages
[kg CO2e/kWh]: China's national and regional grid factors as published by its
Ministry of Ecology and Environment with the National Bureau of Statistics, the
EU-27 average (EEA), a few cloud regions' grids (Google's region carbon data) and
the US average the LLaMA paper used, which was costkit's default and is now the
named entry :data:`DEFAULT_GRID`. Each row has its year and source; pass your
own table (``path=``) for a supplier's market-based factor.

Energy [kWh] x intensity [kg CO2e/kWh] = emissions [kg CO2e]: see
:func:`costkit.training.estimate` (``grid=``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from costkit._tables import Column, Schema, bundled_path, read_rows, read_table
from costkit._tables import stamp as _stamp

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["DEFAULT_GRID", "GridIntensity", "grid_intensities", "grid_intensity"]

DEFAULT_GRID = "US-LLaMA-paper"
"""The grid used when none is named: the US national average of the LLaMA paper
(0.385 kg CO2e/kWh). Every result that uses it says so."""

GRID_SCHEMA = Schema(
    "grid-intensity",
    (
        Column("name"),
        Column("aliases", required=False),
        Column("kg_co2e_per_kwh", "float", min=0, max=5),
        Column("year", "int", min=1990, max=2100),
        Column("kind"),
        Column("source"),
    ),
    key=("name",),
)


@dataclass(frozen=True)
class GridIntensity:
    """A grid's carbon intensity [kg CO2e/kWh] with its year, kind and source."""

    name: str
    kg_co2e_per_kwh: float
    year: int
    kind: str
    source: str

    def __str__(self) -> str:
        return f"{self.name}: {self.kg_co2e_per_kwh:g} kg CO2e/kWh ({self.kind}, {self.year})"


@functools.lru_cache(maxsize=8)
def _records(path: str, mtime: float):
    from .catalog import _alias_index

    v = read_rows(path, GRID_SCHEMA)
    index = _alias_index(v["name"], v["aliases"], path, unique=True)
    records = {n: GridIntensity(n, v["kg_co2e_per_kwh"][i], v["year"][i], v["kind"][i],
                                v["source"][i]) for i, n in enumerate(v["name"])}
    return index, records


def grid_intensities(path: StrPath | None = None) -> Frame:
    """The grid-intensity table as a DataFrame (a copy).

    Parameters
    ----------
    path : str or Path, optional
        Your own table (the columns of ``data/grid_intensity.csv``).

    Returns
    -------
    DataFrame
        ``name``, ``aliases``, ``kg_co2e_per_kwh`` [kg CO2e/kWh], ``year``, ``kind``, ``source``.

    Examples
    --------
    >>> g = grid_intensities()
    >>> g.set_index("name").loc["CN-national-2022", "kg_co2e_per_kwh"]
    np.float64(0.5366)
    """
    p = path or bundled_path("grid_intensity.csv")
    _records(*_stamp(p))  # the alias checks
    return read_table(p, GRID_SCHEMA)


def grid_intensity(name: str = DEFAULT_GRID, *, path: StrPath | None = None) -> GridIntensity:
    """The carbon intensity of the grid called ``name`` (or one of its aliases).

    Parameters
    ----------
    name : str, default :data:`DEFAULT_GRID`
        A ``name`` or alias of the table, case-insensitive (``"CN-national-2022"``,
        ``"china"``, ``"gcp-us-central1"``); unknown names suggest close ones.
    path : str or Path, optional
        Your own table.

    Returns
    -------
    GridIntensity
        The intensity [kg CO2e/kWh] with its year, kind and source.

    Examples
    --------
    >>> str(grid_intensity("china"))
    'CN-national-2022: 0.5366 kg CO2e/kWh (national average, 2022)'
    """
    from .catalog import _resolve

    index, records = _records(*_stamp(path or bundled_path("grid_intensity.csv")))
    return records[_resolve(name, index, list(records), "grid")]
