"""The `kspec` command line. Each command parses options, then calls the library."""

from __future__ import annotations

import sys

import click

from . import __version__
from .source import DEFAULT_MAX_FILE_SIZE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kspec")
def main() -> None:
    """kspec: declarative YAML model specs for Keras 3.

    Validate a spec without importing TensorFlow, see its shapes, compile it to a
    Sequential, Functional or subclassed Keras model, and plan how to save it.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text for people, json for tools, github for Actions annotations.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_SIZE,
              envvar="KSPEC_MAX_FILE_SIZE", show_default=True, show_envvar=True,
              help="Refuse spec files larger than this many bytes.")
def validate(paths, fmt, strict, max_file_size) -> None:
    """Check specs: YAML, schema, names, references, arguments and blocks.

    PATHS are spec files, or directories searched for *.yaml and *.yml.
    Never imports TensorFlow or Keras.

    \b
    Exit status:
      0  every spec is valid (warnings allowed, unless --strict)
      1  some spec has errors
      2  usage error, or a path that cannot be read
    """
    import gc

    from .report import REPORTERS
    from .validate import spec_files, validate_file

    gc.disable()  # a short-lived process whose data has no cycles
    files = spec_files(paths)
    if not files:
        raise click.UsageError("no *.yaml or *.yml files found under " + ", ".join(paths))
    results = [validate_file(f, max_file_size) for f in files]
    reporter = REPORTERS[fmt](click.echo, color=sys.stdout.isatty())
    reporter.report(results)
    if any(r.unreadable for r in results):
        sys.exit(2)
    failed = any(r.errors or (strict and r.warnings) for r in results)
    sys.exit(1 if failed else 0)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec language (draft 2020-12)."""
    from .structure import schema_text

    click.echo(schema_text(), nl=False)
