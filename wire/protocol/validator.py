"""A small interpreter of the JSON Schema (draft 2020-12) keywords the protocol's schemas use
(:data:`SUPPORTED_KEYWORDS`): :func:`validate` stops at the first violation and says where, what was
expected and what came.

Standard library only: editor plug-ins vendor this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

SUPPORTED_KEYWORDS = frozenset(
    {
        "$schema", "$id", "title", "description", "default",
        "type", "const", "enum", "not", "anyOf",
        "minimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
        "minItems", "maxItems", "uniqueItems", "items", "prefixItems",
        "required", "properties", "additionalProperties",
    }
)
"""The JSON Schema keywords this validator understands (all the protocol's schemas use)."""


class SchemaViolation(Exception):
    """An instance does not satisfy a schema at ``path`` (e.g. ``edges.feather``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or '(message)'}: {problem}")
        self.path = path
        self.problem = problem


def show_value(value: Any) -> str:
    """``value`` as an error message quotes it: JSON, cut at 60 characters."""
    text = json.dumps(value, ensure_ascii=False, default=repr) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def has_type(value: Any, name: str) -> bool:
    """Whether ``value`` is of JSON Schema type ``name`` (an integral float counts as an integer)."""
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def _json_equal(a: Any, b: Any) -> bool:
    ta, tb = _json_type(a), _json_type(b)
    if ta in ("integer", "number") and tb in ("integer", "number"):
        return a == b
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object", "null": "null"}


def validate(instance: Any, schema: Mapping[str, Any] | bool, *, path: str = "") -> None:
    """Check ``instance`` against ``schema`` (the keywords in :data:`SUPPORTED_KEYWORDS`).

    Parameters
    ----------
    instance : Any
        Decoded JSON (dicts, lists, str, int, float, bool, None; tuples count as arrays).
    schema : Mapping or bool
        A schema of the protocol (plain dicts; ``True``/``False`` accept/refuse anything).
    path : str, optional
        The instance's location, used in error messages.

    Raises
    ------
    SchemaViolation
        At the first violation found, naming the path, what was expected and what came.
    """
    if schema is True:
        return
    if schema is False:
        raise SchemaViolation(path, "not allowed here")
    kind = _json_type(instance)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(has_type(instance, n) for n in names):
            want = " or ".join(_ARTICLE.get(n, f"a {n}") for n in names)
            raise SchemaViolation(path, f"expected {want}; got {show_value(instance)}")
    if "const" in schema and not _json_equal(instance, schema["const"]):
        raise SchemaViolation(path, f"expected {show_value(schema['const'])}; got {show_value(instance)}")
    if "enum" in schema and not any(_json_equal(instance, v) for v in schema["enum"]):
        choices = ", ".join(show_value(v) for v in schema["enum"])
        raise SchemaViolation(path, f"expected one of {choices}; got {show_value(instance)}")
    if kind in ("integer", "number"):
        lo, hi, below = schema.get("minimum"), schema.get("maximum"), schema.get("exclusiveMaximum")
        if (lo is not None and instance < lo) or (hi is not None and instance > hi) or \
                (below is not None and instance >= below):
            if lo is not None and below is not None:
                want = f"a value in [{lo:g}, {below:g})"
            elif below is not None:
                want = f"a value < {below:g}"
            elif lo is not None and hi is not None:
                want = f"a value in [{lo:g}, {hi:g}]"
            else:
                want = f"a value >= {lo:g}" if lo is not None else f"a value <= {hi:g}"
            raise SchemaViolation(path, f"expected {want}; got {show_value(instance)}")
    if kind == "string":
        if len(instance) < schema.get("minLength", 0):
            raise SchemaViolation(path, f"expected at least {schema['minLength']} character(s); got {show_value(instance)}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            raise SchemaViolation(path, f"expected at most {schema['maxLength']} characters; got {show_value(instance)}")
        if "pattern" in schema and re.search(schema["pattern"], instance) is None:
            raise SchemaViolation(path, f"expected a match of {schema['pattern']!r}; got {show_value(instance)}")
    if kind == "array":
        _validate_array(instance, schema, path)
    if kind == "object":
        _validate_object(instance, schema, path)
    if "not" in schema:
        try:
            validate(instance, schema["not"], path=path)
        except SchemaViolation:
            pass
        else:
            want = schema.get("description", "something else")
            raise SchemaViolation(path, f"expected {want}; got {show_value(instance)}")
    if "anyOf" in schema:
        problems = []
        for option in schema["anyOf"]:
            try:
                validate(instance, option, path=path)
                break
            except SchemaViolation as exc:
                problems.append(exc.problem)
        else:
            raise SchemaViolation(path, " or ".join(problems))


def _validate_array(instance: Sequence[Any], schema: Mapping[str, Any], path: str) -> None:
    n = len(instance)
    if n < schema.get("minItems", 0):
        raise SchemaViolation(path, f"expected at least {schema['minItems']} item(s); got {n}")
    if "maxItems" in schema and n > schema["maxItems"]:
        raise SchemaViolation(path, f"expected at most {schema['maxItems']} item(s); got {n}")
    prefix = schema.get("prefixItems", [])
    for i, item in enumerate(instance):
        if i < len(prefix):
            validate(item, prefix[i], path=_join(path, i))
        elif "items" in schema:
            if schema["items"] is False:
                raise SchemaViolation(path, f"expected {len(prefix)} item(s); got {n}")
            validate(item, schema["items"], path=_join(path, i))
    if schema.get("uniqueItems"):
        for i in range(n):
            for j in range(i):
                if _json_equal(instance[i], instance[j]):
                    raise SchemaViolation(_join(path, i), f"duplicate of item {j}: {show_value(instance[i])}")


def _validate_object(instance: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> None:
    for key in schema.get("required", []):
        if key not in instance:
            raise SchemaViolation(_join(path, key), "required field is missing")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if key in props:
            validate(value, props[key], path=_join(path, key))
        elif extra is False:
            raise SchemaViolation(_join(path, key), "unknown field")
        else:
            validate(value, extra, path=_join(path, key))
