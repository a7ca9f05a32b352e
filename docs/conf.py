"""Sphinx configuration of costkit's reference site (``make docs``).

The site is built from what the repository already holds: the API reference from the
docstrings (numpydoc), the notebooks from their stored outputs (myst-nb, nothing executed),
the validation figures computed by :mod:`costkit.validation` at build time (offline, without the
peer model) and the scenario format from :func:`costkit.scenario.json_schema`. Pages under
``api/``, ``notebooks/`` and ``generated/`` are written here on every build (git ignores them).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import costkit  # noqa: E402

project = "costkit"
author = "the costkit authors"
copyright = "2026, the costkit authors"  # noqa: A001
release = version = costkit.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_nb", "sphinx.ext.mathjax"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "review", "**.ipynb_checkpoints"]
html_theme = "pydata_sphinx_theme"
html_title = f"costkit {version}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2,
                      "secondary_sidebar_items": {"generated/*": []}}
html_sidebars = {"generated/*": [], "index": [], "workshop": []}  # wide tables, full width
html_show_sourcelink = False
html_static_path: list[str] = []

# the notebooks as committed: stored outputs, never executed while building
nb_execution_mode = "off"
nb_output_stderr = "remove"
myst_enable_extensions = ["dollarmath"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# numpydoc: one entry per member, no autosummary tables of every attribute
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_member_order = "bysource"
add_module_names = False

MODULES = sorted(m.name for m in pkgutil.iter_modules(costkit.__path__)
                 if not m.name.startswith("_"))


def _fresh(name: str) -> Path:
    """An empty generated folder: a page left from a removed module or notebook would warn."""
    out = HERE / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    return out


def _api_pages() -> None:
    out = _fresh("api")
    lines = ["# API reference", "", "One page per module; `import costkit as ck` exposes the "
             "most used names at the top (`ck.gpu`, `ck.Ledger`, ...).", "", "```{toctree}",
             ":maxdepth: 1", ""]
    for name in MODULES:
        importlib.import_module(f"costkit.{name}")  # fail early on a module that cannot import
        lines.append(f"{name}")
        heading = f"``costkit.{name}``"
        (out / f"{name}.rst").write_text(f"{heading}\n{'=' * len(heading)}\n\n"
                                         f".. automodule:: costkit.{name}\n")
    lines.append("```")
    (out / "index.md").write_text("\n".join(lines) + "\n")


def _notebooks() -> None:
    out = _fresh("notebooks")
    names = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for n in names:
        shutil.copy2(ROOT / "notebooks" / n, out / n)
    lines = ["# The notebooks", "", "The teaching sequence as committed, with its stored outputs "
             "(charts and tables; the widget panels need a running kernel: `make lab`).", "",
             "```{toctree}", ":maxdepth: 1", "", *[n[:-6] for n in names], "```"]
    (out / "index.md").write_text("\n".join(lines) + "\n")


def _validation() -> None:
    from costkit import validation as v

    train = v._format_training(v.training_report(peers=False))
    serve = v._format_serving(v.serving_report(peers=False), v.serving_forward())
    text = ["# Validation", "",
            "How far costkit's estimates are from published figures, computed when this page was "
            "built (`make validate` prints the same, with the peer model llm-analysis beside "
            "it). Training: every published run predicted by a model fitted on the *other* runs "
            "(leave-one-out), with the nested 80% interval. Serving: the plain roofline, the "
            "serving-efficiency model (costkit.serving_efficiency) in sample and leave-one-out "
            "with its nominal 80% range, summaries per family and per vendor, and the forward "
            "check (fitted before MLPerf v4.0, predicting v4.0).", "",
            "## Training runs", "", "![Training runs against costkit's leave-one-out "
            "GPU-hours](validation-training.png)", "", "```text", train, "```", "",
            "## Serving benchmarks", "", "![Published serving figures against the roofline and "
            "the calibrated model](validation-serving.png)", "", "```text", serve, "```", ""]
    (HERE / "generated" / "validation.md").write_text("\n".join(text))
    _validation_figures(v)


def _validation_figures(v) -> None:
    """The validation page's two charts, drawn by the functions the notebooks use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from costkit import plots

    ax = plots.training_validation(v.training_report(peers=False))
    ax.figure.tight_layout()
    ax.figure.savefig(HERE / "generated" / "validation-training.png", dpi=100)
    axes = plots.serving_validation(v.serving_report(peers=False))
    axes[0].figure.savefig(HERE / "generated" / "validation-serving.png", dpi=100)
    plt.close("all")


def _kind(node: dict) -> str:
    """A schema node's type in words: ``number (> 0)``, ``text``, ``list of ...``."""
    if "anyOf" in node:
        kinds = [_kind(b) for b in node["anyOf"]]
        if any(b.get("type") == "number" for b in node["anyOf"]):
            return "number (or text with a unit or %)"
        return " or ".join(dict.fromkeys(kinds))
    t = node.get("type", "")
    t = [x for x in t if x != "null"][0] if isinstance(t, list) else t
    return {"string": "text", "object": "section", "array": "list", "integer": "whole number",
            "boolean": "true / false"}.get(t, t)


def _schema_rows(node: dict, path: str, defs: dict, rows: list) -> None:
    if "$ref" in node:
        node = defs[node["$ref"].split("/")[-1]]
    what = node.get("description", "")
    what = what[3:] if what.startswith("is ") else what
    if "enum" in node:
        what = (what + "; " if what else "") + "one of " + ", ".join(f"`{e}`" for e in node["enum"])
    default = f"`{json.dumps(node['default'])}`" if "default" in node else ""
    if path:
        rows.append(f"| `{path}` | {_kind(node)}{'; ' + what if what else ''} | {default} |")
    for key, sub in node.get("properties", {}).items():
        _schema_rows(sub, f"{path}.{key}" if path else key, defs, rows)
    items = node.get("items")
    if isinstance(items, dict) and items.get("properties"):
        _schema_rows(items, f"{path}[]", defs, rows)


def _scenario_format() -> None:
    from costkit.scenario import json_schema

    schema = json_schema()
    rows = ["| key | value | default |", "|---|---|---|"]
    _schema_rows(schema, "", schema.get("$defs", {}), rows)
    text = ["# The scenario format", "",
            "A scenario file (YAML) describes a whole deployment: `costkit validate FILE` checks "
            "it, `costkit report FILE` evaluates it. The keys below are generated from the same "
            "checks the validator runs (`costkit schema` writes them as a JSON Schema for "
            "editors). Keys without a default are required.", "", *rows, ""]
    (HERE / "generated" / "scenario-format.md").write_text("\n".join(text))


_fresh("generated")
_api_pages()
_notebooks()
_validation()
_scenario_format()
