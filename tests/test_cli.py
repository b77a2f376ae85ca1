"""`kspec validate` as a user runs it: exit codes, formats, and no TensorFlow."""

import json

import pytest

from conftest import ROOT, SPECS, run_kspec

BAD = "kspec: 1\nname: m\ninputs: {x: {shape: [8]}}\nlayers:\n  - {type: Dense2, units: 3}\noutputs: dense2\n"
WARN = (
    "kspec: 1\nname: m\ninputs: {x: {shape: [8]}}\nlayers:\n  - {name: a, type: Dense, units: 3}\n"
    "  - {name: b, type: Dense, units: 3, inputs: x}\noutputs: b\n"
)


def test_bundled_specs_are_valid():
    result = run_kspec("validate", "specs")
    assert result.returncode == 0, result.stdout
    libraries = list((ROOT / "specs").glob("*/*.yaml"))  # block libraries, specs/blocks/*.yaml
    assert f"All {len(SPECS) + len(libraries)} specs valid." in result.stdout


def test_error_is_printed_with_location_source_line_and_caret(write_spec):
    path = write_spec(BAD)
    result = run_kspec("validate", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:5:12: error KS102 unknown layer type 'Dense2' (did you mean 'Dense'?)"
    assert lines[1] == "  5 |   - {type: Dense2, units: 3}"
    assert lines[2] == "    |            ^"
    assert "Traceback" not in result.stderr


def test_json_format(write_spec):
    path = write_spec(BAD)
    result = run_kspec("validate", "--format", "json", path)
    assert result.returncode == 1
    [item] = json.loads(result.stdout)
    assert item == {
        "path": str(path),
        "line": 5,
        "column": 12,
        "code": "KS102",
        "severity": "error",
        "message": "unknown layer type 'Dense2' (did you mean 'Dense'?)",
        "hint": item["hint"],
    }


def test_github_format(write_spec):
    path = write_spec(BAD)
    result = run_kspec("validate", "--format", "github", path)
    assert result.stdout.startswith(f"::error file={path},line=5,col=12,title=KS102::unknown layer type")


def test_warnings_pass_unless_strict(write_spec):
    path = write_spec(WARN)
    relaxed = run_kspec("validate", path)
    assert relaxed.returncode == 0
    assert "warning KS206" in relaxed.stdout
    assert run_kspec("validate", "--strict", path).returncode == 1


def test_directories_are_searched_and_all_files_reported(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(BAD)
    (tmp_path / "sub" / "b.yml").write_text(BAD)
    (tmp_path / "notes.txt").write_text("not a spec")
    result = run_kspec("validate", "--format", "json", tmp_path)
    assert {item["path"] for item in json.loads(result.stdout)} == {
        str(tmp_path / "a.yaml"),
        str(tmp_path / "sub" / "b.yml"),
    }


@pytest.mark.parametrize(
    "args", [("validate", "/no/such/spec.yaml"), ("validate",), ("validate", "--format", "xml", "specs")]
)
def test_usage_errors_exit_2(args):
    result = run_kspec(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_unreadable_file_exits_2(tmp_path):
    import os

    path = tmp_path / "locked.yaml"
    path.write_text(BAD)
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything
        pytest.skip("running as a user who can read any file")
    assert run_kspec("validate", path).returncode == 2


def test_a_path_that_cannot_be_read_is_ks000(tmp_path):
    from kspec.validate import validate_file

    result = validate_file(str(tmp_path))  # a directory opened as a file
    assert [d.code for d in result.diagnostics] == ["KS000"]
    assert result.unreadable


def test_empty_directory_is_a_usage_error(tmp_path):
    result = run_kspec("validate", tmp_path)
    assert result.returncode == 2
    assert "no *.yaml" in result.stderr


def test_every_invalid_corpus_file_exits_1_without_traceback():
    result = run_kspec("validate", ROOT / "tests" / "invalid")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kspec.cli import main\n"
        "result = CliRunner().invoke(main, ['validate', 'specs', 'tests/fixtures/ops_attention.yaml', 'tests/invalid'])\n"
        "assert result.exit_code == 1, result.output\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(loaded)\n"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_help_explains_every_command():
    result = run_kspec("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "schema" in result.stdout
    assert "Exit status" in run_kspec("validate", "--help").stdout


def test_parallel_validation_reports_exactly_what_serial_validation_does():
    from kspec.validate import spec_files, validate_files

    files = spec_files([str(ROOT / "tests" / "invalid"), str(ROOT / "specs")])
    serial = [(r.document.path, r.diagnostics, r.document.text) for r in validate_files(files, jobs=1)]
    parallel = [(r.document.path, r.diagnostics, r.document.text) for r in validate_files(files, jobs=3)]
    assert parallel == serial
    assert run_kspec("validate", "-j", "2", "specs").returncode == 0
