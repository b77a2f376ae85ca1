"""`kspec migrate`: a Keras 2 model rebuilt in Keras 3 through a spec, with its weights.

The Keras 2 config becomes a spec (keras2.py translates it, convert.py writes it), kspec builds
the spec, the old file's weights are set layer by layer by name, and, where `tf_keras` is
installed, the new model's predictions on random inputs are compared with the old model's."""

from __future__ import annotations

import os
from typing import NamedTuple

from ..deep import deep
from . import keras2
from .convert import imported_model
from .graph import layer_count
from .refusals import ImportRefused, LoadRefused

# Predictions count as equal within these (float32 kernels of Keras 2 and 3 differ in rounding).
RTOL, ATOL = 1e-5, 1e-5
OPEN_SIZE = 64  # the size given to an input dimension the model leaves open (a length, a height)


class Migrated(NamedTuple):
    """A migrated model: the spec's text, the built Keras 3 model with the old weights, a line per
    layer whose weights moved, what could not be carried, and the largest difference between the
    old and new predictions (None where the old model could not be run)."""

    text: str
    model: object
    moved: list[str]
    not_carried: list[str]
    difference: float | None


def migrate(source: str, weights: str | None = None, progress=lambda line: None) -> Migrated:
    """Migrate the Keras 2 model at `source` (its weights from `weights`, a save_weights .h5 file,
    where given). ImportRefused says what stopped it."""
    from ..compiler import build
    from ..validate import validate_text

    if not keras2.is_keras2(source):
        raise LoadRefused(
            f"{source} is not a model saved by Keras 2; a Keras 3 model needs no migration: use kspec import"
        )
    saved = keras2.read_keras2(source)
    progress(f"read the {saved.format}")
    model, warnings = keras2.keras3_model(saved)
    training, optimizer_notes = keras2.compile_config(saved)
    warnings += optimizer_notes
    text, compile_notes = imported_model(model, training)
    result = validate_text(text, "<migrate>")
    errors = [d for d in result.diagnostics if d.is_error]
    if errors or result.spec is None:
        first = errors[0] if errors else None
        raise ImportRefused(
            f"the spec of the model has {len(errors)} errors"
            + (f", first: line {first.line}: {first.message}" if first else "")
        )
    progress(f"building {result.spec.name} from its spec with Keras 3")
    built = build(result.spec, "functional")
    values = keras2.read_weights(saved, weights)
    moved = keras2.assign_weights(built, values, ordered=_names_kept(saved, weights))
    not_carried = [f"translation: {w}" for w in warnings]
    not_carried += [f"compile setting: {note}" for note in compile_notes]
    if saved.training_config:
        not_carried.append("optimizer state: Keras 3 optimizers start afresh (their slots are not carried)")
    progress("comparing predictions with the Keras 2 model")
    difference = _difference(source, weights, saved, built, not_carried)
    return Migrated(text, built, moved, not_carried, difference)


def _names_kept(saved: keras2.Keras2Model, weights: str | None) -> bool:
    """Whether the weights come in Keras 2's order (a legacy .h5 file), else matched by path."""
    import h5py

    path = weights or saved.weights
    if path is None or os.path.isdir(path) or saved.format == "Keras 2 SavedModel" or not h5py.is_hdf5(path):
        return False
    with h5py.File(path, "r") as handle:
        return "layer_names" in handle.attrs or "model_weights" in handle


def _difference(source, weights, saved, built, not_carried) -> float | None:
    """The largest difference between the old model's and the new one's predictions on the same
    random inputs; None (and a note) where tf_keras is not installed."""
    import numpy as np

    try:
        old = deep(lambda: _old_model(source, weights, saved), layer_count(saved.config))
    except ImportError:
        not_carried.append("check: tf_keras is not installed, so predictions were not compared")
        return None
    rng = np.random.default_rng(0)
    inputs = []
    for tensor in built.inputs:
        values = rng.random([2] + [OPEN_SIZE if d is None else d for d in tensor.shape[1:]])
        # a boolean input (a mask) half False, so that what it masks is compared too
        inputs.append(values < 0.5 if tensor.dtype == "bool" else values.astype("float32"))
    feed = inputs[0] if len(inputs) == 1 else inputs
    expected = old.predict(feed, verbose=0)
    found = built.predict(feed, verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    found = found if isinstance(found, (list, tuple)) else [found]
    if isinstance(found, dict) or len(found) != len(expected):
        raise ImportRefused(f"the new model has {len(found)} outputs and the old one {len(expected)}")
    worst = 0.0
    for old_out, new_out in zip(expected, found):
        new_out = np.asarray(new_out)
        if old_out.shape != new_out.shape:
            raise ImportRefused(
                f"an output has shape {new_out.shape} in Keras 3 and {old_out.shape} in Keras 2"
            )
        worst = max(worst, float(np.max(np.abs(old_out - new_out), initial=0.0)))
        if not np.allclose(old_out, new_out, rtol=RTOL, atol=ATOL):
            raise ImportRefused(
                f"the Keras 3 model's predictions differ from the Keras 2 model's by up to {worst:.3g}"
            )
    return worst


def _old_model(source: str, weights: str | None, saved: keras2.Keras2Model):
    """The Keras 2 model, loaded by tf_keras. Only after translate() has found no layer holding
    code in its config, and with tf_keras's safe_mode where the format has one."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras

    if saved.format == "Keras 2 JSON architecture":
        import json

        old = tf_keras.models.model_from_json(json.dumps(saved.config))
    elif saved.format == "Keras 2 .keras file":
        old = tf_keras.models.load_model(source, compile=False, safe_mode=True)
    else:
        old = tf_keras.models.load_model(source, compile=False)
    if weights is not None:
        old.load_weights(weights)
    return old
