"""Out-of-sample validation: costkit's estimates against published figures it was not fitted to.

Two reports, each a table you can rerun (``make validate`` or
``python -m costkit.validation``):

- :func:`training_report`: every published training run in
  ``data/training_runs.csv`` predicted by the efficiency model fitted
  *without* it (leave-one-out), with its nominal 80% interval from the other
  runs' leave-one-out residuals (nested), next to the in-sample fit; and, when
  the optional peer is installed (``pip install 'costkit[peers]'``), the
  GPU-hours llm-analysis predicts for the runs it has a model config for.
- :func:`serving_report`: every published serving figure in
  ``data/serving_benchmarks.csv`` (MLPerf Inference rounds up to and including
  v4.0; NVIDIA's TensorRT and TensorRT-LLM performance tables) predicted by
  costkit's roofline with its default utilisations (``roofline``), and after
  a per-family factor fitted on the *other* rows of the family
  (``calibrated``). The factor says what the roofline misses in that family
  (MLPerf BERT skips padding; MLPerf DLRM counts a user's query of many
  items as one sample; GPT-J's dataset prompts are shorter than the 1,919-token
  maximum the row assumes) and is printed, never hidden.

MLPerf rounds v4.1 and later, and training runs published after 2024-06-30
(other than the Llama 3.1 row the table already had), are deliberately not
here: they are kept to measure the model forward.

Summary statistics: median absolute error (``|predicted / published - 1|``), the
share within ±25%, and the coverage of the nominal 80% intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .serving_evidence import BENCHMARK_SCHEMA, _given, serving_benchmarks

if TYPE_CHECKING:
    from ._typing import Frame, NDArray, Series, StrPath

__all__ = ["BENCHMARK_SCHEMA", "FORWARD_BEFORE", "LLM_ANALYSIS_MODELS", "serving_benchmarks",
           "serving_forward", "serving_report", "summary", "training_report"]

LLM_ANALYSIS_MODELS = {
    "LLaMA-7B": "decapoda-research_llama-7b-hf", "LLaMA-13B": "decapoda-research_llama-13b-hf",
    "LLaMA-33B": "decapoda-research_llama-30b-hf", "LLaMA-65B": "decapoda-research_llama-65b-hf",
    "Llama-2-7B": "NousResearch_Llama-2-7b-hf", "Llama-2-70B": "upstage_Llama-2-70b-instruct-v2",
    "OPT-175B": "facebook_opt-175b", "BLOOM-176B": "bloom-175b",
}
"""Training runs with a model config bundled in llm-analysis 0.2.2 (no network needed)."""

_LLM_ANALYSIS_GPUS = {"A100-80GB": "a100-sxm-80gb", "A100-40GB": "a100-sxm-40gb",
                      "H100-SXM": "h100-sxm-80gb", "V100-32GB": "v100-sxm-32gb"}


def summary(ratio: NDArray[np.float64] | Series,
            covered: NDArray[np.bool_] | Series | None = None) -> dict:
    """Median absolute error, share within ±25% and interval coverage. [unitless]

    ``ratio`` is predicted / published; ``covered`` (optional) says which intervals held.

    Parameters
    ----------
    ratio : ndarray or Series
        Predicted / published, one per case.
    covered : ndarray or Series of bool, optional
        Whether each case's interval held the published figure; default none.

    Returns
    -------
    dict
        Median absolute error, share within ±25% and interval coverage. [unitless]

    Examples
    --------
    >>> import numpy as np
    >>> s = summary(np.array([0.9, 1.1, 1.5]), np.array([True, True, False]))
    >>> round(s["median_abs_error"], 2), round(s["coverage_80"], 2)
    (0.1, 0.67)
    """
    r = np.asarray(ratio, dtype=float)
    r = r[np.isfinite(r)]
    out = {"n": int(r.size), "median_abs_error": float(np.median(np.abs(r - 1))),
           "within_25pct": float(np.mean(np.abs(r - 1) <= 0.25)),
           "median_ratio": float(np.median(r))}
    if covered is not None:
        out["coverage_80"] = float(np.mean(np.asarray(covered, dtype=bool)))
    return out


# --------------------------------------------------------------------------- training


def _peer_gpu_hours(row, flops_efficiency):
    """llm-analysis 0.2.2's GPU-hours for a run, or NaN where it has no config."""
    from llm_analysis.analysis import train  # the optional peer

    name = LLM_ANALYSIS_MODELS.get(row.run)
    gpu = _LLM_ANALYSIS_GPUS.get(row.gpu)
    if name is None or gpu is None or not _given(row.seq_len):
        return float("nan")
    n_gpus = int(row.n_gpus) if _given(row.n_gpus) else 2048
    for tp in (1, 8):  # ZeRO-3 data parallel; 8-way tensor parallel if no batch fits
        try:
            r = train(model_name=name, gpu_name=gpu, dtype_name="w16a16e16",
                      log_level="ERROR", seq_len=int(row.seq_len),
                      total_num_tokens=int(row.tokens), total_num_gpus=n_gpus,
                      global_batch_size=n_gpus // tp, tp_size=tp, ds_zero=3,
                      flops_efficiency=flops_efficiency)
        except (StopIteration, AssertionError, ValueError, TypeError):
            continue
        return float(r["gpu_hours"])
    return float("nan")


def training_report(*, attention: bool = True, peers: bool = True, path: StrPath | None = None,
                    gpu_path: StrPath | None = None) -> Frame:
    """Per published run: in-sample and leave-one-out GPU-hours, the nested 80% interval.

    Columns as :func:`costkit.mfu.calibration`, plus ``family`` (the run's
    name up to its size) and, with ``peers`` and llm-analysis installed,
    ``llm_analysis_gpu_hours`` at its default efficiency (1.0) and
    ``llm_analysis_0.5_gpu_hours`` at 0.5, with their ratios.

    Parameters
    ----------
    attention : bool, default True
        Count the attention FLOPs (12·L·d·s per token) beside 6·N·D.
    peers : bool, default True
        Also run the peer model llm-analysis where it is installed.
    path : str or Path, optional
        Your own training-run table; default the bundled runs.
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.

    Returns
    -------
    DataFrame
        Per published run: in-sample and leave-one-out GPU-hours, the nested 80% interval.

    Examples
    --------
    >>> t = training_report(peers=False)
    >>> len(t) >= 30, bool(t["covered"].mean() > 0.5)
    (True, True)
    """
    from .mfu import calibration, training_runs

    c = calibration(attention=attention, path=path, gpu_path=gpu_path)
    c.insert(1, "family", c["run"].str.replace(r"-[\d.]+[BM]$", "", regex=True))
    if peers:
        try:
            import llm_analysis  # noqa: F401
        except ImportError:
            return c
        import contextlib
        import io
        import logging

        logging.getLogger("llm_analysis").setLevel(logging.ERROR)
        runs = training_runs(path, gpu_path=gpu_path).set_index("run").loc[c["run"]]
        for eff, col in ((1.0, "llm_analysis_gpu_hours"), (0.5, "llm_analysis_0.5_gpu_hours")):
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                c[col] = [_peer_gpu_hours(r, eff) for r in runs.reset_index().itertuples()]
            c[col.replace("gpu_hours", "ratio")] = c[col] / c["gpu_hours"]
    return c


# --------------------------------------------------------------------------- serving


def _batch_used(row) -> int:
    """The batch a benchmark row runs at (MLPerf Offline: the largest that fits, at most 1024)."""
    from .serving_efficiency import _row_batch

    if row.kind != "llm":
        return int(row.batch_size)
    llm = dict(gpu=row.gpu, n_gpus=int(row.n_gpus), dtype=row.dtype,
               kv_dtype=row.kv_dtype if _given(row.kv_dtype) else None,
               prompt_tokens=int(row.prompt_tokens), output_tokens=int(row.output_tokens),
               n_beams=int(row.n_beams) if _given(row.n_beams) else 1,
               usable_memory_fraction=(float(row.usable_memory_fraction)
                                       if _given(row.usable_memory_fraction) else 0.9))
    return _row_batch(row, llm)


_LLM_ANALYSIS_SERVING = {"Llama-2-7B": "decapoda-research_llama-7b-hf",
                         "Llama-2-13B": "decapoda-research_llama-13b-hf",
                         "Llama-2-70B": "upstage_Llama-2-70b-instruct-v2",
                         "GPT-J-6B": "EleutherAI_gpt-j-6b"}


def _peer_serving(row, batch) -> float:
    """llm-analysis 0.2.2's throughput for an LLM row (its defaults), or NaN."""
    from llm_analysis.analysis import infer

    name, gpu = _LLM_ANALYSIS_SERVING.get(row.model), _LLM_ANALYSIS_GPUS.get(row.gpu)
    if row.kind != "llm" or name is None or gpu is None:
        return float("nan")
    eight = row.dtype in ("fp8", "int8")
    try:
        r = infer(model_name=name, gpu_name=gpu, dtype_name="w8a8e16" if eight else "w16a16e16",
                  log_level="ERROR", batch_size_per_gpu=max(1, batch // int(row.n_gpus)),
                  tp_size=int(row.n_gpus), seq_len=int(row.prompt_tokens),
                  num_tokens_to_generate=int(row.output_tokens),
                  kv_cache_dtype_bytes=1 if row.kv_dtype == "fp8" else 2)
    except (StopIteration, AssertionError, ValueError, TypeError, ZeroDivisionError):
        return float("nan")
    per_replica = float(r["total_tokens_per_sec"]) * int(row.n_gpus)
    if row.metric == "requests_per_s":
        return per_replica / int(row.output_tokens)
    return per_replica


FORWARD_BEFORE = "2024-03-27"
"""The serving forward check fits on figures published before MLPerf Inference v4.0's date."""


def serving_report(path: StrPath | None = None, *, peers: bool = True) -> Frame:
    """Per published serving figure: the roofline, the calibrated model in and out of sample.

    ``roofline`` is the plain roofline (``calibrated=False``); ``in_sample``
    the efficiency model fitted on every row
    (:func:`costkit.serving_efficiency.fit`); ``calibrated`` the row predicted
    by the model fitted *without* it (leave-one-out), with ``low`` / ``high``
    its nominal 80% range from the other rows' leave-one-out residuals and
    ``covered`` whether the published figure lies in it. Ratios are
    predicted / published. ``vendor`` is the GPU's.

    Parameters
    ----------
    path : str or Path, optional
        Your own benchmark table; default ``data/serving_benchmarks.csv``.
    peers : bool, default True
        Also run the peer model llm-analysis where it is installed.

    Returns
    -------
    DataFrame
        Per published serving figure: the roofline and the calibrated prediction in and out
        of sample, with its range.

    Examples
    --------
    >>> r = serving_report(peers=False)
    >>> bool((r["calibrated_ratio"] > 0).all()), 0.5 < float(r["covered"].mean()) <= 1
    (True, True)
    """
    from . import serving_efficiency as se
    from .catalog import gpu as lookup

    df = serving_benchmarks(path)
    df["vendor"] = [lookup(g).vendor for g in df["gpu"]]
    df["batch_used"] = [_batch_used(r) for r in df.itertuples()]
    df["roofline"] = se.predict_rows(df, None)
    df["roofline_ratio"] = df["roofline"] / df["published"]
    loo = se.leave_one_out(df)
    df["in_sample"] = loo["in_sample"]
    df["in_sample_ratio"] = df["in_sample"] / df["published"]
    df["calibrated"], df["low"], df["high"] = loo["loo"], loo["low"], loo["high"]
    df["calibrated_ratio"] = df["calibrated"] / df["published"]
    df["covered"] = loo["covered"]
    if peers:
        try:
            import llm_analysis  # noqa: F401
        except ImportError:
            return df
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            df["llm_analysis"] = [_peer_serving(r, int(b)) for r, b in
                                  zip(df.itertuples(), df["batch_used"], strict=True)]
        df["llm_analysis_ratio"] = df["llm_analysis"] / df["published"]
    return df


def serving_forward(path: StrPath | None = None, *, before: str = FORWARD_BEFORE) -> Frame:
    """The serving forward check: fit on figures published before ``before``, predict the rest.

    With the default, the model is fitted on MLPerf v3.1 and the vendor tables
    of 2023 and predicts MLPerf v4.0 (its published figures never seen).

    Parameters
    ----------
    path : str or Path, optional
        Your own benchmark table; default ``data/serving_benchmarks.csv``.
    before : str, default "2024-03-27"
        The first publication date predicted (YYYY-MM-DD).

    Returns
    -------
    DataFrame
        The later rows with ``predicted``, ``low``, ``high``, ``ratio`` and ``covered``.

    Examples
    --------
    >>> f = serving_forward()
    >>> sorted(f["round"].unique())
    ['v4.0']
    """
    from . import serving_efficiency as se

    r = se.forward(serving_benchmarks(path), before)
    df = r["rows"].copy()
    df["predicted"], df["low"], df["high"] = r["predicted"], r["low"], r["high"]
    df["ratio"] = df["predicted"] / df["published"]
    df["covered"] = r["covered"]
    df.attrs["model"] = repr(r["model"])
    return df


def _format_training(c) -> str:
    lines = ["Training GPU-hours: published runs, each predicted without itself "
             "(FLOPs 6·N·D + 12·L·d·s·D, N active)",
             f"{'run':<22}{'published':>12}{'in-sample':>11}{'LOO':>8}{'80% interval':>17}"
             + ("  llm-analysis 1.0 / 0.5" if "llm_analysis_ratio" in c else "")]
    for r in c.itertuples():
        peer = ""
        if "llm_analysis_ratio" in c:
            a, b = r.llm_analysis_ratio, c.loc[r.Index, "llm_analysis_0.5_ratio"]
            peer = ("" if a != a else f"  {a:>10.2f} / {b:.2f}")
        lines.append(f"{r.run:<22}{r.gpu_hours:>12,.0f}{r.in_sample_ratio:>11.2f}"
                     f"{r.loo_ratio:>8.2f}{r.loo_low_gpu_hours / r.gpu_hours:>9.2f}-"
                     f"{r.loo_high_gpu_hours / r.gpu_hours:<5.2f}{'' if r.covered else ' out'}"
                     f"{peer}")
    s_in, s_loo = summary(c["in_sample_ratio"]), summary(c["loo_ratio"], c["covered"])
    lines += ["(ratios are predicted / published GPU-hours)",
              f"in-sample: median |error| {s_in['median_abs_error']:.1%}, within ±25% "
              f"{s_in['within_25pct']:.0%}",
              f"leave-one-out: median |error| {s_loo['median_abs_error']:.1%}, within ±25% "
              f"{s_loo['within_25pct']:.0%}, nominal 80% intervals cover "
              f"{s_loo['coverage_80']:.0%} of {s_loo['n']} runs"]
    if "llm_analysis_ratio" in c:
        for col, eff in (("llm_analysis_ratio", "1.0 (default)"),
                         ("llm_analysis_0.5_ratio", "0.5")):
            s = summary(c[col])
            mine = summary(c.loc[c[col].notna(), "loo_ratio"])
            lines.append(f"llm-analysis at efficiency {eff}, on its {s['n']} runs: median "
                         f"|error| {s['median_abs_error']:.1%}, within ±25% "
                         f"{s['within_25pct']:.0%} (costkit leave-one-out on the same runs: "
                         f"{mine['median_abs_error']:.1%}, {mine['within_25pct']:.0%})")
    else:
        lines.append("llm-analysis not installed: pip install 'costkit[peers]' to compare")
    return "\n".join(lines)


def _format_training_forward() -> str:
    """The training out-of-time check, and how it moves with the split date."""
    from .mfu import FORWARD_BEFORE, efficiency_model, forward_check

    f = forward_check()
    s = summary(f["ratio"], f["covered"])
    m = efficiency_model(attention=True)
    lines = [f"training out of time: fitted on the {f.attrs['fitted_on']} runs published before "
             f"{FORWARD_BEFORE}, its range from their forward residuals, predicting the "
             f"{s['n']} later runs:"]
    for r in f.itertuples():
        lines.append(f"  {r.run:<22}{r.ratio:>6.2f}  range {r.low_gpu_hours / r.gpu_hours:.2f}-"
                     f"{r.high_gpu_hours / r.gpu_hours:.2f}{'' if r.covered else ' out'}")
    lines.append(f"  median |error| {s['median_abs_error']:.1%}, nominal 80% ranges cover "
                 f"{s['coverage_80']:.0%}")
    other = []
    for before in ("2023-07-01", "2023-10-01", "2024-04-15"):
        g = forward_check(before=before)
        other.append(f"{before} {g['covered'].mean():.0%} of {len(g)}")
    lines.append("  the same split on other dates (coverage of the later runs): "
                 + ", ".join(other) + " (few runs per split: the coverage is noisy)")
    lines.append(f"estimates use the range of all {len(m.runs)} runs' forward residuals: "
                 f"x{np.exp(m.residual_low):.2f} to x{np.exp(m.residual_high):.2f} on GPU-hours "
                 f"({m.range_basis}; leave-one-out alone would give a range half as wide, which "
                 "covers under half of the forward residuals)")
    return "\n".join(lines)


def _format_serving(df, fwd) -> str:
    from . import serving_efficiency as se

    peer = "llm_analysis_ratio" in df
    lines = ["Serving throughput: published figures (MLPerf Inference up to v4.0, vendor tables "
             "before 2024-07-01) against costkit",
             f"{'case':<40}{'published':>11}{'roofline':>9}{'in-sample':>10}{'LOO':>7}"
             f"{'80% range':>14}" + ("  llm-analysis" if peer else "")]
    for r in df.itertuples():
        tail = ""
        if peer and r.llm_analysis_ratio == r.llm_analysis_ratio:
            tail = f"{r.llm_analysis_ratio:>14.2f}"
        lines.append(f"{r.case[:39]:<40}{r.published:>11,.1f}{r.roofline_ratio:>9.3g}"
                     f"{r.in_sample_ratio:>10.2f}{r.calibrated_ratio:>7.2f}"
                     f"{r.low / r.published:>8.2f}-{r.high / r.published:<5.2f}"
                     f"{'' if r.covered else ' out'}{tail}")
    lines.append(f"(ratios are predicted / published; the model: {se.default()!r})")
    for key in ("family", "vendor"):
        for name, g in df.groupby(key, sort=False):
            raw, cal = summary(g["roofline_ratio"]), summary(g["calibrated_ratio"], g["covered"])
            lines.append(f"{key} {name:<27} n={raw['n']:>2}: roofline median ratio "
                         f"{raw['median_ratio']:.2f}; calibrated (leave-one-out) "
                         f"{cal['median_ratio']:.2f}, within ±25% {cal['within_25pct']:.0%}, "
                         f"80% range covers {cal['coverage_80']:.0%}")
    s_all = summary(df["calibrated_ratio"], df["covered"])
    lines.append(f"all {s_all['n']} rows, leave-one-out: median |error| "
                 f"{s_all['median_abs_error']:.1%}, within ±25% {s_all['within_25pct']:.0%}, "
                 f"nominal 80% ranges cover {s_all['coverage_80']:.0%}")
    f = summary(fwd["ratio"], fwd["covered"])
    lines += [f"forward check: fitted on the {len(df) - len(fwd)} figures published before "
              f"{FORWARD_BEFORE} (MLPerf v3.1, the 2023 vendor tables), predicting the "
              f"{f['n']} MLPerf v4.0 figures:"]
    for r in fwd.itertuples():
        lines.append(f"  {r.case[:38]:<40}{r.ratio:>6.2f}  range {r.low / r.published:.2f}-"
                     f"{r.high / r.published:.2f}{'' if r.covered else ' out'}")
    lines.append(f"  median ratio {f['median_ratio']:.2f}, median |error| "
                 f"{f['median_abs_error']:.1%}, 80% ranges cover {f['coverage_80']:.0%}")
    if peer:
        s = summary(df["llm_analysis_ratio"])
        mine = summary(df.loc[df["llm_analysis_ratio"].notna(), "calibrated_ratio"])
        lines.append(f"llm-analysis (defaults) on its {s['n']} rows: median ratio "
                     f"{s['median_ratio']:.2f}, within ±25% {s['within_25pct']:.0%} (costkit "
                     f"calibrated on the same rows: {mine['median_ratio']:.2f}, "
                     f"{mine['within_25pct']:.0%})")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Print both reports (``make validate``)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m costkit.validation", description=__doc__.split(
        "\n")[0])
    p.add_argument("--no-peers", action="store_true", help="skip llm-analysis even if installed")
    args = p.parse_args(argv)
    print(_format_training(training_report(peers=not args.no_peers)))
    print(_format_training_forward())
    six = summary(*(lambda c: (c["loo_ratio"], c["covered"]))(training_report(
        attention=False, peers=False)))
    print(f"the same without attention FLOPs (6·N·D, what an estimate without seq_len uses): "
          f"leave-one-out median |error| {six['median_abs_error']:.1%}, within ±25% "
          f"{six['within_25pct']:.0%}, coverage {six['coverage_80']:.0%}")
    print()
    print(_format_serving(serving_report(peers=not args.no_peers), serving_forward()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
