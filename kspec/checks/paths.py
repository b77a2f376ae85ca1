"""Which `module:Class` import paths a spec may name, decided without importing anything.

One place for the rule, used by validation (`custom:` paths) and by `kspec import`.
The class a path finally names is checked again when it is imported
(`kspec.backends.custom_layers.custom_class`), since a user's module can
re-export anything under any name.
"""

from __future__ import annotations

import keyword
import re
import sys

from ..catalog.calls import RUNS_CODE

IMPORT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")

# Packages that hold the layers which run Python functions or load files, and the
# packages whose layers all load models from files or URLs.
FRAMEWORK_PACKAGES = frozenset({"keras", "tf_keras", "tensorflow"})
LOADER_PACKAGES = frozenset({"tensorflow_hub"})


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
    top, attribute = top_module(path), path.rpartition(":")[2]
    if (top in FRAMEWORK_PACKAGES and attribute in RUNS_CODE) or top in LOADER_PACKAGES:
        return (
            f"{path} is a layer that runs Python functions or loads files, refused by any name "
            f"({', '.join(RUNS_CODE)}, and {', '.join(sorted(LOADER_PACKAGES))})",
            "write a layer class of your own and declare it under `custom`",
        )
    return None
