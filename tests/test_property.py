"""Random valid specs (hypothesis): they validate, compile in every style, and match Keras."""

import ast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kspec
from conftest import HAS_KERAS
from kspec.backends.styles import allowed_styles
from kspec.shapes import infer
from kspec.validate import validate_text

UNIT_BLOCK = [
    "blocks:",
    "  Unit:",
    "    params: {units: null}",
    "    inputs: [v]",
    "    layers:",
    "      - {name: dense, type: Dense, units: $units, inputs: v}",
    "      - {name: act, type: ReLU}",
    "    outputs: act",
]


@st.composite
def specs(draw):
    """A spec built step by step so that every shape fits."""
    image = draw(st.booleans())
    lines = ["kspec: 1", "name: random_model", "inputs:"]
    lines.append("  x: {shape: [8, 8, 3]}" if image else f"  x: {{shape: [{draw(st.integers(1, 12))}]}}")
    lines.append("layers:")
    width, index, previous, uses_block = None, 0, "x", False
    if image:
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["conv", "pool", "bn", "relu"]))
            name = f"l{index}"
            index += 1
            if kind == "conv":
                filters, kernel = draw(st.integers(1, 6)), draw(st.sampled_from([1, 3]))
                lines.append(
                    f"  - {{name: {name}, type: Conv2D, filters: {filters}, kernel_size: {kernel}, "
                    f"padding: same}}"
                )
            elif kind == "pool":
                lines.append(f"  - {{name: {name}, type: MaxPooling2D, pool_size: 2, padding: same}}")
            elif kind == "bn":
                lines.append(f"  - {{name: {name}, type: BatchNormalization}}")
            else:
                lines.append(f"  - {{name: {name}, type: ReLU}}")
            previous = name
        lines.append(f"  - {{name: l{index}, type: GlobalAveragePooling2D}}")
        previous, index = f"l{index}", index + 1
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["dense", "dropout", "bn", "act", "ln", "residual", "block"]))
        name = f"l{index}"
        index += 1
        if kind == "dense":
            width = draw(st.integers(1, 8))
            use_bias = draw(st.booleans())
            lines.append(
                f"  - {{name: {name}, type: Dense, units: {width}, use_bias: {str(use_bias).lower()}}}"
            )
        elif kind == "dropout":
            lines.append(
                f"  - {{name: {name}, type: Dropout, rate: {draw(st.sampled_from([0.0, 0.1, 0.5]))}}}"
            )
        elif kind == "bn":
            lines.append(
                f"  - {{name: {name}, type: BatchNormalization, center: {str(draw(st.booleans())).lower()}}}"
            )
        elif kind == "act":
            lines.append(
                f"  - {{name: {name}, type: Activation, activation: {draw(st.sampled_from(['relu', 'tanh']))}}}"
            )
        elif kind == "ln":
            lines.append(f"  - {{name: {name}, type: LayerNormalization}}")
        elif kind == "residual":
            lines.append(f"  - {{name: {name}, type: Dense, units: 6}}")
            lines.append(f"  - {{name: {name}_skip, type: Dense, units: 6, inputs: {previous}}}")
            lines.append(f"  - {{name: {name}_add, type: Add, inputs: [{name}, {name}_skip]}}")
            name = f"{name}_add"
        else:
            uses_block = True
            repeat = draw(st.integers(1, 3))
            lines.append(
                f"  - {{name: {name}, type: Unit, units: {draw(st.integers(1, 6))}, repeat: {repeat}}}"
            )
        previous = name
    lines.append(f"outputs: {previous}")
    if uses_block:
        lines += UNIT_BLOCK
    lines.append("compile: {optimizer: adam, loss: mean_squared_error}")
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_specs_validate_and_compile_in_every_allowed_style(text):
    result = validate_text(text)
    assert [d for d in result.diagnostics if d.is_error] == [], text
    assert infer(result.spec).total_params is not None
    for style in allowed_styles(result.spec):
        ast.parse(kspec.generate(result.spec, style))


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_static_summary_of_random_specs_matches_the_built_model(text):
    from kspec.summary import keras_layers

    spec = kspec.load(text)
    model = kspec.build(spec, "functional", compile=False)
    ours = {row["name"]: (row["output_shape"], row["params"]) for row in keras_layers(infer(spec))}
    theirs = {layer.name: (list(layer.output.shape), layer.count_params()) for layer in model.layers}
    assert ours == theirs


@st.composite
def graph_specs(draw):
    """A multi-input graph: per-input towers, a layer or block call shared (whole, or one layer
    inside it) between inputs of one width, a block with repeat, a merge, and one or two outputs (named or listed).
    """
    count = draw(st.integers(1, 3))
    width = draw(st.integers(2, 6))
    lines = ["kspec: 1", "name: random_graph", "inputs:"]
    lines += [f"  in{i}: {{shape: [{width}]}}" for i in range(count)]
    lines.append("layers:")
    tower = draw(st.sampled_from(["Dense", "Unit"]))  # a layer, or a block call shared whole or in part
    lines.append(f"  - {{name: shared, type: {tower}, units: {draw(st.integers(1, 5))}, inputs: in0}}")
    heads = ["shared"]
    for i in range(1, count):
        if draw(st.booleans()):
            target = draw(st.sampled_from(["shared", "shared/dense"])) if tower == "Unit" else "shared"
            lines.append(f"  - {{name: shared_{i}, share: {target}, inputs: in{i}}}")
        else:
            lines.append(
                f"  - {{name: own_{i}, type: Dense, units: {draw(st.integers(1, 5))}, inputs: in{i}}}"
            )
        heads.append(lines[-1].split(",")[0].split(": ")[1])
    merged = heads[0]
    if len(heads) > 1:
        lines.append(f"  - {{name: merged, type: Concatenate, inputs: [{', '.join(heads)}]}}")
        merged = "merged"
    repeat = draw(st.integers(1, 3))
    lines.append(
        f"  - {{name: body, type: Unit, units: {draw(st.integers(1, 6))}, repeat: {repeat}, inputs: {merged}}}"
    )
    lines.append("  - {name: head_a, type: Dense, units: 1, inputs: body}")
    outputs = ["head_a"]
    if draw(st.booleans()):
        lines.append(f"  - {{name: head_b, type: Dense, units: 2, inputs: {merged}}}")
        outputs.append("head_b")
    named = draw(st.booleans())
    if named:
        lines.append("outputs: {" + ", ".join(f"out_{o}: {o}" for o in outputs) + "}")
    else:
        lines.append("outputs: [" + ", ".join(outputs) + "]")
    lines += UNIT_BLOCK
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_specs())
def test_random_graphs_validate_and_compile_in_every_allowed_style(text):
    result = validate_text(text)
    assert result.errors == [], text
    assert infer(result.spec).total_params is not None
    for style in allowed_styles(result.spec):
        ast.parse(kspec.generate(result.spec, style))


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(specs(), graph_specs()))
def test_random_specs_predict_the_same_in_every_allowed_style(text):
    import numpy as np

    from helpers_keras import predictions, sample_inputs

    spec = kspec.load(text)
    styles = allowed_styles(spec)
    reference = kspec.build(spec, "functional", compile=False)
    inputs = sample_inputs(spec)
    expected = predictions(reference, inputs)
    for style in styles:
        model = kspec.build(spec, style, compile=False)
        assert model.count_params() == reference.count_params(), style
        model.set_weights(reference.get_weights())
        for ours, theirs in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=style)
