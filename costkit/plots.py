"""Charts for the notebooks: each takes data or a costkit object and an ``ax``.

matplotlib is imported when a function here is called, not when costkit is
imported. Every function returns the Axes it drew on.
"""

from __future__ import annotations

__all__ = ["ledger_bars", "ledger_waterfall", "price_spread"]


def _axes(ax, figsize=(7, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def ledger_bars(ledger, *, ax=None, currency: str | None = None, by: str = "category"):
    """Stacked bars: one bar per phase, stacked by ``by`` (a ledger column). [currency]"""
    from costkit.ledger import PHASE_LABELS, PHASES

    ax = _axes(ax)
    cur = (currency or ledger.currency).upper()
    df = ledger.to_frame(cur)
    col = f"cost_{cur.lower()}"
    df[by] = df[by].replace("", "other")
    table = df.pivot_table(index="phase", columns=by, values=col, aggfunc="sum", fill_value=0.0)
    table = table.reindex(list(PHASES), fill_value=0.0)
    bottom = [0.0] * len(table)
    for name in table.columns:
        vals = table[name].to_numpy()
        ax.bar([PHASE_LABELS[p] for p in table.index], vals, bottom=bottom, label=str(name))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    for x, b in enumerate(bottom):
        ax.annotate(f"{b:,.2f}", (x, b), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(f"cost [{cur}]")
    ax.legend(title=by, fontsize=8)
    ax.set_title(ledger.title or "Cost by phase")
    return ax


def ledger_waterfall(ledger, *, ax=None, currency: str | None = None):
    """Waterfall from 0 through each phase's cost to the total C. [currency]"""
    from costkit.ledger import PHASE_LABELS, PHASES

    ax = _axes(ax)
    cur = (currency or ledger.currency).upper()
    by = ledger.by_phase(cur)
    start = 0.0
    labels = []
    for i, ph in enumerate(PHASES):
        ax.bar(i, by[ph], bottom=start, color=f"C{i}")
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


def price_spread(prices=None, *, gpus=None, pricing: str = "on_demand", ax=None):
    """Per-GPU-hour prices of every offer, one row per GPU, median marked. [USD/GPU-hour]

    Parameters
    ----------
    prices : DataFrame, optional
        From :func:`costkit.gpu_prices` (default: the bundled catalog).
    gpus : list of str, optional
        GPUs to show, in that order; default: all with a price, by median.
    pricing : {"on_demand", "spot"}
    """
    import numpy as np

    from costkit.catalog import gpu_prices

    df = gpu_prices() if prices is None else prices
    col = f"{pricing}_usd_per_gpu_hour"
    df = df[df[col].notna()]
    med = df.groupby("gpu")[col].median().sort_values()
    order = list(med.index) if gpus is None else list(gpus)
    ax = _axes(ax, figsize=(7, 0.3 * len(order) + 1.2))
    rng = np.random.default_rng(0)  # fixed jitter: the chart is the same on every run
    for y, name in enumerate(order):
        vals = df.loc[df["gpu"] == name, col].to_numpy()
        ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=12, alpha=0.6, color="C0")
        ax.scatter([np.median(vals)], [y], marker="|", s=300, color="C3")
    ax.set_yticks(range(len(order)), order)
    ax.set_xscale("log")
    ax.set_xlabel(f"{pricing.replace('_', '-')} price [USD per GPU-hour, log scale]")
    ax.set_title("Spread of cloud prices per GPU (red: median)")
    ax.grid(axis="x", alpha=0.3)
    return ax
