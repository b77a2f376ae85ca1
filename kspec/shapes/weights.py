"""Each layer's weights, by their path inside the layer and their shape, as Keras creates them.

Rules exist for the layers that a sharding plan usually splits (Dense, Embedding, the
convolutions, MultiHeadAttention, the normalizations); `weights` returns None for the
others, whose weights a plan then counts from the parameter count, whole on each device.
"""

from __future__ import annotations

from .common import as_tuple


def weights(type_name: str, args: dict, inputs) -> list[tuple] | None:
    """[(path inside the layer, shape, trainable)] in Keras's order, or None without a rule.

    `inputs` are the call's input shapes (with the batch dimension), known.
    """
    rule = RULES.get(type_name)
    if rule is None:
        return None
    found = rule(args, inputs)
    if found is not None and args.get("trainable") is False:
        found = [(path, shape, False) for path, shape, _ in found]
    return found


def _dense(args, shape):
    units = args["units"]
    out = [("kernel", (shape[-1], units), True)]
    return out + ([("bias", (units,), True)] if args.get("use_bias", True) else [])


def _embedding(args, shape):
    return [("embeddings", (args["input_dim"], args["output_dim"]), True)]


def _axes(args, shape, default=-1):
    axis = args.get("axis", default)
    return [a % len(shape) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]


def _layer_normalization(args, shape):
    dims = tuple(shape[a] for a in sorted(_axes(args, shape)))
    out = [("gamma", dims, True)] if args.get("scale", True) else []
    if args.get("center", True) and not args.get("rms_scaling", False):
        out.append(("beta", dims, True))
    return out


def _batch_normalization(args, shape):
    channels = (shape[_axes(args, shape)[0]],)
    out = [("gamma", channels, True)] if args.get("scale", True) else []
    out += [("beta", channels, True)] if args.get("center", True) else []
    return out + [("moving_mean", channels, False), ("moving_variance", channels, False)]


def _conv(rank: int):
    def rule(args, shape):
        first = args.get("data_format") == "channels_first"
        channels = shape[1] if first else shape[-1]
        filters = args["filters"]
        kernel = as_tuple(args["kernel_size"], rank) + (channels // args.get("groups", 1), filters)
        return [("kernel", kernel, True)] + (
            [("bias", (filters,), True)] if args.get("use_bias", True) else []
        )

    return rule


def _multi_head_attention(args, inputs):
    if isinstance(inputs, dict):
        query, value = inputs["query"], inputs["value"]
        key = inputs.get("key") or value
    else:
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
    if args.get("use_gate"):
        return None
    heads, key_dim = args["num_heads"], args["key_dim"]
    value_dim = args.get("value_dim") or key_dim
    output_shape = args.get("output_shape")
    out = tuple(output_shape) if isinstance(output_shape, (list, tuple)) else (output_shape or query[-1],)
    bias = bool(args.get("use_bias", True))
    found = []
    for name, dim, size in (
        ("query", query[-1], key_dim),
        ("key", key[-1], key_dim),
        ("value", value[-1], value_dim),
    ):
        found.append((f"{name}/kernel", (dim, heads, size), True))
        if bias:
            found.append((f"{name}/bias", (heads, size), True))
    found.append(("attention_output/kernel", (heads, value_dim) + out, True))
    return found + ([("attention_output/bias", out, True)] if bias else [])


RULES = {
    "Dense": _dense,
    "Embedding": _embedding,
    "LayerNormalization": _layer_normalization,
    "BatchNormalization": _batch_normalization,
    "Conv1D": _conv(1),
    "Conv2D": _conv(2),
    "Conv3D": _conv(3),
    "MultiHeadAttention": _multi_head_attention,
}
