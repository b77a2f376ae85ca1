"""`kspec import`: Keras models back to specs, proven on keras.applications and on kspec's own models."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, run_kspec
from kspec.importer import ImportRefused
from kspec.samples import as_numpy

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
    assert infer(result.spec).total_params == original.count_params()  # exact, custom classes included
    static = {row["name"]: (row["output_shape"], row["params"]) for row in keras_layers(infer(result.spec))}
    for layer in original.layers:
        if layer.name in static and static[layer.name][1] is not None and not isinstance(layer.output, list):
            assert static[layer.name] == (list(layer.output.shape), layer.count_params()), layer.name
    rebuilt = kspec.build(result.spec, "functional", compile=False)
    assert rebuilt.count_params() == original.count_params()
    theirs, mine = _leaves(original), _leaves(rebuilt)
    assert set(theirs) <= set(mine)
    operations = {type(mine[n]).__name__ for n in set(mine) - set(theirs)}
    # `x + y` became merge layers, and `x + 3.0` or `x * c` (MobileNetV3) Rescaling layers
    assert operations <= {"Add", "Multiply", "Subtract", "Maximum", "Minimum", "Rescaling"}
    for layer_name, layer in theirs.items():
        expected = {k: v for k, v in layer.get_config().items() if k != "name"}
        assert {k: v for k, v in mine[layer_name].get_config().items() if k != "name"} == expected, layer_name
    kspec.transfer_weights(original, rebuilt)
    x = (
        np.random.default_rng(0)
        .standard_normal((2, *[d or 224 for d in original.input_shape[1:]]))
        .astype("float32")
    )
    np.testing.assert_allclose(as_numpy(rebuilt(x)), as_numpy(original(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "siamese", "two_tower", "seq2seq_lstm", "text_bilstm", "cnn"])
def test_a_model_kspec_compiled_imports_back_to_the_same_spec(name):
    from helpers_keras import comparable_config
    from kspec.catalog import catalog

    spec = kspec.load(f"specs/{name}.yaml")
    model = kspec.build(spec, "functional", compile=False)
    back = kspec.from_keras(model)
    # Keras judges: the rebuilt model's layers have the configs of the original's.
    rebuilt = kspec.build(back, "functional", compile=False)
    assert [(layer.name, comparable_config(layer)) for layer in rebuilt.layers] == [
        (layer.name, comparable_config(layer)) for layer in model.layers
    ]
    original = {c.name: (c.type, c.share) for c in spec.scope.calls}
    imported = {c.name: (c.type, c.share) for c in back.scope.calls}
    for call_name, target in {c.name: c.share for c in spec.scope.calls if c.share}.items():
        original.pop(call_name)  # Keras names a second call of a layer after the layer
        imported.pop(f"{target}_call2")
    assert imported == original
    for call in back.scope.calls:  # Keras's defaults are left out of what import writes
        signature = catalog().layer(call.type) if call.type else None
        for key, value in call.args.items() if signature else ():
            param = signature.params.get(key)
            assert param is None or param.required or value != param.default, (call.name, key)
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


# Compile settings ---------------------------------------------------------------


def _compiled_single_output():
    """One output; a learning-rate schedule, a loss object, a metric name and a metric object."""
    import keras

    model = keras.Sequential(
        [keras.Input((4,), name="x"), keras.layers.Dense(3, activation="softmax", name="probs")]
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.9)
    model.compile(
        optimizer=keras.optimizers.SGD(schedule, momentum=0.5, nesterov=True),
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
        metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
        loss_weights=[0.5],
    )
    return model


def _compiled_two_outputs():
    """Two named outputs, each with its own loss, metrics and weight; an optimizer with three
    arguments away from their defaults, one of them the learning rate."""
    import keras

    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    label = keras.layers.Dense(3, activation="softmax", name="label")(hidden)
    score = keras.layers.Dense(1, name="score")(hidden)
    model = keras.Model(inputs, {"label": label, "score": score})
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.003, beta_1=0.8, clipnorm=1.0),
        loss={"label": "sparse_categorical_crossentropy", "score": keras.losses.MeanSquaredError()},
        metrics={"label": ["accuracy"], "score": [keras.metrics.MeanAbsoluteError()]},
        loss_weights={"label": 1.0, "score": 0.5},
    )
    return model


def _comparable(compile_config: dict) -> dict:
    """A compile config less the one thing that legitimately differs between two processes or two
    compiles: the optimizer's name, which Keras numbers in creation order (`adam`, `adam_1`), or
    the class's default name where a release has one (keras 3.12's SGD: `SGD`)."""
    import copy
    import inspect
    import re

    import keras

    config = copy.deepcopy(compile_config)
    optimizer = config["optimizer"]
    name = optimizer["config"].pop("name")
    default = inspect.signature(getattr(keras.optimizers, optimizer["class_name"])).parameters["name"].default
    automatic = re.escape(default) if default else r"[a-z_]+"
    assert re.fullmatch(rf"{automatic}(_\d+)?", name), name  # given by Keras, not chosen
    return config


@pytest.mark.parametrize("suffix", ["keras", "h5"])
@pytest.mark.parametrize("make", [_compiled_single_output, _compiled_two_outputs], ids=["single", "two"])
def test_import_keeps_the_compile_settings_and_build_compiles_the_same(tmp_path, make, suffix):
    from kspec.importer import imported_model, load_source

    original = make()
    expected = original.get_compile_config()  # before saving: saving to .h5 takes the optimizer out of it
    path = tmp_path / f"model.{suffix}"
    original.save(path)
    model, compile_config = load_source(str(path), {})  # what `kspec import` does
    text, not_carried = imported_model(model, compile_config)
    assert not_carried == []
    assert "\ncompile:\n" in text
    rebuilt = kspec.build(kspec.load(text))  # what `kspec build` does
    assert _comparable(rebuilt.get_compile_config()) == _comparable(expected)


def test_compile_settings_the_spec_cannot_say_are_named_not_dropped():
    from kspec.importer import compile_settings, from_keras_config

    custom_loss = {
        "module": "builtins",
        "class_name": "function",
        "config": "my_loss",
        "registered_name": "function",
    }
    custom_metric = {
        "module": "my_metrics",
        "class_name": "Fancy",
        "config": {},
        "registered_name": "my>Fancy",
    }
    config = {
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam_3"}},
        "loss": custom_loss,
        "metrics": ["accuracy", custom_metric],
        "loss_weights": 2.0,
        "jit_compile": False,
    }
    settings, notes = compile_settings(config, ["out"])
    assert settings == {"optimizer": "adam", "loss_weights": [2.0]}
    assert notes == [
        "loss: the function 'my_loss' is not a keras.losses function",
        "metrics: my_metrics.Fancy is not a keras.metrics class",
    ]
    schedule = {
        "module": "my_schedules",
        "class_name": "Warmup",
        "config": {},
        "registered_name": "my>Warmup",
    }
    adam = {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": schedule}}
    assert compile_settings({"optimizer": adam}, ["out"]) == (
        {},
        ["optimizer: my_schedules.Warmup is not a keras.optimizers.schedules class"],
    )
    text = from_keras_config(TINY_SEQUENTIAL, "Sequential", config)
    comment = text[text.index("# Not carried") : text.index("compile:")]
    assert "#   loss: the function 'my_loss'" in comment and "#   metrics: my_metrics.Fancy" in comment
    assert kspec.load(text).compile == {"optimizer": "adam", "loss_weights": [2.0]}


def test_an_optimizer_of_the_torch_backend_is_keras_own():
    """On torch, Keras serializes its optimizers from their torch subclasses, registered under
    their class name; a registered name of its own still marks a custom class."""
    from kspec.importer import compile_settings

    torch_sgd = {
        "module": "keras.src.backend.torch.optimizers.torch_sgd",
        "class_name": "SGD",
        "config": {"name": "sgd", "momentum": 0.5},
        "registered_name": "SGD",
    }
    assert compile_settings({"optimizer": torch_sgd}, ["out"]) == (
        {"optimizer": {"type": "SGD", "momentum": 0.5}},
        [],
    )
    custom = {**torch_sgd, "registered_name": "my>SGD"}
    assert compile_settings({"optimizer": custom}, ["out"]) == (
        {},
        ["optimizer: keras.src.backend.torch.optimizers.torch_sgd.SGD is not a keras.optimizers class"],
    )


def test_compile_settings_leave_out_what_keras_fills_in_by_itself():
    from kspec.importer import compile_settings

    adam = {"name": "adam_3", "learning_rate": 0.009999999776482582, "beta_1": 0.8, "epsilon": 1e-07}
    auc = {"module": "keras.metrics", "class_name": "AUC", "registered_name": None}
    config = {
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": adam},
        "metrics": [
            {**auc, "config": {"name": "auc_2", "dtype": "float32", "num_thresholds": 200}},
            {**auc, "config": {"name": "my_auc", "dtype": "float32", "num_thresholds": 50}},
        ],
        "run_eagerly": False,
        "steps_per_execution": 4,
    }
    settings, notes = compile_settings(config, ["out"])
    assert notes == []
    assert settings == {
        # the learning rate as written (Keras keeps it as float32); epsilon is the default; Keras named it
        "optimizer": {"type": "Adam", "learning_rate": 0.01, "beta_1": 0.8},
        # a name Keras numbered left out, a chosen one kept; float32 is every metric's dtype
        "metrics": [{"type": "AUC"}, {"type": "AUC", "name": "my_auc", "num_thresholds": 50}],
        "steps_per_execution": 4,
    }


def test_import_command_warns_about_compile_settings_it_cannot_carry(tmp_path):
    import keras
    from click.testing import CliRunner

    from kspec.cli import main

    def my_loss(y_true, y_pred):
        return keras.ops.mean(y_pred)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")])
    model.compile(optimizer="adam", loss=my_loss)
    model.save(tmp_path / "m.keras")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "m.keras")])
    assert result.exit_code == 0, result.output
    assert (
        "kspec: warning: compile setting not carried: loss: the function 'my_loss' is not a keras.losses "
        "function" in result.stderr.splitlines()
    )
    assert "#   loss: the function 'my_loss'" in result.stdout


# What `kspec import` may import and run ---------------------------------------------------


@pytest.mark.parametrize(
    "source", ["os:system", "subprocess:getoutput", "builtins:exec", "shutil:rmtree", "os.path:join"]
)
def test_import_refuses_a_standard_library_callable_before_running_it(tmp_path, source):
    marker = tmp_path / "ran"
    result = run_kspec("import", source, "--arg", f"command=touch {marker}")
    assert result.returncode == 2
    package = source.split(".")[0].split(":")[0]
    expected = (
        f"kspec: cannot import {source}: the callable {source} is in the Python standard library "
        f"({package}); kspec imports and runs only models, factories and layers from your own or "
        "trusted packages"
    )
    assert result.stderr.splitlines() == [expected]
    assert not marker.exists()


def test_import_help_says_it_imports_and_runs_code():
    result = run_kspec("import", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "`package.module:callable` imports the module and runs the callable" in text
    assert "--import MODULE" in text and "runs its code" in text
    assert "--path DIR" in text


def test_import_refuses_a_standard_library_module_for_import(tmp_path):
    model = tmp_path / "m.keras"
    model.write_text("not read")
    result = run_kspec("import", model, "--import", "antigravity")
    assert result.returncode == 2
    expected = (
        f"kspec: cannot import {model}: the module antigravity is in the Python standard library "
        "(antigravity); kspec imports and runs only models, factories and layers from your own or "
        "trusted packages"
    )
    assert result.stderr.splitlines() == [expected]


CUSTOM_MODULE = """
import keras


@keras.saving.register_keras_serializable(package="kspec_test_distance")
class EuclideanDistance(keras.layers.Layer):
    def call(self, a, b):
        return keras.ops.sqrt(keras.ops.sum(keras.ops.square(a - b), axis=-1, keepdims=True))
"""


@pytest.mark.slow
def test_import_reads_custom_classes_with_path_and_import(tmp_path):
    import importlib
    import sys

    import keras

    (tmp_path / "kspec_test_distance.py").write_text(CUSTOM_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("kspec_test_distance")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("kspec_test_distance", None)
    left, right = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    model = keras.Model([left, right], module.EuclideanDistance(name="distance")(left, right))
    model.save(tmp_path / "distance.keras")

    plain = run_kspec("import", tmp_path / "distance.keras")
    assert plain.returncode == 2
    assert plain.stderr.splitlines()[-1] == (
        f"kspec: cannot import {tmp_path / 'distance.keras'}: Keras could not locate the class "
        "'EuclideanDistance' (module kspec_test_distance): import the module that registers it with "
        "--import kspec_test_distance, and put the directory it is in on the path with --path DIR"
    )
    found = run_kspec(
        "import",
        tmp_path / "distance.keras",
        "--path",
        tmp_path,
        "--import",
        "kspec_test_distance",
        "-o",
        tmp_path / "distance.yaml",
    )
    assert found.returncode == 0, found.stderr[-2000:]
    spec = kspec.load(tmp_path / "distance.yaml")
    assert spec.custom == {"EuclideanDistance": "kspec_test_distance:EuclideanDistance"}


@pytest.mark.parametrize("name", ["model.json", "model.keras"])
def test_import_of_a_fifo_is_refused_without_hanging(tmp_path, name):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    fifo = tmp_path / name
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "kspec", "import", str(fifo)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_metric_wrapping_a_python_function_is_named_not_a_crash(tmp_path):
    import keras

    from kspec.importer import load_source

    @keras.saving.register_keras_serializable(package="kspec_test")
    def squared_error(y, p):
        return keras.ops.mean((y - p) ** 2)

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(
        optimizer="adam", loss="mse", metrics=[keras.metrics.MeanMetricWrapper(squared_error, name="se")]
    )
    model.save(tmp_path / "m.keras")
    loaded, compile_config = load_source(str(tmp_path / "m.keras"), {})
    imported = kspec.importer.imported_model(loaded, compile_config)
    assert any("MeanMetricWrapper.fn" in note and "Python function" in note for note in imported.not_carried)
    assert "squared_error" in imported.text and "metrics" not in kspec.load(imported.text).compile


@pytest.mark.parametrize("source", ["no_such_model.keras", "not a reference"])
def test_import_of_a_missing_file_is_exit_status_2(source):
    from conftest import run_kspec

    result = run_kspec("import", source)
    assert result.returncode == 2
    assert "is neither a file nor a `package.module:callable` reference" in result.stderr
