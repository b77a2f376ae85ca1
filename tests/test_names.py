"""Every layer and block-parameter name the language accepts builds, in every style.

Layer names become attributes of a subclassed model or block layer, and block
parameters become Python parameters and attributes: Python's dunders (`__dict__`,
`__class__`), Keras's own attributes (`built`, `train_function`) and keywords must
all be mangled so that the module builds, names the layers as the spec does, and
round-trips each block layer through its config.
"""

import keyword

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kspec
from conftest import HAS_KERAS
from kspec.backends.python.module import attribute_name, parameter_names
from kspec.catalog import catalog

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

STYLES = ("sequential", "functional", "subclass")


def dunders() -> list[str]:
    import keras

    found = set(dir(object)) | set(dir(keras.Model)) | set(dir(keras.layers.Layer))
    return sorted(name for name in found if name.startswith("__") and name.endswith("__"))


def names_spec(layer_names: list[str], param: str, block_names: list[str]) -> str:
    """A chain of Dense layers, then a block whose parameter and inner layers carry the names."""
    layers = "".join(f"  - {{name: {n}, type: Dense, units: 2}}\n" for n in layer_names)
    inner = "".join(
        f"      - {{name: {n}, type: Dense, units: ${param}" + (", inputs: i}\n" if i == 0 else "}\n")
        for i, n in enumerate(block_names)
    )
    return (
        f"kspec: 1\nname: names\ninputs:\n  x: {{shape: [3]}}\nlayers:\n{layers}"
        f"  - {{name: blk, type: B, {param}: 3}}\noutputs: blk\nblocks:\n  B:\n"
        f"    params: {{{param}: 4}}\n    inputs: [i]\n    layers:\n{inner}    outputs: {block_names[-1]}\n"
    )


def check_builds_everywhere(text: str, layer_names: list[str], block_names: list[str]) -> None:
    spec = kspec.load(text)
    counts = set()
    for style in STYLES:
        model = kspec.build(spec, style)
        counts.add(model.count_params())
        if style == "functional":
            assert [layer.name for layer in model.layers[1 : len(layer_names) + 1]] == layer_names
            assert [layer.name for layer in model.layers[len(layer_names) + 1 :]] == [
                f"blk_{n}" for n in block_names
            ]
        if style == "subclass":
            block = model.get_layer("blk")
            assert [layer.name for layer in block._layers] == [f"blk_{n}" for n in block_names]
            rebuilt = type(block).from_config(block.get_config())
            assert rebuilt.get_config() == block.get_config()
    assert len(counts) == 1  # the same weights in every style


def test_every_dunder_of_object_model_and_layer_builds_as_a_layer_name():
    names = dunders()
    check_builds_everywhere(names_spec(names, "__class__", names), names, names)


@pytest.mark.parametrize("param", ["__class__", "__dict__", "__init__", "_tracker", "trainable", "lambda"])
def test_block_parameters_named_like_python_or_keras_internals_build(param):
    check_builds_everywhere(names_spec(["a"], param, ["d"]), ["a"], ["d"])


def test_keras_attributes_and_keywords_build_as_layer_names():
    names = sorted(catalog().model_attributes)[:60] + ["built", "name", "train_function", "class", "lambda"]
    names = sorted(set(names))
    check_builds_everywhere(names_spec(names, "units", names[:5]), names, names[:5])


LEGAL_NAMES = st.one_of(
    st.from_regex(r"\A_{0,2}[A-Za-z][A-Za-z0-9_]{0,6}_{0,2}\Z"),
    st.sampled_from(["__dict__", "__class__", "__init__", "__slots__", "built", "name", "weights", "lambda"]),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layer_names=st.lists(LEGAL_NAMES, min_size=1, max_size=4, unique=True),
    param=LEGAL_NAMES.filter(lambda n: n not in ("name", "type", "share", "inputs", "repeat")),
    block_names=st.lists(LEGAL_NAMES, min_size=1, max_size=3, unique=True),
)
def test_random_legal_names_build_in_every_style(layer_names, param, block_names):
    layer_names = [n for n in layer_names if n not in ("blk", "x")]  # the block call and the input
    block_names = [n for n in block_names if n != "i"]  # the block's input
    if not layer_names or not block_names:
        return
    check_builds_everywhere(names_spec(layer_names, param, block_names), layer_names, block_names)


def test_the_mangling_rule():
    from kspec.backends.python.module import Namer

    assert attribute_name("__dict__", Namer()) == "layer__dict__"
    assert attribute_name("built", Namer()) == "built_layer"
    assert attribute_name("dense", Namer()) == "dense"
    assert attribute_name("__class__", Namer(), kind="param") == "param__class__"

    class Block:
        params = {"__class__": 1, "lambda": 2, "units": 3}

    assert parameter_names(Block) == {"__class__": "param__class__", "lambda": "lambda_", "units": "units"}
    assert all(not keyword.iskeyword(n) for n in parameter_names(Block).values())
