"""Run kspec's tests against other Keras releases and backends, each in a fresh environment.

Usage: python scripts/matrix.py [--keras 3.12.4 3.15.1] [--backend tensorflow jax torch]
                                [--torch-from DIR|URL] [-- PYTEST ARGS]

For each Keras release and backend, a new virtual environment gets kspec with the extra of
that backend and the test tools, and keras==RELEASE; the tests (by default the fast
backend-sensitive ones) run there with KERAS_BACKEND set. A Markdown table of the results
is printed for docs/compatibility.md. For torch, the CPU build goes in first, from
--torch-from: a folder of wheels (e.g. /opt/wheels) or a package index (PyTorch's CPU index by
default), never PyPI's multi-GB CUDA build.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = {"tensorflow": "tensorflow-cpu", "jax": "jax", "torch": "torch"}
TORCH = "torch>=2.13,<3"  # as setup.cfg's [torch]
TESTS = [
    "tests/test_compiler_keras.py",
    "tests/test_live_and_generated.py",
    "tests/test_import.py",
    "tests/test_call_arguments.py",
    "tests/test_ops_keras.py",
    "tests/test_model_blocks.py",
    "tests/test_params_keras.py",
    "tests/test_versions.py",
]


def run(keras: str, backend: str, pytest_args: list[str], torch_from: str) -> str:
    """The last line pytest printed, in a fresh environment with keras==keras on backend."""
    venv = Path(tempfile.mkdtemp(prefix=f"kspec-matrix-{keras}-{backend}-"))
    python = str(venv / "bin" / "python")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if backend == "torch":
        source = ["--no-index", "--find-links", torch_from] if Path(torch_from).is_dir() else []
        source = source or ["--index-url", torch_from]
        torch = [python, "-m", "pip", "install", "-q", "--no-deps", *source, TORCH]
        subprocess.run(torch, check=True)  # its dependencies come with the extra below
    install = [python, "-m", "pip", "install", "-q", f"{ROOT}[{EXTRAS[backend]},test]", f"keras=={keras}"]
    subprocess.run(install, check=True)
    env = {**os.environ, "KERAS_BACKEND": backend}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return lines[-1].strip("= ") if lines else f"pytest exited {done.returncode}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras", nargs="+", default=["3.12.4", "3.15.1"], help="Keras releases")
    parser.add_argument("--backend", nargs="+", default=["tensorflow", "jax"], choices=sorted(EXTRAS))
    parser.add_argument(
        "--torch-from",
        default="https://download.pytorch.org/whl/cpu",
        help="a folder of wheels or a package index with a CPU torch build",
    )
    parser.add_argument("pytest_args", nargs="*", help='after "--": what pytest runs')
    args = parser.parse_args(argv)
    pytest_args = args.pytest_args or ["-m", "not slow", *TESTS]
    print("| keras | backend | result |\n|---|---|---|")
    for keras in args.keras:
        for backend in args.backend:
            print(
                f"| {keras} | {backend} | {run(keras, backend, pytest_args, args.torch_from)} |", flush=True
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
