"""fit_from_samples: the serving efficiency of your own fleet, from its monitoring samples."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from costkit import serving
from costkit import serving_efficiency as se

MODEL, GPU = "llama-2-7b", "H100-SXM"


def _samples(truth, *, n=240, n_gpus=1, sigma=0.0, seed=0, batches=(1, 4, 16, 48, 96, 128),
             prompts=(128, 640)):
    """Monitoring samples generated at a known efficiency (costkit's own generator)."""
    return se.synthetic_samples(MODEL, gpu=GPU, efficiency=truth, n=n, n_gpus=n_gpus,
                                batch_sizes=batches, prompt_tokens=prompts,
                                output_tokens=(32, 160), noise_sigma=sigma, seed=seed)


TRUTH = replace(se.default(), compute_max=0.33, bandwidth_max=0.55)


def test_a_known_efficiency_is_recovered_from_noisy_samples():
    f = se.fit_from_samples(_samples(TRUTH, sigma=0.05), MODEL, gpu=GPU)
    assert f.compute_max == pytest.approx(0.33, rel=0.05)
    assert f.bandwidth_max == pytest.approx(0.55, rel=0.05)
    assert f.n_rows == 240 and "240 monitoring samples" in f.fitted_on
    # the range comes from the out-of-sample residuals: about +-1.28 sigma of the noise
    assert np.exp(f.residual_high - f.residual_low) == pytest.approx(np.exp(2 * 1.28 * 0.05),
                                                                    rel=0.05)


def test_the_range_covers_new_samples_from_the_same_fleet():
    f = se.fit_from_samples(_samples(TRUTH, sigma=0.1, seed=1), MODEL, gpu=GPU)
    new = _samples(TRUTH, sigma=0.1, seed=2, n=400)
    e = serving.estimate(MODEL, gpu=GPU, batch_size=new.batch_size,
                         prompt_tokens=new.prompt_tokens, output_tokens=new.output_tokens,
                         efficiency=f, usd_per_gpu_hour=1.0)
    lo, hi = e.tokens_per_second_low, e.tokens_per_second_high
    y = new.output_tokens_per_s_per_gpu.to_numpy()
    assert 0.7 <= np.mean((y >= lo) & (y <= hi)) <= 0.9


def test_estimates_accept_the_fit_and_change_with_it():
    s = _samples(TRUTH)
    f = se.fit_from_samples(s, MODEL, gpu=GPU)
    kw = dict(gpu=GPU, batch_size=s.batch_size, prompt_tokens=s.prompt_tokens,
              output_tokens=s.output_tokens, usd_per_gpu_hour=2.0)
    mine = serving.estimate(MODEL, efficiency=f, **kw)
    ratio = np.asarray(mine.tokens_per_second) / s.output_tokens_per_s_per_gpu.to_numpy()
    assert np.median(np.abs(np.log(ratio))) < 0.03
    bundled = serving.estimate(MODEL, **kw)     # the bundled fit is faster than this fleet
    assert np.median(np.asarray(bundled.tokens_per_second) / mine.tokens_per_second) > 1.2
    assert "monitoring samples" in mine.assumptions["efficiency"]


def test_tensor_parallel_samples_are_per_gpu():
    f = se.fit_from_samples(_samples(TRUTH, n_gpus=2, n=120), MODEL, gpu=GPU, n_gpus=2)
    assert f.bandwidth_max == pytest.approx(0.55, rel=0.05)
    assert f.compute_max == pytest.approx(0.33, rel=0.05)


def test_a_term_the_samples_cannot_see_keeps_the_base_value():
    s = _samples(TRUTH, batches=(1,), prompts=(1, 3), n=30)  # batch 1, no prefill: memory only
    f = se.fit_from_samples(s, MODEL, gpu=GPU)
    assert f.compute_max == se.default().compute_max
    assert f.bandwidth_max == pytest.approx(0.55, rel=0.05)
    assert "compute share unseen" in f.fitted_on


def test_the_table_round_trips(tmp_path):
    s = _samples(TRUTH, n=60)
    f = se.fit_from_samples(s, MODEL, gpu=GPU)
    p = tmp_path / "fleet.csv"
    se.write(f, p, "our fleet, week 48")
    g = se.read(p)
    a = serving.estimate(MODEL, gpu=GPU, batch_size=32, efficiency=f, usd_per_gpu_hour=1.0)
    b = serving.estimate(MODEL, gpu=GPU, batch_size=32, efficiency=g, usd_per_gpu_hour=1.0)
    assert a.tokens_per_second == pytest.approx(b.tokens_per_second, rel=1e-12)
    assert g.architectures == ("Hopper",) and g.vendors == ("NVIDIA",)


def test_another_generation_gets_a_wider_range():
    f = se.fit_from_samples(_samples(TRUTH, sigma=0.05, n=60), MODEL, gpu=GPU)
    lo, hi = f.range_factors(["NVIDIA", "NVIDIA"], ["Hopper", "Ampere"])
    assert hi[1] / lo[1] > hi[0] / lo[0]


@pytest.mark.parametrize("change, match", [
    (lambda s: s.drop(columns="batch_size"), "lack the column"),
    (lambda s: s.assign(prompt_tokens=s.prompt_tokens.astype(float).mask(s.index == 3)),
     "row 3, column 'prompt_tokens'"),
    (lambda s: s.assign(output_tokens_per_s_per_gpu=-s.output_tokens_per_s_per_gpu),
     "row 0, column 'output_tokens_per_s_per_gpu'"),
    (lambda s: s.assign(batch_size=s.batch_size + 0.5), "whole number"),
    (lambda s: s.assign(batch_size=5000), "does not fit"),
    (lambda s: s.iloc[:0], "0 rows"),
    (lambda s: pd.concat([s] * 30, ignore_index=True), "6,000 rows"),
    (lambda s: s.assign(batch_size="x"), "must hold numbers"),
])
def test_bad_samples_are_refused_with_their_row(change, match):
    with pytest.raises(ValueError, match=match):
        se.fit_from_samples(change(_samples(TRUTH, n=200)), MODEL, gpu=GPU)


def test_bad_arguments():
    s = _samples(TRUTH, n=10)
    with pytest.raises(ValueError, match="n_gpus"):
        se.fit_from_samples(s, MODEL, gpu=GPU, n_gpus=0)
    with pytest.raises(TypeError, match="base"):
        se.fit_from_samples(s, MODEL, gpu=GPU, base=0.5)
    with pytest.raises(LookupError):
        se.fit_from_samples(s, MODEL, gpu="H1000")
