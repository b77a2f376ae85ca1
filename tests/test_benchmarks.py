"""The benchmark command runs (a smoke test: no timing is asserted here)."""

import subprocess
import sys

import pytest

from conftest import HAS_KERAS, ROOT


@pytest.mark.slow
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_the_whole_quick_run_completes():
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for suite_row in (
        "PyYAML C-loader parse",
        "kspec summary",
        "kspec diff of two ResNet-50 specs",
        "kspec.build",
        "kspec importing",
        "plan --verify",
        "growth exponent",
    ):
        assert suite_row in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith(("all goals met", "goals missed"))


def test_an_unknown_suite_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "nope"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and "unknown suite nope" in done.stderr
