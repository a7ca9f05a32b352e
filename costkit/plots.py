"""Charts for the notebooks: each takes data or a costkit object and an ``ax``.

matplotlib is imported when a function here is called, not when costkit is
imported. Every function returns the Axes it drew on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

    from ._typing import Floats, Frame, NDArray, Series
    from .capacity import CapacityPlan
    from .hosted_api import BuyOrBuild
    from .ledger import Ledger
    from .optimization import OptimizationComparison
    from .roi import MonteCarloResult, ROIResult
    from .serving import EncoderEstimate, ServingEstimate
    from .token_day import TokenDay
    from .training import ComputeOptimalPlan, MemoryBreakdown, TrainingEstimate
    from .tuning import SearchCost

__all__ = [
    "ab_sample_size", "accuracy_tradeoff", "compute_optimal_frontier", "cumulative_cash_flow",
    "finetune_methods", "latency_throughput", "ledger_bars", "ledger_waterfall", "memory_stack",
    "npv_histogram", "optimization_costs", "payback_curve", "price_spread", "replica_curve",
    "roi_waterfall", "search_strategies", "serving_cost_by_gpu", "serving_memory", "tornado",
    "training_by_gpu", "training_scaling", "waterfall", "bill_by_day", "utilization_heatmap",
    "idle_money", "alerts_timeline", "predicted_vs_published", "money_ticks", "ledger_items",
    "ledger_matrix", "buy_or_build", "token_day_gaps", "tick_labels", "training_validation",
    "serving_validation",
]


def _plain(v: float, *, label: bool = False, extra: int = 0) -> str:
    """A number as a person writes it on a chart.

    1.5 M, 250 k, 3 B, 12, 0.5, 0.001 (no 1e6, no 10^k). ``label=True`` (a value written beside
    a bar) keeps more digits: 1.26 M, 12 k from 10,000 up, whole numbers from 100, two decimals
    below. ``extra`` adds decimals (ticks that would otherwise read alike: 1.5 k, 2.0 k, 2.5 k).
    """
    a = abs(v)
    if a >= 1e9:
        return (f"{v / 1e9:,.{1 + extra}f} B" if extra
                else f"{v / 1e9:,.1f} B".replace(".0 B", " B"))
    if a >= 1e6:
        if label:
            return f"{v / 1e6:,.2f} M"
        return (f"{v / 1e6:,.{1 + extra}f} M" if extra
                else f"{v / 1e6:,.1f} M".replace(".0 M", " M"))
    if a >= (1e4 if label else 1e3):
        return f"{v / 1e3:,.{extra}f} k"
    if label:
        return f"{v:,.0f}" if a >= 100 else f"{v:,.2f}"
    if a >= 1 or a == 0:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.{1 + extra}f}"
    return f"{v:.{3 + extra}g}"


def _shorten(text: str, width: int = 48, tail: int = 18) -> str:
    """A long label cut in the middle, so that its end (often what tells two apart) stays."""
    if len(text) <= width:
        return text
    return text[:width - tail - 1] + "…" + text[-tail:]


def tick_labels(values: Sequence[float]) -> list[str]:
    """Labels for a set of ticks: :func:`_plain`'s, with as few decimals as keep them apart.

    ``1,500``, ``2,000`` and ``2,500`` are all "2 k" at no decimals, so they get one:
    "1.5 k", "2.0 k", "2.5 k". Values that are equal share a label; no two others do.

    Parameters
    ----------
    values : sequence of float
        The tick values.

    Returns
    -------
    list of str
        One label per value.

    Examples
    --------
    >>> tick_labels([0, 500, 1000, 1500, 2000, 2500])
    ['0', '500', '1.0 k', '1.5 k', '2.0 k', '2.5 k']
    >>> tick_labels([0, 1e6, 2e6])
    ['0', '1 M', '2 M']
    """
    distinct = len({float(v) for v in values})
    labels: list[str] = []
    for extra in range(6):
        labels = [_plain(float(v), extra=extra) for v in values]
        if len(set(labels)) == distinct:
            break
    return labels


def _plain_formatter():
    """A matplotlib formatter writing :func:`tick_labels` (matplotlib imported on use)."""
    from matplotlib.ticker import Formatter

    class PlainFormatter(Formatter):
        def __call__(self, x, pos=None):
            return _plain(x)

        def format_ticks(self, values):
            return tick_labels(values)

    return PlainFormatter()


def money_ticks(axis: Axis) -> Axis:
    """Tick labels in k, M and B (``1.5 M``, ``250 k``); returns the axis.

    No ``1e6`` offset or ``10^6`` powers. ``axis`` is ``ax.yaxis`` or ``ax.xaxis``; on a log
    axis the minor ticks stay unlabelled.

    Parameters
    ----------
    axis : matplotlib Axis
        ``ax.yaxis`` or ``ax.xaxis``.

    Returns
    -------
    matplotlib Axis
        Tick labels in k, M and B (``1.5 M``, ``250 k``); returns the axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 2.5e6])
    >>> money_ticks(ax.yaxis).get_major_formatter()(1.5e6, 0)
    '1.5 M'
    >>> plt.close("all")
    """
    from matplotlib.ticker import NullFormatter

    axis.set_major_formatter(_plain_formatter())
    if axis.get_scale() == "log":
        axis.set_minor_formatter(NullFormatter())
    return axis


plain_ticks = money_ticks
"""The same formatter for counts on a log axis (requests, parameters, months)."""


def _axes(ax, figsize=(7, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def ledger_bars(ledger: Ledger, *, ax: Axes | None = None, currency: str | None = None,
                by: str = "category") -> Axes:
    """Stacked bars: one bar per phase, stacked by ``by`` (a ledger column). [currency]

    Parameters
    ----------
    ledger : Ledger
        The ledger to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, optional
        Currency drawn; default the ledger's.
    by : str, default 'category'
        Ledger column the bars are stacked by (``category`` or ``name``).

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.ledger import four_part_ledger
    >>> led = four_part_ledger({"train": 100, "run": 730, "opt": 10, "tune": 50},
    ...                        {"train": 2.5, "run": 0.8, "opt": 2.5, "tune": 2.5},
    ...                        {"train": 200, "run": 20, "opt": 50, "tune": 10})
    >>> ax = ledger_bars(led)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['C_train', 'C_run', 'C_opt', 'C_tune']
    >>> plt.close("all")
    """
    from costkit.ledger import PHASE_LABELS, PHASES

    ax = _axes(ax)
    cur = (currency or ledger.currency).upper()
    df = ledger.to_frame(cur)
    col = f"cost_{cur.lower()}"
    df[by] = df[by].replace("", "other")
    table = df.pivot_table(index="phase", columns=by, values=col, aggfunc="sum", fill_value=0.0)
    table = table.reindex(list(PHASES), fill_value=0.0)
    from costkit.style import category_color

    bottom = [0.0] * len(table)
    for name in table.columns:
        vals = table[name].to_numpy()
        ax.bar([PHASE_LABELS[p] for p in table.index], vals, bottom=bottom, label=str(name),
               color=category_color(name) if by == "category" else None)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    for x, b in enumerate(bottom):
        ax.annotate(_label(b), (x, b), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max(max(bottom), 1e-9) * 1.15)
    ax.set_ylabel(f"cost [{cur}]")
    ax.legend(title=by, fontsize=8)
    ax.set_title(ledger.title or "Cost by phase")
    return ax


def _label(v: float) -> str:
    return _plain(v, label=True)


def ledger_items(ledger: Ledger, *, ax: Axes | None = None, currency: str | None = None,
                 top: int = 14) -> Axes:
    """What the ledger holds.

    One horizontal bar per line item, grouped by phase and coloured by category, each labelled
    with its cost. Items past the ``top`` largest are one "n smaller items" bar, so every unit
    of money is drawn. [currency]

    Parameters
    ----------
    ledger : Ledger
        The ledger to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, optional
        Currency drawn; default the ledger's.
    top : int, default 14
        Bars for the largest this many items; the rest are one bar.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.ledger import four_part_ledger
    >>> led = four_part_ledger({"train": 100, "run": 730, "opt": 10, "tune": 50},
    ...                        {"train": 2.5, "run": 0.8, "opt": 2.5, "tune": 2.5},
    ...                        {"train": 200, "run": 20, "opt": 50, "tune": 10})
    >>> ax = ledger_items(led)
    >>> len(ax.get_yticklabels())
    8
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.ledger import PHASE_LABELS, PHASES
    from costkit.style import category_color

    cur = (currency or ledger.currency).upper()
    df = ledger.to_frame(cur)
    col = f"cost_{cur.lower()}"
    if df.empty:
        raise ValueError("the ledger has no items to draw")
    df = df.assign(order=df["phase"].map({p: i for i, p in enumerate(PHASES)}))
    keep = df.nlargest(int(top), col).index
    rest = df.drop(index=keep)
    df = df.loc[keep].sort_values(["order", col], ascending=[True, False])
    labels = [f"{PHASE_LABELS[p]} · {n}" for p, n in zip(df["phase"], df["name"], strict=True)]
    colors = [category_color(c) for c in df["category"]]
    values = list(df[col])
    if len(rest):
        labels.append(f"{len(rest)} smaller items")
        colors.append("#dddddd")
        values.append(float(rest[col].sum()))
    ax = _axes(ax, figsize=(8, 0.32 * len(values) + 1.4))
    y = np.arange(len(values))[::-1]
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, [_shorten(t) for t in labels], fontsize=8)
    right = max(values) if max(values) > 0 else 1.0
    for yi, v in zip(y, values, strict=True):
        ax.annotate(_label(v), (v, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xlim(0, right * 1.18)
    money_ticks(ax.xaxis)
    ax.set_xlabel(f"cost [{cur}]")
    used = list(dict.fromkeys(df["category"]))
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=category_color(c), label=c) for c in used],
              title="category", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    total = ledger.total(cur)
    ax.set_title(f"{ledger.title or 'Ledger'}: {_label(total)} {cur} in "
                 f"{len(ledger)} items")
    return ax


def ledger_matrix(ledger: Ledger, *, ax: Axes | None = None, currency: str | None = None) -> Axes:
    """The ledger both ways.

    One bar per category (the origin's six, then others), stacked by phase in the phase colours,
    with each category's total. [currency]

    Parameters
    ----------
    ledger : Ledger
        The ledger to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, optional
        Currency drawn; default the ledger's.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.ledger import four_part_ledger
    >>> led = four_part_ledger({"train": 100, "run": 730, "opt": 10, "tune": 50},
    ...                        {"train": 2.5, "run": 0.8, "opt": 2.5, "tune": 2.5},
    ...                        {"train": 200, "run": 20, "opt": 50, "tune": 10})
    >>> ax = ledger_matrix(led)
    >>> len(ax.patches) > 0
    True
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.ledger import PHASE_LABELS, PHASES
    from costkit.style import PHASE_COLORS

    cur = (currency or ledger.currency).upper()
    table = ledger.by_phase_category(cur)
    cats = list(table.columns)
    ax = _axes(ax, figsize=(8, 0.4 * len(cats) + 1.6))
    y = np.arange(len(cats))[::-1]
    left = np.zeros(len(cats))
    for ph in PHASES:
        vals = table.loc[ph].to_numpy(dtype=float)
        if vals.any():
            ax.barh(y, vals, left=left, color=PHASE_COLORS[ph], label=PHASE_LABELS[ph])
        left = left + vals
    for yi, v in zip(y, left, strict=True):
        ax.annotate(_label(v), (v, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(y, cats)
    ax.set_xlim(0, (left.max() or 1.0) * 1.18)
    money_ticks(ax.xaxis)
    ax.set_xlabel(f"cost [{cur}]")
    ax.legend(title="phase", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    by = ledger.by_category(cur)
    top = by.idxmax() if by.max() > 0 else "nothing"
    ax.set_title(f"{ledger.title or 'Ledger'}: by category, {top} the largest")
    return ax


def ledger_waterfall(ledger: Ledger, *, ax: Axes | None = None,
                     currency: str | None = None) -> Axes:
    """Waterfall from 0 through each phase's cost to the total C. [currency]

    Parameters
    ----------
    ledger : Ledger
        The ledger to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, optional
        Currency drawn; default the ledger's.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.ledger import four_part_ledger
    >>> led = four_part_ledger({"train": 100, "run": 730, "opt": 10, "tune": 50},
    ...                        {"train": 2.5, "run": 0.8, "opt": 2.5, "tune": 2.5},
    ...                        {"train": 200, "run": 20, "opt": 50, "tune": 10})
    >>> ax = ledger_waterfall(led)
    >>> len(ax.patches)
    5
    >>> plt.close("all")
    """
    from costkit.ledger import PHASE_LABELS, PHASES

    ax = _axes(ax)
    cur = (currency or ledger.currency).upper()
    from costkit.style import PHASE_COLORS

    by = ledger.by_phase(cur)
    start = 0.0
    labels = []
    for i, ph in enumerate(PHASES):
        ax.bar(i, by[ph], bottom=start, color=PHASE_COLORS[ph])
        ax.annotate(f"+{by[ph]:,.2f}", (i, start + by[ph]), ha="center", va="bottom", fontsize=9)
        if i < len(PHASES) - 1:
            ax.plot([i + 0.4, i + 0.6], [start + by[ph]] * 2, color="grey", lw=0.8)
        start += by[ph]
        labels.append(PHASE_LABELS[ph])
    ax.bar(len(PHASES), start, color="black")
    ax.annotate(f"{start:,.2f}", (len(PHASES), start), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(PHASES) + 1), labels + ["C"])
    ax.set_ylabel(f"cost [{cur}]")
    ax.set_title(ledger.title or "C = C_train + C_run + C_opt + C_tune")
    return ax


def price_spread(prices: Frame | None = None, *, gpus: Sequence[str] | None = None,
                 pricing: str = "on_demand", ax: Axes | None = None) -> Axes:
    """Per-GPU-hour prices of every offer, one row per GPU, median marked. [USD/GPU-hour]

    Parameters
    ----------
    prices : DataFrame, optional
        From :func:`costkit.gpu_prices` (default: the bundled catalog).
    gpus : list of str, optional
        GPUs to show, in that order; default: all with a price, by median.
    pricing : {"on_demand", "spot"}
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = price_spread(gpus=["H100-SXM", "A100-80GB", "L4"])
    >>> len(ax.get_yticklabels())
    3
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.catalog import gpu_prices
    from costkit.style import gpu_color

    df = gpu_prices() if prices is None else prices
    col = f"{pricing}_usd_per_gpu_hour"
    df = df[df[col].notna()]
    med = df.groupby("gpu")[col].median().sort_values()
    order = list(med.index) if gpus is None else list(gpus)
    ax = _axes(ax, figsize=(7, 0.3 * len(order) + 1.2))
    rng = np.random.default_rng(0)  # fixed jitter: the chart is the same on every run
    for y, name in enumerate(order):
        vals = df.loc[df["gpu"] == name, col].to_numpy()
        ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=12, alpha=0.6,
                   color=gpu_color(name))
        ax.scatter([np.median(vals)], [y], marker="|", s=300, color="C3")
    ax.set_yticks(range(len(order)), order)
    ax.set_xscale("log")
    plain_ticks(ax.xaxis)
    ax.set_xlabel(f"{pricing.replace('_', '-')} price [USD per GPU-hour, log scale]")
    ax.set_title("Spread of cloud prices per GPU (red: median; dots in each GPU's colour)")
    ax.grid(axis="x", alpha=0.3)
    return ax


def _range_err(est, key, scale=1.0):
    import numpy as np

    mid = np.asarray(getattr(est, key), dtype=float) * scale
    lo = np.asarray(getattr(est.low, key), dtype=float) * scale
    hi = np.asarray(getattr(est.high, key), dtype=float) * scale
    return mid, np.vstack([mid - lo, hi - mid])


def training_by_gpu(est: TrainingEstimate, *, ax: Axes | None = None,
                    currency: str = "USD") -> Axes:
    """Cost per GPU as horizontal bars, cheapest first, each labelled with its wall-clock days.

    Whiskers show the low-high range. One axis: money is never drawn against days.

    ``est`` is a :class:`costkit.training.TrainingEstimate` over an array of
    GPUs. [currency; days]

    Parameters
    ----------
    est : TrainingEstimate
        A training estimate over an array of GPUs.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, default 'USD'
        Currency of the costs drawn.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.training import estimate
    >>> est = estimate(model="llama-2-7b", tokens=1e11, gpu=["H100-SXM", "A100-80GB"], n_gpus=8)
    >>> ax = training_by_gpu(est)
    >>> ax.get_xlabel()
    'cost [USD]'
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.fx import convert
    from costkit.style import gpu_color

    names = [str(g) for g in np.asarray(est.gpu).ravel()]
    ax = _axes(ax, figsize=(8, 0.45 * len(names) + 1.4))
    rate = 1.0 if currency.upper() == "USD" else convert(1.0, "USD", currency)
    cost, cost_err = _range_err(est, "cost_usd", rate)
    days = np.asarray(est.wall_clock_hours, dtype=float).ravel() / 24
    order = np.argsort(cost)[::-1]              # the cheapest ends on top
    y = np.arange(len(names))
    ax.barh(y, cost[order], xerr=cost_err[:, order], capsize=3,
            color=[gpu_color(names[k]) for k in order])
    ax.set_yticks(y, [names[k] for k in order])
    top = float(np.max(cost + cost_err[1]))
    for yi, k in zip(y, order, strict=True):
        ax.annotate(f"{_label(cost[k])} · {days[k]:,.1f} days",
                    (cost[k] + cost_err[1, k], yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xlim(0, top * 1.35)
    money_ticks(ax.xaxis)
    ax.set_xlabel(f"cost [{currency.upper()}]")
    cheapest = names[int(np.argmin(cost))]
    ax.set_title(f"{cheapest} is the cheapest; labels: cost · wall-clock days")
    return ax


def training_scaling(est: TrainingEstimate, *, ax: Axes | None = None,
                     currency: str = "USD") -> Axes:
    """Cost and wall clock against the number of GPUs (log scale). [currency; days]

    Parameters
    ----------
    est : TrainingEstimate
        A training estimate over an array of GPU counts.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    currency : str, default 'USD'
        Currency of the costs drawn.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.training import estimate
    >>> ax = training_scaling(estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM",
    ...                                n_gpus=[8, 16, 32]))
    >>> ax.get_xscale()
    'log'
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.fx import convert

    ax = _axes(ax)
    n = np.asarray(est.n_gpus, dtype=float).ravel()
    rate = 1.0 if currency.upper() == "USD" else convert(1.0, "USD", currency)
    ax.plot(n, np.asarray(est.cost_usd).ravel() * rate, "o-", color="C0")
    ax.set_xscale("log", base=2)
    plain_ticks(ax.xaxis)
    ax.set_xlabel("GPUs")
    ax.set_ylabel(f"cost [{currency.upper()}]", color="C0")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(n, np.asarray(est.wall_clock_hours).ravel() / 24, "s--", color="C1")
    ax2.set_yscale("log")
    plain_ticks(ax2.yaxis)
    ax2.set_ylabel("wall clock [days, log scale]", color="C1")
    ax.set_title("More GPUs: time falls, cost stays flat or rises")
    return ax


def _usable_line(ax, gpu_name, fraction, x_right):
    """The usable share of a GPU's memory as a dashed line [GB = 1e9 bytes].

    The same line, with the same label, in the training and the serving charts.
    """
    from costkit.catalog import gpu as lookup

    g = lookup(gpu_name)
    usable = g.memory_bytes / 1e9 * fraction
    ax.axhline(usable, color="black", ls="--", lw=1)
    ax.annotate(f"{fraction:.0%} of {g.name}'s {g.memory_gb:g} GiB = {usable:,.1f} GB usable",
                (x_right, usable), ha="right", va="bottom", fontsize=8)
    return usable


def memory_stack(breakdowns: Mapping[str, MemoryBreakdown], *, gpu: str | None = None,
                 usable_memory_fraction: float = 0.9, gpu_memory_gb: float | None = None,
                 ax: Axes | None = None) -> Axes:
    """Stacked bars of training memory per GPU, with the GPU's usable memory as a line. [GB]

    ``breakdowns`` maps a label to a :class:`costkit.training.MemoryBreakdown`
    (one configuration each). ``gpu`` draws ``usable_memory_fraction`` of its
    memory (labels read as GiB, shown in GB), as :func:`serving_memory` does;
    ``gpu_memory_gb`` draws a line at a figure you give instead.

    Parameters
    ----------
    breakdowns : mapping
        ``{label: MemoryBreakdown}``, one bar each.
    gpu : str, optional
        GPU whose usable memory is drawn; default none.
    usable_memory_fraction : float, default 0.9
        Share of memory usable, drawn as a line. [unitless, 0-1]
    gpu_memory_gb : float, optional
        Memory of the GPU, if ``gpu`` is not given. [GB]
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.training import memory
    >>> ax = memory_stack({"ZeRO-0": memory(7e9, zero_stage=0, n_gpus=8),
    ...                    "ZeRO-3": memory(7e9, zero_stage=3, n_gpus=8)}, gpu="H100-SXM")
    >>> ax.get_ylabel()
    'memory per GPU [GB]'
    >>> plt.close("all")
    """
    ax = _axes(ax)
    parts = ("weights_gb", "gradients_gb", "optimizer_gb", "activations_gb")
    labels = list(breakdowns)
    bottom = [0.0] * len(labels)
    for i, part in enumerate(parts):
        vals = [float(getattr(breakdowns[k], part)) for k in labels]
        ax.bar(labels, vals, bottom=bottom, color=f"C{i}", label=part[:-3])
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    for x, b in enumerate(bottom):
        ax.annotate(f"{b:,.1f}", (x, b), ha="center", va="bottom", fontsize=9)
    if gpu is not None:
        _usable_line(ax, gpu, usable_memory_fraction, len(labels) - 0.5)
    elif gpu_memory_gb is not None:
        ax.axhline(gpu_memory_gb, color="black", ls="--", lw=1)
        ax.annotate(f"GPU memory {gpu_memory_gb:g} GB", (len(labels) - 0.5, gpu_memory_gb),
                    ha="right", va="bottom", fontsize=9)
    ax.set_ylabel("memory per GPU [GB]")
    ax.legend(fontsize=8)
    ax.set_title("Training memory per GPU")
    return ax


def compute_optimal_frontier(plan: ComputeOptimalPlan, *, ax: Axes | None = None) -> Axes:
    """Compute-optimal parameters and tokens against the budget (log-log). [USD; count]

    Parameters
    ----------
    plan : ComputeOptimalPlan
        A compute-optimal plan over an array of budgets.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.training import compute_optimal
    >>> ax = compute_optimal_frontier(compute_optimal([1e5, 1e6, 1e7], usd_per_gpu_hour=2.0))
    >>> ax.get_xscale()
    'log'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    cost = np.asarray(plan.cost_usd, dtype=float).ravel()
    ax.loglog(cost, np.asarray(plan.params).ravel(), "-", color="C0", label="parameters N")
    ax.fill_between(cost, np.asarray(plan.params_range[0]).ravel(),
                    np.asarray(plan.params_range[1]).ravel(), color="C0", alpha=0.2,
                    label="N over the MFU range")
    ax.loglog(cost, np.asarray(plan.tokens).ravel(), "--", color="C1",
              label=f"tokens D = {plan.tokens_per_param:g} N")
    ax.set_xlabel(f"budget [USD on {plan.gpu}]")
    ax.set_ylabel("count")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("Compute-optimal frontier (Chinchilla)")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    return ax


# --------------------------------------------------------------------------- serving


def latency_throughput(est: ServingEstimate, *, slo_s: float | None = None, ax: Axes | None = None,
                       label: str | None = None, annotate: bool = True,
                       chosen: int | None = None) -> Axes:
    """Request latency against output tokens/s as the batch grows, with the SLO line. [s; 1/s]

    ``est`` is a :class:`costkit.serving.ServingEstimate` over an array of
    batch sizes (one GPU). Batches that do not fit in memory are left out.
    Points are labelled with their batch size; ``chosen`` (a batch size) is
    ringed and named, so a panel's chart follows its batch slider.

    Parameters
    ----------
    est : ServingEstimate
        A serving estimate over an array of batch sizes.
    slo_s : float, optional
        Latency target drawn as a line; default none. [s]
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    label : str, optional
        Legend label; default the model and GPU.
    annotate : bool, default True
        Label each point with its batch size.
    chosen : int, optional
        A batch size to ring and name; default none.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.serving import estimate
    >>> ax = latency_throughput(estimate("llama-2-7b", gpu="H100-SXM", batch_size=[1, 8, 32]),
    ...                         slo_s=3.0)
    >>> ax.get_ylabel()
    'request latency [s]'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    ok = np.asarray(est.fits_in_memory, dtype=bool).ravel()
    tps = np.asarray(est.tokens_per_second, dtype=float).ravel()[ok]
    lat = np.asarray(est.request_latency_s, dtype=float).ravel()[ok]
    batch = np.broadcast_to(np.asarray(est.batch_size), ok.shape)[ok]
    line = ax.plot(tps, lat, "o-", label=label or f"{est.model} on {np.ravel(est.gpu)[0]}")[0]
    if annotate:
        for x, y, b in zip(tps, lat, batch, strict=True):
            ax.annotate(f"{b:g}", (x, y), textcoords="offset points", xytext=(4, -10),
                        fontsize=7, color=line.get_color())
    if chosen is not None and np.any(batch == chosen):
        i = int(np.flatnonzero(batch == chosen)[0])
        ax.plot(tps[i], lat[i], "o", ms=13, mfc="none", mec="black", mew=1.5,
                label=f"chosen batch {chosen:g}")
    if slo_s is not None:  # named in the legend: no label to collide with the points
        ax.axhline(slo_s, color="#b00", ls="--", lw=1, label=f"SLO {slo_s:g} s")
    if chosen is not None or slo_s is not None:
        # upper left: the curve rises to the right, and no point is slow with little throughput
        ax.legend(fontsize=8, loc="upper left")
    ax.set_xlabel("output tokens per second per replica")
    ax.set_ylabel("request latency [s]")
    ax.grid(alpha=0.3)
    ax.set_title("Bigger batches: more throughput, longer latency (labels: batch size)")
    return ax


def replica_curve(plan: CapacityPlan, *, ax: Axes | None = None) -> Axes:
    """Replicas per hour for each provisioning strategy, with the traffic behind. [count; 1/s]

    Parameters
    ----------
    plan : CapacityPlan
        A capacity plan.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.capacity import plan, traffic_profile
    >>> p = plan(traffic_profile(2e6), replica_rps=25.0, request_latency_s=0.04,
    ...          usd_per_replica_hour=1.0)
    >>> ax = replica_curve(p)
    >>> ax.get_xlabel()
    'hour'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax, figsize=(8, 4))
    h = plan.hourly
    x = np.arange(len(h))
    ax2 = ax.twinx()
    ax2.fill_between(x, h["requests_per_second"], step="mid", color="grey", alpha=0.15)
    ax2.set_ylabel("requests per second (grey)")
    ax2.set_ylim(bottom=0)
    ax.step(x, h["static_peak"], where="mid", label="static for peak", color="C3")
    ax.step(x, h["autoscale"], where="mid", label="hourly autoscaling", color="C0")
    mix = h["mix_reserved"] + h["mix_on_demand"] + h["mix_spot"]
    ax.step(x, mix, where="mid", label="mix: reserved + on-demand + spot", color="C2", ls="--")
    ax.axhline(plan.reserved_replicas, color="C2", lw=0.8, ls=":")
    ax.set_xlabel("hour")
    ax.set_ylabel("replicas")
    ax.set_ylim(bottom=0)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"Replicas per hour ({plan.reserved_replicas} reserved in the mix, dotted)")
    return ax


def buy_or_build(result: BuyOrBuild, *, ax: Axes | None = None) -> Axes:
    """An API's monthly cost and a self-hosted fleet's against daily traffic (log-log).

    The API grows in proportion from zero; the fleet starts at its floor and steps by whole
    replicas, with its 80% range shaded; a dashed line marks the traffic of the result.

    Parameters
    ----------
    result : BuyOrBuild
        :func:`costkit.hosted_api.buy_or_build`.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import costkit as ck
    >>> e = ck.serving.estimate("llama-3-8b", batch_size=32, prompt_tokens=256,
    ...                         output_tokens=32, usd_per_gpu_hour=2.0)
    >>> ax = buy_or_build(ck.hosted_api.buy_or_build("gpt-5-mini", e, 1e6))
    >>> ax.get_ylabel()
    'USD per month'
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(7.5, 4))
    c = result.curve
    x = c["requests_per_day"]
    ax.plot(x, c["api_per_month"], color="C0", label=f"API: {result.api.model}")
    ax.step(x, c["self_per_month"], where="post", color="C1",
            label=f"self-hosted {result.self_host}")
    ax.fill_between(x, c["self_per_month_low"], c["self_per_month_high"], step="post",
                    color="C1", alpha=0.2, label="self-hosted 80% range")
    ax.axvline(result.requests_per_day, color="grey", ls="--", lw=1,
               label=f"{result.requests_per_day:,.0f} requests a day")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    money_ticks(ax.yaxis)
    ax.set_xlabel("requests per day")
    ax.set_ylabel(f"{result.currency} per month")
    ax.legend(fontsize=8, loc="upper left")
    return ax


def training_validation(report: Frame, *, ax: Axes | None = None) -> Axes:
    """Every published training run against costkit's leave-one-out GPU-hours, with ranges.

    Parameters
    ----------
    report : DataFrame
        :func:`costkit.validation.training_report`.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import costkit as ck
    >>> ax = training_validation(ck.validation.training_report(peers=False))
    >>> ax.get_xscale()
    'log'
    >>> plt.close("all")
    """
    return predicted_vs_published(report["gpu_hours"], report["loo_gpu_hours"],
                                  groups=report["architecture"],
                                  low=report["loo_low_gpu_hours"],
                                  high=report["loo_high_gpu_hours"], unit="GPU-hours", ax=ax,
                                  title="Training runs, each predicted without itself")


def serving_validation(report: Frame, *, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Published serving figures against the pure roofline and the calibrated model.

    Left the roofline, right the calibrated model predicted leave-one-out with its nominal
    80% range, one colour per benchmark family.

    Parameters
    ----------
    report : DataFrame
        :func:`costkit.validation.serving_report`.
    axes : sequence of two matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    sequence of matplotlib Axes
        The two axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import costkit as ck
    >>> axes = serving_validation(ck.validation.serving_report(peers=False))
    >>> axes[1].get_title()
    'calibrated, leave-one-out, with its 80% range'
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    fig = None
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    predicted_vs_published(report["published"], report["roofline"], groups=report["family"],
                           ax=axes[0], unit="per second", title="pure roofline")
    predicted_vs_published(report["published"], report["calibrated"], groups=report["family"],
                           low=report["low"], high=report["high"], ax=axes[1],
                           unit="per second",
                           title="calibrated, leave-one-out, with its 80% range")
    if fig is not None:
        fig.tight_layout()
    return axes


def token_day_gaps(result: TokenDay, *, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Each pool's throughput per node from costkit's figure to the published one, term by term.

    One horizontal bar per row of :meth:`costkit.token_day.TokenDay.gap_table` (the last is
    the published figure), prefill above decode, with each term's factor written at its bar.

    Parameters
    ----------
    result : TokenDay
        :func:`costkit.token_day.reproduce`.
    axes : sequence of two matplotlib Axes, optional
        Axes to draw on (prefill, decode); default a new figure.

    Returns
    -------
    sequence of matplotlib Axes
        The two axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import costkit as ck
    >>> axes = token_day_gaps(ck.token_day.reproduce())
    >>> [a.get_title() for a in axes]
    ['prefill (input tokens, cache hits included)', 'decode (output tokens)']
    >>> plt.close("all")
    """
    import textwrap

    import matplotlib.pyplot as plt

    fig = None
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(9, 6.5))
    g = result.gap_table()
    titles = {"prefill": "prefill (input tokens, cache hits included)",
              "decode": "decode (output tokens)"}
    for ax, pool in zip(axes, ("prefill", "decode"), strict=True):
        rows = g[g["pool"] == pool].reset_index(drop=True)
        y = list(range(len(rows)))[::-1]
        last = len(rows) - 1
        colors = ["C0" if i == 0 else ("C2" if i == last else "C1") for i in range(len(rows))]
        ax.barh(y, rows["tokens_per_s_per_node"], color=colors)
        labels = [textwrap.fill("published (the rest not explained)" if i == last else t, 34)
                  for i, t in enumerate(rows["term"])]
        ax.set_yticks(y, labels, fontsize=8)
        for yi, (v, f) in zip(y, zip(rows["tokens_per_s_per_node"], rows["factor"],
                                      strict=True), strict=True):
            text = f"{_plain(v)}" + ("" if f == 1.0 else f"  (x{f:.2f})")
            ax.text(v, yi, " " + text, va="center", fontsize=8)
        ax.set_xlim(0, float(rows["tokens_per_s_per_node"].max()) * 1.45)
        money_ticks(ax.xaxis)
        ax.set_title(titles[pool], fontsize=10)
    axes[-1].set_xlabel("tokens per second per node")
    if fig is not None:
        fig.tight_layout()
    return axes


def serving_cost_by_gpu(est: ServingEstimate | EncoderEstimate, *,
                        metric: str = "usd_per_1k_requests", ax: Axes | None = None) -> Axes:
    """Bars of a serving cost per GPU (an estimate over an array of GPUs). [USD]

    Parameters
    ----------
    est : ServingEstimate or EncoderEstimate
        A serving estimate over an array of GPUs.
    metric : str, default 'usd_per_1k_requests'
        Field of the estimate to draw.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.serving import estimate
    >>> est = estimate("llama-2-7b", gpu=["H100-SXM", "A100-80GB"], batch_size=16)
    >>> ax = serving_cost_by_gpu(est)
    >>> len(ax.patches)
    2
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    names = [str(g) for g in np.asarray(est.gpu).ravel()]
    vals = np.asarray(getattr(est, metric), dtype=float).ravel()
    from costkit.style import gpu_color

    order = np.argsort(vals)
    ax.barh([names[i] for i in order], vals[order], color=[gpu_color(names[i]) for i in order])
    for y, i in enumerate(order):
        ax.annotate(f"{vals[i]:.3g}", (vals[i], y), va="center", fontsize=8,
                    xytext=(3, 0), textcoords="offset points")
    ax.set_xlim(0, float(np.nanmax(vals)) * 1.15 if np.isfinite(np.nanmax(vals)) else None)
    ax.set_xlabel(metric.replace("usd_per_", "USD per ").replace("_", " "))
    ax.set_title(f"{names[order[0]]} is the cheapest per request (replica kept busy)"
                 if "usd" in metric else "Cost by GPU (replica kept busy)")
    return ax


def serving_memory(est: ServingEstimate, *, usable_memory_fraction: float = 0.9,
                   ax: Axes | None = None) -> Axes:
    """Weights and KV cache per GPU as the batch grows, against usable memory. [GB]

    ``est`` is a :class:`costkit.serving.ServingEstimate` over batch sizes on
    one GPU type (``oversized="flag"`` shows the batches past the limit).

    Parameters
    ----------
    est : ServingEstimate
        A serving estimate over batch sizes on one GPU.
    usable_memory_fraction : float, default 0.9
        Share of memory usable, drawn as a line. [unitless, 0-1]
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.serving import estimate
    >>> ax = serving_memory(estimate("llama-2-7b", gpu="L4", dtype="int8", batch_size=[1, 4, 16]))
    >>> ax.get_ylabel()
    'memory per GPU [GB]'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    batch = np.asarray(est.batch_size, dtype=float).ravel()
    n = np.broadcast_to(np.asarray(est.n_gpus, dtype=float), np.shape(est.batch_size)).ravel()
    w = np.broadcast_to(np.asarray(est.weights_gb, dtype=float), batch.shape) / n
    kv = np.asarray(est.kv_cache_gb, dtype=float).ravel() / n
    labels = [f"{b:g}" for b in batch]
    ax.bar(labels, w, color="C0", label="weights")
    ax.bar(labels, kv, bottom=w, color="C1", label="KV cache")
    _usable_line(ax, str(np.ravel(est.gpu)[0]), usable_memory_fraction, len(labels) - 0.5)
    ax.set_xlabel("batch size")
    ax.set_ylabel("memory per GPU [GB]")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"Weights vs KV cache ({est.kv_dtype} cache, {est.dtype} weights)")
    return ax


# --------------------------------------------------------------------------- tuning


def search_strategies(searches: Sequence[SearchCost], *, metric: str = "gpu_hours",
                      ax: Axes | None = None) -> Axes:
    """Bars of a search metric per strategy, from :class:`costkit.tuning.SearchCost` objects.

    ``searches``: a list of one-search results (or a DataFrame of their
    ``to_frame()`` rows). ``metric``: ``gpu_hours``, ``cost_usd`` or
    ``wall_clock_hours``. Labels give the configurations each explored.

    Parameters
    ----------
    searches : sequence of SearchCost
        Search costs to compare, one bar each.
    metric : str, default 'gpu_hours'
        Attribute of each search to draw (``gpu_hours``, ``cost_usd``,
        ``wall_clock_hours``).
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.tuning import search_cost
    >>> s = [search_cost(k, 81, trial_gpu_hours=10, usd_per_gpu_hour=2) for k in ("random", "sha")]
    >>> ax = search_strategies(s)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['random', 'halving (SHA)']
    >>> plt.close("all")
    """
    import pandas as pd

    ax = _axes(ax)
    df = searches if isinstance(searches, pd.DataFrame) else pd.concat(
        [s.to_frame() for s in searches], ignore_index=True)
    short = {"successive_halving": "halving (SHA)", "asha": "ASHA", "hyperband": "Hyperband"}
    bars = ax.bar([short.get(s, s) for s in df["strategy"]], df[metric],
                  color=[f"C{i}" for i in range(len(df))])
    for b, (_, r) in zip(bars, df.iterrows(), strict=True):
        ax.annotate(f"{r[metric]:,.0f}\n({r.n_configurations:,.0f} configs)",
                    (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom",
                    fontsize=8)
    unit = {"gpu_hours": "GPU-hours", "cost_usd": "USD", "wall_clock_hours": "wall-clock hours"}
    ax.set_ylabel(unit.get(metric, metric))
    ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
    money_ticks(ax.yaxis)
    # the takeaway as the title: how much the best strategy saves against the costliest
    vals = df[metric].to_numpy(dtype=float)
    best, worst = int(vals.argmin()), int(vals.argmax())
    what = unit.get(metric, metric)
    if vals[best] > 0 and vals[worst] > vals[best]:
        name = short.get(df["strategy"].iloc[best], df["strategy"].iloc[best])
        ax.set_title(f"{name}: {vals[worst] / vals[best]:,.0f}x fewer {what} than "
                     f"{short.get(df['strategy'].iloc[worst], df['strategy'].iloc[worst])}")
    else:
        ax.set_title(f"Hyperparameter search: {what} per strategy")
    return ax


def finetune_methods(df: Frame, *, metric: str = "cost_usd", ax: Axes | None = None) -> Axes:
    """Grouped bars of :func:`costkit.tuning.finetune_options` (method x GPU).

    ``metric`` ``cost_usd`` draws the low-high range as error bars;
    ``memory_per_gpu_gb`` marks each GPU's memory. Labels give the GPU count.

    Parameters
    ----------
    df : DataFrame
        Result of :func:`costkit.tuning.finetune_options`.
    metric : str, default 'cost_usd'
        Column to draw (``cost_usd``, ``gpu_hours``, ``wall_clock_days``).
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.tuning import finetune_options
    >>> ax = finetune_methods(finetune_options("llama-2-7b", 1e8, gpu=("H100-SXM", "L40S")))
    >>> len(ax.get_legend().get_texts())
    2
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    methods = list(dict.fromkeys(df["method"]))
    gpus = list(dict.fromkeys(df["gpu"]))
    width = 0.8 / len(gpus)
    x = np.arange(len(methods))
    for j, g in enumerate(gpus):
        sub = df[df["gpu"] == g].set_index("method").loc[methods]
        kw: dict[str, Any] = {}
        if metric == "cost_usd":
            kw["yerr"] = [sub["cost_usd"] - sub["cost_usd_low"],
                          sub["cost_usd_high"] - sub["cost_usd"]]
        bars = ax.bar(x + (j - (len(gpus) - 1) / 2) * width, sub[metric], width, label=g,
                      capsize=3, **kw)
        for b, n in zip(bars, sub["n_gpus"], strict=True):  # above the bar: short bars too
            ax.annotate(f"{n:g} GPU", (b.get_x() + b.get_width() / 2, b.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=7, color="black")
    ax.set_xticks(x, methods)
    ax.set_ylabel({"cost_usd": "cost [USD]", "memory_per_gpu_gb": "memory per GPU [GB]",
                   "gpu_hours": "GPU-hours"}.get(metric, metric))
    ax.legend(fontsize=8)
    ax.set_title("Fine-tuning: full vs LoRA vs QLoRA, each on the fewest GPUs that fit")
    return ax


def ab_sample_size(baseline_rate: Floats, lifts: Floats, *, relative: bool = True,
                   alpha: Floats = 0.05, power: Floats = 0.8, daily_units: float | None = None,
                   mark: float | None = None, ax: Axes | None = None) -> Axes:
    """Visitors per arm against the detectable lift (log scale), with days on a second axis.

    Computed by :func:`costkit.tuning.ab_test_sample_size`; ``daily_units``
    [visitors/day] adds the days both arms need; ``mark`` a lift to point at.

    Parameters
    ----------
    baseline_rate : numeric
        The control's rate (conversion, click-through). [unitless, 0-1]
    lifts : numeric
        Detectable lifts along the x axis (absolute, or relative with ``relative``).
    relative : bool, default True
        Read the lifts as shares of the baseline.
    alpha : numeric, default 0.05
        Two-sided significance level. [unitless, 0-1]
    power : numeric, default 0.8
        Probability of detecting the lift if it is real. [unitless, 0-1]
    daily_units : float, optional
        Visitors a day: adds days on a second axis; default none. [1/day]
    mark : float, optional
        A lift to mark with its sample size; default none.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = ab_sample_size(0.03, [0.02, 0.05, 0.1], daily_units=100_000, mark=0.05)
    >>> ax.get_ylabel()
    'visitors per arm'
    >>> plt.close("all")
    """
    import numpy as np

    from costkit.tuning import ab_test_sample_size

    ax = _axes(ax)
    lifts = np.asarray(lifts, dtype=float)
    n = ab_test_sample_size(baseline_rate, lifts, alpha=alpha, power=power, relative=relative)
    x = lifts * 100
    ax.plot(x, n, "-", color="C0")
    ax.set_yscale("log")
    plain_ticks(ax.yaxis)
    ax.set_xlabel("minimum detectable lift " + ("[% of baseline]" if relative else
                                                "[percentage points]"))
    ax.set_ylabel("visitors per arm")
    ax.grid(alpha=0.3, which="both")
    if mark is not None:
        m = ab_test_sample_size(baseline_rate, mark, alpha=alpha, power=power, relative=relative)
        m = float(m)
        ax.plot([mark * 100], [m], "o", color="C3")
        text = f"{m:,.0f} per arm"
        if daily_units is not None:
            raw = 2 * m / daily_units
            weeks = max(7.0, np.ceil(raw / 7.0 - 1e-9) * 7.0)
            text += f": {raw:.1f} days of traffic, run {weeks:g} (whole weeks)"
        ax.annotate(text, (mark * 100, m), xytext=(6, 4), textcoords="offset points",
                    fontsize=8, color="C3")
    if daily_units is not None:
        ax2 = ax.twinx()
        ax2.set_yscale("log")
        plain_ticks(ax2.yaxis)
        lo, hi = ax.get_ylim()
        ax2.set_ylim(2 * lo / daily_units, 2 * hi / daily_units)
        ax2.set_ylabel(f"days of traffic at {daily_units:,.0f} visitors/day\n(before rounding "
                       "up to whole weeks)")
    ax.set_title(f"Sample size vs lift (baseline {baseline_rate:.1%}, alpha {alpha:g}, "
                 f"power {power:g})")
    return ax


# --------------------------------------------------------------------------- optimisation


def optimization_costs(comparison: OptimizationComparison, *, ax: Axes | None = None) -> Axes:
    """Monthly serving cost per variant, with the accuracy cost stacked on top. [USD/month]

    Parameters
    ----------
    comparison : OptimizationComparison
        Result of :func:`costkit.optimization.compare`.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.optimization import baseline, compare, quantize
    >>> b = baseline("bert-base")
    >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
    ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
    >>> ax = optimization_costs(c)
    >>> len(ax.get_xticklabels())
    8
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(8, 4))
    t = comparison.table
    names = list(t.index)
    ax.barh(names, t["monthly_serving_usd"], color="C0", label="serving")
    if (t["monthly_accuracy_cost_usd"] > 0).any():
        ax.barh(names, t["monthly_accuracy_cost_usd"], left=t["monthly_serving_usd"],
                color="C3", alpha=0.6, label="accuracy loss (gross profit)")
    for y, (_, r) in enumerate(t.iterrows()):
        ax.annotate(f"{r.monthly_serving_usd:,.0f}", (r.monthly_serving_usd, y), va="center",
                    xytext=(3, 0), textcoords="offset points", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("USD per month")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Monthly cost at {comparison.monthly_requests:,.0f} requests a month")
    return ax


def payback_curve(comparison: OptimizationComparison, monthly_requests: Floats, *,
                  horizon_months: float | None = None, ax: Axes | None = None) -> Axes:
    """Payback months of each variant against monthly traffic (log-log), with the horizon.

    Parameters
    ----------
    comparison : OptimizationComparison
        Result of :func:`costkit.optimization.compare`.
    monthly_requests : numeric
        Traffic levels. [1/month]
    horizon_months : float, optional
        Horizon line; default the comparison's. [month]
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.optimization import baseline, compare, quantize
    >>> b = baseline("bert-base")
    >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
    ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
    >>> ax = payback_curve(c, [1e7, 1e8, 1e9])
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    curve = comparison.payback_curve(monthly_requests)
    for name in curve.columns:
        y = curve[name].to_numpy()
        if np.isfinite(y).any():
            ax.plot(curve.index, np.where(np.isfinite(y), y, np.nan), label=name)
    h = comparison.horizon_months if horizon_months is None else horizon_months
    ax.axhline(h, color="black", ls="--", lw=1)
    ax.annotate(f"horizon {h:g} months", (curve.index[0], h), va="bottom", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    ax.set_xlabel("requests per month")
    ax.set_ylabel("payback [months]")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if getattr(comparison, "gross_profit_per_1k_requests_usd", 0):
        ax.set_title("Net of the profit the accuracy loss costs: below the dashed line it pays")
    else:
        ax.set_title("Cost only (accuracy loss not priced): below the dashed line the saving "
                     "repays the one-off", fontsize=10)
    return ax


def accuracy_tradeoff(comparison: OptimizationComparison, accuracy_loss: Floats, *,
                      ax: Axes | None = None, log: bool = False) -> Axes:
    """Monthly net benefit of each variant against an assumed accuracy loss. [USD/month]

    Each variant's own assumed loss is marked on its line, so the chart shows
    both where the line crosses 0 (the break-even loss) and where the variant
    really sits; ``log=True`` puts the loss on a log axis when the two are
    orders of magnitude apart. Lines get distinct dashes, so none hides another.

    Parameters
    ----------
    comparison : OptimizationComparison
        Result of :func:`costkit.optimization.compare`.
    accuracy_loss : numeric
        Accuracy losses along the x axis. [unitless, 0-1]
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    log : bool, default False
        Logarithmic x axis.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.optimization import baseline, compare, quantize
    >>> b = baseline("bert-base")
    >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
    ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
    >>> ax = accuracy_tradeoff(c, [0.0, 0.005, 0.01])
    >>> ax.get_xlabel()
    'relative drop in conversion [%] (dots: assumed loss; bars: break-even)'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    net = comparison.net_benefit_at(accuracy_loss)
    x = net.index.to_numpy() * 100
    assumed = comparison.table.accuracy_loss
    styles = ["-", "--", "-.", ":"]
    for k, name in enumerate(net.columns):
        line = ax.plot(x, net[name], styles[k % len(styles)], label=name)[0]
        a = float(assumed.get(name, np.nan))
        if np.isfinite(a) and a > 0:
            at = comparison.net_benefit_at(a)[name].iloc[0]
            ax.plot(a * 100, at, "o", color=line.get_color())
        be = float(comparison.table.break_even_accuracy_loss.get(name, np.nan))
        if np.isfinite(be) and be > 0:  # where the line crosses 0: the chart's point
            ax.plot(be * 100, 0.0, "|", color=line.get_color(), ms=14, mew=2)
    ax.axhline(0, color="black", lw=0.8)
    if log:
        ax.set_xscale("log")
        plain_ticks(ax.xaxis)
        # linear around 0 (the savings), compressed below: the crossings stay visible
        gain = float(np.nanmax(np.abs(net.to_numpy()[0]))) if len(net) else 1.0
        ax.set_yscale("symlog", linthresh=max(gain, 1.0))
    money_ticks(ax.yaxis)
    ax.set_xlabel("relative drop in conversion [%] (dots: assumed loss; bars: break-even)")
    ax.set_ylabel("net benefit [USD per month]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Saving minus the gross profit lost: where each line crosses 0")
    return ax


# --------------------------------------------------------------------------- ROI


def cumulative_cash_flow(result: ROIResult, *, ax: Axes | None = None, label: str | None = None,
                         discounted: bool = False, color: str | None = None) -> Axes:
    """Cumulative net cash flow of one :class:`costkit.roi.ROIResult` by month, payback marked.

    ``discounted=True`` plots the discounted flows (ending at the NPV). [USD]
    ``color``: the option's colour (:func:`costkit.style.option_colors`).

    Parameters
    ----------
    result : ROIResult
        An ROI result (one case).
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    label : str, optional
        Legend label; default the case's name.
    discounted : bool, default False
        Draw discounted flows (their end is the NPV).
    color : str, optional
        Line colour; default the next one.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.roi import Case
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> ax = cumulative_cash_flow(case.evaluate())
    >>> ax.get_xlabel()
    'month'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    flows = result.net_usd * (result.discount_factor if discounted else 1.0)
    cum = np.cumsum(flows, axis=-1)
    line, = ax.plot(result.months, cum, marker=".", label=label or result.case.name or None,
                    color=color)
    pb = result.discounted_payback_month if discounted else result.payback_month
    if not np.isnan(pb) and np.any(flows != 0):  # today's system has nothing to pay back
        # one label per line, stacked so that two paybacks never print on top of each other
        k = sum(1 for t in ax.texts if t.get_text().startswith("payback"))
        ax.plot([pb], [0], "o", color=line.get_color(), mfc="white")
        ax.annotate(f"payback {pb:.1f}", (pb, 0), xytext=(4, 6 + 12 * k),
                    textcoords="offset points", fontsize=8, color=line.get_color())
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("month")
    ax.set_ylabel(f"cumulative {'discounted ' if discounted else ''}net cash flow [USD]")
    money_ticks(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.set_title("Cumulative cash flow: below 0 the project still owes its cost")
    return ax


def waterfall(steps: Series, *, ax: Axes | None = None, ylabel: str = "USD", title: str = "",
              increase_is_good: bool = True) -> Axes:
    """Waterfall of a Series of steps; labels in ``steps.attrs["is_total"]`` are drawn as totals.

    Steps that help are green, steps that hurt red: with ``increase_is_good``
    (value, profit) a rise helps; for a cost (``increase_is_good=False``, a
    variance report) a rise hurts, so cost increases are never green.

    Parameters
    ----------
    steps : Series
        Signed steps, in order; labels in ``steps.attrs["is_total"]`` are drawn as totals.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    ylabel : str, default 'USD'
        Label of the y axis.
    title : str, default ''
        Title of the chart.
    increase_is_good : bool, default True
        Colour increases as good (profit) rather than bad (cost).

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> steps = pd.Series({"train": 250.0, "run": 584.0, "total": 834.0})
    >>> steps.attrs["is_total"] = ["total"]
    >>> ax = waterfall(steps)
    >>> len(ax.patches)
    3
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(9, 4))
    from costkit.style import BAD, GOOD, TOTAL

    good, bad = GOOD, BAD
    totals = set(steps.attrs.get("is_total", []))
    level = 0.0
    for i, (name, v) in enumerate(steps.items()):
        if name in totals:
            ax.bar(i, v, color=TOTAL if v >= 0 else BAD)
            level = v
        else:
            helps = (v >= 0) == increase_is_good
            ax.bar(i, v, bottom=level, color=good if helps else bad)
            level += v
        ax.annotate(_label(v), (i, level if name not in totals else v), ha="center",
                    va="bottom", fontsize=8)
    import textwrap

    # wrapped, not rotated: long step names ran into each other at an angle
    ax.set_xticks(range(len(steps)),
                  ["\n".join(textwrap.wrap(str(n), 13)) for n in steps.index], fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.1 * (hi - lo))   # headroom: value labels stay below the title
    money_ticks(ax.yaxis)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def roi_waterfall(result: ROIResult, *, ax: Axes | None = None) -> Axes:
    """Waterfall from incremental gross profit through each cost to net value and NPV. [USD]

    Parameters
    ----------
    result : ROIResult
        An ROI result (one case).
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.roi import Case, monte_carlo
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> ax = roi_waterfall(case.evaluate())
    >>> ax.get_ylabel()
    'USD over the horizon'
    >>> plt.close("all")
    """
    return waterfall(result.waterfall(), ax=ax, ylabel="USD over the horizon",
                     title=f"From incremental gross profit to NPV ({result.case.name or 'case'})")


def tornado(table: Frame, *, ax: Axes | None = None, top: int | None = None,
            labels: Mapping[str, str] | None = None) -> Axes:
    """Tornado chart of a :func:`costkit.roi.tornado` table: NPV at each input's low and high.

    Parameters
    ----------
    table : DataFrame
        Result of :func:`costkit.roi.tornado`.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    top : int, optional
        Draw only the largest this many swings; default all.
    labels : mapping, optional
        ``{input: label}`` for the y axis; default the input names.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.roi import Case, monte_carlo
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> from costkit.roi import tornado as tornado_table
    >>> ax = tornado(tornado_table(case), top=5)
    >>> len(ax.get_yticklabels())
    5
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(8, 4))
    t = table if top is None else table.head(top)
    base = table.attrs.get("base_npv_usd", 0.0)
    names = [(labels or {}).get(n, n.replace("_", " ")) for n in t.index]
    ax.barh(names, t["npv_low_usd"] - base, left=base, color="C1", label="input at its low")
    ax.barh(names, t["npv_high_usd"] - base, left=base, color="C0", alpha=0.8,
            label="input at its high")
    ax.axvline(base, color="black", lw=0.8)
    ax.axvline(0, color="C3", lw=0.8, ls="--")
    ax.invert_yaxis()
    ax.set_xlabel("NPV [USD]")
    money_ticks(ax.xaxis)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"What moves the NPV (base {base:,.0f} USD)")
    return ax


def npv_histogram(mc: MonteCarloResult, *, ax: Axes | None = None, bins: int = 80) -> Axes:
    """Histogram of Monte Carlo NPVs with 0, the 5th and 95th percentiles, and P(NPV > 0).

    Parameters
    ----------
    mc : MonteCarloResult
        A Monte Carlo result.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    bins : int, default 80
        Histogram bins. [count]

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit.roi import Case, monte_carlo
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02, one_off_usd=2e4)
    >>> ax = npv_histogram(monte_carlo(case, {"cvr_lift": ("normal", 0.02, 0.01)}, n=2000))
    >>> ax.get_xlabel()
    'NPV [USD]'
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax)
    v = mc.npv_usd
    ax.hist(v, bins=bins, color="C0", alpha=0.8)
    lo, hi = np.percentile(v, [5, 95])
    ax.axvline(0, color="C3", lw=1.2, label="NPV = 0")
    for x, lab in [(lo, "5th percentile"), (hi, "95th percentile")]:
        ax.axvline(x, color="grey", ls="--", lw=0.8)
        ax.annotate(lab, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(-2, -4),
                    textcoords="offset points", rotation=90, fontsize=7, ha="right", va="top")
    ax.set_xlabel("NPV [USD]")
    money_ticks(ax.xaxis)
    ax.set_ylabel("draws")
    ax.legend(fontsize=8)
    ax.set_title(f"{mc.n:,} draws: P(NPV > 0) = {mc.probability_positive:.1%}")
    return ax


# --------------------------------------------------------------------------- monitoring


def bill_by_day(chargeback_table: Frame, *, by: str = "team", ax: Axes | None = None) -> Axes:
    """Stacked daily effective cost by ``by`` from :func:`costkit.monitoring.chargeback`. [USD]

    Parameters
    ----------
    chargeback_table : DataFrame
        Chargeback from :func:`costkit.monitoring.chargeback`.
    by : str, default 'team'
        Chargeback key to stack by (``team`` or ``model``).
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit import billing, monitoring, telemetry
    >>> week = monitoring.synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> costed = monitoring.cost_usage(telemetry.read_telemetry(week.telemetry),
    ...                                billing.focus_resource_hours(week.bill))
    >>> ax = bill_by_day(monitoring.chargeback(costed))
    >>> ax.get_ylabel()
    'effective cost [USD per day]'
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(9, 4))
    t = chargeback_table["cost_usd"].groupby(level=["hour", by], observed=True).sum().unstack(by)
    t = t.fillna(0.0)
    labels = [d.strftime("%a %d %b") for d in t.index]
    bottom = None
    for col in t.columns:
        ax.bar(labels, t[col], bottom=bottom, label=str(col))
        bottom = t[col].to_numpy() if bottom is None else bottom + t[col].to_numpy()
    ax.set_ylabel("effective cost [USD per day]")
    ax.legend(title=by, fontsize=8)
    ax.set_title("The bill by day")
    return ax


def utilization_heatmap(matrix: Frame, *, ax: Axes | None = None,
                        title: str = "GPU utilisation by replica and hour") -> Axes:
    """Heat map of :func:`costkit.monitoring.utilization_matrix` (replicas x hours).

    Parameters
    ----------
    matrix : DataFrame
        Result of :func:`costkit.monitoring.utilization_matrix`.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    title : str, optional
        Title of the chart.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit import monitoring, telemetry
    >>> tel = telemetry.read_telemetry(monitoring.synthetic_telemetry(days=1, replicas=12,
    ...                                                               freq="15min").telemetry)
    >>> ax = utilization_heatmap(monitoring.utilization_matrix(tel))
    >>> ax.get_title()
    'GPU utilisation by replica and hour'
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(10, 4))
    im = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label="utilisation")
    step = max(1, matrix.shape[1] // 14)
    ax.set_xticks(range(0, matrix.shape[1], step))
    ax.set_xticklabels([c.strftime("%a %H:%M") for c in matrix.columns[::step]], rotation=30,
                       ha="right", fontsize=7)
    ax.set_ylabel(f"replica ({matrix.shape[0]})")
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def idle_money(chargeback_table: Frame, *, by: str = "model", ax: Axes | None = None) -> Axes:
    """Busy vs idle money per ``by`` key (horizontal stacked bars). [USD]

    Parameters
    ----------
    chargeback_table : DataFrame
        Chargeback from :func:`costkit.monitoring.chargeback`.
    by : str, default 'model'
        Chargeback key, one bar each.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit import billing, monitoring, telemetry
    >>> week = monitoring.synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> costed = monitoring.cost_usage(telemetry.read_telemetry(week.telemetry),
    ...                                billing.focus_resource_hours(week.bill))
    >>> ax = idle_money(monitoring.chargeback(costed))
    >>> ax.get_xlabel()
    'effective cost [USD]'
    >>> plt.close("all")
    """
    ax = _axes(ax, figsize=(8, 3.5))
    t = chargeback_table.groupby(level=by, observed=True)[["cost_usd", "idle_usd",
                                                          "unobserved_usd"]].sum()
    busy = t["cost_usd"] - t["idle_usd"] - t["unobserved_usd"]
    names = [str(i) for i in t.index]
    ax.barh(names, busy, color="C0", label="busy")
    ax.barh(names, t["idle_usd"], left=busy, color="C3", alpha=0.7, label="idle")
    for y, (b, i) in enumerate(zip(busy, t["idle_usd"], strict=True)):
        ax.annotate(f"{i / (b + i):.0%} idle", (b + i, y), va="center", xytext=(3, 0),
                    textcoords="offset points", fontsize=8)
    ax.set_xlabel("effective cost [USD]")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Money spent on busy and on idle GPUs")
    return ax


def alerts_timeline(costed: Frame, alerts: Frame, *, by: str = "model",
                    ax: Axes | None = None) -> Axes:
    """Hourly cost per ``by`` key with each alert shaded over its hours. [USD per hour]

    Parameters
    ----------
    costed : DataFrame
        Costed usage, one row per replica-hour, from :func:`costkit.monitoring.cost_usage`.
    alerts : DataFrame
        Result of :func:`costkit.monitoring.alerts`.
    by : str, default 'model'
        Key whose hourly cost is drawn.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from costkit import billing, monitoring, telemetry
    >>> week = monitoring.synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> costed = monitoring.cost_usage(telemetry.read_telemetry(week.telemetry),
    ...                                billing.focus_resource_hours(week.bill))
    >>> ax = alerts_timeline(costed, monitoring.alerts(costed))
    >>> ax.get_ylabel()
    'effective cost [USD per hour]'
    >>> plt.close("all")
    """
    import pandas as pd

    ax = _axes(ax, figsize=(10, 4))
    hourly = costed.groupby([by, "hour"], observed=True)["cost_usd"].sum().unstack(by)
    colors = {}
    for col in hourly.columns:
        line, = ax.plot(hourly.index, hourly[col], lw=1, label=str(col))
        colors[col] = line.get_color()
    kinds = {"cost per request": "C3", "error rate": "C1", "low utilisation": "C7"}
    seen = set()
    for _, a in alerts.iterrows():
        lab = a["kind"] if a["kind"] not in seen else None
        seen.add(a["kind"])
        ax.axvspan(a["start"], a["end"] + pd.Timedelta("1h"), color=kinds.get(a["kind"], "C4"),
                   alpha=0.18, label=lab)
    import matplotlib.dates as mdates

    ax.set_ylabel("effective cost [USD per hour]")
    # one short label a day ("Mon 02"): full dates ran into each other
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d"))
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    title = f"{len(alerts)} alerts on the week's hourly cost"
    if len(alerts):
        kind, n = alerts["kind"].value_counts().index[0], int(alerts["kind"].value_counts().iloc[0])
        if 2 * n > len(alerts):   # the takeaway: most of them are one kind
            title += f": {n} of them {kind}"
    ax.set_title(title)
    return ax


def predicted_vs_published(published: NDArray[np.float64] | Series,
                           predicted: NDArray[np.float64] | Series, *,
                           groups: Sequence[str] | Series | None = None,
                           low: NDArray[np.float64] | Series | None = None,
                           high: NDArray[np.float64] | Series | None = None, band: float = 0.25,
                           unit: str = "", ax: Axes | None = None,
                           title: str | None = None) -> Axes:
    """Predicted against published on log-log axes, the y = x line and a ±``band`` band.

    ``published`` and ``predicted`` are arrays (or Series) of the same unit;
    ``groups`` a label per point (one colour and legend entry each); ``low`` /
    ``high`` optional interval ends, drawn as vertical bars. Points outside
    the band are the ones a reader should look at.

    Parameters
    ----------
    published : ndarray or Series
        Published figures.
    predicted : ndarray or Series
        Predicted figures, in the same unit.
    groups : sequence of str or Series, optional
        A label per point (one colour and legend entry each); default none.
    low : ndarray or Series, optional
        Lower ends of the predicted intervals; default none.
    high : ndarray or Series, optional
        Upper ends of the predicted intervals; default none.
    band : float, default 0.25
        Half-width of the shaded band around y = x. [unitless]
    unit : str, default ''
        Unit written on the axes.
    ax : matplotlib Axes, optional
        Axes to draw on; default a new figure.
    title : str, optional
        Title of the chart; default none.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = predicted_vs_published([100, 200, 400], [110, 180, 430], unit="GPU-hours")
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    >>> plt.close("all")
    """
    import numpy as np

    ax = _axes(ax, figsize=(6, 5.5))
    x = np.asarray(published, dtype=float)
    y = np.asarray(predicted, dtype=float)
    g = np.asarray(["" for _ in x] if groups is None else groups, dtype=object)
    lo_all, hi_all = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
    line = np.geomspace(lo_all / 1.5, hi_all * 1.5, 50)
    ax.fill_between(line, line * (1 - band), line * (1 + band), color="0.9",
                    label=f"±{band:.0%}")
    ax.plot(line, line, color="0.3", lw=1, label="predicted = published")
    for name in dict.fromkeys(g):
        m = g == name
        if low is not None and high is not None:
            lo_m = np.asarray(low, dtype=float)[m]
            hi_m = np.asarray(high, dtype=float)[m]
            ax.errorbar(x[m], y[m], yerr=[y[m] - lo_m, hi_m - y[m]], fmt="o", ms=4,
                        capsize=2, lw=0.8, label=name or None)
        else:
            ax.plot(x[m], y[m], "o", ms=5, label=name or None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_ticks(ax.xaxis)
    plain_ticks(ax.yaxis)
    ax.set_xlabel(f"published{f' [{unit}]' if unit else ''}")
    ax.set_ylabel(f"costkit, out of sample{f' [{unit}]' if unit else ''}")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    return ax
