"""The catalog is Keras's own knowledge, regenerated and compared when Keras is installed."""

import subprocess
import sys

import pytest

from conftest import HAS_KERAS, ROOT
from kspec.catalog import NAMESPACES, catalog
from kspec.catalog.argkinds import BY_NAME, CALL_BY_NAME


def test_catalog_covers_the_public_layers_and_namespaces():
    c = catalog()
    assert {"Dense", "Conv2D", "LSTM", "MultiHeadAttention", "Bidirectional"} <= set(c.layers)
    assert len(c.layers) >= 150
    assert set(NAMESPACES) <= set(c.strings)
    assert c.layer("Dense").required == ["units"]
    assert c.accepts_string("initializers", "he_normal")
    assert c.object_class("regularizers", "L2").params["l2"].default == 0.01


def test_every_argument_kind_names_a_real_argument():
    names = {p for entry in catalog().layers.values() for p in (q["name"] for q in entry["params"])}
    names |= set(catalog().layer("Dense").params)
    assert set(BY_NAME) - names == set()


def test_every_call_argument_kind_names_a_real_call_argument():
    names = {p for name in catalog().layers for p in catalog().layer_call(name).params}
    assert set(CALL_BY_NAME) - names == set()


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_call_signatures_agree_with_keras():
    """Each layer's call() parameters, and `training`, which Keras takes for every layer, while an
    argument that call() does not have is refused (so kspec's KS306 refuses it too)."""
    import inspect

    import keras

    for name in ("MultiHeadAttention", "Dropout", "LSTM", "Embedding", "Bidirectional"):
        params = inspect.signature(getattr(keras.layers, name).call).parameters
        own = [p for p in params if p not in ("self", "kwargs")]
        assert list(catalog().layer_call(name).params)[: len(own)] == own
    assert "training" not in inspect.signature(keras.layers.Embedding.call).parameters
    x = keras.Input((3,), dtype="int32")
    keras.layers.Embedding(5, 2)(x, training=False)  # taken, and dropped
    assert "training" in catalog().layer_call("Embedding").params
    with pytest.raises(TypeError):
        keras.layers.Embedding(5, 2)(x, use_causal_mask=True)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_catalog_matches_the_installed_keras():
    result = subprocess.run(
        [sys.executable, "scripts/generate_catalog.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_signatures_agree_with_keras_constructors():
    import inspect

    import keras

    for name in ("Dense", "Conv2D", "LSTM", "Embedding"):
        params = inspect.signature(getattr(keras.layers, name).__init__).parameters
        required = [
            p
            for p, v in params.items()
            if v.default is v.empty and v.kind is v.POSITIONAL_OR_KEYWORD and p != "self"
        ]
        assert catalog().layer(name).required == required


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_derived_layer_names_match_keras_for_every_layer_class():
    from keras.src.utils.naming import to_snake_case

    from kspec.ir import snake_case

    mismatched = {
        n: (snake_case(n), to_snake_case(n)) for n in catalog().layers if snake_case(n) != to_snake_case(n)
    }
    assert mismatched == {}
