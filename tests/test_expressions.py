"""Expressions in spec values (kspec/expressions.py): Python's arithmetic, bounded, never eval'd."""

import random
import time

import pytest

import kspec
from kspec.expressions import ExpressionError, evaluate, is_expression, names, parse, render
from kspec.validate import validate_text


def test_values_follow_python_semantics():
    # Compared with Python itself on expressions whose answers differ between conventions.
    for text in [
        "-7 // 2",
        "7 % -3",
        "-7 % 3",
        "2 ** -1",
        "-2 ** 2",
        "1 / 4 * 2",
        "2 ** 3 ** 2",
        "10 - 4 - 3",
        "min(3, -1, 2) * max(2.5, 1)",
        "7 // 2 * 2 + 7 % 2",
        "(1 + 2) * -(3 - 5)",
    ]:
        got = evaluate(parse(text))
        want = eval(text)  # the test's oracle only
        assert got == want and type(got) is type(want), text


def test_random_expressions_agree_with_python_and_render_back_to_the_same_tree():
    rng = random.Random(0)

    def make(depth):
        if depth == 0 or rng.random() < 0.3:
            return str(rng.choice([0, 1, 2, 3, 7, 1.5]))
        op = rng.choice(["+", "-", "*", "/", "//", "%", "**", "neg", "min"])
        if op == "neg":
            return f"-({make(depth - 1)})"
        if op == "min":
            return f"min({make(depth - 1)}, {make(depth - 1)})"
        return f"({make(depth - 1)}) {op} ({make(depth - 1)})"

    checked = 0
    for _ in range(400):
        text = make(4)
        try:
            want = eval(text)
        except (ZeroDivisionError, OverflowError):
            continue
        if isinstance(want, complex) or abs(want) > 2**62:
            continue
        tree = parse(text)
        assert evaluate(tree) == pytest.approx(want), text
        assert parse(render(tree)) == tree, text  # fewer parentheses, same meaning
        checked += 1
    assert checked > 200


def test_names_inputs_and_substitution():
    tree = parse("$embed_dim // $heads + min($heads, 2)")
    assert names(tree) == ["embed_dim", "heads"]
    assert evaluate(tree, {"embed_dim": 64, "heads": 4}) == 18
    dims = parse("input.1[-1] * 2 + input[1]", allow_input=True)
    assert evaluate(dims, {}, [(None, 5, 6), (None, 7, 8)]) == 21
    assert (
        evaluate(parse("input[1] * 2", allow_input=True), {}, [(None, None)]) is None
    )  # unknown stays unknown


@pytest.mark.parametrize("text", ["relu", "he_normal", "float32", "(3, 3)", "1e-3", "$units", "a-b", "same"])
def test_plain_strings_are_not_expressions(text):
    assert not is_expression(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("9 ** 9 ** 9", "too large"),
        ("2 ** 62 * 4", "too large"),
        ("1e308 * 1e10", "too large"),
        ("5 // (3 - 3)", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("(-8) ** 0.5", "not a real number"),
    ],
)
def test_what_cannot_be_computed_is_an_error_and_fast(text, message):
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match=message):
        evaluate(parse(text))
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize(
    "text, column",
    [
        ("$a * (2 + ", 10),
        ("$a $b", 4),
        ("2 +* 3", 4),
        ("min()", 5),
        ("pow(2, 3)", None),
        ("(" * 30 + "1", 22),
    ],
)
def test_malformed_expressions_say_where(text, column):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.column == column


def test_length_is_bounded():
    with pytest.raises(ExpressionError, match="at most 200"):
        parse("1 + " * 60 + "1")


NESTED = """
kspec: 1
name: nested
inputs: {x: {shape: [8]}}
layers:
  - {name: outer, type: Outer, width: 6}
outputs: outer
blocks:
  Outer:
    params: {width: null}
    inputs: [x]
    layers:
      - {name: inner, type: Inner, units: "2 * $width", inputs: x}
    outputs: inner
  Inner:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: d, type: Dense, units: "$units // 4 + max($units, 1) % 5"}
    outputs: d
"""


def test_expressions_pass_through_nested_blocks():
    assert validate_text(NESTED).diagnostics == []  # `width` counts as used (no KS405)
    spec = kspec.load(NESTED)
    (node,) = spec.lowered.nodes
    assert node.args == {"units": 12 // 4 + 12 % 5}
    source = kspec.generate(spec, "functional")
    assert "inner(x, units=2 * width" in source
    assert "units=units // 4 + max(units, 1) % 5" in source


def test_a_value_that_is_wrong_only_after_nesting_is_found():
    result = validate_text(NESTED.replace("width: 6", "width: 0.5"))
    assert [d.code for d in result.errors] == ["KS302"]
    (error,) = result.errors
    assert "got number 1.0" in error.message
    assert "called as 'outer_inner'" in error.hint


def test_a_parameter_used_in_an_expression_must_be_a_number():
    result = validate_text(NESTED.replace("width: 6", "width: wide"))
    assert [(d.code, d.line) for d in result.errors] == [("KS302", 6)]
