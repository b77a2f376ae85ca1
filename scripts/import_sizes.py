"""The size of `kspec import`'s specs of every keras.applications model, flat (--flat) and with
the blocks it finds, as the Markdown table in docs/import.md between its `sizes` markers.

    python scripts/import_sizes.py            # print the table
    python scripts/import_sizes.py --write    # and write it into docs/import.md

Models are built with weights=None; a few minutes for all of them.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "import.md"
START, END = "<!-- sizes -->", "<!-- /sizes -->"


def measure(name: str) -> tuple[int, int, int, int]:
    """(flat bytes, bytes with blocks, blocks, block calls) of one application's import."""
    import keras

    from kspec.importer import from_keras
    from kspec.importer.blocks import discover
    from kspec.importer.graph import functional_graph
    from kspec.importer.spec_data import SpecData

    model = getattr(keras.applications, name)(weights=None)
    flat, text = from_keras(model, flat=True), from_keras(model)
    data = SpecData(functional_graph(model.get_config()))
    found = discover([n for n, _ in data.inputs()], list(data.layers()), data.outputs())
    return len(flat.encode()), len(text.encode()), len(found.blocks), sum(b.calls for b in found.blocks)


def table(rows) -> str:
    lines = [
        "| model | flat bytes | bytes with blocks | smaller | blocks | block calls |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (flat, blocks, found, calls) in rows:
        lines.append(f"| {name} | {flat:,} | {blocks:,} | {flat / blocks:.2f}x | {found} | {calls} |")
    total_flat = sum(r[1][0] for r in rows)
    total = sum(r[1][1] for r in rows)
    lines.append(f"| **all {len(rows)}** | {total_flat:,} | {total:,} | {total_flat / total:.2f}x | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the table into docs/import.md")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    names = sorted(n for n in dir(keras.applications) if n[:1].isupper())
    rows = []
    for name in names:
        rows.append((name, measure(name)))
        keras.backend.clear_session()
        print(name, *rows[-1][1], flush=True)
    text = table(rows)
    print(text)
    if args.write:
        doc = DOC.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        DOC.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", doc))


if __name__ == "__main__":
    main()
