"""Lay out statements the way black and ruff format do, for the expressions we emit.

A statement that fits in 88 columns stays on one line. Otherwise it is split at
its last bracket whose head still fits (for `layer(args)(inputs)`, the second
call when `layer(args)(` fits, else the first); a call's arguments go on one
indented line if they fit, else one per line with a trailing comma, each laid
out the same way. A list, tuple or dict literal of several items that must be
split always gets one item per line. Tests compare the result with black.
"""

from __future__ import annotations

from .expr import Call, Dict, Expr, Seq, argument, constant

WIDTH = 88
INDENT = "    "


def statement(prefix: str, expr: Expr, indent: str, suffix: str = "") -> list[str]:
    """Lines of `prefix + expr + suffix` at an indentation."""
    one = f"{indent}{prefix}{expr.flat()}{suffix}"
    if len(one) <= WIDTH or not _splittable(expr):
        return [one]
    if isinstance(expr, Call) and expr.call_args is not None:
        head = f"{indent}{prefix}{expr.func}({_flat_args(expr.args)})("
        if len(head) <= WIDTH and expr.call_args:
            return [head, *_body(expr.call_args, indent, False), f"{indent}){suffix}"]
        tail = f")({_flat_args(expr.call_args)}){suffix}"
        return [f"{indent}{prefix}{expr.func}(", *_body(expr.args, indent, False), f"{indent}{tail}"]
    opening, items, closing = _brackets(expr)
    literal = not isinstance(expr, Call)
    return [f"{indent}{prefix}{opening}", *_body(items, indent, literal), f"{indent}{closing}{suffix}"]


def _splittable(expr: Expr) -> bool:
    return isinstance(expr, (Call, Seq, Dict)) and bool(_brackets(expr)[1])


def _brackets(expr: Expr):
    """(opening text, items, closing text) of a call or literal."""
    if isinstance(expr, Call):
        return f"{expr.func}(", expr.args, ")"
    if isinstance(expr, Seq):
        items = [(None, item) for item in expr.items]
        return ("(", items, ")") if expr.tuple else ("[", items, "]")
    items = [(f"{constant(k).flat()}: ", v) for k, v in expr.items]
    return "{", items, "}"


def _flat_args(args) -> str:
    return ", ".join(_item_text(k, v) for k, v in args)


def _item_text(key, value: Expr) -> str:
    if key and key.endswith(": "):
        return key + value.flat()
    return argument(key, value)


def _body(items, indent: str, literal: bool) -> list[str]:
    inner = indent + INDENT
    one = inner + _flat_args(items)
    if len(one) <= WIDTH and not (literal and len(items) > 1):
        return [one]
    lines = []
    for key, value in items:
        prefix = key if key and key.endswith(": ") else (f"{key}=" if key else "")
        lines.extend(statement(prefix, value, inner, suffix=","))
    return lines
