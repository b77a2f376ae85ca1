"""Model blocks (`model: functional|sequential`): each call a nested Keras model named by the call,
its layers keeping their own names; `share:` calls the same model again. Compared with the same
models written by hand in Keras, and with nested models imported from `.keras` files."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS
from kspec.validate import validate_text

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

SIAMESE = """
kspec: 1
name: siamese
inputs:
  left: {shape: [8]}
  right: {shape: [8]}
layers:
  - {name: tower, type: Tower, units: 4, inputs: left}
  - {name: tower_right, share: tower, inputs: right}
  - {name: diff, type: Subtract, inputs: [tower, tower_right]}
  - {name: score, type: Dense, units: 1}
outputs: score
blocks:
  Tower:
    model: sequential
    params: {units: null}
    inputs: [input_layer]
    layers:
      - {name: dense, type: Dense, units: $units, activation: relu}
      - {name: proj, type: Dense, units: 2}
    outputs: proj
"""

ENCODER = """
kspec: 1
name: outer
inputs:
  z: {shape: [5]}
  w: {shape: [3]}
layers:
  - {name: enc, type: Encoder, width: 4, inputs: [z, w]}
  - {name: out, type: Concatenate, inputs: [enc.a, enc.b]}
outputs: out
blocks:
  Encoder:
    model: functional
    params: {width: null}
    inputs: [x, y]
    layers:
      - {name: h, type: Dense, units: $width, inputs: x}
      - {name: cat, type: Concatenate, inputs: [h, y]}
      - {name: a, type: Dense, units: 2}
      - {name: b, type: Dense, units: 3, inputs: cat}
    outputs: {a: a, b: b}
"""

STACK = """
kspec: 1
name: stack
inputs:
  x: {shape: [8]}
layers:
  - {name: pre, type: Dense, units: 6}
  - {name: tower, type: Tower, repeat: 2}
  - {name: head, type: Dense, units: 1}
outputs: head
blocks:
  Tower:
    model: sequential
    inputs: [x]
    layers:
      - {name: dense, type: Dense, units: 6, repeat: 2}
    outputs: dense
"""


def siamese_by_hand():
    import keras

    tower = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(4, activation="relu", name="dense"),
            keras.layers.Dense(2, name="proj"),
        ],
        name="tower",
    )
    left, right = keras.Input((8,), name="left"), keras.Input((8,), name="right")
    diff = keras.layers.Subtract(name="diff")([tower(left), tower(right)])
    return keras.Model([left, right], keras.layers.Dense(1, name="score")(diff), name="siamese")


def encoder_by_hand():
    import keras

    x, y = keras.Input((5,), name="x"), keras.Input((3,), name="y")
    h = keras.layers.Concatenate(name="cat")([keras.layers.Dense(4, name="h")(x), y])
    a, b = keras.layers.Dense(2, name="a")(h), keras.layers.Dense(3, name="b")(h)
    inner = keras.Model([x, y], [a, b], name="enc")
    z, w = keras.Input((5,), name="z"), keras.Input((3,), name="w")
    first, second = inner([z, w])
    return keras.Model([z, w], keras.layers.Concatenate(name="out")([first, second]), name="outer")


def stack_by_hand():
    import keras

    def tower(name):
        return keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(6, name="dense_1"), keras.layers.Dense(6, name="dense_2")],
            name=name,
        )

    return keras.Sequential(
        [
            keras.Input((8,), name="x"),
            keras.layers.Dense(6, name="pre"),
            tower("tower_1"),
            tower("tower_2"),
            keras.layers.Dense(1, name="head"),
        ],
        name="stack",
    )


def tree(model):
    """Layer names and classes, nested models opened, input layers left out (a subclassed model
    lists none)."""
    import keras

    return [
        (layer.name, type(layer).__name__, tree(layer) if isinstance(layer, keras.Model) else None)
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]


def leaf_configs(model):
    from helpers_keras import comparable_config
    from kspec.weights import layers_by_name

    return {name: comparable_config(layer) for name, layer in layers_by_name(model).items()}


def random_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, *t.shape[1:])).astype("float32") for t in model.inputs]


def paths(model):
    """The weights' paths, less the model's own name where the model's class builds its layers
    under it (Sequential, subclassed models)."""
    own = model.name + "/"
    return [w.path[len(own) :] if w.path.startswith(own) else w.path for w in model.weights]


def assert_same_model(mine, theirs):
    assert tree(mine) == tree(theirs)
    assert leaf_configs(mine) == leaf_configs(theirs)
    assert mine.count_params() == theirs.count_params()
    assert paths(mine) == paths(theirs)
    mine.set_weights(theirs.get_weights())  # by position: the same order of weights
    x = random_inputs(theirs)
    np.testing.assert_allclose(kspec_outputs(mine, x), kspec_outputs(theirs, x), rtol=1e-6, atol=1e-6)


def kspec_outputs(model, x):
    out = model(x if len(x) > 1 else x[0])
    return np.concatenate([np.asarray(o).ravel() for o in (out if isinstance(out, (list, tuple)) else [out])])


@pytest.mark.parametrize(
    "text, by_hand", [(SIAMESE, siamese_by_hand), (ENCODER, encoder_by_hand), (STACK, stack_by_hand)]
)
def test_a_model_block_builds_the_model_written_by_hand_in_every_style(text, by_hand):
    from kspec.backends.styles import allowed_styles

    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    theirs = by_hand()
    styles = allowed_styles(result.spec)
    assert ("sequential" in styles) == (text is STACK)
    for style in styles:
        mine = kspec.build(result.spec, style, compile=False)
        assert_same_model(mine, theirs)
