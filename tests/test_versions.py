"""Validation against a Keras release: what arrived later is KS308, and the target is named."""

import importlib.util
import json

import pytest

from conftest import ROOT, run_kspec
from kspec.catalog import catalog
from kspec.catalog import versions
from kspec.validate import Limits, validate_text

NEWER = """kspec: 1
name: m
inputs: {x: {shape: [8, 8, 3]}}
layers:
  - {name: bn, type: BatchNormalization, renorm: true}
  - {name: pool, type: AdaptiveAveragePooling2D, output_size: 2}
outputs: pool
"""


def load_script():
    spec = importlib.util.spec_from_file_location(
        "catalog_versions", ROOT / "scripts" / "catalog_versions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_version_table_belongs_to_the_shipped_catalog():
    """versions.json was made against keras.json: its newest release is the catalog's, and
    everything it dates is something the catalog has."""
    script = load_script()
    data = json.loads((ROOT / "kspec" / "catalog" / "versions.json").read_text())
    assert data["versions"][-1] == catalog().keras_version == script.VERSIONS[-1]
    shipped = script.items(json.loads((ROOT / "kspec" / "catalog" / "keras.json").read_text()))
    assert set(data["since"]) <= shipped
    assert set(data["since"].values()) <= set(data["versions"][1:])


def codes(text, version):
    return [(d.line, d.code) for d in validate_text(text, limits=Limits(keras_version=version)).diagnostics]


def test_what_arrived_after_the_target_is_refused_where_it_is_written():
    assert codes(NEWER, "3.12") == [(5, "KS308"), (6, "KS308")]  # the pooling layer once, not its arguments
    assert codes(NEWER, "3.13.2") == [(5, "KS308")]  # shapes wait for the errors to go
    assert [code for _, code in codes(NEWER, "3.14")] == ["KS606"]
    [error] = [d for d in validate_text(NEWER, limits=Limits(keras_version="3.13")).errors]
    assert error.message == (
        "BatchNormalization's argument 'renorm' arrived in keras 3.14; the target is keras 3.13 (--keras-version)"
    )


def test_the_target_is_the_flag_then_the_installed_keras_then_the_spec_then_the_newest(monkeypatch):
    monkeypatch.setattr(versions, "installed_version", lambda name: "3.13.1")
    assert versions.target("3.12", "3.14") == ("3.12", "--keras-version")
    assert versions.target(None, "3.14") == ("3.13.1", "installed")
    monkeypatch.setattr(versions, "installed_version", lambda name: None)
    assert versions.target(None, "3.14") == ("3.14", "the spec's keras:")
    assert versions.target(None, None) == (versions.releases()[-1], "the newest catalog")


def test_validate_says_what_it_checked_against():
    result = run_kspec("validate", "specs/mlp.yaml", "--keras-version", "3.12")
    assert result.returncode == 0 and "Checked against keras 3.12 (--keras-version)." in result.stdout
    far = run_kspec("validate", "specs/mlp.yaml", "--keras-version", "3.9")
    assert "older than kspec's oldest catalog, 3.12.4, and checked as that" in far.stdout


@pytest.mark.parametrize("value", ["3", "4.0", "latest"])
def test_the_spec_field_is_a_keras_3_release(value):
    text = NEWER.replace("name: m\n", f"name: m\nkeras: '{value}'\n")
    assert "KS105" in [d.code for d in validate_text(text).diagnostics]
