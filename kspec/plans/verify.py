"""`kspec plan --verify`: run every path of a plan in Keras and check each claim.

In a temporary directory (removed however the run ends): the generated
modules of every style are written, the model of the plan's style is built,
compiled and trained a few steps on random data, and every path's save code
runs on it. Then one fresh Python process (kspec.plans.child) runs every
path's load code and checks each claim. Refused paths are tried the obvious
way and must fail.

The fresh processes are isolated (`python -I`): neither the working directory, PYTHONPATH nor
the user's site-packages is on their sys.path. They see the interpreter's own standard library
and site-packages, kspec's location, the temporary folder of generated modules, and the spec's
custom modules, imported by name from the folders kspec.searchpath gives (see child_command).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

from ..samples import as_numpy, sample_inputs
from ..backends.custom_layers import check_custom_classes
from ..backends.styles import allowed_styles
from ..compiler import generate
from ..searchpath import found_in, import_all, search_path
from .compare import outputs
from .facts import transfer_layers

FILES = {
    "keras_file": "model.keras",
    "h5_file": "model.h5",
    "saved_model": "model_export",
    "weights_file": "model.weights.h5",
    "transfer": "source.keras",
}
BATCH = 4


class NothingToTrain(ValueError):
    """A spec without a loss: its model cannot be trained, so the claims cannot be checked."""


class Check(NamedTuple):
    path: str
    claim: str
    ok: bool
    detail: str


def verify(
    spec, style: str, plan, transfer_from=None, progress=lambda line: None, timings=None, search_path=()
) -> list[Check]:
    """Check every claim of `plan`; returns one Check per claim. `timings`, a dict if given,
    receives the seconds each phase took. `search_path`: more folders for custom layer modules,
    after the spec's own folder (kspec.searchpath)."""
    timings = {} if timings is None else timings
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    if keras.backend.backend() != plan.backend:
        raise ValueError(
            f"the plan is for the {plan.backend} backend, but Keras runs on {keras.backend.backend()} "
            f"in this process: set KERAS_BACKEND={plan.backend} before Keras is imported"
        )

    custom = _custom_modules(spec, transfer_from, search_path)
    if not (spec.compile or {}).get("loss"):
        raise NothingToTrain(
            f"--verify trains {spec.name} a few steps: its spec needs a `compile` section with a loss"
        )
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="kspec-verify-") as folder:
        modules = {s: f"{spec.name}_{s}" for s in allowed_styles(spec)}
        sources = {name: generate(spec, s) for s, name in modules.items()}
        if transfer_from is not None:
            sources[f"{transfer_from.name}_base"] = generate(transfer_from, "functional")
        for name, source in sources.items():
            with open(os.path.join(folder, name + ".py"), "w", encoding="utf-8") as handle:
                handle.write(source)
        sys.path.insert(0, folder)
        try:
            progress(f"training {spec.name} ({style}) for a few steps on random data ...")
            started = time.perf_counter()
            trained = _Trained(spec, modules[style], folder, transfer_from)
            timings["build, compile and train"] = time.perf_counter() - started
            for path in plan.paths:
                if not path.allowed:
                    checks.append(trained.refused(path))
                    continue
                progress(f"saving: {path.id}")
                started = time.perf_counter()
                trained.save(path)
                timings[f"save {path.id}"] = time.perf_counter() - started
            progress("loading every path in a fresh Python process ...")
            started = time.perf_counter()
            checks += _load_in_child(folder, plan, trained, custom)
            timings["load every path in fresh processes"] = time.perf_counter() - started
        finally:
            sys.path.remove(folder)
            for name in sources:
                sys.modules.pop(name, None)
    return checks


class _Trained:
    """The plan's model, trained a few steps, and its save side of every path."""

    def __init__(self, spec, module_name, folder, transfer_from):
        import importlib

        import keras
        import numpy as np

        self.keras = keras
        self.folder = folder
        self.spec = spec
        self.transfer_from = transfer_from
        module = importlib.import_module(module_name)
        self.model = module.compile_model(module.build_model())
        self.x = sample_inputs(spec, batch=BATCH)
        self.y = _targets(self.model, self.x, spec.compile or {}, np)
        self.model.fit(self.x, self.y, epochs=2, batch_size=BATCH, verbose=0)
        if transfer_from is not None:
            base = importlib.import_module(f"{transfer_from.name}_base").build_model()
            base.save(os.path.join(folder, FILES["transfer"]))
        self.reference = {
            "x": self.x,
            "y": self.y,
            "batch": BATCH,
            "outputs": outputs(self.model(self.x, training=False)),
            "weights": self.model.get_weights(),
            "iterations": int(self.model.optimizer.iterations),
            "optimizer_variables": [as_numpy(v) for v in self.model.optimizer.variables],
            "optimizer": type(self.model.optimizer).__name__,
            "loss": self.model.get_compile_config().get("loss"),
        }

    def save(self, path) -> None:
        namespace = {
            "keras": self.keras,
            "model": self.model,
            "x": self.x,
            "path": os.path.join(self.folder, FILES.get(path.id, path.id)),
        }
        before = set(namespace)
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints what model.export wrote
            if path.save:
                exec(compile(path.save, f"<plan {path.id} save>", "exec"), namespace)
        saved = {k: v for k, v in namespace.items() if k not in before and not k.startswith("__")}
        if path.id == "cross_style_weights":
            saved["model"] = self.model  # the load code reads the trained model's weights from it
        with open(os.path.join(self.folder, f"saved_{path.id}.pkl"), "wb") as handle:
            pickle.dump(saved if path.id != "cross_style_weights" else {}, handle)
        if path.id == "cross_style_weights":
            self.model.save(os.path.join(self.folder, "cross_style.keras"))

    def refused(self, path) -> Check:
        """A path the plan refuses must fail in Keras too, tried the obvious way."""
        target = os.path.join(self.folder, FILES.get(path.id, path.id))
        claim = "not allowed: Keras refuses it"
        try:  # include_optimizer=False: a plain .h5 save would alter the live model's compile config
            self.model.save(target, include_optimizer=False)
            self.keras.models.load_model(target)
        except Exception as error:
            return Check(path.id, claim, True, type(error).__name__)
        return Check(path.id, claim, False, "Keras saved and loaded it")


def _custom_modules(spec, transfer_from, extra) -> dict:
    """Import the custom layer modules (here, before the generated modules import them by name),
    and say where a child process finds them: the module names, and the folders to look in."""
    folders = search_path(spec, extra)
    check_custom_classes(spec.custom, folders)  # the ban, before any module runs them
    modules = import_all(spec.custom, folders)
    if transfer_from is not None:
        base = search_path(transfer_from, extra)
        check_custom_classes(transfer_from.custom, base)
        modules.update(import_all(transfer_from.custom, base))
        folders += [f for f in base if f not in folders]
    folders += [f for f in found_in(modules) if f not in folders]
    return {"modules": sorted(modules), "path": folders}


def child_command(*args: str) -> list[str]:
    """How verify starts a fresh Python process: isolated (-I: the working directory, PYTHONPATH
    and the user's site-packages are not on sys.path, PYTHON* variables are ignored), with only
    kspec's own location added, and only where it is not on sys.path already. Everything else
    the child imports it is told explicitly (tasks.json in its folder)."""
    boot = (
        "import os, sys; root = os.path.realpath(sys.argv.pop(1)); "
        "root in [os.path.realpath(p) for p in sys.path if p] or sys.path.insert(0, root); "
        "from kspec.plans.child import command_line; command_line(sys.argv[1:])"
    )
    return [sys.executable, "-I", "-c", boot, _package_root(), *args]


def _load_in_child(folder, plan, trained, custom) -> list[Check]:
    tasks = {"paths": [], "custom": custom}
    for path in plan.paths:
        if not path.allowed:
            continue
        load = path.load
        if path.id == "cross_style_weights":  # the trained model comes from disk in the fresh process
            load = f"model = keras.models.load_model({os.path.join(folder, 'cross_style.keras')!r})\n" + load
        task = {"id": path.id, "keeps": path.keeps, "load": load, "file": FILES.get(path.id, path.id)}
        if path.id == "transfer":
            task["transfer"] = transfer_layers(trained.spec, trained.transfer_from)
        tasks["paths"].append(task)
    with open(os.path.join(folder, "tasks.json"), "w", encoding="utf-8") as handle:
        json.dump(tasks, handle)
    with open(os.path.join(folder, "reference.pkl"), "wb") as handle:
        pickle.dump(trained.reference, handle)
    done = subprocess.run(child_command(folder), capture_output=True, text=True, cwd=folder, check=False)
    results_file = os.path.join(folder, "results.json")
    if done.returncode != 0 or not os.path.exists(results_file):
        return [
            Check(
                "all",
                "the load process runs",
                False,
                done.stderr.strip().splitlines()[-1:]
                and done.stderr.strip().splitlines()[-1]
                or f"exit status {done.returncode}",
            )
        ]
    with open(results_file, encoding="utf-8") as handle:
        results = json.load(handle)
    for path_id, claims in _class_claims(folder, plan).items():
        results.setdefault(path_id, []).extend(claims)
    return [
        Check(path_id, claim, ok, detail)
        for path_id, claims in results.items()
        for claim, ok, detail in claims
    ]


def _class_claims(folder, plan) -> dict:
    """Whether loading needs the generated classes: try it in a process that cannot import them."""
    wanted = [p for p in plan.paths if p.allowed and p.id in ("keras_file", "json")]
    if not wanted:
        return {}
    done = subprocess.run(
        child_command("--without-classes", folder), capture_output=True, text=True, cwd=folder, check=False
    )
    try:
        with open(os.path.join(folder, "bare.json"), encoding="utf-8") as handle:
            outcome = json.load(handle)
    except OSError:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {p.id: [["the class check runs", False, f"the process did not report: {why}"]] for p in wanted}
    claims = {}
    for path in wanted:
        loaded = outcome.get(path.id) == "loaded"
        if path.needs_class:
            claims[path.id] = [
                [
                    "the class must be importable: loading without it fails",
                    not loaded,
                    "" if not loaded else "it loaded without the class",
                ]
            ]
        else:
            claims[path.id] = [
                [
                    "no class needed: loads where the generated module is not importable",
                    loaded,
                    "" if loaded else outcome.get(path.id, ""),
                ]
            ]
    return claims


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _targets(model, x, settings: dict, np):
    """Random-looking targets that fit each output's loss (labels, one-hot, or values)."""
    outputs = model(x, training=False)
    names = sorted(outputs) if isinstance(outputs, dict) else None
    values = (
        [outputs[k] for k in names]
        if names
        else (list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])
    )
    losses = settings.get("loss")
    targets = []
    for index, value in enumerate(values):
        loss = (
            losses.get(names[index])
            if isinstance(losses, dict) and names and "type" not in losses
            else (losses[index] if isinstance(losses, list) else losses)
        )
        name = (loss.get("type") if isinstance(loss, dict) else str(loss or "")).lower()
        value = as_numpy(value)
        if "sparse" in name:
            targets.append(value.argmax(-1))
        elif "categorical" in name:
            targets.append(np.eye(value.shape[-1], dtype="float32")[value.argmax(-1)])
        elif "binary" in name:
            targets.append((value > 0.5).astype("float32"))
        else:
            targets.append(value + 0.1)
    if names:
        return dict(zip(names, targets))
    return targets[0] if len(targets) == 1 else targets
