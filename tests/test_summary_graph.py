"""`kspec summary` and `kspec graph` as users run them, without TensorFlow."""

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, run_kspec


def test_summary_table_shows_totals_and_collapsed_blocks():
    result = run_kspec("summary", "specs/tiny_resnet.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'Model: "tiny_resnet"'
    assert any(line.startswith("res1 (ResidualBlock)") and "4,736" in line for line in lines)
    assert not any("res1_conv_a" in line for line in lines)
    assert "Total params: 14,874 (58.10 KB)" in lines
    assert "Non-trainable params: 224 (896.00 B)" in lines


def test_summary_expand_shows_block_layers_indented():
    lines = run_kspec("summary", "--expand", "specs/tiny_resnet.yaml").stdout.splitlines()
    assert any(line.startswith("  res1_conv_a (Conv2D)") for line in lines)


def test_summary_json_shape():
    data = json.loads(run_kspec("summary", "--format", "json", "specs/two_tower.yaml").stdout)
    assert set(data) >= {"layers", "total_params", "trainable_params", "non_trainable_params"}
    merged = next(layer for layer in data["layers"] if layer["name"] == "merged")
    assert merged == {
        "name": "merged",
        "type": "Concatenate",
        "output_shape": [None, 64],
        "params": 0,
        "trainable_params": 0,
        "inputs": ["feat_dense", "text_dense"],
        "block": None,
    }
    assert data["total_params"] == sum(layer["params"] for layer in data["layers"])


def test_summary_of_an_invalid_spec_prints_diagnostics_and_exits_1():
    result = run_kspec("summary", "tests/invalid/shape_add_mismatch.yaml")
    assert result.returncode == 1
    assert "KS601" in result.stderr and "Traceback" not in result.stderr


def test_unknown_shapes_are_question_marks():
    result = run_kspec("summary", "tests/invalid/shape_no_rule_warning.yaml")
    assert result.returncode == 0
    assert "Total params: ?" in result.stdout


def test_mermaid_graph_has_clusters_and_edges():
    out = run_kspec("graph", "specs/tiny_resnet.yaml").stdout
    assert out.startswith("flowchart TD\n")
    assert 'subgraph res1__block ["res1: ResidualBlock"]' in out
    assert 'res1_conv_a["res1_conv_a<br/>Conv2D<br/>(None, 32, 32, 16)"]' in out
    assert "  res1_bn_b --> res1_add" in out and "  stem_act --> res1_add" in out


def test_dot_graph_is_accepted_by_graphviz_when_installed(tmp_path):
    out = run_kspec("graph", "--format", "dot", "specs/inception_mini.yaml").stdout
    assert 'subgraph "cluster_mixed_1" {' in out and 'subgraph "cluster_mixed_1_branch1" {' in out
    assert (
        '"enc" -> "dec" [label="1"];'
        in run_kspec("graph", "--format", "dot", "specs/seq2seq_lstm.yaml").stdout
    )
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    target = tmp_path / "g.svg"
    result = run_kspec("graph", "--format", "svg", "specs/inception_mini.yaml", "-o", target)
    assert result.returncode == 0, result.stderr
    assert target.read_text().lstrip().startswith("<?xml")
    png = tmp_path / "g.png"
    assert run_kspec("graph", "--format", "png", "specs/mlp.yaml", "-o", png).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_graphviz_names_the_package(tmp_path):
    env_path = str(tmp_path)  # a PATH with no `dot` on it
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kspec",
            "graph",
            "--format",
            "svg",
            "specs/mlp.yaml",
            "-o",
            str(tmp_path / "g.svg"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": env_path},
    )
    assert result.returncode == 2
    assert "graphviz" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "g.svg").exists()


def test_svg_without_output_is_a_usage_error():
    result = run_kspec("graph", "--format", "svg", "specs/mlp.yaml")
    assert result.returncode == 2 and "-o" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["summary", "specs/resnet50.yaml"],
        ["graph", "specs/resnet50.yaml"],
        ["summary", "--format", "json", "specs/seq2seq_lstm.yaml"],
        ["summary", "--sweep", "specs/mlp_search.yaml"],
    ],
)
def test_summary_and_graph_import_neither_tensorflow_nor_keras(command):
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom kspec.cli import main\n"
        f"result = CliRunner().invoke(main, {command!r})\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
