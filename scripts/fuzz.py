"""Mutation fuzzer: random edits of the example specs through `kspec validate`.

The only acceptable outcomes are exit status 0, 1 or 2 with no traceback. Every
crash is written to tests/fuzz_corpus/ (the input that crashed), where the test
suite replays it for ever after.

Usage: python scripts/fuzz.py [--count 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
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


def mutate(text: str, rng: random.Random) -> str:
    """A few random edits: insert a token, delete a run, duplicate or swap lines, or truncate."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.35:
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


def run(count: int, seed: int, report=print) -> list[Path]:
    """Validate `count` mutated specs in process; return the crash files written."""
    from click.testing import CliRunner

    from kspec.cli import main

    specs = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.yaml"))]
    rng = random.Random(seed)
    runner = CliRunner()
    crashes = []
    started = time.perf_counter()
    with runner.isolated_filesystem():
        for index in range(count):
            text = mutate(rng.choice(specs), rng)
            Path("spec.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))
            result = runner.invoke(main, ["validate", "--format", "json", "spec.yaml"])
            if result.exit_code not in (0, 1, 2) or (
                result.exception and not isinstance(result.exception, SystemExit)
            ):
                crashes.append(_save(text, result))
            if report and (index + 1) % 10_000 == 0:
                report(f"{index + 1:,} specs, {len(crashes)} crashes, {time.perf_counter() - started:.0f} s")
    return crashes


def _save(text: str, result) -> Path:
    CORPUS.mkdir(exist_ok=True)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = CORPUS / f"crash_{digest}.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    detail = "".join(traceback.format_exception(result.exception)) if result.exception else result.output
    (CORPUS / f"crash_{digest}.txt").write_text(detail, encoding="utf-8")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    crashes = run(args.count, args.seed)
    print(f"{args.count:,} mutated specs, {len(crashes)} crashes" + "".join(f"\n  {c}" for c in crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
