"""Where the modules named under a spec's `custom:` are imported from.

A custom type names `package.module:Class`. kspec looks for the top-level `package` first in
the spec's own folder, then in each `--path` folder in the order given, and only then on
sys.path as Python would (installed packages, PYTHONPATH). The working directory is not searched
unless it is one of those folders. While a custom module is being imported, the same folders are
also at the end of sys.path, so that it can import the files beside it without shadowing the
standard library or an installed package; they are taken off again afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys


def spec_folder(spec) -> str | None:
    """The folder of the file the spec was read from (None for a spec from text)."""
    path = getattr(getattr(spec, "document", None), "path", None)
    if isinstance(path, str) and os.path.isfile(path):
        return os.path.dirname(os.path.abspath(path))
    return None


def search_path(spec, extra=()) -> list[str]:
    """The folders searched for the spec's custom modules: its own folder, then `extra`."""
    return search_folders([spec_folder(spec), *extra])


def search_folders(folders) -> list[str]:
    """Folders as absolute paths, in order, once each (None entries left out)."""
    found: list[str] = []
    for folder in folders:
        if folder is None:
            continue
        folder = os.path.abspath(os.fspath(folder))
        if folder not in found:
            found.append(folder)
    return found


def import_custom(module_name: str, folders=()):
    """Import a custom module, its top-level package found in `folders` first."""
    top = module_name.partition(".")[0]
    with _at_the_end(folders):
        if top not in sys.modules and folders:
            found = importlib.machinery.PathFinder.find_spec(top, list(folders))
            if found is not None and found.loader is not None:
                module = importlib.util.module_from_spec(found)
                sys.modules[top] = module
                try:
                    found.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(top, None)
                    raise
        return importlib.import_module(module_name)


def import_all(custom: dict, folders=()) -> dict:
    """Import the module of every custom type (type name -> `module:Class`); module name -> module."""
    return import_modules([path.partition(":")[0] for path in custom.values()], folders)


def import_modules(module_names, folders=()) -> dict:
    """Import custom modules by name (import_custom); module name -> module."""
    modules = {}
    for name in module_names:
        if name not in modules:
            modules[name] = import_custom(name, folders)
    return modules


def found_in(module_names) -> list[str]:
    """The folders the top-level packages of imported modules came from (for a child process)."""
    folders: list[str] = []
    for name in module_names:
        top = sys.modules.get(name.partition(".")[0])
        locations = list(getattr(top, "__path__", None) or [])
        origin = locations[0] if locations else getattr(top, "__file__", None)
        if origin:
            folder = os.path.dirname(os.path.abspath(origin))
            if folder not in folders:
                folders.append(folder)
    return folders


@contextlib.contextmanager
def _at_the_end(folders):
    added = [f for f in folders if f not in sys.path]
    sys.path.extend(added)
    try:
        yield
    finally:
        for folder in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
