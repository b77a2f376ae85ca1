"""The contracts of the custom classes an imported model uses, measured on the model itself.

For each class, every call of every layer of it in the model is read (input and output
shapes, trainable and non-trainable counts, integer arguments) and the simplest rule that
fits them all is kept: `same`, `{same_as: K}`, or each dimension as an input's dimension, an
argument (`$units`) or a number; each count as 0, one of those, a product of two, such a
product plus one of them, or a number. A class that no rule fits gets no contract (its entry
stays a plain import path)."""

from __future__ import annotations

import itertools
import math


def measured_contracts(model, custom: dict) -> dict:
    """Class name -> {output_shape, weights[, non_trainable_weights]} for the classes of `custom`."""
    layers: dict = {}
    for layer in model.layers:
        if type(layer).__name__ in custom:
            layers.setdefault(type(layer).__name__, []).append(layer)
    found = {}
    for name, instances in layers.items():
        calls = [
            (
                [tuple(t.shape) for t in node.input_tensors],
                [tuple(t.shape) for t in node.output_tensors],
                _arguments(layer),
            )
            for layer in instances
            for node in layer._inbound_nodes
        ]
        first = [
            ([tuple(t.shape) for t in layer._inbound_nodes[0].input_tensors], _arguments(layer))
            for layer in instances
        ]
        output = _output_rule(calls) if calls else None
        trainable = _count_rule(first, [_size(layer.trainable_weights) for layer in instances])
        frozen = _count_rule(first, [_size(layer.non_trainable_weights) for layer in instances])
        if output is None or trainable is None or frozen is None:
            continue
        found[name] = {"output_shape": output, "weights": trainable}
        if frozen != 0:
            found[name]["non_trainable_weights"] = frozen
    return found


def _arguments(layer) -> dict:
    """The layer's integer constructor arguments (what a contract may name as `$name`)."""
    skipped = {"name", "trainable", "dtype"}
    return {
        key: value
        for key, value in layer.get_config().items()
        if key not in skipped and isinstance(value, int) and not isinstance(value, bool)
    }


def _size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _output_rule(calls: list):
    if all(len(outs) == 1 for _, outs, _ in calls):
        for k in range(min(len(ins) for ins, _, _ in calls)):
            if all(outs[0] == ins[k] for ins, outs, _ in calls):
                return "same" if k == 0 else {"same_as": k}
    count = {len(outs) for _, outs, _ in calls}
    if len(count) != 1:
        return None
    shapes = []
    for k in range(count.pop()):
        ranks = {len(outs[k]) for _, outs, _ in calls}
        if len(ranks) != 1:
            return None
        dims = []
        for j in range(ranks.pop()):
            dim = _rule([outs[k][j] for _, outs, _ in calls], [(ins, a) for ins, _, a in calls], prefer=j)
            if dim is _NONE:
                return None
            dims.append(dim)
        shapes.append(dims)
    return shapes[0] if len(shapes) == 1 else shapes


def _count_rule(inputs: list, counts: list):
    if all(c == 0 for c in counts):
        return 0
    return _rule(counts, inputs, prefer=-1, products=True)


_NONE = object()  # no rule fits


def _rule(values: list, calls: list, prefer: int, products: bool = False):
    """The first of: null (all unknown), an input's dimension, a product of two, a number."""
    if all(v is None for v in values):
        return None
    dims = _dimensions(calls, prefer)
    for text, got in dims:
        if got == values:
            return text
    if products:
        pairs = list(itertools.combinations_with_replacement(dims, 2))
        for (a, x), (b, y) in pairs:
            if [p * q for p, q in zip(x, y)] == values:
                return f"{a} * {b}"
        for ((a, x), (b, y)), (c, z) in itertools.product(pairs, dims):
            if [p * q + r for p, q, r in zip(x, y, z)] == values:
                return f"{a} * {b} + {c}"
    if len(set(values)) == 1:
        return values[0]
    return _NONE


def _dimensions(calls: list, prefer: int) -> list:
    """(text, its value in each call) for every input dimension and integer argument the calls
    share, known in all of them; input positions from `prefer` (negative where it is)."""
    found = []
    inputs = [ins for ins, _ in calls]
    for k in range(min(len(ins) for ins in inputs)):
        ranks = {len(ins[k]) for ins in inputs}
        if len(ranks) != 1:
            continue
        rank = ranks.pop()
        for j in sorted(range(rank), key=lambda j: (j != prefer % rank, j)):
            values = [ins[k][j] for ins in inputs]
            if None in values:
                continue
            shown = j - rank if prefer < 0 else j
            found.append((f"input[{shown}]" if k == 0 else f"input.{k}[{shown}]", values))
    shared = set.intersection(*(set(arguments) for _, arguments in calls))
    found += [(f"${key}", [arguments[key] for _, arguments in calls]) for key in sorted(shared)]
    return found
