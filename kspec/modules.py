"""Python modules that a spec or the command line names, and where they may not point."""

from __future__ import annotations

import sys


def standard_library_module(path: str) -> str | None:
    """The standard-library package a `package.module:attribute` path (or a module name) points
    into, such as `os` for `os:system` or `builtins` for `builtins:exec`; None for other packages.

    No model or layer lives in the standard library, while much that runs commands or deletes
    files does: a path into it is refused wherever kspec would import or run what it names.
    """
    top = path.split(".")[0].split(":")[0]
    return top if top in sys.stdlib_module_names else None
