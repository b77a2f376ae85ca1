"""A block call's name map (`keras_names`): each key a layer of the block (`act`, or `body/act`
through the block calls it makes), each value a Keras name; no `share` of a call that has one,
whose layers another call could not find by their names."""

from __future__ import annotations

from ..diagnostics import suggestion
from ..ir import Call, Spec


def check_name_map(spec: Spec, call: Call, calls: dict, out) -> None:
    """The keys of `call`'s keras_names, and a share of a call that has a name map."""
    if call.share is not None:
        target = calls.get(call.share_path[0])
        if _has_map(spec, target, call.share_path[1:]):
            out.error(
                call.where + ("share",),
                "KS208",
                f"cannot share '{call.share}': its layers are named by keras_names",
                "share a block call without keras_names",
            )
    if not call.keras_names:
        return
    where = call.where + ("keras_names",)
    if call.type not in spec.blocks or call.share is not None:
        out.error(where, "KS105", f"keras_names names the layers of a block call; '{call.name}' is none")
        return
    if call.repeat is not None:
        out.error(
            where,
            "KS105",
            f"'{call.name}' has repeat, so keras_names would give each repetition the same names",
            "write one block call per repetition",
        )
        return
    for key in call.keras_names:
        problem = _path_problem(spec, call.type, key.split("/"))
        if problem:
            out.error(where + (key,), "KS202", f"keras_names of '{call.name}': {problem}")


def _path_problem(spec: Spec, block: str, path: list) -> str | None:
    """Why `path` names no layer call of the block (through its block calls), or None."""
    for depth, name in enumerate(path):
        calls = {c.name: c for c in spec.blocks[block].scope.calls}
        found = calls.get(name)
        if found is None:
            return f"block {block} has no layer '{name}'" + suggestion(name, calls)
        if found.repeat is not None or found.share is not None or found.op is not None:
            return f"'{name}' in block {block} repeats, shares or is a keras.ops call: it has no one name"
        last = depth == len(path) - 1
        if last and found.type in spec.blocks:
            return f"'{name}' in block {block} is a block call: name its layers ('{name}/<layer>')"
        if not last and found.type not in spec.blocks:
            return f"'{name}' in block {block} is a layer, not a block call"
        block = found.type
    return None


def _has_map(spec: Spec, target: Call | None, inside: list) -> bool:
    """Whether a block call, or one of the calls on the path inside it, has keras_names."""
    while target is not None:
        if target.keras_names:
            return True
        if not inside or target.type not in spec.blocks:
            return False
        target = {c.name: c for c in spec.blocks[target.type].scope.calls}.get(inside.pop(0))
    return False
