"""The Sequential style: `build_model()` returns `keras.Sequential([...])`, blocks inlined, model
blocks as the nested models their functions make."""

from __future__ import annotations

from ...flatten import flatten, model_frame
from .expr import Call, Seq, constant
from .functional import model_functions, new_model
from .layout import statement
from .module import ModuleWriter
from .scope import written_args


class SequentialWriter(ModuleWriter):
    style = "sequential"

    def definitions(self) -> list[str]:
        spec = self.spec
        [spec_input] = spec.inputs.values()
        items = [self.input_expr(spec_input)]
        functions, names = model_functions(self)
        made, dtype = set(), constant(spec_input.dtype)  # one input: every tensor's dtype
        for node in flatten(spec).nodes:
            frame = model_frame(node)
            if frame is None:
                items.append(self.values.layer(node.type, node.args, constant(node.name)))
            elif frame.name not in made:  # a model block call: its nested model, once
                made.add(frame.name)
                args = written_args(spec, frame.call.args, node.scope[: node.scope.index(frame)])
                made_by = names[frame.block]
                items.append(
                    new_model(
                        spec, frame, made_by, args, self.values, constant(frame.name), lambda port: dtype
                    )
                )
        model = Call("keras.Sequential", [(None, Seq(items)), ("name", constant(spec.name))])
        lines, body = self.build_opening(
            self.parameters.build_signature("keras.Sequential"),
            f"Build the {spec.name} model as a Sequential stack ({self.parameters.compiled_note()}).",
            prologue=True,
        )
        lines += statement("return ", model, body)
        return [*functions, "\n".join(lines)]
