"""A whole deployment in one file: read, validate and evaluate a scenario.

A scenario (YAML 1.2, read within bounds by :mod:`costkit._yaml`) names a site's funnel, the
traffic week that capacity is sized for, the timeline, what a day of an
engineer costs, the serving stack running today and one or more options
(what each serves, trains, searches, tests and optimises, what it changes
in the funnel and what it costs to run). :meth:`Scenario.evaluate` prices
everything with the library's own functions (:mod:`costkit.optimization`,
:mod:`costkit.serving`, :mod:`costkit.capacity`, :mod:`costkit.training`,
:mod:`costkit.tuning`, :mod:`costkit.roi`) and returns a
:class:`ScenarioResult`: per-option one-off ledgers, the serving plan, the
ROI comparison, horizon ledgers, a tornado, the Monte Carlo and the
decision in words. ``examples/ecommerce.yaml`` is notebook 06's case.

Validation names every problem with its path in the file
(``options[1].serving[0].gpu``): unknown keys (with the closest known ones),
wrong types, values outside their range, and units. Every numeric key has
its unit in its name; a string with a unit is converted when the dimension
matches (``slo_s: 100 ms`` is 0.1 s, ``ramp_months: 1 quarter`` is not
understood, ``slo_s: 100 GB`` is refused), and fractions may be written as
percentages (``gross_margin: 30%``; a bare 30 is refused, not read as 30%).
Numbers such as ``7.68e9``, which YAML 1.1 reads as strings, are accepted.

How the options are priced:

- serving: each component is a catalog model (optionally quantised,
  distilled or pruned) on a GPU; one replica is priced by
  :meth:`costkit.optimization.Variant.serve` and the fleet for the traffic
  week by :func:`costkit.capacity.plan` (cheapest provisioning). A
  component may ``replace`` a baseline component; the option's incremental
  serving cost and latency per search are its components minus the ones they
  replace, each weighted by its ``share_of_searches``;
- one-off (month 0): training runs (:func:`costkit.training.estimate`),
  hyperparameter searches (:func:`costkit.tuning.search_cost`), the A/B test
  (:func:`costkit.tuning.ab_test_plan` with both arms' serving cost), each
  new component's optimisation work, and engineering days;
- running: a share of an engineer plus other monthly costs; retraining
  (named training runs plus engineering days) every k months;
- ``extends: <option>`` starts from another option: its serving components
  and its one-off ledger lines (an option that builds on another project).

Assumptions: a month is 730 hours, an engineer-month is
``people.engineer_days_per_month`` (21 by default) days; the status quo is
an option named by ``baseline.name`` with no lift and no cost (NPV 0).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from ._checks import count
from ._safe import has_control
from ._tables import suggest
from .units import DAYS_PER_MONTH

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from ._typing import Frame, StrPath
    from .capacity import CapacityPlan
    from .fx import FxRate
    from .optimization import Variant
    from .roi import Case
    from .serving import EncoderEstimate, ServingEstimate

__all__ = ["Scenario", "ScenarioError", "ScenarioResult", "example_path", "examples",
           "monte_carlo_inputs"]

_REQUIRED = object()
MAX_DRAWS = 1_000_000
"""Most Monte Carlo draws a scenario (or ``costkit report --draws``) may ask for."""


class ScenarioError(ValueError):
    """A scenario file that cannot be used: every problem, with its path in the file."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source, self.problems = source, list(problems)
        n = len(self.problems)
        listed = "; ".join(f"{p}: {m}" if p else m for p, m in self.problems)
        super().__init__(f"{source}: {n} problem{'s' if n > 1 else ''}: {listed}")


class _Bad(Exception):
    """One problem with one value (its message; the path is added by the caller)."""


# --------------------------------------------------------------------------- value checkers
_PERCENT = re.compile(r"^\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*%\s*$")
_WITH_UNIT = re.compile(r"^\s*([-+]?[0-9._]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z][\w\- /]*)\s*$")
_RANGES = {
    "any": (None, None, ""),
    "nonneg": (0.0, None, "must be >= 0"),
    "positive": (0.0, None, "must be > 0"),
    "fraction": (0.0, 1.0, "is a fraction from 0 to 1"),
    "share": (0.0, 1.0, "is a share above 0 and at most 1"),
    "lift": (-1.0, None, "is a relative change, > -1"),
    "elasticity": (-1.0, 0.0, "is the relative change in orders per +100 ms, in (-1, 0] "
                              "(slower pages sell less: -0.01 is -1% per 100 ms)"),
    "multiplier": (1.0, None, "must be >= 1"),
}
_TIME_UNITS = {"s": "s", "months": "month", "days": "day", "hours": "hour"}


def _as_float(value, unit: str | None):
    """A number from YAML: int/float, a numeric string, a percentage or a quantity with a unit."""
    if isinstance(value, bool) or value is None:
        raise _Bad(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        try:
            return float(value), False
        except OverflowError:
            raise _Bad(f"a number of {len(str(value))} digits is too large") from None
    if not isinstance(value, str):
        raise _Bad(f"expected a number, got {type(value).__name__} {value!r}")
    try:
        return float(value.replace("_", "")), False
    except ValueError:
        pass
    m = _PERCENT.match(value)
    if m:
        return float(m.group(1)) / 100.0, True
    m = _WITH_UNIT.match(value)
    if m and unit is not None:
        from .units import UnitError, parse_unit

        try:
            given, want = parse_unit(m.group(2).strip()), parse_unit(unit)
        except UnitError as exc:
            raise _Bad(f"{value!r}: {exc}") from None
        if given.dims != want.dims:
            raise _Bad(f"{value!r} is {given.describe_dims()}, but this key is in {unit} "
                       f"({want.describe_dims()})")
        return float(m.group(1).replace("_", "")) * given.scale / want.scale, False
    hint = f" in {unit}" if unit else ""
    if m:
        hint += f" (this key takes a plain number{hint}; its unit is in its name)"
    raise _Bad(f"expected a number{hint}, got {value!r}")


class Checker(Protocol):
    """A scenario key's checker: ``check(value, path)`` returns the value it accepts, or raises.

    ``default`` is the key's default (``_REQUIRED``: none), ``json`` its JSON Schema,
    ``fills``: an absent optional section is filled with its own defaults.
    """

    default: Any
    json: dict
    fills: bool

    def __call__(self, value: Any, path: str) -> Any: ...


def _checker(fn: Callable[[Any, str], Any], default: Any, json: dict, *,
             fills: bool = False) -> Checker:
    """``fn`` with its default and JSON Schema attached.

    The checker the validator and ``costkit schema`` both read.
    """
    fn.__dict__.update(default=default, json=json, fills=fills)
    return cast("Checker", fn)


def _checker_of(fn: Callable[[Any, str], Any]) -> Checker:
    """A function :func:`_checker` has described, typed as the checker it is."""
    return cast("Checker", fn)


def number(kind: str = "nonneg", default=_REQUIRED, *, unit: str | None = None):
    """Checker for one number; ``kind`` names its range (see ``_RANGES``)."""
    lo, hi, what = _RANGES[kind]

    def check(value, path):
        x, percent = _as_float(value, unit)
        if percent and kind not in ("fraction", "lift", "share"):
            raise _Bad(f"{value!r}: a percentage is only for fractions and lifts")
        if not math.isfinite(x):
            raise _Bad(f"must be finite, got {value!r}")
        strict = kind in ("positive", "lift", "share", "elasticity")
        bad = ((lo is not None and (x <= lo if strict else x < lo))
               or (hi is not None and x > hi))
        if bad:
            if kind in ("fraction", "share") and 1 < x <= 100:
                what_ = f"{what}, not a percentage: write {x / 100:g} or '{x:g}%'"
            else:
                what_ = what
            raise _Bad(f"{what_}, got {value!r}")
        return x

    return _checker(check, default, _number_json(kind, unit))


_TEXT_NUMBER = {"type": "string", "description": "a number written as text: '0.02', '2%' (a "
                "fraction or lift), or with a unit ('30 days')"}


def _number_json(kind: str, unit: str | None) -> dict:
    """The JSON Schema of a :func:`number` of range ``kind`` (and its unit)."""
    lo, hi, what = _RANGES[kind]
    strict = kind in ("positive", "lift", "share", "elasticity")
    num: dict = {"type": "number"}
    if lo is not None:
        num["exclusiveMinimum" if strict else "minimum"] = lo
    if hi is not None:
        num["maximum"] = hi
    desc = what or "a number"
    if unit:
        desc += f" (in {unit})"
    return {"anyOf": [num, _TEXT_NUMBER], "description": desc}


def integer(minimum: int = 0, default=_REQUIRED, maximum: int | None = None):
    def check(value, path):
        x, _ = _as_float(value, None)
        if not math.isfinite(x) or x % 1 or x < minimum or (maximum is not None and x > maximum):
            top = f" and <= {maximum}" if maximum is not None else ""
            raise _Bad(f"must be a whole number >= {minimum}{top}, got {value!r}")
        return int(x)

    whole: dict = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        whole["maximum"] = maximum
    return _checker(check, default, {"anyOf": [whole, {"type": "string",
                                                        "description": "a whole number as text"}]})


def text(default=_REQUIRED, choices: tuple | None = None):
    def check(value, path):
        if not isinstance(value, str) or not value.strip():
            raise _Bad(f"expected text, got {value!r}")
        if has_control(value):
            raise _Bad(f"has control characters (terminal escapes?): {value!r}")
        if choices is not None and value not in choices:
            raise _Bad(f"must be one of {', '.join(choices)}, got {value!r}."
                       + suggest(value, choices))
        return value

    schema: dict = {"type": "string", "minLength": 1}
    if choices is not None:
        schema["enum"] = list(choices)
    return _checker(check, default, schema)


def flag(default=_REQUIRED):
    def check(value, path):
        if not isinstance(value, bool):
            raise _Bad(f"expected true or false, got {value!r}")
        return value

    return _checker(check, default, {"type": "boolean"})


def catalog_name(kind: str, default=_REQUIRED):
    """A GPU or model name, checked against the catalog (closest names suggested)."""

    def check(value, path):
        if not isinstance(value, str):
            raise _Bad(f"expected a {kind} name, got {value!r}")
        from . import catalog

        try:
            found = catalog.gpu(value) if kind == "GPU" else catalog.model(value)
        except (LookupError, ValueError) as exc:
            raise _Bad(str(exc).strip("'\"")) from None
        return found.name

    return _checker(check, default, {
        "type": "string", "minLength": 1,
        "description": f"a {kind} name from costkit's catalog (forgiving: case, dashes and known "
                       "aliases; see costkit gpus)"})


def listing(item, default=_REQUIRED, min_items: int = 0):
    def check(value, path):
        if not isinstance(value, list):
            raise _Bad(f"expected a list, got {type(value).__name__} {value!r}")
        if len(value) < min_items:
            raise _Bad(f"needs at least {min_items} item{'s' if min_items > 1 else ''}")
        return [_check(item, v, f"{path}[{i}]") for i, v in enumerate(value)]

    schema: dict = {"type": "array", "items": item.json}
    if min_items:
        schema["minItems"] = min_items
    return _checker(check, default, schema)


def mapping(spec: dict, default=_REQUIRED):
    def check(value, path):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise _Bad(f"expected a mapping of keys, got {type(value).__name__} {value!r}")
        out, problems = {}, []
        for key in value:
            if key not in spec:
                problems.append((_join(path, str(key)),
                                 "unknown key." + suggest(str(key), spec)))
        for key, checker in spec.items():
            p = _join(path, key)
            if key not in value:
                if checker.default is _REQUIRED:
                    problems.append((p, "is required"))
                elif getattr(checker, "fills", False):  # an optional section: its defaults
                    out[key] = checker({}, p)
                else:
                    out[key] = copy.deepcopy(checker.default)
                continue
            try:
                out[key] = _check(checker, value[key], p)
            except _Problems as many:
                problems += many.problems
        if problems:
            raise _Problems(problems)
        return out

    return _checker(check, default, {
        "type": ["object", "null"], "additionalProperties": False,
        "properties": {k: _with_default(c) for k, c in spec.items()},
        "required": [k for k, c in spec.items() if c.default is _REQUIRED]}, fills=default == {})


def _with_default(checker) -> dict:
    """A checker's JSON Schema, with its default when it has a plain one."""
    out = dict(checker.json)
    d = checker.default
    if d is not _REQUIRED and d is not None and d != {} and isinstance(d, str | int | float | list):
        out["default"] = d
    return out


class _Problems(Exception):
    def __init__(self, problems):
        self.problems = problems


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check(checker, value, path):
    try:
        return checker(value, path)
    except _Bad as bad:
        raise _Problems([(path, str(bad))]) from None


def distribution(value, path):
    """An uncertainty: ``[kind, p1, p2(, p3)]`` or ``{distribution, values, relative}``."""
    kinds = {"normal": 2, "lognormal": 2, "uniform": 2, "triangular": 3, "pert": 3}
    relative = False
    if isinstance(value, dict):
        value = _check(mapping({"distribution": text(choices=tuple(kinds)),
                                "values": listing(number("any"), min_items=2),
                                "relative": flag(False)}), value, path)
        kind, params, relative = value["distribution"], value["values"], value["relative"]
    elif isinstance(value, list) and value and isinstance(value[0], str):
        kind = _check(text(choices=tuple(kinds)), value[0], f"{path}[0]")
        params = [_check(number("any"), v, f"{path}[{i + 1}]") for i, v in enumerate(value[1:])]
    else:
        raise _Bad("expected [distribution, parameters...] such as [pert, 0.0, 0.02, 0.04], "
                   f"or a mapping with distribution, values and relative; got {value!r}")
    if len(params) != kinds[kind]:
        raise _Bad(f"{kind} takes {kinds[kind]} parameters, got {len(params)}")
    return (kind, tuple(params), relative)


_KINDS = {"normal": 2, "lognormal": 2, "uniform": 2, "triangular": 3, "pert": 3}
_checker(distribution, _REQUIRED, {"anyOf": [
    {"type": "array", "minItems": 3, "maxItems": 4, "prefixItems": [{"enum": list(_KINDS)}],
     "description": "[distribution, parameters...]: [pert, low, mode, high], [normal, mean, sd]"},
    {"type": "object", "additionalProperties": False, "required": ["distribution", "values"],
     "properties": {"distribution": {"enum": list(_KINDS)},
                    "values": {"type": "array", "minItems": 2},
                    "relative": {"type": "boolean", "default": False}}},
]})

# --------------------------------------------------------------------------- the schema
def _uncertainty(value, path):
    from .roi import _NUMERIC

    if not isinstance(value, dict):
        raise _Bad(f"expected a mapping of input -> distribution, got {value!r}")
    out, problems = {}, []
    for key, spec in value.items():
        p = _join(path, str(key))
        if key not in _NUMERIC or key == "horizon_months":
            problems.append((p, "not an input that can be drawn." + suggest(str(key), _NUMERIC)))
            continue
        try:
            out[key] = _check(distribution, spec, p)
        except _Problems as many:
            problems += many.problems
    if problems:
        raise _Problems(problems)
    return out




def _uncertainty_json() -> dict:
    """The drawable inputs come from costkit.roi, imported only when the schema is asked for."""
    from .roi import _NUMERIC

    return {"type": "object", "additionalProperties": _checker_of(distribution).json,
            "propertyNames": {"enum": [k for k in _NUMERIC if k != "horizon_months"]}}


_checker(_uncertainty, {}, {"$ref": "#/$defs/uncertainty"})
_SERVE_KEYS = {
    # encoders
    "seq_len": integer(1, None), "candidates_per_query": integer(1, None),
    # LLMs
    "prompt_tokens": integer(1, None), "output_tokens": integer(1, None),
    "n_gpus": integer(1, None),
    # both
    "batch_size": integer(1, None), "usd_per_gpu_hour": number("positive", None),
}
_OPTIMIZATION = mapping({
    "technique": text(choices=("quantize", "distill", "prune")),
    "dtype": text(None), "kv_dtype": text(None),
    "student": catalog_name("model", None),
    "examples": number("positive", None), "tokens_per_example": number("positive", None),
    "epochs": number("positive", 1.0),
    "layers_removed": integer(0, 0), "width_removed_fraction": number("fraction", 0.0),
    "recovery_tokens": number("nonneg", 0.0),
    "accuracy_loss": number("fraction", 0.0), "gpu_hours": number("nonneg", 0.0),
    "gpu": catalog_name("GPU", None), "engineering_days": number("nonneg", 0.0),
}, None)
_COMPONENT = mapping({
    "name": text(), "model": catalog_name("model"), "gpu": catalog_name("GPU"),
    "dtype": text("fp16"), "optimization": _OPTIMIZATION,
    "share_of_searches": number("share", 1.0), "slo_s": number("positive", unit="s"),
    "min_replicas": integer(1, 2), "replaces": text(None), **_SERVE_KEYS,
})
_TRAINING = mapping({
    "name": text(), "model": catalog_name("model"), "tokens": number("positive"),
    "gpu": catalog_name("GPU"), "n_gpus": integer(1, None),
    "method": text("full", ("full", "lora", "qlora")), "lora_rank": integer(1, 16),
    "phase": text("train", ("train", "run", "opt", "tune")),
    "usd_per_gpu_hour": number("positive", None), "mfu": number("fraction", None),
    "goodput": number("fraction", None),
})
_SEARCH = mapping({
    "name": text(None), "strategy": text(choices=("grid", "random", "successive_halving",
                                                  "hyperband", "asha")),
    "configurations": integer(1), "trial": text(), "parallel_trials": integer(1, 1),
})
_AB_TEST = mapping({
    "minimum_detectable_lift": number("positive"), "relative": flag(True),
    "traffic_fraction": number("fraction", 1.0), "alpha": number("fraction", 0.05),
    "power": number("fraction", 0.8), "min_days": number("nonneg", 7.0, unit="day"),
}, None)
_ENGINEERING = mapping({"name": text(), "days": number("nonneg"),
                        "phase": text("train", ("train", "run", "opt", "tune"))})
_OPTION = mapping({
    "name": text(), "extends": text(None), "description": text(None),
    "effects": mapping({"ctr_lift": number("lift", 0.0), "cvr_lift": number("lift", 0.0)}, {}),
    "serving": listing(_COMPONENT, []),
    "training": listing(_TRAINING, []), "search": listing(_SEARCH, []),
    "ab_test": _AB_TEST, "engineering": listing(_ENGINEERING, []),
    "running": mapping({
        "engineers_fte": number("nonneg", 0.0), "other_usd_per_month": number("nonneg", 0.0),
        "retrain_every_months": integer(0, 0), "retrain_trainings": listing(text(), []),
        "retrain_engineering_days": number("nonneg", 0.0),
    }, {}),
    "launch_month": integer(1, 1), "ramp_months": number("nonneg", 3.0, unit="month"),
    "uncertainty": _uncertainty,
})
_SCHEMA = mapping({
    "name": text(), "description": text(None),
    "currency": text("USD"), "fx_date": text(None),
    "site": mapping({
        "sessions_per_day": number("positive"), "searches_per_session": number("positive"),
        "click_through_rate": number("fraction"), "conversion_rate": number("fraction"),
        "average_order_value_usd": number("nonneg"), "gross_margin": number("fraction"),
    }),
    "traffic": mapping({
        "days": integer(1, 7, 366), "promotion_multiplier": number("multiplier", 1.0),
        "promotion_days": listing(integer(0), [0]),
        "promotion_hours": listing(integer(0, maximum=23), list(range(24))),
    }, {}),
    "timeline": mapping({
        "horizon_months": integer(1, 36, 600), "annual_discount_rate": number("fraction", 0.10),
        "latency_elasticity_per_100ms": number("elasticity", 0.0),
    }, {}),
    "people": mapping({"usd_per_engineer_day": number("nonneg", 0.0),
                       "engineer_days_per_month": number("positive", 21.0, unit="day")}, {}),
    "baseline": mapping({"name": text("keep today's system"),
                         "serving": listing(_COMPONENT, [])}, {}),
    "options": listing(_OPTION, min_items=1),
    "monte_carlo": mapping({"draws": integer(1, 100_000, MAX_DRAWS), "seed": integer(0, 0)}, {}),
    "sensitivity": mapping({"relative": number("fraction", 0.2)}, {}),
})


def json_schema() -> dict:
    """The scenario format as a JSON Schema (draft 2020-12), for editors (``costkit schema``).

    Generated from the checkers that :meth:`Scenario.from_yaml` runs, for YAML language servers.

    The schema catches the shape (keys, types, ranges, choices); the validator also checks
    what a schema cannot: catalog names, units, distributions' parameters, references
    between options. A file the validator accepts always matches the schema.
    """
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": "costkit scenario", **_SCHEMA.json,
           "$defs": {"uncertainty": _uncertainty_json()}}
    out["type"] = "object"
    return out




# --------------------------------------------------------------------------- scenario
def examples() -> list[str]:
    """Names of the scenario files shipped with costkit (``examples/*.yaml``).

    Returns
    -------
    list of str
        Names of the scenario files shipped with costkit (``examples/*.yaml``).

    Examples
    --------
    >>> examples()
    ['ecommerce', 'small']
    """
    from importlib.resources import files

    return sorted(p.name[:-5] for p in files("costkit.examples").iterdir()
                  if p.name.endswith(".yaml"))


def example_path(name: str) -> Traversable:
    """Path of a shipped scenario file: ``example_path("ecommerce")``.

    Parameters
    ----------
    name : str
        Name of a shipped example (``"ecommerce"``, ``"small"``).

    Returns
    -------
    Traversable
        Path of the file (inside the installed package).

    Examples
    --------
    >>> example_path("small").name
    'small.yaml'
    """
    from importlib.resources import files

    if name not in examples():
        from ._tables import UnknownNameError

        raise UnknownNameError(f"no example scenario {name!r}." + suggest(name, examples()))
    return files("costkit.examples") / f"{name}.yaml"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: ``spec`` (the file with defaults filled in) and its ``source``."""

    spec: dict
    source: str = "<scenario>"

    @classmethod
    def from_yaml(cls, path: StrPath) -> Scenario:
        """Read and validate a YAML scenario file.

        Read as YAML 1.2 within bounds (:mod:`costkit._yaml`): at most 1 MB,
        64 levels of nesting and 100,000 values once aliases are followed;
        a duplicate key is refused.

        Parameters
        ----------
        path : str or Path
            Scenario file (YAML).

        Examples
        --------
        >>> sc = Scenario.from_yaml(example_path("ecommerce"))
        >>> sc.name, len(sc.option_names)
        ('Mid-size shop - BERT re-ranker or LLM query rewriter?', 2)
        """
        from . import _yaml

        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ScenarioError(str(path), [("", f"cannot read the file: {exc.strerror}")]) \
                from None
        if len(raw) > _yaml.MAX_BYTES:
            raise ScenarioError(str(path), [("", f"the file is larger than {_yaml.MAX_BYTES:,} "
                                                 "bytes; a scenario is a few kilobytes")])
        try:
            text_ = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScenarioError(str(path), [("", f"not UTF-8 text (byte {exc.start}); save the "
                                                 "file as UTF-8")]) from None
        try:
            data = _yaml.load(text_)
        except _yaml.YAMLLimitError as exc:
            raise ScenarioError(str(path), [("", str(exc))]) from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<scenario>") -> Scenario:
        """Validate a scenario given as a dict (the parsed YAML).

        Parameters
        ----------
        data : mapping
            The scenario as a mapping (what the YAML reads to).
        source : str, default '<scenario>'
            Where it came from, named in error messages.

        Examples
        --------
        >>> import yaml
        >>> spec = yaml.safe_load(example_path("small").read_text())
        >>> Scenario.from_dict(spec, source="small.yaml").option_names
        ['BERT re-ranker']
        """
        if not isinstance(data, dict):
            raise ScenarioError(source, [("", "a scenario is a mapping with name, site and "
                                              f"options; got {type(data).__name__}")])
        try:
            spec = _check(_SCHEMA, data, "")
        except _Problems as many:
            raise ScenarioError(source, many.problems) from None
        _cross_check(spec, source)
        return cls(spec, source)

    @property
    def name(self) -> str:
        """The scenario's ``name``."""
        return self.spec["name"]

    @property
    def option_names(self) -> list[str]:
        """The names of the options, in file order."""
        return [o["name"] for o in self.spec["options"]]

    def evaluate(self, *, draws: int | None = None, seed: int | None = None,
                 progress: Callable[[int, int], object] | None = None) -> ScenarioResult:
        """Price every option and compare them; ``draws``/``seed`` override ``monte_carlo``.

        ``draws=0`` skips the Monte Carlo. ``progress(done, total)`` is called
        as Monte Carlo draws are evaluated (over all options).

        Parameters
        ----------
        draws : int, optional
            Monte Carlo draws (0 skips it); default the file's. [count]
        seed : int, optional
            Monte Carlo seed; default the file's.
        progress : callable, optional
            ``progress(done, total)`` called as the Monte Carlo runs; default none.

        Returns
        -------
        ScenarioResult
            Every option priced and compared, with the Monte Carlo when draws are asked
            for.

        Examples
        --------
        >>> res = Scenario.from_yaml(example_path("small")).evaluate(draws=0)
        >>> res.best_option in res.table.index
        True
        """
        return _evaluate(self, draws=draws, seed=seed, progress=progress)


def _cross_check(spec, source):
    """Values that refer to each other: extends, replaces, trials, retraining, promotion days."""
    problems, seen, trainings = [], {}, {}
    traffic = spec["traffic"]
    for j, day in enumerate(traffic["promotion_days"]):
        if day >= traffic["days"]:
            problems.append((f"traffic.promotion_days[{j}]", f"day {day} is past the "
                             f"{traffic['days']}-day profile (days are 0 to "
                             f"{traffic['days'] - 1})"))
    _check_currency(spec, problems)
    base = {c["name"] for c in spec["baseline"]["serving"]}
    if spec["baseline"]["name"] in [o["name"] for o in spec["options"]]:
        problems.append(("baseline.name", "is also an option's name"))
    for i, opt in enumerate(spec["options"]):
        p = f"options[{i}]"
        if opt["name"] in seen:
            problems.append((f"{p}.name", f"{opt['name']!r} is used twice"))
        parent = opt["extends"]
        own = {t["name"] for t in opt["training"]}
        if parent is not None:
            if parent not in seen:
                problems.append((f"{p}.extends", f"{parent!r} is not an earlier option."
                                 + suggest(parent, list(seen) or ["(none)"])))
            else:
                own |= trainings[parent]
        for j, c in enumerate(opt["serving"]):
            if c["replaces"] is not None and c["replaces"] not in base:
                problems.append((f"{p}.serving[{j}].replaces",
                                 f"{c['replaces']!r} is not a baseline component."
                                 + suggest(c["replaces"], list(base) or ["(none)"])))
        for j, s in enumerate(opt["search"]):
            if s["trial"] not in own:
                problems.append((f"{p}.search[{j}].trial", f"{s['trial']!r} is not a training "
                                 "run of this option." + suggest(s["trial"], own or ["(none)"])))
        for j, t in enumerate(opt["running"]["retrain_trainings"]):
            if t not in own:
                problems.append((f"{p}.running.retrain_trainings[{j}]",
                                 f"{t!r} is not a training run of this option."
                                 + suggest(t, own or ["(none)"])))
        if opt["running"]["retrain_trainings"] and not opt["running"]["retrain_every_months"]:
            problems.append((f"{p}.running.retrain_every_months",
                             "retrain_trainings are given but no retraining interval"))
        if opt["launch_month"] > spec["timeline"]["horizon_months"]:
            problems.append((f"{p}.launch_month", "is after the horizon"))
        for j, c in enumerate(opt["serving"]):
            o = c["optimization"]
            if o is not None:
                need = {"quantize": ("dtype",), "distill": ("student", "examples",
                                                            "tokens_per_example"),
                        "prune": ()}[o["technique"]]
                for k in need:
                    if o[k] is None:
                        problems.append((f"{p}.serving[{j}].optimization.{k}",
                                         f"is required for {o['technique']}"))
        seen[opt["name"]] = i
        trainings[opt["name"]] = own
    if problems:
        raise ScenarioError(source, problems)


def _check_currency(spec, problems):
    """``currency`` (the report's) must be an ISO code with a rate from USD on ``fx_date``."""
    from .fx import _iso_code, fx_rate

    try:
        cur = spec["currency"] = _iso_code(spec["currency"])
    except ValueError as exc:
        problems.append(("currency", str(exc)))
        return
    for key, date in (("currency", None), ("fx_date", spec["fx_date"])):
        try:
            fx_rate("USD", cur, date=date)
        except (ValueError, LookupError) as exc:
            problems.append((key, str(exc).strip("'\"")))
            return


# --------------------------------------------------------------------------- evaluation
@dataclass
class ScenarioResult:
    """Everything :meth:`Scenario.evaluate` priced.

    - ``funnel``: :class:`costkit.roi.Funnel`;
    - ``components``: DataFrame, one row per serving component: latency,
      USD per 1,000 requests, peak replicas, monthly cost [USD/month];
    - ``plans``: (option or "baseline", component) -> CapacityPlan;
    - ``one_off``: option -> Ledger of month-0 costs;
    - ``cases``: name -> :class:`costkit.roi.Case`, the status quo first;
    - ``table``: :func:`costkit.roi.compare`; ``results``: name -> ROIResult;
    - ``ledgers``: option -> Ledger over the horizon, one-off included;
    - ``tornado``: for the option with the highest NPV (``tornado_option``);
    - ``monte_carlo``: option -> MonteCarloResult; ``decision``: text;
    - ``assumptions``: DataFrame of section, item, value, source.

    Money is computed in USD (the inputs' currency); :meth:`money_rate` gives the
    rate to the report's ``currency`` (scenario key) with its date.
    """

    scenario: Scenario
    funnel: Frame
    components: Frame
    plans: dict
    one_off: dict
    cases: dict
    table: Frame
    results: dict
    ledgers: dict
    tornado: Frame
    tornado_option: str | None
    monte_carlo: dict
    decision: str
    assumptions: Frame
    recommended: str = ""

    @property
    def best_option(self) -> str:
        """The case with the highest *central* NPV (the status quo when nothing pays).

        Not the recommendation: :attr:`recommended` is the option the decision deploys,
        which weighs the Monte Carlo risk and may be another one.
        """
        return str(self.table["npv_usd"].idxmax())

    @property
    def best_investment(self) -> str:
        """The option (not the status quo) with the highest NPV, even if it is negative."""
        names = [n for n in self.table.index if n in self.one_off]
        return str(self.table.loc[names, "npv_usd"].idxmax())

    def money_rate(self, currency: str | None = None) -> FxRate:
        """The rate from USD to the report's currency, dated.

        Parameters
        ----------
        currency : str, optional
            ISO code; default the file's ``currency:`` (USD unless set). The rate is
            the newest on or before the file's ``fx_date:`` (default: the newest).

        Returns
        -------
        FxRate
            ``1 USD = rate currency`` with its date and sources.

        Examples
        --------
        >>> res = Scenario.from_yaml(example_path("small")).evaluate(draws=0)
        >>> str(res.money_rate("CNY")).split(";")[0]
        '1 USD = 6.9858 CNY (rate of 2026-01-27)'
        """
        from .fx import fx_rate

        return fx_rate("USD", currency or self.scenario.spec["currency"],
                       date=self.scenario.spec["fx_date"])

    def to_dict(self) -> dict:
        """Plain numbers and text (JSON-serialisable) for scripts.

        Returns
        -------
        dict
            Plain numbers and text (JSON-serialisable) for scripts.

        Examples
        --------
        >>> d = Scenario.from_yaml(example_path("small")).evaluate(draws=0).to_dict()
        >>> sorted(d)[:4]
        ['assumptions', 'best_central_npv_option', 'comparison', 'decision']
        """
        def clean(x):
            if isinstance(x, dict):
                return {str(k): clean(v) for k, v in x.items()}
            if isinstance(x, list | tuple):
                return [clean(v) for v in x]
            if isinstance(x, np.generic):
                x = x.item()
            if isinstance(x, float) and not math.isfinite(x):
                return None
            return x

        out = {
            "scenario": self.scenario.name, "source": self.scenario.source,
            "recommended": self.recommended, "decision": self.decision,
            "best_central_npv_option": self.best_option,
            "comparison": self.table.reset_index().to_dict(orient="records"),
            "one_off_usd": {k: led.total() for k, led in self.one_off.items()},
            "one_off_lines": {k: led.to_frame()[["phase", "category", "name", "quantity",
                                                 "unit", "cost_usd"]].to_dict(orient="records")
                              for k, led in self.one_off.items()},
            "horizon_cost_usd": {k: dict(led.by_phase()) for k, led in self.ledgers.items()},
            "serving": self.components.to_dict(orient="records"),
            "monte_carlo": {k: m.summary().to_dict() for k, m in self.monte_carlo.items()},
            "tornado": ({"option": self.tornado_option,
                         "rows": self.tornado.reset_index().to_dict(orient="records")}
                        if self.tornado is not None else None),
            "assumptions": self.assumptions.to_dict(orient="records"),
        }
        return clean(out)


def _variant(comp, spec):
    from . import optimization as op

    day = spec["people"]["usd_per_engineer_day"]
    v = op.baseline(comp["model"], dtype=comp["dtype"], name=comp["name"])
    o = comp["optimization"]
    if o is None:
        return v
    common = dict(accuracy_loss=o["accuracy_loss"], engineering_days=o["engineering_days"],
                  usd_per_engineer_day=day, name=comp["name"])
    gpu = o["gpu"] or comp["gpu"]
    if o["technique"] == "quantize":
        return op.quantize(v, o["dtype"], kv_dtype=o["kv_dtype"], gpu_hours=o["gpu_hours"],
                           gpu=gpu, **common)
    if o["technique"] == "distill":
        return op.distill(v, o["student"], examples=o["examples"],
                          tokens_per_example=o["tokens_per_example"], epochs=o["epochs"],
                          gpu=gpu, **common)
    return op.prune(v, layers_removed=o["layers_removed"],
                    width_removed_fraction=o["width_removed_fraction"],
                    recovery_tokens=o["recovery_tokens"], gpu=gpu, **common)


@dataclass
class _Served:
    name: str
    variant: Variant
    estimate: ServingEstimate | EncoderEstimate
    plan: CapacityPlan
    share: float
    replaces: str | None
    where: str

    @property
    def latency_ms(self) -> float:
        return float(self.estimate.request_latency_s) * 1e3

    @property
    def usd_per_1k_requests(self) -> float:
        e = self.estimate  # LLMs price requests, encoders queries: one search each here
        return float(e.usd_per_1k_requests if hasattr(e, "usd_per_1k_requests")
                     else e.usd_per_1k_queries)


def _serve(comp, spec, where, searches_per_day):
    from . import capacity as cp

    v = _variant(comp, spec)
    keys = ("seq_len", "candidates_per_query", "batch_size") if v.kind == "encoder" else \
        ("prompt_tokens", "output_tokens", "n_gpus", "batch_size")
    stray = [k for k in _SERVE_KEYS if comp[k] is not None and k not in keys
             and k != "usd_per_gpu_hour"]
    if stray:
        raise _Problems([(f"{where}.{stray[0]}", f"does not apply to an {v.kind} "
                          f"({comp['model']}); it takes {', '.join(keys)}")])
    kw = {k: comp[k] for k in keys if comp[k] is not None}
    if comp["usd_per_gpu_hour"] is not None:
        kw["usd_per_gpu_hour"] = comp["usd_per_gpu_hour"]
    est = v.serve(gpu=comp["gpu"], **kw)
    t = spec["traffic"]
    week = cp.traffic_profile(comp["share_of_searches"] * searches_per_day, days=t["days"],
                              promotion_multiplier=t["promotion_multiplier"],
                              promotion_days=tuple(t["promotion_days"]),
                              promotion_hours=tuple(t["promotion_hours"]))
    plan = cp.plan(week, est, slo_s=comp["slo_s"], min_replicas=comp["min_replicas"],
                   label=comp["name"])
    return _Served(comp["name"], v, est, plan, comp["share_of_searches"], comp["replaces"],
                   where)


def _guard(path, fn, *args, **kwargs):
    """Run a library call; its ValueError/LookupError becomes a problem at ``path``."""
    try:
        return fn(*args, **kwargs)
    except _Problems:
        raise
    except (ValueError, LookupError) as exc:
        raise _Problems([(path, str(exc).strip("'\""))]) from None


def _override(name, value, maximum):
    """``draws=`` or ``seed=`` given to evaluate(): the file's own bounds apply."""
    try:
        return count(name, value, minimum=0, maximum=maximum,
                     beyond="the scenario limit guards memory and time")
    except (TypeError, ValueError) as exc:
        raise _Problems([(f"monte_carlo.{name}", str(exc))]) from None


def _evaluate(sc: Scenario, *, draws, seed, progress):
    try:
        return _evaluate_checked(sc, draws=draws, seed=seed, progress=progress)
    except _Problems as many:
        raise ScenarioError(sc.source, many.problems) from None


@dataclass
class _Build:
    """What evaluating a scenario has resolved so far: the funnel, the baseline, each option."""

    spec: dict
    funnel: Any
    common: dict
    usd_per_day: float
    searches_per_day: float
    base: dict
    cases: dict
    served: dict = field(default_factory=dict)
    one_off: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    plans: dict = field(default_factory=dict)

    @property
    def control_usd_per_1k(self) -> float:
        """Today's serving cost per 1,000 searches: the baseline components by share. [USD]"""
        return sum(s.share * s.usd_per_1k_requests for s in self.base.values())


def _start(spec: dict) -> _Build:
    """The funnel, the baseline's serving components and its business case."""
    from . import roi

    site, tl = spec["site"], spec["timeline"]
    funnel_kw = dict(sessions_per_month=site["sessions_per_day"] * DAYS_PER_MONTH,
                     searches_per_session=site["searches_per_session"],
                     click_through_rate=site["click_through_rate"],
                     conversion_rate=site["conversion_rate"],
                     average_order_value_usd=site["average_order_value_usd"],
                     gross_margin=site["gross_margin"])
    funnel = _guard("site", roi.Funnel, **funnel_kw)
    searches_per_day = site["sessions_per_day"] * site["searches_per_session"]
    base = {c["name"]: _guard(f"baseline.serving[{i}]", _serve, c, spec,
                              f"baseline.serving[{i}]", searches_per_day)
            for i, c in enumerate(spec["baseline"]["serving"])}
    common = dict(**funnel_kw, horizon_months=tl["horizon_months"],
                  annual_discount_rate=tl["annual_discount_rate"],
                  latency_elasticity_per_100ms=tl["latency_elasticity_per_100ms"])
    name = spec["baseline"]["name"]
    b = _Build(spec=spec, funnel=funnel, common=common,
               usd_per_day=spec["people"]["usd_per_engineer_day"],
               searches_per_day=searches_per_day, base=base,
               cases={name: _guard("site", roi.Case, **common, name=name)})
    for s in base.values():
        b.rows.append(_component_row("baseline", s))
        b.plans["baseline", s.name] = s.plan
    return b


def _option_one_off(b: _Build, p: str, opt: dict):
    """An option's serving stack, its training runs and its one-off ledger (with its parent's).

    Serving variants with a one-off cost, training, search, the A/B test and engineering days
    go into the ledger.
    """
    from . import training as tr
    from . import tuning as tu
    from .ledger import Ledger

    parent = opt["extends"]
    stack = list(b.served[parent]) if parent else []
    led = Ledger(title=f"{opt['name']}: one-off")
    if parent:
        led.extend(b.one_off[parent])
    trained = dict(b.runs[parent]) if parent else {}
    for j, c in enumerate(opt["serving"]):
        s = _guard(f"{p}.serving[{j}]", _serve, c, b.spec, f"{p}.serving[{j}]",
                   b.searches_per_day)
        stack.append(s)
        b.rows.append(_component_row(opt["name"], s))
        b.plans[opt["name"], s.name] = s.plan
        if s.variant.one_off_usd:
            s.variant.to_ledger(led)
    for j, t in enumerate(opt["training"]):
        kw = dict(model=t["model"], tokens=t["tokens"], gpu=t["gpu"], method=t["method"],
                  lora_rank=t["lora_rank"])
        kw.update({k: t[k] for k in ("n_gpus", "usd_per_gpu_hour", "mfu", "goodput")
                   if t[k] is not None})
        est = _guard(f"{p}.training[{j}]", tr.estimate, **kw)
        trained[t["name"]] = est
        _guard(f"{p}.training[{j}]", est.to_ledger, led, phase=t["phase"], name=t["name"])
    for j, s in enumerate(opt["search"]):
        cost = _guard(f"{p}.search[{j}]", tu.search_cost, s["strategy"], s["configurations"],
                      trial=trained[s["trial"]], parallel_trials=s["parallel_trials"])
        cost.to_ledger(led, **({"name": s["name"]} if s["name"] else {}))
    if opt["ab_test"] is not None:
        _ab_test(b, p, opt["ab_test"], stack).to_ledger(led)
    for e in opt["engineering"]:
        if e["days"]:
            led.add(e["phase"], e["name"], e["days"], "engineer-day", b.usd_per_day,
                    "USD/engineer-day", category="labour")
    return stack, led, trained


def _ab_test(b: _Build, p: str, ab: dict, stack: list):
    """The option's A/B test, its treatment arm served by the option's stack."""
    from . import tuning as tu

    site, funnel = b.spec["site"], b.funnel
    replaced = {x.replaces for x in stack if x.replaces}
    treatment = (b.control_usd_per_1k
                 - sum(b.base[r].share * b.base[r].usd_per_1k_requests for r in replaced)
                 + sum(x.share * x.usd_per_1k_requests for x in stack))
    return _guard(f"{p}.ab_test", tu.ab_test_plan, funnel.orders_per_session,
                  ab["minimum_detectable_lift"], relative=ab["relative"],
                  daily_units=site["sessions_per_day"], traffic_fraction=ab["traffic_fraction"],
                  alpha=ab["alpha"], power=ab["power"], min_days=ab["min_days"],
                  requests_per_unit=site["searches_per_session"],
                  control_usd_per_1k_requests=b.control_usd_per_1k,
                  treatment_usd_per_1k_requests=treatment,
                  gross_profit_per_conversion_usd=funnel.gross_profit_per_order_usd)


def _option_case(b: _Build, p: str, opt: dict, stack: list, trained: dict, led) -> Case:
    """The option's business case: serving and latency against what it replaces, its costs."""
    from . import roi

    old = [b.base[r] for r in {x.replaces for x in stack if x.replaces}]
    serving_month = (sum(x.plan.monthly_cost_usd() for x in stack)
                     - sum(x.plan.monthly_cost_usd() for x in old))
    latency_ms = (sum(x.share * x.latency_ms for x in stack)
                  - sum(x.share * x.latency_ms for x in old))
    if serving_month < 0:
        raise _Problems([(f"{p}.serving", f"the option serves for {-serving_month:,.0f} "
                          "USD a month less than what it replaces; costkit.roi.Case takes "
                          "an incremental cost >= 0 (price a saving with "
                          "costkit.optimization.compare)")])
    keep = np.prod([1 - x.variant.accuracy_loss for x in stack])
    run = opt["running"]
    retrain = (sum(trained[t].cost_usd for t in run["retrain_trainings"])
               + run["retrain_engineering_days"] * b.usd_per_day)
    fte_month = b.spec["people"]["engineer_days_per_month"] * b.usd_per_day
    return _guard(p, roi.Case, **b.common, name=opt["name"],
                  ctr_lift=opt["effects"]["ctr_lift"], cvr_lift=opt["effects"]["cvr_lift"],
                  accuracy_loss=float(1 - keep), latency_change_ms=latency_ms,
                  one_off_usd=led.total(),
                  serving_usd_per_1k_searches=b.funnel.usd_per_1k_searches(serving_month),
                  fixed_usd_per_month=run["engineers_fte"] * fte_month
                  + run["other_usd_per_month"],
                  retrain_usd=retrain, retrain_every_months=run["retrain_every_months"],
                  launch_month=opt["launch_month"], ramp_months=opt["ramp_months"])


def _draws(spec: dict, cases: dict, *, draws, seed, progress) -> dict:
    """Monte Carlo draws of every option with an ``uncertainty`` section (progress overall)."""
    from . import roi

    mc_cfg = spec["monte_carlo"]
    n = mc_cfg["draws"] if draws is None else _override("draws", draws, MAX_DRAWS)
    s0 = mc_cfg["seed"] if seed is None else _override("seed", seed, None)
    options = [o["name"] for o in spec["options"]]
    uncertain = {o["name"]: o["uncertainty"] for o in spec["options"] if o["uncertainty"]}
    mc: dict = {}
    if n <= 0 or not uncertain:
        return mc
    total, done = n * len(uncertain), 0
    for name, dists in uncertain.items():
        case = cases[name]
        tick = None
        if progress is not None:
            def tick(k, _n, offset=done):
                progress(offset + k, total)
        mc[name] = _guard(f"options[{options.index(name)}].uncertainty", roi.monte_carlo,
                          case, monte_carlo_inputs(case, dists), n=n, seed=s0, progress=tick)
        done += n
    return mc


def _evaluate_checked(sc: Scenario, *, draws, seed, progress):
    """Resolve the baseline, then each option, then compare, rank, draw and decide.

    Options are built in file order: an option may extend an earlier one.
    """
    import pandas as pd

    from . import roi
    from .decision import KEEP, decision_and_recommendation

    spec = sc.spec
    b = _start(spec)
    for i, opt in enumerate(spec["options"]):
        p = f"options[{i}]"
        stack, led, trained = _option_one_off(b, p, opt)
        b.served[opt["name"]], b.one_off[opt["name"]], b.runs[opt["name"]] = stack, led, trained
        b.cases[opt["name"]] = _option_case(b, p, opt, stack, trained, led)

    cases, one_off = b.cases, b.one_off
    table = roi.compare(cases)
    results = {n: c.evaluate() for n, c in cases.items()}
    months = spec["timeline"]["horizon_months"]
    ledgers = {n: results[n].to_ledger(one_off=one_off[n], title=f"{n}: {months} months")
               for n in one_off}
    best = max((o["name"] for o in spec["options"]), key=lambda n: table.loc[n, "npv_usd"])
    swings = roi.default_swings(cases[best], spec["sensitivity"]["relative"])
    tornado = roi.tornado(cases[best], swings) if swings else None
    mc = _draws(spec, cases, draws=draws, seed=seed, progress=progress)
    decision, recommended = decision_and_recommendation(cases, mc or None, tornado)
    if recommended == KEEP:  # the file's own name for today's system, where it has one
        recommended = next((n for n in table.index if n not in one_off), KEEP)
    return ScenarioResult(
        scenario=sc, funnel=b.funnel, components=pd.DataFrame(b.rows, columns=_COMPONENT_COLUMNS),
        plans=b.plans, one_off=one_off, cases=cases, table=table, results=results,
        ledgers=ledgers, tornado=tornado, tornado_option=best if tornado is not None else None,
        monte_carlo=mc, decision=decision, recommended=str(recommended),
        assumptions=_assumptions(sc, b.base, b.served, b.runs, results),
    )


def monte_carlo_inputs(case: Case, uncertainty: dict) -> dict:
    """An option's validated ``uncertainty`` as :func:`costkit.roi.monte_carlo` inputs.

    ``relative`` distributions are multiples of the case's own value
    (``one_off_usd: {distribution: pert, values: [0.8, 1, 2], relative: true}``).

    Parameters
    ----------
    case : Case
        The option's business case.
    uncertainty : dict
        An option's ``uncertainty`` section as read from the file.

    Returns
    -------
    dict
        An option's validated ``uncertainty`` as :func:`costkit.roi.monte_carlo` inputs.

    Examples
    --------
    >>> from costkit.roi import Case
    >>> case = Case(sessions_per_month=1e6, searches_per_session=3, click_through_rate=0.4,
    ...             conversion_rate=0.05, average_order_value_usd=50.0, gross_margin=0.2,
    ...             cvr_lift=0.02)
    >>> monte_carlo_inputs(case, {"cvr_lift": ("pert", (0.0, 0.02, 0.04), False)})
    {'cvr_lift': ('pert', 0.0, 0.02, 0.04)}
    """
    return {k: (kind, *[x * float(getattr(case, k)) if rel else x for x in params])
            for k, (kind, params, rel) in uncertainty.items()}


_COMPONENT_COLUMNS = ["option", "component", "model", "dtype", "gpu", "share_of_searches",
                      "replaces", "latency_ms", "usd_per_1k_requests", "usd_per_replica_hour",
                      "peak_replicas", "strategy", "usd_per_month", "one_off_usd",
                      "accuracy_loss"]


def _component_row(option, s: _Served) -> dict:
    e, p = s.estimate, s.plan
    return {
        "option": option, "component": s.name, "model": s.variant.model,
        "dtype": s.variant.dtype, "gpu": str(e.gpu), "share_of_searches": s.share,
        "replaces": s.replaces or "", "latency_ms": s.latency_ms,
        "usd_per_1k_requests": s.usd_per_1k_requests,
        "usd_per_replica_hour": float(e.usd_per_replica_hour),
        "peak_replicas": float(p.hourly["replicas_needed"].max()),
        "strategy": p.cheapest, "usd_per_month": p.monthly_cost_usd(),
        "one_off_usd": s.variant.one_off_usd, "accuracy_loss": s.variant.accuracy_loss,
    }


def _assumptions(sc, base, served, runs, results):
    """Every input the numbers rest on, with where it came from."""
    import pandas as pd

    spec, src = sc.spec, f"scenario file {sc.source}"
    rows = []
    for key, v in spec["site"].items():
        rows.append(("site", key, v, src))
    for key in ("timeline", "people", "traffic"):
        for k, v in spec[key].items():
            rows.append((key, k, v, src))
    rows.append(("funnel", "sessions_per_month",
                 spec["site"]["sessions_per_day"] * DAYS_PER_MONTH,
                 "sessions_per_day x 730 / 24 (a 730-hour month)"))
    stacks = list(base.values())
    for stack in served.values():
        stacks += [s for s in stack if s not in stacks]
    for s in stacks:
        a, pa = s.estimate.assumptions, s.plan.assumptions
        rows.append((f"serving: {s.name}", "price", a.get("price", ""),
                     "; ".join(a.get("price_sources", [])) or "given in the scenario file"))
        if a.get("price_warning"):
            rows.append((f"serving: {s.name}", "price warning", a["price_warning"],
                         "costkit.catalog.PRICE_AGE_WARN_DAYS (90 days)"))
        for k in ("compute_utilization", "bandwidth_utilization", "cost_basis"):
            if k in a:
                rows.append((f"serving: {s.name}", k, a[k], "costkit.serving default"))
        for k in ("slo", "target_utilization", "min_replicas", "reserved_discount", "spot",
                  "spot_interruption_rate", "queueing"):
            if k in pa:
                rows.append((f"capacity: {s.name}", k, pa[k], "costkit.capacity default"
                             if k not in ("slo", "min_replicas") else src))
    for trained in runs.values():
        for name, est in trained.items():
            a = est.assumptions
            rows.append((f"training: {name}", "mfu", a.get("mfu"), a.get("mfu_basis", "")))
            rows.append((f"training: {name}", "goodput", a.get("goodput"),
                         "costkit.mfu.DEFAULT_GOODPUT (MegaScale 2024: over 90% effective "
                         "training time)" if est.goodput == 0.9 else src))
            rows.append((f"training: {name}", "price", a.get("price", ""),
                         "; ".join(a.get("price_sources", [])) or src))
            if a.get("price_warning"):
                rows.append((f"training: {name}", "price warning", a["price_warning"],
                             "costkit.catalog.PRICE_AGE_WARN_DAYS (90 days)"))
            rows.append((f"training: {name}", "pue", a.get("pue"), "costkit.training default"))
    first = next(iter(results.values()))
    for k, v in first.assumptions.items():
        rows.append(("roi", k, v, "costkit.roi"))
    out = pd.DataFrame(rows, columns=["section", "item", "value", "source"])
    out["value"] = out["value"].map(lambda v: v if isinstance(v, str) else repr(v)
                                    if isinstance(v, list | tuple | dict) else v)
    return out.drop_duplicates(subset=["section", "item"]).reset_index(drop=True)
