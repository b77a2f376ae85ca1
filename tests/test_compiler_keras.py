"""One spec, every style it allows, provably the same model (compared in Keras)."""

import sys
from pathlib import Path

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, SPECS, load_on_one_device
from helpers_keras import comparable_config, models_of, predictions, sample_inputs
from kspec.weights import layers_by_name as leaf_layers

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

HEAVY = {"resnet50"}
PARAMS = [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY else p for p in SPECS]


@pytest.mark.parametrize("path", PARAMS, ids=lambda p: p.stem)
def test_every_style_gives_the_same_model(path):
    spec = load_on_one_device(path)
    models = models_of(spec)
    reference_label, reference = next((l, m) for l, m in models if l == "live functional")
    ref_layers = leaf_layers(reference)
    ref_configs = {n: comparable_config(l) for n, l in ref_layers.items()}
    ref_shapes = [tuple(w.shape) for w in reference.weights]
    inputs = sample_inputs(spec)
    expected = predictions(reference, inputs)
    for label, model in models:
        layers = leaf_layers(model)
        assert {n: comparable_config(l) for n, l in layers.items()} == ref_configs, label
        assert [tuple(w.shape) for w in model.weights] == ref_shapes, label
        assert model.count_params() == reference.count_params(), label
        model.set_weights(reference.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


@pytest.mark.parametrize("path", PARAMS, ids=lambda p: p.stem)
def test_static_parameter_count_equals_every_built_style(path):
    from kspec.shapes import infer

    spec = load_on_one_device(path)
    total = infer(spec).total_params
    for label, model in models_of(spec):
        assert model.count_params() == total, label


CUSTOM = """
kspec: 1
name: scaled
inputs: {x: {shape: [6]}}
layers:
  - {name: dense, type: Dense, units: 4}
  - {name: scale, type: Scale, initial: 0.5}
  - {name: out, type: Dense, units: 2}
outputs: out
custom:
  Scale: kspec_test_layers:Scale
"""


def test_custom_layers_are_imported_from_their_path_in_every_style(monkeypatch):

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "fixtures"))
    spec = kspec.load(CUSTOM)
    source = kspec.generate(spec, "functional")
    assert "from kspec_test_layers import Scale" in source
    models = models_of(spec)
    reference = dict(models)["live functional"]
    inputs = sample_inputs(spec)
    for label, model in models:
        assert (
            type(model.get_layer("scale") if hasattr(model, "get_layer") else None).__name__ == "Scale"
        ), label
        model.set_weights(reference.get_weights())
        np.testing.assert_allclose(
            predictions(model, inputs)[0], predictions(reference, inputs)[0], rtol=1e-6
        )


def test_a_block_class_passes_its_parameters_to_the_blocks_it_writes_inline():
    """Mixer's parallel Branch calls become Mixer's own layers in the subclass style; their
    `units: $units` must become Mixer's `width` parameter, not the first call's value."""
    spec = kspec.load(Path(__file__).parent / "fixtures" / "nested_inline.yaml")
    functional = kspec.build(spec, "functional", compile=False)
    subclass = kspec.build(spec, "subclass", compile=False)
    source = kspec.generate(spec, "subclass")
    assert "self.left_a = layers.Dense(units=width," in source
    kernels = {n: tuple(l.kernel.shape) for n, l in leaf_layers(subclass).items() if n.endswith("left_a")}
    assert kernels == {"m1_left_a": (8, 4), "m2_1_left_a": (8, 6), "m2_2_left_a": (8, 6)}
    assert [tuple(w.shape) for w in subclass.weights] == [tuple(w.shape) for w in functional.weights]
    subclass.set_weights(functional.get_weights())
    inputs = sample_inputs(spec)
    for got, want in zip(predictions(subclass, inputs), predictions(functional, inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def hand_written_siamese_tower():
    """specs/siamese_tower.yaml as a Keras user writes it: one tower's layers, called twice."""
    import keras
    from keras import layers

    hidden = layers.Dense(128, activation="relu", name="tower_left_hidden")
    drop = layers.Dropout(0.1, name="tower_left_drop")
    proj = layers.Dense(32, name="tower_left_proj")
    norm = layers.UnitNormalization(name="tower_left_norm")

    def tower(x):
        return norm(proj(drop(hidden(x))))

    left, right = keras.Input((64,), name="left"), keras.Input((64,), name="right")
    diff = layers.Subtract(name="diff")([tower(left), tower(right)])
    dist = layers.Activation("relu", name="dist")(diff)
    similarity = layers.Dense(1, activation="sigmoid", name="similarity")(dist)
    return keras.Model([left, right], similarity, name="siamese_tower")


def test_a_shared_block_call_is_the_tower_keras_users_write_by_hand():
    spec = kspec.load(Path(__file__).parent.parent / "specs" / "siamese_tower.yaml")
    hand = hand_written_siamese_tower()
    inputs = sample_inputs(spec)
    expected = predictions(hand, inputs)
    for style in ("functional", "subclass"):
        model = kspec.build(spec, style, compile=False)
        assert sorted(leaf_layers(model)) == sorted(leaf_layers(hand)), style
        assert model.count_params() == hand.count_params(), style
        assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in hand.weights], style
        model.set_weights(hand.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=style)


def test_every_form_of_sharing_gives_one_model_in_both_styles():
    """tests/fixtures/shared_blocks.yaml: a whole block call (with a block inside), a repeated
    block call, one layer inside a block call, and a share inside a block."""
    from kspec.shapes import infer

    spec = kspec.load(Path(__file__).parent / "fixtures" / "shared_blocks.yaml")
    functional = kspec.build(spec, "functional", compile=False)
    subclass = kspec.build(spec, "subclass", compile=False)
    unshared = [n for n in kspec.flatten.flatten(spec).nodes if not n.share]
    assert len(leaf_layers(functional)) == len(unshared)
    assert functional.count_params() == subclass.count_params() == infer(spec).total_params
    assert [tuple(w.shape) for w in subclass.weights] == [tuple(w.shape) for w in functional.weights]
    subclass.set_weights(functional.get_weights())
    inputs = sample_inputs(spec)
    for got, want in zip(predictions(subclass, inputs), predictions(functional, inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_chain_deeper_than_keras_recursion_allows_builds():
    """Keras's Functional build recurses once per layer and stops near 1,500 chained layers
    (RecursionError); kspec.build runs it where the chain fits (kspec.deep)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent))
    from benchmarks.specgen import chain_spec
    from kspec.shapes import infer

    spec = kspec.load(chain_spec(2_500))
    limit = sys.getrecursionlimit()
    model = kspec.build(spec, "functional", compile=False)
    assert len(model.layers) == len(kspec.flatten.flatten(spec).nodes) + 1
    assert model.count_params() == infer(spec).total_params
    assert sys.getrecursionlimit() == limit


def hand_written_gpt_decoder():
    """specs/gpt_decoder.yaml as a Keras user writes it, with keras.ops for the positions."""
    import keras
    from keras import layers, ops

    tokens = keras.Input((64,), dtype="int32", name="tokens")
    token_emb = layers.Embedding(5000, 128, name="token_emb")(tokens)
    position_ids = ops.add(ops.zeros_like(tokens), ops.arange(0, 64, dtype="int32"))
    x = ops.add(token_emb, layers.Embedding(64, 128, name="pos_emb")(position_ids))
    x = layers.Dropout(0.1, name="drop")(x)
    for i in range(1, 5):
        block = f"blocks_{i}"
        h = layers.LayerNormalization(epsilon=1e-5, name=f"{block}_attn_norm")(x)
        attn = layers.MultiHeadAttention(4, 128 // 4, dropout=0.1, name=f"{block}_attn")
        x = ops.add(x, attn(query=h, value=h, use_causal_mask=True))
        h = layers.LayerNormalization(epsilon=1e-5, name=f"{block}_mlp_norm")(x)
        h = layers.Dense(4 * 128, activation="gelu", name=f"{block}_mlp_in")(h)
        h = layers.Dense(128, name=f"{block}_mlp_out")(h)
        x = ops.add(x, layers.Dropout(0.1, name=f"{block}_mlp_drop")(h))
    x = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    return keras.Model(tokens, layers.Dense(5000, name="logits")(x), name="gpt_decoder")


def hand_written_vae_encoder():
    """specs/vae_encoder.yaml as a Keras user writes it, with the same Sampling class."""
    import keras
    from keras import layers

    sys.path.insert(0, str(Path(__file__).parent.parent / "specs"))
    from vae_layers import Sampling

    image = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(image)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = layers.Dense(16, activation="relu", name="hidden")(layers.Flatten(name="flat")(x))
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    z = Sampling(seed=1337, name="z")([z_mean, z_log_var])
    return keras.Model(image, {"z_mean": z_mean, "z_log_var": z_log_var, "z": z}, name="vae_encoder")


@pytest.mark.parametrize(
    "name, hand_written",
    [("gpt_decoder", hand_written_gpt_decoder), ("vae_encoder", hand_written_vae_encoder)],
)
def test_the_modern_examples_are_the_models_written_by_hand(name, hand_written):
    """Every layer's output shape and parameter count, the static total, and the predictions
    with the same weights, in each style, against the model written with Keras directly."""
    from kspec.shapes import infer

    spec = kspec.load(Path(__file__).parent.parent / "specs" / f"{name}.yaml")
    hand = hand_written()
    static = infer(spec)
    assert static.total_params == hand.count_params()
    inputs = sample_inputs(spec)
    expected = predictions(hand, inputs)
    for style in ("functional", "subclass"):
        model = kspec.build(spec, style, compile=False)
        assert model.count_params() == hand.count_params(), style
        theirs = leaf_layers(hand)
        for layer_name, layer in leaf_layers(model).items():
            assert layer.count_params() == theirs[layer_name].count_params(), (style, layer_name)
        assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in hand.weights], style
        model.set_weights(hand.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=style)
    by_name = {layer.node.name: layer.output for layer in static.layers}
    for layer in hand.layers:
        if layer.name in by_name and not isinstance(layer.output, (list, dict)):
            assert tuple(by_name[layer.name]) == tuple(layer.output.shape), layer.name
