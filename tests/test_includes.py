"""`include:`: blocks from other files, located errors in them, and the limits on what is read."""

import os
import subprocess
import sys
import time

import pytest

import kspec
from conftest import ROOT
from kspec.includes import MAX_INCLUDED
from kspec.validate import Limits, validate_file, validate_files

LIBRARY = """kspec: 1
blocks:
  Unit:
    params: {units: null}
    inputs: [x]
    layers:
      - {name: dense, type: Dense, units: $units}
      - {name: act, type: ReLU}
    outputs: act
"""

SPEC = """kspec: 1
name: m
include: [{include}]
inputs: {{x: {{shape: [8]}}}}
layers:
  - {{name: u, type: Unit, units: 4, repeat: 2}}
outputs: u
"""


@pytest.fixture
def project(tmp_path):
    """A folder that holds .git (the project root), with a library and a spec that includes it."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "unit.yaml").write_text(LIBRARY)
    (tmp_path / "spec.yaml").write_text(SPEC.format(include="lib/unit.yaml"))
    return tmp_path


def located(result):
    return [(os.path.basename(d.path), d.line, d.code) for d in result.diagnostics]


def test_an_included_block_is_the_block_written_in_the_spec(project):
    inlined = project / "inlined.yaml"
    inlined.write_text(SPEC.format(include="").replace("include: []\n", "") + LIBRARY.split("\n", 1)[1])
    with_include = kspec.load(project / "spec.yaml")
    written_in = kspec.load(inlined)
    for style in ("functional", "subclass"):
        body = kspec.generate(with_include, style).split('"""', 2)[2]
        assert body == kspec.generate(written_in, style).split('"""', 2)[2]  # self-contained
    assert [n.name for n in kspec.flatten.flatten(with_include).nodes] == [
        "u_1_dense",
        "u_1_act",
        "u_2_dense",
        "u_2_act",
    ]


def test_a_problem_in_an_included_file_is_reported_in_that_file(project):
    (project / "lib" / "unit.yaml").write_text(LIBRARY.replace("type: ReLU", "type: Relu"))
    result = validate_file(str(project / "spec.yaml"))
    assert located(result) == [("unit.yaml", 8, "KS102")]
    cli = subprocess.run(
        [sys.executable, "-m", "kspec", "validate", str(project / "spec.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "unit.yaml:8:" in cli.stdout and "8 |       - {name: act, type: Relu}" in cli.stdout


def test_an_included_file_is_checked_against_the_schema_where_it_is(project):
    (project / "lib" / "unit.yaml").write_text(LIBRARY.replace("inputs: [x]", "inputs: x"))
    assert located(validate_file(str(project / "spec.yaml"))) == [("unit.yaml", 5, "KS104")]


def test_includes_are_followed_transitively_and_once(project):
    (project / "lib" / "unit.yaml").write_text("kspec: 1\ninclude: [more.yaml, ./more.yaml]\n" + LIBRARY[9:])
    (project / "lib" / "more.yaml").write_text(
        "kspec: 1\nblocks:\n  Twice:\n    inputs: [x]\n    layers: [{name: u, type: Unit, units: 2}]\n"
        "    outputs: u\n"
    )
    (project / "spec.yaml").write_text(
        SPEC.format(include="lib/unit.yaml").replace("type: Unit, units: 4", "type: Twice")
    )
    result = validate_file(str(project / "spec.yaml"))
    assert result.diagnostics == []
    assert sorted(result.spec.blocks) == ["Twice", "Unit"]


def test_a_cycle_is_one_error_that_shows_the_chain(project):
    (project / "lib" / "unit.yaml").write_text("kspec: 1\ninclude: [../spec.yaml]\n" + LIBRARY[9:])
    [error] = validate_file(str(project / "spec.yaml")).diagnostics
    assert (os.path.basename(error.path), error.line, error.code) == ("unit.yaml", 2, "KS013")
    assert error.hint.endswith("spec.yaml:3 includes " + str(project / "lib" / "unit.yaml") + ":2 again")


def test_a_missing_file_is_located_at_the_entry(project):
    (project / "spec.yaml").write_text(SPEC.format(include="lib/unti.yaml"))
    [error] = validate_file(str(project / "spec.yaml")).errors
    assert (error.line, error.code) == (3, "KS012") and "lib/unti.yaml' does not exist" in error.message


def test_an_include_cannot_leave_the_project_root_even_through_a_link(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "unit.yaml").write_text(LIBRARY)
    os.symlink(outside / "unit.yaml", project / "lib" / "link.yaml")
    for entry in (str(outside / "unit.yaml"), "lib/link.yaml", "../" + outside.name + "/unit.yaml"):
        (project / "spec.yaml").write_text(SPEC.format(include=entry))
        assert [e.code for e in validate_file(str(project / "spec.yaml")).errors] == ["KS014"], entry
    allowed = Limits(include_root=str(outside.parent))
    assert validate_file(str(project / "spec.yaml"), allowed).diagnostics == []


def test_a_name_defined_twice_says_where_the_first_is(project):
    (project / "spec.yaml").write_text(SPEC.format(include="lib/unit.yaml") + LIBRARY.split("\n", 1)[1])
    [error] = validate_file(str(project / "spec.yaml")).diagnostics
    assert (os.path.basename(error.path), error.code) == ("unit.yaml", "KS201")
    assert error.message == "block 'Unit' is defined twice" and "spec.yaml:9" in error.hint


def test_too_many_included_files_stop_early(project):
    for i in range(MAX_INCLUDED + 10):  # a chain: each file includes the next
        (project / "lib" / f"f{i}.yaml").write_text(
            f"kspec: 1\ninclude: [f{i + 1}.yaml]\n" + LIBRARY[9:].replace("Unit", f"U{i}")
        )
    (project / "lib" / f"f{MAX_INCLUDED + 10}.yaml").write_text(LIBRARY)
    (project / "spec.yaml").write_text(SPEC.format(include="lib/f0.yaml"))
    started = time.perf_counter()
    codes = [d.code for d in validate_file(str(project / "spec.yaml")).errors]
    assert codes == ["KS015"]
    assert time.perf_counter() - started < 10  # a generous bound; benchmarks/ measures it


def test_a_block_library_is_valid_on_its_own_and_has_no_model(project):
    library = str(project / "lib" / "unit.yaml")
    assert validate_file(library).diagnostics == []
    cli = subprocess.run(
        [sys.executable, "-m", "kspec", "summary", library], capture_output=True, text=True, cwd=ROOT
    )
    assert cli.returncode == 1 and "KS101 this file is a block library" in cli.stdout + cli.stderr


def test_parallel_validation_quotes_the_included_file(project):
    (project / "lib" / "unit.yaml").write_text(LIBRARY.replace("type: ReLU", "type: Relu"))
    for i in range(3):
        (project / f"s{i}.yaml").write_text(SPEC.format(include="lib/unit.yaml"))
    paths = [str(project / f"s{i}.yaml") for i in range(3)]
    for result in validate_files(paths, jobs=2):
        [diagnostic] = result.diagnostics
        assert "type: Relu" in result.source_line(diagnostic)


def test_the_bundled_library_serves_two_specs():
    for name in ("small_resnet", "image_embedder"):
        spec = kspec.load(ROOT / "specs" / f"{name}.yaml")
        assert {"ConvBN", "Residual"} <= set(spec.blocks)
    assert validate_file(str(ROOT / "specs" / "blocks" / "residual.yaml")).diagnostics == []
