"""Where `kspec import` gets a model: a .keras, .h5 or .json file, or a `package.module:callable`
called with the command line's arguments. Sources in the Python standard library are refused
before anything is imported, and a class Keras cannot locate is named with the options that let
it be found. A file is loaded where its chained layers fit (kspec.deep): Keras recurses once per
layer, past Python's limit near 1,500."""

from __future__ import annotations

import json
import os
import re
import zipfile

from ..checks.paths import in_standard_library, top_module
from ..deep import deep
from ..files import open_regular
from ..searchpath import import_custom, import_modules, search_folders
from . import keras2
from .graph import layer_count
from .refusals import LoadRefused


def refuse_standard_library(what: str, path: str) -> None:
    """Refuse a callable or module in the Python standard library, before it is imported."""
    if in_standard_library(path):
        raise LoadRefused(
            f"{what} {path} is in the Python standard library ({top_module(path)}); kspec imports and runs "
            "only models, factories and layers from your own or trusted packages"
        )


def check_source(source: str, modules=()) -> None:
    """Refuse, before anything is imported, a source that is neither a file nor a
    `package.module:callable`, and callables or modules in the Python standard library."""
    if os.path.isdir(source) and os.path.exists(os.path.join(source, "saved_model.pb")):
        return refuse_modules(modules)  # a SavedModel directory (keras2.py reads it)
    if os.path.exists(source):
        open_regular(source).close()  # a FIFO, a device or a directory: refused before Keras loads
    elif not source.partition(":")[2]:
        raise LoadRefused(f"{source} is neither a file nor a `package.module:callable` reference")
    else:
        refuse_standard_library("the callable", source)
    refuse_modules(modules)


def refuse_modules(modules) -> None:
    for module in modules:
        refuse_standard_library("the module", module)


def load_source(source: str, arguments: dict, paths=(), modules=(), warnings: list | None = None):
    """A Keras model from a .keras, .h5 or .json file, or from `package.module:callable`, and
    the compile config saved with it ({} when there is none).

    `modules` are imported before the model is loaded, looked for first in the folders `paths`
    (kspec.searchpath, as build and plan look for custom layers), so that custom classes
    registered with keras.saving.register_keras_serializable are found. A callable or module in
    the standard library is refused before anything runs. Keras's safe_mode stays on.

    A model saved by Keras 2 is read by keras2.py; what its translation to Keras 3 does not carry
    is appended to `warnings`.
    """
    check_source(source, modules)
    is_file = os.path.exists(source)
    module_name, _, attribute = source.partition(":")

    import keras

    folders = search_folders(paths)
    import_modules(modules, folders)
    if is_file and keras2.is_keras2(source):
        saved = keras2.read_keras2(source)
        model, notes = keras2.keras3_model(saved)
        training, optimizer_notes = keras2.compile_config(saved)
        if warnings is not None:
            warnings.extend(notes + optimizer_notes)
        return model, training
    if is_file:
        with open_regular(source) as handle:  # a FIFO or a device would hang Keras or never end
            text = handle.read().decode("utf-8") if source.endswith(".json") else None
        saved = _saved_or_none(source)  # None: Keras says what is wrong with the file
        try:
            if text is not None:
                return deep(lambda: keras.models.model_from_json(text), layer_count(saved)), {}
            model = deep(lambda: keras.models.load_model(source, compile=False), layer_count(saved))
        except (TypeError, ValueError) as error:
            missing = _unlocated_class(error)
            if missing is None:
                raise
            raise LoadRefused(_unlocated_message(missing, saved)) from None
        return model, (saved or {}).get("compile_config") or {}
    factory = getattr(import_custom(module_name, folders), attribute)
    model = factory(**arguments)
    compiled = getattr(model, "get_compile_config", None)
    return model, (compiled() or {}) if compiled else {}


_UNLOCATED = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def _unlocated_class(error: BaseException) -> str | None:
    """The class Keras could not find, from an error or the errors that caused it."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found = _UNLOCATED.search(str(error))
        if found:
            return found.group(1)
        error = error.__cause__ or error.__context__
    return None


def _unlocated_message(name: str, config) -> str:
    """What to do about a class Keras could not locate (`Name`, or `package>Name` as registered)."""
    class_name = name.rpartition(">")[2]
    module = _module_of(class_name, config)
    where = f" (module {module})" if module else f" (registered as '{name}')" if ">" in name else ""
    return (
        f"Keras could not locate the class '{class_name}'{where}: import the module that registers it "
        f"with --import {module or 'MODULE'}, and put the directory it is in on the path with --path DIR"
    )


def _module_of(class_name: str, config) -> str | None:
    """The module a saved config names for a class, if it names one."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("class_name") == class_name and isinstance(value.get("module"), str):
                return value["module"]
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _saved_or_none(path: str):
    """The JSON saved in a model file, or None: to count its layers, read its compile settings and
    name the module of a missing class."""
    try:
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        return _saved(path)
    except (OSError, ValueError, KeyError):
        return None


def _saved(path: str) -> dict:
    """The JSON Keras keeps beside the weights, in the shape of a .keras file's config.json: the
    model under `config`, the compile settings under `compile_config`. A legacy .h5 file keeps
    them in its attributes `model_config` and `training_config`."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    import h5py

    with h5py.File(path, "r") as handle:
        found = {key: handle.attrs.get(key) for key in ("model_config", "training_config")}
    parsed = {
        key: json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
        for key, text in found.items()
        if text is not None
    }
    return {"config": parsed.get("model_config"), "compile_config": parsed.get("training_config")}
