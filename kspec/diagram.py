"""`kspec graph`: the layer graph as Mermaid or Graphviz dot, blocks drawn as clusters."""

from __future__ import annotations

from .shapes import ShapeReport, fmt


def _label(name: str, kind: str, shape) -> list[str]:
    text = "?" if shape is None else fmt(shape if not isinstance(shape, list) else [tuple(s) for s in shape])
    return [name, kind, text]


def _tree(report: ShapeReport):
    """Nested clusters: {call: (block, subtree, [layers])}, and top-level layers."""
    root = {"clusters": {}, "layers": []}
    for layer in report.layers:
        here = root
        for call, block, _ in layer.node.scope:
            here = here["clusters"].setdefault(call, {"block": block, "clusters": {}, "layers": []})
        here["layers"].append(layer)
    return root


def _edges(report: ShapeReport):
    for layer in report.layers:
        for port in layer.node.ports():
            label = f"{port.index}" if port.index is not None else ""
            yield port.node, layer.node.name, label


def mermaid(report: ShapeReport, spec) -> str:
    lines = ["flowchart TD"]
    for name, shape in report.input_shapes.items():
        lines.append(f'  {name}[/"{"<br/>".join(_label(name, "Input", shape))}"/]')

    def emit(tree, depth):
        pad = "  " * depth
        for layer in tree["layers"]:
            node = layer.node
            kind = node.type if not node.share else f"{node.type}, shares {node.share}"
            lines.append(f'{pad}{node.name}["{"<br/>".join(_label(node.name, kind, layer.output))}"]')
        for call, sub in tree["clusters"].items():
            lines.append(f'{pad}subgraph {call}__block ["{call}: {sub["block"]}"]')
            emit(sub, depth + 1)
            lines.append(f"{pad}end")

    emit(_tree(report), 1)
    for source, target, label in _edges(report):
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {source} {arrow} {target}")
    for index, (name, port) in enumerate(report.graph.outputs):
        out = f"output_{name or index}"
        lines.append(f'  {out}(["{name or "output"}"])')
        lines.append(f"  {port.node} --> {out}")
    return "\n".join(lines) + "\n"


def dot(report: ShapeReport, spec) -> str:
    lines = [f'digraph "{spec.name}" {{', "  rankdir=TB;",
             '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for name, shape in report.input_shapes.items():
        lines.append(f'  "{name}" [label="{_dot_label(_label(name, "Input", shape))}", shape=parallelogram];')

    def emit(tree, depth):
        pad = "  " * depth
        for layer in tree["layers"]:
            node = layer.node
            kind = node.type if not node.share else f"{node.type}, shares {node.share}"
            lines.append(f'{pad}"{node.name}" [label="{_dot_label(_label(node.name, kind, layer.output))}"];')
        for call, sub in tree["clusters"].items():
            lines.append(f'{pad}subgraph "cluster_{call}" {{')
            lines.append(f'{pad}  label="{call}: {sub["block"]}"; style="rounded,dashed";')
            emit(sub, depth + 1)
            lines.append(f"{pad}}}")

    emit(_tree(report), 1)
    for source, target, label in _edges(report):
        attributes = f' [label="{label}"]' if label else ""
        lines.append(f'  "{source}" -> "{target}"{attributes};')
    for index, (name, port) in enumerate(report.graph.outputs):
        out = f"output_{name or index}"
        lines.append(f'  "{out}" [label="{name or "output"}", shape=oval];')
        lines.append(f'  "{port.node}" -> "{out}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_label(parts: list[str]) -> str:
    return "\\n".join(p.replace("\\", "\\\\").replace('"', '\\"') for p in parts)
