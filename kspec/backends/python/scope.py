"""Emit the statements of one lowered scope (the model, or a block) in build order.

Functional and subclass modules differ only in what they call for a layer
(`layers.Dense(...)` inline, or `self.dense`) and in how names are written;
the walk over the lowered calls (`flatten.Group`), the variables and the
references are shared here. A block call can be written inline: its calls
become the scope's own, named `<call>_<layer>`, reading the block's inputs
from the call's.
"""

from __future__ import annotations

from ...flatten import FlatGraph, Group, Instance, Step, in_shared_model, substitute
from ...ir import Outputs, Ref, keras_name, output_index, output_names
from .expr import Atom, Call, Dict, Expr, Seq, constant
from .layout import INDENT, statement
from .values import identifier_arg


def relative_name(frames: tuple, local: str, outer: str) -> str:
    """The Keras name of a call in a scope written inline `frames` deep, with `outer` for the
    name of the scope's own block call ('' in the model, `{}` in a block's function or class)."""
    for frame in frames:
        outer = keras_name(outer, frame.local)
    return keras_name(outer, local)


def formatted_name(relative: str, variable: str) -> Expr:
    """A name with `{}` as an f-string that puts the variable there: `f"{name}_conv"`."""
    return Atom('f"' + relative.replace("{}", "{" + variable + "}") + '"')


class Tensor:
    """The Python variable that holds a call's output, and how to index it."""

    def __init__(self, var: str, keys: list | None = None):
        self.var = var
        self.keys = keys  # for a block with several outputs: dict keys, in output order

    def select(self, output) -> Expr:
        if output is None:
            return Atom(self.var)
        if isinstance(self.keys, Positional):  # a nested model's outputs: a list
            index = output if isinstance(output, int) else self.keys.index(output)
            return Atom(f"{self.var}[{index}]")
        if self.keys is None:
            return Atom(f"{self.var}[{int(output)}]")
        key = self.keys[output] if isinstance(output, int) else output
        return Atom(f"{self.var}[{constant(key).flat()}]")


class Positional(list):
    """Output names of a call whose outputs come as a list (a nested model's), by position."""


class Bound:
    """A block input written inline: the expression the call passed for it."""

    def __init__(self, expr: Expr):
        self.expr = expr

    def select(self, output) -> Expr:
        return self.expr


class Inlined:
    """The outputs of a block call written inline, read from the block's own variables."""

    def __init__(self, emitter: ScopeEmitter, outputs: Outputs, prefix: str):
        self.emitter = emitter
        self.outputs = outputs
        self.prefix = prefix

    def select(self, output) -> Expr:
        ref = self.outputs.refs[output_index(self.outputs, output)]
        return self.emitter.reference(ref, self.prefix)


def shared_across(graph: FlatGraph) -> set[str]:
    """Names of the block call instances that a shared layer crosses the edge of. They are
    written inline: a layer object cannot pass in or out of a block's function or class."""
    crossed: set[str] = set()
    for node in graph.nodes:
        if node.share and not in_shared_model(node):  # a shared model is called again, not crossed
            target = graph.node(node.share)
            crossed |= {f.name for f in node.scope} ^ {f.name for f in target.scope}
    return crossed


def renamed_within(graph: FlatGraph) -> set[str]:
    """Names of the block call instances around a layer named by a name map (`keras_names`).
    They are written inline, so that the layer's whole Keras name is a constant in the model."""
    return {frame.name for node in graph.nodes if node.mapped for frame in node.scope}


def layer_name(node, name_of, frames: tuple, local: str) -> Expr:
    """The `name=` of a layer: its whole Keras name where a name map gives it (written inline
    in the model, see renamed_within), else `name_of` the call in its scope."""
    return constant(node.name) if node is not None and node.mapped else name_of(frames, local)


def written_args(spec, args: dict, frames: tuple) -> dict:
    """A call's arguments as the scope that writes it inline sees them: the parameters of
    the blocks written inline around it replaced by what their calls pass."""
    for frame in reversed(frames):
        block = spec.blocks[frame.block]
        args = substitute(args, {**block.params, **frame.call.args})
    return args


def block_output_keys(block) -> list[str] | None:
    """Dict keys of a block's outputs when it has several, else None."""
    names = output_names(block.scope.outputs)
    if len(names) < 2:
        return None
    return [name or f"output_{i}" for i, name in enumerate(names)]


class ScopeEmitter:
    """Writes `var = ...(inputs)` statements for the lowered calls of a scope; `values` writes
    constant arguments (the writer's, unless a style gives one with block parameters resolved)."""

    def __init__(self, writer, group: Group, outputs: Outputs, namer, indent: str):
        self.writer = writer
        self.spec = writer.spec
        self.group = group
        self.outputs = outputs
        self.namer = namer
        self.indent = indent
        self.env: dict = {}  # name in the scope (`<call>_` before it when inline) -> Tensor, Bound, Inlined
        self.lines: list[str] = []
        self.values = writer.values  # how spec values are written (block parameters resolved)
        self.frames: tuple = ()  # the block calls being written inline, outermost first
        self.loops: dict = {}  # in the model's own scope: the calls written as loops (parameters.loops)
        self.loop_var: str | None = None  # the variable of every loop, named at the first

    def bind_inputs(self, names: dict) -> None:
        """Scope input name -> Python variable already holding it."""
        for spec_name, var in names.items():
            self.env[spec_name] = Tensor(var)

    def emit(self) -> None:
        self.emit_group(self.group, prefix="")

    def emit_group(self, group: Group, prefix: str) -> None:
        for step in group.steps:
            self.emit_step(step, prefix)

    def emit_step(self, step: Step, prefix: str) -> None:
        call = step.call
        if call.op is not None:
            self.emit_op(step, prefix)
            return
        inputs = self.inputs(call.inputs, prefix)
        if not prefix and call.name in self.loops:
            self.emit_loop(step, inputs)
            return
        inline = self.inline(step)
        for instance in step.instances:
            if inline:
                inputs = self.emit_inline(step, instance, inputs, prefix)
                continue
            var = self.namer(prefix + instance.local)
            callee, keys = self.callee(call, instance, prefix + instance.local)
            extra = [
                (identifier_arg(k), self.call_argument(k, v))
                for k, v in written_args(self.spec, call.call_args, self.frames).items()
            ]
            self.lines += statement(f"{var} = ", self.invoke(callee, inputs, extra), self.indent)
            self.env[prefix + call.name] = Tensor(var, keys)
            inputs = Atom(var)

    def emit_loop(self, step: Step, inputs: Expr) -> None:
        """A call whose repeat count a parameter sets, as a loop: `fc = x`, then each pass
        `fc = <repetition>(fc)`, as repetitions chain."""
        call = step.call
        var = self.namer(call.name)
        self.lines += statement(f"{var} = ", inputs, self.indent)
        header, callee, keys = self.loop(call, step.instances[0], self.values.value(self.loops[call.name]))
        self.lines.append(f"{self.indent}{header}")
        extra = [(identifier_arg(k), self.call_argument(k, v)) for k, v in call.call_args.items()]
        self.lines += statement(f"{var} = ", self.invoke(callee, Atom(var), extra), self.indent + INDENT)
        self.env[call.name] = Tensor(var, keys)

    def loop(self, call, first: Instance, count: Expr) -> tuple:
        """A loop's `for` line, what each pass calls and the call's output keys (per style)."""
        raise NotImplementedError

    def emit_op(self, step: Step, prefix: str) -> None:
        """`var = keras.ops.<op>(tensors, constants)`: the same in every style."""
        from ...catalog import catalog

        call = step.call
        bound, _ = catalog().op(call.op).bind(call.inputs)
        tensors = {name: self.inputs(value, prefix) for name, value in bound.items()}
        instance = step.instances[0]
        if any(frame.call.share for frame in self.frames):  # a shared block call: the target's
            args = instance.node.args
        else:
            args = written_args(self.spec, call.args, self.frames)
        var = self.namer(prefix + instance.local)
        self.lines += statement(f"{var} = ", self.values.op(call.op, tensors, args), self.indent)
        self.env[prefix + call.name] = Tensor(var)

    def inline(self, step: Step) -> bool:
        """Whether a block call's instances are written as the scope's own calls."""
        return self.writer.inline(step)

    def emit_inline(self, step: Step, instance: Instance, inputs, prefix: str) -> Expr:
        """Write a block call's layers in place; the value its next repetition takes."""
        inner = prefix + instance.local + "_"
        block = self.spec.blocks[instance.group.frame.block]
        given = inputs.items if isinstance(inputs, Seq) else [inputs]
        for name, expr in zip(block.scope.inputs, given):
            self.env[inner + name] = Bound(expr)
        self.frames += (instance.group.frame,)
        self.emit_group(instance.group, inner)
        self.frames = self.frames[:-1]
        value = self.env[prefix + step.call.name] = Inlined(self, block.scope.outputs, inner)
        return value.select(None)

    def reference(self, ref: Ref, prefix: str) -> Expr:
        return self.env[prefix + ref.name].select(ref.output)

    def inputs(self, inputs, prefix: str) -> object:
        if isinstance(inputs, Ref):
            return self.reference(inputs, prefix)
        if isinstance(inputs, list):
            return Seq([self.inputs(item, prefix) for item in inputs])
        return {key: self.inputs(item, prefix) for key, item in inputs.items()}

    @staticmethod
    def invoke(callee: Expr, inputs, extra=()) -> Expr:
        """`callee(inputs)`, with keyword inputs as keyword arguments, then `extra` (the
        constant call arguments)."""
        call_args = (
            [(key, value) for key, value in inputs.items()] if isinstance(inputs, dict) else [(None, inputs)]
        ) + list(extra)
        if isinstance(callee, Call) and callee.call_args is None:
            return Call(callee.func, callee.args, call_args)
        return Call(callee.flat(), call_args)

    def call_argument(self, key: str, value) -> Expr:
        """The expression of one constant call argument."""
        return self.values.value(value)

    def callee(self, call, instance: Instance, name: str):
        """What to call for one instance (repetition) of a call, named `name` in the scope,
        and its output keys."""
        raise NotImplementedError

    def outputs_expr(self, keys: list | None = None) -> Expr:
        """The scope's result: one tensor, a list, or a dict (by output name, or by `keys`)."""
        outputs = self.outputs
        exprs = [self.reference(ref, "") for ref in outputs.refs]
        if keys is not None:
            return Dict(list(zip(keys, exprs)))
        if outputs.kind == "named":
            return Dict([(name, e) for (name, _), e in zip(outputs.items, exprs)])
        if outputs.kind == "list" and len(exprs) > 1:
            return Seq(exprs)
        return exprs[0]
