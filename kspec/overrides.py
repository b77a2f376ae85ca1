"""`--set PATH=VALUE`: change a spec's data before it is checked, without editing the file.

PATH is dotted: `compile.optimizer.learning_rate`, `layers.head.units` (a layer call
by its name, or a list item by its index), `blocks.Unit.params.units`. A PATH without
a dot names a top-level parameter (`params.NAME`, or `params.NAME.default` for one with
a search space), or else a top-level key (`name`). VALUE is read as one YAML scalar
by kspec's own loader, so `3e-4` is a number and `yes` is refused as it is in a file.
The changed value keeps the position of the value it replaces, so what validation
says about it points at that line, and its message says where the value came from.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .diagnostics import suggestion
from .source import load_text

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)=(.*)$", re.S)
MAX_OVERRIDES = 256


class Override(NamedTuple):
    path: tuple  # keys (and list positions, as written) from the top of the document
    text: str  # what was written after `=`
    value: object


class OverrideError(ValueError):
    """A `--set` that is not PATH=VALUE, or whose VALUE is not one YAML scalar."""


def parse(assignments) -> list[Override]:
    """The overrides of `--set` arguments, in order; OverrideError for a malformed one."""
    assignments = list(assignments)
    if len(assignments) > MAX_OVERRIDES:
        raise OverrideError(f"more than {MAX_OVERRIDES} --set options")
    found = []
    for assignment in assignments:
        match = _ASSIGNMENT.match(assignment)
        if match is None:
            raise OverrideError(
                f"--set {assignment!r}: write NAME=VALUE or a dotted PATH=VALUE (compile.optimizer.learning_rate=3e-4)"
            )
        path, text = match.groups()
        found.append(Override(tuple(path.split(".")), text, _scalar(assignment, text)))
    return found


def _scalar(assignment: str, text: str):
    document = load_text(f"value: {text}\n" if text.strip() else "value: ''\n", "--set")
    problem = next((d for d in document.diagnostics if d.is_error), None)
    value = document.data.get("value") if isinstance(document.data, dict) else None
    if problem is not None:
        raise OverrideError(f"--set {assignment!r}: {problem.message}")
    if isinstance(value, (dict, list)) or len(document.data) != 1:
        raise OverrideError(
            f"--set {assignment!r}: the value must be one YAML scalar (a number, a string, true)"
        )
    return value


def apply(document, overrides: list[Override], out) -> None:
    """Write each override into the document's data, in order; a PATH that leads nowhere is
    KS016 at the nearest place that exists."""
    for override in overrides:
        override = _resolved(override, document.data)
        container, where = document.data, ()
        for depth, key in enumerate(override.path):
            last = depth == len(override.path) - 1
            step = _step(container, key, last)
            if step is None or (not last and not isinstance(container[step], (dict, list))):
                _unknown(override, depth, container, where, out)
                break
            if last:
                container[step] = override.value
                document.overridden[where + (step,)] = f"--set {'.'.join(override.path)}={override.text}"
            else:
                where += (step,)
                container = container[step]


def _resolved(override: Override, data: dict) -> Override:
    """A one-word PATH as a top-level parameter if the spec declares it, else a top-level key."""
    if len(override.path) > 1:
        return override
    params = data.get("params")
    name = override.path[0]
    if isinstance(params, dict) and isinstance(params.get(name), dict):  # a search space: its default
        return override._replace(path=("params", name, "default"))
    if (isinstance(params, dict) and name in params) or name not in data:
        return override._replace(path=("params", *override.path))
    return override


def _step(container, key: str, last: bool):
    """The key or index `key` names in a mapping (a new key only as the last step) or in a
    list (a position, or a layer call by its name), or None."""
    if isinstance(container, dict):
        return key if key in container or last else None
    if isinstance(container, list):
        if _is_index(key):
            return int(key) if int(key) < len(container) else None
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("name") == key:
                return index
    return None


def _is_index(key: str) -> bool:
    return key.isdigit()


def _unknown(override: Override, depth: int, container, where: tuple, out) -> None:
    path = ".".join(override.path)
    here = ".".join(override.path[:depth]) or "the top level"
    key = override.path[depth]
    if isinstance(container, dict):
        what = f"no key '{key}' under {here}" + suggestion(key, [k for k in container if isinstance(k, str)])
    elif isinstance(container, list):
        names = [item.get("name") for item in container if isinstance(item, dict) and item.get("name")]
        what = f"no item '{key}' in {here} (a layer name or a position)" + suggestion(key, names)
    else:
        what = f"{here} is a single value, with nothing under it"
    if override.path[0] == "params" and depth <= 1:
        name = override.path[1]
        what = (
            f"no parameter '{name}' in the spec's `params`" + suggestion(name, list(container))
            if depth == 1 and isinstance(container, dict)
            else f"the spec declares no top-level `params`, so there is no parameter '{name}'"
        )
    out.error(where, "KS016", f"--set {path}: {what}")
