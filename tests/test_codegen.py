"""Generated modules: valid, formatted, deterministic, and equal to the golden files."""

import ast
import hashlib
import shutil
import subprocess
import sys

import pytest

import kspec
from conftest import ROOT, SPECS, run_kspec
from kspec.backends.styles import allowed_styles

GOLDEN = ROOT / "tests" / "golden"
GOLDEN_SPECS = ["mlp", "tiny_resnet", "siamese", "seq2seq_lstm", "inception_mini", "mlp_search"]
CASES = [(p, s) for p in SPECS for s in allowed_styles(kspec.load(p))]


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    paths = []
    for path, style in CASES:
        target = folder / f"{path.stem}_{style}.py"
        target.write_text(kspec.generate(path, style))
        paths.append(target)
    return paths


@pytest.mark.parametrize("path, style", CASES, ids=[f"{p.stem}-{s}" for p, s in CASES])
def test_module_parses_and_is_deterministic(path, style):
    source = kspec.generate(path, style)
    tree = ast.parse(source)
    assert source == kspec.generate(path, style)
    assert "import tensorflow" not in source
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"(sha256 {digest})" in source and f"from {path.name}" in source
    assert {type(node).__name__ for node in tree.body} <= {
        "Expr",
        "Import",
        "ImportFrom",
        "FunctionDef",
        "ClassDef",
    }
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"build_model", "compile_model"} <= functions


@pytest.mark.parametrize(
    "tool", [["black", "--check", "-q", "-l", "88"], ["ruff", "format", "--isolated", "--check", "-q"]]
)
def test_modules_are_formatter_clean(modules, tool):
    if shutil.which(tool[0]) is None:
        pytest.skip(f"{tool[0]} is not installed (pip install '.[test]')")
    result = subprocess.run([*tool, *map(str, modules)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", GOLDEN_SPECS)
def test_golden_files(name, update_golden):
    path = ROOT / "specs" / f"{name}.yaml"
    for style in ("sequential", "functional", "subclass"):
        golden = GOLDEN / name / f"{style}.py"
        if style not in allowed_styles(kspec.load(path)):
            assert not golden.exists()
            continue
        source = kspec.generate(path, style).replace(
            hashlib.sha256(path.read_bytes()).hexdigest(), "<sha256 of the spec>"
        )
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(source)
        assert golden.read_text() == source, f"{golden} differs: run pytest --update-golden after checking"


def test_sequential_refused_for_a_dag_with_the_layer_that_breaks_it():
    result = run_kspec("compile", "--style", "sequential", "specs/tiny_resnet.yaml")
    assert result.returncode == 1
    assert "specs/tiny_resnet.yaml:14:5: error KS211" in result.stderr
    assert "'res1_add'" in result.stderr


def test_compile_writes_atomically_and_respects_foreign_files(tmp_path):
    target = tmp_path / "model.py"
    assert run_kspec("compile", "specs/mlp.yaml", "-o", target).returncode == 0
    first = target.read_text()
    assert run_kspec("compile", "specs/mlp.yaml", "--style", "sequential", "-o", target).returncode == 0
    assert target.read_text() != first  # our own file is replaced
    mine = tmp_path / "mine.py"
    mine.write_text("HAND_WRITTEN = True\n")
    refused = run_kspec("compile", "specs/mlp.yaml", "-o", mine)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert mine.read_text() == "HAND_WRITTEN = True\n"
    assert run_kspec("compile", "specs/mlp.yaml", "-o", mine, "--force").returncode == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kspec-")] == []


def test_compile_all_styles_into_a_directory(tmp_path):
    result = run_kspec("compile", "specs/siamese.yaml", "--style", "all", "-o", tmp_path / "out")
    assert result.returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "siamese_functional.py",
        "siamese_subclass.py",
    ]
    alone = run_kspec("compile", "specs/siamese.yaml", "--style", "sequential")
    assert alone.returncode == 1
    reason = alone.stderr.split(" KS211 ")[1].splitlines()[0]  # the message --style sequential gives
    assert f"skipped sequential: {reason} (specs/siamese.yaml:" in result.stderr


def test_a_failed_compile_leaves_no_file(tmp_path):
    target = tmp_path / "never.py"
    assert run_kspec("compile", "tests/invalid/cycle.yaml", "-o", target).returncode == 1
    assert not target.exists()


def test_generate_does_not_import_keras():
    code = (
        "import sys, kspec\n"
        "for s in ('functional', 'subclass'): kspec.generate('specs/tiny_resnet.yaml', s)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("style, caller", [("functional", "{name}"), ("subclass", "<block name>")])
def test_a_block_docstring_says_how_a_braced_keras_name_is_filled(style, caller):
    source = kspec.generate(kspec.load(BRACED_NAMES), style)
    cell = next(n for n in ast.walk(ast.parse(source)) if getattr(n, "name", "") in ("cell", "Cell"))
    docstring = ast.get_docstring(cell)
    assert f"`{caller}_<layer>`" in docstring and f"`{caller}` for a `{{}}` in a keras_name" in docstring


BRACED_NAMES = """
kspec: 1
name: braced
inputs: {x: {shape: [4]}}
layers:
  - {name: c1, type: Cell}
  - {name: c2, type: Cell}
outputs: c2
blocks:
  Cell:
    inputs: [x]
    layers:
      - {name: conv, type: Dense, units: 4, keras_name: "normal_conv_{}", inputs: x}
      - {name: out, type: ReLU}
    outputs: out
"""
