"""ipywidgets panels built on costkit's pure functions.

ipywidgets and matplotlib are imported when a panel is built. Each panel
returns the widget; its controls are reachable as ``panel.controls`` (a dict
of name -> widget) and the headline text as ``panel.summary`` (an HTML widget
whose ``value`` is set by an ``observe`` callback), so tests can move a control
and read the result without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from costkit._safe import html_text
from costkit.ledger import (
    ORIGIN_EXAMPLE,
    PHASE_LABELS,
    PHASES,
    S3_STANDARD_USD_PER_GB_MONTH,
    four_part_ledger,
    naive_phase_total,
)

if TYPE_CHECKING:
    import numpy as np
    from ipywidgets import Widget

    from ._typing import Frame, NDArray
    from .capacity import CapacityPlan
    from .optimization import OptimizationComparison, Variant
    from .roi import Case
    from .serving import ServingEstimate
    from .training import TrainingEstimate
    from .tuning import ABTestPlan

__all__ = ["PANEL_CLASS", "ab_test_panel", "ab_test_summary_html", "four_part_panel",
           "four_part_summary_html", "monitoring_panel", "monitoring_summary_html",
           "optimization_panel", "optimization_summary_html", "recentre_draws", "roi_panel",
           "roi_summary_html", "serving_panel", "serving_summary_html", "training_gpu_choices",
           "training_panel", "training_summary_html"]


# every name and message that reaches a widget is escaped
_e = html_text


def four_part_summary_html(hours: Mapping[str, float], usd_per_hour: Mapping[str, float],
                           storage_gb: Mapping[str, float], *, usd_per_gb_month: float,
                           storage_months: float) -> str:
    """HTML table: naive (GB added to money) vs priced storage, per phase and total.

    Parameters
    ----------
    hours : mapping
        ``{phase: hours}``. [h]
    usd_per_hour : mapping
        ``{phase: price per hour}``. [USD/h]
    storage_gb : mapping
        ``{phase: storage}``. [GB]
    usd_per_gb_month : float
        Storage price. [USD/GB-month]
    storage_months : float
        Months the storage is kept. [month]

    Returns
    -------
    str
        HTML table: naive (GB added to money) vs priced storage, per phase and total.

    Examples
    --------
    >>> ph = ("train", "run", "opt", "tune")
    >>> page = four_part_summary_html(dict.fromkeys(ph, 1.0), dict.fromkeys(ph, 1.0),
    ...                               dict.fromkeys(ph, 100.0), usd_per_gb_month=0.023,
    ...                               storage_months=1.0)
    >>> "naive" in page
    True
    """
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


def four_part_panel(example: Mapping[str, Mapping[str, float]] = ORIGIN_EXAMPLE, *,
                    usd_per_gb_month: float = S3_STANDARD_USD_PER_GB_MONTH,
                    storage_months: float = 1.0, chart: bool = True) -> Widget:
    """Sliders for each phase's hours, rate and storage, with the ledger's result.

    The summary table compares the naive formula with the priced ledger; with
    ``chart=True`` a waterfall of the ledger is redrawn below it.

    Parameters
    ----------
    example : mapping, optional
        Starting values: ``{"hours" | "usd_per_hour" | "storage_gb": {phase: value}}``;
        default the origin document's example.
    usd_per_gb_month : float, default 0.023
        Storage price to start with. [USD/GB-month]
    storage_months : float, default 1.0
        Months of storage to start with. [month]
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> p = four_part_panel(chart=False)
    >>> sorted(p.controls)[:3]
    ['opt_hours', 'opt_storage_gb', 'opt_usd_per_hour']
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
        if type(c).__name__.endswith("Slider") and not c.layout.width:
            # ipywidgets' default 300 px leaves a long label almost no track to drag
            c.layout.width = "420px"
    update()
    panel = _layout([*rows, price, months], summary, out)
    panel.controls = controls
    panel.summary = summary
    return panel


# --------------------------------------------------------------------------- training


PANEL_CLASS = "costkit-panel"
"""The CSS class of every panel's outer box (the browser tests find panels by it)."""


SUMMARY_CLASS = "costkit-summary"
_SUMMARY_CSS = (
    "<style>.costkit-summary table{border-collapse:collapse;font-size:12px;line-height:1.25}"
    ".costkit-summary th,.costkit-summary td{padding:1px 5px}"
    ".costkit-summary p{margin:2px 0;font-size:12px;line-height:1.3}"
    ".costkit-summary .widget-html-content{line-height:1.3}</style>")


def _layout(controls, summary, out):
    """Controls on the left, the chart and then the numbers on the right.

    At 1366 x 768 the controls and the chart are on screen together; on a narrow screen the
    right column wraps below the controls.
    """
    import ipywidgets as w

    for c in controls:  # toggle buttons of 150 px each would widen the controls' column
        if type(c).__name__ == "ToggleButtons":
            c.style.button_width = "64px"
    # the numbers: compact, and scrolled rather than clipped where a table is wider
    summary.add_class(SUMMARY_CLASS)
    summary.layout = w.Layout(overflow_x="auto", max_width="100%")
    left = w.VBox(list(controls), layout=w.Layout(flex="0 1 auto"))
    right = w.VBox([out, summary, w.HTML(_SUMMARY_CSS)],
                   layout=w.Layout(flex="1 1 400px", min_width="380px", max_width="680px"))
    panel = w.HBox([left, right], layout=w.Layout(flex_flow="row wrap",
                                                  align_items="flex-start"))
    panel.add_class(PANEL_CLASS)
    return panel


def _assemble(controls: dict, update, message, summary, out):
    """Wire every control to ``update``, run it once, and stack the panel.

    The panel exposes ``.controls`` (name -> widget), ``.summary`` (the
    numbers, HTML) and ``.message`` (why a combination cannot run).
    """
    for c in controls.values():
        c.observe(update, names="value")
        if type(c).__name__.endswith("Slider") and not c.layout.width:
            # ipywidgets' default 300 px leaves a long label almost no track to drag
            c.layout.width = "420px"
    update()
    panel = _layout([*controls.values(), message], summary, out)
    panel.controls = controls
    panel.summary = summary
    panel.message = message
    return panel


def _computed_panel(controls: dict, compute, to_html, draw=None):
    """A panel whose controls feed ``compute(values)``.

    Its result is shown by ``to_html`` and, if given, drawn by ``draw(result, values, ax)``. A
    combination that cannot be computed (``LookupError``, ``ValueError``) is explained in
    ``.message``, not raised.
    """
    import ipywidgets as w

    summary, message, out = w.HTML(), w.HTML(), w.Output()

    def update(_change=None):
        c = {k: v.value for k, v in controls.items()}
        try:
            result = compute(c)
        except (LookupError, ValueError) as exc:
            message.value = f"<p style='color:#b00'>{_e(exc)}</p>"
            summary.value = ""
            return
        message.value = ""
        summary.value = to_html(result)
        if draw is not None:
            import matplotlib.pyplot as plt

            with out:
                out.clear_output(wait=True)
                fig, ax = plt.subplots(figsize=(6, 3.2))
                draw(result, c, ax)
                plt.show()

    return _assemble(controls, update, message, summary, out)



def training_gpu_choices() -> list[str]:
    """GPUs the training panel offers: those with a 16-bit peak and an on-demand price.

    Returns
    -------
    list of str
        GPUs the training panel offers: those with a 16-bit peak and an on-demand price.

    Examples
    --------
    >>> "H100-SXM" in training_gpu_choices()
    True
    """
    from costkit.catalog import gpus, price_summary

    g = gpus()
    priced = set(price_summary()["gpu"])
    ok = g[(g["bf16_tflops"].notna() | g["fp16_tflops"].notna()) & g["name"].isin(priced)]
    return list(ok["name"])


def _train_dtype(gpu_name: str) -> str:
    from costkit.catalog import gpu

    return "bf16" if gpu(gpu_name).tflops.get("bf16") is not None else "fp16"


def training_summary_html(est: TrainingEstimate, currency: str = "USD") -> str:
    """HTML table of a one-configuration training estimate: low / central / high.

    Parameters
    ----------
    est : TrainingEstimate
        A one-configuration training estimate.
    currency : str, default 'USD'
        Currency of the costs shown.

    Returns
    -------
    str
        HTML table of a one-configuration training estimate: low / central / high.

    Examples
    --------
    >>> from costkit.training import estimate
    >>> est = estimate(model="bert-base", tokens=7.68e9, gpu="A100-80GB", n_gpus=8)
    >>> training_summary_html(est).startswith("<")
    True
    """
    from costkit.fx import convert

    cur = currency.upper()
    rate = 1.0 if cur == "USD" else convert(1.0, "USD", cur)
    rows = [
        ("GPU-hours", "gpu_hours", 1.0, ",.0f"),
        ("wall clock [days]", "wall_clock_hours", 1 / 24, ",.1f"),
        (f"cost [{cur}]", "cost_usd", rate, ",.0f"),
        ("energy [kWh]", "energy_kwh", 1.0, ",.0f"),
        ("CO2 [kg]", "co2_kg", 1.0, ",.0f"),
    ]
    body = []
    for label, key, f, fmt in rows:
        vals = [getattr(est.low, key) * f, getattr(est, key) * f, getattr(est.high, key) * f]
        why = "no price" if key == "cost_usd" else "no TDP"
        cells = "".join(f"<td>{v:{fmt}}</td>" if v == v else f"<td>n/a ({why})</td>"
                        for v in vals)
        body.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    fit = "fits" if est.fits_in_memory else "<b>does not fit</b>"
    price = (f"{est.usd_per_gpu_hour:.2f} USD per GPU-hour"
             if est.usd_per_gpu_hour == est.usd_per_gpu_hour else
             f"<b>{_e(est.assumptions.get('price_missing_warning', 'no price'))}</b>")
    return (
        f"<p>{est.flops:.3g} FLOPs at MFU {est.mfu:.2f} on {est.n_gpus:g} x {_e(est.gpu)} "
        f"({_e(est.dtype)}); {price}</p>"
        "<table><tr><th></th><th>low</th><th>central</th><th>high</th></tr>"
        + "".join(body) + "</table>"
        f"<p>memory {est.memory_per_gpu_gb:,.1f} GB per GPU ({fit}; at least "
        f"{est.min_gpus_for_memory:g} GPUs for memory)</p>"
    )


def training_panel(model: str = "BERT-base", tokens: float = 7.68e9, gpu: str = "A100-80GB",
                   n_gpus: int = 8, *, chart: bool = True) -> Widget:
    """Controls for a training estimate: model, tokens, GPU, GPUs, MFU, pricing, currency.

    The MFU slider starts at (and returns to, when the GPU or the model
    changes) the evidence-based default of :func:`costkit.mfu.default_mfu` for
    that GPU and the model's active size; the low / high range keeps that
    evidence's relative spread around the slider's value. Goodput stays at
    :data:`costkit.mfu.DEFAULT_GOODPUT`.
    "MFU loss per doubling" is the scaling inefficiency beyond one 8-GPU node
    (0 by default; Llama 3's Table 4 suggests about 0.05). With ``chart=True``
    cost and wall clock against the GPU count are drawn below.

    Parameters
    ----------
    model : str, default 'BERT-base'
        Model to start with (a catalog name).
    tokens : float, default 7680000000.0
        Training tokens to start with. [count]
    gpu : str, default 'A100-80GB'
        GPU to start with.
    n_gpus : int, default 8
        GPUs to start with. [count]
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> p = training_panel(chart=False)
    >>> sorted(p.controls)[:3]
    ['currency', 'gpu', 'mfu']
    """
    import ipywidgets as w

    from costkit.catalog import model as lookup_model
    from costkit.catalog import models
    from costkit.fx import fx_rates
    from costkit.mfu import default_mfu
    from costkit.training import estimate

    table = models()
    names = list(table.loc[table["architecture"] != "dlrm", "name"])

    def evidence(gpu_name, model_name):
        """The default MFU for this GPU and this model's active parameters."""
        return default_mfu(gpu_name, _train_dtype(gpu_name),
                           params=lookup_model(model_name).flop_params)

    currencies = ["USD"] + sorted(set(fx_rates()["currency"]) | set(fx_rates()["rate_currency"])
                                  - {"USD"})
    style = {"description_width": "90px"}
    controls = {
        "model": w.Dropdown(options=names, value=model, description="model", style=style),
        "tokens": w.FloatLogSlider(value=tokens, base=10, min=6, max=13.5, step=0.1,
                                   description="tokens", readout_format=".2e", style=style,
                                   continuous_update=False),
        "gpu": w.Dropdown(options=training_gpu_choices(), value=gpu, description="GPU",
                          style=style),
        "n_gpus": w.SelectionSlider(options=[2**i for i in range(13)], value=n_gpus,
                                    description="GPUs", style=style, continuous_update=False),
        "mfu": w.FloatSlider(value=evidence(gpu, model).central, min=0.05,
                             max=0.7, step=0.01, description="MFU", style=style,
                             continuous_update=False),
        "scaling_loss": w.FloatSlider(value=0.0, min=0.0, max=0.15, step=0.01,
                                      description="MFU loss per doubling", style=style,
                                      continuous_update=False),
        "pricing": w.ToggleButtons(options=["on_demand", "spot"], value="on_demand",
                                   description="pricing", style=style),
        "currency": w.Dropdown(options=currencies, value="USD", description="currency",
                               style=style),
    }  # fmt: skip
    summary = w.HTML()
    message = w.HTML()
    out = w.Output()

    def current(n_gpus=None, **extra):
        c = {k: v.value for k, v in controls.items()}
        d = evidence(c["gpu"], c["model"])  # keep the evidence's spread
        mfu_range = (c["mfu"] * d.low / d.central, min(1.0, c["mfu"] * d.high / d.central))
        return estimate(model=c["model"], tokens=c["tokens"], gpu=c["gpu"],
                        n_gpus=c["n_gpus"] if n_gpus is None else n_gpus, mfu=c["mfu"],
                        mfu_range=mfu_range, dtype=_train_dtype(c["gpu"]),
                        pricing=c["pricing"], scaling_loss_per_doubling=c["scaling_loss"],
                        **extra)

    def update(_change=None):
        try:
            est = current()
        except (LookupError, ValueError) as exc:  # e.g. no spot price for this GPU
            message.value = f"<p style='color:#b00'>{_e(exc)}</p>"
            summary.value = ""
            return
        message.value = ""
        summary.value = training_summary_html(est, controls["currency"].value)
        if chart:
            import matplotlib.pyplot as plt
            import numpy as np

            from costkit.plots import training_scaling

            sweep = current(n_gpus=np.array([2**i for i in range(13)]))
            with out:
                out.clear_output(wait=True)
                fig, ax = plt.subplots(figsize=(6, 3))
                training_scaling(sweep, ax=ax, currency=controls["currency"].value)
                plt.show()

    def reset_mfu(_change):
        controls["mfu"].value = round(evidence(controls["gpu"].value,
                                               controls["model"].value).central, 2)

    controls["gpu"].observe(reset_mfu, names="value")
    controls["model"].observe(reset_mfu, names="value")
    return _assemble(controls, update, message, summary, out)


# --------------------------------------------------------------------------- serving

SERVING_DTYPES = ("fp16", "bf16", "fp8", "int8", "int4")


def serving_gpu_choices():
    """GPUs the serving panel offers: those with an fp16 peak and an on-demand price."""
    from costkit.catalog import gpus, price_summary

    g = gpus()
    priced = set(price_summary()["gpu"])
    return list(g[g["fp16_tflops"].notna() & g["name"].isin(priced)]["name"])


def serving_summary_html(est: ServingEstimate, plan: CapacityPlan) -> str:
    """HTML summary of one LLM replica and its capacity plan (the panel's numbers).

    Parameters
    ----------
    est : ServingEstimate
        One LLM replica's estimate.
    plan : CapacityPlan
        The replica's capacity plan.

    Returns
    -------
    str
        HTML summary of one LLM replica and its capacity plan (the panel's numbers).

    Examples
    --------
    >>> from costkit.capacity import plan, traffic_profile
    >>> from costkit.serving import estimate
    >>> est = estimate("llama-2-7b", gpu="H100-SXM", batch_size=16)
    >>> serving_summary_html(est, plan(traffic_profile(2e6), est)).startswith("<")
    True
    """
    ranged = "monthly_cost_usd_low" in plan.summary

    def cost(r):
        if not ranged:
            return f"{r.monthly_cost_usd:,.0f}"
        high = ("SLO unmet" if r.monthly_cost_usd_high != r.monthly_cost_usd_high
                else f"{r.monthly_cost_usd_high:,.0f}")
        return f"{r.monthly_cost_usd:,.0f} ({r.monthly_cost_usd_low:,.0f}-{high})"

    rows = "".join(
        f"<tr><td>{_e(s)}</td><td>{r.replica_hours_per_month:,.0f}</td>"
        f"<td>{cost(r)}</td><td>{r.usd_per_1k_requests:.4g}</td>"
        f"<td>{r.mean_utilization:.0%}</td></tr>"
        for s, r in plan.summary.iterrows())
    return (
        f"<p><b>One replica</b> ({est.n_gpus:g} x {_e(est.gpu)}, {_e(est.dtype)}): TTFT "
        f"{est.ttft_s * 1e3:,.0f} ms, TPOT {est.tpot_s * 1e3:,.1f} ms ({est.decode_bound}-bound), "
        f"request {est.request_latency_s:,.2f} s; {est.tokens_per_second:,.0f} output tokens/s; "
        f"{est.usd_per_million_tokens:,.3f} USD per 1M output tokens when busy; "
        f"max batch {est.max_batch_size:g}</p>"
        f"<p>80% range: {est.tokens_per_second_low:,.0f}-{est.tokens_per_second_high:,.0f} "
        f"output tokens/s, TPOT {est.tpot_s_low * 1e3:,.1f}-{est.tpot_s_high * 1e3:,.1f} ms, "
        f"{est.usd_per_million_tokens_low:,.3f}-{est.usd_per_million_tokens_high:,.3f} USD per "
        f"1M output tokens ({_e(est.assumptions['efficiency'].split(':')[0])})</p>"
        f"<p><b>Traffic</b>: peak {plan.hourly['requests_per_second'].max():,.1f} requests/s, "
        f"{plan.hourly['replicas_needed'].max():g} replicas at peak "
        f"(SLO: {plan.assumptions['slo']})</p>"
        "<table><tr><th>strategy</th><th>replica-h/month</th><th>USD/month"
        + (" (80% range)" if ranged else "") + "</th>"
        "<th>USD/1k requests</th><th>utilisation</th></tr>" + rows + "</table>"
        f"<p>cheapest: <b>{_e(plan.cheapest)}</b> ({plan.reserved_replicas} reserved replicas)</p>"
    )


def serving_panel(model: str = "Llama-2-7B", gpu: str = "H100-SXM", *, dtype: str = "fp16",
                  batch_size: int = 16, prompt_tokens: int = 256, output_tokens: int = 64,
                  daily_requests: float = 2e6, peak_multiplier: float = 3.0,
                  slo_s: float = 3.0, chart: bool = True) -> Widget:
    """Controls for an LLM replica and its traffic: model, GPU, dtype, batch, tokens, traffic, SLO.

    The summary shows one replica (:func:`costkit.serving.estimate`) and the
    capacity plan for a retail day whose evening hours (18:00-23:00) are
    lifted by the peak multiplier (:func:`costkit.capacity.plan`). With
    ``chart=True`` the latency-throughput curve over batch sizes is drawn
    below, with the SLO line. Combinations that cannot run (a dtype the GPU
    lacks, a batch that does not fit, an SLO below the service time) are
    explained in ``.message``, not raised.

    Parameters
    ----------
    model : str, default 'Llama-2-7B'
        Model to start with (a catalog name).
    gpu : str, default 'H100-SXM'
        GPU to start with.
    dtype : str, default 'fp16'
        Weight data type to start with.
    batch_size : int, default 16
        Batch size to start with. [count]
    prompt_tokens : int, default 256
        Prompt tokens to start with. [tokens]
    output_tokens : int, default 64
        Output tokens to start with. [tokens]
    daily_requests : float, default 2000000.0
        Requests a day to start with. [1/day]
    peak_multiplier : float, default 3.0
        Peak hour over the mean hour to start with. [unitless]
    slo_s : float, default 3.0
        The p95 latency target to start with. [s]
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> p = serving_panel(chart=False)
    >>> sorted(p.controls)[:3]
    ['batch_size', 'daily_requests', 'dtype']
    """
    import ipywidgets as w

    from costkit.capacity import plan, traffic_profile
    from costkit.catalog import models
    from costkit.serving import estimate

    m = models()
    names = list(m[m["architecture"] == "decoder"]["name"])
    style = {"description_width": "110px"}
    powers = [2**i for i in range(11)]
    controls = {
        "model": w.Dropdown(options=names, value=model, description="model", style=style),
        "gpu": w.Dropdown(options=serving_gpu_choices(), value=gpu, description="GPU",
                          style=style),
        "dtype": w.ToggleButtons(options=list(SERVING_DTYPES), value=dtype,
                                 description="weights", style=style),
        "batch_size": w.SelectionSlider(options=powers, value=batch_size,
                                        description="batch size", style=style,
                                        continuous_update=False),
        "prompt_tokens": w.SelectionSlider(options=[2**i for i in range(4, 14)],
                                           value=prompt_tokens, description="prompt tokens",
                                           style=style, continuous_update=False),
        "output_tokens": w.SelectionSlider(options=[2**i for i in range(0, 12)],
                                           value=output_tokens, description="output tokens",
                                           style=style, continuous_update=False),
        "daily_requests": w.FloatLogSlider(value=daily_requests, base=10, min=4, max=9,
                                           step=0.1, description="requests/day",
                                           readout_format=".2e", style=style,
                                           continuous_update=False),
        "peak_multiplier": w.FloatSlider(value=peak_multiplier, min=1.0, max=10.0, step=0.5,
                                         description="peak multiplier", style=style,
                                         continuous_update=False),
        "slo_s": w.FloatSlider(value=slo_s, min=0.5, max=30.0, step=0.5,
                               description="p95 SLO [s]", style=style, continuous_update=False),
    }  # fmt: skip
    def compute(c):
        est = estimate(c["model"], gpu=c["gpu"], dtype=c["dtype"], batch_size=c["batch_size"],
                       prompt_tokens=c["prompt_tokens"], output_tokens=c["output_tokens"])
        traffic = traffic_profile(c["daily_requests"], promotion_multiplier=c["peak_multiplier"],
                                  promotion_hours=range(18, 24))
        return est, plan(traffic, est, slo_s=c["slo_s"], label=c["model"])

    def draw(_result, c, ax):
        import numpy as np

        from costkit.plots import latency_throughput

        sweep = estimate(c["model"], gpu=c["gpu"], dtype=c["dtype"], batch_size=np.array(powers),
                         prompt_tokens=c["prompt_tokens"], output_tokens=c["output_tokens"],
                         oversized="flag")
        latency_throughput(sweep, slo_s=c["slo_s"], ax=ax, chosen=c["batch_size"])

    return _computed_panel(controls, compute, lambda r: serving_summary_html(*r),
                           draw if chart else None)


# --------------------------------------------------------------------------- A/B test


def ab_test_summary_html(plan: ABTestPlan) -> str:
    """HTML summary of one :class:`costkit.tuning.ABTestPlan` (the A/B panel's numbers).

    Parameters
    ----------
    plan : ABTestPlan
        One A/B test plan.

    Returns
    -------
    str
        HTML summary of one :class:`costkit.tuning.ABTestPlan` (the A/B panel's numbers).

    Examples
    --------
    >>> from costkit.tuning import ab_test_plan
    >>> page = ab_test_summary_html(ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000))
    >>> page.startswith("<")
    True
    """
    return (
        f"<p><b>{plan.units_per_arm:,.0f} visitors per arm</b> to detect "
        f"{plan.baseline_rate:.2%} &rarr; {plan.treatment_rate:.2%} "
        f"({plan.assumptions['test']})</p>"
        f"<p><b>{plan.days:g} days</b> at {plan.daily_units:,.0f} visitors a day with "
        f"{plan.traffic_fraction:.0%} in the test ({plan.enrolled_per_arm:,.0f} enrolled per "
        f"arm)</p>"
        f"<p>serving the treatment arm: {plan.treatment_serving_cost_usd:,.0f} USD (tune phase); "
        f"opportunity cost of the worse arm ({plan.worse_arm}): "
        f"{plan.opportunity_cost_usd:,.0f} USD of gross profit, not in the ledger</p>"
    )


def ab_test_panel(baseline_rate: float = 0.03, relative_lift: float = 0.05, *,
                  daily_units: float = 200_000, traffic_fraction: float = 0.5,
                  power: float = 0.8, gross_profit_per_conversion_usd: float = 20.0,
                  requests_per_unit: float = 3.0, treatment_usd_per_1k_requests: float = 0.3,
                  chart: bool = True) -> Widget:
    """Controls for an A/B test: baseline conversion, lift, traffic, share in the test, power.

    The summary is :func:`costkit.tuning.ab_test_plan` (visitors per arm,
    days, serving and opportunity cost); with ``chart=True`` the sample size
    against the detectable lift is drawn below, the chosen lift marked.
    Rates that cannot be tested (a lift taking the rate past 100%) are
    explained in ``.message``, not raised.

    Parameters
    ----------
    baseline_rate : float, default 0.03
        Control's rate to start with. [unitless, 0-1]
    relative_lift : float, default 0.05
        Relative lift to detect, to start with. [unitless]
    daily_units : float, default 200000
        Visitors a day to start with. [1/day]
    traffic_fraction : float, default 0.5
        Share of traffic in the test, to start with. [unitless, 0-1]
    power : float, default 0.8
        Power to start with. [unitless, 0-1]
    gross_profit_per_conversion_usd : float, default 20.0
        Gross profit of one conversion. [USD]
    requests_per_unit : float, default 3.0
        Model requests per visitor. [count]
    treatment_usd_per_1k_requests : float, default 0.3
        Serving cost of the treatment per 1,000 requests. [USD]
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> p = ab_test_panel(chart=False)
    >>> sorted(p.controls)[:3]
    ['baseline_pct', 'daily_units', 'lift_pct']
    """
    import ipywidgets as w

    from costkit.tuning import ab_test_plan

    style = {"description_width": "150px"}
    controls = {
        "baseline_pct": w.FloatSlider(value=baseline_rate * 100, min=0.1, max=80.0, step=0.1,
                                      description="baseline rate [%]", style=style,
                                      continuous_update=False),
        "lift_pct": w.FloatSlider(value=relative_lift * 100, min=0.5, max=50.0, step=0.5,
                                  description="relative lift [%]", style=style,
                                  continuous_update=False),
        "daily_units": w.FloatLogSlider(value=daily_units, base=10, min=3, max=8, step=0.1,
                                        description="visitors/day", readout_format=".2e",
                                        style=style, continuous_update=False),
        "traffic_pct": w.FloatSlider(value=traffic_fraction * 100, min=1.0, max=100.0, step=1.0,
                                     description="share in test [%]", style=style,
                                     continuous_update=False),
        "power": w.FloatSlider(value=power, min=0.5, max=0.99, step=0.01, description="power",
                               style=style, continuous_update=False),
        "profit": w.FloatSlider(value=gross_profit_per_conversion_usd, min=0.0, max=200.0,
                                step=1.0, description="profit/conversion [USD]", style=style,
                                continuous_update=False),
    }  # fmt: skip
    def compute(c):
        return ab_test_plan(c["baseline_pct"] / 100, c["lift_pct"] / 100, relative=True,
                            daily_units=c["daily_units"], traffic_fraction=c["traffic_pct"] / 100,
                            power=c["power"], requests_per_unit=requests_per_unit,
                            treatment_usd_per_1k_requests=treatment_usd_per_1k_requests,
                            gross_profit_per_conversion_usd=c["profit"])

    def draw(_plan, c, ax):
        import numpy as np

        from costkit.plots import ab_sample_size

        top = min(0.5, (1 / (c["baseline_pct"] / 100) - 1) * 0.99)
        ab_sample_size(c["baseline_pct"] / 100, np.linspace(0.005, top, 100), power=c["power"],
                       mark=c["lift_pct"] / 100,
                       daily_units=c["daily_units"] * c["traffic_pct"] / 100, ax=ax)

    return _computed_panel(controls, compute, ab_test_summary_html, draw if chart else None)


# --------------------------------------------------------------------------- optimisation


def optimization_summary_html(comparison: OptimizationComparison) -> str:
    """HTML table of an :class:`costkit.optimization.OptimizationComparison`.

    Parameters
    ----------
    comparison : OptimizationComparison
        Result of :func:`costkit.optimization.compare`.

    Returns
    -------
    str
        HTML table of an :class:`costkit.optimization.OptimizationComparison`.

    Examples
    --------
    >>> from costkit.optimization import baseline, quantize
    >>> b = baseline("bert-base")
    >>> from costkit.optimization import compare
    >>> c = compare([b, quantize(b, "int8")], monthly_requests=3e8, gpu="L4", seq_len=128,
    ...             batch_size=64, candidates_per_query=100, usd_per_gpu_hour=0.8)
    >>> optimization_summary_html(c).startswith("<")
    True
    """
    import numpy as np

    rows = []
    for name, r in comparison.table.iterrows():
        pb = ("baseline" if name == comparison.baseline else "never"
              if np.isinf(r.payback_months) else f"{r.payback_months:,.1f}")
        rows.append(f"<tr><td>{_e(name)}</td><td>{r.monthly_serving_usd:,.0f}</td>"
                    f"<td>{r.monthly_accuracy_cost_usd:,.0f}</td>"
                    f"<td>{r.monthly_net_benefit_usd:,.0f}</td><td>{r.one_off_usd:,.0f}</td>"
                    f"<td>{pb}</td><td>{r.net_value_usd:,.0f}</td></tr>")
    return (
        f"<p>{comparison.monthly_requests:,.0f} requests a month; gross profit "
        f"{comparison.gross_profit_per_1k_requests_usd:,.2f} USD per 1,000; "
        f"{comparison.utilization:.0%} utilisation; {comparison.horizon_months:g}-month horizon</p>"
        "<table><tr><th>variant</th><th>serving USD/month</th><th>accuracy USD/month</th>"
        "<th>net USD/month</th><th>one-off USD</th><th>payback months</th>"
        "<th>net value USD</th></tr>" + "".join(rows) + "</table>"
    )


def optimization_panel(variants: Sequence[Variant], *, monthly_requests: float = 3e8,
                       gross_profit_per_1k_requests_usd: float = 0.0, utilization: float = 0.7,
                       horizon_months: float = 12.0, chart: bool = True,
                       **serving_kwargs: Any) -> Widget:
    """Controls for judging optimised variants: traffic, profit per request, utilisation, horizon.

    ``variants`` (the baseline first) and ``serving_kwargs`` go to
    :func:`costkit.optimization.compare`; the summary is its table, and with
    ``chart=True`` the payback curve over traffic is drawn below.

    Parameters
    ----------
    variants : sequence of Variant
        The baseline first, then the variants to judge.
    monthly_requests : float, default 300000000.0
        Requests a month to start with. [1/month]
    gross_profit_per_1k_requests_usd : float, default 0.0
        Gross profit per 1,000 requests to start with. [USD]
    utilization : float, default 0.7
        Fleet utilisation to start with. [unitless, 0-1]
    horizon_months : float, default 12.0
        Payback horizon to start with. [month]
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).
    **serving_kwargs
        Passed on to the serving estimates (``gpu=``, ``batch_size=``, ...).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> from costkit.optimization import baseline, quantize
    >>> b = baseline("bert-base")
    >>> p = optimization_panel([b, quantize(b, "int8")], gpu="L4", seq_len=128, batch_size=64,
    ...                        candidates_per_query=100, usd_per_gpu_hour=0.8, chart=False)
    >>> sorted(p.controls)[:2]
    ['horizon', 'monthly_requests']
    """
    import ipywidgets as w

    from costkit.optimization import compare

    style = {"description_width": "170px"}
    controls = {
        "monthly_requests": w.FloatLogSlider(value=monthly_requests, base=10, min=5, max=11,
                                             step=0.1, description="requests/month",
                                             readout_format=".2e", style=style,
                                             continuous_update=False),
        "profit": w.FloatSlider(value=gross_profit_per_1k_requests_usd, min=0.0, max=200.0,
                                step=0.5, description="profit per 1k req. [USD]", style=style,
                                continuous_update=False),
        "utilization": w.FloatSlider(value=utilization, min=0.1, max=1.0, step=0.05,
                                     description="utilisation", style=style,
                                     continuous_update=False),
        "horizon": w.IntSlider(value=int(horizon_months), min=1, max=36,
                               description="horizon [months]", style=style,
                               continuous_update=False),
    }  # fmt: skip
    def compute(c):
        return compare(variants, monthly_requests=c["monthly_requests"],
                       gross_profit_per_1k_requests_usd=c["profit"],
                       utilization=c["utilization"], horizon_months=c["horizon"],
                       **serving_kwargs)

    def draw(comparison, c, ax):
        import numpy as np

        from costkit.plots import payback_curve

        payback_curve(comparison, np.logspace(5, 11, 61), ax=ax)
        ax.axvline(c["monthly_requests"], color="grey", lw=0.8)

    return _computed_panel(controls, compute, optimization_summary_html,
                           draw if chart else None)


# --------------------------------------------------------------------------- ROI


def roi_summary_html(table: Frame, text: str = "") -> str:
    """HTML table of :func:`costkit.roi.compare` plus the decision in words.

    IRRs above 1,000% a year read "above 1,000%" (:func:`costkit.roi.irr_label`): with a tiny
    one-off cost against a monthly gain the digits mean nothing; the NPV decides.

    Parameters
    ----------
    table : DataFrame
        Result of :func:`costkit.roi.compare`.
    text : str, default ''
        The decision in words, shown under the table.

    Returns
    -------
    str
        HTML table of :func:`costkit.roi.compare` plus the decision in words.

    Examples
    --------
    >>> from costkit.roi import Case, compare
    >>> shop = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)
    >>> table = compare({"BERT": Case(**shop, cvr_lift=0.02)})
    >>> roi_summary_html(table, "Deploy BERT.").startswith("<")
    True
    """
    import numpy as np

    from costkit.roi import irr_label

    def fmt(v, pattern, never="never"):
        return never if not np.isfinite(v) else pattern.format(v)

    rows = []
    for name, r in table.iterrows():
        rows.append(f"<tr><td>{_e(name)}</td><td>{r.order_lift:+.2%}</td>"
                    f"<td>{r.npv_usd:,.0f}</td><td>{irr_label(r.irr_annual)}</td>"
                    f"<td>{fmt(r.payback_month, '{:.1f}')}</td>"
                    f"<td>{fmt(r.break_even_lift, '{:.2%}', 'n/a')}</td></tr>")
    words = "".join(f"<p>{_e(line)}</p>" for line in text.splitlines())
    return ("<table><tr><th>option</th><th>order lift</th><th>NPV USD</th><th>IRR a year</th>"
            "<th>payback month</th><th>break-even lift</th></tr>" + "".join(rows) + "</table>"
            + words)


def recentre_draws(draws: Mapping[str, NDArray[np.float64]], old_case: Case,
                   new_case: Case) -> dict:
    """Move Monte Carlo draws with a changed central case: ``{input: array}``.

    A money input (its name has ``usd``) is scaled by new / old (a cost
    multiplier scales its whole range); any other input (lifts, elasticity)
    is shifted by new - old, so its spread stays and its centre follows the
    slider. An input whose old value is 0 is shifted. The draws stay paired
    across options: each option's arrays move by the same rule.

    Parameters
    ----------
    draws : mapping
        ``{input: array}`` drawn around ``old_case``.
    old_case : Case
        The case the draws were made around.
    new_case : Case
        The changed case.

    Returns
    -------
    dict
        The draws around ``new_case``: ``{input: array}``.

    Examples
    --------
    >>> import numpy as np
    >>> from costkit.roi import Case
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02)
    >>> moved = recentre_draws({"cvr_lift": np.array([0.01, 0.02, 0.03])}, case,
    ...                        case.replace(cvr_lift=0.03))
    >>> moved["cvr_lift"].round(3).tolist()
    [0.02, 0.03, 0.04]
    """
    import numpy as np

    out = {}
    for name in draws:
        d = np.asarray(draws[name], dtype=float)
        old, new = float(getattr(old_case, name)), float(getattr(new_case, name))
        out[name] = d * (new / old) if "usd" in name and old > 0 else d + (new - old)
    return out


def roi_panel(cases: dict, *, chart: bool = True, uncertainty: dict | None = None,
              draws: int = 4_000, seed: int = 0) -> Widget:
    """Controls for the ROI of several options (``name -> costkit.roi.Case``, same horizon).

    Shared assumptions (sessions, AOV, margin, CTR, CVR, latency elasticity,
    discount rate, ramp, a multiplier on every cost) apply to every option;
    each option that lifts conversion gets its own conversion-lift slider. The
    summary is :func:`costkit.roi.compare` and :func:`costkit.decision.decision_summary`;
    the chart, each option's cumulative cash flow.

    ``uncertainty`` (``option -> {input: distribution}``, as for
    :func:`costkit.roi.monte_carlo`, one entry per option that changes
    anything) makes the decision lead with risk, as in the notebook: each
    option is drawn ``draws`` times with ``seed`` (paired draws), and the
    draws follow the sliders (:func:`recentre_draws`). Without it the
    decision ranks by the central NPV and says so.

    Parameters
    ----------
    cases : dict
        ``{name: Case}``, all with the same horizon.
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).
    uncertainty : dict, optional
        ``{input: distribution}`` drawn for every case (see
        :func:`costkit.roi.monte_carlo`); default none.
    draws : int, default 4000
        Monte Carlo draws behind the decision. [count]
    seed : int, default 0
        Seed of the draws.

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> from costkit.roi import Case
    >>> shop = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2)
    >>> p = roi_panel({"keep": Case(**shop), "BERT": Case(**shop, cvr_lift=0.02, one_off_usd=2e4)},
    ...               chart=False)
    >>> len(p.controls) > 0
    True
    """
    import ipywidgets as w

    from costkit import roi
    from costkit.decision import decision_summary

    unknown = sorted(set(uncertainty or {}) - set(cases))
    if unknown:
        raise ValueError(f"uncertainty names option(s) {unknown} that are not among the cases "
                         f"{list(cases)}")
    # the draws are made once; each slider move only recentres them (recentre_draws)
    base_draws = {}
    for n, dists in (uncertainty or {}).items():
        m = roi.monte_carlo(cases[n], dists, n=int(draws), seed=seed)
        base_draws[n] = {k: m.draws[k].to_numpy() for k in m.draws.columns}

    first = next(iter(cases.values()))
    slow = [float(c.latency_elasticity_per_100ms) for c in cases.values()
            if float(c.latency_change_ms)]
    elasticity = slow[0] if slow else 0.0
    style = {"description_width": "190px"}
    wide = w.Layout(width="520px")  # the longest labels of all the panels

    def slider(value, lo, hi, step, desc, fmt=".3f"):
        return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                             readout_format=fmt, style=style, continuous_update=False,
                             layout=wide)

    controls = {
        "sessions_per_month": w.FloatLogSlider(
            value=float(first.sessions_per_month), base=10, min=5, max=9, step=0.05,
            description="sessions per month", readout_format=".3s", style=style,
            continuous_update=False, layout=wide),
        "average_order_value_usd": slider(float(first.average_order_value_usd), 5, 300, 1,
                                          "average order [USD]", ".0f"),
        "gross_margin": slider(float(first.gross_margin), 0.02, 0.8, 0.01, "gross margin", ".2f"),
        "click_through_rate": slider(float(first.click_through_rate), 0.01, 0.9, 0.01,
                                     "click-through rate", ".2f"),
        "conversion_rate": slider(float(first.conversion_rate), 0.001, 0.2, 0.001,
                                  "orders per click"),
        "latency_elasticity_per_100ms": slider(elasticity, -0.1, 0.0, 0.001,
                                               "conversion per +100 ms", ".4f"),
        "annual_discount_rate": slider(float(first.annual_discount_rate), 0.0, 0.4, 0.01,
                                       "discount rate a year", ".2f"),
        "ramp_months": slider(float(first.ramp_months), 0, 12, 1, "rollout ramp [months]", ".0f"),
        "cost_multiplier": slider(1.0, 0.25, 4.0, 0.05, "every cost x", ".2f"),
    }  # fmt: skip
    lifted = [n for n, c in cases.items() if float(c.cvr_lift) != 0]
    for n in lifted:
        controls[f"lift:{n}"] = slider(float(cases[n].cvr_lift), -0.02, 0.08, 0.001,
                                       f"CVR lift: {n}")
    shared = ("sessions_per_month", "average_order_value_usd", "gross_margin",
              "click_through_rate", "conversion_rate", "annual_discount_rate", "ramp_months")

    def compute(c):
        new = {}
        for n, case in cases.items():
            k = c["cost_multiplier"]
            kw = {f: c[f] for f in shared}
            kw.update(
                one_off_usd=float(case.one_off_usd) * k,
                serving_usd_per_1k_searches=float(case.serving_usd_per_1k_searches) * k,
                fixed_usd_per_month=float(case.fixed_usd_per_month) * k,
                retrain_usd=float(case.retrain_usd) * k)
            if float(case.latency_change_ms):
                kw["latency_elasticity_per_100ms"] = c["latency_elasticity_per_100ms"]
            if n in lifted:
                kw["cvr_lift"] = c[f"lift:{n}"]
            new[n] = case.replace(**kw)
        mc = {n: roi.monte_carlo(new[n], recentre_draws(d, cases[n], new[n]), n=int(draws),
                                 seed=seed) for n, d in base_draws.items()}
        return new, roi.compare(new), decision_summary(new, mc or None)

    def to_html(result):
        _, table, text = result
        return roi_summary_html(table, text)

    def draw(result, _c, ax):
        from costkit.plots import cumulative_cash_flow
        from costkit.style import option_colors

        colors = option_colors(cases)
        for n, case in result[0].items():
            cumulative_cash_flow(case.evaluate(), ax=ax, color=colors[n])
        ax.legend(fontsize=8)

    return _computed_panel(controls, compute, to_html, draw if chart else None)


# --------------------------------------------------------------------------- monitoring


def monitoring_summary_html(costed: Frame, found: Frame) -> str:
    """HTML: the selection's cost, requests, utilisation and idle money, and its alerts.

    Parameters
    ----------
    costed : DataFrame
        Costed usage, one row per replica-hour, from :func:`costkit.monitoring.cost_usage`.
    found : DataFrame
        The alerts found in the selection.

    Returns
    -------
    str
        HTML: the selection's cost, requests, utilisation and idle money, and its alerts.

    Examples
    --------
    >>> from costkit import billing, monitoring, telemetry
    >>> week = monitoring.synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> costed = monitoring.cost_usage(telemetry.read_telemetry(week.telemetry),
    ...                                billing.focus_resource_hours(week.bill))
    >>> monitoring_summary_html(costed, monitoring.alerts(costed)).startswith("<")
    True
    """
    from costkit.monitoring import chargeback

    t = chargeback(costed, by=("model",), freq=None)
    rows = "".join(
        f"<tr><td>{_e(m)}</td><td>{r.cost_usd:,.0f}</td><td>{r.usd_per_1k_requests:.4f}</td>"
        f"<td>{r.mean_utilization:.1%}</td><td>{r.p95_utilization:.1%}</td>"
        f"<td>{r.idle_usd:,.0f}</td></tr>" for m, r in t.iterrows())
    alert_rows = "".join(
        f"<tr><td>{_e(a.kind)}</td><td>{_e(a.model)}</td><td>{a.start:%a %d %H:%M}</td>"
        f"<td>{a.hours}</td>"
        f"<td>{_e(a.detail)}</td></tr>" for a in found.itertuples())
    kinds = found["kind"].value_counts() if len(found) else {}
    counted = ", ".join(f"{n} {_e(k)}" for k, n in kinds.items())
    # the list folds away: the panel's chart shows every alert, the table is for details
    return ("<table><tr><th>model</th><th>cost USD</th><th>USD per 1k req.</th>"
            "<th>mean util.</th><th>p95 util.</th><th>idle USD</th></tr>" + rows + "</table>"
            f"<details><summary>{len(found)} alerts{': ' + counted if counted else ''} "
            "(click for the list)</summary><table><tr><th>kind</th><th>model</th>"
            "<th>start</th><th>hours</th><th>detail</th></tr>" + alert_rows
            + "</table></details>")


def monitoring_panel(costed: Frame, *, chart: bool = True) -> Widget:
    """Filter costed usage by team and model, and tune the alert thresholds.

    ``costed`` is :func:`costkit.monitoring.cost_usage`'s table. Controls: team,
    model, the robust z threshold, the low-utilisation threshold and the
    hours it must last. The summary is the chargeback and the alerts of the
    selection; the chart, the alerts on the hourly cost.

    Parameters
    ----------
    costed : DataFrame
        Costed usage, one row per replica-hour, from :func:`costkit.monitoring.cost_usage`.
    chart : bool, default True
        Draw the chart under the controls (off for a numbers-only panel).

    Returns
    -------
    ipywidgets.Widget
        The panel: a widget with ``.controls`` (name -> widget), ``.summary`` and
        ``.message``.

    Examples
    --------
    >>> from costkit import billing, monitoring, telemetry
    >>> week = monitoring.synthetic_telemetry(days=1, replicas=12, freq="15min")
    >>> costed = monitoring.cost_usage(telemetry.read_telemetry(week.telemetry),
    ...                                billing.focus_resource_hours(week.bill))
    >>> p = monitoring_panel(costed, chart=False)
    >>> sorted(p.controls)[:2]
    ['low_utilization', 'mad_threshold']
    """
    import ipywidgets as w

    from costkit.monitoring import alerts

    style = {"description_width": "170px"}
    teams = ["all", *sorted(costed["team"].unique())]
    models = ["all", *sorted(costed["model"].unique())]
    controls = {
        "team": w.Dropdown(options=teams, value="all", description="team", style=style),
        "model": w.Dropdown(options=models, value="all", description="model", style=style),
        "mad_threshold": w.FloatSlider(value=4.0, min=2.0, max=12.0, step=0.5,
                                       description="robust z threshold", style=style,
                                       continuous_update=False),
        "low_utilization": w.FloatSlider(value=0.15, min=0.0, max=0.6, step=0.01,
                                         description="low utilisation below", style=style,
                                         continuous_update=False),
        "min_hours": w.IntSlider(value=3, min=1, max=12, description="for at least [h]",
                                 style=style, continuous_update=False),
    }

    def compute(c):
        sel = costed
        if c["team"] != "all":
            sel = sel[sel["team"] == c["team"]]
        if c["model"] != "all":
            sel = sel[sel["model"] == c["model"]]
        if sel.empty:
            raise ValueError(f"no usage for team {c['team']!r} and model {c['model']!r}")
        found = alerts(sel, mad_threshold=c["mad_threshold"],
                       low_utilization=c["low_utilization"], min_hours=c["min_hours"])
        return sel, found

    def draw(result, _c, ax):
        from costkit.plots import alerts_timeline

        alerts_timeline(result[0], result[1], ax=ax)

    return _computed_panel(controls, compute, lambda r: monitoring_summary_html(*r),
                           draw if chart else None)
