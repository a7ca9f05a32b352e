"""costkit: what it costs to put an AI model to work, and whether it pays off.

Public names are imported on first use, so ``import costkit`` stays light
(no pandas, matplotlib or ipywidgets until a function needs them).

>>> import costkit as ck
>>> ck.gpu("h100").peak_tflops("bf16")
989.5
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    # catalog
    "gpu": "catalog", "gpus": "catalog", "model": "catalog", "models": "catalog",
    "gpu_prices": "catalog", "gpu_hour_price": "catalog", "price_quote": "catalog",
    "price_summary": "catalog",
    "read_skypilot_catalog": "catalog", "GPU": "catalog", "Model": "catalog",
    "PriceQuote": "catalog", "DTYPES": "catalog",
    # money and units
    "fx_rate": "fx", "fx_rates": "fx", "convert": "fx", "in_currency": "fx",
    "grid_intensity": "grid",
    "Ledger": "ledger", "LineItem": "ledger", "PHASES": "ledger",
    "four_part_ledger": "ledger", "phase_cost": "ledger",
    "UnitError": "units", "parse_unit": "units", "parse_price_unit": "units",
    "DataFileError": "_tables", "UnknownNameError": "_tables",
    # a whole deployment from a file
    "Scenario": "scenario", "ScenarioError": "scenario",
}  # fmt: skip
_SUBMODULES = {"billing", "capacity", "catalog", "cli", "decision", "engine", "exercises", "fleet",
               "fx",
               "grid", "hosted_api", "kernels",
               "ledger", "mfu", "moe", "monitoring", "optimization", "plots", "price_lists",
               "report", "roi", "scenario", "serving", "serving_efficiency", "style", "telemetry",
               "token_day", "training", "tuning", "units", "validation", "widgets", "workshop"}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"costkit.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"costkit.{name}")
    raise AttributeError(f"module 'costkit' has no attribute {name!r}")


def __dir__():
    return __all__
