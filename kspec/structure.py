"""Check a spec's structure against kspec's JSON Schema, with positions.

A small interpreter for the part of JSON Schema 2020-12 that
`kspec-v1.schema.json` uses. It exists because importing `jsonschema` costs
more than validating a hundred specs, and because its errors carry a JSON
path, not a line and column. The tests keep `jsonschema` as the reference: on
every spec they must agree on valid versus invalid.
"""

from __future__ import annotations

import functools
import json
import math
import re
import os

from .diagnostics import did_you_mean

SCHEMA_FILE = "kspec-v1.schema.json"

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@functools.cache
def schema_text() -> str:
    with open(os.path.join(os.path.dirname(__file__), "schemas", SCHEMA_FILE), encoding="utf-8") as f:
        return f.read()


@functools.cache
def load_schema() -> dict:
    return json.loads(schema_text())


@functools.cache
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


_JSON_TYPES = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


@functools.cache
def schema_checker() -> "SchemaChecker":
    """The checker for kspec's own schema, shared so its compiled steps are reused."""
    return SchemaChecker()


def type_of(value) -> str:
    """The JSON type name of a loaded YAML value."""
    return _JSON_TYPES.get(type(value), "object")


def describe(value) -> str:
    """A short description of a value for messages: `string 'yes'`, `a list`."""
    kind = type_of(value)
    if kind in ("object", "array"):
        return _TYPE_NAMES[kind]
    if kind == "null":
        return "null"
    return f"{kind} {value!r}" if kind != "boolean" else f"boolean {str(value).lower()}"


def _is_type(value, name: str) -> bool:
    kind = type_of(value)
    if name == kind:
        return True
    if name == "number":
        return kind == "integer"
    if name == "integer" and kind == "number":
        return math.isfinite(value) and value == int(value)
    return False


class Problem:
    """A schema violation: where it is, which code, what it says."""

    __slots__ = ("path", "code", "message", "hint", "at_key")

    def __init__(self, path, code, message, hint=None, at_key=False):
        self.path = path
        self.code = code
        self.message = message
        self.hint = hint
        self.at_key = at_key


class SchemaChecker:
    """Validates data against the schema and returns located problems."""

    def __init__(self, schema: dict | None = None):
        self.root = schema or load_schema()
        self._refs: dict[str, dict] = {}
        self._compiled: dict[int, tuple] = {}

    def check(self, data) -> list[Problem]:
        problems: list[Problem] = []
        self._check(data, self.root, (), problems)
        return problems

    def _resolve(self, ref: str) -> dict:
        node = self._refs.get(ref)
        if node is None:
            node = self.root
            for part in ref.lstrip("#/").split("/"):
                node = node[part]
            self._refs[ref] = node
        return node

    def _check(self, value, schema: dict, path: tuple, out: list[Problem]) -> None:
        steps, code = self._compiled.get(id(schema)) or self._compile(schema)
        start = len(out)
        for step in steps:
            step(value, schema, path, out)
        if code is not None:
            for problem in out[start:]:
                problem.code = code

    def _compile(self, schema: dict):
        """The checks that a subschema needs, in order, computed once."""
        steps = []
        if "$ref" in schema:
            target = self._resolve(schema["$ref"])
            steps.append(lambda v, s, p, o: self._check(v, target, p, o))
        for sub in schema.get("allOf", ()):
            steps.append(lambda v, s, p, o, sub=sub: self._check(v, sub, p, o))
        if "anyOf" in schema:
            steps.append(lambda v, s, p, o: self._any_of(v, s["anyOf"], p, o))
        if "oneOf" in schema:
            steps.append(lambda v, s, p, o: self._one_of(v, s["oneOf"], p, o))
        if "not" in schema:
            steps.append(self._not)
        if "if" in schema:
            steps.append(self._if)
        if "const" in schema:
            steps.append(self._const)
        if "enum" in schema:
            steps.append(self._enum)
        steps.append(self._typed)
        compiled = (tuple(steps), schema.get("x-kspec-code"))
        self._compiled[id(schema)] = compiled
        return compiled

    def _if(self, value, schema, path, out) -> None:
        branch = schema.get("then" if self._check_quiet(value, schema["if"], path) else "else")
        if branch is not None:
            self._check(value, branch, path, out)

    def _not(self, value, schema, path, out) -> None:
        if self._check_quiet(value, schema["not"], path):
            keys = schema["not"].get("required", [])
            out.append(Problem(path, "KS105", f"must not have the key {', '.join(keys)}"))

    def _const(self, value, schema, path, out) -> None:
        if not _equal(value, schema["const"]):
            out.append(
                Problem(
                    path,
                    "KS105",
                    f"must be {json.dumps(schema['const'])}, not {describe(value)}",
                    _yaml11_hint(value, "boolean"),
                )
            )

    def _enum(self, value, schema, path, out) -> None:
        if value not in schema["enum"]:
            shown = ", ".join(str(e) for e in schema["enum"])
            out.append(
                Problem(
                    path,
                    "KS105",
                    f"{describe(value)} is not one of: {shown}",
                    _did_you_mean(str(value), map(str, schema["enum"])),
                )
            )

    def _typed(self, value, schema, path, out) -> None:
        expected = schema.get("type")
        if expected is not None and not _is_type(value, expected):
            out.append(
                Problem(
                    path,
                    "KS104",
                    f"expected {_TYPE_NAMES[expected]}, got {describe(value)}",
                    _yaml11_hint(value, expected),
                )
            )
            return
        kind = type_of(value)
        if kind == "object":
            self._object(value, schema, path, out)
        elif kind == "array":
            self._array(value, schema, path, out)
        elif kind == "string":
            self._string(value, schema, path, out)
        elif kind in ("integer", "number"):
            self._number(value, schema, path, out)

    def _check_quiet(self, value, schema, path) -> bool:
        problems: list[Problem] = []
        self._check(value, schema, path, problems)
        return not problems

    def _any_of(self, value, branches, path, out) -> None:
        results = []
        for branch in branches:
            problems: list[Problem] = []
            self._check(value, branch, path, problems)
            if not problems:
                return
            results.append((branch, problems))
        out.extend(self._best(value, results, path))

    def _one_of(self, value, branches, path, out) -> None:
        if isinstance(value, dict) and all(b.keys() == {"required"} for b in branches):
            passing = [b for b in branches if all(k in value for k in b["required"])]
        else:
            passing = [b for b in branches if self._check_quiet(value, b, path)]
        if len(passing) == 1:
            return
        keys = [k for b in branches for k in b.get("required", [])]
        if len(passing) > 1:
            out.append(Problem(path, "KS105", f"use only one of {_or(keys, 'and')}"))
        elif keys and len(keys) == len(branches):
            out.append(Problem(path, "KS101", f"needs {_or(keys, 'or')}"))
        else:
            out.append(Problem(path, "KS105", "matches none of the allowed forms"))

    def _best(self, value, results, path) -> list[Problem]:
        """The problems of the branch that fits the value's type, else a type error."""
        kinds = []
        fitting = []
        for branch, problems in results:
            branch_kinds = _branch_types(branch, self)
            kinds.extend(k for k in branch_kinds if k not in kinds)
            if any(_is_type(value, k) for k in branch_kinds):
                fitting.append(problems)
        if fitting:
            return min(fitting, key=len)
        wanted = " or ".join(_TYPE_NAMES[k] for k in kinds) or "another form"
        return [Problem(path, "KS104", f"expected {wanted}, got {describe(value)}")]

    def _object(self, value: dict, schema, path, out) -> None:
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(Problem(path, "KS101", f"missing required key '{key}'"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            out.append(Problem(path, "KS105", "must not be empty"))
        names = schema.get("propertyNames")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            child = path + (key,)
            if names is not None and not _pattern(names["pattern"]).match(key):
                out.append(
                    Problem(
                        child,
                        "KS105",
                        f"'{key}' is not a valid name: use letters, digits and "
                        "underscores, not starting with a digit",
                        at_key=True,
                    )
                )
            if key in properties:
                self._check(item, properties[key], child, out)
            elif extra is False:
                hint = _did_you_mean(key, properties)
                allowed = ", ".join(properties)
                out.append(
                    Problem(
                        child,
                        "KS103",
                        f"unknown key '{key}'",
                        hint or f"allowed keys: {allowed}",
                        at_key=True,
                    )
                )
            elif isinstance(extra, dict):
                self._check(item, extra, child, out)

    def _array(self, value: list, schema, path, out) -> None:
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(Problem(path, "KS105", "must not be empty"))
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                self._check(item, items, path + (index,), out)

    def _string(self, value: str, schema, path, out) -> None:
        pattern = schema.get("pattern")
        if pattern is not None and not _pattern(pattern).search(value):
            title = schema.get("title", "value").lower()
            out.append(Problem(path, "KS105", f"'{value}' is not a valid {title}", schema.get("description")))

    def _number(self, value, schema, path, out) -> None:
        if "minimum" in schema and not value >= schema["minimum"]:
            out.append(Problem(path, "KS105", f"must be at least {schema['minimum']}, not {value}"))


def _branch_types(branch: dict, checker: SchemaChecker) -> list[str]:
    if "$ref" in branch:
        return _branch_types(checker._resolve(branch["$ref"]), checker)
    if "type" in branch:
        return [branch["type"]]
    if "const" in branch:
        return [type_of(branch["const"])]
    kinds: list[str] = []
    for key in ("anyOf", "allOf"):
        for sub in branch.get(key, []):
            kinds.extend(k for k in _branch_types(sub, checker) if k not in kinds)
    return kinds


def _did_you_mean(word: str, choices) -> str | None:
    match = did_you_mean(word, choices)
    return f"did you mean '{match}'?" if match else None


def _equal(a, b) -> bool:
    return (
        type_of(a) == type_of(b) and a == b or (_is_type(a, "integer") and _is_type(b, "integer") and a == b)
    )


def _or(words, joiner: str) -> str:
    quoted = [f"'{w}'" for w in words]
    return f" {joiner} ".join(quoted) if len(quoted) <= 2 else ", ".join(quoted)


_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"}


def _yaml11_hint(value, expected: str) -> str | None:
    if isinstance(value, str) and value in _YAML11_BOOLS and expected == "boolean":
        return "kspec reads YAML 1.2: write true or false, not yes/no/on/off"
    if isinstance(value, str) and ":" in value and expected in ("integer", "number"):
        return "YAML 1.1 would read this as a base-60 number; write the plain number"
    return None
