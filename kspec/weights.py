"""Weights between models of one spec in different styles, or between related specs, by layer name.

Keras matches weights by position (and, in a subclass, by attribute); these
functions match them by layer name, blocks included, and check every shape,
so that a mismatch is an error that names the layer instead of silent garbage.
"""

from __future__ import annotations


def layers_by_name(model) -> dict:
    """The model's layers by name, with kspec's block layers and nested models opened.

    A nested model's layers are named after it, `tower/dense`, as kspec's lowered graph names
    them (Keras names them in their own model, so two nested models may both have a `dense`).
    A Keras layer that holds others (an LSTM and its cell, Bidirectional) is one entry,
    with all its weights: its inner layers' names are Keras's own, not the spec's.
    """
    import keras

    found = {}
    todo = [("", layer) for layer in model._flatten_layers(include_self=False, recursive=False)]
    while todo:
        prefix, layer = todo.pop(0)
        registered = keras.saving.get_registered_name(type(layer))
        inner = prefix + layer.name + "/" if isinstance(layer, keras.Model) else prefix
        if isinstance(layer, keras.Model) or registered.startswith("kspec."):
            todo[:0] = [
                (inner, child) for child in layer._flatten_layers(include_self=False, recursive=False)
            ]
        elif not isinstance(layer, keras.layers.InputLayer):
            found[prefix + layer.name] = layer
    return found


def transfer_weights(source, target, names=None) -> list[str]:
    """Copy weights from `source` into `target` layer by layer name; return the names copied.

    With `names`, only those layers; otherwise every layer of `target` that has weights, all
    of which must exist in `source`. Raises ValueError listing every missing layer or shape
    mismatch, before anything is copied.
    """
    theirs, mine = layers_by_name(source), layers_by_name(target)
    wanted = list(names) if names is not None else [n for n, layer in mine.items() if layer.weights]
    problems, pairs = [], []
    for name in wanted:
        found = counterpart(name, theirs)
        if name not in mine:
            problems.append(f"'{name}' is not a layer of the target")
        elif found is None:
            problems.append(f"'{name}' is not a layer of the source")
        else:
            a = [tuple(w.shape) for w in theirs[found].weights]
            b = [tuple(w.shape) for w in mine[name].weights]
            if a != b:
                problems.append(f"'{name}': source weights {a}, target weights {b}")
            pairs.append((mine[name], theirs[found]))
    if problems:
        raise ValueError("cannot transfer weights: " + "; ".join(problems))
    for into, source_layer in pairs:
        into.set_weights(source_layer.get_weights())
    return wanted


def counterpart(name: str, layers: dict) -> str | None:
    """The key of `layers` for the layer `name`: the same path, else the one layer with the same
    own name (after its nested models' `/`), as between a model with a nested model and its
    flattened import (`tower/t1` and `t1`); None where there is none, or several."""
    if name in layers:
        return name
    own = name.rpartition("/")[2]
    found = [key for key in layers if key.rpartition("/")[2] == own]
    return found[0] if len(found) == 1 else None


def save_named_weights(model, path: str) -> None:
    """Write every layer's weights to an .npz file keyed `<layer name>/<index>`."""
    import numpy as np

    arrays = {
        f"{name}/{i}": w
        for name, layer in layers_by_name(model).items()
        for i, w in enumerate(layer.get_weights())
    }
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_named_weights(model, path: str) -> list[str]:
    """Load an .npz written by save_named_weights into a model of any style, by layer name."""
    import numpy as np

    with np.load(path) as data:
        stored: dict[str, list] = {}
        for key in sorted(data.files, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))):
            stored.setdefault(key.rsplit("/", 1)[0], []).append(data[key])
    mine = layers_by_name(model)
    problems = [f"'{n}' is not in the file" for n, layer in mine.items() if layer.weights and n not in stored]
    problems += [
        f"'{n}': file weights {[a.shape for a in stored[n]]}, model weights "
        f"{[tuple(w.shape) for w in mine[n].weights]}"
        for n in stored
        if n in mine and [a.shape for a in stored[n]] != [tuple(w.shape) for w in mine[n].weights]
    ]
    problems += [f"'{n}' is in the file but not in the model" for n in stored if n not in mine]
    if problems:
        raise ValueError("cannot load weights: " + "; ".join(problems))
    for name, arrays in stored.items():
        mine[name].set_weights(arrays)
    return list(stored)
