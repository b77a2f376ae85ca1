"""`kspec diff` between specs: matching, changes, parameter deltas, formats, exits; no Keras."""

import json
import subprocess
import sys

import click
import pytest

import kspec
from conftest import ROOT, run_kspec
from kspec.diff import MISSING, diff
from kspec.diff_render import markdown, text

MLP = """kspec: 1
name: mlp
inputs:
  pixels: {shape: [784]}
layers:
  - {name: hidden_1, type: Dense, units: 256, activation: relu}
  - {name: drop_1, type: Dropout, rate: 0.3}
  - {name: hidden_2, type: Dense, units: 128, activation: relu}
  - {name: drop_2, type: Dropout, rate: 0.3}
  - {name: probs, type: Dense, units: 10, activation: softmax}
outputs: probs
"""


def _diff(a: str, b: str):
    return diff(kspec.load(a), kspec.load(b))


def _by_name(found):
    return {(c.b or c.a).name: c for c in found.layers}


def test_a_spec_against_itself_is_equal():
    found = _diff(MLP, MLP)
    assert found.equal and found.layers == [] and found.unchanged == 5
    assert found.by_name.loads and found.by_position.loads
    assert found.params_delta == 0


def test_a_changed_dense_shows_its_arguments_shape_and_exact_parameter_delta():
    found = _diff(MLP, MLP.replace("units: 10,", "units: 12,"))
    (change,) = found.layers
    assert change.status == "changed" and change.a.name == change.b.name == "probs"
    assert change.args == [("units", 10, 12)]
    assert (change.a.output, change.b.output) == ((None, 10), (None, 12))
    assert change.params_delta == 129 * 2 == found.params_delta  # (128 inputs + bias) * 2 more units
    assert not found.by_name.loads and not found.by_position.loads
    assert "'probs'" in found.by_name.problems[0]


def test_a_renamed_layer_is_matched_by_structure():
    found = _diff(MLP, MLP.replace("hidden_1", "first"))
    (change,) = found.layers
    assert (change.status, change.a.name, change.b.name, change.args) == ("renamed", "hidden_1", "first", [])
    assert not change.inputs  # drop_1 takes `first` as it took `hidden_1`: no other change reported
    assert found.by_name.loads is False and "renamed 'first'" in found.by_name.problems[0]
    assert found.by_position.loads is True


def test_a_renamed_layer_whose_input_changed_is_matched_by_its_consumers():
    b = MLP.replace("{name: hidden_2,", "{name: norm, type: BatchNormalization}\n  - {name: middle,")
    found = _diff(MLP, b)
    changes = _by_name(found)
    assert changes["norm"].status == "added"
    assert changes["middle"].status == "renamed" and changes["middle"].a.name == "hidden_2"
    assert changes["middle"].inputs  # it takes norm's output now
    assert found.params_delta == 4 * 256
    assert found.by_name.loads is False and found.by_position.loads is False  # norm comes before probs


def test_a_rename_with_too_many_other_changes_is_a_removal_and_an_addition():
    b = MLP.replace(
        "{name: hidden_1, type: Dense, units: 256, activation: relu}",
        "{name: first, type: Dense, units: 64, activation: tanh, use_bias: false}",
    )
    statuses = {(c.status, (c.b or c.a).name) for c in _diff(MLP, b).layers}
    assert {("removed", "hidden_1"), ("added", "first")} <= statuses


def test_arguments_at_their_default_and_equal_spellings_are_no_change():
    b = MLP.replace("units: 256, activation: relu}", "units: 256, activation: relu, use_bias: true}")
    b = b.replace(
        "units: 128, activation: relu}",
        "units: 128, activation: relu, kernel_initializer: {type: GlorotUniform}}",
    )
    assert _diff(MLP, b).equal


def test_weightless_changes_keep_weights_loading_both_ways():
    b = MLP.replace("rate: 0.3}", "rate: 0.5}", 1).replace("activation: relu}", "activation: tanh}", 1)
    b = b.replace("  - {name: drop_2, type: Dropout, rate: 0.3}\n", "")
    found = _diff(MLP, b)
    changes = _by_name(found)
    assert changes["drop_1"].args == [("rate", 0.3, 0.5)]
    assert changes["hidden_1"].args == [("activation", "relu", "tanh")]
    assert changes["drop_2"].status == "removed"
    assert found.by_name.loads and found.by_position.loads and found.params_delta == 0


def test_a_default_on_one_side_is_missing_there():
    found = _diff(MLP, MLP.replace("units: 10, activation: softmax", "units: 10"))
    assert found.layers[0].args == [("activation", "softmax", MISSING)]


def test_a_shared_call_named_otherwise_is_not_a_rename():
    spec = (ROOT / "specs" / "siamese.yaml").read_text()
    renamed = spec.replace("encode_right", "encode_other")
    assert _diff(spec, renamed).equal
    moved = spec.replace("inputs: [encode_left, encode_right]", "inputs: [encode_right, encode_left]")
    assert [c.status for c in _diff(spec, moved).layers] == ["changed"]


def test_a_call_argument_change():
    spec = (ROOT / "specs" / "causal_lm.yaml").read_text()
    assert "causal: true}" in spec
    found = _diff(spec, spec.replace("causal: true}", "causal: false}"))
    assert found.layers and all(c.args == [("call.use_causal_mask", True, MISSING)] for c in found.layers)
    assert found.by_name.loads and found.by_position.loads


def test_inputs_and_outputs_changes():
    b = MLP.replace("pixels: {shape: [784]}", "image: {shape: [100]}")
    found = _diff(MLP, b)
    assert found.inputs == [("pixels", "image", (None, 784), (None, 100))]
    assert _by_name(found)["hidden_1"].params_delta == -684 * 256
    assert found.by_name.loads is False and found.by_position.loads is False  # hidden_1's kernel
    two = MLP.replace("outputs: probs", "outputs: [probs, hidden_2]")
    assert _diff(MLP, two).outputs == (["probs"], ["probs", "hidden_2"])


def test_resnet50_classifier_change():
    spec = (ROOT / "specs" / "resnet50.yaml").read_text()
    found = _diff(spec, spec.replace("units: 1000,", "units: 10,"))
    (change,) = found.layers
    assert change.b.name == "predictions" and change.params_delta == -2048 * 990 - 990
    assert found.unchanged == 175


def test_text_lines_and_colour():
    found = _diff(MLP, MLP.replace("hidden_1", "first").replace("units: 10,", "units: 12,"))
    plain = text(found)
    assert "> first  renamed from hidden_1" in plain
    assert "~ probs  units: 10 -> 12; shape (None, 10) -> (None, 12); params 1,290 -> 1,548 (+258)" in plain
    assert "params: 235,146 -> 235,404 (+258)" in plain
    assert "\x1b[" not in plain and "\x1b[" in text(found, click.style)


def test_markdown_is_a_table():
    found = _diff(MLP, MLP.replace("units: 10,", "units: 12,"))
    lines = markdown(found).splitlines()
    header = lines.index("| | layer | type | change | output shape | params |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    assert lines[header + 2] == (
        "| ~ | `probs` | Dense | units: 10 -> 12 | (None, 10) → (None, 12) | 1,290 → 1,548 (+258) |"
    )


def test_cli_exit_status_and_json(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(MLP)
    b.write_text(MLP.replace("hidden_1", "first").replace("units: 10,", "units: 12,"))
    same = run_kspec("diff", a, a)
    assert same.returncode == 0 and "no differences" in same.stdout
    different = run_kspec("diff", a, b, "--format", "json")
    assert different.returncode == 1, different.stderr
    data = json.loads(different.stdout)
    assert data["equal"] is False and data["params_delta"] == 258
    assert (data["a"]["params"], data["b"]["params"]) == (235146, 235404)
    statuses = [(layer["status"], layer["name"]) for layer in data["layers"]]
    assert statuses == [("renamed", "first"), ("changed", "probs")]
    probs = data["layers"][1]
    assert probs["args"] == [{"name": "units", "a": 10, "b": 12, "a_default": False, "b_default": False}]
    assert probs["a"]["output_shape"] == [None, 10] and probs["b"]["params"] == 1548
    assert data["weights"]["by_name"]["loads"] is False and data["weights"]["by_position"]["loads"] is False
    markdown_run = run_kspec("diff", a, b, "--format", "markdown")
    assert markdown_run.returncode == 1 and "| ~ | `probs` |" in markdown_run.stdout


def test_cli_errors_exit_2_with_located_diagnostics(tmp_path):
    a, bad = tmp_path / "a.yaml", tmp_path / "bad.yaml"
    a.write_text(MLP)
    bad.write_text(MLP.replace("type: Dropout, rate: 0.3}", "type: Dropot, rate: 0.3}", 1))
    result = run_kspec("diff", a, bad)
    assert result.returncode == 2 and result.stdout == ""
    assert (
        f"{bad}:7:" in result.stderr
        and "KS102" in result.stderr
        and "did you mean 'Dropout'" in result.stderr
    )
    assert "Traceback" not in result.stderr
    missing = run_kspec("diff", a, tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_a_saved_model_that_cannot_be_loaded_is_one_line_and_exit_2(tmp_path):
    a, broken = tmp_path / "a.yaml", tmp_path / "broken.keras"
    a.write_text(MLP)
    broken.write_bytes(b"not a zip file")
    result = run_kspec("diff", a, broken)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"kspec: cannot load {broken}")


def test_diff_of_two_specs_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kspec.cli import main\n"
        "result = CliRunner().invoke(main, ['diff', 'specs/resnet50.yaml', 'specs/tiny_resnet.yaml'])\n"
        "assert result.exit_code == 1, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_spec_equals_itself(path):
    spec = kspec.load(str(path))
    found = diff(spec, kspec.load(str(path)))
    assert found.equal and found.by_name.loads is not False and found.by_position.loads is not False


def test_a_nested_model_that_changes_kind_is_a_changed_layer_and_nothing_else():
    """`model: sequential` to `functional` keeps every layer and weight, but Keras's weight
    files are laid out by the nested model's class, so the diff says so."""
    sequential = (ROOT / "specs" / "siamese_model.yaml").read_text()
    functional = sequential.replace("model: sequential", "model: functional")
    assert _diff(sequential, sequential).equal
    found = _diff(sequential, functional)
    [change] = found.layers
    assert change.status == "changed" and change.args == [("type", "Sequential", "Functional")]
    assert change.a.name == change.b.name == "tower" and found.params_delta == 0
    assert found.by_name.loads and found.by_position.loads
