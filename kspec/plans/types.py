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
    keras_version: str  # the Keras the plan is for (the installed one)
    paths: list
    backend: str = "tensorflow"
    measured_on: tuple = ()  # (keras version, backend) of the facts used

    @property
    def measured_here(self) -> bool:
        """Whether the facts were measured on this Keras version and backend."""
        return tuple(self.measured_on) == (self.keras_version, self.backend)

    def provenance(self) -> str:
        """One sentence on where the facts come from."""
        here = f"keras {self.keras_version} on the {self.backend} backend"
        if self.measured_here:
            return f"Measured facts of {here}."
        version, backend = self.measured_on
        return (
            f"Facts measured on keras {version} with the {backend} backend, not on {here}: "
            "`kspec plan --verify` checks them here."
        )

    def as_dict(self) -> dict:
        return {
            "spec": self.spec,
            "style": self.style,
            "module": self.module,
            "keras_version": self.keras_version,
            "backend": self.backend,
            "facts_measured_on": {"keras_version": self.measured_on[0], "backend": self.measured_on[1]},
            "paths": [p.as_dict() for p in self.paths],
        }

    def path(self, path_id: str) -> PathPlan:
        return next(p for p in self.paths if p.id == path_id)
