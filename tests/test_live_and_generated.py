"""Live models and generated modules come from one interpreter of spec values.

`kspec.build` runs the module `kspec.generate` writes, so the two cannot drift: these
tests build every example and fixture spec both ways in every allowed style, and check
what the spec says of its inputs (sparse, ragged, optional) reaches the model.
"""

import pytest

import kspec
from conftest import HAS_KERAS, ROOT, SPECS
from helpers_keras import comparable_config
from kspec.backends.styles import allowed_styles
from kspec.compiler import load_module

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

FIXTURES = sorted((ROOT / "tests" / "fixtures").glob("*.yaml"))
ZOO = [p for p in SPECS + FIXTURES if "custom:" not in p.read_text()]


def compile_config(model) -> dict:
    """The compile config, less the optimizer's name, which Keras numbers per session (adam_1)."""
    config = model.get_compile_config()
    config["optimizer"]["config"].pop("name")
    return config


def layer_configs(model) -> list:
    return [comparable_config(layer) for layer in model.layers]


def skip_where_keras_cannot(name: str) -> None:
    """Ragged tensors are TensorFlow's only (docs/spec-language.md, Inputs)."""
    import keras

    if name == "ragged_input" and keras.backend.backend() != "tensorflow":
        pytest.skip(f"ragged tensors need the TensorFlow backend, not {keras.backend.backend()}")


@pytest.mark.slow
@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_live_and_generated_models_have_the_same_layers_and_compile_settings(path):
    skip_where_keras_cannot(path.stem)
    spec = kspec.load(path)
    for style in allowed_styles(spec):
        live = kspec.build(spec, style)
        module = load_module(kspec.generate(spec, style), f"kspec_check_{spec.name}_{style}")
        generated = module.build_model()
        if spec.compile:
            module.compile_model(generated)
            assert compile_config(live) == compile_config(generated), style
        assert layer_configs(live) == layer_configs(generated), style


@pytest.mark.parametrize("name", ["sparse_input", "ragged_input", "optional_input"])
def test_what_the_spec_says_of_its_inputs_reaches_the_model(name):
    skip_where_keras_cannot(name)
    spec = kspec.load(ROOT / "tests" / "fixtures" / f"{name}.yaml")
    for style in allowed_styles(spec):
        if style == "subclass":  # a subclassed model has no Input layers
            continue
        model = kspec.build(spec, style, compile=False)
        inputs = {
            layer["config"]["name"]: layer["config"]
            for layer in model.get_config()["layers"]
            if layer["class_name"] == "InputLayer"
        }
        for spec_input in spec.inputs.values():
            config = inputs[spec_input.name]
            said = (spec_input.sparse, spec_input.ragged, spec_input.optional)
            assert (config["sparse"], config["ragged"], config["optional"]) == said, (style, spec_input.name)
