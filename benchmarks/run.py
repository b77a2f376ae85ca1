"""kspec benchmarks: every figure is a ratio against a baseline measured in the same run.

Usage: python benchmarks/run.py [--quick] [SUITE ...]   (pip install -r benchmarks/requirements.txt)

Each comparison interleaves its two sides, repeats, and reports the median ratio with its
spread (min to max) beside the goal that the issues name; the last line says which goals
are missed. `--quick` runs fewer repeats and sizes (under two minutes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scaling import scaling  # noqa: E402
from benchmarks.suites import SUITES  # noqa: E402

ALL = {**SUITES, "scaling": scaling}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (under two minutes)")
    parser.add_argument("suites", nargs="*", help=f"suites to run: {', '.join(ALL)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in ALL]
    if unknown:
        parser.error(f"unknown suite {', '.join(unknown)}: choose from {', '.join(ALL)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    rows = []
    for name in args.suites or ALL:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(ALL[name](args.quick))
    width = max(len(r.name) for r in rows)
    print(f"{'comparison':<{width}}  {'ratio':>7}  {'spread':>15}  {'goal':>7}  met  detail")
    for r in rows:
        spread = f"{r.low:6.2f} - {r.high:6.2f}" if r.goal else ""
        met = ("yes" if r.met else "NO ") if r.goal else "   "
        print(f"{r.name:<{width}}  {r.ratio:7.2f}  {spread:>15}  {r.goal:>7}  {met}  {r.detail}")
    missed = [r.name.strip() for r in rows if r.goal and not r.met]
    print("all goals met" if not missed else "goals missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
