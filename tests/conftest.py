import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
HAS_KERAS = importlib.util.find_spec("keras") is not None

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def load_on_one_device(path):
    """kspec.load, less a `model_parallel` section: the test session's Keras runs on TensorFlow, or on
    JAX with one device, where a model-parallel layout cannot be built; the tests that compare models
    with Keras check the model itself, and tests/test_distribution.py checks the layout, on JAX with
    8 virtual devices."""
    import kspec

    spec = kspec.load(path)
    if "model_parallel" in (spec.distribution or {}):
        spec.distribution = None
    return spec


def run_kspec(*args, input=None, cwd=None):
    """Run the kspec command line in a fresh interpreter."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "kspec", *map(str, args)],
        capture_output=True,
        text=True,
        input=input,
        cwd=cwd or ROOT,
    )


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from the current generators"
    )


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture
def write_spec(tmp_path):
    """Write text to a spec file in a temporary directory and return its path."""

    def write(text, name="spec.yaml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
