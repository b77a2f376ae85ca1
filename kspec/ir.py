"""The spec as a graph: immutable records built from the loaded YAML data.

Building is defensive: items that the schema already rejected are skipped, so
that semantic checks can still run on the rest and report everything at once.
Every element keeps `where`, the path of its YAML node, for diagnostics.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Union

CALL_KEYS = ("name", "type", "share", "op", "inputs", "repeat", "call", "keras_name", "keras_names")
_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z])([A-Z])")
_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.([0-9]+|[A-Za-z_][A-Za-z0-9_]*))?$")


def snake_case(type_name: str) -> str:
    """Keras's default layer name for a class: Conv2D -> conv2d, BatchNormalization -> batch_normalization."""
    return _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", type_name)).lower()


class Ref(NamedTuple):
    """A reference to a tensor: `name`, `name.K` or `name.out`."""

    name: str
    output: Union[int, str, None]
    where: tuple

    def __str__(self) -> str:
        return self.name if self.output is None else f"{self.name}.{self.output}"


def parse_ref(text, where: tuple) -> Ref | None:
    if not isinstance(text, str):
        return None
    match = _REF.match(text)
    if not match:
        return None
    name, output = match.groups()
    if output is not None and output.isdigit():
        output = int(output)
    return Ref(name, output, where)


# How a call receives its inputs: one tensor, a list, or keyword arguments.
Inputs = Union[Ref, list, dict]


class Input(NamedTuple):
    name: str
    shape: tuple
    dtype: str
    where: tuple
    sparse: bool = False
    ragged: bool = False
    batch_size: int | None = None
    optional: bool = False


class Call(NamedTuple):
    """One item of a `layers` list: a layer (`type`), a shared layer (`share`) or a keras.ops call (`op`)."""

    name: str
    type: str | None
    share: str | None
    inputs: Inputs | None  # None only when no previous output exists
    implicit_inputs: bool
    repeat: int | None
    args: dict
    where: tuple
    explicit_name: bool = True
    call_args: dict = {}  # constant keyword arguments of the layer's call(), from `call:`
    op: str | None = None  # a keras.ops function; `args` are its constant arguments
    keras_name: str | None = None  # the name Keras gives the call's layer, from `keras_name:`
    # A block call's name map, from `keras_names:`: a layer of the block (`act`, or `body/act` in a
    # block it calls) -> the whole Keras name of that layer in this call.
    keras_names: dict = {}

    def refs(self) -> list[Ref]:
        return list(iter_refs(self.inputs))

    @property
    def share_path(self) -> list[str]:
        """`share` split at its slashes: the call in this scope it names, then the calls inside
        that call's block down to the one shared (`tower/proj`); empty without `share`."""
        return self.share.split("/") if self.share else []

    def depends_on(self) -> list[str]:
        """Names in the scope this call needs first: its inputs, and the call it shares from."""
        return [r.name for r in self.refs()] + self.share_path[:1]


def iter_refs(inputs):
    """The Refs of a call's inputs: one, a list, or keyword arguments (maybe lists)."""
    return iter_leaves(inputs)


def iter_leaves(inputs):
    """The leaves (Refs or Ports) of an inputs structure of lists and dicts."""
    if isinstance(inputs, list):
        for item in inputs:
            yield from iter_leaves(item)
    elif isinstance(inputs, dict):
        for item in inputs.values():
            yield from iter_leaves(item)
    elif inputs is not None:
        yield inputs


def instance_names(call: Call) -> list[str]:
    """The names a call's layers take in its scope: `name`, or `name_1` ... `name_N` with repeat;
    `keras_name` in place of `name` where the call has one, its `{}` the repetition's number
    (`conv2_block{}`: conv2_block1, conv2_block2).

    Inside a block call, Keras names are these with the block call's own instance name and
    an underscore before them (`res2_2_conv_a`), see keras_name(). Only for a spec whose
    expansion was checked.
    """
    return [instance_name(call, i) for i in range(1, (call.repeat or 1) + 1)]


def instance_name(call: Call, index: int) -> str:
    """The name of repetition `index` (from 1) of a call, without making the others. Without
    repeat, a `{}` (in a block) stays, for keras_name() to fill."""
    name = call.keras_name or call.name
    if "{}" in name and call.repeat:
        return name.replace("{}", str(index))
    return f"{name}_{index}" if call.repeat else name


def keras_name(outer: str, local: str) -> str:
    """The Keras name of a layer or block call instance named `local` in its scope, inside the
    block call instance named `outer` ('' at the top level): `outer_local`, or, where `local`
    has a `{}` (`normal_conv_1_{}`, or `{}` alone), `local` with `outer` in its place."""
    if "{}" in local:
        return local.replace("{}", outer)
    return f"{outer}_{local}" if outer else local


def output_names(outputs: Outputs) -> list:
    """The name each output of a scope is referred to by: its key in a named mapping, else
    the layer it is (`x.K` outputs have none: None)."""
    return [name or (ref.name if ref.output is None else None) for name, ref in outputs.items]


def output_index(outputs: Outputs, selector) -> int | None:
    """Which output of a scope `name` (the first), `name.K` or `name.out` picks; None if none."""
    if selector is None:
        selector = 0
    if isinstance(selector, int):
        return selector if selector < len(outputs.items) else None
    names = output_names(outputs)
    return names.index(selector) if selector in names else None


def calls_reaching_outputs(scope: Scope) -> set:
    """Names of the calls (and inputs) that some output of a scope depends on; a shared call
    depends on the call whose layer it shares. Of two calls with one name (an error), the first."""
    by_name: dict = {}
    for call in scope.calls:
        by_name.setdefault(call.name, call)

    def parents(name):
        call = by_name.get(name)
        return [] if call is None else call.depends_on()

    return reachable([r.name for r in scope.outputs.refs] if scope.outputs else [], parents)


def reachable(starts, parents) -> set:
    """Every name reachable from `starts` through `parents(name)`, without recursion."""
    seen, todo = set(), list(starts)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(parents(name))
    return seen


class Outputs(NamedTuple):
    """Outputs of a model or block: `kind` is 'single', 'list' or 'named'."""

    kind: str
    items: tuple  # of (output name or None, Ref)
    where: tuple

    @property
    def refs(self) -> list[Ref]:
        return [ref for _, ref in self.items]


class Scope(NamedTuple):
    """A graph: the model itself, or one block."""

    inputs: tuple  # input names, in order
    calls: tuple  # of Call
    outputs: Outputs | None
    where: tuple

    def call(self, name: str) -> Call | None:
        for call in self.calls:
            if call.name == name:
                return call
        return None


class Block(NamedTuple):
    name: str
    params: dict  # name -> default (None = required)
    scope: Scope
    where: tuple
    model: str | None = None  # "functional" or "sequential": each call builds a nested Keras model


class Contract(NamedTuple):
    """What a `custom` entry says its layer gives (kspec.shapes.contracts applies it)."""

    output_shape: object  # "same", {"same_as": K}, a shape list, or a list of shape lists
    weights: object  # trainable parameters: an int, or an expression over input dims and $arguments
    non_trainable: object  # the same for non-trainable parameters (0 when not said)
    where: tuple


class Spec:
    """A whole spec: the model scope, blocks, custom layers and compile settings."""

    def __init__(
        self,
        name: str,
        description: str | None,
        inputs: dict,
        scope: Scope,
        blocks: dict,
        custom: dict,
        compile: dict | None,
        document=None,
        custom_where: dict | None = None,
        clashes: tuple = (),
        library: bool = False,
        contracts: dict | None = None,
        distribution: dict | None = None,
    ):
        self.name = name
        self.description = description
        self.inputs = inputs  # name -> Input
        self.scope = scope  # the model's own graph
        self.blocks = blocks  # name -> Block
        self.custom = custom  # type name -> import path
        self.contracts = contracts or {}  # type name -> Contract, for custom entries that have one
        self.compile = compile
        self.distribution = distribution  # the `distribution` section as written, or None
        self.document = document
        self.custom_where = custom_where or {name: ("custom", name) for name in custom}  # name -> where
        self.clashes = clashes  # blocks or custom layers defined twice (spec and includes)
        self.library = library  # a block library: blocks, no model
        self.params: dict = {}  # top-level parameters, name -> kspec.params.Parameter
        self.written = None  # with params: the Spec with `$names` kept, which modules are written from
        self.param_sources: dict = {}  # where -> the `$name` or expression a parameter's value replaced
        self.bindings: dict = {}  # what the model's own `$names` stand for when lowering (the written Spec)
        self.target = None  # the Keras release validation checked against (catalog.versions.Target)
        # What later passes derive from a valid spec, made once and kept here
        # (flatten.flatten and shapes.infer fill them in on first use).
        self.lowered = None  # the FlatGraph
        self.shapes = None  # the ShapeReport


def build_spec(data: dict, document=None, included: tuple = ()) -> Spec:
    """The IR of structurally checked data (malformed parts are left out). `included` holds
    (where prefix, data) of each included file, whose blocks and custom layers join the spec's;
    a name defined twice keeps its first definition and is recorded in `spec.clashes`."""
    data = data if isinstance(data, dict) else {}
    inputs = {}
    raw_inputs = data.get("inputs")
    if isinstance(raw_inputs, dict):
        for name, body in raw_inputs.items():
            body = body if isinstance(body, dict) else {}
            shape = body.get("shape")
            inputs[name] = Input(
                name=name,
                shape=tuple(shape) if isinstance(shape, list) else (),
                dtype=body.get("dtype", "float32"),
                where=("inputs", name),
                sparse=body.get("sparse", False) is True,
                ragged=body.get("ragged", False) is True,
                batch_size=body.get("batch_size"),
                optional=body.get("optional", False) is True,
            )
    scope = build_scope(tuple(inputs), data.get("layers"), data.get("outputs"), ())
    blocks: dict = {}
    custom: dict = {}
    custom_where: dict = {}
    contracts: dict = {}
    clashes: list = []  # (what, name, where, where of the first definition)
    for prefix, source in (((), data), *included):
        _add_blocks(blocks, source.get("blocks"), prefix, clashes)
        raw_custom = source.get("custom")
        for name, body in raw_custom.items() if isinstance(raw_custom, dict) else ():
            where = prefix + ("custom", name)
            if name in custom_where:
                clashes.append(("custom layer", name, where, custom_where[name]))
                continue
            path = body.get("class") if isinstance(body, dict) else body
            custom[name], custom_where[name] = path, where
            if isinstance(body, dict) and "output_shape" in body and "weights" in body:
                contracts[name] = Contract(
                    body["output_shape"], body["weights"], body.get("non_trainable_weights", 0), where
                )
    compile_ = data.get("compile") if isinstance(data.get("compile"), dict) else None
    description = data.get("description") if isinstance(data.get("description"), str) else None
    name = data.get("name") if isinstance(data.get("name"), str) else "model"
    return Spec(
        name,
        description,
        inputs,
        scope,
        blocks,
        custom,
        compile_,
        document,
        custom_where=custom_where,
        clashes=tuple(clashes),
        library=is_library(data),
        contracts=contracts,
        distribution=data.get("distribution") if isinstance(data.get("distribution"), dict) else None,
    )


def is_library(data: dict) -> bool:
    """Whether a document is a block library: blocks, and no model (inputs, layers, outputs)."""
    return "blocks" in data and not any(key in data for key in ("inputs", "layers", "outputs"))


def _add_blocks(blocks: dict, raw_blocks, prefix: tuple, clashes: list) -> None:
    if isinstance(raw_blocks, dict):
        for name, body in raw_blocks.items():
            if not isinstance(body, dict):
                continue
            where = prefix + ("blocks", name)
            if name in blocks:
                clashes.append(("block", name, where, blocks[name].where))
                continue
            block_inputs = body.get("inputs")
            block_inputs = (
                tuple(i for i in block_inputs if isinstance(i, str)) if isinstance(block_inputs, list) else ()
            )
            params = body.get("params") if isinstance(body.get("params"), dict) else {}
            model = body.get("model") if body.get("model") in ("functional", "sequential") else None
            blocks[name] = Block(
                name,
                dict(params),
                build_scope(block_inputs, body.get("layers"), body.get("outputs"), where),
                where,
                model,
            )


def build_scope(inputs: tuple, raw_layers, raw_outputs, where: tuple) -> Scope:
    calls = []
    taken = (
        {
            item["name"]
            for item in raw_layers or ()
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        if isinstance(raw_layers, list)
        else set()
    )
    counters: dict[str, int] = {}
    previous: Ref | None = Ref(inputs[0], None, where + ("inputs", 0)) if len(inputs) == 1 else None
    for index, item in enumerate(raw_layers if isinstance(raw_layers, list) else ()):
        item_where = where + ("layers", index)
        if not isinstance(item, dict):
            continue
        type_name = item.get("type") if isinstance(item.get("type"), str) else None
        share = item.get("share") if isinstance(item.get("share"), str) else None
        op = item.get("op") if isinstance(item.get("op"), str) and item["op"].isidentifier() else None
        name = item.get("name") if isinstance(item.get("name"), str) else None
        explicit = name is not None
        if name is None:
            name = _derive_name(
                type_name or (share and share.split("/")[-1]) or op or "layer", taken, counters
            )
        raw_in = item.get("inputs")
        implicit = raw_in is None
        call_inputs = previous if implicit else _parse_inputs(raw_in, item_where + ("inputs",))
        if implicit and op is not None and not _op_takes_tensors(op):
            call_inputs = []  # `arange`, `ones`: nothing to take from the previous call
        if call_inputs is None and not implicit:
            call_inputs = []  # malformed: the schema has reported it
        repeat = item.get("repeat")
        call_args = item.get("call")
        keras_name = item.get("keras_name")
        keras_names = item.get("keras_names")
        call = Call(
            name=name,
            type=type_name,
            share=share,
            inputs=call_inputs,
            implicit_inputs=implicit,
            repeat=repeat if isinstance(repeat, int) and not isinstance(repeat, bool) else None,
            args={k: v for k, v in item.items() if k not in CALL_KEYS},
            where=item_where,
            explicit_name=explicit,
            call_args=dict(call_args) if isinstance(call_args, dict) else {},
            op=op,
            keras_name=keras_name if isinstance(keras_name, str) else None,
            keras_names=(
                {k: v for k, v in keras_names.items() if isinstance(v, str)}
                if isinstance(keras_names, dict)
                else {}
            ),
        )
        calls.append(call)
        previous = Ref(name, None, item_where)
    outputs = _parse_outputs(raw_outputs, where + ("outputs",))
    return Scope(inputs, tuple(calls), outputs, where)


def _op_takes_tensors(op: str) -> bool:
    """Whether a keras.ops function takes a tensor (an unknown one is taken to)."""
    from .catalog import catalog

    signature = catalog().op(op)
    return signature is None or bool(signature.tensors)


def _derive_name(base_type: str, taken: set, counters: dict) -> str:
    base = snake_case(base_type)
    while True:
        count = counters.get(base, 0)
        counters[base] = count + 1
        name = base if count == 0 else f"{base}_{count}"
        if name not in taken:
            taken.add(name)
            return name


def _parse_inputs(raw, where: tuple):
    if isinstance(raw, list):
        refs = [parse_ref(r, where + (i,)) for i, r in enumerate(raw)]
        return [r for r in refs if r is not None]
    if isinstance(raw, dict):
        refs = {k: _parse_inputs(v, where + (k,)) for k, v in raw.items() if not isinstance(v, dict)}
        return {k: r for k, r in refs.items() if r is not None}
    return parse_ref(raw, where)


def _parse_outputs(raw, where: tuple) -> Outputs | None:
    if isinstance(raw, str):
        ref = parse_ref(raw, where)
        return Outputs("single", ((None, ref),), where) if ref else None
    if isinstance(raw, list):
        items = tuple((None, parse_ref(r, where + (i,))) for i, r in enumerate(raw))
        return Outputs("list", tuple(i for i in items if i[1] is not None), where)
    if isinstance(raw, dict):
        items = tuple((k, parse_ref(v, where + (k,))) for k, v in raw.items())
        return Outputs("named", tuple(i for i in items if i[1] is not None), where)
    return None
