"""`kspec diff` against Keras: its weight verdicts are what Keras does, its parameter deltas are
Keras's counts, and a spec equals the model saved from its own build."""

import pytest
from click.testing import CliRunner

import kspec
from conftest import HAS_KERAS, ROOT
from kspec.cli import main
from kspec.diff import diff

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

CNN = """kspec: 1
name: small_cnn
inputs:
  image: {shape: [16, 16, 3]}
layers:
  - {name: conv_1, type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {name: norm_1, type: BatchNormalization}
  - {name: conv_2, type: Conv2D, filters: 16, kernel_size: 3}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: hidden, type: Dense, units: 32, activation: relu}
  - {name: probs, type: Dense, units: 10, activation: softmax}
outputs: probs
"""

CHANGES = {  # B as a change of CNN, and the verdicts by name and by position that Keras gives
    "classifier units": (("units: 10,", "units: 12,"), False, False),
    "renamed conv": (("conv_2", "features"), False, True),
    "padding, strides and activation": (
        ("kernel_size: 3}", "kernel_size: 3, padding: same, strides: 2, activation: tanh}"),
        True,
        True,
    ),
    "a Dropout inserted": (
        ("  - {name: probs,", "  - {name: drop, type: Dropout, rate: 0.5}\n  - {name: probs,"),
        True,
        True,
    ),
    "a Dense added at the end": (
        ("outputs: probs", "  - {name: head, type: Dense, units: 3}\noutputs: head"),
        True,
        False,
    ),
    "a BatchNormalization removed": (("  - {name: norm_1, type: BatchNormalization}\n", ""), False, False),
    "kernel size 3x3 against 1x3": (
        ("filters: 16, kernel_size: 3}", "filters: 16, kernel_size: [1, 3]}"),
        False,
        False,
    ),
    "an input with other channels (the first layers' arguments unchanged)": (
        ("image: {shape: [16, 16, 3]}", "image: {shape: [16, 16, 1]}"),
        False,
        False,
    ),
    "initializers and regularizers": (
        ("units: 32, activation: relu}", "units: 32, kernel_initializer: he_normal, kernel_regularizer: l2}"),
        True,
        True,
    ),
}


def _keras_loads(model_a, model_b):
    """Whether A's weights go into B by layer name (kspec.transfer_weights, shapes checked) and
    by position (set_weights)."""
    from kspec.weights import layers_by_name

    named = [name for name, layer in layers_by_name(model_a).items() if layer.weights]
    try:
        kspec.transfer_weights(model_a, model_b, names=named)
        by_name = True
    except ValueError:
        by_name = False
    try:
        model_b.set_weights(model_a.get_weights())
        by_position = True
    except ValueError:
        by_position = False
    return by_name, by_position


@pytest.mark.parametrize("case", CHANGES)
def test_weight_verdicts_are_what_keras_does(case):
    (old, new), by_name, by_position = CHANGES[case]
    assert old in CNN
    spec_a, spec_b = kspec.load(CNN), kspec.load(CNN.replace(old, new))
    found = diff(spec_a, spec_b)
    model_a = kspec.build(spec_a, compile=False)
    model_b = kspec.build(spec_b, compile=False)
    assert _keras_loads(model_a, model_b) == (by_name, by_position)
    assert (found.by_name.loads, found.by_position.loads) == (by_name, by_position)
    assert found.params_delta == model_b.count_params() - model_a.count_params()


def test_weights_of_the_same_count_and_other_shapes_do_not_load():
    spec_a = kspec.load(CNN.replace("filters: 16, kernel_size: 3}", "filters: 16, kernel_size: [3, 1]}"))
    spec_b = kspec.load(CNN.replace("filters: 16, kernel_size: 3}", "filters: 16, kernel_size: [1, 3]}"))
    model_a = kspec.build(spec_a, compile=False)
    model_b = kspec.build(spec_b, compile=False)
    assert model_a.count_params() == model_b.count_params()
    found = diff(spec_a, spec_b)
    assert found.params_delta == 0 and found.layers[0].args == [("kernel_size", [3, 1], [1, 3])]
    assert _keras_loads(model_a, model_b) == (False, False)
    assert (found.by_name.loads, found.by_position.loads) == (False, False)


BRANCHES = """kspec: 1
name: branches
inputs:
  x: {shape: [6]}
layers:
  - {name: wide, type: Dense, units: 8, inputs: x}
  - {name: narrow, type: Dense, units: 4, inputs: x}
  - {name: joined, type: Concatenate, inputs: [narrow, wide]}
  - {name: out, type: Dense, units: 1}
outputs: out
"""


def test_by_position_follows_keras_layer_order_not_the_spec_order():
    swapped = BRANCHES.replace(
        "  - {name: wide, type: Dense, units: 8, inputs: x}\n  - {name: narrow, type: Dense, units: 4, inputs: x}",
        "  - {name: narrow, type: Dense, units: 4, inputs: x}\n  - {name: wide, type: Dense, units: 8, inputs: x}",
    )
    assert swapped != BRANCHES
    spec_a, spec_b = kspec.load(BRANCHES), kspec.load(swapped)
    model_a = kspec.build(spec_a, compile=False)
    model_b = kspec.build(spec_b, compile=False)
    assert _keras_loads(model_a, model_b) == (True, True)
    found = diff(spec_a, spec_b)
    assert found.equal and (found.by_name.loads, found.by_position.loads) == (True, True)
    joined_the_other_way = BRANCHES.replace("[narrow, wide]", "[wide, narrow]")
    model_c = kspec.build(kspec.load(joined_the_other_way), compile=False)
    found = diff(spec_a, kspec.load(joined_the_other_way))
    assert _keras_loads(model_a, model_c) == (True, False)
    assert (found.by_name.loads, found.by_position.loads) == (True, False)


def test_the_parameter_delta_of_each_layer_is_keras_count_params():
    spec_a = kspec.load(CNN)
    spec_b = kspec.load(CNN.replace("filters: 16,", "filters: 24,").replace("units: 32,", "units: 40,"))
    model_a = kspec.build(spec_a, compile=False)
    model_b = kspec.build(spec_b, compile=False)
    found = diff(spec_a, spec_b)
    changes = {c.b.name: c.params_delta for c in found.layers}
    assert set(changes) == {"conv_2", "pool", "hidden", "probs"}  # pool: its output shape
    for name, delta in changes.items():
        assert delta == model_b.get_layer(name).count_params() - model_a.get_layer(name).count_params()
    assert found.params_delta == model_b.count_params() - model_a.count_params()


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("mlp", ".keras"),
        ("siamese_tower", ".keras"),
        ("transformer_encoder", ".keras"),
        ("causal_lm", ".keras"),
        ("tiny_resnet", ".h5"),
        pytest.param("inception_mini", ".keras", marks=pytest.mark.slow),
        pytest.param("text_bilstm", ".keras", marks=pytest.mark.slow),
    ],
)
def test_a_spec_equals_the_model_saved_from_its_build(tmp_path, name, suffix):
    path = ROOT / "specs" / f"{name}.yaml"
    saved = tmp_path / f"{name}{suffix}"
    kspec.build(kspec.load(str(path))).save(str(saved))
    result = CliRunner().invoke(main, ["diff", str(path), str(saved)])
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output and "by name: yes" in result.output


def test_a_saved_model_against_a_changed_spec(tmp_path):
    saved = tmp_path / "cnn.keras"
    kspec.build(kspec.load(CNN)).save(str(saved))
    changed = tmp_path / "changed.yaml"
    changed.write_text(CNN.replace("conv_2", "features"))
    result = CliRunner().invoke(main, ["diff", str(saved), str(changed), "--format", "markdown"])
    assert result.exit_code == 1, result.output
    assert "| > | `features` | Conv2D | renamed from conv_2 |" in result.output
