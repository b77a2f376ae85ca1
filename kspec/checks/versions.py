"""What the target Keras release does not have yet: layers, constructor and call arguments,
keras.ops functions and their arguments that arrived later (KS308)."""

from __future__ import annotations

from ..catalog import catalog
from ..catalog.versions import Target, missing_in


def check_versions(spec, out, target: Target) -> None:
    for scope in [spec.scope, *(block.scope for block in spec.blocks.values())]:
        for call in scope.calls:
            for item, where, what in _named(call):
                version = missing_in(item, target)
                if version is not None:
                    _report(out, where, what, version, target)
                    if where[-1] in ("type", "op"):
                        break  # its arguments arrived with it: one error is enough


def _report(out, where, what, version, target) -> None:
    out.error(
        where,
        "KS308",
        f"{what} arrived in keras {version}; the target is {target.describe()}",
        f"use keras {version} or newer (--keras-version, or upgrade), or leave it out",
        key=where[-1] not in ("type", "op"),
    )


def _named(call):
    """(versions.json item, where, words) for what a call names from Keras."""
    if call.op is not None:
        yield f"op {call.op}", call.where + ("op",), f"keras.ops.{call.op}"
        for key in call.args:
            yield f"op argument {call.op}.{key}", call.where + (key,), f"keras.ops.{call.op}'s '{key}'"
        return
    if call.type is None or catalog().layer(call.type) is None:
        return
    yield f"layer {call.type}", call.where + ("type",), f"keras.layers.{call.type}"
    for key in call.args:
        yield f"argument {call.type}.{key}", call.where + (key,), f"{call.type}'s argument '{key}'"
    for key in call.call_args:
        yield f"call {call.type}.{key}", call.where + ("call", key), f"{call.type}'s call argument '{key}'"
