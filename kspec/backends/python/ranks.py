"""Where each layer and block call first appears in Keras's layer order.

A block becomes a Layer subclass whose weights come out together. Where Keras's
Functional order interleaves a block call's layers with others (parallel
blocks, as in an Inception module), the subclass style writes that call's
layers as its caller's own; `contiguous` tells which calls those are.
"""

from __future__ import annotations

from ...flatten import FlatGraph
from ..order import keras_layer_order


class LayerRanks:
    """Positions in Keras's order of each layer, and of each block call's layers (by full name)."""

    def __init__(self, graph: FlatGraph):
        order = keras_layer_order(graph)
        position = {name: i for i, name in enumerate(order)}
        self.first: dict[str, int] = {}
        self.spans: dict[str, list[int]] = {}
        for node in graph.nodes:
            if node.name not in position:
                continue
            for owner in [frame.name for frame in node.scope] + [node.name]:
                self.spans.setdefault(owner, []).append(position[node.name])
        for owner, places in self.spans.items():
            self.first[owner] = min(places)

    def contiguous(self, full_name: str) -> bool:
        places = sorted(self.spans.get(full_name, []))
        return not places or places[-1] - places[0] + 1 == len(places)

    def rank(self, full_name: str) -> int:
        return self.first.get(full_name, len(self.first))
