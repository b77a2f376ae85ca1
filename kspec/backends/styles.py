"""Which Keras styles a spec's graph allows, and why not."""

from __future__ import annotations

from ..catalog.calls import layer_output_count
from ..flatten import FlatGraph, Port, flatten, model_frame
from .python.module import STYLES


def sequential_problem(spec, graph: FlatGraph | None = None) -> tuple | None:
    """None when the graph is a Sequential stack, else (the node that breaks it or None, why)."""
    graph = graph or flatten(spec)
    if len(spec.inputs) != 1:
        return None, f"it has {len(spec.inputs)} inputs; Sequential takes one"
    if len(graph.outputs) != 1 or graph.outputs_kind == "named":
        return None, "it has named or several outputs; Sequential has one"
    previous = Port(next(iter(spec.inputs)))
    inside: set = set()  # the nodes of the nested model last met: one layer of the stack
    for node in graph.nodes:
        frame = model_frame(node)
        if frame is not None and node.name in inside:
            continue
        if frame is not None:
            block = spec.blocks[frame.block]
            given = frame.ports[0] if len(frame.ports) == 1 else None
            if previous is None and given is not None and given.node in inside:
                previous = given  # the nested model before it: its only output
            if given != previous or len(block.scope.outputs.refs) != 1 or frame.call.share:
                return (
                    node,
                    f"the nested model '{frame.name}' does not take exactly the previous layer's output",
                )
            inside = {n.name for n in graph.nodes if any(f is frame for f in n.scope)}
            previous = None
            continue
        if previous is None and isinstance(node.inputs, Port) and node.inputs.node in inside:
            previous = node.inputs  # the nested model's only output
        if node.share:
            return node, f"'{node.name}' shares the layer '{node.share}'"
        if node.op is not None:
            return node, f"'{node.name}' calls keras.ops.{node.op}; Sequential holds only layers"
        if node.inputs != previous or not isinstance(node.inputs, Port):
            return node, f"'{node.name}' does not take exactly the previous layer's output"
        if node.call_args:
            return node, (
                f"'{node.name}' is called with arguments ({', '.join(node.call_args)}); "
                "Sequential calls each layer on the previous output alone"
            )
        if (layer_output_count(node.type, node.args) or 1) != 1:
            return node, f"'{node.name}' returns several tensors"
        previous = Port(node.name)
    if graph.outputs[0][1] != previous and not (previous is None and graph.outputs[0][1].node in inside):
        return None, "the output is not the last layer's output"
    return None


def unshaped_model(spec):
    """The first model block call whose input shapes static inference does not know, or None:
    the sequential and subclass styles make its nested model on tensors of those shapes."""
    from ..shapes import infer

    if all(block.model is None for block in spec.blocks.values()):
        return None
    report = infer(spec)
    known = {layer.node.name: layer.output for layer in report.layers}
    known.update(report.input_shapes)
    for node in flatten(spec).nodes:
        for frame in node.scope:
            if frame.model is not None and any(known.get(port.node) is None for port in frame.ports):
                return frame
    return None


def allowed_styles(spec) -> list[str]:
    return [
        s
        for s in STYLES
        if (s != "sequential" or sequential_problem(spec) is None)
        and (s == "functional" or unshaped_model(spec) is None)
    ]
