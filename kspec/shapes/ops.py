"""Shape rules for keras.ops calls, by function name, as Keras's compute_output_spec gives them.

A rule takes `a`, the call's arguments by parameter name with defaults filled in: a tensor as
its shape (a constant given for a tensor parameter as the shape of that constant), a list of
tensors as a list of shapes, a constant as itself. It returns the output shape. An op without
a rule gets KS606 (a warning): shapes after it are unknown.
"""

from __future__ import annotations

import math

from .common import axis_index, prod
from .errors import ShapeError, fmt


def broadcast(op: str, *shapes) -> tuple:
    """NumPy broadcasting, with Keras's reading of an unknown dimension (None and 5 give 5)."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = list(padded[0])
    for shape in padded[1:]:
        for i, (mine, theirs) in enumerate(zip(out, shape)):
            if mine == 1:
                out[i] = theirs
            elif mine is None:
                out[i] = None if theirs == 1 else theirs
            elif theirs not in (1, None, mine):
                raise ShapeError(
                    "KS601",
                    f"{op} cannot broadcast " + " and ".join(fmt(s) for s in shapes),
                    "dimensions must be equal or 1, aligned from the last",
                )
    return tuple(out)


def _axes(value, rank: int, op: str, shape) -> list[int]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [axis_index(a, rank, op, shape) for a in items]


def _same(a) -> tuple:
    return a["x"]


def _binary(op):
    return lambda a: broadcast(op, a["x1"], a["x2"])


def _reduce(op):
    def rule(a):
        x = a["x"]
        if a.get("axis") is None:
            return (1,) * len(x) if a.get("keepdims") else ()
        axes = _axes(a["axis"], len(x), op, x)
        if a.get("keepdims"):
            return tuple(1 if i in axes else d for i, d in enumerate(x))
        return tuple(d for i, d in enumerate(x) if i not in axes)

    return rule


def _arange(a) -> tuple:
    start, stop, step = a["start"], a["stop"], a["step"]
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if step == 0:
        raise ShapeError("KS601", "arange with step 0 has no length")
    length = math.ceil((stop - start) / step)
    if length <= 0:
        raise ShapeError("KS601", f"arange from {start} to {stop} with step {step} is empty")
    return (length,)


def _matmul(a) -> tuple:
    x1, x2 = a["x1"], a["x2"]
    if not x1 or not x2:
        raise ShapeError("KS602", f"matmul needs tensors of rank 1 or more, got {fmt(x1)} and {fmt(x2)}")
    left = (1,) + tuple(x1) if len(x1) == 1 else tuple(x1)
    right = tuple(x2) + (1,) if len(x2) == 1 else tuple(x2)
    if None not in (left[-1], right[-2]) and left[-1] != right[-2]:
        raise ShapeError(
            "KS601",
            f"matmul of {fmt(x1)} and {fmt(x2)}: the inner dimensions {left[-1]} and {right[-2]} differ",
        )
    batch = broadcast("matmul", left[:-2], right[:-2]) if len(left) > 2 or len(right) > 2 else ()
    out = batch + (left[-2], right[-1])
    if len(x1) == 1:
        out = out[:-2] + out[-1:]
    if len(x2) == 1:
        out = out[:-1]
    return out


def _reshape(a) -> tuple:
    x, new = a["x"], a["newshape"]
    new = list(new) if isinstance(new, (list, tuple)) else [new]
    if new.count(-1) > 1:
        raise ShapeError("KS605", f"reshape to {new}: at most one dimension can be -1")
    total, known = prod(x), prod(d for d in new if d != -1)
    if -1 in new:
        rest = None if total is None or not known else total // known
        if total is not None and known and total % known:
            raise ShapeError(
                "KS605", f"reshape of {fmt(x)} to {new}: {total} values do not divide by {known}"
            )
        new[new.index(-1)] = rest
    elif total is not None and known is not None and total != known:
        raise ShapeError("KS605", f"reshape of {fmt(x)} ({total} values) to {new} ({known} values)")
    return tuple(new)


def _transpose(a) -> tuple:
    x, axes = a["x"], a["axes"]
    if axes is None:
        return tuple(reversed(x))
    order = _axes(axes, len(x), "transpose", x)
    if sorted(order) != list(range(len(x))):
        raise ShapeError("KS602", f"transpose axes {list(axes)} are not a permutation of {len(x)} axes")
    return tuple(x[i] for i in order)


def _expand_dims(a) -> tuple:
    x = a["x"]
    axes = a["axis"] if isinstance(a["axis"], (list, tuple)) else [a["axis"]]
    rank = len(x) + len(axes)
    where = set(_axes(axes, rank, "expand_dims", x))
    dims = iter(x)
    return tuple(1 if i in where else next(dims) for i in range(rank))


def _squeeze(a) -> tuple:
    x = a["x"]
    if a["axis"] is None:
        return tuple(d for d in x if d != 1)
    axes = _axes(a["axis"], len(x), "squeeze", x)
    for i in axes:
        if x[i] not in (1, None):
            raise ShapeError("KS602", f"squeeze axis {i} of {fmt(x)} has size {x[i]}, not 1")
    return tuple(d for i, d in enumerate(x) if i not in axes)


def _concatenate(a) -> tuple:
    shapes = a["xs"]
    first = shapes[0]
    axis = axis_index(a["axis"], len(first), "concatenate", first)
    for shape in shapes[1:]:
        if len(shape) != len(first) or any(
            i != axis and None not in (d, e) and d != e for i, (d, e) in enumerate(zip(first, shape))
        ):
            raise ShapeError(
                "KS601", f"concatenate on axis {a['axis']} of " + ", ".join(fmt(s) for s in shapes)
            )
    total = prod(s[axis] for s in shapes)  # None if any is unknown
    size = None if total is None else sum(s[axis] for s in shapes)
    merged = broadcast("concatenate", *[s[:axis] + (1,) + s[axis + 1 :] for s in shapes])
    return merged[:axis] + (size,) + merged[axis + 1 :]


def _stack(a) -> tuple:
    shapes = a["x"]
    merged = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(merged) or any(None not in (d, e) and d != e for d, e in zip(merged, shape)):
            raise ShapeError(
                "KS601", "stack needs tensors of one shape, got " + ", ".join(fmt(s) for s in shapes)
            )
        merged = tuple(d if d is not None else e for d, e in zip(merged, shape))
    axis = axis_index(a["axis"], len(merged) + 1, "stack", merged)
    return merged[:axis] + (len(shapes),) + merged[axis:]


def _take(a) -> tuple:
    x, indices = a["x"], a["indices"]
    if a["axis"] is None:
        return tuple(indices)
    axis = axis_index(a["axis"], len(x), "take", x)
    return x[:axis] + tuple(indices) + x[axis + 1 :]


def _slice(a) -> tuple:
    return tuple(a["shape"]) if isinstance(a["shape"], (list, tuple)) else (a["shape"],)


def _one_hot(a) -> tuple:
    x = a["x"]
    axis = axis_index(a["axis"], len(x) + 1, "one_hot", x)
    return x[:axis] + (a["num_classes"],) + x[axis:]


def _swapaxes(a) -> tuple:
    x = list(a["x"])
    i, j = _axes([a["axis1"], a["axis2"]], len(x), "swapaxes", a["x"])
    x[i], x[j] = x[j], x[i]
    return tuple(x)


def _where(a) -> tuple:
    shapes = [a[k] for k in ("condition", "x1", "x2") if a[k] is not None]
    return broadcast("where", *shapes)


def _constant_shape(a) -> tuple:
    return tuple(a["shape"]) if isinstance(a["shape"], (list, tuple)) else (a["shape"],)


def _broadcast_to(a) -> tuple:
    broadcast("broadcast_to", a["x"], tuple(a["shape"]))
    return tuple(a["shape"])


UNARY = (
    "abs absolute negative exp expm1 log log1p log2 log10 sqrt square rsqrt reciprocal sign floor ceil "
    "round trunc sin cos tan tanh sinh cosh arcsin arccos arctan erf relu relu6 gelu sigmoid silu swish "
    "elu selu celu softplus softsign leaky_relu hard_sigmoid hard_silu hard_swish hard_tanh log_sigmoid "
    "sparse_plus squareplus tanh_shrink soft_shrink hard_shrink softmax log_softmax sparsemax cast "
    "saturate_cast copy logical_not isnan isinf isfinite zeros_like ones_like full_like "
    "empty_like clip nan_to_num normalize rms_normalization layer_normalization tril triu flip roll"
).split()
BINARY = (
    "add subtract multiply divide true_divide divide_no_nan power maximum minimum mod floor_divide "
    "equal not_equal greater greater_equal less less_equal logical_and logical_or logical_xor "
    "arctan2 hypot"
).split()
REDUCTIONS = "mean sum max min prod std var amax amin any all logsumexp median".split()

RULES = {
    **{op: _same for op in UNARY},
    **{op: _binary(op) for op in BINARY},
    **{op: _reduce(op) for op in REDUCTIONS},
    "stop_gradient": lambda a: a["variable"],
    "arange": _arange,
    "matmul": _matmul,
    "reshape": _reshape,
    "transpose": _transpose,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "concatenate": _concatenate,
    "stack": _stack,
    "take": _take,
    "slice": _slice,
    "one_hot": _one_hot,
    "swapaxes": _swapaxes,
    "where": _where,
    "zeros": _constant_shape,
    "ones": _constant_shape,
    "full": _constant_shape,
    "broadcast_to": _broadcast_to,
}


def apply(op: str, args: dict, inputs) -> tuple:
    """The output shape of a keras.ops call on tensors of the given shapes (`inputs` as the call
    passes them); raises KeyError when the op has no rule."""
    from ..catalog import catalog

    rule = RULES[op]
    signature = catalog().op(op)
    bound, _ = signature.bind(inputs)
    given = {name: param.default for name, param in signature.params.items()}
    for name, value in args.items():
        given[name] = constant_shape(value) if name in signature.tensors else value
    given.update(bound)
    return rule(given)


def constant_shape(value) -> tuple:
    """The shape of a constant written for a tensor: () for a number, (2, 3) for nested lists."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)
