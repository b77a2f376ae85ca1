"""keras.ops calls (`op:`): the function, its tensor inputs and constant arguments; and the calls
that no model input reaches, which Keras would compute once while it builds the model."""

from __future__ import annotations

from ..catalog import catalog
from ..catalog.argkinds import kind_of
from ..diagnostics import did_you_mean, meant, suggestion
from ..flatten import flatten

# Op parameters whose kind their name says; the others go by their default, as for layers.
OP_ARG_KINDS = {
    "axis": "int_list",
    "axes": "int_list",
    "newshape": "int_list",
    "shape": "int_list",
    "start_indices": "int_list",
    "num_classes": "positive_int",
}


def check_op_call(call, checker) -> None:
    """The op exists and is allowed; `inputs` and the keys name its parameters, once each; every
    required one is given; constants have the kind of their parameter."""
    out = checker.out
    signature = catalog().op(call.op)
    if signature is None:
        excluded = catalog().ops_excluded.get(call.op)
        if excluded:
            message, hint = f"keras.ops.{call.op} cannot be used in a spec: {excluded}", None
        else:
            message = f"unknown keras.ops function '{call.op}'" + suggestion(call.op, catalog().ops)
            hint = "an op is a function of keras.ops, such as matmul, arange or softmax"
        out.error(call.where + ("op",), "KS701", message, hint)
        return
    bound, extra = signature.bind(call.inputs)
    if extra:
        tensors = ", ".join(signature.tensors) or "none"
        out.error(
            call.where + ("inputs",),
            "KS702",
            f"keras.ops.{call.op} takes {len(signature.tensors)} tensor inputs ({tensors}), "
            f"got {len(signature.tensors) + len(extra)}",
        )
    for key, value in bound.items():
        if key not in signature.params:
            where = call.where + ("inputs", key)
            out.error(where, "KS702", _unknown(signature, key), key=True)
        elif (signature.tensors.get(key) == "list") != isinstance(value, list):
            takes = "a list of tensors" if signature.tensors.get(key) == "list" else "one tensor"
            out.error(
                call.where + ("inputs",),
                "KS302",
                f"'{call.op}.{key}' takes {takes}, got {'a list' if isinstance(value, list) else 'one'}",
            )
    meant_keys = set()
    for key, value in call.args.items():
        param = signature.params.get(key)
        if param is None:
            match = did_you_mean(key, signature.params)
            meant_keys.add(match)
            out.error(call.where + (key,), "KS702", _unknown(signature, key, match), key=True)
        elif key in bound:
            out.error(
                call.where + (key,),
                "KS702",
                f"keras.ops.{call.op} gets '{key}' twice: from `inputs` and as a key",
                key=True,
            )
        elif key in signature.tensors:
            _check_tensor_constant(checker, value, call.where + (key,), f"{call.op}.{key}")
        elif not (value is None and not param.required):
            kind = OP_ARG_KINDS.get(key) or kind_of(key, param.default, not param.required)
            checker.check(kind, value, call.where + (key,), f"{call.op}.{key}")
    missing = [p for p in signature.required if p not in call.args and p not in bound and p not in meant_keys]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        tensors = [m for m in missing if m in signature.tensors]
        hint = "give tensors in `inputs`" if tensors else f"add {missing[0]}: ... to this call"
        out.error(call.where + ("op",), "KS703", f"keras.ops.{call.op} needs {names}", hint)


def _check_tensor_constant(checker, value, where: tuple, label: str) -> None:
    """A constant given for a tensor: a number, a boolean, or nested lists of one shape of them."""
    if checker._is_param("any", value, where, label):
        return
    rows = [value]
    while rows and all(isinstance(r, list) for r in rows):
        if len({len(r) for r in rows}) > 1 or not all(rows):
            break
        rows = [item for r in rows for item in r]
    if rows and all(isinstance(r, (bool, int, float)) for r in rows):
        checker.check("any", value, where, label)  # NaN is refused as for layers
        return
    checker.out.error(
        where,
        "KS302",
        f"'{label}' takes a tensor: give a number, or nested lists of numbers of one shape",
        "tensors computed in the model go in `inputs`",
    )


def _unknown(signature, key: str, match: str | None = None) -> str:
    accepted = ", ".join(signature.params)
    if match is None:
        match = did_you_mean(key, signature.params)
    return f"keras.ops.{signature.name} takes no argument '{key}'" + (
        meant(match) if match else f" (it takes {accepted})"
    )


def check_constant_calls(spec, out) -> None:
    """Refuse a layer, or an output, that no model input reaches: Keras would run the layer once
    while building the model and keep its output as a constant, its weights outside the model."""
    graph = flatten(spec)
    constant = set()
    for node in graph.nodes:
        ports = node.ports()
        if not all(p.node in constant for p in ports):
            continue
        constant.add(node.name)
        if node.op is not None:
            continue
        context = (
            f" (in block {node.scope[-1].block}, called as '{node.scope[-1].name}')" if node.scope else ""
        )
        out.error(
            node.where + ("inputs",) if ports else node.where,
            "KS213",
            f"layer '{node.name}'{context} takes only constants: no model input reaches it",
            "Keras would call it once while building the model and keep its output as a constant "
            "(its weights would not be trained or saved); make its input depend on a model input, "
            "e.g. add the positions to `zeros_like` of the tokens",
        )
    for name, port in graph.outputs:
        if port.node in constant:
            node = graph.node(port.node)
            out.error(
                node.where,
                "KS213",
                f"output '{name or port.node}' is a constant: no model input reaches it",
                "a model's outputs are computed from its inputs",
            )
