"""The ``costkit`` command: the catalog, quick estimates and scenario reports from a shell.

::

    costkit gpus [--vendor NVIDIA] [--min-memory-gb 40] [--priced]
    costkit train --model llama-2-7b --tokens 2e12 --gpu A100-80GB [--n-gpus 64]
    costkit serve --model llama-2-7b --gpu H100-SXM --batch-size 16 [--requests-per-day 2e6]
    costkit validate examples/ecommerce.yaml [--format json]
    costkit schema --out scenario.schema.json
    costkit prices import aws-us-east-1.json azure-page-*.json vms.csv --out my_prices.csv
    costkit report examples/ecommerce.yaml --out report.html [--format html|json|csv]

The commands take ``--format table|json|csv`` (``report``: ``html|json|csv``;
``validate`` and ``prices import``: ``table|json``; ``schema`` writes JSON) and ``--help``. Exit
codes: 0 success; 2 bad input (a one-line message on standard error, no
traceback); 1 an unexpected error (a bug: please report it with the
traceback). Results go to standard output, or to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ._safe import spreadsheet_frame, terminal
from .fx import USD_COLUMN as _USD

__all__ = ["main"]

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: exit 2 with one line
        self.exit(EXIT_BAD_INPUT, terminal(f"{self.prog}: error: {' '.join(message.split())} "
                                           "(see --help)") + "\n")


def _positive(text):
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not x > 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return x


def _count(text):
    x = _positive(text)
    if x % 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
    return int(x)


def _fraction(text):
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, got {text!r}")
    return x


def _speculation(text):
    """``K:ALPHA`` (n-gram), ``K:ALPHA:mtp`` or ``K:ALPHA:DRAFT-MODEL``."""
    from .engine import Speculation

    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(
            f"expected K:ACCEPTANCE[:ngram|mtp|DRAFT-MODEL], e.g. 4:0.7 or 4:0.7:llama-2-7b, "
            f"got {text!r}")
    k, alpha = _count(parts[0]), _fraction(parts[1])
    how = parts[2] if len(parts) == 3 else "ngram"
    try:
        if how in ("ngram", "mtp"):
            return Speculation(k, alpha, how)
        return Speculation(k, alpha, "draft", how)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _nonneg_int(text):
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if x < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return x


def _emit(df, fmt, out, *, index=True):
    """A DataFrame as an aligned table, JSON records or CSV, to ``out`` or standard output."""
    if fmt == "json":
        frame = df.reset_index() if index else df
        text = frame.to_json(orient="records", indent=2, default_handler=str) + "\n"
    elif fmt == "csv":
        text = spreadsheet_frame(df).to_csv(index=index)
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_columns", None,
                               "display.max_rows", None):
            text = terminal(df.to_string(index=index)) + "\n"
    _write(text, out)


def _write(text, out):
    if out:
        from pathlib import Path

        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(terminal(text) if sys.stdout.isatty() else text)


# --------------------------------------------------------------------------- commands
def _gpus(a):
    from .catalog import gpus, price_summary

    g = gpus(path=a.gpu_file)
    if a.vendor:
        g = g[g["vendor"].str.lower() == a.vendor.lower()]
        if g.empty:
            raise ValueError(f"no GPU from vendor {a.vendor!r}; vendors: "
                             + ", ".join(sorted(gpus(path=a.gpu_file)["vendor"].unique())))
    if a.min_memory_gb:
        g = g[g["memory_gb"] >= a.min_memory_gb]
    prices = price_summary(path=a.price_file, gpu_path=a.gpu_file).set_index("gpu")
    g = g.join(prices[["offers", "median_usd_per_gpu_hour", "newest_price_date"]], on="name")
    if a.priced:
        g = g[g["offers"].notna()]
    cols = ["name", "vendor", "memory_gb", "memory_bandwidth_tbps", "bf16_tflops", "fp8_tflops",
            "tdp_w", "median_usd_per_gpu_hour", "offers", "newest_price_date"]
    if a.sources:
        cols.append("source")
    _emit(g[cols].reset_index(drop=True), a.format, a.out, index=False)


def _train(a):
    from . import training

    kw = dict(tokens=a.tokens, gpu=a.gpu, method=a.method, lora_rank=a.lora_rank,
              **_price_kw(a))
    if a.model:
        kw["model"] = a.model
    else:
        kw["params"] = a.params
    for k in ("n_gpus", "mfu", "usd_per_gpu_hour", "seq_len"):
        if getattr(a, k) is not None:
            kw[k] = getattr(a, k)
    import pandas as pd

    if a.grid:
        kw["grid"] = a.grid
    est = training.estimate(**kw)
    money, fx = _money_rows(est.summary(), a)
    if a.format == "json":
        out = {"summary": est.summary().to_dict(), "n_gpus": float(est.n_gpus),
               "memory_per_gpu_gb": float(est.memory_per_gpu_gb),
               "fits_in_memory": bool(est.fits_in_memory), "assumptions": est.assumptions}
        if fx:
            out["in_currency"] = {"fx": fx, **money.to_dict()}
        _write(json.dumps(out, indent=2, default=str) + "\n", a.out)
    else:
        table = est.summary()
        if fx:
            table = pd.concat([table, money])
        table.loc["n_gpus"] = float(est.n_gpus)
        table.loc["memory_per_gpu_gb"] = float(est.memory_per_gpu_gb)
        if a.format == "csv":
            _emit(table, "csv", a.out)
        else:
            extra = (f"  in {a.currency.upper()} at {fx}:\n" + money.to_string(
                float_format=lambda v: f"{v:,.2f}") + "\n") if fx else ""
            _write(repr(est) + "\n" + extra, a.out)


def _price_args(sp, *, offers=True):
    """The price options of every command that prices: one set, one wording."""
    sp.add_argument("--price-file", metavar="CSV", help="your own price table (gpu_prices.csv "
                    "columns, or what `costkit prices import` writes)")
    sp.add_argument("--gpu-file", metavar="CSV", help="your own GPU table (gpus.csv columns)")
    if offers:
        sp.add_argument("--cloud", help="price from this provider's offers only (default: the "
                        "median over providers)")
        sp.add_argument("--pricing", choices=("on_demand", "spot"), default="on_demand",
                        help="which price (default on_demand)")


def _price_kw(a) -> dict:
    """The price options as the estimates' keyword arguments."""
    kw = {"price_path": a.price_file, "gpu_path": a.gpu_file}
    if getattr(a, "cloud", None):
        kw["cloud"] = a.cloud
    if getattr(a, "pricing", "on_demand") != "on_demand":
        kw["pricing"] = a.pricing
    return kw


def _money_args(sp):
    sp.add_argument("--currency", default="USD", metavar="ISO",
                    help="also give the money in this currency, e.g. CNY (default USD only)")
    sp.add_argument("--fx-date", metavar="YYYY-MM-DD",
                    help="the exchange rate's date (the newest on or before it; default the "
                    "newest in the table)")


def _money_rows(table, a):
    """USD rows of ``table`` in ``--currency`` at the ``--fx-date`` rate, and the rate as text."""
    from .fx import fx_rate, in_currency

    rate = fx_rate("USD", a.currency, date=a.fx_date)
    if rate.to_currency == "USD":
        return table, None
    money = [i for i in table.index if _USD.search(str(i))]
    converted = in_currency(table.loc[money].T.astype(float), rate.to_currency,
                            date=rate.date).T
    return converted, str(rate)


def _engine_features(a):
    """The serving engine's features from the command line, or None when none is asked."""
    from .engine import DEFAULT_TOKEN_BUDGET, EngineFeatures

    asked = dict(prefix_cache_hit_rate=a.prefix_hit_rate, prefix_cache_gb=a.prefix_cache_gb,
                 speculation=a.speculative, lora_adapters=a.lora_adapters,
                 chunked_prefill=a.chunked_prefill or None)
    given = {k: v for k, v in asked.items() if v is not None}
    if not given and a.token_budget is None:
        return None
    return EngineFeatures(**given, lora_rank=a.lora_rank,
                          token_budget=a.token_budget or DEFAULT_TOKEN_BUDGET)


def _serve(a):
    from . import capacity, catalog, serving

    if a.slo_s is not None and not a.requests_per_day:
        raise ValueError("--slo-s sizes a fleet: give --requests-per-day too")
    m = catalog.model(a.model)
    is_llm = m.architecture == "decoder"
    kw = dict(gpu=a.gpu, dtype=a.dtype, batch_size=a.batch_size, calibrated=not a.roofline,
              **_price_kw(a))
    if a.usd_per_gpu_hour is not None:
        kw["usd_per_gpu_hour"] = a.usd_per_gpu_hour
    feats = _engine_features(a)
    if feats is not None and not is_llm:
        raise ValueError(f"{m.name} is an encoder: the engine options (--prefix-hit-rate, "
                         "--speculative, --chunked-prefill, --lora-adapters) are for decoders")
    if is_llm:
        kw.update(prompt_tokens=a.prompt_tokens, output_tokens=a.output_tokens, n_gpus=a.n_gpus,
                  features=feats)
        est = serving.estimate(m.name, **kw)
    else:
        kw.update(seq_len=a.seq_len, candidates_per_query=a.candidates_per_query)
        est = serving.encoder_estimate(m.name, **kw)
    row = est.to_frame().iloc[0]
    table = row.to_frame("value")
    if a.requests_per_day:
        plan = capacity.plan(capacity.traffic_profile(a.requests_per_day), est, slo_s=a.slo_s,
                             price_path=a.price_file, gpu_path=a.gpu_file)
        table.loc["peak_replicas"] = float(plan.hourly["replicas_needed"].max())
        table.loc["strategy"] = plan.cheapest
        table.loc["usd_per_month"] = plan.monthly_cost_usd()
        best = plan.summary.loc[plan.cheapest]
        for end in ("low", "high"):
            table.loc[f"peak_replicas_{end}"] = float(best[f"peak_replicas_{end}"])
            table.loc[f"usd_per_month_{end}"] = float(best[f"monthly_cost_usd_{end}"])
    money, fx = _money_rows(table, a)
    if fx:
        import pandas as pd

        table = pd.concat([table, money])
    if a.format == "table":
        _write(repr(est) + "\n" + ("" if not a.requests_per_day else
                                   f"capacity for {a.requests_per_day:,.0f} requests a day: "
                                   f"{table.loc['peak_replicas', 'value']:g} replicas at peak, "
                                   f"{table.loc['usd_per_month', 'value']:,.0f} USD a month "
                                   f"({table.loc['strategy', 'value']}); 80% range "
                                   f"{table.loc['peak_replicas_low', 'value']:g}-"
                                   f"{table.loc['peak_replicas_high', 'value']:g} replicas, "
                                   f"{table.loc['usd_per_month_low', 'value']:,.0f}-"
                                   f"{table.loc['usd_per_month_high', 'value']:,.0f} USD a "
                                   "month\n")
               + (f"in {a.currency.upper()} at {fx}:\n"
                  + money["value"].to_string(float_format=lambda v: f"{v:,.6g}") + "\n"
                  if fx else ""), a.out)
    elif a.format == "json":
        out = {k: (v.item() if hasattr(v, "item") else v) for k, v in table["value"].items()}
        out["assumptions"] = est.assumptions
        _write(json.dumps(out, indent=2, default=str) + "\n", a.out)
    else:
        _emit(table, "csv", a.out)


def _buy_or_build(a):
    from . import catalog, hosted_api, serving

    m = catalog.model(a.model)
    if m.architecture != "decoder":
        raise ValueError(f"{m.name} is not a decoder: buy-or-build sets an LLM API against a "
                         "self-hosted LLM")
    kw = dict(gpu=a.gpu, dtype=a.dtype, batch_size=a.batch_size, n_gpus=a.n_gpus,
              prompt_tokens=a.prompt_tokens, output_tokens=a.output_tokens, **_price_kw(a))
    if a.usd_per_gpu_hour is not None:
        kw["usd_per_gpu_hour"] = a.usd_per_gpu_hour
    est = serving.estimate(m.name, **kw)
    res = hosted_api.buy_or_build(a.api, est, a.requests_per_day, cached_share=a.cached_share,
                                  requests_per_search=a.requests_per_search,
                                  currency=a.currency, fx_date=a.fx_date, slo_s=a.slo_s,
                                  api_price_path=a.api_price_file, price_path=a.price_file,
                                  gpu_path=a.gpu_file)
    if a.format == "table":
        _write(repr(res) + "\n", a.out)
    elif a.format == "json":
        _write(json.dumps(res.to_dict(), indent=2, default=str) + "\n", a.out)
    else:
        import pandas as pd

        figures = {k: v for k, v in res.to_dict().items() if not isinstance(v, dict)}
        _emit(pd.DataFrame([figures]), "csv", a.out, index=False)


class _Reported(Exception):
    """The command has written its own answer (e.g. JSON problems) and exits with this code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _validate(a):
    from .scenario import Scenario, ScenarioError

    try:
        sc = Scenario.from_yaml(a.scenario)
        sc.evaluate(draws=0)  # one validator: whatever report would refuse, validate refuses
    except ScenarioError as exc:
        if a.format != "json":
            raise
        # a machine reads every problem with its path, and the exit code says invalid
        _write(json.dumps({"file": str(a.scenario), "valid": False, "problems": [
            {"path": p, "message": m} for p, m in exc.problems]}, indent=2) + "\n", a.out)
        raise _Reported(EXIT_BAD_INPUT) from None
    if a.format == "json":
        _write(json.dumps({"file": str(a.scenario), "valid": True, "name": sc.name,
                           "options": list(sc.option_names)}, indent=2) + "\n", a.out)
        return
    _write(f"{a.scenario}: valid: {sc.name!r}, {len(sc.option_names)} option(s): "
           + ", ".join(sc.option_names) + "\n", a.out)


def _schema(a):
    from .scenario import json_schema

    _write(json.dumps(json_schema(), indent=2) + "\n", a.out)


def _prices_import(a):
    from .price_lists import import_price_lists

    imp = import_price_lists(a.files, price_date=a.price_date, cloud=a.cloud,
                             instances_path=a.instances)
    imp.to_csv(a.out)
    if a.format == "json":
        dates = sorted(imp.frame["price_date"].unique())
        sys.stdout.write(json.dumps({
            "out": str(a.out), "rows": imp.n_rows, "price_dates": [dates[0], dates[-1]],
            "files": [{"file": f, "format": fmt, "kept": imp.kept[f], "left_out": imp.dropped[f]}
                      for f, fmt in imp.formats.items()]}, indent=2) + "\n")
        return
    sys.stdout.write(terminal(f"wrote {a.out}: {imp}") + "\n")
    sys.stdout.write(terminal(f"use it with price_path='{a.out}' (Python) or --price-file "
                              f"{a.out} (costkit gpus, train, serve, buy-or-build)") + "\n")


class _Progress:
    """A one-line progress bar on standard error: ``Monte Carlo [#####-----] 50% 1,000/2,000``."""

    def __init__(self, stream=None, width: int = 30):
        self.stream, self.width, self.last = stream or sys.stderr, width, -1

    def __call__(self, done, total):
        pct = int(100 * done / total)
        if pct == self.last:
            return
        self.last = pct
        fill = int(self.width * done / total)
        self.stream.write(f"\rMonte Carlo [{'#' * fill}{'-' * (self.width - fill)}] {pct:3d}% "
                          f"{done:,}/{total:,} draws")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _report(a):
    from . import report
    from .scenario import Scenario

    sc = Scenario.from_yaml(a.scenario)
    fmt = a.format
    if fmt == "html" and not a.out:
        raise ValueError("an HTML report needs --out FILE.html (json and csv can go to "
                         "standard output)")
    if fmt == "html":
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ValueError("the HTML report draws charts with matplotlib: "
                             "pip install 'costkit[plots]' (or use --format json)") from None
    show = a.progress if a.progress is not None else sys.stderr.isatty()
    res = sc.evaluate(draws=a.draws, seed=a.seed, progress=_Progress() if show else None)
    rate = res.money_rate(a.currency)  # an unknown currency fails here, before any output
    if fmt == "html":
        report.html(res, a.out, currency=rate.to_currency)
        sys.stderr.write(terminal(f"wrote {a.out}: recommended {res.recommended}") + "\n")
    elif fmt == "json":
        _write(report.json_text(res, currency=rate.to_currency) + "\n", a.out)
    else:
        _write(report.csv_text(res, currency=rate.to_currency), a.out)


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="costkit", description="What it costs to put an AI model to work, and "
                "whether it pays off. Exit codes: 0 ok, 2 bad input, 1 a bug.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"costkit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    _gpus_command(sub)
    _train_command(sub)
    _serve_command(sub)
    _buy_or_build_command(sub)
    _validate_command(sub)
    _schema_command(sub)
    _prices_command(sub)
    _report_command(sub)
    return p


def _output_args(sp, formats=("table", "json", "csv")) -> None:
    """``--format`` (the first of ``formats`` by default) and ``--out``."""
    sp.add_argument("--format", choices=formats, default=formats[0],
                    help=f"output format (default {formats[0]})")
    sp.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")


def _gpus_command(sub) -> None:
    """The ``gpus`` command's arguments."""
    g = sub.add_parser("gpus", help="the accelerator catalog with median on-demand prices",
                       description="The accelerator catalog: dense peak TFLOPS, memory, power "
                       "and the median on-demand price per GPU-hour with its date.")
    g.add_argument("--vendor", help="only this vendor (NVIDIA, AMD, Google, AWS, ...)")
    g.add_argument("--min-memory-gb", type=_positive, metavar="GB",
                   help="only GPUs with at least this much memory")
    g.add_argument("--priced", action="store_true", help="only GPUs with a cloud price")
    g.add_argument("--sources", action="store_true", help="add each row's source")
    _price_args(g, offers=False)
    _output_args(g)
    g.set_defaults(run=_gpus)


def _train_command(sub) -> None:
    """The ``train`` command's arguments."""
    t = sub.add_parser("train", help="cost and time of a training run",
                       description="GPU-hours, wall clock, cost, energy and CO2 of a training "
                       "run (6·N·D FLOPs at an MFU from published runs), low / central / high.")
    what = t.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="a catalog model (llama-2-7b, bert-base, ...)")
    what.add_argument("--params", type=_positive, help="parameters, instead of --model")
    t.add_argument("--tokens", type=_positive, required=True, help="training tokens (2e12)")
    t.add_argument("--gpu", default="H100-SXM", help="accelerator (default H100-SXM)")
    t.add_argument("--n-gpus", type=_count, help="GPUs in the job (default: one 8-GPU node, "
                   "or as many whole nodes as memory needs)")
    t.add_argument("--method", choices=("full", "lora", "qlora"), default="full")
    t.add_argument("--seq-len", type=_count, help="sequence length: counts the activations in "
                   "memory and the attention FLOPs (a catalog model; default: not counted)")
    t.add_argument("--lora-rank", type=_count, default=16)
    t.add_argument("--mfu", type=_positive, help="model FLOPs utilisation, 0 to 1")
    t.add_argument("--usd-per-gpu-hour", type=_positive, help="your price per GPU-hour")
    t.add_argument("--grid", help="grid carbon intensity by name (CN-national-2022, CN-East-2022, "
                   "EU-27-2018, gcp-us-central1, ...; default US-LLaMA-paper)")
    _price_args(t)
    _money_args(t)
    _output_args(t)
    t.set_defaults(run=_train)


def _serve_command(sub) -> None:
    """The ``serve`` command's arguments."""
    s = sub.add_parser("serve", help="latency, throughput and cost of serving a model",
                       description="One replica's latency, throughput and USD per 1,000 "
                       "requests (LLMs: roofline; encoders: a re-ranker scoring candidates); "
                       "with --requests-per-day, the replicas and monthly cost.")
    s.add_argument("--model", required=True, help="a catalog model")
    s.add_argument("--gpu", default="H100-SXM")
    s.add_argument("--dtype", default="fp16", help="weight format: fp16, bf16, fp8, int8, int4")
    s.add_argument("--batch-size", type=_count, default=16)
    s.add_argument("--n-gpus", type=_count, default=1, help="LLM: GPUs per replica")
    s.add_argument("--prompt-tokens", type=_count, default=512, help="LLM")
    s.add_argument("--output-tokens", type=_count, default=128, help="LLM")
    s.add_argument("--seq-len", type=_count, default=128, help="encoder")
    s.add_argument("--candidates-per-query", type=_count, default=1, help="encoder")
    s.add_argument("--usd-per-gpu-hour", type=_positive, help="your price per GPU-hour")
    s.add_argument("--requests-per-day", type=_positive, help="size a fleet for this traffic")
    s.add_argument("--slo-s", type=_positive, help="p95 latency target for the fleet [s]")
    s.add_argument("--roofline", action="store_true",
                   help="the pure roofline (calibrated=False) instead of the calibrated model")
    e = s.add_argument_group("engine features (LLM; costkit.engine)")
    e.add_argument("--prefix-hit-rate", type=_fraction,
                   help="share of prompt tokens found in the prefix cache [0 to 1)")
    e.add_argument("--prefix-cache-gb", type=_positive, help="GPU memory the prefix cache holds")
    e.add_argument("--speculative", type=_speculation, metavar="K:ACCEPTANCE[:HOW]",
                   help="speculative decoding: K tokens proposed per step, each accepted with "
                   "probability ACCEPTANCE; HOW is ngram (default), mtp or a draft model")
    e.add_argument("--chunked-prefill", action="store_true",
                   help="chunked prefill with continuous batching at steady state")
    e.add_argument("--token-budget", type=_count,
                   help="tokens per chunked-prefill step (default 2048)")
    e.add_argument("--lora-adapters", type=_nonneg_int, help="LoRA adapters served on the model")
    e.add_argument("--lora-rank", type=_count, default=16, help="their rank (default 16)")
    _price_args(s)
    _money_args(s)
    _output_args(s)
    s.set_defaults(run=_serve)


def _buy_or_build_command(sub) -> None:
    """The ``buy-or-build`` command's arguments."""
    b = sub.add_parser("buy-or-build", help="a hosted LLM API against self-hosting a model",
                       description="Cost per month and per 1,000 searches of calling a hosted "
                       "model (costkit.hosted_api's dated price list) and of self-hosting a "
                       "catalog model at your traffic, and the break-even traffic.")
    b.add_argument("--api", required=True, help="a hosted model of the price list, e.g. "
                   "deepseek-v4-flash, qwen-flash, gpt-5-mini")
    b.add_argument("--model", required=True, help="the catalog model you would self-host")
    b.add_argument("--requests-per-day", type=_positive, required=True)
    b.add_argument("--gpu", default="H100-SXM")
    b.add_argument("--dtype", default="fp16")
    b.add_argument("--batch-size", type=_count, default=16)
    b.add_argument("--n-gpus", type=_count, default=1)
    b.add_argument("--prompt-tokens", type=_count, default=512)
    b.add_argument("--output-tokens", type=_count, default=128)
    b.add_argument("--cached-share", type=_fraction, default=0.0,
                   help="share of prompt tokens the provider bills as cached [0 to 1]")
    b.add_argument("--requests-per-search", type=_positive, default=1.0,
                   help="model calls per search, for the per-1,000-searches figures")
    b.add_argument("--slo-s", type=_positive, help="p95 latency target of the self-hosted fleet")
    b.add_argument("--usd-per-gpu-hour", type=_positive, help="your price per GPU-hour")
    _price_args(b)
    b.add_argument("--api-price-file", metavar="CSV",
                   help="your own API price list (the columns of data/api_prices.csv)")
    b.add_argument("--currency", default="USD", metavar="ISO",
                   help="the currency of every figure (default USD)")
    b.add_argument("--fx-date", metavar="YYYY-MM-DD",
                   help="the exchange rate's date for the self-hosted USD")
    _output_args(b)
    b.set_defaults(run=_buy_or_build)


def _validate_command(sub) -> None:
    """The ``validate`` command's arguments."""
    v = sub.add_parser("validate", help="check a scenario file",
                       description="Validate a scenario file: every problem with its path.")
    v.add_argument("scenario", metavar="SCENARIO.yaml")
    _output_args(v, formats=("table", "json"))
    v.set_defaults(run=_validate)


def _schema_command(sub) -> None:
    """The ``schema`` command's arguments."""
    sc = sub.add_parser("schema", help="the scenario format as a JSON Schema (for editors)",
                        description="Write the scenario format as a JSON Schema (draft 2020-12), "
                        "generated from the checks costkit validate runs; point your editor's "
                        "YAML language server at it.")
    sc.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    sc.set_defaults(run=_schema)


def _prices_command(sub) -> None:
    """The ``prices`` command's arguments."""
    pr = sub.add_parser("prices", help="bring your own prices: import published price lists",
                        description="Price lists you downloaded, turned into a price table "
                        "that price_path= and --price-file read.")
    psub = pr.add_subparsers(dest="prices_command", metavar="ACTION", parser_class=_Parser)
    psub.required = True
    pi = psub.add_parser("import", help="SkyPilot vms.csv, Azure Retail Prices JSON, AWS Price "
                         "List EC2 JSON -> a price table",
                         description="Read downloaded price lists (the format is read from each "
                         "file) and write one price table with dates and sources, validated like "
                         "costkit's own; report every price left out. Nothing is fetched.")
    pi.add_argument("files", nargs="+", metavar="FILE")
    pi.add_argument("--out", metavar="CSV", required=True, help="the price table to write")
    pi.add_argument("--price-date", metavar="YYYY-MM-DD",
                    help="date of the prices (default: AWS publicationDate, else the file's "
                    "modification date)")
    pi.add_argument("--cloud", help="provider name for SkyPilot files (default: folder name)")
    pi.add_argument("--instances", metavar="CSV",
                    help="your own instance table (data/instance_gpus.csv columns)")
    pi.add_argument("--format", choices=("table", "json"), default="table",
                    help="the report's format (default table)")
    pi.set_defaults(run=_prices_import)


def _report_command(sub) -> None:
    """The ``report`` command's arguments."""
    r = sub.add_parser("report", help="evaluate a scenario file: HTML report, JSON or CSV",
                       description="Evaluate a scenario file and write a self-contained HTML "
                       "report (ledger, cost charts, ROI, assumptions with sources), or JSON / "
                       "CSV for scripts.")
    r.add_argument("scenario", metavar="SCENARIO.yaml")
    _output_args(r, formats=("html", "json", "csv"))
    r.add_argument("--draws", type=_nonneg_int,
                   help="Monte Carlo draws (overrides the file; 0 skips it)")
    r.add_argument("--seed", type=_nonneg_int, help="Monte Carlo seed (overrides the file)")
    r.add_argument("--currency", metavar="ISO",
                   help="the report's money in this currency, e.g. CNY (overrides the file's "
                   "currency:; converted at its fx_date: rate, shown in the report)")
    r.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar (default: when standard error is a terminal)")
    r.add_argument("--no-progress", dest="progress", action="store_false")
    r.set_defaults(run=_report)



def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 1 a bug).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``costkit``; default the process's.

    Returns
    -------
    int
        The exit code: 0 ok, 2 bad input, 1 a bug.

    Examples
    --------
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "scenario.schema.json")
    >>> main(["schema", "--out", out]), os.path.getsize(out) > 1000
    (0, True)
    """
    from ._tables import DataFileError
    from .scenario import ScenarioError
    from .units import UnitError

    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except _Reported as done:
        return done.code
    except (ScenarioError, DataFileError, UnitError, ValueError, LookupError, OSError) as exc:
        text = str(exc).strip("'\"") if isinstance(exc, LookupError) else str(exc)
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.filename}: {exc.strerror}"
        sys.stderr.write(terminal(f"costkit {args.command}: error: {' '.join(text.split())}")
                         + "\n")
        return EXIT_BAD_INPUT
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
