"""End to end in a real browser: the serving notebook in JupyterLab, the Voilà dashboard and the
HTML report, each in Debian's Chromium. A widget counts as rendered when its controls are on the
page and no "Loading widget..." or error placeholder is left; moving a slider must change the
numbers shown. Screenshots go to build/browser/ (or $COSTKIT_SCREENSHOTS)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from costkit.scenario import Scenario

from .conftest import ROOT

pytestmark = pytest.mark.browser

PLACEHOLDERS = re.compile(r"Loading widget|Error displaying widget|model not found", re.I)


def _assert_widgets_rendered(page, scope):
    body = scope.inner_text()
    assert not PLACEHOLDERS.search(body), "a widget did not render: " + \
        PLACEHOLDERS.search(body).group(0)
    assert scope.locator(".widget-slider, .widget-hslider").count() > 0


def _nudge(page, slider, presses=4):
    """Move an ipywidgets slider as a person would: focus its handle, press the arrow keys."""
    handle = slider.locator(".noUi-handle").first
    handle.click()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def _wait_changed(page, locator, before, timeout_ms=60_000, quiet_ms=2_000):
    """Wait until ``locator``'s text differs from ``before`` and has stopped changing (each key
    press is one update, computed by the kernel in turn)."""
    page.wait_for_function(
        "([el, before]) => el && el.innerText.trim() !== '' && el.innerText !== before",
        arg=[locator.element_handle(), before], timeout=timeout_ms)
    last, stable_since = locator.inner_text(), 0
    while stable_since < quiet_ms:
        page.wait_for_timeout(250)
        now = locator.inner_text()
        stable_since = stable_since + 250 if now == last else 0
        last = now
    return last


SCREEN = {"width": 1366, "height": 768}
"""A laptop screen: every panel shows its controls and its chart together on it."""

PANEL_NOTEBOOKS = ["01_cost_accounting", "02_training_cost", "03_serving_cost", "04_tuning_cost",
                   "05_optimization", "06_roi_case_study", "07_monitoring"]


def _scroll_to(page, panel):
    """Scroll the panel's top to the top of the window (of the area that scrolls)."""
    for _ in range(3):   # JupyterLab sizes cells lazily: scroll, let it lay out, scroll again
        panel.evaluate(
            """el => {
                // the nearest ancestor that scrolls: JupyterLab's notebook area, Voila's
                // page body, or the document
                let s = el.parentElement;
                while (s && !(s.scrollHeight > s.clientHeight + 1
                              && /(auto|scroll)/.test(getComputedStyle(s).overflowY))) {
                    s = s.parentElement;
                }
                s = s || document.scrollingElement;
                const top = s === document.scrollingElement ? 0 : s.getBoundingClientRect().top;
                s.scrollTop += el.getBoundingClientRect().top - top - 4;
            }""")
        page.wait_for_timeout(400)


def _assert_controls_and_chart_on_one_screen(page, panel, *, result_area=True):
    """With the panel's top at the top of the window, its first and last control, its
    chart and its result area (the numbers) must all lie inside the 1366 x 768 window, the
    result area showing its whole width."""
    _scroll_to(page, panel)
    left = panel.locator(":scope > .widget-vbox").first   # the controls' column
    inputs = left.locator(".widget-slider, .widget-hslider, .widget-dropdown, .widget-text")
    chart = panel.locator(".widget-output img").first
    boxes = {"first control": inputs.first.bounding_box(),
             "last control": inputs.last.bounding_box(), "chart": chart.bounding_box()}
    if result_area:
        summary = panel.locator(".costkit-summary").first   # the answer: the panel's numbers
        boxes["result area"] = summary.bounding_box()
        hidden = summary.evaluate("el => el.scrollWidth - el.clientWidth")
        assert hidden <= 1, f"the panel's result area hides {hidden} px at the right"
    for what, b in boxes.items():
        assert b is not None, f"the panel's {what} is not drawn"
        assert b["y"] >= -1 and b["y"] + b["height"] <= SCREEN["height"] + 1, \
            f"the panel's {what} is out of the {SCREEN['height']}-px screen: {b}"
        assert b["x"] >= -1 and b["x"] + b["width"] <= SCREEN["width"] + 1, \
            f"the panel's {what} is out of the {SCREEN['width']}-px screen: {b}"


def _run_all(page, jupyterlab, notebook):
    # a workspace of its own, reset: JupyterLab would otherwise reopen the notebooks of the
    # earlier tests beside this one (hidden tabs whose panels match the same selectors)
    page.goto(f"{jupyterlab.url}/lab/workspaces/{notebook}/tree/{notebook}.ipynb"
              f"?reset&token={jupyterlab.token}")
    page.locator(".jp-Notebook").wait_for()
    page.get_by_text(re.compile(r"Python \(costkit\) \| Idle")).wait_for(timeout=120_000)
    # the stored outputs go first, so that every panel found below is one this run drew
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Edit$")).click()
    page.locator(".lm-Menu-itemLabel",
                 has_text=re.compile(r"^Clear Outputs of All Cells$")).click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


@pytest.mark.parametrize("notebook", PANEL_NOTEBOOKS)
def test_every_panel_fits_a_laptop_screen_in_jupyterlab(page, jupyterlab, shots, notebook):
    page.set_viewport_size(SCREEN)
    _run_all(page, jupyterlab, notebook)
    panel = page.locator(".jp-OutputArea-output .costkit-panel").last
    # attached first: JupyterLab does not lay out cells far from the view until scrolled to
    panel.wait_for(state="attached", timeout=240_000)
    page.get_by_text(re.compile(r"Python \(costkit\) \| Idle")).wait_for(timeout=240_000)
    _scroll_to(page, panel)
    panel.locator(".widget-output img").first.wait_for(timeout=120_000)
    _assert_widgets_rendered(page, panel)
    _assert_controls_and_chart_on_one_screen(page, panel)
    page.screenshot(path=str(shots / f"jupyterlab-{notebook[:2]}-panel-1366x768.png"))


def test_serving_notebook_in_jupyterlab(page, jupyterlab, shots):
    _run_all(page, jupyterlab, "03_serving_cost")   # the kernel is up when the status says Idle
    # the serving panel: its sliders, then its summary (the capacity plan's table)
    panel = page.locator(".jp-OutputArea-output .costkit-panel").last
    panel.wait_for(timeout=240_000)
    summary = panel.locator(".widget-html", has_text="replicas at peak").first
    summary.wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"Python \(costkit\) \| Idle")).wait_for(timeout=240_000)
    panel.scroll_into_view_if_needed()
    _assert_widgets_rendered(page, panel)
    before = summary.inner_text()
    slider = panel.locator(".widget-hslider, .widget-slider",
                           has_text="requests/day").first
    _nudge(page, slider, presses=6)
    after = _wait_changed(page, summary, before)
    assert after != before
    panel.locator(".widget-output img").first.wait_for()   # the latency-throughput chart
    peaks = [re.search(r"peak ([\d,.]+) requests/s", t).group(1) for t in (before, after)]
    assert float(peaks[1].replace(",", "")) > float(peaks[0].replace(",", ""))
    panel.screenshot(path=str(shots / "jupyterlab-03-serving-panel.png"))
    page.screenshot(path=str(shots / "jupyterlab-03.png"))
    # no cell failed on the way
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                        ).filter(has_text="Traceback").count() == 0


def test_roi_dashboard_in_voila(page, voila, shots):
    page.set_viewport_size(SCREEN)
    page.goto(f"{voila.url}/voila/render/06_roi_case_study.ipynb")
    panel = page.locator(".costkit-panel").last
    panel.wait_for(timeout=300_000)
    summary = panel.locator(".widget-html", has_text="NPV").first
    summary.wait_for(timeout=120_000)
    # Voilà shows outputs only: no code cells
    assert page.locator(".jp-CodeMirrorEditor, .cm-editor, .jp-CodeCell .jp-InputArea"
                        ).count() == 0
    text = page.locator("body").inner_text()
    assert "import costkit" not in text and "roi_panel(" not in text
    _assert_widgets_rendered(page, panel)
    before = summary.inner_text()
    slider = panel.locator(".widget-hslider, .widget-slider", has_text="average order").first
    _nudge(page, slider, presses=5)
    after = _wait_changed(page, summary, before)
    assert after != before
    panel.locator(".widget-output img").first.wait_for()   # the cumulative cash flows
    _scroll_to(page, panel)
    page.screenshot(path=str(shots / "voila-06-roi-panel-1366x768.png"), full_page=False)
    _assert_controls_and_chart_on_one_screen(page, panel)


def test_html_report_opens_with_every_section(page, tmp_path, shots):
    from costkit.report import SECTIONS

    out = tmp_path / "report.html"
    res = subprocess.run([sys.executable, "-m", "costkit", "report",
                          str(ROOT / "examples" / "ecommerce.yaml"), "--out", str(out),
                          "--draws", "20000"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    page.goto(out.as_uri())
    for sid, title in SECTIONS:
        heading = page.locator(f"section#{sid} h2")
        assert heading.inner_text() == title
        assert heading.is_visible()
    charts = page.locator("section svg")
    assert charts.count() >= 6
    box = charts.first.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    case = Scenario.from_yaml(ROOT / "examples" / "ecommerce.yaml").evaluate(draws=0)
    npv = f"{case.table.loc['LLM rewriter + re-ranker', 'npv_usd']:,.0f}"
    assert npv in page.locator("section#summary").inner_text()
    page.screenshot(path=str(shots / "report.png"), full_page=True)
