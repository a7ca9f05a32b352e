"""The typed API: every public function annotated, the stub in step with the lazy package.

mypy itself runs in `make lint` (configured in pyproject.toml); these tests keep what mypy
cannot see from slipping: an unannotated public function, a stub that forgets a name, a wheel
without its py.typed marker.
"""

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import costkit

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.iter_modules(costkit.__path__)
                 if not m.name.startswith("_"))


def _public_callables():
    for name in MODULES:
        mod = importlib.import_module(f"costkit.{name}")
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for k, v in vars(obj).items():
                    if k.startswith("_"):
                        continue
                    if isinstance(v, property):
                        v = v.fget
                    elif isinstance(v, classmethod | staticmethod):
                        v = v.__func__
                    if inspect.isfunction(v):
                        yield f"{name}.{attr}.{k}", v


def _missing_annotations(fn):
    sig = inspect.signature(fn)
    missing = [p.name for p in sig.parameters.values()
               if p.name not in ("self", "cls") and p.name not in fn.__annotations__]
    if "return" not in fn.__annotations__:
        missing.append("return")
    return missing


def test_every_public_function_and_method_is_fully_annotated():
    found = dict(_public_callables())
    assert len(found) > 250
    bad = {name: m for name, fn in found.items() if (m := _missing_annotations(fn))}
    assert not bad, bad


def test_the_annotation_check_can_fail():
    def half(x, y: int) -> int:
        return y

    def no_return(x: int):
        return x

    assert _missing_annotations(half) == ["x"]
    assert _missing_annotations(no_return) == ["return"]


def test_result_fields_are_typed_not_object():
    for name in MODULES:
        src = (ROOT / "costkit" / f"{name}.py").read_text()
        assert not re.search(r"^    \w+: object\b", src, re.M), name


def _stub_names():
    tree = ast.parse((ROOT / "costkit" / "__init__.pyi").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    return names


def test_the_stub_declares_every_lazy_name_and_submodule():
    served = set(costkit.__all__)
    stub = _stub_names() - {"__version__", "__all__"}
    assert stub == served, (sorted(served - stub), sorted(stub - served))
    for name in served:  # and each resolves at run time as the stub says
        assert getattr(costkit, name) is not None


# --------------------------------------------------------------------------- numpydoc
# The checks numpydoc's validator runs that every public function and method must pass:
# every parameter documented with a type and a description (PR01-PR07, PR10), a Returns
# section with a type and a description (RT01-RT04), an Examples section (EX01: doctests that
# make unit runs), well-formed sections (GL*, SS02).
# Left out on purpose: PR09 / RT05 / SS03 (a description ends with its unit in brackets, as
# the style guide asks), SS05 (summaries are noun phrases), ES01, SA01, PR03 (related
# parameters are documented together), GL01 (numpydoc 1.8 wants the summary on the line after
# the opening quotes; costkit follows PEP 257: on the opening line, as the style guide does).
NUMPYDOC_CHECKS = {"EX01", "PR01", "PR02", "PR04", "PR05", "PR06", "PR07", "PR08", "PR10", "RT01",
                   "RT02", "RT03", "RT04", "GL02", "GL03", "GL05", "GL06", "GL07",
                   "GL08", "SS01", "SS02"}


def _numpydoc_errors():
    from numpydoc.validate import validate

    for name, fn in _public_callables():
        top = getattr(importlib.import_module(fn.__module__), fn.__qualname__.split(".")[0])
        if inspect.isclass(top) and isinstance(inspect.getattr_static(top, fn.__name__, None),
                                               property):
            continue  # a property's docstring is its one-line description
        for code, message in validate(f"{fn.__module__}.{fn.__qualname__}")["errors"]:
            if code in NUMPYDOC_CHECKS:
                yield f"{name}: {code} {message}"


def test_every_public_function_documents_its_parameters_returns_and_examples():
    pytest.importorskip("numpydoc")
    bad = list(_numpydoc_errors())
    assert not bad, "\n".join(bad[:40])


def test_the_numpydoc_check_can_fail():
    pytest.importorskip("numpydoc")
    from numpydoc.validate import validate

    codes = {c for c, _ in validate("tests.test_typing._undocumented")["errors"]}
    assert {"PR01", "RT01"} <= codes


def _undocumented(x: int) -> int:
    """A function whose parameter and return value are not documented."""
    return x
