"""The catalog is Keras's own knowledge, regenerated and compared when Keras is installed."""

import subprocess
import sys

import pytest

from conftest import HAS_KERAS, ROOT
from kspec.catalog import NAMESPACES, catalog
from kspec.catalog.argkinds import BY_NAME


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
