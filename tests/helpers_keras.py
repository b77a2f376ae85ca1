"""Helpers for tests that compare kspec's models with Keras."""

import numpy as np


def leaf_layers(model) -> dict:
    """name -> layer for every layer that holds no other layers (blocks are unfolded)."""
    out = {}
    todo = list(model.layers)
    while todo:
        layer = todo.pop(0)
        if type(layer).__module__.startswith("kspec_generated"):
            todo[:0] = list(layer._flatten_layers(include_self=False, recursive=False))
            continue
        if type(layer).__name__ != "InputLayer":
            out[layer.name] = layer
    return out


def comparable_config(layer) -> tuple:
    """A layer's type and config, without the names Keras gives nested layers from a
    session-wide counter (`forward_lstm_1`), which depend on what was built before."""
    config = layer.get_config()
    for key in ("layer", "backward_layer", "cell"):
        nested = config.get(key)
        if isinstance(nested, dict) and isinstance(nested.get("config"), dict):
            nested["config"].pop("name", None)
    return type(layer).__name__, config


def sample_inputs(spec, batch: int = 3, seed: int = 0):
    """A random batch for the spec's inputs (ints for integer inputs), in input order."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec_input in spec.inputs.values():
        shape = (batch, *[5 if d is None else d for d in spec_input.shape])
        if spec_input.dtype.startswith("int"):
            arrays.append(rng.integers(0, 10, size=shape).astype(spec_input.dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(spec_input.dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def predictions(model, inputs):
    out = model(inputs, training=False)
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]
