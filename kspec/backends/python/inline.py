"""Inline block calls into the scope that makes them, for the subclass style.

A block becomes a Layer subclass whose weights come out together. Where Keras's
Functional order interleaves a block call's layers with others (parallel
blocks, as in an Inception module), a Layer subclass would list the weights in
another order, so that call is inlined: its layers become the enclosing
class's own, named `<call>_<layer>` as everywhere else.
"""

from __future__ import annotations

from ...flatten import FlatGraph
from ...ir import Call, Outputs, Ref, Scope, instance_names, output_names
from ..order import keras_layer_order


class LayerRanks:
    """Where each layer call (or block call, by its full name) first appears in Keras's order."""

    def __init__(self, graph: FlatGraph):
        order = keras_layer_order(graph)
        position = {name: i for i, name in enumerate(order)}
        self.first: dict[str, int] = {}
        self.spans: dict[str, list[int]] = {}
        for node in graph.nodes:
            if node.name not in position:
                continue
            for owner in [call for call, _, _ in node.scope] + [node.name]:
                self.spans.setdefault(owner, []).append(position[node.name])
        for owner, places in self.spans.items():
            self.first[owner] = min(places)

    def contiguous(self, full_name: str) -> bool:
        places = sorted(self.spans.get(full_name, []))
        return not places or places[-1] - places[0] + 1 == len(places)

    def rank(self, full_name: str) -> int:
        return self.first.get(full_name, len(self.first))


def inline_scope(spec, scope: Scope, prefix: str, ranks: LayerRanks) -> Scope:
    """The scope with every non-contiguous block call replaced by its layers."""
    calls: list[Call] = []
    redirect: dict[str, list] = {}  # inlined call name -> [(output name, Ref)]
    for call in scope.calls:
        if call.type not in spec.blocks or all(ranks.contiguous(prefix + n) for n in instance_names(call)):
            calls.append(_remap(call, redirect))
            continue
        inputs = _remap_inputs(call.inputs, redirect)
        for name in instance_names(call):
            block = spec.blocks[call.type]
            params = {**block.params, **call.args}
            inner = inline_scope(spec, block.scope, prefix + name + "_", ranks)
            outputs = _expand(inner, name, call, inputs, params, calls)
            redirect[call.name] = outputs
            inputs = outputs[0][1]
    outputs = None
    if scope.outputs is not None:
        outputs = Outputs(
            scope.outputs.kind,
            tuple((n, _remap_ref(r, redirect)) for n, r in scope.outputs.items),
            scope.outputs.where,
        )
    return Scope(scope.inputs, tuple(calls), outputs, scope.where)


def _expand(inner: Scope, name: str, call: Call, inputs, params: dict, calls: list) -> list:
    """Append the block's calls, renamed and bound to the call's inputs; return its outputs."""
    from ...flatten import substitute

    given = inputs if isinstance(inputs, list) else [inputs]
    bound = {local: ref for local, ref in zip(inner.inputs, given)}

    def rename(ref: Ref) -> Ref:
        if ref.name in bound and ref.output is None:
            return bound[ref.name]
        return Ref(f"{name}_{ref.name}", ref.output, ref.where)

    for inner_call in inner.calls:
        calls.append(
            inner_call._replace(
                name=f"{name}_{inner_call.name}",
                share=f"{name}_{inner_call.share}" if inner_call.share else None,
                inputs=_map_inputs(inner_call.inputs, rename),
                implicit_inputs=False,
                args=substitute(inner_call.args, params),
                call_args=substitute(inner_call.call_args, params),
            )
        )
    return [(n, rename(r)) for n, (_, r) in zip(output_names(inner.outputs), inner.outputs.items)]


def _map_inputs(inputs, fn):
    if isinstance(inputs, Ref):
        return fn(inputs)
    if isinstance(inputs, list):
        return [_map_inputs(i, fn) for i in inputs]
    return {k: _map_inputs(v, fn) for k, v in inputs.items()}


def _remap_ref(ref: Ref, redirect: dict) -> Ref:
    if ref.name not in redirect:
        return ref
    outputs = redirect[ref.name]
    if ref.output is None:
        return outputs[0][1]
    if isinstance(ref.output, int):
        return outputs[ref.output][1]
    return next(r for n, r in outputs if n == ref.output)


def _remap_inputs(inputs, redirect):
    return _map_inputs(inputs, lambda ref: _remap_ref(ref, redirect))


def _remap(call: Call, redirect: dict) -> Call:
    if not redirect:
        return call
    return call._replace(inputs=_remap_inputs(call.inputs, redirect))
