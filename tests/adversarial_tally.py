"""Tally the adversarial generators' outcomes by class: ``python tests/adversarial_tally.py [N]``.

Runs N random inputs of each kind (default 200; N / 4 for the kinds that start a process or
write files: fleet telemetry, bill files, the command line) from the strategies in
``test_adversarial.py`` through the command line (in a subprocess, with a timeout: a hang is a
crash) and the readers, and classifies each outcome:

- **clear error**: refused with exit 2 and one line (CLI), or ``DataFileError`` / ``ValueError`` /
  ``TypeError`` with a message (library);
- **handled**: accepted, and every invariant holds (money finite and >= 0, rows and money
  conserved, UTC, nothing echoed that a terminal or spreadsheet would run);
- **silently wrong**: accepted, but an output invariant fails;
- **crash**: exit 1, a traceback, or any other exception;
- **data dropped**: accepted, but rows, requests or money are missing from output and report;
- **security**: a file outside the bill read or written, or a control or formula character echoed.

The closing notes of the trust issues quote this table; ``make fuzz`` prints it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_adversarial as adv  # noqa: E402

from costkit import billing as bi  # noqa: E402
from costkit import cli  # noqa: E402
from costkit import monitoring as mo  # noqa: E402
from costkit import telemetry as te  # noqa: E402
from costkit._tables import DataFileError  # noqa: E402

CLASSES = ("clear error", "handled", "silently wrong", "crash", "data dropped", "security")
SECRET = "costkit-tally-secret"


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
        except Exception:  # noqa: BLE001  (a traceback is what this counts)
            code = 1
    return code, out.getvalue(), err.getvalue()


def _scenario_outcome(path, workdir):
    for argv in (["validate", str(path)],
                 ["report", str(path), "--format", "csv", "--draws", "0"],
                 ["report", str(path), "--format", "json", "--draws", "0",
                  "--out", str(workdir / "out.json")]):
        code, out, err = _run_cli(argv)
        if "\x1b" in out + err or "\x07" in out + err:
            return "security"
        if code == 1:
            return "crash"
        if code == 2:
            return "clear error" if len(err.strip().splitlines()) == 1 else "crash"
        if argv[1:3] == [str(path), "--format"] and argv[3] == "csv":
            cells = [line.split(",")[0] for line in out.splitlines()[1:]]
            if any(c.startswith(("=", "+", "@")) for c in cells):
                return "security"
    data = json.loads((workdir / "out.json").read_text())
    rows = data["comparison"]
    money = [row[k] for row in rows for k in row if k.endswith(("_usd", "_usd_per_month"))]
    costs = [row[k] for row in rows for k in ("serving_usd_per_month", "fixed_usd_per_month",
                                              "one_off_usd")]
    costs += [v for phases in data["horizon_cost_usd"].values() for v in phases.values()]
    if any(not isinstance(v, int | float) or not np.isfinite(v) for v in money + costs) or any(
            v < 0 for v in costs):
        return "silently wrong"
    return "handled"


def _telemetry_outcome(df, unit, tz):
    try:
        tel = te.read_telemetry(df, utilization_unit=unit, timezone=tz,
                                epoch_unit="s" if df.timestamp.dtype.kind == "i" else None)
    except (DataFileError, ValueError, TypeError) as exc:
        return "clear error" if str(exc) else "crash"
    except Exception:  # noqa: BLE001
        return "crash"
    f, rep = tel.frame, tel.report
    dropped = rep.loc[rep.action == "dropped"]
    if len(f) + dropped["rows"].sum() != len(df) or not np.isclose(
            f["requests"].sum() + dropped["requests"].sum(), df["requests"].sum()):
        return "data dropped"
    if not (f.gpu_utilization.between(0, 1).all() and np.isfinite(f.requests).all()
            and str(f.timestamp.dt.tz) == "UTC"):
        return "silently wrong"
    return "handled"


def _fleet_outcome(df, unit):
    """The same generated telemetry through costkit.fleet on DuckDB."""
    try:
        tel = adv.fleet_outcome(df, unit)
    except AssertionError:
        return "data dropped"
    except Exception:  # noqa: BLE001
        return "crash"
    return "clear error" if tel is None else "handled"


def _bill_outcome(bill, key, workdir):
    (workdir / "secret.txt").write_text(SECRET)
    key = key.replace("SECRET", str(workdir / "secret.txt"))
    try:
        hours = bi.focus_resource_hours(bill)
        summary = bi.focus_summary(bill, by=(f"tag:{key}",), period="day")
    except (DataFileError, ValueError, TypeError) as exc:
        return "clear error" if str(exc) else "crash"
    except Exception:  # noqa: BLE001
        return "crash"
    if SECRET in summary.to_string() or (workdir / "pwned.csv").exists():
        return "security"
    usd = adv.bill_total_usd(bill)
    if usd is None:   # a line too large to sum was accepted
        return "silently wrong"
    total = bill["EffectiveCost"].sum()   # in the bill's currency: the summary's
    other = hours.attrs["not_usage"]  # purchases, taxes, credits: reported with their amount
    spread = hours.effective_cost.sum() + (other["effective_cost"].sum() if len(other) else 0.0)
    if not np.isclose(spread, usd) and np.isclose(spread, total):
        return "silently wrong"   # another currency labelled USD
    if not (np.isclose(spread, usd) and np.isclose(
            summary.effective_cost.sum(), total) and summary.lines.sum() == len(bill)):
        return "data dropped"
    costed = mo.cost_usage(adv.pd.DataFrame({
        "timestamp": adv.T0 + adv.pd.to_timedelta(np.arange(120), unit="min"),
        "replica_id": "r0", "gpu_utilization": 0.5, "requests": 1.0}), hours)
    cb = mo.chargeback(costed, by=("team", "model"), freq="D")
    reported = costed.attrs["report"].set_index("check")["usd"]  # the money that is not usage
    not_usage = reported.get("bill lines that are not usage", 0.0)
    if not np.isclose(cb.cost_usd.sum() + not_usage, usd) or (cb.cost_usd < -1e-9).any():
        return "silently wrong"
    return "handled"


def _bill_files_outcome(bill, copies, workdir):
    """A bill written as several files, some copies of another under a new name."""
    if adv.bill_total_usd(bill) is None:
        return None
    d = Path(tempfile.mkdtemp(dir=workdir))
    parts = adv.write_bill_files(bill, copies, d)
    try:
        hours = bi.focus_resource_hours(str(d / "*.parquet"))
    except DataFileError as exc:
        return "clear error" if "same bytes" in str(exc) or "same" not in copies else "crash"
    except Exception:  # noqa: BLE001
        return "crash"
    if "same" in copies:
        return "silently wrong"   # a copy counted twice
    want = sum(adv.bill_total_usd(p) for p in parts)
    got = hours.effective_cost.sum() + (hours.attrs["not_usage"]["effective_cost"].sum()
                                        if len(hours.attrs["not_usage"]) else 0.0)
    return "handled" if np.isclose(got, want) else "data dropped"


def _checked(fn, *args):
    """The class of an outcome function of test_adversarial: None a named refusal, an
    AssertionError a broken invariant, another exception a crash."""
    try:
        out = fn(*args)
    except AssertionError:
        return "silently wrong"
    except Exception:  # noqa: BLE001
        return "crash"
    return "clear error" if out is None else "handled"


def _price_outcome(table, workdir):
    """A user's price table in several currencies: a named error, or quotes that add up."""
    try:
        out = adv.price_outcome(table, workdir / "prices.csv")
    except AssertionError:
        return "silently wrong"
    except Exception:  # noqa: BLE001
        return "crash"
    return "clear error" if out is None else "handled"


def tally(n: int = 200) -> dict:
    counts = {kind: Counter() for kind in ("scenario", "yaml", "telemetry", "fleet telemetry",
                                           "bill", "bill files", "price table", "price list",
                                           "MoE shape", "command line")}
    common = dict(max_examples=n, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
    workdir = Path(tempfile.mkdtemp())

    @settings(**common)
    @given(data=adv.broken_scenarios())
    def scenarios(data):
        path = workdir / "s.yaml"
        try:
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        except yaml.YAMLError:
            return
        counts["scenario"][_scenario_outcome(path, workdir)] += 1

    @settings(**common)
    @given(text=adv.YAML_TEXT)
    def texts(text):
        path = workdir / "t.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        counts["yaml"][_scenario_outcome(path, workdir)] += 1

    @settings(**common)
    @given(df=adv.telemetry_frames(), unit=adv.st.sampled_from(["auto", "fraction", "percent"]),
           tz=adv.st.sampled_from([None, "UTC", "Asia/Shanghai"]))
    def telemetry(df, unit, tz):
        counts["telemetry"][_telemetry_outcome(df, unit, tz)] += 1

    @settings(**{**common, "max_examples": max(n // 4, 1)})  # a DuckDB query per check
    @given(df=adv.telemetry_frames(), unit=adv.st.sampled_from(["auto", "fraction", "percent"]))
    def fleet_telemetry(df, unit):
        counts["fleet telemetry"][_fleet_outcome(df, unit)] += 1

    keys = adv.st.one_of(adv.TEXT, adv.st.sampled_from(
        ["team", "app.name", "te'am", "x') , read_text('SECRET') --",
         'x"), (SELECT content FROM read_text(\'SECRET\')) AS "y',
         "x'); COPY (SELECT 1) TO 'pwned.csv'; --"]))

    @settings(**common)
    @given(bill=adv.bills(), key=keys)
    def bills(bill, key):
        counts["bill"][_bill_outcome(bill, key, workdir)] += 1

    @settings(**common)
    @given(table=adv.price_tables())
    def price_tables(table):
        counts["price table"][_price_outcome(table, workdir)] += 1

    @settings(**{**common, "max_examples": max(n // 4, 1)})
    @given(bill=adv.bills(), copies=adv.st.lists(adv.st.sampled_from(["same", "other", "subset"]),
                                                 min_size=1, max_size=3))
    def bill_files(bill, copies):
        out = _bill_files_outcome(bill, copies, workdir)
        if out is not None:
            counts["bill files"][out] += 1

    @settings(**common)
    @given(doc=adv.price_list_files())
    def price_lists(doc):
        d = Path(tempfile.mkdtemp(dir=workdir))
        counts["price list"][_checked(adv.price_list_outcome, *doc, d)] += 1

    @settings(**common)
    @given(shape=adv.st.fixed_dictionaries({k: adv.SHAPE for k in (
        "n_layers", "d_model", "n_heads", "n_experts", "experts_per_token", "shared",
        "d_ff_expert", "moe_layers")}))
    def moe_shapes(shape):
        counts["MoE shape"][_checked(adv.moe_outcome, shape)] += 1

    @settings(**{**common, "max_examples": max(n // 4, 1)})  # a subprocess each
    @given(argv=adv.cli_calls())
    def command_line(argv):
        counts["command line"][adv.cli_outcome(argv, workdir)] += 1

    for run in (scenarios, texts, telemetry, fleet_telemetry, bills, bill_files, price_tables,
                price_lists, moe_shapes, command_line):
        run()
    return counts


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    counts = tally(n)
    print("| input | " + " | ".join(CLASSES) + " |")
    print("|---" * (len(CLASSES) + 1) + "|")
    total = Counter()
    for kind, c in counts.items():
        total.update(c)
        print(f"| {kind} | " + " | ".join(str(c.get(k, 0)) for k in CLASSES) + " |")
    print("| **all** | " + " | ".join(str(total.get(k, 0)) for k in CLASSES) + " |")
    bad = sum(total.get(k, 0) for k in CLASSES[2:])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
