"""Charts for the notebooks: each takes data or a costkit object and an ``ax``.

matplotlib is imported when a function here is called, not when costkit is
imported. Every function returns the Axes it drew on.
"""

from __future__ import annotations

__all__ = [
    "compute_optimal_frontier", "ledger_bars", "ledger_waterfall", "memory_stack",
    "price_spread", "training_by_gpu", "training_scaling",
]


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


def _range_err(est, key, scale=1.0):
    import numpy as np

    mid = np.asarray(getattr(est, key), dtype=float) * scale
    lo = np.asarray(getattr(est.low, key), dtype=float) * scale
    hi = np.asarray(getattr(est.high, key), dtype=float) * scale
    return mid, np.vstack([mid - lo, hi - mid])


def training_by_gpu(est, *, ax=None, currency: str = "USD"):
    """Grouped bars per GPU: cost (left) and wall-clock days (right), with the range.

    ``est`` is a :class:`costkit.training.TrainingEstimate` over an array of
    GPUs. Error bars span its low-high range. [currency; days]
    """
    import numpy as np

    from costkit.fx import convert

    ax = _axes(ax, figsize=(8, 4))
    names = [str(g) for g in np.asarray(est.gpu).ravel()]
    x = np.arange(len(names))
    rate = 1.0 if currency.upper() == "USD" else convert(1.0, "USD", currency)
    cost, cost_err = _range_err(est, "cost_usd", rate)
    days, days_err = _range_err(est, "wall_clock_hours", 1 / 24)
    ax.bar(x - 0.2, cost, 0.4, yerr=cost_err, capsize=3, color="C0", label="cost")
    ax.set_ylabel(f"cost [{currency.upper()}]", color="C0")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, days, 0.4, yerr=days_err, capsize=3, color="C1", label="wall clock")
    ax2.set_ylabel("wall clock [days]", color="C1")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_title("Cost (blue) and wall clock (orange) by GPU; bars: central, whiskers: range")
    return ax


def training_scaling(est, *, ax=None, currency: str = "USD"):
    """Cost and wall clock against the number of GPUs (log scale). [currency; days]"""
    import numpy as np

    from costkit.fx import convert

    ax = _axes(ax)
    n = np.asarray(est.n_gpus, dtype=float).ravel()
    rate = 1.0 if currency.upper() == "USD" else convert(1.0, "USD", currency)
    ax.plot(n, np.asarray(est.cost_usd).ravel() * rate, "o-", color="C0")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("GPUs")
    ax.set_ylabel(f"cost [{currency.upper()}]", color="C0")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(n, np.asarray(est.wall_clock_hours).ravel() / 24, "s--", color="C1")
    ax2.set_yscale("log")
    ax2.set_ylabel("wall clock [days, log scale]", color="C1")
    ax.set_title("More GPUs: time falls, cost stays flat or rises")
    return ax


def memory_stack(breakdowns, *, gpu_memory_gb=None, ax=None):
    """Stacked bars of training memory per GPU, with the GPU's memory as a line. [GB]

    ``breakdowns`` maps a label to a :class:`costkit.training.MemoryBreakdown`
    (one configuration each).
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
    if gpu_memory_gb is not None:
        ax.axhline(gpu_memory_gb, color="black", ls="--", lw=1)
        ax.annotate(f"GPU memory {gpu_memory_gb:g} GB", (len(labels) - 0.5, gpu_memory_gb),
                    ha="right", va="bottom", fontsize=9)
    ax.set_ylabel("memory per GPU [GB]")
    ax.legend(fontsize=8)
    ax.set_title("Training memory per GPU")
    return ax


def compute_optimal_frontier(plan, *, ax=None):
    """Compute-optimal parameters and tokens against the budget (log-log). [USD; count]"""
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
    return ax
