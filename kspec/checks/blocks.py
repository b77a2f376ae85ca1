"""Blocks: parameters of each call, recursion, and the order to check them in."""

from __future__ import annotations

from ..diagnostics import did_you_mean
from ..ir import Call, Spec


def uses(spec: Spec, block_name: str) -> list[Call]:
    """Calls in a block whose type is another block."""
    return [c for c in spec.blocks[block_name].scope.calls if c.type in spec.blocks]


def check_recursion(spec: Spec, out) -> set[str]:
    """Report block cycles; return the names of blocks that take part in one."""
    recursive: set[str] = set()
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for call in uses(spec, name):
            target = call.type
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target] if target in path else [name, target]
                recursive.update(cycle)
                out.error(
                    call.where + ("type",),
                    "KS403",
                    "block recursion: " + " -> ".join(cycle),
                    "a block cannot use itself, directly or through other blocks",
                )
            elif not state.get(target):
                visit(target, path + [target])
        state[name] = 2

    for name in spec.blocks:
        if not state.get(name):
            visit(name, [name])
    return recursive


def dependency_order(spec: Spec) -> list[str]:
    """Blocks ordered so that a block comes after every block it uses."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for call in uses(spec, name):
            if call.type not in seen:
                visit(call.type)
        order.append(name)

    for name in spec.blocks:
        if name not in seen:
            visit(name)
    return order


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
    missing = [p for p, default in block.params.items() if default is None and p not in call.args]
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
        for kind, label in usages.get(block_name, {}).get(name, ()):
            checker.check(kind, default, block.where + ("params", name), label)


def check_param_names(spec: Spec, block_name: str, out) -> None:
    """A parameter may not be named like a key of the call that passes it."""
    from ..ir import CALL_KEYS

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
