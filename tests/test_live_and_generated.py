"""Live models and generated modules come from one interpreter of spec values.

`kspec.build` runs the module `kspec.generate` writes, so the two cannot drift: these
tests build every example and fixture spec both ways in every allowed style, and check
what the spec says of its inputs (sparse, ragged, optional) reaches the model.
"""

import pytest

import kspec
from conftest import HAS_KERAS, ROOT, SPECS, load_on_one_device
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


def skip_where_keras_cannot(spec) -> None:
    """Skip a spec with an input Keras refuses on this backend (ragged off TensorFlow, sparse
    on torch; the test below checks that kspec's build refuses it too)."""
    for spec_input in spec.inputs.values():
        refusal = input_by_hand(spec_input)
        if isinstance(refusal, str):
            pytest.skip(refusal)


@pytest.mark.slow
@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_live_and_generated_models_have_the_same_layers_and_compile_settings(path):
    spec = load_on_one_device(path)
    skip_where_keras_cannot(spec)
    for style in allowed_styles(spec):
        live = kspec.build(spec, style)
        module = load_module(kspec.generate(spec, style), f"kspec_check_{spec.name}_{style}")
        generated = module.build_model()
        if spec.compile:
            module.compile_model(generated)
            assert compile_config(live) == compile_config(generated), style
        assert layer_configs(live) == layer_configs(generated), style


def input_by_hand(spec_input):
    """The config of the InputLayer written by hand with what the spec says of an input, or
    the error with which Keras refuses it on this backend (ragged off TensorFlow, sparse on
    torch); Keras releases differ in what the config records (3.12 has no `optional`)."""
    import keras

    try:
        layer = keras.layers.InputLayer(
            shape=spec_input.shape,
            batch_size=spec_input.batch_size,
            dtype=spec_input.dtype,
            sparse=spec_input.sparse,
            ragged=spec_input.ragged,
            optional=spec_input.optional,
            name=spec_input.name,
        )
    except ValueError as refusal:
        return str(refusal)
    return layer.get_config()


@pytest.mark.parametrize("name", ["sparse_input", "ragged_input", "optional_input"])
def test_what_the_spec_says_of_its_inputs_reaches_the_model(name):
    """Each input's InputLayer is the one written by hand, and where Keras refuses the input on
    this backend, kspec's build fails with Keras's own words."""
    spec = kspec.load(ROOT / "tests" / "fixtures" / f"{name}.yaml")
    expected = {spec_input.name: input_by_hand(spec_input) for spec_input in spec.inputs.values()}
    for style in allowed_styles(spec):
        if style == "subclass":  # a subclassed model has no Input layers
            continue
        refusals = [e for e in expected.values() if isinstance(e, str)]
        if refusals:
            with pytest.raises(ValueError) as refused:
                kspec.build(spec, style, compile=False)
            assert str(refused.value) in refusals, style
            continue
        model = kspec.build(spec, style, compile=False)
        found = {
            layer["config"]["name"]: layer["config"]
            for layer in model.get_config()["layers"]
            if layer["class_name"] == "InputLayer"
        }
        assert found == expected, style
