"""`kspec import`: an existing Keras model back to a readable spec.

The Functional config is the graph as data; the spec keeps Keras's layer order
and names, leaves out every argument equal to its default, writes `inputs`
only where a call does not simply take the previous output, and declares
layers that are not public `keras.layers` classes under `custom`.
"""

from __future__ import annotations

import yaml

from .catalog import catalog
from .catalog.aliases import INITIALIZER_ALIASES
from .ir import snake_case

DEFAULT_DTYPE = "float32"
# Values that Keras fills in for a default of None, and that mean the same.
NEUTRAL = {("data_format", "channels_last"), ("activation", "linear")}
# Keras cannot build these from their short names (the string 'constant' loses its value).
NOT_SHORTENED = {"constant"}
# Size arguments written as one number when every axis has the same size.
SIZES = {"kernel_size", "strides", "pool_size", "dilation_rate", "size"}
# Padding and cropping, written per axis as (before, after) pairs.
PAIRS = {"padding", "cropping"}
SKIPPED_ARGS = {"name", "trainable", "dtype"}
FLOW_WIDTH = 100


class ImportRefused(Exception):
    """The model cannot become a spec; the message says why and what to do."""


# Keras operations recorded as graph nodes (`x + y` in Functional code), and their layers.
OPERATIONS = {
    "Add": "Add",
    "Multiply": "Multiply",
    "Subtract": "Subtract",
    "Maximum": "Maximum",
    "Minimum": "Minimum",
}


def from_keras_config(config: dict, class_name: str = "Functional") -> str:
    """The spec text for a model's get_config() (Functional or Sequential)."""
    if class_name == "Sequential" or "input_layers" not in config:
        config = _sequential_as_functional(config)
    return _Writer(_inline_submodels(config)).text()


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


class _Writer:
    def __init__(self, config: dict):
        self.config = config
        self.custom: dict[str, str] = {}
        self.outputs_of: dict[str, int] = {}  # layer name -> number of calls seen

    def text(self) -> str:
        lines = [
            f"# yaml-language-server: $schema={schema_url()}",
            "kspec: 1",
            f"name: {_scalar(_identifier(self.config['name']))}",
            "",
            "inputs:",
        ]
        entries = self.config["layers"]
        inputs = [e for e in entries if e["class_name"] == "InputLayer"]
        for entry in inputs:
            cfg = entry["config"]
            shape = list(cfg.get("batch_shape") or [None, *cfg.get("shape", [])])[1:]
            body = {"shape": shape}
            dtype = _dtype_name(cfg.get("dtype"))
            if dtype != DEFAULT_DTYPE:
                body["dtype"] = dtype
            lines.append(f"  {entry['name']}: {_flow(body)}")
        lines += ["", "layers:"]
        previous = inputs[0]["name"] if len(inputs) == 1 else None
        for index, entry in enumerate(entries):
            if entry["class_name"] == "InputLayer":
                continue
            if _is_mask_operation(entry):
                continue  # Keras computes masks itself (Embedding with mask_zero)
            for call_index, node in enumerate(entry.get("inbound_nodes") or []):
                item, name = self.call(entry, node, call_index, previous, index)
                lines += item
                previous = name
        lines += ["", f"outputs: {_flow(self.outputs())}"]
        if self.custom:
            lines += ["", "custom:"] + [
                f"  {name}: {_scalar(path)}" for name, path in sorted(self.custom.items())
            ]
        return "\n".join(lines) + "\n"

    def call(self, entry, node, call_index, previous, position):
        name = entry["name"] if call_index == 0 else f"{entry['name']}_call{call_index + 1}"
        item: dict = {"name": name}
        if call_index == 0:
            item["type"] = self.type_of(entry, position)
            constant = _constant_operand(entry) if _is_operation(entry) else None
            if constant is not None:  # x + 3.0 is Rescaling(offset=3.0); x * c is Rescaling(scale=c)
                item.update(_rescaling(entry["class_name"], constant))
            else:
                item.update(self.arguments(entry["class_name"], entry["config"]))
        else:
            item["share"] = entry["name"]
        inputs = self.inputs(node)
        if not (isinstance(inputs, str) and inputs == previous):
            item["inputs"] = inputs
        flow = f"  - {_flow(item)}"
        if len(flow) <= FLOW_WIDTH:
            return [flow], name
        lines = [f"  - name: {_scalar(name)}"]
        lines += [f"    {key}: {_flow(value)}" for key, value in item.items() if key != "name"]
        return lines, name

    def type_of(self, entry, position) -> str:
        class_name = entry["class_name"]
        if _is_operation(entry) and class_name in OPERATIONS:
            return "Rescaling" if _constant_operand(entry) is not None else OPERATIONS[class_name]
        if class_name == "Lambda":
            raise ImportRefused(
                f"layer {position} ('{entry['name']}') is a Lambda layer: a spec holds no Python "
                "code; rewrite it as a layer class and import again"
            )
        if class_name in ("Functional", "Sequential", "Model"):
            raise ImportRefused(
                f"layer {position} ('{entry['name']}') is a nested model; call it on the outer "
                "inputs to flatten it, then import again"
            )
        public = entry.get("module") == "keras.layers" and catalog().layer(class_name) is not None
        if not public:
            module = entry.get("module") or "unknown_module"
            self.custom[class_name] = f"{module}:{class_name}"
        return class_name

    def arguments(self, class_name: str, config: dict) -> dict:
        signature = catalog().layer(class_name)
        args = {}
        for key, value in config.items():
            if key in SKIPPED_ARGS:
                continue
            if signature is not None and key not in signature.params:
                continue
            plain = _compact(key, _plain(value))
            if (
                key == "backward_layer"
                and isinstance(plain, dict)
                and plain
                == {
                    **_plain(config.get("layer")),
                    "go_backwards": not _plain(config["layer"]).get("go_backwards"),
                }
            ):
                continue  # the backward copy Bidirectional makes by itself
            param = signature.params.get(key) if signature is not None else None
            if param is not None and not param.required and _same(plain, param.default):
                continue
            if (
                isinstance(plain, str)
                and (key, plain) in NEUTRAL
                and param is not None
                and not param.required
                and param.default is None
            ):
                continue
            if (
                key == "strides"
                and param is not None
                and param.default is None
                and plain == _compact("pool_size", _plain(config.get("pool_size")))
            ):
                continue  # pooling strides default to the pool size
            args[key] = plain
        if config.get("trainable") is False:
            args["trainable"] = False
        dtype = _dtype_name(config.get("dtype"))
        if dtype not in (DEFAULT_DTYPE, None):
            args["dtype"] = dtype
        return args

    def inputs(self, node):
        args = node.get("args", [])
        if len(args) > 1 and all(_has_tensor(a) for a in args):  # an operation such as x + y
            return [self.reference(a) for a in args]
        if len(args) > 1:  # an operation on a tensor and a constant: the tensor
            return self.reference(next(a for a in args if _has_tensor(a)))
        kwargs = {k: v for k, v in node.get("kwargs", {}).items() if _has_tensor(v) and k != "mask"}
        if kwargs:
            out = {}
            if args:
                out["inputs"] = self.reference(args[0])
            out.update({k: self.reference(v) for k, v in kwargs.items()})
            return out
        return self.reference(args[0])

    def reference(self, value):
        if isinstance(value, (list, tuple)):
            return [self.reference(v) for v in value]
        layer, node_index, tensor_index = value["config"]["keras_history"]
        name = layer if node_index == 0 else f"{layer}_call{node_index + 1}"
        if self._multi_output(layer):
            return f"{name}.{tensor_index}"
        return name

    def _multi_output(self, layer: str) -> bool:
        for entry in self.config["layers"]:
            if entry["name"] == layer:
                cfg = entry["config"]
                if cfg.get("return_state"):
                    return True
                inner = cfg.get("layer", {}) if isinstance(cfg.get("layer"), dict) else {}
                return bool(inner.get("config", {}).get("return_state"))
        return False

    def outputs(self):
        found = self.config["output_layers"]
        if isinstance(found, dict):
            return {name: self.reference({"config": {"keras_history": t}}) for name, t in found.items()}
        triples = [found] if found and isinstance(found[0], str) else found
        refs = [self.reference({"config": {"keras_history": t}}) for t in triples]
        return refs[0] if len(refs) == 1 else refs


def _is_operation(entry: dict) -> bool:
    return (entry.get("module") or "").startswith("keras.src.ops")


def _constant_operand(entry: dict):
    """The number in `x + 3.0` or `x * c` recorded as an operation, else None."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        return None
    args = nodes[0].get("args", [])
    numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    return numbers[0] if len(args) == 2 and len(numbers) == 1 else None


def _rescaling(operation: str, constant) -> dict:
    if operation == "Multiply":
        return {"scale": float(constant)}
    if operation == "Subtract":
        return {"scale": 1.0, "offset": -float(constant)}
    if operation == "Add":
        return {"scale": 1.0, "offset": float(constant)}
    raise ImportRefused(f"cannot express {operation} with the constant {constant} as a layer")


def _is_mask_operation(entry: dict) -> bool:
    return entry["class_name"] == "NotEqual" and (entry.get("module") or "").startswith("keras.src.ops")


def _compact(key: str, value):
    """Sizes the same along every axis as one number: [3, 3] -> 3, [[1, 1], [1, 1]] -> 1."""
    if key in PAIRS and isinstance(value, list) and value:
        if all(isinstance(pair, list) and len(pair) == 2 and pair[0] == pair[1] for pair in value):
            value = [pair[0] for pair in value]
    if (
        key in SIZES | PAIRS
        and isinstance(value, list)
        and value
        and len(set(map(repr, value))) == 1
        and isinstance(value[0], int)
    ):
        return value[0]
    return value


def _has_tensor(value) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return False


def _plain(value):
    """A config value as spec data: nested Keras objects as {type: ..., args}."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        if value.get("module") == "keras.layers" or value.get("class_name") in catalog().layers:
            nested = {"type": value["class_name"]}
            signature = catalog().layer(value["class_name"])
            for key, item in value["config"].items():
                if key in SKIPPED_ARGS or (signature and key not in signature.params):
                    continue
                param = signature.params.get(key) if signature else None
                plain = _plain(item)
                if param is not None and not param.required and _same(plain, param.default):
                    continue
                nested[key] = plain
            return nested
        out = {"type": value["class_name"]}
        signature = _object_signature(value["class_name"])
        for key, item in value["config"].items():
            param = signature.params.get(key) if signature else None
            if item is None or (
                param is not None and not param.required and _same(_plain(item), param.default)
            ):
                continue
            out[key] = _plain(item)
        short = snake_case(value["class_name"])
        if (
            len(out) == 1
            and short not in NOT_SHORTENED
            and any(short in catalog().strings[ns] for ns in ("initializers", "regularizers", "constraints"))
        ):
            return short  # `he_normal` rather than {type: HeNormal}
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _object_signature(class_name: str):
    """The catalog signature of a nested Keras object, from whichever namespace has it."""
    for namespace in (
        "initializers",
        "regularizers",
        "constraints",
        "optimizers",
        "schedules",
        "losses",
        "metrics",
    ):
        signature = catalog().object_class(namespace, class_name)
        if signature is not None:
            return signature
    return None


def _same(value, default) -> bool:
    """Whether a config value equals a signature default (a name and its object count as equal)."""
    if isinstance(value, str) and isinstance(default, str):
        return INITIALIZER_ALIASES.get(value, value) == INITIALIZER_ALIASES.get(default, default)
    if isinstance(default, list) and isinstance(value, list):
        return [v for v in value] == default
    if (
        isinstance(value, dict)
        and isinstance(default, str)
        and set(value) <= {"type", "seed", "input_axes", "output_axes"}
    ):
        return snake_case(value["type"]) == default and all(
            v is None for k, v in value.items() if k != "type"
        )
    if isinstance(value, (int, float)) and isinstance(default, list) and len(set(default)) == 1:
        return value == default[0]
    if isinstance(value, list) and not isinstance(default, list) and default is not None:
        return len(set(map(str, value))) == 1 and value[0] == default
    return value == default


def _dtype_name(dtype):
    if isinstance(dtype, dict):
        return dtype.get("config", {}).get("name")
    return dtype


def _identifier(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return out if out[:1].isalpha() or out[:1] == "_" else "m_" + out


def _scalar(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def _flow(value) -> str:
    return _scalar(value)


def from_keras(model) -> str:
    """The spec text of a Functional or Sequential keras.Model."""
    import keras

    if not isinstance(model, keras.Model):
        raise ImportRefused(f"{type(model).__name__} is not a keras.Model")
    kind = type(model).__name__
    if kind not in ("Functional", "Sequential") and not _is_functional(model):
        raise ImportRefused(
            f"{kind} is a subclassed model: its graph lives in Python code, not in data. Call it on "
            "keras.Input tensors and import the traced model (keras.Model(inputs, model(inputs))), or "
            "write the spec by hand"
        )
    return from_keras_config(model.get_config(), "Sequential" if kind == "Sequential" else "Functional")


def _is_functional(model) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def load_source(source: str, arguments: dict):
    """A Keras model from a .keras, .h5 or .json file, or from `package.module:callable`."""
    import importlib
    import os

    import keras

    if os.path.exists(source):
        if source.endswith(".json"):
            with open(source, encoding="utf-8") as handle:
                return keras.models.model_from_json(handle.read())
        return keras.models.load_model(source, compile=False)
    module_name, _, attribute = source.partition(":")
    if not attribute:
        raise ImportRefused(f"{source} is neither a file nor a `package.module:callable` reference")
    factory = getattr(importlib.import_module(module_name), attribute)
    return factory(**arguments)


def canonical_args(type_name: str, args: dict) -> dict:
    """A layer's spec arguments as import writes them: defaults left out, sizes compacted,
    nested objects in their shortest form. Two specs of the same model agree on these."""
    signature = catalog().layer(type_name)
    out = {}
    for key, value in args.items():
        value = _compact(key, _canonical_value(value))
        param = signature.params.get(key) if signature else None
        if param is not None and not param.required and _same(value, param.default):
            continue
        if key == "strides" and value == _compact("pool_size", args.get("pool_size", 2)):
            continue  # pooling strides default to the pool size
        out[key] = value
    return out


def _canonical_value(value):
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        if catalog().layer(value["type"]) is not None:
            return {
                "type": value["type"],
                **canonical_args(value["type"], {k: v for k, v in value.items() if k != "type"}),
            }
        signature = _object_signature(value["type"])
        kept = {
            k: _canonical_value(v)
            for k, v in value.items()
            if k != "type"
            and not (signature and k in signature.params and _same(v, signature.params[k].default))
        }
        short = snake_case(value["type"])
        if (
            not kept
            and short not in NOT_SHORTENED
            and any(short in catalog().strings[ns] for ns in ("initializers", "regularizers", "constraints"))
        ):
            return short
        return {"type": value["type"], **kept}
    return value


def schema_url() -> str:
    """Where editors find the spec language's schema: its published `$id`, an https URL."""
    from .structure import load_schema

    url = load_schema()["$id"]
    if not url.startswith("https://"):
        raise ValueError(f"the schema's $id {url!r} is not an https URL")
    return url
