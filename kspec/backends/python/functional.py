"""The Functional style: `build_model()` wires layers on `keras.Input`s; a function per block."""

from __future__ import annotations

from ...flatten import topological
from .expr import Atom, Call, Dict, Seq, constant, snake_name
from .layout import INDENT, statement
from .module import ModuleWriter, Namer, call_arguments, parameter_names
from .scope import ScopeEmitter, block_output_keys, needed_calls


class FunctionalWriter(ModuleWriter):
    style = "functional"

    def definitions(self) -> list[str]:
        self.block_functions = {name: snake_name(name) for name in self.spec.blocks}
        return [*(self.block_function(name) for name in used_blocks(self.spec)), self.build_function()]

    def build_function(self) -> str:
        spec = self.spec
        namer = Namer({"keras", "layers", *self.block_functions.values(), "build_model", "compile_model"})
        lines = [
            "def build_model() -> keras.Model:",
            f'{INDENT}"""Build the {spec.name} model with the Functional API (not compiled)."""',
        ]
        inputs = {}
        for spec_input in spec.inputs.values():
            var = namer(spec_input.name)
            inputs[spec_input.name] = var
            lines += statement(f"{var} = ", self.input_expr(spec_input), INDENT)
        emitter = FunctionalScope(
            self, spec.scope, namer, INDENT, name_of=lambda local: constant(local), values=self.values
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
        lines += statement("return ", model, INDENT)
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
            block.scope,
            namer,
            INDENT,
            values=values,
            name_of=lambda local: Atom(f'f"{{{name_var}}}_{local}"'),
        )
        emitter.bind_inputs(inputs)
        emitter.emit()
        lines += emitter.lines
        keys = block_output_keys(block)
        result = emitter.outputs_expr()
        if keys is not None:
            exprs = [emitter.env[ref.name].select(ref.output) for ref in block.scope.outputs.refs]
            result = Dict(list(zip(keys, exprs)))
        lines += statement("return ", result, INDENT)
        return "\n".join(lines)


class FunctionalScope(ScopeEmitter):
    def __init__(self, writer, scope, namer, indent, name_of, values):
        super().__init__(writer, scope, namer, indent)
        self.name_of = name_of
        self.values = values
        self.shared_layers: dict[str, str] = {}
        self.share_targets = {c.share for c in scope.calls if c.share}

    def callee(self, call, instance: str):
        spec = self.spec
        if call.share:
            return Atom(self.shared_layers[call.share]), None
        if call.type in spec.blocks:
            args = call_arguments(spec.blocks[call.type], call.args, self.values)
            args.append(("name", self.name_of(instance)))
            return Call(self.writer.block_functions[call.type], args), block_output_keys(
                spec.blocks[call.type]
            )
        layer = self.values.layer(call.type, call.args, self.name_of(instance))
        if call.name in self.share_targets:
            var = self.namer(call.name + "_layer")
            self.lines += statement(f"{var} = ", layer, self.indent)
            self.shared_layers[call.name] = var
            return Atom(var), None
        return layer, None

    def invoke(self, callee, inputs, extra=()):
        if isinstance(callee, Call) and callee.func in self.writer.block_functions.values():
            positional = inputs.items if isinstance(inputs, Seq) else [inputs]
            return Call(callee.func, [(None, item) for item in positional] + callee.args)
        return super().invoke(callee, inputs, extra)


def used_blocks(spec) -> list[str]:
    """Blocks that the model uses, each after the blocks it uses itself."""
    order: list[str] = []

    def visit(scope):
        needed = needed_calls(scope)
        for call in topological(scope):
            if call.name in needed and call.type in spec.blocks and call.type not in order:
                visit(spec.blocks[call.type].scope)
                order.append(call.type)

    visit(spec.scope)
    return order
