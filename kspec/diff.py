"""`kspec diff`: what changed between two models, layer by layer, and whether weights still load.

Each side is a valid spec (a saved model is imported into one first, by the caller). A side's
layers are the lowered graph's calls (`flatten`: Keras names, types, arguments with block
parameters substituted, sharing) with their static shapes and parameter counts (`shapes.infer`);
nothing is built and Keras is not imported. Layers are matched by Keras name first; those left
over are matched structurally (same type, the same inputs or the same consumers once the rest is
matched, and at most RENAME_ARGS arguments apart) and reported as renamed.

Weights are matched by the two rules of `kspec plan`: by name (kspec.transfer_weights,
load_named_weights) and by position (get_weights / set_weights). Without building the model the
weight shapes themselves are not known; two layers are taken to hold weights of the same shapes
when they have the same type, the same number of parameters and the same arguments, leaving out
those that never shape a weight (WEIGHTLESS_ARGS).
"""

from __future__ import annotations

from typing import NamedTuple

from .backends.order import keras_layer_order
from .catalog import catalog
from .flatten import Port, flatten
from .importer.values import equals_default, object_signature
from .shapes import infer

# At most this many arguments may differ between two layers matched by structure.
RENAME_ARGS = 2
# Arguments that never change the shapes of a layer's weights: how they are initialized,
# regularized or constrained, how the layer applies them, and whether they train.
WEIGHTLESS_ARGS = {
    "activation",
    "recurrent_activation",
    "activity_regularizer",
    "trainable",
    "dtype",
    "padding",
    "strides",
    "dilation_rate",
    "dropout",
    "recurrent_dropout",
    "rate",
    "seed",
    "momentum",
    "epsilon",
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
}
WEIGHTLESS_SUFFIXES = ("_initializer", "_regularizer", "_constraint")


class Layer(NamedTuple):
    """One layer call of a side, as the diff sees it."""

    name: str
    type: str
    args: dict  # the arguments away from their Keras defaults
    call: dict  # the call's constant keyword arguments (`call:`)
    inputs: object  # the call's input tensors as names: a str, a list or a dict of them
    share: str | None  # the layer whose weights this call reuses
    output: object  # the output shape (a tuple, a list of them, or None when unknown)
    params: int | None
    trainable: int | None


class LayerChange(NamedTuple):
    """One layer added (a None), removed (b None), renamed or changed."""

    status: str  # "added", "removed", "renamed" or "changed"
    a: Layer | None
    b: Layer | None
    args: list  # (argument, value in A, value in B), MISSING where a side leaves it at its default
    inputs: bool = False  # the call takes other tensors

    @property
    def params_delta(self) -> int | None:
        a = self.a.params if self.a else 0
        b = self.b.params if self.b else 0
        return None if a is None or b is None else b - a


class Verdict(NamedTuple):
    """Whether A's weights load into B by one matching rule."""

    loads: bool | None  # None: some parameter count is unknown, so kspec cannot tell
    problems: list  # why not, one line each


class Side(NamedTuple):
    """What one side is: where it came from, its model name, its totals."""

    source: str
    name: str
    params: int | None
    trainable: int | None


class Diff(NamedTuple):
    a: Side
    b: Side
    inputs: list  # (name in A or None, name in B or None, shape in A, shape in B), for each changed
    outputs: tuple | None  # (A's outputs, B's outputs) as "name: tensor" strings, when they differ
    layers: list  # LayerChanges, in B's build order with removed layers where they were
    unchanged: int  # layers matched with nothing changed
    by_name: Verdict
    by_position: Verdict

    @property
    def equal(self) -> bool:
        return not (self.inputs or self.outputs or self.layers)

    @property
    def params_delta(self) -> int | None:
        a, b = self.a.params, self.b.params
        return None if a is None or b is None else b - a


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # an argument a side leaves at its default


def same_value(a, b) -> bool:
    """Whether two argument values say the same ([3, 3] and 3, an initializer and its alias)."""
    return a == b or equals_default(a, b) or equals_default(b, a)


def diff(spec_a, spec_b, source_a: str = "A", source_b: str = "B") -> Diff:
    """The differences between two valid specs, from A to B."""
    layers_a, layers_b = _layers(spec_a), _layers(spec_b)
    graph_a, graph_b = flatten(spec_a), flatten(spec_b)
    report_a, report_b = infer(spec_a), infer(spec_b)
    inputs, mapping = _match_inputs(report_a.input_shapes, report_b.input_shapes)
    _match_layers(layers_a, layers_b, mapping)
    changes, unchanged = _changes(layers_a, layers_b, mapping)
    outputs_a = [_output(name, port, mapping) for name, port in graph_a.outputs]  # in B's names
    outputs_b = [_output(name, port, {}) for name, port in graph_b.outputs]
    return Diff(
        Side(source_a, spec_a.name, report_a.total_params, report_a.trainable_params),
        Side(source_b, spec_b.name, report_b.total_params, report_b.trainable_params),
        inputs,
        None if outputs_a == outputs_b else ([_output(n, p, {}) for n, p in graph_a.outputs], outputs_b),
        changes,
        unchanged,
        _by_name(layers_a, layers_b, mapping),
        _by_position(_weighted_in_order(layers_a, graph_a), _weighted_in_order(layers_b, graph_b)),
    )


def _layers(spec) -> dict:
    """A side's layer calls by Keras name, in build order, each nested model (a model block call)
    before its layers, as one entry of its Keras type: a change of kind (`model: sequential` to
    `functional`) changes the layout of Keras's weight files."""
    out = {}
    for shape in infer(spec).layers:
        node = shape.node
        for frame in node.scope:
            if frame.model is not None and frame.call.share is None and frame.name not in out:
                kind = "Sequential" if frame.model == "sequential" else "Functional"
                ports = _names(list(frame.ports) if len(frame.ports) > 1 else frame.ports[0])
                out[frame.name] = Layer(frame.name, kind, {}, {}, ports, None, None, 0, 0)
        out[node.name] = Layer(
            node.name,
            node.type,
            {} if node.share else _own_args(node.type, _resolved(node.type, node.args, shape.input_shapes)),
            _own_call_args(node.type, node.call_args),
            _names(node.inputs),
            node.share,
            shape.output,
            shape.params,
            shape.trainable,
        )
    return out


def _resolved(type_name: str, args: dict, input_shapes) -> dict:
    """The arguments, with the defaults that Keras resolves when it builds a layer and then writes
    into its config: a saved model has them where a spec leaves them out. (shapes/attention.py
    resolves value_dim the same way.)"""
    signature = catalog().layer(type_name)
    if signature is None or signature.canonical != "MultiHeadAttention":
        return args
    resolved = dict(args)
    if resolved.get("value_dim") is None:
        resolved["value_dim"] = args.get("key_dim")
    query = input_shapes.get("query") if isinstance(input_shapes, dict) else (input_shapes or [None])[0]
    if resolved.get("attention_axes") is None and isinstance(query, tuple):
        resolved["attention_axes"] = list(range(1, len(query) - 1))
    return resolved


def _own_args(type_name: str, args: dict) -> dict:
    """The arguments that are not at the layer's (or nested Keras object's) default."""
    signature = catalog().layer(type_name) or object_signature(type_name)
    out = {}
    for key, value in args.items():
        value = (
            _own_args(value["type"], value)
            if isinstance(value, dict) and isinstance(value.get("type"), str)
            else value
        )
        param = signature.params.get(key) if signature else None
        if param is None or param.required or not same_value(value, param.default):
            out[key] = value
    return out


def _own_call_args(type_name: str, call_args: dict) -> dict:
    """The call arguments that are not at the default of the layer's call() (Keras records a
    Dropout called without `training` as training=False)."""
    signature = catalog().layer_call(type_name) if call_args else None
    if signature is None:
        return call_args
    return {
        key: value
        for key, value in call_args.items()
        if key not in signature.params
        or signature.params[key].required
        or not same_value(value, signature.params[key].default)
    }


def _names(inputs):
    if isinstance(inputs, Port):
        return str(inputs)
    if isinstance(inputs, list):
        return [_names(item) for item in inputs]
    return {key: _names(item) for key, item in inputs.items()}


def _renamed(inputs, mapping: dict):
    """A call's inputs as A names them, in B's names where the tensor's maker is matched."""
    if isinstance(inputs, str):
        node, bracket, rest = inputs.partition("[")
        return mapping.get(node, "\0" + node) + bracket + rest  # \0: no B layer has this name
    if isinstance(inputs, list):
        return [_renamed(item, mapping) for item in inputs]
    return {key: _renamed(item, mapping) for key, item in inputs.items()}


def _output(name, port: Port, mapping: dict) -> str:
    tensor = _renamed(str(port), mapping).lstrip("\0") if mapping else str(port)
    return tensor if name is None else f"{name}: {tensor}"


def _match_inputs(shapes_a: dict, shapes_b: dict):
    """Model inputs by name, then the rest in order; the changed ones, and A name -> B name."""
    mapping = {name: name for name in shapes_a if name in shapes_b}
    left_a = [n for n in shapes_a if n not in shapes_b]
    left_b = [n for n in shapes_b if n not in shapes_a]
    mapping.update(zip(left_a, left_b))
    changed = [
        (a, b, shapes_a[a], shapes_b[b]) for a, b in mapping.items() if a != b or shapes_a[a] != shapes_b[b]
    ]
    changed += [(a, None, shapes_a[a], None) for a in left_a[len(left_b) :]]
    changed += [(None, b, None, shapes_b[b]) for b in left_b[len(left_a) :]]
    return changed, mapping


def _arg_changes(a: Layer, b: Layer) -> list:
    """(argument, A's value, B's value) for each that differs; call arguments as `call.NAME`."""
    return _changed(a.args, b.args, "") + _changed(a.call, b.call, "call.")


def _changed(mine: dict, theirs: dict, prefix: str) -> list:
    return [
        (prefix + key, mine.get(key, MISSING), theirs.get(key, MISSING))
        for key in list(mine) + [k for k in theirs if k not in mine]
        if not same_value(mine.get(key, MISSING), theirs.get(key, MISSING))
    ]


def _match_layers(layers_a: dict, layers_b: dict, mapping: dict) -> None:
    """Add to `mapping` (A name -> B name) the layers matched by name, then by structure."""
    for name in layers_a:
        if name in layers_b:
            mapping[name] = name
    # One pass each is enough: forward meets a layer after the layers it takes, backward after
    # those that take it, and a layer matched backward has every consumer matched already.
    _match_forward(layers_a, layers_b, mapping)
    _match_backward(layers_a, layers_b, mapping)


def _closest(a: Layer, candidates: list, layers_b: dict, taken: set):
    """The candidate of A's type with the fewest different arguments, if few enough."""
    best, fewest = None, RENAME_ARGS + 1
    for name in candidates:
        b = layers_b[name]
        if name in taken or b.type != a.type or (a.share is None) != (b.share is None):
            continue
        count = len(_arg_changes(a, b))
        if count < fewest:
            best, fewest = name, count
    return best


def _match_forward(layers_a: dict, layers_b: dict, mapping: dict) -> None:
    """Unmatched layers that take the same (matched) tensors, in build order."""
    taken = set(mapping.values())
    by_inputs: dict = {}
    for name, b in layers_b.items():
        if name not in taken:
            by_inputs.setdefault(repr(b.inputs), []).append(name)
    for name, a in layers_a.items():
        if name in mapping:
            continue
        match = _closest(a, by_inputs.get(repr(_renamed(a.inputs, mapping)), []), layers_b, taken)
        if match is not None:
            mapping[name] = match
            taken.add(match)


def _consumers(layers: dict) -> dict:
    """Layer name -> the sorted names of the calls that take its outputs."""
    out: dict = {}
    for name, layer in layers.items():
        for port in _flat(layer.inputs):
            out.setdefault(port.partition("[")[0], set()).add(name)
    return {name: sorted(users) for name, users in out.items()}


def _flat(inputs) -> list:
    if isinstance(inputs, str):
        return [inputs]
    values = inputs.values() if isinstance(inputs, dict) else inputs
    return [port for item in values for port in _flat(item)]


def _match_backward(layers_a: dict, layers_b: dict, mapping: dict) -> None:
    """Unmatched layers whose outputs go to the same (matched) calls, last first."""
    taken = set(mapping.values())
    users_a, users_b = _consumers(layers_a), _consumers(layers_b)
    by_users: dict = {}
    for name in layers_b:
        if name not in taken and users_b.get(name):
            by_users.setdefault(tuple(users_b[name]), []).append(name)
    for name in reversed(list(layers_a)):
        if name in mapping or not users_a.get(name):
            continue
        users = [mapping.get(user) for user in users_a[name]]
        if None in users:
            continue
        match = _closest(layers_a[name], by_users.get(tuple(sorted(users)), []), layers_b, taken)
        if match is not None:
            mapping[name] = match
            taken.add(match)


def _changes(layers_a: dict, layers_b: dict, mapping: dict):
    """The LayerChanges in B's order (a removed layer after the B layer its predecessor became),
    and how many matched layers did not change."""
    changes, unchanged, after = [], 0, {}
    previous = None  # the B name of the last matched A layer
    for name, a in layers_a.items():
        if name in mapping:
            previous = mapping[name]
        else:
            after.setdefault(previous, []).append(LayerChange("removed", a, None, []))
    back = {b: a for a, b in mapping.items()}
    changes.extend(after.get(None, []))
    for name, b in layers_b.items():
        if name not in back:
            changes.append(LayerChange("added", None, b, []))
        else:
            a = layers_a[back[name]]
            change = _change(a, b, mapping)
            if change is None:
                unchanged += 1
            else:
                changes.append(change)
        changes.extend(after.get(name, []))
    return changes, unchanged


def _change(a: Layer, b: Layer, mapping: dict) -> LayerChange | None:
    args = _arg_changes(a, b)
    if a.type != b.type:
        args.insert(0, ("type", a.type, b.type))
    if (a.share and mapping.get(a.share, "\0")) != b.share:
        args.insert(0, ("share", a.share or MISSING, b.share or MISSING))
    inputs = _renamed(a.inputs, mapping) != b.inputs
    if a.name != b.name and not (a.share and b.share):  # a shared call's name is not a Keras layer's
        return LayerChange("renamed", a, b, args, inputs)
    if args or inputs or a.output != b.output or a.params != b.params or a.trainable != b.trainable:
        return LayerChange("changed", a, b, args, inputs)
    return None


def _same_weights(a: Layer, b: Layer) -> bool:
    """Whether two layers hold weights of the same shapes, as far as kspec can tell unbuilt."""
    if a.type != b.type or a.params != b.params:
        return False
    keys = {k for k in (*a.args, *b.args) if k not in WEIGHTLESS_ARGS and not k.endswith(WEIGHTLESS_SUFFIXES)}
    return all(same_value(a.args.get(k, MISSING), b.args.get(k, MISSING)) for k in keys)


def _weighted(layers: dict) -> dict:
    """The layers that own weights (or may: parameter count unknown); shared calls own none."""
    return {name: layer for name, layer in layers.items() if not layer.share and layer.params != 0}


def _described(layer: Layer) -> str:
    params = "? parameters" if layer.params is None else f"{layer.params:,} parameters"
    return f"'{layer.name}' ({layer.type}, {params})"


def _unknown(layers) -> Verdict | None:
    unknown = [layer.name for layer in layers if layer.params is None]
    if unknown:
        return Verdict(None, [f"parameter counts unknown for {', '.join(repr(n) for n in unknown[:5])}"])
    return None


def _by_name(layers_a: dict, layers_b: dict, mapping: dict) -> Verdict:
    """Every layer of A with weights has a layer of its name in B with weights of the same shapes."""
    mine, theirs = _weighted(layers_a), _weighted(layers_b)
    problems = []
    for name, a in mine.items():
        b = theirs.get(name)
        if b is None:
            renamed = f" (renamed '{mapping[name]}')" if mapping.get(name, name) != name else ""
            problems.append(f"'{name}' is not a layer with weights in B{renamed}")
        elif not _same_weights(a, b):
            problems.append(f"{_described(a)} in A, {_described(b)} in B")
    if problems:
        return Verdict(False, problems)
    return _unknown([*mine.values(), *(theirs[n] for n in mine)]) or Verdict(True, [])


def _weighted_in_order(layers: dict, graph) -> list:
    weighted = _weighted(layers)
    return [weighted[name] for name in keras_layer_order(graph) if name in weighted]


def _by_position(order_a: list, order_b: list) -> Verdict:
    """A's weights, in the order Keras lists them, fit B's in the same order."""
    for index, (a, b) in enumerate(zip(order_a, order_b)):
        if not _same_weights(a, b):
            return Verdict(
                False, [f"layer with weights number {index + 1}: {_described(a)} in A, {_described(b)} in B"]
            )
    if len(order_a) != len(order_b):
        return Verdict(False, [f"A has {len(order_a)} layers with weights, B {len(order_b)}"])
    return _unknown([*order_a, *order_b]) or Verdict(True, [])
