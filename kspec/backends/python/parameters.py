"""A spec's top-level parameters in a generated module: keyword arguments with their
defaults, a KerasTuner hypermodel's draws, the calls whose repeat count a parameter sets
that the writers write as loops, and a guard for a parameter that sets a count the module
fixes (a call a loop cannot write)."""

from __future__ import annotations

from ...diagnostics import SpecError
from ...flatten import flatten
from ...ir import instance_name
from ...params import names_in
from .expr import Atom, Call, constant
from .layout import INDENT, statement


class ModuleParameters:
    """The parameters of one module; `namer` gives Python names clear of the module's own."""

    def __init__(self, spec, namer, style: str):
        self.spec = spec
        self.params = spec.params  # name -> kspec.params.Parameter
        self.vars = {p: namer("param" + p if p.startswith("_") else p) for p in spec.params}
        self.style = style
        self.loops = looped_calls(spec, style)  # call name -> its repeat count as written ($depth)

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
        for each parameter that sets a repeat count the module fixes (no loop writes it)."""
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
                            f"parameter '{param.name}' has a search space and sets the repeat count of "
                            f"a call that a {self.style} module cannot write as a loop (a block call "
                            "in the sequential style, a model block, a call a share reuses)",
                            hint="use another style, search it by compiling one module per value "
                            f"(kspec compile --set {param.name}=...), or drop its search space",
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
            lines += statement("raise ", Call("ValueError", [(None, constant(message))]), INDENT * 2)
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
        """Parameter name -> where a repeat count that the module fixes (no loop) uses it."""
        looped = {call.where for call in self.spec.scope.calls if call.name in self.loops}
        found = {}
        for where, text in repeat_counts(self.spec).items():
            if where not in looped:
                for name in names_in(text):
                    found.setdefault(name, where + ("repeat",))
        return found


def repeat_counts(spec) -> dict:
    """Where a model's own call is (`("layers", 3)`) -> the repeat count a parameter gave it,
    as written (`$depth`, `$depth * 2`)."""
    return {
        where[:2]: text
        for where, text in spec.param_sources.items()
        if len(where) == 3 and where[0] == "layers" and where[2] == "repeat"
    }


def looped_calls(spec, style: str) -> dict:
    """The model's own calls whose repeat count a parameter sets and that a module writes as a
    loop, name -> the count as written: layer calls, and block calls in the styles that make a
    block one function or class (not model blocks); none whose layers a `share` reuses."""
    counts = repeat_counts(spec)
    if not counts:
        return {}
    graph = flatten(spec)
    shared = {call.share_path[0] for call in spec.scope.calls if call.share is not None}
    for node in graph.nodes:
        if node.share is not None:
            target = graph.node(node.share)
            shared.add(target.scope[0].call.name if target.scope else target.origin.name)
    found = {}
    for call in spec.scope.calls:
        text = counts.get(call.where)
        block = spec.blocks.get(call.type) if call.type else None
        if text is None or call.op is not None or call.share is not None or call.name in shared:
            continue
        if block is not None and (block.model is not None or style == "sequential"):
            continue
        found[call.name] = text
    return found


def looped_name(call, index: str) -> Atom:
    """The Keras name of a loop's repetition `index` (a variable), as an f-string: `f"fc_{i}"`,
    or `f"conv{i}"` for `keras_name: "conv{}"`."""
    return Atom(f'f"{instance_name(call, "{" + index + "}")}"')
