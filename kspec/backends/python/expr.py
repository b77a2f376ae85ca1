"""Python expressions built from structure, never from pasted spec text.

Every constant goes through `constant()` (repr of an allowlisted type) and
every name through `identifier()`; nothing else from a spec reaches the code.
"""

from __future__ import annotations

import keyword
import math

from ...ir import snake_case


class Expr:
    """A Python expression that knows its one-line form."""

    def flat(self) -> str:
        raise NotImplementedError


class Atom(Expr):
    """A name, an attribute path or a constant's repr."""

    def __init__(self, text: str):
        self.text = text

    def flat(self) -> str:
        return self.text


class Arithmetic(Expr):
    """A spec expression (`kspec.expressions`) as Python: each `$name` the expression that
    holds it (a block's parameter variable), each number through `constant`."""

    def __init__(self, node, params: dict):
        self.node = node
        self.params = params  # parameter name -> Expr

    def flat(self) -> str:
        from ...expressions import render

        return render(self.node, name=lambda n: self.params[n].flat(), number=lambda v: constant(v).flat())


class Call(Expr):
    """`func(args)`, optionally called again: `func(args)(call_args)`."""

    def __init__(self, func: str, args: list, call_args: list | None = None):
        self.func = func
        self.args = args  # (keyword or None, Expr)
        self.call_args = call_args

    def flat(self) -> str:
        text = f"{self.func}({_join(self.args)})"
        if self.call_args is not None:
            text += f"({_join(self.call_args)})"
        return text


class Seq(Expr):
    """A list or tuple literal."""

    def __init__(self, items: list, tuple_: bool = False):
        self.items = items
        self.tuple = tuple_

    def flat(self) -> str:
        inner = _join([(None, item) for item in self.items])
        if self.tuple:
            return f"({inner},)" if len(self.items) == 1 else f"({inner})"
        return f"[{inner}]"


class Dict(Expr):
    """A dict literal with string keys."""

    def __init__(self, items: list):
        self.items = items  # (key str, Expr)

    def flat(self) -> str:
        return "{" + ", ".join(f"{constant(k).flat()}: {v.flat()}" for k, v in self.items) + "}"


def _join(args) -> str:
    return ", ".join(f"{k}={v.flat()}" if k else v.flat() for k, v in args)


def argument(key: str | None, value: Expr) -> str:
    return f"{key}={value.flat()}" if key else value.flat()


def string(text: str) -> str:
    """A string literal, double-quoted as black writes it (repr does the escaping)."""
    literal = repr(text)
    if literal[0] == '"':
        return literal
    if '"' not in text:
        return '"' + literal[1:-1] + '"'
    if text.count('"') <= text.count("'"):
        return '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return literal


def constant(value) -> Expr:
    """A literal for a YAML value: None, bool, int, float, str, and lists or dicts of them."""
    if isinstance(value, str):
        return Atom(string(value))
    if value is None or isinstance(value, (bool, int)):
        return Atom(repr(value))
    if isinstance(value, float):
        if math.isnan(value):
            return Atom('float("nan")')
        if math.isinf(value):
            return Atom('float("inf")' if value > 0 else 'float("-inf")')
        return Atom(repr(value))
    if isinstance(value, (list, tuple)):
        return Seq([constant(v) for v in value], tuple_=isinstance(value, tuple))
    if isinstance(value, dict):
        return Dict([(str(k), constant(v)) for k, v in value.items()])
    raise TypeError(f"no literal for {type(value).__name__}")


def identifier(name: str) -> str:
    """A spec name as a Python identifier: keywords and builtins get a trailing underscore."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise ValueError(f"{name!r} is not an identifier")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED:
        return name + "_"
    return name


# Names the generated modules use themselves, or that would shadow builtins.
_RESERVED = frozenset(
    {
        "keras",
        "layers",
        "self",
        "inputs",
        "outputs",
        "training",
        "model",
        "input_shape",
        "kwargs",
        "config",
        "cls",
        "super",
        "list",
        "dict",
        "tuple",
        "print",
        "type",
        "id",
        "input",
        "len",
        "range",
        "object",
        "str",
        "int",
        "float",
        "bool",
        "min",
        "max",
        "sum",
        "map",
        "filter",
        "zip",
        "open",
        "next",
        "iter",
        "format",
        "hash",
        "vars",
        "dir",
        "help",
        "exec",
        "eval",
        "compile",
    }
)


def class_name(name: str) -> str:
    """CamelCase class name from an identifier: tiny_resnet -> TinyResnet."""
    parts = [p for p in name.split("_") if p]
    camel = "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
    camel = camel if camel[0].isalpha() else "M" + camel
    return identifier(camel)


def snake_name(name: str) -> str:
    """snake_case function name from a block name: ResidualBlock -> residual_block."""
    return identifier(snake_case(name))
