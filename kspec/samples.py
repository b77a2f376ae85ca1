"""Random input batches for a spec, and a model's outputs as a list of arrays (needs numpy)."""

from __future__ import annotations


def sample_inputs(spec, batch: int = 4, seed: int = 0, unknown: int = 4, int_high: int = 4):
    """A random batch for the spec's inputs, in input order: ints below `int_high` for integer
    inputs, standard normal values otherwise, `unknown` for each null dimension."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = []
    for spec_input in spec.inputs.values():
        shape = (batch, *[unknown if d is None else d for d in spec_input.shape])
        if spec_input.dtype.startswith("int"):
            arrays.append(rng.integers(0, int_high, size=shape).astype(spec_input.dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(spec_input.dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def as_numpy(value):
    """A tensor or Keras variable of any backend as a numpy array (a torch tensor that
    requires grad included, where numpy.asarray fails)."""
    import keras

    if isinstance(value, keras.Variable):
        value = value.value
    return keras.ops.convert_to_numpy(value)


def output_arrays(model, inputs) -> list:
    """The model's predictions as a list of arrays (named outputs in name order)."""
    out = model(inputs, training=False)
    if isinstance(out, dict):
        return [as_numpy(out[k]) for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return [as_numpy(o) for o in out]
    return [as_numpy(out)]
