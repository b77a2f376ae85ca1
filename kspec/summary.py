"""`kspec summary`: a model.summary()-like table, or JSON, from static shapes."""

from __future__ import annotations

from .flatten import layer_name
from .shapes import ShapeReport, fmt


def keras_layers(report: ShapeReport) -> list[dict]:
    """One entry per Keras layer of `model.layers` (inputs first; a shared layer once, with all
    its inputs; a keras.ops call is no layer, and `model.layers` does not list it). A nested model
    (a model block call) is one entry of its type, its parameter total and its own `layers`."""
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
    return rows + _layer_rows(report, report.layers, 0)


def _layer_rows(report: ShapeReport, layers: list, depth: int) -> list[dict]:
    """The rows of the layers of one model: the model (depth 0), or a nested model whose frame is
    the depth-th of its layers' scopes; nested models deeper are one row each."""
    rows, by_name = [], {}
    for layer, inside in _by_model(layers, depth):
        node = layer.node
        frame = _own_model(node, depth)
        inputs = [_port_name(report, p, depth) for p in node.ports()] if inside is None else []
        if inside is not None:  # a nested model: one row
            index = node.scope.index(frame)
            names = {other.node.name for other in inside}
            inputs = [
                _port_name(report, p, depth)
                for other in inside
                for p in other.node.ports()
                if p.node not in names
            ]
            target = _shared_model(report, frame, index)
            if target is not None:
                by_name[target]["inputs"].extend(dict.fromkeys(inputs))
                continue
            params = [other.params for other in inside]
            trainable = [other.trainable for other in inside]
            row = {
                "name": layer_name(frame),
                "type": "Sequential" if frame.model == "sequential" else "Functional",
                "output_shape": _shape(_exit_shape(report, inside)),
                "params": None if None in params else sum(params),
                "trainable_params": None if None in trainable else sum(trainable),
                "inputs": list(dict.fromkeys(inputs)),
                "block": "/".join(f.name for f in node.scope[depth:index]) or None,
                "layers": _layer_rows(report, inside, index + 1),
            }
            by_name[frame.name] = row
            rows.append(row)
            continue
        if node.op is not None:
            continue
        if node.share:
            by_name[node.share]["inputs"].extend(inputs)
            continue
        row = {
            "name": layer_name(node),
            "type": node.type,
            "output_shape": _shape(layer.output),
            "params": layer.params,
            "trainable_params": layer.trainable,
            "inputs": inputs,
            "block": "/".join(frame.name for frame in node.scope[depth:]) or None,
        }
        by_name[node.name] = row
        rows.append(row)
    return rows


def _own_model(node, depth: int):
    """The first model block call among a node's frames from `depth` on, or None."""
    return next((f for f in node.scope[depth:] if f.model is not None), None)


def _by_model(layers: list, depth: int):
    """(layer, None) for a layer of this model, and (first layer, its layers) once for each
    nested model, in the order of their first layers."""
    groups: dict = {}
    for layer in layers:
        frame = _own_model(layer.node, depth)
        if frame is None:
            continue
        groups.setdefault(frame.name, []).append(layer)
    done = set()
    for layer in layers:
        frame = _own_model(layer.node, depth)
        if frame is None:
            yield layer, None
        elif frame.name not in done:
            done.add(frame.name)
            yield layer, groups[frame.name]


def _shared_model(report: ShapeReport, frame, index: int):
    """For a model block call that calls another's model again (`share:`), that call's frame
    name; else None."""
    if frame.call.share is None:
        return None
    for layer in report.layers:
        node = layer.node
        if len(node.scope) > index and node.scope[index] is frame and node.share:
            return report.graph.node(node.share).scope[index].name
    return None


def _port_name(report: ShapeReport, port, depth: int) -> str:
    """A port as Keras's summary names its source: the nested model it comes out of, if any."""
    if port.node in report.input_shapes:
        return str(port)
    node = report.graph.node(port.node)
    frame = _own_model(node, depth)
    if frame is None:
        return layer_name(node) if port.index is None else f"{layer_name(node)}[{port.index}]"
    index = node.scope.index(frame)
    return _shared_model(report, frame, index) or frame.name


def _exit_shape(report: ShapeReport, group: list):
    """The output shape of a group of layers (a block call): of the layers read from outside it."""
    names = {layer.node.name for layer in group}
    consumers = {
        p.node for other in report.layers if other.node.name not in names for p in other.node.ports()
    }
    consumers |= {port.node for _, port in report.graph.outputs}
    exits = [layer for layer in group if layer.node.name in consumers] or group[-1:]
    if len(exits) == 1:
        return exits[0].output
    return None if any(e.output is None for e in exits) else [e.output for e in exits]


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
    index, made = 0, {}
    while index < len(layers):
        layer = layers[index]
        if len(layer.node.scope) == depth:
            yield _row(layer, depth, report)
            index += 1
            continue
        key = layer.node.scope[: depth + 1]
        group = []
        while index < len(layers) and layers[index].node.scope[: depth + 1] == key:
            group.append(layers[index])
            index += 1
        frame = key[-1]
        target = _shared_model(report, frame, depth) if frame.model is not None else None
        if target in made:  # the nested model called again: Keras lists it once, with every input
            row = made[target]
            row[3] = ", ".join(
                dict.fromkeys(
                    [*row[3].split(", "), *_block_row(frame.name, "", group, report, depth)[3].split(", ")]
                )
            )
            continue
        kind = frame.block if frame.model is None else f"{frame.block}, nested {frame.model} model"
        row = made[frame.name] = _block_row(frame.name, kind, group, report, depth)
        yield row
        if expand:
            yield from _entries(report, expand, group, depth + 1)


def _row(layer, depth: int, report: ShapeReport):
    node = layer.node
    label = f"{'  ' * depth}{layer_name(node)} ({node.type})"
    if node.share:
        label += f" [shares {node.share}]"
    ports = [str(p) if _own_model(node, 0) else _port_name(report, p, 0) for p in node.ports()]
    connected = ", ".join(ports) or "-"
    return (label, _text_shape(layer.output), _count(layer.params), connected)


def _block_row(call: str, block: str, group: list, report: ShapeReport, depth: int):
    names = {layer.node.name for layer in group}
    outside = [str(p) for layer in group for p in layer.node.ports() if p.node not in names]
    shape = _exit_shape(report, group)
    params = [layer.params for layer in group]
    total = None if None in params else sum(params)
    label = f"{'  ' * depth}{call} ({block})"
    return [label, _text_shape(shape), _count(total), ", ".join(dict.fromkeys(outside)) or "-"]
