"""Blocks found by `kspec import` in repeated runs of layers, and `keras_name`, which keeps the
Keras names of their layers: the rebuilt model is the original (names, weights, predictions)."""

import numpy as np
import pytest

import kspec
import kspec.importer
from conftest import HAS_KERAS, run_kspec
from kspec.samples import as_numpy
from kspec.validate import validate_text

KERAS = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]


def _residual_stages():
    """A stem, then five residual blocks named as keras.applications names them
    (`stage2_block1_1_dense`): widths and one use_bias vary, one block is wired differently."""
    import keras

    inputs = keras.Input((8,), name="features")
    x = keras.layers.Dense(8, name="stem")(inputs)
    for stage, widths in [(2, [16, 16, 32]), (3, [32, 64])]:
        for index, width in enumerate(widths, start=1):
            prefix = f"stage{stage}_block{index}"
            h = keras.layers.Dense(width, activation="relu", name=f"{prefix}_1_dense")(x)
            h = keras.layers.Dense(8, use_bias=not (stage == 3 and index == 2), name=f"{prefix}_2_dense")(h)
            h = keras.layers.Add(name=f"{prefix}_add")([x, h])
            x = keras.layers.Activation("relu", name=f"{prefix}_out")(h)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="stages")


def _same_model(original, rebuilt):
    """Layer names, configs, parameter counts, weights by name and predictions."""
    from helpers_keras import comparable_config
    from kspec.weights import layers_by_name

    theirs, mine = layers_by_name(original), layers_by_name(rebuilt)
    assert sorted(mine) == sorted(theirs)
    for name, layer in theirs.items():
        assert comparable_config(mine[name])[1] | {"name": name} == comparable_config(layer)[1], name
    assert rebuilt.count_params() == original.count_params()
    kspec.transfer_weights(original, rebuilt)
    for name, layer in theirs.items():
        for a, b in zip(layer.get_weights(), mine[name].get_weights()):
            np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).standard_normal((4, *original.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(as_numpy(rebuilt(x)), as_numpy(original(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_repeated_residual_blocks_import_as_block_calls_and_rebuild_exactly(style):
    original = _residual_stages()
    text = kspec.importer.from_keras(original)
    flat = kspec.importer.from_keras(original, flat=True)
    assert "blocks:" in text and "blocks:" not in flat
    assert len(text) < len(flat)
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    calls = {c.name: c for c in result.spec.scope.calls}
    assert [n for n, c in calls.items() if c.type in result.spec.blocks] == [
        f"stage{s}_block{i}" for s, n in [(2, 3), (3, 2)] for i in range(1, n + 1)
    ]
    [block] = result.spec.blocks.values()  # one structure; widths and use_bias are its parameters
    assert calls["stage2_block3"].args == {"units": 32}
    assert calls["stage3_block2"].args == {"units": 64, "use_bias": False}
    assert block.params == {"units": None, "use_bias": True}  # use_bias: Dense's default
    _same_model(original, kspec.build(result.spec, style, compile=False))


def _units_some_residual(residual=(False, True, True, False, True, True)):
    """Runs of four Dense layers (`unit3_1_dense` ...), some with a residual `unitN_add` after
    them, as MobileNetV2's inverted-residual blocks have or lack theirs."""
    import keras

    inputs = keras.Input((8,), name="features")
    x = inputs
    for index, residual in enumerate(residual, start=1):
        h = x
        for layer in range(1, 5):
            h = keras.layers.Dense(8, use_bias=layer != 4, name=f"unit{index}_{layer}_dense")(h)
        x = keras.layers.Add(name=f"unit{index}_add")([x, h]) if residual else h
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(x), name="units")


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_runs_with_an_optional_last_layer_are_one_block_followed_by_that_layer():
    """One block of the four Dense layers, called six times; the four `add`s stay in the model's
    list after their calls (two blocks, with and without the add, would save fewer lines)."""
    original = _units_some_residual()
    result = validate_text(kspec.importer.from_keras(original))
    assert [d for d in result.diagnostics if d.is_error] == []
    [block] = result.spec.blocks.values()
    assert [c.name for c in block.scope.calls] == [f"_{n}_dense" for n in range(1, 5)]
    calls = [(c.name, c.type, c.depends_on()) for c in result.spec.scope.calls]
    assert [(name, kind) for name, kind, _ in calls] == [
        (f"unit{n}", block.name) if kind == block.name else (f"unit{n}_add", "Add")
        for n, kind in [(1, block.name), (2, block.name), (2, 0), (3, block.name), (3, 0), (4, block.name)]
        + [(5, block.name), (5, 0), (6, block.name), (6, 0)]
    ] + [("head", "Dense")]
    assert ("unit3_add", "Add", ["unit2_add", "unit3"]) in calls
    _same_model(original, kspec.build(result.spec, "functional", compile=False))


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_calls_followed_by_the_same_layers_become_a_block_around_the_block(style):
    """With eight residual runs, the call and its `add` are one call of a second block, whose
    first layer is the first block called with `keras_name: "{}"` (its layers keep the names)."""
    original = _units_some_residual([False, *[True] * 4, False, *[True] * 4])
    result = validate_text(kspec.importer.from_keras(original))
    assert [d for d in result.diagnostics if d.is_error] == []
    calls = {c.name: c.type for c in result.spec.scope.calls}
    body = calls["unit1"]
    residual = calls["unit2"]
    assert {calls[f"unit{n}"] for n in (1, 6)} == {body} and body != residual
    assert {calls[f"unit{n}"] for n in (2, 3, 4, 5, 7, 8, 9, 10)} == {residual}
    assert list(calls) == [f"unit{n}" for n in range(1, 11)] + ["head"]
    [inner, add] = result.spec.blocks[residual].scope.calls
    assert (inner.type, inner.keras_name, add.type) == (body, "{}", "Add")
    _same_model(original, kspec.build(result.spec, style, compile=False))


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_a_run_whose_inner_layer_is_used_after_it_stays_flat():
    """A block call has one output: a run whose `_1_dense` feeds a later layer cannot be one."""
    import keras

    inputs = keras.Input((4,), name="x")
    x, taps = inputs, []
    for index in (1, 2):
        h = keras.layers.Dense(4, name=f"cell{index}_1_dense")(x)
        taps.append(h)
        x = keras.layers.Dense(4, name=f"cell{index}_2_dense")(h)
    outputs = keras.layers.Concatenate(name="joined")([x, *taps])
    model = keras.Model(inputs, outputs)
    assert kspec.importer.from_keras(model) == kspec.importer.from_keras(model, flat=True)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_import_command_flat_keeps_every_layer_in_one_list(tmp_path):
    _residual_stages().save(tmp_path / "stages.keras")
    for flag, has_blocks in [((), True), (("--flat",), False)]:
        result = run_kspec("import", tmp_path / "stages.keras", *flag)
        assert result.returncode == 0, result.stderr[-2000:]
        assert ("\nblocks:\n" in result.stdout) == has_blocks


# keras_name ---------------------------------------------------------------------------------------

KERAS_NAMES = """
kspec: 1
name: named
inputs:
  x: {shape: [8]}
layers:
  - {name: fc, type: Dense, units: 8, repeat: 3, keras_name: "fc{}"}
  - {name: first, keras_name: stage_block1, type: Res, units: 4}
  - {name: res, type: Res, units: 4, repeat: 2, keras_name: "stage{}"}
  - {name: head, type: Dense, units: 2, keras_name: 0_head}
outputs: head
blocks:
  Res:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: conv, keras_name: 1_dense, type: Dense, units: $units}
      - {name: back, keras_name: 2_dense, type: Dense, units: 8}
      - {name: add, type: Add, inputs: [x, back]}
    outputs: add
"""

NAMED_LAYERS = ["fc1", "fc2", "fc3"] + [
    f"{call}_{layer}"
    for call in ["stage_block1", "stage1", "stage2"]
    for layer in ["1_dense", "2_dense", "add"]
]


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_keras_name_names_the_layers_in_every_style(style):
    from kspec.summary import keras_layers
    from kspec.shapes import infer
    from kspec.weights import layers_by_name

    spec = validate_text(KERAS_NAMES).spec
    model = kspec.build(spec, style, compile=False)
    model(np.zeros((1, 8), "float32"))
    assert sorted(layers_by_name(model)) == sorted(NAMED_LAYERS + ["0_head"])
    assert [row["name"] for row in keras_layers(infer(spec))][1:] == NAMED_LAYERS + ["0_head"]


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_keras_name_in_the_sequential_style():
    from kspec.weights import layers_by_name

    text = KERAS_NAMES.split("  - {name: first")[0] + "outputs: fc\n"
    model = kspec.build(validate_text(text).spec, "sequential", compile=False)
    assert sorted(layers_by_name(model)) == ["fc1", "fc2", "fc3"]


@pytest.mark.parametrize(
    "edit, code, message",
    [
        ("units: 2, keras_name: 0_head", "units: 2, keras_name: '0_head{}'", "KS105"),
        ("units: 2, keras_name: 0_head", "units: 2, keras_name: stage_block1", "KS201"),
        ("keras_name: 1_dense", "keras_name: 2_dense", "KS201"),
        ("keras_name: 0_head", "keras_name: 0-head", "KS105"),
    ],
)
def test_keras_name_errors_are_located(edit, code, message):
    text = KERAS_NAMES.replace(edit, code)
    assert text != KERAS_NAMES
    errors = [d for d in validate_text(text).diagnostics if d.is_error]
    assert [d.code for d in errors] == [message]
    # on the later of two layers with one Keras name
    line = max(i for i, row in enumerate(text.splitlines(), start=1) if code in row)
    assert errors[0].line == line


CALL_NAMES = """
kspec: 1
name: cells
inputs:
  x: {shape: [8]}
layers:
  - {name: stem, type: Dense, units: 8}
  - {name: cell_a, keras_name: "0", type: Cell, units: 4}
  - {name: cell_b, keras_name: stem_1, type: Cell, units: 6}
  - {name: cell_c, share: cell_b}
  - {name: res, type: Res, units: 8, repeat: 2}
  - {name: res3, type: Res, units: 5}
  - {name: head, type: Dense, units: 2}
outputs: head
blocks:
  Cell:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: conv, keras_name: "normal_dense_{}", type: Dense, units: $units}
      - {name: out, keras_name: "normal_out_{}", type: Dense, units: 8}
    outputs: out
  Body:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: a, type: Dense, units: $units}
      - {name: b, type: Dense, units: 8}
    outputs: b
  Res:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: body, keras_name: "{}", type: Body, units: $units}
      - {name: add, type: Add, inputs: [x, body]}
    outputs: add
"""


def _call_names_by_hand():
    """CALL_NAMES written with Keras: NASNet's names (`normal_dense_0`), the second cell's
    layers called again, and residual blocks whose body is another block named as the residual
    block's own layers (`res_1_a`)."""
    import keras

    x = inputs = keras.Input((8,), name="x")
    x = keras.layers.Dense(8, name="stem")(x)
    for cell, units in [("0", 4), ("stem_1", 6)]:
        cell_layers = [
            keras.layers.Dense(units, name=f"normal_dense_{cell}"),
            keras.layers.Dense(8, name=f"normal_out_{cell}"),
        ]
        for layer in cell_layers:
            x = layer(x)
    for layer in cell_layers:
        x = layer(x)
    for call, units in [("res_1", 8), ("res_2", 8), ("res3", 5)]:
        h = keras.layers.Dense(units, name=f"{call}_a")(x)
        h = keras.layers.Dense(8, name=f"{call}_b")(h)
        x = keras.layers.Add(name=f"{call}_add")([x, h])
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(x), name="cells")


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_keras_name_with_braces_in_a_block_puts_the_call_name_there(style):
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    result = validate_text(CALL_NAMES)
    assert result.diagnostics == []
    original = _call_names_by_hand()
    names = [layer.name for layer in original.layers]
    assert [row["name"] for row in keras_layers(infer(result.spec))] == names
    _same_model(original, kspec.build(result.spec, style, compile=False))


@pytest.mark.parametrize(
    "edit, line",
    [
        ("{name: add, type: Add", "{name: add, keras_name: '{}_b', type: Add"),  # res_1_b: Body's b
        ("{name: head, type: Dense", "{name: head, keras_name: res3_b, type: Dense"),
    ],
)
def test_a_keras_name_made_twice_in_the_expanded_model_is_located(edit, line):
    text = CALL_NAMES.replace(edit, line)
    assert text != CALL_NAMES
    errors = [d for d in validate_text(text).diagnostics if d.is_error]
    assert {d.code for d in errors} == {"KS201"} and "expanded model" in errors[0].message
    assert {d.line for d in errors} == {
        text.splitlines().index(next(r for r in text.splitlines() if line in r)) + 1
    }


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_a_nested_tower_shared_between_two_inputs_imports_flat_from_a_keras_file(tmp_path):
    """The siamese case with --flat (`ValueError: too many values to unpack` before): each layer of
    the tower is called on both inputs, the second call sharing it, so one set of weights (without
    --flat, the tower is a model block: tests/test_model_blocks.py)."""
    import keras

    tower = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="relu", name="t1"),
            keras.layers.Dense(4, name="t2"),
        ],
        name="tower",
    )
    left, right = keras.Input((6,), name="left"), keras.Input((6,), name="right")
    joined = keras.layers.Subtract(name="diff")([tower(left), tower(right)])
    model = keras.Model([left, right], keras.layers.Dense(1, name="score")(joined))
    model.save(tmp_path / "siamese.keras")
    original = keras.saving.load_model(tmp_path / "siamese.keras")
    result = validate_text(kspec.importer.from_keras(original, flat=True))
    assert [d for d in result.diagnostics if d.is_error] == []
    assert {c.name: c.share for c in result.spec.scope.calls if c.share} == {
        "t1_call2": "t1",
        "t2_call2": "t2",
    }
    rebuilt = kspec.build(result.spec, "functional", compile=False)
    x = [np.random.default_rng(i).standard_normal((3, 6)).astype("float32") for i in (1, 2)]
    kspec.transfer_weights(original, rebuilt)
    np.testing.assert_allclose(as_numpy(rebuilt(x)), as_numpy(original(x)), rtol=1e-6, atol=1e-6)
    assert rebuilt.count_params() == original.count_params()


def _two_input_cells(cells=3):
    """Cells in NASNet's manner: each takes the previous two cells' outputs, names its own
    layers by a suffix (`cell_dense_1`), and leaves its activations and its add to Keras, which
    numbers them across the model (`activation_3`, `add_1`)."""
    import keras

    keras.backend.clear_session()  # Keras's numbers start again: activation, activation_1 ...
    inputs = keras.Input((8,), name="x")
    prev = keras.layers.Dense(8, name="stem_a")(inputs)
    x = keras.layers.Dense(8, name="stem_b")(prev)
    for cell in map(str, range(cells)):
        h = keras.layers.Activation("relu")(x)
        h = keras.layers.Dense(8, name=f"cell_dense_{cell}")(h)
        p = keras.layers.Activation("tanh")(prev)
        prev, x = x, keras.layers.Add(name=f"cell_add_{cell}")([h, keras.layers.Add()([p, x])])
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(x), name="cells")


TWO_INPUT_CELLS = """
kspec: 1
name: cells
inputs:
  x: {shape: [8]}
layers:
  - {name: stem_a, type: Dense, units: 8}
  - {name: stem_b, type: Dense, units: 8}
  - name: cell_0
    type: Cell
    inputs: [stem_b, stem_a]
    keras_name: "0"
    keras_names: {act: activation, act_prev: activation_1, sum: add}
  - name: cell_1
    type: Cell
    inputs: [cell_0, stem_b]
    keras_name: "1"
    keras_names: {act: activation_2, act_prev: activation_3, sum: add_1}
  - name: cell_2
    type: Outer
    inputs: [cell_1, cell_0]
    keras_name: "2"
    keras_names: {body/act: activation_4, body/act_prev: activation_5, body/sum: add_2}
  - {name: head, type: Dense, units: 2}
outputs: head
blocks:
  Cell:
    inputs: [x, prev]
    layers:
      - {name: act, type: Activation, activation: relu, inputs: x}
      - {name: dense, keras_name: "cell_dense_{}", type: Dense, units: 8}
      - {name: act_prev, type: Activation, activation: tanh, inputs: prev}
      - {name: sum, type: Add, inputs: [act_prev, x]}
      - {name: out, keras_name: "cell_add_{}", type: Add, inputs: [dense, sum]}
    outputs: out
  Outer:
    inputs: [x, prev]
    layers:
      - {name: body, keras_name: "{}", type: Cell, inputs: [x, prev]}
    outputs: body
"""


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_keras_names_give_a_block_call_the_names_keras_numbers_across_the_model(style):
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    result = validate_text(TWO_INPUT_CELLS)
    assert result.diagnostics == []
    original = _two_input_cells()
    assert sorted(row["name"] for row in keras_layers(infer(result.spec))) == sorted(
        layer.name for layer in original.layers
    )
    _same_model(original, kspec.build(result.spec, style, compile=False))


@pytest.mark.parametrize(
    "edit, change, code",
    [
        ("{act: activation_2,", "{acts: activation_2,", "KS202"),  # no such layer in Cell
        ("{body/act: activation_4,", "{body: activation_4,", "KS202"),  # a block call, not a layer
        ("{body/act: activation_4,", "{body/act/x: activation_4,", "KS202"),  # act is a layer
        ("sum: add_1}", "sum: add}", "KS201"),  # cell_0's add: twice in the expanded model
        ("sum: add_1}", "sum: add-1}", "KS105"),  # not a Keras name
        ("type: Dense, units: 2}", "type: Dense, units: 2, keras_names: {a: b}}", "KS105"),
    ],
)
def test_keras_names_errors_are_located(edit, change, code):
    text = TWO_INPUT_CELLS.replace(edit, change)
    assert text != TWO_INPUT_CELLS
    errors = [d for d in validate_text(text).diagnostics if d.is_error]
    assert [d.code for d in errors] == [code]
    line = max(i for i, row in enumerate(text.splitlines(), start=1) if change in row)
    assert errors[0].line == line


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_cells_named_by_a_suffix_import_as_calls_with_name_maps(style):
    """Cells are found through the graph (each takes the previous two cells' outputs, and Keras's
    order puts the next cell's first layers among this one's), not as runs of the list."""
    original = _two_input_cells(cells=5)
    text = kspec.importer.from_keras(original)
    assert len(text) < len(kspec.importer.from_keras(original, flat=True))
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    calls = [c for c in result.spec.scope.calls if c.type in result.spec.blocks]
    assert [c.keras_name for c in calls] == ["0", "1", "2", "3", "4"]
    assert calls[1].keras_names == {
        "activation": "activation_2",
        "activation_2": "activation_3",
        "add": "add_1",
    }
    _same_model(original, kspec.build(result.spec, style, compile=False))
