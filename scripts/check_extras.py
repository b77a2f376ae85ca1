"""Check that kspec's extras never bring a second TensorFlow, and take ranges, not pins.

Usage: python scripts/check_extras.py   (CI runs it; it needs pip and the package index)

For each extra, pip resolves it as if nothing were installed (`--dry-run --ignore-installed`)
and the TensorFlow distributions it would install are compared with the one the extra names:
[tensorflow] must bring `tensorflow` and never `tensorflow-cpu`, [tensorflow-cpu] the
reverse, and [keras], [jax] and [tuner] (KerasTuner) none. Then the extra the tests use is resolved against this
environment, where it must change no TensorFlow package.
"""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENSORFLOWS = {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly"}
EXPECTED = {
    "keras": set(),
    "tensorflow": {"tensorflow"},
    "tensorflow-cpu": {"tensorflow-cpu"},
    "jax": set(),
    "tuner": set(),
}


def extras() -> dict:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    section = parser["options.extras_require"]
    return {name: [line.strip() for line in section[name].splitlines() if line.strip()] for name in section}


def would_install(extra: str, ignore_installed: bool) -> set:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-"]
    command += ["--ignore-installed"] if ignore_installed else []
    done = subprocess.run([*command, f"{ROOT}[{extra}]"], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    return {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower() for item in report.get("install", [])}


def main() -> int:
    problems = []
    for name, requirements in extras().items():
        for requirement in requirements:
            if re.search(r"==", requirement) and name != "test":
                problems.append(f"[{name}] pins {requirement}: use a range")
    for extra, wanted in EXPECTED.items():
        found = would_install(extra, ignore_installed=True) & TENSORFLOWS
        print(f"[{extra}] on an empty environment brings {sorted(found) or 'no TensorFlow'}")
        if found != wanted:
            problems.append(f"[{extra}] would install {sorted(found)}, not {sorted(wanted)}")
    again = would_install("tensorflow-cpu", ignore_installed=False) & (TENSORFLOWS | {"keras"})
    print(
        f"[tensorflow-cpu] again in this environment changes {sorted(again) or 'nothing of TensorFlow or Keras'}"
    )
    if again:
        problems.append(f"installing [tensorflow-cpu] again would change {sorted(again)}")
    for problem in problems:
        print(f"check_extras: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
