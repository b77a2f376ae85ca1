"""Expressions once blocks are expanded: each computed with the parameters a call passes.

`kspec.checks.arguments` checks an expression's form and names; only the expanded graph
knows the numbers (`"$embed_dim // $heads"` with `heads: 0` is a division by zero), so
this pass reports what could not be computed, and checks again, with its values, every
layer that a computed value may reach: the layers inside blocks, and the calls that hold
an expression themselves.
"""

from __future__ import annotations

from ..catalog import catalog
from ..diagnostics import block_context
from ..flatten import flatten
from .arguments import ValueChecker


class _InCall:
    """The collector, with the block call that a diagnostic is about in its hint."""

    def __init__(self, out, scope: tuple):
        self.out = out
        self.scope = scope

    def error(self, where, code, message, hint=None, *, key=False):
        self.out.error(where, code, message, block_context(self.out.document, self.scope, hint), key=key)


def check_evaluated(spec, out) -> None:
    graph = flatten(spec)
    if not graph.evaluated:
        return
    for where, scope, found in graph.evaluated:
        for path, error in found:
            if error is not None:
                _InCall(out, scope).error(where + path, "KS410", f"cannot compute: {error.message}")
    if out.has_errors:
        return
    holding = {where for where, _, _ in graph.evaluated}
    for node in graph.nodes:
        if node.share or node.op is not None or catalog().layer(node.type) is None:
            continue
        if node.scope or node.where in holding:
            checker = ValueChecker(spec, _InCall(out, node.scope))
            checker.check_layer(node.type, node.args, node.where, node.where + ("type",))
