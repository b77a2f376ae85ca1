"""Arithmetic shared by the shape rules: tuples, axes, sizes, convolution lengths."""

from __future__ import annotations


from .errors import ShapeError, fmt


def as_tuple(value, rank: int) -> tuple:
    """An int or a list as a tuple of `rank` items (Keras's standardize_tuple)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * rank


def prod(dims):
    """The product of dimensions, or None if any is unknown."""
    total = 1
    for d in dims:
        if d is None:
            return None
        total *= d
    return total


def need_rank(shape, rank, layer: str, what: str = "inputs") -> None:
    if len(shape) != rank:
        raise ShapeError(
            "KS602",
            f"{layer} expects {what} of rank {rank} {_example(rank)}, "
            f"got {fmt(shape)} (rank {len(shape)})",
        )


def need_min_rank(shape, rank, layer: str) -> None:
    if len(shape) < rank:
        raise ShapeError("KS602", f"{layer} expects inputs of rank {rank} or more, got {fmt(shape)}")


def _example(rank: int) -> str:
    return {
        2: "(batch, features)",
        3: "(batch, steps, features)",
        4: "(batch, height, width, channels)",
        5: "(batch, depth, height, width, channels)",
    }.get(rank, "")


def known(dim, layer: str, shape, what: str):
    if dim is None:
        raise ShapeError(
            "KS603",
            f"{layer} needs a known {what}, got {fmt(shape)}",
            "give the dimension a size in the input's shape instead of null",
        )
    return dim


def axis_index(axis: int, rank: int, layer: str, shape) -> int:
    index = axis + rank if axis < 0 else axis
    if not 0 <= index < rank:
        raise ShapeError("KS602", f"{layer} axis {axis} is out of range for {fmt(shape)}")
    return index


def conv_length(length, kernel: int, padding: str, stride: int, dilation: int, layer: str, shape):
    """Output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    if padding == "valid":
        out = (length - dilation * (kernel - 1) - 1) // stride + 1
    else:  # same, causal
        out = (length + stride - 1) // stride
    if out <= 0:
        raise ShapeError(
            "KS604",
            f"{layer} with kernel {kernel}, stride {stride} and padding "
            f"'{padding}' leaves no output from {fmt(shape)}",
            "use padding: same, a smaller kernel, or a larger input",
        )
    return out


def transpose_length(length, kernel: int, padding: str, stride: int, dilation: int, output_padding):
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        return length * stride + max(kernel - stride, 0) if padding == "valid" else length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding
