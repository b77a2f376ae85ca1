"""kspec: a declarative YAML model-spec compiler for Keras 3."""

from __future__ import annotations

from .diagnostics import Diagnostic, SpecError
from .version import __version__

__all__ = [
    "Diagnostic",
    "SpecError",
    "__version__",
    "build",
    "dump",
    "from_keras",
    "generate",
    "load",
    "load_named_weights",
    "plan",
    "save_named_weights",
    "transfer_weights",
]


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


def build(spec, style: str = "functional", compile: bool = True, path=()):
    """A live keras.Model for a spec (imports Keras). The modules of `custom` layers are looked
    for in the spec file's folder, then in each folder of `path`, then on sys.path."""
    from .compiler import build as _build

    return _build(_as_spec(spec), style, compile, path)


def _as_spec(spec):
    return load(spec) if isinstance(spec, str) or hasattr(spec, "__fspath__") else spec


def plan(spec, style: str = "functional", transfer_from=None):
    """The save/load plan of a spec in a style (see kspec.plans)."""
    from .plans import plan as _plan

    return _plan(_as_spec(spec), style, transfer_from=_as_spec(transfer_from) if transfer_from else None)


def transfer_weights(source, target, names=None):
    """Copy weights between Keras models by layer name, checking shapes (see kspec.weights)."""
    from .weights import transfer_weights as _transfer

    return _transfer(source, target, names)


def save_named_weights(model, path):
    """Save weights keyed by layer name, loadable into any style (see kspec.weights)."""
    from .weights import save_named_weights as _save

    return _save(model, path)


def load_named_weights(model, path):
    """Load weights saved by save_named_weights, by layer name (see kspec.weights)."""
    from .weights import load_named_weights as _load

    return _load(model, path)


def from_keras(model):
    """The Spec of a Functional or Sequential keras.Model (see kspec.importer)."""
    from .importer import from_keras as _from_keras

    return load(_from_keras(model))


def dump(spec) -> str:
    """The YAML text of a spec that came from a file, from text, or from from_keras."""
    return spec.document.text
