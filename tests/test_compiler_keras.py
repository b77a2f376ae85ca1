"""One spec, every style it allows, provably the same model (compared in Keras)."""

from pathlib import Path

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, SPECS, load_on_one_device
from helpers_keras import comparable_config, predictions, sample_inputs
from kspec.weights import layers_by_name as leaf_layers
from kspec.backends.styles import allowed_styles
from kspec.compiler import load_module

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

HEAVY = {"resnet50"}
PARAMS = [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY else p for p in SPECS]


def models_of(spec):
    """(label, model) for the live model and the generated module of every allowed style."""
    out = []
    for style in allowed_styles(spec):
        out.append((f"live {style}", kspec.build(spec, style, compile=False)))
        module = load_module(kspec.generate(spec, style), f"kspec_generated_test_{spec.name}_{style}")
        out.append((f"generated {style}", module.build_model()))
    return out


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
