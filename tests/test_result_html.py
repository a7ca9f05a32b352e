"""Result objects render as compact HTML in a notebook: values with units, assumptions folded."""

import numpy as np

import costkit as ck


def test_training_and_serving_render_values_units_and_folded_assumptions():
    t = ck.training.estimate(model="llama-2-7b", tokens=1e12, gpu="H100", usd_per_gpu_hour=2.0)
    h = t._repr_html_()
    assert "<details><summary>assumptions" in h and f"{t.gpu_hours:,.0f}" in h
    assert "H100-SXM-hours" in h and "goodput" in h and "USD" in h
    s = ck.serving.estimate("llama-2-7b", gpu="H100", batch_size=8, usd_per_gpu_hour=2.0)
    h = s._repr_html_()
    assert "time per output token" in h and "USD per 1,000 requests" in h
    for r in (ck.serving.encoder_estimate("bert-base", usd_per_gpu_hour=1.0),
              ck.serving.recommender_estimate(usd_per_gpu_hour=1.0)):
        assert "<caption>" in r._repr_html_()


def test_arrays_render_as_a_short_table_and_names_are_escaped():
    s = ck.serving.estimate("llama-2-7b", gpu="H100", batch_size=np.arange(1, 40),
                            usd_per_gpu_hour=2.0)
    h = s._repr_html_()
    assert "39 configurations" in h and "19 more rows" in h
    t = ck.training.estimate(7e9, 1e11, gpu="H100", usd_per_gpu_hour=1.0)
    object.__setattr__(t, "label", "<script>alert(1)</script>")
    h = t._repr_html_()
    assert "<script>" not in h and "&lt;script&gt;" in h


def test_roi_and_capacity_render():
    c = ck.roi.Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
                    conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
                    cvr_lift=0.01, one_off_usd=1e4)
    h = c.evaluate()._repr_html_()
    assert "above 1,000%" in h and "break-even lift" in h
    e = ck.serving.estimate("llama-2-7b", gpu="H100", batch_size=8, usd_per_gpu_hour=2.0)
    p = ck.capacity.plan(ck.capacity.traffic_profile(2e6), e, slo_s=3.0)
    assert f"cheapest {p.cheapest}" in p._repr_html_()
