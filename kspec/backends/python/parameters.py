"""A spec's top-level parameters in a generated module: keyword arguments with their
defaults, a KerasTuner hypermodel's draws, and a guard for a parameter that a repeat
count was written with (the writers fix a module's structure)."""

from __future__ import annotations

from ...diagnostics import SpecError
from ...params import names_in
from .expr import Atom, Call, constant
from .layout import INDENT, statement


class ModuleParameters:
    """The parameters of one module; `namer` gives Python names clear of the module's own."""

    def __init__(self, spec, namer):
        self.spec = spec
        self.params = spec.params  # name -> kspec.params.Parameter
        self.vars = {p: namer("param" + p if p.startswith("_") else p) for p in spec.params}

    def signature(self, function: str, leading: list, returns: str, params=None) -> str:
        """`def function(leading..., *, width=64, ...) -> returns:`, laid out as black does;
        `leading` holds (text, default Expr or None); `params` the parameter names (all)."""
        args = [
            (None, Atom(text if default is None else f"{text}={default.flat()}")) for text, default in leading
        ]
        params = list(self.params) if params is None else params
        if params:
            args.append((None, Atom("*")))
            args += [(self.vars[n], constant(self.params[n].default)) for n in params]
        return "\n".join(statement("def ", Call(function, args), "", suffix=f" -> {returns}:"))

    def build_signature(self, returns: str) -> str:
        """build_model's: `hp` first where some parameter has a search space."""
        return self.signature("build_model", [("hp", constant(None))] if self.searched() else [], returns)

    def compiled_note(self) -> str:
        if not self.searched():
            return "not compiled"
        return "not compiled; given `hp`, compiled" if self.spec.compile else "not compiled"

    def searched(self) -> list:
        return [p for p in self.params.values() if p.kind is not None]

    def keywords(self, names=None) -> list:
        """`width=width, ...`: the parameters passed on (all, or `names`)."""
        return [(self.vars[n], Atom(self.vars[n])) for n in (self.params if names is None else names)]

    def compile_params(self) -> list:
        """The parameters that the compile section uses, which compile_model takes."""
        used = {
            n
            for where, text in self.spec.param_sources.items()
            if where[0] == "compile"
            for n in names_in(text)
        }
        return [n for n in self.params if n in used]

    def prologue(self) -> list[str]:
        """The first statements of build_model: a KerasTuner hypermodel's draws, and a guard
        for each parameter that a repeat count was generated with (structure is fixed)."""
        lines = []
        searched = self.searched()
        structural = self._structural()
        for param in searched:
            if param.name in structural:
                raise SpecError(
                    [
                        self.spec.document.diagnostic(
                            structural[param.name],
                            "KS019",
                            f"parameter '{param.name}' sets a repeat count, which a generated module "
                            "cannot vary: it has a search space",
                            hint="search it by compiling one module per value (kspec compile --set "
                            f"{param.name}=...), or drop its search space",
                        )
                    ]
                )
        if searched:
            steps = "draw, build, compile" if self.spec.compile else "draw, build"
            lines.append(f"{INDENT}if hp is not None:  # a KerasTuner hypermodel: {steps}")
            for param in searched:
                lines += statement(f"{self.vars[param.name]} = ", self.draw(param), INDENT * 2)
            model = Call("build_model", self.keywords())
            if self.spec.compile:
                model = Call("compile_model", [(None, model), *self.keywords(self.compile_params())])
            lines += statement("return ", model, INDENT * 2)
        for name in structural:
            var, default = self.vars[name], self.params[name].default
            lines.append(f"{INDENT}if {var} != {constant(default).flat()}:")
            message = (
                f"parameter {name!r} sets a repeat count: this module was generated with "
                f"{name}={default!r}; run kspec compile --set {name}=... for another"
            )
            lines.append(f"{INDENT * 2}raise ValueError({constant(message).flat()})")
        return lines

    def draw(self, param) -> Call:
        """hp.Int/Float/Choice/Boolean for a parameter's search space, under its name."""
        space, name = param.space, [(None, constant(param.name))]
        if param.kind == "choice":
            return Call(
                "hp.Choice",
                [*name, ("values", constant(space["values"])), ("default", constant(param.default))],
            )
        if param.kind == "boolean":
            return Call("hp.Boolean", [*name, ("default", constant(param.default))])
        args = [*name, ("min_value", constant(space["min"])), ("max_value", constant(space["max"]))]
        if space.get("step") is not None:
            args.append(("step", constant(space["step"])))
        if space.get("sampling", "linear") != "linear":
            args.append(("sampling", constant(space["sampling"])))
        args.append(("default", constant(param.default)))
        return Call("hp.Int" if param.kind == "int" else "hp.Float", args)

    def _structural(self) -> dict:
        """Parameter name -> where a repeat count uses it, from the values parameters gave."""
        found = {}
        for where, text in self.spec.param_sources.items():
            if len(where) == 3 and where[0] == "layers" and where[2] == "repeat":
                for name in names_in(text):
                    found.setdefault(name, where)
        return found
