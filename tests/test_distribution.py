"""The `distribution` section: the static sharding plan, the generated code, and the plan
checked against what JAX actually places on 8 virtual CPU devices (in a child process, since
this session imports Keras with the TensorFlow backend)."""

import importlib.util
import json
import os
import subprocess
import sys
from math import prod

import pytest

import kspec
from conftest import ROOT, run_kspec
from kspec.sharding import optimizer_slots, plan, spec_weights

SHARDED = ROOT / "specs" / "transformer_sharded.yaml"
HAS_JAX = importlib.util.find_spec("jax") is not None


def test_plan_shards_each_weight_as_the_layout_says():
    spec = kspec.load(SHARDED)
    found = {p.weight.paths["functional"]: p for p in plan(spec).placed}
    # Worked out by hand from the spec: model axis of size 4, 64 features, 4 heads of 16.
    assert found["token_emb/embeddings"].shard == (256, 64)
    assert found["encoder_1_attn/query/kernel"].shard == (64, 1, 16)
    assert found["encoder_2_attn/attention_output/kernel"].shard == (1, 16, 64)
    assert found["encoder_1_ff_in/kernel"].shard == (64, 32)
    assert found["encoder_1_ff_out/kernel"].shard == (32, 64)
    assert found["encoder_1_ff_in/bias"].layout == (None,) and found["encoder_1_ff_in/bias"].shard == (128,)
    assert found["probs/kernel"].rule is None and found["probs/kernel"].shard == (64, 4)


def test_plan_bytes_add_up_and_weights_match_the_parameter_count():
    spec = kspec.load(SHARDED)
    found = plan(spec)
    assert (
        sum(w.size for w in spec_weights(spec))
        == kspec.validate.validate_file(str(SHARDED)).shapes.total_params
    )
    per_block = 3 * 64 * 16 + 3 * 4 * 16 + 16 * 64 + 64 + 4 * 64 + 64 * 32 + 128 + 32 * 64 + 64
    assert found.weight_bytes == 4 * (256 * 64 + 2 * per_block + 64 * 4 + 4)
    assert found.slot_bytes == 2 * found.weight_bytes  # Adam: two slots, every weight trainable
    assert found.total_bytes == 3 * found.weight_bytes


@pytest.mark.parametrize(
    "optimizer, slots",
    [
        ("adam", 2),
        ({"type": "Adam", "amsgrad": True}, 3),
        ("sgd", 0),
        ({"type": "SGD", "momentum": 0.9}, 1),
        ({"type": "RMSprop", "momentum": 0.9, "centered": True}, 3),
        ("adagrad", 1),
        ({"type": "Lion"}, 1),
        ("adafactor", None),
    ],
)
def test_optimizer_slots(optimizer, slots):
    assert optimizer_slots({"optimizer": optimizer})[1] == slots


def test_weight_paths_follow_keras_in_each_style():
    spec = kspec.load(SHARDED)
    weight = next(w for w in spec_weights(spec) if w.paths["functional"] == "encoder_2_ff_in/kernel")
    assert weight.paths == {
        "functional": "encoder_2_ff_in/kernel",
        "sequential": "transformer_sharded/encoder_2_ff_in/kernel",
        "subclass": "transformer_sharded/encoder_2/encoder_2_ff_in/kernel",
    }


def test_kspec_shard_prints_the_plan_in_text_and_json():
    text = run_kspec("shard", SHARDED)
    assert text.returncode == 0, text.stderr
    assert "model_parallel on 8 devices (mesh {batch: 2, model: 4})" in text.stdout
    assert "token_emb/embeddings" in text.stdout and "(256, 64)" in text.stdout
    data = json.loads(run_kspec("shard", SHARDED, "--format", "json", "--style", "subclass").stdout)
    assert (
        data["devices"] == 8 and data["per_device_bytes"]["weights"] == plan(kspec.load(SHARDED)).weight_bytes
    )
    assert data["weights"][0]["path"] == "transformer_sharded/token_emb/embeddings"


def test_data_parallel_replicates_every_weight(write_spec):
    path = write_spec(
        "kspec: 1\nname: m\ninputs: {x: {shape: [6]}}\nlayers:\n  - {name: d, type: Dense, units: 4}\n"
        "outputs: d\ncompile: {optimizer: adam, loss: mse}\ndistribution: {data_parallel: {devices: 4}}\n"
    )
    found = plan(kspec.load(path))
    assert found.devices == 4 and found.weight_bytes == 4 * (6 * 4 + 4)
    assert all(p.shard == p.weight.shape for p in found.placed)


def test_generated_module_lays_out_the_model_and_builds_under_its_scope():
    source = kspec.generate(SHARDED, "functional")
    assert "import functools\n\nimport keras\n" in source
    assert "@functools.cache\ndef distribution() -> keras.distribution.ModelParallel:" in source
    assert 'layout_map[".*token_emb/embeddings"] = ("model", None)' in source
    assert 'shape=(2, 4), axis_names=["batch", "model"], devices=devices[:8]' in source
    assert (
        'return keras.distribution.ModelParallel(\n        layout_map=layout_map, batch_dim_name="batch"\n    )'
        in source
    )
    build = source[source.index("def build_model") :]
    assert build.splitlines()[2] == "    with distribution().scope():"
    compile_ = source[source.index("def compile_model") :]
    assert compile_.splitlines()[2] == "    with distribution().scope():"


def test_data_parallel_module_picks_the_engine_strategy(write_spec):
    path = write_spec(
        "kspec: 1\nname: m\ninputs: {x: {shape: [6]}}\nlayers:\n  - {name: d, type: Dense, units: 4}\n"
        "outputs: d\ndistribution: {data_parallel: {}}\n"
    )
    source = kspec.generate(path, "sequential")
    assert "return tf.distribute.MultiWorkerMirroredStrategy()" in source
    assert "return tf.distribute.MirroredStrategy()" in source
    assert source.rstrip().endswith("return model") and "return keras.distribution.DataParallel()" in source


@pytest.mark.keras
def test_data_parallel_builds_under_a_mirrored_strategy_on_tensorflow(write_spec):
    """In this process Keras runs on TensorFlow: the strategy is tf.distribute's."""
    import tensorflow as tf

    path = write_spec(
        "kspec: 1\nname: m\ninputs: {x: {shape: [6]}}\nlayers:\n  - {name: d, type: Dense, units: 4}\n"
        "outputs: d\ncompile: {optimizer: adam, loss: mse}\ndistribution: {data_parallel: {}}\n"
    )
    import numpy as np

    model = kspec.build(kspec.load(path), "functional")
    model.fit(np.zeros((4, 6)), np.zeros((4, 4)), verbose=0)  # compiled under the same strategy
    assert isinstance(model.distribute_strategy, tf.distribute.MirroredStrategy)
    assert isinstance(model.weights[0].value, tf.distribute.DistributedValues)
    assert all(isinstance(v.value, tf.distribute.DistributedValues) for v in model.optimizer.variables)


# On JAX, with 8 virtual CPU devices --------------------------------------------------------


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    if not HAS_JAX:
        pytest.skip("JAX is not installed (pip install '.[jax]')")
    folder = tmp_path_factory.mktemp("distribution")
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "distribution_child.py"), str(SHARDED), str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _planned(style):
    found = plan(kspec.load(SHARDED), style)
    return {p.weight.paths[style]: p for p in found.placed}, found


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.slow
def test_every_weight_is_sharded_as_planned(placed, style):
    assert placed["devices"] == 8
    planned, _ = _planned(style)
    actual = placed["styles"][style]["weights"]
    assert set(actual) == set(planned)
    assert {path: tuple(shape) for path, (shape, _) in actual.items()} == {
        path: p.shard for path, p in planned.items()
    }


@pytest.mark.parametrize("style", ["functional", "subclass"])
@pytest.mark.keras
@pytest.mark.slow
def test_planned_bytes_per_device_are_what_jax_allocates(placed, style):
    _, found = _planned(style)
    actual = placed["styles"][style]
    assert sum(nbytes for _, nbytes in actual["weights"].values()) == found.weight_bytes
    assert sum(nbytes for _, nbytes in actual["slots"].values()) == found.slot_bytes


@pytest.mark.keras
@pytest.mark.slow
def test_sharded_training_matches_a_single_device(placed):
    """Same weights, same batches, three Adam steps: losses agree to 1e-5 (relative)."""
    assert placed["single_device_count"] == 1
    sharded, single = placed["losses"]["sharded"], placed["losses"]["single"]
    assert sharded == pytest.approx(single, rel=1e-5)
    assert sharded[-1] < sharded[0]


@pytest.mark.keras
@pytest.mark.slow
def test_keras_file_keeps_values_and_takes_the_layout_of_the_scope_it_loads_in(placed):
    assert placed["load_plain"] == {"devices": 1, "same_predictions": True}
    planned, _ = _planned("functional")
    in_scope = placed["load_in_scope"]
    assert in_scope["same_predictions"]
    assert {p: tuple(s) for p, (s, _) in in_scope["weights"].items()} == {
        p: w.shard for p, w in planned.items()
    }
    other = placed["load_other_mesh"]
    assert other["same_predictions"]
    assert tuple(other["weights"]["token_emb/embeddings"][0]) == (512, 64)  # model axis of 2
    assert prod(other["weights"]["encoder_1_ff_in/kernel"][0]) == 64 * 64


# Two worker processes on loopback -------------------------------------------------------------


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


DATA_PARALLEL = (
    "kspec: 1\nname: m\ninputs: {x: {shape: [6]}}\nlayers:\n  - {name: d, type: Dense, units: 4}\n"
    "outputs: d\ncompile: {optimizer: {type: SGD, learning_rate: 0.1}, loss: mse}\n"
    "distribution: {data_parallel: {}}\n"
)


def _two_processes(script: str, arguments, extra_env) -> list:
    """Run a child script in two processes at once (each given its own env), within 5 minutes;
    return their last printed lines parsed as JSON, or the stderr of the first that failed."""
    processes = []
    for index in range(2):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            **extra_env(index),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / script), *arguments(index)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=300)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


@pytest.mark.keras
@pytest.mark.slow
def test_data_parallel_trains_across_two_jax_processes(write_spec):
    """keras.distribution.initialize on 127.0.0.1, one CPU device per process: the generated
    DataParallel spans both, and both end with the same losses and weights."""
    if not HAS_JAX:
        pytest.skip("JAX is not installed (pip install '.[jax]')")
    path = write_spec(DATA_PARALLEL)
    address = f"127.0.0.1:{_free_ports(1)[0]}"
    results = _two_processes(
        "jax_multiprocess_child.py",
        lambda index: [str(path), address, str(index)],
        lambda index: {"KERAS_BACKEND": "jax", "XLA_FLAGS": ""},
    )
    for code, _, err in results:
        assert code == 0, err[-4000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for _, out, _ in results]
    assert [(r["devices"], r["local"]) for r in reports] == [(2, 1), (2, 1)]
    assert reports[0]["losses"] == reports[1]["losses"]
    assert reports[0]["weights"] == reports[1]["weights"]
    assert reports[0]["losses"][-1] < reports[0]["losses"][0]


@pytest.mark.keras
@pytest.mark.slow
def test_multi_worker_mirrored_fit_fails_as_keras_20585_says(write_spec):
    """TF_CONFIG on 127.0.0.1 makes distribution() a MultiWorkerMirroredStrategy, but Keras 3.15.1's
    fit fails under it (keras-team/keras#20585, open). When this test fails, Keras fixed it:
    update docs/distribution.md and make this test check the training instead."""
    path = write_spec(DATA_PARALLEL)
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    results = _two_processes(
        "multiworker_child.py",
        lambda index: [str(path)],
        lambda index: {
            "KERAS_BACKEND": "tensorflow",
            "TF_CONFIG": json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            ),
        },
    )
    for code, _, err in results:
        assert code != 0
        assert "multi-worker strategy: True, 2 replicas" in err  # the strategy distribution() chose
        assert "Attempt to convert a value (PerReplica" in err


@pytest.mark.keras
@pytest.mark.slow
def test_export_of_a_sharded_model(placed):
    """model.export of a ModelParallel model on JAX writes a SavedModel that serves the same
    predictions (measured; kspec/plans/known.py DISTRIBUTION says so)."""
    assert placed["export"] == {"exported": True, "served": True}


def test_plans_of_a_distributed_spec_say_what_each_path_keeps_of_the_layout():
    from kspec.plans.builder import plan as save_plan

    distributed = save_plan(kspec.load(SHARDED), "functional")
    keras_file = " ".join(distributed.path("keras_file").caveats)
    assert "does not record the layout" in keras_file and "another mesh works too" in keras_file
    assert "keras-team/keras#20585" in keras_file
    assert "model.export works on a distributed model" in " ".join(distributed.path("saved_model").caveats)
    plain = save_plan(kspec.load(ROOT / "specs" / "mlp.yaml"), "functional")
    assert not any("distributed" in c for p in plain.paths for c in p.caveats)
