"""Blocks found in an imported flat layer list: runs of layers repeated with the same types, the
same wiring and the same arguments up to a few, written once as a block and called where they were.

Keras's names are the hint: layers whose names share a prefix such as `conv3_block2` (digits in it
varying from run to run: the template `conv#_block#`) are one candidate run. Structure is the
proof: runs become calls of one block only where their layers have the same local names (what
follows the prefix), types, argument keys, call arguments and wiring, where they take their inputs
from before the run and only their last layer is used after it. Arguments that differ between the
runs become the block's parameters. Each call keeps the Keras names: the call is named by the
prefix and each layer by what follows it, with `keras_name` where that is no identifier (`1_conv`).

Optional parts: runs that are another class's runs with layers after them (a residual `add`)
become calls of the shorter block followed by those layers; a later pass takes such a call and
its layers (`block_2`, `block_2_add`) as a run of a block that calls the first one with
`keras_name: "{}"`, so that its layers keep their names.

discover() checks its own work: the blocks expanded again must give back the flat list exactly,
else the flat list is kept. Time is linear in the layer count times the templates tried.
"""

from __future__ import annotations

import re
from collections import Counter

from ..catalog import catalog
from ..ir import keras_name
from .block_parts import ENTRY_KEYS as _ENTRY_KEYS
from .block_parts import NONE as _NONE
from .block_parts import Block, Discovered
from .block_parts import default as _default
from .block_parts import local_name as _local_name
from .block_parts import param_name as _param_name
from .block_parts import renamed as _renamed
from .block_parts import rewire
from .block_parts import uses as _uses
from .cells import find_cells

_DIGITS = re.compile(r"[0-9]+[a-z]?")
# Passes of choosing a template: each pass takes the one saving most lines, then looks again.
MAX_PASSES = 20


def discover(inputs: list[str], layers: list[dict], outputs, taken=frozenset()) -> Discovered:
    """The layers and outputs of a flat import (or of a nested model's model block), with cells
    (cells.py) and repeated runs made block calls, named apart from the blocks `taken`; the same
    model (discover checks it), or the flat list unchanged."""
    items = _explicit(inputs, layers)
    found = find_cells(Discovered(list(items), outputs, taken=frozenset(taken)))
    for _ in range(MAX_PASSES):
        best = max(
            (_plan(found, template) for template in sorted(_templates(found))),
            key=lambda plan: plan[0],
            default=(0, None),
        )
        if best[0] <= 0:
            break
        found = _apply(found, best[1])
    if not found.blocks:
        return Discovered(layers, outputs)
    if not _same_graph(_expanded(found), (items, outputs)):
        return Discovered(layers, outputs)  # never a different model: keep it flat
    found.layers = _implicit(inputs, found.layers)
    return found


# Candidate runs --------------------------------------------------------------------------------


def _templates(found: Discovered) -> set[str]:
    """Each prefix of a layer name up to an underscore, its digits made `#`: the templates tried."""
    out = set()
    called = {block.name for block in found.blocks}
    for item in found.layers:
        if item.get("type") in called:
            continue
        parts = item["name"].split("_")
        for k in range(1, len(parts)):
            prefix = "_".join(parts[:k])
            if _DIGITS.search(prefix):
                out.add(_DIGITS.sub("#", prefix))
    return out


def _runs(layers: list[dict], template: str, called: set) -> list[tuple[str, int, int]]:
    """The maximal runs of consecutive layers whose names start with one instance of the template
    and `_`, or a block call named by one and such layers after it: (prefix, start, end)."""
    pattern = re.compile("^(" + re.escape(template).replace("\\#", "[0-9]+[a-z]?") + ")_")
    runs, current = [], None
    for index, item in enumerate(layers):
        if item.get("type") in called:  # a call named `block_2`, then maybe `block_2_add` ...
            prefix = item["name"] if _DIGITS.sub("#", item["name"]) == template else None
            start = True
        else:
            match = pattern.match(item["name"])
            prefix = match.group(1) if match and _DIGITS.sub("#", match.group(1)) == template else None
            start = False
        if current is not None and prefix == current[0] and not start:
            current[2] = index + 1
            continue
        if current is not None:
            runs.append(tuple(current))
        current = [prefix, index, index + 1] if prefix is not None else None
    if current is not None:
        runs.append(tuple(current))
    return runs


def _plan(found: Discovered, template: str):
    """(lines saved, the runs grouped by signature) of making the template's runs block calls."""
    layers = found.layers
    used_after = _uses(found)
    groups: dict = {}
    runs = _runs(layers, template, {block.name for block in found.blocks})
    names = {item["name"] for item in layers}
    once = Counter(prefix for prefix, _, _ in runs)
    for prefix, start, end in runs:
        if once[prefix] > 1 or (_local_name(prefix) in names and layers[start]["name"] != prefix):
            continue  # the call's name would be taken
        signature = _signature(layers, prefix, start, end, used_after)
        if signature is not None:
            groups.setdefault(signature, []).append((prefix, start, end))
    classes = [
        runs
        for runs in _with_tails(groups, layers, used_after).values()
        if len(runs) > 1 and runs[0][2] - runs[0][1] > 1  # not a block of one layer or call
    ]
    saved = sum(_saved(runs) for runs in classes)
    return saved, classes


def _saved(runs) -> int:
    """Lines saved by one class: n runs of m layers, against n calls and a block of m layers and
    4 lines more."""
    m = runs[0][2] - runs[0][1]
    return len(runs) * (m - 1) - m - 4 if len(runs) > 1 else 0


def _with_tails(groups: dict, layers, used_after) -> dict:
    """The groups, where the runs of one are those of a shorter one with layers after them (an
    optional part: MobileNetV2's residual `add`), and it saves lines, made calls of the shorter
    block followed by those layers, written flat."""
    groups = dict(groups)
    for longer in sorted(groups, key=lambda signature: -len(signature[0])):
        rows = longer[0]
        shorter = max(
            (s for s in groups if len(s[0]) < len(rows) and rows[: len(s[0])] == s[0]),
            key=lambda s: len(s[0]),
            default=None,
        )
        if shorter is None:
            continue
        cut = []
        for prefix, start, end in groups[longer]:
            part = _signature(layers, prefix, start, start + len(shorter[0]), used_after)
            cut.append((prefix, start, start + len(shorter[0])) if part == shorter else None)
        merged = groups[shorter] + cut
        if None in cut or _saved(merged) <= _saved(groups[shorter]) + _saved(groups[longer]):
            continue
        groups[shorter] = merged
        del groups[longer]
    return groups


def _signature(layers, prefix, start, end, used_after):
    """What two runs must share to be one block: each layer's local name, type, the keys of its
    arguments that have no default, call arguments and wiring; None where the run cannot be a
    block call."""
    names = {layers[i]["name"]: i for i in range(start, end)}
    outside: list[str] = []
    rows = []
    for i in range(start, end):
        item = layers[i]
        if "share" in item or "type" not in item:
            return None
        uses = used_after.get(item["name"], ())
        if any(not start <= u < end for u in uses) and (i != end - 1 or min(uses) < 0):
            return None  # used after the run, and not as the run's one output
        wiring = _wire(item.get("inputs"), names, prefix, outside)
        args = tuple(sorted(k for k in item if k not in _ENTRY_KEYS and _default(item["type"], k) is _NONE))
        rows.append((_local(item["name"], prefix), item["type"], args, repr(item.get("call")), wiring))
    return tuple(rows), len(outside)


def _wire(inputs, names, prefix, outside):
    """Inputs with each reference made local (`1_conv`) or the number of an outside tensor."""
    if isinstance(inputs, list):
        return tuple(_wire(v, names, prefix, outside) for v in inputs)
    if isinstance(inputs, dict):
        return tuple((k, _wire(v, names, prefix, outside)) for k, v in inputs.items())
    base, dot, rest = inputs.partition(".")
    if base in names:
        return ("local", _local(base, prefix) + dot + rest)
    if inputs not in outside:
        outside.append(inputs)
    return ("outside", outside.index(inputs))


# Making the calls ------------------------------------------------------------------------------


def _apply(found: Discovered, classes) -> Discovered:
    """The layers with each class of runs made calls of one new block."""
    layers = found.layers
    replace: dict[int, tuple] = {}  # start -> (end, call entry)
    renamed: dict[str, str] = {}  # a run's last layer -> the call
    blocks = list(found.blocks)
    for runs in classes:
        block, params = _block(layers, runs, _block_name(runs[0][0], blocks, found.taken))
        blocks.append(block)
        for prefix, start, end in runs:
            call = {"name": _local_name(prefix)}
            if call["name"] != prefix:
                call["keras_name"] = prefix
            call["type"] = block.name
            values = _slot_values(layers, prefix, start, end)
            for slot, param in params.items():
                if slot in values:
                    call[param] = values[slot]
            outside = _outside(layers, prefix, start, end)
            call["inputs"] = outside[0] if len(outside) == 1 else outside
            replace[start] = (end, call)
            renamed[layers[end - 1]["name"]] = call["name"]
            block.calls += 1
    out, index = [], 0
    while index < len(layers):
        end, item = replace.get(index, (index + 1, layers[index]))
        out.append(item)
        index = end
    out = [
        {**item, "inputs": _renamed(item["inputs"], renamed)} if "inputs" in item else item for item in out
    ]
    return Discovered(out, _renamed(found.outputs, renamed), blocks, found.taken)


def _block(layers, runs, name: str) -> tuple[Block, dict]:
    """The block of a class of runs (the layers under local names, arguments that vary between
    the runs as `$` parameters, with the layer's default where some run leaves one out), and which
    parameter each varying (layer, key) is."""
    prefix, start, end = runs[0]
    all_values = [_slot_values(layers, p, s, e) for p, s, e in runs]
    slots = list(dict.fromkeys(slot for values in all_values for slot in values))
    types = {_local(layers[i]["name"], prefix): layers[i]["type"] for i in range(start, end)}
    inner = _inner_name(set(types))
    params: dict = {}  # (local name, key) -> parameter
    defaults: dict = {}  # parameter -> default (None: required)
    by_values: dict[str, str] = {}  # runs' values -> parameter: slots that always agree share one
    for slot in slots:
        seen = [v.get(slot, _NONE) for v in all_values]
        if len({repr(v) for v in seen}) > 1:
            key = repr(seen)
            if key not in by_values:
                by_values[key] = _param_name(slot, set(by_values.values()), inner)
                defaults[by_values[key]] = _default(types[slot[0]], slot[1]) if _NONE in seen else None
            params[slot] = by_values[key]
    outside = _outside(layers, prefix, start, end)
    inputs = ["x"] if len(outside) == 1 else [f"x{i + 1}" for i in range(len(outside))]
    entries, previous = [], inputs[0] if len(inputs) == 1 else None
    for i in range(start, end):
        item = layers[i]
        local = _local(item["name"], prefix)
        entry = {"name": _inside(item["name"], prefix, inner)}
        if entry["name"] != local:
            entry["keras_name"] = local
        entry["type"] = item["type"]
        for key in dict.fromkeys(key for values in all_values for (at, key) in values if at == local):
            slot = (local, key)
            entry[key] = f"${params[slot]}" if slot in params else all_values[0][slot]
        wired = rewire(item["inputs"], outside, inputs, lambda base: _inside(base, prefix, inner))
        if wired != previous:
            entry["inputs"] = wired
        if "call" in item:
            entry["call"] = item["call"]
        previous = entry["name"]
        entries.append(entry)
    return Block(name, defaults, entries, inputs, entries[-1]["name"]), params


def _slot_values(layers, prefix, start, end) -> dict:
    """(local name, argument) -> value, for the layers of one run."""
    return {
        (_local(layers[i]["name"], prefix), key): value
        for i in range(start, end)
        for key, value in layers[i].items()
        if key not in _ENTRY_KEYS
    }


def _outside(layers, prefix, start, end) -> list[str]:
    """The tensors from before a run that its layers take, in the order they first appear."""
    names = {layers[i]["name"] for i in range(start, end)}
    outside: list[str] = []
    for i in range(start, end):
        _wire(layers[i]["inputs"], names, prefix, outside)
    return outside


def _inside(name: str, prefix: str, inner: str) -> str:
    """The spec name of a run's layer in its block: `inner` for the one named as the call."""
    local = _local(name, prefix)
    return inner if local == "{}" else _local_name(local)


def _local(name: str, prefix: str) -> str:
    """A layer's Keras name in a block called `prefix`: what follows `prefix_`, or `{}` for a
    block call named `prefix` itself (called in the block with `keras_name: "{}"`)."""
    return "{}" if name == prefix else name[len(prefix) + 1 :]


def _inner_name(locals_: set) -> str:
    """The spec name of a block call inside a block, named as the block's own call: `body`."""
    name = "body"
    while name in locals_:
        name += "_"
    return name


def _block_name(prefix: str, blocks, others=()) -> str:
    """CamelCase of the prefix's letters (`conv2_block1` -> ConvBlock), unique and not a layer."""
    words = re.sub(r"[0-9]+[a-z]?", " ", prefix.replace("_", " ")).split()
    base = "".join(w[:1].upper() + w[1:] for w in words)
    base = base if base.endswith("Block") else base + "Block"
    taken = {block.name for block in blocks} | set(others)
    name, count = base, 1
    while name in taken or catalog().layer(name) is not None:
        count += 1
        name = f"{base}{count}"
    return name


# Inputs written out and left out, references renamed, blocks expanded again ---------------------


def _explicit(inputs: list[str], layers: list[dict]) -> list[dict]:
    """Every entry with its `inputs`, the previous output where the import left them out."""
    previous, out = inputs[0] if len(inputs) == 1 else None, []
    for item in layers:
        out.append(item if "inputs" in item else {**item, "inputs": previous})
        previous = item["name"]
    return out


def _implicit(inputs: list[str], layers: list[dict]) -> list[dict]:
    """Each entry's `inputs` left out where they are the previous output, as the import writes."""
    previous, out = inputs[0] if len(inputs) == 1 else None, []
    for item in layers:
        out.append({k: v for k, v in item.items() if k != "inputs" or v != previous})
        previous = item["name"]
    return out


def _expanded(found: Discovered) -> tuple[list[dict], object]:
    """The flat entries and outputs the blocks stand for: what the lowering will make of them."""
    blocks = {block.name: block for block in found.blocks}
    flat, outputs_of = [], {}  # call -> the Keras name of its output
    for item in found.layers:
        item = {**item, "inputs": _renamed(item["inputs"], outputs_of)}
        if item.get("type") in blocks:
            outputs_of[item["name"]] = _expand_call(item, blocks, flat)
        else:
            flat.append(item)
    return flat, _renamed(found.outputs, outputs_of)


def _same_graph(one, other) -> bool:
    """Whether two (flat entries, outputs) are one graph: the same entries by name (each with its
    inputs written out), maybe in another order (cells move layers), and the same outputs."""
    (layers, outputs), (other_layers, other_outputs) = one, other
    by_name = {item["name"]: item for item in layers}
    return (
        len(layers) == len(other_layers) == len(by_name)
        and by_name == {item["name"]: item for item in other_layers}
        and outputs == other_outputs
    )


def _expand_call(item: dict, blocks: dict, flat: list) -> str:
    """The flat entries of one block call, added to `flat`; the Keras name of its output."""
    block = blocks[item["type"]]
    outer = item.get("keras_name", item["name"])
    given = item["inputs"] if isinstance(item["inputs"], list) else [item["inputs"]]
    env = dict(zip(block.inputs, given))
    previous = block.inputs[0] if len(given) == 1 else None
    names = item.get("keras_names", {})
    for entry in block.layers:
        name = names.get(entry["name"]) or keras_name(outer, entry.get("keras_name", entry["name"]))
        expanded = {"name": name, "type": entry["type"]}
        for key, value in entry.items():
            if key not in ("name", "keras_name", "type", "inputs", "keras_names"):
                param = value[1:] if isinstance(value, str) and value.startswith("$") else None
                if param not in block.params:
                    expanded[key] = value
                elif param in item:
                    expanded[key] = item[param]  # else the layer's default: left out as imported
        expanded["inputs"] = _renamed(entry.get("inputs", previous), env)
        if entry["type"] in blocks:
            inner = {k.split("/", 1)[1]: v for k, v in names.items() if k.startswith(entry["name"] + "/")}
            expanded["keras_names"] = inner
            env[entry["name"]] = _expand_call(expanded, blocks, flat)
        else:
            env[entry["name"]] = name
            flat.append(expanded)
        previous = entry["name"]
    return env[block.output]
