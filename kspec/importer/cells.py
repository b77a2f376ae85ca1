"""Cells: blocks found through the graph where Keras names a repeated sub-graph by a suffix, the
cell's id (NASNet's `normal_conv_1_0`, `separable_conv_1_normal_left1_0`, `reduction_add_1_stem_1`),
and its layers are not next to each other in Keras's order.

The suffix is the hint: each end of a layer name after an underscore that ends in digits is a
template with its digits made `#` (`stem_1` -> `stem_#`); the layers ending in `_<id>` of one
instance are a cell, with the layers that Keras named itself (`activation_23`, `add_1`: a class's
name and a number) whose uses all lie in it; each connected piece of them is one cell. The
structure is the proof, as for runs (blocks.py): same local names (the name with the id made
`{}`), types, argument keys, call arguments and wiring; one layer used after the cell. The
smallest cells are made calls first, so that bigger cells hold those calls (NASNet's
separable-conv blocks inside its cells).

A cell becomes a call of a block whose layers say `keras_name: "normal_conv_1_{}"`, the call
`keras_name: "0"`; the layers Keras named itself get their names from the call's `keras_names`.
The call stands where the cell's last layer was, so the list is still in an order Keras can build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalog import catalog
from ..ir import snake_case
from .block_parts import ENTRY_KEYS as _ENTRY_KEYS
from .block_parts import NONE as _NONE
from .block_parts import Block, Discovered
from .block_parts import default as _default
from .block_parts import param_name as _param_name
from .block_parts import refs as _refs
from .block_parts import renamed as _renamed
from .block_parts import rewire
from .block_parts import uses as _uses

# Passes of choosing a suffix template: each takes the one with the smallest cells that saves lines.
MAX_PASSES = 20
_AUTO = re.compile(r"^(.*?)(_[0-9]+)?$")


def find_cells(found: Discovered) -> Discovered:
    """`found` with the cells of the suffix templates that save lines made block calls, the
    smallest first; a cell found later with the structure and constant arguments of a block made
    earlier is a call of that block."""
    made: list[_Made] = []
    for _ in range(MAX_PASSES):
        plans = [_plan(found, template, made) for template in sorted(_templates(found))]
        plans = [plan for plan in plans if plan[0] > 0]
        if not plans:
            break
        best = min(plans, key=lambda plan: (plan[2], -plan[0]))  # the smallest cells first; ties: in
        # the templates' sorted order, so that an import writes the same spec every time
        found = _apply(found, best[1], made)
    return found


@dataclass
class _Made:
    """A block made of cells: their signature, each layer's spec name, the parameter of each
    varying (layer, argument), and the value of every other one."""

    signature: tuple
    block: Block
    locals_: list
    params: dict
    constants: dict

    def fits(self, values: dict) -> bool:
        """Whether a cell with this signature and these argument values can call the block."""
        for slot in set(values) | set(self.constants):
            if slot in self.params:
                if slot not in values and self.block.params[self.params[slot]] is None:
                    return False
            elif values.get(slot, _NONE) != self.constants.get(slot, _NONE):
                return False
        return True


def _templates(found: Discovered) -> set[str]:
    """Each end of a name after an underscore, where the name ends in digits, digits made `#`."""
    out = set()
    for item in found.layers:
        if "type" not in item or _auto_named(item):
            continue
        parts = _keras(item).split("_")
        if not parts[-1].isdigit():
            continue
        for k in range(1, len(parts)):
            out.add(re.sub(r"[0-9]+", "#", "_".join(parts[k:])))
    return out


def _auto_named(item) -> bool:
    """Whether Keras named the layer itself: its class's name, maybe with `_<number>`."""
    match = _AUTO.match(item["name"])
    return "type" in item and "keras_name" not in item and match.group(1) == snake_case(item["type"])


def _keras(item) -> str:
    """The Keras name of a layer, or of a cell's call (its id)."""
    return item.get("keras_name", item["name"])


def _instances(found: Discovered, template: str, uses: dict) -> list:
    """(id, the positions of a cell's layers): each connected piece of at least two layers of
    one id (`reduction_add_1_stem_1` has the id 1 of `#` too, far from cell 1)."""
    layers = found.layers
    pattern = re.compile("^(.+)_(" + re.escape(template).replace("\\#", "[0-9]+") + ")$")
    member: dict[int, str] = {}
    for index, item in enumerate(layers):
        match = pattern.match(_keras(item))
        if match and "type" in item and "share" not in item and not _auto_named(item):
            member[index] = match.group(2)
    for index in range(len(layers) - 1, -1, -1):  # Keras's own names: where all their uses lie
        item = layers[index]
        if index in member or "type" not in item or "share" in item or not _auto_named(item):
            continue
        ids = {member.get(u) for u in uses.get(item["name"], [-1])}
        if len(ids) == 1 and None not in ids:
            member[index] = ids.pop()
    by_id: dict[str, list[int]] = {}
    for index in sorted(member):
        by_id.setdefault(member[index], []).append(index)
    names = {item["name"]: i for i, item in enumerate(layers)}
    return [
        (cell, sorted(piece))
        for cell, positions in by_id.items()
        for piece in _pieces(layers, set(positions), names)
        if len(piece) > 1
    ]


def _pieces(layers, positions: set, names: dict) -> list[set]:
    """The connected pieces of the layers at `positions`, joined by their inputs."""
    parent = {p: p for p in positions}

    def root(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for p in positions:
        for ref in _refs(layers[p].get("inputs")):
            q = names.get(ref.split(".")[0])
            if q in parent:
                parent[root(p)] = root(q)
    pieces: dict = {}
    for p in positions:
        pieces.setdefault(root(p), set()).add(p)
    return list(pieces.values())


def _signature(layers, cell: str, positions: list, uses: dict):
    """What two cells must share to be one block, or None where the cell cannot be one call: its
    one layer used after it comes after all its layers, and is no model output."""
    inside = {layers[p]["name"]: k for k, p in enumerate(positions)}
    last, outside, rows, output = positions[-1], [], [], None
    for k, p in enumerate(positions):
        item = layers[p]
        after = [u for u in uses.get(item["name"], ()) if u not in positions]
        if after:
            if output is not None or min(after) <= last:
                return None
            output = k
        args = tuple(
            sorted(key for key in item if key not in _ENTRY_KEYS and _default(item["type"], key) is _NONE)
        )
        rows.append(
            (
                _local(item, cell),
                item["type"],
                args,
                repr(item.get("call")),
                _wire(item["inputs"], inside, outside),
            )
        )
    if output is None:
        return None
    return tuple(rows), len(outside), output


def _local(item, cell: str):
    """A layer's name in the cell's block: its Keras name with the id made `{}`, or None for a
    name Keras gave it."""
    return None if _auto_named(item) else _keras(item)[: -len(cell)] + "{}"


def _wire(inputs, inside: dict, outside: list):
    """Inputs with each reference to a layer of the cell its index there, each other one the
    number of an outside tensor (added to `outside`)."""
    if isinstance(inputs, list):
        return tuple(_wire(v, inside, outside) for v in inputs)
    if isinstance(inputs, dict):
        return tuple((k, _wire(v, inside, outside)) for k, v in inputs.items())
    base, dot, rest = inputs.partition(".")
    if base in inside:
        return ("local", inside[base], rest)
    if inputs not in outside:
        outside.append(inputs)
    return ("outside", outside.index(inputs))


def _plan(found: Discovered, template: str, made: list):
    """(lines saved, classes of cells) for one template: each class a list of (id, positions)
    with the _Made block they call, None for a new one."""
    uses = _uses(found)
    groups: dict = {}
    keras_names = {_keras(item) for item in found.layers}
    for cell, positions in _instances(found, template, uses):
        if cell in keras_names:
            continue  # a layer's name (`reduction_left4_stem_1`): no call can have it too
        signature = _signature(found.layers, cell, positions, uses)
        if signature is None:
            continue
        values = _values(found.layers, positions)
        known = next((m for m in made if m.signature == signature and m.fits(values)), None)
        groups.setdefault((signature, id(known)), (known, []))[1].append((cell, positions))
    classes = [(known, cells) for known, cells in groups.values() if known is not None or len(cells) > 1]
    saved = sum(
        len(cells) * (len(cells[0][1]) - 2) - (0 if known else len(cells[0][1]) + 4)
        for known, cells in classes
    )
    return saved, classes, min((len(cells[0][1]) for _, cells in classes), default=0)


def _values(layers, positions) -> dict:
    """(index in the cell, argument) -> value, for the layers of one cell."""
    return {
        (k, key): value
        for k, p in enumerate(positions)
        for key, value in layers[p].items()
        if key not in _ENTRY_KEYS
    }


def _apply(found: Discovered, classes, made: list) -> Discovered:
    """The layers with each cell made a call of its class's block, at its last layer's place."""
    layers = found.layers
    blocks = list(found.blocks)
    taken = {item["name"] for item in layers}
    drop, put, renamed = set(), {}, {}
    for known, cells in classes:
        if known is None:
            signature = _signature(layers, cells[0][0], cells[0][1], _uses(found))
            block, locals_, params = _block(layers, cells, signature[2], _block_name(blocks, found.taken))
            first = _values(layers, cells[0][1])
            known = _Made(
                signature, block, locals_, params, {s: v for s, v in first.items() if s not in params}
            )
            made.append(known)
            blocks.append(block)
        block, locals_, params = known.block, known.locals_, known.params
        for cell, positions in cells:
            call = {"name": _call_name(block.name, cell, taken), "keras_name": cell, "type": block.name}
            taken.add(call["name"])
            for (k, key), param in params.items():
                value = layers[positions[k]].get(key, _NONE)
                if value is not _NONE:
                    call[param] = value
            inside = {layers[p]["name"]: 0 for p in positions}
            outside: list = []
            for p in positions:
                _wire(layers[p]["inputs"], inside, outside)
            call["inputs"] = outside[0] if len(outside) == 1 else outside
            named = {locals_[k]: layers[p]["name"] for k, p in enumerate(positions) if _auto_named(layers[p])}
            for k, p in enumerate(positions):  # the names of a cell inside the cell
                for path, name in layers[p].get("keras_names", {}).items():
                    named[f"{locals_[k]}/{path}"] = name
            if named:
                call["keras_names"] = named
            block.calls += 1
            drop.update(positions)
            put[positions[-1]] = call
            output = next(layers[p]["name"] for k, p in enumerate(positions) if locals_[k] == block.output)
            renamed[output] = call["name"]
    out = [put[i] if i in put else item for i, item in enumerate(layers) if i in put or i not in drop]
    out = [
        {**item, "inputs": _renamed(item["inputs"], renamed)} if "inputs" in item else item for item in out
    ]
    return Discovered(out, _renamed(found.outputs, renamed), blocks, found.taken)


def _block(layers, cells, output: int, name: str):
    """The block of a class of cells (`output` the index of the layer used after them), the spec
    name of each of its layers, and the parameter of each (layer, argument) that varies between
    the cells."""
    cell, positions = cells[0]
    locals_ = []
    for p in positions:
        local = _local(layers[p], cell)
        base = snake_case(layers[p]["type"]) if local is None else local.replace("{}", "").strip("_")
        base = base if base.isidentifier() else "_" + base
        spec_name, count = base, 1
        while spec_name in locals_:
            count += 1
            spec_name = f"{base}_{count}"
        locals_.append(spec_name)
    all_values = [_values(layers, ps) for _, ps in cells]
    params, defaults, by_values = {}, {}, {}
    for slot in dict.fromkeys(slot for values in all_values for slot in values):
        seen = [v.get(slot, _NONE) for v in all_values]
        if len({repr(v) for v in seen}) > 1:
            key = repr(seen)
            if key not in by_values:
                by_values[key] = _param_name((locals_[slot[0]], slot[1]), set(by_values.values()), "body")
                kind = layers[positions[slot[0]]]["type"]
                defaults[by_values[key]] = _default(kind, slot[1]) if _NONE in seen else None
            params[slot] = by_values[key]
    index = {layers[p]["name"]: k for k, p in enumerate(positions)}
    outside: list = []
    for p in positions:
        _wire(layers[p]["inputs"], index, outside)
    inputs = ["x"] if len(outside) == 1 else [f"x{i + 1}" for i in range(len(outside))]
    entries, previous = [], inputs[0] if len(inputs) == 1 else None
    for k, p in enumerate(positions):
        item = layers[p]
        entry = {"name": locals_[k]}
        local = _local(item, cell)
        if local is not None:
            entry["keras_name"] = local
        entry["type"] = item["type"]
        for key in dict.fromkeys(key for values in all_values for (at, key) in values if at == k):
            entry[key] = f"${params[(k, key)]}" if (k, key) in params else all_values[0][(k, key)]
        wired = rewire(item["inputs"], outside, inputs, lambda base: locals_[index[base]])
        if wired != previous:
            entry["inputs"] = wired
        if "call" in item:
            entry["call"] = item["call"]
        previous = entry["name"]
        entries.append(entry)
    return Block(name, defaults, entries, inputs, locals_[output]), locals_, params


def _block_name(blocks, others) -> str:
    """Cell, Cell2, ...: the first that is no other block's name and no layer's."""
    taken = {block.name for block in blocks} | set(others)
    name, count = "Cell", 1
    while name in taken or catalog().layer(name) is not None:
        count += 1
        name = f"Cell{count}"
    return name


def _call_name(block: str, cell: str, taken: set) -> str:
    """`cell2_0`: the block's name and the id, made unique."""
    name = f"{snake_case(block)}_{cell}"
    while name in taken:
        name += "_"
    return name
