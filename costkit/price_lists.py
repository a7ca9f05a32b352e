"""Published cloud price lists turned into costkit's price table.

Three formats, each downloaded by the user (nothing is fetched here):

- a SkyPilot-format ``vms.csv`` (skypilot-org/skypilot-catalog);
- pages of the Azure Retail Prices API
  (``https://prices.azure.com/api/retail/prices?$filter=serviceName eq
  'Virtual Machines'``), each page a JSON object with ``Items``;
- the AWS Price List bulk offer file for EC2
  (``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/<region>/index.json``).

:func:`import_price_lists` reads any mix of them, keeps the Linux on-demand
(and, for Azure and SkyPilot, spot) hourly prices of the GPU instances it can
name, and returns a :class:`PriceImport`: a table with the columns of
``data/gpu_prices.csv`` (validated by the same schema), and a report of every
price left out with the reason. Which GPU an instance carries comes from
``data/instance_gpus.csv`` (or your own file with its columns): Azure VM sizes
by exact name with their GPU count; AWS instance families (``p4d``) whose GPU
count the price list gives, or exact instance types.

Every row states its ``price_date``: the AWS file's ``publicationDate``; for
Azure pages and SkyPilot files, which carry no date of their own, the date you
pass (``price_date=``), else the file's modification date (the day it was
downloaded), said in the row's ``source``.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._safe import plain_name, terminal
from ._tables import Column, DataFileError, Schema, bundled_path, read_table

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__ = ["MAX_PRICE_LIST_BYTES", "PriceImport", "detect_format", "import_price_lists",
           "instance_gpus", "read_aws_price_list", "read_azure_retail_prices"]

MAX_PRICE_LIST_BYTES = 1_000_000_000
"""The largest price-list file read [bytes]: 1 GB. AWS's all-region EC2 file is larger:
download the file of one region (``.../AmazonEC2/current/us-east-1/index.json``)."""



def _check_instances(df, fail):
    no_count = (df["cloud"].str.lower() != "aws") & df["gpu_count"].isna()
    if no_count.any():
        fail(int(no_count.to_numpy().nonzero()[0][0]), "gpu_count",
             "only an AWS instance family may leave gpu_count empty (the price list gives it)")


INSTANCE_SCHEMA = Schema(
    "instance GPU",
    (
        Column("cloud"),
        Column("instance"),
        Column("gpu"),
        Column("gpu_count", "float", required=False, min=0, min_exclusive=True, max=1_000_000),
        Column("source"),
    ),
    key=("cloud", "instance"),
    checks=(_check_instances,),
)


def instance_gpus(path: StrPath | None = None) -> Frame:
    """The instance table: which accelerator, and how many, each instance type carries.

    Parameters
    ----------
    path : str or Path, optional
        Your own table with the columns of ``data/instance_gpus.csv``
        (``cloud``, ``instance``, ``gpu``, ``gpu_count``, ``source``); default:
        costkit's.

    Returns
    -------
    pandas.DataFrame
        One row per (cloud, instance). ``instance`` is an exact instance type
        or VM size, or an AWS instance family (the part before the dot) whose
        ``gpu_count`` is empty because the AWS price list states it.

    Raises
    ------
    DataFileError
        The file breaks the schema (named with its row and column).

    Examples
    --------
    >>> t = instance_gpus().set_index(["cloud", "instance"])
    >>> row = t.loc[("Azure", "Standard_ND96isr_H100_v5")]
    >>> row["gpu"], int(row["gpu_count"])
    ('H100-SXM', 8)
    """
    label = str(path or bundled_path("instance_gpus.csv"))
    return read_table(label, INSTANCE_SCHEMA)


@dataclass(frozen=True)
class PriceImport:
    """Prices read from published price lists, with what was left out.

    Attributes
    ----------
    frame : pandas.DataFrame
        The columns of ``data/gpu_prices.csv``; whole-instance USD per hour.
    dropped : dict
        ``{file: {reason: count}}``: every price or product not in ``frame``.
    formats : dict
        ``{file: "skypilot" | "azure" | "aws"}``.
    kept : dict
        ``{file: rows of frame read from it}``.
    """

    frame: Frame
    dropped: dict = field(default_factory=dict)
    formats: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Rows in :attr:`frame` (one per cloud, instance type and region)."""
        return int(len(self.frame))

    def to_csv(self, path: StrPath) -> None:
        """Write :attr:`frame` as a price table that ``price_path=`` and ``path=`` read.

        Parameters
        ----------
        path : str or Path
            File to write.

        Examples
        --------
        >>> from importlib.resources import files
        >>> lists = files("costkit.examples") / "price_lists"
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "my_prices.csv"
        >>> import_price_lists([lists / "aws_ec2_us-east-1.json"]).to_csv(out)
        >>> from costkit.catalog import gpu_hour_price
        >>> gpu_hour_price("H100", price_path=out)
        6.88
        """
        self.frame.to_csv(path, index=False, float_format="%.10g")

    def __str__(self) -> str:
        dates = sorted(self.frame["price_date"].unique())
        lines = [f"{self.n_rows} price rows ({', '.join(sorted(self.frame['cloud'].unique()))}), "
                 f"prices dated {dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "")]
        for f, fmt in self.formats.items():
            lines.append(f"  {f} ({fmt}): {self.kept.get(f, 0)} rows kept")
            for reason, n in sorted(self.dropped.get(f, {}).items(), key=lambda kv: -kv[1]):
                lines.append(f"    left out {n:,}: {reason}")
        return terminal("\n".join(lines))


# --------------------------------------------------------------------------- reading
def _load_json(path: Path, max_bytes: int):
    size = path.stat().st_size
    if size > max_bytes:
        raise DataFileError(f"{path}: {size:,} bytes is more than the {max_bytes:,} a price list "
                            "may have; download one region's file")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: not a JSON document ({exc})") from None
    except RecursionError:
        raise DataFileError(f"{path}: JSON nested deeper than Python reads (a price list is a "
                            "few levels deep)") from None


def detect_format(path: StrPath) -> str:
    """Which price list ``path`` is: ``"skypilot"``, ``"azure"`` or ``"aws"``.

    Parameters
    ----------
    path : str or Path
        A downloaded price list.

    Returns
    -------
    str
        ``"skypilot"`` (a CSV with SkyPilot's columns), ``"azure"`` (a JSON
        object with ``Items``), ``"aws"`` (a JSON object with ``offerCode``).

    Raises
    ------
    DataFileError
        The file is none of them.

    Examples
    --------
    >>> from importlib.resources import files
    >>> lists = files("costkit.examples") / "price_lists"
    >>> detect_format(lists / "aws_ec2_us-east-1.json"), detect_format(lists / "lambda" / "vms.csv")
    ('aws', 'skypilot')
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        text = head.decode("utf-8", "replace")
        if '"offerCode"' in text or '"formatVersion"' in text:
            return "aws"
        if '"Items"' in text or '"BillingCurrency"' in text:
            return "azure"
        raise DataFileError(f"{path}: a JSON file that is neither an Azure Retail Prices page "
                            "(Items) nor an AWS Price List offer file (offerCode)")
    from .catalog import _SKYPILOT_COLUMNS

    first = head.decode("utf-8", "replace").splitlines()[:1]
    if first and _SKYPILOT_COLUMNS.issubset({c.strip() for c in first[0].split(",")}):
        return "skypilot"
    raise DataFileError(f"{path}: not a price list costkit reads (SkyPilot vms.csv, Azure Retail "
                        "Prices JSON, AWS Price List JSON for EC2)")


def _date_of(path: Path, price_date: str | None) -> tuple[str, str]:
    """The price date and how it was found, for a file that carries no date."""
    if price_date is not None:
        return _valid_date(price_date, "price_date"), "price date given"
    mtime = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
    return mtime.date().isoformat(), "price date = the file's modification date (UTC)"


def _valid_date(text: str, what: str) -> str:
    try:
        return datetime.date.fromisoformat(str(text)[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{what} must be a date YYYY-MM-DD, got {text!r}") from None


class _Lookup:
    """Instance type -> (gpu, count or None): exact name first, then the AWS family."""

    def __init__(self, table, cloud: str):
        sel = table[table["cloud"].str.lower() == cloud.lower()]
        self.map = {i: (g, None if math.isnan(c) else float(c))
                    for i, g, c in zip(sel["instance"], sel["gpu"], sel["gpu_count"],
                                       strict=True)}

    def __call__(self, instance: str):
        return self.map.get(instance) or self.map.get(instance.split(".")[0])


def _number(value, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DataFileError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise DataFileError(f"{where}: {value!r} is not a finite price >= 0")
    return x


# --------------------------------------------------------------------------- Azure
def _azure_kind(item) -> str:
    """``"on_demand"``, ``"spot"`` or the reason the item is left out."""
    if item.get("serviceName") != "Virtual Machines":
        return "drop:not a virtual-machine meter"
    if item.get("type") != "Consumption":
        return f"drop:not a pay-as-you-go price (type {item.get('type')})"
    if "Windows" in str(item.get("productName", "")):
        return "drop:Windows licence included"
    if item.get("unitOfMeasure") != "1 Hour":
        return f"drop:unit is not one hour ({item.get('unitOfMeasure')})"
    if float(item.get("tierMinimumUnits") or 0) > 0:
        return "drop:a volume tier above the first"
    sku = f"{item.get('skuName', '')} {item.get('meterName', '')}"
    if "Low Priority" in sku:
        return "drop:low-priority price (retired; use spot)"
    return "spot" if "Spot" in sku else "on_demand"


def _effective_day(value, where: str) -> str:
    """The day (YYYY-MM-DD) of an ISO ``effectiveStartDate``; "" when the item has none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise DataFileError(f"{where}: {value!r} is not a date")
    try:
        return datetime.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise DataFileError(f"{where}: {terminal(repr(value))[:80]} is not an ISO date") from None


def _azure_items(doc, path):
    if not isinstance(doc, dict) or not isinstance(doc.get("Items"), list):
        raise DataFileError(f"{path}: an Azure Retail Prices page is a JSON object with an "
                            "'Items' list")
    return doc["Items"]


def read_azure_retail_prices(path: StrPath, *, price_date: str | None = None,
                             instances_path: StrPath | None = None,
                             max_bytes: int = MAX_PRICE_LIST_BYTES) -> Frame:
    """Read one page of the Azure Retail Prices API into costkit's price table.

    Parameters
    ----------
    path : str or Path
        A JSON page as the API returns it (``{"Items": [...], ...}``).
    price_date : str, optional
        ``YYYY-MM-DD`` the prices were read; default: the file's modification
        date (a page carries no date of its own).
    instances_path : str or Path, optional
        Your own instance table (see :func:`instance_gpus`).
    max_bytes : int
        Refuse a larger file.

    Returns
    -------
    pandas.DataFrame
        The columns of ``data/gpu_prices.csv``; ``frame.attrs["dropped"]``
        counts the items left out by reason.

    Raises
    ------
    DataFileError
        Not such a page, a price that is not a finite number >= 0, prices in a
        currency other than USD, or a region that is not a plain name.

    Notes
    -----
    Kept: ``serviceName`` "Virtual Machines", ``type`` "Consumption", Linux
    (no "Windows" in ``productName``), ``unitOfMeasure`` "1 Hour", first tier.
    Items whose ``skuName`` ends in "Spot" are spot prices. Where a VM size and
    region has several prices of one kind, the one with the latest
    ``effectiveStartDate`` on or before the price date is kept; a price that
    starts after the price date is not yet in force, and is left out and counted.

    Examples
    --------
    >>> from importlib.resources import files
    >>> lists = files("costkit.examples") / "price_lists"
    >>> df = read_azure_retail_prices(lists / "azure_retail_prices_page.json",
    ...                               price_date="2026-11-20")
    >>> df.set_index("instance_type")["spot_usd_per_hour"].round(2).tolist()
    [0.75, nan, 18.17]
    """
    import pandas as pd

    path = Path(path)
    items = _azure_items(_load_json(path, max_bytes), path)
    date, how = _date_of(path, price_date)
    lookup = _Lookup(instance_gpus(instances_path), "Azure")
    dropped: dict[str, int] = {}
    rows = []
    for k, item in enumerate(items):
        where = f"{path}, Items[{k}]"
        if not isinstance(item, dict):
            raise DataFileError(f"{where}: an item is a JSON object")
        kind = _azure_kind(item)
        if kind.startswith("drop:"):
            dropped[kind[5:]] = dropped.get(kind[5:], 0) + 1
            continue
        if item.get("currencyCode", "USD") != "USD":
            raise DataFileError(f"{where}, currencyCode: {item.get('currencyCode')!r}; costkit's "
                                "price table is in USD (ask the API with currencyCode='USD')")
        size = plain_name(item.get("armSkuName"), "instance", f"{where}, armSkuName")
        found = lookup(size)
        if found is None:
            dropped["VM size not in the instance table"] = (
                dropped.get("VM size not in the instance table", 0) + 1)
            continue
        price = _number(item.get("retailPrice"), f"{where}, retailPrice")
        if price == 0:
            dropped["zero price"] = dropped.get("zero price", 0) + 1
            continue
        start = _effective_day(item.get("effectiveStartDate"), f"{where}, effectiveStartDate")
        if start > date:
            why = f"not yet in force on the price date {date} (effectiveStartDate later)"
            dropped[why] = dropped.get(why, 0) + 1
            continue
        rows.append((size, found[0], found[1], plain_name(item.get("armRegionName"), "region",
                                                           f"{where}, armRegionName"),
                     kind, price, start))
    frame = _azure_frame(pd.DataFrame(rows, columns=["instance_type", "gpu", "gpu_count", "region",
                                                     "kind", "price", "effective"]),
                         dropped)
    frame.insert(0, "cloud", "Azure")
    frame["price_date"] = date
    frame["source"] = f"Azure Retail Prices API page {path.name} ({how}: {date})"
    frame.attrs["dropped"] = dropped
    return frame


def _azure_frame(df, dropped):
    """One row per (VM size, region): the latest on-demand and spot price."""
    import pandas as pd

    cols = ["instance_type", "gpu", "gpu_count", "region", "on_demand_usd_per_hour",
            "spot_usd_per_hour"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    latest = df.sort_values(["effective", "price"]).groupby(
        ["instance_type", "region", "kind"], sort=True).tail(1)
    superseded = len(df) - len(latest)
    if superseded:
        dropped["an older price of the same VM size and region"] = superseded
    wide = latest.pivot_table(index=["instance_type", "gpu", "gpu_count", "region"],
                              columns="kind", values="price", aggfunc="first").reset_index()
    wide = wide.rename(columns={"on_demand": "on_demand_usd_per_hour",
                                "spot": "spot_usd_per_hour"})
    for c in ("on_demand_usd_per_hour", "spot_usd_per_hour"):
        if c not in wide:
            wide[c] = float("nan")
    wide.columns.name = None
    return wide[cols]


# --------------------------------------------------------------------------- AWS
_AWS_LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
              "licenseModel": "No License required"}


def _aws_product_reason(product) -> str | None:
    """Why an AWS product is not a Linux on-demand GPU instance price (None if it is)."""
    if not isinstance(product, dict) or product.get("productFamily") != "Compute Instance":
        return "not a compute instance"
    attrs = product.get("attributes") or {}
    for key, want in _AWS_LINUX.items():
        if attrs.get(key, want) != want:
            return f"not shared-tenancy Linux without licensed software ({key} {attrs.get(key)})"
    if attrs.get("capacitystatus", "Used") != "Used":
        return "a capacity-reservation line"
    return None


def _aws_on_demand(terms, sku, where, date: str):
    """The hourly on-demand USD price of ``sku``: its latest term in force on ``date``.

    None when it has no hourly price; "later" when its only terms start after ``date``.
    """
    offers = terms.get(sku) or {}
    best, later = None, False
    for term in offers.values():
        start = _effective_day(term.get("effectiveDate"), f"{where}, effectiveDate")
        if start > date:
            later = True
            continue
        for dim in (term.get("priceDimensions") or {}).values():
            if dim.get("unit") != "Hrs" or str(dim.get("beginRange", "0")) != "0":
                continue
            per = dim.get("pricePerUnit") or {}
            if "USD" not in per:
                raise DataFileError(f"{where}: priced in {', '.join(per) or 'no currency'}; "
                                    "costkit's price table is in USD")
            if best is None or start > best[0]:
                best = (start, _number(per["USD"], f"{where}, pricePerUnit.USD"))
    return ("later" if later else None) if best is None else best[1]


def _aws_doc(doc, path):
    code = doc.get("offerCode") if isinstance(doc, dict) else None
    if code != "AmazonEC2":
        raise DataFileError(f"{path}: an AWS Price List offer file for EC2 has offerCode "
                            f"'AmazonEC2' (this one: {code!r})")
    products, terms = doc.get("products"), (doc.get("terms") or {}).get("OnDemand")
    if not isinstance(products, dict) or not isinstance(terms, dict):
        raise DataFileError(f"{path}: an AWS offer file has 'products' and 'terms.OnDemand' "
                            "objects")
    return products, terms


def _aws_row(product, lookup, terms, sku, where, date):
    """(row, None) for a priced GPU instance, or (None, the reason it is left out)."""
    attrs = product.get("attributes") or {}
    found = lookup(str(attrs.get("instanceType", "")))
    if found is None:
        return None, "instance type not in the instance table"
    count = found[1] if found[1] is not None else _number(attrs.get("gpu"),
                                                          f"{where}, attributes.gpu")
    price = _aws_on_demand(terms, sku, f"{where} (terms.OnDemand)", date)
    if price == "later":
        return None, f"not yet in force on the price date {date} (effectiveDate later)"
    if price is None:
        return None, "no hourly on-demand price"
    if price == 0:
        return None, "zero price"
    if count == 0:
        return None, "no GPU count (gpu attribute 0)"
    region = attrs.get("regionCode") or attrs.get("location")
    return (plain_name(attrs["instanceType"], "instance", f"{where}, instanceType"), found[0],
            count, plain_name(region, "region", f"{where}, regionCode"), price), None


def read_aws_price_list(path: StrPath, *, price_date: str | None = None,
                        instances_path: StrPath | None = None,
                        max_bytes: int = MAX_PRICE_LIST_BYTES) -> Frame:
    """Read the AWS Price List bulk offer file for EC2 into costkit's price table.

    Parameters
    ----------
    path : str or Path
        ``index.json`` of ``offers/v1.0/aws/AmazonEC2/current/<region>/``.
    price_date : str, optional
        ``YYYY-MM-DD``; default: the file's ``publicationDate``.
    instances_path : str or Path, optional
        Your own instance table (see :func:`instance_gpus`).
    max_bytes : int
        Refuse a larger file.

    Returns
    -------
    pandas.DataFrame
        The columns of ``data/gpu_prices.csv`` with on-demand prices only (the
        bulk file has no spot prices); ``frame.attrs["dropped"]`` counts the
        products left out by reason.

    Raises
    ------
    DataFileError
        Not an EC2 offer file, a price that is not a finite number >= 0, a
        price in another currency than USD (the China regions' files are in
        CNY), or a region that is not a plain name.

    Notes
    -----
    Kept: ``productFamily`` "Compute Instance", Linux, shared tenancy, no
    pre-installed software or licence, ``capacitystatus`` "Used"; the hourly
    on-demand price dimension of the latest term in force on the price date (a term
    that starts later is left out and counted). The GPU count is the
    product's ``gpu`` attribute unless the instance table gives one.

    Examples
    --------
    >>> from importlib.resources import files
    >>> lists = files("costkit.examples") / "price_lists"
    >>> df = read_aws_price_list(lists / "aws_ec2_us-east-1.json")
    >>> df[["instance_type", "gpu", "gpu_count", "on_demand_usd_per_hour", "price_date"]]
      instance_type          gpu  gpu_count  on_demand_usd_per_hour  price_date
    0   p5.48xlarge     H100-SXM        8.0                55.04000  2024-11-01
    1     g5.xlarge         A10G        1.0                 1.00600  2024-11-01
    2   g5.12xlarge         A10G        4.0                 5.67200  2024-11-01
    3  inf2.8xlarge  Inferentia2        1.0                 1.96786  2024-11-01
    """
    import pandas as pd

    path = Path(path)
    doc = _load_json(path, max_bytes)
    products, terms = _aws_doc(doc, path)
    published = doc.get("publicationDate")
    if price_date is not None:
        date, how = _valid_date(price_date, "price_date"), "price date given"
    elif published:
        date, how = _valid_date(published, f"{path}, publicationDate"), "publicationDate"
    else:
        date, how = _date_of(path, None)
    lookup = _Lookup(instance_gpus(instances_path), "AWS")
    dropped: dict[str, int] = {}
    rows = []
    for sku, product in products.items():
        where = f"{path}, products[{sku!r}]"
        reason = _aws_product_reason(product)
        row, reason = (None, reason) if reason is not None else _aws_row(product, lookup, terms,
                                                                          sku, where, date)
        if row is None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["instance_type", "gpu", "gpu_count", "region",
                                        "on_demand_usd_per_hour"])
    frame["spot_usd_per_hour"] = float("nan")
    frame.insert(0, "cloud", "AWS")
    frame["price_date"] = date
    frame["source"] = f"AWS Price List offer file {path.name} (AmazonEC2, {how}: {date})"
    frame.attrs["dropped"] = dropped
    return frame


# --------------------------------------------------------------------------- import
def _read_one(path: Path, fmt: str, price_date, cloud, instances_path, max_bytes):
    if fmt == "skypilot":
        from .catalog import read_skypilot_catalog

        if path.stat().st_size > max_bytes:
            raise DataFileError(f"{path}: {path.stat().st_size:,} bytes is more than the "
                                f"{max_bytes:,} a price list may have")
        date = None if price_date is None else _valid_date(price_date, "price_date")
        return read_skypilot_catalog(path, cloud=cloud, price_date=date)
    reader = read_azure_retail_prices if fmt == "azure" else read_aws_price_list
    return reader(path, price_date=price_date, instances_path=instances_path, max_bytes=max_bytes)


def import_price_lists(paths: StrPath | Sequence[StrPath], *, price_date: str | None = None,
                       cloud: str | None = None, instances_path: StrPath | None = None,
                       max_bytes: int = MAX_PRICE_LIST_BYTES) -> PriceImport:
    """Turn downloaded price lists into one price table, validated like costkit's own.

    Parameters
    ----------
    paths : str, Path or list of them
        SkyPilot ``vms.csv`` files, Azure Retail Prices JSON pages and AWS
        Price List EC2 offer files, in any mix (the format is read from each
        file's content).
    price_date : str, optional
        ``YYYY-MM-DD`` for every file; default: the AWS file's
        ``publicationDate``, else the file's modification date.
    cloud : str, optional
        Provider name for SkyPilot files (default: their folder's name).
    instances_path : str or Path, optional
        Your own instance table (see :func:`instance_gpus`).
    max_bytes : int
        Refuse a file larger than this (default 1 GB).

    Returns
    -------
    PriceImport
        ``.frame`` (write it with ``.to_csv(path)``, then pass
        ``price_path=path`` to estimates), ``.dropped`` per file and reason.

    Raises
    ------
    DataFileError
        A file is malformed, or two files price the same (cloud, instance type,
        region): import them separately or drop one.

    Examples
    --------
    >>> from costkit.price_lists import import_price_lists
    >>> imp = import_price_lists(["aws-us-east-1.json", "azure-page-1.json"])  # doctest: +SKIP
    >>> imp.to_csv("my_prices.csv")  # doctest: +SKIP
    """
    import pandas as pd

    from .catalog import PRICE_SCHEMA

    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not paths:
        raise ValueError("name at least one price-list file")
    frames, dropped, formats, kept = [], {}, {}, {}
    for p in map(Path, paths):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such file")
        fmt = detect_format(p)
        df = _read_one(p, fmt, price_date, cloud, instances_path, max_bytes)
        frames.append(df.assign(_file=str(p)))
        dropped[str(p)], formats[str(p)] = dict(df.attrs.get("dropped", {})), fmt
        kept[str(p)] = int(len(df))
    both = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(
        len(f) for f in frames) else pd.DataFrame()
    if both.empty:
        raise DataFileError(f"{', '.join(map(str, paths))}: no GPU instance price could be read "
                            "(see the instance table: costkit.price_lists.instance_gpus())")
    _refuse_overlap(both)
    names = [c.name for c in PRICE_SCHEMA.columns]
    frame = read_table(None, PRICE_SCHEMA, label="imported prices", frame=both[names])
    _check_gpu_names(frame)
    return PriceImport(frame=frame, dropped=dropped, formats=formats, kept=kept)


def _refuse_overlap(df) -> None:
    key = ["cloud", "instance_type", "region"]
    dup = df[df.duplicated(key, keep=False)]
    if dup.empty:
        return
    first = dup.iloc[0]
    files = sorted(dup.loc[(dup[key] == first[key]).all(axis=1), "_file"].unique())
    raise DataFileError(f"{' and '.join(files)}: both price {first['cloud']} "
                        f"{first['instance_type']} in {first['region']}; import them separately "
                        "or leave one out")


def _check_gpu_names(frame) -> None:
    from .catalog import gpu

    for i, name in enumerate(frame["gpu"]):
        try:
            gpu(name)
        except KeyError as exc:
            raise DataFileError(f"instance table, gpu {name!r} (imported row {i + 1}): "
                                f"{exc}") from None
