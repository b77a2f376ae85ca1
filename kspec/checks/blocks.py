"""Blocks: parameters of each call, recursion, and the order to check them in."""

from __future__ import annotations

from ..diagnostics import did_you_mean
from ..expressions import is_expression
from ..ir import CALL_KEYS, Call, Ref, Spec


def uses(spec: Spec, block_name: str) -> list[Call]:
    """Calls in a block whose type is another block."""
    return [c for c in spec.blocks[block_name].scope.calls if c.type in spec.blocks]


def check_recursion(spec: Spec, out) -> set[str]:
    """Report block cycles; return the names of blocks that take part in one."""
    recursive: set[str] = set()
    for path, call in _walk_uses(spec):
        if call.type in path:
            cycle = path[path.index(call.type) :] + [call.type]
            recursive.update(cycle)
            shown = cycle if len(cycle) <= 8 else [*cycle[:4], f"... ({len(cycle) - 6} more)", *cycle[-2:]]
            out.error(
                call.where + ("type",),
                "KS403",
                "block recursion: " + " -> ".join(shown),
                "a block cannot use itself, directly or through other blocks",
            )
    return recursive


def dependency_order(spec: Spec) -> list[str]:
    """Blocks ordered so that a block comes after every block it uses."""
    order: list[str] = []
    for _ in _walk_uses(spec, finished=order.append):
        pass  # the cycles met; check_recursion reports them
    return order


def _walk_uses(spec: Spec, finished=None):
    """Depth-first over block uses, without recursion, each block entered once.

    Yields (path of block names being entered, call) for every use met, and for a
    use that closes a cycle (its type is on the path); calls `finished(name)` when
    every block a block uses is done: that is dependency order.
    """
    done: set[str] = set()
    for root in spec.blocks:
        if root in done:
            continue
        done.add(root)
        path, stack = [root], [iter(uses(spec, root))]
        while stack:
            call = next(stack[-1], None)
            if call is None:
                stack.pop()
                if finished is not None:
                    finished(path[-1])
                path.pop()
            elif call.type in path:
                yield path, call
            elif call.type not in done:
                done.add(call.type)
                path.append(call.type)
                stack.append(iter(uses(spec, call.type)))


def check_block_call(spec: Spec, call: Call, checker, usages: dict) -> None:
    """Parameters passed by one block call: known, complete, of the right kind."""
    block = spec.blocks[call.type]
    out = checker.out
    for key, value in call.args.items():
        if key not in block.params:
            match = did_you_mean(key, block.params)
            hint = (
                f"did you mean '{match}'?"
                if match
                else (
                    "parameters: " + ", ".join(block.params)
                    if block.params
                    else "this block takes no parameters"
                )
            )
            out.error(
                call.where + (key,), "KS402", f"block {call.type} has no parameter '{key}'", hint, key=True
            )
            continue
        for kind, label in usages.get(call.type, {}).get(key, ()):
            checker.check(kind, value, call.where + (key,), label)
    missing = [  # a parameter named like a call key is KS406 already: no call can pass it
        p
        for p, default in block.params.items()
        if default is None and p not in call.args and p not in CALL_KEYS
    ]
    if missing:
        out.error(
            call.where + ("type",),
            "KS401",
            f"block {call.type} needs " + ", ".join(f"'{m}'" for m in missing),
            f"add {missing[0]}: ... to this call",
        )


def check_defaults(spec: Spec, block_name: str, checker, usages: dict) -> None:
    """Default values of a block's parameters, checked against their uses."""
    block = spec.blocks[block_name]
    for name, default in block.params.items():
        if default is None:
            continue
        if is_expression(default):
            checker.out.error(
                block.where + ("params", name),
                "KS409",
                f"the default of '{name}' is an expression ('{default}'): a default is a plain value",
                "write the value itself, or the expression where the parameter is used",
            )
            continue
        for kind, label in usages.get(block_name, {}).get(name, ()):
            checker.check(kind, default, block.where + ("params", name), label)


def check_param_names(spec: Spec, block_name: str, out) -> None:
    """A parameter may not be named like a key of the call that passes it."""
    block = spec.blocks[block_name]
    for name in block.params:
        if name in CALL_KEYS:
            out.error(
                block.where + ("params", name),
                "KS406",
                f"block {block_name} cannot have a parameter named '{name}': a call uses `{name}` itself",
                "rename the parameter",
                key=True,
            )


def check_unused_params(spec: Spec, block_name: str, usages: dict, out) -> None:
    """Warn about parameters that no `$name` in the block uses."""
    block = spec.blocks[block_name]
    used = usages.get(block_name, {})
    for name in block.params:
        if name not in used:
            out.warning(
                block.where + ("params", name),
                "KS405",
                f"parameter '{name}' of block {block_name} is never used",
                f"refer to it as ${name} in an argument, or remove it",
                key=True,
            )


def check_sequential_model(spec: Spec, block, out) -> None:
    """A `model: sequential` block is a chain: one input, layers each taking the previous
    output alone, and the last one's output as the block's only output (KS214)."""
    from ..catalog.calls import layer_output_count

    hint = "write `model: functional`, which takes any graph"
    if len(block.scope.inputs) != 1:
        out.error(
            block.where + ("inputs",),
            "KS214",
            f"a sequential model block has one input, not {len(block.scope.inputs)}",
            hint,
        )
        return
    previous = block.scope.inputs[0]
    for call in block.scope.calls:
        reason = None
        if call.share or call.op is not None:
            reason = "shares a layer" if call.share else f"calls keras.ops.{call.op}"
        elif call.type in spec.blocks and spec.blocks[call.type].model is None:
            reason = f"calls the block {call.type}, which is no model"
        elif not (
            isinstance(call.inputs, Ref) and call.inputs.name == previous and call.inputs.output is None
        ):
            reason = "does not take exactly the previous output"
        elif call.call_args:
            reason = "is called with arguments"
        elif call.type not in spec.blocks and (layer_output_count(call.type, call.args) or 1) != 1:
            reason = "returns several tensors"
        if reason:
            out.error(
                call.where, "KS214", f"a sequential model block is a chain: '{call.name}' {reason}", hint
            )
            return
        previous = call.name
    refs = block.scope.outputs.refs if block.scope.outputs else []
    if len(refs) != 1 or refs[0].name != previous or block.scope.outputs.kind == "named":
        out.error(
            block.where + ("outputs",),
            "KS214",
            "a sequential model block has one output, the last layer's",
            hint,
        )
