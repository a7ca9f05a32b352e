"""One chart style for every chart, panel and report: colours that keep their meaning.

A phase, a cost category, an option of a decision and a GPU each keep one
colour wherever they are drawn (notebook charts, the widget panels, the HTML
report). Plain data, no matplotlib: ``import costkit`` stays light.

- :data:`PHASE_COLORS`: train, run, opt, tune.
- :data:`CATEGORY_COLORS`: the origin's six categories (:data:`costkit.ledger.CATEGORIES`),
  ``other`` and a grey for names of your own.
- :func:`option_colors`: the options of a decision, in the order given, the
  first ("keep today's ...", the baseline) grey; pass the *full* list of
  options to every chart and panel, also when one shows only some of them.
- :func:`gpu_color`: a GPU's colour from its place in the bundled catalog.

Phases, categories and options use the colour-blind-safe Tableau 10 set; GPUs use
matplotlib's tab20 and tab20b (40 colours), one per catalog GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BASELINE_COLOR", "CATEGORY_COLORS", "GOOD", "BAD", "OPTION_COLORS", "PHASE_COLORS",
           "TOTAL", "category_color", "gpu_color", "option_colors"]

PHASE_COLORS = {"train": "#76b7b2", "run": "#edc948", "opt": "#ff9da7", "tune": "#8cd17d"}
"""Each phase's colour (``C_train``, ``C_run``, ``C_opt``, ``C_tune``): lighter tints, none
shared with a category, so a phase chart beside a category chart cannot be misread."""

CATEGORY_COLORS = {"hardware": "#4e79a7", "software": "#b07aa1", "data": "#59a14f",
                   "labour": "#f28e2b", "operations": "#9c755f", "time": "#e15759",
                   "other": "#bab0ac"}
"""Each of the six categories' colour; ``other`` (and any name of your own) grey."""

BASELINE_COLOR = "#7f7f7f"
"""The baseline option (doing nothing new): grey."""

OPTION_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7")
"""The colours of a decision's options after the baseline, in order."""

GOOD, BAD, TOTAL = "#59a14f", "#e15759", "#4e79a7"
"""A change that helps (green), one that hurts (red), and a total (blue) in a waterfall."""


def category_color(category: str) -> str:
    """The colour of a cost category; grey for ``other`` and names of your own.

    Parameters
    ----------
    category : str
        Cost category (one of the six, or your own).

    Returns
    -------
    str
        The colour of a cost category; grey for ``other`` and names of your own.

    Examples
    --------
    >>> category_color("hardware") != category_color("labour"), category_color("my own")
    (True, '#bab0ac')
    """
    return CATEGORY_COLORS.get(category, CATEGORY_COLORS["other"])


def option_colors(names: Sequence[str], *, baseline: bool = True) -> dict:
    """``{option name: colour}`` for the options of one decision, in their order.

    With ``baseline`` (default) the first option is the baseline and grey.
    The same list gives the same colours in every chart; colours repeat after
    seven options.

    Parameters
    ----------
    names : sequence of str
        Option names in their order (the status quo first).
    baseline : bool, default True
        The first option is the baseline (grey).

    Returns
    -------
    dict
        ``{option name: colour}`` for the options of one decision, in their order.

    Examples
    --------
    >>> option_colors(["keep", "BERT", "LLM"])["BERT"]
    '#4e79a7'
    """
    names = list(names)
    out = {}
    for i, n in enumerate(names):
        if baseline and i == 0:
            out[n] = BASELINE_COLOR
        else:
            out[n] = OPTION_COLORS[(i - int(baseline)) % len(OPTION_COLORS)]
    return out


_GPU_PALETTE = (  # matplotlib's tab20 then tab20b: 40 colours, one per catalog GPU
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5", "#393b79", "#5254a3", "#6b6ecf", "#9c9ede",
    "#637939", "#8ca252", "#b5cf6b", "#cedb9c", "#8c6d31", "#bd9e39", "#e7ba52", "#e7cb94",
    "#843c39", "#ad494a", "#d6616b", "#e7969c", "#7b4173", "#a55194", "#ce6dbd", "#de9ed6")


def gpu_color(gpu: str) -> str:
    """A GPU's colour.

    Its place in the bundled catalog (``gpus.csv``) picks it, so every catalog GPU (31 today, up
    to 40) has a colour of its own; a GPU of your own gets a stable colour from its name.

    Parameters
    ----------
    gpu : str
        GPU name (a catalog name, or your own).

    Returns
    -------
    str
        A GPU's colour.

    Examples
    --------
    >>> gpu_color("H100-SXM") == gpu_color("H100-SXM"), gpu_color("H100-SXM") != gpu_color("L4")
    (True, True)
    """
    from costkit.catalog import gpus

    names = list(gpus()["name"])
    try:
        i = names.index(gpu)
    except ValueError:
        i = sum(map(ord, str(gpu)))
    return _GPU_PALETTE[i % len(_GPU_PALETTE)]
