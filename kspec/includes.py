"""`include:` brings the blocks and custom layers of other files into a spec.

Paths are resolved relative to the including file, transitively, after symbolic
links are resolved; a file outside the project root (the nearest folder above
the spec that holds `.git`, else the spec's own folder; `--include-root` names
another) is refused, as are cycles, unreadable files and more than
MAX_INCLUDED files. Each included file is read as a spec document of its own,
bounded like the spec, and parsed once per process. Everything said about an
included file is located in it: a `where` path that starts with `Included(k)`
belongs to the k-th included document (`DocumentSet`).
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .source import Document, read_document

MAX_INCLUDED = 256  # files one spec may include, all levels together


class Included(NamedTuple):
    """The first element of a `where` path that lies in the `index`-th included file."""

    index: int


class Inclusion(NamedTuple):
    """One included file: its document, and the chain of include entries that brought it in."""

    document: Document
    chain: tuple  # ((including file, line), ...) from the spec down


class DocumentSet:
    """A spec's document and those of the files it includes, as one: positions and
    diagnostics of a `where` that starts with Included(k) come from the k-th included file."""

    def __init__(self, root: Document, included: list | None = None):
        self.root = root
        self.included: list[Inclusion] = included or []

    @property
    def path(self) -> str:
        return self.root.path

    @property
    def text(self) -> str:
        return self.root.text

    @property
    def data(self):
        return self.root.data

    @property
    def overridden(self) -> dict:
        return self.root.overridden

    def _split(self, where) -> tuple[Document, tuple]:
        where = tuple(where)
        if where and isinstance(where[0], Included):
            return self.included[where[0].index].document, where[1:]
        return self.root, where

    def position(self, where, key: bool = False) -> tuple[int, int]:
        document, where = self._split(where)
        return document.position(where, key=key)

    def diagnostic(self, where, code, message, **kwargs):
        document, where = self._split(where)
        return document.diagnostic(where, code, message, **kwargs)

    def place(self, where) -> str:
        """`path:line` of a key, for messages that point at a second place."""
        document, inner = self._split(where)
        return f"{document.path}:{document.position(inner, key=True)[0]}"

    def source_line(self, line: int) -> str:
        return self.root.source_line(line)

    def sources(self) -> dict:
        """Path -> text of every document, for reports that quote source lines."""
        found = {inclusion.document.path: inclusion.document.text for inclusion in self.included}
        found[self.root.path] = self.root.text
        return found


def chain_text(chain: tuple) -> str:
    """`a.yaml:3 includes b.yaml:5 includes ...` for the entries of a chain."""
    return " includes ".join(f"{path}:{line}" for path, line in chain)


def project_root(spec_path: str) -> str:
    """The nearest folder above the spec that holds `.git`, else the spec's own folder."""
    start = os.path.dirname(os.path.realpath(spec_path))
    folder = start
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


class _Cache:
    """Included documents already read in this process, by real path, size and mtime."""

    def __init__(self):
        self.documents: dict = {}

    def read(self, real: str, shown: str, max_size: int) -> Document:
        try:
            status = os.stat(real)
            key = (real, status.st_size, status.st_mtime_ns, max_size)
        except OSError:
            key = None
        document = self.documents.get(key) if key else None
        if document is None or document.path != shown:
            document = read_document(shown, max_size)
            if key:
                self.documents[key] = document
        return document


_CACHE = _Cache()


def resolve(documents: DocumentSet, out, max_size: int, root: str | None = None) -> None:
    """Add to the spec's DocumentSet every file its `include:` lists, transitively, in order
    of first appearance; problems with the entries themselves go to `out` (a Collector over
    the set)."""
    document = documents.root
    data = document.data
    if not isinstance(data, dict) or "include" not in data:
        return
    base = document.path if document.path != "<string>" else os.path.join(os.getcwd(), "<string>")
    root = os.path.realpath(root or project_root(base))
    seen = {os.path.realpath(base): None}  # real path -> index in documents.included (None: the spec)
    problems: list = []
    work = [(data, (), base, ())]  # (data, where prefix, path, chain) of files whose includes to read
    while work:
        data, prefix, path, chain = work.pop(0)
        entries = data.get("include")
        if not isinstance(entries, list):
            continue  # the schema reports it
        for position, entry in enumerate(entries):
            if not isinstance(entry, str):
                continue
            where = prefix + ("include", position)
            line, _ = documents.position(where)
            here = chain + ((path, line),)
            shown = os.path.normpath(os.path.join(os.path.dirname(path), entry))
            real = os.path.realpath(shown)
            problem = _refusal(entry, shown, real, root, seen, documents, here)
            if problem is not None:
                problems.append((where, *problem))
                continue
            if real in seen:
                continue  # included already, by another path: its blocks come once
            if len(documents.included) >= MAX_INCLUDED:
                problems.append(
                    (where, "KS015", f"more than {MAX_INCLUDED} included files", f"via {chain_text(here)}")
                )
                work.clear()
                break
            included = _CACHE.read(real, shown, max_size)
            seen[real] = len(documents.included)
            documents.included.append(Inclusion(included, here))
            if isinstance(included.data, dict):
                work.append((included.data, (Included(seen[real]),), shown, here))
    for where, code, message, hint in problems:
        out.error(where, code, message, hint)


def _refusal(entry: str, shown: str, real: str, root: str, seen: dict, documents, chain) -> tuple | None:
    """(code, message, hint) when an include entry cannot be followed, else None."""
    if real in seen and _on_chain(real, chain):
        return (
            "KS013",
            f"include cycle: '{entry}' leads back to a file on the include chain",
            (f"{chain_text(chain)} again"),
        )
    if os.path.commonpath([root, real]) != root:
        return (
            "KS014",
            f"'{entry}' is outside the project root {root}",
            "an include stays inside the folder that holds .git (or the spec's folder); "
            "--include-root names another",
        )
    if not os.path.isfile(real):
        what = "does not exist" if not os.path.lexists(shown) else "is not a regular file"
        return "KS012", f"included file '{shown}' {what}", f"via {chain_text(chain)}"
    return None


def _on_chain(real: str, chain: tuple) -> bool:
    return any(os.path.realpath(path) == real for path, _ in chain)
