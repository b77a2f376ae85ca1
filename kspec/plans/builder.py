"""Making a plan: every save/load path for a spec and a style, from measured Keras 3 facts."""

from __future__ import annotations

from ..catalog import catalog
from ..compiler import check_style
from . import facts
from ..environment import installed_version, keras_backend
from .known import facts_for
from .types import Plan


def plan(spec, style: str, transfer_from=None, module: str | None = None, backend: str | None = None) -> Plan:
    """The plan for a spec compiled to a style (and, with `transfer_from`, a transfer-learning
    path), on the installed Keras and a backend (the one Keras would use, by default)."""
    check_style(spec, style)
    module = module or f"{spec.name}_{style}"
    keras_version = installed_version("keras") or catalog().keras_version
    backend = backend or keras_backend()
    context = facts.Context(spec, style, module, keras_version, backend)
    paths = [builder(context) for builder in facts.PATHS]
    if transfer_from is not None:
        paths.append(facts.transfer(context, transfer_from))
    measured_on = facts_for(keras_version, backend)[1]
    return Plan(spec.name, style, module, keras_version, paths, backend, measured_on)
