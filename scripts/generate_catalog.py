"""Regenerate kspec/catalog/keras.json from the installed Keras.

The catalog is the only Keras knowledge that `kspec validate` reads: every
public layer class with its constructor signature, the other namespaces a
spec can name (initializers, regularizers, constraints, activations,
optimizers, learning-rate schedules, losses, metrics), and the `keras.ops`
functions a spec may call (`ops`, the allowlist: see `ops_allowlist`).

Usage: python scripts/generate_catalog.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path

CATALOG_PATH = Path(__file__).resolve().parent.parent / "kspec" / "catalog" / "keras.json"

# Keyword arguments that keras.layers.Layer accepts through **kwargs.
LAYER_BASE_KWARGS = ("input_dim", "input_shape", "batch_input_shape", "batch_size", "weights")

# Call arguments that Layer.__call__ takes for every layer (and drops where call() has none).
LAYER_BASE_CALL_PARAMS = [{"name": "training", "required": False, "default": None, "tensor": False}]

# Strings that Model.compile accepts as metrics without a registry entry.
COMPILE_METRIC_STRINGS = ("accuracy", "acc", "crossentropy", "ce")


# keras.ops functions left out of the allowlist because they run Python code (control flow,
# gradients, vectorised maps), leave the graph (conversions to NumPy, Python values), or are not
# graph operations. Any function with a parameter that takes a callable is left out as well.
OPS_EXCLUDED = {
    "associative_scan": "it runs a Python function",
    "cond": "it is control flow that runs Python functions",
    "custom_gradient": "it wraps a Python function",
    "fori_loop": "it is control flow that runs a Python function",
    "jvp": "it runs a Python function",
    "map": "it runs a Python function",
    "scan": "it is control flow that runs a Python function",
    "switch": "it is control flow that runs Python functions",
    "vectorize": "it wraps a Python function",
    "vectorized_map": "it runs a Python function",
    "while_loop": "it is control flow that runs Python functions",
    "convert_to_numpy": "it leaves the graph (a NumPy array)",
    "convert_to_tensor": "it converts Python data; it is not a graph operation",
    "is_tensor": "it returns a Python value",
    "dtype": "it returns a Python value",
    "shape": "it returns a Python value",
    "ndim": "it returns a Python value",
    "size": "it returns a Python value",
}
# Parameter names that take a callable.
CALLABLE_PARAMS = {"f", "fn", "fun", "func", "function", "pyfunc", "body", "body_fun", "true_fn", "false_fn"}
# Parameters that take tensors, passed by a spec's `inputs`: one tensor each, or ("list") a
# list of tensors. The others take constants, written as keys of the op call.
TENSOR_PARAMS = {
    "x", "x1", "x2", "y", "a", "b", "inputs", "tensor", "condition", "indices", "updates", "values",
    "data", "segment_ids", "target", "output", "targets", "predictions", "query", "key", "value",
    "bias", "mask", "kernel", "depthwise_kernel", "pointwise_kernel", "mean", "variance",
    "gamma", "beta", "scale", "offset", "weights", "variable", "array", "abs_", "angle",
    "sorted_sequence", "elems", "primals", "condlist", "choicelist", "target_length",
    "output_length", "sequence_lengths", "bins",
}  # fmt: skip
LIST_PARAMS = {("stack", "x"), ("concatenate", "xs"), ("hstack", "xs"), ("vstack", "xs"), ("dstack", "xs")}


def ops_allowlist(keras) -> tuple[dict, dict]:
    """The keras.ops functions a spec may call, by name, with their parameters; and those left
    out, with the reason.

    The rule (docs/security.md): a public function of keras.ops (submodules left out) is in
    unless it is in OPS_EXCLUDED, takes a callable (a parameter named in CALLABLE_PARAMS, or
    annotated or defaulted as a callable), or takes `*args` (operands a spec could not name).
    """
    out, excluded = {}, {}
    for name in sorted(dir(keras.ops)):
        function = getattr(keras.ops, name)
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        parameters = list(inspect.signature(function).parameters.values())
        if name in OPS_EXCLUDED:
            excluded[name] = OPS_EXCLUDED[name]
            continue
        if any(_takes_callable(p) for p in parameters):
            excluded[name] = "it takes a Python callable"
            continue
        if any(p.kind is p.VAR_POSITIONAL for p in parameters):
            excluded[name] = "it takes *args, which a spec cannot name"
            continue
        params = []
        for p in parameters:
            if p.kind is p.VAR_KEYWORD:
                continue
            entry = {"name": p.name, "required": p.default is p.empty}
            if p.default is not p.empty:
                entry["default"] = _json_default(p.default)
            if (name, p.name) in LIST_PARAMS:
                entry["tensor"] = "list"
            elif p.name in TENSOR_PARAMS:
                entry["tensor"] = "one"
            params.append(entry)
        out[name] = {"params": params}
    return out, excluded


def _takes_callable(parameter) -> bool:
    annotation = parameter.annotation
    return (
        parameter.name in CALLABLE_PARAMS
        or (parameter.default is not parameter.empty and callable(parameter.default))
        or "Callable" in str(annotation)
    )


def _json_default(value):
    """A default value as JSON: tuples become lists, objects their repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [_json_default(v) for v in value]
    return {"repr": repr(value)}


def _parameters(function) -> tuple[list, bool]:
    """(entries: name, required, default; whether it takes **kwargs) of a method's parameters."""
    params = []
    takes_kwargs = False
    for p in inspect.signature(function).parameters.values():
        if p.name == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            takes_kwargs = True
            continue
        entry = {"name": p.name, "required": p.default is p.empty}
        if p.default is not p.empty:
            entry["default"] = _json_default(p.default)
        params.append(entry)
    return params, takes_kwargs


def signature_of(cls) -> dict:
    """Constructor parameters of a class: name, required, default."""
    params, takes_kwargs = _parameters(cls.__init__)
    return {"params": params, "kwargs": takes_kwargs}


def call_signature_of(cls) -> dict:
    """The parameters of a layer's call(): name, required, default, and whether it takes a tensor.

    A parameter without a default (`inputs`, `query`) or with None for one (`mask`,
    `initial_state`, `key`) takes a tensor; `training` and those with a constant default
    (`use_causal_mask=False`) take a constant.
    """
    params, takes_kwargs = _parameters(cls.call)
    for entry in params:
        entry["tensor"] = entry["required"] or (
            entry.get("default", 0) is None and entry["name"] != "training"
        )
    return {"params": params, "kwargs": takes_kwargs}


def public_classes(module, base, calls: bool = False) -> dict:
    """Public classes of a module by their capitalised names (aliases included), with the
    signature of call() too when `calls`."""
    out = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if not name[:1].isupper() or not inspect.isclass(obj) or not issubclass(obj, base):
            continue
        entry = signature_of(obj)
        entry["canonical"] = obj.__name__
        if calls:
            entry["call"] = call_signature_of(obj)
        out[name] = entry
    return out


def attribute_names(keras) -> set[str]:
    """Every attribute a generated subclass or block layer must not reuse for a child layer.

    The class attributes, and what Keras sets on an instance while it is built, compiled
    and trained (`built`, `compiled`, `train_function`, ...), which dir() of the class misses.
    """
    import numpy as np

    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    class Probe(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def call(self, x):
            return self.block(x)

    model = Probe()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((2, 3)), np.zeros((2, 1)), epochs=1, verbose=0)
    model.predict(np.zeros((2, 3)), verbose=0)
    model.evaluate(np.zeros((2, 3)), np.zeros((2, 1)), verbose=0)
    found = set(dir(keras.Model)) | set(dir(keras.layers.Layer))
    found |= set(vars(model)) | set(vars(model.block))
    return found - {"block", "dense"}


def build_catalog() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras.src import (
        activations,
        constraints,
        initializers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )

    base = signature_of(keras.layers.Layer)
    base_params = [p for p in base["params"]]
    base_params += [{"name": n, "required": False, "default": None} for n in LAYER_BASE_KWARGS]

    namespaces = {
        "initializers": (keras.initializers, keras.initializers.Initializer, initializers.ALL_OBJECTS_DICT),
        "regularizers": (keras.regularizers, keras.regularizers.Regularizer, regularizers.ALL_OBJECTS_DICT),
        "constraints": (keras.constraints, keras.constraints.Constraint, constraints.ALL_OBJECTS_DICT),
        "optimizers": (keras.optimizers, keras.optimizers.Optimizer, optimizers.ALL_OBJECTS_DICT),
        "schedules": (
            keras.optimizers.schedules,
            keras.optimizers.schedules.LearningRateSchedule,
            {},
        ),
        "losses": (keras.losses, keras.losses.Loss, losses.ALL_OBJECTS_DICT),
        "metrics": (keras.metrics, keras.metrics.Metric, metrics.ALL_OBJECTS_DICT),
    }
    catalog_namespaces = {}
    for ns, (module, base_cls, registry) in namespaces.items():
        classes = public_classes(module, base_cls)
        strings = sorted(k for k in registry if k not in classes)
        if ns == "metrics":
            strings = sorted(set(strings) | set(COMPILE_METRIC_STRINGS))
        catalog_namespaces[ns] = {"classes": classes, "strings": strings}
    catalog_namespaces["activations"] = {
        "classes": {},
        "strings": sorted(activations.ALL_OBJECTS_DICT),
    }

    ops, ops_excluded = ops_allowlist(keras)
    reserved = sorted(name for name in attribute_names(keras) if not name.startswith("_"))
    return {
        "keras_version": keras.__version__,
        "model_attributes": reserved,
        "layers": public_classes(keras.layers, keras.layers.Layer, calls=True),
        "layer_base_call_params": LAYER_BASE_CALL_PARAMS,
        "layer_base_params": base_params,
        "namespaces": catalog_namespaces,
        "ops": ops,
        "ops_excluded": ops_excluded,
    }


def render(catalog: dict) -> str:
    return json.dumps(catalog, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the catalog differs")
    parser.add_argument(
        "--output",
        type=Path,
        help="write the catalog here instead (an older Keras's, for catalog_versions.py)",
    )
    args = parser.parse_args(argv)
    text = render(build_catalog())
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        if CATALOG_PATH.read_text(encoding="utf-8") != text:
            print(f"{CATALOG_PATH} is out of date: run scripts/generate_catalog.py", file=sys.stderr)
            return 1
        return 0
    CATALOG_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {CATALOG_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
