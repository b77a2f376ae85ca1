"""Custom-layer contracts proven against Keras: with a contract, the static summary of a
spec with user-written layers (tests/fixtures/kspec_test_layers.py) is what Keras builds,
in every style, and the model is the one written by hand; a contract that lies stops the build."""

from pathlib import Path

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS
from helpers_keras import predictions, sample_inputs
from kspec.backends.styles import allowed_styles
from kspec.compiler import load_module
from kspec.validate import validate_text
from kspec.weights import layers_by_name

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

SPEC = """
kspec: 1
name: contracted
inputs: {x: {shape: [10, 8]}}
layers:
  - {name: proj, type: Project, units: 12}
  - {name: scale, type: Scale, initial: 0.5}
  - {name: side, type: Dense, units: 12, inputs: x}
  - {name: mix, type: ScaledSum, scale: 0.25, inputs: [scale, side]}
  - {name: down, type: Project, units: "3 * 2"}
  - {name: flat, type: Flatten}
  - {name: out, type: Dense, units: 2}
outputs: out
custom:
  Scale: {class: "kspec_test_layers:Scale", output_shape: same, weights: "input[-1]"}
  Project: {class: "kspec_test_layers:Project", output_shape: ["input[0]", "input[1]", "$units"],
            weights: "input[-1] * $units + $units"}
  ScaledSum: {class: "kspec_test_layers:ScaledSum", output_shape: {same_as: 0}, weights: 0,
              non_trainable_weights: "input.1[-1]"}
"""


@pytest.fixture(autouse=True)
def fixtures_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "fixtures"))


def hand_written():
    import keras
    import kspec_test_layers as mine

    x = keras.Input((10, 8), name="x")
    proj = mine.Project(12, name="proj")(x)
    scale = mine.Scale(0.5, name="scale")(proj)
    side = keras.layers.Dense(12, name="side")(x)
    mix = mine.ScaledSum(0.25, name="mix")([scale, side])
    down = mine.Project(6, name="down")(mix)
    flat = keras.layers.Flatten(name="flat")(down)
    return keras.Model(x, keras.layers.Dense(2, name="out")(flat))


def per_layer(model) -> dict:
    return {
        name: (tuple(layer.output.shape), len(layer.trainable_weights) and layer.count_params())
        for name, layer in layers_by_name(model).items()
    }


def test_the_static_summary_continues_through_custom_layers_as_keras_builds_them():
    result = validate_text(SPEC)
    assert result.diagnostics == []  # no KS606: every custom layer has a contract
    report = result.shapes
    reference = hand_written()
    static = {layer.node.name: (layer.output, layer.params) for layer in report.layers}
    assert static == {
        n: (tuple(l.output.shape), l.count_params()) for n, l in layers_by_name(reference).items()
    }
    assert report.total_params == reference.count_params()
    assert report.non_trainable_params == 12  # ScaledSum's count, per feature of its second input


def test_every_style_is_the_hand_written_model():
    spec = kspec.load(SPEC)
    reference = hand_written()
    inputs = sample_inputs(spec)
    expected = predictions(reference, inputs)
    for style in allowed_styles(spec):
        module = load_module(kspec.generate(spec, style), f"kspec_generated_contracts_{style}")
        for label, model in [
            (f"live {style}", kspec.build(spec, style, compile=False)),
            (f"generated {style}", module.build_model()),
        ]:
            assert per_layer(model) == per_layer(reference), label
            assert model.count_params() == reference.count_params() == spec.shapes.total_params, label
            model.set_weights(reference.get_weights())
            for got, want in zip(predictions(model, inputs), expected):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=label)


@pytest.mark.parametrize(
    "lie, key",
    [
        ('weights: "input[-1]"}', 'weights: "input[-1] * 2"}'),
        ("output_shape: same,", "output_shape: [null, 10, 8],"),
        ('non_trainable_weights: "input.1[-1]"', "non_trainable_weights: 0"),
    ],
)
def test_a_contract_that_lies_stops_the_build_at_the_contract(lie, key):
    text = SPEC.replace(lie, key)
    assert text != SPEC
    spec = kspec.load(text)  # valid: validation cannot see inside the class
    with pytest.raises(kspec.SpecError) as caught:
        kspec.build(spec, "functional", compile=False)
    (error,) = caught.value.diagnostics
    assert error.code == "KS503"
    line = text.splitlines()[error.line - 1]
    said = key.split(": ", 1)[1].rstrip(",}")
    assert line[error.column - 1 :].startswith(said), line  # at the value that lies


def test_without_a_contract_the_warning_stays():
    text = SPEC.replace(
        '{class: "kspec_test_layers:Scale", output_shape: same, weights: "input[-1]"}',
        "kspec_test_layers:Scale",
    )
    result = validate_text(text)
    assert [d.code for d in result.diagnostics] == ["KS606"]
    assert result.shapes.total_params is None


def test_import_writes_the_contracts_it_measures_and_they_hold():
    import kspec.importer

    reference = hand_written()
    text = kspec.importer.from_keras(reference)
    assert (
        "Project: {class: 'kspec_test_layers:Project', output_shape: [null, 'input[1]', $units], "
        "weights: 'input[-1] * $units + $units'}" in text
    )
    assert "Scale: {class: 'kspec_test_layers:Scale', output_shape: same, weights: 'input[-1]'}" in text
    result = validate_text(text)
    assert result.diagnostics == []
    assert result.shapes.total_params == reference.count_params()
    assert result.shapes.non_trainable_params == 12
    rebuilt = kspec.build(result.spec, "functional", compile=False)  # the contracts hold: no KS503
    rebuilt.set_weights(reference.get_weights())
    inputs = sample_inputs(result.spec)
    np.testing.assert_allclose(predictions(rebuilt, inputs)[0], predictions(reference, inputs)[0], rtol=1e-6)


def test_a_class_no_rule_fits_is_imported_without_a_contract():
    import keras

    import kspec.importer

    class Widen(keras.layers.Layer):
        """[x, x, x[..., :1]]: 2 * d + 1 features, which no rule the importer tries gives."""

        def call(self, x):
            return keras.ops.concatenate([x, x, x[..., :1]], axis=-1)

    x = keras.Input((5,), name="x")
    model = keras.Model(x, Widen(name="b")(Widen(name="a")(x)))
    text = kspec.importer.from_keras(model)
    assert "  Widen: test_contracts_keras:Widen\n" in text
    assert [d.code for d in validate_text(text).diagnostics] == ["KS606"]
