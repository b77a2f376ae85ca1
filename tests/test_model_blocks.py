"""Model blocks (`model: functional|sequential`): each call a nested Keras model named by the call,
its layers keeping their own names; `share:` calls the same model again. Compared with the same
models written by hand in Keras, and with nested models imported from `.keras` files."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS
from kspec.samples import as_numpy
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


def serialized(layer) -> str:
    """A layer's config as saved (tuples and lists alike)."""
    import json

    return json.dumps(layer.get_config(), sort_keys=True, default=str)


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
    return np.concatenate([as_numpy(o).ravel() for o in (out if isinstance(out, (list, tuple)) else [out])])


@pytest.mark.parametrize(
    "text, by_hand", [(SIAMESE, siamese_by_hand), (ENCODER, encoder_by_hand), (STACK, stack_by_hand)]
)
def test_a_model_block_builds_the_model_written_by_hand_in_every_style(text, by_hand):
    from kspec.backends.styles import allowed_styles
    from kspec.sharding import spec_weights

    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    theirs = by_hand()
    styles = allowed_styles(result.spec)
    assert ("sequential" in styles) == (text is STACK)
    planned = spec_weights(result.spec)
    for style in styles:
        mine = kspec.build(result.spec, style, compile=False)
        assert_same_model(mine, theirs)
        # the sharding plan's paths are Keras's: `tower/dense/kernel` in a nested Sequential
        assert [w.paths[style] for w in planned] == [w.path for w in mine.weights]


@pytest.mark.parametrize("by_hand, block", [(siamese_by_hand, "Tower"), (encoder_by_hand, "Enc")])
def test_a_nested_model_imports_as_a_model_block_and_rebuilds_exactly(tmp_path, by_hand, block):
    """Import -> build gives the original's layer tree, configs, weight paths and parameter count,
    loads the original's .weights.h5 (keyed by the layer tree), and predicts the same."""
    import keras

    import kspec.importer

    original = by_hand()
    original.save(tmp_path / "model.keras")
    original.save_weights(tmp_path / "model.weights.h5")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    text = kspec.importer.from_keras(loaded)
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    assert list(result.spec.blocks) == [block]
    assert result.spec.blocks[block].model == type(original.layers[2]).__name__.lower().replace(
        "model", "functional"
    )
    rebuilt = kspec.build(result.spec, "functional", compile=False)
    assert tree(rebuilt) == tree(original)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in original.layers]
    assert leaf_configs(rebuilt) == leaf_configs(original)
    nested = original.layers[2].name
    assert serialized(rebuilt.get_layer(nested)) == serialized(loaded.get_layer(nested))  # inputs too
    assert [w.path for w in rebuilt.weights] == [w.path for w in original.weights]
    assert rebuilt.count_params() == original.count_params()
    rebuilt.load_weights(tmp_path / "model.weights.h5")
    for mine, theirs in zip(rebuilt.weights, original.weights):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    x = random_inputs(original)
    np.testing.assert_allclose(kspec_outputs(rebuilt, x), kspec_outputs(original, x), rtol=1e-6, atol=1e-6)


def test_a_shared_nested_model_imports_as_one_model_called_twice():
    import kspec.importer

    result = validate_text(kspec.importer.from_keras(siamese_by_hand()))
    calls = {c.name: (c.type, c.share) for c in result.spec.scope.calls}
    assert calls == {
        "tower": ("Tower", None),
        "tower_call2": (None, "tower"),
        "diff": ("Subtract", None),
        "score": ("Dense", None),
    }
    assert [c.name for c in result.spec.blocks["Tower"].scope.calls] == ["dense", "proj"]


def test_flat_import_still_inlines_a_nested_model():
    import kspec.importer

    result = validate_text(kspec.importer.from_keras(siamese_by_hand(), flat=True))
    assert result.spec.blocks == {}
    assert {c.name: c.share for c in result.spec.scope.calls if c.share} == {
        "dense_call2": "dense",
        "proj_call2": "proj",
    }


def test_a_nested_model_inside_a_nested_model_imports_as_model_blocks(tmp_path):
    import keras

    import kspec.importer

    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")], name="inner_net")
    x = keras.Input((4,), name="x")
    middle = keras.Model(x, keras.layers.Dense(2, name="e")(inner(x)), name="middle")
    y = keras.Input((4,), name="y")
    original = keras.Model(y, middle(y), name="outer")
    original.save_weights(tmp_path / "w.weights.h5")
    result = validate_text(kspec.importer.from_keras(original))
    assert {n: b.model for n, b in result.spec.blocks.items()} == {
        "InnerNet": "sequential",
        "Middle": "functional",
    }
    rebuilt = kspec.build(result.spec, "functional", compile=False)
    assert tree(rebuilt) == tree(original)
    rebuilt.load_weights(tmp_path / "w.weights.h5")
    x = random_inputs(original)
    np.testing.assert_allclose(kspec_outputs(rebuilt, x), kspec_outputs(original, x), rtol=1e-6, atol=1e-6)


def test_summary_lists_a_nested_model_as_keras_does():
    """One row per layer of model.layers, a nested model with its parameter total; the totals."""
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    for text, by_hand in [(SIAMESE, siamese_by_hand), (ENCODER, encoder_by_hand), (STACK, stack_by_hand)]:
        spec = validate_text(text).spec
        theirs = by_hand()
        report = infer(spec)
        rows = keras_layers(report)
        expected = [layer for layer in theirs.layers]
        if type(theirs).__name__ == "Sequential":
            rows = rows[1:]  # a Sequential model does not list its input
        assert [(r["name"], r["params"]) for r in rows] == [(l.name, l.count_params()) for l in expected]
        nested = [r for r in rows if "layers" in r]
        for row in nested:
            layer = theirs.get_layer(row["name"])
            inner = [l for l in layer.layers if type(l).__name__ != "InputLayer"]
            assert [(r["name"], r["params"]) for r in row["layers"]] == [
                (l.name, l.count_params()) for l in inner
            ]
            assert row["type"] == type(layer).__name__
        assert report.total_params == theirs.count_params()


def _errors(text):
    return [(d.code, d.line, d.message) for d in validate_text(text).diagnostics if d.is_error]


NOT_A_CHAIN = """
kspec: 1
name: m
inputs:
  x: {shape: [8]}
layers:
  - {name: t, type: Tower}
outputs: t
blocks:
  Tower:
    model: sequential
    inputs: [x]
    layers:
      - {name: a, type: Dense, units: 4}
      - {name: b, type: Dense, units: 4, inputs: x}
      - {name: c, type: Concatenate, inputs: [a, b]}
    outputs: c
"""


@pytest.mark.parametrize(
    "changes, line, words",
    [
        ([], 15, "'b' does not take exactly the previous output"),
        (
            [
                ("inputs: [x]", "inputs: [x, y]"),
                ("units: 4}", "units: 4, inputs: x}"),
                ("{name: t, type: Tower}", "{name: t, type: Tower, inputs: [x, x]}"),
            ],
            12,
            "one input, not 2",
        ),
        (
            [
                ("      - {name: c, type: Concatenate, inputs: [a, b]}\n", ""),
                ("outputs: c", "outputs: [b, a]"),
                ("inputs: x}", "}"),
            ],
            16,
            "one output, the last layer's",
        ),
    ],
)
def test_a_sequential_model_block_that_is_not_a_chain_is_a_located_error(changes, line, words):
    text = NOT_A_CHAIN
    for old, new in changes:
        text = text.replace(old, new)
    errors = _errors(text)
    assert [(code, found) for code, found, _ in errors] == [("KS214", line)], errors
    assert words in errors[0][2]
    assert _errors(text.replace("model: sequential", "model: functional")) == []


def test_a_layer_inside_a_nested_model_cannot_be_shared_from_outside():
    text = SIAMESE.replace(
        "{name: tower_right, share: tower, inputs: right}",
        "{name: tower_right, share: tower/proj, inputs: right}",
    )
    text = text.replace("[tower, tower_right]", "[tower, tower_right]")
    errors = _errors(text)
    assert [code for code, _, _ in errors] == ["KS215"]
    assert errors[0][1] == 9
    assert _errors(SIAMESE.replace("    model: sequential\n", "")) == []  # a plain block's layer can be


def test_the_model_key_takes_functional_or_sequential():
    errors = _errors(SIAMESE.replace("model: sequential", "model: subclass"))
    assert [(code, line) for code, line, _ in errors] == [("KS105", 15)], errors


def test_sequential_models_nested_in_sequential_models_import_and_build_in_every_style(tmp_path):
    """As an augmentation Sequential inside a Sequential model: sequential model blocks calling
    one another, rebuilt in each style with the original's tree, configs and weight paths."""
    import keras

    import kspec.importer
    from kspec.backends.styles import allowed_styles
    from kspec.sharding import spec_weights

    deep = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="dd")], name="deep")
    aug = keras.Sequential([keras.Input((6,)), keras.layers.Dense(6, name="d0"), deep], name="aug")
    original = keras.Sequential(
        [keras.Input((6,), name="x"), aug, keras.layers.Dense(2, name="head")], name="outer"
    )
    original.save_weights(tmp_path / "w.weights.h5")
    spec = validate_text(kspec.importer.from_keras(original)).spec
    assert {n: b.model for n, b in spec.blocks.items()} == {"Deep": "sequential", "Aug": "sequential"}
    assert allowed_styles(spec) == ["sequential", "functional", "subclass"]
    for style in allowed_styles(spec):
        rebuilt = kspec.build(spec, style, compile=False)
        assert tree(rebuilt) == tree(original)
        assert leaf_configs(rebuilt) == leaf_configs(original)
        assert paths(rebuilt) == paths(original)
        assert [w.paths[style] for w in spec_weights(spec)] == [w.path for w in rebuilt.weights]
        if style == "subclass":
            continue  # its .weights.h5 is keyed by its attributes, not by a Sequential's layer list
        rebuilt.load_weights(tmp_path / "w.weights.h5")
        x = random_inputs(original)
        np.testing.assert_allclose(
            kspec_outputs(rebuilt, x), kspec_outputs(original, x), rtol=1e-6, atol=1e-6
        )


def test_a_model_block_on_an_unknown_shape_is_for_the_functional_style_only():
    """The subclass and sequential styles make a nested model on tensors of its inputs' static
    shapes: where a custom layer without a contract hides them, KS211 at the block call."""
    from kspec.backends.styles import allowed_styles
    from kspec.diagnostics import SpecError

    text = STACK.replace("type: Dense, units: 6}\n  - {name: tower", "type: Thing}\n  - {name: tower")
    text += "custom:\n  Thing: kspec_test_layers:Thing\n"
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    assert allowed_styles(result.spec) == ["functional"]
    for style in ("sequential", "subclass"):
        with pytest.raises(SpecError) as raised:
            kspec.generate(result.spec, style)
        [error] = raised.value.diagnostics
        assert (error.code, error.line) == ("KS211", 8)
        assert "'tower_1'" in error.message
    assert "def tower(" in kspec.generate(result.spec, "functional")


def test_a_nested_functional_model_is_one_layer_of_a_sequential_stack():
    """The sequential style takes a model block call as one layer, whatever its inside."""
    import keras

    import kspec.importer
    from kspec.backends.styles import allowed_styles, sequential_problem

    x = keras.Input((6,), name="x")
    branches = keras.layers.Concatenate(name="cat")(
        [keras.layers.Dense(2, name="a")(x), keras.layers.Dense(3, name="b")(x)]
    )
    inner = keras.Model(x, branches, name="fork")
    y = keras.Input((5,), name="y")
    identity = keras.Model(y, keras.layers.Dense(5, name="c")(y), name="after")
    original = keras.Sequential(
        [keras.Input((6,), name="s"), inner, identity, keras.layers.Dense(1, name="head")], name="stack"
    )
    spec = validate_text(kspec.importer.from_keras(original)).spec
    assert allowed_styles(spec) == ["sequential", "functional", "subclass"]
    rebuilt = kspec.build(spec, "sequential", compile=False)
    assert type(rebuilt).__name__ == "Sequential"
    assert tree(rebuilt) == tree(original)
    assert paths(rebuilt) == paths(original)
    text = STACK.replace("type: Tower, repeat: 2}", "type: Tower, repeat: 2, inputs: x}")
    text = text.replace(
        "{name: head, type: Dense, units: 1}", "{name: head, type: Add, inputs: [tower, pre]}"
    )
    spec = validate_text(text).spec
    node, reason = sequential_problem(spec)
    assert (node.name, reason) == (
        "tower_1/dense_1",
        "the nested model 'tower_1' does not take exactly the previous layer's output",
    )


def test_a_nested_models_layers_may_share_names_with_the_outer_models():
    """Keras names a nested model's layers in their own model: `tower` with `dense` beside an
    outer `tower_dense` (or `dense`) is one model, and the lowered graph keeps them apart."""
    from kspec.flatten import flatten, layer_name
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    text = STACK.replace("{name: tower, type: Tower, repeat: 2}", "{name: tower, type: Tower}")
    text = text.replace("name: head,", "name: tower_dense_1,").replace(
        "outputs: head", "outputs: tower_dense_1"
    )
    spec = validate_text(text).spec
    assert [(n.name, layer_name(n)) for n in flatten(spec).nodes] == [
        ("pre", "pre"),
        ("tower/dense_1", "dense_1"),
        ("tower/dense_2", "dense_2"),
        ("tower_dense_1", "tower_dense_1"),
    ]
    rows = keras_layers(infer(spec))
    assert [(r["name"], r["inputs"]) for r in rows[1:]] == [
        ("pre", ["x"]),
        ("tower", ["pre"]),
        ("tower_dense_1", ["tower"]),
    ]
    model = kspec.build(spec, "functional", compile=False)
    assert [layer.name for layer in model.layers] == ["x", "pre", "tower", "tower_dense_1"]
    assert [layer.name for layer in model.get_layer("tower").layers] == ["dense_1", "dense_2"]


def test_per_output_compile_settings_name_a_nested_models_output_as_keras_does():
    """Keras names an output that a nested model makes after the nested model (`tower`)."""
    text = (
        SIAMESE.replace("outputs: score", "outputs: [score, tower]")
        + "compile:\n  loss: {score: mse, tower: mae}\n"
    )
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    model = kspec.build(result.spec, "functional")
    assert model.output_names == ["score", "tower"]
    x = random_inputs(model)
    model.fit(x, [np.zeros((3, 1)), np.zeros((3, 2))], epochs=1, verbose=0)
    wrong = validate_text(text.replace("tower: mae", "tower_proj: mae"))  # the name before
    assert [(d.code, d.message) for d in wrong.diagnostics] == [
        ("KS501", "'tower_proj' names no output (did you mean 'tower'?)")
    ]


@pytest.mark.slow
def test_a_keras_application_used_as_a_layer_imports_as_a_model_block_with_blocks_inside(tmp_path):
    """Transfer learning: MobileNetV2 as a layer. Its repeated runs become blocks inside the model
    block; its name, no identifier, is written as one and said; the weights file loads."""
    import keras

    import kspec.importer

    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    x = keras.Input((32, 32, 3), name="image")
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(base(x))
    original = keras.Model(x, keras.layers.Dense(3, name="head")(pooled), name="transfer")
    original.save_weights(tmp_path / "w.weights.h5")
    imported = kspec.importer.imported_model(original)
    flat = kspec.importer.from_keras(original, flat=True)
    assert imported.not_carried == [
        "the nested model 'mobilenetv2_1.00_32' is named 'mobilenetv2_1_00_32': "
        "a spec's names have letters, digits and _ only"
    ]
    spec = validate_text(imported.text).spec
    model_blocks = [name for name, block in spec.blocks.items() if block.model]
    assert model_blocks == ["Mobilenetv210032"] and len(spec.blocks) > 1
    assert 2 * len(imported.text) < len(flat)
    rebuilt = kspec.build(spec, "functional", compile=False)
    assert [w.path for w in rebuilt.weights] == [w.path for w in original.weights]
    # by position: the nested model's own name is not the original's
    assert list(leaf_configs(rebuilt).values()) == list(leaf_configs(original).values())
    rebuilt.load_weights(tmp_path / "w.weights.h5")
    x = random_inputs(original)
    np.testing.assert_allclose(kspec_outputs(rebuilt, x), kspec_outputs(original, x), rtol=1e-5, atol=1e-5)


def test_weights_by_name_tell_two_nested_models_with_the_same_layer_names_apart(tmp_path):
    """tower_1 and tower_2 both have dense_1: by name they are tower_1/dense_1 and tower_2/dense_1,
    the names of the lowered graph, in every style."""
    from kspec.flatten import flatten
    from kspec.weights import layers_by_name

    spec = validate_text(STACK).spec
    source = kspec.build(spec, "functional", compile=False)
    weighted = [n.name for n in flatten(spec).nodes]
    for style in ("sequential", "subclass"):
        target = kspec.build(spec, style, compile=False)
        assert sorted(layers_by_name(target)) == sorted(weighted)
        assert sorted(kspec.transfer_weights(source, target)) == sorted(weighted)
        x = random_inputs(source)
        np.testing.assert_allclose(kspec_outputs(target, x), kspec_outputs(source, x), rtol=1e-6, atol=1e-6)
    kspec.save_named_weights(source, tmp_path / "w.npz")
    again = kspec.build(spec, "subclass", compile=False)
    assert sorted(kspec.load_named_weights(again, tmp_path / "w.npz")) == sorted(weighted)
    np.testing.assert_allclose(kspec_outputs(again, x), kspec_outputs(source, x), rtol=1e-6, atol=1e-6)
