"""Spec values as Python expressions: constants, Keras objects, nested layers, parameters."""

from __future__ import annotations

from keyword import iskeyword

from ...catalog.aliases import full_name
from ...catalog.argkinds import OBJECT_SUFFIXES
from ...expressions import is_expression, parse
from .expr import Arithmetic, Call, Dict, Expr, Seq, constant

LAYER_ARGS = ("layer", "backward_layer", "cell")  # arguments that hold a nested layer


def namespace_of(arg: str) -> str | None:
    """The Keras namespace of a layer argument that may hold a nested object."""
    for suffix, namespace in OBJECT_SUFFIXES.items():
        if arg.endswith(suffix):
            return namespace
    return None


class Values:
    """Turns spec values into expressions for one module.

    `params` maps a block parameter to the expression that holds it, for values
    written `$name` inside a block; `custom` maps custom type names to the
    class names the module imports.
    """

    def __init__(self, custom: dict, params: dict | None = None):
        self.custom = custom
        self.params = params or {}

    def with_params(self, params: dict) -> "Values":
        return Values(self.custom, params)

    def layer(self, type_name: str, args: dict, name: Expr | None = None) -> Call:
        """`layers.Dense(units=10, name="logits")` for a layer type and its arguments."""
        call_args = [(identifier_arg(key), self.argument(key, value)) for key, value in args.items()]
        if name is not None:
            call_args.append(("name", name))
        return Call(self.layer_class(type_name), call_args)

    def op(self, op: str, tensors: dict, args: dict) -> Call:
        """`keras.ops.matmul(q, k)`: tensors positionally while they fill the first parameters,
        then by keyword; constants by keyword (`axis=-1`). A list (or parameter) given for a
        tensor becomes one: Keras takes a bare list for a tensor only outside a model."""
        from ...catalog import catalog

        signature = catalog().op(op)
        call_args, positional = [], True
        for name in signature.params:
            if name in tensors and positional:
                call_args.append((None, tensors[name]))
                continue
            positional = False
            if name in tensors:
                call_args.append((identifier_arg(name), tensors[name]))
            elif name in args:
                value = self.value(args[name])
                if name in signature.tensors and (isinstance(args[name], list) or self.is_param(args[name])):
                    value = Call("keras.ops.convert_to_tensor", [(None, value)])
                call_args.append((identifier_arg(name), value))
        return Call(f"keras.ops.{identifier_attr(op)}", call_args)

    def layer_class(self, type_name: str) -> str:
        if type_name in self.custom:
            return self.custom[type_name]
        return f"layers.{identifier_attr(type_name)}"

    def argument(self, key: str, value) -> Expr:
        if self.is_param(value):
            return self.params[value[1:]]
        if key in LAYER_ARGS and isinstance(value, dict) and "type" in value:
            nested = {k: v for k, v in value.items() if k != "type"}
            return self.layer(value["type"], nested)
        namespace = namespace_of(key)
        if namespace and isinstance(value, dict) and "type" in value:
            return self.keras_object(namespace, value)
        return self.value(value)

    def keras_object(self, namespace: str, value) -> Expr:
        """An initializer, regularizer, optimizer, loss, ... by name or as a constructor call."""
        if self.is_param(value) or is_expression(value):
            return self.value(value)
        if isinstance(value, str):
            return constant(full_name(value) if namespace in ("losses", "metrics") else value)
        if not isinstance(value, dict):
            return self.value(value)
        args = []
        for key, item in value.items():
            if key == "type":
                continue
            if namespace == "optimizers" and key == "learning_rate" and isinstance(item, dict):
                args.append((identifier_arg(key), self.keras_object("schedules", item)))
            else:
                args.append((identifier_arg(key), self.value(item)))
        module = "keras.optimizers.schedules" if namespace == "schedules" else f"keras.{namespace}"
        return Call(f"{module}.{identifier_attr(value['type'])}", args)

    def per_output(self, value, namespace: str) -> Expr:
        """A loss or metric setting: one object, a list, or a mapping of output name to either."""
        if isinstance(value, list):
            return Seq([self.per_output(v, namespace) for v in value])
        if isinstance(value, dict) and "type" not in value:
            return Dict([(k, self.per_output(v, namespace)) for k, v in value.items()])
        return self.keras_object(namespace, value)

    def value(self, value) -> Expr:
        """A plain value, with `$param` references and expressions resolved at any depth."""
        if self.is_param(value):
            return self.params[value[1:]]
        if is_expression(value):
            return Arithmetic(parse(value), self.params)
        if isinstance(value, list):
            return Seq([self.value(v) for v in value])
        if isinstance(value, dict):
            return Dict([(str(k), self.value(v)) for k, v in value.items()])
        return constant(value)

    def is_param(self, value) -> bool:
        return isinstance(value, str) and value.startswith("$") and value[1:] in self.params


def identifier_arg(name: str) -> str:
    """A keyword argument name: it must be a plain identifier, and no keyword (`training` and
    `inputs`, which a generated module's own names avoid, are fine here)."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii() or iskeyword(name):
        raise ValueError(f"{name!r} cannot be a keyword argument")
    return name


def identifier_attr(name: str) -> str:
    """A Keras class name used as an attribute (`layers.Dense`)."""
    if not name.isidentifier() or not name.isascii():
        raise ValueError(f"{name!r} is not a class name")
    return name
