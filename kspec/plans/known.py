"""Measured Keras facts that plans rely on, keyed by Keras version and backend.

Each entry was measured (and is re-checked by `kspec plan --verify` and the
test suite) on that Keras version with that backend. On another version or
backend, plans use the nearest measured facts and say so, and `--verify`
checks them where they are used.
"""

from __future__ import annotations

ALL = ("architecture", "weights", "compile", "optimizer_state")

TENSORFLOW_3_15 = {
    # path -> style -> (allowed, what it keeps); None = not allowed
    "keras_file": {"sequential": ALL, "functional": ALL, "subclass": ALL},
    "h5_file": {
        "sequential": ("architecture", "weights"),
        "functional": ("architecture", "weights"),
        "subclass": None,
    },
    "saved_model": {s: ("architecture", "weights") for s in ("sequential", "functional", "subclass")},
    "config": {s: ("architecture", "compile") for s in ("sequential", "functional", "subclass")},
    "json": {s: ("architecture", "compile") for s in ("sequential", "functional", "subclass")},
    "weights_file": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "weights_memory": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "cross_style_weights": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "transfer": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
}

# (keras version, backend) -> path -> style -> what it keeps (None = not allowed). On JAX,
# every path keeps what it keeps on TensorFlow (22 claims of specs/mlp.yaml hold under
# KERAS_BACKEND=jax, jax 0.10.2); the SavedModel is written through jax2tf and needs
# TensorFlow installed beside JAX (facts.saved_model says so where it is not).
FACTS = {
    ("3.15.1", "tensorflow"): TENSORFLOW_3_15,
    ("3.15.1", "jax"): TENSORFLOW_3_15,
}

MEASURED_ON = ("3.15.1", "tensorflow")

# Whether keras.models.model_from_json refuses Python code inside the JSON (the bytecode of a
# Lambda's function, or a `__lambda__` object anywhere), measured by
# tests/test_plans.py::test_model_from_json_refuses_code_as_the_plan_says. It takes no safe_mode
# argument, but passes the config to keras.saving.deserialize_keras_object, whose safe_mode
# defaults to True; only keras.config.enable_unsafe_deserialization() (or an enclosing
# SafeModeScope(False)) turns it off.
JSON_SAFE_MODE = {"3.15.1": True}


def facts_for(keras_version: str, backend: str) -> tuple[dict, tuple]:
    """The facts for a Keras version and backend, and the (version, backend) they were measured
    on: the same when measured, else the same backend's newest, else MEASURED_ON."""
    if (keras_version, backend) in FACTS:
        return FACTS[keras_version, backend], (keras_version, backend)
    same_backend = sorted((key for key in FACTS if key[1] == backend), key=lambda key: _numbers(key[0]))
    key = same_backend[-1] if same_backend else MEASURED_ON
    return FACTS[key], key


def _numbers(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def kept(keras_version: str, backend: str, path: str, style: str):
    """What a path keeps in a style, or None when Keras does not allow it."""
    return facts_for(keras_version, backend)[0][path][style]


def json_safe_mode(keras_version: str) -> bool:
    """Whether model_from_json refuses code in the JSON (safe mode) on a Keras version."""
    return JSON_SAFE_MODE.get(keras_version, JSON_SAFE_MODE[MEASURED_ON[0]])
