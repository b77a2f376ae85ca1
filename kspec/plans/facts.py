"""What Keras 3 allows for each save/load path and style, as measured on keras 3.15.1.

Each builder returns the PathPlan of one path for a Context (spec, style,
generated module). The code strings use only names made from validated
identifiers, and `path` (the file or directory the user chooses), `model`,
`x` (a sample batch) and the generated module's functions.
"""

from __future__ import annotations

from ..backends.python.expr import class_name
from ..backends.styles import allowed_styles

KEEPS = ("architecture", "weights", "compile", "optimizer_state")


def keeps(*kept: str) -> dict:
    return {item: item in kept for item in KEEPS}


class Context:
    def __init__(self, spec, style: str, module: str):
        self.spec = spec
        self.style = style
        self.module = module
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
        lines = [f"import {self.module}  # registers {self.class_name} and its block layers"] if self.subclass else []
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
        items = ", ".join(f'"{name}": {path.partition(":")[0]}.{path.partition(":")[2]}' for name, path in self.custom)
        return f", custom_objects={{{items}}}"


def keras_file(c: Context):
    from .model import PathPlan

    caveats = ["The only path that keeps the optimizer state: fit() continues where it stopped."]
    if c.needs_class:
        caveats.append("Import the module that defines the classes before loading; otherwise Keras "
                       "stops with `Could not locate class` (keras-team/keras#21046).")
    caveats.append("If the model is also saved as .h5, save the .keras file first or pass "
                   "include_optimizer=False to the .h5 save: an .h5 save drops the optimizer from the live "
                   "model's compile config, and a later .keras file reloads with a fresh RMSprop "
                   "(keras-team/keras PR #23475).")
    load = "\n".join([*c.class_imports(), "model = keras.models.load_model(path)"])
    return PathPlan("keras_file", "Keras file (.keras)", True, None, keeps(*KEEPS), c.needs_class,
                    'model.save(path)  # path ends in ".keras"', load, caveats)


def h5_file(c: Context):
    from .model import PathPlan

    if c.subclass:
        return PathPlan("h5_file", "Legacy HDF5 file (.h5)", False,
                        "Keras 3 cannot load a subclassed model from .h5 (`Unknown layer`, then `Layer count "
                        "mismatch`); use the .keras file, or save_weights for the weights",
                        keeps(), True, "", "", [])
    masking = _masking_embeddings(c.spec)
    if c.style == "functional" and masking:
        return PathPlan("h5_file", "Legacy HDF5 file (.h5)", False,
                        f"Keras 3 cannot load this Functional model from .h5: the mask of "
                        f"'{masking[0]}' (Embedding with mask_zero) is saved as a `NotEqual` operation "
                        "that loading does not know (`Unknown layer: 'NotEqual'`); use the .keras file",
                        keeps(), False, "", "", [])
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
    load = "\n".join([*c.class_imports(), c.imports("compile_model"),
                      f"model = keras.models.load_model(path, compile=False{c.custom_objects()})",
                      "model = compile_model(model)"])
    return PathPlan("h5_file", "Legacy HDF5 file (.h5)", True, None, keeps("architecture", "weights"),
                    bool(c.custom), 'model.save(path, include_optimizer=False)  # path ends in ".h5"', load,
                    caveats)


def _masking_embeddings(spec) -> list[str]:
    """Embedding layers that compute a mask (mask_zero: true)."""
    from ..flatten import flatten

    return [n.name for n in flatten(spec).nodes if n.type == "Embedding" and n.args.get("mask_zero") is True]


def saved_model(c: Context):
    from .model import PathPlan

    caveats = ["TensorFlow backend only, and inference only: no compile settings, no optimizer.",
               "model.save(directory) fails in Keras 3: a SavedModel is written by model.export "
               "(keras-team/keras#18709).",
               "keras.layers.TFSMLayer(path, call_endpoint=\"serve\") wraps it as a layer, but with "
               "trainable=True it cannot be fine-tuned with Adam in keras 3.15.1."]
    load = "\n".join(["import tensorflow as tf", "", "reloaded = tf.saved_model.load(path)",
                      "predictions = reloaded.serve(x)"])
    return PathPlan("saved_model", "TensorFlow SavedModel (model.export)", True, None,
                    keeps("architecture", "weights"), False, "model.export(path)  # a directory", load, caveats)


def config(c: Context):
    from .model import PathPlan

    save = "config = model.get_config()\ncompile_config = model.get_compile_config()"
    caveats = ["The architecture only: weights are not part of the config."]
    if c.style == "sequential":
        rebuild = ["model = keras.Sequential.from_config(config)"]
        caveats.append("keras.Model.from_config fails for a Sequential config: use keras.Sequential.from_config.")
    elif c.style == "functional":
        rebuild = ["import copy", "", "model = keras.Model.from_config(copy.deepcopy(config))"]
        caveats.append("Functional.from_config empties the dict it is given: pass a deep copy.")
    else:
        rebuild = [c.imports(c.class_name), "",
                   f"model = {c.class_name}.from_config(config)", f"model.build({c.shape})"]
        caveats.append("A subclass's from_config returns an unbuilt model: build it (the generated "
                       "build() builds every layer) before set_weights or load_weights.")
    load = "\n".join([*[line for line in c.class_imports() if not c.subclass], *rebuild,
                      "model.compile_from_config(compile_config)"])
    return PathPlan("config", "get_config / from_config", True, None, keeps("architecture", "compile"),
                    c.needs_class, save, load, caveats)


def json(c: Context):
    from .model import PathPlan

    caveats = ["model_from_json has no safe_mode (keras-team/keras#18284): load only JSON you trust.",
               "The model comes back compiled with a fresh optimizer; weights are not included."]
    if c.needs_class:
        caveats.append("Import the module that defines the classes first.")
    load = "\n".join([*c.class_imports(), "model = keras.models.model_from_json(text)"])
    return PathPlan("json", "to_json / model_from_json", True, None, keeps("architecture", "compile"),
                    c.needs_class, "text = model.to_json()", load, caveats)


def weights_file(c: Context):
    from .model import PathPlan

    caveats = ['The file name must end in ".weights.h5".',
               "Weights are matched to layers by position, never by name: a renamed layer loads "
               "silently. Rebuild the same architecture (build_model) first.",
               "The optimizer's variables are in the file but load only into an optimizer that is "
               "already built."]
    if c.subclass:
        caveats.append("A subclass must be built before load_weights, or the weights stay random "
                       "without a message; the generated build_model() builds every layer.")
    load = "\n".join([c.imports("build_model"), "", "model = build_model()", "model.load_weights(path)"])
    return PathPlan("weights_file", "save_weights / load_weights (.weights.h5)", True, None, keeps("weights"),
                    True, 'model.save_weights(path)  # path ends in ".weights.h5"', load, caveats)


def weights_memory(c: Context):
    from .model import PathPlan

    load = "\n".join([c.imports("build_model"), "", "model = build_model()", "model.set_weights(weights)"])
    caveats = ["In memory: for inference copies, or to hand weights to another process yourself."]
    if c.subclass:
        caveats.append("set_weights fails on an unbuilt subclass; build_model() returns it built.")
    return PathPlan("weights_memory", "get_weights / set_weights", True, None, keeps("weights"), True,
                    "weights = model.get_weights()", load, caveats)


def cross_style_weights(c: Context):
    from .model import PathPlan

    others = [s for s in allowed_styles(c.spec) if s != c.style]
    if not others:
        return PathPlan("cross_style_weights", "Weights into another style", False,
                        "no other style fits this graph", keeps(), True, "", "", [])
    lines = []
    for other in others:
        lines += [f"from {c.spec.name}_{other} import build_model as build_{other}",
                  f"{other}_model = build_{other}()", f"{other}_model.set_weights(weights)"]
    caveats = ["Every style kspec generates lists its weights in the same order (subclass layers are "
               "created in the order a Functional model lists them), so get_weights() of one style "
               "fits set_weights() of another."]
    return PathPlan("cross_style_weights", "Weights into another style", True, None, keeps("weights"), True,
                    "weights = model.get_weights()", "\n".join(lines), caveats)


def transfer(c: Context, source_spec):
    """Reuse a trained model's layers: copy by name where shapes agree, freeze, compile again."""
    from ..shapes import infer
    from .model import PathPlan

    mine = {layer.node.name: layer for layer in infer(c.spec).layers if not layer.node.share}
    theirs = {layer.node.name: layer for layer in infer(source_spec).layers if not layer.node.share}
    matched = [name for name, layer in mine.items() if name in theirs and layer.params
               and theirs[name].node.type == layer.node.type and theirs[name].params == layer.params
               and theirs[name].input_shapes == layer.input_shapes]
    load = "\n".join([
        c.imports("build_model", "compile_model"), "",
        "source = keras.models.load_model(path)  # the trained model",
        "model = build_model()",
        "mine = {layer.name: layer for layer in model._flatten_layers(include_self=False)}",
        "theirs = {layer.name: layer for layer in source._flatten_layers(include_self=False)}",
        f"for name in {matched!r}:",
        "    mine[name].set_weights(theirs[name].get_weights())",
        "    mine[name].trainable = False",
        "model = compile_model(model)  # compile after freezing, or trainable=False has no effect",
    ])
    fresh = [name for name, layer in mine.items() if layer.params and name not in matched]
    caveats = [f"Copied and frozen ({len(matched)}): {', '.join(matched) or 'none'}.",
               f"Trained from scratch ({len(fresh)}): {', '.join(fresh) or 'none'}.",
               "Layers are matched by name, type and weight shapes; compile again after freezing."]
    return PathPlan("transfer", f"Transfer learning from {source_spec.name}", bool(matched),
                    None if matched else "no layer of the source has this model's name, type and shapes",
                    keeps("weights"), True, "", load, caveats)


PATHS = (keras_file, h5_file, saved_model, config, json, weights_file, weights_memory, cross_style_weights)
