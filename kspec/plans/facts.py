"""What Keras 3 allows for each save/load path and style, as measured (kspec.plans.known).

Each builder returns the PathPlan of one path for a Context (spec, style,
generated module). The code strings use only names made from validated
identifiers, and `path` (the file or directory the user chooses), `model`,
`x` (a sample batch) and the generated module's functions.
"""

from __future__ import annotations

from ..backends.python.expr import class_name
from ..backends.styles import allowed_styles
from ..environment import has_tensorflow
from ..flatten import flatten
from ..shapes import infer
from .known import SAVED_MODEL_REFUSED, distribution_caveats, json_safe_mode, kept, other_exports
from .types import PathPlan

KEEPS = ("architecture", "weights", "compile", "optimizer_state")


def keeps(*kept: str) -> dict:
    return {item: item in kept for item in KEEPS}


def measured(c: "Context", path_id: str) -> dict:
    """What the measured facts say a path keeps in this style (empty when not allowed)."""

    return keeps(*(kept(c.keras_version, c.backend, path_id, c.style) or ()))


class Context:
    def __init__(self, spec, style: str, module: str, keras_version: str, backend: str):
        self.spec = spec
        self.style = style
        self.module = module
        self.keras_version = keras_version
        self.backend = backend
        self.subclass = style == "subclass"
        self.custom = sorted(spec.custom.items())
        self.class_name = class_name(spec.name)

    @property
    def shape(self) -> str:
        shapes = [repr((None, *i.shape)) for i in self.spec.inputs.values()]
        return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"

    def imports(self, *names: str) -> str:
        return f"from {self.module} import {', '.join(names)}" if names else f"import {self.module}"

    def class_imports(self) -> list[str]:
        """What loading needs importable: the generated classes, the custom layers."""
        lines = (
            [f"import {self.module}  # registers {self.class_name} and its block layers"]
            if self.subclass
            else []
        )
        for name, path in self.custom:
            module, _, attribute = path.partition(":")
            lines.append(f"import {module}  # the custom layer {attribute}")
        return lines

    @property
    def needs_class(self) -> bool:
        return self.subclass or bool(self.custom)

    def custom_objects(self) -> str:
        if not self.custom:
            return ""
        items = ", ".join(
            f'"{name}": {path.partition(":")[0]}.{path.partition(":")[2]}' for name, path in self.custom
        )
        return f", custom_objects={{{items}}}"


def keras_file(c: Context):

    caveats = ["The only path that keeps the optimizer state: fit() continues where it stopped."]
    if c.needs_class:
        caveats.append(
            "Import the module that defines the classes before loading; otherwise Keras "
            "stops with `Could not locate class` (keras-team/keras#21046)."
        )
    caveats.append(
        "If the model is also saved as .h5, save the .keras file first or pass "
        "include_optimizer=False to the .h5 save: an .h5 save drops the optimizer from the live "
        "model's compile config, and a later .keras file reloads with a fresh RMSprop "
        "(keras-team/keras PR #23475)."
    )
    load = "\n".join([*c.class_imports(), "model = keras.models.load_model(path)"])
    if c.spec.distribution:
        caveats += distribution_caveats(c.keras_version, "keras_file")
        caveats += distribution_caveats(c.keras_version, "multi_worker")
    return PathPlan(
        "keras_file",
        "Keras file (.keras)",
        True,
        None,
        measured(c, "keras_file"),
        c.needs_class,
        'model.save(path)  # path ends in ".keras"',
        load,
        caveats,
    )


def h5_file(c: Context):

    if not any(measured(c, "h5_file").values()):
        return PathPlan(
            "h5_file",
            "Legacy HDF5 file (.h5)",
            False,
            "Keras 3 cannot load a subclassed model from .h5 (`Unknown layer`, then `Layer count "
            "mismatch`); use the .keras file, or save_weights for the weights",
            keeps(),
            True,
            "",
            "",
            [],
        )
    masking = _masking_embeddings(c.spec)
    if c.style == "functional" and masking:
        return PathPlan(
            "h5_file",
            "Legacy HDF5 file (.h5)",
            False,
            f"Keras 3 cannot load this Functional model from .h5: the mask of "
            f"'{masking[0]}' (Embedding with mask_zero) is saved as a `NotEqual` operation "
            "that loading does not know (`Unknown layer: 'NotEqual'`); use the .keras file",
            keeps(),
            False,
            "",
            "",
            [],
        )
    ops = [n for n in flatten(c.spec).nodes if n.op is not None and n.ports()]
    if c.style == "functional" and ops:
        return PathPlan(
            "h5_file",
            "Legacy HDF5 file (.h5)",
            False,
            f"Keras 3 cannot load this Functional model from .h5: '{ops[0].name}' "
            f"(keras.ops.{ops[0].op}) is saved as an operation that loading from .h5 does not know "
            "(`Unknown layer`); use the .keras file",
            keeps(),
            False,
            "",
            "",
            [],
        )
    caveats = [
        "Legacy format: prefer .keras. Load with compile=False, then compile again from the spec: Keras "
        "cannot read alias loss names such as 'mse' back from .h5 (keras-team/keras#19330).",
        "Optimizer slot variables are not restored: fit() after an .h5 load with the saved optimizer "
        "fails with `Unknown variable`, so the plan compiles a fresh optimizer.",
        "include_optimizer=False keeps the save from dropping the optimizer from the live model's "
        "compile config (keras-team/keras PR #23475).",
    ]
    if c.custom:
        caveats.append("Custom layers are not stored: pass them as custom_objects.")
    load = "\n".join(
        [
            *c.class_imports(),
            c.imports("compile_model"),
            f"model = keras.models.load_model(path, compile=False{c.custom_objects()})",
            "model = compile_model(model)",
        ]
    )
    return PathPlan(
        "h5_file",
        "Legacy HDF5 file (.h5)",
        True,
        None,
        measured(c, "h5_file"),
        bool(c.custom),
        'model.save(path, include_optimizer=False)  # path ends in ".h5"',
        load,
        caveats,
    )


def _masking_embeddings(spec) -> list[str]:
    """Embedding layers that compute a mask (mask_zero: true)."""

    return [n.name for n in flatten(spec).nodes if n.type == "Embedding" and n.args.get("mask_zero") is True]


def saved_model(c: Context):

    caveats = [
        "Inference only: no compile settings, no optimizer.",
        "model.save(directory) fails in Keras 3: a SavedModel is written by model.export "
        "(keras-team/keras#18709).",
        'keras.layers.TFSMLayer(path, call_endpoint="serve") wraps it as a layer, but with '
        "trainable=True it cannot be fine-tuned with Adam in keras 3.15.1.",
    ]
    reason = None
    if kept(c.keras_version, c.backend, "saved_model", c.style) is None:
        reason = SAVED_MODEL_REFUSED[c.backend]
    elif c.backend != "tensorflow":
        caveats.insert(0, f"On the {c.backend} backend, model.export writes the SavedModel with TensorFlow.")
        if not has_tensorflow():
            reason = f"model.export needs TensorFlow, which is not installed beside {c.backend}"
    caveats = [*other_exports(c.keras_version, c.backend), *(caveats if reason is None else ())]
    load = "\n".join(
        [
            "import tensorflow as tf",
            "",
            "reloaded = tf.saved_model.load(path)",
            "predictions = reloaded.serve(x)",
        ]
    )
    if c.spec.distribution:
        caveats += distribution_caveats(c.keras_version, "saved_model")
    return PathPlan(
        "saved_model",
        "TensorFlow SavedModel (model.export)",
        reason is None,
        reason,
        measured(c, "saved_model") if reason is None else keeps(),
        False,
        "model.export(path)  # a directory",
        load,
        caveats,
    )


def config(c: Context):

    save = "config = model.get_config()\ncompile_config = model.get_compile_config()"
    caveats = ["The architecture only: weights are not part of the config."]
    if c.style == "sequential":
        rebuild = ["model = keras.Sequential.from_config(config)"]
        caveats.append(
            "keras.Model.from_config fails for a Sequential config: use keras.Sequential.from_config."
        )
    elif c.style == "functional":
        rebuild = ["import copy", "", "model = keras.Model.from_config(copy.deepcopy(config))"]
        caveats.append("Functional.from_config empties the dict it is given: pass a deep copy.")
    else:
        rebuild = [
            c.imports(c.class_name),
            "",
            f"model = {c.class_name}.from_config(config)",
            f"model.build({c.shape})",
        ]
        caveats.append(
            "A subclass's from_config returns an unbuilt model: build it (the generated "
            "build() builds every layer) before set_weights or load_weights."
        )
    load = "\n".join(
        [
            *[line for line in c.class_imports() if not c.subclass],
            *rebuild,
            "model.compile_from_config(compile_config)",
        ]
    )
    return PathPlan(
        "config",
        "get_config / from_config",
        True,
        None,
        measured(c, "config"),
        c.needs_class,
        save,
        load,
        caveats,
    )


def json(c: Context):

    caveats = [
        _json_safety(c),
        "The model comes back compiled with a fresh optimizer; weights are not included.",
    ]
    if c.needs_class:
        caveats.append("Import the module that defines the classes first.")
    load = "\n".join([*c.class_imports(), "model = keras.models.model_from_json(text)"])
    return PathPlan(
        "json",
        "to_json / model_from_json",
        True,
        None,
        measured(c, "json"),
        c.needs_class,
        "text = model.to_json()",
        load,
        caveats,
    )


def _json_safety(c: Context) -> str:
    if json_safe_mode(c.keras_version):
        return (
            "model_from_json takes no safe_mode argument but loads in Keras's safe mode: Python code "
            "in the JSON (a Lambda's function) is refused, unless "
            "keras.config.enable_unsafe_deserialization() was called in the process. It still builds "
            "whatever Keras and registered classes the JSON names, with the arguments it gives: load "
            "only JSON you trust."
        )
    return (
        "model_from_json does not refuse Python code in the JSON on this Keras version: a Lambda's "
        "function is loaded and runs. Load only JSON you trust."
    )


def weights_file(c: Context):

    caveats = [
        'The file name must end in ".weights.h5".',
        "Weights are matched to layers by position, never by name: a renamed layer loads "
        "silently. Rebuild the same architecture (build_model) first.",
        "The optimizer's variables are in the file but load only into an optimizer that is " "already built.",
    ]
    if c.subclass:
        caveats.append(
            "A subclass must be built before load_weights, or the weights stay random "
            "without a message; the generated build_model() builds every layer."
        )
    load = "\n".join([c.imports("build_model"), "", "model = build_model()", "model.load_weights(path)"])
    return PathPlan(
        "weights_file",
        "save_weights / load_weights (.weights.h5)",
        True,
        None,
        measured(c, "weights_file"),
        True,
        'model.save_weights(path)  # path ends in ".weights.h5"',
        load,
        caveats,
    )


def weights_memory(c: Context):

    load = "\n".join([c.imports("build_model"), "", "model = build_model()", "model.set_weights(weights)"])
    caveats = ["In memory: for inference copies, or to hand weights to another process yourself."]
    if c.subclass:
        caveats.append("set_weights fails on an unbuilt subclass; build_model() returns it built.")
    return PathPlan(
        "weights_memory",
        "get_weights / set_weights",
        True,
        None,
        measured(c, "weights_memory"),
        True,
        "weights = model.get_weights()",
        load,
        caveats,
    )


def cross_style_weights(c: Context):

    others = [s for s in allowed_styles(c.spec) if s != c.style]
    if not others:
        return PathPlan(
            "cross_style_weights",
            "Weights into another style",
            False,
            "no other style fits this graph",
            keeps(),
            True,
            "",
            "",
            [],
        )
    lines = ["import kspec", ""]
    for other in others:
        lines += [
            f"from {c.spec.name}_{other} import build_model as build_{other}",
            f"{other}_model = build_{other}()",
            f"kspec.transfer_weights(model, {other}_model)  # by layer name, shapes checked",
        ]
    caveats = [
        "kspec.transfer_weights maps weights by layer name (blocks included) and checks every "
        "shape, failing with the layer's name on a mismatch. For files, kspec.save_named_weights"
        "(model, path) writes an .npz that kspec.load_named_weights loads into any style.",
        "get_weights()/set_weights() also line up across kspec's styles (subclass layers are "
        "created in the order a Functional model lists them), but match by position only.",
    ]
    return PathPlan(
        "cross_style_weights",
        "Weights into another style",
        True,
        None,
        measured(c, "cross_style_weights"),
        True,
        "",
        "\n".join(lines),
        caveats,
    )


def transfer_layers(spec, source_spec) -> dict:
    """Which layers of `spec` take weights from `source_spec`: copied, new, mismatched, frozen."""

    mine = {layer.node.name: layer for layer in infer(spec).layers if not layer.node.share}
    theirs = {layer.node.name: layer for layer in infer(source_spec).layers if not layer.node.share}
    copied, new, mismatched = [], [], []
    for name, layer in mine.items():
        if not layer.params:
            continue
        if name not in theirs:
            new.append(name)
            continue
        other = theirs[name]
        if other.node.type != layer.node.type:
            mismatched.append(f"{name} ({other.node.type} in {source_spec.name}, {layer.node.type} here)")
        elif other.input_shapes != layer.input_shapes or other.params != layer.params:
            mismatched.append(
                f"{name} ({other.params:,} weights in {source_spec.name}, {layer.params:,} here)"
            )
        else:
            copied.append(name)
    frozen = [
        name for name, layer in mine.items() if layer.params and layer.node.args.get("trainable") is False
    ]
    return {"copied": copied, "new": new, "mismatched": mismatched, "frozen": frozen}


def transfer(c: Context, source_spec):
    """Reuse a trained model's layers: copy those with the same name and shapes, compile after."""

    lists = transfer_layers(c.spec, source_spec)
    copied, new, mismatched, frozen = (lists[k] for k in ("copied", "new", "mismatched", "frozen"))
    load = "\n".join(
        [
            "import kspec",
            c.imports("build_model", "compile_model"),
            "",
            "source = keras.models.load_model(path)  # the trained base model",
            "model = build_model()",
            f"kspec.transfer_weights(source, model, names={copied!r})",
            "model = compile_model(model)  # compile after the weights are in place",
        ]
    )
    caveats = [
        f"Take their weights from {source_spec.name} (same name and weight shapes): "
        f"{', '.join(copied) or 'none'}.",
        f"New, trained from scratch: {', '.join(new) or 'none'}.",
        f"Same name, other weights, trained from scratch: {', '.join(mismatched) or 'none'}.",
        f"Frozen (trainable: false in this spec): {', '.join(frozen) or 'none'}.",
        "Freezing takes effect at compile time: change `trainable` in the spec, or set "
        "layer.trainable and compile again (freezing after compile has no effect).",
    ]
    return PathPlan(
        "transfer",
        f"Transfer learning from {source_spec.name}",
        bool(copied),
        None if copied else f"no layer of {source_spec.name} has this model's names and shapes",
        measured(c, "transfer"),
        True,
        "",
        load,
        caveats,
    )


PATHS = (keras_file, h5_file, saved_model, config, json, weights_file, weights_memory, cross_style_weights)
