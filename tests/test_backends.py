"""One spec, three backends: the model kspec builds on JAX or torch is the one it builds here.

The test process runs Keras on its backend (TensorFlow in CI); a fresh process for each other
installed backend (KERAS_BACKEND=jax, torch, tensorflow) builds the same specs in the functional
and subclass styles, loads the weights saved here, and compares its predictions and parameter
counts with this process's; it also loads the `.keras` files saved here and imports them back
into specs. Each other backend is skipped where it is not installed.
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
from kspec.environment import BACKENDS, keras_backend

HERE = keras_backend()
OTHERS = [b for b in BACKENDS if b != HERE]

pytestmark = [
    pytest.mark.keras,
    pytest.mark.slow,  # one process per backend building six specs twice: about a minute each
    pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed"),
]


def installed(backend: str):
    """The backend as a pytest parameter, skipped where its package is not installed."""
    found = importlib.util.find_spec(backend) is not None
    why = f"{backend} is not installed: pip install '.[{backend}]'"
    return pytest.param(backend, marks=pytest.mark.skipif(not found, reason=why))


SPECS = ["mlp", "tiny_resnet", "seq2seq_lstm", "transformer_encoder", "causal_lm", "siamese_tower"]
TOLERANCE = dict(rtol=1e-4, atol=1e-5)  # float32 kernels of XLA, torch and TensorFlow differ in rounding

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
def saved_here(tmp_path_factory):
    """The files saved by this process, and what it predicts: (folder, expected)."""
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
    return folder, expected


@pytest.fixture(scope="module", params=[installed(b) for b in OTHERS])
def elsewhere(request, saved_here):
    """What the process on another backend found, and what this process expects of it."""
    folder, expected = saved_here
    env = {**os.environ, "KERAS_BACKEND": request.param, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), ",".join(SPECS), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return request.param, json.loads(done.stdout.strip().splitlines()[-1]), expected


def test_the_other_process_ran_on_its_backend(elsewhere):
    backend, found, _ = elsewhere
    assert found["backend"] == backend != HERE


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("how", ["functional", "subclass", ".keras", "imported"])
def test_a_spec_predicts_the_same_on_every_backend(elsewhere, name, how):
    """Same parameter count and, with the weights saved here, the same predictions on the other
    backend: built from the spec in each style, loaded from a .keras file, and imported back."""
    _, found, expected = elsewhere
    params, outputs = expected[f"{name} {how}"]
    got = found[f"{name} {how}"]
    assert got["params"] == params
    assert len(got["outputs"]) == len(outputs)
    for mine, theirs in zip(got["outputs"], outputs):
        np.testing.assert_allclose(np.asarray(mine, dtype=theirs.dtype), theirs, **TOLERANCE)


@pytest.mark.parametrize("backend", [installed(b) for b in OTHERS])
def test_every_claim_of_a_plan_holds_on_another_backend(backend, tmp_path):
    """`kspec plan --backend B --verify`: the plan is for B, measured there, and its save and
    load paths run (here and in the fresh processes) and keep what it says on B."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-m", "kspec", "plan", "specs/mlp.yaml", "--style", "subclass", "--backend", backend]
        + ["--verify", "--format", "json", "-o", str(tmp_path / "plan.json")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"on {backend}" in done.stderr and " 0 false" in done.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["backend"] == backend and plan["facts_measured_on"]["backend"] == backend
    assert all(claim["ok"] for claim in plan["verified"])
