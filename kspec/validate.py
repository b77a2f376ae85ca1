"""The validation pipeline: load, check structure, build the IR, check meaning."""

from __future__ import annotations

import os

from .checks import Collector, check_spec
from .diagnostics import Diagnostic
from .gcpause import gc_paused
from .ir import Spec, build_spec
from .source import DEFAULT_MAX_FILE_SIZE, Document, load_text, read_document
from .structure import schema_checker


class Result:
    """What validating one spec found."""

    def __init__(self, document: Document, spec: Spec | None, diagnostics: list[Diagnostic], shapes=None):
        self.document = document
        self.spec = spec
        self.diagnostics = diagnostics
        self.shapes = shapes  # the ShapeReport, when the spec got that far

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def unreadable(self) -> bool:
        return any(d.code == "KS000" for d in self.diagnostics)


def validate_file(path: str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> Result:
    with gc_paused():
        return validate_document(read_document(path, max_size))


def validate_text(text: str, path: str = "<string>") -> Result:
    with gc_paused():
        return validate_document(load_text(text, path))


def validate_document(document: Document) -> Result:
    """Every diagnostic for a loaded document, sorted by position."""
    out = Collector(document)
    out.diagnostics.extend(document.diagnostics)
    spec = shapes = None
    if document.data is not None and not isinstance(document.data, dict):
        out.error((), "KS004", f"the document is a {_kind(document.data)}, not a mapping",
                  "a spec starts with keys such as `kspec: 1` and `name: ...`")
    elif isinstance(document.data, dict):
        for problem in schema_checker().check(document.data):
            if problem.at_key:
                out.error(problem.path, problem.code, problem.message, problem.hint, key=True)
            else:
                out.error(problem.path, problem.code, problem.message, problem.hint)
        spec = build_spec(document.data, document)
        check_spec(spec, out)
        if not out.has_errors:
            from .shapes import infer

            shapes = infer(spec)
            out.diagnostics.extend(shapes.diagnostics)
    diagnostics = sorted(out.diagnostics, key=lambda d: (d.line, d.column, d.code))
    return Result(document, spec, diagnostics, shapes)


def _kind(value) -> str:
    return "list" if isinstance(value, list) else type(value).__name__.replace("str", "string")


def spec_files(paths) -> list[str]:
    """Files named, and `*.yaml`/`*.yml` files under directories named, in order."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith((".yaml", ".yml")))
        else:
            found.append(path)
    return found
