"""A keras.Model, or its get_config() and compile config, as the text of a spec: the graph
flattened (graph.py), read as the spec's parts (spec_data.py), the compile settings carried as far
as the language says them (compile_section.py), and written out section by section (writing.py)."""

from __future__ import annotations

from typing import NamedTuple

from . import writing
from .blocks import Discovered, discover
from .compile_section import compile_settings
from .contracts import measured_contracts
from .graph import functional_graph
from .refusals import ImportRefused
from .spec_data import SpecData, output_names


class Imported(NamedTuple):
    """A spec's text, and what of the model it could not carry (also written into the text)."""

    text: str
    not_carried: list[str]


def from_keras(model, compile_config: dict | None = None, flat: bool = False) -> str:
    """The spec text of a Functional or Sequential keras.Model, with its compile settings
    (`compile_config`, or the model's own when it was compiled); repeated runs of layers as
    blocks (blocks.py) unless `flat`."""
    return imported_model(model, compile_config, flat).text


def imported_model(model, compile_config: dict | None = None, flat: bool = False) -> Imported:
    """As from_keras, with the list of settings the spec could not carry."""
    import keras

    if not isinstance(model, keras.Model):
        raise ImportRefused(f"{type(model).__name__} is not a keras.Model")
    kind = type(model).__name__
    if kind not in ("Functional", "Sequential") and not _is_functional(model):
        raise ImportRefused(
            f"{kind} is a subclassed model: its graph lives in Python code, not in data. Call it on "
            "keras.Input tensors and import the traced model (keras.Model(inputs, model(inputs))), or "
            "write the spec by hand"
        )
    if compile_config is None:
        compile_config = model.get_compile_config() or {}
    return imported_config(
        model.get_config(),
        "Sequential" if kind == "Sequential" else "Functional",
        compile_config,
        model,
        flat=flat,
    )


def _is_functional(model) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def from_keras_config(
    config: dict, class_name: str = "Functional", compile_config: dict | None = None, flat: bool = False
) -> str:
    """The spec text for a model's get_config() (Functional or Sequential), with the `compile`
    section of a Keras compile config (`model.get_compile_config()`) when one is given."""
    return imported_config(config, class_name, compile_config, flat=flat).text


def imported_config(
    config: dict,
    class_name: str = "Functional",
    compile_config: dict | None = None,
    model=None,
    flat: bool = False,
) -> Imported:
    """As from_keras_config, with the list of settings the spec could not carry; with the
    `model` itself, custom classes get the contracts measured on it."""
    spec = SpecData(functional_graph(config, class_name, flat=flat))
    lines = writing.heading(spec.name())
    inputs = spec.inputs()
    lines += writing.inputs_section(inputs)
    # A refused layer stops the import before the compile settings are read, and spec.custom is
    # complete only once every layer is read.
    layers = list(spec.layers())
    outputs = spec.outputs()
    nested = spec.model_blocks()
    taken = {block.name for block in nested}
    found = Discovered(layers, outputs) if flat else discover([n for n, _ in inputs], layers, outputs, taken)
    lines += writing.layers_section(found.layers)
    lines += writing.outputs_section(found.outputs)
    lines += writing.blocks_section(nested + found.blocks)
    contracts = measured_contracts(model, spec.custom) if model is not None and spec.custom else {}
    lines += writing.custom_section(spec.custom, contracts)
    settings, not_carried = compile_settings(compile_config, output_names(found.outputs))
    lines += writing.compile_section(settings, not_carried)
    renamed = spec.renaming_notes()
    if renamed:  # said once, above the layers
        at = lines.index("layers:")
        lines[at:at] = [f"# Not carried: {note}" for note in renamed]
    return Imported("\n".join(lines) + "\n", renamed + not_carried)
