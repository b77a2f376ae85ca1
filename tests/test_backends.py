"""One spec, three backends: the model kspec builds on JAX is the one it builds on TensorFlow.

The test process runs Keras on TensorFlow; a fresh process with KERAS_BACKEND=jax builds
the same specs in the functional and subclass styles, loads the weights saved here, and
compares its predictions and parameter counts with this process's; it also loads the
`.keras` files saved here and imports them back into specs.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, ROOT
from helpers_keras import predictions, sample_inputs

pytestmark = [
    pytest.mark.keras,
    pytest.mark.slow,  # one JAX process building six specs twice: about a minute
    pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("jax") is None, reason="JAX is not installed: pip install '.[jax]'"
    ),
]

SPECS = ["mlp", "tiny_resnet", "seq2seq_lstm", "transformer_encoder", "causal_lm", "siamese_tower"]
TOLERANCE = dict(rtol=1e-4, atol=1e-5)  # float32 kernels of XLA and TensorFlow differ in rounding

CHILD = r"""
import json, sys
import numpy as np
import keras
import kspec
from kspec.samples import output_arrays

folder, names = sys.argv[1], sys.argv[2].split(",")
report = {"backend": keras.backend.backend()}
for name in names:
    spec = kspec.load(f"{sys.argv[3]}/specs/{name}.yaml")
    data = np.load(f"{folder}/{name}.npz")
    inputs = [data[k] for k in sorted(k for k in data.files if k.startswith("x"))]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    for style in ("functional", "subclass"):
        model = kspec.build(spec, style, compile=False)
        model.load_weights(f"{folder}/{name}_{style}.weights.h5")
        report[f"{name} {style}"] = {
            "params": int(model.count_params()),
            "outputs": [o.tolist() for o in output_arrays(model, inputs)],
        }
    loaded = keras.saving.load_model(f"{folder}/{name}.keras", compile=False)
    report[f"{name} .keras"] = {"params": int(loaded.count_params()),
                                "outputs": [o.tolist() for o in output_arrays(loaded, inputs)]}
    imported = kspec.from_keras(loaded)
    rebuilt = kspec.build(imported, "functional", compile=False)
    kspec.transfer_weights(loaded, rebuilt)
    report[f"{name} imported"] = {"params": int(rebuilt.count_params()),
                                  "outputs": [o.tolist() for o in output_arrays(rebuilt, inputs)]}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def on_jax(tmp_path_factory):
    """What the JAX process found, and what this (TensorFlow) process expects of it."""
    folder = tmp_path_factory.mktemp("backends")
    expected = {}
    for name in SPECS:
        spec = kspec.load(ROOT / "specs" / f"{name}.yaml")
        inputs = sample_inputs(spec)
        arrays = inputs if isinstance(inputs, list) else [inputs]
        np.savez(folder / f"{name}.npz", **{f"x{i}": a for i, a in enumerate(arrays)})
        for style in ("functional", "subclass"):
            model = kspec.build(spec, style, compile=False)
            model.save_weights(folder / f"{name}_{style}.weights.h5")
            expected[f"{name} {style}"] = (model.count_params(), predictions(model, inputs))
            if style == "functional":
                model.save(folder / f"{name}.keras")
                expected[f"{name} .keras"] = expected[f"{name} imported"] = expected[f"{name} {style}"]
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), ",".join(SPECS), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), expected


def test_the_other_process_ran_on_jax(on_jax):
    found, _ = on_jax
    assert found["backend"] == "jax"


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("how", ["functional", "subclass", ".keras", "imported"])
def test_a_spec_predicts_the_same_on_jax_as_on_tensorflow(on_jax, name, how):
    """Same parameter count and, with the weights saved on TensorFlow, the same predictions:
    built from the spec in each style, loaded from a .keras file, and imported back."""
    found, expected = on_jax
    params, outputs = expected[f"{name} {how}"]
    got = found[f"{name} {how}"]
    assert got["params"] == params
    assert len(got["outputs"]) == len(outputs)
    for mine, theirs in zip(got["outputs"], outputs):
        np.testing.assert_allclose(np.asarray(mine, dtype=theirs.dtype), theirs, **TOLERANCE)


def test_every_claim_of_a_plan_holds_on_jax(tmp_path):
    """`kspec plan --backend jax --verify`: the plan is for JAX, and its save and load paths
    run (here and in the fresh processes) and keep what it says on JAX."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-m", "kspec", "plan", "specs/mlp.yaml", "--style", "subclass", "--backend", "jax"]
        + ["--verify", "--format", "json", "-o", str(tmp_path / "plan.json")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on jax" in done.stderr and " 0 false" in done.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["backend"] == "jax" and plan["facts_measured_on"]["backend"] == "jax"
    assert all(claim["ok"] for claim in plan["verified"])
