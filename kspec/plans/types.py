"""A plan as data: a Plan holds one PathPlan per way to save and load the model."""

from __future__ import annotations

from typing import NamedTuple


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
