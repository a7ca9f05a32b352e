"""Resolving the names and prices an estimate is given: GPU names to records, catalog prices.

Above :mod:`costkit.catalog` (it looks names and prices up there) and apart from
:mod:`costkit._checks`, which validates numbers and imports nothing of costkit.
"""

from __future__ import annotations

import numpy as np


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
    from ._age import price_age_days, price_age_warning

    out: dict[str, int | str] = {"price_age_days": price_age_days(dates[0])}
    warning = price_age_warning(dates[0])
    if warning:
        out["price_warning"] = warning
    return out
