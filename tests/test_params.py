"""Top-level `params`: values and search spaces, resolved before the spec is checked (no Keras)."""

import json
import re

import pytest

from conftest import ROOT, run_kspec
from kspec.compiler import generate
from kspec.diagnostics import SpecError
from kspec.flatten import flatten
from kspec.overrides import parse
from kspec.params import declared
from kspec.shapes import infer
from kspec.validate import validate_file, validate_text

SEARCH = ROOT / "specs" / "mlp_search.yaml"

SPEC = """\
kspec: 1
name: m
params:
  features: 8
  width: {default: 64, int: {min: 32, max: 128, step: 32}}
  depth: 2
inputs: {x: {shape: [$features]}}
layers:
  - {name: h, type: Dense, units: $width, activation: relu}
  - {name: deep, type: Dense, units: "$width // 2", repeat: $depth}
  - {name: out, type: Dense, units: 1}
outputs: out
compile:
  optimizer: {type: Adam, learning_rate: "0.5 / $width"}
  loss: mse
"""


def literal(width=64, features=8, depth=2):
    """SPEC as it would be written without parameters, with these values."""
    return f"""\
kspec: 1
name: m
inputs: {{x: {{shape: [{features}]}}}}
layers:
  - {{name: h, type: Dense, units: {width}, activation: relu}}
  - {{name: deep, type: Dense, units: {width // 2}, repeat: {depth}}}
  - {{name: out, type: Dense, units: 1}}
outputs: out
compile:
  optimizer: {{type: Adam, learning_rate: {0.5 / width}}}
  loss: mse
"""


def nodes(spec):
    return [(n.name, n.type, n.args) for n in flatten(spec).nodes]


@pytest.mark.parametrize("sets", [[], ["width=96"], ["features=3", "depth=4", "width=32"]])
def test_a_spec_with_params_is_the_spec_written_with_their_values(sets):
    values = {k: int(v) for k, v in (s.split("=") for s in sets)}
    result = validate_text(SPEC, overrides=parse(sets))
    assert result.diagnostics == []
    written = validate_text(literal(**values)).spec
    assert nodes(result.spec) == nodes(written)
    assert result.spec.inputs["x"].shape == written.inputs["x"].shape
    assert result.spec.compile == written.compile
    assert infer(result.spec).total_params == infer(written).total_params


def test_set_of_a_searched_parameter_changes_its_default_and_keeps_its_space():
    result = validate_text(SPEC, overrides=parse(["width=128"]))
    assert result.spec.params["width"].default == 128 and result.spec.params["width"].space["max"] == 128
    [error] = validate_text(SPEC, overrides=parse(["width=100"])).errors
    assert error.code == "KS018" and error.line == 5
    assert error.message.endswith("(the value comes from --set params.width.default=100)")


def spec_with(params: str, layer: str = "{name: h, type: Dense, units: $width}") -> str:
    return f"kspec: 1\nname: m\nparams:\n{params}\ninputs: {{x: {{shape: [4]}}}}\nlayers:\n  - {layer}\noutputs: h\n"


@pytest.mark.parametrize(
    "params, at, words",
    [
        ("  width: {default: 64, int: {min: 128, max: 32}}", "128,", "min 128 is above max 32"),
        ("  width: {default: 300, int: {min: 32, max: 256}}", "300", "outside [32, 256]"),
        ("  width: {default: 40, int: {min: 32, max: 256, step: 32}}", "40", "multiple of step 32"),
        (
            "  width: {default: 64, int: {min: 0, max: 256, sampling: log}}",
            "0,",
            "log sampling needs min above 0",
        ),
        ("  width: {default: 64, int: {min: 1, max: 256, step: 1, sampling: log}}", "1,", "must be above 1"),
        ("  width: {default: 64, int: {min: 32, max: 256, step: 0}}", "0}", "positive whole number"),
        ("  width: {default: 64.5, int: {min: 32, max: 256}}", "64.5", "is a whole number"),
        ("  width: {default: 64, choice: [32, 64, 64]}", "[32", "each value once"),
        ("  width: {default: 64, choice: [32, relu]}", "[32", "all of one type"),
        ("  width: {default: 48, choice: [32, 64]}", "48", "not one of the choices"),
        ("  width: {default: 64, int: {min: 32, max: 256}, choice: [64]}", "{default", "one of int, float"),
        ("  width: {default: 64}", "{default", "one of int, float"),
        ("  width: 64\n  rate: {default: 1, boolean: {}}", "1,", "true or false"),
    ],
)
def test_a_bad_search_space_is_ks018_at_its_place(params, at, words):
    result = validate_text(spec_with(params))
    [error] = [d for d in result.errors if d.code == "KS018"]
    assert words in error.message
    text = spec_with(params).splitlines()[error.line - 1]
    assert text[error.column - 1 :].startswith(at)


def test_an_unknown_name_is_ks017_with_a_suggestion_and_no_second_error():
    result = validate_text(spec_with("  width: 64", "{name: h, type: Dense, units: $widht}"))
    [error] = result.errors
    assert error.code == "KS017" and "(did you mean 'width'?)" in error.message
    [error] = validate_text(spec_with("  width: 64", '{name: h, type: Dense, units: "$width * $k"}')).errors
    assert error.code == "KS017" and "'$k'" in error.message


def test_an_expression_that_cannot_be_computed_is_ks410_and_a_bad_value_is_checked():
    [error] = validate_text(spec_with("  width: 0", '{name: h, type: Dense, units: "8 // $width"}')).errors
    assert error.code == "KS410" and "division by zero" in error.message
    [error] = validate_text(spec_with("  width: -3")).errors
    assert error.code == "KS305" and error.line == 7  # the value is checked where it is used


def test_an_unused_parameter_is_warning_ks020():
    result = validate_text(spec_with("  width: 64\n  other: 3"))
    [warning] = result.warnings
    assert warning.code == "KS020" and "'other'" in warning.message and not result.errors


def test_search_spaces_take_kerastuner_defaults():
    params = declared(
        {
            "params": {
                "a": {"int": {"min": 3, "max": 9}},
                "b": {"float": {"min": 0.5, "max": 1.0}},
                "c": {"choice": ["x", "y"]},
                "d": {"boolean": {}},
            }
        }
    )
    assert {n: p.default for n, p in params.items()} == {"a": 3, "b": 0.5, "c": "x", "d": False}


def test_the_written_spec_keeps_names_and_the_checked_one_has_values():
    spec = validate_file(str(SEARCH)).spec
    assert spec.written.scope.calls[0].args["units"] == "$width"
    assert spec.scope.calls[0].args["units"] == 64
    assert [n.args["units"] for n in flatten(spec.written).nodes if n.type == "Dense"][:2] == ["$width"] * 2


def test_generated_modules_take_the_parameters_as_keywords():
    spec = validate_file(str(SEARCH)).spec
    source = generate(spec, "functional")
    signature = re.search(r"def build_model\((.*?)\) ->", source, re.S).group(1)
    assert [part.strip() for part in signature.split(",") if part.strip()] == [
        "hp=None",
        "*",
        "features=32",
        "width=64",
        "depth=2",
        "dropout=0.2",
        'activation="relu"',
        "residual_bias=True",
        "learning_rate=0.001",
    ]
    assert "units=width // 2" in source and "shape=(features,)" in source
    assert 'hp.Int("width", min_value=32, max_value=256, step=32, default=64)' in source
    assert "def compile_model(model: keras.Model, *, learning_rate=0.001)" in source
    assert "keras_tuner" not in source


def test_a_searched_repeat_count_is_a_loop_where_the_style_can_write_one_and_ks019_elsewhere():
    text = """\
kspec: 1
name: m
params:
  depth: {default: 2, int: {min: 1, max: 3}}
inputs: {x: {shape: [8]}}
layers:
  - {name: h, type: Dense, units: 8, repeat: $depth}
  - {name: u, type: Unit, repeat: $depth}
outputs: u
blocks:
  Unit:
    inputs: [x]
    layers: [{name: dense, type: Dense, units: 8}, {name: act, type: ReLU}]
    outputs: act
"""
    spec = validate_text(text).spec
    functional = generate(spec, "functional")
    assert "for i in range(1, depth + 1):" in functional and 'name=f"h_{i}"' in functional
    assert 'name=f"u_{i}"' in functional and "sets a repeat count" not in functional
    with pytest.raises(SpecError) as caught:
        generate(spec, "sequential")  # inlines the block: the layers a loop would make are fixed
    [error] = caught.value.diagnostics
    assert error.code == "KS019" and (error.line, error.column) == (8, 35) and "'depth'" in error.message


def test_a_repeat_count_inside_a_block_is_a_whole_number_even_where_the_schema_takes_a_name():
    text = """\
kspec: 1
name: m
inputs: {x: {shape: [8]}}
layers:
  - {name: u, type: Unit, n: 2}
outputs: u
blocks:
  Unit:
    params: {n: 2}
    inputs: [x]
    layers:
      - {name: dense, type: Dense, units: 8, repeat: $n}
    outputs: dense
"""
    [error] = [d for d in validate_text(text).diagnostics if d.is_error]
    assert (error.code, error.line, error.column) == ("KS104", 12, 54) and "'$n'" in error.message


def test_summary_sweep_reports_the_corners_and_refuses_too_many(write_spec):
    result = run_kspec("summary", "--sweep", "--format", "json", SEARCH)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    swept = {"width", "depth", "dropout", "activation", "residual_bias"}  # learning_rate: compile's alone
    assert (
        all(set(c["setting"]) == swept for c in found["corners"])
        and len(found["corners"]) == 2 * 2 * 2 * 3 * 2
    )
    totals = [c["total_params"] for c in found["corners"]]
    assert found["min"]["total_params"] == min(totals) and found["max"]["total_params"] == max(totals)
    for corner in (found["min"], found["max"]):  # each corner's count is the summary with those values
        sets = [a for n, v in corner["setting"].items() for a in ("--set", f"{n}={json.dumps(v)}")]
        alone = json.loads(run_kspec("summary", "--format", "json", SEARCH, *sets).stdout)
        assert alone["total_params"] == corner["total_params"]
    fixed = json.loads(
        run_kspec("summary", "--sweep", "--format", "json", SEARCH, "--set", "width=96").stdout
    )
    assert all("width" not in c["setting"] for c in fixed["corners"])
    many = "\n".join(f"  p{i}: {{default: 1, choice: [1, 2, 3]}}" for i in range(6))
    layer = "{name: h, type: Dense, units: " + '"' + " + ".join(f"$p{i}" for i in range(6)) + '"}'
    refused = run_kspec("summary", "--sweep", write_spec(spec_with(many, layer)))
    assert refused.returncode == 1 and "KS021" in refused.stderr and "729 corners" in refused.stderr


def test_an_included_file_with_params_is_ks018_there(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "lib.yaml").write_text(
        "kspec: 1\nparams: {width: 8}\nblocks:\n  B:\n    inputs: [x]\n    layers: [{name: d, type: Dense, units: 4}]\n    outputs: d\n"
    )
    (tmp_path / "m.yaml").write_text(
        "kspec: 1\nname: m\ninclude: [lib.yaml]\ninputs: {x: {shape: [4]}}\nlayers: [{name: b, type: B}]\noutputs: b\n"
    )
    [error] = validate_file(str(tmp_path / "m.yaml")).errors
    assert error.code == "KS018" and error.path.endswith("lib.yaml") and (error.line, error.column) == (2, 1)


def test_a_corner_where_the_spec_is_invalid_is_listed_with_its_error(write_spec):
    path = write_spec(spec_with("  width: {default: 8, int: {min: 0, max: 8}}"))
    found = json.loads(run_kspec("summary", "--sweep", "--format", "json", path).stdout)
    invalid, valid = found["corners"]
    assert (
        invalid["setting"] == {"width": 0}
        and invalid["total_params"] is None
        and " KS305 " in invalid["error"]
    )
    assert ":7:" in invalid["error"] and "units" in invalid["error"]
    assert found["min"] == found["max"] == {"setting": {"width": 8}, "total_params": valid["total_params"]}
    text = run_kspec("summary", "--sweep", path).stdout
    assert "invalid at width=0: " in text and "min params: " in text
