"""kspec benchmarks: every figure is a ratio against a baseline measured in the same run.

Usage: python benchmarks/run.py [--quick] [SUITE ...]

Each comparison interleaves its two sides, repeats, and reports the median
ratio with its spread (min-max), beside the goal named in the issues.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.specgen import chain_spec  # noqa: E402


@dataclass
class Row:
    name: str
    ratio: float
    low: float
    high: float
    goal: str
    met: bool
    detail: str


def interleaved(measure_a, measure_b, repeats: int):
    """Median, min and max of a/b, measuring a and b alternately."""
    ratios, a_times, b_times = [], [], []
    for _ in range(repeats):
        a = measure_a()
        b = measure_b()
        a_times.append(a)
        b_times.append(b)
        ratios.append(a / b)
    return (
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        statistics.median(a_times),
        statistics.median(b_times),
    )


# Whole processes run as users run them, with bytecode caching (pip's install
# step and the first run write it; some shells export PYTHONDONTWRITEBYTECODE),
# and without this machine's site hooks: `-S`, with site-packages and the
# repository on PYTHONPATH, for both sides of every comparison. Here the .pth
# hooks (certifi, an editable-install finder) add about 25 ms to every process.
PROCESS_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PROCESS_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *site.getsitepackages()])
PROCESS_ENV["TF_CPP_MIN_LOG_LEVEL"] = "3"


def python(*args) -> list:
    """The command line of a fresh interpreter without site hooks."""
    return [sys.executable, "-S", *args]


def kspec_command(*args) -> list:
    """`kspec ARGS` as its console script runs it."""
    return python("-c", "import sys; from kspec.cli import main; sys.argv[0] = 'kspec'; main()", *args)


def process_timer(argv, cwd=ROOT):
    """A timer of a whole process; one untimed run first writes the bytecode cache."""

    def once():
        subprocess.run(
            argv, cwd=cwd, env=PROCESS_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )

    def run():
        start = time.perf_counter()
        once()
        return time.perf_counter() - start

    once()
    return run


def call_timer(fn):
    def run():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def suite_validate(quick: bool) -> list[Row]:
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="kspec-bench-"))
    try:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        files = []
        for index, source in zip(range(100), itertools.cycle(specs)):
            target = tmp / f"spec_{index:03}.yaml"
            shutil.copy(source, target)
            files.append(str(target))
        floor = (
            "import glob, yaml\n"
            f"for f in sorted(glob.glob({str(tmp)!r} + '/*.yaml')):\n"
            "    yaml.load(open(f, 'rb'), Loader=yaml.CSafeLoader)\n"
        )
        median, low, high, a, b = interleaved(
            process_timer(kspec_command("validate", str(tmp))),
            process_timer(python("-c", floor)),
            5 if quick else 15,
        )
        rows.append(
            Row(
                "validate 100 specs / PyYAML C-loader parse (whole process)",
                median,
                low,
                high,
                "<= 2.0",
                median <= 2.0,
                f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms",
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows.extend(_validate_scaling(tmp_root=Path(tempfile.mkdtemp(prefix="kspec-bench-")), quick=quick))
    return rows


def _validate_scaling(tmp_root: Path, quick: bool) -> list[Row]:
    """10,000 layers against 1,000: as a user runs it, and in process against PyYAML's own growth."""
    from kspec.validate import validate_text

    rows = []
    try:
        small, large = chain_spec(1_000), chain_spec(10_000)
        (tmp_root / "small.yaml").write_text(small)
        (tmp_root / "large.yaml").write_text(large)
        command = kspec_command("validate")
        median, low, high, a, b = interleaved(
            process_timer(command + [str(tmp_root / "large.yaml")]),
            process_timer(command + [str(tmp_root / "small.yaml")]),
            3 if quick else 7,
        )
        rows.append(
            Row(
                "kspec validate 10,000 layers / 1,000 layers (whole process)",
                median,
                low,
                high,
                "< 10",
                median < 10,
                f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms",
            )
        )

        repeats = 3 if quick else 7
        ours = interleaved(
            call_timer(lambda: validate_text(large)), call_timer(lambda: validate_text(small)), repeats
        )
        floor = interleaved(
            call_timer(lambda: _pyyaml_load(large)), call_timer(lambda: _pyyaml_load(small)), repeats
        )
        relative = ours[0] / floor[0]
        rows.append(
            Row(
                "validate growth 1k->10k / PyYAML load growth 1k->10k (in process)",
                relative,
                ours[1] / floor[2],
                ours[2] / floor[1],
                "<= 1.2",
                relative <= 1.2,
                f"kspec x{ours[0]:.1f} ({ours[3] * 1000:.0f} ms at 10k), PyYAML x{floor[0]:.1f}",
            )
        )
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return rows


def suite_summary(quick: bool) -> list[Row]:
    """kspec summary on ResNet-50 against Keras building it and counting parameters."""
    keras_side = "import keras\nkeras.applications.ResNet50(weights=None).count_params()\n"
    median, low, high, a, b = interleaved(
        process_timer(python("-c", keras_side)),
        process_timer(kspec_command("summary", "specs/resnet50.yaml")),
        2 if quick else 5,
    )
    return [
        Row(
            "Keras build + count_params / kspec summary, ResNet-50 (whole process)",
            median,
            low,
            high,
            ">= 50",
            median >= 50,
            f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms",
        )
    ]


def suite_compile(quick: bool) -> list[Row]:
    """kspec.build against Keras's own ResNet-50 code, in one process; module generation."""
    import kspec
    from kspec.compiler import generate

    rows = []
    import keras

    spec = kspec.load(str(ROOT / "specs" / "resnet50.yaml"))
    median, low, high, a, b = interleaved(
        call_timer(lambda: kspec.build(spec, "functional", compile=False)),
        call_timer(lambda: keras.applications.ResNet50(weights=None)),
        3 if quick else 7,
    )
    rows.append(
        Row(
            "kspec.build / keras.applications.ResNet50 (in process)",
            median,
            low,
            high,
            "<= 1.1",
            median <= 1.1,
            f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms",
        )
    )

    small_text, large_text = chain_spec(1_000), chain_spec(10_000)
    small, large = kspec.load(small_text), kspec.load(large_text)
    repeats = 3 if quick else 5
    floor = interleaved(
        call_timer(lambda: _pyyaml_load(large_text)), call_timer(lambda: _pyyaml_load(small_text)), repeats
    )
    for style in ("functional", "subclass"):
        one = statistics.median(call_timer(lambda: generate(small, style))() for _ in range(3))
        ours = interleaved(
            call_timer(lambda: generate(large, style)), call_timer(lambda: generate(small, style)), repeats
        )
        relative = ours[0] / floor[0]
        rows.append(
            Row(
                f"generate {style} growth 1k->10k / PyYAML load growth 1k->10k",
                relative,
                ours[1] / floor[2],
                ours[2] / floor[1],
                "<= 1.35",
                relative <= 1.35,
                f"kspec x{ours[0]:.1f}, PyYAML x{floor[0]:.1f}; {one * 1000:.0f} ms for 1,000 layers "
                f"(goal < 1 s)",
            )
        )
    return rows


def _pyyaml_load(text: str) -> None:
    """The floor of building Python objects for a spec: PyYAML's C loader, GC paused as kspec does."""
    import gc

    import yaml

    gc.disable()
    try:
        yaml.load(text, Loader=yaml.CSafeLoader)
    finally:
        gc.enable()


def suite_import(quick: bool) -> list[Row]:
    """kspec import of a loaded ResNet-50 against the time Keras took to build it."""
    import keras

    from kspec.importer import from_keras

    builds, imports = [], []
    for _ in range(2 if quick else 4):
        start = time.perf_counter()
        model = keras.applications.ResNet50(weights=None)
        builds.append(time.perf_counter() - start)
        imports.append(call_timer(lambda: from_keras(model))())
    ratios = sorted(b / i for b, i in zip(builds, imports))
    median = statistics.median(ratios)
    return [
        Row(
            "Keras building ResNet-50 / kspec importing it from the loaded model",
            median,
            ratios[0],
            ratios[-1],
            "> 1",
            median > 1,
            f"{statistics.median(builds) * 1000:.0f} ms vs {statistics.median(imports) * 1000:.0f} ms",
        )
    ]


SUITES = {
    "validate": suite_validate,
    "summary": suite_summary,
    "compile": suite_compile,
    "import": suite_import,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (under two minutes)")
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="suites to run (default: all)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    rows = []
    for name in args.suites or SUITES:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(SUITES[name](args.quick))
    width = max(len(r.name) for r in rows)
    print(f"{'comparison':<{width}}  {'ratio':>7}  {'spread':>15}  {'goal':>7}  met  detail")
    for r in rows:
        print(
            f"{r.name:<{width}}  {r.ratio:7.2f}  {r.low:6.2f} - {r.high:6.2f}  {r.goal:>7}  "
            f"{'yes' if r.met else 'NO ':3}  {r.detail}"
        )
    missed = [r.name for r in rows if not r.met]
    print("all goals met" if not missed else "goals missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
