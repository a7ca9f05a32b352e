"""The published serving evidence: ``data/serving_benchmarks.csv``, its schema, read and checked.

The table both the fit (:mod:`costkit.serving_efficiency`) and the out-of-sample report
(:mod:`costkit.validation`) read; it sits below both, so that neither imports the other in a
circle. :func:`costkit.validation.serving_benchmarks` is its documented home.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ._tables import Column, Schema, bundled_path, read_table, stamp

if TYPE_CHECKING:
    from ._typing import Frame, StrPath

__all__: list[str] = []  # documented, and imported, as costkit.validation's

BENCHMARK_SCHEMA = Schema(
    "serving benchmark",
    (
        Column("case"),
        Column("family"),
        Column("kind", choices=("llm", "encoder", "recommender")),
        Column("round"),
        Column("published_date", "date"),
        Column("gpu"),
        Column("n_gpus", "int", min=1, max=1024),
        Column("model"),
        Column("dtype"),
        Column("kv_dtype", required=False),
        Column("batch_size", "int", required=False, min=1, max=1_000_000),
        Column("prompt_tokens", "int", required=False, min=1, max=10_000_000),
        Column("output_tokens", "int", required=False, min=1, max=10_000_000),
        Column("n_beams", "int", required=False, min=1, max=64),
        Column("seq_len", "int", required=False, min=1, max=1_000_000),
        Column("metric", choices=("output_tokens_per_s", "requests_per_s", "sequences_per_s",
                                  "samples_per_s")),
        Column("published", "float", min=0, min_exclusive=True),
        Column("usable_memory_fraction", "float", required=False, min=0, min_exclusive=True,
               max=1),
        Column("mean_prompt_tokens", "float", required=False, min=1, max=10_000_000,
               absent_ok=True),
        Column("mean_output_tokens", "float", required=False, min=1, max=10_000_000,
               absent_ok=True),
        Column("effective_seq_len", "float", required=False, min=0, min_exclusive=True,
               max=1_000_000, absent_ok=True),
        Column("items_per_sample", "float", required=False, min=1, max=1_000_000,
               absent_ok=True),
        Column("software", required=False, absent_ok=True),
        Column("source"),
    ),
    key=("case",),
)


def _given(v) -> bool:
    """A cell holds a value (not NaN, NA or empty text)."""
    import pandas as pd

    return not (v is None or (not isinstance(v, str) and pd.isna(v)) or v == "")



@functools.lru_cache(maxsize=4)
def _benchmarks(path: str, mtime: float):
    return read_table(path, BENCHMARK_SCHEMA)


def serving_benchmarks(path: StrPath | None = None) -> Frame:
    """The published serving figures (``data/serving_benchmarks.csv``), validated (a copy).

    Parameters
    ----------
    path : str or Path, optional
        Your own benchmark table; default ``data/serving_benchmarks.csv``.

    Returns
    -------
    DataFrame
        The published serving figures (``data/serving_benchmarks.csv``), validated (a copy).

    Examples
    --------
    >>> b = serving_benchmarks()
    >>> len(b) >= 20, sorted(b["kind"].unique())
    (True, ['encoder', 'llm', 'recommender'])
    """
    return _benchmarks(*stamp(path or bundled_path("serving_benchmarks.csv"))).copy()
