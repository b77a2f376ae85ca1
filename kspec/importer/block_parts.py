"""What block discovery works with: a block found, a flat import with its blocks, and the
helpers that runs (blocks.py) and cells (cells.py) share."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import catalog
from ..ir import CALL_KEYS

# Keys of a layer entry that are not constructor arguments.
ENTRY_KEYS = set(CALL_KEYS)


@dataclass
class Block:
    """One block found: its name, parameters, layers (entries of its own scope), output."""

    name: str
    params: dict  # name -> default, None where a call must give it
    layers: list[dict]
    inputs: list[str]
    output: object  # a reference, or a list of them (a nested model's outputs)
    calls: int = 0
    model: str | None = None  # "sequential" or "functional" for a nested model's block


@dataclass
class Discovered:
    """A flat import with its blocks: the model's layer entries, its outputs, the blocks."""

    layers: list[dict]
    outputs: object
    blocks: list[Block] = field(default_factory=list)
    taken: frozenset = frozenset()  # names of the spec's other blocks, which new ones avoid


NONE = object()  # no such argument, or no default for it


def default(type_name: str, key: str):
    """The default of a layer's argument, from the catalog; NONE where it has none."""
    signature = catalog().layer(type_name)
    param = signature.params.get(key) if signature is not None else None
    return param.default if param is not None and not param.required else NONE


def param_name(slot, taken: set, inner: str) -> str:
    """`filters`, or `filters_1_conv` where another parameter is `filters` already."""
    local, key = slot
    local = inner if local == "{}" else local
    name = key if key not in taken and key not in ENTRY_KEYS else local_name(f"{key}_{local}")
    while name in taken or name in ENTRY_KEYS:
        name += "_"
    return name


def local_name(name: str) -> str:
    """A Keras name as a spec name: itself where it is an identifier, else with `_` before it."""
    return name if name.isidentifier() and name.isascii() else "_" + name


def refs(inputs):
    """The references in inputs or outputs: a name, a list, or a mapping."""
    if isinstance(inputs, str):
        yield inputs
    elif isinstance(inputs, list):
        for v in inputs:
            yield from refs(v)
    elif isinstance(inputs, dict):
        for v in inputs.values():
            yield from refs(v)


def renamed(inputs, names: dict):
    """Inputs or outputs with each reference to a key of `names` made one to its value."""
    if isinstance(inputs, str):
        base, dot, rest = inputs.partition(".")
        return names.get(base, base) + dot + rest
    if isinstance(inputs, list):
        return [renamed(v, names) for v in inputs]
    if isinstance(inputs, dict):
        return {k: renamed(v, names) for k, v in inputs.items()}
    return inputs


def uses(found: Discovered) -> dict[str, list[int]]:
    """Layer name -> the positions of the layers that use it; -1 a model output (which keeps its
    layer's name), -2 a `share` of it or a use of one of its several outputs (`lstm.1`)."""
    out: dict = {}
    for index, item in enumerate(found.layers):
        for ref in refs(item.get("inputs")):
            out.setdefault(ref.split(".")[0], []).append(index if "." not in ref else -2)
        if "share" in item:
            out.setdefault(item["share"], []).append(-2)
    for ref in refs(found.outputs):
        out.setdefault(ref.split(".")[0], []).append(-1)
    return out


def rewire(inputs, outside: list, block_inputs: list, local_of):
    """A layer's inputs as a block writes them: a tensor from before the block is the block's
    input at its place in `outside`; a layer of the block is `local_of(its name)`, its `.K`
    output kept."""
    if isinstance(inputs, list):
        return [rewire(v, outside, block_inputs, local_of) for v in inputs]
    if isinstance(inputs, dict):
        return {k: rewire(v, outside, block_inputs, local_of) for k, v in inputs.items()}
    if inputs in outside:
        return block_inputs[outside.index(inputs)]
    base, dot, rest = inputs.partition(".")
    return local_of(base) + dot + rest
