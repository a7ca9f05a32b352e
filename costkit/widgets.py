"""ipywidgets panels built on costkit's pure functions.

ipywidgets and matplotlib are imported when a panel is built. Each panel
returns the widget; its controls are reachable as ``panel.controls`` (a dict
of name -> widget) and the headline text as ``panel.summary`` (an HTML widget
whose ``value`` is set by an ``observe`` callback), so tests can move a control
and read the result without a browser.
"""

from __future__ import annotations

from costkit.ledger import (
    ORIGIN_EXAMPLE,
    PHASE_LABELS,
    PHASES,
    S3_STANDARD_USD_PER_GB_MONTH,
    four_part_ledger,
    naive_phase_total,
)

__all__ = ["four_part_panel", "four_part_summary_html"]


def four_part_summary_html(hours, usd_per_hour, storage_gb, *, usd_per_gb_month, storage_months):
    """HTML table: naive (GB added to money) vs priced storage, per phase and total."""
    led = four_part_ledger(hours, usd_per_hour, storage_gb, usd_per_gb_month=usd_per_gb_month,
                           storage_months=storage_months)
    return _summary_html(led, hours, usd_per_hour, storage_gb)


def _summary_html(led, hours, usd_per_hour, storage_gb):
    correct = led.by_phase()
    rows = []
    naive_total = 0.0
    for ph in PHASES:
        naive = naive_phase_total(hours[ph], usd_per_hour[ph], storage_gb[ph])
        naive_total += naive
        rows.append(f"<tr><td>{PHASE_LABELS[ph]}</td><td>{naive:,.2f} (?)</td>"
                    f"<td>{correct[ph]:,.2f} USD</td></tr>")
    rows.append(f"<tr><td><b>C</b></td><td>{naive_total:,.2f} (?)</td>"
                f"<td><b>{correct.sum():,.2f} USD</b></td></tr>")
    return ("<table><tr><th>phase</th><th>naive T&times;rate + GB</th>"
            "<th>ledger (storage priced)</th></tr>" + "".join(rows) + "</table>")


def four_part_panel(example=ORIGIN_EXAMPLE, *,
                    usd_per_gb_month: float = S3_STANDARD_USD_PER_GB_MONTH,
                    storage_months: float = 1.0, chart: bool = True):
    """Sliders for each phase's hours, rate and storage, with the ledger's result.

    The summary table compares the naive formula with the priced ledger; with
    ``chart=True`` a waterfall of the ledger is redrawn below it.
    """
    import ipywidgets as w

    controls = {}
    rows = []
    for ph in PHASES:
        h = w.BoundedFloatText(value=example["hours"][ph], min=0, max=1e6, step=0.05,
                               description="hours", layout=w.Layout(width="170px"))
        r = w.BoundedFloatText(value=example["usd_per_hour"][ph], min=0, max=1e4, step=0.1,
                               description="USD/h", layout=w.Layout(width="170px"))
        s = w.BoundedFloatText(value=example["storage_gb"][ph], min=0, max=1e7, step=10,
                               description="GB", layout=w.Layout(width="170px"))
        controls.update({f"{ph}_hours": h, f"{ph}_usd_per_hour": r, f"{ph}_storage_gb": s})
        rows.append(w.HBox([w.Label(PHASE_LABELS[ph], layout=w.Layout(width="70px")), h, r, s]))
    price = w.FloatSlider(value=usd_per_gb_month, min=0, max=0.2, step=0.001, readout_format=".3f",
                          description="USD/GB-month", continuous_update=False,
                          style={"description_width": "110px"})
    months = w.FloatSlider(value=storage_months, min=0, max=36, step=1,
                           description="months kept", continuous_update=False,
                           style={"description_width": "110px"})
    controls.update({"usd_per_gb_month": price, "storage_months": months})
    summary = w.HTML()
    out = w.Output()

    def values():
        return (
            {ph: controls[f"{ph}_hours"].value for ph in PHASES},
            {ph: controls[f"{ph}_usd_per_hour"].value for ph in PHASES},
            {ph: controls[f"{ph}_storage_gb"].value for ph in PHASES},
        )

    def update(_change=None):
        hours, rates, gb = values()
        led = four_part_ledger(hours, rates, gb, usd_per_gb_month=price.value,
                               storage_months=months.value)
        summary.value = _summary_html(led, hours, rates, gb)
        if chart:
            import matplotlib.pyplot as plt

            from costkit.plots import ledger_waterfall

            with out:
                out.clear_output(wait=True)
                fig, ax = plt.subplots(figsize=(6, 3.2))
                ledger_waterfall(led, ax=ax)
                plt.show()

    for c in controls.values():
        c.observe(update, names="value")
    update()
    panel = w.VBox([*rows, price, months, summary, out])
    panel.controls = controls
    panel.summary = summary
    return panel
