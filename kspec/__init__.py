"""kspec: a declarative YAML model-spec compiler for Keras 3."""

from __future__ import annotations

__version__ = "0.1.0"

from .diagnostics import Diagnostic, SpecError  # noqa: E402

__all__ = ["Diagnostic", "SpecError", "__version__", "build", "generate", "load"]


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


def generate(spec, style: str = "functional") -> str:
    """The source of a Python module building the spec's model in a Keras style."""
    from .compiler import generate as _generate

    return _generate(_as_spec(spec), style)


def build(spec, style: str = "functional", compile: bool = True):
    """A live keras.Model for a spec (imports Keras)."""
    from .compiler import build as _build

    return _build(_as_spec(spec), style, compile)


def _as_spec(spec):
    return load(spec) if isinstance(spec, str) or hasattr(spec, "__fspath__") else spec
