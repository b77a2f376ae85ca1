"""Spec values as Keras objects: nested `{type: ...}` mappings become instances."""

from __future__ import annotations

from ..catalog.aliases import full_name
from ..catalog.argkinds import OBJECT_SUFFIXES
from ..catalog.calls import RUNS_CODE

LAYER_ARGS = ("layer", "backward_layer", "cell")


def namespace_of(arg: str) -> str | None:
    """The Keras namespace of a layer argument that may hold a nested object."""
    for suffix, namespace in OBJECT_SUFFIXES.items():
        if arg.endswith(suffix):
            return namespace
    return None


class CustomLayerRefused(TypeError):
    """A `custom` class that is not a layer, or is one of the layers that run code or load files."""


class KerasObjects:
    """Creates Keras layers and objects from spec values (imports Keras on first use)."""

    def __init__(self, custom: dict | None = None, search: list | tuple = ()):
        import keras

        self.keras = keras
        self.custom = custom or {}
        self.search = list(search)  # folders searched first for custom modules (kspec.searchpath)
        self._custom_classes: dict = {}

    def layer_class(self, type_name: str):
        if type_name in self.custom:
            return self.custom_class(type_name)
        return getattr(self.keras.layers, type_name)

    def custom_class(self, type_name: str):
        """Import a `custom` layer class; it must be a keras.layers.Layer subclass."""
        if type_name not in self._custom_classes:
            from ..searchpath import import_custom

            module_name, _, attribute = self.custom[type_name].partition(":")
            cls = getattr(import_custom(module_name, self.search), attribute, None)
            if not (isinstance(cls, type) and issubclass(cls, self.keras.layers.Layer)):
                raise CustomLayerRefused(
                    f"custom type {type_name}: {self.custom[type_name]} is not a "
                    f"keras.layers.Layer subclass"
                )
            for banned in RUNS_CODE:
                base = getattr(self.keras.layers, banned, None)
                if base is not None and issubclass(cls, base):
                    raise CustomLayerRefused(
                        f"custom type {type_name}: {self.custom[type_name]} is keras.layers.{banned} "
                        "or a subclass of it, which runs Python functions or loads files: refused"
                    )
            self._custom_classes[type_name] = cls
        return self._custom_classes[type_name]

    def check_custom_classes(self) -> None:
        """Import every `custom` class now, so that a refused one stops any build before it starts."""
        for type_name in self.custom:
            self.custom_class(type_name)

    def layer(self, type_name: str, args: dict, name: str | None = None):
        kwargs = {key: self.argument(key, value) for key, value in args.items()}
        if name is not None:
            kwargs["name"] = name
        return self.layer_class(type_name)(**kwargs)

    def argument(self, key: str, value):
        if key in LAYER_ARGS and isinstance(value, dict):
            nested = dict(value)
            return self.layer(nested.pop("type"), nested)
        namespace = namespace_of(key)
        if namespace and isinstance(value, dict):
            return self.object(namespace, value)
        return value

    def object(self, namespace: str, value):
        """An initializer, regularizer, optimizer, loss, ... from a name or a mapping."""
        if isinstance(value, str):
            return full_name(value) if namespace in ("losses", "metrics") else value
        args = dict(value)
        cls = getattr(self._module(namespace), args.pop("type"))
        if namespace == "optimizers" and isinstance(args.get("learning_rate"), dict):
            args["learning_rate"] = self.object("schedules", args["learning_rate"])
        return cls(**args)

    def _module(self, namespace: str):
        if namespace == "schedules":
            return self.keras.optimizers.schedules
        return getattr(self.keras, namespace)

    def compile_arguments(self, settings: dict) -> dict:
        """Keyword arguments of Model.compile from a spec's `compile` section."""
        out = {}
        for key, value in settings.items():
            if key == "optimizer":
                out[key] = self.object("optimizers", value)
            elif key == "loss":
                out[key] = self._per_output(value, "losses")
            elif key in ("metrics", "weighted_metrics"):
                out[key] = self._per_output(value, "metrics")
            else:
                out[key] = value
        return out

    def _per_output(self, value, namespace):
        if isinstance(value, list):
            return [self._per_output(v, namespace) for v in value]
        if isinstance(value, dict) and "type" not in value:
            return {k: self._per_output(v, namespace) for k, v in value.items()}
        return self.object(namespace, value)
