"""A model's get_config() as one flat Functional graph: a Sequential model as the chain it is,
nested Sequential and Functional models replaced by their layers, the tensors that crossed a
nested model's boundary rebound to the layers on either side."""

from __future__ import annotations

from .refusals import ImportRefused


def functional_graph(config: dict, class_name: str = "Functional") -> dict:
    """The Functional config of a model's get_config() (Functional or Sequential), with no
    nested models left in it."""
    if class_name == "Sequential" or "input_layers" not in config:
        config = _sequential_as_functional(config)
    return _inline_submodels(config)


def _inline_submodels(config: dict) -> dict:
    """Nested Sequential or Functional models replaced by their layers, under their own names."""
    layers, redirect = [], {}  # redirect: (submodel, tensor index) -> keras_history of its output
    for entry in config["layers"]:
        entry = _redirected(entry, redirect)
        if entry["class_name"] not in ("Sequential", "Functional"):
            layers.append(entry)
            continue
        inner = entry["config"]
        inner = _inline_submodels(
            _sequential_as_functional(inner)
            if entry["class_name"] == "Sequential" or "input_layers" not in inner
            else inner
        )
        [node] = entry["inbound_nodes"]
        outer_args = node["args"][0]
        outer = outer_args if isinstance(outer_args, list) else [outer_args]
        inputs = inner["input_layers"]
        inputs = [inputs] if inputs and isinstance(inputs[0], str) else inputs
        bound = {name: tensor["config"]["keras_history"] for (name, _, _), tensor in zip(inputs, outer)}
        for item in inner["layers"]:
            if item["class_name"] == "InputLayer":
                continue
            layers.append(_rebind(item, bound))
        outputs = inner["output_layers"]
        outputs = [outputs] if outputs and isinstance(outputs[0], str) else outputs
        for index, triple in enumerate(outputs):
            redirect[(entry["name"], index)] = list(triple)
    return {**config, "layers": layers, "output_layers": _redirect_triples(config["output_layers"], redirect)}


def _rebind(entry: dict, bound: dict) -> dict:
    """A sub-model's layer, its references to the sub-model's inputs pointed at the outer tensors."""

    def fix(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            history = value["config"]["keras_history"]
            if history[0] in bound:
                return {**value, "config": {**value["config"], "keras_history": bound[history[0]]}}
            return value
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return {**entry, "inbound_nodes": fix(entry.get("inbound_nodes") or [])}


def _redirected(entry: dict, redirect: dict) -> dict:
    """An entry whose references to an inlined sub-model point at that model's output layer."""
    if not redirect:
        return entry
    return _rebind(entry, {model: history for (model, _), history in redirect.items()})


def _redirect_triples(found, redirect: dict):
    if isinstance(found, dict):  # named outputs
        return {name: redirect.get((t[0], t[2]), t) for name, t in found.items()}
    triples = [found] if found and isinstance(found[0], str) else found
    return [redirect.get((t[0], t[2]), t) for t in triples]


def _sequential_as_functional(config: dict) -> dict:
    layers = [dict(entry) for entry in config["layers"]]
    if not layers or layers[0]["class_name"] != "InputLayer":
        raise ImportRefused("the Sequential model has no Input: build it, or start it with keras.Input")
    previous = layers[0]["config"]["name"]
    layers[0]["name"] = previous
    for entry in layers[1:]:
        entry["name"] = entry["config"]["name"]
        entry["inbound_nodes"] = [
            {
                "args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [previous, 0, 0]}}],
                "kwargs": {},
            }
        ]
        previous = entry["name"]
    return {
        "name": config["name"],
        "layers": layers,
        "input_layers": [[layers[0]["name"], 0, 0]],
        "output_layers": [[previous, 0, 0]],
    }
