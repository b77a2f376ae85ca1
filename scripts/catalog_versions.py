"""Record which Keras release each layer, argument and keras.ops function arrived in.

Usage: python scripts/catalog_versions.py [--from DIR]

For each release in VERSIONS but the newest (whose catalog is kspec/catalog/keras.json),
a fresh virtual environment gets that Keras (and JAX as its backend), and
scripts/generate_catalog.py writes its catalog there (`--from DIR` reuses DIR/VERSION.json
files instead). Then kspec/catalog/versions.json says, for everything in the newest
catalog that an older one lacks, the first release that has it. Validation reads it to
refuse what the target Keras does not have yet.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "kspec" / "catalog" / "keras.json"
OUTPUT = ROOT / "kspec" / "catalog" / "versions.json"
VERSIONS = ("3.12.4", "3.13.2", "3.14.1", "3.15.1")  # the last patch of each supported minor


def catalog_of(version: str, folder: Path) -> dict:
    """The catalog scripts/generate_catalog.py writes under keras==version."""
    target = folder / f"{version}.json"
    if not target.exists():
        venv = Path(tempfile.mkdtemp(prefix=f"kspec-keras-{version}-"))
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"keras=={version}", "jax[cpu]"]
        subprocess.run(pip, check=True)
        env = {**os.environ, "KERAS_BACKEND": "jax"}
        command = [
            str(venv / "bin" / "python"),
            str(ROOT / "scripts" / "generate_catalog.py"),
            "--output",
            str(target),
        ]
        subprocess.run(command, check=True, env=env)
    return json.loads(target.read_text(encoding="utf-8"))


def items(catalog: dict) -> set:
    """Everything a spec can name, as strings: layers, their arguments and call arguments,
    keras.ops functions and their arguments."""
    found = set()
    for name, layer in catalog.get("layers", {}).items():
        found.add(f"layer {name}")
        found |= {f"argument {name}.{p['name']}" for p in layer.get("params", [])}
        found |= {f"call {name}.{p['name']}" for p in layer.get("call", {}).get("params", [])}
    for name, op in catalog.get("ops", {}).items():
        found.add(f"op {name}")
        found |= {f"op argument {name}.{p['name']}" for p in op.get("params", [])}
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", type=Path, help="a folder of VERSION.json catalogs to reuse")
    args = parser.parse_args(argv)
    newest = json.loads(CATALOG.read_text(encoding="utf-8"))
    if newest["keras_version"] != VERSIONS[-1]:
        print(f"keras.json is of keras {newest['keras_version']}, not {VERSIONS[-1]}", file=sys.stderr)
        return 1
    folder = args.folder or Path(tempfile.mkdtemp(prefix="kspec-catalogs-"))
    present = {version: items(catalog_of(version, folder)) for version in VERSIONS[:-1]}
    present[VERSIONS[-1]] = items(newest)
    since = {}
    for item in sorted(present[VERSIONS[-1]] - present[VERSIONS[0]]):
        since[item] = next(v for v in VERSIONS if item in present[v])
    data = {"versions": list(VERSIONS), "since": since}
    OUTPUT.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}: {len(since)} items newer than keras {VERSIONS[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
