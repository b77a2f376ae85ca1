"""Checks of the `distribution` section against the mesh and the spec's weights (KS801-KS807).

They run after shape inference, on a spec without errors, since the weights' shapes are
what a layout divides.
"""

from __future__ import annotations

import re

from ..diagnostics import suggestion
from ..sharding import DEFAULT_BATCH_AXIS, STYLES, matches, spec_weights

SECTION = ("distribution", "model_parallel")


def check_distribution(spec, out) -> None:
    """Report what would fail (or do nothing) when Keras lays the model out over the mesh."""
    body = (spec.distribution or {}).get("model_parallel")
    if not isinstance(body, dict) or not isinstance(body.get("mesh"), dict):
        return
    mesh = body["mesh"]
    batch_axis = body.get("batch_axis", DEFAULT_BATCH_AXIS)
    if batch_axis not in mesh:
        where = SECTION + ("batch_axis",) if "batch_axis" in body else SECTION + ("mesh",)
        out.error(
            where,
            "KS804",
            f"the batch axis '{batch_axis}' is not an axis of the mesh {{{', '.join(mesh)}}}"
            + suggestion(batch_axis, mesh),
            "each batch is split over the batch axis: add it to `mesh` (size 1 for none), or name "
            "another axis with `batch_axis`",
        )
    layout = body.get("layout") or {}
    weights = [w for w in spec_weights(spec) if w.shape is not None]
    claimed: dict = {}  # (style, path) -> the first rule that matched it
    clashes: set = set()  # pairs of rules already reported
    for pattern, sharding in layout.items():
        where = SECTION + ("layout", pattern)
        try:
            re.compile(pattern)
        except re.error as error:
            out.error(
                where, "KS807", f"layout pattern '{pattern}' is not a regular expression: {error}", key=True
            )
            continue
        axes_ok = _check_axes(sharding, mesh, where, out)
        by_style = {s: [w for w in weights if matches(pattern, w.paths[s])] for s in STYLES}
        matched = list({id(w): w for found in by_style.values() for w in found}.values())
        if not matched:
            out.warning(
                where,
                "KS802",
                f"layout pattern '{pattern}' matches no weight; those weights stay whole on every device",
                (
                    f"weight paths look like '{weights[0].paths['functional']}' (functional style) or "
                    f"'{weights[0].paths['subclass']}' (subclass style); `kspec shard` lists them all"
                    if weights
                    else None
                ),
                key=True,
            )
            continue
        sets = {s: {id(w) for w in found} for s, found in by_style.items()}
        if len({frozenset(v) for v in sets.values()}) > 1:
            counts = ", ".join(f"{len(v)} in the {s} style" for s, v in sets.items())
            out.warning(
                where,
                "KS806",
                f"layout pattern '{pattern}' matches different weights in different styles ({counts})",
                "Keras puts the model name (sequential, subclass) and block calls (subclass) before a "
                "layer's name in the weight path: start the pattern with `.*` to match them all",
                key=True,
            )
        for style, found in by_style.items():
            for weight in found:
                other = claimed.setdefault((style, weight.paths[style]), pattern)
                if other != pattern and (other, pattern) not in clashes:
                    clashes.add((other, pattern))
                    out.error(
                        where,
                        "KS805",
                        f"weight '{weight.paths[style]}' ({style} style) matches layout patterns "
                        f"'{other}' and '{pattern}'; Keras refuses a path that matches more than one",
                        "make the patterns exclusive",
                        key=True,
                    )
        if axes_ok:
            for weight in matched:
                _check_fit(weight, sharding, mesh, where, out)


def _check_axes(sharding, mesh: dict, where: tuple, out) -> bool:
    ok = True
    for index, axis in enumerate(sharding):
        if axis is not None and axis not in mesh:
            ok = False
            out.error(
                where + (index,),
                "KS801",
                f"unknown mesh axis '{axis}'" + suggestion(axis, mesh),
                f"the mesh has {', '.join(mesh)}; null keeps a dimension whole",
            )
    return ok


def _check_fit(weight, sharding, mesh: dict, where: tuple, out) -> None:
    path, shape = weight.paths["functional"], weight.shape
    if len(sharding) != len(shape):
        out.error(
            where,
            "KS803",
            f"layout of {len(sharding)} dimensions for weight '{path}' of shape {tuple(shape)} "
            f"({len(shape)} dimensions)",
            "give one entry per dimension: a mesh axis, or null",
            key=True,
        )
        return
    for index, (size, axis) in enumerate(zip(shape, sharding)):
        if axis is not None and size % mesh[axis]:
            out.error(
                where + (index,),
                "KS803",
                f"dimension {index} of weight '{path}' {tuple(shape)} has size {size}, which mesh axis "
                f"'{axis}' of size {mesh[axis]} does not divide",
                "shard another dimension, change the axis size, or keep this one whole (null)",
            )
