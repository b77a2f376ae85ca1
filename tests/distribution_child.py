"""Run by tests/test_distribution.py in a fresh interpreter with KERAS_BACKEND=jax and 8 virtual
CPU devices: builds a spec's model laid out by its `distribution` section and prints, as JSON,
what the engine actually placed, the losses of a few training steps beside a single-device run,
and what `.keras` save/load keeps.

usage: python distribution_child.py SPEC WORKDIR
"""

import json
import os
import sys

assert os.environ.get("KERAS_BACKEND") == "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import kspec  # noqa: E402
from kspec.compiler import generate, load_module  # noqa: E402


def placed(variables) -> dict:
    """path -> (shard shape on the first device, bytes that device holds) for array variables."""
    first = jax.devices()[0]
    out = {}
    for v in variables:
        if not v.shape:
            continue  # the optimizer's iteration and learning rate
        shards = [s for s in v.value.addressable_shards if s.device == first]
        out[v.path] = ([list(s.data.shape) for s in shards][0], sum(s.data.nbytes for s in shards))
    return out


def main(spec_path: str, workdir: str) -> None:
    spec = kspec.load(spec_path)
    rng = np.random.default_rng(0)
    [spec_input] = spec.inputs.values()
    x = rng.integers(0, 1000, size=(8, *spec_input.shape)).astype("int32")
    y = rng.integers(0, 4, size=(8,))
    report = {"devices": len(jax.devices()), "styles": {}}
    for style in ("functional", "subclass"):
        model = kspec.build(spec, style)
        model.train_on_batch(x[:8], y[:8])  # creates the optimizer's slots
        report["styles"][style] = {
            "weights": placed(model.weights),
            "slots": placed(model.optimizer.variables),
        }

    # The same steps on the same data and weights, sharded and on one device.
    module = load_module(generate(spec, "functional"), "distribution_child_sharded")
    sharded = module.compile_model(module.build_model())
    start = [np.asarray(w) for w in sharded.get_weights()]
    plain_spec = kspec.load(spec_path)
    plain_spec.distribution = None
    plain = load_module(generate(plain_spec, "functional"), "distribution_child_plain")
    single = plain.compile_model(plain.build_model())
    single.set_weights(start)
    losses = {"sharded": [], "single": []}
    for step in range(3):
        losses["sharded"].append(float(sharded.train_on_batch(x, y)))
        losses["single"].append(float(single.train_on_batch(x, y)))
    report["losses"] = losses
    report["single_device_count"] = len(single.weights[0].value.devices())

    # .keras: what a reload keeps of the layout.
    path = os.path.join(workdir, "model.keras")
    sharded.save(path)
    expected = sharded.predict(x, verbose=0)
    loaded = keras.saving.load_model(path)
    report["load_plain"] = {
        "devices": len(loaded.weights[0].value.devices()),
        "same_predictions": bool(np.allclose(loaded.predict(x, verbose=0), expected, atol=1e-5)),
    }
    with module.distribution().scope():
        again = keras.saving.load_model(path)
    report["load_in_scope"] = {
        "weights": placed(again.weights),
        "same_predictions": bool(np.allclose(again.predict(x, verbose=0), expected, atol=1e-5)),
    }
    mesh = keras.distribution.DeviceMesh((4, 2), ["batch", "model"], keras.distribution.list_devices())
    layout = keras.distribution.LayoutMap(mesh)
    for key in module.distribution()._layout_map._layout_map:
        layout[key] = module.distribution()._layout_map[key].axes
    other = keras.distribution.ModelParallel(layout_map=layout, batch_dim_name="batch")
    with other.scope():
        moved = keras.saving.load_model(path)
    report["load_other_mesh"] = {
        "weights": placed(moved.weights),
        "same_predictions": bool(np.allclose(moved.predict(x, verbose=0), expected, atol=1e-5)),
    }
    # model.export of a sharded model (jax2tf, needs TensorFlow): which step fails, if any.
    report["export"] = {"exported": False, "served": False}
    folder = os.path.join(workdir, "exported")
    try:
        sharded.export(folder, verbose=False)
        report["export"]["exported"] = True
        import tensorflow as tf

        reloaded = tf.saved_model.load(folder)  # kept in a variable: serve needs it alive
        served = reloaded.serve(x)
        report["export"]["served"] = bool(np.allclose(served, expected, atol=1e-5))
    except Exception as error:  # noqa: BLE001 - what is measured is whether it fails, and how
        report["export"]["error"] = f"{type(error).__name__}: {error}"[:300]
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
