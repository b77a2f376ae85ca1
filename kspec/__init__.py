"""kspec: a declarative YAML model-spec compiler for Keras 3."""

from __future__ import annotations

__version__ = "0.1.0"

from .diagnostics import Diagnostic, SpecError  # noqa: E402

__all__ = ["Diagnostic", "SpecError", "__version__", "load"]


def load(source):
    """Load and validate a spec from a path or YAML text; raise SpecError on errors."""
    import os

    from .validate import validate_file, validate_text

    text_like = isinstance(source, str) and (
        "\n" in source or not (os.path.exists(source) or source.endswith((".yaml", ".yml")))
    )
    result = validate_text(source) if text_like else validate_file(os.fspath(source))
    if result.errors or result.spec is None:
        raise SpecError(result.diagnostics)
    return result.spec
