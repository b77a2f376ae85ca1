"""The plan as data: one PathPlan per save/load path, decided from measured Keras 3 facts."""

from __future__ import annotations

from typing import NamedTuple

from ..catalog import catalog
from . import facts


class PathPlan(NamedTuple):
    id: str
    title: str
    allowed: bool
    reason: str | None
    keeps: dict  # architecture, weights, compile, optimizer_state -> bool
    needs_class: bool
    save: str
    load: str
    caveats: list

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "allowed": self.allowed,
            "reason": self.reason,
            "keeps": dict(self.keeps),
            "needs_class": self.needs_class,
            "save": self.save,
            "load": self.load,
            "caveats": list(self.caveats),
        }


class Plan(NamedTuple):
    spec: str
    style: str
    module: str  # the generated module the code imports
    keras_version: str
    paths: list

    def as_dict(self) -> dict:
        return {
            "spec": self.spec,
            "style": self.style,
            "module": self.module,
            "keras_version": self.keras_version,
            "paths": [p.as_dict() for p in self.paths],
        }

    def path(self, path_id: str) -> PathPlan:
        return next(p for p in self.paths if p.id == path_id)


def plan(spec, style: str, transfer_from=None, module: str | None = None) -> Plan:
    """The plan for a spec compiled to a style (and, with `transfer_from`, a transfer-learning path)."""
    from ..compiler import check_style

    check_style(spec, style)
    module = module or f"{spec.name}_{style}"
    context = facts.Context(spec, style, module)
    paths = [builder(context) for builder in facts.PATHS]
    if transfer_from is not None:
        paths.append(facts.transfer(context, transfer_from))
    return Plan(spec.name, style, module, catalog().keras_version, paths)
