"""Arithmetic in spec values: `"$embed_dim // $heads"`, `"4 * $dim"`, `"input[-1]"`.

A small recursive-descent parser (never `eval`) turns the text into a tree of
NamedTuples; `evaluate` computes it with Python's semantics for ints and floats,
looking variables up in what the caller supplies: block parameters or a custom
layer's arguments (`$name`) and, for custom-layer contracts, its input shapes
(`input[K]`, `input.K[J]`). Everything is bounded: the text's length, the
nesting, exponents and the size of every intermediate result.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple, Union

MAX_LENGTH = 200  # characters of one expression
MAX_DEPTH = 20  # nested parentheses, calls and operators
MAX_MAGNITUDE = 2**62  # largest absolute value of any result
MAX_EXPONENT = 64  # largest exponent of an integer power
FUNCTIONS = ("min", "max")
_OPERATORS = ("**", "//", "+", "-", "*", "/", "%")


class ExpressionError(ValueError):
    """Text that is no expression, or one that cannot be computed; `column` counts from 1."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


class Num(NamedTuple):
    value: Union[int, float]


class Param(NamedTuple):
    """`$name`: a block parameter, or a custom layer's argument."""

    name: str


class Dim(NamedTuple):
    """`input[J]` (input None: the only or first input) or `input.K[J]`."""

    input: Union[int, None]
    index: int


class Unary(NamedTuple):
    op: str
    operand: object


class Binary(NamedTuple):
    op: str
    left: object
    right: object


class Func(NamedTuple):
    name: str
    args: tuple


Node = Union[Num, Param, Dim, Unary, Binary, Func]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.\d*|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<param>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|//|[-+*/%(),\[\].]))"
)
_QUICK = re.compile(r"[-+*/%()\[\]]")


def tokens(text: str, allow_input: bool = False) -> list | None:
    """The tokens of `text` as (kind, text, column), or None where it is no expression.

    A word other than min, max (and `input` where allowed) means plain text, such as a
    name or `he_normal`: not an expression.
    """
    found, position, text = [], 0, text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return None
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "word" and value not in FUNCTIONS and not (allow_input and value == "input"):
            return None
        found.append((kind, value, match.start(kind) + 1))
        position = match.end()
    return found


def is_expression(value, allow_input: bool = False) -> bool:
    """Whether a spec value is written as an expression: a string of numbers, `$names`
    (`input[...]` where allowed), operators, parentheses and min/max calls, with at least
    one operator or call. A whole `$name` is a plain parameter reference, not an expression."""
    if not isinstance(value, str) or not (_QUICK.search(value) or (allow_input and "input" in value)):
        return False
    found = tokens(value, allow_input)
    if not found:
        return False
    return any(t[0] == "word" or (t[0] == "op" and t[1] in _OPERATORS) for t in found)


def parse(text: str, allow_input: bool = False) -> Node:
    """The tree of an expression; raises ExpressionError with the column of the problem."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"an expression has at most {MAX_LENGTH} characters, this one {len(text)}")
    found = tokens(text, allow_input)
    if found is None:
        raise ExpressionError("not an expression: only numbers, $names, + - * / // % **, ( ), min and max")
    return _Parser(found, len(text.rstrip()) + 1).whole()


class _Parser:
    """expr := term (('+'|'-') term)*; term := unary (('*'|'/'|'//'|'%') unary)*;
    unary := ('-'|'+') unary | power; power := atom ('**' unary)?;
    atom := number | $name | input[J] | input.K[J] | min(expr, ...) | max(...) | (expr)."""

    def __init__(self, found: list, end: int):
        self.tokens = found
        self.at = 0
        self.end = end
        self.depth = 0

    def whole(self) -> Node:
        if not self.tokens:
            raise ExpressionError("the expression is empty", 1)
        node = self.expr()
        if self.at < len(self.tokens):
            _, text, column = self.tokens[self.at]
            raise ExpressionError(f"unexpected '{text}'", column)
        return node

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self):
        if self.at >= len(self.tokens):
            raise ExpressionError("the expression ends too soon", self.end)
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        kind, found, column = self.take()
        if found != text or kind != "op":
            raise ExpressionError(f"expected '{text}', found '{found}'", column)

    def nested(self, parse):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH}", self._column())
        try:
            return parse()
        finally:
            self.depth -= 1

    def _column(self) -> int:
        return self.tokens[self.at][2] if self.at < len(self.tokens) else self.end

    def expr(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/", "//", "%"):
            op = self.take()[1]
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            return Unary(op, self.nested(self.unary))
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.peek() == "**":
            self.take()
            node = Binary("**", node, self.nested(self.unary))
        return node

    def atom(self) -> Node:
        kind, text, column = self.take()
        if kind == "number":
            return Num(float(text) if any(c in text for c in ".eE") else int(text))
        if kind == "param":
            return Param(text[1:])
        if kind == "word" and text == "input":
            return self.dim()
        if kind == "word":
            self.expect("(")
            args = [self.nested(self.expr)]
            while self.peek() == ",":
                self.take()
                args.append(self.nested(self.expr))
            self.expect(")")
            return Func(text, tuple(args))
        if text == "(":
            node = self.nested(self.expr)
            self.expect(")")
            return node
        raise ExpressionError(f"unexpected '{text}'", column)

    def dim(self) -> Dim:
        which = None
        if self.peek() == ".":
            self.take()
            which = self.integer(signed=False)
        self.expect("[")
        index = self.integer(signed=True)
        self.expect("]")
        return Dim(which, index)

    def integer(self, signed: bool) -> int:
        sign = 1
        if signed and self.peek() == "-":
            self.take()
            sign = -1
        kind, text, column = self.take()
        if kind != "number" or not text.isdigit():
            raise ExpressionError(f"expected a whole number, found '{text}'", column)
        return sign * int(text)


def names(node: Node) -> list[str]:
    """The `$names` an expression uses, in order of first use."""
    found: list[str] = []
    for item in _walk(node):
        if isinstance(item, Param) and item.name not in found:
            found.append(item.name)
    return found


def uses_inputs(node: Node) -> bool:
    return any(isinstance(item, Dim) for item in _walk(node))


def _walk(node: Node):
    todo = [node]
    while todo:
        item = todo.pop()
        yield item
        if isinstance(item, Unary):
            todo.append(item.operand)
        elif isinstance(item, Binary):
            todo += [item.right, item.left]
        elif isinstance(item, Func):
            todo += reversed(item.args)


def evaluate(node: Node, params=None, inputs=None):
    """The value of an expression: an int, a float, or None where an input dimension it
    needs is None. `params` maps `$names` to numbers; `inputs` is the list of input shapes."""
    params = params or {}
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Param):
        if node.name not in params:
            raise ExpressionError(f"'${node.name}' has no value here")
        return _number(params[node.name], f"${node.name}")
    if isinstance(node, Dim):
        return _dim(node, inputs)
    if isinstance(node, Unary):
        value = evaluate(node.operand, params, inputs)
        return None if value is None else _bounded(-value if node.op == "-" else value)
    if isinstance(node, Func):
        values = [evaluate(arg, params, inputs) for arg in node.args]
        if None in values:
            return None
        return (min if node.name == "min" else max)(values)
    left = evaluate(node.left, params, inputs)
    right = evaluate(node.right, params, inputs)
    if left is None or right is None:
        return None
    return _binary(node.op, left, right)


def _number(value, label: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = "true/false" if isinstance(value, bool) else repr(value)
        raise ExpressionError(f"{label} is {shown}, not a number")
    return value


def _dim(node: Dim, inputs):
    if inputs is None:
        raise ExpressionError("`input` has a value only in a custom layer's contract")
    which = node.input or 0
    if which >= len(inputs) or inputs[which] is None:
        raise ExpressionError(f"the layer has no input {which}")
    shape = inputs[which]
    if not -len(shape) <= node.index < len(shape):
        raise ExpressionError(f"{_render_dim(node)} is past the input's rank {len(shape)}")
    return shape[node.index]


def _binary(op: str, left, right):
    try:
        if op == "+":
            value = left + right
        elif op == "-":
            value = left - right
        elif op == "*":
            value = left * right
        elif op == "/":
            value = left / right
        elif op == "//":
            value = left // right
        elif op == "%":
            value = left % right
        else:
            if isinstance(left, int) and isinstance(right, int) and right > MAX_EXPONENT and abs(left) > 1:
                raise ExpressionError(f"{left} ** {right} is too large")
            value = left**right
    except ZeroDivisionError:
        raise ExpressionError(f"division by zero in {_show(left)} {op} {_show(right)}") from None
    except OverflowError:
        raise ExpressionError(f"{_show(left)} {op} {_show(right)} is too large") from None
    if isinstance(value, complex):
        raise ExpressionError(f"{_show(left)} ** {_show(right)} is not a real number")
    return _bounded(value)


def _bounded(value):
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ExpressionError(f"a result is too large ({_show(value)}); the limit is 2**62")
    return value


def _show(value) -> str:
    return (
        f"{value:.6g}" if isinstance(value, float) else str(value) if abs(value) < 10**15 else "a huge number"
    )


def bind(node: Node, params: dict) -> Node:
    """The expression with each `$name` in `params` replaced: a number by the number, a
    whole `$other` by `$other`, an expression string by its tree (in the caller's terms)."""
    if isinstance(node, Param) and node.name in params:
        value = params[node.name]
        if isinstance(value, str) and value.startswith("$") and value[1:].isidentifier():
            return Param(value[1:])
        if isinstance(value, str):
            return parse(value)
        return Num(_number(value, f"${node.name}"))
    if isinstance(node, Unary):
        return Unary(node.op, bind(node.operand, params))
    if isinstance(node, Binary):
        return Binary(node.op, bind(node.left, params), bind(node.right, params))
    if isinstance(node, Func):
        return Func(node.name, tuple(bind(arg, params) for arg in node.args))
    return node


# Rendering --------------------------------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "%": 2, "**": 4}
_UNARY, _ATOM = 3, 5


def render(node: Node, name=lambda n: "$" + n, number=repr) -> str:
    """The expression as text with Python's precedence and the fewest parentheses: `$names`
    by default (the spec's form); `name` and `number` write them otherwise (as Python)."""
    return _render(node, name, number)[0]


def _render(node: Node, name, number) -> tuple[str, int]:
    if isinstance(node, Num):
        return number(node.value), (_UNARY if node.value < 0 else _ATOM)
    if isinstance(node, Param):
        return name(node.name), _ATOM
    if isinstance(node, Dim):
        return _render_dim(node), _ATOM
    if isinstance(node, Func):
        return f"{node.name}({', '.join(render(a, name, number) for a in node.args)})", _ATOM
    if isinstance(node, Unary):
        text, level = _render(node.operand, name, number)
        return node.op + (f"({text})" if level < _UNARY else text), _UNARY
    level = _PRECEDENCE[node.op]
    left, left_level = _render(node.left, name, number)
    right, right_level = _render(node.right, name, number)
    if left_level < level or (node.op == "**" and left_level <= level):
        left = f"({left})"
    if (node.op == "**" and right_level < _UNARY) or (node.op != "**" and right_level <= level):
        right = f"({right})"
    if node.op == "**" and _simple(node.left, signed=False) and _simple(node.right, signed=True):
        return f"{left}**{right}", level  # as black and ruff write a power of simple operands
    return f"{left} {node.op} {right}", level


def _simple(node: Node, signed: bool) -> bool:
    """A name or a number (signed: maybe with a sign), which black writes a power of without
    spaces; on the left a sign takes parentheses, and a parenthesized operand is not simple."""
    if signed and isinstance(node, Unary):
        node = node.operand
    return isinstance(node, Param) or (isinstance(node, Num) and (signed or node.value >= 0))


def _render_dim(node: Dim) -> str:
    return f"input[{node.index}]" if node.input is None else f"input.{node.input}[{node.index}]"


def substitute(text: str, params: dict):
    """An expression string with block parameters bound: its value where nothing is left
    unbound, else the expression over what is (`$outer * 2`)."""
    node = bind(parse(text), params)
    if names(node):
        return render(node)
    return evaluate(node)
