"""Measured Keras facts that plans rely on, keyed by Keras version.

Each entry was measured (and is re-checked by `kspec plan --verify` and the
test suite) on that Keras version. On another version, plans say so, and a
test fails until the facts are measured again and added here.
"""

from __future__ import annotations

ALL = ("architecture", "weights", "compile", "optimizer_state")

FACTS = {
    "3.15.1": {
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
    },
}

MEASURED_ON = "3.15.1"

# Whether keras.models.model_from_json refuses Python code inside the JSON (the bytecode of a
# Lambda's function, or a `__lambda__` object anywhere), measured by
# tests/test_plans.py::test_model_from_json_refuses_code_as_the_plan_says. It takes no safe_mode
# argument, but passes the config to keras.saving.deserialize_keras_object, whose safe_mode
# defaults to True; only keras.config.enable_unsafe_deserialization() (or an enclosing
# SafeModeScope(False)) turns it off.
JSON_SAFE_MODE = {"3.15.1": True}


def facts_for(keras_version: str) -> tuple[dict, bool]:
    """The facts for a Keras version, and whether they were measured on it."""
    if keras_version in FACTS:
        return FACTS[keras_version], True
    return FACTS[MEASURED_ON], False


def kept(keras_version: str, path: str, style: str):
    """What a path keeps in a style, or None when Keras does not allow it."""
    return facts_for(keras_version)[0][path][style]


def json_safe_mode(keras_version: str) -> bool:
    """Whether model_from_json refuses code in the JSON (safe mode) on a Keras version."""
    return JSON_SAFE_MODE.get(keras_version, JSON_SAFE_MODE[MEASURED_ON])
