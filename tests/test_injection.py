"""Text from a spec reaches generated code only as identifiers or literals."""

import ast
import json

import pytest

import kspec
from conftest import HAS_KERAS
from kspec.validate import validate_text

HOSTILE_STRINGS = ['a"b', "c'd", 'e"""f', "g\\h", "new\nline", "#hash", "é\u2028x", "{x}", "\x00"]
PAYLOAD = '"""\nimport os\nopen("PWNED", "w")\n"""'


def hostile_spec() -> str:
    """A valid spec whose names are Python keywords and whose strings try to break out."""
    return f"""
kspec: 1
name: import
description: {json.dumps(PAYLOAD)}
inputs:
  def: {{shape: [1], dtype: string}}
layers:
  - name: class
    type: StringLookup
    oov_token: {json.dumps(HOSTILE_STRINGS[0] + HOSTILE_STRINGS[4])}
    vocabulary: {json.dumps(HOSTILE_STRINGS)}
  - {{name: lambda, type: Blk, self: 3, cls: 2}}
outputs: {{return: lambda}}
blocks:
  Blk:
    params: {{self: null, cls: null}}
    inputs: [yield]
    layers:
      - {{name: if, type: Dense, units: $self, inputs: yield}}
      - {{name: for, type: Dense, units: $cls}}
    outputs: for
"""


def test_hostile_spec_is_valid_and_every_module_is_plain_definitions(tmp_path, monkeypatch):
    result = validate_text(hostile_spec())
    assert [d for d in result.diagnostics if d.is_error] == []
    for style in ("functional", "subclass"):
        source = kspec.generate(result.spec, style)
        tree = ast.parse(source)
        assert {type(node).__name__ for node in tree.body} <= {
            "Expr",
            "Import",
            "ImportFrom",
            "FunctionDef",
            "ClassDef",
        }
        assert ast.get_docstring(tree).count("PWNED") == 0
        imports = {
            alias.name
            for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        assert imports == {"keras", "layers"}
        strings = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert set(HOSTILE_STRINGS) <= strings


@pytest.mark.parametrize(
    "bad, code",
    [
        ("custom: {Evil: 'os:system'}\n", "KS502"),
        ("custom: {Evil: 'os.path; import os:x'}\n", "KS502"),
        ("custom: {Evil: 'builtins:eval'}\n", "KS502"),
        ("custom: {Evil: 'subprocess:Popen'}\n", "KS502"),
        ("custom: {Evil: 'my.class.layers:Evil'}\n", "KS502"),
        ("custom: {Evil: 'my_layers:Evil'}\n", None),
    ],
)
def test_custom_import_paths_are_checked_and_never_imported_by_validate(bad, code):
    text = "kspec: 1\nname: m\ninputs: {x: {shape: [2]}}\nlayers: [{name: e, type: Evil}]\noutputs: e\n" + bad
    found = [d.code for d in validate_text(text).diagnostics if d.is_error]
    assert found == ([code] if code else [])


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_a_custom_path_to_a_function_is_refused_at_build(tmp_path):
    spec = kspec.load(
        "kspec: 1\nname: m\ninputs: {x: {shape: [2]}}\nlayers: [{name: e, type: Evil}]\n"
        "outputs: e\ncustom: {Evil: 'yaml:safe_load'}\n"
    )
    with pytest.raises(TypeError, match="not a keras.layers.Layer subclass"):
        kspec.build(spec)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_hostile_module_does_exactly_what_the_spec_says(tmp_path, monkeypatch):
    from kspec.compiler import load_module

    monkeypatch.chdir(tmp_path)
    spec = kspec.load(hostile_spec())
    for style in ("functional", "subclass"):
        module = load_module(kspec.generate(spec, style), f"kspec_generated_hostile_{style}")
        model = module.build_model()
        lookup = next(layer for layer in _leaves(model) if layer.name == "class")
        config = lookup.get_config()
        assert config["oov_token"] == HOSTILE_STRINGS[0] + HOSTILE_STRINGS[4]
        assert list(config["vocabulary"]) == HOSTILE_STRINGS or lookup.get_vocabulary()[1:] == HOSTILE_STRINGS
        assert {layer.name for layer in _leaves(model)} == {"class", "lambda_if", "lambda_for"}
        assert model.name == "import"
    assert not (tmp_path / "PWNED").exists()


def _leaves(model):
    todo, out = list(model.layers), []
    while todo:
        layer = todo.pop(0)
        inner = list(layer._flatten_layers(include_self=False, recursive=False))
        if inner and type(layer).__module__.startswith("kspec_generated"):
            todo[:0] = inner
        elif type(layer).__name__ != "InputLayer":
            out.append(layer)
    return out


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_build_of_a_missing_custom_module_is_a_clean_error(tmp_path):
    from conftest import run_kspec

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "kspec: 1\nname: m\ninputs: {x: {shape: [4]}}\nlayers: [{name: s, type: Scale}]\n"
        "outputs: s\ncustom: {Scale: 'no_such_pkg.layers:Scale'}\n"
    )
    result = run_kspec("build", spec)
    assert result.returncode == 2
    assert "No module named 'no_such_pkg'" in result.stderr and "Traceback" not in result.stderr
