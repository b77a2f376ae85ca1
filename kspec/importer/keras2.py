"""Models saved by Keras 2 (`tf.keras` / `tf_keras` 2.x): their config read from the file, translated
to Keras 3, and their weights read by layer name.

Where each format keeps the model, and what reading it needs:

- a full-model `.h5` file: the config in the attribute `model_config`, the weights in the group
  `model_weights` (h5py);
- a SavedModel directory: the config in `keras_metadata.pb`, read by the protobuf wire reader
  below (nothing but Python), the weights in the TensorFlow checkpoint `variables/`, read tensor
  by tensor with `tf.train.load_checkpoint` (needs TensorFlow; no graph is run);
- a Keras 2 `.keras` file: the config in `config.json`, the weights in `model.weights.h5` (h5py);
- a `to_json()` file: the config alone; the weights come from a `save_weights` `.h5` file.

No format needs `tf_keras`. The config is translated by TRANSLATIONS and CLASSES (one table,
the docs' table is checked against it) and refused, before Keras reads it, where a layer holds
Python code (Lambda, a recorded TensorFlow operation) or is no class Keras 3 knows.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from typing import NamedTuple

from ..deep import deep
from ..files import open_regular
from ..ir import snake_case
from .graph import layer_count
from .refusals import ImportRefused, LoadRefused

METADATA = "keras_metadata.pb"
# The most bytes kspec reads from a keras_metadata.pb or a config (ResNet-152's is about 2 MB).
MAX_METADATA_BYTES = 256 * 1024 * 1024

RNNS = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
TRANSPOSED = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
SEPARABLE = ("SeparableConv1D", "SeparableConv2D")
DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D")
SPATIAL_DROPOUT = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
ATTENTION = ("Attention", "AdditiveAttention")

ANY = object()  # a Keras 2 value that never changes the meaning: the argument is dropped whatever it is


class Translation(NamedTuple):
    """What a Keras 2 argument becomes in Keras 3: renamed to `to`, or dropped (`to` None). A dropped
    argument means the same as Keras 3 when its value is `neutral` (or always, for ANY); any other
    value is dropped with a located warning saying why."""

    to: str | None
    neutral: object
    why: str


def _each(classes, argument: str, translation: Translation) -> dict:
    return {(name, argument): translation for name in classes}


# (Keras 2 class, argument) -> its translation. Arguments Keras 3 accepts as they are need no entry.
TRANSLATIONS: dict[tuple[str, str], Translation] = {
    **_each(RNNS, "time_major", Translation(None, False, "Keras 3 RNNs take batch-major inputs only")),
    **_each(
        ("LSTM", "GRU"),
        "implementation",
        Translation(None, ANY, "a choice of kernel, not of results; Keras 3 chooses its own"),
    ),
    ("Embedding", "input_length"): Translation(
        None, ANY, "Keras 3 reads the sequence length from the input shape"
    ),
    ("LeakyReLU", "alpha"): Translation("negative_slope", ANY, "renamed in Keras 3"),
    **_each(TRANSPOSED + SEPARABLE + DEPTHWISE, "groups", Translation(None, 1, "Keras 3 has no groups here")),
    **{
        (name, argument): Translation(
            None, ANY, "Keras 2's separable convolutions use only the depthwise_ and pointwise_ ones"
        )
        for name in SEPARABLE
        for argument in ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
    },
    ("MultiHeadAttention", "softmax_robust_masking"): Translation(
        None, False, "Keras 3 has only the standard masked softmax"
    ),
    **{
        ("MultiHeadAttention", shape): Translation(None, ANY, "Keras 3 takes the shapes from the inputs")
        for shape in ("query_shape", "key_shape", "value_shape")
    },
    **_each(SPATIAL_DROPOUT, "noise_shape", Translation(None, None, "Keras 3 drops whole channels only")),
    ("BatchNormalization", "fused"): Translation(
        None, ANY, "a choice of kernel, not of results; Keras 3 chooses its own"
    ),
    ("BatchNormalization", "virtual_batch_size"): Translation(
        None, None, "Keras 3 normalizes over the whole batch"
    ),
    ("BatchNormalization", "adjustment"): Translation(None, None, "Keras 3 has no adjustment function"),
    **_each(
        ATTENTION,
        "causal",
        Translation(None, False, "Keras 3 takes use_causal_mask=True when the layer is called"),
    ),
    ("InputLayer", "ragged"): Translation(None, False, "Keras 3 has no ragged tensors"),
}


# Arguments of every Keras 2 optimizer (tf_keras.optimizers) that Keras 3 optimizers do not take.
OPTIMIZER_ARGUMENTS: dict[str, Translation] = {
    "jit_compile": Translation(None, ANY, "Keras 3 takes jit_compile in model.compile()"),
    "is_legacy_optimizer": Translation(None, False, "Keras 3 has no legacy optimizers"),
    "decay": Translation(None, 0.0, "Keras 3 optimizers take a learning-rate schedule instead"),
}


class ClassChange(NamedTuple):
    """A Keras 2 layer class that Keras 3 does not have: its Keras 3 class and renamed arguments,
    or None where none means the same; `why` says what differs."""

    to: str | None
    arguments: dict
    why: str


CLASSES: dict[str, ClassChange] = {
    "ThresholdedReLU": ClassChange(
        "ReLU", {"theta": "threshold"}, "at x == theta Keras 2 gives 0 and ReLU gives theta"
    ),
    "LocallyConnected1D": ClassChange(None, {}, "Keras 3 has no locally connected layers"),
    "LocallyConnected2D": ClassChange(None, {}, "Keras 3 has no locally connected layers"),
    "RandomHeight": ClassChange(None, {}, "Keras 3 has no RandomHeight; use RandomZoom or Resizing"),
    "RandomWidth": ClassChange(None, {}, "Keras 3 has no RandomWidth; use RandomZoom or Resizing"),
    "DenseFeatures": ClassChange(None, {}, "feature columns are TensorFlow 1 APIs that Keras 3 has not"),
}

# Layers that hold Python code or a TensorFlow operation: never read, never run.
CODE_LAYERS = {
    "Lambda": "Python code (a Lambda layer)",
    "TFOpLambda": "a TensorFlow operation (tf.* called on a Keras tensor)",
    "SlicingOpLambda": "a TensorFlow slice (x[...] on a Keras tensor)",
}
MODELS = ("Functional", "Sequential", "Model")
# TensorFlow operations on Keras tensors that Keras 2 recorded as TFOpLambda layers, and the Keras 3
# merge layers that compute them (Rescaling where one side is a number).
TF_OPERATIONS = {
    "__operators__.add": "Add",
    "math.add": "Add",
    "math.subtract": "Subtract",
    "math.multiply": "Multiply",
}
WRAPPED = ("layer", "backward_layer", "cell")  # arguments that hold a layer (Bidirectional, RNN)


class Keras2Model(NamedTuple):
    """A Keras 2 model as saved: its config ({class_name, config}), its compile settings, the
    format it came in, and where its weights are (None for an architecture file)."""

    config: dict
    training_config: dict | None
    format: str
    weights: str | None


# --- Which files are Keras 2 -------------------------------------------------------------------


def is_keras2(path: str) -> bool:
    """Whether `path` is a model saved by Keras 2 (a SavedModel directory counts, whatever wrote it)."""
    if os.path.isdir(path):
        return os.path.exists(os.path.join(path, "saved_model.pb"))
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return _version_2(json.loads(_read_member(archive, "metadata.json")).get("keras_version"))
        with open_regular(path) as handle:
            head = handle.read(8)
        if head.startswith(b"\x89HDF"):
            import h5py

            with h5py.File(path, "r") as handle:
                return "model_config" in handle.attrs and _version_2(handle.attrs.get("keras_version"))
        if path.endswith(".json"):
            document = _json(_read_bounded(path))
            return _version_2(document.get("keras_version")) or (
                "module" not in document and document.get("class_name") in MODELS
            )
    except (OSError, ValueError, KeyError):
        return False
    return False


def _version_2(version) -> bool:
    if isinstance(version, bytes):
        version = version.decode("utf-8", errors="replace")
    return isinstance(version, str) and version.startswith(("2.", "1."))


# --- Reading the config ------------------------------------------------------------------------


def read_keras2(path: str) -> Keras2Model:
    """The config, compile settings and weights' place of a Keras 2 model file or directory."""
    if os.path.isdir(path):
        return _saved_model(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            saved = _json(_read_member(archive, "config.json"))
        return Keras2Model(
            {"class_name": saved.get("class_name"), "config": saved.get("config")},
            saved.get("compile_config"),
            "Keras 2 .keras file",
            path,
        )
    if path.endswith(".json"):
        saved = _json(_read_bounded(path))
        return Keras2Model(
            {"class_name": saved.get("class_name"), "config": saved.get("config")},
            None,
            "Keras 2 JSON architecture",
            None,
        )
    import h5py

    with h5py.File(path, "r") as handle:
        found = {key: handle.attrs.get(key) for key in ("model_config", "training_config")}
    config, training = (
        _json(text.encode("utf-8") if isinstance(text, str) else text) if text is not None else None
        for text in (found["model_config"], found["training_config"])
    )
    return Keras2Model(config, training, "Keras 2 .h5 file", path)


def _saved_model(path: str) -> Keras2Model:
    metadata = os.path.join(path, METADATA)
    if not os.path.exists(metadata):
        raise LoadRefused(
            f"{path} is a SavedModel without {METADATA}: it was written by tf.saved_model.save, not by "
            "a Keras model's save(), and holds TensorFlow graphs but no Keras config to import"
        )
    root = None
    try:
        for node_path, text in saved_metadata(_read_bounded(metadata)):
            if node_path == "root":
                root = _json(text)
                break
    except (ValueError, UnicodeDecodeError) as error:
        raise LoadRefused(f"{metadata} cannot be read: {error}") from None
    if root is None or not isinstance(root.get("config"), dict) or "layers" not in root["config"]:
        kind = (root or {}).get("class_name", "an unknown class")
        raise ImportRefused(
            f"{path} holds a subclassed model ({kind}): its graph is Python code, not a config; load it "
            "with tf_keras, call it on keras.Input tensors, and save that model as .h5"
        )
    return Keras2Model(
        {"class_name": root["class_name"], "config": root["config"]},
        root.get("training_config"),
        "Keras 2 SavedModel",
        os.path.join(path, "variables", "variables"),
    )


def saved_metadata(data: bytes):
    """(node_path, metadata) of each node of a keras_metadata.pb (a SavedMetadata message).

    A protobuf reader of its own, for two messages: SavedMetadata {repeated SavedObject nodes = 1}
    and SavedObject {string node_path = 3; string metadata = 5}; other fields are skipped. It reads
    bytes only, so that the architecture of a SavedModel needs neither TensorFlow nor protobuf."""
    for number, value in _fields(data):
        if number == 1 and isinstance(value, bytes):
            fields = dict((n, v) for n, v in _fields(value) if n in (3, 5))
            yield _text(fields.get(3, b"")), _text(fields.get(5, b""))


def _fields(data: bytes):
    """(field number, value) of each field of one protobuf message: an int, or bytes when
    length-delimited. Malformed data is a ValueError, never a read past the end."""
    position, end = 0, len(data)
    while position < end:
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            if position + length > end:
                raise ValueError("keras_metadata.pb is truncated")
            value, position = data[position : position + length], position + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if position + size > end:
                raise ValueError("keras_metadata.pb is truncated")
            value, position = int.from_bytes(data[position : position + size], "little"), position + size
        else:
            raise ValueError(f"keras_metadata.pb has a field of wire type {wire}, which it never holds")
        yield number, value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if position >= len(data):
            raise ValueError("keras_metadata.pb is truncated")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
    raise ValueError("keras_metadata.pb has a number longer than 10 bytes")


def _text(value) -> str:
    if not isinstance(value, bytes):
        raise ValueError("keras_metadata.pb has a number where text belongs")
    return value.decode("utf-8")


def _read_bounded(path: str) -> bytes:
    with open_regular(path) as handle:
        data = handle.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise LoadRefused(f"{path} is larger than {MAX_METADATA_BYTES} bytes; kspec reads no larger config")
    return data


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    if archive.getinfo(name).file_size > MAX_METADATA_BYTES:
        raise LoadRefused(f"{name} is larger than {MAX_METADATA_BYTES} bytes; kspec reads no larger config")
    return archive.read(name)


def _json(data) -> dict:
    """A saved JSON object, with the tuples and shapes Keras 2 wrote as objects read as lists."""
    document = json.loads(data, object_hook=_sequence)
    if not isinstance(document, dict):
        raise ValueError("the saved config is not a JSON object")
    return document


def _sequence(value: dict):
    if value.get("class_name") in ("__tuple__", "TensorShape") and isinstance(value.get("items"), list):
        return value["items"]
    return value


# --- Translating the config --------------------------------------------------------------------


def translate(config: dict, known=None) -> tuple[dict, list[str]]:
    """A Keras 2 model config ({class_name, config}) in the form Keras 3's legacy loader reads, and a
    located warning for each argument whose meaning Keras 3 does not keep.

    Refused (ImportRefused naming the layer): a layer holding Python code, a class in CLASSES that
    has no Keras 3 equivalent, and a class that `known` (a function of a class name) does not know."""
    if not isinstance(config, dict) or config.get("class_name") not in MODELS:
        raise ImportRefused(
            f"the saved model is a {config.get('class_name') if isinstance(config, dict) else 'nothing'}, "
            "not a Functional or Sequential model: its graph is Python code, not a config"
        )
    warnings: list[str] = []
    out = _translated(config, "the model", known, warnings)
    return out, warnings


def _translated(entry: dict, where: str, known, warnings: list[str]) -> dict:
    class_name = entry.get("class_name")
    config = entry.get("config")
    if not isinstance(config, dict):
        return entry
    if class_name in MODELS:
        config = _slashless(_without_first_nodes(config), warnings)
        layers = [
            _legacy(_translated(layer, _where(layer, index), known, warnings))
            for index, layer in enumerate(config.get("layers") or [])
        ]
        return _legacy({**entry, "config": {**config, "layers": layers}})
    if class_name == "TFOpLambda" and config.get("function") in TF_OPERATIONS:
        return _operation_layer(entry, where)
    if class_name in CODE_LAYERS:
        function = config.get("function")
        detail = f" ({function})" if isinstance(function, str) else ""
        raise ImportRefused(
            f"{where} holds {CODE_LAYERS[class_name]}{detail}: a spec holds no code, and kspec never runs "
            "code from a file; rewrite it as a Keras layer in the Keras 2 model and save it again"
        )
    out = dict(config)
    change = CLASSES.get(class_name)
    if change is not None:
        if change.to is None:
            raise ImportRefused(f"{where} is a {class_name}: {change.why}")
        warnings.append(f"{where}: {class_name} became {change.to}; {change.why}")
        out = {change.arguments.get(key, key): value for key, value in out.items()}
        class_name = change.to
    elif known is not None and not known(class_name):
        module = entry.get("module") or "no module"
        raise ImportRefused(
            f"{where} is a {class_name} ({module}), which is no Keras 3 layer: import the module that "
            "registers a Keras 3 version of it with --import MODULE, or rewrite the layer"
        )
    for key in list(out):
        translation = TRANSLATIONS.get((class_name, key))
        if translation is None:
            if key in WRAPPED and isinstance(out[key], dict):
                # Keras 3 reads a wrapped layer as a Keras 3 config, which names its module
                out[key] = {
                    "module": "keras.layers",
                    **_translated(out[key], f"{where}, its {key}", known, warnings),
                }
            continue
        value = out.pop(key)
        if translation.to is not None:
            out[translation.to] = value
        elif translation.neutral is not ANY and value != translation.neutral:
            warnings.append(f"{where}: {key}={value!r} is not carried: {translation.why}")
    translated = {**entry, "class_name": class_name, "config": out}
    if "inbound_nodes" in entry:
        rnn = class_name in RNNS + ("Bidirectional",)
        unstated = _unstated(class_name)
        translated["inbound_nodes"] = [_node(node, rnn, unstated) for node in entry["inbound_nodes"] or []]
    return translated


def _unstated(class_name: str) -> dict:
    """The call arguments Keras 3 records, when a call leaves them out, with their default in the
    layer's call() (`training=False` of an RNN or a Dropout): {name: None} for each. Keras 2
    recorded only what a call passed; Keras 3 takes a None as not passed, and so does the import
    (spec_data.py writes no `training: null`)."""
    from ..catalog import catalog

    signature = catalog().layer_call(class_name)
    training = signature.params.get("training") if signature is not None else None
    return {"training": None} if training is not None and training.default is not None else {}


def _operation_layer(entry: dict, where: str) -> dict:
    """`x + y`, `x - y` or `x * y` on Keras tensors, recorded by Keras 2 as a TFOpLambda, as the Keras 3
    merge layer, or as Rescaling where y is a number (x + 3.0 is x * 1.0 + 3.0, exactly)."""
    merge = TF_OPERATIONS[entry["config"]["function"]]
    nodes = entry.get("inbound_nodes") or []
    try:
        [node] = nodes  # [x, node, tensor, kwargs], or that in a list of inputs
        [first] = [node] if isinstance(node[0], str) else node
        name, node_index, tensor_index, kwargs = first
        other = kwargs["y"]
    except (TypeError, ValueError, KeyError):
        raise ImportRefused(
            f"{where} is {entry['config']['function']} called in a way kspec cannot translate"
        )
    if set(kwargs) - {"y", "name"}:
        raise ImportRefused(f"{where} is {entry['config']['function']} with arguments {sorted(kwargs)}")
    config = {"name": entry["config"].get("name", entry.get("name"))}
    if _is_reference(other) and isinstance(other[0], str):
        node = [[name, node_index, tensor_index, {}], [*other[:3], {}]]
        return {**entry, "class_name": merge, "config": config, "inbound_nodes": [node]}
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        scale, offset = {"Add": (1.0, other), "Subtract": (1.0, -other), "Multiply": (other, 0.0)}[merge]
        config.update(scale=float(scale), offset=float(offset))
        node = [[name, node_index, tensor_index, {}]]
        return {**entry, "class_name": "Rescaling", "config": config, "inbound_nodes": [node]}
    raise ImportRefused(f"{where} is {entry['config']['function']} of a tensor and {other!r}")


def _node(node, rnn: bool, unstated: dict):
    """A Keras 2 call as Keras 3 reads it. Keras 2 recorded `rnn(x, initial_state=[h, c])` as one
    call on [x, h, c], and a tensor passed by keyword (`attention(q, value=v)`) as a [layer, node,
    tensor] triple, which Keras 3 reads only in its own form. The `unstated` arguments (_unstated)
    are passed as None where the call left them out, so that Keras 3 records no value the Keras 2
    call did not pass (`rnn(x)` is not `rnn(x, training=False)`)."""
    if not isinstance(node, list) or not node or not all(isinstance(item, list) for item in node):
        return node
    given = node[-1][3] if len(node[-1]) > 3 and isinstance(node[-1][3], dict) else {}
    kwargs = {**unstated, **given}
    tensors = {key: value for key, value in kwargs.items() if _is_reference(value)}
    if not tensors and not (rnn and len(node) > 1):
        return [*node[:-1], [*node[-1][:3], kwargs]]  # Keras 3 takes the last tensor's kwargs
    kwargs = {key: _tensor(value) if key in tensors else value for key, value in kwargs.items()}
    if rnn and len(node) > 1:
        return {
            "args": [_tensor(node[0])],
            "kwargs": {**kwargs, "initial_state": [_tensor(i) for i in node[1:]]},
        }
    first = [_tensor(item) for item in node]
    return {"args": [first[0] if len(first) == 1 else first], "kwargs": kwargs}


def _is_reference(value) -> bool:
    """A Keras 2 [layer, node, tensor] triple, or a list of them."""
    if isinstance(value, list) and len(value) in (3, 4) and isinstance(value[0], str):
        return all(isinstance(i, int) for i in value[1:3])
    return isinstance(value, list) and bool(value) and all(_is_reference(v) for v in value)


def _tensor(reference):
    if isinstance(reference[0], list):
        return [_tensor(item) for item in reference]
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": [], "dtype": "float32", "keras_history": list(reference[:3])},
    }


def _without_first_nodes(config: dict) -> dict:
    """A model config whose references to a nested model count its calls from 0, as Keras 3 does.
    Keras 2 counted from 1 for a Functional model, or a Sequential one with an Input: node 0 was
    the one its construction made, left out of the config."""
    nested = {
        entry.get("name") or entry["config"].get("name")
        for entry in config.get("layers") or []
        if entry.get("class_name") in ("Functional", "Model")
        or (
            entry.get("class_name") == "Sequential"
            and (entry["config"].get("layers") or [{}])[0].get("class_name") == "InputLayer"
        )
    }
    if not nested:
        return config

    def shift(value):
        if (
            isinstance(value, list)
            and len(value) in (3, 4)
            and value[0] in nested
            and isinstance(value[1], int)
        ):
            return [value[0], value[1] - 1, *[shift(v) for v in value[2:]]]
        if isinstance(value, list):
            return [shift(v) for v in value]
        if isinstance(value, dict):
            return {k: shift(v) for k, v in value.items()}
        return value

    layers = [
        {**entry, "inbound_nodes": shift(entry.get("inbound_nodes") or [])} for entry in config["layers"]
    ]
    return {**config, "layers": layers, "output_layers": shift(config.get("output_layers"))}


def keras3_name(name: str) -> str:
    """A Keras 2 layer name as Keras 3 and specs allow it: without `/` (DenseNet's `conv1/conv`)
    or `.` (`tf.__operators__.add`)."""
    return name.replace("/", "_").replace(".", "_")


def _slashless(config: dict, warnings: list[str]) -> dict:
    """A model config whose layer names have no `/`, which Keras 3 refuses in names."""
    renamed = {}
    for entry in config.get("layers") or []:
        name = entry.get("name") or entry["config"].get("name")
        if isinstance(name, str) and keras3_name(name) != name:
            renamed[name] = keras3_name(name)
    if not renamed:
        return config
    first = next(iter(renamed.items()))
    warnings.append(
        f"{len(renamed)} layer names hold '/' or '.', which Keras 3 or a spec refuses: written with '_' "
        f"({first[0]} is {first[1]})"
    )

    def fix(value):
        if (
            isinstance(value, list)
            and len(value) in (3, 4)
            and value[0] in renamed
            and isinstance(value[1], int)
        ):
            return [renamed[value[0]], *[fix(v) for v in value[1:]]]
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    layers = []
    for entry in config["layers"]:
        name = entry.get("name") or entry["config"].get("name")
        name = renamed.get(name, name)
        inner = {**entry["config"], "name": name}
        layers.append(
            {**entry, "name": name, "config": inner, "inbound_nodes": fix(entry.get("inbound_nodes") or [])}
        )
    return {
        **config,
        "layers": layers,
        "input_layers": fix(config.get("input_layers")),
        "output_layers": fix(config.get("output_layers")),
    }


def _legacy(entry: dict) -> dict:
    """An entry without the `module` that Keras 2.13+ writes: Keras 3 then reads it as the legacy
    config it is (a one-element `axis` list, `batch_input_shape`), not as a Keras 3 one."""
    return {k: v for k, v in entry.items() if k not in ("module", "registered_name", "build_config")}


def _where(layer: dict, index: int) -> str:
    name = layer.get("name") or (layer.get("config") or {}).get("name")
    return f"layer {index} ('{name}', {layer.get('class_name')})"


def compile_config(model: Keras2Model) -> tuple[dict, list[str]]:
    """A Keras 2 model's compile settings as Keras 3 names them, and a warning for each argument of
    the optimizer whose meaning Keras 3 does not keep. Keras 2 named its optimizers `Custom>Adam`,
    and wrote metrics as a list per output, in the outputs' order."""
    training = dict(model.training_config or {})
    warnings: list[str] = []
    where = "optimizer_config" if "optimizer_config" in training else "optimizer"  # .h5, .keras
    optimizer = training.get(where)
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict):
        arguments = {}
        for key, value in optimizer["config"].items():
            translation = OPTIMIZER_ARGUMENTS.get(key)
            if translation is None:
                arguments[key] = value
            elif translation.to is not None:
                arguments[translation.to] = value
            elif translation.neutral is not ANY and value not in (translation.neutral, None):
                warnings.append(f"the optimizer: {key}={value!r} is not carried: {translation.why}")
        class_name = str(optimizer.get("class_name", "")).removeprefix("Custom>")
        if arguments.get("name") == class_name:  # the name Keras 2 gives by itself
            del arguments["name"]
        training[where] = {**optimizer, "class_name": class_name, "config": arguments}
    outputs = _output_names(model.config)
    for setting in ("metrics", "weighted_metrics"):
        value = _metric_names(training.get(setting))
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            if len(value) == 1:
                value = value[0]
            elif len(value) == len(outputs):
                value = {name: item for name, item in zip(outputs, value) if item}
        if value is not None:
            training[setting] = value
    return training, warnings


def _metric_names(value):
    """Metrics as the user named them: Keras 2 saved `metrics=["mae"]` as a MeanMetricWrapper of the
    function mean_absolute_error, named mae."""
    if isinstance(value, list):
        return [_metric_names(v) for v in value]
    if isinstance(value, dict) and value.get("class_name") == "MeanMetricWrapper":
        config = value.get("config") or {}
        if isinstance(config.get("name"), str) and isinstance(config.get("fn"), str):
            return config["name"]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _metric_names(v) for k, v in value.items()}
    return value


def _output_names(config: dict) -> list[str]:
    """The names of a Keras 2 model's outputs, in order."""
    inner = config.get("config") or {}
    if config.get("class_name") == "Sequential":
        layers = inner.get("layers") or []
        return [keras3_name(layers[-1].get("name") or layers[-1]["config"]["name"])] if layers else []
    found = inner.get("output_layers") or []
    if found and isinstance(found[0], str):
        found = [found]
    return [keras3_name(t[0]) for t in found if isinstance(t, list)]


def keras3_model(model: Keras2Model, known=None):
    """The Keras 3 model of a Keras 2 config (weights not loaded), and the translation's warnings.

    Keras 3 reads the translated config with its own loader for legacy configs (the one that reads
    Keras 2 .h5 files), with safe_mode on, where its chained layers fit (kspec.deep)."""
    from keras.src.legacy.saving import saving_options, saving_utils
    from keras.src.saving import serialization_lib

    config, warnings = translate(model.config, known if known is not None else _known_to_keras)

    def read():  # the scopes are Keras's thread-local state: set on the thread that reads
        with saving_options.keras_option_scope(use_legacy_config=True), serialization_lib.SafeModeScope(True):
            return saving_utils.model_from_config(config)

    try:
        return deep(read, layer_count(config)), warnings
    except Exception as error:  # Keras's own refusal of a config, in one line
        text = " ".join(str(error).split())
        raise ImportRefused(
            f"Keras 3 cannot read the translated config: {type(error).__name__}: "
            f"{text if len(text) <= 400 else text[:397] + '...'}"
        ) from None


def _known_to_keras(class_name: str) -> bool:
    import keras

    from keras.src.saving import object_registration

    return (
        class_name in MODELS
        or isinstance(getattr(keras.layers, class_name, None), type)
        or any(name.rpartition(">")[2] == class_name for name in object_registration.GLOBAL_CUSTOM_OBJECTS)
    )


# --- Reading the weights -----------------------------------------------------------------------


def read_weights(model: Keras2Model, weights_file: str | None = None) -> dict[str, list]:
    """Each layer's saved weights, by layer name (the layers of nested models under their own
    names): (path, array) pairs in Keras 2's order where the format keeps one (.h5), else in the
    order of the paths (.keras) or of the checkpoint (a SavedModel)."""
    source = weights_file or model.weights
    if source is None:
        raise LoadRefused(
            f"a {model.format} holds no weights: give the .h5 file that model.save_weights() wrote "
            "with --weights FILE.h5"
        )
    return {keras3_name(name): values for name, values in _weights(model, source, weights_file).items()}


def _weights(model: Keras2Model, source: str, weights_file: str | None) -> dict[str, list]:
    if weights_file is None and model.format == "Keras 2 SavedModel":
        return _checkpoint_weights(source, model.config)
    if weights_file is None and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            data = archive.read("model.weights.h5")
        return _keras_file_weights(io.BytesIO(data), model.config)
    import h5py

    with h5py.File(source, "r") as handle:
        tracked = "layers" in handle and "layer_names" not in handle.attrs
    if tracked:  # save_weights("x.weights.h5") writes the .keras file's layout
        return _keras_file_weights(source, model.config)
    return _h5_weights(source, model.config)


def _layer_entries(config: dict) -> dict[str, dict]:
    """The entries of a model config's layers by name."""
    return {entry.get("name") or entry["config"]["name"]: entry for entry in config["config"]["layers"]}


def _h5_weights(path: str, config: dict) -> dict[str, list]:
    """The weights of a Keras 2 .h5 file (a full model's, or save_weights'), by layer name; a nested
    model's are under its layers' names, the first part of each weight's name."""
    import h5py

    entries = _layer_entries(config)
    out: dict[str, list] = {}
    with h5py.File(path, "r") as handle:
        group = handle["model_weights"] if "model_weights" in handle else handle
        for name in _names(group.attrs.get("layer_names", [])):
            layer = group[name]
            pairs = [(weight, layer[weight][()]) for weight in _names(layer.attrs.get("weight_names", []))]
            if entries.get(name, {}).get("class_name") in MODELS:
                for weight, array in pairs:
                    out.setdefault(weight.partition("/")[0], []).append((weight, array))
            else:
                out[name] = pairs
    return out


def _names(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _keras_file_weights(handle, config: dict) -> dict[str, list]:
    """The weights of a Keras 2 .keras file, kept under layers/<class in snake case, numbered>."""
    import h5py

    out: dict[str, list] = {}
    with h5py.File(handle, "r") as weights:
        _tracked_layers(weights.get("layers"), config, out)
    return out


def _tracked_layers(group, config: dict, out: dict) -> None:
    if group is None:
        return
    counts: dict[str, int] = {}
    for entry in config["config"]["layers"]:
        if config["class_name"] == "Sequential" and entry["class_name"] == "InputLayer":
            continue
        base = snake_case(entry["class_name"])
        count = counts.get(base)
        counts[base] = 0 if count is None else count + 1
        key = base if count is None else f"{base}_{count + 1}"
        if key not in group:
            continue
        if entry["class_name"] in MODELS:
            _tracked_layers(group[key].get("layers"), entry, out)
            continue
        found: list = []
        group[key].visititems(
            lambda path, item: found.append((path, item[()])) if hasattr(item, "shape") else None
        )
        if found:
            out[entry.get("name") or entry["config"]["name"]] = sorted(
                found, key=lambda pair: _order(pair[0])
            )


def _order(path: str):
    """Keras 2's order of a layer's variables: forward before backward, then by vars index."""
    parts = path.split("/")
    return [
        (0 if "forward" in p else 1 if "backward" in p else 2, int(p) if p.isdigit() else 0, p) for p in parts
    ]


def _checkpoint_weights(prefix: str, config: dict) -> dict[str, list]:
    """The weights of a SavedModel's checkpoint, by layer name: the object graph saved with it says
    which layer (`layer-N`, N in the order of the model's layers) each variable belongs to. Needs
    TensorFlow, which reads the tensors without running any graph."""
    try:
        import tensorflow as tf
        from tensorflow.core.protobuf.trackable_object_graph_pb2 import TrackableObjectGraph
    except ImportError as error:
        raise LoadRefused(
            f"the weights of a SavedModel are a TensorFlow checkpoint; reading them needs TensorFlow ({error})"
        ) from None
    reader = tf.train.load_checkpoint(prefix)
    graph = TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    out: dict[str, list] = {}
    _checkpoint_layers(graph, 0, config, reader, out)
    return out


def _checkpoint_layers(graph, node_id: int, config: dict, reader, out: dict) -> None:
    layers = config["config"]["layers"]
    if config["class_name"] == "Sequential":  # its model.layers, which `layer-N` counts, has no input
        layers = [entry for entry in layers if entry["class_name"] != "InputLayer"]
    for child in graph.nodes[node_id].children:
        found = re.fullmatch(r"layer-(\d+)", child.local_name)
        if not found or int(found.group(1)) >= len(layers):
            continue
        entry = layers[int(found.group(1))]
        if entry["class_name"] in MODELS:
            _checkpoint_layers(graph, child.node_id, entry, reader, out)
            continue
        variables: list = []
        _collect(graph, child.node_id, "", variables, reader, set())
        if variables:
            out[entry.get("name") or entry["config"]["name"]] = variables


# Attributes of a Keras 2 layer that track its variables a second time, or other layers.
SKIPPED_CHILDREN = ("variables", "trainable_variables", "non_trainable_variables", "regularization_losses")


def _collect(graph, node_id: int, path: str, found: list, reader, seen: set) -> None:
    if node_id in seen:
        return
    seen.add(node_id)
    node = graph.nodes[node_id]
    for attribute in node.attributes:
        if attribute.name == "VARIABLE_VALUE":
            found.append((path.strip("/"), reader.get_tensor(attribute.checkpoint_key)))
    for child in node.children:
        name = child.local_name
        if (
            name.startswith(("layer_with_weights", "keras_api", "_self_"))
            or name.lstrip("_") in SKIPPED_CHILDREN
        ):
            continue
        _collect(graph, child.node_id, f"{path}/{name}", found, reader, seen)


def assign_weights(model, saved: dict[str, list], ordered: bool) -> list[str]:
    """Set each layer's weights from the saved ones of the layer of the same name, and a line for
    each layer whose weights moved. In Keras 2's order (trainable then not) where `ordered`, else
    matched by shape, name and path (_matched). A layer whose weights do not fit is an ImportRefused."""
    from ..weights import layers_by_name

    moved = []
    for layer in layers_by_name(model).values():  # a nested model's (a model block's) layers too
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if not variables:
            continue
        values = saved.get(layer.name)
        if values is None:
            raise ImportRefused(
                f"layer '{layer.name}' has {len(variables)} weights, and the file none for it"
            )
        if len(values) != len(variables):
            raise ImportRefused(
                f"layer '{layer.name}' has {len(variables)} weights in Keras 3, and the file {len(values)}"
            )
        arrays = [v for _, v in values] if ordered else _matched(layer.name, variables, values)
        for variable, array in zip(variables, arrays):
            if tuple(variable.shape) != tuple(array.shape):
                raise ImportRefused(
                    f"layer '{layer.name}': {variable.path} has shape {tuple(variable.shape)} in Keras 3, "
                    f"and {tuple(array.shape)} in the file"
                )
            variable.assign(array)
        moved.append(
            f"{layer.name}: {', '.join(f'{v.path.partition(chr(47))[2] or v.name} {tuple(v.shape)}' for v in variables)}"
        )
    return moved


def _matched(layer: str, variables, values) -> list:
    """The saved array of each variable: among the saved ones of its shape, those of its name (where
    the file keeps names), then those whose path shares most words with the variable's (`query` in
    `_query_dense`, `forward` in `forward_layer`), then the first in the file's order."""
    left = list(values)
    arrays = []
    for variable in variables:
        candidates = [pair for pair in left if tuple(pair[1].shape) == tuple(variable.shape)]
        named = [pair for pair in candidates if pair[0].rpartition("/")[2] == variable.name]
        candidates = named or [pair for pair in candidates if pair[0].rpartition("/")[2].isdigit()]
        if not candidates:
            raise ImportRefused(
                f"layer '{layer}': no saved weight matches {variable.path} {tuple(variable.shape)} "
                f"(saved: {', '.join(path for path, _ in values)})"
            )
        words = set(re.split(r"[/_]", variable.path.partition("/")[2]))
        best = max(len(words & set(re.split(r"[/_]", pair[0]))) for pair in candidates)
        choice = next(pair for pair in candidates if len(words & set(re.split(r"[/_]", pair[0]))) == best)
        left.remove(choice)
        arrays.append(choice[1])
    return arrays


def translation_table() -> str:
    """The Markdown table of TRANSLATIONS, OPTIMIZER_ARGUMENTS, CLASSES and CODE_LAYERS that
    docs/keras2.md shows."""
    rows = ["| Keras 2 | Keras 3 | when the meaning changes |", "| --- | --- | --- |"]
    grouped: dict = {}
    for (class_name, argument), t in TRANSLATIONS.items():
        grouped.setdefault((argument, t), []).append(class_name)
    for (argument, t), classes in grouped.items():
        rows.append(_row(f"{', '.join(classes)}: `{argument}`", t))
    for argument, t in OPTIMIZER_ARGUMENTS.items():
        rows.append(_row(f"any optimizer: `{argument}`", t))
    for class_name, change in CLASSES.items():
        if change.to is None:
            rows.append(f"| {class_name} | none | always: refused, {change.why} |")
        else:
            renamed = "".join(f", `{a}` as `{b}`" for a, b in change.arguments.items())
            rows.append(f"| {class_name} | {change.to}{renamed} | always: warning, {change.why} |")
    for function, merge in TF_OPERATIONS.items():
        rows.append(f"| TFOpLambda `tf.{function}` | {merge}, or Rescaling with a number | never |")
    for class_name, what in CODE_LAYERS.items():
        rows.append(f"| {class_name} | none | always: refused (other than above), it holds {what} |")
    return "\n".join(rows) + "\n"


def _row(where: str, t: Translation) -> str:
    if t.to is not None:
        return f"| {where} | `{t.to}` | never ({t.why}) |"
    if t.neutral is ANY:
        return f"| {where} | dropped | never ({t.why}) |"
    return f"| {where} | dropped | a value other than `{json.dumps(t.neutral)}`: warning, {t.why} |"
