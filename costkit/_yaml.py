"""A bounded, YAML 1.2 reader for scenario files (PyYAML underneath).

``yaml.safe_load`` builds no objects, but it still lets a small file ask for
unbounded work: nine nested anchors expand a 351-byte file into gigabytes
(a "billion laughs"), and 10,000 nested brackets overflow the stack. It also
reads YAML 1.1, where ``no`` is ``False``, ``1:20`` is 80 and a duplicate key
silently replaces the first. :func:`load` refuses all of these:

- a file larger than ``MAX_BYTES``;
- nesting deeper than ``MAX_DEPTH`` (counted on the event stream, before any
  recursion);
- a document that expands, aliases followed, to more than ``MAX_NODES`` values
  (counted on the node graph, before any object is built), or that refers to
  itself;
- a key given twice in one mapping.

Plain scalars are resolved with the YAML 1.2 core schema: ``true``/``false``
(any case form the spec lists) are booleans, ``null``/``~``/empty are null,
``7.68e9`` and ``.inf`` are floats, ``0o17`` and ``0x1F`` are integers, and
everything else (``yes``, ``no``, ``on``, ``1:20``, ``2026-01-01``, ``1_000``)
stays a string, for the schema to accept or refuse with its own message.
"""

from __future__ import annotations

import re

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 100_000


class YAMLLimitError(ValueError):
    """A YAML file that is not valid, or asks for more than the bounds allow."""


def _loader_class():
    import yaml

    class Loader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict = {}

        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain value",
                        key_node.start_mark) from None
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {seen[key] + 1}); "
                        "a key may appear once in a mapping", key_node.start_mark)
                seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node):
            value = self.construct_scalar(node)
            if value[:2] in ("0o", "0x"):
                return int(value, 8 if value[1] == "o" else 16)
            return int(value, 10)

        def construct_yaml_float(self, node):
            value = self.construct_scalar(node).lower()
            sign = -1.0 if value.startswith("-") else 1.0
            if value.lstrip("+-") == ".inf":
                return sign * float("inf")
            if value == ".nan":
                return float("nan")
            return float(value)

        def construct_yaml_bool(self, node):
            return self.construct_scalar(node).lower() == "true"

    def implicit(tag, pattern, first):
        Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))

    implicit("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
    implicit("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
    implicit("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
             "-+0123456789")
    implicit("tag:yaml.org,2002:float",
             r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
                 |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", "-+.0123456789")
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    Loader.add_constructor("tag:yaml.org,2002:bool", Loader.construct_yaml_bool)
    return Loader


_LOADER = None


def _depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, from the event stream (no recursion)."""
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLLimitError(f"line {event.start_mark.line + 1}: nested more than "
                                     f"{MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _expanded_size(root) -> int:
    """Values in the document once every alias is followed, stopping past MAX_NODES."""
    import yaml

    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise YAMLLimitError(f"line {node.start_mark.line + 1}: an anchor refers to itself")
        busy.add(key)
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise YAMLLimitError(f"expands to more than {MAX_NODES:,} values once its "
                                     "aliases are followed (an alias bomb?)")
        busy.discard(key)
        sizes[key] = total
        return total

    return size(root)


def load(text: str):
    """Parse one YAML document within the bounds above; raise YAMLLimitError otherwise."""
    import yaml

    global _LOADER
    if _LOADER is None:
        _LOADER = _loader_class()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YAMLLimitError(f"the file is larger than {MAX_BYTES:,} bytes; a scenario is a "
                             "few kilobytes")
    try:
        _depth(text)
        loader = _LOADER(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _expanded_size(root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}: " if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YAMLLimitError(f"not valid YAML: {at}{problem}") from None
