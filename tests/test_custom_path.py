"""Where `custom` layer modules come from, and what `plan --verify`'s child processes import.

A custom module is found beside the spec, or in a `--path` folder, whatever the working
directory; the working directory itself is never searched; and the fresh processes that
`plan --verify` starts import nothing from the directory they are started in.
"""

import os
import subprocess
import sys

import pytest
from conftest import HAS_KERAS, ROOT

import kspec

LAYER = '''"""A custom layer: the Euclidean distance of two vectors."""

import keras


@keras.saving.register_keras_serializable(package="{module}")
class EuclideanDistance(keras.layers.Layer):
    def call(self, inputs):
        a, b = inputs
        return keras.ops.sqrt(keras.ops.sum(keras.ops.square(a - b), axis=-1, keepdims=True) + 1e-9)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], 1)
'''

SPEC = """kspec: 1
name: {name}
inputs:
  left: {{shape: [4]}}
  right: {{shape: [4]}}
custom:
  EuclideanDistance: '{module}:EuclideanDistance'
layers:
  - {{name: embed_left, type: Dense, units: 3, inputs: left}}
  - {{name: embed_right, type: Dense, units: 3, inputs: right}}
  - {{name: distance, type: EuclideanDistance, inputs: [embed_left, embed_right]}}
  - {{name: score, type: Dense, units: 1, activation: sigmoid}}
outputs: score
compile:
  optimizer: adam
  loss: binary_crossentropy
"""

# Imported from the working directory, each of these leaves a marker file next to itself.
HOSTILE = "open(__file__ + '.imported', 'w').close()\n"


def _project(folder, module, name="pair", layer_folder=None):
    """A spec in `folder` whose custom layer lives in module.py, in `layer_folder` (the spec's
    folder unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    (layer_folder or folder).mkdir(parents=True, exist_ok=True)
    (layer_folder or folder).joinpath(f"{module}.py").write_text(LAYER.format(module=module))
    spec = folder / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, module=module))
    return spec


def _hostile(folder, *modules):
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        (folder / f"{module}.py").write_text(HOSTILE)
    return folder


def _markers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".imported"))


def _kspec(*args, cwd):
    """The command line as its console script runs it: `-P` keeps the working directory off
    sys.path, as for an installed `kspec` (`python -m` would put it there)."""
    # No empty entry: an empty PYTHONPATH entry is the working directory.
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [sys.executable, "-P", "-m", "kspec", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_search_path_is_the_spec_folder_then_path_never_the_working_directory(tmp_path, monkeypatch):
    from kspec.searchpath import search_path

    spec = kspec.load(_project(tmp_path / "project", "layers_a"))
    monkeypatch.chdir(tmp_path)
    assert search_path(spec) == [str(tmp_path / "project")]
    assert search_path(spec, ["lib", tmp_path / "project"]) == [
        str(tmp_path / "project"),
        str(tmp_path / "lib"),
    ]
    assert search_path(kspec.load(SPEC.format(name="text", module="m"))) == []


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_build_finds_a_custom_module_beside_the_spec_from_another_directory(tmp_path):
    spec = _project(tmp_path / "project", "evallayers")
    elsewhere = _hostile(tmp_path / "elsewhere")
    built = _kspec("build", spec, cwd=elsewhere)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "(EuclideanDistance)" in built.stdout and "Total params: 32" in built.stdout


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_build_path_option_and_the_working_directory_is_not_searched(tmp_path):
    spec = _project(tmp_path / "project", "distlayers", layer_folder=tmp_path / "lib")
    # the same module in the working directory, which must not be imported
    cwd = _hostile(tmp_path / "cwd", "distlayers")
    refused = _kspec("build", spec, cwd=cwd)
    assert refused.returncode == 2
    assert "cannot import a custom layer: custom type " in refused.stderr
    assert "No module named 'distlayers'" in refused.stderr and "--path DIR" in refused.stderr
    built = _kspec("build", spec, "--path", tmp_path / "lib", cwd=cwd)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "(EuclideanDistance)" in built.stdout and "Total params: 32" in built.stdout
    assert _markers(cwd) == []


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_python_build_finds_a_custom_module_beside_the_spec(tmp_path, monkeypatch):
    spec = _project(tmp_path / "project", "apilayers", name="api_pair")
    monkeypatch.chdir(_hostile(tmp_path / "elsewhere"))
    try:
        model = kspec.build(str(spec), "subclass")
        assert type(model.get_layer("distance")).__module__ == "apilayers"
        assert str(tmp_path) not in " ".join(sys.path)  # the folder was only on it while importing
    finally:
        sys.modules.pop("apilayers", None)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_verify_child_imports_nothing_from_its_working_directory(tmp_path):
    """Started the way verify starts it, in a directory holding json.py, numpy.py and keras.py:
    the child runs (it reports on an empty folder) and none of them is imported."""
    from kspec.plans.verify import child_command

    cwd = _hostile(tmp_path / "cwd", "json", "numpy", "keras", "pickle")
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(
        child_command("--without-classes", str(empty)), capture_output=True, text=True, cwd=cwd, check=False
    )
    assert _markers(cwd) == [], done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert (empty / "bare.json").exists()


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_plan_verify_finds_custom_modules_and_runs_no_code_from_the_working_directory(tmp_path):
    """`kspec plan --verify --path LIB` from a directory holding json.py, numpy.py and a decoy of
    the custom module: every claim holds (the children import the layer from LIB) and nothing
    in the working directory is imported, by the command or by the processes it starts."""
    spec = _project(tmp_path / "project", "verifylayers", layer_folder=tmp_path / "lib")
    cwd = _hostile(tmp_path / "cwd", "json", "numpy", "pickle", "verifylayers")
    done = _kspec("plan", spec, "--style", "subclass", "--verify", "--path", tmp_path / "lib", cwd=cwd)
    assert _markers(cwd) == [], done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "claims hold, 0 false" in done.stderr
