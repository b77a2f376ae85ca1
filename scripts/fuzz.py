"""Mutation fuzzer: random edits of the example specs through `kspec validate`.

The only acceptable outcomes are exit status 0, 1 or 2 with no traceback, within
2 seconds and 500 MB. Every failure is written to tests/fuzz_corpus/ (the input,
with what went wrong beside it), where the test suite replays it for ever after.

Usage: python scripts/fuzz.py [--count 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import re
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz_corpus"

TOKENS = [
    "",
    " ",
    "\n",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "$x",
    "null",
    "yes",
    "-1",
    "0",
    "1e9",
    "&a ",
    "*a",
    "inputs: ",
    "type: ",
    "share: ",
    "repeat: 2",
    "repeat: 0",
    "name: a",
    ".1",
    ".5",
    "\t",
    "é",
    "\x00",
    "\x07",
    "\u202e",
    "\ufeff",
    "!!str ",
    "!!python/object ",
    "<<: ",
    "---\n",
    "'",
    '"',
    "#",
    "\\",
    "units: -3",
    "axis: 9",
    "padding: 7",
    "Dense",
    "Add",
    "LSTM",
    "kernel_size: [0, 3]",
    "~",
]


REPEATS = ["2", "1000", "99999", "1000000", "1000000000", "10**9", "-1", "0", "1.5", "true"]
CUSTOM_PATHS = [
    "keras.layers:Lambda",
    "keras.layers:TFSMLayer",
    "keras.src.layers.core.lambda_layer:Lambda",
    "tensorflow.keras.layers:Lambda",
    "os:system",
    "builtins:eval",
    "my_pkg.layers:Scale",
    "my_pkg.layers.Scale",
    "__main__:X",
    "a.b:c:d",
]
_TYPE = re.compile(r"type: ([A-Za-z_][A-Za-z0-9_]*)")
_BLOCK = re.compile(r"^  ([A-Z][A-Za-z0-9_]*):\s*$", re.M)


def mutate_structure(text: str, rng: random.Random) -> str:
    """An edit that knows the language: a big `repeat`, a call of another block, a custom path."""
    calls = list(_TYPE.finditer(text))
    op = rng.random()
    if calls and op < 0.4:  # repeat a call, often absurdly
        call = rng.choice(calls)
        return text[: call.end()] + f", repeat: {rng.choice(REPEATS)}" + text[call.end() :]
    blocks = _BLOCK.findall(text)
    if calls and blocks and op < 0.75:  # call a block from anywhere: nesting, recursion, chains
        call = rng.choice(calls)
        return text[: call.start(1)] + rng.choice(blocks) + text[call.end(1) :]
    name = f"Custom{rng.randrange(3)}"
    section = f"\ncustom:\n  {name}: '{rng.choice(CUSTOM_PATHS)}'\n"
    if calls:
        call = rng.choice(calls)
        text = text[: call.start(1)] + name + text[call.end(1) :]
    return text + section


def mutate(text: str, rng: random.Random) -> str:
    """A few random edits: insert a token, delete a run, duplicate or swap lines, truncate, or
    a structural edit (repeat, block call, custom path)."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.15:
            text = mutate_structure(text, rng)
        elif op < 0.4:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif op < 0.55:
            text = text[:at] + text[at + rng.randint(1, 16) :]
        elif op < 0.8:
            lines = text.splitlines(keepends=True) or [""]
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif op < 0.9:
            text = text[:at]
        else:
            text = text[:at] + chr(rng.randrange(0x20, 0x3000)) + text[at:]
    return text


# A run slower or bigger than this counts as a failure: one spec must not exhaust a CI machine.
MAX_SECONDS = 2.0
MAX_MEMORY = 500 * 2**20


def run(count: int, seed: int, report=print, max_seconds: float = MAX_SECONDS) -> list[Path]:
    """Validate `count` mutated specs in process; return the failure files written.

    A failure is a crash (an exit status other than 0, 1 or 2, or an exception), a run
    over MAX_SECONDS, or the process's peak memory rising more than MAX_MEMORY over its
    peak when the fuzzing started.
    """
    from click.testing import CliRunner

    from kspec.cli import main

    specs = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.yaml"))]
    rng = random.Random(seed)
    runner = CliRunner()
    failures = []
    started, slowest, baseline = time.perf_counter(), 0.0, peak_memory()
    with tempfile.TemporaryDirectory() as folder:
        spec_path = Path(folder) / "spec.yaml"
        for index in range(count):
            text = mutate(rng.choice(specs), rng)
            spec_path.write_bytes(text.encode("utf-8", "surrogatepass"))
            began = time.perf_counter()
            result = runner.invoke(main, ["validate", "--format", "json", str(spec_path)])
            took = time.perf_counter() - began
            gc.enable()  # `kspec validate` turns the collector off for its short process
            slowest = max(slowest, took)
            if result.exit_code not in (0, 1, 2) or (
                result.exception and not isinstance(result.exception, SystemExit)
            ):
                failures.append(_save(text, "crash", _detail(result)))
            elif took > max_seconds:
                failures.append(_save(text, "slow", f"{took:.2f} s, over {max_seconds} s"))
            if peak_memory() - baseline > MAX_MEMORY:  # the peak only grows: this run crossed
                failures.append(
                    _save(text, "memory", f"peak {peak_memory() - baseline:,} bytes over the start")
                )
                return failures
            if report and (index + 1) % 10_000 == 0:
                report(
                    f"{index + 1:,} specs, {len(failures)} failures, {time.perf_counter() - started:.0f} s, "
                    f"slowest {slowest:.2f} s, peak {(peak_memory() - baseline) / 2**20:.0f} MiB over the start"
                )
    return failures


def peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _detail(result) -> str:
    return "".join(traceback.format_exception(result.exception)) if result.exception else result.output


def _save(text: str, kind: str, detail: str) -> Path:
    CORPUS.mkdir(exist_ok=True)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = CORPUS / f"{kind}_{digest}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    (CORPUS / f"{kind}_{digest}.txt").write_text(detail, encoding="utf-8")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    failures = run(args.count, args.seed)
    print(f"{args.count:,} mutated specs, {len(failures)} failures" + "".join(f"\n  {c}" for c in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
