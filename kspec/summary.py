"""`kspec summary`: a model.summary()-like table, or JSON, from static shapes."""

from __future__ import annotations

from .shapes import ShapeReport, fmt


def keras_layers(report: ShapeReport) -> list[dict]:
    """One entry per Keras layer (inputs first; a shared layer once, with all its inputs; a
    keras.ops call is no layer, and `model.layers` does not list it)."""
    rows = []
    for name, shape in report.input_shapes.items():
        rows.append(
            {
                "name": name,
                "type": "InputLayer",
                "output_shape": _shape(shape),
                "params": 0,
                "trainable_params": 0,
                "inputs": [],
                "block": None,
            }
        )
    by_name = {}
    for layer in report.layers:
        node = layer.node
        if node.op is not None:
            continue
        inputs = [str(p) for p in node.ports()]
        if node.share:
            by_name[node.share]["inputs"].extend(inputs)
            continue
        row = {
            "name": node.name,
            "type": node.type,
            "output_shape": _shape(layer.output),
            "params": layer.params,
            "trainable_params": layer.trainable,
            "inputs": inputs,
            "block": "/".join(frame.name for frame in node.scope) or None,
        }
        by_name[node.name] = row
        rows.append(row)
    return rows


def as_json(report: ShapeReport, spec) -> dict:
    return {
        "name": spec.name,
        "layers": keras_layers(report),
        "total_params": report.total_params,
        "trainable_params": report.trainable_params,
        "non_trainable_params": report.non_trainable_params,
        "weight_bytes": report.weight_bytes,
    }


def _shape(shape):
    if shape is None:
        return None
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return list(shape)


def _text_shape(shape) -> str:
    return "?" if shape is None else fmt(shape if not isinstance(shape, list) else [tuple(s) for s in shape])


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _size(params, report: ShapeReport) -> str:
    if params is None or report.weight_bytes is None:
        return ""
    total = report.total_params or 0
    size = report.weight_bytes * params / total if total else 0
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f" ({size:.2f} {unit})"
        size /= 1024


def table(report: ShapeReport, spec, expand: bool = False) -> str:
    """The summary table; blocks are one row each unless `expand`."""
    rows = [(f"{name} (InputLayer)", fmt(shape), "0", "-") for name, shape in report.input_shapes.items()]
    for entry in _entries(report, expand):
        rows.append(entry)
    headers = ("Layer (type)", "Output shape", "Param #", "Connected to")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    out = [
        f'Model: "{spec.name}"',
        line,
        "  ".join(
            h.rjust(w) if i == 2 else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths))
        ).rstrip(),
        line,
    ]
    for row in rows:
        out.append(
            "  ".join(
                c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
    out.append(line)
    out.append(f"Total params: {_count(report.total_params)}{_size(report.total_params, report)}")
    out.append(f"Trainable params: {_count(report.trainable_params)}{_size(report.trainable_params, report)}")
    out.append(
        f"Non-trainable params: {_count(report.non_trainable_params)}"
        f"{_size(report.non_trainable_params, report)}"
    )
    return "\n".join(out)


def _entries(report: ShapeReport, expand: bool, layers=None, depth: int = 0):
    """Rows for layers; each block call is one row, followed by its layers if `expand`."""
    layers = report.layers if layers is None else layers
    index = 0
    while index < len(layers):
        layer = layers[index]
        if len(layer.node.scope) == depth:
            yield _row(layer, depth)
            index += 1
            continue
        key = layer.node.scope[: depth + 1]
        group = []
        while index < len(layers) and layers[index].node.scope[: depth + 1] == key:
            group.append(layers[index])
            index += 1
        yield _block_row(key[-1].name, key[-1].block, group, report, depth)
        if expand:
            yield from _entries(report, expand, group, depth + 1)


def _row(layer, depth: int):
    node = layer.node
    label = f"{'  ' * depth}{node.name} ({node.type})"
    if node.share:
        label += f" [shares {node.share}]"
    connected = ", ".join(str(p) for p in node.ports()) or "-"
    return (label, _text_shape(layer.output), _count(layer.params), connected)


def _block_row(call: str, block: str, group: list, report: ShapeReport, depth: int):
    names = {layer.node.name for layer in group}
    outside = [str(p) for layer in group for p in layer.node.ports() if p.node not in names]
    consumers = {
        p.node for other in report.layers if other.node.name not in names for p in other.node.ports()
    }
    consumers |= {port.node for _, port in report.graph.outputs}
    exits = [layer for layer in group if layer.node.name in consumers] or group[-1:]
    shape = (
        exits[0].output
        if len(exits) == 1
        else (None if any(e.output is None for e in exits) else [e.output for e in exits])
    )
    params = [layer.params for layer in group]
    total = None if None in params else sum(params)
    label = f"{'  ' * depth}{call} ({block})"
    return (label, _text_shape(shape), _count(total), ", ".join(dict.fromkeys(outside)) or "-")
