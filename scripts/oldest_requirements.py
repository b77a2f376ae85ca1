"""Print the core dependencies pinned at the oldest releases setup.cfg allows, one per line.

CI installs them over the newest ones and runs the tests that need no Keras again, so
that no test leans on behaviour only the newest PyYAML, jsonschema or click has:
    pip install $(python scripts/oldest_requirements.py)
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"


def oldest_requirements(setup_cfg: Path = SETUP_CFG) -> list[str]:
    """`name==lower-bound` for every `name>=lower-bound` in install_requires."""
    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    pins = []
    for line in config["options"]["install_requires"].split("\n"):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?", line)
        if match:
            pins.append(f"{match[1]}=={match[2]}")
        elif line.strip():
            raise SystemExit(f"setup.cfg: install_requires line without a lower bound: {line.strip()!r}")
    return pins


if __name__ == "__main__":
    print("\n".join(oldest_requirements()))
