"""The order in which a Keras Functional model lists its layers (and so its weights).

Keras sorts layers by depth from the outputs, then by the order a depth-first
walk from the outputs first meets them (keras.src.ops.function.map_graph).
Generated subclass models create their layers in this order, so that their
weights line up with the Functional model's. A test checks it against Keras.
"""

from __future__ import annotations

from ..flatten import FlatGraph, Port, iter_ports


def _sorted_ports(inputs) -> list[Port]:
    """A call's input tensors in Keras's flattening order: keyword arguments sorted by name."""
    if isinstance(inputs, dict):
        return [p for key in sorted(inputs) for p in iter_ports(inputs[key])]
    return list(iter_ports(inputs))


def keras_layer_order(graph: FlatGraph) -> list[str]:
    """Layer names (inputs included) in the order of `keras.Model(...).layers`."""
    calls = {node.name: node for node in graph.nodes}

    def operation(call: str) -> str:
        node = calls.get(call)
        return node.share if node is not None and node.share else call

    indices: dict[str, int] = {}
    finished: set[str] = set()
    order: list[str] = []  # calls, inputs before the calls that use them
    outputs = graph.outputs
    if graph.outputs_kind == "named":
        outputs = sorted(outputs, key=lambda item: item[0])
    for _, port in outputs:
        stack = [(port.node, False)]
        while stack:
            call, expanded = stack.pop()
            if expanded:
                finished.add(call)
                order.append(call)
                continue
            if call in finished:
                continue
            indices.setdefault(operation(call), len(indices))
            stack.append((call, True))
            if call in calls:
                for parent in reversed(_sorted_ports(calls[call].inputs)):
                    if parent.node not in finished:
                        stack.append((parent.node, False))

    call_depth: dict[str, int] = {}
    operation_depth: dict[str, int] = {}
    for call in reversed(order):
        depth = max(call_depth.setdefault(call, 0), operation_depth.get(operation(call), 0))
        operation_depth[operation(call)] = depth
        call_depth[call] = depth
        if call in calls:
            for parent in _sorted_ports(calls[call].inputs):
                call_depth[parent.node] = max(depth + 1, call_depth.get(parent.node, 0))
    for name in graph.inputs:
        if name not in operation_depth:
            operation_depth[name] = 0
            indices[name] = -1
    return sorted(operation_depth, key=lambda op: (-operation_depth[op], indices[op]))
