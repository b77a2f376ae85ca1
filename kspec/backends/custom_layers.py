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
    weight counts differ from what its contract gives for the real input shapes (so that each
    contract is judged alone). `kspec build` calls this.

    Each layer is checked at its first call; a dimension or count that the contract leaves
    unknown is not checked."""
    if not spec.contracts:
        return
    import math

    from ..diagnostics import Diagnostic, SpecError
    from ..flatten import flatten
    from ..shapes import ShapeError, contracts
    from ..weights import layers_by_name

    layers = layers_by_name(model)
    problems = []
    for node in flatten(spec).nodes:
        layer = layers.get(node.name)
        contract = spec.contracts.get(node.type)
        if node.share or contract is None or layer is None:
            continue
        try:
            output, trainable, frozen = contracts.apply(contract, node.args, _shapes(layer.input))
        except ShapeError as error:
            output, trainable, frozen = _shapes(layer.output), None, None
            problems.append(_problem(spec, contract.where, f"'{node.name}': {error.message}", Diagnostic))
        real = _shapes(layer.output)
        found = []
        if output is not None and not _fits(output, real):
            found.append(("output_shape", f"an output shape {_shown(output)}", _shown(real)))
        for key, said, weights, kind in (
            ("weights", trainable, layer.trainable_weights, "trainable"),
            ("non_trainable_weights", frozen, layer.non_trainable_weights, "non-trainable"),
        ):
            count = sum(math.prod(w.shape) for w in weights)
            if said is not None and said != count:
                found.append((key, f"{said:,} {kind} parameters", f"{count:,}"))
        for key, said, actual in found:
            message = (
                f"custom type {node.type}'s contract gives '{node.name}' {said}; "
                f"the real layer ({type(layer).__name__}) has {actual}"
            )
            problems.append(_problem(spec, contract.where + (key,), message, Diagnostic))
    if problems:
        raise SpecError(problems)


def _problem(spec, where: tuple, message: str, diagnostic):
    hint = "correct the contract (kspec import writes the one it measures), or the layer"
    if spec.document is None:
        return diagnostic("<spec>", 1, 1, "KS503", "error", message, hint)
    return spec.document.diagnostic(where, "KS503", message, hint=hint)


def _shapes(tensors):
    """The shape of a tensor, or the list of shapes of a list (or mapping) of tensors."""
    if isinstance(tensors, dict):
        tensors = list(tensors.values())
    if isinstance(tensors, (list, tuple)):
        return [tuple(t.shape) for t in tensors]
    return tuple(tensors.shape)


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
