"""The pre-commit hook, run for real by pre-commit against this repository."""

import shutil
import subprocess

import pytest

from conftest import ROOT
from test_cli import BAD

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path):
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    (tmp_path / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "mlp.yaml", tmp_path / "specs" / "good.yaml")
    (tmp_path / "specs" / "bad.yaml").write_text(BAD)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def try_repo(repo, *files):
    return subprocess.run(
        ["pre-commit", "try-repo", str(ROOT), "kspec-validate", "--files", *files],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def test_hook_passes_on_a_good_spec_and_fails_on_a_bad_one(repo):
    good = try_repo(repo, "specs/good.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    bad = try_repo(repo, "specs/bad.yaml")
    assert bad.returncode == 1
    assert "specs/bad.yaml:5:12: error KS102" in bad.stdout
