"""The comparisons of `benchmarks/run.py`, one function per suite, each returning Rows."""

from __future__ import annotations

import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    Row,
    call_timer,
    compare,
    kspec_command,
    process_timer,
    python,
)
from benchmarks.specgen import chain_spec, transformer_spec


def validate(quick: bool) -> list[Row]:
    """kspec validate against the floor of parsing, against check-jsonschema, 10k vs 1k layers."""
    repeats = 5 if quick else 15
    rows = []
    folder = Path(tempfile.mkdtemp(prefix="kspec-bench-"))
    try:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        files = [str(folder / f"spec_{i:03}.yaml") for i in range(100)]
        for target, source in zip(files, itertools.cycle(specs)):
            shutil.copy(source, target)
        floor = (
            f"import glob, yaml\nfor f in sorted(glob.glob({str(folder)!r} + '/*.yaml')):\n"
            "    yaml.load(open(f, 'rb'), Loader=yaml.CSafeLoader)\n"
        )
        ours = process_timer(kspec_command("validate", str(folder)))
        rows.append(
            compare(
                "validate 100 specs / PyYAML C-loader parse (whole process)",
                ours,
                process_timer(python("-c", floor)),
                repeats,
                "<= 2.0",
                lambda r: r <= 2.0,
            )
        )
        checker = shutil.which("check-jsonschema")
        if checker:
            schema = str(ROOT / "schemas" / "kspec-v1.schema.json")
            rows.append(
                compare(
                    "validate 100 specs / check-jsonschema, kspec's schema only (whole process)",
                    ours,
                    process_timer([checker, "--schemafile", schema, *files]),
                    3 if quick else 7,
                    "<= 1.0",
                    lambda r: r <= 1.0,
                )
            )
        else:
            print("check-jsonschema is missing: pip install -r benchmarks/requirements.txt", file=sys.stderr)
        small, large = folder / "small.yaml", folder / "large.yaml"
        small.write_text(chain_spec(1_000))
        large.write_text(chain_spec(10_000))
        rows.append(
            compare(
                "kspec validate 10,000 layers / 1,000 layers (whole process)",
                process_timer(kspec_command("validate", str(large))),
                process_timer(kspec_command("validate", str(small))),
                3 if quick else 7,
                "< 10",
                lambda r: r < 10,
            )
        )
        rows.append(_includes(folder, 3 if quick else 9))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _includes(folder: Path, repeats: int) -> Row:
    """100 specs that include specs/blocks/residual.yaml against the same with the blocks written in."""
    library = (ROOT / "specs" / "blocks" / "residual.yaml").read_text()
    spec = (ROOT / "specs" / "small_resnet.yaml").read_text()
    blocks = library[library.index("blocks:") :]
    included, inlined = folder / "included", folder / "inlined"
    for side in (included, inlined):
        (side / "blocks").mkdir(parents=True)
    (included / ".git").mkdir()
    (included / "blocks" / "residual.yaml").write_text(library)
    for i in range(100):
        (included / f"spec_{i:03}.yaml").write_text(spec)
        (inlined / f"spec_{i:03}.yaml").write_text(
            spec.replace("include: [blocks/residual.yaml]\n", "") + blocks
        )
    return compare(
        "validate 100 specs including one block library / the same specs with the blocks written in",
        process_timer(kspec_command("validate", *sorted(map(str, included.glob("*.yaml"))))),
        process_timer(kspec_command("validate", *sorted(map(str, inlined.glob("*.yaml"))))),
        repeats,
        "<= 1.3",
        lambda r: r <= 1.3,
    )


def summary(quick: bool) -> list[Row]:
    """kspec summary on ResNet-50 against Keras building it and counting parameters."""
    keras_side = "import keras\nkeras.applications.ResNet50(weights=None).count_params()\n"
    return [
        compare(
            "Keras build + count_params / kspec summary, ResNet-50 (whole process)",
            process_timer(python("-c", keras_side)),
            process_timer(kspec_command("summary", "specs/resnet50.yaml")),
            2 if quick else 5,
            ">= 50",
            lambda r: r >= 50,
        )
    ]


def diff(quick: bool) -> list[Row]:
    """kspec diff of two ResNet-50 specs (the classifier changed) against kspec summary of one."""

    def command(folder: Path):
        spec = ROOT / "specs" / "resnet50.yaml"
        changed = folder / "resnet50_10_classes.yaml"
        changed.write_text(spec.read_text().replace("units: 1000,", "units: 10,"))
        return ("diff", str(spec), str(changed)), spec

    label = "kspec diff of two ResNet-50 specs / kspec summary of one (whole process)"
    return _against_summary(label, command, 3 if quick else 9)


def shard(quick: bool) -> list[Row]:
    """kspec shard of a 1,000-layer Transformer with a model-parallel layout against kspec summary."""

    def command(folder: Path):
        path = folder / "transformer.yaml"
        path.write_text(transformer_spec(1_000))
        return ("shard", str(path)), path

    label = "kspec shard / kspec summary, 1,000-layer Transformer, 2 x 4 mesh (whole process)"
    return _against_summary(label, command, 3 if quick else 7)


def _against_summary(label: str, command, runs: int) -> list[Row]:
    """A kspec command against `kspec summary` of its spec, whole processes, within 2x: `command`
    writes what it needs into a scratch folder and gives (the command's arguments, the spec)."""
    folder = Path(tempfile.mkdtemp(prefix="kspec-bench-"))
    try:
        arguments, spec = command(folder)
        return [
            compare(
                label,
                process_timer(kspec_command(*arguments)),
                process_timer(kspec_command("summary", str(spec))),
                runs,
                "< 2",
                lambda r: r < 2,
            )
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compile(quick: bool) -> list[Row]:
    """kspec.build against Keras's own ResNet-50 code; generating a 1,000-layer module."""
    import keras

    import kspec
    from kspec.compiler import generate

    spec = kspec.load(str(ROOT / "specs" / "resnet50.yaml"))
    rows = [
        compare(
            "kspec.build / keras.applications.ResNet50 (in process)",
            call_timer(lambda: kspec.build(spec, "functional", compile=False)),
            call_timer(lambda: keras.applications.ResNet50(weights=None)),
            3 if quick else 7,
            "<= 1.1",
            lambda r: r <= 1.1,
        )
    ]
    small = kspec.load(chain_spec(1_000))
    for style in ("functional", "subclass"):
        one = statistics.median(call_timer(lambda: generate(small, style))() for _ in range(3))
        rows.append(
            Row(
                f"generate {style}, 1,000-layer spec (seconds)",
                one,
                one,
                one,
                "< 1 s",
                one < 1,
                "growth: see the compile exponents",
            )
        )
    return rows


def import_(quick: bool) -> list[Row]:
    """kspec import of a loaded ResNet-50 against the time Keras took to build it, and finding
    blocks in it against importing it flat."""
    import keras

    from kspec.importer import from_keras

    builds, imports = [], []
    for _ in range(2 if quick else 4):
        start = time.perf_counter()
        model = keras.applications.ResNet50(weights=None)
        builds.append(time.perf_counter() - start)
        imports.append(call_timer(lambda: from_keras(model))())
    ratios = sorted(b / i for b, i in zip(builds, imports))
    return [
        Row(
            "Keras building ResNet-50 / kspec importing it from the loaded model",
            statistics.median(ratios),
            ratios[0],
            ratios[-1],
            "> 1",
            statistics.median(ratios) > 1,
            f"{statistics.median(builds) * 1000:.0f} ms vs {statistics.median(imports) * 1000:.0f} ms",
        ),
        compare(
            "kspec import of ResNet-50 finding blocks / the same import --flat",
            call_timer(lambda: from_keras(model)),
            call_timer(lambda: from_keras(model, flat=True)),
            3 if quick else 7,
            "<= 2",
            lambda ratio: ratio <= 2,
        ),
    ]


def plan(quick: bool) -> list[Row]:
    """kspec plan --verify of the mlp spec (subclass style), broken down by phase and path."""
    import kspec
    from kspec.plans.verify import verify

    spec = kspec.load(str(ROOT / "specs" / "mlp.yaml"))
    timings: dict = {}
    start = time.perf_counter()
    checks = verify(spec, "subclass", kspec.plan(spec, "subclass"), timings=timings)
    total = time.perf_counter() - start
    rows = [
        Row(
            f"plan --verify mlp (subclass): {len(checks)} claims, all hold",
            total,
            total,
            total,
            "",
            all(c.ok for c in checks),
            f"{total:.1f} s in all (the ratio column is seconds)",
        )
    ]
    for phase, seconds in timings.items():
        rows.append(
            Row(f"  {phase}", seconds, seconds, seconds, "", True, f"{seconds / total:.0%} of the run")
        )
    return rows


SUITES = {
    "validate": validate,
    "summary": summary,
    "diff": diff,
    "shard": shard,
    "compile": compile,
    "import": import_,
    "plan": plan,
}
