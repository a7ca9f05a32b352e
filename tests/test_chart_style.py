"""Every chart a reader sees, drawn and inspected: the notebooks' charts (each notebook run
in-process, top to bottom, every ``plt.show()`` checked), the panels' charts, and the
report's charts. A chart fails on text over text, a ``1e6`` offset or ``10^k`` ticks
(:mod:`chart_check`); the colours of phases, categories and options are one palette."""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import pytest
from chart_check import problems

import costkit as ck

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@contextlib.contextmanager
def _charts_checked(where, found):
    """Record the problems of each figure shown (``plt.show``) while the block runs."""
    shown = plt.show
    count = {"n": 0}

    def check(*_a, **_k):
        for num in plt.get_fignums():
            fig = plt.figure(num)
            count["n"] += 1
            found.extend(f"{where}, chart {count['n']}: {p}" for p in problems(fig))
        plt.close("all")

    plt.show = check
    try:
        yield count
    finally:
        plt.show = shown
        plt.close("all")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_chart_of_a_notebook_reads_cleanly(path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(path.parent)
    nb = nbformat.read(path, as_version=4)
    found: list[str] = []
    ns = {"__name__": "__main__"}
    with _charts_checked(path.stem, found) as count:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "solution" in cell.metadata.get("tags", []):
                continue
            exec(compile(cell.source, f"{path.stem} cell {i}", "exec"), ns)  # noqa: S102
    charts = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert count["n"] >= charts, f"{path.stem}: {count['n']} charts drawn, {charts} stored"
    assert not found, "\n".join(found)


def test_every_chart_of_the_report_reads_cleanly(monkeypatch):
    from costkit import report

    found: list[str] = []
    drawn = {"n": 0}
    real = report._figure

    def checked(draw, figsize=(9, 3.8)):
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        draw(fig.subplots())
        fig.tight_layout()
        drawn["n"] += 1
        found.extend(f"report chart {drawn['n']}: {p}" for p in problems(fig))
        return real(draw, figsize)

    monkeypatch.setattr(report, "_figure", checked)
    result = ck.Scenario.from_yaml(ROOT / "examples" / "ecommerce.yaml").evaluate(draws=2_000)
    report.html(result)
    assert drawn["n"] >= 6
    assert not found, "\n".join(found)


def test_the_checker_catches_what_it_is_for():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 2e6])                       # a 1e6 offset
    ax.set_title("a title")
    ax.annotate("a label inside the title", (0.5, 1.0), xycoords="axes fraction",
                ha="center", va="bottom")
    found = problems(fig)
    assert any("offset" in p for p in found)
    assert any("overlaps" in p for p in found)
    fig2, ax2 = plt.subplots()
    ax2.loglog([1, 10, 100], [1, 10, 100])
    assert any("power" in p for p in problems(fig2))
    ck.plots.plain_ticks(ax2.xaxis)
    ck.plots.plain_ticks(ax2.yaxis)
    assert problems(fig2) == []


def test_ticks_keep_enough_digits_to_differ():
    """03's serving chart read 0, 500, 1 k, 2 k, 2 k, 2 k: the checker refuses it, costkit's
    formatter does not write it."""
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 4000], [0, 1])
    ax.set_xticks([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / 1e3:.0f} k"))
    assert any("two ticks labelled" in p for p in problems(fig))
    ck.plots.money_ticks(ax.xaxis)
    assert problems(fig) == []
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0", "500", "1.0 k", "1.5 k", "2.0 k", "2.5 k", "3.0 k", "3.5 k", "4.0 k"]
    plt.close("all")
    plt.close("all")


def test_one_palette_for_phases_categories_and_options():
    from costkit.ledger import CATEGORIES, PHASES
    from costkit.style import CATEGORY_COLORS, PHASE_COLORS, option_colors

    assert set(PHASES) <= set(PHASE_COLORS) and set(CATEGORIES) <= set(CATEGORY_COLORS)
    assert not set(PHASE_COLORS.values()) & set(CATEGORY_COLORS.values())  # never confused
    full = option_colors(["keep", "BERT", "LLM"])
    assert full["keep"] == ck.style.BASELINE_COLOR and len(set(full.values())) == 3
    # the same option keeps its colour when a chart draws only some of the options
    fig, ax = plt.subplots()
    cases = {n: ck.roi.Case(sessions_per_month=1e6, searches_per_session=2,
                            click_through_rate=0.3, conversion_rate=0.05,
                            average_order_value_usd=50, gross_margin=0.3, cvr_lift=lift,
                            one_off_usd=1_000 * lift * 100, name=n)
             for n, lift in [("keep", 0.0), ("BERT", 0.01), ("LLM", 0.02)]}
    colors = option_colors(cases)
    for n in ["BERT", "LLM"]:
        ck.plots.cumulative_cash_flow(cases[n].evaluate(), ax=ax, color=colors[n])
    drawn = {line.get_label(): matplotlib.colors.to_hex(line.get_color()) for line in ax.lines
             if line.get_label() in cases}
    assert drawn == {"BERT": full["BERT"], "LLM": full["LLM"]}
    plt.close("all")



def test_every_catalog_gpu_has_a_colour_of_its_own():
    from costkit.catalog import gpus
    from costkit.style import gpu_color

    names = list(gpus()["name"])
    assert len({gpu_color(n) for n in names}) == len(names)
    assert gpu_color("my-own-asic") == gpu_color("my-own-asic")
