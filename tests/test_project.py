"""The project's promises about itself: README commands, CI, light core install."""

import re

from conftest import ROOT


def readme_commands():
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", setup, re.S)


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command():
    test_command = readme_commands()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_core_install_needs_only_yaml_jsonschema_click():
    cfg = (ROOT / "setup.cfg").read_text()
    requires = cfg.split("install_requires =", 1)[1].split("\n\n", 1)[0]
    names = {re.split(r"[<>=!~ ]", line.strip())[0] for line in requires.splitlines() if line.strip()}
    assert names == {"pyyaml", "jsonschema", "click"}
