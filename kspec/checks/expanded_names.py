"""Keras names once blocks are expanded: no two layers of the model with one name.

graph.py compares the names of one scope; a block call whose `keras_name` has `{}` (its layers
named like its caller's) or a layer named `normal_conv_{}` can make a name that another scope
makes too, which Keras would refuse when it builds the model.
"""

from __future__ import annotations

from ..diagnostics import block_context
from ..flatten import flatten


def check_expanded_names(spec, out) -> None:
    seen: dict = {}
    reported = set()  # calls: once, however many times their block is called
    for node in flatten(spec).nodes:
        if node.share or node.op is not None:
            continue  # no layer of its own
        other = seen.setdefault(node.name, node)
        where = _named_at(node)
        if other is not node and where not in reported:
            reported.add(where)
            line, _ = out.document.position(_named_at(other)) if out.document is not None else (None, None)
            out.error(
                where,
                "KS201",
                f"duplicate Keras name '{node.name}' in the expanded model: the layer on line {line} has it too",
                block_context(out.document, node.scope, "give one of them another keras_name"),
            )


def _named_at(node) -> tuple:
    """Where a layer's Keras name is given: the entry of a block call's name map (`keras_names`,
    the outermost call's, which wins), else its call's `keras_name` or `name`."""
    if node.mapped:
        for depth, frame in enumerate(node.scope):
            path = "/".join([f.call.name for f in node.scope[depth + 1 :]] + [node.origin.name])
            if path in frame.call.keras_names:
                return frame.where + ("keras_names", path)
    key = "keras_name" if node.origin is not None and node.origin.keras_name else "name"
    return node.where + (key,)
