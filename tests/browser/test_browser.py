"""End to end in a real browser: the serving notebook in JupyterLab, the Voilà dashboard and the
HTML report, each in Debian's Chromium. A widget counts as rendered when its controls are on the
page and no "Loading widget..." or error placeholder is left; moving a slider must change the
numbers shown. Screenshots go to build/browser/ (or $COSTKIT_SCREENSHOTS)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

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


def test_serving_notebook_in_jupyterlab(page, jupyterlab, shots):
    page.goto(f"{jupyterlab.url}/lab/tree/03_serving_cost.ipynb?token={jupyterlab.token}")
    page.locator(".jp-Notebook").wait_for()
    # the kernel is up when the status bar says Idle
    page.get_by_text(re.compile(r"Python \(costkit\) \| Idle")).wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # the serving panel: its sliders, then its summary (the capacity plan's table)
    panel = page.locator(".jp-OutputArea-output .widget-vbox", has=page.locator(
        ".widget-slider, .widget-hslider")).last
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
    page.goto(f"{voila.url}/voila/render/06_roi_case_study.ipynb")
    panel = page.locator(".widget-vbox", has=page.locator(".widget-hslider, .widget-slider")
                         ).last
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
    panel.screenshot(path=str(shots / "voila-06-roi-panel.png"))
    page.screenshot(path=str(shots / "voila-06.png"), full_page=False)


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
    assert "1,502,003" in page.locator("section#summary").inner_text()
    page.screenshot(path=str(shots / "report.png"), full_page=True)
