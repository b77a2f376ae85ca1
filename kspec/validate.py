"""The validation pipeline: load, check structure, build the IR, check meaning."""

from __future__ import annotations

import os
from typing import NamedTuple

from .checks import Collector, check_spec
from .checks.expansion import DEFAULT_MAX_EXPANSION
from .diagnostics import Diagnostic
from .gcpause import gc_paused
from .ir import Spec, build_spec
from .source import DEFAULT_MAX_FILE_SIZE, Document, load_text, read_document
from .checks.distribution import check_distribution
from .structure import schema_checker


class Limits(NamedTuple):
    """How much one spec may ask of kspec (docs/security.md lists them)."""

    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes read from a file
    max_expansion: int = DEFAULT_MAX_EXPANSION  # layer calls that blocks and repeats expand to


class Result:
    """What validating one spec found."""

    def __init__(self, document: Document, spec: Spec | None, diagnostics: list[Diagnostic]):
        self.document = document
        self.spec = spec
        self.diagnostics = diagnostics

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


def validate_file(path: str, limits: Limits = Limits()) -> Result:
    with gc_paused():
        return validate_document(read_document(path, limits.max_file_size), limits)


# Below this many files, starting worker processes costs more than it saves.
PARALLEL_FROM = 16


def validate_files(paths: list[str], limits: Limits = Limits(), jobs: int = 1) -> list[Result]:
    """Validate many files, sharing them with forked worker processes where that pays.

    The parent validates one share itself; each worker validates another and sends back,
    through a pipe, what reports need (path, text, diagnostics), not the IR. Results come
    back in the order of `paths`; a worker that dies has its share redone here.
    """
    if jobs <= 1 or len(paths) < 2:
        return [validate_file(p, limits) for p in paths]
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
                            pickle.dump([_validate_for_report(paths[i], limits) for i in share], out)
                    finally:  # also on Ctrl-C: no traceback from a worker
                        os._exit(0)
                os.close(write)
                workers.append([pid, read, share])
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        found = {i: _validate_for_report(paths[i], limits) for i in shares[0]}
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
                found.update((i, _validate_for_report(paths[i], limits)) for i in share)
    except BaseException:  # Ctrl-C, or anything else: leave no worker running
        _stop_workers(workers)
        raise
    return [
        Result(Document(path, text), None, diagnostics)
        for path, text, diagnostics in (found[i] for i in range(len(paths)))
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


def _validate_for_report(path: str, limits: Limits):
    result = validate_file(path, limits)
    return path, result.document.text, result.diagnostics


def validate_text(text: str, path: str = "<string>", limits: Limits = Limits()) -> Result:
    with gc_paused():
        return validate_document(load_text(text, path), limits)


def validate_document(document: Document, limits: Limits = Limits()) -> Result:
    """Every diagnostic for a loaded document, sorted by position."""
    out = Collector(document)
    out.diagnostics.extend(document.diagnostics)
    spec = None
    if document.data is not None and not isinstance(document.data, dict):
        out.error(
            (),
            "KS004",
            f"the document is a {_kind(document.data)}, not a mapping",
            "a spec starts with keys such as `kspec: 1` and `name: ...`",
        )
    elif isinstance(document.data, dict):
        for problem in schema_checker().check(document.data):
            if problem.at_key:
                out.error(problem.path, problem.code, problem.message, problem.hint, key=True)
            else:
                out.error(problem.path, problem.code, problem.message, problem.hint)
        spec = build_spec(document.data, document)
        check_spec(spec, out, limits.max_expansion)
        if not out.has_errors:
            from .shapes import infer

            shapes = infer(spec)
            out.diagnostics.extend(shapes.diagnostics)
            _check_memory(shapes, out)
            if spec.distribution and not out.has_errors:
                check_distribution(spec, out)
    diagnostics = sorted(out.diagnostics, key=lambda d: (d.line, d.column, d.code))
    return Result(document, spec, diagnostics)


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
