"""A flat Functional graph (graph.py) read as the parts of a spec: the model's name, its inputs,
one entry per layer call in Keras's order, the outputs, and the classes to declare under `custom`.

An entry keeps Keras's layer name, leaves out every argument equal to its default, compacts sizes
the same along every axis, and has `inputs` only where the call does not simply take the previous
output. Keras operations recorded as graph nodes (`keras.ops.matmul(q, k)`, `x + y`) become
keras.ops calls (`op:`), or the layer that computes exactly the same: `x + y` of one shape an Add
layer, `x * 2.0` on float32 a Rescaling layer."""

from __future__ import annotations

from ..catalog import catalog
from ..ir import snake_case
from .blocks import Block, discover
from .graph import NESTED, nested_graph
from .refusals import ImportRefused
from .values import DEFAULT_DTYPE, SKIPPED_ARGS, dtype_name, equals_default, spec_value

# Values that Keras fills in for a default of None, and that mean the same.
NEUTRAL = {("data_format", "channels_last"), ("activation", "linear")}
# Size arguments written as one number when every axis has the same size.
SIZES = {"kernel_size", "strides", "pool_size", "dilation_rate", "size"}
# Padding and cropping, written per axis as (before, after) pairs.
PAIRS = {"padding", "cropping"}

# Keras operations recorded as graph nodes (`x + y` in Functional code), and the layers that compute
# exactly the same when both operands have one shape.
OPERATIONS = {
    "Add": "Add",
    "Multiply": "Multiply",
    "Subtract": "Subtract",
    "Maximum": "Maximum",
    "Minimum": "Minimum",
}

# The most values of a constant tensor that an import writes into a spec as a list.
MAX_CONSTANT_VALUES = 4096
# Operations with a number that a Rescaling layer computes exactly on float32 tensors.
RESCALED = {"Add", "Subtract", "Multiply"}


class SpecData:
    """The spec's parts of a flat Functional config. `custom` fills in as layers() meets classes
    that are not public `keras.layers` classes."""

    def __init__(self, config: dict, parent: SpecData | None = None):
        self.config = config
        # class name -> module:class; and the blocks of the nested models met (blocks.Block: each
        # model block after the blocks it uses), both shared with the SpecData of the model this
        # one is nested in
        self.custom: dict[str, str] = parent.custom if parent else {}
        self.blocks: list = parent.blocks if parent else []
        # nested models whose names are no Keras names a spec can write (`mobilenetv2_1.00_224`)
        # -> the identifier their calls are named by
        self.renamed: dict[str, str] = parent.renamed if parent else {}
        self._entries: dict[str, dict] | None = None

    def renaming_notes(self) -> list[str]:
        """What the import could not carry of the nested models' names."""
        return [
            f"the nested model '{old}' is named '{new}': a spec's names have letters, digits and _ only"
            for old, new in self.renamed.items()
        ]

    def model_blocks(self) -> list:
        """The model blocks of the nested models met, with the blocks found in their layers."""
        return list(self.blocks)

    def _model_block(self, entry: dict) -> str:
        """The model block of a nested Sequential or Functional model: its name (the model's in
        CapWords, unique), made the first time the model is met."""
        inner = SpecData(nested_graph(entry), self)
        inputs = [n for n, _ in inner.inputs()]
        found = discover(inputs, list(inner.layers()), inner.outputs(), {b.name for b in self.blocks})
        self.blocks += found.blocks
        taken = {block.name for block in self.blocks}
        words = [w for w in _identifier(entry["name"]).split("_") if w]
        base = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
        name, count = base, 1
        while name in taken or catalog().layer(name) is not None:
            count += 1
            name = f"{base}{count}"
        kind = "sequential" if entry["class_name"] == "Sequential" else "functional"
        self.blocks.append(Block(name, {}, found.layers, inputs, found.outputs, model=kind))
        return name

    def name(self) -> str:
        """The model's name as an identifier."""
        return _identifier(self.config["name"])

    def inputs(self) -> list[tuple[str, dict]]:
        """Each input's name and its `shape`, with its `dtype` where that is not float32."""
        found = []
        for entry in self._input_layers():
            cfg = entry["config"]
            shape = list(cfg.get("batch_shape") or [None, *cfg.get("shape", [])])[1:]
            body = {"shape": shape}
            dtype = dtype_name(cfg.get("dtype"))
            if dtype != DEFAULT_DTYPE:
                body["dtype"] = dtype
            found.append((entry["name"], body))
        return found

    def layers(self):
        """The spec entry of each layer call, one at a time, in Keras's order."""
        inputs = self._input_layers()
        previous = inputs[0]["name"] if len(inputs) == 1 else None
        for index, entry in enumerate(self.config["layers"]):
            if entry["class_name"] == "InputLayer":
                continue
            if _is_mask_operation(entry):
                continue  # Keras computes masks itself (Embedding with mask_zero)
            for call_index, node in enumerate(entry.get("inbound_nodes") or []):
                item = self._call(entry, node, call_index, previous, index)
                yield item
                previous = item["name"]

    def outputs(self):
        """The `outputs` of the spec: one reference, a list of them, or a mapping of names to them."""
        found = self.config["output_layers"]
        if isinstance(found, dict):
            return {name: self._reference({"config": {"keras_history": t}}) for name, t in found.items()}
        triples = [found] if found and isinstance(found[0], str) else found
        refs = [self._reference({"config": {"keras_history": t}}) for t in triples]
        return refs[0] if len(refs) == 1 else refs

    def _input_layers(self) -> list[dict]:
        return [e for e in self.config["layers"] if e["class_name"] == "InputLayer"]

    def _call(self, entry, node, call_index, previous, position) -> dict:
        nested = entry["class_name"] in NESTED
        if nested and not entry["name"].isidentifier():
            self.renamed[entry["name"]] = _identifier(entry["name"])
        own = self.renamed.get(entry["name"], entry["name"])
        name = own if call_index == 0 else f"{own}_call{call_index + 1}"
        item: dict = {"name": name}
        if _is_operation(entry) and _layer_for_operation(entry) is None:
            item.update(self._op(entry, node, position))
        elif call_index == 0 and nested:
            item["type"] = self._model_block(entry)
        elif call_index == 0:
            item["type"] = self._type_of(entry, position)
            constant = _constant_operand(entry) if _is_operation(entry) else None
            if constant is not None:  # x + 3.0 is Rescaling(offset=3.0); x * c is Rescaling(scale=c)
                item.update(_rescaling(entry["class_name"], constant))
            else:
                item.update(_arguments(entry["class_name"], entry["config"]))
        else:
            item["share"] = own
        if "inputs" not in item:
            inputs = self._inputs(
                node, None if _is_operation(entry) else catalog().layer_call(entry["class_name"])
            )
            if not (isinstance(inputs, str) and inputs == previous):
                item["inputs"] = inputs
        elif item["inputs"] == previous:
            del item["inputs"]
        if not _is_operation(entry) and not nested:
            constants = _call_arguments(entry["class_name"], node)
            if constants:
                item["call"] = constants
        return item

    def _op(self, entry, node, position) -> dict:
        """A Keras operation node as a keras.ops call: its function, tensors and constants."""
        op = snake_case(entry["class_name"])
        signature = catalog().op(op)
        if signature is None:
            raise ImportRefused(
                f"layer {position} ('{entry['name']}') is the Keras operation {entry['class_name']}, "
                "which is not a keras.ops function a spec can call"
            )
        unknown = [k for k in entry["config"] if k != "name" and k not in signature.params]
        if unknown:
            raise ImportRefused(
                f"layer {position} ('{entry['name']}') is the Keras operation {entry['class_name']} "
                f"with '{unknown[0]}', which keras.ops.{op} does not take"
            )
        config = {k: v for k, v in entry["config"].items() if k in signature.params}
        given = dict(zip([p for p in signature.params if p not in config], node.get("args", [])))
        given.update(node.get("kwargs", {}))
        tensors, item = {}, {"op": op}
        for key, value in {**config, **given}.items():
            if _has_tensor(value):
                tensors[key] = self._reference(value)
                continue
            if _has_constant_tensor(value):
                constant = _constant_tensor(value) if key in signature.tensors else None
                if constant is None:
                    raise ImportRefused(
                        f"layer {position} ('{entry['name']}', {entry['class_name']}) takes a constant "
                        f"tensor as '{key}' that a spec cannot write as a number or list (dtype "
                        f"int32 or float32, at most {MAX_CONSTANT_VALUES:,} values): compute it with "
                        "keras.ops calls such as arange"
                    )
                item[key] = constant
                continue
            if _has_object(value):  # a slice in `x[:, 0]`, or another Python object
                raise ImportRefused(
                    f"layer {position} ('{entry['name']}', {entry['class_name']}) takes a Python "
                    f"object as '{key}' ({_has_object(value)}), which a spec cannot hold: index "
                    "with keras.ops.take or keras.ops.slice instead"
                )
            plain = spec_value(value)
            param = signature.params.get(key)
            if param is not None and not param.required and equals_default(plain, param.default):
                continue
            item[key] = plain
        order = list(signature.tensors)
        if list(tensors) == order[: len(tensors)] and len(tensors) == 1:
            item["inputs"] = next(iter(tensors.values()))
        elif list(tensors) == order[: len(tensors)] and signature.tensors[order[0]] != "list":
            item["inputs"] = list(tensors.values())
        else:
            item["inputs"] = tensors
        return item

    def _type_of(self, entry, position) -> str:
        class_name = entry["class_name"]
        if _is_operation(entry):
            return _layer_for_operation(entry)
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

    def _inputs(self, node, call=None):
        """The inputs of a node; a layer's positional tensors (`mha(q, v)`) by their names in the
        signature of its call(), `call`, where the catalog has it."""
        args = node.get("args", [])
        if call is not None and len(args) > 1 and all(_has_tensor(a) for a in args):
            names = list(call.params)[: len(args)]
            tensors = {k: v for k, v in node.get("kwargs", {}).items() if self._given_tensor(k, v)}
            return {n: self._reference(a) for n, a in zip(names, args)} | {
                k: self._reference(v) for k, v in tensors.items()
            }
        if len(args) > 1 and all(_has_tensor(a) for a in args):  # an operation such as x + y
            return [self._reference(a) for a in args]
        if len(args) > 1:  # an operation on a tensor and a constant: the tensor
            return self._reference(next(a for a in args if _has_tensor(a)))
        kwargs = {k: v for k, v in node.get("kwargs", {}).items() if self._given_tensor(k, v)}
        if kwargs:
            out = {}
            if args:  # by its name in call() (`sequences` of an RNN, `query`), where the catalog has it
                first = next(iter(call.params), "inputs") if call is not None else "inputs"
                out[first] = self._reference(args[0])
            out.update({k: self._reference(v) for k, v in kwargs.items()})
            return out
        return self._reference(args[0])

    def _given_tensor(self, key: str, value) -> bool:
        """Whether a keyword argument of a call is a tensor the call was given: a `mask` Keras
        computed and passed itself (Embedding's mask_zero, Masking) comes from Keras operations,
        a mask the model passed (`rnn(x, mask=m)`) from an input or a layer."""
        if not _has_tensor(value):
            return False
        if key != "mask":
            return True
        sources = [self._by_name().get(t["config"]["keras_history"][0]) for t in _tensors(value)]
        return all(entry is not None and not _is_operation(entry) for entry in sources)

    def _reference(self, value):
        if isinstance(value, (list, tuple)):
            return [self._reference(v) for v in value]
        layer, node_index, tensor_index = value["config"]["keras_history"]
        own = self.renamed.get(layer, layer)
        name = own if node_index == 0 else f"{own}_call{node_index + 1}"
        if self._multi_output(layer, node_index):
            return f"{name}.{tensor_index}"
        return name

    def _multi_output(self, layer: str, node_index: int) -> bool:
        entry = self._by_name().get(layer)
        if entry is None:
            return False
        nodes = entry.get("inbound_nodes") or []
        if node_index < len(nodes) and nodes[node_index].get("kwargs", {}).get("return_attention_scores"):
            return True
        cfg = entry["config"]
        if entry["class_name"] in NESTED:
            found = nested_graph(entry)["output_layers"]
            return isinstance(found, dict) or bool(found) and not isinstance(found[0], str) and len(found) > 1
        if cfg.get("return_state"):
            return True
        inner = cfg.get("layer", {}) if isinstance(cfg.get("layer"), dict) else {}
        return bool(inner.get("config", {}).get("return_state"))

    def _by_name(self) -> dict[str, dict]:
        """Layer name -> its entry (the first of that name), made once: every reference looks
        its layer up, and a scan per reference made a 10,000-layer import quadratic."""
        if self._entries is None:
            self._entries = {}
            for entry in self.config["layers"]:
                self._entries.setdefault(entry["name"], entry)
        return self._entries


def output_names(outputs) -> list[str]:
    """The names the compile settings give outputs by (a mapping's keys, else the layers'
    names), for SpecData.outputs()."""
    names = list(outputs) if isinstance(outputs, dict) else [outputs] if isinstance(outputs, str) else outputs
    return [n.split(".")[0] for n in names]


def _arguments(class_name: str, config: dict) -> dict:
    signature = catalog().layer(class_name)
    args = {}
    for key, value in config.items():
        if key in SKIPPED_ARGS:
            continue
        if signature is not None and key not in signature.params:
            continue
        plain = _compact(key, spec_value(value))
        if (
            key == "backward_layer"
            and isinstance(plain, dict)
            and plain
            == {
                **spec_value(config.get("layer")),
                "go_backwards": not spec_value(config["layer"]).get("go_backwards"),
            }
        ):
            continue  # the backward copy Bidirectional makes by itself
        param = signature.params.get(key) if signature is not None else None
        if param is not None and not param.required and equals_default(plain, param.default):
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
            and plain == _compact("pool_size", spec_value(config.get("pool_size")))
        ):
            continue  # pooling strides default to the pool size
        args[key] = plain
    if config.get("trainable") is False:
        args["trainable"] = False
    dtype = dtype_name(config.get("dtype"))
    if dtype not in (DEFAULT_DTYPE, None):
        args["dtype"] = dtype
    return args


def _call_arguments(class_name: str, node: dict) -> dict:
    """The constant keyword arguments a layer was called with (`use_causal_mask`, `training`), as
    Keras records them in the node; tensors are inputs, and masks Keras computes itself."""
    signature = catalog().layer_call(class_name)
    found = {}
    for key, value in node.get("kwargs", {}).items():
        if key == "mask" or _has_tensor(value) or key == "training" and value is None:
            continue  # training=None is no value: Keras takes the model's, else call()'s default
        param = signature.params.get(key) if signature is not None else None
        if signature is not None and (param is None and not signature.takes_kwargs or param and param.tensor):
            continue  # a tensor argument passed as None
        found[key] = spec_value(value)
    return found


def _is_operation(entry: dict) -> bool:
    return (entry.get("module") or "").startswith("keras.src.ops")


def _layer_for_operation(entry: dict) -> str | None:
    """The layer that computes exactly what an operation node does, else None: a merge layer for
    two tensors of one known shape, Rescaling for a float32 tensor and a number after it."""
    nodes = entry.get("inbound_nodes") or []
    if entry["class_name"] not in OPERATIONS or len(nodes) != 1 or nodes[0].get("kwargs"):
        return None
    args = nodes[0].get("args", [])
    if len(args) != 2 or not _has_tensor(args[0]):
        return None
    if _constant_operand(entry) is not None:
        exact = entry["class_name"] in RESCALED and args[0]["config"].get("dtype") == DEFAULT_DTYPE
        return "Rescaling" if exact else None
    shapes = [a["config"].get("shape") for a in args if _has_tensor(a)]
    if len(shapes) == 2 and shapes[0] == shapes[1] and shapes[0] is not None:
        return OPERATIONS[entry["class_name"]]
    return None


def _constant_operand(entry: dict):
    """The number in `x + 3.0` or `x * c` recorded as an operation, else None."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        return None
    args = nodes[0].get("args", [])
    numbers = [a for a in args[1:] if isinstance(a, (int, float)) and not isinstance(a, bool)]
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


def _has_object(value) -> str | None:
    """The class name of a serialized Python object in an operation's argument, if any."""
    if isinstance(value, dict):
        if "class_name" in value:
            return value["class_name"].strip("_")
        return next(filter(None, map(_has_object, value.values())), None)
    if isinstance(value, (list, tuple)):
        return next(filter(None, map(_has_object, value)), None)
    return None


def _constant_tensor(value):
    """A constant tensor (`ops.arange(12)` computed while the model was built) as the number or
    nested list that Keras converts back to the same tensor (Python ints to int32, floats to
    float32), or None when it would not be the same or is too large to write."""
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        return None
    data, dtype = value["config"].get("value"), value["config"].get("dtype")
    leaves, todo = [], [data]
    while todo and len(leaves) <= MAX_CONSTANT_VALUES:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(item)
        else:
            leaves.append(item)
    kind = {"int32": int, "float32": float}.get(dtype)
    if todo or kind is None or not all(type(leaf) is kind for leaf in leaves):
        return None
    return data


def _has_constant_tensor(value) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__tensor__"
    if isinstance(value, (list, tuple)):
        return any(_has_constant_tensor(v) for v in value)
    return False


def _tensors(value) -> list[dict]:
    """The tensors in a call argument: one, or those in a list."""
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return [value] if _has_tensor(value) else []


def _has_tensor(value) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return False


def _identifier(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return out if out[:1].isalpha() or out[:1] == "_" else "m_" + out
