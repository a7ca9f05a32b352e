"""Widgets and charts work without a browser and show the same numbers as the functions."""

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

import costkit as ck
from costkit.ledger import ORIGIN_EXAMPLE
from costkit.widgets import four_part_panel, four_part_summary_html


def test_panel_defaults_show_the_ledger_numbers():
    panel = four_part_panel(chart=False)
    html = panel.summary.value
    assert "201.08" in html and "5.68 USD" in html


def test_moving_a_control_updates_the_summary():
    panel = four_part_panel(chart=False)
    panel.controls["storage_months"].value = 6
    led = ck.four_part_ledger(**ORIGIN_EXAMPLE, storage_months=6)
    assert f"{led.total():,.2f} USD" in panel.summary.value
    panel.controls["train_hours"].value = 10
    assert "110.00" in panel.summary.value  # naive train: 10*1 + 100


def test_panel_with_chart_builds():
    panel = four_part_panel()
    panel.controls["usd_per_gb_month"].value = 0.05
    assert "C_train" in panel.summary.value
    plt.close("all")


def test_summary_html_matches_functions():
    html = four_part_summary_html(ORIGIN_EXAMPLE["hours"], ORIGIN_EXAMPLE["usd_per_hour"],
                                  ORIGIN_EXAMPLE["storage_gb"], usd_per_gb_month=0.023,
                                  storage_months=1)
    for v in ["101.00", "50.05", "20.01", "30.02", "3.30 USD", "1.20 USD", "0.47 USD", "0.71 USD"]:
        assert v in html


@pytest.mark.parametrize("plot", ["bars", "waterfall"])
def test_ledger_charts(plot):
    led = ck.four_part_ledger(**ORIGIN_EXAMPLE)
    fig, ax = plt.subplots()
    fn = ck.plots.ledger_bars if plot == "bars" else ck.plots.ledger_waterfall
    assert fn(led, ax=ax) is ax
    heights = sorted(round(p.get_height(), 2) for p in ax.patches)
    if plot == "waterfall":
        assert heights == sorted([3.30, 1.20, 0.47, 0.71, 5.68])
    plt.close(fig)


def test_price_spread_draws_one_row_per_gpu():
    ax = ck.plots.price_spread(gpus=["T4", "H100-SXM"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T4", "H100-SXM"]
    plt.close("all")


def test_import_is_light():
    code = ("import sys, costkit; heavy = [m for m in ('pandas', 'matplotlib', 'ipywidgets', "
            "'scipy', 'numpy_financial', 'duckdb', 'pyarrow') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- training


def test_training_panel_shows_the_estimate_numbers():
    from costkit.widgets import training_panel

    panel = training_panel(model="Llama-2-7B", tokens=5e10, gpu="H100-SXM", n_gpus=64,
                           chart=False)
    mfu = panel.controls["mfu"].value
    e = ck.training.estimate(model="Llama-2-7B", tokens=5e10, gpu="H100-SXM", n_gpus=64,
                             mfu=mfu)
    assert f"{e.cost_usd:,.0f}" in panel.summary.value
    assert f"{e.gpu_hours:,.0f}" in panel.summary.value


def test_training_panel_controls_move_the_result():
    from costkit.widgets import training_panel

    panel = training_panel(chart=False)
    before = panel.summary.value
    panel.controls["gpu"].value = "H100-SXM"  # resets the MFU to the Hopper default
    bert = ck.model("BERT-base").params
    assert panel.controls["mfu"].value == round(ck.mfu.default_mfu("H100", params=bert).central,
                                                2)
    panel.controls["model"].value = "Llama-3-70B"  # a bigger model fills the GPU better
    assert panel.controls["mfu"].value == round(
        ck.mfu.default_mfu("H100", params=ck.model("Llama-3-70B").params).central, 2)
    assert panel.summary.value != before
    panel.controls["currency"].value = "CNY"
    assert "cost [CNY]" in panel.summary.value
    panel.controls["pricing"].value = "spot"
    panel.controls["gpu"].value = "L40"  # has no spot price: every figure but money, said so
    assert "no spot price for L40" in panel.summary.value and panel.message.value == ""
    assert "GPU-hours" in panel.summary.value and "n/a (no price)" in panel.summary.value


def test_training_panel_with_chart_builds():
    from costkit.widgets import training_panel

    panel = training_panel()
    panel.controls["scaling_loss"].value = 0.05
    assert "GPU-hours" in panel.summary.value
    plt.close("all")


def test_training_charts_draw_what_they_are_given():
    gpus = ["A100-80GB", "H100-SXM", "L40S"]
    est = ck.training.estimate(7e9, 1e11, gpu=gpus, n_gpus=64)
    ax = ck.plots.training_by_gpu(est)
    order = np.argsort(est.cost_usd)[::-1]          # cheapest on top
    assert [t.get_text() for t in ax.get_yticklabels()] == [gpus[k] for k in order]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(list(np.asarray(est.cost_usd)[order]))
    assert len(ax.figure.axes) == 1                 # no second axis: days are labels
    assert all("days" in t.get_text() for t in ax.texts)
    n = np.array([8, 64, 512])
    sweep = ck.training.estimate(7e9, 1e11, gpu="H100", n_gpus=n, scaling_loss_per_doubling=0.05)
    ax = ck.plots.training_scaling(sweep)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), sweep.cost_usd)
    mem = {"full": ck.training.memory(7e9), "ZeRO-3 x8": ck.training.memory(
        7e9, zero_stage=3, n_gpus=8)}
    ax = ck.plots.memory_stack(mem, gpu_memory_gb=80)
    assert ax.lines[0].get_ydata()[0] == 80
    # the training and the serving chart draw the same usable line for the same GPU:
    # 90% of 80 GiB = 77.3 GB
    train = ck.plots.memory_stack(mem, gpu="H100-SXM")
    serve = ck.plots.serving_memory(ck.serving.estimate(
        "llama-2-7b", gpu="H100-SXM", batch_size=np.array([1, 8]), usd_per_gpu_hour=1.0))
    want = 0.9 * 80 * 2**30 / 1e9
    assert train.lines[0].get_ydata()[0] == pytest.approx(want)
    assert serve.lines[0].get_ydata()[0] == pytest.approx(want)
    label = "90% of H100-SXM's 80 GiB = 77.3 GB usable"
    assert label in [t.get_text() for t in train.texts]
    assert label in [t.get_text() for t in serve.texts]
    plan = ck.training.compute_optimal(np.array([1e4, 1e6]))
    ax = ck.plots.compute_optimal_frontier(plan)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), plan.params)
    plt.close("all")


# --------------------------------------------------------------------------- serving


def test_serving_panel_shows_the_estimate_and_plan_numbers():
    from costkit.widgets import serving_panel

    panel = serving_panel(chart=False)
    e = ck.serving.estimate("Llama-2-7B", gpu="H100-SXM", batch_size=16, prompt_tokens=256,
                            output_tokens=64)
    p = ck.capacity.plan(ck.capacity.traffic_profile(2e6, promotion_multiplier=3.0,
                                                     promotion_hours=range(18, 24)), e, slo_s=3.0)
    html = panel.summary.value
    assert f"{e.tokens_per_second:,.0f} output tokens/s" in html
    assert f"{p.monthly_cost_usd('mix'):,.0f}" in html and p.cheapest in html
    assert panel.message.value == ""


def test_serving_panel_controls_move_the_result_and_explain_errors():
    from costkit.widgets import serving_panel

    panel = serving_panel(chart=False)
    before = panel.summary.value
    panel.controls["batch_size"].value = 64
    assert panel.summary.value != before and "max batch" in panel.summary.value
    panel.controls["gpu"].value = "A100-80GB"
    panel.controls["dtype"].value = "fp8"
    assert "no dense fp8 peak" in panel.message.value and panel.summary.value == ""
    panel.controls["dtype"].value = "int4"
    assert panel.message.value == "" and "int4" in panel.summary.value
    panel.controls["output_tokens"].value = 2048
    assert "does not fit" in panel.message.value and "max batch is 61" in panel.message.value
    panel.controls["batch_size"].value = 16
    panel.controls["slo_s"].value = 0.5
    assert "exceeds the SLO" in panel.message.value


def test_serving_panel_with_chart_builds():
    from costkit.widgets import serving_panel

    panel = serving_panel()
    controls, right = panel.children          # controls | chart over the numbers
    assert len(controls.children) == len(panel.controls) + 1     # + the message
    assert len(right.children) == 3 and "costkit-panel" in panel._dom_classes  # + its style
    assert "costkit-summary" in right.children[1]._dom_classes
    plt.close("all")


def test_recentred_draws_follow_the_sliders():
    from costkit.widgets import recentre_draws

    old = ck.roi.Case(sessions_per_month=1e6, searches_per_session=2, click_through_rate=0.3,
                      conversion_rate=0.05, average_order_value_usd=50, gross_margin=0.3,
                      cvr_lift=0.02, one_off_usd=10_000)
    new = old.replace(cvr_lift=0.03, one_off_usd=20_000)
    out = recentre_draws({"cvr_lift": [0.0, 0.02, 0.04], "one_off_usd": [8_000, 10_000, 20_000]},
                         old, new)
    assert np.allclose(out["cvr_lift"], [0.01, 0.03, 0.05])            # shifted by +0.01
    assert np.allclose(out["one_off_usd"], [16_000, 20_000, 40_000])   # scaled by 2


def test_roi_panel_decides_with_the_monte_carlo_and_follows_a_slider():
    from costkit.widgets import roi_panel

    common = dict(sessions_per_month=1e6, searches_per_session=2, click_through_rate=0.3,
                  conversion_rate=0.05, average_order_value_usd=50, gross_margin=0.3)
    cases = {"keep": ck.roi.Case(**common),
             "model": ck.roi.Case(**common, cvr_lift=0.01, one_off_usd=20_000)}
    unc = {"model": {"cvr_lift": ("pert", -0.02, 0.01, 0.03)}}
    panel = roi_panel(cases, chart=False, uncertainty=unc, draws=2_000, seed=1)
    assert "2,000 paired draws" in panel.summary.value
    assert "test model first" in panel.summary.value   # P(gain > 0) 75%: gated on the A/B test
    panel.controls["lift:model"].value = 0.05    # the whole range moves up: now a clear yes
    assert "Deploy model" in panel.summary.value
    with pytest.raises(ValueError, match="not among the cases"):
        roi_panel(cases, chart=False, uncertainty={"modle": unc["model"]})


def test_serving_charts_draw_what_they_are_given():
    sweep = ck.serving.estimate("llama-2-7b", gpu="H100-SXM", batch_size=np.array([1, 8, 64, 512]),
                                oversized="flag", usd_per_gpu_hour=2.0)
    ax = ck.plots.latency_throughput(sweep, slo_s=2.0)
    assert len(ax.lines[0].get_xdata()) == 3            # the batch of 512 does not fit
    assert ax.lines[1].get_ydata()[0] == 2.0             # the SLO line
    ax = ck.plots.serving_memory(sweep)
    assert len(ax.patches) == 8                          # weights + KV for each batch
    gpus = ck.serving.estimate("llama-2-7b", gpu=["H100-SXM", "L40S", "A100-80GB"],
                               usd_per_gpu_hour=2.0)
    ax = ck.plots.serving_cost_by_gpu(gpus)
    assert len(ax.patches) == 3
    plan = ck.capacity.plan(ck.capacity.traffic_profile(2e6), replica_rps=5.0,
                            usd_per_replica_hour=2.0, spot_usd_per_replica_hour=0.8)
    ax = ck.plots.replica_curve(plan)
    assert len(ax.lines) == 4                            # three strategies + the reserved level
    plt.close("all")


# --------------------------------------------------------------------------- tuning, opt


def test_ab_test_panel_shows_the_plan_and_explains_bad_rates():
    from costkit.tuning import ab_test_plan
    from costkit.widgets import ab_test_panel

    panel = ab_test_panel(chart=False)
    p = ab_test_plan(0.03, 0.05, relative=True, daily_units=200_000, traffic_fraction=0.5,
                     requests_per_unit=3.0, treatment_usd_per_1k_requests=0.3,
                     gross_profit_per_conversion_usd=20.0)
    assert f"{p.units_per_arm:,.0f} visitors per arm" in panel.summary.value
    assert f"{p.days:g} days" in panel.summary.value
    panel.controls["lift_pct"].value = 10.0
    q = ab_test_plan(0.03, 0.10, relative=True, daily_units=200_000, traffic_fraction=0.5)
    assert f"{q.units_per_arm:,.0f} visitors per arm" in panel.summary.value
    panel.controls["baseline_pct"].value = 80.0
    panel.controls["lift_pct"].value = 50.0  # 120%: not a rate
    assert "below 1" in panel.message.value and panel.summary.value == ""
    panel.controls["lift_pct"].value = 20.0  # 96%: fine again
    assert panel.message.value == "" and "96.00%" in panel.summary.value
    ab_test_panel()  # with its chart


def test_tuning_and_optimization_charts_draw():
    import matplotlib.pyplot as plt
    import numpy as np

    from costkit import optimization as op
    from costkit import plots
    from costkit import tuning as tu

    searches = [tu.search_cost(s, 143, trial_gpu_hours=10, usd_per_gpu_hour=2)
                for s in tu.STRATEGIES]
    ax = plots.search_strategies(searches)
    assert len(ax.patches) == 5
    assert ax.patches[0].get_height() == 1430
    ax = plots.finetune_methods(tu.finetune_options("llama-3-8b", 5e7, gpu=["H100-SXM", "L40S"],
                                                    usd_per_gpu_hour=3.0))
    assert len(ax.patches) == 6
    ax = plots.ab_sample_size(0.03, np.linspace(0.01, 0.3, 20), daily_units=1e5, mark=0.05)
    assert ax.get_yscale() == "log"
    # the marked lift says both the raw days of traffic and the whole weeks the plan runs
    n = tu.ab_test_sample_size(0.03, 0.05, relative=True)
    plan = tu.ab_test_plan(0.03, 0.05, relative=True, daily_units=1e5)
    label = [t.get_text() for t in ax.texts if "per arm" in t.get_text()][0]
    assert f"{2 * n / 1e5:.1f} days of traffic" in label and f"run {plan.days:g}" in label
    b = op.baseline("bert-base")
    c = op.compare([b, op.quantize(b, "int8", engineering_days=2, usd_per_engineer_day=1000)],
                   monthly_requests=3e8, gpu="L4", seq_len=128, batch_size=64,
                   candidates_per_query=100, usd_per_gpu_hour=0.8,
                   gross_profit_per_1k_requests_usd=50.0)
    plots.optimization_costs(c)
    ax = plots.payback_curve(c, np.logspace(6, 9, 10))
    assert len(ax.get_lines()) == 2  # one variant and the horizon
    ax = plots.accuracy_tradeoff(c, np.linspace(0, 0.01, 11))
    y = ax.get_lines()[0].get_ydata()
    assert y[0] == c.table.monthly_saving_usd.iloc[1]
    assert y[-1] == c.table.monthly_saving_usd.iloc[1] - 0.01 * 50.0 * 3e5
    plt.close("all")


def test_optimization_panel_shows_the_comparison():
    import matplotlib.pyplot as plt

    from costkit import optimization as op
    from costkit.widgets import optimization_panel

    b = op.baseline("bert-base")
    vs = [b, op.quantize(b, "int8", engineering_days=3, usd_per_engineer_day=1000)]
    kw = dict(gpu="L4", seq_len=128, batch_size=100, candidates_per_query=100)
    panel = optimization_panel(vs, chart=False, **kw)
    c = op.compare(vs, monthly_requests=3e8, **kw)
    pb = c.table.payback_months.iloc[1]
    assert f"<td>{pb:,.1f}</td>" in panel.summary.value
    panel.controls["monthly_requests"].value = 1e6
    c = op.compare(vs, monthly_requests=1e6, **kw)
    assert f"<td>{c.table.payback_months.iloc[1]:,.1f}</td>" in panel.summary.value
    panel.controls["profit"].value = 100.0  # no accuracy loss: payback unchanged
    assert f"<td>{c.table.payback_months.iloc[1]:,.1f}</td>" in panel.summary.value
    optimization_panel(vs, **kw)
    plt.close("all")


# --------------------------------------------------------------------------- ROI


def _roi_cases():
    from costkit import roi

    base = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
                horizon_months=12)
    return {"keep": roi.Case(**base, name="keep"),
            "model": roi.Case(**base, cvr_lift=0.01, one_off_usd=5_000,
                              serving_usd_per_1k_searches=0.5, fixed_usd_per_month=1_000,
                              latency_change_ms=30, latency_elasticity_per_100ms=-0.01,
                              name="model")}


def test_roi_panel_shows_the_comparison_and_moves():
    from costkit import roi
    from costkit.widgets import roi_panel

    cases = _roi_cases()
    panel = roi_panel(cases, chart=False)
    t = roi.compare(cases)
    assert f"<td>{t.npv_usd['model']:,.0f}</td>" in panel.summary.value
    assert "Deploy model." in panel.summary.value
    panel.controls["lift:model"].value = 0.0  # no lift: it cannot pay
    assert "Keep the current system." in panel.summary.value
    panel.controls["lift:model"].value = 0.01
    panel.controls["cost_multiplier"].value = 2.0
    doubled = cases["model"].replace(one_off_usd=10_000, serving_usd_per_1k_searches=1.0,
                                     fixed_usd_per_month=2_000)
    assert f"<td>{doubled.evaluate().npv_usd:,.0f}</td>" in panel.summary.value
    panel.controls["conversion_rate"].value = 0.2  # fine, then an impossible lift is explained
    panel.controls["lift:model"].value = 0.08
    panel.controls["conversion_rate"].value = 0.001
    assert panel.message.value == ""
    roi_panel(cases)
    plt.close("all")


def test_roi_charts_draw_what_they_are_given():
    from costkit import plots, roi

    r = _roi_cases()["model"].evaluate()
    ax = plots.cumulative_cash_flow(r)
    line = ax.get_lines()[0]
    assert np.allclose(line.get_ydata(), r.cumulative_usd)
    assert ax.get_lines()[1].get_xdata()[0] == pytest.approx(r.payback_month)
    ax = plots.roi_waterfall(r)
    assert len(ax.patches) == 8
    assert ax.patches[-1].get_height() == pytest.approx(r.npv_usd)
    t = roi.tornado(_roi_cases()["model"])
    ax = plots.tornado(t, top=3)
    assert len(ax.patches) == 6
    mc = roi.monte_carlo(_roi_cases()["model"], {"cvr_lift": ("uniform", 0.0, 0.02)}, n=500)
    ax = plots.npv_histogram(mc, bins=20)
    assert f"{mc.probability_positive:.1%}" in ax.get_title()
    plt.close("all")


# --------------------------------------------------------------------------- monitoring


@pytest.fixture(scope="module")
def week():
    from costkit import monitoring as mo
    from costkit import telemetry as te

    w = mo.synthetic_telemetry(days=7, replicas=20, freq="10min", seed=1)
    tel = te.read_telemetry(w.telemetry)
    hours = w.bill.rename(columns={"ResourceId": "resource_id", "EffectiveCost": "effective_cost",
                                   "BilledCost": "billed_cost", "ChargePeriodStart": "hour"})
    return tel, mo.cost_usage(tel, hours[["resource_id", "hour", "effective_cost",
                                          "billed_cost"]])


def test_monitoring_panel_filters_and_moves_thresholds(week):
    from costkit import monitoring as mo
    from costkit.widgets import monitoring_panel

    _, costed = week
    panel = monitoring_panel(costed, chart=False)
    n_all = len(mo.alerts(costed))
    assert f"<summary>{n_all} alerts" in panel.summary.value
    panel.controls["model"].value = "recommender"
    sel = costed[costed.model == "recommender"]
    assert f"<summary>{len(mo.alerts(sel))} alerts" in panel.summary.value
    cost = mo.chargeback(sel, by=("model",), freq=None).cost_usd.iloc[0]
    assert f"<td>{cost:,.0f}</td>" in panel.summary.value
    panel.controls["low_utilization"].value = 0.0
    assert f"<summary>{len(mo.alerts(sel, low_utilization=0.0))} alerts" in panel.summary.value
    panel.controls["team"].value = "search"  # no recommender in search: explained, not raised
    assert "no usage" in panel.message.value
    monitoring_panel(costed)
    plt.close("all")


def test_monitoring_charts_draw_what_they_are_given(week):
    from costkit import monitoring as mo
    from costkit import plots

    tel, costed = week
    cb = mo.chargeback(costed)
    ax = plots.bill_by_day(cb)
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(costed.cost_usd.sum())
    m = mo.utilization_matrix(tel, model="re-ranker")
    ax = plots.utilization_heatmap(m)
    assert ax.images[0].get_array().shape == m.shape
    ax = plots.idle_money(cb)
    assert len(ax.patches) == 6
    found = mo.alerts(costed)
    ax = plots.alerts_timeline(costed, found)
    assert len(ax.patches) == len(found)
    v = mo.variance_report(mo.Drivers(1000, 100, 0.5, 2.0), mo.Drivers(1200, 80, 0.4, 2.5))
    ax = plots.waterfall(v)
    assert ax.patches[-1].get_height() == pytest.approx(v["actual"])
    plt.close("all")


def test_latency_throughput_rings_the_chosen_batch():
    sweep = ck.serving.estimate("Llama-2-7B", gpu="H100-SXM", batch_size=np.array([1, 4, 16, 64]),
                                usd_per_gpu_hour=1.0)
    fig, ax = plt.subplots()
    ck.plots.latency_throughput(sweep, slo_s=3.0, ax=ax, chosen=16)
    ringed = [ln for ln in ax.get_lines() if ln.get_label() == "chosen batch 16"]
    assert len(ringed) == 1
    x, y = ringed[0].get_data()
    assert x[0] == pytest.approx(np.ravel(sweep.tokens_per_second)[2])
    assert y[0] == pytest.approx(np.ravel(sweep.request_latency_s)[2])
    fig2, ax2 = plt.subplots()
    ck.plots.latency_throughput(sweep, slo_s=3.0, ax=ax2, chosen=64)
    # a different batch moves the ring: the panel's chart follows its slider
    moved = [ln for ln in ax2.get_lines() if ln.get_label() == "chosen batch 64"][0]
    assert moved.get_data()[0][0] != x[0]
    plt.close("all")


def test_payback_labels_do_not_overlap_and_gpu_labels_are_readable():
    from costkit import roi
    from costkit import tuning as tu

    shop = dict(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
                horizon_months=12)
    fig, ax = plt.subplots()
    for case in (roi.Case(**shop), roi.Case(**shop, cvr_lift=0.01, one_off_usd=1e4),
                 roi.Case(**shop, cvr_lift=0.02, one_off_usd=1e4)):
        ck.plots.cumulative_cash_flow(case.evaluate(), ax=ax)
    labels = [t for t in ax.texts if t.get_text().startswith("payback")]
    assert len(labels) == 2                    # today's system (no flows) gets none
    assert len({t.xyann for t in labels}) == 2  # stacked, not on top of each other
    ax = ck.plots.finetune_methods(tu.finetune_options("llama-3-8b", 5e7,
                                                       gpu=["H100-SXM", "L40S"],
                                                       usd_per_gpu_hour=3.0))
    assert all(t.get_color() != "white" for t in ax.texts)
    plt.close("all")


def test_a_cost_variance_waterfall_never_colours_an_increase_green():
    import matplotlib.colors as mc
    import pandas as pd

    steps = pd.Series({"estimate": 100.0, "traffic": 20.0, "price": -5.0, "actual": 115.0})
    steps.attrs["is_total"] = ["estimate", "actual"]
    ax = ck.plots.waterfall(steps, increase_is_good=False)
    rise, fall = ax.patches[1].get_facecolor(), ax.patches[2].get_facecolor()
    assert mc.to_hex(rise) == ck.style.BAD and mc.to_hex(fall) == ck.style.GOOD
    gain = ck.plots.waterfall(steps)            # value: a rise helps
    assert mc.to_hex(gain.patches[1].get_facecolor()) == ck.style.GOOD
    plt.close("all")


def test_waterfall_labels_stay_below_the_title_and_ticks_read_in_k_and_m():
    import pandas as pd

    steps = pd.Series({"gain": 2_407_929.0, "cost": -400_000.0, "NPV": 2_007_929.0})
    steps.attrs["is_total"] = ["gain", "NPV"]
    ax = ck.plots.waterfall(steps, title="t")
    top = max(t.xy[1] for t in ax.texts)
    assert ax.get_ylim()[1] > top * 1.05          # headroom above the highest label
    fmt = ax.yaxis.get_major_formatter()
    assert fmt(2_000_000) == "2 M" and fmt(1_500_000) == "1.5 M" and fmt(250_000) == "250 k"
    plt.close("all")
