"""Build live Keras models from a spec: Functional and Sequential directly, subclass
through its generated module."""

from __future__ import annotations

from ..flatten import FlatGraph, Port, flatten
from .objects import KerasObjects


def build_functional(spec, graph: FlatGraph | None = None, objects: KerasObjects | None = None):
    graph = graph or flatten(spec)
    objects = objects or KerasObjects(spec.custom)
    keras = objects.keras
    tensors = {}
    for name, spec_input in spec.inputs.items():
        tensors[name] = keras.Input(
            shape=tuple(spec_input.shape),
            dtype=spec_input.dtype,
            name=name,
            batch_size=spec_input.batch_size,
            sparse=spec_input.sparse or None,
            ragged=spec_input.ragged or None,
        )
    layers = {}
    for node in graph.nodes:
        layer = layers[node.share] if node.share else objects.layer(node.type, node.args, name=node.name)
        layers[node.name] = layer
        inputs = _tensors(node.inputs, tensors)
        tensors[node.name] = layer(**inputs) if isinstance(inputs, dict) else layer(inputs)
    model_inputs = [tensors[name] for name in spec.inputs]
    outputs = [_tensors(port, tensors) for _, port in graph.outputs]
    if graph.outputs_kind == "named":
        outputs = {name: tensor for (name, _), tensor in zip(graph.outputs, outputs)}
    elif graph.outputs_kind == "single":
        outputs = outputs[0]
    return keras.Model(
        inputs=model_inputs[0] if len(model_inputs) == 1 else model_inputs, outputs=outputs, name=spec.name
    )


def build_sequential(spec, graph: FlatGraph | None = None, objects: KerasObjects | None = None):
    graph = graph or flatten(spec)
    objects = objects or KerasObjects(spec.custom)
    keras = objects.keras
    [spec_input] = spec.inputs.values()
    model = keras.Sequential(name=spec.name)
    model.add(
        keras.Input(
            shape=tuple(spec_input.shape),
            dtype=spec_input.dtype,
            batch_size=spec_input.batch_size,
            name=spec_input.name,
        )
    )
    for node in graph.nodes:
        model.add(objects.layer(node.type, node.args, name=node.name))
    return model


def _tensors(inputs, tensors):
    if isinstance(inputs, Port):
        value = tensors[inputs.node]
        return value[inputs.index] if inputs.index is not None else value
    if isinstance(inputs, list):
        return [_tensors(item, tensors) for item in inputs]
    return {key: _tensors(item, tensors) for key, item in inputs.items()}
