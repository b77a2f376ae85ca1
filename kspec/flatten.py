"""Expand blocks and repeats into a flat graph of concrete layer calls.

The flat graph is what Keras builds: one node per layer call, named as Keras
will name it (`res1_conv_a`, `res2_2_conv_a`), with block parameters
substituted. Shape inference, the functional and sequential generators and
the live builder all read it. It expects a spec without errors.
"""

from __future__ import annotations

from typing import NamedTuple

from . import expressions
from .ir import Call, Ref, Scope, Spec, instance_names, iter_leaves, output_names, reachable


class Port(NamedTuple):
    """One tensor: output `index` (None for the only one) of a node or an input."""

    node: str
    index: int | None = None

    def __str__(self) -> str:
        return self.node if self.index is None else f"{self.node}[{self.index}]"


class Node(NamedTuple):
    """One concrete layer call."""

    name: str
    type: str
    args: dict
    inputs: object  # a Port, a list of Ports, or a dict of keyword -> Port or list
    where: tuple
    scope: tuple = ()  # enclosing block calls, outermost first: (("res1", "ResidualBlock", where), ...)
    share: str | None = None  # name of the node whose layer object this call reuses

    def ports(self) -> list[Port]:
        return list(iter_ports(self.inputs))


def iter_ports(inputs):
    """The Ports of a node's inputs."""
    return iter_leaves(inputs)


class FlatGraph:
    """The expanded graph: input names, nodes in build order, and outputs."""

    def __init__(self, inputs: list):
        self.inputs = inputs
        self.nodes: list = []  # Nodes in an order that Keras can build
        self.outputs: list = []  # (output name or None, Port)
        self.outputs_kind = "single"
        # Calls with expressions in their arguments: (call's where, scope, [(path, ExpressionError
        # or None)]), as substitute records them; validation reports what could not be computed.
        self.evaluated: list = []
        self._index: dict = {}

    def node(self, name: str) -> Node:
        if len(self._index) != len(self.nodes):
            self._index = {n.name: n for n in self.nodes}
        return self._index[name]


class _BlockValue:
    """The outputs of an expanded block call: (name or None, Port) pairs."""

    def __init__(self, items):
        self.items = items

    def port(self, selector) -> Port:
        if selector is None:
            return self.items[0][1]
        if isinstance(selector, int):
            return self.items[selector][1]
        return next(port for name, port in self.items if name == selector)


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
    outputs = _Expander(spec, graph).scope(spec.scope, env, prefix="", params={}, nesting=())
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
        stack, on_stack = [(call, iter(call.refs()))], {call.name}
        while stack:
            current, refs = stack[-1]
            ref = next(refs, None)
            if ref is None:
                stack.pop()
                on_stack.discard(current.name)
                if current.name not in placed:
                    placed.add(current.name)
                    order.append(current)
            elif ref.name in by_name and ref.name not in placed and ref.name not in on_stack:
                on_stack.add(ref.name)
                stack.append((by_name[ref.name], iter(by_name[ref.name].refs())))
    return order


class _Expander:
    def __init__(self, spec: Spec, graph: FlatGraph):
        self.spec = spec
        self.graph = graph
        self.orders: dict = {}

    def scope(self, scope: Scope, env: dict, prefix: str, params: dict, nesting: tuple) -> list:
        order = self.orders.get(id(scope))
        if order is None:  # once per scope, however many times a block is called
            order = self.orders[id(scope)] = topological(scope)
        for call in order:
            env[call.name] = self.call(call, env, prefix, params, nesting)
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

    def call(self, call: Call, env: dict, prefix: str, params: dict, nesting: tuple):
        inputs = self.inputs(call.inputs, env)
        if call.share is not None:
            target = env[call.share]
            shared = self.graph.node(target.node)
            node = Node(
                prefix + call.name,
                shared.type,
                {},
                inputs,
                call.where,
                nesting,
                share=shared.share or shared.name,
            )
            self.graph.nodes.append(node)
            return Port(node.name)
        found: list = []
        args = substitute(call.args, params, found)
        if found:
            self.graph.evaluated.append((call.where, nesting, found))
        value = None
        for name in instance_names(call):
            if call.type in self.spec.blocks:
                value = self.block(call.type, args, inputs, prefix + name, nesting, call.where)
                inputs = value.port(None)
            else:
                node = Node(prefix + name, call.type, args, inputs, call.where, nesting)
                self.graph.nodes.append(node)
                value = inputs = Port(node.name)
        return value

    def block(
        self, block_name: str, args: dict, inputs, call_name: str, nesting: tuple, where: tuple
    ) -> _BlockValue:
        block = self.spec.blocks[block_name]
        params = {k: v for k, v in block.params.items()}
        params.update(args)
        given = inputs if isinstance(inputs, list) else [inputs]
        env = dict(zip(block.scope.inputs, given))
        items = self.scope(
            block.scope, env, call_name + "_", params, nesting + ((call_name, block_name, where),)
        )
        names = output_names(block.scope.outputs)
        return _BlockValue([(n, port) for n, (_, port) in zip(names, items)])
