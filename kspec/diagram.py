"""`kspec graph`: the layer graph as Mermaid or Graphviz dot, blocks drawn as clusters."""

from __future__ import annotations

from .flatten import layer_name
from .shapes import ShapeReport, fmt


def _label(name: str, kind: str, shape) -> list[str]:
    text = "?" if shape is None else fmt(shape if not isinstance(shape, list) else [tuple(s) for s in shape])
    return [name, kind, text]


def _tree(report: ShapeReport):
    """Nested clusters: {call: (block, subtree, [layers])}, and top-level layers."""
    root = {"clusters": {}, "layers": []}
    for layer in report.layers:
        here = root
        for frame in layer.node.scope:
            here = here["clusters"].setdefault(
                frame.name, {"block": _block_label(frame), "clusters": {}, "layers": []}
            )
        here["layers"].append(layer)
    return root


def _block_label(frame) -> str:
    """A cluster's block: `Tower`, or `Tower, nested sequential model` for a model block call."""
    return frame.block if frame.model is None else f"{frame.block}, nested {frame.model} model"


def _edges(report: ShapeReport):
    for layer in report.layers:
        for port in layer.node.ports():
            label = f"{port.index}" if port.index is not None else ""
            yield port.node, layer.node.name, label


class Dialect:
    """How one graph language writes inputs, layers, clusters, edges and outputs."""

    indent = "  "

    def __init__(self, report: ShapeReport, spec):
        self.report = report
        self.spec = spec
        self.lines: list[str] = []

    def render(self) -> str:
        self.lines += self.opening()
        for name, shape in self.report.input_shapes.items():
            self.lines.append(self.input_line(name, _label(name, "Input", shape)))
        self._emit(_tree(self.report), 1)
        for source, target, label in _edges(self.report):
            self.lines.append(self.edge_line(source, target, label))
        for index, (name, port) in enumerate(self.report.graph.outputs):
            self.lines += self.output_lines(f"output_{name or index}", name or "output", port.node)
        self.lines += self.closing()
        return "\n".join(self.lines) + "\n"

    def _emit(self, tree, depth: int) -> None:
        pad = self.indent * depth
        for layer in tree["layers"]:
            node = layer.node
            kind = node.type if not node.share else f"{node.type}, shares {node.share}"
            self.lines.append(pad + self.layer_line(node.name, _label(layer_name(node), kind, layer.output)))
        for call, sub in tree["clusters"].items():
            self.lines += [pad + line for line in self.cluster_open(call, sub["block"])]
            self._emit(sub, depth + 1)
            self.lines.append(pad + self.cluster_close())

    def opening(self):
        return []

    def closing(self):
        return []


def _mermaid_id(name: str) -> str:
    """A node name as a Mermaid id: `tower/dense` (a layer of a nested model) as `tower__dense`."""
    return name.replace("/", "__")


class Mermaid(Dialect):
    def opening(self):
        return ["flowchart TD"]

    def input_line(self, name, label):
        return f'  {name}[/"{"<br/>".join(label)}"/]'

    def layer_line(self, name, label):
        return f'{_mermaid_id(name)}["{"<br/>".join(label)}"]'

    def cluster_open(self, call, block):
        return [f'subgraph {_mermaid_id(call)}__block ["{call}: {block}"]']

    def cluster_close(self):
        return "end"

    def edge_line(self, source, target, label):
        arrow = f"-->|{label}|" if label else "-->"
        return f"  {_mermaid_id(source)} {arrow} {_mermaid_id(target)}"

    def output_lines(self, node, label, source):
        return [f'  {node}(["{label}"])', f"  {_mermaid_id(source)} --> {node}"]


class Dot(Dialect):
    def opening(self):
        return [
            f'digraph "{self.spec.name}" {{',
            "  rankdir=TB;",
            '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];',
            '  edge [fontname="Helvetica", fontsize=9];',
        ]

    def closing(self):
        return ["}"]

    def input_line(self, name, label):
        return f'  "{name}" [label="{_dot_label(label)}", shape=parallelogram];'

    def layer_line(self, name, label):
        return f'"{name}" [label="{_dot_label(label)}"];'

    def cluster_open(self, call, block):
        return [f'subgraph "cluster_{call}" {{', f'  label="{call}: {block}"; style="rounded,dashed";']

    def cluster_close(self):
        return "}"

    def edge_line(self, source, target, label):
        attributes = f' [label="{label}"]' if label else ""
        return f'  "{source}" -> "{target}"{attributes};'

    def output_lines(self, node, label, source):
        return [f'  "{node}" [label="{label}", shape=oval];', f'  "{source}" -> "{node}";']


def mermaid(report: ShapeReport, spec) -> str:
    return Mermaid(report, spec).render()


def dot(report: ShapeReport, spec) -> str:
    return Dot(report, spec).render()


def _dot_label(parts: list[str]) -> str:
    return "\\n".join(p.replace("\\", "\\\\").replace('"', '\\"') for p in parts)
