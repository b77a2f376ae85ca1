"""What this Python environment holds, read without importing Keras or a backend.

Validation must not import TensorFlow, JAX or torch, yet plans and notes depend on
the Keras version and backend the user will run: both are read from package
metadata, `KERAS_BACKEND` and Keras's own config file, as Keras itself decides.
"""

from __future__ import annotations

import functools
import json
import os
from importlib import metadata

BACKENDS = ("tensorflow", "jax", "torch")


@functools.cache
def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (`keras`, `tensorflow`), or None; looked up
    once per process (validation asks for each spec)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def has_tensorflow() -> bool:
    """Whether some TensorFlow distribution is installed (tensorflow, tensorflow-cpu, ...)."""
    return any(installed_version(name) for name in ("tensorflow", "tensorflow-cpu", "tensorflow-macos"))


def keras_backend() -> str:
    """The backend Keras will use: KERAS_BACKEND, else the `backend` of ~/.keras/keras.json
    (KERAS_HOME moves it), else tensorflow."""
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        return chosen
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as handle:
            backend = json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return backend if isinstance(backend, str) else "tensorflow"
