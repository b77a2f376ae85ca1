"""The ban on layers that run Python functions or load files holds by any name.

Validation refuses any `custom` path into Keras or the frameworks behind it; the
build refuses the imported class itself when it is, or derives from, a banned one.
"""

import sys
import textwrap

import pytest

import kspec
from conftest import HAS_KERAS
from kspec.catalog.calls import RUNS_CODE
from kspec.validate import validate_text

SPEC = "kspec: 1\nname: m\ninputs: {x: {shape: [2]}}\nlayers: [{name: e, type: Evil}]\noutputs: e\n"


def errors(path: str) -> list[str]:
    return [d.code for d in validate_text(SPEC + f"custom: {{Evil: '{path}'}}\n").errors]


@pytest.mark.parametrize(
    "path",
    [
        "keras.layers:TFSMLayer",
        "keras.layers:Lambda",
        "keras.src.layers.core.lambda_layer:Lambda",
        "keras.src.export.tfsm_layer:TFSMLayer",
        "keras.src.utils.jax_layer:FlaxLayer",
        "tensorflow.keras.layers:Lambda",
        "tf_keras.layers:Lambda",
        "tensorflow_hub:KerasLayer",
    ],
)
def test_validate_refuses_the_banned_layers_by_any_module_path(path):
    assert errors(path) == ["KS502"]


@pytest.mark.parametrize(
    "path",
    [
        "my_project.layers:Scale",
        "my_project.layers:Lambda",  # a class of the user's own, whatever its name
        "keras.src.applications.convnext:LayerScale",  # keras.applications' own layers import
        "kerasy.layers:Lambda",  # only the package itself, not a prefix of its name
    ],
)
def test_validate_accepts_other_classes(path):
    assert errors(path) == []


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_every_module_path_that_reaches_a_banned_class_is_refused():
    import keras  # noqa: F401  (loads every keras module that re-exports a layer)

    banned = {getattr(sys.modules["keras.layers"], name) for name in RUNS_CODE}
    paths = sorted(
        f"{module_name}:{attribute}"
        for module_name, module in list(sys.modules.items())
        if module_name.split(".")[0] == "keras" and module is not None
        for attribute, value in list(vars(module).items())
        if isinstance(value, type) and value in banned
    )
    assert len(paths) >= 2 * len(RUNS_CODE)  # each is public in keras.layers and defined in keras.src
    assert {path: errors(path) for path in paths} == {path: ["KS502"] for path in paths}
    # Keras never re-exports them under another name, so the rule by name misses none of them:
    assert {path.rpartition(":")[2] for path in paths} <= set(RUNS_CODE)


USER_MODULE = """
    import keras
    from keras.layers import Lambda as Harmless
    from keras.layers import TFSMLayer


    class Sneaky(TFSMLayer):
        pass


    @keras.saving.register_keras_serializable(package="ok")
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0
"""


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
@pytest.mark.parametrize("attribute", ["Harmless", "Sneaky"])
@pytest.mark.parametrize("style", ["sequential", "functional", "subclass"])
def test_build_refuses_a_banned_class_reexported_or_subclassed(tmp_path, monkeypatch, attribute, style):
    (tmp_path / "userlayers_ban.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = kspec.load(SPEC + f"custom: {{Evil: 'userlayers_ban:{attribute}'}}\n")
    with pytest.raises(TypeError, match="runs Python functions or loads files: refused"):
        kspec.build(spec, style)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_build_accepts_a_users_own_layer(tmp_path, monkeypatch):
    (tmp_path / "userlayers_ok.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = kspec.load(SPEC + "custom: {Evil: 'userlayers_ok:Scale'}\n")
    assert kspec.build(spec, "subclass").count_params() == 0


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
@pytest.mark.parametrize("command", [["build"], ["plan", "--verify"]])
def test_the_command_line_refuses_a_reexported_lambda_without_a_traceback(tmp_path, command):
    from conftest import run_kspec

    (tmp_path / "userlayers_cli.py").write_text("from keras.layers import Lambda as Harmless\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC + "custom: {Evil: 'userlayers_cli:Harmless'}\n")
    result = run_kspec(*command, spec)
    assert result.returncode == 1
    assert "is keras.layers.Lambda or a subclass of it" in result.stderr
    assert "Traceback" not in result.stderr
