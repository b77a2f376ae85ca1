"""Static shapes and parameter counts against what Keras computes for the same layer."""

import pytest

from conftest import HAS_KERAS, SPECS, load_on_one_device
from kspec.shapes import ShapeError, _apply

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

IMG = (None, 17, 15, 3)
SEQ = (None, 9, 6)
CASES = [
    ("Dense", {"units": 5}, (None, 7)),
    ("Dense", {"units": 5, "use_bias": False}, (None, 4, 7)),
    ("Embedding", {"input_dim": 50, "output_dim": 8}, (None, 12)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2}, SEQ),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, SEQ),
    ("Conv2D", {"filters": 8, "kernel_size": 3}, IMG),
    ("Conv2D", {"filters": 8, "kernel_size": [3, 5], "strides": [2, 1], "padding": "same"}, IMG),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "dilation_rate": 2, "use_bias": False}, IMG),
    ("Conv2D", {"filters": 6, "kernel_size": 1, "groups": 3}, IMG),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (None, 3, 17, 15)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "strides": 2}, (None, 8, 9, 10, 3)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, SEQ),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, IMG),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "output_padding": 1}, IMG),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3}, (None, 4, 5, 6, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, IMG),
    ("DepthwiseConv1D", {"kernel_size": 3, "padding": "same"}, SEQ),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 2}, IMG),
    ("SeparableConv1D", {"filters": 5, "kernel_size": 2, "use_bias": False}, SEQ),
    ("MaxPooling1D", {"pool_size": 2}, SEQ),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2}, IMG),
    ("AveragePooling2D", {"pool_size": 2, "padding": "same"}, IMG),
    ("AveragePooling3D", {"pool_size": 2}, (None, 5, 6, 7, 2)),
    ("MaxPooling3D", {"pool_size": [2, 1, 2]}, (None, 5, 6, 7, 2)),
    ("GlobalAveragePooling1D", {}, SEQ),
    ("GlobalMaxPooling2D", {}, IMG),
    ("GlobalAveragePooling2D", {"keepdims": True}, IMG),
    ("GlobalMaxPooling3D", {"data_format": "channels_first"}, (None, 3, 4, 5, 6)),
    ("ZeroPadding1D", {"padding": [1, 2]}, SEQ),
    ("ZeroPadding2D", {"padding": [[1, 2], [3, 0]]}, IMG),
    ("ZeroPadding3D", {"padding": 1}, (None, 3, 4, 5, 2)),
    ("Cropping1D", {"cropping": [1, 2]}, SEQ),
    ("Cropping2D", {"cropping": [[1, 2], [3, 0]]}, IMG),
    ("Cropping3D", {"cropping": 1}, (None, 5, 6, 7, 2)),
    ("UpSampling1D", {"size": 3}, SEQ),
    ("UpSampling2D", {"size": [2, 3]}, IMG),
    ("UpSampling3D", {"size": 2}, (None, 2, 3, 4, 2)),
    ("BatchNormalization", {}, IMG),
    ("BatchNormalization", {"axis": 1, "center": False}, (None, 5, 7)),
    ("LayerNormalization", {}, SEQ),
    ("LayerNormalization", {"axis": [1, 2], "scale": False}, SEQ),
    ("LayerNormalization", {"rms_scaling": True}, SEQ),
    ("GroupNormalization", {"groups": 2}, (None, 5, 4)),
    ("UnitNormalization", {}, SEQ),
    ("Normalization", {}, (None, 4)),
    ("Normalization", {"axis": [1, 2]}, (None, 3, 4)),
    ("Normalization", {"mean": 0.5, "variance": 2.0}, (None, 4)),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}, IMG),
    ("Activation", {"activation": "relu"}, IMG),
    ("ReLU", {}, SEQ),
    ("LeakyReLU", {}, SEQ),
    ("ELU", {}, SEQ),
    ("Softmax", {}, SEQ),
    ("PReLU", {}, SEQ),
    ("PReLU", {"shared_axes": [1]}, SEQ),
    ("Dropout", {"rate": 0.5}, SEQ),
    ("SpatialDropout1D", {"rate": 0.1}, SEQ),
    ("SpatialDropout2D", {"rate": 0.1}, IMG),
    ("GaussianNoise", {"stddev": 0.1}, SEQ),
    ("GaussianDropout", {"rate": 0.1}, SEQ),
    ("AlphaDropout", {"rate": 0.1}, SEQ),
    ("ActivityRegularization", {"l1": 0.1}, SEQ),
    ("Masking", {}, SEQ),
    ("Identity", {}, SEQ),
    ("Flatten", {}, IMG),
    ("Flatten", {}, (None, None, 4)),
    ("Reshape", {"target_shape": [3, 18]}, SEQ),
    ("Reshape", {"target_shape": [-1, 2]}, SEQ),
    ("Permute", {"dims": [2, 1]}, SEQ),
    ("RepeatVector", {"n": 4}, (None, 6)),
    ("Resizing", {"height": 8, "width": 5}, IMG),
    ("CenterCrop", {"height": 8, "width": 5}, IMG),
    ("SimpleRNN", {"units": 4}, SEQ),
    ("SimpleRNN", {"units": 4, "return_sequences": True, "return_state": True}, SEQ),
    ("GRU", {"units": 4}, SEQ),
    ("GRU", {"units": 4, "reset_after": False, "return_sequences": True}, SEQ),
    ("LSTM", {"units": 4, "return_state": True}, SEQ),
    ("LSTM", {"units": 4, "use_bias": False, "return_sequences": True}, (None, None, 6)),
    ("Bidirectional", {"layer": {"type": "LSTM", "units": 3}}, SEQ),
    (
        "Bidirectional",
        {"layer": {"type": "GRU", "units": 3, "return_sequences": True}, "merge_mode": "sum"},
        SEQ,
    ),
    ("Bidirectional", {"layer": {"type": "LSTM", "units": 3, "return_state": True}}, SEQ),
    ("Bidirectional", {"layer": {"type": "SimpleRNN", "units": 3}, "merge_mode": None}, SEQ),
    ("TimeDistributed", {"layer": {"type": "Dense", "units": 3}}, SEQ),
    ("TimeDistributed", {"layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}}, (None, 4, 8, 8, 3)),
    ("Add", {}, [IMG, IMG]),
    ("Multiply", {}, [SEQ, SEQ, SEQ]),
    ("Average", {}, [SEQ, SEQ]),
    ("Maximum", {}, [SEQ, SEQ]),
    ("Minimum", {}, [SEQ, SEQ]),
    ("Subtract", {}, [SEQ, SEQ]),
    ("Add", {}, [(None, 9, 6), (None, 1, 6)]),
    ("Concatenate", {}, [IMG, (None, 17, 15, 5)]),
    ("Concatenate", {"axis": 1}, [SEQ, (None, 4, 6)]),
    ("Dot", {"axes": 1}, [(None, 5), (None, 5)]),
    ("Dot", {"axes": [2, 2]}, [SEQ, (None, 4, 6)]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, {"query": SEQ, "value": (None, 5, 7)}),
    (
        "MultiHeadAttention",
        {"num_heads": 3, "key_dim": 2, "value_dim": 4, "use_bias": False, "output_shape": 5},
        {"query": SEQ, "value": SEQ, "key": (None, 9, 2)},
    ),
    ("Attention", {}, [SEQ, (None, 4, 6)]),
    ("Attention", {"use_scale": True, "score_mode": "concat"}, [SEQ, SEQ]),
    ("AdditiveAttention", {}, [SEQ, SEQ]),
]


def keras_result(type_name, args, inputs):
    import keras

    from kspec.backends.python.values import Values

    # The layer as a generated module writes it, run here as load_module runs a module.
    layer = eval(Values({}).layer(type_name, args).flat(), {"keras": keras, "layers": keras.layers})

    def tensor(shape):
        return keras.Input(batch_shape=shape)

    if isinstance(inputs, dict):
        out = layer(**{k: tensor(v) for k, v in inputs.items()})
    elif isinstance(inputs, list):
        out = layer([tensor(s) for s in inputs])
    else:
        out = layer(tensor(inputs))
    shape = [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)
    return shape, layer.count_params()


@pytest.mark.parametrize("type_name, args, inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_agrees_with_keras(type_name, args, inputs):
    shape, trainable, frozen = _apply(type_name, args, inputs)
    assert (shape, trainable + frozen) == keras_result(type_name, args, inputs)


ERRORS = [
    ("Add", {}, [(None, 32, 32, 16), (None, 32, 32, 8)]),
    ("Dense", {"units": 3}, (None, None)),
    ("LSTM", {"units": 3}, (None, 8)),
    ("Conv2D", {"filters": 3, "kernel_size": 3}, (None, 8)),
    ("Concatenate", {}, [(None, 4, 4, 3), (None, 5, 4, 3)]),
    ("Reshape", {"target_shape": [5, 5]}, (None, 8, 3)),
    ("Conv2D", {"filters": 3, "kernel_size": 5}, (None, 3, 3, 1)),
    ("MaxPooling2D", {"pool_size": 2}, (None, 1, 1, 4)),
]


@pytest.mark.parametrize("type_name, args, inputs", ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERRORS)])
def test_keras_also_refuses_what_the_rules_refuse(type_name, args, inputs):
    with pytest.raises(ShapeError):
        _apply(type_name, args, inputs)
    with pytest.raises(Exception):
        keras_result(type_name, args, inputs)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_static_summary_of_each_example_equals_the_built_model(path):
    import kspec
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    spec = load_on_one_device(path)
    model = kspec.build(spec, "functional", compile=False)
    ours = {
        row["name"]: (row["type"], row["output_shape"], row["params"]) for row in keras_layers(infer(spec))
    }
    theirs = {}
    for layer in model.layers:
        out = layer.output
        shape = [list(t.shape) for t in out] if isinstance(out, (list, tuple)) else list(out.shape)
        theirs[layer.name] = (type(layer).__name__, shape, layer.count_params())
    assert ours == theirs
