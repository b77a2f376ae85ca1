"""A value of a Keras config as spec data: nested Keras objects as {type: ..., args} or their
short names, and the comparison with a catalog default that decides what is left out."""

from __future__ import annotations

from ..catalog import catalog
from ..catalog.aliases import INITIALIZER_ALIASES
from ..ir import snake_case
from .refusals import ImportRefused

DEFAULT_DTYPE = "float32"
# Keras cannot build these from their short names (the string 'constant' loses its value).
NOT_SHORTENED = {"constant"}
SKIPPED_ARGS = {"name", "trainable", "dtype"}


class PythonFunction(ImportRefused):
    """A serialized Python function (a custom activation, a metric's `fn`): no spec can hold one."""


def spec_value(value):
    """A config value as spec data: nested Keras objects as {type: ..., args}."""
    if isinstance(value, dict) and "class_name" in value and not isinstance(value.get("config", {}), dict):
        raise PythonFunction(
            f"the Python {value['class_name']} {value['config']!r} cannot be written in a spec"
        )
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        if value.get("module") == "keras.layers" or value.get("class_name") in catalog().layers:
            nested = {"type": value["class_name"]}
            signature = catalog().layer(value["class_name"])
            for key, item in value["config"].items():
                if key in SKIPPED_ARGS or (signature and key not in signature.params):
                    continue
                param = signature.params.get(key) if signature else None
                plain = spec_value(item)
                if param is not None and not param.required and equals_default(plain, param.default):
                    continue
                nested[key] = plain
            return nested
        out = {"type": value["class_name"]}
        signature = object_signature(value["class_name"])
        for key, item in value["config"].items():
            param = signature.params.get(key) if signature else None
            if item is None or (
                param is not None and not param.required and equals_default(spec_value(item), param.default)
            ):
                continue
            out[key] = spec_value(item)
        short = snake_case(value["class_name"])
        if (
            len(out) == 1
            and short not in NOT_SHORTENED
            and any(short in catalog().strings[ns] for ns in ("initializers", "regularizers", "constraints"))
        ):
            return short  # `he_normal` rather than {type: HeNormal}
        return out
    if isinstance(value, (list, tuple)):
        return [spec_value(v) for v in value]
    if isinstance(value, dict):
        return {k: spec_value(v) for k, v in value.items()}
    return value


def object_signature(class_name: str):
    """The catalog signature of a nested Keras object, from whichever namespace has it."""
    for namespace in (
        "initializers",
        "regularizers",
        "constraints",
        "optimizers",
        "schedules",
        "losses",
        "metrics",
    ):
        signature = catalog().object_class(namespace, class_name)
        if signature is not None:
            return signature
    return None


def equals_default(value, default) -> bool:
    """Whether a config value equals a signature default (a name and its object count as equal)."""
    if isinstance(value, str) and isinstance(default, str):
        return INITIALIZER_ALIASES.get(value, value) == INITIALIZER_ALIASES.get(default, default)
    if isinstance(default, list) and isinstance(value, list):
        return [v for v in value] == default
    if (
        isinstance(value, dict)
        and isinstance(default, str)
        and set(value) <= {"type", "seed", "input_axes", "output_axes"}
    ):
        return snake_case(value["type"]) == default and all(
            v is None for k, v in value.items() if k != "type"
        )
    if isinstance(value, (int, float)) and isinstance(default, list) and len(set(default)) == 1:
        return value == default[0]
    if isinstance(value, list) and not isinstance(default, list) and default is not None:
        return len(set(map(str, value))) == 1 and value[0] == default
    return value == default


def dtype_name(dtype):
    """The name of a dtype, whether Keras wrote it as a name or as a DTypePolicy."""
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name")
    return dtype
