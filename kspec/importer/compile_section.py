"""A model's compile config as the spec's `compile` section, and a note on each setting the
spec language cannot say (the importer writes the notes as comments, never drops one silently)."""

from __future__ import annotations

import re
import struct

from ..catalog import catalog
from ..ir import snake_case
from .values import DEFAULT_DTYPE, PythonFunction, dtype_name, equals_default, spec_value

# The order of the keys in the `compile` section (docs/spec-language.md, Compile settings).
COMPILE_KEYS = (
    "optimizer",
    "loss",
    "metrics",
    "weighted_metrics",
    "loss_weights",
    "run_eagerly",
    "steps_per_execution",
    "jit_compile",
)
# Values Keras records when compile() is called without them (`jit_compile="auto"` is recorded
# resolved: false on a machine without an accelerator).
COMPILE_DEFAULTS = {"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


# Where a namespace's classes are in Keras, when not at keras.<namespace>.
KERAS_MODULES = {"schedules": "optimizers.schedules"}


class _NotCarried(Exception):
    """A compile setting the spec language cannot express; the message says why."""


def compile_settings(config: dict | None, output_names: list[str]) -> tuple[dict, list[str]]:
    """A spec's `compile` mapping for a Keras compile config, and a note for each setting left out.

    `config` is `model.get_compile_config()`, the `compile_config` of a .keras file, or the
    `training_config` of a legacy .h5 file (whose optimizer is under `optimizer_config`).
    Arguments equal to Keras's defaults are left out, and so are the names Keras gives objects
    by itself (`adam`, `adam_1`); a setting that cannot be written is left out whole, never in
    part, and named in the notes.
    """
    config = dict(config or {})
    if "optimizer_config" in config and "optimizer" not in config:
        config["optimizer"] = config.pop("optimizer_config")
    settings, notes = {}, []
    for key in COMPILE_KEYS:
        value = config.get(key)
        if value is None or (key in COMPILE_DEFAULTS and value == COMPILE_DEFAULTS[key]):
            continue
        try:
            settings[key] = _compile_value(key, value, output_names)
        except _NotCarried as why:
            notes.append(f"{key}: {why}")
    for key in sorted(set(config) - set(COMPILE_KEYS) - {"optimizer_config"}):
        if config[key] is not None:
            notes.append(f"{key}: not a setting kspec knows")
    return settings, notes


def _compile_value(key: str, value, output_names: list[str]):
    if key == "optimizer":
        return _keras_object("optimizers", value)
    if key == "loss":
        return _per_output(value, "losses", output_names, many=False)
    if key in ("metrics", "weighted_metrics"):
        return _per_output(value, "metrics", output_names, many=True)
    if key == "loss_weights":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if len(output_names) != 1:
                raise _NotCarried(f"one number ({value}) for {len(output_names)} outputs")
            return [value]  # the same weight, in the form the spec language has
        if isinstance(value, dict):
            _check_output_names(value, output_names)
        return spec_value(value)
    return value


def _per_output(value, namespace: str, output_names: list[str], many: bool):
    """A loss or metrics setting: one object, a list, or a mapping of output name to them."""
    if isinstance(value, dict) and "class_name" not in value:
        _check_output_names(value, output_names)
        return {
            name: (
                [_keras_object(namespace, v) for v in item]
                if isinstance(item, list)
                else _keras_object(namespace, item)
            )
            for name, item in value.items()
        }
    if isinstance(value, list):
        if any(isinstance(v, list) for v in value):
            raise _NotCarried(
                "a list of lists (per output in order): the spec language takes a mapping instead"
            )
        return [_keras_object(namespace, v) for v in value]
    return [_keras_object(namespace, value)] if many else _keras_object(namespace, value)


def _check_output_names(mapping: dict, output_names: list[str]) -> None:
    unknown = [name for name in mapping if name not in output_names]
    if unknown:
        raise _NotCarried(
            f"{', '.join(map(str, unknown))} names no output of the spec ({', '.join(output_names)})"
        )


def _keras_object(namespace: str, value):
    """A serialized optimizer, schedule, loss or metric as spec data: a name or {type: ..., args}."""
    if isinstance(value, str):
        if catalog().accepts_string(namespace, value):
            return value
        raise _NotCarried(f"{value!r} is not a name in keras.{KERAS_MODULES.get(namespace, namespace)}")
    if not (isinstance(value, dict) and "class_name" in value):
        raise _NotCarried(f"{_short(value)} is not a keras.{KERAS_MODULES.get(namespace, namespace)} object")
    class_name, config = value["class_name"], value.get("config")
    if class_name == "function":  # a Keras function such as keras.losses.mean_squared_error
        if isinstance(config, str) and config in catalog().strings[namespace]:
            return config
        raise _NotCarried(
            f"the function {config!r} is not a keras.{KERAS_MODULES.get(namespace, namespace)} function"
        )
    module, registered = value.get("module"), value.get("registered_name")
    signature = catalog().object_class(namespace, class_name)
    # A registered name other than the class's own marks a custom object; Keras's backend
    # subclasses (torch's SGD, in keras.src.backend.torch.optimizers) carry their class name.
    custom = registered not in (None, class_name)
    if (module and module != "keras" and not module.startswith("keras.")) or custom or signature is None:
        where = f"{module}.{class_name}" if module else class_name
        raise _NotCarried(f"{where} is not a keras.{KERAS_MODULES.get(namespace, namespace)} class")
    out = {"type": class_name}
    for key, item in (config or {}).items():
        param = signature.params.get(key)
        if param is None:
            raise _NotCarried(f"{class_name} has no argument {key!r} in Keras {catalog().keras_version}")
        if key == "name" and _automatic_name(item, class_name, param.default):
            continue
        if key == "dtype" and dtype_name(item) == DEFAULT_DTYPE and param.default is None:
            continue
        if key == "learning_rate" and isinstance(item, dict):
            item = _keras_object("schedules", item)
        elif key == "learning_rate" and isinstance(item, float):
            item = _shortest_float32(item)  # Keras keeps it in a float32 variable
        else:
            try:
                item = spec_value(item)
            except PythonFunction as why:
                raise _NotCarried(f"{class_name}.{key}: {why}") from None
        if not param.required and equals_default(item, param.default):
            continue
        out[key] = item
    short = class_name.lower()
    if namespace == "optimizers" and len(out) == 1 and short in catalog().strings[namespace]:
        return short  # `adam` rather than {type: Adam}
    return out


def _automatic_name(name, class_name: str, default) -> bool:
    """Whether an object's name is one Keras gives by itself: the default, or the class in
    snake case and numbered in creation order (`adam`, `adam_1`)."""
    if name == default:
        return True
    return (
        isinstance(name, str)
        and re.fullmatch(re.escape(snake_case(class_name)) + r"(_\d+)?", name) is not None
    )


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 (0.009999999776482582 -> 0.01), or the value."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return value
    if single != value:
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return candidate
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
