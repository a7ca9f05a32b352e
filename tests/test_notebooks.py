"""Notebook hygiene: nbval compares nothing in a notebook stored without outputs, so check them."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_the_sequence_starts_with_the_foundation_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names[:2] == ["00_welcome.ipynb", "01_cost_accounting.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_run_top_to_bottom_in_order(path):
    counts = [c["execution_count"] for c in _code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), "re-run the notebook top to bottom"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_compared_cells_have_stored_outputs(path):
    for cell in _code_cells(path):
        src = "".join(cell["source"])
        ignored = re.search(r"NBVAL_(IGNORE_OUTPUT|SKIP)", src)
        shows = re.search(r"\bprint\(|plt\.show\(\)", src)
        if shows and not ignored:
            assert cell["outputs"], f"cell without stored output: {src[:60]!r}"
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"stored error in {src[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_widget_cells_are_ignored(path):
    for cell in _code_cells(path):
        src = "".join(cell["source"])
        if "NBVAL_IGNORE_OUTPUT" in src or "NBVAL_SKIP" in src:
            assert "widgets." in src, "only widget output (random model ids) may be ignored"


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for p in NOTEBOOKS:
        assert p.stem in readme, p.name
