"""Top-level parameters: `params:` names values (and search spaces) that `$name` uses.

A parameter is a plain default (`width: 64`) or a search space in KerasTuner's terms
(`width: {default: 64, int: {min: 32, max: 256, step: 32}}`; also `float`, `choice`
and `boolean`), whose default is KerasTuner's where none is written. `resolve` is the
one place that puts their values into a spec's data: every `$name` and expression in
the inputs, the model's own layer calls (arguments, `call`, `repeat`) and `compile`.
Blocks take values through their own parameters (a call passes `units: $width`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from . import expressions
from .diagnostics import suggestion

KINDS = ("int", "float", "choice", "boolean")
MALFORMED = "malformed"  # the kind of a mapping that is no search space
SAMPLINGS = ("linear", "log", "reverse_log")
_STRUCTURAL = (
    "name",
    "type",
    "share",
    "op",
    "inputs",
    "keras_name",
    "keras_names",
)  # not values: left as written


class Parameter(NamedTuple):
    name: str
    default: object  # the value: written, or KerasTuner's default for the space
    kind: str | None  # int, float, choice, boolean; None: a plain value, not searched
    space: dict  # int/float: min, max, step, sampling; choice: values
    where: tuple


class Resolved(NamedTuple):
    data: dict  # the spec with every value resolved: what validation and shapes read
    written: dict  # the spec with `$names` kept (repeat counts resolved): what modules are written from
    sources: dict  # where -> the text written there, for each value a parameter gave
    used: set  # parameter names some value uses


def declared(data: dict) -> dict:
    """The spec's top-level parameters, name -> Parameter (of kind MALFORMED where a mapping
    is no search space: `check` reports it)."""
    raw = data.get("params")
    found = {}
    for name, body in raw.items() if isinstance(raw, dict) else ():
        where = ("params", name)
        if not isinstance(body, dict):
            found[name] = Parameter(name, body, None, {}, where)
            continue
        kinds = [k for k in KINDS if k in body]
        kind = kinds[0] if len(kinds) == 1 else None
        space = (
            {"values": body.get(kind)} if kind == "choice" else {} if kind == "boolean" else body.get(kind)
        )
        if (
            kind is None
            or not isinstance(space, dict)
            or (kind == "choice" and not _choices(space["values"]))
        ):
            found[name] = Parameter(name, None, MALFORMED, {}, where)
            continue
        default = body.get("default", _tuner_default(kind, space))
        found[name] = Parameter(name, default, kind, dict(space), where)
    return found


def _choices(values) -> bool:
    return isinstance(values, list) and len(values) > 0


def _tuner_default(kind: str, space: dict):
    """KerasTuner's default where none is given: the minimum, the first value, False."""
    if kind in ("int", "float"):
        return space.get("min")
    if kind == "choice":
        return space["values"][0]
    return False


def values(params: dict) -> dict:
    return {name: param.default for name, param in params.items()}


# Checking declarations --------------------------------------------------------------


def check(params: dict, out) -> None:
    """Each search space is one KerasTuner accepts, and each default lies in its space (KS018)."""
    for param in params.values():
        problem = _problem(param)
        if problem is not None:
            where, message = problem
            out.error(
                param.where + where, "KS018", f"parameter '{param.name}': {message}", _HINTS.get(param.kind)
            )


_HINTS = {
    "int": "int: {min: M, max: N} with optional step (a positive whole number) and sampling",
    "float": "float: {min: A, max: B} with optional step and sampling (linear, log, reverse_log)",
    "choice": "choice: [v1, v2, ...], values of one type",
}


def _problem(param: Parameter):
    """(where under the parameter, message) of what is wrong with it, or None."""
    kind, space, default = param.kind, param.space, param.default
    if kind == MALFORMED:
        return (), "a search space is a default and one of int, float, choice (a list), boolean"
    if kind is None:
        ok = _plain(default) or (isinstance(default, list) and all(_plain(v) for v in default))
        return None if ok else ((), "a value is a number, a string, true/false or a list of them")
    if kind == "boolean":
        return (
            None if isinstance(default, bool) else (("default",), "the default of a boolean is true or false")
        )
    if kind == "choice":
        return _choice_problem(space["values"], default)
    return _range_problem(kind, space, default)


def _plain(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _choice_problem(choices: list, default):
    at = (("choice",), "")
    types = {type(v) for v in choices}
    if not all(isinstance(v, (bool, int, float, str)) for v in choices) or len(types) > 1:
        return at[0], "the values of a choice are numbers, strings or true/false, all of one type"
    if len(set(choices)) != len(choices):
        return at[0], "a choice lists each value once"
    if default not in choices or type(default) is not types.pop():
        return ("default",), f"the default {default!r} is not one of the choices"
    return None


def _number(value, whole: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if whole else isinstance(value, (int, float)) and math.isfinite(value)


def _range_problem(kind: str, space: dict, default):
    whole = kind == "int"
    what = "a whole number" if whole else "a number"
    unknown = [k for k in space if k not in ("min", "max", "step", "sampling")]
    if unknown:
        return (kind, unknown[0]), f"'{unknown[0]}' is not a key of {kind} (min, max, step, sampling)"
    for key in ("min", "max"):
        if not _number(space.get(key), whole):
            return (kind, key) if key in space else (kind,), f"{kind} needs {key}: {what}"
    low, high = space["min"], space["max"]
    if low > high:
        return (kind, "min"), f"min {low} is above max {high}"
    sampling = space.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        return (kind, "sampling"), f"sampling is one of {', '.join(SAMPLINGS)}, not {sampling!r}"
    if sampling != "linear" and low <= 0:
        return (kind, "min"), f"{sampling} sampling needs min above 0, not {low}"
    step = space.get("step")
    if step is not None:
        if not _number(step, whole) or step <= 0:
            return (kind, "step"), f"step is a positive {'whole ' if whole else ''}number"
        if sampling != "linear" and step <= 1:
            return (kind, "step"), f"with {sampling} sampling step multiplies: it must be above 1"
    if not _number(default, whole):
        return ("default",), f"the default of {kind} is {what}, not {default!r}"
    if not low <= default <= high:
        return ("default",), f"the default {default} is outside [{low}, {high}]"
    if whole and step is not None and sampling == "linear" and (default - low) % step:
        return ("default",), f"the default {default} is not min {low} plus a multiple of step {step}"
    return None


# Resolving values --------------------------------------------------------------------


def resolve(data: dict, params: dict, out) -> Resolved:
    """The data with parameters' values in place of `$names` and expressions over them;
    an unknown `$name` is KS017, an expression that cannot be computed KS410."""
    walker = _Walker(values(params), out)
    resolved, written = dict(data), dict(data)
    for section in ("inputs", "compile"):
        if section in data:
            resolved[section] = walker.value(data[section], (section,))
    layers = data.get("layers")
    if isinstance(layers, list):
        resolved["layers"], written["layers"] = [], []
        for index, item in enumerate(layers):
            if not isinstance(item, dict):
                resolved["layers"].append(item)
                written["layers"].append(item)
                continue
            where = ("layers", index)
            done = {k: v if k in _STRUCTURAL else walker.value(v, where + (k,)) for k, v in item.items()}
            resolved["layers"].append(done)
            written["layers"].append({**item, **({"repeat": done["repeat"]} if "repeat" in item else {})})
    check_block_repeats(data, (), out)
    return Resolved(resolved, written, walker.sources, walker.used)


def check_block_repeats(data: dict, where: tuple, out) -> None:
    """Inside a block, `repeat` is a whole number (KS104): the schema lets `$name` give the
    model's own counts, which `resolve` fills in, and a block's parameters cannot give one."""
    blocks = data.get("blocks")
    for name, block in blocks.items() if isinstance(blocks, dict) else ():
        layers = block.get("layers") if isinstance(block, dict) else None
        for index, item in enumerate(layers if isinstance(layers, list) else ()):
            if isinstance(item, dict) and isinstance(item.get("repeat"), str):
                out.error(
                    where + ("blocks", name, "layers", index, "repeat"),
                    "KS104",
                    f"`repeat` inside a block is a whole number, not '{item['repeat']}'",
                    "a block's parameters cannot set a repeat count; a top-level parameter can set "
                    "the model's own (`repeat: $depth` in the spec's `layers`)",
                )


class _Walker:
    def __init__(self, bound: dict, out):
        self.bound = bound
        self.out = out
        self.sources: dict = {}
        self.used: set = set()

    def value(self, value, where: tuple):
        if isinstance(value, list):
            return [self.value(v, where + (i,)) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.value(v, where + (k,)) for k, v in value.items()}
        if not isinstance(value, str) or "$" not in value:
            return value
        if value.startswith("$") and value[1:].isidentifier():
            return self.reference(value, value[1:], where)
        if not expressions.is_expression(value):
            return value
        try:
            node = expressions.parse(value)
        except expressions.ExpressionError:
            return value  # the argument checks report its form
        unknown = [n for n in expressions.names(node) if n not in self.bound]
        for name in unknown:
            self.unknown(name, value, where)
        if unknown:
            return value
        self.used.update(expressions.names(node))
        try:
            result = expressions.evaluate(node, self.bound)
        except expressions.ExpressionError as error:
            self.out.error(where, "KS410", f"cannot compute '{value}': {error.message}")
            return value
        self.sources[where] = value
        return result

    def reference(self, text: str, name: str, where: tuple):
        if name not in self.bound:
            self.unknown(name, text, where)
            return text
        self.used.add(name)
        self.sources[where] = text
        return self.bound[name]

    def unknown(self, name: str, text: str, where: tuple) -> None:
        self.out.error(
            where,
            "KS017",
            f"'${name}' in '{text}' is no top-level parameter" + suggestion(name, self.bound),
            "declare it under the spec's `params` (blocks take values through their own `params`)",
        )


def check_included(data: dict, where: tuple, out) -> None:
    """An included file's `params` would be used by nothing: parameters are the spec's own (KS018);
    its blocks' repeat counts are whole numbers."""
    check_block_repeats(data, where, out)
    if "params" in data:
        out.error(
            where + ("params",),
            "KS018",
            "an included file cannot declare top-level parameters: nothing would use them",
            "declare them in the spec that includes it, and pass values to its blocks as block parameters",
            key=True,
        )


def names_in(text: str) -> list:
    """The parameters a recorded `$name` or expression (a Resolved source) uses."""
    return expressions.names(expressions.parse(text))


def check_unused(params: dict, used: set, out) -> None:
    for name, param in params.items():
        if name not in used:
            out.warning(
                param.where,
                "KS020",
                f"top-level parameter '{name}' is never used",
                f"refer to it as ${name} in a value, or remove it",
                key=True,
            )
