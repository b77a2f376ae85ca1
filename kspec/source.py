"""Read a YAML spec into plain Python data, keeping the position of everything.

The loader drives libyaml's event stream itself instead of using a PyYAML
constructor, so that it can:
- keep the line and column of every key and value (`Document.spans`);
- refuse duplicate keys, tags, merge keys and multi-document files;
- bound nesting depth and alias expansion without recursion;
- resolve scalars with the YAML 1.2 core schema (`yes` stays a string,
  `1e-3` is a float, `0755` is flagged as ambiguous).
Problems become located diagnostics, never exceptions.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, NamedTuple

import yaml

from .diagnostics import ERROR, Diagnostic
from .files import open_regular

try:  # libyaml's C parser when available; the pure-Python one otherwise.
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Parser = yaml.SafeLoader

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024  # the CLI reads KSPEC_MAX_FILE_SIZE too
MAX_DEPTH = 200
MAX_ALIAS_EXPANSION = 1_000_000
_TOO_DEEP = f"YAML nesting is deeper than {MAX_DEPTH} levels"

_NULL_WORDS = frozenset({"null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")
_STANDARD_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}

Path = tuple


class Document:
    """A loaded spec: its data, text and the position of every value and key."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.data: Any = None
        self.spans: dict = {}  # path tuple -> (line, column) of the value
        self.key_spans: dict = {}  # path tuple -> (line, column) of the key
        self.diagnostics: list = []
        self.overridden: dict = {}  # path tuple -> the `--set` that wrote the value there

    def position(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The position of a value (or its key), or of its nearest located parent."""
        table = self.key_spans if key else self.spans
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if key and path in self.spans:
                return self.spans[path]
            path = path[:-1]
        return self.spans.get((), (1, 1))

    def diagnostic(
        self, where: Path, code: str, message: str, *, hint=None, severity=ERROR, key=False
    ) -> Diagnostic:
        line, column = self.position(where, key=key)
        source = self.overridden.get(tuple(where)) if self.overridden else None
        if source is not None:
            message = f"{message} (the value comes from {source})"
        return Diagnostic(self.path, line, column, code, severity, message, hint)

    def source_line(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def read_document(path: str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> Document:
    """Read and load a spec file; problems are in `Document.diagnostics`.

    Only a regular file is read (a directory, FIFO, socket or device is `KS000`), and never
    more than `max_size` + 1 bytes, whatever size the file system reports.
    """
    doc = Document(path=path, text="")
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_size:
                return _fail(
                    doc,
                    "KS001",
                    f"file is {size:,} bytes, over the limit of {max_size:,}",
                    "raise the limit with --max-file-size or KSPEC_MAX_FILE_SIZE",
                )
            raw = handle.read(max_size + 1)
        if len(raw) > max_size:  # the file grew after it was measured
            return _fail(doc, "KS001", f"file is over the limit of {max_size:,} bytes")
    except OSError as exc:
        return _fail(doc, "KS000", f"cannot read file: {exc.strerror or exc}")
    return load_bytes(raw, path, doc)


def load_text(text: str, path: str = "<string>") -> Document:
    """Load a spec from text."""
    doc = Document(path=path, text=text)
    _compose(doc)
    return doc


def load_bytes(raw: bytes, path: str, doc: Document | None = None) -> Document:
    """Load a spec from bytes, checking that they are UTF-8 text."""
    doc = doc or Document(path=path, text="")
    if b"\x00" in raw:
        return _fail(doc, "KS001", "this is a binary file, not a YAML spec")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        doc.diagnostics.append(
            Diagnostic(
                path,
                line,
                column,
                "KS001",
                ERROR,
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                "save the file as UTF-8",
            )
        )
        return doc
    doc.text = text
    _compose(doc)
    return doc


def _fail(doc: Document, code: str, message: str, hint: str | None = None) -> Document:
    doc.diagnostics.append(Diagnostic(doc.path, 1, 1, code, ERROR, message, hint))
    return doc


class _Stop(Exception):
    """Stops composing after a diagnostic that makes the rest meaningless."""


class _Frame:
    __slots__ = ("value", "path", "key", "is_map", "anchor", "size")

    def __init__(self, value, path, is_map, anchor):
        self.value = value
        self.path = path
        self.key = None
        self.is_map = is_map
        self.anchor = anchor
        self.size = 1


def _is_nesting_limit(exc: yaml.MarkedYAMLError) -> bool:
    """Whether libyaml stopped at its own nesting limit (PyYAML >= 6.0.4 bundles one, at 1,000).

    Its scanner looks ahead, so it can meet its limit before the composer sees level
    MAX_DEPTH; past that limit the document is deeper than MAX_DEPTH either way.
    """
    return "nesting depth" in (exc.problem or "")


def _compose(doc: Document) -> None:
    try:
        _Composer(doc).run()
    except _Stop:
        doc.data = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if _is_nesting_limit(exc):
            doc.diagnostics.append(Diagnostic(doc.path, line, column, "KS009", ERROR, _TOO_DEEP))
            doc.data = None
            return
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        lines = doc.text.splitlines()
        hint = None
        if 0 < line <= len(lines) and "\t" in lines[line - 1]:
            hint = "YAML does not allow tabs for indentation: use spaces"
        doc.diagnostics.append(
            Diagnostic(doc.path, line, column, "KS002", ERROR, f"YAML syntax error: {message}", hint)
        )
        doc.data = None
    except yaml.YAMLError as exc:
        doc.diagnostics.append(Diagnostic(doc.path, 1, 1, "KS002", ERROR, f"YAML error: {exc}"))
        doc.data = None


class _Composer:
    """Builds plain data from libyaml events with an explicit stack."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0

    def error(self, mark, code, message, hint=None, fatal=False):
        self.doc.diagnostics.append(
            Diagnostic(self.doc.path, mark.line + 1, mark.column + 1, code, ERROR, message, hint)
        )
        if fatal:
            raise _Stop

    def run(self) -> None:
        parser = _Parser(self.doc.text)
        try:
            self._run(parser)
        finally:
            parser.dispose()

    def _run(self, parser) -> None:
        documents = 0
        stack: list[_Frame] = []
        spans = self.doc.spans
        get_event = parser.get_event
        scalar_event, end_events = yaml.ScalarEvent, (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        while True:
            event = get_event()
            kind = type(event)
            frame = stack[-1] if stack else None
            if kind is scalar_event and frame is not None:
                if frame.is_map and frame.key is None:
                    self._take_key(event, frame)
                    continue
                # The common case, a scalar inside a collection, inlined.
                path = frame.path + ((frame.key,) if frame.is_map else (len(frame.value),))
                if event.tag is not None:
                    self._check_tag(event)
                value = self._scalar(event)
                mark = event.start_mark
                spans[path] = (mark.line + 1, mark.column + 1)
                self._attach(frame, value, 1)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1)
                continue
            if kind in end_events:
                frame = stack.pop()
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (frame.value, frame.size)
                if stack:
                    stack[-1].size += frame.size
                continue
            if kind is yaml.StreamEndEvent:
                break
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.error(
                        event.start_mark,
                        "KS007",
                        "the file holds more than one YAML document; a spec is one document",
                        "remove the '---' separator and the documents after it",
                        fatal=True,
                    )
                continue
            if kind is yaml.StreamStartEvent or kind is yaml.DocumentEndEvent:
                continue
            if frame is not None and frame.is_map and frame.key is None:
                self._take_key(event, frame)
                continue
            self._node(event, kind, frame, stack)
        if documents == 0 or (self.doc.data is None and not self.doc.diagnostics):
            self.error(
                _Mark(0, 0),
                "KS003",
                "the file is empty: a spec is a YAML mapping",
                "start from an example in specs/",
                fatal=True,
            )

    def _node(self, event, kind, frame: _Frame | None, stack: list) -> None:
        """A collection start, an alias, or a scalar at the root."""
        path = self._child_path(frame)
        if kind is yaml.AliasEvent:
            if event.anchor not in self.anchors:
                self.error(
                    event.start_mark,
                    "KS002",
                    f"alias *{event.anchor} refers to an anchor that is not defined yet",
                    fatal=True,
                )
            value, size = self.anchors[event.anchor]
            self.expanded += size
            if self.expanded > MAX_ALIAS_EXPANSION:
                self.error(
                    event.start_mark,
                    "KS006",
                    f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} values",
                    "a spec should not need this many aliases; use blocks instead",
                    fatal=True,
                )
        elif kind is yaml.ScalarEvent:
            self._check_tag(event)
            value, size = self._scalar(event), 1
        else:  # MappingStartEvent or SequenceStartEvent
            self._check_tag(event)
            if len(stack) >= MAX_DEPTH:
                self.error(event.start_mark, "KS009", _TOO_DEEP, fatal=True)
            is_map = kind is yaml.MappingStartEvent
            value, size = ({} if is_map else []), 0
            stack.append(_Frame(value, path, is_map, event.anchor))
        self._record(path, event.start_mark)
        self._attach(frame, value, size)
        if frame is None:
            self.doc.data = value

    def _take_key(self, event, frame: _Frame) -> None:
        if type(event) is not yaml.ScalarEvent:
            self.error(event.start_mark, "KS104", "a mapping key must be a plain name", fatal=True)
        key = event.value
        if key == "<<" and not event.style:
            self.error(
                event.start_mark,
                "KS010",
                "YAML merge keys (<<) are not supported",
                "write the keys out, or use a block for repeated structure",
                fatal=True,
            )
        if key in frame.value:
            first = self.doc.key_spans.get(frame.path + (key,))
            where = f" (first at line {first[0]})" if first else ""
            self.error(
                event.start_mark,
                "KS005",
                f"duplicate key '{key}'{where}",
                "YAML would silently keep only the last one; remove one of them",
            )
            key = _Duplicate(key)
        frame.key = key
        self.doc.key_spans[frame.path + (key,)] = (event.start_mark.line + 1, event.start_mark.column + 1)

    @staticmethod
    def _child_path(frame: _Frame | None) -> Path:
        if frame is None:
            return ()
        if frame.is_map:
            return frame.path + (frame.key,)
        return frame.path + (len(frame.value),)

    def _attach(self, frame: _Frame | None, value, size: int) -> None:
        if frame is None:
            return
        frame.size += size
        if frame.is_map:
            if not isinstance(frame.key, _Duplicate):
                frame.value[frame.key] = value
            frame.key = None
        else:
            frame.value.append(value)

    def _record(self, path: Path, mark) -> None:
        self.doc.spans[path] = (mark.line + 1, mark.column + 1)

    def _check_tag(self, event) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag in _STANDARD_TAGS:
            return
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        self.error(
            event.start_mark,
            "KS008",
            f"YAML tag '{shown}' is not allowed",
            "kspec reads plain YAML only; remove the tag",
            fatal=True,
        )

    def _scalar(self, event):
        text = event.value
        tag = event.tag
        if tag == "tag:yaml.org,2002:str" or (event.style and tag is None):
            return text
        if not text:
            return None
        if text[0].isalpha():  # only null and true/false start with a letter
            if text in _BOOL:
                return _BOOL[text]
            return None if text in _NULL_WORDS else text
        if text == "~":
            return None
        if _LEADING_ZERO.match(text):
            self.error(
                event.start_mark,
                "KS011",
                f"'{text}' is ambiguous: YAML 1.1 reads it as octal, YAML 1.2 as decimal",
                f"write {int(text, 10)} for decimal, 0o{text.lstrip('+-0')} for octal, "
                f"or quote it for a string",
            )
            return text
        if _INT.match(text):
            return int(text)
        if _OCT.match(text):
            return int(text[2:], 8)
        if _HEX.match(text):
            return int(text[2:], 16)
        if _FLOAT.match(text):
            return float(text)
        if _INF.match(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.match(text):
            return math.nan
        return text


class _Duplicate(str):
    """A repeated key: kept for its position, never stored in the mapping."""


class _Mark(NamedTuple):
    line: int
    column: int
