"""`kspec summary --sweep`: the parameter count over a spec's search space, at its corners.

A corner sets every searched parameter to one end of its space (an int or float to its
smallest or largest value, a choice to each value, a boolean to false and true); plain
parameters, and those given with --set, keep their values. Each corner is the spec validated with those values, so
its count comes from the same static shapes as `kspec summary`: no Keras is imported.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from .diagnostics import SpecError
from .overrides import Override
from .params import names_in

MAX_CORNERS = 256


class Corner(NamedTuple):
    setting: dict  # searched parameter -> its value at this corner
    total: int | None  # trainable and non-trainable parameters; None where the corner is invalid
    error: str | None  # the first error of an invalid corner, located


class Sweep(NamedTuple):
    corners: list

    @property
    def valid(self) -> list:
        return [c for c in self.corners if c.total is not None]

    def smallest(self) -> Corner | None:
        return min(self.valid, key=lambda c: c.total, default=None)

    def largest(self) -> Corner | None:
        return max(self.valid, key=lambda c: c.total, default=None)


def extremes(param) -> list:
    """The values at the ends of a parameter's space, as KerasTuner can draw them."""
    space = param.space
    if param.kind == "choice":
        return list(space["values"])
    if param.kind == "boolean":
        return [False, True]
    low, high, step = space["min"], space["max"], space.get("step")
    if step is not None and space.get("sampling", "linear") == "linear":
        high = low + step * math.floor((high - low) / step + 1e-9)  # the last value on the grid
    elif step is not None:
        high = low * step ** math.floor(math.log(high / low, step) + 1e-9)
    high = round(high, 12) if isinstance(high, float) else high
    return [low] if high == low else [low, high]


def sweep(result, validate) -> Sweep:
    """The corners of a valid spec's search space (`result`, a validation Result), each
    validated by `validate(overrides)`; SpecError KS021 past MAX_CORNERS corners. A
    parameter given with --set keeps that value; one that only compile uses is not swept."""
    spec = result.spec
    fixed = getattr(spec.document, "overridden", {})
    counted = {
        n for where, text in spec.param_sources.items() if where[0] != "compile" for n in names_in(text)
    }
    searched = [
        p
        for p in spec.params.values()
        if p.kind is not None and p.where + ("default",) not in fixed and p.name in counted
    ]
    count = math.prod(len(extremes(p)) for p in searched)
    if count > MAX_CORNERS:
        sizes = " x ".join(f"{p.name} {len(extremes(p))}" for p in searched)
        raise SpecError(
            [
                spec.document.diagnostic(
                    ("params",),
                    "KS021",
                    f"the search space has {count:,} corners ({sizes}), more than {MAX_CORNERS}",
                    hint="fix some parameters with --set NAME=VALUE, or give a choice fewer values",
                    key=True,
                )
            ]
        )
    corners = []
    for values in itertools.product(*(extremes(p) for p in searched)):
        setting = {p.name: v for p, v in zip(searched, values)}
        overrides = [Override(("params", n, "default"), repr(v), v) for n, v in setting.items()]
        checked = validate(overrides)
        errors = checked.errors
        if errors:
            first = errors[0]
            corners.append(
                Corner(
                    setting, None, f"{first.path}:{first.line}:{first.column}: {first.code} {first.message}"
                )
            )
        else:
            corners.append(Corner(setting, checked.shapes.total_params, None))
    return Sweep(corners)


def as_json(found: Sweep, spec) -> dict:
    def corner(c: Corner | None):
        return None if c is None else {"setting": c.setting, "total_params": c.total}

    return {
        "name": spec.name,
        "min": corner(found.smallest()),
        "max": corner(found.largest()),
        "corners": [{"setting": c.setting, "total_params": c.total, "error": c.error} for c in found.corners],
    }


def text(found: Sweep, spec) -> str:
    count = len(found.corners)
    lines = [f'Model: "{spec.name}": {count} corner{"s" if count != 1 else ""} of the search space']
    for label, c in (("min", found.smallest()), ("max", found.largest())):
        if c is not None:
            lines.append(f"{label} params: {c.total:,} at {_setting(c.setting)}")
    for c in found.corners:
        if c.error is not None:
            lines.append(f"invalid at {_setting(c.setting)}: {c.error}")
    return "\n".join(lines)


def _setting(setting: dict) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in setting.items()) or "(no searched parameter)"
