"""What kind of value each Keras constructor argument takes.

Signatures in the catalog give names and defaults; this table adds the meaning
that a default cannot show (`units` is a positive integer, `padding` of a
convolution is 'valid' or 'same'). An argument not named here is checked by
the type of its default. A test keeps every name here present in the catalog.
"""

from __future__ import annotations

# Arguments whose kind follows from the name alone.
BY_NAME = {
    "units": "positive_int",
    "filters": "positive_int",
    "num_heads": "positive_int",
    "key_dim": "positive_int",
    "value_dim": "positive_int_or_null",
    "input_dim": "positive_int",
    "output_dim": "positive_int",
    "n": "positive_int",
    "depth_multiplier": "positive_int",
    "groups": "positive_int",
    "num_tokens": "positive_int",
    "kernel_size": "size",
    "pool_size": "size_or_null",
    "strides": "size_or_null",
    "dilation_rate": "size",
    "rate": "rate",
    "dropout": "rate",
    "recurrent_dropout": "rate",
    "stddev": "non_negative",
    "activation": "activation",
    "recurrent_activation": "activation",
    "data_format": "data_format",
    "layer": "layer",
    "backward_layer": "layer",
    "cell": "layer",
    "target_shape": "shape",
    "dims": "int_list",
    "trainable": "bool",
    "dtype": "dtype",
    "name": "identifier",
    "height": "positive_int",
    "width": "positive_int",
}

# Constant call() arguments whose kind a default cannot show (`training=None`).
CALL_BY_NAME = {"training": "bool_or_null"}

# Names whose kind depends on the layer: string modes for convolutions and
# pooling, sizes for padding and cropping layers.
PADDING_MODES = ("valid", "same", "causal")
DATA_FORMATS = ("channels_last", "channels_first")

# Suffixes that name a nested Keras object and its namespace.
OBJECT_SUFFIXES = {
    "_initializer": "initializers",
    "_regularizer": "regularizers",
    "_constraint": "constraints",
}


def kind_of(name: str, default, has_default: bool) -> str:
    """The kind of a layer constructor argument."""
    for suffix, namespace in OBJECT_SUFFIXES.items():
        if name.endswith(suffix):
            return namespace
    if name == "padding":
        return "padding_mode" if isinstance(default, str) else "size_or_pairs"
    if name == "cropping":
        return "size_or_pairs"
    if name in BY_NAME:
        return BY_NAME[name]
    if not has_default or default is None:
        return "any"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int_like"
    if isinstance(default, float):
        return "number_like"
    if isinstance(default, str):
        return "string_like"
    if isinstance(default, list):
        return "size_or_null"
    return "any"
