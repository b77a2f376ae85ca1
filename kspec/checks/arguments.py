"""Constructor arguments, nested Keras objects and block parameters.

Arguments are checked against the catalog's signatures; values against the
kind of each argument (`kspec.catalog.argkinds`). Inside a block, a value
written `$param` is not checked where it stands: each use is recorded with
its kind, and the value that a block call passes is checked against every use.
An expression (`"$embed_dim // $heads"`) is checked for its form and names here;
its value once the parameters are known is checked on the expanded graph
(`kspec.checks.evaluated`).
"""

from __future__ import annotations

import math

from ..catalog import catalog
from ..catalog.argkinds import CALL_BY_NAME, DATA_FORMATS, PADDING_MODES, kind_of
from ..catalog.calls import NOT_IN_SPECS, layer_output_count
from ..diagnostics import did_you_mean, meant, suggestion
from ..expressions import ExpressionError, evaluate, is_expression, names, parse, tokens
from ..structure import describe
from .graph import type_kind

MAX_SIZE = 2**31 - 1
_SINGULAR = {
    "initializers": "initializer",
    "regularizers": "regularizer",
    "constraints": "constraint",
    "activations": "activation",
    "optimizers": "optimizer",
    "schedules": "learning-rate schedule",
    "losses": "loss",
    "metrics": "metric",
}
_OBJECT_ARG_KINDS = {"learning_rate": "learning_rate"}
EXPRESSION_HINT = "an expression is numbers, $parameters, + - * / // % **, parentheses, min(...) and max(...)"


class ValueChecker:
    """Checks argument values; records `$param` uses when inside a block."""

    def __init__(self, spec, out, params: dict | None = None, usages: dict | None = None):
        self.spec = spec
        self.out = out
        self.params = params  # the enclosing block's parameters, or None
        self.usages = usages if usages is not None else {}

    # Layers -----------------------------------------------------------------

    def check_layer(self, type_name: str, args: dict, where: tuple, type_where: tuple) -> None:
        signature = catalog().layer(type_name)
        meant = set()  # arguments a misspelt key was taken for: not reported missing as well
        for key, value in args.items():
            param = signature.params.get(key)
            if param is None:
                meant.add(self._unknown_argument(type_name, signature, key, where))
                continue
            kind = _layer_arg_kind(type_name, key, param)
            self.check(kind, value, where + (key,), f"{type_name}.{key}")
        missing = [p for p in signature.required if p not in args and p not in meant]
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            self.out.error(
                type_where, "KS303", f"{type_name} needs {names}", f"add {missing[0]}: ... to this layer"
            )

    def _unknown_argument(self, type_name: str, signature, key: str, where: tuple) -> str | None:
        """Report an argument the signature does not have; return the one it was probably meant as."""
        match = did_you_mean(key, signature.params)
        self.out.error(
            where + (key,),
            "KS301",
            f"{type_name} takes no argument '{key}'" + meant(match),
            None if match else _accepted(signature),
            key=True,
        )
        return match

    def check_call_arguments(self, type_name: str | None, call, shared=None) -> None:
        """The arguments of one layer call: tensors in `inputs`, constants in `call`, each
        known to the layer's call() and of the kind its default shows; `shared` is the call
        whose layer a `share` call reuses."""
        kind = type_kind(self.spec, type_name)
        if kind == "block" and call.call_args:
            self.out.error(
                call.where + ("call",),
                "KS306",
                f"block {type_name} takes no call arguments",
                "give them to the layers inside the block, in their own `call`",
                key=True,
            )
        if kind == "custom":  # free-form, as a custom layer's constructor arguments are
            self.check_custom_args(call.call_args, call.where + ("call",))
        if kind != "keras":
            return
        if shared is not None and shared.share is None:
            self._check_shared_outputs(type_name, call, shared)
        signature = catalog().layer_call(type_name)
        keywords = call.inputs if isinstance(call.inputs, dict) else {}
        for key, value in call.call_args.items():
            where = call.where + ("call", key)
            param = signature.params.get(key)
            if param is None and not signature.takes_kwargs:
                constants = [n for n, p in signature.params.items() if not p.tensor]
                match = did_you_mean(key, constants)
                self.out.error(
                    where,
                    "KS306",
                    f"{type_name}.call() takes no argument '{key}'" + meant(match),
                    None if match else "constant call arguments: " + ", ".join(constants),
                    key=True,
                )
                self._is_param("any", value, where, f"{type_name}.call.{key}")  # a $param is used, not unused
            elif param is not None and param.tensor:
                self.out.error(
                    where,
                    "KS307",
                    f"'{key}' of {type_name}.call() takes a tensor, not a constant",
                    f"give it under `inputs` ({key}: <layer or input name>)",
                    key=True,
                )
            elif key in keywords:
                self.out.error(where, "KS307", f"'{key}' is given both in `inputs` and in `call`", key=True)
            else:
                self.check(_call_arg_kind(key, param), value, where, f"{type_name}.call.{key}")
        for key in keywords:
            param = signature.params.get(key)
            if param is None and not signature.takes_kwargs:
                tensors = [n for n, p in signature.params.items() if p.tensor]
                self.out.error(
                    call.where + ("inputs", key),
                    "KS306",
                    f"{type_name}.call() takes no argument '{key}'" + suggestion(key, tensors),
                    "tensor call arguments: " + ", ".join(tensors),
                    key=True,
                )
            elif param is not None and not param.tensor:
                self.out.error(
                    call.where + ("inputs", key),
                    "KS307",
                    f"'{key}' of {type_name}.call() takes a constant, not a tensor",
                    f"give it under `call` (call: {{{key}: ...}})",
                    key=True,
                )

    def _check_shared_outputs(self, type_name: str, call, shared) -> None:
        """Keras keeps the outputs of a layer's first call: a later call cannot return more."""
        first = layer_output_count(type_name, shared.args, shared.call_args)
        later = layer_output_count(type_name, shared.args, call.call_args)
        if first is not None and later is not None and later > first:
            self.out.error(
                call.where + ("call",),
                "KS307",
                f"'{call.name}' would return {later} tensors from '{shared.name}', whose layer's first "
                f"call returns {first}: Keras cannot build that model (from keras 3.14; 3.12 and 3.13 did)",
                f"ask for them in the first call too (`call` of '{shared.name}'), or use a layer of its own",
                key=True,
            )

    def check_nested_layer(self, value, where: tuple, label: str) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            self.out.error(
                where,
                "KS302",
                f"'{label}' expects a layer as {{type: ..., arguments}}, " f"got {describe(value)}",
            )
            return
        type_name = value["type"]
        kind = type_kind(self.spec, type_name)
        if kind == "keras" and type_name in NOT_IN_SPECS:
            self.out.error(
                where + ("type",),
                "KS102",
                f"keras.layers.{type_name} cannot be used in a spec: {NOT_IN_SPECS[type_name]}",
            )
        elif kind == "keras":
            args = {k: v for k, v in value.items() if k != "type"}
            self.check_layer(type_name, args, where, where + ("type",))
        elif kind == "custom":
            self.check_custom_args(value, where)
        else:
            choices = list(catalog().layers) + list(self.spec.custom)
            self.out.error(
                where + ("type",),
                "KS102",
                f"unknown layer type '{type_name}'" + suggestion(type_name, choices),
            )

    def check_custom_args(self, args: dict, where: tuple) -> None:
        """A custom layer's arguments are free-form, but `$param` names must exist."""
        todo = [(args, where)]
        while todo:
            value, at = todo.pop()
            if isinstance(value, dict):
                todo.extend((v, at + (k,)) for k, v in value.items())
            elif isinstance(value, list):
                todo.extend((v, at + (i,)) for i, v in enumerate(value))
            else:
                self._is_param("any", value, at, "custom argument")

    # Nested Keras objects ---------------------------------------------------

    def check_object(self, namespace: str, value, where: tuple, label: str) -> None:
        what = _SINGULAR[namespace]
        if isinstance(value, str):
            if not catalog().accepts_string(namespace, value):
                choices = catalog().names(namespace)
                self.out.error(where, "KS304", f"unknown {what} '{value}'" + suggestion(value, choices))
            return
        if not isinstance(value, dict) or namespace == "activations":
            form = "a name" if namespace == "activations" else "a name or {type: ..., arguments}"
            self.out.error(where, "KS302", f"'{label}' expects {form}, got {describe(value)}")
            return
        type_name = value.get("type")
        if not isinstance(type_name, str):
            self.out.error(
                where,
                "KS101",
                "missing required key 'type'",
                f"a {what} written as a mapping names its class in `type`",
            )
            return
        signature = catalog().object_class(namespace, type_name)
        if signature is None:
            choices = catalog().classes[namespace]
            message = f"unknown {what} class '{type_name}'" + suggestion(type_name, choices)
            self.out.error(where + ("type",), "KS304", message)
            return
        meant = set()
        for key, item in value.items():
            if key == "type":
                continue
            param = signature.params.get(key)
            if param is None and not signature.takes_kwargs:
                meant.add(self._unknown_argument(type_name, signature, key, where))
                continue
            if param is not None:
                kind = _OBJECT_ARG_KINDS.get(key) or kind_of(key, param.default, not param.required)
                self.check(kind, item, where + (key,), f"{type_name}.{key}")
        missing = [p for p in signature.required if p not in value and p not in meant]
        if missing:
            self.out.error(
                where + ("type",), "KS303", f"{type_name} needs " + ", ".join(f"'{m}'" for m in missing)
            )

    # Values by kind ---------------------------------------------------------

    def check(self, kind: str, value, where: tuple, label: str) -> None:
        if self._is_param(kind, value, where, label):
            return
        if kind in _SINGULAR:
            if value is not None:
                self.check_object(kind, value, where, label)
            return
        getattr(self, "_" + kind)(value, where, label)

    def _is_param(self, kind, value, where, label) -> bool:
        if is_expression(value):
            self._expression(kind, value, where, label)
            return True
        if self.params is None or not isinstance(value, str) or not value.startswith("$"):
            return False
        name = value[1:]
        if name not in self.params:
            self.out.error(
                where,
                "KS404",
                f"'{value}' is not a parameter of this block" + suggestion(name, self.params),
                "declare it under the block's `params`",
            )
        else:
            self.usages.setdefault(name, []).append((kind, label))
        return True

    def _expression(self, kind, text: str, where, label) -> None:
        """An expression: its form, its `$names` (each a use of kind number), and the value
        of one over numbers alone, checked as `kind`."""
        try:
            node = parse(text)
        except ExpressionError as error:
            at = f" (character {error.column})" if error.column else ""
            self.out.error(where, "KS409", f"'{label}': {error.message}{at} in '{text}'", EXPRESSION_HINT)
            for kind_, word, _ in tokens(text) or ():  # its parameters count as used (no KS405 too)
                if kind_ == "param" and self.params is not None and word[1:] in self.params:
                    self.usages.setdefault(word[1:], []).append(("number", label))
            return
        used = names(node)
        for name in used:
            if self.params is None:
                self.out.error(
                    where,
                    "KS404",
                    f"'${name}' in '{text}' is not a parameter",
                    "`$name` names a parameter of the enclosing block, or of the spec's top-level `params`",
                )
            elif name not in self.params:
                self.out.error(
                    where,
                    "KS404",
                    f"'${name}' in '{text}' is not a parameter of this block" + suggestion(name, self.params),
                    "declare it under the block's `params`",
                )
            else:
                self.usages.setdefault(name, []).append(("number", label))
        if used:
            return
        try:
            value = evaluate(node)
        except ExpressionError as error:
            self.out.error(where, "KS410", f"'{label}': {error.message} in '{text}'")
            return
        self.check(kind, value, where, label)

    def _wrong(self, value, where, label, expected: str) -> None:
        hint = None
        if isinstance(value, str) and value.startswith("$"):
            hint = "`$name` names a parameter of the enclosing block, or of the spec's top-level `params`"
        elif isinstance(value, bool):
            hint = "true/false is a boolean, not a number"
        self.out.error(where, "KS302", f"'{label}' expects {expected}, got {describe(value)}", hint)

    def _range(self, where, label, message) -> None:
        self.out.error(where, "KS305", f"'{label}' {message}")

    def _int(self, value, where, label, minimum: int, expected: str) -> bool:
        if self._is_param("positive_int" if minimum == 1 else "non_negative_int", value, where, label):
            return True
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(value, where, label, expected)
            return False
        if value < minimum:
            self._range(where, label, f"must be at least {minimum}, got {value}")
            return False
        if value > MAX_SIZE:
            self._range(where, label, f"is absurdly large ({value:,}); the limit is {MAX_SIZE:,}")
            return False
        return True

    def _positive_int(self, value, where, label) -> None:
        self._int(value, where, label, 1, "a positive integer")

    def _non_negative_int(self, value, where, label) -> None:
        self._int(value, where, label, 0, "a non-negative integer")

    def _positive_int_or_null(self, value, where, label) -> None:
        if value is not None:
            self._positive_int(value, where, label)

    def _size(self, value, where, label) -> None:
        if isinstance(value, list) and value:
            for index, item in enumerate(value):
                self._int(item, where + (index,), label, 1, "a positive integer or a list of them")
        else:
            self._int(value, where, label, 1, "a positive integer or a list of them")

    def _size_or_null(self, value, where, label) -> None:
        if value is not None:
            self._size(value, where, label)

    def _size_or_pairs(self, value, where, label) -> None:
        expected = "a non-negative integer, a list of them, or a list of pairs"
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            inner = item if isinstance(item, list) else [item]
            for sub in inner:
                self._int(sub, where + ((index,) if isinstance(value, list) else ()), label, 0, expected)

    def _number(self, value, where, label) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._wrong(value, where, label, "a number")
            return False
        if not math.isfinite(value):
            self._range(where, label, f"must be a finite number, got {value}")
            return False
        return True

    def _rate(self, value, where, label) -> None:
        if self._number(value, where, label) and not 0 <= value <= 1:
            self._range(where, label, f"is a fraction between 0 and 1, got {value}")

    def _non_negative(self, value, where, label) -> None:
        if self._number(value, where, label) and value < 0:
            self._range(where, label, f"must not be negative, got {value}")

    def _learning_rate(self, value, where, label) -> None:
        if isinstance(value, dict):
            self.check_object("schedules", value, where, label)
        elif self._number(value, where, label) and value <= 0:
            self._range(where, label, f"must be positive, got {value}")

    def _activation(self, value, where, label) -> None:
        if value is not None:
            self.check_object("activations", value, where, label)

    def _enum(self, value, where, label, choices) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self._wrong(value, where, label, "one of " + ", ".join(choices))
        elif value not in choices:
            self._range(
                where, label, f"is '{value}', not one of " + ", ".join(choices) + suggestion(value, choices)
            )

    def _padding_mode(self, value, where, label) -> None:
        self._enum(value, where, label, PADDING_MODES)

    def _padding_mode_2d(self, value, where, label) -> None:
        self._enum(value, where, label, PADDING_MODES[:2])  # 'causal' is for 1D layers only

    def _data_format(self, value, where, label) -> None:
        self._enum(value, where, label, DATA_FORMATS)

    def _layer(self, value, where, label) -> None:
        if value is not None:
            self.check_nested_layer(value, where, label)

    def _shape(self, value, where, label) -> None:
        if not isinstance(value, list):
            self._wrong(value, where, label, "a list of dimensions")
            return
        for index, item in enumerate(value):
            if item is not None and item != -1:
                self._int(item, where + (index,), label, 1, "positive dimensions (or -1, or null)")

    def _int_list(self, value, where, label) -> None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                self._wrong(value, where, label, "a list of integers")
                return

    def _bool(self, value, where, label) -> None:
        if not isinstance(value, bool):
            hint = "kspec reads YAML 1.2: write true or false" if isinstance(value, str) else None
            self.out.error(where, "KS302", f"'{label}' expects true or false, got {describe(value)}", hint)

    def _bool_or_null(self, value, where, label) -> None:
        if value is not None:
            self._bool(value, where, label)

    def _dtype(self, value, where, label) -> None:
        if value is not None and not isinstance(value, (str, dict)):
            self._wrong(value, where, label, "a dtype name such as float32")

    def _identifier(self, value, where, label) -> None:
        if not isinstance(value, str) or not value.isidentifier():
            self._wrong(value, where, label, "an identifier")

    def _int_like(self, value, where, label) -> None:
        if value is None or isinstance(value, list):
            return
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and math.isfinite(value) and value == int(value):
                return
            self._wrong(value, where, label, "an integer")

    def _number_like(self, value, where, label) -> None:
        if value is not None and not isinstance(value, list):
            self._number(value, where, label)

    def _string_like(self, value, where, label) -> None:
        if isinstance(value, (bool, int, float, list)):
            self._wrong(value, where, label, "a string")

    def _any(self, value, where, label) -> None:
        if isinstance(value, float) and math.isnan(value):
            self._range(where, label, "is NaN")


_LAYER_ARG_KINDS: dict = {}


def _layer_arg_kind(type_name: str, key: str, param) -> str:
    """The kind of a layer's argument, computed once per layer type and argument."""
    kind = _LAYER_ARG_KINDS.get((type_name, key))
    if kind is None:
        kind = kind_of(key, param.default, not param.required)
        if kind == "padding_mode" and not type_name.endswith("1D"):
            kind = "padding_mode_2d"  # 'causal' is for 1D layers only
        _LAYER_ARG_KINDS[(type_name, key)] = kind
    return kind


def _call_arg_kind(key: str, param) -> str:
    """The kind of a constant call argument: from its name, else from its default."""
    if param is None:  # taken by **kwargs
        return "any"
    return CALL_BY_NAME.get(key) or kind_of(key, param.default, not param.required)


def _accepted(signature) -> str:
    own = [p for p in signature.params][:12]
    return "accepted: " + ", ".join(own) + (", ..." if len(signature.params) > 12 else "")
