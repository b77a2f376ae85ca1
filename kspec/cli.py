"""The `kspec` command line. Each command parses options, then calls the library."""

from __future__ import annotations

import contextlib
import sys

import click

from .version import __version__
from .checks.expansion import DEFAULT_MAX_EXPANSION
from .environment import BACKENDS
from .exits import INTERRUPTED, exit_with
from .source import DEFAULT_MAX_FILE_SIZE


class _Commands(click.Group):
    """The group; Ctrl-C anywhere exits 130 with one line, not click's "Aborted!" and 1, and
    running out of memory or stack is one line and exit status 1, never a traceback."""

    def make_context(self, *args, **kwargs):
        with _guarded():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _guarded():
            return super().invoke(ctx)


@contextlib.contextmanager
def _guarded():
    try:
        yield
    except KeyboardInterrupt:
        exit_with("interrupted", INTERRUPTED)
    except (MemoryError, RecursionError) as error:  # past every limit kspec checks: still one line
        what = "memory" if isinstance(error, MemoryError) else "stack (the spec nests too deeply)"
        exit_with(
            f"ran out of {what}; lower --max-expansion or --max-file-size to refuse such specs early", 1
        )


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kspec")
def main() -> None:
    """kspec: declarative YAML model specs for Keras 3.

    Validate a spec without importing TensorFlow, see its shapes, compile it to a
    Sequential, Functional or subclassed Keras model, plan (and prove) how to save
    and load it, and import existing Keras models back into specs.
    """


def _remember_limit(ctx, param, value):
    ctx.meta[f"kspec.{param.name}"] = value
    return value


LIMITS = (  # option, default, environment variable, help
    (
        "--max-expansion",
        DEFAULT_MAX_EXPANSION,
        "KSPEC_MAX_EXPANSION",
        "Refuse specs whose blocks and repeats expand to more layer calls than this.",
    ),
    (
        "--max-file-size",
        DEFAULT_MAX_FILE_SIZE,
        "KSPEC_MAX_FILE_SIZE",
        "Refuse spec files larger than this many bytes.",
    ),
)


def _remember_overrides(ctx, param, value):
    from .overrides import OverrideError, parse

    try:
        ctx.meta["kspec.overrides"] = parse(value)
    except OverrideError as error:
        raise click.BadParameter(str(error).removeprefix("--set "), ctx=ctx, param=param) from None
    return value


def spec_options(command):
    """--set, --keras-version, --include-root, --max-file-size and --max-expansion: for every
    command that reads a spec."""
    command = click.option(
        "--keras-version",
        metavar="VERSION",
        envvar="KSPEC_KERAS_VERSION",
        show_envvar=True,
        expose_value=False,
        callback=_remember_limit,
        help="The Keras release to check against (3.12 ...) [default: the installed Keras, "
        "else the spec's `keras:`, else the newest kspec knows].",
    )(command)
    command = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        expose_value=False,
        callback=_remember_overrides,
        help="Change a value before the spec is read: a top-level parameter (width=128) or a "
        "dotted path (compile.optimizer.learning_rate=3e-4, layers.head.units=20). Repeatable.",
    )(command)
    command = click.option(
        "--include-root",
        type=click.Path(exists=True, file_okay=False),
        envvar="KSPEC_INCLUDE_ROOT",
        show_envvar=True,
        expose_value=False,
        callback=_remember_limit,
        help="The folder that `include:` paths must stay in [default: the nearest folder above "
        "the spec that holds .git, else the spec's folder].",
    )(command)
    for option, default, variable, text in LIMITS:
        command = click.option(
            option,
            type=click.IntRange(min=1),
            default=default,
            envvar=variable,
            show_default=True,
            show_envvar=True,
            expose_value=False,
            callback=_remember_limit,
            help=text,
        )(command)
    return command


def _overrides() -> list:
    """The `--set` overrides the command line gave."""
    return click.get_current_context().meta.get("kspec.overrides", [])


def _limits():
    """The limits the command line set (Limits' defaults where it set none)."""
    from .validate import Limits

    meta = click.get_current_context().meta
    return Limits(**{name: meta[f"kspec.{name}"] for name in Limits._fields if f"kspec.{name}" in meta})


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for Actions annotations.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@spec_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes for many files [default: the cores, from 16 files on].",
)
def validate(paths, fmt, strict, jobs) -> None:
    """Check specs: YAML, schema, names, references, arguments and blocks.

    PATHS are spec files, or directories searched for *.yaml and *.yml.
    Never imports TensorFlow or Keras.

    \b
    Exit status:
      0  every spec is valid (warnings allowed, unless --strict)
      1  some spec has errors
      2  usage error, or a path that cannot be read
      130  interrupted (Ctrl-C)
    """
    import gc

    from .report import REPORTERS
    from .validate import default_jobs, spec_files, validate_files

    gc.disable()  # a short-lived process whose data has no cycles
    try:
        files = spec_files(paths)
    except OSError as exc:  # a directory that cannot be listed: never skipped in silence
        _fail(f"cannot read directory {exc.filename}: {exc.strerror or exc}", 2)
    if not files:
        raise click.UsageError("no *.yaml or *.yml files found under " + ", ".join(paths))
    results = validate_files(files, _limits(), jobs or default_jobs(len(files)), _overrides())
    reporter = REPORTERS[fmt](click.echo, color=sys.stdout.isatty())
    reporter.report(results)
    targets = sorted({r.target.describe() for r in results if r.target is not None})
    if fmt == "text" and targets:
        click.echo(f"Checked against {'; '.join(targets)}.")
    if any(r.unreadable for r in results):
        sys.exit(2)
    failed = any(r.errors or (strict and r.warnings) for r in results)
    sys.exit(1 if failed else 0)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec language (draft 2020-12)."""
    from .structure import schema_text

    click.echo(schema_text(), nl=False)


def _valid_spec(path: str):
    """The spec at `path`, or its diagnostics on stderr and exit status 1."""
    return _validated(path).spec


def _validated(path: str):
    """The validation result of a spec without errors, or its diagnostics and exit status 1."""
    from .report import TextReporter
    from .validate import no_model, validate_file

    result = validate_file(path, _limits(), _overrides())
    if result.spec is not None and result.spec.library:
        result.diagnostics.append(no_model(result.spec))
    if result.errors or result.spec is None:
        TextReporter(lambda line: click.echo(line, err=True), color=sys.stderr.isatty()).report([result])
        sys.exit(2 if result.unreadable else 1)
    return result


def _fail(message: str, status: int = 1):
    click.echo(f"kspec: {message}", err=True)
    sys.exit(status)


def _output(text_or_bytes, output: str | None) -> None:
    """Print, or write atomically to a file."""
    if output is None:
        click.echo(text_or_bytes, nl=False)
        return
    from .files import write_atomic

    _writable(output)
    try:
        write_atomic(output, text_or_bytes)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}", 2)
    click.echo(f"wrote {output}", err=True)


def _writable(output: str) -> None:
    """Exit 2 with why, if `-o` names something that is not a regular file (a FIFO, a device)."""
    from .files import check_writable

    try:
        check_writable(output)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}; leave out -o to print to standard output", 2)


_TABLE_OR_JSON = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for tools.",
)


@main.command()
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@_TABLE_OR_JSON
@click.option("--expand", is_flag=True, help="Show the layers inside block calls.")
@click.option(
    "--sweep",
    is_flag=True,
    help="Show the parameter-count range over the spec's search spaces: the total at each corner "
    "(every int and float at its min and max, every choice, both booleans), and which gives the least and most.",
)
def summary(spec_path, fmt, expand, sweep) -> None:
    """Show every layer's output shape and parameter count, like model.summary().

    Shapes come from kspec's own rules: TensorFlow is not imported.
    """
    from .summary import as_json, table

    result = _validated(spec_path)
    spec, report = result.spec, result.shapes
    if sweep:
        _sweep(spec_path, result, fmt)
    elif fmt == "json":
        import json

        click.echo(json.dumps(as_json(report, spec), indent=2))
    else:
        click.echo(table(report, spec, expand=expand))


def _sweep(spec_path: str, result, fmt: str) -> None:
    """`summary --sweep`: the corners of the search space, or the located reason there are too many."""
    from . import sweep
    from .diagnostics import SpecError
    from .validate import validate_file

    try:
        found = sweep.sweep(
            result, lambda corner: validate_file(spec_path, _limits(), [*_overrides(), *corner])
        )
    except SpecError as error:
        from .report import TextReporter
        from .validate import Result

        failed = Result(result.document, result.spec, error.diagnostics, result.sources)
        TextReporter(lambda line: click.echo(line, err=True), color=sys.stderr.isatty()).report([failed])
        sys.exit(1)
    if fmt == "json":
        import json

        click.echo(json.dumps(sweep.as_json(found, result.spec), indent=2))
    else:
        click.echo(sweep.text(found, result.spec))


@main.command()
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--style",
    type=click.Choice(["functional", "sequential", "subclass"]),
    default="functional",
    show_default=True,
    help="The style whose weight paths the layout patterns are matched against.",
)
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    help="How many devices `data_parallel: {devices: all}` (or a spec without a distribution) means; 1 if not given.",
)
@_TABLE_OR_JSON
def shard(spec_path, style, devices, fmt) -> None:
    """Show the static sharding plan: each weight's shape, layout and per-device shard, then the
    bytes of weights and optimizer slots each device holds.

    It follows the spec's `distribution` section; TensorFlow and JAX are not imported.
    """
    from .sharding import plan, text

    result = _validated(spec_path)
    found = plan(result.spec, style, devices)
    if fmt == "json":
        import json

        click.echo(json.dumps(found.as_json(), indent=2))
    else:
        click.echo(text(found, result.spec))


@main.command()
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="mermaid or dot as text; svg or png rendered by Graphviz (needs -o).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def graph(spec_path, fmt, output) -> None:
    """Draw the layer graph: nodes show name, type and output shape; blocks are clusters.

    Mermaid pastes into Markdown (READMEs, pull requests); dot is Graphviz's
    language; svg and png are rendered with Graphviz's `dot` program.
    """
    from .diagram import dot, mermaid

    result = _validated(spec_path)
    spec, report = result.spec, result.shapes
    if fmt == "mermaid":
        return _output(mermaid(report, spec), output)
    source = dot(report, spec)
    if fmt == "dot":
        return _output(source, output)
    if output is None:
        _fail(f"--format {fmt} writes a file: add -o FILE.{fmt}", 2)
    _output(_render(source, fmt), output)


def _render(source: str, fmt: str) -> bytes:
    import shutil
    import subprocess

    program = shutil.which("dot")
    if program is None:
        _fail(
            f"rendering {fmt} needs Graphviz's `dot` program, which is not installed. Install the "
            "graphviz package (apt-get install graphviz, brew install graphviz, or conda install "
            "graphviz), or use --format dot or --format mermaid.",
            2,
        )
    done = subprocess.run([program, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=120)
    if done.returncode != 0:
        _fail(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


STYLE_CHOICES = ["sequential", "functional", "subclass", "all"]


@main.command(name="compile")
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--style",
    type=click.Choice(STYLE_CHOICES),
    default="functional",
    show_default=True,
    help="The Keras style of the module; `all` writes one module per style the graph allows.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="A file for one style, a directory for --style all; stdout without it.",
)
@click.option("--force", is_flag=True, help="Overwrite a file that kspec did not generate.")
def compile_command(spec_path, style, output, force) -> None:
    """Write a Python module that builds the spec's model in a Keras style.

    The module has build_model() and compile_model(); it imports only keras
    (and the spec's custom layers). The same spec always gives the same bytes.
    """
    from .backends.styles import allowed_styles
    from .compiler import generate

    spec = _valid_spec(spec_path)
    if style != "all":
        source = _generated(spec, style)
        if output is None:
            click.echo(source, nl=False)
            return
        _write_module(output, source, force)
        return
    if output is None:
        _fail("--style all writes one file per style: add -o DIRECTORY", 2)
    import os

    if os.path.exists(output) and not os.path.isdir(output):
        _fail(f"{output} is a file; --style all needs a directory", 2)
    styles = allowed_styles(spec)
    for each in styles:
        _write_module(os.path.join(output, f"{spec.name}_{each}.py"), generate(spec, each), force)
    for skipped in sorted(set(STYLE_CHOICES[:3]) - set(styles)):
        click.echo(f"skipped {skipped}: {_style_problem(spec, skipped)}", err=True)


def _style_problem(spec, style: str) -> str:
    """Why the graph does not allow a style, located, as `--style STYLE` would report it."""
    from .compiler import check_style
    from .diagnostics import SpecError

    try:
        check_style(spec, style)
    except SpecError as error:
        first = error.diagnostics[0]
        return f"{first.message} ({first.path}:{first.line}:{first.column})"
    return "the graph does not allow it"


def _generated(spec, style: str) -> str:
    """The module of a style, or the located reason the graph does not allow it and exit 1."""
    from .compiler import generate

    return _allowed(generate, spec, style)


def _check_style(spec, style: str) -> None:
    """Report, before Keras loads, a style the graph does not allow, as compile does."""
    from .compiler import check_style

    _allowed(check_style, spec, style)


def _allowed(action, spec, style: str):
    from .diagnostics import SpecError
    from .report import TextReporter

    try:
        return action(spec, style)
    except SpecError as error:
        from .validate import Result

        result = Result(spec.document, spec, error.diagnostics)
        TextReporter(lambda line: click.echo(line, err=True), color=sys.stderr.isatty()).report([result])
        sys.exit(1)


def _write_module(path: str, source: str, force: bool) -> None:
    """Write a generated module, refusing to replace a file kspec did not write."""
    import os

    if os.path.isdir(path):
        _fail(f"{path} is a directory: give a file name, or use --style all", 2)
    _writable(path)
    if os.path.exists(path) and not force:
        from .backends.python.module import HEADER_LIMIT, is_generated
        from .files import read_head

        try:
            head = read_head(path, HEADER_LIMIT).decode("utf-8", errors="replace")
        except OSError as exc:
            _fail(f"cannot read {path}: {exc.strerror or exc}", 2)
        if not is_generated(head):
            _fail(f"{path} exists and was not generated by kspec: use --force to overwrite it", 1)
    _output(source, path)


_SEARCH_PATH = click.option(
    "--path",
    "search_path",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    metavar="DIR",
    help="Also look for `custom` layer modules in DIR, after the spec's own folder (repeatable).",
)


@main.command(name="build")
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--style",
    type=click.Choice(STYLE_CHOICES[:3]),
    default="functional",
    show_default=True,
    help="The Keras style to build.",
)
@_SEARCH_PATH
def build_command(spec_path, style, search_path) -> None:
    """Build the live Keras model and print Keras's own summary (imports TensorFlow).

    The modules of `custom` layers are imported from the spec's folder first, then from
    each --path DIR, then from sys.path (installed packages, PYTHONPATH); kspec never
    adds the working directory.
    """
    spec = _valid_spec(spec_path)
    _check_style(spec, style)
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from .backends.custom_layers import CustomLayerRefused
        from .compiler import build
    except ImportError as exc:  # pragma: no cover - depends on the install
        _fail(f"building needs Keras: pip install 'kspec[keras]' ({exc})", 2)
    click.echo(f"building {spec.name} ({style}) with Keras ...", err=True)
    try:
        model = _allowed(lambda spec_, style_: build(spec_, style_, path=search_path), spec, style)
    except ImportError as error:
        _fail(f"cannot import a custom layer: {error}", 2)
    except CustomLayerRefused as error:
        _fail(str(error))
    except Exception as error:  # Keras's own refusal, reported without a traceback
        _fail(f"Keras could not build {spec.name}: {type(error).__name__}: {error}")
    model.summary(print_fn=lambda line, **_: click.echo(line))


@main.command(name="plan")
@spec_options
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--style",
    type=click.Choice(STYLE_CHOICES[:3]),
    default="functional",
    show_default=True,
    help="The Keras style the model is compiled to.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json", "yaml", "py"]),
    default="md",
    show_default=True,
    help="md for people; json or yaml for tools; py for a module of " "save_<path>/load_<path> functions.",
)
@click.option(
    "--transfer-from",
    "transfer_path",
    type=click.Path(exists=True, dir_okay=False),
    help="A spec of a trained model whose layers this one reuses (adds the transfer path).",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="The Keras backend the plan is for, and --verify runs on [default: KERAS_BACKEND, "
    "else ~/.keras/keras.json, else tensorflow].",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Run every path in Keras and check each claim (imports Keras and the backend).",
)
@_SEARCH_PATH
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the plan to this file.")
def plan_command(spec_path, style, fmt, transfer_path, backend, verify, search_path, output) -> None:
    """Every way Keras 3 can save and load the model in a style: what each keeps, the code, the traps.

    With --verify, the model is trained a few steps on random data, each path's
    own save code runs on it, and every load runs in a fresh Python process, in
    a temporary directory removed however the run ends; each claim is checked,
    and the exit status is 1 if Keras contradicts any of them, each false claim
    saying why. The fresh processes run isolated (python -I): they import nothing
    from the working directory or PYTHONPATH; `custom` layer modules come from the
    spec's folder, each --path DIR, or the installed packages.
    """
    from .plans import plan
    from .plans.render import FORMATS, STRUCTURED

    spec = _valid_spec(spec_path)
    source = _valid_spec(transfer_path) if transfer_path else None
    _check_style(spec, style)
    the_plan = plan(spec, style, transfer_from=source, backend=backend)
    if not verify or fmt not in STRUCTURED:
        _output(FORMATS[fmt](the_plan), output)
    if not verify:
        return
    import os

    import time

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = the_plan.backend  # this process and the fresh ones it starts
    import keras

    from .backends.custom_layers import CustomLayerRefused
    from .plans.verify import NothingToTrain, verify as run_checks

    click.echo(
        f"verifying {len(the_plan.paths)} paths of {spec.name} ({style}) with keras {keras.__version__} "
        f"on {keras.backend.backend()}:",
        err=True,
    )
    if "model_parallel" in (spec.distribution or {}) and keras.backend.backend() != "jax":
        import copy

        click.echo(
            f"the model-parallel layout needs JAX and Keras runs on {keras.backend.backend()}: the paths "
            "are verified on one device; the plan's distribution facts were measured by "
            "tests/test_distribution.py, not by this run",
            err=True,
        )
        spec = copy.copy(spec)
        spec.distribution = None
    start = time.perf_counter()
    try:
        checks = run_checks(
            spec,
            style,
            the_plan,
            transfer_from=source,
            progress=lambda line: click.echo(line, err=True),
            search_path=search_path,
        )
    except ImportError as error:
        _fail(f"cannot import a custom layer: {error}", 2)
    except CustomLayerRefused as error:
        _fail(str(error))
    except NothingToTrain as error:
        _fail(str(error), 2)
    failed = [c for c in checks if not c.ok]
    click.echo(f"\n{'path':<20}  {'result':<6}  claim", err=True)
    for check in checks:
        detail = f" ({check.detail})" if check.detail else ""
        click.echo(f"{check.path:<20}  {'ok' if check.ok else 'FALSE':<6}  {check.claim}{detail}", err=True)
    click.echo(
        f"{len(checks) - len(failed)} claims hold, {len(failed)} false, keras {keras.__version__} "
        f"on {keras.backend.backend()}, "
        f"{time.perf_counter() - start:.1f} s",
        err=True,
    )
    if fmt in STRUCTURED:  # the plan with each claim's result and why
        _output(FORMATS[fmt](the_plan, checks), output)
    if failed:
        sys.exit(1)


def loading_options(path_help: str):
    """--path and --import, for the commands that load a saved Keras model."""

    def decorate(command):
        command = click.option(
            "--import",
            "modules",
            multiple=True,
            metavar="MODULE",
            help="A module imported before loading, so that the custom classes it registers with "
            "keras.saving.register_keras_serializable are found; runs its code. Repeatable.",
        )(command)
        return click.option(
            "--path",
            "paths",
            multiple=True,
            type=click.Path(exists=True, file_okay=False),
            metavar="DIR",
            help=f"{path_help}, repeatable.",
        )(command)

    return decorate


@main.command(name="import")
@click.argument("source")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the spec here (stdout without it)."
)
@click.option(
    "--arg",
    "arguments",
    multiple=True,
    metavar="KEY=VALUE",
    help="A keyword argument for a `package.module:callable` source (YAML value), repeatable.",
)
@loading_options("A directory searched first for --import modules and a callable's module")
@click.option("--force", is_flag=True, help="Overwrite an existing file that kspec did not write.")
@click.option(
    "--flat", is_flag=True, help="Every layer in the model's own list: no blocks found in repeated runs."
)
def import_command(source, output, arguments, paths, modules, force, flat) -> None:
    """Turn a Keras model into a spec: a .keras, .h5 or .json file, or `package.module:callable`.

    Models saved by Keras 2 (tf.keras, tf_keras) are read too, SavedModel directories included,
    without tf_keras; `kspec migrate` also carries their weights.

    The model's compile settings (optimizer, loss, metrics, loss_weights) become the spec's
    `compile` section; what the spec language cannot say is named in a comment and on stderr.
    Runs of layers repeated with the same structure (ResNet's bottlenecks) become calls of one
    block, their Keras names kept; --flat writes every layer in one list instead.

    `package.module:callable` imports the module and runs the callable (with the --arg
    arguments), and --import imports modules: both run Python code, so name only packages you
    trust. Callables and modules of the Python standard library are refused. Files are loaded
    with Keras's safe_mode on.

    \b
    Example: kspec import keras.applications:ResNet50 --arg weights=None -o resnet50.yaml
    Custom layers: kspec import model.keras --path src --import my_project.layers -o model.yaml
    """
    import os

    import yaml

    from .importer import ImportRefused, LoadRefused, check_source, imported_model, load_source
    from .validate import validate_text

    kwargs = {}
    for item in arguments:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            _fail(f"--arg takes KEY=VALUE, got {item!r}", 2)
        kwargs[key] = None if value in ("None", "none") else yaml.safe_load(value)
    for module in modules:
        if not all(part.isidentifier() for part in module.split(".")):
            _fail(f"--import takes a module name such as my_project.layers, got {module!r}", 2)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        check_source(source, modules)  # before anything is imported, let alone run
        click.echo(f"loading {source} ...", err=True)
        translation: list[str] = []
        model, compile_config = load_source(source, kwargs, paths, modules, translation)
        text, not_carried = imported_model(model, compile_config, flat)
    except LoadRefused as refusal:
        _fail(f"cannot import {source}: {refusal}", 2)
    except ImportRefused as refusal:
        _fail(f"cannot import {source}: {refusal}")
    except (OSError, ImportError, AttributeError, ValueError, TypeError) as error:
        _fail(f"cannot load {source}: {type(error).__name__}: {error}", 2)
    except RecursionError:  # a file is read where its chain fits (kspec.deep); a callable's own build
        _fail(
            f"cannot import {source}: Keras ran out of Python's recursion limit on a model this deep "
            "(it recurses once per chained layer); a callable must build such a model itself inside "
            "kspec.deep.deep(build, layers)"
        )
    for note in translation:
        click.echo(f"kspec: warning: Keras 2 to 3: {note}", err=True)
    for note in not_carried:
        click.echo(f"kspec: warning: compile setting not carried: {note}", err=True)
    errors = [d for d in validate_text(text, output or "<import>").diagnostics if d.is_error]
    if errors:
        _fail(
            f"the imported spec has {len(errors)} errors, first: line {errors[0].line}: {errors[0].message}"
        )
    if output:
        _writable(output)
    if output and os.path.exists(output) and not force:
        from .files import read_head

        try:
            head = read_head(output, 4000).decode("utf-8", errors="replace")
        except OSError as exc:
            _fail(f"cannot read {output}: {exc.strerror or exc}", 2)
        if "kspec: 1" not in head:
            _fail(f"{output} exists and is not a kspec spec: use --force to overwrite it")
    _output(text, output)


SAVED_MODELS = (".keras", ".h5")


@main.command(name="diff")
@spec_options
@click.argument("path_a", metavar="A", type=click.Path(exists=True, dir_okay=False))
@click.argument("path_b", metavar="B", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, markdown for a pull-request comment.",
)
@loading_options("For a saved model: a directory searched first for --import modules")
def diff_command(path_a, path_b, fmt, paths, modules) -> None:
    """What changed from model A to model B: layers added, removed, renamed or changed, shapes,
    parameters, and whether A's weights load into B by name and by position.

    A and B are specs, or saved models (.keras, .h5) imported as `kspec import` does; only a
    saved model imports TensorFlow. Layers are matched by name, then by structure (renamed).
    --set changes both sides alike.

    \b
    Exit status:
      0  no differences
      1  A and B differ
      2  a spec with errors, a model that cannot be loaded, a usage error
      130  interrupted (Ctrl-C)
    """
    from .diff import diff
    from .diff_render import FORMATS, text

    spec_a = _diff_side(path_a, paths, modules)
    spec_b = _diff_side(path_b, paths, modules)
    found = diff(spec_a, spec_b, path_a, path_b)
    if fmt == "text":
        style = click.style if sys.stdout.isatty() else (lambda value, **_: value)
        click.echo(text(found, style), nl=False)
    else:
        click.echo(FORMATS[fmt](found), nl=False)
    sys.exit(0 if found.equal else 1)


def _diff_side(path: str, paths, modules):
    """A side of `kspec diff` as a valid spec; located diagnostics and exit status 2 if it has errors."""
    from .report import TextReporter
    from .validate import validate_file, validate_text

    if path.lower().endswith(SAVED_MODELS):
        text = _imported_text(path, paths, modules)
        result = validate_text(text, f"{path} (imported)", _limits(), _overrides())
    else:
        result = validate_file(path, _limits(), _overrides())
    if result.errors or result.spec is None:
        TextReporter(lambda line: click.echo(line, err=True), color=sys.stderr.isatty()).report([result])
        sys.exit(2)
    return result.spec


def _imported_text(path: str, paths, modules) -> str:
    """The spec text of a saved model, as `kspec import` writes it (imports TensorFlow)."""
    import os

    from .importer import ImportRefused, LoadRefused, imported_model, load_source

    for module in modules:
        if not all(part.isidentifier() for part in module.split(".")):
            _fail(f"--import takes a module name such as my_project.layers, got {module!r}", 2)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        model, compile_config = load_source(path, {}, paths, modules)
        return imported_model(model, compile_config).text
    except (LoadRefused, ImportRefused) as refusal:
        _fail(f"cannot import {path}: {refusal}", 2)
    except (OSError, ImportError, AttributeError, ValueError, TypeError) as error:
        _fail(f"cannot load {path}: {type(error).__name__}: {error}", 2)


@main.command(name="migrate")
@click.argument("source", type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The Keras 3 model file to write (.keras); the spec goes beside it as .yaml.",
)
@click.option(
    "--weights",
    type=click.Path(exists=True, dir_okay=False),
    help="The .h5 file of model.save_weights(), for a JSON architecture file (which has no weights).",
)
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), help="Write the spec here instead.")
@click.option("--force", is_flag=True, help="Overwrite an existing spec that kspec did not write.")
def migrate_command(source, output, weights, spec_path, force) -> None:
    """Rebuild a Keras 2 model in Keras 3 with its weights: a .h5 file, a SavedModel directory,
    a Keras 2 .keras file, or a to_json() file with --weights.

    The config becomes a spec, kspec builds it, and the old weights are set layer by layer
    by name; where tf_keras is installed, the new model's predictions on random inputs are
    compared with the old model's (loaded by tf_keras only after kspec found no code in its
    config). Writes OUTPUT.keras and the spec, and lists every layer whose weights moved and
    everything not carried. SavedModel weights are read with TensorFlow (no graph is run).

    \b
    Exit status:
      0  migrated, predictions equal (or not compared: tf_keras is not installed)
      1  the model cannot be migrated, or its predictions differ
      2  a file that cannot be read or written
    """
    import os
    import tempfile

    if not output.endswith(".keras"):
        _fail(f"-o takes a .keras file, got {output}", 2)
    spec_path = spec_path or output[: -len(".keras")] + ".yaml"
    for path in (output, spec_path):
        _writable(path)
    if os.path.exists(spec_path) and not force:
        from .files import read_head

        if "kspec: 1" not in read_head(spec_path, 4000).decode("utf-8", errors="replace"):
            _fail(f"{spec_path} exists and is not a kspec spec: use --force to overwrite it")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .importer import ImportRefused, LoadRefused
    from .importer.migrate import migrate

    try:
        migrated = migrate(source, weights, progress=lambda line: click.echo(f"{line} ...", err=True))
    except LoadRefused as refusal:
        _fail(f"cannot migrate {source}: {refusal}", 2)
    except ImportRefused as refusal:
        _fail(f"cannot migrate {source}: {refusal}")
    except (OSError, ImportError, KeyError) as error:
        _fail(f"cannot migrate {source}: {type(error).__name__}: {error}", 2)
    except Exception as error:  # Keras's own refusal, reported without a traceback
        _fail(f"cannot migrate {source}: {type(error).__name__}: {' '.join(str(error).split())[:400]}")
    for line in migrated.moved:
        click.echo(f"weights moved: {line}", err=True)
    for note in migrated.not_carried:
        click.echo(f"kspec: warning: not carried: {note}", err=True)
    if migrated.difference is not None:
        click.echo(
            f"predictions equal the Keras 2 model's (largest difference {migrated.difference:.3g})", err=True
        )
    with tempfile.TemporaryDirectory() as folder:
        saved = os.path.join(folder, "model.keras")
        migrated.model.save(saved)
        with open(saved, "rb") as handle:
            _output(handle.read(), output)
    _output(migrated.text, spec_path)
