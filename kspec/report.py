"""Print diagnostics: text with the source line and a caret, JSON, or GitHub annotations."""

from __future__ import annotations


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class TextReporter:
    """`path:line:col: error KS102 message`, the source line, a caret and the hint."""

    def __init__(self, echo, color: bool = False):
        self.echo = echo
        self.color = color

    def _style(self, text: str, **style) -> str:
        if not self.color:
            return text
        import click

        return click.style(text, **style)

    def report(self, results) -> None:
        errors = warnings = 0
        for result in results:
            for d in result.diagnostics:
                errors += d.is_error
                warnings += not d.is_error
                self._one(result, d)
        files = len(results)
        if errors or warnings:
            self.echo(
                f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')} "
                f"in {_plural(files, 'spec')}."
            )
        else:
            self.echo(self._style(f"All {_plural(files, 'spec')} valid.", fg="green"))

    def _one(self, result, d) -> None:
        color = "red" if d.is_error else "yellow"
        head = self._style(f"{d.severity} {d.code}", fg=color, bold=True)
        self.echo(f"{d.path}:{d.line}:{d.column}: {head} {d.message}")
        line, column = _excerpt(result.source_line(d).replace("\t", " "), d.column)
        if line.strip():
            number = str(d.line)
            pad = " " * len(number)
            caret = " " * max(column - 1, 0) + "^"
            self.echo(f"  {number} | {line}")
            self.echo(f"  {pad} | {self._style(caret, fg=color, bold=True)}")
        if d.hint:
            self.echo(f"  = hint: {d.hint}")


EXCERPT = 120  # characters of a source line shown around the column


def _excerpt(line: str, column: int) -> tuple[str, int]:
    """At most EXCERPT characters of a long line around `column`, and the column within them."""
    if len(line) <= EXCERPT:
        return line, column
    start = max(0, min(column - 1 - EXCERPT // 2, len(line) - EXCERPT))
    text = line[start : start + EXCERPT]
    prefix, suffix = ("..." if start else ""), ("..." if start + EXCERPT < len(line) else "")
    return prefix + text + suffix, column - start + len(prefix)


class JsonReporter:
    """A JSON list of `{path, line, column, code, severity, message, hint}`."""

    def __init__(self, echo, color: bool = False):
        self.echo = echo

    def report(self, results) -> None:
        import json

        items = [d.as_dict() for r in results for d in r.diagnostics]
        self.echo(json.dumps(items, indent=2, ensure_ascii=False))


class GithubReporter:
    """GitHub Actions workflow commands: `::error file=...,line=...,col=...::message`."""

    def __init__(self, echo, color: bool = False):
        self.echo = echo

    def report(self, results) -> None:
        for result in results:
            for d in result.diagnostics:
                level = "error" if d.is_error else "warning"
                message = f"{d.message}" + (f" (hint: {d.hint})" if d.hint else "")
                self.echo(
                    f"::{level} file={_escape_property(d.path)},line={d.line},col={d.column},"
                    f"title={d.code}::{_escape_data(message)}"
                )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


REPORTERS = {"text": TextReporter, "json": JsonReporter, "github": GithubReporter}
