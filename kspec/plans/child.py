"""The fresh Python process in which `kspec plan --verify` loads each path.

Started by verify.child_command (an isolated `python -I` that can import kspec) with FOLDER:
it reads tasks.json and the pickled reference from FOLDER, loads every path with the plan's
own code, checks each claim, and writes results.json. Nothing of the parent process is in
memory here: a class that is not importable cannot make a plan pass. What it may import is
the interpreter's own, kspec, the generated modules in FOLDER, and the custom modules that
tasks.json names, from the folders it names.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import sys

from kspec.samples import as_numpy


def without_classes(folder: str) -> None:
    """Load the .keras file and the JSON text without the generated module importable, to
    check the plan's claim that the class is, or is not, needed at load time."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    outcome = {}
    for path_id, load in (
        ("keras_file", lambda: keras.models.load_model(os.path.join(folder, "model.keras"))),
        ("json", lambda: keras.models.model_from_json(_saved(folder, "json")["text"])),
    ):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                load()
            outcome[path_id] = "loaded"
        except Exception as error:
            outcome[path_id] = f"{type(error).__name__}: {str(error)[:120]}"
    with open(os.path.join(folder, "bare.json"), "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)


def _saved(folder: str, path_id: str) -> dict:
    with open(os.path.join(folder, f"saved_{path_id}.pkl"), "rb") as handle:
        return pickle.load(handle)


def main(folder: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from kspec.searchpath import import_modules

    with open(os.path.join(folder, "tasks.json"), encoding="utf-8") as handle:
        tasks = json.load(handle)
    sys.path.insert(0, folder)  # the generated modules; kspec wrote every file in it
    custom = tasks.get("custom") or {}
    import_modules(custom.get("modules", ()), custom.get("path", ()))
    with open(os.path.join(folder, "reference.pkl"), "rb") as handle:
        reference = pickle.load(handle)
    checker = _Checker(keras, np, reference)
    results = {}
    for task in tasks["paths"]:
        with open(os.path.join(folder, f"saved_{task['id']}.pkl"), "rb") as handle:
            saved = pickle.load(handle)
        namespace = {"keras": keras, "x": reference["x"], "path": os.path.join(folder, task["file"]), **saved}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(task["load"], f"<plan {task['id']} load>", "exec"), namespace)
                results[task["id"]] = getattr(checker, task["id"])(task, namespace)
        except Exception as error:  # reported as a failed claim, not raised
            results[task["id"]] = [("the load code runs", False, f"{type(error).__name__}: {error}")]
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle)


class _Checker:
    """One method per path: the claims it makes, each checked as (claim, ok, detail)."""

    def __init__(self, keras, np, reference):
        self.keras = keras
        self.np = np
        self.ref = reference

    def _predictions(self, model) -> tuple[bool, str]:
        """Whether the model predicts what the trained model did, and if not, why."""
        from kspec.plans.compare import compare, outputs

        return compare(outputs(model(self.ref["x"], training=False)), self.ref["outputs"])

    def _model_claims(self, task, model):
        keeps, claims = task["keeps"], []
        if keeps["weights"]:
            claims.append(("weights kept: predictions equal", *self._predictions(model)))
        else:
            differs = not self._predictions(model)[0]
            claims.append(
                (
                    "weights not kept",
                    differs,
                    (
                        "a fresh model predicts differently"
                        if differs
                        else "the weights came back, which the plan says they do not"
                    ),
                )
            )
            model.set_weights(self.ref["weights"])
            claims.append(
                ("architecture kept: equal predictions once the weights are set", *self._predictions(model))
            )
        compiled = bool(getattr(model, "compiled", False))
        if keeps["compile"]:
            optimizer = type(model.optimizer).__name__ if compiled else None
            loss = model.get_compile_config().get("loss") if compiled else None
            same = compiled and optimizer == self.ref["optimizer"] and loss == self.ref["loss"]
            claims.append(
                (
                    "compile settings kept: optimizer and loss equal",
                    same,
                    (
                        optimizer
                        if same
                        else (
                            f"optimizer {optimizer}, loss {loss!r}; expected optimizer "
                            f"{self.ref['optimizer']}, loss {self.ref['loss']!r}"
                            if compiled
                            else "not compiled"
                        )
                    ),
                )
            )
        elif compiled:
            iterations = int(model.optimizer.iterations)
            claims.append(
                (
                    "compile settings not kept: compiled afresh from the spec",
                    iterations == 0,
                    f"iterations {iterations}" + ("" if iterations == 0 else ", expected 0"),
                )
            )
        else:
            claims.append(("compile settings not kept: not compiled", True, ""))
        if keeps["optimizer_state"]:
            iterations = int(model.optimizer.iterations)
            slots = [as_numpy(v) for v in model.optimizer.variables]
            same_slots, why = self._slots(slots, model.optimizer.variables)
            detail = f"iterations {iterations}"
            if iterations != self.ref["iterations"]:
                detail += f", expected {self.ref['iterations']}"
            claims.append(
                (
                    "optimizer state kept: iterations and slot variables equal",
                    iterations == self.ref["iterations"] and same_slots,
                    detail + (f"; {why}" if why else ""),
                )
            )
            model.fit(self.ref["x"], self.ref["y"], epochs=1, batch_size=self.ref["batch"], verbose=0)
            after = int(model.optimizer.iterations)
            claims.append(
                (
                    "training continues after loading",
                    after == iterations + 1,
                    "" if after == iterations + 1 else f"iterations {iterations} before fit(), {after} after",
                )
            )
        return claims

    def keras_file(self, task, ns):
        return self._model_claims(task, ns["model"])

    h5_file = config = json = weights_file = weights_memory = keras_file

    def _slots(self, slots, variables) -> tuple[bool, str]:
        """Whether the optimizer's variables equal the trained model's, and if not, which."""
        from kspec.plans.compare import difference

        want = self.ref["optimizer_variables"]
        if len(slots) != len(want):
            return False, f"{len(slots)} optimizer variables, expected {len(want)}"
        for variable, a, b in zip(variables, slots, want):
            name = getattr(variable, "path", None) or getattr(variable, "name", "?")
            if a.shape != b.shape:
                return False, f"optimizer variable {name}: shape {a.shape}, expected {b.shape}"
            if not self.np.allclose(a, b):
                return False, f"optimizer variable {name}: {difference(a, b, 1e-5, 1e-8)}"
        return True, ""

    def saved_model(self, task, ns):
        from kspec.plans.compare import compare, outputs

        served = outputs(ns["reloaded"].serve(self.ref["x"]))
        no_fit = not hasattr(ns["reloaded"], "fit")
        return [
            (
                "weights and traced architecture kept: serve() predictions equal",
                *compare(served, self.ref["outputs"]),
            ),
            (
                "compile settings and optimizer not kept: no fit() on the reloaded object",
                no_fit,
                "" if no_fit else f"the reloaded {type(ns['reloaded']).__name__} has fit()",
            ),
        ]

    def cross_style_weights(self, task, ns):
        return [
            (
                f"weights load into the {key.removesuffix('_model')} style: predictions equal",
                *self._predictions(ns[key]),
            )
            for key in ns
            if key.endswith("_model")
        ]

    def transfer(self, task, ns):
        model = ns["model"]
        source = ns["source"]
        from kspec.weights import layers_by_name

        mine, theirs = layers_by_name(model), layers_by_name(source)
        copied = task["transfer"]["copied"]
        unequal = [
            n
            for n in copied
            if not all(
                self.np.array_equal(a, b) for a, b in zip(mine[n].get_weights(), theirs[n].get_weights())
            )
        ]
        claims = [
            (
                f"{len(copied)} layers take the base's weights",
                not unequal,
                f"weights differ from the base's: {', '.join(unequal)}" if unequal else "",
            )
        ]
        before = {n: [w.copy() for w in mine[n].get_weights()] for n in mine}
        model.fit(self.ref["x"], self.ref["y"], epochs=1, batch_size=self.ref["batch"], verbose=0)
        moved = {
            n: not all(self.np.array_equal(a, b) for a, b in zip(before[n], mine[n].get_weights()))
            for n in mine
        }
        frozen = task["transfer"]["frozen"]
        claims.append(
            (
                f"frozen layers do not move in training ({len(frozen)})",
                not any(moved[n] for n in frozen),
                "moved: " + ", ".join(n for n in frozen if moved[n]) if any(moved[n] for n in frozen) else "",
            )
        )
        trained = [n for n in mine if n not in frozen and mine[n].trainable_weights]
        claims.append(
            (
                f"the other layers train ({len(trained)})",
                all(moved[n] for n in trained),
                (
                    ""
                    if all(moved[n] for n in trained)
                    else "did not move: " + ", ".join(n for n in trained if not moved[n])
                ),
            )
        )
        return claims


def command_line(arguments: list[str]) -> None:
    if arguments[0] == "--without-classes":
        without_classes(arguments[1])
    else:
        main(arguments[0])
