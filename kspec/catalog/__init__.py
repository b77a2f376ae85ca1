"""Keras knowledge as data: layer signatures, the other namespaces, the allowed keras.ops.

`keras.json` is generated from the installed Keras by
`scripts/generate_catalog.py`; reading it never imports Keras.
"""

from __future__ import annotations

import functools
import json
from typing import NamedTuple
import os

NAMESPACES = (
    "initializers",
    "regularizers",
    "constraints",
    "activations",
    "optimizers",
    "schedules",
    "losses",
    "metrics",
)


class Param(NamedTuple):
    name: str
    required: bool
    default: object = None


class Signature(NamedTuple):
    """A Keras class's constructor: its own parameters and, if any, the base ones."""

    name: str
    canonical: str
    params: dict  # name -> Param, own parameters first
    takes_kwargs: bool

    @property
    def required(self) -> list[str]:
        return [p.name for p in self.params.values() if p.required]


class CallParam(NamedTuple):
    name: str
    required: bool
    default: object
    tensor: bool  # takes a tensor (given in `inputs`), not a constant (given in `call`)


class CallSignature(NamedTuple):
    """A layer's call(): its parameters (with `training`, which every layer takes)."""

    params: dict  # name -> CallParam
    takes_kwargs: bool


class OpSignature(NamedTuple):
    """A keras.ops function: its parameters in order; `tensors` names those that take tensors."""

    name: str
    params: dict  # name -> Param
    tensors: dict  # name -> "one" (a tensor) or "list" (a list of tensors), in signature order

    @property
    def required(self) -> list[str]:
        return [p.name for p in self.params.values() if p.required]

    def bind(self, inputs) -> tuple[dict, list]:
        """The tensor arguments a call's `inputs` give, by parameter, and the inputs left over.

        A list fills the tensor parameters in order (all of it goes to a first parameter that
        takes a list, as in `stack`), a mapping names them, one reference is the first.
        """
        if isinstance(inputs, dict):
            return dict(inputs), []
        order = list(self.tensors)
        given = inputs if isinstance(inputs, list) else [] if inputs is None else [inputs]
        if order and self.tensors[order[0]] == "list":
            return {order[0]: given}, []
        return dict(zip(order, given)), given[len(order) :]


class Catalog:
    """The generated catalog, with lookups by name."""

    def __init__(self, data: dict):
        self.keras_version = data["keras_version"]
        self.model_attributes = frozenset(data["model_attributes"])  # names a subclass must not reuse
        self._base = {p["name"]: _param(p) for p in data["layer_base_params"]}
        self._base_call = [_call_param(p) for p in data["layer_base_call_params"]]
        self.layers = data["layers"]  # name -> raw entry; signatures are built on demand
        self.classes = {ns: body["classes"] for ns, body in data["namespaces"].items()}
        self.strings = {ns: frozenset(body["strings"]) for ns, body in data["namespaces"].items()}
        self.ops = data["ops"]  # name -> raw entry of an allowed keras.ops function
        self.ops_excluded = data["ops_excluded"]  # name -> why a spec cannot call it
        self._built: dict = {}

    def layer(self, name: str) -> Signature | None:
        return self._lookup(("layers", name), self.layers.get(name), self._base)

    def layer_call(self, name: str) -> CallSignature | None:
        """The signature of a layer's call(), made once per layer type."""
        entry = self.layers.get(name)
        if entry is None:
            return None
        key = ("call", name)
        if key not in self._built:
            params = {p["name"]: _call_param(p) for p in entry["call"]["params"]}
            for param in self._base_call:
                params.setdefault(param.name, param)
            self._built[key] = CallSignature(params, entry["call"]["kwargs"])
        return self._built[key]

    def object_class(self, namespace: str, name: str) -> Signature | None:
        return self._lookup((namespace, name), self.classes[namespace].get(name), {})

    def _lookup(self, key, entry, base) -> Signature | None:
        if entry is None:
            return None
        if key not in self._built:
            self._built[key] = _signature(key[1], entry, base)
        return self._built[key]

    def op(self, name: str) -> OpSignature | None:
        """An allowed keras.ops function, or None (unknown, or left out of the allowlist)."""
        entry = self.ops.get(name)
        if entry is None:
            return None
        key = ("ops", name)
        if key not in self._built:
            params = {p["name"]: _param(p) for p in entry["params"]}
            tensors = {p["name"]: p["tensor"] for p in entry["params"] if "tensor" in p}
            self._built[key] = OpSignature(name, params, tensors)
        return self._built[key]

    def accepts_string(self, namespace: str, name: str) -> bool:
        return name in self.strings[namespace] or name in self.classes[namespace]

    def names(self, namespace: str) -> list[str]:
        return sorted(self.strings[namespace] | set(self.classes[namespace]))


def _param(entry: dict) -> Param:
    return Param(entry["name"], entry["required"], entry.get("default"))


def _call_param(entry: dict) -> CallParam:
    return CallParam(entry["name"], entry["required"], entry.get("default"), entry["tensor"])


def _signature(name: str, entry: dict, base: dict) -> Signature:
    params = {p["name"]: _param(p) for p in entry["params"]}
    if entry["kwargs"]:
        for key, param in base.items():
            params.setdefault(key, param)
    return Signature(name, entry["canonical"], params, entry["kwargs"])


@functools.cache
def catalog() -> Catalog:
    """The catalog shipped with this kspec (cached)."""
    with open(os.path.join(os.path.dirname(__file__), "keras.json"), encoding="utf-8") as handle:
        text = handle.read()
    return Catalog(json.loads(text))
