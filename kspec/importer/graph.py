"""A model's get_config() as a Functional graph: a Sequential model as the chain it is; nested
Sequential and Functional models kept as entries (imported as model blocks), or for a flat import
replaced by their layers, the tensors that crossed a nested model's boundary rebound to the
layers on either side."""

from __future__ import annotations

from .refusals import ImportRefused

NESTED = ("Sequential", "Functional")  # the classes of a nested model in a config


def functional_graph(config: dict, class_name: str = "Functional", flat: bool = True) -> dict:
    """The Functional config of a model's get_config() (Functional or Sequential): with no
    nested models left in it where `flat`, else with each nested model one entry (a layer)."""
    if class_name == "Sequential" or "input_layers" not in config:
        config = _sequential_as_functional(config)
    config = _outputs_by_call(config)
    return _inline_submodels(config) if flat else config


def _outputs_by_call(config: dict) -> dict:
    """The config with its outputs numbering a nested Functional model's calls from 0, as its
    inbound nodes do: Keras numbers them from 1 there (its node 0 is the model's own)."""
    functional = {e["name"] for e in config["layers"] if e["class_name"] == "Functional"}

    def shifted(triple):
        name, node, tensor = triple
        return [name, node - 1, tensor] if name in functional and node > 0 else list(triple)

    found = config["output_layers"]
    if isinstance(found, dict):
        outputs = {key: shifted(t) for key, t in found.items()}
    elif found and isinstance(found[0], str):
        outputs = shifted(found)
    else:
        outputs = [shifted(t) for t in found]
    return {**config, "output_layers": outputs}


def nested_graph(entry: dict) -> dict:
    """The Functional config of a nested model's entry, its own nested models kept."""
    return functional_graph(entry["config"], entry["class_name"], flat=False)


def layer_count(config) -> int:
    """The layers of a saved model config ({class_name, config} or the config itself), those of
    nested models counted too: how many chained layers Keras may recurse through to load it."""
    count, stack = 0, [config]
    while stack:
        value = stack.pop()
        if not isinstance(value, dict):
            continue
        layers = value.get("layers")
        if isinstance(layers, list):
            count += len(layers)
            stack += layers
        stack.append(value.get("config"))
    return count


def _inline_submodels(config: dict) -> dict:
    """Nested Sequential or Functional models replaced by their layers, under their own names; a
    nested model called N times (a siamese tower) gives each of its layers N calls, which the
    spec writes as calls sharing the layer."""
    layers, redirect = [], {}  # redirect: (submodel, call, tensor index) -> keras_history of its output
    for entry in config["layers"]:
        entry = _rebind(entry, redirect.get)
        if entry["class_name"] not in NESTED:
            layers.append(entry)
            continue
        inner = entry["config"]
        inner = _inline_submodels(
            _sequential_as_functional(inner)
            if entry["class_name"] == "Sequential" or "input_layers" not in inner
            else inner
        )
        calls = entry["inbound_nodes"]
        inner_layers = [item for item in inner["layers"] if item["class_name"] != "InputLayer"]
        if len(calls) > 1 and any(len(item.get("inbound_nodes") or []) > 1 for item in inner_layers):
            raise ImportRefused(
                f"the nested model '{entry['name']}' is called {len(calls)} times and calls one of its "
                "own layers more than once; call its layers on the outer inputs, then import again"
            )
        inputs = inner["input_layers"]
        inputs = [inputs] if inputs and isinstance(inputs[0], str) else inputs
        inside = {item["name"] for item in inner_layers}
        copies = [{**item, "inbound_nodes": []} for item in inner_layers]
        for index, node in enumerate(calls):
            outer_args = node["args"][0]
            outer = outer_args if isinstance(outer_args, list) else [outer_args]
            bound = {name: tensor["config"]["keras_history"] for (name, _, _), tensor in zip(inputs, outer)}

            def move(history, bound=bound, index=index):  # this call's inputs, and its own calls
                if history[0] in bound:
                    return bound[history[0]]
                return [history[0], index, history[2]] if history[0] in inside else None

            for copy, item in zip(copies, inner_layers):
                copy["inbound_nodes"] += _rebind(item, move)["inbound_nodes"]
            outputs = inner["output_layers"]
            outputs = [outputs] if outputs and isinstance(outputs[0], str) else outputs
            for t, (name, _, tensor) in enumerate(outputs):
                redirect[(entry["name"], index, t)] = [name, index, tensor]
        layers += copies
    return {**config, "layers": layers, "output_layers": _redirect_triples(config["output_layers"], redirect)}


def _rebind(entry: dict, move) -> dict:
    """An entry whose tensors point elsewhere where `move((layer, call, tensor index))` gives a
    keras_history (not None): a sub-model's inputs at the outer tensors, its outputs at its layers."""

    def fix(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            moved = move(tuple(value["config"]["keras_history"]))
            if moved is not None:
                return {**value, "config": {**value["config"], "keras_history": list(moved)}}
            return value
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return {**entry, "inbound_nodes": fix(entry.get("inbound_nodes") or [])}


def _redirect_triples(found, redirect: dict):
    if isinstance(found, dict):  # named outputs
        return {name: redirect.get(tuple(t), t) for name, t in found.items()}
    triples = [found] if found and isinstance(found[0], str) else found
    return [redirect.get(tuple(t), t) for t in triples]


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
