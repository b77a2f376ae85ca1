"""`kspec import`: an existing Keras model back to a readable spec.

The Functional config is the graph as data; the spec keeps Keras's layer order
and names, leaves out every argument equal to its default, writes `inputs`
only where a call does not simply take the previous output, and declares
layers that are not public `keras.layers` classes under `custom`. The model's
compile config becomes the `compile` section, as far as the language can say
it; each setting it cannot say is named in a comment, never dropped silently.

loading.py gets the model; graph.py flattens its config, spec_data.py reads it as
the spec's parts, compile_section.py its compile settings, writing.py writes the
text; convert.py puts them together. keras2.py reads models saved by Keras 2 and translates their
configs; migrate.py rebuilds them in Keras 3 through a spec, with their weights (`kspec migrate`).
"""

from .compile_section import compile_settings
from .convert import Imported, from_keras, from_keras_config, imported_config, imported_model
from .loading import check_source, load_source
from .refusals import ImportRefused, LoadRefused
from .writing import schema_url

__all__ = [
    "ImportRefused",
    "Imported",
    "LoadRefused",
    "check_source",
    "compile_settings",
    "from_keras",
    "from_keras_config",
    "imported_config",
    "imported_model",
    "load_source",
    "schema_url",
]
