"""Parameter arithmetic proven against Keras: specs/transformer_params.yaml, built by kspec in
every style, is the model written by hand with the sizes computed in Python."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, ROOT
from helpers_keras import predictions, sample_inputs
from kspec.backends.styles import allowed_styles
from kspec.compiler import load_module
from kspec.weights import layers_by_name

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

SPEC = ROOT / "specs" / "transformer_params.yaml"


def hand_written():
    import keras
    from keras import layers

    def encoder(x, name, embed_dim, heads, ratio=4, dropout=0.1):
        attn = layers.MultiHeadAttention(
            num_heads=heads, key_dim=embed_dim // heads, dropout=dropout, name=f"{name}_attn"
        )(query=x, value=x)
        x = layers.Add(name=f"{name}_attn_res")([x, attn])
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_attn_norm")(x)
        y = layers.Dense(ratio * embed_dim, activation="gelu", name=f"{name}_ff_in")(x)
        y = layers.Dense(embed_dim, name=f"{name}_ff_out")(y)
        y = layers.Dropout(dropout / 2, name=f"{name}_ff_drop")(y)
        x = layers.Add(name=f"{name}_ff_res")([x, y])
        return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_out")(x)

    tokens = keras.Input((32,), dtype="int32", name="tokens")
    x = layers.Embedding(1000, 64, name="embed")(tokens)
    x = encoder(x, "enc1", 64, 4)
    x = encoder(x, "enc2", 64, 2, ratio=2)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    x = layers.Dropout(1 / 8, name="drop")(x)
    return keras.Model(tokens, layers.Dense(3, activation="softmax", name="probs")(x))


def facts(model) -> dict:
    """Per layer: output shape, parameter count, and the arguments the expressions set."""
    found = {}
    for name, layer in layers_by_name(model).items():
        config = layer.get_config()
        chosen = {k: config[k] for k in ("key_dim", "num_heads", "units", "rate") if k in config}
        found[name] = (tuple(layer.output.shape), layer.count_params(), chosen)
    return found


def test_every_style_is_the_hand_written_model():
    spec = kspec.load(SPEC)
    reference = hand_written()
    want = facts(reference)
    assert want["enc1_attn"][2]["key_dim"] == 16 and want["enc2_attn"][2]["key_dim"] == 32
    inputs = sample_inputs(spec)
    expected = predictions(reference, inputs)
    styles = allowed_styles(spec)
    assert {"functional", "subclass"} <= set(styles)
    for style in styles:
        module = load_module(kspec.generate(spec, style), f"kspec_generated_params_{style}")
        for label, model in [
            (f"live {style}", kspec.build(spec, style, compile=False)),
            (f"generated {style}", module.build_model()),
        ]:
            assert facts(model) == want, label
            assert model.count_params() == reference.count_params(), label
            model.set_weights(reference.get_weights())
            for got, wanted in zip(predictions(model, inputs), expected):
                np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-6, err_msg=label)


def test_the_static_summary_is_the_hand_written_model():
    from kspec.shapes import infer

    report = infer(kspec.load(SPEC))
    reference = hand_written()
    ours = {layer.node.name: (layer.output, layer.params) for layer in report.layers}
    theirs = {
        name: (tuple(layer.output.shape), layer.count_params())
        for name, layer in layers_by_name(reference).items()
    }
    assert ours == theirs


def test_generated_code_keeps_the_expressions():
    for style in ("functional", "subclass"):
        source = kspec.generate(SPEC, style)
        assert "key_dim=embed_dim // heads" in source, style
        assert "units=ratio * embed_dim" in source, style
        assert "rate=dropout / 2" in source, style
        assert "rate=1 / 8" in source, style


# Branch blocks that Keras's layer order interleaves are inlined into the enclosing class in
# the subclass style: their expressions are bound to the caller's parameters there.
PARALLEL = """
kspec: 1
name: parallel
inputs: {image: {shape: [8, 8, 3]}}
layers:
  - {name: mixed, type: Mixed, width: 4}
  - {name: pool, type: GlobalAveragePooling2D}
outputs: pool
blocks:
  ConvBN:
    params: {filters: null, kernel_size: 1}
    inputs: [x]
    layers:
      - {name: conv, type: Conv2D, filters: "$filters * 2 // $kernel_size", kernel_size: $kernel_size, padding: same}
      - {name: bn, type: BatchNormalization}
    outputs: bn
  Mixed:
    params: {width: null}
    inputs: [x]
    layers:
      - {name: a, type: ConvBN, filters: "$width + 1", inputs: x}
      - {name: b, type: ConvBN, filters: "max($width, 6)", kernel_size: 3, inputs: x}
      - {name: cat, type: Concatenate, inputs: [a, b]}
    outputs: cat
"""


def test_inlined_blocks_bind_their_expressions_to_the_caller():
    spec = kspec.load(PARALLEL)
    source = kspec.generate(spec, "subclass")
    assert "filters=(width + 1) * 2 // 1" in source  # the branch inlined, over `width`
    assert "filters=max(width, 6) * 2 // 3" in source
    reference = kspec.build(spec, "functional", compile=False)
    assert {n: l.get_config()["filters"] for n, l in layers_by_name(reference).items() if "conv" in n} == {
        "mixed_a_conv": 10,
        "mixed_b_conv": 4,
    }
    inputs = sample_inputs(spec)
    expected = predictions(reference, inputs)
    for style in allowed_styles(spec):
        model = kspec.build(spec, style, compile=False)
        assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in reference.weights], style
        model.set_weights(reference.get_weights())
        np.testing.assert_allclose(predictions(model, inputs)[0], expected[0], rtol=1e-5, atol=1e-6)
