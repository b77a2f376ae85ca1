"""Measuring two sides of a comparison, alternately, as ratios."""

from __future__ import annotations

import os
import site
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Whole processes run as users run them, with bytecode caching (pip's install step and the
# first run write it; some shells export PYTHONDONTWRITEBYTECODE), and without this machine's
# site hooks: `-S`, with site-packages and the repository on PYTHONPATH, for both sides of
# every comparison. Here the .pth hooks (certifi, an editable-install finder) add about 25 ms
# to every process.
PROCESS_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PROCESS_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *site.getsitepackages()])
PROCESS_ENV["TF_CPP_MIN_LOG_LEVEL"] = "3"


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
    """(min, median, max) of a/b, then the median times of a and b, measuring them alternately."""
    ratios, a_times, b_times = [], [], []
    for _ in range(repeats):
        a, b = measure_a(), measure_b()
        a_times.append(a)
        b_times.append(b)
        ratios.append(a / b)
    return (
        min(ratios),
        statistics.median(ratios),
        max(ratios),
        statistics.median(a_times),
        statistics.median(b_times),
    )


def compare(name: str, measure_a, measure_b, repeats: int, goal: str, passes) -> Row:
    """A Row for a/b, whose goal `passes(ratio)` must hold."""
    low, median, high, a, b = interleaved(measure_a, measure_b, repeats)
    return Row(name, median, low, high, goal, passes(median), f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms")


def python(*args) -> list:
    """The command line of a fresh interpreter without site hooks."""
    return [sys.executable, "-S", *args]


def kspec_command(*args) -> list:
    """`kspec ARGS` as its console script runs it."""
    return python("-c", "import sys; from kspec.cli import main; sys.argv[0] = 'kspec'; main()", *args)


def process_timer(argv, cwd=ROOT):
    """A timer of a whole process; one untimed run first writes the bytecode cache."""

    def once():
        subprocess.run(argv, cwd=cwd, env=PROCESS_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

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
