"""`kspec import`: Keras models back to specs, proven on keras.applications and on kspec's own models."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, run_kspec
from kspec.importer import ImportRefused

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

APPLICATIONS = [
    "MobileNetV2",
    pytest.param("ResNet50", marks=pytest.mark.slow),
    pytest.param("DenseNet121", marks=pytest.mark.slow),
    pytest.param("EfficientNetB0", marks=pytest.mark.slow),
    pytest.param("InceptionV3", marks=pytest.mark.slow),
    pytest.param("ConvNeXtTiny", marks=pytest.mark.slow),
]


def _leaves(model):
    from kspec.weights import layers_by_name

    return layers_by_name(model)


@pytest.mark.parametrize("name", APPLICATIONS)
def test_keras_applications_round_trip(name):
    import keras

    from kspec.shapes import infer
    from kspec.summary import keras_layers
    from kspec.validate import validate_text

    original = getattr(keras.applications, name)(weights=None)
    text = kspec.importer.from_keras(original)
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == []
    static = {row["name"]: (row["output_shape"], row["params"]) for row in keras_layers(infer(result.spec))}
    for layer in original.layers:
        if layer.name in static and static[layer.name][1] is not None and not isinstance(layer.output, list):
            assert static[layer.name] == (list(layer.output.shape), layer.count_params()), layer.name
    rebuilt = kspec.build(result.spec, "functional", compile=False)
    assert rebuilt.count_params() == original.count_params()
    theirs, mine = _leaves(original), _leaves(rebuilt)
    assert set(theirs) <= set(mine)
    operations = {type(mine[n]).__name__ for n in set(mine) - set(theirs)}
    assert operations <= {"Add", "Multiply", "Subtract", "Maximum", "Minimum"}  # `x + y` became layers
    for layer_name, layer in theirs.items():
        expected = {k: v for k, v in layer.get_config().items() if k != "name"}
        assert {k: v for k, v in mine[layer_name].get_config().items() if k != "name"} == expected, layer_name
    kspec.transfer_weights(original, rebuilt)
    x = (
        np.random.default_rng(0)
        .standard_normal((2, *[d or 224 for d in original.input_shape[1:]]))
        .astype("float32")
    )
    np.testing.assert_allclose(rebuilt(x), original(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "siamese", "two_tower", "seq2seq_lstm", "text_bilstm", "cnn"])
def test_a_model_kspec_compiled_imports_back_to_the_same_spec(name):
    spec = kspec.load(f"specs/{name}.yaml")
    back = kspec.from_keras(kspec.build(spec, "functional", compile=False))
    from kspec.importer import canonical_args

    def explicit(call):  # the arguments as import would write them (defaults left out)
        return canonical_args(call.type, call.args) if call.type else {}

    original = {c.name: (c.type, c.share, explicit(c)) for c in spec.scope.calls}
    imported = {c.name: (c.type, c.share, explicit(c)) for c in back.scope.calls}
    shared = {c.name: c.share for c in spec.scope.calls if c.share}
    for call_name, target in shared.items():  # Keras names a second call of a layer after the layer
        original.pop(call_name)
        imported.pop(f"{target}_call2")
    assert imported == original
    assert list(back.inputs) == list(spec.inputs)
    assert [tuple(i.shape) for i in back.inputs.values()] == [tuple(i.shape) for i in spec.inputs.values()]


def test_a_subclassed_model_is_refused_with_what_to_do():
    import keras

    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ImportRefused, match="subclassed model.*keras.Input"):
        kspec.importer.from_keras(Tiny())


def test_a_lambda_layer_is_named_with_its_position():
    import keras

    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2)(inputs)
    outputs = keras.layers.Lambda(lambda t: t * 2, name="double")(hidden)
    with pytest.raises(ImportRefused, match=r"layer 2 \('double'\) is a Lambda"):
        kspec.importer.from_keras(keras.Model(inputs, outputs))


def test_import_command_from_a_keras_file(tmp_path):
    model = kspec.build("specs/siamese.yaml", compile=False)
    model.save(tmp_path / "siamese.keras")
    result = run_kspec("import", tmp_path / "siamese.keras", "-o", tmp_path / "siamese.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    assert run_kspec("validate", tmp_path / "siamese.yaml").returncode == 0
    text = (tmp_path / "siamese.yaml").read_text()
    assert "  - {name: encode_left_call2, share: encode_left, inputs: right}" in text
    bad = run_kspec("import", "no_such_package.models:Thing")
    assert bad.returncode == 2 and "No module named" in bad.stderr


def _all_applications():
    import os

    if not HAS_KERAS or os.environ.get("KSPEC_ALL_APPLICATIONS") != "1":
        return []
    import keras

    return sorted(
        n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n))
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not _all_applications(), reason="set KSPEC_ALL_APPLICATIONS=1: about 10 minutes, 40 models"
)
@pytest.mark.parametrize("name", _all_applications() or ["none"])
def test_every_keras_application_round_trips(name):
    test_keras_applications_round_trip(name)


# The spec's modeline ------------------------------------------------------------


# A Sequential model's get_config(): Input((2,)), then Dense(1, name="out").
TINY_SEQUENTIAL = {
    "name": "m",
    "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "dtype": "float32", "name": "x"}},
        {"class_name": "Dense", "module": "keras.layers", "config": {"name": "out", "units": 1}},
    ],
}


def test_an_imported_spec_points_editors_at_the_published_schema():
    import json

    from conftest import ROOT

    schema_id = json.loads((ROOT / "schemas" / "kspec-v1.schema.json").read_text())["$id"]
    assert schema_id.startswith("https://")
    text = kspec.importer.from_keras_config(TINY_SEQUENTIAL, "Sequential")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={schema_id}"
