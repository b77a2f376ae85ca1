"""`--set PATH=VALUE`: the spec as if the file said VALUE there, with errors located in the file."""

import pytest

from conftest import ROOT, run_kspec
from kspec.backends.python.module import is_generated
from kspec.compiler import generate
from kspec.flatten import flatten
from kspec.overrides import OverrideError, parse
from kspec.shapes import infer
from kspec.validate import validate_file, validate_text

MLP = ROOT / "specs" / "mlp.yaml"


def test_a_set_value_gives_the_spec_the_file_would_be_with_it():
    text = MLP.read_text()
    edited = text.replace(
        "{name: hidden_1, type: Dense, units: 256", "{name: hidden_1, type: Dense, units: 32"
    )
    assert edited != text
    overridden = validate_file(str(MLP), overrides=parse(["layers.hidden_1.units=32"])).spec
    written = validate_text(edited).spec
    assert [n.args for n in flatten(overridden).nodes] == [n.args for n in flatten(written).nodes]
    assert (
        infer(overridden).total_params
        == infer(written).total_params
        != infer(validate_file(str(MLP)).spec).total_params
    )


def test_paths_name_layers_by_name_or_position_and_values_are_yaml_scalars():
    [by_name] = parse(["compile.optimizer.learning_rate=3e-4"])
    assert by_name.path == ("compile", "optimizer", "learning_rate") and by_name.value == 0.0003
    spec = validate_file(
        str(MLP), overrides=parse(["layers.0.units=8", "layers.probs.activation=linear"])
    ).spec
    first, *_, last = flatten(spec).nodes
    assert first.args["units"] == 8 and last.args["activation"] == "linear"


def test_a_path_that_leads_nowhere_is_ks016_with_the_names_there():
    [error] = validate_file(str(MLP), overrides=parse(["layers.hiden_1.units=3"])).diagnostics
    assert error.code == "KS016" and "no item 'hiden_1' in layers" in error.message
    assert "(did you mean 'hidden_1'?)" in error.message
    [error] = validate_file(str(MLP), overrides=parse(["compile.optimiser.learning_rate=1"])).diagnostics
    assert error.code == "KS016" and "(did you mean 'optimizer'?)" in error.message
    [error] = validate_file(str(MLP), overrides=parse(["width=3"])).diagnostics
    assert error.code == "KS016" and "no top-level `params`" in error.message


def test_a_bad_value_is_reported_where_the_file_has_the_value_and_says_where_it_came_from():
    [error] = validate_file(str(MLP), overrides=parse(["layers.hidden_1.units=-3"])).diagnostics
    assert error.code == "KS305" and error.line == 10
    assert error.message.endswith("(the value comes from --set layers.hidden_1.units=-3)")


@pytest.mark.parametrize("assignment", ["units", "=3", "a..b=1", "a.b=[1, 2]", "a={x: 1}", "a=@x"])
def test_a_malformed_set_is_refused_before_anything_is_read(assignment):
    with pytest.raises(OverrideError):
        parse([assignment])


def test_the_command_line_takes_set_and_refuses_a_malformed_one():
    result = run_kspec("summary", str(MLP), "--set", "layers.hidden_1.units=32", "--set", "name=mlp_small")
    assert result.returncode == 0 and 'Model: "mlp_small"' in result.stdout
    assert "(None, 32)" in result.stdout
    result = run_kspec("validate", str(MLP), "--set", "units")
    assert result.returncode == 2 and "Invalid value for '--set'" in result.stderr


def test_a_generated_module_says_which_values_the_command_line_changed():
    spec = validate_file(str(MLP), overrides=parse(["layers.probs.units=7"])).spec
    source = generate(spec, "functional")
    assert "Values changed on the command line: --set layers.probs.units=7.\n" in source
    assert is_generated(source)  # so `kspec compile` still replaces it without --force
    hostile = validate_file(str(MLP), overrides=parse(['description=x"""'])).spec
    source = generate(hostile, "functional")
    assert 'x"""' not in source and "some with --set" in source
    compile(source, "generated", "exec")
