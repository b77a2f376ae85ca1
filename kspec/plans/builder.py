"""Making a plan: every save/load path for a spec and a style, from measured Keras 3 facts."""

from __future__ import annotations

from ..catalog import catalog
from ..compiler import check_style
from . import facts
from .types import Plan


def plan(spec, style: str, transfer_from=None, module: str | None = None) -> Plan:
    """The plan for a spec compiled to a style (and, with `transfer_from`, a transfer-learning path)."""
    check_style(spec, style)
    module = module or f"{spec.name}_{style}"
    context = facts.Context(spec, style, module)
    paths = [builder(context) for builder in facts.PATHS]
    if transfer_from is not None:
        paths.append(facts.transfer(context, transfer_from))
    return Plan(spec.name, style, module, catalog().keras_version, paths)
