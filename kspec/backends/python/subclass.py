"""The subclass style: a `keras.Model` subclass, and a registered `keras.layers.Layer` per block.

Layers are created in `__init__` in the order a Functional model lists them
(`kspec.backends.order`), so weights line up across styles; `build()` traces
`call()` on symbolic inputs, which builds every child layer with the shapes it
will see; `get_config()` returns every constructor argument.
"""

from __future__ import annotations

from ...flatten import flatten
from ...ir import instance_name, instance_names
from .expr import Atom, Call, Dict, Seq, class_name, constant
from .inline import LayerRanks, inline_scope
from .layout import INDENT, statement
from .module import ModuleWriter, Namer, attribute_name, call_arguments, parameter_names
from .scope import ScopeEmitter, block_output_keys, needed_calls

I2 = INDENT * 2


class SubclassWriter(ModuleWriter):
    style = "subclass"

    def definitions(self) -> list[str]:
        spec = self.spec
        taken = {"keras", "layers", "build_model", "compile_model", self.model_class_name()}
        names = Namer(taken)
        self.ranks = LayerRanks(flatten(spec))
        self.scopes = {None: inline_scope(spec, spec.scope, "", self.ranks)}
        self.prefixes = {None: ""}
        self._collect_blocks(self.scopes[None], "")
        self.block_classes = {name: names(class_name(name)) for name in reversed(list(self.scopes)) if name}
        parts = [self.block_class(name) for name in self.block_classes]
        parts += [self.model_class(), self.build_function()]
        return parts

    def _collect_blocks(self, scope, prefix: str) -> None:
        """The scope (inlined where needed) of every block kept as a class, from its first call."""
        for call in needed_scope_calls(scope):
            if call.type not in self.spec.blocks or call.type in self.scopes:
                continue
            instance = prefix + instance_name(call, 1) + "_"
            block = self.spec.blocks[call.type]
            self.scopes[call.type] = inline_scope(self.spec, block.scope, instance, self.ranks)
            self.prefixes[call.type] = instance
            self._collect_blocks(self.scopes[call.type], instance)

    def package(self) -> str:
        return f"kspec.{self.spec.name}"

    # Classes ------------------------------------------------------------------

    def block_class(self, block_name: str) -> str:
        block = self.spec.blocks[block_name]
        cls = self.block_classes[block_name]
        params = list(block.params)
        args = parameter_names(block)
        signature = [
            "self",
            *(f"{args[p]}" for p in params if block.params[p] is None),
            *(f"{args[p]}={constant(block.params[p]).flat()}" for p in params if block.params[p] is not None),
            "**kwargs",
        ]
        lines = [
            f'@keras.saving.register_keras_serializable(package="{self.package()}")',
            f"class {cls}(layers.Layer):",
            f'{INDENT}"""The {block_name} block; its layers are named `<block name>_<layer>`."""',
            "",
            f"{INDENT}def __init__({', '.join(signature)}):",
            f"{I2}super().__init__(**kwargs)",
        ]
        attributes = Namer(set(self.reserved_attributes()))
        stored = {p: attribute_name(args[p], attributes, kind="param") for p in params}
        for p in params:
            lines.append(f"{I2}self.{stored[p]} = {args[p]}")
        values = self.values.with_params({p: Atom(args[p]) for p in params})
        scope = self.scopes[block_name]
        layer_attrs = self.init_layers(
            scope,
            lines,
            values,
            attributes,
            name_of=lambda local: Atom(f'f"{{self.name}}_{local}"'),
            prefix=self.prefixes[block_name],
        )
        lines += ["", *self.build_method(scope.inputs, dtypes=None)]
        in_call = self.values.with_params({p: Atom(f"self.{stored[p]}") for p in params})
        lines += ["", *self.call_method(scope, layer_attrs, block_output_keys(block), in_call)]
        lines += [
            "",
            f"{INDENT}def get_config(self):",
            f'{I2}"""Every constructor argument, so that the layer is rebuilt as it was made."""',
            f"{I2}config = super().get_config()",
        ]
        if params:
            update = Dict([(args[p], Atom(f"self.{stored[p]}")) for p in params])
            lines += statement("", Call("config.update", [(None, update)]), I2)
        lines.append(f"{I2}return config")
        return "\n".join(lines)

    def model_class(self) -> str:
        spec = self.spec
        cls = self.model_class_name()
        lines = [
            f'@keras.saving.register_keras_serializable(package="{self.package()}")',
            f"class {cls}(keras.Model):",
            f'{INDENT}"""The {spec.name} model as a keras.Model subclass."""',
            "",
            f"{INDENT}def __init__(self, **kwargs):",
            f'{I2}kwargs.setdefault("name", {constant(spec.name).flat()})',
            f"{I2}super().__init__(**kwargs)",
        ]
        attributes = Namer(set(self.reserved_attributes()))
        scope = self.scopes[None]
        layer_attrs = self.init_layers(
            scope, lines, self.values, attributes, name_of=lambda local: constant(local), prefix=""
        )
        dtypes = [i.dtype for i in spec.inputs.values()]
        lines += ["", *self.build_method(tuple(spec.inputs), dtypes)]
        lines += ["", *self.call_method(scope, layer_attrs, None, self.values)]
        lines += [
            "",
            f"{INDENT}def get_config(self):",
            f'{I2}"""Every constructor argument: the name, trainable and dtype of the model."""',
            f"{I2}return {{",
            f'{I2}{INDENT}"name": self.name,',
            f'{I2}{INDENT}"trainable": self.trainable,',
            f'{I2}{INDENT}"dtype": keras.saving.serialize_keras_object(self.dtype_policy),',
            f"{I2}}}",
            "",
            f"{INDENT}@classmethod",
            f"{INDENT}def from_config(cls, config):",
            f"{I2}return cls(**config)",
        ]
        return "\n".join(lines)

    def build_function(self) -> str:
        spec = self.spec
        shapes = [constant((None, *i.shape)) for i in spec.inputs.values()]
        shape = shapes[0] if len(shapes) == 1 else Seq(shapes)
        lines = [
            f"def build_model() -> {self.model_class_name()}:",
            f'{INDENT}"""Create the {spec.name} model and build its weights (not compiled)."""',
            f"{INDENT}model = {self.model_class_name()}()",
        ]
        lines += statement("", Call("model.build", [(None, shape)]), INDENT)
        lines.append(f"{INDENT}return model")
        return "\n".join(lines)

    # Methods --------------------------------------------------------------------

    def init_layers(self, scope, lines, values, attributes, name_of, prefix: str) -> dict:
        """`self.<attr> = <layer>` for every needed call, in Keras's layer order."""
        first = {c.name: prefix + instance_name(c, 1) for c in scope.calls}
        calls = sorted(
            (c for c in needed_scope_calls(scope) if not c.share and c.op is None),
            key=lambda c: self.ranks.rank(first[c.name]),
        )
        attrs: dict[str, str] = {}
        for call in calls:
            for instance in instance_names(call):
                attr = attribute_name(instance, attributes)
                attrs[instance] = attr
                if call.type in self.spec.blocks:
                    args = call_arguments(self.spec.blocks[call.type], call.args, values)
                    args.append(("name", name_of(instance)))
                    expr = Call(self.block_classes[call.type], args)
                else:
                    expr = values.layer(call.type, call.args, name_of(instance))
                lines.extend(statement(f"self.{attr} = ", expr, I2))
        for call in needed_scope_calls(scope):
            if call.share:
                attrs[call.name] = attrs[call.share]
        return attrs

    def build_method(self, inputs: tuple, dtypes) -> list[str]:
        lines = [
            f"{INDENT}def build(self, input_shape):",
            f'{I2}"""Build every child layer by tracing call() on symbolic inputs."""',
        ]
        if len(inputs) == 1:
            dtype = constant(dtypes[0]).flat() if dtypes else "self.compute_dtype"
            lines += [
                f"{I2}input_shape = tuple(input_shape)",
                f"{I2}self.call(keras.KerasTensor(input_shape, dtype={dtype}))",
            ]
        else:
            dtype_list = Seq([constant(d) for d in dtypes]).flat() if dtypes else None
            lines.append(f"{I2}shapes = [tuple(shape) for shape in input_shape]")
            if dtype_list:
                lines.append(f"{I2}dtypes = {dtype_list}")
                tensors = Atom("[keras.KerasTensor(s, dtype=d) for s, d in zip(shapes, dtypes)]")
                lines += statement("", Call("self.call", [(None, tensors)]), I2)
            else:
                lines.append(
                    f"{I2}self.call([keras.KerasTensor(s, dtype=self.compute_dtype) for s in shapes])"
                )
        lines.append(f"{I2}super().build(input_shape)")
        return lines

    def call_method(self, scope, attrs: dict, keys, values) -> list[str]:
        namer = Namer({"self", "inputs", "training", "keras", "layers"})
        lines = [f"{INDENT}def call(self, inputs, training=None):"]
        variables = {name: namer(name) for name in scope.inputs}
        if len(variables) == 1:
            lines.append(f"{I2}{next(iter(variables.values()))} = inputs")
        else:
            lines.append(f"{I2}{', '.join(variables.values())} = inputs")
        emitter = SubclassScope(self, scope, namer, I2, attrs)
        emitter.values = values
        emitter.bind_inputs(variables)
        emitter.emit()
        lines += emitter.lines
        result = emitter.outputs_expr()
        if keys is not None:
            result = Dict(list(zip(keys, [emitter.env[r.name].select(r.output) for r in scope.outputs.refs])))
        lines += statement("return ", result, I2)
        return lines

    def reserved_attributes(self):
        from ...catalog import catalog

        return catalog().model_attributes


class SubclassScope(ScopeEmitter):
    def __init__(self, writer, scope, namer, indent, attrs):
        super().__init__(writer, scope, namer, indent)
        self.attrs = attrs

    def callee(self, call, instance):
        keys = block_output_keys(self.spec.blocks[call.type]) if call.type in self.spec.blocks else None
        return Atom(f"self.{self.attrs[instance]}"), keys


def needed_scope_calls(scope) -> list:
    """The calls of a scope that some output depends on, in list order."""
    needed = needed_calls(scope)
    return [c for c in scope.calls if c.name in needed]
