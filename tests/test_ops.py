"""keras.ops calls without Keras: the allowlist, how `inputs` bind, generated code, refusals."""

import ast
import sys

import pytest

import kspec
from conftest import ROOT
from kspec.catalog import catalog
from kspec.validate import validate_text

sys.path.insert(0, str(ROOT / "scripts"))
from generate_catalog import CALLABLE_PARAMS, OPS_EXCLUDED  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "ops_attention.yaml"


def codes(text):
    return [d.code for d in validate_text(text).diagnostics]


def test_the_allowlist_holds_no_function_that_runs_python_or_leaves_the_graph():
    ops, excluded = catalog().ops, catalog().ops_excluded
    control_flow = {"cond", "while_loop", "scan", "map", "fori_loop", "vectorized_map", "custom_gradient"}
    control_flow |= {"associative_scan", "switch", "vectorize", "convert_to_numpy"}
    assert control_flow <= set(excluded)
    assert set(OPS_EXCLUDED) <= set(excluded)
    assert not set(ops) & set(excluded)
    for name, entry in ops.items():
        assert not {p["name"] for p in entry["params"]} & CALLABLE_PARAMS, name
    assert {"arange", "matmul", "softmax", "reshape", "take", "concatenate"} <= set(ops)


BINDING = """
kspec: 1
name: m
inputs: {x: {shape: [4, 3]}, i: {shape: [2], dtype: int32}}
layers:
  - {name: a, op: relu, inputs: x}
  - {name: b, op: softmax}
  - {name: c, op: take, inputs: {x: b, indices: i}, axis: 1}
  - {name: d, op: stack, inputs: [a, b], axis: 1}
  - {name: pos, op: arange, start: 0, stop: 3}
  - {name: e, op: add, inputs: [a, pos]}
  - {name: f, op: kron, inputs: [c, e]}
outputs: [d, f]
"""


def test_inputs_bind_to_tensor_parameters_in_order_by_name_or_as_one_list():
    spec = kspec.load(BINDING)
    calls = {call.name: call for call in spec.scope.calls}
    assert [str(r) for r in calls["b"].refs()] == ["a"]  # the previous output, like a layer
    assert calls["pos"].inputs == []  # arange takes no tensor: nothing from the previous call
    bound, extra = catalog().op("stack").bind(calls["d"].inputs)
    assert list(bound) == ["x"] and [str(r) for r in bound["x"]] == ["a", "b"] and extra == []
    bound, _ = catalog().op("take").bind(calls["c"].inputs)
    assert {k: str(v) for k, v in bound.items()} == {"x": "b", "indices": "i"}
    shapes = {layer.node.name: layer.output for layer in spec.shapes.layers}
    assert shapes == {
        "a": (None, 4, 3),
        "b": (None, 4, 3),
        "c": (None, None, 2, 3),  # take's indices keep their own (batch) shape
        "d": (None, 2, 4, 3),
        "pos": (3,),
        "e": (None, 4, 3),
        "f": None,  # no shape rule for kron: a warning, and '?'
    }
    assert codes(BINDING) == ["KS606"]


def test_generated_modules_call_keras_ops_by_name_with_literal_arguments():
    spec = kspec.load(FIXTURE)
    functional = kspec.generate(spec, "functional")
    subclass = kspec.generate(spec, "subclass")
    for line in (
        "pos = keras.ops.arange(start=0, stop=12)",
        "scores = keras.ops.matmul(q, kt)",
        "kt = keras.ops.transpose(k, axes=[0, 2, 1])",
        "both = keras.ops.concatenate([attended, q], axis=-1)",
        "summed = keras.ops.sum(act, axis=-1, keepdims=True)",
    ):
        assert line in functional and line in subclass
    assert "self.scores" not in subclass  # an op is no layer attribute
    for source in (functional, subclass):
        assert "Lambda" not in source and "eval(" not in source and "exec(" not in source


def test_an_op_argument_is_a_literal_whatever_it_holds():
    text = """
kspec: 1
name: m
inputs: {x: {shape: [4]}}
layers:
  - {name: a, op: cast, dtype: "int32') or __import__('os').system('true') or ('"}
outputs: a
"""
    spec = kspec.load(text)
    tree = ast.parse(kspec.generate(spec, "functional"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "keras.ops.cast"]
    [call] = calls
    [keyword] = call.keywords
    assert isinstance(keyword.value, ast.Constant) and "__import__" in keyword.value.value
    assert codes(text.replace("op: cast", "op: 'cast(x); import os'")) == ["KS105"]


def test_sequential_is_refused_at_the_first_op():
    spec = kspec.load(FIXTURE)
    with pytest.raises(kspec.SpecError) as caught:
        kspec.generate(spec, "sequential")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "KS211" and diagnostic.line == 8
    assert "keras.ops.arange" in diagnostic.message


def test_a_layer_no_input_reaches_is_refused_also_inside_a_block():
    text = """
kspec: 1
name: m
inputs: {x: {shape: [4]}}
layers:
  - {name: pos, op: arange, start: 0, stop: 4}
  - {name: b, type: Emb, inputs: pos}
  - {name: out, op: add, inputs: [x, b]}
outputs: out
blocks:
  Emb:
    inputs: [i]
    layers: [{name: e, type: Dense, units: 4}]
    outputs: e
"""
    result = validate_text(text)
    [error] = result.errors
    assert error.code == "KS213" and "in block Emb, called as 'b'" in error.message
    fixed = text.replace("inputs: pos}", "inputs: x}")
    assert codes(fixed) == ["KS206"]  # pos is now unused


def test_no_path_shares_an_op_inside_a_block():
    text = (ROOT / "tests" / "fixtures" / "ops_shared_tower.yaml").read_text()
    assert codes(text) == []
    result = validate_text(text.replace("share: left,", "share: left/w,"))
    assert [(d.code, d.line) for d in result.errors] == [("KS208", 6)]
