"""A mutation run over the formula modules: ``python tests/mutate.py [N]`` (``make mutate``).

Each mutant changes one thing in the code of one function of a formula module: an arithmetic
operator (``+`` and ``-``, ``*`` and ``/`` swapped), a comparison (``<`` and ``<=``, ``>`` and
``>=``), or a number (an integer plus one, any other number doubled; zero becomes one). Strings,
docstrings and messages are never mutated. The mutant is written into a copy of the package,
the module's own tests and its doctests run against it (``pytest -x``, with a timeout), and a
mutant they fail on is *killed*; one they pass is a *survivor*: a change no test noticed.

N mutants are drawn per module (default 12), seeded, so every run draws the same ones. The
table (mutants, killed, survived per module, and the kill rate) is printed; the survivors, with
their line and change, are written to ``build/mutate/survivors.md`` to be killed by a test or
explained (an equivalent mutant: a change that cannot alter any result).

``python tests/mutate.py --line decision:404 roi:442`` reruns every mutant on the lines named
(a survivor, once a test for it is written) and prints each one's fate; it writes no file.

No third-party tool: mutmut and cosmic-ray rewrite or copy the whole project and run every test
per mutant; this runs a module's tests only, in a few minutes on two cores.
"""

from __future__ import annotations

import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "costkit"
TIMEOUT_S = 300

# each formula module and the tests that are its own (run against each of its mutants)
MODULES = {
    "kernels": ["test_training.py", "test_serving.py", "test_trust_accuracy.py"],
    "units": ["test_units.py", "test_trust_numbers.py"],
    "roi": ["test_roi.py", "test_decision.py"],
    "decision": ["test_decision.py", "test_roi.py", "test_trust_iii.py"],
    "ledger": ["test_ledger.py", "test_one_rule.py", "test_mutants.py"],
    "fx": ["test_fx.py", "test_china_market.py"],
    "training": ["test_training.py", "test_trust_accuracy.py"],
    "moe": ["test_trust_accuracy.py", "test_trust_iii.py", "test_training.py"],
    "serving": ["test_serving.py", "test_trust_accuracy.py", "test_engine.py",
                "test_serving_efficiency.py"],
    "step_time": ["test_serving_efficiency.py", "test_serving.py"],
    "engine_features": ["test_engine.py"],
    "capacity": ["test_capacity.py", "test_one_rule.py", "test_mutants.py"],
    "tuning": ["test_tuning.py", "test_mutants.py"],
    "optimization": ["test_optimization.py"],
    "hosted_api": ["test_hosted_api.py"],
    "token_day": ["test_token_day.py"],
    "bill_lines": ["test_one_rule.py", "test_monitoring.py", "test_trust_iii.py"],
    "usage_lines": ["test_one_rule.py", "test_monitoring.py", "test_fleet.py"],
}

_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Lt: "<",
           ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # which site, in the order ast.walk meets them
    line: int
    change: str


def _docstrings(tree) -> set[int]:
    """ids of the docstring nodes (never mutated)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _in_strings(tree) -> set[int]:
    """ids of every node inside an f-string (its format specs and values are messages)."""
    return {id(n) for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}


def sites(tree) -> list[tuple[ast.AST, str]]:
    """Every mutable place inside a function, with the change a mutant makes there."""
    skip = _docstrings(tree) | _in_strings(tree)
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    seen, out = set(), []
    for f in funcs:
        for node in ast.walk(f):
            if id(node) in seen or id(node) in skip:
                continue
            seen.add(id(node))
            if isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
                out.append((node, f"{_SYMBOL[type(node.op)]} -> "
                                  f"{_SYMBOL[_SWAP[type(node.op)]]}"))
            elif isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                    type(node.ops[0]) in _SWAP:
                out.append((node, f"{_SYMBOL[type(node.ops[0])]} -> "
                                  f"{_SYMBOL[_SWAP[type(node.ops[0])]]}"))
            elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
                out.append((node, f"{node.value!r} -> {_bumped(node.value)!r}"))
    return out


def _bumped(v):
    if isinstance(v, int):
        return v + 1
    return 1.0 if v == 0 else v * 2.0


def mutated_source(path: Path, index: int) -> str:
    """The module's source with site ``index`` changed (the module re-written by ast)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node, _ = sites(tree)[index]
    if isinstance(node, ast.BinOp):
        node.op = _SWAP[type(node.op)]()
    elif isinstance(node, ast.Compare):
        node.ops = [_SWAP[type(node.ops[0])]()]
    else:
        node.value = _bumped(node.value)
    return ast.unparse(tree) + "\n"


def draw(per_module: int, seed: int = 31) -> list[Mutant]:
    rng = random.Random(seed)
    out = []
    for module in MODULES:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        found = sites(tree)
        for i in sorted(rng.sample(range(len(found)), min(per_module, len(found)))):
            node, change = found[i]
            out.append(Mutant(module, i, node.lineno, change))
    return out


def _pytest(workdir: Path, module: str, target: Path):
    """Run ``module``'s tests and the doctests of ``target`` against the copy in ``workdir``."""
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    tests = [str(ROOT / "tests" / t) for t in MODULES[module]]
    # run from the copy: ``python -m`` puts the working folder first on sys.path, so the
    # mutant, not the checkout, is what ``import costkit`` finds
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           "--no-header", f"--rootdir={ROOT}", *tests, "--doctest-modules",
                           str(target)], cwd=workdir, env=env, capture_output=True,
                          timeout=TIMEOUT_S)


def _run(mutant: Mutant, workdir: Path) -> str:
    """'killed', 'survived' or 'timeout' (counted as killed: the tests noticed).

    The tests must import the mutant: a run whose costkit is not the copy is an error.
    """
    target = workdir / "costkit" / f"{mutant.module}.py"
    original = target.read_text(encoding="utf-8")
    target.write_text(mutated_source(PACKAGE / f"{mutant.module}.py", mutant.index),
                      encoding="utf-8")
    try:
        done = _pytest(workdir, mutant.module, target)
        result = "survived" if done.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        result = "timeout"
    finally:
        target.write_text(original, encoding="utf-8")
    return result


def _imports_the_copy(workdir: Path) -> None:
    """Refuse to run if the tests would import the checkout instead of the mutated copy
    (every mutant would survive)."""
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    found = subprocess.run([sys.executable, "-c", "import costkit; print(costkit.__file__)"],
                           cwd=workdir, env=env, capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(workdir)):
        raise SystemExit(f"the tests would import {found}, not the copy in {workdir}")


def at_lines(specs: list[str]) -> list[Mutant]:
    """Every mutant on the lines named ``module:line`` (to recheck a survivor once a test is
    written for it: ``python tests/mutate.py --line decision:404``)."""
    out = []
    for spec in specs:
        module, _, line = spec.partition(":")
        if module not in MODULES or not line.isdigit():
            raise SystemExit(f"--line wants module:line with module one of {sorted(MODULES)}, "
                             f"got {spec!r}")
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        out += [Mutant(module, i, node.lineno, change)
                for i, (node, change) in enumerate(sites(tree)) if node.lineno == int(line)]
    return out


def main(argv: list[str]) -> int:
    if "--line" in argv:
        mutants = at_lines(argv[argv.index("--line") + 1:])
    else:
        mutants = draw(int(argv[1]) if len(argv) > 1 else 12)
    workers = max(1, min(2, os.cpu_count() or 1))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="costkit-mutate-") as tmp:
        dirs = []
        for w in range(workers):
            d = Path(tmp) / f"w{w}"
            shutil.copytree(PACKAGE, d / "costkit",
                            ignore=shutil.ignore_patterns("__pycache__"))
            _imports_the_copy(d)
            dirs.append(d)
        # unmutated, every module's tests pass: else no kill means much
        for module in sorted({m.module for m in mutants}):
            base = _pytest(dirs[0], module, dirs[0] / "costkit" / f"{module}.py")
            if base.returncode:
                raise SystemExit(f"{module}'s tests fail on the unmutated copy:\n"
                                 + base.stdout.decode(errors="replace")[-2000:])
        free = list(dirs)

        def one(m):
            d = free.pop()
            try:
                return m, _run(m, d)
            finally:
                free.append(d)

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, mutants))
    rows, survivors = {}, []
    for m, r in results:
        k, s = rows.get(m.module, (0, 0))
        rows[m.module] = (k + (r != "survived"), s + (r == "survived"))
        if r == "survived":
            survivors.append(m)
    killed = sum(k for k, _ in rows.values())
    print(f"{len(mutants)} mutants of {len(rows)} formula modules in "
          f"{time.perf_counter() - t0:.0f} s\n")
    print("| module | mutants | killed | survived |\n|---|---|---|---|")
    for mod, (k, s) in rows.items():
        print(f"| {mod} | {k + s} | {k} | {s} |")
    print(f"| **all** | {len(mutants)} | {killed} | {len(survivors)} |\n")
    print(f"kill rate {killed / len(mutants):.0%}")
    if "--line" in argv:  # a recheck: each mutant's fate, and no survivors file written
        print("".join(f"- costkit/{m.module}.py:{m.line}: {m.change}: {r}\n" for m, r in results))
        return 0
    out = ROOT / "build" / "mutate"
    out.mkdir(parents=True, exist_ok=True)
    (out / "survivors.md").write_text(
        "# Surviving mutants (kill with a test, or explain)\n\n"
        + "".join(f"- costkit/{m.module}.py:{m.line}: {m.change}\n" for m in survivors),
        encoding="utf-8")
    print(f"survivors in {out / 'survivors.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
