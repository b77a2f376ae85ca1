"""Names, references, cycles, sharing, repetition and unused parts of a graph."""

from __future__ import annotations

from ..catalog import catalog
from ..catalog.calls import MERGE_LAYERS, NOT_IN_SPECS, layer_output_count
from ..diagnostics import suggestion
from ..ir import (
    Call,
    Outputs,
    Ref,
    Scope,
    Spec,
    calls_reaching_outputs,
    instance_names,
    keras_name,
    output_names,
)
from .name_map import check_name_map


def type_kind(spec: Spec, type_name: str | None) -> str | None:
    """'block', 'custom' or 'keras' for a known `type`, else None."""
    if type_name is None:
        return None
    if type_name in spec.blocks:
        return "block"
    if type_name in spec.custom:
        return "custom"
    if catalog().layer(type_name) is not None:
        return "keras"
    return None


def shared_call(spec: Spec, call: Call, calls: dict) -> Call | None:
    """The call that `share` names (inside a block call's block for `tower/proj`), if any."""
    path = call.share_path
    target = calls.get(path[0]) if path else None
    for name in path[1:]:
        if target is None or type_kind(spec, target.type) != "block":
            return None
        target = spec.blocks[target.type].scope.call(name)
    return target if target is not call else None


def output_count(spec: Spec, call: Call, calls: dict) -> int | None:
    """How many tensors a call returns (None when unknown); `calls` maps names in scope."""
    layer = call
    if call.share is not None:  # the shared layer, called with this call's own call arguments
        layer = shared_call(spec, call, calls)
        if not layer or layer.share:
            return None
    kind = type_kind(spec, layer.type)
    if kind == "block":
        outputs = spec.blocks[layer.type].scope.outputs
        return len(outputs.items) if outputs else None
    if kind == "keras":
        return layer_output_count(layer.type, layer.args, call.call_args)
    return None


def block_call_output_names(spec: Spec, call: Call, calls: dict) -> list[str]:
    """The names by which a block call's outputs can be referred to (`call.out`)."""
    if call.share is not None:
        target = shared_call(spec, call, calls)
        return block_call_output_names(spec, target, calls) if target and not target.share else []
    if type_kind(spec, call.type) != "block":
        return []
    outputs = spec.blocks[call.type].scope.outputs
    return [name for name in output_names(outputs) if name] if outputs is not None else []


# Repetitions whose Keras names _check_keras_names compares; more are KS407 (too many layers).
NAMED_REPEATS = 10_000


def _check_keras_names(scope: Scope, out, label: str, in_block: bool) -> None:
    """`keras_name`: a `{}` only with repeat or in a block (the block call's name), and no two
    layers of a scope with one Keras name."""
    seen: dict = {}
    for call in scope.calls:
        if call.keras_name and "{}" in call.keras_name and not call.repeat and not in_block:
            out.error(
                call.where + ("keras_name",),
                "KS105",
                f"keras_name '{call.keras_name}' has {{}} for a repetition's number, but '{call.name}' "
                "has no repeat",
                "add repeat: N, or write the name without {}",
            )
            continue
        if not call.keras_name and call.repeat:
            continue  # `<name>_<k>`: a plain name cannot hold them all, and KS407 bounds the count
        for local in instance_names(call) if (call.repeat or 1) <= NAMED_REPEATS else ():
            name = keras_name("{}" if in_block else "", local)  # `{}`: the block call's name
            other = seen.setdefault(name, call)
            if other is not call and (call.keras_name or other.keras_name):
                out.error(
                    call.where + ("keras_name" if call.keras_name else "name",),
                    "KS201",
                    f"duplicate Keras name '{name.replace('{}', '<call>')}': '{other.name}' in {label} has it too",
                    "give one of them another keras_name",
                )
                break


def check_scope(spec: Spec, scope: Scope, out, label: str) -> None:
    """All graph checks of one scope (the model, or a block)."""
    calls = {}
    for name in scope.inputs:
        calls.setdefault(name, None)
    for call in scope.calls:
        if call.name in calls:
            what = "an input" if calls[call.name] is None else "another layer"
            out.error(
                call.where + ("name",),
                "KS201",
                f"duplicate name '{call.name}': {what} in {label} has this name",
            )
            continue
        calls[call.name] = call
    _check_keras_names(scope, out, label, scope is not spec.scope)
    for call in scope.calls:
        _check_call(spec, scope, call, calls, out)
    if scope.outputs is not None:
        _check_outputs(spec, scope, scope.outputs, calls, out)
    _check_cycles(scope, calls, out)
    if not _has_broken_reference(scope, calls):  # a typo would show as unused first: say it once
        _check_unused(scope, calls, out, label)


def _has_broken_reference(scope: Scope, calls: dict) -> bool:
    refs = [ref for call in scope.calls for ref in call.refs()]
    refs += list(scope.outputs.refs) if scope.outputs is not None else []
    shares = [call.share_path[0] for call in scope.calls if call.share is not None]
    return any(ref.name not in calls for ref in refs) or any(name not in calls for name in shares)


def _check_call(spec: Spec, scope: Scope, call: Call, calls: dict, out) -> None:
    if type_kind(spec, call.type) == "keras" and call.type in NOT_IN_SPECS:
        out.error(
            call.where + ("type",),
            "KS102",
            f"keras.layers.{call.type} cannot be used in a spec: {NOT_IN_SPECS[call.type]}",
        )
    if call.type is not None and type_kind(spec, call.type) is None:
        choices = list(catalog().layers) + list(spec.blocks) + list(spec.custom)
        out.error(
            call.where + ("type",),
            "KS102",
            f"unknown layer type '{call.type}'" + suggestion(call.type, choices),
            "a type is a keras.layers class, a block, or a name declared under `custom`",
        )
    if call.share is not None:
        _check_share(spec, call, calls, out)
    elif type_kind(spec, call.type) == "block":
        _check_block_inputs(spec, call, spec.blocks[call.type], out)
    if call.inputs is None:
        out.error(
            call.where,
            "KS210",
            f"'{call.name}' needs `inputs`: there is no single input or previous layer to take",
            "write `inputs: <name>` (the scope has several inputs)",
        )
    for ref in call.refs():
        _check_ref(spec, scope, ref, calls, out, "KS202", call)
    if call.repeat is not None:
        _check_repeat(spec, scope, call, out)
    check_name_map(spec, call, calls, out)


def _check_share(spec: Spec, call: Call, calls: dict, out) -> None:
    where = call.where + ("share",)
    root, *inside = call.share_path
    if root not in calls:
        layers = [n for n, c in calls.items() if c is not None]
        out.error(where, "KS202", f"'{root}' is not defined" + suggestion(root, layers))
        return
    target = calls[root]
    if target is None:
        out.error(where, "KS208", f"cannot share '{root}': it is an input, not a layer")
    elif target is call:
        out.error(where, "KS208", f"'{call.name}' cannot share itself")
    elif target.where[-1] > call.where[-1]:  # positions in the same `layers` list
        out.error(
            where,
            "KS208",
            f"'{call.name}' shares '{root}', which comes later",
            "a call can share only a layer or block call defined above it",
        )
    elif target.op is not None:
        out.error(where, "KS208", f"cannot share '{call.share}': it is a keras.ops call, not a layer")
    elif inside:
        _check_share_path(spec, call.share, target, inside, where, out)
    elif type_kind(spec, target.type) == "block":
        _check_block_inputs(spec, call, spec.blocks[target.type], out)
    for key in call.args:
        out.error(
            call.where + (key,),
            "KS301",
            f"a shared call takes no constructor arguments: '{key}' belongs to '{call.share}'",
            key=True,
        )


def _check_share_path(spec: Spec, share: str, target: Call, inside: list, where: tuple, out) -> None:
    """`share: tower/proj`: each name a call inside the block of the call before it."""
    for name in inside:
        if type_kind(spec, target.type) != "block" or target.share:
            what = "a shared call" if target.share else "a layer"
            out.error(where, "KS208", f"cannot share '{share}': '{target.name}' is {what}, not a block call")
            return
        if target.repeat is not None:
            out.error(
                where,
                "KS208",
                f"cannot share '{share}': '{target.name}' repeats, so '{name}' names several layers",
            )
            return
        if spec.blocks[target.type].model is not None:
            out.error(
                where,
                "KS215",
                f"cannot share '{share}': '{target.name}' is a nested model, whose layers are its own",
                f"share the whole call (`share: {target.name}`)",
            )
            return
        scope = spec.blocks[target.type].scope
        inner = scope.call(name)
        if inner is None:
            names = [c.name for c in scope.calls]
            out.error(
                where,
                "KS202",
                f"block {target.type} (called as '{target.name}') has no layer '{name}'"
                + suggestion(name, names),
            )
            return
        target = inner
    if target.op is not None:
        out.error(where, "KS208", f"cannot share '{share}': it is a keras.ops call, not a layer")
    elif type_kind(spec, target.type) == "block" or target.repeat is not None:
        what = "a block call" if target.repeat is None else "a repeated call"
        out.error(
            where,
            "KS208",
            f"cannot share '{share}': it is {what} inside a block",
            "name one layer inside it, or share the whole call that contains it",
        )


def _check_block_inputs(spec: Spec, call: Call, block, out) -> None:
    """A block call, or a call sharing one, gives the block one tensor per input, in order."""
    if call.inputs is None:
        return
    given = (
        len(call.inputs) if isinstance(call.inputs, list) else None if isinstance(call.inputs, dict) else 1
    )
    wanted = block.scope.inputs
    if given == len(wanted):
        return
    where = call.where + ("inputs",)
    names = ", ".join(wanted)
    if given is None:
        message = f"'{call.name}' gives block {block.name} keyword inputs; a block takes a name or a list"
    else:
        message = f"'{call.name}' gives block {block.name} {given} input(s); it takes {len(wanted)} ({names})"
    out.error(where, "KS212", message, f"write `inputs: [{names}]` with a tensor for each, in this order")


def _check_ref(spec: Spec, scope: Scope, ref: Ref, calls: dict, out, code: str, user: Call | None) -> None:
    if ref.name not in calls:
        names = [n for n in calls if user is None or n != user.name]
        what = "output" if code == "KS204" else "reference"
        out.error(
            ref.where,
            code,
            f"{what} '{ref}' refers to nothing: no input or layer is named '{ref.name}'"
            + suggestion(ref.name, names),
        )
        return
    if ref.output is None:
        return
    target = calls[ref.name]
    if target is None:
        out.error(
            ref.where,
            "KS207",
            f"'{ref}': input '{ref.name}' is a single tensor",
            f"refer to it as '{ref.name}'",
        )
        return
    if isinstance(ref.output, str):
        names = block_call_output_names(spec, target, calls)
        if ref.output not in names:
            shown = ", ".join(names) if names else "none"
            out.error(
                ref.where,
                "KS207",
                f"'{ref.name}' has no output named '{ref.output}' (named outputs: {shown})",
            )
        return
    count = output_count(spec, target, calls)
    if count == 1:
        out.error(
            ref.where,
            "KS207",
            f"'{ref}': '{ref.name}' returns a single tensor",
            f"refer to it as '{ref.name}'",
        )
    elif count is not None and ref.output >= count:
        out.error(
            ref.where, "KS207", f"'{ref}': '{ref.name}' returns {count} tensors, numbered 0 to {count - 1}"
        )


def _check_repeat(spec: Spec, scope: Scope, call: Call, out) -> None:
    where = call.where + ("repeat",)
    kind = type_kind(spec, call.type)
    reason = None
    if call.share is not None:
        reason = "a shared call cannot repeat"
    elif call.op is not None:
        reason = "it is a keras.ops call"
    elif isinstance(call.inputs, (list, dict)):
        reason = "it takes several inputs"
    elif kind == "keras" and call.type in MERGE_LAYERS:
        reason = f"{call.type} merges several inputs"
    elif kind == "block":
        block = spec.blocks[call.type].scope
        n_out = len(block.outputs.items) if block.outputs else 0
        if len(block.inputs) != 1 or n_out != 1:
            reason = f"block {call.type} has {len(block.inputs)} inputs and {n_out} outputs, not one of each"
    elif kind == "keras" and (layer_output_count(call.type, call.args, call.call_args) or 1) > 1:
        reason = f"'{call.name}' returns several tensors"
    if reason:
        out.error(
            where,
            "KS209",
            f"`repeat` cannot apply to '{call.name}': {reason}",
            "repeat chains a single-input, single-output layer or block",
        )


def _check_outputs(spec: Spec, scope: Scope, outputs: Outputs, calls: dict, out) -> None:
    for _, ref in outputs.items:
        _check_ref(spec, scope, ref, calls, out, "KS204", None)


def _check_cycles(scope: Scope, calls: dict, out) -> None:
    edges = {
        call.name: [r.name for r in call.refs() if calls.get(r.name) is not None]
        for call in scope.calls
        if calls.get(call.name) is call
    }
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in edges:
        if state.get(start):
            continue
        path = [start]
        stack = [iter(edges[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                call = calls[nxt]
                out.error(
                    call.where + ("inputs",),
                    "KS203",
                    "cycle in the layer graph: " + " -> ".join(reversed(cycle)),
                    "a layer cannot depend on its own output",
                )
                continue
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges.get(nxt, ())))


def _check_unused(scope: Scope, calls: dict, out, label: str) -> None:
    if scope.outputs is None:
        return
    consumed = set()
    for call in scope.calls:
        consumed.update(r.name for r in call.refs())
        if call.share:
            consumed.add(call.share_path[0])

    reached = calls_reaching_outputs(scope)
    outputs = {r.name for r in scope.outputs.refs}
    for call in scope.calls:
        if call.name not in consumed and call.name not in outputs and calls.get(call.name) is call:
            out.warning(
                call.where,
                "KS206",
                f"layer '{call.name}' is not used by any output of {label}",
                "it will not be part of the built model; remove it or use it",
            )
    for index, name in enumerate(scope.inputs):
        if name not in reached:
            where = ("inputs", name) if not scope.where else scope.where + ("inputs", index)
            out.warning(where, "KS205", f"input '{name}' of {label} is not used by any output")
