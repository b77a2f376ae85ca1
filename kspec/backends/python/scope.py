"""Emit the statements of one graph scope (the model, or a block) in call order.

Functional and subclass modules differ only in what they call for a layer
(`layers.Dense(...)` inline, or `self.dense`) and in how names are written;
the walk over the graph, the variables and the references are shared here.
"""

from __future__ import annotations

from ...flatten import topological
from ...ir import Call as SpecCall, Ref, Scope, calls_reaching_outputs, instance_names, output_names
from .expr import Atom, Call, Dict, Expr, Seq, constant
from .layout import statement


class Tensor:
    """The Python variable that holds a call's output, and how to index it."""

    def __init__(self, var: str, keys: list | None = None):
        self.var = var
        self.keys = keys  # for a block with several outputs: dict keys, in output order

    def select(self, output) -> Expr:
        if output is None:
            return Atom(self.var)
        if self.keys is None:
            return Atom(f"{self.var}[{int(output)}]")
        key = self.keys[output] if isinstance(output, int) else output
        return Atom(f"{self.var}[{constant(key).flat()}]")


def needed_calls(scope: Scope) -> set[str]:
    """Names of the calls (not inputs) that some output of the scope depends on."""
    return calls_reaching_outputs(scope) - set(scope.inputs)


def block_output_keys(block) -> list[str] | None:
    """Dict keys of a block's outputs when it has several, else None."""
    names = output_names(block.scope.outputs)
    if len(names) < 2:
        return None
    return [name or f"output_{i}" for i, name in enumerate(names)]


class ScopeEmitter:
    """Writes `var = ...(inputs)` statements for the needed calls of a scope."""

    def __init__(self, writer, scope: Scope, namer, indent: str):
        self.writer = writer
        self.spec = writer.spec
        self.scope = scope
        self.namer = namer
        self.indent = indent
        self.env: dict[str, Tensor] = {}
        self.lines: list[str] = []
        self.values = writer.values  # how spec values are written (block parameters resolved)

    def bind_inputs(self, names: dict) -> None:
        """Scope input name -> Python variable already holding it."""
        for spec_name, var in names.items():
            self.env[spec_name] = Tensor(var)

    def emit(self) -> None:
        needed = needed_calls(self.scope)
        for call in topological(self.scope):
            if call.name in needed:
                self.emit_call(call)

    def emit_call(self, call: SpecCall) -> None:
        if call.op is not None:
            self.emit_op(call)
            return
        inputs = self.inputs(call.inputs)
        for instance in instance_names(call):
            var = self.namer(instance)
            callee, keys = self.callee(call, instance)
            self.lines += statement(f"{var} = ", self.invoke(callee, inputs), self.indent)
            self.env[call.name] = Tensor(var, keys)
            inputs = Atom(var)

    def emit_op(self, call: SpecCall) -> None:
        """`var = keras.ops.<op>(tensors, constants)`: the same in every style."""
        from ...catalog import catalog

        bound, _ = catalog().op(call.op).bind(call.inputs)
        tensors = {name: self.inputs(value) for name, value in bound.items()}
        var = self.namer(call.name)
        self.lines += statement(f"{var} = ", self.values.op(call.op, tensors, call.args), self.indent)
        self.env[call.name] = Tensor(var)

    def inputs(self, inputs) -> object:
        if isinstance(inputs, Ref):
            return self.env[inputs.name].select(inputs.output)
        if isinstance(inputs, list):
            return Seq([self.inputs(item) for item in inputs])
        return {key: self.inputs(item) for key, item in inputs.items()}

    @staticmethod
    def invoke(callee: Expr, inputs) -> Expr:
        """`callee(inputs)`, with keyword inputs as keyword arguments."""
        call_args = (
            [(key, value) for key, value in inputs.items()] if isinstance(inputs, dict) else [(None, inputs)]
        )
        if isinstance(callee, Call) and callee.call_args is None:
            return Call(callee.func, callee.args, call_args)
        return Call(callee.flat(), call_args)

    def callee(self, call: SpecCall, instance: str):
        """What to call for one instance (repetition) of a spec call, and its output keys."""
        raise NotImplementedError

    def outputs_expr(self) -> Expr:
        outputs = self.scope.outputs
        exprs = [self.env[ref.name].select(ref.output) for ref in outputs.refs]
        if outputs.kind == "named":
            return Dict([(name, e) for (name, _), e in zip(outputs.items, exprs)])
        if outputs.kind == "list" and len(exprs) > 1:
            return Seq(exprs)
        return exprs[0]


__all__ = ["ScopeEmitter", "Tensor", "block_output_keys", "needed_calls", "Dict"]
