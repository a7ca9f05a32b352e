"""The validation report: out-of-sample training error, serving families, the temporal split."""

import numpy as np
import pytest

import costkit as ck
from costkit import validation as va
from costkit.mfu import training_runs


def test_training_report_is_out_of_sample_and_meets_its_bar():
    for attention in (False, True):
        c = va.training_report(attention=attention, peers=False)
        s = va.summary(c["loo_ratio"], c["covered"])
        assert s["n"] == len(training_runs())
        assert s["median_abs_error"] <= 0.16
        assert 0.7 <= s["coverage_80"] <= 0.9
        assert va.summary(c["in_sample_ratio"])["median_abs_error"] <= s["median_abs_error"]
    assert "family" in c and (c.loc[c.run == "Pythia-70M", "family"] == "Pythia").all()


def test_summary_by_hand():
    s = va.summary([1.0, 1.1, 0.7, 2.0], covered=[True, True, False, True])
    assert s["median_abs_error"] == pytest.approx(np.median([0, 0.1, 0.3, 1.0]))
    assert s["within_25pct"] == 0.5 and s["coverage_80"] == 0.75 and s["n"] == 4


def test_serving_report_is_out_of_sample_per_family_with_ranges_that_hold():
    df = va.serving_report(peers=False)
    assert len(df) == len(va.serving_benchmarks())
    for fam, g in df.groupby("family"):
        assert 0.8 <= g["calibrated_ratio"].median() <= 1.25, fam
    for vendor, g in df.groupby("vendor"):
        assert 0.8 <= g["calibrated_ratio"].median() <= 1.25, vendor
    assert 0.7 <= df["covered"].mean() <= 0.9
    assert ((df.low <= df.calibrated) & (df.calibrated <= df.high)).all()
    # the in-sample fit is at least as close as the leave-one-out predictions
    s_in, s_loo = va.summary(df.in_sample_ratio), va.summary(df.calibrated_ratio)
    assert s_in["median_abs_error"] <= s_loo["median_abs_error"]
    # the roofline column is costkit's own estimate at calibrated=False, by hand for a BERT row
    row = df[df.case == "MLPerf v4.0 BERT-99 H100"].iloc[0]
    e = ck.serving.encoder_estimate("bert-large", seq_len=384, batch_size=1024, gpu="H100",
                                    dtype="int8", effective_seq_len=177, usd_per_gpu_hour=0.0,
                                    calibrated=False)
    assert row.roofline == pytest.approx(e.sequences_per_second)
    # the roofline alone is far off on average; the calibrated model is not
    assert va.summary(df.roofline_ratio)["median_abs_error"] > 2 * s_loo["median_abs_error"]


def test_serving_forward_check_fits_before_v4_and_predicts_v4():
    f = va.serving_forward()
    assert set(f["round"]) == {"v4.0"} and len(f) == 6
    assert 0.8 <= f["ratio"].median() <= 1.25
    assert "20 published figures" in f.attrs["model"]
    text = va._format_serving(va.serving_report(peers=False), f)
    assert "forward check" in text and "vendor NVIDIA" in text


def test_the_evidence_respects_the_temporal_split():
    runs = training_runs()
    late = runs[runs.published.astype(str) >= "2024-07-01"]
    assert list(late.run) == ["Llama-3.1-405B"]  # the one row the table had before the rule
    b = va.serving_benchmarks()
    assert set(b["round"][b.family.str.startswith("MLPerf")]) <= {"v3.1", "v4.0"}
    assert (b.published_date.astype(str) < "2024-07-01").all()


def test_own_benchmark_file_is_validated(tmp_path):
    f = tmp_path / "mine.csv"
    src = ck.catalog.bundled_path("serving_benchmarks.csv").read_text().splitlines()
    f.write_text("\n".join(src[:2]).replace(",llm,", ",gpu,", 1) + "\n")
    with pytest.raises(ck.DataFileError, match="column 'kind'"):
        va.serving_benchmarks(f)


def test_predicted_vs_published_chart_draws_points_band_and_intervals():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ck.plots.predicted_vs_published([10, 100, 1000], [12, 90, 1500], groups=["a", "a", "b"],
                                    low=[8, 70, 1000], high=[15, 120, 2000], unit="h", ax=ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "±25%" in labels and "a" in labels and "b" in labels
    assert "published [h]" in ax.get_xlabel()
    plt.close(fig)


def test_training_ranges_hold_out_of_time():
    from costkit import mfu

    f = mfu.forward_check()
    assert (f["published"].astype(str) >= "2024-01-01").all() and f.attrs["fitted_on"] >= 20
    assert 0.7 <= f["covered"].mean() <= 0.9
    # the fit never sees the runs it predicts: change one, the others' predictions stay
    m = mfu.efficiency_model()
    assert m.range_basis == "forward"
    fwd = m.forward["forward_ratio"]
    assert fwd.notna().sum() >= mfu.MIN_FORWARD
    # the first runs (fewer than MIN_HISTORY before them) have no forward prediction
    first = m.forward.sort_values("published").head(mfu.MIN_HISTORY)
    assert first["forward_ratio"].isna().all()
    # the range is the forward residuals' 10th-90th percentile, wider than leave-one-out's
    r = np.log(1 / fwd.dropna().to_numpy())
    assert m.residual_low == pytest.approx(np.quantile(r, 0.1))
    assert m.residual_high == pytest.approx(np.quantile(r, 0.9))
    loo = np.log(1 / m.loo["ratio"].to_numpy())
    assert m.residual_high - m.residual_low > 1.5 * np.subtract(*np.quantile(loo, [0.9, 0.1]))
    text = va._format_training_forward()
    assert "training out of time" in text and "cover" in text
