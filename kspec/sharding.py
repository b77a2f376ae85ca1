"""The static sharding plan of a spec's `distribution` section: each weight's layout and
per-device shard, and the bytes of weights and optimizer slots each device holds.

Weight paths are Keras's `variable.path`, which depends on the style: `layer/kernel` in
the functional style, `model/layer/kernel` in the sequential one, and
`model/block_call/layer/kernel` in the subclass one; in every style, `layer/kernel` in a nested
Functional model (a model block call) and `tower/layer/kernel` in a nested Sequential `tower`. Layout patterns are full-matched
against them, as keras.distribution.LayoutMap does.
"""

from __future__ import annotations

import re
from math import prod
from typing import NamedTuple

from .flatten import layer_name
from .shapes import DTYPE_BYTES, _canonical, infer
from .shapes.weights import weights as layer_weights

STYLES = ("functional", "sequential", "subclass")
DEFAULT_BATCH_AXIS = "batch"

# Slot variables per trainable weight, by optimizer (lower-case class name); None: unknown.
_SLOTS = {"adam": 2, "adamw": 2, "adamax": 2, "nadam": 2, "adadelta": 2, "ftrl": 2, "lamb": 2, "lion": 1}


class Weight(NamedTuple):
    paths: dict  # style -> Keras's variable.path
    shape: tuple | None  # None: a layer without a weight rule (all its weights, counted together)
    trainable: bool
    itemsize: int
    size: int  # elements
    node: object


class Placed(NamedTuple):
    weight: Weight
    rule: str | None  # the layout pattern that matched, or None: replicated
    layout: tuple  # one mesh axis or None per dimension
    shard: tuple | None  # the shape each device holds

    @property
    def shard_bytes(self) -> int:
        size = self.weight.size if self.shard is None else prod(self.shard)
        return size * self.weight.itemsize


def spec_weights(spec) -> list[Weight]:
    """Every weight of a valid spec whose shapes are known, in Keras's order within a layer."""
    out = []
    for layer in infer(spec).layers:
        node = layer.node
        if node.share or not layer.params:
            continue
        itemsize = _itemsize(node.args)
        found = None
        if layer.output is not None:
            found = layer_weights(_canonical(node.type), node.args, layer.input_shapes)
        if found is None or sum(prod(shape) for _, shape, _ in found) != layer.params:
            out.append(
                Weight(_paths(spec, node, "*"), None, bool(layer.trainable), itemsize, layer.params, node)
            )
            continue
        for path, shape, trainable in found:
            out.append(Weight(_paths(spec, node, path), tuple(shape), trainable, itemsize, prod(shape), node))
    return out


def _itemsize(args: dict) -> int:
    dtype = args.get("dtype")
    return DTYPE_BYTES.get(dtype, 4) if isinstance(dtype, str) else 4


def _paths(spec, node, inner: str) -> dict:
    models = [frame for frame in node.scope if frame.model is not None]
    if models:  # built by its nested model, outside the styles' scopes: the same in every style
        path = f"{layer_name(node)}/{inner}"
        if models[-1].model == "sequential":  # a Sequential builds its layers under its own name
            path = f"{layer_name(models[-1])}/{path}"
        return dict.fromkeys(STYLES, path)
    frames = [frame.name for frame in node.scope]
    return {
        "functional": f"{node.name}/{inner}",
        "sequential": f"{spec.name}/{node.name}/{inner}",
        "subclass": "/".join([spec.name, *frames, node.name, inner]),
    }


def matches(pattern: str, path: str) -> bool:
    """Whether a layout key applies to a path, as LayoutMap decides: equal, or full regex match."""
    return pattern == path or re.fullmatch(pattern, path) is not None


class Plan(NamedTuple):
    kind: str  # "data_parallel" or "model_parallel"
    style: str
    mesh: dict  # axis -> size
    batch_axis: str
    placed: list
    slots: int | None  # optimizer slot variables per trainable weight
    optimizer: str | None

    @property
    def devices(self) -> int:
        return prod(self.mesh.values())

    @property
    def weight_bytes(self) -> int:
        return sum(p.shard_bytes for p in self.placed)

    @property
    def slot_bytes(self) -> int | None:
        if self.slots is None:
            return None
        return self.slots * sum(p.shard_bytes for p in self.placed if p.weight.trainable)

    @property
    def total_bytes(self) -> int | None:
        slots = self.slot_bytes
        return None if slots is None else self.weight_bytes + slots

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "style": self.style,
            "mesh": dict(self.mesh),
            "devices": self.devices,
            "batch_axis": self.batch_axis,
            "optimizer": self.optimizer,
            "slots_per_weight": self.slots,
            "weights": [
                {
                    "path": p.weight.paths[self.style],
                    "shape": None if p.weight.shape is None else list(p.weight.shape),
                    "params": p.weight.size,
                    "trainable": p.weight.trainable,
                    "rule": p.rule,
                    "layout": list(p.layout),
                    "shard_shape": None if p.shard is None else list(p.shard),
                    "shard_bytes": p.shard_bytes,
                }
                for p in self.placed
            ],
            "per_device_bytes": {
                "weights": self.weight_bytes,
                "optimizer_slots": self.slot_bytes,
                "total": self.total_bytes,
            },
        }


def plan(spec, style: str = "functional", devices: int | None = None) -> Plan:
    """The sharding plan of a valid spec that has a `distribution` section.

    `devices` is how many devices `data_parallel: {devices: all}` means (1 when not given).
    """
    section = spec.distribution or {"data_parallel": {}}
    if "model_parallel" in section:
        body = section["model_parallel"]
        mesh = dict(body["mesh"])
        rules = dict(body.get("layout") or {})
        batch_axis = body.get("batch_axis", DEFAULT_BATCH_AXIS)
        kind = "model_parallel"
    else:
        count = (section["data_parallel"] or {}).get("devices", "all")
        mesh = {DEFAULT_BATCH_AXIS: devices or 1 if count == "all" else count}
        rules, batch_axis, kind = {}, DEFAULT_BATCH_AXIS, "data_parallel"
    placed = []
    for weight in spec_weights(spec):
        rule = None
        if weight.shape is not None:
            rule = next((r for r in rules if matches(r, weight.paths[style])), None)
        if rule is None:
            layout = (None,) * (0 if weight.shape is None else len(weight.shape))
            placed.append(Placed(weight, None, layout, weight.shape))
            continue
        layout = tuple(rules[rule])
        shard = tuple(d // mesh[a] if a else d for d, a in zip(weight.shape, layout))
        placed.append(Placed(weight, rule, layout, shard))
    optimizer, slots = optimizer_slots(spec.compile)
    return Plan(kind, style, mesh, batch_axis, placed, slots, optimizer)


def optimizer_slots(compile_section) -> tuple:
    """(optimizer name, slot variables it keeps per trainable weight; None if unknown)."""
    value = (compile_section or {}).get("optimizer")
    if value is None:
        return None, 0
    args = {}
    if isinstance(value, dict):
        name, args = str(value.get("type", "")), value
    else:
        name = str(value)
    key = name.lower()
    if key in ("adam", "adamw"):
        return name, 3 if args.get("amsgrad") else 2
    if key == "sgd":
        return name, 1 if args.get("momentum", 0) else 0
    if key == "rmsprop":
        return name, 1 + bool(args.get("momentum", 0)) + bool(args.get("centered", False))
    if key == "adagrad":
        return name, 1
    return name, _SLOTS.get(key)


def _size(count) -> str:
    if count is None:
        return "?"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{count:,} B" if unit == "B" else f"{count:,} B ({size:.2f} {unit})"
        size /= 1024


def text(plan_: Plan, spec) -> str:
    """The plan as a table, then the bytes each device holds."""
    shape = lambda s: "?" if s is None else str(tuple(s))  # noqa: E731
    layout = lambda p: (
        "replicated" if not any(p.layout) else "(" + ", ".join(a or "-" for a in p.layout) + ")"
    )  # noqa: E731
    rows = [
        (p.weight.paths[plan_.style], shape(p.weight.shape), layout(p), shape(p.shard)) for p in plan_.placed
    ]
    headers = ("Weight", "Global shape", "Layout", "Per-device shard")
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    mesh = ", ".join(f"{a}: {n}" for a, n in plan_.mesh.items())
    out = [
        f'Model: "{spec.name}", {plan_.kind} on {plan_.devices} device{"s" if plan_.devices != 1 else ""} '
        f"(mesh {{{mesh}}}), "
        f"{plan_.style} style",
        line,
        "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
        line,
    ]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    out.append(line)
    slots = "?" if plan_.slots is None else plan_.slots
    out.append(f"Per device: weights {_size(plan_.weight_bytes)}")
    out.append(
        f"            optimizer slots ({plan_.optimizer or 'none'}, {slots} per trainable weight) "
        f"{_size(plan_.slot_bytes)}"
    )
    out.append(f"            total {_size(plan_.total_bytes)}")
    return "\n".join(out)
