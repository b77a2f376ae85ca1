"""Shape rules of dense, embedding, reshaping, normalization and shape-preserving layers."""

from __future__ import annotations

from .common import as_tuple, axis_index, known, need_min_rank, need_rank, prod
from .errors import ShapeError, fmt

# Layers whose output has the input's shape and that have no weights.
SAME_SHAPE = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "ThresholdedReLU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Masking",
    "Identity",
    "Rescaling",
    "UnitNormalization",
)


def same_shape(args, shape):
    return shape, 0, 0


def dense(args, shape):
    need_min_rank(shape, 2, "Dense")
    features = known(shape[-1], "Dense", shape, "last dimension")
    units = args["units"]
    bias = units if args.get("use_bias", True) else 0
    return shape[:-1] + (units,), features * units + bias, 0


def embedding(args, shape):
    dim = args["output_dim"]
    return shape + (dim,), args["input_dim"] * dim, 0


def flatten(args, shape):
    if args.get("data_format") == "channels_first" and len(shape) > 2:
        shape = (shape[0],) + shape[2:] + (shape[1],)
    return (shape[0], prod(shape[1:])), 0, 0


def reshape(args, shape):
    target = tuple(args["target_shape"])
    size = prod(shape[1:])
    if target.count(-1) > 1:
        raise ShapeError("KS605", f"Reshape target {target} has more than one -1")
    if -1 in target:
        rest = prod(d for d in target if d != -1)
        if size is not None and rest:
            if size % rest:
                raise ShapeError("KS605", f"Reshape cannot fit {size} values of {fmt(shape)} into {target}")
            target = tuple(size // rest if d == -1 else d for d in target)
        else:
            target = tuple(None if d == -1 else d for d in target)
    elif size is not None and prod(target) != size:
        raise ShapeError(
            "KS605", f"Reshape target {target} holds {prod(target)} values, " f"but {fmt(shape)} has {size}"
        )
    return (shape[0],) + target, 0, 0


def permute(args, shape):
    dims = tuple(args["dims"])
    if sorted(dims) != list(range(1, len(shape))):
        raise ShapeError("KS602", f"Permute dims {dims} must order 1..{len(shape) - 1} for {fmt(shape)}")
    return (shape[0],) + tuple(shape[d] for d in dims), 0, 0


def repeat_vector(args, shape):
    need_rank(shape, 2, "RepeatVector")
    return (shape[0], args["n"], shape[1]), 0, 0


def _axes(args, shape, layer, default=-1):
    axis = args.get("axis", default)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return [axis_index(a, len(shape), layer, shape) for a in axes]


def batch_normalization(args, shape):
    [axis] = _axes(args, shape, "BatchNormalization")
    channels = known(shape[axis], "BatchNormalization", shape, f"axis {axis}")
    trainable = channels * (bool(args.get("center", True)) + bool(args.get("scale", True)))
    return shape, trainable, 2 * channels


def layer_normalization(args, shape):
    axes = _axes(args, shape, "LayerNormalization")
    size = prod(known(shape[a], "LayerNormalization", shape, f"axis {a}") for a in axes)
    scale = bool(args.get("scale", True))
    center = bool(args.get("center", True)) and not args.get("rms_scaling", False)
    return shape, size * (scale + center), 0


def group_normalization(args, shape):
    [axis] = _axes(args, shape, "GroupNormalization")
    channels = known(shape[axis], "GroupNormalization", shape, f"axis {axis}")
    groups = args.get("groups", 32)
    if channels % groups:
        raise ShapeError(
            "KS601", f"GroupNormalization: {channels} channels do not split into {groups} groups"
        )
    return shape, channels * (bool(args.get("center", True)) + bool(args.get("scale", True))), 0


def normalization(args, shape):
    axes = _axes(args, shape, "Normalization")
    size = prod(known(shape[a], "Normalization", shape, f"axis {a}") for a in axes)
    if args.get("mean") is not None and args.get("variance") is not None:
        return shape, 0, 0
    return shape, 0, 2 * size + 1


def prelu(args, shape):
    dims = list(shape[1:])
    for axis in as_tuple(args.get("shared_axes") or [], 1):
        dims[axis - 1] = 1
    return shape, prod(known(d, "PReLU", shape, "dimension") for d in dims), 0


def _spatial(args, shape):
    """Indices of height and width for 4D image layers."""
    return (2, 3) if args.get("data_format") == "channels_first" else (1, 2)


def _resized(type_name: str):
    """The rule of a layer that sets an image's height and width (Resizing, CenterCrop)."""

    def rule(args, shape):
        need_rank(shape, 4, type_name)
        h, w = _spatial(args, shape)
        out = list(shape)
        out[h], out[w] = args["height"], args["width"]
        return tuple(out), 0, 0

    return rule


RULES = {name: same_shape for name in SAME_SHAPE}
RULES.update(
    {
        "Dense": dense,
        "Embedding": embedding,
        "Flatten": flatten,
        "Reshape": reshape,
        "Permute": permute,
        "RepeatVector": repeat_vector,
        "BatchNormalization": batch_normalization,
        "LayerNormalization": layer_normalization,
        "GroupNormalization": group_normalization,
        "Normalization": normalization,
        "PReLU": prelu,
        "Resizing": _resized("Resizing"),
        "CenterCrop": _resized("CenterCrop"),
    }
)
