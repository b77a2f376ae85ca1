"""The subclass style: a `keras.Model` subclass, and a registered `keras.layers.Layer` per block.

Layers are created in `__init__` in the order a Functional model lists them
(`kspec.backends.order`), so weights line up across styles; `build()` traces
`call()` on symbolic inputs, which builds every child layer with the shapes it
will see; `get_config()` returns every constructor argument.
"""

from __future__ import annotations

from ...catalog import catalog
from ...flatten import Group, Step, flatten
from .expr import Atom, Call, Dict, Seq, class_name, constant
from .layout import INDENT, statement
from .module import ModuleWriter, Namer, attribute_name, call_arguments, naming, parameter_names
from .parameters import looped_name
from .ranks import LayerRanks
from .functional import model_functions, new_model
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

I2 = INDENT * 2


class SubclassWriter(ModuleWriter):
    style = "subclass"

    def definitions(self) -> list[str]:
        spec = self.spec
        taken = {"keras", "layers", "build_model", "compile_model", self.model_class_name()}
        names = Namer(taken)
        self.ranks = LayerRanks(flatten(spec))
        self.crossed = shared_across(flatten(spec)) | renamed_within(flatten(spec))
        self.groups = {None: flatten(spec).root}
        self._collect_blocks(self.groups[None])
        functions, self.model_functions = model_functions(self)
        names.taken |= set(self.model_functions.values())
        self.block_classes = {name: names(class_name(name)) for name in reversed(list(self.groups)) if name}
        parts = [*functions, *(self.block_class(name) for name in self.block_classes)]
        parts += [self.model_class(), self.build_function()]
        return parts

    def _collect_blocks(self, group: Group) -> None:
        """The lowered instance of every block kept as a class that its class is written from:
        its first call."""
        for step, _ in self.members(group):
            first = step.instances[0].group
            if first is not None and first.frame.model is not None:
                continue  # a nested model, made by its function (functional.model_functions)
            if first is not None and step.call.type not in self.groups:
                self.groups[step.call.type] = first
                self._collect_blocks(first)

    def inline(self, step: Step) -> bool:
        """Whether a block call is written as its caller's own layers: where Keras's order
        interleaves its layers with others' (parallel blocks, as in an Inception module), a
        Layer subclass would list the weights in another order; and where a layer is shared
        across the edge of the call, as the block's class keeps its layers to itself."""
        if step.instances[0].group is None or step.instances[0].group.frame.model is not None:
            return False
        frames = [instance.group.frame.name for instance in step.instances]
        return any(name in self.crossed or not self.ranks.contiguous(name) for name in frames)

    def members(self, group: Group, frames: tuple = ()):
        """(step, inline frames) of the calls whose layers a class creates: a block call written
        inline gives its own calls, under the frames of the calls written inline around them."""
        for step in group.steps:
            if self.inline(step):
                for instance in step.instances:
                    yield from self.members(instance.group, frames + (instance.group.frame,))
            else:
                yield step, frames

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
            f'{INDENT}"""The {block_name} block; {naming(block, "<block name>")}."""',
            "",
            f"{INDENT}def __init__({', '.join(signature)}):",
            f"{I2}super().__init__(**kwargs)",
        ]
        attributes = Namer(set(self.reserved_attributes()))
        stored = {p: attribute_name(args[p], attributes, kind="param") for p in params}
        for p in params:
            lines.append(f"{I2}self.{stored[p]} = {args[p]}")
        values = self.values.with_params({p: Atom(args[p]) for p in params})
        group = self.groups[block_name]
        layer_attrs = self.init_layers(
            group,
            lines,
            values,
            attributes,
            name_of=lambda frames, local: formatted_name(relative_name(frames, local, "{}"), "self.name"),
        )
        lines += ["", *self.build_method(block.scope.inputs, dtypes=None)]
        call_values = self.values.with_params({p: Atom(f"self.{stored[p]}") for p in params})
        keys = block_output_keys(block)
        lines += ["", *self.call_method(group, block.scope, layer_attrs, keys, call_values)]
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
        ]
        params = [
            (None, Atom("self")),
            *((v, constant(self.parameters.params[n].default)) for n, v in self.parameters.vars.items()),
        ]
        lines += statement("def ", Call("__init__", [*params, (None, Atom("**kwargs"))]), INDENT, suffix=":")
        lines += [
            f'{I2}kwargs.setdefault("name", {constant(spec.name).flat()})',
            f"{I2}super().__init__(**kwargs)",
        ]
        attributes = Namer(set(self.reserved_attributes()))
        stored = {n: attribute_name(v, attributes, kind="param") for n, v in self.parameters.vars.items()}
        for n, v in self.parameters.vars.items():
            lines.append(f"{I2}self.{stored[n]} = {v}")
        group = self.groups[None]
        layer_attrs = self.init_layers(
            group,
            lines,
            self.values,
            attributes,
            name_of=lambda frames, local: constant(relative_name(frames, local, "")),
        )
        dtypes = [i.dtype for i in spec.inputs.values()]
        lines += ["", *self.build_method(tuple(spec.inputs), dtypes)]
        what = "the name, trainable, dtype and parameters" if stored else "the name, trainable and dtype"
        call_values = self.values.with_params({n: Atom(f"self.{stored[n]}") for n in stored})
        lines += ["", *self.call_method(group, spec.scope, layer_attrs, None, call_values)]
        config = [
            ("name", Atom("self.name")),
            ("trainable", Atom("self.trainable")),
            ("dtype", Atom("keras.saving.serialize_keras_object(self.dtype_policy)")),
            *((v, Atom(f"self.{stored[n]}")) for n, v in self.parameters.vars.items()),
        ]
        lines += [
            "",
            f"{INDENT}def get_config(self):",
            f'{I2}"""Every constructor argument: {what}{"" if stored else " of the model"}."""',
            *statement("return ", Dict(config), I2),
            "",
            f"{INDENT}@classmethod",
            f"{INDENT}def from_config(cls, config):",
            f"{I2}return cls(**config)",
        ]
        return "\n".join(lines)

    def build_function(self) -> str:
        spec = self.spec
        shapes = [self.input_shape(i, batch=True) for i in spec.inputs.values()]
        shape = shapes[0] if len(shapes) == 1 else Seq(shapes)
        lines, body = self.build_opening(
            self.parameters.build_signature(self.model_class_name()),
            f"Create the {spec.name} model and build its weights ({self.parameters.compiled_note()}).",
            prologue=True,
        )
        lines += statement("model = ", Call(self.model_class_name(), self.parameters.keywords()), body)
        lines += statement("", Call("model.build", [(None, shape)]), body)
        lines.append(f"{INDENT}return model")
        return "\n".join(lines)

    # Methods --------------------------------------------------------------------

    def init_layers(self, group: Group, lines, values, attributes, name_of) -> dict:
        """`self.<attr> = <layer>` for every call the class creates, in Keras's layer order;
        a call sharing a layer gets the attribute of the layer it shares."""
        members = list(self.members(group))
        attrs: dict[str, str] = {}
        of_layer: dict[str, str] = {}  # a layer's Keras name -> its key in attrs
        for step, frames in sorted(
            (m for m in members if not shares(m[0]) and m[0].call.op is None and m[0].call.share is None),
            key=lambda m: self.rank(m[0]),
        ):
            call, prefix = step.call, inline_prefix(frames)
            args = written_args(self.spec, call.args, frames)
            if group.frame is None and not frames and call.name in self.parameters.loops:
                attrs[call.name] = attribute_name(call.name, attributes)
                lines += self.loop_layers(call, args, values, attrs[call.name])
                continue
            for instance in step.instances:
                name = prefix + instance.local
                attrs[name] = attribute_name(name, attributes)
                if instance.node is not None:
                    of_layer[instance.node.name] = name
                frame = instance.group.frame if instance.group is not None else None
                if frame is not None and frame.model is not None:
                    function = self.model_functions[call.type]
                    named = name_of(frames, instance.local)
                    expr = new_model(self.spec, frame, function, args, values, named, self.dtype_of)
                elif call.type in self.spec.blocks:
                    arguments = call_arguments(self.spec.blocks[call.type], args, values)
                    arguments.append(("name", name_of(frames, instance.local)))
                    expr = Call(self.block_classes[call.type], arguments)
                else:
                    expr = values.layer(
                        call.type, args, layer_name(instance.node, name_of, frames, instance.local)
                    )
                lines.extend(statement(f"self.{attrs[name]} = ", expr, I2))
        for step, frames in members:
            if shares(step):
                for instance in step.instances:
                    attrs[inline_prefix(frames) + instance.local] = attrs[of_layer[instance.node.share]]
            elif step.call.share is not None:  # a model block call's model, called again
                prefix = inline_prefix(frames)
                [target] = [m for m, f in members if m.call.name == step.call.share and f == frames]
                for instance, shared in zip(step.instances, target.instances):
                    attrs[prefix + instance.local] = attrs[prefix + shared.local]
        return attrs

    def loop_layers(self, call, args, values, attr: str) -> list[str]:
        """A list attribute with one layer per repetition of a call whose repeat count a
        parameter sets, each named as Keras names it (`f"fc_{i}"`)."""
        index = Namer(set(self.parameters.vars.values()) | {"self", "kwargs"})("i")
        named = looped_name(call, index)
        if call.type in self.spec.blocks:
            arguments = call_arguments(self.spec.blocks[call.type], args, values)
            layer = Call(self.block_classes[call.type], [*arguments, ("name", named)])
        else:
            layer = values.layer(call.type, args, named)
        count = values.value(self.parameters.loops[call.name])
        return [
            f"{I2}self.{attr} = []",
            f"{I2}for {index} in range(1, {count.flat()} + 1):",
            *statement("", Call(f"self.{attr}.append", [(None, layer)]), I2 + INDENT),
        ]

    def dtype_of(self, port) -> Atom:
        """The dtype of a tensor a nested model takes: a model input's own, else the layers'."""
        spec_input = self.spec.inputs.get(port.node)
        return constant(spec_input.dtype) if spec_input is not None else Atom("self.compute_dtype")

    def rank(self, step: Step) -> int:
        """Where a call's first layer is in Keras's order."""
        first = step.instances[0]
        return self.ranks.rank(first.node.name if first.node is not None else first.group.frame.name)

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

    def call_method(self, group: Group, scope, attrs: dict, keys, values) -> list[str]:
        namer = Namer({"self", "inputs", "training", "keras", "layers"})
        lines = [f"{INDENT}def call(self, inputs, training=None):"]
        variables = {name: namer(name) for name in scope.inputs}
        if len(variables) == 1:
            lines.append(f"{I2}{next(iter(variables.values()))} = inputs")
        else:
            lines.append(f"{I2}{', '.join(variables.values())} = inputs")
        emitter = SubclassScope(self, group, scope.outputs, namer, I2, attrs, values)
        if group.frame is None:
            emitter.loops = self.parameters.loops
        emitter.bind_inputs(variables)
        emitter.emit()
        lines += emitter.lines
        lines += statement("return ", emitter.outputs_expr(keys), I2)
        return lines

    def reserved_attributes(self):
        return catalog().model_attributes


class SubclassScope(ScopeEmitter):
    def __init__(self, writer, group, outputs, namer, indent, attrs, values):
        super().__init__(writer, group, outputs, namer, indent)
        self.attrs = attrs
        self.values = values

    def call_argument(self, key, value):
        """As in a Functional model, where a `training` the model is called with (fit, predict)
        replaces the one a layer call was given."""
        expr = super().call_argument(key, value)
        if key != "training":
            return expr
        return Atom(f"{expr.flat()} if training is None else training")

    def loop(self, call, first, count):
        """`for layer in self.<call>:`, the list of the call's repetitions."""
        layer = self.loop_var = self.loop_var or self.namer("layer")
        _, keys = self.callee(call, first, call.name)
        return f"for {layer} in self.{self.attrs[call.name]}:", Atom(layer), keys

    def callee(self, call, instance, name: str):
        keys = block_output_keys(self.spec.blocks[instance.group.frame.block]) if instance.group else None
        if instance.group is not None and instance.group.frame.model is not None:
            keys = Positional(keys or [])  # a nested model returns a list
        return Atom(f"self.{self.attrs[name]}"), keys


def shares(step: Step) -> bool:
    """Whether a call's layers are another call's (`share`, or inside a shared block call)."""
    first = step.instances[0]
    return first.node is not None and first.node.share is not None


def inline_prefix(frames: tuple) -> str:
    """What the names of a call written inline start with: `<block call>_` for each frame."""
    return "".join(frame.local + "_" for frame in frames)
