"""The compiler's entry points: a spec to a Python module, or to a live Keras model."""

from __future__ import annotations

import sys
import types

from .backends.python.functional import FunctionalWriter
from .backends.python.module import STYLES
from .backends.python.sequential import SequentialWriter
from .backends.python.subclass import SubclassWriter
from .backends.styles import sequential_problem
from .diagnostics import Diagnostic, SpecError
from .gcpause import gc_paused

WRITERS = {"sequential": SequentialWriter, "functional": FunctionalWriter, "subclass": SubclassWriter}


def check_style(spec, style: str) -> None:
    """Raise SpecError, located at the layer that breaks it, if the style is not allowed."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
    if style != "sequential":
        return
    problem = sequential_problem(spec)
    if problem is None:
        return
    node, reason = problem
    message = f"the sequential style does not fit this graph: {reason}"
    hint = "use --style functional or --style subclass"
    document = spec.document
    if document is None:
        raise SpecError([Diagnostic("<spec>", 1, 1, "KS211", "error", message, hint)])
    if node is not None:
        where = node.scope[0][2] if node.scope else node.where
    else:
        where = ("inputs",) if "input" in reason else ("outputs",)
    raise SpecError([document.diagnostic(where, "KS211", message, hint=hint)])


def generate(spec, style: str = "functional") -> str:
    """The source of a Python module that builds the spec's model in a Keras style."""
    check_style(spec, style)
    document = spec.document
    writer = WRITERS[style](spec, getattr(document, "path", None), getattr(document, "text", None))
    with gc_paused():
        return writer.module()


def build(spec, style: str = "functional", compile: bool = True, path=()):
    """A live keras.Model for the spec, in a Keras style, compiled unless `compile=False`.

    Custom layer modules are looked for in the spec's folder, then in each folder of `path`,
    then on sys.path (kspec.searchpath)."""
    check_style(spec, style)
    from .backends.live import build_functional, build_sequential
    from .backends.objects import KerasObjects
    from .searchpath import search_path

    folders = search_path(spec, path)
    objects = KerasObjects(spec.custom, folders)
    objects.check_custom_classes()  # imported and checked before a generated module imports them
    if style == "functional":
        model = build_functional(spec, objects=objects)
    elif style == "sequential":
        model = build_sequential(spec, objects=objects)
    else:
        model = load_module(generate(spec, "subclass"), f"kspec_generated_{spec.name}").build_model()
    if compile and spec.compile:
        model.compile(**objects.compile_arguments(spec.compile))
    return model


def load_module(source: str, name: str) -> types.ModuleType:
    """Run a generated module's source as a module (registered, so Keras can find its classes)."""
    module = types.ModuleType(name)
    module.__file__ = f"<kspec generated {name}>"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module
