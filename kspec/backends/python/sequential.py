"""The Sequential style: `build_model()` returns `keras.Sequential([...])`, blocks inlined."""

from __future__ import annotations

from ...flatten import flatten
from .expr import Call, Seq, constant
from .layout import statement
from .module import ModuleWriter


class SequentialWriter(ModuleWriter):
    style = "sequential"

    def definitions(self) -> list[str]:
        spec = self.spec
        [spec_input] = spec.inputs.values()
        items = [self.input_expr(spec_input)]
        for node in flatten(spec).nodes:
            items.append(self.values.layer(node.type, node.args, constant(node.name)))
        model = Call("keras.Sequential", [(None, Seq(items)), ("name", constant(spec.name))])
        lines, body = self.build_opening(
            self.parameters.build_signature("keras.Sequential"),
            f"Build the {spec.name} model as a Sequential stack ({self.parameters.compiled_note()}).",
            prologue=True,
        )
        lines += statement("return ", model, body)
        return ["\n".join(lines)]
