"""The Sequential style: `build_model()` returns `keras.Sequential([...])`, blocks inlined, model
blocks as the nested models their functions make."""

from __future__ import annotations

from ...flatten import flatten, model_frame
from ...ir import instance_name
from .expr import Call, Seq, constant
from .functional import model_functions, new_model
from .layout import INDENT, statement
from .module import ModuleWriter, Namer
from .parameters import looped_name
from .scope import written_args


class SequentialWriter(ModuleWriter):
    style = "sequential"

    def definitions(self) -> list[str]:
        spec = self.spec
        [spec_input] = spec.inputs.values()
        items = [self.input_expr(spec_input)]
        added: list = []  # after a loop: (a loop's `for` line or None, a layer), each model.add-ed
        functions, names = model_functions(self)
        made, dtype = set(), constant(spec_input.dtype)  # one input: every tensor's dtype
        loops, index = self.parameters.loops, Namer(set(self.parameters.vars.values()))("i")
        for node in flatten(spec).nodes:
            frame = model_frame(node)
            call = node.origin
            if not node.scope and call.name in loops:
                if node.local == instance_name(call, 1):  # the loop makes every repetition
                    count = self.values.value(loops[call.name])
                    named = looped_name(call, index)
                    layer = self.values.layer(node.type, node.args, named)
                    added.append((f"for {index} in range(1, {count.flat()} + 1):", layer))
                continue
            if frame is None:
                item = self.values.layer(node.type, node.args, constant(node.name))
            elif frame.name not in made:  # a model block call: its nested model, once
                made.add(frame.name)
                args = written_args(spec, frame.call.args, node.scope[: node.scope.index(frame)])
                made_by = names[frame.block]
                item = new_model(
                    spec, frame, made_by, args, self.values, constant(frame.name), lambda port: dtype
                )
            else:
                continue
            if added:
                added.append((None, item))
            else:
                items.append(item)
        model = Call("keras.Sequential", [(None, Seq(items)), ("name", constant(spec.name))])
        lines, body = self.build_opening(
            self.parameters.build_signature("keras.Sequential"),
            f"Build the {spec.name} model as a Sequential stack ({self.parameters.compiled_note()}).",
            prologue=True,
        )
        if not added:
            lines += statement("return ", model, body)
            return [*functions, "\n".join(lines)]
        lines += statement("model = ", model, body)
        for loop, layer in added:
            if loop is not None:
                lines.append(f"{body}{loop}")
            lines += statement("", Call("model.add", [(None, layer)]), body + INDENT if loop else body)
        lines.append(f"{body}return model")
        return [*functions, "\n".join(lines)]
