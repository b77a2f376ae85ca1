"""The shape rule of a `custom` layer that declares a contract (`kspec.ir.Contract`).

`output_shape` is `same` (the shape of the only or first input), `{same_as: K}`, a
shape with its batch dimension whose entries are null, integers or expressions over
`input[J]`, `input.K[J]` and the call's `$arguments`, or a list of such shapes for a
layer with several outputs; `weights` and `non_trainable_weights` are counts written
the same way. A dimension that depends on an unknown (null) one is unknown.
"""

from __future__ import annotations

from ..expressions import ExpressionError, evaluate, parse
from .errors import ShapeError


def expressions_of(contract) -> list[tuple[tuple, str]]:
    """(path under the entry, text) of every expression a contract holds."""
    found = []
    shape = contract.output_shape
    if isinstance(shape, list):
        shapes = shape if shape and all(isinstance(s, list) for s in shape) else [shape]
        for k, dims in enumerate(shapes):
            at = ("output_shape", k) if shapes is shape else ("output_shape",)
            found += [(at + (j,), d) for j, d in enumerate(dims) if isinstance(d, str)]
    for key, value in (("weights", contract.weights), ("non_trainable_weights", contract.non_trainable)):
        if isinstance(value, str):
            found.append(((key,), value))
    return found


def apply(contract, args: dict, inputs) -> tuple:
    """(output shape or shapes, trainable, non-trainable) of one call, as the contract says."""
    given = list(inputs.values()) if isinstance(inputs, dict) else inputs
    given = given if isinstance(given, list) else [given]
    shape = contract.output_shape
    if shape == "same" or isinstance(shape, dict):
        which = shape.get("same_as", 0) if isinstance(shape, dict) else 0
        if which >= len(given) or not isinstance(given[which], tuple):
            raise ShapeError(
                "KS608", f"its contract says output_shape is input {which}'s, and it has {len(given)}"
            )
        output = given[which]
    elif shape and all(isinstance(s, list) for s in shape):
        output = [_shape(s, args, given) for s in shape]
    else:
        output = _shape(shape, args, given)
    return output, _count(contract.weights, args, given), _count(contract.non_trainable, args, given)


def _shape(dims: list, args: dict, given: list) -> tuple:
    return tuple(_size(d, args, given, "output_shape") for d in dims)


def _count(value, args: dict, given: list):
    return _size(value, args, given, "weights")


def _size(value, args: dict, given: list, what: str):
    if not isinstance(value, str):
        return value
    try:
        result = evaluate(parse(value, allow_input=True), args, given)
    except ExpressionError as error:
        raise ShapeError(
            "KS608",
            f"its contract's {what} '{value}' cannot be computed for this call: {error.message}",
            "the contract reads the call's own arguments ($name) and its input shapes (input[J])",
        ) from None
    if isinstance(result, float) and result.is_integer():
        result = int(result)
    if result is not None and (not isinstance(result, int) or result < 0):
        raise ShapeError(
            "KS608", f"its contract's {what} '{value}' is {result} here, not a size (a non-negative integer)"
        )
    return result
