"""Validate, summary and compile on chains of 100 to 100,000 layers: time, peak memory, growth."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from benchmarks.harness import PROCESS_ENV, ROOT, Row

OPERATIONS = {
    "validate": "from kspec.validate import validate_text\nrun = lambda: validate_text(text)",
    "summary": (
        "from kspec.validate import validate_text\nfrom kspec.summary import table\n"
        "def run():\n    result = validate_text(text)\n    table(result.shapes, result.spec)"
    ),
    "compile functional": "import kspec\nrun = lambda: kspec.generate(kspec.load(text), 'functional')",
    "compile subclass": "import kspec\nrun = lambda: kspec.generate(kspec.load(text), 'subclass')",
    # A Keras model is built first (not timed); the import of the loaded model is what is timed.
    "import": (
        "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport kspec\n"
        "from kspec.importer import from_keras\nmodel = kspec.build(kspec.load(text), compile=False)\n"
        "run = lambda: from_keras(model)"
    ),
    # The import's own work on a model's config (no Keras): reading it, finding the repeated
    # units as one block, writing the spec.
    "import, config to spec with blocks": (
        "from benchmarks.specgen import unit_chain_config\nfrom kspec.importer import from_keras_config\n"
        "config = unit_chain_config(layers)\nrun = lambda: from_keras_config(config)"
    ),
}
# Building each model with Keras (900 layers: 5 s) is what bounds the sizes of "import".
IMPORT_SIZES = (100, 300, 900)
PROBE = """
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.specgen import chain_spec
layers = {layers}
text = chain_spec(layers)
{operation}
start = time.perf_counter()
run()
seconds = time.perf_counter() - start
# VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited across exec)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"seconds": seconds, "peak_mib": peak_kib / 1024}}))
"""


def measure(sizes) -> dict:
    """operation -> [(layers, seconds, peak MiB)], each in a fresh process."""
    results = {}
    for name, operation in OPERATIONS.items():
        for layers in IMPORT_SIZES if name == "import" else sizes:
            code = PROBE.format(root=str(ROOT), layers=layers, operation=operation)
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=PROCESS_ENV, check=True
            )
            found = json.loads(done.stdout.strip().splitlines()[-1])
            results.setdefault(name, []).append((layers, found["seconds"], found["peak_mib"]))
            print(
                f"  {name} {layers:,} layers: {found['seconds'] * 1000:.0f} ms, {found['peak_mib']:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    return results


def exponent(points) -> float:
    """The slope of log(time) against log(layers), leaving out the smallest size (constants dominate)."""
    xs = [math.log(n) for n, _, _ in points[1:]]
    ys = [math.log(s) for _, s, _ in points[1:]]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def plot(results: dict, path) -> bool:
    """A log-log plot of time and peak memory against layers; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: pip install -r benchmarks/requirements.txt", file=sys.stderr)
        return False
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, points in results.items():
        layers = [n for n, _, _ in points]
        left.plot(layers, [s for _, s, _ in points], marker="o", label=f"{name} (x^{exponent(points):.2f})")
        right.plot(layers, [m for _, _, m in points], marker="o", label=name)
    left.set(xscale="log", yscale="log", xlabel="layers", ylabel="seconds", title="Time")
    right.set(xscale="log", yscale="log", xlabel="layers", ylabel="peak MiB (process)", title="Peak memory")
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return True


def scaling(quick: bool) -> list[Row]:
    sizes = [100, 1_000, 3_000] if quick else [100, 1_000, 10_000, 100_000]
    results = measure(sizes)
    target = ROOT / "docs" / "scaling.png"
    drawn = not quick and plot(results, target)  # the committed plot comes from full runs only
    rows = []
    for name, points in results.items():
        slope = exponent(points)
        largest = points[-1]
        rows.append(
            Row(
                f"{name}: growth exponent, {points[1][0]:,} to {largest[0]:,} layers",
                slope,
                slope,
                slope,
                "<= 1.15",
                slope <= 1.15,
                f"{largest[1]:.2f} s and {largest[2]:.0f} MiB at {largest[0]:,} layers"
                + (f"; plot: {target.relative_to(ROOT)}" if drawn and name == "validate" else ""),
            )
        )
    return rows
