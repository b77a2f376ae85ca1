"""How far blocks and repeats expand, computed before anything is expanded.

A 200-byte spec can ask for a billion layer calls (`repeat: 1000000000`, or
blocks of repeats inside blocks of repeats). Every later pass expands the spec,
so the expansion is counted here, multiplying through nested blocks, and a spec
past the limit stops validation with an error at the call that crosses it.
"""

from __future__ import annotations

from ..ir import Scope, Spec

DEFAULT_MAX_EXPANSION = 100_000  # the CLI reads --max-expansion and KSPEC_MAX_EXPANSION
MAX_BLOCK_NESTING = 50


class _Stop(Exception):
    """The limit was crossed and reported: nothing more to count."""


def check_expansion(spec: Spec, out, order: list[str], skip: set[str], limit: int) -> None:
    """Report the first call whose expansion crosses `limit`, or blocks nested too deeply.

    The work counted is every call that expanding makes: one per layer call and one per
    block call (an empty block repeated a billion times is still a billion steps).
    `order` is dependency order (a block after the blocks it uses); blocks in `skip`
    (recursive ones, already reported) are left out.
    """
    work: dict[str, int] = {}
    depth: dict[str, int] = {}
    try:
        for name in order:
            if name not in skip:
                work[name], depth[name] = _count(spec, spec.blocks[name].scope, work, depth, limit, out)
        _count(spec, spec.scope, work, depth, limit, out)
    except _Stop:
        pass


def _count(spec: Spec, scope: Scope, work: dict, depth: dict, limit: int, out) -> tuple[int, int]:
    """The work of expanding one scope once, and how deeply block calls nest in it."""
    total, deepest = 0, 0
    for call in scope.calls:
        times = call.repeat or 1
        if call.type in spec.blocks:
            if call.type not in work:  # recursive, reported elsewhere
                continue
            inner = depth[call.type] + 1
            if inner > MAX_BLOCK_NESTING:
                out.error(
                    call.where + ("type",),
                    "KS408",
                    f"block calls nest more than {MAX_BLOCK_NESTING} deep from here: '{call.name}' "
                    f"({call.type}) and the block calls inside it",
                    "flatten some of the blocks: no model needs this many levels",
                )
                raise _Stop
            deepest = max(deepest, inner)
            each = 1 + work[call.type]
        else:
            each = 1
        total += times * each
        if total > limit:
            where = call.where + ("repeat",) if call.repeat else call.where + ("type",)
            out.error(
                where,
                "KS407",
                f"'{call.name}' expands the spec past {limit:,} layer calls"
                + (f" ({times:,} x {each:,})" if times > 1 or each > 1 else ""),
                "lower `repeat`, or raise the limit with --max-expansion or KSPEC_MAX_EXPANSION",
            )
            raise _Stop
    return total, deepest
