"""Expansion is bounded before it happens: repeat bombs and deep block chains stop at once.

Every bomb runs in a child process under a memory limit and a time limit, so that a
regression fails the test instead of exhausting the machine.
"""

import resource
import subprocess
import sys

import pytest

from conftest import ROOT
from kspec.checks.expansion import DEFAULT_MAX_EXPANSION, MAX_BLOCK_NESTING
from kspec.flatten import flatten
from kspec.validate import Limits, validate_text

MEMORY_LIMIT = 1 << 30
CORPUS = sorted((ROOT / "tests" / "fuzz_corpus").glob("*.yaml"))
HEAD = "kspec: 1\nname: bomb\ninputs:\n  x: {shape: [4]}\n"


def run_bounded(*args, seconds=20, env=None):
    """`python -m kspec ARGS` with at most MEMORY_LIMIT bytes of memory and `seconds` of time."""

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "kspec", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=seconds,
        preexec_fn=limit_memory,
        env=env,
    )


def repeat_spec(times: int) -> str:
    return HEAD + (
        f"layers:\n  - {{name: b, type: B, repeat: {times}}}\noutputs: b\nblocks:\n"
        "  B:\n    inputs: [x]\n    layers:\n      - {name: d, type: Dense, units: 4, inputs: x}\n"
        "    outputs: [d]\n"
    )


def block_chain(depth: int) -> str:
    """Block B1 calls B2 ... calls B<depth>, which holds one Dense."""
    blocks = "".join(
        f"  B{i}:\n    inputs: [x]\n    layers:\n"
        + (
            f"      - {{name: c, type: B{i + 1}, inputs: x}}\n"
            if i < depth
            else "      - {name: c, type: Dense, units: 4, inputs: x}\n"
        )
        + "    outputs: [c]\n"
        for i in range(1, depth + 1)
    )
    return HEAD + "layers:\n  - {name: a, type: B1}\noutputs: a\nblocks:\n" + blocks


@pytest.mark.parametrize("command", ["validate", "summary", "compile", "graph"])
def test_a_billion_repeats_is_refused_at_the_repeat(command):
    result = run_bounded(command, "tests/fuzz_corpus/hostile_repeat_billion.yaml")
    assert result.returncode == 1, result.stderr
    output = result.stdout + result.stderr
    assert "hostile_repeat_billion.yaml:6:32: error KS407" in output  # the `repeat` value
    assert "Traceback" not in output and "MemoryError" not in output


def test_nested_repeats_are_refused_at_the_call_that_crosses_the_limit():
    result = run_bounded("validate", "tests/fuzz_corpus/hostile_nested_repeats.yaml", seconds=10)
    assert result.returncode == 1
    # C holds 1 layer, B repeats C 1,000 times (2,000 calls), A repeats B 1,000 times: A crosses.
    assert "hostile_nested_repeats.yaml:12:36: error KS407" in result.stdout
    assert "(1,000 x 2,001)" in result.stdout


def test_a_chain_of_blocks_deeper_than_the_nesting_limit_is_refused():
    result = validate_text(block_chain(3_000))
    assert [d.code for d in result.errors] == ["KS408"]
    assert str(MAX_BLOCK_NESTING) in result.errors[0].message


def test_a_chain_of_blocks_at_the_nesting_limit_expands():
    result = validate_text(block_chain(MAX_BLOCK_NESTING))
    assert result.errors == []
    [node] = flatten(result.spec).nodes
    assert node.name == "a_" + "c_" * (MAX_BLOCK_NESTING - 1) + "c"


NESTED = HEAD + (
    "layers:\n  - {name: a, type: A, repeat: 3}\noutputs: a\nblocks:\n"
    "  A:\n    inputs: [x]\n    layers:\n"
    "      - {name: b, type: B, repeat: 4, inputs: x}\n      - {name: d, type: Dense, units: 4}\n"
    "    outputs: [d]\n"
    "  B:\n    inputs: [x]\n    layers:\n"
    "      - {name: d1, type: Dense, units: 4, inputs: x}\n      - {name: d2, type: Dense, units: 4}\n"
    "    outputs: [d2]\n"
)
# The work of expanding NESTED: B is 2 calls, A is 4 x (1 + 2) + 1 = 13, the model 3 x (1 + 13).
NESTED_WORK = 42


def test_the_count_multiplies_through_nested_blocks_exactly():
    assert validate_text(NESTED, limits=Limits(max_expansion=NESTED_WORK)).errors == []
    over = validate_text(NESTED, limits=Limits(max_expansion=NESTED_WORK - 1)).errors
    assert [(d.code, d.line) for d in over] == [("KS407", 6)]
    spec = validate_text(NESTED).spec
    assert len(flatten(spec).nodes) == 3 * (4 * 2 + 1)  # the layer calls among that work


def test_an_empty_block_repeated_a_billion_times_is_work_too():
    result = run_bounded("validate", "tests/fuzz_corpus/hostile_empty_block_repeat.yaml", seconds=10)
    assert "KS407" in result.stdout


def test_the_limit_is_set_by_option_and_environment():
    spec = ROOT / "tests" / "fuzz_corpus" / "hostile_repeat_billion.yaml"
    text = repeat_spec(60_000)  # 120,000 calls: the block call and its Dense, 60,000 times
    assert "KS407" in {d.code for d in validate_text(text).errors}
    assert validate_text(text, limits=Limits(max_expansion=120_000)).errors == []
    assert run_bounded("validate", "--max-expansion", "10", "specs/tiny_resnet.yaml").returncode == 1
    assert run_bounded("summary", "--max-expansion", "100", "specs/tiny_resnet.yaml").returncode == 0
    env = {"KSPEC_MAX_EXPANSION": "10", "PATH": "/usr/bin:/bin"}
    result = run_bounded("compile", "specs/tiny_resnet.yaml", env=env)
    assert result.returncode == 1 and "past 10 layer calls" in result.stderr
    assert "--max-expansion" in run_bounded("validate", "--help").stdout
    assert run_bounded("validate", spec).returncode == 1


def test_the_default_limit_is_the_documented_one():
    assert DEFAULT_MAX_EXPANSION == 100_000
    assert "100,000" in (ROOT / "docs" / "security.md").read_text()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_fuzz_corpus_replays_cleanly_under_limits(path):
    for command in ("validate", "summary"):
        result = run_bounded(command, path, seconds=30)
        assert result.returncode in (0, 1, 2), result.stderr
        assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_running_out_of_memory_or_stack_is_one_line_not_a_traceback(monkeypatch, error):
    from click.testing import CliRunner

    from kspec import cli

    def exhausted(*args, **kwargs):
        raise error

    monkeypatch.setattr("kspec.validate.validate_files", exhausted)
    result = CliRunner().invoke(cli.main, ["validate", str(ROOT / "specs" / "mlp.yaml")])
    assert result.exit_code == 1
    assert result.output.startswith("kspec: ran out of ") and result.output.count("\n") == 1
    assert not isinstance(result.exception, error)
