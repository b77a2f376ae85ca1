"""Importing a spec's `custom` layer classes, and refusing the ones no spec may use.

A generated module imports its custom classes by name; kspec imports and checks them
first (`check_custom_classes`), so that a refused class stops a build, or a verify,
before anything runs it.
"""

from __future__ import annotations

from ..catalog.calls import RUNS_CODE
from ..searchpath import import_custom


class CustomLayerRefused(TypeError):
    """A `custom` class that is not a layer, or is one of the layers that run code or load files."""


def custom_class(type_name: str, path: str, folders=()):
    """The class a `custom` entry names (`module:Class`), imported and checked."""
    import keras

    module_name, _, attribute = path.partition(":")
    try:
        module = import_custom(module_name, folders)
    except ImportError as error:
        where = ", ".join(folders) if folders else "the installed packages"
        raise ImportError(
            f"custom type {type_name} ({path}): {error}; looked in {where}: put the module beside the "
            "spec or name its folder with --path DIR"
        ) from error
    cls = getattr(module, attribute, None)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise CustomLayerRefused(f"custom type {type_name}: {path} is not a keras.layers.Layer subclass")
    for banned in RUNS_CODE:
        base = getattr(keras.layers, banned, None)
        if base is not None and issubclass(cls, base):
            raise CustomLayerRefused(
                f"custom type {type_name}: {path} is keras.layers.{banned} or a subclass of it, "
                "which runs Python functions or loads files: refused"
            )
    return cls


def check_custom_classes(custom: dict, folders=()) -> None:
    """Import and check every `custom` class of a spec (type name -> `module:Class`)."""
    for type_name, path in custom.items():
        custom_class(type_name, path, folders)
