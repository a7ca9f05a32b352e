"""Optional dependencies: imported when a feature needs them, with a clear error otherwise.

The core install carries only what the formulas need (numpy, pandas, PyYAML). Reading
billing exports needs DuckDB and Ibis (extra ``billing``), Parquet files need pyarrow (extra
``parquet``); the ``notebooks`` and ``test`` extras include them.
"""

from __future__ import annotations

import importlib

EXTRAS = {"duckdb": "billing", "pyarrow": "parquet", "ibis": "fleet", "pyspark": "spark"}
"""Which extra of costkit installs each optional module."""


def require(module: str, what: str, extra: str | None = None):
    """Import ``module``, or say which extra to install for ``what``.

    ``what`` names the task in the message ("reading a billing export"); ``extra`` the extra
    to name (default the module's in :data:`EXTRAS`).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = extra or EXTRAS.get(module, module)
        raise ImportError(f"{what} needs {module}, which the core install leaves out: "
                          f"pip install 'costkit[{extra}]'") from None
