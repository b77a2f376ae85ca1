"""The `compile` section: optimizer, losses, metrics, and per-output settings."""

from __future__ import annotations

from ..diagnostics import suggestion
from ..ir import Ref, Spec, instance_name, keras_name, output_index


def output_names(spec: Spec) -> list[str]:
    """Names that per-output settings may use: keys of named outputs, else layer names."""
    outputs = spec.scope.outputs
    if outputs is None:
        return []
    if outputs.kind == "named":
        return [name for name, _ in outputs.items]
    return [keras_output_name(spec, ref) for ref in outputs.refs]


def keras_output_name(spec: Spec, ref: Ref, prefix: str = "", scope=None) -> str:
    """The name of the Keras layer that produces a referenced tensor."""
    scope = scope or spec.scope
    call = scope.call(ref.name)
    if call is None:
        return prefix + ref.name
    # the last repetition makes the output
    name = keras_name(prefix[:-1], instance_name(call, call.repeat or 1))
    block = spec.blocks.get(call.type) if call.type else None
    if block is None or block.scope.outputs is None or not block.scope.outputs.items or block.model:
        return name  # a nested model's outputs are its own: Keras names them after it
    index = output_index(block.scope.outputs, ref.output)
    chosen = block.scope.outputs.refs[index or 0]
    return keras_output_name(spec, chosen, name + "_", block.scope)


def check_compile(spec: Spec, checker) -> None:
    settings = spec.compile
    if settings is None:
        return
    where = ("compile",)
    names = output_names(spec)
    if "optimizer" in settings:
        checker.check("optimizers", settings["optimizer"], where + ("optimizer",), "optimizer")
    for key, namespace in (("loss", "losses"), ("metrics", "metrics"), ("weighted_metrics", "metrics")):
        if key in settings:
            _per_output(settings[key], namespace, where + (key,), key, names, checker)
    if "loss_weights" in settings:
        weights = settings["loss_weights"]
        if isinstance(weights, dict):
            _check_keys(weights, where + ("loss_weights",), names, checker.out)
        elif isinstance(weights, list):
            _check_length(weights, where + ("loss_weights",), "loss_weights", names, checker.out)


def _per_output(value, namespace, where, key, names, checker) -> None:
    many = key != "loss"  # metrics are always lists, or per-output mappings of lists
    if isinstance(value, dict) and "type" not in value:
        _check_keys(value, where, names, checker.out)
        for name, item in value.items():
            for index, entry in enumerate(item if isinstance(item, list) else [item]):
                sub = where + (name,) + ((index,) if isinstance(item, list) else ())
                checker.check(namespace, entry, sub, key)
    elif isinstance(value, list):
        if not many:
            _check_length(value, where, key, names, checker.out)
        for index, entry in enumerate(value):
            checker.check(namespace, entry, where + (index,), key)
    else:
        checker.check(namespace, value, where, key)


def _check_keys(mapping: dict, where, names, out) -> None:
    for name in mapping:
        if name not in names:
            out.error(
                where + (name,),
                "KS501",
                f"'{name}' names no output" + suggestion(name, names),
                "outputs: " + ", ".join(names),
                key=True,
            )


def _check_length(items: list, where, key, names, out) -> None:
    if names and len(items) != len(names):
        out.error(
            where,
            "KS501",
            f"`{key}` lists {len(items)} entries for {len(names)} outputs",
            "give one per output, in order, or a mapping of output name to value",
        )
