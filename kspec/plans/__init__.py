"""Save/load plans: for a spec and a Keras style, every way Keras 3 can save and load the
model, what each keeps, the code, and the traps (see shared/design/keras3-save-load.md)."""

from .model import PathPlan, Plan, plan

__all__ = ["PathPlan", "Plan", "plan"]
