"""`kspec import`: an existing Keras model back to a readable spec.

The Functional config is the graph as data; the spec keeps Keras's layer order
and names, leaves out every argument equal to its default, writes `inputs`
only where a call does not simply take the previous output, and declares
layers that are not public `keras.layers` classes under `custom`. The model's
compile config becomes the `compile` section, as far as the language can say
it; each setting it cannot say is named in a comment, never dropped silently.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

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


class LoadRefused(ImportRefused):
    """The source cannot be loaded as the command line gives it (a callable in the standard
    library, a class Keras cannot find); the message says what to change."""


# Keras operations recorded as graph nodes (`x + y` in Functional code), and their layers.
OPERATIONS = {
    "Add": "Add",
    "Multiply": "Multiply",
    "Subtract": "Subtract",
    "Maximum": "Maximum",
    "Minimum": "Minimum",
}


class Imported(NamedTuple):
    """A spec's text, and what of the model it could not carry (also written into the text)."""

    text: str
    not_carried: list[str]


def from_keras_config(
    config: dict, class_name: str = "Functional", compile_config: dict | None = None
) -> str:
    """The spec text for a model's get_config() (Functional or Sequential), with the `compile`
    section of a Keras compile config (`model.get_compile_config()`) when one is given."""
    return imported_config(config, class_name, compile_config).text


def imported_config(
    config: dict, class_name: str = "Functional", compile_config: dict | None = None
) -> Imported:
    """As from_keras_config, with the list of settings the spec could not carry."""
    if class_name == "Sequential" or "input_layers" not in config:
        config = _sequential_as_functional(config)
    writer = _Writer(_inline_submodels(config), compile_config)
    return Imported(writer.text(), writer.not_carried)


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
    def __init__(self, config: dict, compile_config: dict | None = None):
        self.config = config
        self.compile_config = compile_config or {}
        self.custom: dict[str, str] = {}
        self.outputs_of: dict[str, int] = {}  # layer name -> number of calls seen
        self.not_carried: list[str] = []

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
        lines += self.compile_lines()
        return "\n".join(lines) + "\n"

    def compile_lines(self) -> list[str]:
        """The `compile` section, preceded by a comment on each Keras setting it could not carry."""
        outputs = self.outputs()
        names = (
            list(outputs) if isinstance(outputs, dict) else [outputs] if isinstance(outputs, str) else outputs
        )
        settings, self.not_carried = compile_settings(self.compile_config, [n.split(".")[0] for n in names])
        if not settings and not self.not_carried:
            return []
        lines = [""]
        if self.not_carried:
            lines.append(
                "# Not carried from the Keras model's compile settings (the spec language cannot say them):"
            )
            lines += [f"#   {_comment(note)}" for note in self.not_carried]
        if settings:
            lines.append("compile:")
        for key, value in settings.items():
            flow = f"  {key}: {_flow(value)}"
            if len(flow) <= FLOW_WIDTH or not isinstance(value, dict) or "type" in value:
                lines.append(flow)
            else:  # a per-output mapping, one output a line
                lines.append(f"  {key}:")
                lines += [f"    {name}: {_flow(item)}" for name, item in value.items()]
        return lines

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


def from_keras(model, compile_config: dict | None = None) -> str:
    """The spec text of a Functional or Sequential keras.Model, with its compile settings
    (`compile_config`, or the model's own when it was compiled)."""
    return imported_model(model, compile_config).text


def imported_model(model, compile_config: dict | None = None) -> Imported:
    """As from_keras, with the list of settings the spec could not carry."""
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
    if compile_config is None:
        compile_config = model.get_compile_config() or {}
    return imported_config(
        model.get_config(), "Sequential" if kind == "Sequential" else "Functional", compile_config
    )


def _is_functional(model) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def refuse_standard_library(what: str, path: str) -> None:
    """Refuse a callable or module in the Python standard library, before it is imported."""
    from .checks.paths import in_standard_library, top_module

    if in_standard_library(path):
        raise LoadRefused(
            f"{what} {path} is in the Python standard library ({top_module(path)}); kspec imports and runs "
            "only models, factories and layers from your own or trusted packages"
        )


def check_source(source: str, modules=()) -> None:
    """Refuse, before anything is imported, a source that is neither a file nor a
    `package.module:callable`, and callables or modules in the Python standard library."""
    import os

    if not os.path.exists(source):
        if not source.partition(":")[2]:
            raise ImportRefused(f"{source} is neither a file nor a `package.module:callable` reference")
        refuse_standard_library("the callable", source)
    for module in modules:
        refuse_standard_library("the module", module)


def load_source(source: str, arguments: dict, paths=(), modules=()):
    """A Keras model from a .keras, .h5 or .json file, or from `package.module:callable`, and
    the compile config saved with it ({} when there is none).

    `modules` are imported before the model is loaded, looked for first in the folders `paths`
    (kspec.searchpath, as build and plan look for custom layers), so that custom classes
    registered with keras.saving.register_keras_serializable are found. A callable or module in the standard library is refused before anything runs.
    Keras's safe_mode stays on.
    """
    import os

    from .searchpath import import_custom, import_modules, search_folders

    check_source(source, modules)
    is_file = os.path.exists(source)
    module_name, _, attribute = source.partition(":")

    import keras

    folders = search_folders(paths)
    import_modules(modules, folders)
    if is_file:
        try:
            if source.endswith(".json"):
                with open(source, encoding="utf-8") as handle:
                    return keras.models.model_from_json(handle.read()), {}
            model = keras.models.load_model(source, compile=False)
        except (TypeError, ValueError) as error:
            missing = _unlocated_class(error)
            if missing is None:
                raise
            raise LoadRefused(_unlocated_message(missing, _saved_or_none(source))) from None
        return model, _saved(source).get("compile_config") or {}
    factory = getattr(import_custom(module_name, folders), attribute)
    model = factory(**arguments)
    compiled = getattr(model, "get_compile_config", None)
    return model, (compiled() or {}) if compiled else {}


_UNLOCATED = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def _unlocated_class(error: BaseException) -> str | None:
    """The class Keras could not find, from an error or the errors that caused it."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found = _UNLOCATED.search(str(error))
        if found:
            return found.group(1)
        error = error.__cause__ or error.__context__
    return None


def _unlocated_message(name: str, config) -> str:
    """What to do about a class Keras could not locate (`Name`, or `package>Name` as registered)."""
    class_name = name.rpartition(">")[2]
    module = _module_of(class_name, config)
    where = f" (module {module})" if module else f" (registered as '{name}')" if ">" in name else ""
    return (
        f"Keras could not locate the class '{class_name}'{where}: import the module that registers it "
        f"with --import {module or 'MODULE'}, and put the directory it is in on the path with --path DIR"
    )


def _module_of(class_name: str, config) -> str | None:
    """The module a saved config names for a class, if it names one."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("class_name") == class_name and isinstance(value.get("module"), str):
                return value["module"]
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _saved_or_none(path: str):
    """The JSON saved in a model file, or None: only to name the module of a missing class."""
    import json

    try:
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        return _saved(path)
    except (OSError, ValueError, KeyError):
        return None


def _saved(path: str) -> dict:
    """The JSON Keras keeps beside the weights, in the shape of a .keras file's config.json: the
    model under `config`, the compile settings under `compile_config`. A legacy .h5 file keeps
    them in its attributes `model_config` and `training_config`."""
    import json
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    import h5py

    with h5py.File(path, "r") as handle:
        found = {key: handle.attrs.get(key) for key in ("model_config", "training_config")}
    parsed = {
        key: json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
        for key, text in found.items()
        if text is not None
    }
    return {"config": parsed.get("model_config"), "compile_config": parsed.get("training_config")}


# Compile settings -------------------------------------------------------------

# The order of the keys in the `compile` section (docs/spec-language.md, Compile settings).
COMPILE_KEYS = (
    "optimizer",
    "loss",
    "metrics",
    "weighted_metrics",
    "loss_weights",
    "run_eagerly",
    "steps_per_execution",
    "jit_compile",
)
# Values Keras records when compile() is called without them (`jit_compile="auto"` is recorded
# resolved: false on a machine without an accelerator).
COMPILE_DEFAULTS = {"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


# Where a namespace's classes are in Keras, when not at keras.<namespace>.
KERAS_MODULES = {"schedules": "optimizers.schedules"}


class _NotCarried(Exception):
    """A compile setting the spec language cannot express; the message says why."""


def compile_settings(config: dict | None, output_names: list[str]) -> tuple[dict, list[str]]:
    """A spec's `compile` mapping for a Keras compile config, and a note for each setting left out.

    `config` is `model.get_compile_config()`, the `compile_config` of a .keras file, or the
    `training_config` of a legacy .h5 file (whose optimizer is under `optimizer_config`).
    Arguments equal to Keras's defaults are left out, and so are the names Keras gives objects
    by itself (`adam`, `adam_1`); a setting that cannot be written is left out whole, never in
    part, and named in the notes.
    """
    config = dict(config or {})
    if "optimizer_config" in config and "optimizer" not in config:
        config["optimizer"] = config.pop("optimizer_config")
    settings, notes = {}, []
    for key in COMPILE_KEYS:
        value = config.get(key)
        if value is None or (key in COMPILE_DEFAULTS and value == COMPILE_DEFAULTS[key]):
            continue
        try:
            settings[key] = _compile_value(key, value, output_names)
        except _NotCarried as why:
            notes.append(f"{key}: {why}")
    for key in sorted(set(config) - set(COMPILE_KEYS) - {"optimizer_config"}):
        if config[key] is not None:
            notes.append(f"{key}: not a setting kspec knows")
    return settings, notes


def _compile_value(key: str, value, output_names: list[str]):
    if key == "optimizer":
        return _keras_object("optimizers", value)
    if key == "loss":
        return _per_output(value, "losses", output_names, many=False)
    if key in ("metrics", "weighted_metrics"):
        return _per_output(value, "metrics", output_names, many=True)
    if key == "loss_weights":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if len(output_names) != 1:
                raise _NotCarried(f"one number ({value}) for {len(output_names)} outputs")
            return [value]  # the same weight, in the form the spec language has
        if isinstance(value, dict):
            _check_output_names(value, output_names)
        return _plain(value)
    return value


def _per_output(value, namespace: str, output_names: list[str], many: bool):
    """A loss or metrics setting: one object, a list, or a mapping of output name to them."""
    if isinstance(value, dict) and "class_name" not in value:
        _check_output_names(value, output_names)
        return {
            name: (
                [_keras_object(namespace, v) for v in item]
                if isinstance(item, list)
                else _keras_object(namespace, item)
            )
            for name, item in value.items()
        }
    if isinstance(value, list):
        if any(isinstance(v, list) for v in value):
            raise _NotCarried(
                "a list of lists (per output in order): the spec language takes a mapping instead"
            )
        return [_keras_object(namespace, v) for v in value]
    return [_keras_object(namespace, value)] if many else _keras_object(namespace, value)


def _check_output_names(mapping: dict, output_names: list[str]) -> None:
    unknown = [name for name in mapping if name not in output_names]
    if unknown:
        raise _NotCarried(
            f"{', '.join(map(str, unknown))} names no output of the spec ({', '.join(output_names)})"
        )


def _keras_object(namespace: str, value):
    """A serialized optimizer, schedule, loss or metric as spec data: a name or {type: ..., args}."""
    if isinstance(value, str):
        if catalog().accepts_string(namespace, value):
            return value
        raise _NotCarried(f"{value!r} is not a name in keras.{KERAS_MODULES.get(namespace, namespace)}")
    if not (isinstance(value, dict) and "class_name" in value):
        raise _NotCarried(f"{_short(value)} is not a keras.{KERAS_MODULES.get(namespace, namespace)} object")
    class_name, config = value["class_name"], value.get("config")
    if class_name == "function":  # a Keras function such as keras.losses.mean_squared_error
        if isinstance(config, str) and config in catalog().strings[namespace]:
            return config
        raise _NotCarried(
            f"the function {config!r} is not a keras.{KERAS_MODULES.get(namespace, namespace)} function"
        )
    module, registered = value.get("module"), value.get("registered_name")
    signature = catalog().object_class(namespace, class_name)
    if (module and module != "keras" and not module.startswith("keras.")) or registered or signature is None:
        where = f"{module}.{class_name}" if module else class_name
        raise _NotCarried(f"{where} is not a keras.{KERAS_MODULES.get(namespace, namespace)} class")
    out = {"type": class_name}
    for key, item in (config or {}).items():
        param = signature.params.get(key)
        if param is None:
            raise _NotCarried(f"{class_name} has no argument {key!r} in Keras {catalog().keras_version}")
        if key == "name" and _automatic_name(item, class_name, param.default):
            continue
        if key == "dtype" and _dtype_name(item) == DEFAULT_DTYPE and param.default is None:
            continue
        if key == "learning_rate" and isinstance(item, dict):
            item = _keras_object("schedules", item)
        elif key == "learning_rate" and isinstance(item, float):
            item = _shortest_float32(item)  # Keras keeps it in a float32 variable
        else:
            item = _plain(item)
        if not param.required and _same(item, param.default):
            continue
        out[key] = item
    short = class_name.lower()
    if namespace == "optimizers" and len(out) == 1 and short in catalog().strings[namespace]:
        return short  # `adam` rather than {type: Adam}
    return out


def _automatic_name(name, class_name: str, default) -> bool:
    """Whether an object's name is one Keras gives by itself: the default, or the class in
    snake case and numbered in creation order (`adam`, `adam_1`)."""
    if name == default:
        return True
    return (
        isinstance(name, str)
        and re.fullmatch(re.escape(snake_case(class_name)) + r"(_\d+)?", name) is not None
    )


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 (0.009999999776482582 -> 0.01), or the value."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return value
    if single != value:
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return candidate
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _comment(text: str) -> str:
    """Text safe on one YAML comment line."""
    return "".join(c if c.isprintable() else " " for c in text)


def schema_url() -> str:
    """Where editors find the spec language's schema: its published `$id`, an https URL."""
    from .structure import load_schema

    url = load_schema()["$id"]
    if not url.startswith("https://"):
        raise ValueError(f"the schema's $id {url!r} is not an https URL")
    return url
