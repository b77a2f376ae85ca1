"""Shape rules of merge layers: element-wise, Concatenate and Dot."""

from __future__ import annotations

from .common import axis_index
from .errors import ShapeError, fmt


def _list_of_shapes(layer: str, shapes, exactly: int | None = None):
    if not isinstance(shapes, list) or len(shapes) < 2:
        raise ShapeError("KS602", f"{layer} takes a list of at least two inputs", "write `inputs: [a, b]`")
    if exactly is not None and len(shapes) != exactly:
        raise ShapeError("KS602", f"{layer} takes exactly {exactly} inputs, got {len(shapes)}")
    return shapes


def elementwise(type_name, exactly=None):
    def rule(args, shapes):
        shapes = _list_of_shapes(type_name, shapes, exactly)
        out = shapes[0]
        for other in shapes[1:]:
            out = _broadcast(type_name, out, other, shapes)
        return out, 0, 0

    return rule


def _broadcast(layer, a, b, shapes):
    if len(a) < len(b):
        a, b = b, a
    out = list(a[: len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b) :], b):
        if i is None or j is None:
            out.append(None if i != 1 and j != 1 else (j if i == 1 else i))
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ShapeError(
                "KS601", f"{layer} of " + " and ".join(fmt(s) for s in shapes) + ": the shapes do not match"
            )
        else:
            out.append(i)
    return tuple(out)


def concatenate(args, shapes):
    shapes = _list_of_shapes("Concatenate", shapes)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ShapeError(
            "KS601", "Concatenate of inputs of different ranks: " + ", ".join(fmt(s) for s in shapes)
        )
    axis = axis_index(args.get("axis", -1), rank, "Concatenate", shapes[0])
    out = list(shapes[0])
    for other in shapes[1:]:
        for i, (a, b) in enumerate(zip(out, other)):
            if i == axis:
                continue
            if a is not None and b is not None and a != b:
                raise ShapeError(
                    "KS601",
                    f"Concatenate along axis {args.get('axis', -1)} of "
                    + " and ".join(fmt(s) for s in shapes)
                    + f": dimension {i} differs ({a} and {b})",
                )
            out[i] = a if a is not None else b
    sizes = [s[axis] for s in shapes]
    out[axis] = None if None in sizes else sum(sizes)
    return tuple(out), 0, 0


def dot(args, shapes):
    a, b = _list_of_shapes("Dot", shapes, 2)
    axes = args["axes"]
    axes = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
    ia, ib = axis_index(axes[0], len(a), "Dot", a), axis_index(axes[1], len(b), "Dot", b)
    if a[ia] is not None and b[ib] is not None and a[ia] != b[ib]:
        raise ShapeError(
            "KS601", f"Dot along axes {axes} of {fmt(a)} and {fmt(b)}: {a[ia]} and {b[ib]} differ"
        )
    out = a[:ia] + a[ia + 1 :] + b[1:ib] + b[ib + 1 :]
    if len(out) == 1:
        out = out + (1,)
    return tuple(out), 0, 0


RULES = {
    "Add": elementwise("Add"),
    "Multiply": elementwise("Multiply"),
    "Average": elementwise("Average"),
    "Maximum": elementwise("Maximum"),
    "Minimum": elementwise("Minimum"),
    "Subtract": elementwise("Subtract", exactly=2),
    "Concatenate": concatenate,
    "Dot": dot,
}
