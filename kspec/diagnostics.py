"""Diagnostics are data: a code, a message, where it points, and a hint.

Every stage of kspec collects them instead of raising on the first problem;
the command line decides how to print them (see `kspec.report`).
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

ERROR = "error"
WARNING = "warning"


class Diagnostic(NamedTuple):
    """One finding about a spec, located at a 1-based line and column."""

    path: str
    line: int
    column: int
    code: str
    severity: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


class SpecError(Exception):
    """Raised by the Python API when a spec has errors; carries the diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error] or self.diagnostics
        first = errors[0] if errors else None
        summary = (
            f"{first.path}:{first.line}:{first.column}: {first.code} {first.message}"
            if first
            else "invalid spec"
        )
        more = len(errors) - 1
        super().__init__(summary + (f" ... and {more} more" if more > 0 else ""))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt word, or None when nothing is close."""
    import difflib  # only when something is misspelt

    choices = list(choices)
    same_but_case = [c for c in choices if c.lower() == word.lower()]
    if same_but_case:  # `Adamw` is `AdamW`, not the closer-spelt `Adam`
        return same_but_case[0]
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggestion(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or an empty string."""
    return meant(did_you_mean(word, choices))


def meant(match: str | None) -> str:
    """' (did you mean 'x'?)' for a match already found, or an empty string."""
    return f" (did you mean '{match}'?)" if match else ""


def block_context(document, scope: tuple, hint: str | None = None) -> str | None:
    """A hint that says which block call a diagnostic inside a block is about (`scope`: the
    Frames flatten's Node keeps), before `hint`; `hint` alone outside blocks."""
    if not scope or document is None:
        return hint
    frame = scope[-1]
    line, _ = document.position(frame.where)
    context = f"in block {frame.block}, called as '{frame.name}' on line {line}"
    return f"{context}; {hint}" if hint else context
