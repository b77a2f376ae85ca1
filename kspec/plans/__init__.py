"""Save/load plans: for a spec and a Keras style, every way Keras 3 can save and load the
model, what each keeps, the code, and the traps; `verify` proves them by running them."""

from .builder import plan
from .types import PathPlan, Plan

__all__ = ["PathPlan", "Plan", "plan"]
