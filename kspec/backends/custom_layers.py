"""Importing a spec's `custom` layer classes, and refusing the ones no spec may use.

A generated module imports its custom classes by name; kspec imports and checks them
first (`check_custom_classes`), so that a refused class stops a build, or a verify,
before anything runs it.
"""

from __future__ import annotations

from ..catalog.calls import RUNS_CODE
from ..searchpath import import_custom


class CustomLayerRefused(TypeError):
    """A `custom` class that is not a layer, or is one of the layers that run code or load files."""


def custom_class(type_name: str, path: str, folders=()):
    """The class a `custom` entry names (`module:Class`), imported and checked."""
    import keras

    module_name, _, attribute = path.partition(":")
    try:
        module = import_custom(module_name, folders)
    except ImportError as error:
        where = ", ".join(folders) if folders else "the installed packages"
        raise ImportError(
            f"custom type {type_name} ({path}): {error}; looked in {where}: put the module beside the "
            "spec or name its folder with --path DIR"
        ) from error
    cls = getattr(module, attribute, None)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise CustomLayerRefused(f"custom type {type_name}: {path} is not a keras.layers.Layer subclass")
    for banned in RUNS_CODE:
        base = getattr(keras.layers, banned, None)
        if base is not None and issubclass(cls, base):
            raise CustomLayerRefused(
                f"custom type {type_name}: {path} is keras.layers.{banned} or a subclass of it, "
                "which runs Python functions or loads files: refused"
            )
    return cls


def check_custom_classes(custom: dict, folders=()) -> None:
    """Import and check every `custom` class of a spec (type name -> `module:Class`)."""
    for type_name, path in custom.items():
        custom_class(type_name, path, folders)


def check_contracts(spec, model) -> None:
    """Raise SpecError, located at the contract, where a `custom` layer's real output shape or
    weight count differs from what its contract made kspec infer (`kspec build` calls this).

    Each layer is checked at its first call; a dimension or count the contract left
    unknown is not checked."""
    if not spec.contracts:
        return
    import math

    from ..diagnostics import Diagnostic, SpecError
    from ..shapes import infer
    from ..weights import layers_by_name

    layers = layers_by_name(model)
    problems = []
    for static in infer(spec).layers:
        node = static.node
        layer = layers.get(node.name)
        if node.share or node.type not in spec.contracts or layer is None:
            continue
        output = layer.output
        real = [tuple(t.shape) for t in output] if isinstance(output, (list, tuple)) else tuple(output.shape)
        counts = {
            "weights": sum(math.prod(w.shape) for w in layer.trainable_weights),
            "non_trainable_weights": sum(math.prod(w.shape) for w in layer.non_trainable_weights),
        }
        found = []
        if static.output is not None and not _fits(static.output, real):
            found.append(("output_shape", f"an output shape {_shown(static.output)}", _shown(real)))
        for key, said, kind in (
            ("weights", static.trainable, "trainable"),
            ("non_trainable_weights", static.non_trainable, "non-trainable"),
        ):
            if said is not None and said != counts[key]:
                found.append((key, f"{said:,} {kind} parameters", f"{counts[key]:,}"))
        for key, said, actual in found:
            message = (
                f"custom type {node.type}'s contract gives '{node.name}' {said}; "
                f"the real layer ({type(layer).__name__}) has {actual}"
            )
            hint = "correct the contract (kspec import writes the one it measures), or the layer"
            where = spec.contracts[node.type].where + (key,)
            document = spec.document
            problems.append(
                document.diagnostic(where, "KS503", message, hint=hint)
                if document is not None
                else Diagnostic("<spec>", 1, 1, "KS503", "error", message, hint)
            )
    if problems:
        raise SpecError(problems)


def _fits(said, real) -> bool:
    """Whether an inferred shape (or list of shapes) agrees with the real one where it is known."""
    if isinstance(said, list) or isinstance(real, list):
        return (
            isinstance(said, list)
            and isinstance(real, list)
            and len(said) == len(real)
            and all(_fits(s, r) for s, r in zip(said, real))
        )
    return len(said) == len(real) and all(s is None or s == r for s, r in zip(said, real))


def _shown(shape) -> str:
    from ..shapes import fmt

    return fmt(shape)
