"""`kspec diff` output: text for a terminal (coloured there), JSON for tools, Markdown for a
pull-request comment. Each reads a kspec.diff.Diff."""

from __future__ import annotations

import json

from .diff import MISSING, Diff, LayerChange, Verdict

MARKS = {"added": "+", "removed": "-", "renamed": ">", "changed": "~"}
COLOURS = {"added": "green", "removed": "red", "renamed": "cyan", "changed": "yellow"}


def _value(value) -> str:
    if value is MISSING:
        return "default"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    return (
        "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")
    )


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _delta(value) -> str:
    return "?" if value is None else f"{value:+,}"


def _what(change: LayerChange, sizes: bool = True) -> list[str]:
    """The parts of a change, each a short phrase; with `sizes`, the shape and parameters too."""
    a, b = change.a, change.b
    if change.status == "added":
        return [f"added, {b.type}" + (f" sharing {b.share}" if b.share else "")]
    if change.status == "removed":
        return [f"removed, {a.type}" + (f" sharing {a.share}" if a.share else "")]
    parts = [f"renamed from {a.name}"] if change.status == "renamed" else []
    parts += [f"{key}: {_value(x)} -> {_value(y)}" for key, x, y in change.args]
    if change.inputs:
        parts.append(f"inputs: {_value(a.inputs)} -> {_value(b.inputs)}")
    if not sizes:
        return parts
    if a.output != b.output:
        parts.append(f"shape {_shape(a.output)} -> {_shape(b.output)}")
    if a.params != b.params:
        parts.append(f"params {_count(a.params)} -> {_count(b.params)} ({_delta(change.params_delta)})")
    elif a.trainable != b.trainable:
        parts.append(f"trainable params {_count(a.trainable)} -> {_count(b.trainable)}")
    return parts


def _name(change: LayerChange) -> str:
    return (change.b or change.a).name


def _verdict(verdict: Verdict) -> str:
    if verdict.loads is None:
        return "cannot tell (" + "; ".join(verdict.problems) + ")"
    if verdict.loads:
        return "yes"
    more = f"; and {len(verdict.problems) - 3} more" if len(verdict.problems) > 3 else ""
    return "no: " + "; ".join(verdict.problems[:3]) + more


def _headline(d: Diff) -> str:
    if d.equal:
        return f"{d.a.source} and {d.b.source}: no differences ({d.unchanged} layers)"
    counts = {}
    for change in d.layers:
        counts[change.status] = counts.get(change.status, 0) + 1
    parts = [f"{counts[s]} {s}" for s in ("added", "removed", "renamed", "changed") if s in counts]
    return (
        f"{d.a.source} -> {d.b.source}: "
        + (", ".join(parts) or "layers unchanged")
        + f", {d.unchanged} unchanged"
    )


def _inputs(d: Diff) -> list[str]:
    lines = []
    for a, b, shape_a, shape_b in d.inputs:
        if a is None:
            lines.append(f"input {b} added, {_shape(shape_b)}")
        elif b is None:
            lines.append(f"input {a} removed, {_shape(shape_a)}")
        else:
            renamed = f" renamed to {b}" if a != b else ""
            shape = f" shape {_shape(shape_a)} -> {_shape(shape_b)}" if shape_a != shape_b else ""
            lines.append(f"input {a}{renamed}{shape}")
    if d.outputs:
        lines.append(f"outputs: {', '.join(d.outputs[0])} -> {', '.join(d.outputs[1])}")
    return lines


def _totals(d: Diff) -> str:
    if d.a.params == d.b.params:
        return f"params: {_count(d.a.params)} in both"
    return f"params: {_count(d.a.params)} -> {_count(d.b.params)} ({_delta(d.params_delta)})"


def text(d: Diff, style=lambda text, **_: text) -> str:
    """Lines for a terminal; `style` is click.style where colour is wanted."""
    lines = [style(_headline(d), bold=True)]
    lines += _inputs(d)
    width = max((len(_name(c)) for c in d.layers), default=0)
    for change in d.layers:
        mark = style(MARKS[change.status], fg=COLOURS[change.status], bold=True)
        lines.append(f"{mark} {_name(change):<{width}}  " + "; ".join(_what(change)))
    lines.append(_totals(d))
    lines.append(f"weights of A into B by name: {_verdict(d.by_name)}")
    lines.append(f"weights of A into B by position: {_verdict(d.by_position)}")
    return "\n".join(lines) + "\n"


def _layer(layer) -> dict | None:
    if layer is None:
        return None
    return {
        "name": layer.name,
        "type": layer.type,
        "args": layer.args,
        "call": layer.call,
        "inputs": layer.inputs,
        "share": layer.share,
        "output_shape": _json_shape(layer.output),
        "params": layer.params,
        "trainable_params": layer.trainable,
    }


def _json_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, list):
        return [_json_shape(s) for s in shape]
    return list(shape)


def _json_value(value):
    return None if value is MISSING else value


def as_json(d: Diff) -> dict:
    """The diff as JSON data (see docs: `kspec diff --format json`)."""
    side = lambda s: {"source": s.source, "name": s.name, "params": s.params, "trainable_params": s.trainable}
    return {
        "equal": d.equal,
        "a": side(d.a),
        "b": side(d.b),
        "params_delta": d.params_delta,
        "inputs": [
            {"a": a, "b": b, "shape_a": _json_shape(x), "shape_b": _json_shape(y)} for a, b, x, y in d.inputs
        ],
        "outputs": None if d.outputs is None else {"a": d.outputs[0], "b": d.outputs[1]},
        "layers": [
            {
                "status": c.status,
                "name": _name(c),
                "a": _layer(c.a),
                "b": _layer(c.b),
                "args": [
                    {
                        "name": key,
                        "a": _json_value(x),
                        "b": _json_value(y),
                        "a_default": x is MISSING,
                        "b_default": y is MISSING,
                    }
                    for key, x, y in c.args
                ],
                "inputs_changed": c.inputs,
                "params_delta": c.params_delta,
            }
            for c in d.layers
        ],
        "unchanged": d.unchanged,
        "weights": {
            rule: {"loads": v.loads, "problems": v.problems}
            for rule, v in (("by_name", d.by_name), ("by_position", d.by_position))
        },
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(d: Diff) -> str:
    """A Markdown section for a pull-request comment: a headline, a table, the weight verdicts."""
    lines = [f"### kspec diff: `{_cell(d.a.source)}` → `{_cell(d.b.source)}`", ""]
    lines.append(_cell(_headline(d)) + ".")
    extra = _inputs(d)
    if extra:
        lines += [""] + [f"- {_cell(line)}" for line in extra]
    if d.layers:
        lines += ["", "| | layer | type | change | output shape | params |", "|---|---|---|---|---|---|"]
        for c in d.layers:
            layer = c.b or c.a
            shape = (
                _shape(layer.output)
                if c.a is None or c.b is None or c.a.output == c.b.output
                else f"{_shape(c.a.output)} → {_shape(c.b.output)}"
            )
            if c.params_delta == 0:
                params = _count(layer.params)
            elif c.a and c.b:
                params = f"{_count(c.a.params)} → {_count(c.b.params)} ({_delta(c.params_delta)})"
            else:
                params = _delta(c.params_delta)
            lines.append(
                f"| {MARKS[c.status]} | `{_cell(_name(c))}` | {layer.type} | "
                f"{_cell('; '.join(_what(c, sizes=False)))} | {shape} | {params} |"
            )
    lines += [
        "",
        f"- {_cell(_totals(d))}",
        f"- weights of A into B by name: {_cell(_verdict(d.by_name))}",
        f"- weights of A into B by position: {_cell(_verdict(d.by_position))}",
    ]
    return "\n".join(lines) + "\n"


FORMATS = {"text": text, "json": lambda d: json.dumps(as_json(d), indent=2) + "\n", "markdown": markdown}
