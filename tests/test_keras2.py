"""Keras 2 models (tf_keras) imported and migrated to Keras 3: configs read without tf_keras,
translated by one table, weights carried by layer name, predictions compared with tf_keras."""

import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import HAS_KERAS, ROOT
from kspec.importer import ImportRefused, keras2

HAS_TF_KERAS = importlib.util.find_spec("tf_keras") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
needs_tf_keras = pytest.mark.skipif(not HAS_TF_KERAS, reason="tf_keras is not installed")
FORMATS = ["h5", "savedmodel", "keras", "json"]


# --- Reading keras_metadata.pb: no TensorFlow, no protobuf --------------------------------------


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _saved_object(path: str, metadata: str) -> bytes:
    node_id = _varint(2 << 3) + _varint(7)  # an int field the reader skips
    return _field(
        1, node_id + _field(3, path.encode()) + _field(4, b"_tf_keras_model") + _field(5, metadata.encode())
    )


def test_saved_metadata_reads_paths_and_metadata():
    data = _saved_object("root", '{"class_name": "Functional"}') + _saved_object("root.layer-0", "{}")
    assert list(keras2.saved_metadata(data)) == [
        ("root", '{"class_name": "Functional"}'),
        ("root.layer-0", "{}"),
    ]


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_saved_metadata_refuses_truncated_data(cut):
    data = _saved_object("root", '{"class_name": "Functional"}')
    with pytest.raises(ValueError, match="truncated"):
        list(keras2.saved_metadata(data[:-cut]))


def test_saved_metadata_refuses_endless_numbers():
    with pytest.raises(ValueError, match="longer than 10 bytes"):
        list(keras2.saved_metadata(b"\x0a" + b"\xff" * 20))


@needs_tf_keras
def test_saved_metadata_agrees_with_protobuf():
    from tf_keras.protobuf import saved_metadata_pb2

    message = saved_metadata_pb2.SavedMetadata()
    for index, text in enumerate(['{"a": 1}', '{"b": "é"}']):
        node = message.nodes.add()
        node.node_id, node.node_path, node.identifier, node.metadata = index, f"root.layer-{index}", "x", text
        node.version.producer = 2
    found = list(keras2.saved_metadata(message.SerializeToString()))
    assert found == [(n.node_path, n.metadata) for n in message.nodes]


# --- Translating configs -------------------------------------------------------------------------


def _model(*layers):
    return {"class_name": "Functional", "config": {"name": "m", "layers": list(layers)}}


def _layer(class_name, name="l", module="keras.layers", **config):
    return {"class_name": class_name, "module": module, "name": name, "config": {"name": name, **config}}


def test_translation_renames_and_drops_neutral_values_silently():
    config, warnings = keras2.translate(
        _model(
            _layer("LSTM", "enc", units=3, time_major=False, implementation=2),
            _layer("LeakyReLU", "act", alpha=0.2),
            _layer("Embedding", "emb", input_dim=4, output_dim=2, input_length=7),
        )
    )
    lstm, act, emb = (entry["config"] for entry in config["config"]["layers"])
    assert lstm == {"name": "enc", "units": 3}
    assert act == {"name": "act", "negative_slope": 0.2}
    assert emb == {"name": "emb", "input_dim": 4, "output_dim": 2}
    assert warnings == []
    assert all("module" not in entry for entry in config["config"]["layers"])


def test_translation_warns_where_the_meaning_changes_naming_the_layer():
    _, warnings = keras2.translate(
        _model(
            _layer("InputLayer", "x"),
            _layer("GRU", "rnn", units=3, time_major=True),
            _layer("ThresholdedReLU", "cut", theta=0.5),
        )
    )
    assert warnings == [
        "layer 1 ('rnn', GRU): time_major=True is not carried: Keras 3 RNNs take batch-major inputs only",
        "layer 2 ('cut', ThresholdedReLU): ThresholdedReLU became ReLU; at x == theta Keras 2 gives 0 and "
        "ReLU gives theta",
    ]


def test_translation_reaches_wrapped_layers():
    inner = {"class_name": "LSTM", "config": {"name": "f", "units": 2, "time_major": False}}
    config, _ = keras2.translate(_model(_layer("Bidirectional", "bi", layer=inner)))
    assert config["config"]["layers"][0]["config"]["layer"]["config"] == {"name": "f", "units": 2}


@pytest.mark.parametrize(
    "layer, message",
    [
        (
            _layer("Lambda", "scale", function=["4wEAAAAAAAAA", None, None]),
            r"layer 1 \('scale', Lambda\) holds Python code \(a Lambda layer\)",
        ),
        (
            _layer("TFOpLambda", "tf.nn.relu6", function="nn.relu6"),
            r"layer 1 \('tf_nn_relu6', TFOpLambda\) holds a TensorFlow operation .* \(nn.relu6\)",
        ),
        (_layer("LocallyConnected2D", "lc"), r"layer 1 \('lc', LocallyConnected2D\) is a LocallyConnected2D"),
        (
            _layer("MyLayer", "mine", module="my_project.layers"),
            r"layer 1 \('mine', MyLayer\) is a MyLayer \(my_project.layers\), which is no Keras 3 layer",
        ),
    ],
)
def test_translation_refuses_code_and_unknown_classes_naming_the_layer(layer, message):
    with pytest.raises(ImportRefused, match=message):
        keras2.translate(_model(_layer("InputLayer", "x"), layer), known=lambda name: name != "MyLayer")


def test_docs_table_is_the_translation_table():
    text = (ROOT / "docs" / "keras2.md").read_text()
    found = re.search(r"<!-- translations -->\n(.*?)<!-- /translations -->", text, re.S)
    assert found, "docs/keras2.md lost its translations table markers"
    assert (
        found.group(1) == keras2.translation_table()
    ), "docs/keras2.md is out of step with kspec/importer/keras2.py; paste keras2.translation_table()"


# --- Keras 2 models made by tf_keras, migrated -------------------------------------------------


def _mlp(k):
    i = k.Input((4,), name="x")
    h = k.layers.Dense(8, activation="relu", name="hidden")(i)
    h = k.layers.BatchNormalization(name="norm")(h)
    h = k.layers.Dropout(0.5, name="drop")(h)
    model = k.Model(i, k.layers.Dense(3, activation="softmax", name="probs")(h), name="mlp")
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _cnn(k):
    return k.Sequential(
        [
            k.Input((12, 12, 3), name="image"),
            k.layers.Conv2D(8, 3, name="conv"),
            k.layers.BatchNormalization(name="bn"),
            k.layers.LeakyReLU(alpha=0.2, name="leaky"),
            k.layers.MaxPooling2D(name="pool"),
            k.layers.SeparableConv2D(4, 3, padding="same", name="sep"),
            k.layers.GlobalAveragePooling2D(name="gap"),
            k.layers.Dense(2, name="logits"),
        ],
        name="cnn",
    )


def _seq2seq(k):
    source, target = k.Input((5,), name="source"), k.Input((6, 3), name="target")
    embedded = k.layers.Embedding(10, 4, input_length=5, name="embed")(source)
    _, h, c = k.layers.LSTM(7, return_state=True, name="encoder")(embedded)
    decoded = k.layers.LSTM(7, return_sequences=True, name="decoder")(target, initial_state=[h, c])
    return k.Model([source, target], k.layers.Dense(3, name="next")(decoded), name="seq2seq")


def _shared(k):
    left, right = k.Input((6,), name="left"), k.Input((6,), name="right")
    tower = k.layers.Dense(5, activation="tanh", name="tower")
    both = k.layers.Concatenate(name="both")([tower(left), tower(right)])
    score = k.layers.Dense(1, name="score")(both)
    label = k.layers.Dense(2, activation="softmax", name="label")(both)
    return k.Model([left, right], [score, label], name="siamese")


def _wrappers(k):
    """Attention called with a keyword tensor, wrapped layers, and a nested Sequential model."""
    q = k.Input((5, 8), name="q")
    a = k.layers.MultiHeadAttention(2, 4, name="mha")(q, q)
    b = k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True), name="bi")(a)
    t = k.layers.TimeDistributed(k.layers.Dense(2), name="td")(b)
    inner = k.Sequential([k.Input((5, 2)), k.layers.Dense(3, name="inner_dense")], name="inner")
    return k.Model(q, inner(t), name="wrappers")


def _rnn_calls(k):
    """RNNs and a Dropout called positionally, and RNNs given an initial state, a mask and training."""
    x, state = k.Input((5, 3), name="x"), k.Input((4,), name="state")
    mask = k.Input((5,), dtype="bool", name="mask")
    plain = k.layers.LSTM(4, return_sequences=True, name="plain")(x)
    last = k.layers.GRU(4, name="last")(plain)
    dropped = k.layers.Dropout(0.5, name="dropped")(last)
    started = k.layers.SimpleRNN(4, name="started")(x, initial_state=[state])
    masked = k.layers.SimpleRNN(4, name="masked")(x, mask=mask)
    trained = k.layers.GRU(4, name="trained")(x, training=True)  # no dropout: the same either way
    return k.Model([x, state, mask], [dropped, started, masked, trained], name="rnn_calls")


MODELS = {
    "mlp": _mlp,
    "cnn": _cnn,
    "seq2seq": _seq2seq,
    "shared": _shared,
    "wrappers": _wrappers,
    "rnn_calls": _rnn_calls,
}


@pytest.fixture(scope="module")
def saved_keras2(tmp_path_factory):
    """make(model, format) -> (path, weights file or None, the tf_keras model); each saved once."""
    folder = tmp_path_factory.mktemp("keras2")
    made, files = {}, {}

    def make(name, fmt):
        import tf_keras as k

        if name not in made:
            model = MODELS[name](k)
            rng = np.random.default_rng(1)
            model.set_weights([rng.uniform(0.1, 0.3, w.shape).astype("float32") for w in model.get_weights()])
            made[name] = model
        model = made[name]
        if (name, fmt) not in files:
            base = folder / name
            if fmt == "h5":
                model.save(f"{base}.h5")
                files[name, fmt] = (f"{base}.h5", None)
            elif fmt == "savedmodel":
                model.save(f"{base}_savedmodel", save_format="tf")
                files[name, fmt] = (f"{base}_savedmodel", None)
            elif fmt == "keras":
                model.save(f"{base}.keras")
                files[name, fmt] = (f"{base}.keras", None)
            else:
                Path(f"{base}.json").write_text(model.to_json())
                model.save_weights(f"{base}.weights.h5")
                files[name, fmt] = (f"{base}.json", f"{base}.weights.h5")
        return (*files[name, fmt], model)

    return make


def _leaves(model):
    """A tf_keras model's layers, those of nested models in their place, inputs left out."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            out += _leaves(layer)
        elif type(layer).__name__ != "InputLayer":
            out.append(layer)
    return out


def _unnamed(config):
    """A layer config without names (a wrapped layer's is numbered by Keras per process), its
    tuples as lists (a wrapped layer's build_config is one or the other)."""
    if isinstance(config, dict):
        return {k: _unnamed(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_unnamed(v) for v in config]
    return config


CASES = [
    pytest.param(name, fmt, marks=[] if name == "mlp" else [pytest.mark.slow])
    for name in MODELS
    for fmt in FORMATS
]


@needs_keras
@needs_tf_keras
@pytest.mark.keras
@pytest.mark.parametrize("name, fmt", CASES)
def test_migrate_keeps_weights_and_predictions(saved_keras2, name, fmt):
    from kspec.importer.migrate import migrate
    from kspec.weights import layers_by_name

    path, weights, old = saved_keras2(name, fmt)
    assert keras2.is_keras2(path)
    migrated = migrate(path, weights)
    new = migrated.model
    # Every layer with weights moved, with the same values under the same name.
    leaves = _leaves(old)
    built = {layer.name: layer for layer in layers_by_name(new).values()}  # nested models opened
    with_weights = [layer.name for layer in leaves if layer.weights]
    assert [line.partition(":")[0] for line in migrated.moved] == with_weights
    for layer in leaves:
        mine = built[layer.name]
        assert len(mine.weights) == len(layer.weights), layer.name
        for theirs, ours in zip(layer.weights, mine.trainable_weights + mine.non_trainable_weights):
            np.testing.assert_array_equal(
                np.asarray(ours), theirs.numpy(), err_msg=f"{layer.name}/{ours.name}"
            )
    assert new.count_params() == old.count_params()
    assert migrated.difference is not None and migrated.difference <= 1e-5
    # The round trip is exact: the spec builds the model Keras 3 reads from the translated config.
    read, _ = keras2.keras3_model(keras2.read_keras2(path))
    for layer in _leaves(read):
        assert _unnamed(built[layer.name].get_config()) == _unnamed(layer.get_config()), layer.name
    if name == "mlp" and fmt != "json":
        assert any(note.startswith("optimizer state") for note in migrated.not_carried)
        compiled = "\ncompile:\n  optimizer: adam\n  loss: categorical_crossentropy\n  metrics: [accuracy]\n"
        assert migrated.text.endswith(compiled)


@needs_keras
@needs_tf_keras
@pytest.mark.keras
def test_keras2_call_arguments_are_those_the_calls_passed(saved_keras2):
    """An RNN or a Dropout called positionally gets no `call` (Keras 3 would record its call()
    default, training=False); an initial state, a mask and training given by the call are kept,
    and the migrated model masks as tf_keras does."""
    from kspec.importer.migrate import migrate

    path, _, old = saved_keras2("rnn_calls", "h5")
    migrated = migrate(path)
    entries = {
        line.split(",")[0]: line for line in migrated.text.splitlines() if line.startswith("  - {name:")
    }
    assert (
        entries["  - {name: plain"]
        == "  - {name: plain, type: LSTM, return_sequences: true, units: 4, inputs: x}"
    )
    assert entries["  - {name: last"] == "  - {name: last, type: GRU, units: 4}"
    assert entries["  - {name: dropped"] == "  - {name: dropped, type: Dropout, rate: 0.5}"
    assert "inputs: {sequences: x, initial_state: [state]}}" in entries["  - {name: started"]
    assert "inputs: {sequences: x, mask: mask}}" in entries["  - {name: masked"]
    assert "call: {training: true}" in entries["  - {name: trained"]
    assert "training: false" not in migrated.text and "training: null" not in migrated.text
    rng = np.random.default_rng(3)
    x, state = rng.random((4, 5, 3)).astype("float32"), rng.random((4, 4)).astype("float32")
    mask = rng.random((4, 5)) < 0.5
    mask[:, 0] = True
    expected = old.predict([x, state, mask], verbose=0)
    unmasked = old.predict([x, state, np.ones_like(mask)], verbose=0)
    assert not np.allclose(expected[2], unmasked[2])  # the mask matters
    for got, want in zip(migrated.model.predict([x, state, mask], verbose=0), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@needs_keras
@needs_tf_keras
@pytest.mark.keras
def test_import_reads_a_savedmodel_directory_and_cli_migrate_writes_both_files(saved_keras2, tmp_path):
    import keras
    from click.testing import CliRunner

    from kspec.cli import main

    path, _, old = saved_keras2("mlp", "savedmodel")
    imported = CliRunner().invoke(main, ["import", path])
    assert imported.exit_code == 0, imported.output
    assert "  - {name: hidden, type: Dense, units: 8, activation: relu}" in imported.stdout
    done = CliRunner().invoke(main, ["migrate", path, "-o", str(tmp_path / "mlp.keras")])
    assert done.exit_code == 0, done.output
    assert "weights moved: norm: gamma (8,), beta (8,), moving_mean (8,), moving_variance (8,)" in done.stderr
    assert "predictions equal the Keras 2 model's" in done.stderr
    assert (tmp_path / "mlp.yaml").read_text() == imported.stdout
    loaded = keras.saving.load_model(tmp_path / "mlp.keras")
    x = np.random.default_rng(2).random((3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), old.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


@needs_keras
@needs_tf_keras
@pytest.mark.keras
@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_a_lambda_in_a_keras2_file_is_one_line_naming_the_layer(tmp_path, fmt):
    import tf_keras as k
    from click.testing import CliRunner

    from kspec.cli import main

    marker = tmp_path / "ran"
    i = k.Input((2,), name="x")
    o = k.layers.Lambda(lambda t, p=str(marker): (open(p, "w").close(), t)[1], name="double")(i)
    k.Model(i, o).save(tmp_path / f"m.{fmt}")
    marker.unlink()  # the Lambda ran once, when tf_keras called it; importing must never run it
    for command in (
        ["import", str(tmp_path / f"m.{fmt}")],
        ["migrate", str(tmp_path / f"m.{fmt}"), "-o", str(tmp_path / "n.keras")],
    ):
        done = CliRunner().invoke(main, command)
        assert done.exit_code == 1, done.output
        errors = [line for line in done.stderr.splitlines() if line.startswith("kspec:")]
        assert len(errors) == 1 and "Traceback" not in done.output
        assert "layer 1 ('double', Lambda) holds Python code (a Lambda layer)" in done.stderr
    assert not marker.exists() and not (tmp_path / "n.keras").exists()


@needs_keras
def test_a_keras3_file_is_not_migrated(tmp_path):
    import keras

    from kspec.importer import LoadRefused
    from kspec.importer.migrate import migrate

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(LoadRefused, match="needs no migration: use kspec import"):
        migrate(str(tmp_path / "m.keras"))


def _applications():
    if not HAS_TF_KERAS or not os.environ.get("KSPEC_KERAS2_SWEEP"):
        return []
    import tf_keras

    return sorted(name for name in dir(tf_keras.applications) if name[0].isupper())


# Applications built on what a spec cannot hold: refused, naming the first such layer.
REFUSED = {
    "ConvNeXt": "LayerScale (no module), which is no Keras 3 layer",
    "InceptionResNetV2": "CustomScaleLayer (no module), which is no Keras 3 layer",
    "RegNet": "is not a valid name",
}


@needs_tf_keras
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("KSPEC_KERAS2_SWEEP"), reason="set KSPEC_KERAS2_SWEEP=1 to sweep")
@pytest.mark.parametrize("name", _applications())
def test_every_tf_keras_application_migrates(name, tmp_path):
    """Each model in fresh processes (71 models in one would outgrow the memory of a small machine)."""
    import subprocess
    import sys

    from conftest import run_kspec

    save = f"import tf_keras; tf_keras.applications.{name}(weights=None).save({str(tmp_path / 'old.h5')!r})"
    subprocess.run([sys.executable, "-c", save], check=True, capture_output=True)
    done = run_kspec("migrate", tmp_path / "old.h5", "-o", tmp_path / "new.keras")
    refused = next((why for prefix, why in REFUSED.items() if name.startswith(prefix)), None)
    if refused:
        assert done.returncode == 1 and refused in done.stderr, done.stderr[-2000:]
        return
    assert done.returncode == 0, done.stderr[-2000:]
    assert "predictions equal the Keras 2 model's" in done.stderr
    assert (tmp_path / "new.yaml").exists() and (tmp_path / "new.keras").exists()


def test_a_savedmodel_without_keras_metadata_is_refused_saying_why(tmp_path):
    from kspec.importer import LoadRefused

    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert keras2.is_keras2(str(tmp_path))
    with pytest.raises(LoadRefused, match="written by tf.saved_model.save"):
        keras2.read_keras2(str(tmp_path))


def test_a_subclassed_savedmodel_is_refused_saying_why(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    root = json.dumps({"class_name": "MyModel", "name": "m", "config": {"units": 3}})
    (tmp_path / "keras_metadata.pb").write_bytes(_saved_object("root", root))
    with pytest.raises(ImportRefused, match=r"subclassed model \(MyModel\)"):
        keras2.read_keras2(str(tmp_path))


KERAS2_JSON = {
    "class_name": "Functional",
    "keras_version": "2.15.0",
    "backend": "tensorflow",
    "config": {
        "name": "gru_model",
        "layers": [
            {
                "class_name": "InputLayer",
                "name": "x",
                "config": {
                    "batch_input_shape": [None, 4, 3],
                    "dtype": "float32",
                    "name": "x",
                    "ragged": False,
                },
                "inbound_nodes": [],
            },
            {
                "class_name": "GRU",
                "name": "rnn",
                "config": {"name": "rnn", "units": 2, "time_major": True, "implementation": 2},
                "inbound_nodes": [[["x", 0, 0, {}]]],
            },
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["rnn", 0, 0]],
    },
}


@needs_keras
@pytest.mark.keras
def test_import_of_a_keras2_json_file_warns_where_the_meaning_changes(tmp_path):
    from click.testing import CliRunner

    from kspec.cli import main

    (tmp_path / "m.json").write_text(json.dumps(KERAS2_JSON))
    done = CliRunner().invoke(main, ["import", str(tmp_path / "m.json")])
    assert done.exit_code == 0, done.output
    assert (
        "  - {name: rnn, type: GRU, units: 2" in done.stdout
    )  # Keras 3 records the call with training=False
    assert (
        "kspec: warning: Keras 2 to 3: layer 1 ('rnn', GRU): time_major=True is not carried: Keras 3 RNNs "
        "take batch-major inputs only" in done.stderr
    )
    migrated = CliRunner().invoke(
        main, ["migrate", str(tmp_path / "m.json"), "-o", str(tmp_path / "n.keras")]
    )
    assert migrated.exit_code == 2 and "holds no weights: give the .h5 file" in migrated.stderr


@needs_keras
@needs_tf_keras
@pytest.mark.keras
def test_migrate_without_tf_keras_says_predictions_were_not_compared(saved_keras2, monkeypatch):
    from kspec.importer import migrate as migration

    def missing(*_):
        raise ImportError("No module named 'tf_keras'")

    monkeypatch.setattr(migration, "_old_model", missing)
    path, _, old = saved_keras2("mlp", "h5")
    migrated = migration.migrate(path)
    assert migrated.difference is None
    assert "check: tf_keras is not installed, so predictions were not compared" in migrated.not_carried
    x = np.random.default_rng(3).random((2, 4)).astype("float32")
    np.testing.assert_allclose(
        migrated.model.predict(x, verbose=0), old.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_translation_takes_slashes_out_of_layer_names_and_references():
    config, warnings = keras2.translate(
        {
            "class_name": "Functional",
            "config": {
                "name": "m",
                "layers": [
                    {"class_name": "InputLayer", "name": "x", "config": {"name": "x"}, "inbound_nodes": []},
                    {
                        "class_name": "ReLU",
                        "name": "conv1/relu",
                        "config": {"name": "conv1/relu"},
                        "inbound_nodes": [[["x", 0, 0, {}]]],
                    },
                    {
                        "class_name": "ReLU",
                        "name": "out",
                        "config": {"name": "out"},
                        "inbound_nodes": [[["conv1/relu", 0, 0, {}]]],
                    },
                ],
                "input_layers": [["x", 0, 0]],
                "output_layers": [["conv1/relu", 0, 0], ["out", 0, 0]],
            },
        }
    )
    relu, out = config["config"]["layers"][1:]
    assert (relu["name"], relu["config"]["name"]) == ("conv1_relu", "conv1_relu")
    assert out["inbound_nodes"] == [[["conv1_relu", 0, 0, {}]]]
    assert config["config"]["output_layers"] == [["conv1_relu", 0, 0], ["out", 0, 0]]
    assert warnings == [
        "1 layer names hold '/' or '.', which Keras 3 or a spec refuses: written with '_' (conv1/relu is conv1_relu)"
    ]


def test_a_malformed_keras_metadata_is_refused_as_unreadable(tmp_path):
    from kspec.importer import LoadRefused

    (tmp_path / "saved_model.pb").write_bytes(b"")
    (tmp_path / "keras_metadata.pb").write_bytes(_saved_object("root", "{}")[:-3])
    with pytest.raises(LoadRefused, match="keras_metadata.pb cannot be read: keras_metadata.pb is truncated"):
        keras2.read_keras2(str(tmp_path))


@pytest.mark.parametrize(
    "function, y, class_name, config, inputs",
    [
        ("__operators__.add", ["b", 0, 0], "Add", {}, [["a", 0, 0, {}], ["b", 0, 0, {}]]),
        ("math.multiply", ["b", 0, 0], "Multiply", {}, [["a", 0, 0, {}], ["b", 0, 0, {}]]),
        ("__operators__.add", 3.0, "Rescaling", {"scale": 1.0, "offset": 3.0}, [["a", 0, 0, {}]]),
        ("math.subtract", 2, "Rescaling", {"scale": 1.0, "offset": -2.0}, [["a", 0, 0, {}]]),
        ("math.multiply", 0.5, "Rescaling", {"scale": 0.5, "offset": 0.0}, [["a", 0, 0, {}]]),
    ],
)
def test_tensorflow_arithmetic_becomes_keras3_layers(function, y, class_name, config, inputs):
    op = _layer("TFOpLambda", "tf.op", function=function)
    op["inbound_nodes"] = [["a", 0, 0, {"y": y, "name": None}]]
    translated, warnings = keras2.translate(_model(op))
    [entry] = translated["config"]["layers"]
    assert entry["class_name"] == class_name
    assert entry["config"] == {"name": "tf_op", **config}
    assert entry["inbound_nodes"] == [inputs]
    assert warnings == [
        "1 layer names hold '/' or '.', which Keras 3 or a spec refuses: written with '_' (tf.op is tf_op)"
    ]
