"""Which `module:Class` import paths a spec may name, decided without importing anything.

One place for the rule, used by validation (`custom:` paths) and by `kspec import`.
The class a path finally names is checked again when it is imported
(`kspec.backends.objects.KerasObjects.custom_class`), since a user's module can
re-export anything under any name.
"""

from __future__ import annotations

import keyword
import re
import sys

IMPORT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")

# Packages whose classes a spec names by `type:` (Keras layers) or may not name at all:
# they hold Lambda, TFSMLayer, JaxLayer, FlaxLayer, TorchModuleWrapper, hub loaders.
FRAMEWORK_PACKAGES = frozenset(
    {"keras", "tf_keras", "tensorflow", "tensorflow_hub", "jax", "jaxlib", "flax", "torch"}
)


def top_module(path: str) -> str:
    """`a` of `a.b.c:Name` or of `a.b.c`."""
    return path.partition(":")[0].split(".")[0]


def in_standard_library(path: str) -> bool:
    """Whether a module or `module:attribute` path starts in Python's standard library."""
    return top_module(path) in sys.stdlib_module_names


def custom_path_problem(path: str) -> tuple[str, str] | None:
    """Why a `custom:` import path is refused, as (message, hint), or None when it is fine."""
    if not IMPORT_PATH.match(path):
        return (
            f"'{path}' is not an import path of the form package.module:ClassName",
            "write `my_package.layers:MyLayer`",
        )
    if any(keyword.iskeyword(part) for part in path.replace(":", ".").split(".")):
        return f"{path} has a Python keyword in it", "a module or class cannot be named like a keyword"
    if in_standard_library(path):
        return (
            f"{path} points into the Python standard library: a custom layer is a class in your own "
            "package",
            "write `my_package.layers:MyLayer`",
        )
    if top_module(path) in FRAMEWORK_PACKAGES:
        return (
            f"{path} points into {top_module(path)} itself: a Keras layer is named by `type:` directly, "
            "and the layers that run Python functions or load files (Lambda, TFSMLayer, JaxLayer, "
            "FlaxLayer, TorchModuleWrapper) are refused by any name",
            "write `type: Dense` for a Keras layer; `custom:` is for layer classes in your own package",
        )
    return None
