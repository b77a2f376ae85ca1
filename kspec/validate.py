"""The validation pipeline: load, check structure, build the IR, check meaning."""

from __future__ import annotations

import os
from typing import NamedTuple

from .checks import Collector, check_spec
from .checks.evaluated import check_evaluated
from .checks.expanded_names import check_expanded_names
from .checks.distribution import check_distribution
from .checks.expansion import DEFAULT_MAX_EXPANSION
from .diagnostics import Diagnostic
from .gcpause import gc_paused
from .catalog.versions import target
from .includes import DocumentSet, Included, resolve as resolve_includes
from .ir import Spec, build_spec
from .overrides import apply as apply_overrides
from . import params as top_params
from .shapes import infer
from .source import DEFAULT_MAX_FILE_SIZE, Document, load_text, read_document
from .structure import schema_checker


class Limits(NamedTuple):
    """How much one spec may ask of kspec (docs/security.md lists them)."""

    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes read from a file (the spec, each include)
    max_expansion: int = DEFAULT_MAX_EXPANSION  # layer calls that blocks and repeats expand to
    include_root: str | None = None  # the folder includes stay in (None: the project root)
    keras_version: str | None = None  # the Keras release checked against (None: kspec.catalog.versions)


class Result:
    """What validating one spec found."""

    def __init__(
        self,
        document,
        spec: Spec | None,
        diagnostics: list[Diagnostic],
        sources: dict | None = None,
        target=None,
    ):
        self.document = document  # the spec's Document, or its DocumentSet with the included files
        self.spec = spec
        self.diagnostics = diagnostics
        self.sources = sources or {}  # path -> text of included files, for quoting source lines
        self.target = target if target is not None else getattr(spec, "target", None)  # Keras checked against

    def source_line(self, diagnostic: Diagnostic) -> str:
        """The line a diagnostic points at, in the spec or in the included file it is in."""
        text = self.sources.get(diagnostic.path)
        if text is None or diagnostic.path == self.document.path:
            return self.document.source_line(diagnostic.line)
        lines = text.splitlines()
        return lines[diagnostic.line - 1] if 0 < diagnostic.line <= len(lines) else ""

    @property
    def shapes(self):
        """The ShapeReport, when the spec got that far (kept on the spec by shapes.infer)."""
        return self.spec.shapes if self.spec is not None else None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def unreadable(self) -> bool:
        return any(d.code == "KS000" for d in self.diagnostics)


def validate_file(path: str, limits: Limits = Limits(), overrides=()) -> Result:
    with gc_paused():
        return validate_document(read_document(path, limits.max_file_size), limits, overrides)


# Below this many files, starting worker processes costs more than it saves.
PARALLEL_FROM = 16


def validate_files(paths: list[str], limits: Limits = Limits(), jobs: int = 1, overrides=()) -> list[Result]:
    """Validate many files, sharing them with forked worker processes where that pays.

    The parent validates one share itself; each worker validates another and sends back,
    through a pipe, what reports need (path, text, diagnostics), not the IR. Results come
    back in the order of `paths`; a worker that dies has its share redone here.
    """
    if jobs <= 1 or len(paths) < 2:
        return [validate_file(p, limits, overrides) for p in paths]
    import pickle
    import signal

    _load_everything_once()  # forked workers share what the parent loaded
    shares = _balanced_shares(paths, min(jobs, len(paths)))
    workers = []
    try:
        for share in shares[1:]:
            # Ctrl-C waits until the worker is recorded, so that it is never left running.
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                read, write = os.pipe()
                pid = os.fork()
                if pid == 0:  # the worker: validate, send, and leave without the parent's cleanup
                    try:
                        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                        os.close(read)
                        with os.fdopen(write, "wb") as out:
                            pickle.dump(
                                [_validate_for_report(paths[i], limits, overrides) for i in share], out
                            )
                    finally:  # also on Ctrl-C: no traceback from a worker
                        os._exit(0)
                os.close(write)
                workers.append([pid, read, share])
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        found = {i: _validate_for_report(paths[i], limits, overrides) for i in shares[0]}
        for worker in workers:
            pid, read, share = worker
            worker[1] = None  # the file object below owns it
            with os.fdopen(read, "rb") as incoming:
                data = incoming.read()
            os.waitpid(pid, 0)
            worker[0] = None  # reaped
            try:
                found.update(zip(share, pickle.loads(data)))
            except Exception:  # the worker died: do its share here
                found.update((i, _validate_for_report(paths[i], limits, overrides)) for i in share)
    except BaseException:  # Ctrl-C, or anything else: leave no worker running
        _stop_workers(workers)
        raise
    return [
        Result(Document(path, text), None, diagnostics, sources, target)
        for path, text, diagnostics, sources, target in (found[i] for i in range(len(paths)))
    ]


def _stop_workers(workers: list) -> None:
    import signal

    # A worker still running, or not yet reaped, is killed and reaped; pipes are closed.
    for pid, read, _ in workers:
        if read is not None:
            os.close(read)
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


def _balanced_shares(paths: list[str], count: int) -> list[list[int]]:
    """Indices of `paths` split into `count` shares of about equal bytes, largest files first."""

    def size(index: int) -> int:
        try:
            return os.path.getsize(paths[index])
        except OSError:
            return 0

    shares: list[list[int]] = [[] for _ in range(count)]
    totals = [0] * count
    for index in sorted(range(len(paths)), key=size, reverse=True):
        lightest = totals.index(min(totals))
        shares[lightest].append(index)
        totals[lightest] += size(index)
    return shares


def _load_everything_once() -> None:
    import difflib  # noqa: F401  (so that no worker needs the import lock)

    from . import shapes  # noqa: F401
    from .catalog import catalog
    from .checks import arguments, blocks, compile, graph  # noqa: F401

    catalog()


def default_jobs(count: int) -> int:
    """Worker processes worth starting for `count` files: the cores, on Linux, from 16 files on."""
    import sys

    if count < PARALLEL_FROM or not sys.platform.startswith("linux"):
        return 1
    return min(os.cpu_count() or 1, 8)


def _validate_for_report(path: str, limits: Limits, overrides):
    result = validate_file(path, limits, overrides)
    return path, result.document.text, result.diagnostics, result.sources, result.target


def validate_text(text: str, path: str = "<string>", limits: Limits = Limits(), overrides=()) -> Result:
    with gc_paused():
        return validate_document(load_text(text, path), limits, overrides)


def validate_document(document: Document, limits: Limits = Limits(), overrides=()) -> Result:
    """Every diagnostic for a loaded document (and the files it includes), sorted by position;
    `overrides` (kspec.overrides) change its data first."""
    documents = DocumentSet(document)
    out = Collector(documents)
    out.diagnostics.extend(document.diagnostics)
    if overrides and isinstance(document.data, dict):
        apply_overrides(document, overrides, out)
    spec = None
    if document.data is not None and not isinstance(document.data, dict):
        out.error(
            (),
            "KS004",
            f"the document is a {_kind(document.data)}, not a mapping",
            "a spec starts with keys such as `kspec: 1` and `name: ...`",
        )
    elif isinstance(document.data, dict):
        declared = top_params.declared(document.data)
        top_params.check(declared, out)
        resolved = top_params.resolve(document.data, declared, out)
        document.data = resolved.data  # the spec as checked has the parameters' values
        _check_structure(document.data, (), out)
        errors = len(out.diagnostics)
        resolve_includes(documents, out, limits.max_file_size, limits.include_root)
        included = []
        for index, inclusion in enumerate(documents.included):
            out.diagnostics.extend(inclusion.document.diagnostics)
            data = inclusion.document.data
            if isinstance(data, dict):
                _check_structure(data, (Included(index),), out)
                top_params.check_included(data, (Included(index),), out)
                included.append(((Included(index),), data))
            elif data is not None:
                out.error(
                    (Included(index),), "KS004", f"the included document is a {_kind(data)}, not a mapping"
                )
        spec = build_spec(document.data, documents, tuple(included))
        if len(out.diagnostics) > errors:  # a missing or broken include: its blocks would be errors too
            return _result(documents, None, out)
        if declared:
            _add_params(spec, declared, resolved, documents, tuple(included), out)
        spec.target = target(limits.keras_version, _keras_field(document.data))
        check_spec(spec, out, limits.max_expansion, spec.target)
        if not out.has_errors and not spec.library:
            check_evaluated(spec, out)
        if not out.has_errors and not spec.library:
            check_expanded_names(spec, out)
        if not out.has_errors and not spec.library:
            shapes = infer(spec)
            out.diagnostics.extend(shapes.diagnostics)
            _check_memory(shapes, out)
            if spec.distribution and not out.has_errors:
                check_distribution(spec, out)
    return _result(documents, spec, out)


def _add_params(spec: Spec, declared: dict, resolved, documents, included: tuple, out) -> None:
    """The spec's parameters, and the Spec that modules are written from (`$names` kept)."""
    spec.params = declared
    top_params.check_unused(declared, resolved.used, out)
    written = build_spec(resolved.written, documents, included)
    written.params = declared
    written.bindings = {name: "$" + name for name in declared}
    written.param_sources = spec.param_sources = resolved.sources
    spec.written = written


def _result(documents: DocumentSet, spec: Spec | None, out) -> Result:
    """The Result, with the spec's own diagnostics first, each file's in order of position."""
    root = documents.path
    diagnostics = sorted(out.diagnostics, key=lambda d: (d.path != root, d.path, d.line, d.column, d.code))
    return Result(documents, spec, diagnostics, documents.sources())


def _keras_field(data: dict) -> str | None:
    value = data.get("keras")
    return value if isinstance(value, str) else None


def no_model(spec: Spec) -> Diagnostic:
    """The error for a command that needs a model, given a block library."""
    message = "this file is a block library (blocks, and no inputs, layers or outputs): it has no model"
    hint = "include it from a spec that calls its blocks: `include: [<this file>]`"
    return Diagnostic(getattr(spec.document, "path", "<spec>"), 1, 1, "KS101", "error", message, hint)


def _check_structure(data: dict, prefix: tuple, out) -> None:
    """The schema's problems with one document's data, located under `prefix`."""
    for problem in schema_checker().check(data):
        out.error(
            prefix + tuple(problem.path), problem.code, problem.message, problem.hint, key=problem.at_key
        )


def _check_memory(shapes, out) -> None:
    """Warn when the weights alone need more memory than this machine has."""
    needed = shapes.weight_bytes
    total = physical_memory()
    if not needed or not total or needed <= total:
        return
    largest = max(
        (layer for layer in shapes.layers if layer.weight_bytes), key=lambda layer: layer.weight_bytes
    )
    out.warning(
        largest.node.where + ("type",),
        "KS607",
        f"the weights need {needed:,} bytes ({needed / 2**30:,.1f} GiB), more than this machine's "
        f"{total / 2**30:,.1f} GiB; '{largest.node.name}' alone needs {largest.weight_bytes:,}",
        "check the sizes (units, filters, input_dim); the model will not build here",
    )


def physical_memory() -> int | None:
    """Bytes of physical memory, where the system says (Linux and most Unix)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _kind(value) -> str:
    return "list" if isinstance(value, list) else type(value).__name__.replace("str", "string")


def spec_files(paths) -> list[str]:
    """Files named, and `*.yaml`/`*.yml` files under directories named, in order.

    A directory that cannot be listed raises OSError (its `filename` names it): skipping it
    would report the specs inside as valid without reading them.
    """
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path, onerror=_unreadable_directory):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith((".yaml", ".yml")))
        else:
            found.append(path)
    return found


def _unreadable_directory(error: OSError) -> None:
    raise error
