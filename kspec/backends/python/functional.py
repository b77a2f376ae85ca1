"""The Functional style: `build_model()` wires layers on `keras.Input`s; a function per block."""

from __future__ import annotations

from ...flatten import Group, flatten
from .expr import Atom, Call, Seq, constant, snake_name
from .layout import INDENT, statement
from .module import ModuleWriter, Namer, call_arguments, parameter_names
from .scope import (
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
        self.block_functions = {name: snake_name(name) for name in self.spec.blocks}
        graph = flatten(self.spec)
        self.crossed = shared_across(graph) | renamed_within(graph)
        self.share_targets = {node.share for node in graph.nodes if node.share}
        self.templates = first_instances(graph.root, self.inline)
        return [*(self.block_function(name) for name in self.templates), self.build_function()]

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
        block = self.spec.blocks[block_name]
        function = self.block_functions[block_name]
        params = parameter_names(block)
        namer = Namer({"keras", "layers", *self.block_functions.values(), *params.values()})
        name_var = namer("name")
        inputs = {name: namer(name) for name in block.scope.inputs}
        signature = [
            *inputs.values(),
            "*",
            *(
                p if block.params[n] is None else f"{p}={constant(block.params[n]).flat()}"
                for n, p in params.items()
                if block.params[n] is None
            ),
            name_var,
            *(
                f"{p}={constant(block.params[n]).flat()}"
                for n, p in params.items()
                if block.params[n] is not None
            ),
        ]
        lines = [f"def {function}({', '.join(signature)}):"]
        lines.append(f'{INDENT}"""The {block_name} block; its layers are named `{{{name_var}}}_<layer>`."""')
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

    def callee(self, call, instance, name: str):
        spec = self.spec
        node = instance.node
        if node is not None and node.share:
            return Atom(self.shared_layers[node.share]), None
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

    def invoke(self, callee, inputs, extra=()):
        if isinstance(callee, Call) and callee.func in self.writer.block_functions.values():
            positional = inputs.items if isinstance(inputs, Seq) else [inputs]
            return Call(callee.func, [(None, item) for item in positional] + callee.args)
        return super().invoke(callee, inputs, extra)


def first_instances(root: Group, inline) -> dict:
    """Block name -> the lowered instance its function is written from (its first call not
    written inline), each block after the blocks it uses itself."""
    found: dict = {}

    def visit(group: Group) -> None:
        for step in group.steps:
            first = step.instances[0]
            if first.group is None:
                continue
            if inline(step):
                for instance in step.instances:
                    visit(instance.group)
            elif step.call.type not in found:
                visit(first.group)
                found[step.call.type] = first.group

    visit(root)
    return found
