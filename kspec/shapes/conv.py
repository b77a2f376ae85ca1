"""Shape rules of convolutions, pooling, padding, cropping and upsampling (1D, 2D, 3D)."""

from __future__ import annotations

import re

from .common import as_tuple, conv_length, known, need_rank, transpose_length
from .errors import ShapeError, fmt


def _rank_of(type_name: str) -> int:
    return int(re.search(r"(\d)D", type_name).group(1))


def _split(args, shape, rank: int, layer: str):
    """(spatial dims, channels, rebuild) for channels_last or channels_first."""
    need_rank(shape, rank + 2, layer)
    if args.get("data_format") == "channels_first":
        return list(shape[2:]), shape[1], lambda dims, c: (shape[0], c, *dims)
    return list(shape[1:-1]), shape[-1], lambda dims, c: (shape[0], *dims, c)


def conv(type_name):
    rank = _rank_of(type_name)
    transpose = "Transpose" in type_name
    depthwise = type_name.startswith("Depthwise")
    separable = type_name.startswith("Separable")

    def rule(args, shape):
        dims, channels, rebuild = _split(args, shape, rank, type_name)
        channels = known(channels, type_name, shape, "channel dimension")
        kernel = as_tuple(args["kernel_size"], rank)
        strides = as_tuple(args.get("strides", 1) or 1, rank)
        dilation = as_tuple(args.get("dilation_rate", 1), rank)
        padding = args.get("padding", "valid")
        if transpose:
            out_pad = args.get("output_padding")
            out_pad = as_tuple(out_pad, rank) if out_pad is not None else (None,) * rank
            out = [
                transpose_length(d, k, padding, s, r, o)
                for d, k, s, r, o in zip(dims, kernel, strides, dilation, out_pad)
            ]
        else:
            out = [
                conv_length(d, k, padding, s, r, type_name, shape)
                for d, k, s, r in zip(dims, kernel, strides, dilation)
            ]
        window = 1
        for k in kernel:
            window *= k
        bias = args.get("use_bias", True)
        if depthwise:
            multiplier = args.get("depth_multiplier", 1)
            filters = channels * multiplier
            params = window * filters + (filters if bias else 0)
        elif separable:
            multiplier = args.get("depth_multiplier", 1)
            filters = args["filters"]
            params = (
                window * channels * multiplier + channels * multiplier * filters + (filters if bias else 0)
            )
        else:
            filters = args["filters"]
            groups = args.get("groups", 1)
            if channels % groups or filters % groups:
                raise ShapeError(
                    "KS601",
                    f"{type_name}: {channels} input channels and {filters} filters "
                    f"must both divide into {groups} groups",
                )
            params = window * (channels // groups) * filters + (filters if bias else 0)
        return rebuild(out, filters), params, 0

    return rule


def pooling(type_name):
    rank = _rank_of(type_name)

    def rule(args, shape):
        dims, channels, rebuild = _split(args, shape, rank, type_name)
        pool = as_tuple(args.get("pool_size", 2), rank)
        strides = args.get("strides")
        strides = as_tuple(strides, rank) if strides is not None else pool
        padding = args.get("padding", "valid")
        out = [conv_length(d, p, padding, s, 1, type_name, shape) for d, p, s in zip(dims, pool, strides)]
        return rebuild(out, channels), 0, 0

    return rule


def global_pooling(type_name):
    rank = _rank_of(type_name)

    def rule(args, shape):
        dims, channels, rebuild = _split(args, shape, rank, type_name)
        if args.get("keepdims", False):
            return rebuild([1] * rank, channels), 0, 0
        return (shape[0], channels), 0, 0

    return rule


def _pairs(value, rank: int, layer: str):
    """Padding or cropping as ((before, after), ...) per spatial axis."""
    if isinstance(value, int):
        return [(value, value)] * rank
    items = list(value)
    if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return [tuple(items)]
    if len(items) != rank:
        raise ShapeError("KS602", f"{layer} needs {rank} entries, got {value}")
    return [(v, v) if isinstance(v, int) else tuple(v) for v in items]


def padding_or_cropping(type_name):
    rank = _rank_of(type_name)
    sign = 1 if type_name.startswith("ZeroPadding") else -1
    key = "padding" if sign == 1 else "cropping"

    def rule(args, shape):
        if rank == 1:
            need_rank(shape, 3, type_name)
            dims, channels, rebuild = [shape[1]], shape[2], lambda d, c: (shape[0], *d, c)
        else:
            dims, channels, rebuild = _split(args, shape, rank, type_name)
        default = 1 if sign == 1 else 0
        pairs = _pairs(args.get(key, default), rank, type_name)
        out = []
        for d, (a, b) in zip(dims, pairs):
            size = None if d is None else d + sign * (a + b)
            if size is not None and size <= 0:
                raise ShapeError("KS604", f"{type_name} {args.get(key)} crops away all of {fmt(shape)}")
            out.append(size)
        return rebuild(out, channels), 0, 0

    return rule


def upsampling(type_name):
    rank = _rank_of(type_name)

    def rule(args, shape):
        if rank == 1:
            need_rank(shape, 3, type_name)
            size = args.get("size", 2)
            return (shape[0], None if shape[1] is None else shape[1] * size, shape[2]), 0, 0
        dims, channels, rebuild = _split(args, shape, rank, type_name)
        size = as_tuple(args.get("size", 2), rank)
        return rebuild([None if d is None else d * s for d, s in zip(dims, size)], channels), 0, 0

    return rule


RULES = {}
for _n in (1, 2, 3):
    for _base in ("Conv", "Conv{}Transpose"):
        _name = f"Conv{_n}D" if _base == "Conv" else f"Conv{_n}DTranspose"
        RULES[_name] = conv(_name)
    for _kind in ("Max", "Average"):
        RULES[f"{_kind}Pooling{_n}D"] = pooling(f"{_kind}Pooling{_n}D")
        RULES[f"Global{_kind}Pooling{_n}D"] = global_pooling(f"Global{_kind}Pooling{_n}D")
    for _kind in ("ZeroPadding", "Cropping"):
        RULES[f"{_kind}{_n}D"] = padding_or_cropping(f"{_kind}{_n}D")
    RULES[f"UpSampling{_n}D"] = upsampling(f"UpSampling{_n}D")
for _name in ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"):
    RULES[_name] = conv(_name)
