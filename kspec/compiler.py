"""The compiler's entry points: a spec to a Python module, or to a live Keras model."""

from __future__ import annotations

import sys
import types

from .backends.custom_layers import check_contracts, check_custom_classes
from .backends.python.functional import FunctionalWriter
from .backends.python.module import STYLES
from .backends.python.sequential import SequentialWriter
from .backends.python.subclass import SubclassWriter
from .backends.styles import sequential_problem, unshaped_model
from .deep import deep
from .diagnostics import Diagnostic, SpecError
from .flatten import flatten
from .validate import no_model
from .gcpause import gc_paused
from .searchpath import search_path

WRITERS = {"sequential": SequentialWriter, "functional": FunctionalWriter, "subclass": SubclassWriter}


def check_style(spec, style: str) -> None:
    """Raise SpecError, located at the layer that breaks it, if the style is not allowed."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    if spec.library:
        raise SpecError([no_model(spec)])
    if style != "functional":
        frame = unshaped_model(spec)
        if frame is not None:
            message = (
                f"the {style} style makes the nested model of '{frame.name}' on tensors of its input "
                "shapes, which static inference does not know"
            )
            raise SpecError([_located(spec, frame.where, message, "use --style functional")])
    if style != "sequential":
        return
    problem = sequential_problem(spec)
    if problem is None:
        return
    node, reason = problem
    message = f"the sequential style does not fit this graph: {reason}"
    hint = "use --style functional or --style subclass"
    if node is not None:
        where = node.scope[0].where if node.scope else node.where
    else:
        where = ("inputs",) if "input" in reason else ("outputs",)
    raise SpecError([_located(spec, where, message, hint)])


def _located(spec, where: tuple, message: str, hint: str) -> Diagnostic:
    """A KS211 error at `where` in the spec's document (or at its start, without one)."""
    if spec.document is None:
        return Diagnostic("<spec>", 1, 1, "KS211", "error", message, hint)
    return spec.document.diagnostic(where, "KS211", message, hint=hint)


def generate(spec, style: str = "functional") -> str:
    """The source of a Python module that builds the spec's model in a Keras style."""
    check_style(spec, style)
    document = spec.document
    spec = spec.written or spec  # with top-level parameters: `$names` kept, for build_model's arguments
    writer = WRITERS[style](spec, getattr(document, "path", None), getattr(document, "text", None))
    with gc_paused():
        return writer.module()


def build(spec, style: str = "functional", compile: bool = True, path=()):
    """A live keras.Model for the spec, in a Keras style, compiled unless `compile=False`.

    The model is built by running the module `generate` writes, so that a live model and
    a generated one cannot differ. Custom layer modules are looked for in the spec's folder,
    then in each folder of `path`, then on sys.path (kspec.searchpath). A `custom` layer's
    contract that the real layer contradicts raises SpecError (KS503)."""
    check_style(spec, style)
    check_custom_classes(spec.custom, search_path(spec, path))  # before the module imports them
    module = load_module(generate(spec, style), f"kspec_generated_{spec.name}_{style}")
    model = deep(module.build_model, len(flatten(spec).nodes))
    check_contracts(spec, model)  # raises SpecError where a custom layer's contract lies
    if compile and spec.compile:
        module.compile_model(model)
    return model


def load_module(source: str, name: str) -> types.ModuleType:
    """Run a generated module's source as a module (registered, so Keras can find its classes)."""
    module = types.ModuleType(name)
    module.__file__ = f"<kspec generated {name}>"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module
