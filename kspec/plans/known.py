"""Measured Keras facts that plans rely on, keyed by Keras version and backend.

Each entry was measured (and is re-checked by `kspec plan --verify` and the
test suite) on that Keras version with that backend. On another version or
backend, plans use the nearest measured facts and say so, and `--verify`
checks them where they are used.
"""

from __future__ import annotations

ALL = ("architecture", "weights", "compile", "optimizer_state")

TENSORFLOW_3_15 = {
    # path -> style -> (allowed, what it keeps); None = not allowed
    "keras_file": {"sequential": ALL, "functional": ALL, "subclass": ALL},
    "h5_file": {
        "sequential": ("architecture", "weights"),
        "functional": ("architecture", "weights"),
        "subclass": None,
    },
    "saved_model": {s: ("architecture", "weights") for s in ("sequential", "functional", "subclass")},
    "config": {s: ("architecture", "compile") for s in ("sequential", "functional", "subclass")},
    "json": {s: ("architecture", "compile") for s in ("sequential", "functional", "subclass")},
    "weights_file": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "weights_memory": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "cross_style_weights": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
    "transfer": {s: ("weights",) for s in ("sequential", "functional", "subclass")},
}

# (keras version, backend) -> path -> style -> what it keeps (None = not allowed). On JAX,
# every path keeps what it keeps on TensorFlow (22 claims of specs/mlp.yaml hold under
# KERAS_BACKEND=jax, jax 0.10.2); the SavedModel is written through jax2tf and needs
# TensorFlow installed beside JAX (facts.saved_model says so where it is not).
#
# On torch (torch 2.13.0, CPU), every other path keeps what it keeps on TensorFlow (the claims of
# specs/mlp.yaml under KERAS_BACKEND=torch: 21 hold in the functional and sequential styles, 20 in
# the subclass style); the SavedModel is not allowed: Keras 3.15.1 writes it on torch through
# torch_xla's StableHLO and TensorFlow, which kspec has not measured (torch_xla is not in this
# machine's package index).
TORCH_3_15 = {**TENSORFLOW_3_15, "saved_model": dict.fromkeys(("sequential", "functional", "subclass"))}

#
# Keras 3.12.4 with TensorFlow 2.21: the same (specs/mlp.yaml: 22 claims hold in the functional
# style, 21 in the subclass style).
FACTS = {
    ("3.12.4", "tensorflow"): TENSORFLOW_3_15,
    ("3.15.1", "tensorflow"): TENSORFLOW_3_15,
    ("3.15.1", "jax"): TENSORFLOW_3_15,
    ("3.15.1", "torch"): TORCH_3_15,
}

# Why a backend's facts refuse the SavedModel (facts.saved_model).
SAVED_MODEL_REFUSED = {
    "torch": "on the torch backend, Keras writes a SavedModel through torch_xla and TensorFlow, "
    "which kspec has not measured",
}

# What model.export(format=...) offers besides the SavedModel, by (keras version, backend): on
# torch, measured with torch 2.13.0 (CPU) on a two-layer functional model; not checked by --verify.
# Keras 3.12.4 offers only tf_saved_model, onnx and openvino (read in its model.export).
OTHER_EXPORTS = {
    ("3.15.1", "torch"): (
        'model.export(path, format="torch") writes a torch.export program (.pt2) with torch alone; '
        "torch.export.load(path).module() predicts the same, but only for the batch size it was "
        "traced with (1) unless dynamic_shapes is passed, e.g. "
        "dynamic_shapes=[{0: torch.export.Dim('batch')}].",
        'model.export(path, format="onnx") needs the onnx and onnxscript packages; onnxruntime then '
        "predicts the same for any batch size.",
        'format="litert" needs the litert-torch package, format="openvino" the openvino package '
        "(neither measured).",
    ),
}

MEASURED_ON = ("3.15.1", "tensorflow")

# Whether keras.models.model_from_json refuses Python code inside the JSON (the bytecode of a
# Lambda's function, or a `__lambda__` object anywhere), measured by
# tests/test_plans.py::test_model_from_json_refuses_code_as_the_plan_says. It takes no safe_mode
# argument, but passes the config to keras.saving.deserialize_keras_object, whose safe_mode
# defaults to True; only keras.config.enable_unsafe_deserialization() (or an enclosing
# SafeModeScope(False)) turns it off.
JSON_SAFE_MODE = {"3.15.1": True}


# What save/load paths keep of a model laid out by a spec's `distribution` section: measured on
# Keras 3.15.1 with JAX 0.10.2 (ModelParallel, 8 virtual CPU devices) and TensorFlow 2.21
# (MirroredStrategy on CPU), by tests/test_distribution.py. Not measured: GPUs, TPUs, several hosts.
DISTRIBUTION = {
    "3.15.1": {
        "keras_file": [
            "A distributed model saves whole arrays, gathered from its devices: the file does not "
            "record the layout. Loaded outside any distribution, it lands on one device (JAX) or in "
            "plain variables (TensorFlow); loaded inside `with distribution().scope():` each weight "
            "takes that distribution's layout again, and a scope with another mesh works too "
            "(measured on JAX 0.10.2, 8 CPU devices, and TensorFlow 2.21 MirroredStrategy).",
        ],
        "saved_model": [
            "model.export works on a distributed model: under TensorFlow's MirroredStrategy, and on "
            "JAX under ModelParallel (through jax2tf); the SavedModel serves the same predictions on "
            "one device (measured on JAX 0.10.2 with 8 CPU devices, and TensorFlow 2.21).",
        ],
        "multi_worker": [
            "Not verified here: fit under TensorFlow's MultiWorkerMirroredStrategy fails in Keras "
            "3.15.1 (keras-team/keras#20585); JAX multi-process data parallelism trains (measured on "
            "two CPU processes on 127.0.0.1).",
        ],
    },
}

DISTRIBUTION_MEASURED_ON = "3.15.1"


def distribution_caveats(keras_version: str, path: str) -> list[str]:
    """Measured facts about a path for a distributed model, marked when measured on another version."""
    found = DISTRIBUTION.get(keras_version)
    if found is None:
        return [
            f"{text} Measured on Keras {DISTRIBUTION_MEASURED_ON}, not {keras_version}."
            for text in DISTRIBUTION[DISTRIBUTION_MEASURED_ON].get(path, [])
        ]
    return list(found.get(path, []))


def other_exports(keras_version: str, backend: str) -> list[str]:
    """What model.export offers besides the SavedModel on a backend, marked when measured on
    another Keras version (the newest measured)."""
    if (keras_version, backend) in OTHER_EXPORTS:
        return list(OTHER_EXPORTS[keras_version, backend])
    measured = sorted((v for v, b in OTHER_EXPORTS if b == backend), key=_numbers)
    if not measured:
        return []
    return [
        f"{text} Measured on keras {measured[-1]}, not {keras_version}."
        for text in OTHER_EXPORTS[measured[-1], backend]
    ]


def facts_for(keras_version: str, backend: str) -> tuple[dict, tuple]:
    """The facts for a Keras version and backend, and the (version, backend) they were measured
    on: the same when measured, else the same backend's newest, else MEASURED_ON."""
    if (keras_version, backend) in FACTS:
        return FACTS[keras_version, backend], (keras_version, backend)
    same_backend = sorted((key for key in FACTS if key[1] == backend), key=lambda key: _numbers(key[0]))
    key = same_backend[-1] if same_backend else MEASURED_ON
    return FACTS[key], key


def _numbers(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def kept(keras_version: str, backend: str, path: str, style: str):
    """What a path keeps in a style, or None when Keras does not allow it."""
    return facts_for(keras_version, backend)[0][path][style]


def json_safe_mode(keras_version: str) -> bool:
    """Whether model_from_json refuses code in the JSON (safe mode) on a Keras version."""
    return JSON_SAFE_MODE.get(keras_version, JSON_SAFE_MODE[MEASURED_ON[0]])
