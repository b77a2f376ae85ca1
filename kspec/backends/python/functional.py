"""The Functional style: `build_model()` wires layers on `keras.Input`s; a function per block."""

from __future__ import annotations

from ...flatten import Group, flatten, in_shared_model
from .expr import Atom, Call, Seq, constant, snake_name
from .layout import INDENT, statement
from .module import ModuleWriter, Namer, call_arguments, naming, parameter_names
from .parameters import looped_name
from .scope import (
    Positional,
    ScopeEmitter,
    block_output_keys,
    formatted_name,
    layer_name,
    relative_name,
    renamed_within,
    shared_across,
    written_args,
)


class FunctionalWriter(ModuleWriter):
    style = "functional"

    def definitions(self) -> list[str]:
        self.prepare()
        return [*(self.block_function(name) for name in self.templates), self.build_function()]

    def prepare(self) -> None:
        """The function name of every block, the block calls written inline, the layers shared,
        and the lowered instance each block's function is written from."""
        self.block_functions = {name: snake_name(name) for name in self.spec.blocks}
        graph = flatten(self.spec)
        self.crossed = shared_across(graph) | renamed_within(graph)
        self.share_targets = {node.share for node in graph.nodes if node.share and not in_shared_model(node)}
        self.templates = first_instances(graph.root, self.inline)

    def is_model(self, block_name: str | None) -> bool:
        return block_name in self.spec.blocks and self.spec.blocks[block_name].model is not None

    def build_function(self) -> str:
        spec = self.spec
        taken = {"keras", "layers", *self.block_functions.values(), "build_model", "compile_model"}
        namer = Namer(taken | {"hp", *self.parameters.vars.values()})
        lines, body = self.build_opening(
            self.parameters.build_signature("keras.Model"),
            f"Build the {spec.name} model with the Functional API ({self.parameters.compiled_note()}).",
            prologue=True,
        )
        inputs = {}
        for spec_input in spec.inputs.values():
            var = namer(spec_input.name)
            inputs[spec_input.name] = var
            lines += statement(f"{var} = ", self.input_expr(spec_input), body)
        emitter = FunctionalScope(
            self,
            flatten(spec).root,
            spec.scope.outputs,
            namer,
            body,
            name_of=lambda frames, local: constant(relative_name(frames, local, "")),
            values=self.values,
        )
        emitter.bind_inputs(inputs)
        emitter.loops = self.parameters.loops
        emitter.emit()
        lines += emitter.lines
        model_inputs = [Atom(v) for v in inputs.values()]
        model = Call(
            "keras.Model",
            [
                ("inputs", model_inputs[0] if len(model_inputs) == 1 else Seq(model_inputs)),
                ("outputs", emitter.outputs_expr()),
                ("name", constant(spec.name)),
            ],
        )
        lines += statement("return ", model, body)
        return "\n".join(lines)

    def block_function(self, block_name: str) -> str:
        if self.is_model(block_name):
            return self.model_function(block_name)
        block = self.spec.blocks[block_name]
        function = self.block_functions[block_name]
        params, namer, name_var, inputs, signature = self.block_signature(block)
        lines = [f"def {function}({', '.join(signature)}):"]
        lines.append(f'{INDENT}"""The {block_name} block; {naming(block, "{" + name_var + "}")}."""')
        values = self.values.with_params({n: Atom(p) for n, p in params.items()})
        emitter = FunctionalScope(
            self,
            self.templates[block_name],
            block.scope.outputs,
            namer,
            INDENT,
            values=values,
            name_of=lambda frames, local: formatted_name(relative_name(frames, local, "{}"), name_var),
        )
        emitter.bind_inputs(inputs)
        emitter.emit()
        lines += emitter.lines
        lines += statement("return ", emitter.outputs_expr(block_output_keys(block)), INDENT)
        return "\n".join(lines)

    def block_signature(self, block) -> tuple:
        """A block function's parameter names, its namer, its `name` and input variables, and its
        signature: the inputs, then keyword-only the required parameters, `name` and the rest."""
        params = parameter_names(block)
        namer = Namer({"keras", "layers", *self.block_functions.values(), *params.values()})
        name_var = namer("name")
        inputs = {name: namer(name) for name in block.scope.inputs}
        signature = [
            *inputs.values(),
            "*",
            *(p for n, p in params.items() if block.params[n] is None),
            name_var,
            *(
                f"{p}={constant(block.params[n]).flat()}"
                for n, p in params.items()
                if block.params[n] is not None
            ),
        ]
        return params, namer, name_var, inputs, signature

    def model_function(self, block_name: str) -> str:
        """A model block's function: it takes the tensors of the first call (for their shapes),
        the parameters and a name, and returns the nested keras.Model or keras.Sequential, its
        layers named as the block names them."""
        block = self.spec.blocks[block_name]
        params, namer, name_var, inputs, signature = self.block_signature(block)
        kind = "keras.Sequential" if block.model == "sequential" else "keras.Model"
        lines = [f"def {self.block_functions[block_name]}({', '.join(signature)}):"]
        lines.append(
            f'{INDENT}"""The {block_name} block as a nested {kind} named `{{{name_var}}}`, with inputs shaped '
            'as the given tensors."""'
        )
        values = self.values.with_params({n: Atom(p) for n, p in params.items()})
        entries = {
            name: Call(
                "keras.Input",
                [
                    ("shape", Atom(f"{var}.shape[1:]")),
                    ("dtype", Atom(f"{var}.dtype")),
                    ("name", constant(name)),
                ],
            )
            for name, var in inputs.items()
        }
        group = self.templates[block_name]
        if block.model == "sequential":
            items = [*entries.values()]
            [var] = inputs.values()
            for step in group.steps:
                for instance in step.instances:
                    frame = instance.group.frame if instance.group is not None else None
                    if frame is None:
                        items.append(values.layer(step.call.type, step.call.args, constant(instance.local)))
                        continue
                    function = self.block_functions[frame.block]
                    dtype = Atom(f"{var}.dtype")
                    made = new_model(
                        self.spec,
                        frame,
                        function,
                        step.call.args,
                        values,
                        constant(instance.local),
                        lambda port: dtype,
                    )
                    items.append(made)
            model = Call("keras.Sequential", [(None, Seq(items)), ("name", Atom(name_var))])
            lines += statement("return ", model, INDENT)
            return "\n".join(lines)
        for name, var in inputs.items():
            lines += statement(f"{var} = ", entries[name], INDENT)
        emitter = FunctionalScope(
            self,
            group,
            block.scope.outputs,
            namer,
            INDENT,
            values=values,
            name_of=lambda frames, local: constant(relative_name(frames, local, "")),
        )
        emitter.bind_inputs(inputs)
        emitter.emit()
        lines += emitter.lines
        model_inputs = [Atom(v) for v in inputs.values()]
        outputs = [emitter.reference(ref, "") for ref in block.scope.outputs.refs]
        model = Call(
            "keras.Model",
            [
                ("inputs", model_inputs[0] if len(model_inputs) == 1 else Seq(model_inputs)),
                ("outputs", Seq(outputs) if len(outputs) > 1 else outputs[0]),
                ("name", Atom(name_var)),
            ],
        )
        lines += statement("return ", model, INDENT)
        return "\n".join(lines)

    def inline(self, step) -> bool:
        """Whether a block call is written in its caller: where a layer is shared across the
        edge of the block call, as a block function makes its layers anew at each call."""
        first = step.instances[0]
        return first.group is not None and any(i.group.frame.name in self.crossed for i in step.instances)


class FunctionalScope(ScopeEmitter):
    def __init__(self, writer, group, outputs, namer, indent, name_of, values):
        super().__init__(writer, group, outputs, namer, indent)
        self.name_of = name_of
        self.values = values
        self.shared_layers: dict[str, str] = {}  # full node name -> the variable holding its layer
        self.models: dict[str, list] = {}  # model block call (prefixed) -> the variables of its models

    def callee(self, call, instance, name: str):
        spec = self.spec
        node = instance.node
        if node is not None and node.share:
            return Atom(self.shared_layers[node.share]), None
        frame = instance.group.frame if instance.group is not None else None
        if frame is not None and frame.model is not None:
            return self.model_callee(call, frame, name), Positional(
                block_output_keys(spec.blocks[frame.block]) or []
            )
        args = written_args(spec, call.args, self.frames)
        if call.type in spec.blocks:
            arguments = call_arguments(spec.blocks[call.type], args, self.values)
            arguments.append(("name", self.name_of(self.frames, instance.local)))
            return Call(self.writer.block_functions[call.type], arguments), block_output_keys(
                spec.blocks[call.type]
            )
        layer = self.values.layer(
            call.type, args, layer_name(node, self.name_of, self.frames, instance.local)
        )
        if node.name in self.writer.share_targets:
            var = self.namer(name + "_layer")
            self.lines += statement(f"{var} = ", layer, self.indent)
            self.shared_layers[node.name] = var
            return Atom(var), None
        return layer, None

    def loop(self, call, first, count):
        """`for i in range(1, count + 1):`, each pass making repetition `i`, named as Keras
        names it (`f"fc_{i}"`)."""
        index = self.loop_var = self.loop_var or self.namer("i")
        written, self.name_of = self.name_of, lambda frames, local: looped_name(call, index)
        callee, keys = self.callee(call, first, call.name)
        self.name_of = written
        return f"for {index} in range(1, {count.flat()} + 1):", callee, keys

    def model_callee(self, call, frame, name: str):
        """A model block call: a Call of its function (made into the nested model where it is
        invoked), or for a share, the variable of the shared call's model."""
        prefix = name[: len(name) - len(frame.local)]
        models = self.models.setdefault(prefix + call.name, [])
        if call.share is not None:  # the shared call's model for this repetition, called again
            models.append(None)
            return Atom(self.models[prefix + call.share][len(models) - 1])
        args = written_args(self.spec, call.args, self.frames)
        arguments = call_arguments(self.spec.blocks[frame.block], args, self.values)
        arguments.append(("name", self.name_of(self.frames, frame.local)))
        return _NewModel(
            self.writer.block_functions[frame.block], arguments, self.namer(name + "_model"), models
        )

    def invoke(self, callee, inputs, extra=()):
        if isinstance(callee, _NewModel):
            positional = inputs.items if isinstance(inputs, Seq) else [inputs]
            made = Call(callee.func, [(None, item) for item in positional] + callee.args)
            self.lines += statement(f"{callee.var} = ", made, self.indent)
            callee.models.append(callee.var)
            return super().invoke(Atom(callee.var), inputs, extra)
        if isinstance(callee, Call) and callee.func in self.writer.block_functions.values():
            positional = inputs.items if isinstance(inputs, Seq) else [inputs]
            return Call(callee.func, [(None, item) for item in positional] + callee.args)
        return super().invoke(callee, inputs, extra)


class _NewModel(Call):
    """The call of a model block's function, and the variable that will hold the model."""

    def __init__(self, func, args, var: str, models: list):
        super().__init__(func, args)
        self.var = var
        self.models = models


def first_instances(root: Group, inline) -> dict:
    """Block name -> the lowered instance its function is written from (its first call not
    written inline), each block after the blocks it uses itself."""
    found: dict = {}

    def visit(group: Group) -> None:
        for step in group.steps:
            first = step.instances[0]
            if first.group is None or step.call.share is not None:
                continue
            if inline(step):
                for instance in step.instances:
                    visit(instance.group)
            elif step.call.type not in found:
                visit(first.group)
                found[step.call.type] = first.group

    visit(root)
    return found


def model_functions(writer) -> tuple[list[str], dict]:
    """For the sequential and subclass styles: the functions that build the spec's model blocks
    (and of the blocks those use), as the Functional style writes them, and each block's
    function name."""
    functional = FunctionalWriter(writer.spec, writer.source_path, writer.source_text)
    functional.values = writer.values
    functional.prepare()
    needed: set = set()

    def visit(group: Group) -> None:
        for step in group.steps:
            for instance in step.instances:
                if instance.group is not None and step.call.share is None:
                    needed.add(instance.group.frame.block)
                    visit(instance.group)

    for name, group in functional.templates.items():
        if functional.is_model(name):
            needed.add(name)
            visit(group)
    parts = [functional.block_function(name) for name in functional.templates if name in needed]
    return parts, {name: functional.block_functions[name] for name in needed}


def new_model(spec, frame, function: str, args: dict, values, name, dtype_of) -> Call:
    """`tower(keras.KerasTensor((None, 8), dtype="float32"), units=4, name="tower")`: a model
    block's nested model, made where no tensors are at hand (sequential and subclass styles), on
    symbolic tensors of the shapes static inference gives its inputs; `dtype_of(port)` writes the
    dtype of one."""
    from ...shapes import infer

    report = infer(spec)
    outputs = {layer.node.name: layer.output for layer in report.layers}
    tensors = []
    for port in frame.ports:
        shape = report.input_shapes.get(port.node) or outputs.get(port.node)
        shape = shape[port.index] if port.index is not None else shape
        tensors.append(
            (None, Call("keras.KerasTensor", [(None, constant(tuple(shape))), ("dtype", dtype_of(port))]))
        )
    arguments = call_arguments(spec.blocks[frame.block], args, values)
    return Call(function, tensors + arguments + [("name", name)])
