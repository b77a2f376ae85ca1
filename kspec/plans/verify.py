"""`kspec plan --verify`: run every path of a plan in Keras and check each claim.

The plan's own code strings are what runs, against the generated modules
written to a temporary directory, which is removed however the run ends.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from typing import NamedTuple

FILES = {"keras_file": "model.keras", "h5_file": "model.h5", "saved_model": "model_export",
         "weights_file": "model.weights.h5", "transfer": "source.keras"}


class Check(NamedTuple):
    path: str
    ok: bool
    detail: str
    seconds: float


def verify(spec, style: str, plan, transfer_from=None, progress=lambda line: None) -> list[Check]:
    """Check every path of `plan` by running it; returns one Check per path."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np

    from ..compiler import generate
    from ..backends.styles import allowed_styles

    checks = []
    with tempfile.TemporaryDirectory(prefix="kspec-verify-") as folder:
        modules = {s: f"{spec.name}_{s}" for s in allowed_styles(spec)}
        for each, name in modules.items():
            with open(os.path.join(folder, name + ".py"), "w", encoding="utf-8") as handle:
                handle.write(generate(spec, each))
        if transfer_from is not None:
            source_module = f"{transfer_from.name}_source"
            with open(os.path.join(folder, source_module + ".py"), "w", encoding="utf-8") as handle:
                handle.write(generate(transfer_from, "functional"))
        sys.path.insert(0, folder)
        try:
            run = _Run(spec, style, modules, folder, np)
            if transfer_from is not None:
                run.save_source(source_module)
            for path in plan.paths:
                progress(f"  {path.id:<20} running ...")
                start = time.perf_counter()
                try:
                    ok, detail = run.check(path)
                except Exception as error:  # a claim that Keras contradicts, reported, not raised
                    ok, detail = False, f"{type(error).__name__}: {error}"
                checks.append(Check(path.id, ok, detail, time.perf_counter() - start))
                progress(f"  {path.id:<20} {'ok' if ok else 'FAILED'}: {detail}")
        finally:
            sys.path.remove(folder)
            for name in [*modules.values(), *([source_module] if transfer_from is not None else [])]:
                sys.modules.pop(name, None)
    return checks


class _Run:
    """The trained model of the style, and how to check each path against it."""

    def __init__(self, spec, style, modules, folder, np):
        import importlib

        import keras

        self.keras = keras
        self.np = np
        self.folder = folder
        self.spec = spec
        self.modules = {s: importlib.import_module(name) for s, name in modules.items()}
        module = self.modules[style]
        self.model = module.compile_model(module.build_model())
        self._take_a_step(self.model)
        self.x = _sample(spec, np)
        self.expected = _outputs(self.model, self.x, np)

    def _take_a_step(self, model):
        """One optimizer step with small random gradients: the optimizer now has state."""
        keras = self.keras
        grads = [keras.random.normal(v.shape, seed=i) * 1e-3 for i, v in enumerate(model.trainable_variables)]
        model.optimizer.apply(grads, model.trainable_variables)

    def save_source(self, module_name):
        import importlib

        source = importlib.import_module(module_name).build_model()
        source.save(os.path.join(self.folder, FILES["transfer"]))
        self.source = source

    def check(self, path):
        if not path.allowed:
            return self._refused(path)
        namespace = {"keras": self.keras, "model": self.model, "x": self.x,
                     "path": os.path.join(self.folder, FILES.get(path.id, path.id))}
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints what model.export wrote
            if path.save:
                exec(compile(path.save, f"<plan {path.id} save>", "exec"), namespace)
            namespace.pop("model", None)
            exec(compile(path.load, f"<plan {path.id} load>", "exec"), namespace)
        return getattr(self, "_after_" + path.id)(path, namespace)

    # What each path must give back -----------------------------------------------

    def _same_predictions(self, model) -> bool:
        got = _outputs(model, self.x, self.np)
        return len(got) == len(self.expected) and all(
            self.np.allclose(a, b, rtol=1e-6, atol=1e-6) for a, b in zip(got, self.expected))

    def _kept(self, path, model) -> tuple[bool, str]:
        """Check the claims in path.keeps against a model that came back."""
        facts = []
        if path.keeps["weights"]:
            if not self._same_predictions(model):
                return False, "predictions differ after the round trip"
            facts.append("same predictions")
        else:
            if [tuple(w.shape) for w in model.weights] != [tuple(w.shape) for w in self.model.weights]:
                return False, "the rebuilt architecture has other weight shapes"
            model.set_weights(self.model.get_weights())
            if not self._same_predictions(model):
                return False, "the rebuilt architecture predicts differently with the same weights"
            facts.append("same architecture (same predictions once weights are set)")
        compiled = bool(getattr(model, "compiled", False))
        if path.keeps["compile"] != compiled:
            return False, f"compiled after loading: {compiled}, the plan says {path.keeps['compile']}"
        if compiled:
            mine, theirs = type(model.optimizer).__name__, type(self.model.optimizer).__name__
            if mine != theirs:
                return False, f"came back compiled with {mine}, not {theirs}"
            if model.get_compile_config().get("loss") != self.model.get_compile_config().get("loss"):
                return False, "came back compiled with another loss"
            facts.append(f"same compile settings ({mine})")
        if path.keeps["optimizer_state"]:
            iterations = int(model.optimizer.iterations)
            if iterations != int(self.model.optimizer.iterations):
                return False, f"optimizer iterations {iterations}, expected {int(self.model.optimizer.iterations)}"
            facts.append(f"optimizer state kept ({iterations} step)")
        return True, ", ".join(facts)

    def _after_keras_file(self, path, ns):
        return self._kept(path, ns["model"])

    def _after_h5_file(self, path, ns):
        model = ns["model"]
        if not self._same_predictions(model):
            return False, "predictions differ after the round trip"
        if int(model.optimizer.iterations) != 0:
            return False, "the optimizer state came back, which the plan says it does not"
        return True, "same predictions, recompiled from the spec with a fresh optimizer"

    def _after_saved_model(self, path, ns):
        served = ns["reloaded"].serve(self.x)
        got = [self.np.asarray(v) for v in (served.values() if isinstance(served, dict) else
                                             served if isinstance(served, (list, tuple)) else [served])]
        same = len(got) == len(self.expected) and all(
            self.np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(sorted(got, key=lambda a: a.shape),
                                                                         sorted(self.expected, key=lambda a: a.shape)))
        return (True, "same predictions from serve()") if same else (False, "serve() predicts differently")

    def _after_config(self, path, ns):
        return self._kept(path, ns["model"])

    def _after_json(self, path, ns):
        return self._kept(path, ns["model"])

    def _after_weights_file(self, path, ns):
        return self._kept(path, ns["model"])

    def _after_weights_memory(self, path, ns):
        return self._kept(path, ns["model"])

    def _after_cross_style_weights(self, path, ns):
        others = [key for key in ns if key.endswith("_model") and key != "model"]
        for key in others:
            if not self._same_predictions(ns[key]):
                return False, f"{key.removesuffix('_model')} predicts differently with these weights"
        return True, "same predictions in " + ", ".join(k.removesuffix("_model") for k in others)

    def _after_transfer(self, path, ns):
        model = ns["model"]
        mine = {l.name: l for l in model._flatten_layers(include_self=False)}
        theirs = {l.name: l for l in self.source._flatten_layers(include_self=False)}
        copied = [n for n in mine if n in theirs and not mine[n].trainable and mine[n].weights]
        for name in copied:
            for a, b in zip(mine[name].get_weights(), theirs[name].get_weights()):
                if not self.np.array_equal(a, b):
                    return False, f"'{name}' was frozen but its weights were not copied"
        if not copied:
            return False, "no layer was copied"
        return True, f"{len(copied)} layers copied and frozen, model compiled: {bool(model.compiled)}"

    def _refused(self, path):
        """A path the plan refuses must fail in Keras too, when tried the obvious way."""
        target = os.path.join(self.folder, FILES.get(path.id, path.id))
        try:  # include_optimizer=False: a plain .h5 save would alter the live model's compile config
            self.model.save(target, include_optimizer=False)
            loaded = self.keras.models.load_model(target)
        except Exception as error:
            return True, f"refused, as planned ({type(error).__name__})"
        if self._same_predictions(loaded):
            return False, "Keras did this, although the plan says it cannot"
        return True, "Keras did not fail, but the model came back wrong, as planned"


def _sample(spec, np):
    rng = np.random.default_rng(0)
    arrays = []
    for spec_input in spec.inputs.values():
        shape = (2, *[4 if d is None else d for d in spec_input.shape])
        if spec_input.dtype.startswith("int"):
            arrays.append(rng.integers(0, 4, size=shape).astype(spec_input.dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(spec_input.dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def _outputs(model, x, np):
    out = model(x, training=False)
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]
