"""Expand blocks and repeats into a flat graph of concrete layer calls.

The flat graph is what Keras builds: one node per layer call, named as Keras
will name it (`res1_conv_a`, `res2_2_conv_a`; `tower/dense` in the nested model
`tower`, where Keras names it `dense`), with block parameters substituted. Shape inference, the functional and sequential generators and
the live builder all read it. It expects a spec without errors.
"""

from __future__ import annotations

from typing import NamedTuple

from . import expressions
from .ir import (
    Call,
    Ref,
    Scope,
    Spec,
    calls_reaching_outputs,
    instance_names,
    iter_leaves,
    keras_name,
    output_index,
    reachable,
)


class Port(NamedTuple):
    """One tensor: output `index` (None for the only one) of a node or an input."""

    node: str
    index: int | None = None

    def __str__(self) -> str:
        return self.node if self.index is None else f"{self.node}[{self.index}]"


class Frame(NamedTuple):
    """One expanded block call that a node lies in."""

    name: str  # the Keras name of the instance, which its layers' names start with: res2_2
    block: str
    where: tuple  # the block call in the spec
    call: Call  # the block call as written
    local: str  # the instance's name in the scope that makes the call: res2_2, or block_1 inside a block
    model: str | None = None  # "functional" or "sequential": the call builds a nested Keras model
    ports: tuple = ()  # the Ports given to the block's inputs, in order


class Node(NamedTuple):
    """One concrete layer call, or keras.ops call (`op`; its type is `ops.<op>`)."""

    name: str
    type: str
    args: dict  # the call's arguments with block parameters substituted
    inputs: object  # a Port, a list of Ports, or a dict of keyword -> Port or list
    where: tuple
    scope: tuple = ()  # the Frames of the enclosing block calls, outermost first
    share: str | None = None  # name of the node whose layer object this call reuses
    origin: Call | None = None  # the call as written, which this node is an instance of
    local: str = ""  # the node's name in its own scope: conv_a, or conv_a_2 with repeat
    call_args: dict = {}  # constant keyword arguments of the call, parameters substituted
    op: str | None = None  # the keras.ops function of an op call
    mapped: bool = False  # named by the name map (`keras_names`) of a block call it lies in

    def ports(self) -> list[Port]:
        return list(iter_ports(self.inputs))


def _joint(frame: Frame) -> str:
    """What joins a block call's name and its layers' in their nodes' names: `_` as in their
    Keras names (`res1_conv`), or `/` in a nested model (`tower/dense`), whose layers' Keras names
    are their own and may equal the names of layers outside it."""
    return "_" if frame.model is None else "/"


def layer_name(node: Node | Frame) -> str:
    """The name Keras gives a node's layer, or a model block call's nested model: its name in
    the innermost nested model (`tower/dense` is `dense`; Keras names have no `/`)."""
    return node.name.rpartition("/")[2]


def _instance_name(prefix: str, local: str) -> str:
    """The node name of the instance `local` of a call in the scope whose node names start with
    `prefix` (`res1_`, `tower/`, `tower/res1_`, or '' in the model): joined as Keras names it
    (kspec.ir.keras_name, `{}` for the block call's name), its own name in a nested model."""
    head, joint = prefix[:-1], prefix[-1:]
    path, _, outer = head.rpartition("/")
    if joint == "/":
        return prefix + local.replace("{}", outer)
    name = keras_name(outer, local)
    return f"{path}/{name}" if path else name


def _mapped_name(prefix: str, mapped: str) -> str:
    """The node name of a layer that a name map (`keras_names`) names `mapped`, in the scope whose
    node names start with `prefix`: the whole Keras name, in its nested model's path if any."""
    head, joint = prefix[:-1], prefix[-1:]
    path = head if joint == "/" else head.rpartition("/")[0]
    return f"{path}/{mapped}" if path else mapped


def model_frame(node: Node) -> Frame | None:
    """The outermost nested model (model block call) a node lies in, or None."""
    return next((frame for frame in node.scope if frame.model is not None), None)


def in_shared_model(node: Node) -> bool:
    """Whether a node lies in a model block call that shares another's model (`share: tower`):
    Keras calls that model again, and makes no layer for it."""
    return any(frame.model is not None and frame.call.share is not None for frame in node.scope)


def iter_ports(inputs):
    """The Ports of a node's inputs."""
    return iter_leaves(inputs)


class Instance(NamedTuple):
    """One repetition of a call: a layer's Node, or a block call's Group."""

    local: str  # its name in its scope: conv, conv_2, res2_1
    node: Node | None = None
    group: Group | None = None


class Step(NamedTuple):
    """One call of a scope that reaches the scope's outputs, with its instances in order."""

    call: Call
    instances: list


class Group(NamedTuple):
    """The lowered calls of one scope: the model (frame None), or one block call instance."""

    frame: Frame | None
    steps: list  # Steps in build order


class FlatGraph:
    """The expanded graph: input names, nodes in build order, and outputs.

    `nodes` are the layer calls Keras keeps (those some model output depends on);
    `root` regroups the calls by the block call they came from, for the writers that
    define a function or class per block: each scope keeps the calls its own outputs
    depend on, as it is written once for every call.
    """

    def __init__(self, inputs: list):
        self.inputs = inputs
        self.nodes: list = []  # Nodes in an order that Keras can build
        self.outputs: list = []  # (output name or None, Port)
        self.outputs_kind = "single"
        self.root = Group(None, [])
        # Calls with expressions in their arguments: (call's where, scope, [(path, ExpressionError
        # or None)]), as substitute records them; validation reports what could not be computed.
        self.evaluated: list = []
        self._index: dict = {}

    def node(self, name: str) -> Node:
        if len(self._index) != len(self.nodes):
            self._index = {n.name: n for n in self.nodes}
        return self._index[name]


class _BlockValue:
    """The outputs of an expanded block call: the block's Outputs, a Port for each, and the
    Frames of the call's instances (one per repetition)."""

    def __init__(self, outputs, ports: list, frames: list):
        self.outputs = outputs
        self.ports = ports
        self.frames = frames

    def port(self, selector) -> Port:
        return self.ports[output_index(self.outputs, selector)]


def flatten(spec: Spec) -> FlatGraph:
    """The spec's graph as Keras builds it: blocks expanded, dead ends left out.

    Made once per spec and kept on it (`spec.lowered`): every pass reads the same graph.
    """
    if spec.lowered is None:
        spec.lowered = _expand(spec)
    return spec.lowered


def _expand(spec: Spec) -> FlatGraph:
    graph = FlatGraph(inputs=list(spec.inputs))
    env = {name: Port(name) for name in spec.inputs}
    outputs = _Expander(spec, graph).scope(spec.scope, env, "", spec.bindings, (), graph.root)
    graph.outputs = outputs
    graph.outputs_kind = spec.scope.outputs.kind if spec.scope.outputs else "single"
    graph.nodes = _reaching_outputs(graph)
    return graph


def _reaching_outputs(graph: FlatGraph) -> list:
    """The nodes that some output depends on, in build order (Keras drops the rest)."""
    by_name = {n.name: n for n in graph.nodes}

    def parents(name):
        node = by_name.get(name)
        return [] if node is None else [p.node for p in node.ports()] + ([node.share] if node.share else [])

    needed = reachable([port.node for _, port in graph.outputs], parents)
    return [n for n in graph.nodes if n.name in needed]


def substitute(value, params: dict, found: list | None = None, at: tuple = ()):
    """A value with every `$name` (at any depth) replaced by the parameter's value, and every
    expression by its value (or, where parameters stay unbound, by the expression over them).

    With `found`, each expression met is recorded there as (path, None) or, where it cannot
    be computed, (path, ExpressionError) and left as written; without it, that raises.
    """
    if isinstance(value, str):
        if value.startswith("$") and value[1:] in params:
            return params[value[1:]]
        if not expressions.is_expression(value):
            return value
        try:
            result = expressions.substitute(value, params)
        except expressions.ExpressionError as error:
            if found is None:
                raise
            found.append((at, error))
            return value
        if found is not None:
            found.append((at, None))
        return result
    if isinstance(value, list):
        return [substitute(v, params, found, at + (i,)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: substitute(v, params, found, at + (k,)) for k, v in value.items()}
    return value


def topological(scope: Scope) -> list[Call]:
    """The calls of a scope in list order, moved only where a reference needs it."""
    by_name = {c.name: c for c in scope.calls}
    order, placed = [], set()
    for call in scope.calls:
        stack, on_stack = [(call, iter(call.depends_on()))], {call.name}
        while stack:
            current, needs = stack[-1]
            name = next(needs, None)
            if name is None:
                stack.pop()
                on_stack.discard(current.name)
                if current.name not in placed:
                    placed.add(current.name)
                    order.append(current)
            elif name in by_name and name not in placed and name not in on_stack:
                on_stack.add(name)
                stack.append((by_name[name], iter(by_name[name].depends_on())))
    return order


class _Expander:
    def __init__(self, spec: Spec, graph: FlatGraph):
        self.spec = spec
        self.graph = graph
        self.orders: dict = {}
        self.needed: dict = {}
        self.sharing: tuple | None = None  # (prefix, target prefix) while expanding a shared block call
        self.names: dict = {}  # the name map (`keras_names`) of the block call being expanded

    def scope(self, scope: Scope, env: dict, prefix: str, params: dict, nesting: tuple, group: Group) -> list:
        order = self.orders.get(id(scope))
        if order is None:  # once per scope, however many times a block is called
            order = self.orders[id(scope)] = topological(scope)
            self.needed[id(scope)] = calls_reaching_outputs(scope)
        needed = self.needed[id(scope)]
        for call in order:
            step = Step(call, [])
            env[call.name] = self.call(call, env, prefix, params, nesting, step)
            if call.name in needed:
                group.steps.append(step)
        if scope.outputs is None:
            return []
        return [(name, self.resolve(ref, env)) for name, ref in scope.outputs.items]

    def resolve(self, ref: Ref, env: dict) -> Port:
        value = env[ref.name]
        if isinstance(value, _BlockValue):
            return value.port(ref.output)
        return Port(value.node, ref.output if isinstance(ref.output, int) else None)

    def inputs(self, inputs, env: dict):
        if isinstance(inputs, Ref):
            return self.resolve(inputs, env)
        if isinstance(inputs, list):
            return [self.inputs(item, env) for item in inputs]
        return {key: self.inputs(item, env) for key, item in inputs.items()}

    def call(self, call: Call, env: dict, prefix: str, params: dict, nesting: tuple, step: Step):
        inputs = self.inputs(call.inputs, env)
        call_args = self.substitute(call.call_args, params, call.where + ("call",), nesting)
        if call.share is not None:
            return self.share(call, env[call.share_path[0]], inputs, prefix, params, nesting, step)
        args = self.substitute(call.args, params, call.where, nesting)
        if call.type in self.spec.blocks:
            names = instance_names(call)
            return self.blocks(call, call.type, names, args, inputs, prefix, nesting, step)
        value = None
        for name in instance_names(call):
            kind = call.type if call.op is None else "ops." + call.op
            mapped = None if call.repeat else self.names.get(call.name)
            value = inputs = self.layer(
                _instance_name(prefix, name) if mapped is None else _mapped_name(prefix, mapped),
                kind,
                args,
                inputs,
                nesting,
                call,
                name,
                step,
                call_args=call_args,
                mapped=mapped is not None,
            )
        return value

    def substitute(self, args: dict, params: dict, where: tuple, nesting: tuple) -> dict:
        """`args` with parameters and expressions substituted, each expression recorded in
        `graph.evaluated` (with the error, where it cannot be computed)."""
        found: list = []
        args = substitute(args, params, found)
        if found:
            self.graph.evaluated.append((where, nesting, found))
        return args

    def layer(
        self,
        name,
        type_name,
        args,
        inputs,
        nesting,
        call,
        local,
        step,
        share=None,
        call_args=None,
        mapped=False,
    ) -> Port:
        """A layer node; inside a shared block call, one that shares the target call's layer."""
        if share is None and self.sharing is not None:
            own, target = self.sharing
            mine = (
                target + name[len(own) :] if name.startswith(own) else name.replace(own[:-1], target[:-1], 1)
            )
            share = self.graph.node(mine)
        if share is not None and share.op is not None:  # an op has no layer: the same call again
            type_name, args, share = share.type, share.args, None
        elif share is not None:
            type_name, args = share.type, {}
            share = share.share or share.name
        node = Node(
            name,
            type_name,
            args,
            inputs,
            call.where,
            nesting,
            share,
            origin=call,
            local=local,
            call_args=call_args or {},
            op=call.op,
            mapped=mapped,
        )
        self.graph.nodes.append(node)
        step.instances.append(Instance(local, node=node))
        return Port(node.name)

    def share(self, call: Call, target, inputs, prefix: str, params: dict, nesting: tuple, step: Step):
        """A call that reuses a layer (`share: dense`, `share: tower/proj`) or every layer of a
        block call (`share: tower`), which is expanded again with each layer shared."""
        path = call.share_path
        if isinstance(target, Port):
            shared = self.graph.node(target.node)
        elif len(path) > 1:
            shared = self.graph.node("_".join([target.frames[0].name, *path[1:]]))
        else:
            names = (
                [call.name]
                if len(target.frames) == 1
                else instance_names(call._replace(repeat=len(target.frames)))
            )
            outer, value = self.sharing, None
            for name, frame in zip(names, target.frames):
                self.sharing = (_instance_name(prefix, name) + _joint(frame), frame.name + _joint(frame))
                # With the target call's parameters, which its layers' call arguments ($causal) read
                # (here, and in the frame for the writers).
                args = substitute(frame.call.args, params, [])  # what fails is the target's error
                same = call._replace(args=frame.call.args)
                value = self.blocks(same, frame.block, [name], args, inputs, prefix, nesting, step)
                inputs = value.port(None)
            self.sharing = outer
            return value
        call_args = self.substitute(call.call_args, params, call.where + ("call",), nesting)
        return self.layer(
            prefix + call.name,
            None,
            {},
            inputs,
            nesting,
            call,
            call.name,
            step,
            share=shared,
            call_args=call_args,
        )

    def blocks(self, call, block_name, names, args, inputs, prefix, nesting, step) -> _BlockValue:
        """The instances of a block call, each taking the previous one's output, each layer named
        by the call's name map (`keras_names`, and the entries `<call>/...` of the map of the block
        call it lies in) where that has it."""
        value, frames, outer = None, [], self.names
        inherited = {k.split("/", 1)[1]: v for k, v in outer.items() if k.startswith(call.name + "/")}
        for name in names:
            model = self.spec.blocks[block_name].model
            given = tuple(inputs) if isinstance(inputs, list) else (inputs,)
            frame = Frame(_instance_name(prefix, name), block_name, call.where, call, name, model, given)
            group = Group(frame, [])
            self.names = {**call.keras_names, **inherited}
            value = self.block(block_name, args, inputs, nesting + (frame,), group)
            self.names = outer
            frames.append(frame)
            step.instances.append(Instance(name, group=group))
            inputs = value.port(None)
        value.frames = frames
        return value

    def block(self, block_name: str, args: dict, inputs, nesting: tuple, group: Group) -> _BlockValue:
        block = self.spec.blocks[block_name]
        params = {k: v for k, v in block.params.items()}
        params.update(args)
        given = inputs if isinstance(inputs, list) else [inputs]
        env = dict(zip(block.scope.inputs, given))
        items = self.scope(block.scope, env, nesting[-1].name + _joint(nesting[-1]), params, nesting, group)
        return _BlockValue(block.scope.outputs, [port for _, port in items], [nesting[-1]])
