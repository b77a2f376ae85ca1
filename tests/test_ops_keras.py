"""keras.ops calls (`op:`) against Keras: the spec's model is the one written by hand with
keras.ops, in every style the graph allows, and each shape rule is what Keras computes."""

import json

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, ROOT
from helpers_keras import comparable_config, models_of, predictions, sample_inputs
from kspec.backends.styles import allowed_styles
from kspec.catalog.versions import arrived, minor
from kspec.shapes import ShapeError, infer
from kspec.shapes.ops import RULES, apply

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

SPEC = ROOT / "tests" / "fixtures" / "ops_attention.yaml"


def by_hand():
    """tests/fixtures/ops_attention.yaml written in Keras: the model, and each tensor by spec name."""
    import keras
    from keras import layers, ops

    t = {"tokens": keras.Input((12,), dtype="int32", name="tokens")}
    t["tok"] = layers.Embedding(50, 16, name="tok")(t["tokens"])
    t["pos"] = ops.arange(0, 12)
    t["zeros"] = ops.zeros_like(t["tokens"])
    t["pos_ids"] = t["zeros"] + t["pos"]
    t["pos_emb"] = layers.Embedding(12, 16, name="pos_emb")(t["pos_ids"])
    t["h"] = t["tok"] + t["pos_emb"]
    for name in "qkv":
        t[name] = layers.Dense(8, name=name)(t["h"])
    t["kt"] = ops.transpose(t["k"], (0, 2, 1))
    t["scores"] = ops.matmul(t["q"], t["kt"])
    t["scaled"] = t["scores"] * 0.35355339059327373
    t["weights"] = ops.softmax(t["scaled"])
    t["attended"] = ops.matmul(t["weights"], t["v"])
    t["both"] = ops.concatenate([t["attended"], t["q"]], axis=-1)
    t["gate"] = ops.sigmoid(t["both"])
    t["gated"] = t["both"] * t["gate"]
    t["pooled"] = ops.mean(t["gated"], axis=1)
    t["wide"] = ops.expand_dims(t["pooled"], 1)
    t["tiled"] = ops.reshape(t["wide"], (-1, 4, 4))
    t["act"] = ops.gelu(t["tiled"])
    t["summed"] = ops.sum(t["act"], axis=-1, keepdims=True)
    t["flat"] = ops.squeeze(t["summed"], axis=-1)
    t["logits"] = layers.Dense(3, name="logits")(t["flat"])
    t["probs"] = ops.softmax(t["logits"])
    return keras.Model(t["tokens"], t["probs"], name="ops_attention"), t


def test_the_spec_is_the_model_written_by_hand_in_every_style():
    spec = kspec.load(SPEC)
    assert allowed_styles(spec) == ["functional", "subclass"]
    hand, tensors = by_hand()
    report = infer(spec)
    # Every layer's and every op's output shape, as kspec infers it and as Keras builds it.
    assert {layer.node.name: layer.output for layer in report.layers} == {
        name: tuple(tensor.shape) for name, tensor in tensors.items() if name != "tokens"
    }
    hand_layers = {layer.name: layer for layer in hand.layers}
    inputs = sample_inputs(spec)
    expected = predictions(hand, inputs)
    for label, model in models_of(spec):
        layers = {layer.name: layer for layer in model.layers if layer.name != "tokens"}
        assert {n: comparable_config(l) for n, l in layers.items()} == {
            n: comparable_config(l) for n, l in hand_layers.items() if n != "tokens"
        }, label
        assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in hand.weights], label
        assert model.count_params() == hand.count_params() == report.total_params, label
        for name, layer in layers.items():
            if "functional" in label:
                assert tuple(layer.output.shape) == report_shape(report, name), (label, name)
        model.set_weights(hand.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


def report_shape(report, name):
    return next(layer.output for layer in report.layers if layer.node.name == name)


def test_the_functional_model_records_the_ops_as_keras_does_and_loads_in_safe_mode(tmp_path):
    import keras

    spec = kspec.load(SPEC)
    model = kspec.build(spec, "functional", compile=False)
    hand, _ = by_hand()

    def operations(m):  # Keras numbers op names per session: compare the classes and configs
        return json.loads(
            json.dumps(
                [
                    (entry["class_name"], {k: v for k, v in entry["config"].items() if k != "name"})
                    for entry in m.get_config()["layers"]
                    if entry["module"].startswith("keras.src.ops")
                ]
            )
        )  # as saved: tuples are lists

    assert operations(model) == operations(hand)
    assert "Matmul" in [c for c, _ in operations(model)]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    inputs = sample_inputs(spec)
    for got, want in zip(predictions(loaded, inputs), predictions(model, inputs)):
        np.testing.assert_array_equal(got, want)


BLOCKS = """
kspec: 1
name: ops_blocks
inputs: {x: {shape: [6, 4]}}
layers:
  - {name: a, type: Mixer, axis: 1}
  - {name: b, type: Mixer, axis: -1}
  - {name: out, op: mean, inputs: b, axis: [1, 2]}
outputs: out
blocks:
  Mixer:
    params: {axis: null}
    inputs: [x]
    layers:
      - {name: proj, type: Dense, units: 4, inputs: x}
      - {name: w, op: softmax, axis: $axis}
      - {name: y, op: multiply, inputs: [w, x]}
      - {name: z, op: add, inputs: y, x2: 1.0}
    outputs: z
"""


def test_ops_in_blocks_take_block_parameters_in_every_style():
    import keras
    from keras import layers, ops

    spec = kspec.load(BLOCKS)
    x = keras.Input((6, 4), name="x")
    h = x
    for name, axis in (("a", 1), ("b", -1)):
        w = ops.softmax(layers.Dense(4, name=f"{name}_proj")(h), axis=axis)
        h = ops.add(ops.multiply(w, h), 1.0)
    hand = keras.Model(x, ops.mean(h, axis=[1, 2]))
    inputs = sample_inputs(spec)
    expected = predictions(hand, inputs)
    sources = {style: kspec.generate(spec, style) for style in allowed_styles(spec)}
    assert "keras.ops.softmax(proj, axis=axis)" in sources["functional"]
    assert "keras.ops.softmax(proj, axis=self.axis)" in sources["subclass"]
    for label, model in models_of(spec):
        assert model.count_params() == hand.count_params() == infer(spec).total_params, label
        model.set_weights(hand.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


A = (None, 5, 4)
B = (None, 4, 3)
# (op, tensor shapes as `inputs` gives them, constant arguments)
CASES = [
    ("arange", [], {"start": 0, "stop": 7}),
    ("arange", [], {"start": 10}),
    ("arange", [], {"start": 1, "stop": 10, "step": 3}),
    ("add", [A, (4,)], {}),
    ("subtract", [A, (None, 1, 4)], {}),
    ("multiply", [(None, 1, 4), (None, 5, 1)], {}),
    ("multiply", [A], {"x2": 0.5}),
    ("multiply", [A], {"x2": [1.0, 2.0, 3.0, 4.0]}),
    ("add", [(None, 4)], {"x2": [[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]]}),
    ("divide", [A, (5, 1)], {}),
    ("maximum", [(None, 5), (None, None)], {}),
    ("greater", [A, A], {}),
    ("matmul", [A, B], {}),
    ("matmul", [A, (4,)], {}),
    ("matmul", [(4,), (None, 4, 3)], {}),
    ("matmul", [(None, 2, 5, 4), (4, 6)], {}),
    ("matmul", [(None, 2, 5, 4), (None, 1, 4, 6)], {}),
    ("reshape", [A], {"newshape": [-1, 2, 10]}),
    ("reshape", [(2, 3, 4)], {"newshape": [4, -1]}),
    ("reshape", [(2, 3, 4)], {"newshape": [6, 4]}),
    ("transpose", [A], {}),
    ("transpose", [A], {"axes": [0, 2, 1]}),
    ("expand_dims", [A], {"axis": 1}),
    ("expand_dims", [A], {"axis": -1}),
    ("expand_dims", [A], {"axis": [0, 2]}),
    ("squeeze", [(None, 1, 4, 1)], {}),
    ("squeeze", [(None, 1, 4, 1)], {"axis": 1}),
    ("squeeze", [(None, 1, 4, 1)], {"axis": [1, -1]}),
    ("concatenate", [A, (None, 5, 2)], {"axis": -1}),
    ("concatenate", [A, A, A], {"axis": 1}),
    ("concatenate", [A, (None, None, 4)], {"axis": 1}),
    ("stack", [A, A], {}),
    ("stack", [A, A, A], {"axis": -1}),
    ("mean", [A], {}),
    ("mean", [A], {"axis": 1}),
    ("mean", [A], {"axis": -1, "keepdims": True}),
    ("sum", [A], {"axis": [1, 2]}),
    ("max", [A], {"axis": 0}),
    ("min", [A], {"keepdims": True}),
    ("prod", [A], {"axis": 2}),
    ("std", [A], {"axis": 1}),
    ("var", [A], {"axis": [0, 1], "keepdims": True}),
    ("logsumexp", [A], {"axis": -1}),
    ("softmax", [A], {}),
    ("softmax", [A], {"axis": 1}),
    ("log_softmax", [A], {}),
    ("sigmoid", [A], {}),
    ("relu", [A], {}),
    ("gelu", [A], {"approximate": False}),
    ("tanh", [A], {}),
    ("exp", [A], {}),
    ("sqrt", [A], {}),
    ("square", [A], {}),
    ("abs", [A], {}),
    ("negative", [A], {}),
    ("cast", [A], {"dtype": "int32"}),
    ("clip", [A], {"x_min": 0.0, "x_max": 1.0}),
    ("zeros_like", [A], {}),
    ("ones_like", [A], {}),
    ("take", [(None, 5, 4), (2, 3)], {"axis": 1}),
    ("take", [(None, 5, 4), (7,)], {"axis": -1}),
    ("take", [(3, 5, 4), (2,)], {}),
    ("slice", [(3, 5, 4)], {"start_indices": [0, 1, 0], "shape": [2, 3, 4]}),
    ("one_hot", [(None, 5)], {"num_classes": 7}),
    ("one_hot", [(None, 5)], {"num_classes": 7, "axis": 1}),
    ("swapaxes", [A], {"axis1": 1, "axis2": 2}),
    ("where", [(None, 5, 1), A, (4,)], {}),
    ("zeros", [], {"shape": [2, 3]}),
    ("ones", [], {"shape": [4]}),
    ("full", [], {"shape": [2, 2], "fill_value": 3.0}),
    ("broadcast_to", [(5, 1)], {"shape": [3, 5, 4]}),
    ("stop_gradient", [A], {}),
]
ERRORS = [
    ("arange", [], {"start": 5, "stop": 1}),
    ("add", [A, (None, 5, 3)], {}),
    ("matmul", [A, (5, 3)], {}),
    ("reshape", [(2, 3, 4)], {"newshape": [5, -1]}),
    ("reshape", [(2, 3, 4)], {"newshape": [5, 5]}),
    ("concatenate", [A, (None, 6, 3)], {"axis": -1}),
    ("stack", [A, (None, 6, 4)], {}),
    ("squeeze", [A], {"axis": 1}),
    ("transpose", [A], {"axes": [0, 1]}),
    ("expand_dims", [A], {"axis": 5}),
]


def keras_shape(op, shapes, args):
    import keras
    from kspec.catalog import catalog

    signature = catalog().op(op)
    tensors = [keras.KerasTensor(shape) for shape in shapes]
    args = {  # as generated code passes them: a list for a tensor as a constant tensor
        k: keras.ops.convert_to_tensor(v) if k in signature.tensors and isinstance(v, list) else v
        for k, v in args.items()
    }
    if tensors and signature.tensors[next(iter(signature.tensors))] == "list":
        return tuple(getattr(keras.ops, op)(tensors, **args).shape)
    return tuple(getattr(keras.ops, op)(*tensors, **args).shape)


def spec_inputs(op, shapes):
    from kspec.catalog import catalog

    signature = catalog().op(op)
    if signature.tensors and signature.tensors[next(iter(signature.tensors))] == "list":
        return list(shapes)
    return shapes[0] if len(shapes) == 1 else list(shapes)


@pytest.mark.parametrize("op, shapes, args", CASES, ids=lambda c: c if isinstance(c, str) else None)
def test_each_shape_rule_gives_what_keras_computes(op, shapes, args):
    mine, symbolic = apply(op, args, spec_inputs(op, shapes)), keras_shape(op, shapes, args)
    if mine != symbolic:
        # Keras's symbolic shape can disagree with what it computes (keras 3.12 gives matmul with
        # a 1-D operand a dimension too many): then what it computes on arrays decides.
        computed = computed_shape(op, shapes, args)
        assert known(mine) == computed != known(symbolic)


UNKNOWN = 7  # the size of each unknown dimension in computed_shape


def known(shape: tuple) -> tuple:
    return tuple(UNKNOWN if d is None else d for d in shape)


def computed_shape(op, shapes, args):
    """The shape Keras computes on arrays, each unknown dimension UNKNOWN long."""
    import keras

    arrays = [np.ones(known(shape), "float32") for shape in shapes]
    return tuple(getattr(keras.ops, op)(*arrays, **args).shape)


@pytest.mark.parametrize("op, shapes, args", ERRORS, ids=lambda c: c if isinstance(c, str) else None)
def test_each_shape_error_is_an_error_in_keras(op, shapes, args):
    with pytest.raises(ShapeError):
        apply(op, args, spec_inputs(op, shapes))
    import keras

    if op == "arange" and keras.backend.backend() != "tensorflow":
        pytest.skip("an empty arange is an error on TensorFlow only; kspec refuses it everywhere")
    with pytest.raises(Exception):
        keras_shape(op, shapes, args)


def test_the_table_covers_every_op_named_in_the_issue():
    named = (
        "arange add subtract multiply divide matmul reshape transpose expand_dims squeeze concatenate "
        "stack mean sum max softmax sigmoid relu gelu cast take slice"
    ).split()
    assert set(named) <= set(RULES)
    assert set(named) <= {op for op, _, _ in CASES}


def test_import_maps_keras_operation_nodes_to_ops_and_keeps_layers_only_where_exact():
    import keras
    import yaml
    from keras import layers, ops

    import kspec.importer

    x = keras.Input((6, 4), name="x")
    i = keras.Input((3,), dtype="int32", name="i")
    q = layers.Dense(4, name="q")(x)
    kt = ops.transpose(layers.Dense(4, name="k")(x), (0, 2, 1))
    s = ops.softmax(ops.matmul(q, kt) * 0.5, axis=-1)
    a = ops.matmul(s, q)
    b = a + q  # one shape: an Add layer computes exactly this
    c = b * ops.mean(b, axis=1, keepdims=True)  # broadcasting: stays an op
    d = ops.maximum(c, 0.0)
    e = 2.0 - d  # not d - 2.0
    t = ops.take(e, i, axis=1)
    original = keras.Model([x, i], layers.Dense(2, name="out")(ops.reshape(t, (-1, 12))))
    text = kspec.importer.from_keras(original)
    kinds = [item.get("type") or "op " + item["op"] for item in yaml.safe_load(text)["layers"]]
    assert kinds == [
        "Dense",
        "Dense",
        "op transpose",
        "op matmul",
        "Rescaling",
        "op softmax",
        "op matmul",
        "Add",
        "op mean",
        "op multiply",
        "op maximum",
        "op subtract",
        "op take",
        "op reshape",
        "Dense",
    ]
    spec = kspec.load(text)
    inputs = sample_inputs(spec)
    inputs[1] = inputs[1] % 6  # indices along an axis of 6
    expected = predictions(original, inputs)
    for label, model in models_of(spec):
        assert model.count_params() == original.count_params(), label
        model.set_weights(original.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


def test_a_model_kspec_built_with_ops_imports_back_to_the_same_model():
    """The position constant (ops.arange, computed while Keras built the model) comes back as a
    list that generated code turns into the same int32 tensor."""
    import yaml

    import kspec.importer

    spec = kspec.load(SPEC)
    original = kspec.build(spec, "functional", compile=False)
    text = kspec.importer.from_keras(original)
    items = yaml.safe_load(text)["layers"]  # Keras numbers op names per session (add_3)
    assert [i.get("x2") for i in items if i.get("op") == "add"] == [list(range(12))]
    back = kspec.load(text)
    inputs = sample_inputs(spec)
    expected = predictions(original, inputs)
    for label, model in models_of(back):
        assert model.count_params() == original.count_params(), label
        model.set_weights(original.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda x, ops: x + ops.ones((8, 4), dtype="float16"), "constant tensor"),
        (lambda x, ops: x + ops.ones((1024, 8, 4)), "at most 4,096 values"),
        (lambda x, ops: x[:, 0], r"Python object as 'key' \(slice\).*keras.ops.take"),
    ],
    ids=["float16 constant", "large constant", "slice"],
)
def test_import_refuses_what_a_spec_cannot_hold_with_what_to_do(make, message):
    import keras
    from keras import layers, ops

    import kspec.importer
    from kspec.importer import ImportRefused

    tokens = keras.Input((8,), dtype="int32")
    h = make(layers.Embedding(20, 4)(tokens), ops)
    with pytest.raises(ImportRefused, match=message):
        kspec.importer.from_keras(keras.Model(tokens, h))


@pytest.mark.slow
@pytest.mark.parametrize("style", ["functional", "subclass"])
def test_every_claim_of_the_save_and_load_plan_holds_for_a_model_with_ops(style):
    from kspec.plans.verify import verify

    spec = kspec.load(SPEC)
    p = kspec.plan(spec, style)
    assert not p.path("h5_file").allowed
    if style == "functional":  # Keras cannot load an operation node from .h5
        assert "keras.ops.zeros_like" in p.path("h5_file").reason
    assert p.path("keras_file").allowed and p.path("keras_file").keeps["weights"]
    checks = verify(spec, style, p)
    assert [c for c in checks if not c.ok] == []


REQUIRED = {
    "clip": {"x_min": 0.0, "x_max": 1.0},
    "full_like": {"fill_value": 2.0},
    "cast": {"dtype": "int32"},
    "saturate_cast": {"dtype": "int32"},
    "roll": {"shift": 1},
}


def _default_case(op):
    from kspec.shapes.ops import BINARY, REDUCTIONS, UNARY

    if op in UNARY:
        return [A], REQUIRED.get(op, {})
    if op in BINARY:
        return [A, (None, 1, 4)], {}
    if op in REDUCTIONS:
        return [A], {"axis": 1}
    return None


@pytest.mark.parametrize("op", sorted(RULES))
def test_every_op_with_a_rule_agrees_with_keras(op):
    """Each rule on a case of its own kind (the table above covers the others)."""
    case = _default_case(op)
    if case is None:
        assert op in {name for name, _, _ in CASES}, f"{op} has a rule and no case"
        return
    shapes, args = case
    import keras

    if not hasattr(keras.ops, op):  # then validation refuses it for this release (KS308)
        assert minor(arrived(f"op {op}")) > minor(keras.__version__)
        pytest.skip(f"keras {keras.__version__} has no keras.ops.{op}: it arrived in {arrived(f'op {op}')}")
    assert apply(op, args, spec_inputs(op, shapes)) == keras_shape(op, shapes, args)


def test_ops_in_a_shared_block_call_are_the_same_calls_again_in_every_style():
    import keras
    from keras import layers, ops

    spec = kspec.load(ROOT / "tests" / "fixtures" / "ops_shared_tower.yaml")
    a, b = keras.Input((6, 4), name="a"), keras.Input((6, 4), name="b")
    proj = layers.Dense(4, name="left_proj")
    towers = [ops.multiply(ops.softmax(proj(x), axis=1), x) for x in (a, b)]
    hand = keras.Model([a, b], ops.subtract(*towers))
    inputs = sample_inputs(spec)
    expected = predictions(hand, inputs)
    assert {layer.node.name: layer.output for layer in infer(spec).layers}["right_w"] == (None, 6, 4)
    for label, model in models_of(spec):
        assert model.count_params() == hand.count_params() == 20, label
        model.set_weights(hand.get_weights())
        for got, want in zip(predictions(model, inputs), expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)
