"""`kspec import` of models deeper than Keras's recursion allows: Keras loads a Functional model with
a recursion per layer (RecursionError near 1,500 chained layers at Python's default limit); kspec
loads it where the chain fits (kspec.deep), and the spec builds the same model back."""

import importlib.util
import os
import sys

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, run_kspec
from kspec.samples import as_numpy

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]


def _chain(units: int):
    """`units` pairs of Dense(4) layers, `unit<i>_in` and `unit<i>_out`, orthogonal kernels (the
    output keeps the input's length, so predictions stay a real comparison at any depth)."""
    import keras

    x = inputs = keras.Input((4,), name="x")
    for i in range(units):
        for part in ("in", "out"):
            x = keras.layers.Dense(4, kernel_initializer="orthogonal", name=f"unit{i}_{part}")(x)
    return keras.Model(inputs, x, name="chain")


def _frames() -> int:
    frame, count = sys._getframe(), 0
    while frame is not None:
        frame, count = frame.f_back, count + 1
    return count


def assert_same_model(rebuilt, original):
    """Layer names in order, weights by name, predictions."""
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in original.layers]
    for layer in original.layers:
        rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    want = as_numpy(original(x))  # eager: predict() would trace a graph of every layer first
    np.testing.assert_allclose(np.linalg.norm(want, axis=1), np.linalg.norm(x, axis=1), rtol=1e-3)
    np.testing.assert_allclose(as_numpy(rebuilt(x)), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("suffix", [".keras", pytest.param(".h5", marks=pytest.mark.slow)])
def test_a_file_too_deep_for_the_recursion_limit_imports_and_builds_back(tmp_path, suffix):
    """With the recursion limit lowered until Keras cannot load a 200-layer chain, kspec.importer
    still loads it, finds its repeated units, and the spec builds the same model."""
    import keras

    from kspec.importer import from_keras, load_source

    original = _chain(100)
    path = str(tmp_path / f"chain{suffix}")
    original.save(path)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 100)
    try:
        with pytest.raises(RecursionError):  # Keras alone cannot: the test needs the deep path
            keras.models.load_model(path, compile=False)
        loaded, _ = load_source(path, {})
    finally:
        sys.setrecursionlimit(limit)
    text = from_keras(loaded)
    # every unit but the last, whose output is the model's (docs/import.md, How runs are found)
    assert text.count("type: UnitBlock") == 99 and "\n  UnitBlock:\n" in text
    assert_same_model(kspec.build(kspec.load(text), compile=False), original)


# 2,000 chained layers (Keras alone stops near 1,500) in CI's time; KSPEC_DEEP_LAYERS=10000 for the
# depth docs/import.md reports (about 6 minutes here).
LAYERS = int(os.environ.get("KSPEC_DEEP_LAYERS", "2000"))


@pytest.mark.slow
def test_kspec_import_of_a_chain_deeper_than_keras_loads_round_trips(tmp_path):
    """`kspec import` of a .keras file of LAYERS chained layers, and `kspec build` of its spec:
    the same model."""
    from kspec.deep import deep

    original = deep(lambda: _chain(LAYERS // 2), LAYERS)
    path = tmp_path / "chain.keras"
    deep(lambda: original.save(path), LAYERS)
    done = run_kspec("import", str(path), "-o", str(tmp_path / "chain.yaml"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "chain.yaml").read_text()
    assert text.count("type: UnitBlock") == LAYERS // 2 - 1
    assert_same_model(kspec.build(kspec.load(text), compile=False), original)


def test_a_callable_too_deep_for_the_recursion_limit_is_one_line_saying_what_to_do(tmp_path):
    """A `package.module:callable` builds its model itself: too deep for the (lowered) limit,
    `kspec import` says so in one line (exit status 1), never a traceback; 5 layers import."""
    from click.testing import CliRunner

    import keras  # noqa: F401  (imported before the limit is lowered, as kspec's own modules)
    import kspec.importer  # noqa: F401
    import kspec.validate  # noqa: F401
    from kspec.cli import main

    for layers in (5, 200):
        (tmp_path / f"deep_{layers}.py").write_text(
            "import keras\n\n\ndef make():\n    x = inputs = keras.Input((4,))\n"
            f"    for _ in range({layers}):\n        x = keras.layers.Dense(4)(x)\n"
            "    return keras.Model(inputs, x)\n"
        )
    done = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 150)
    try:
        for layers in (5, 200):
            done[layers] = CliRunner().invoke(
                main, ["import", f"deep_{layers}:make", "--path", str(tmp_path)]
            )
    finally:
        sys.setrecursionlimit(limit)
    assert done[5].exit_code == 0, done[5].output
    assert done[200].exit_code == 1, done[200].output
    assert done[200].stderr.splitlines()[-1] == (
        "kspec: cannot import deep_200:make: Keras ran out of Python's recursion limit on a model "
        "this deep (it recurses once per chained layer); a callable must build such a model itself "
        "inside kspec.deep.deep(build, layers)"
    )


@pytest.mark.skipif(importlib.util.find_spec("tf_keras") is None, reason="tf_keras is not installed")
def test_a_keras2_file_too_deep_for_the_recursion_limit_is_read_by_keras_3(tmp_path):
    """Keras 3 reads a Keras 2 config with the same recursion per layer (keras2.keras3_model):
    a 200-layer tf_keras chain under the lowered limit loads, with tf_keras's layers and weights."""
    import tf_keras

    from keras.src.legacy.saving import saving_options, saving_utils

    from kspec.importer import keras2, load_source

    x = inputs = tf_keras.Input((4,), name="x")
    for i in range(200):
        x = tf_keras.layers.Dense(4, kernel_initializer="orthogonal", name=f"d{i}")(x)
    old = tf_keras.Model(inputs, x)
    path = str(tmp_path / "old.h5")
    old.save(path)
    config, _ = keras2.translate(keras2.read_keras2(path).config)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 100)
    try:
        with pytest.raises(RecursionError), saving_options.keras_option_scope(use_legacy_config=True):
            saving_utils.model_from_config(config)  # Keras 3 alone cannot: the test needs the deep path
        model, _ = load_source(path, {})
    finally:
        sys.setrecursionlimit(limit)
    assert [layer.name for layer in model.layers] == [layer.name for layer in old.layers]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in old.weights]
