"""The fresh Python process in which `kspec plan --verify` loads each path.

Run as `python -m kspec.plans.child FOLDER`: it reads tasks.json and the
pickled reference from FOLDER, loads every path with the plan's own code,
checks each claim, and writes results.json. Nothing of the parent process is
in memory here: a class that is not importable cannot make a plan pass.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import sys


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
    sys.path.insert(0, folder)
    import keras
    import numpy as np

    with open(os.path.join(folder, "tasks.json"), encoding="utf-8") as handle:
        tasks = json.load(handle)
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

    def _outputs(self, model):
        from kspec.samples import output_arrays

        return output_arrays(model, self.ref["x"])

    def _same(self, got) -> bool:
        want = self.ref["predictions"]
        return len(got) == len(want) and all(
            self.np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(got, want)
        )

    def _model_claims(self, task, model):
        keeps, claims = task["keeps"], []
        if keeps["weights"]:
            claims.append(("weights kept: predictions equal", self._same(self._outputs(model)), ""))
        else:
            differs = not self._same(self._outputs(model))
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
                (
                    "architecture kept: equal predictions once the weights are set",
                    self._same(self._outputs(model)),
                    "",
                )
            )
        compiled = bool(getattr(model, "compiled", False))
        if keeps["compile"]:
            same = (
                compiled
                and type(model.optimizer).__name__ == self.ref["optimizer"]
                and model.get_compile_config().get("loss") == self.ref["loss"]
            )
            claims.append(
                (
                    "compile settings kept: optimizer and loss equal",
                    same,
                    type(model.optimizer).__name__ if compiled else "not compiled",
                )
            )
        elif compiled:
            claims.append(
                (
                    "compile settings not kept: compiled afresh from the spec",
                    int(model.optimizer.iterations) == 0,
                    f"iterations {int(model.optimizer.iterations)}",
                )
            )
        else:
            claims.append(("compile settings not kept: not compiled", True, ""))
        if keeps["optimizer_state"]:
            iterations = int(model.optimizer.iterations)
            slots = [self.np.asarray(v) for v in model.optimizer.variables]
            same_slots = len(slots) == len(self.ref["optimizer_variables"]) and all(
                a.shape == b.shape and self.np.allclose(a, b)
                for a, b in zip(slots, self.ref["optimizer_variables"])
            )
            claims.append(
                (
                    "optimizer state kept: iterations and slot variables equal",
                    iterations == self.ref["iterations"] and same_slots,
                    f"iterations {iterations}",
                )
            )
            model.fit(self.ref["x"], self.ref["y"], epochs=1, batch_size=self.ref["batch"], verbose=0)
            claims.append(
                ("training continues after loading", int(model.optimizer.iterations) == iterations + 1, "")
            )
        return claims

    def keras_file(self, task, ns):
        return self._model_claims(task, ns["model"])

    h5_file = config = json = weights_file = weights_memory = keras_file

    def saved_model(self, task, ns):
        served = ns["reloaded"].serve(self.ref["x"])
        values = (
            served.values()
            if isinstance(served, dict)
            else served if isinstance(served, (list, tuple)) else [served]
        )
        got = sorted((self.np.asarray(v) for v in values), key=lambda a: a.shape)
        want = sorted(self.ref["predictions"], key=lambda a: a.shape)
        same = len(got) == len(want) and all(
            self.np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(got, want)
        )
        return [
            ("weights and traced architecture kept: serve() predictions equal", same, ""),
            (
                "compile settings and optimizer not kept: no fit() on the reloaded object",
                not hasattr(ns["reloaded"], "fit"),
                "",
            ),
        ]

    def cross_style_weights(self, task, ns):
        return [
            (
                f"weights load into the {key.removesuffix('_model')} style: predictions equal",
                self._same(self._outputs(ns[key])),
                "",
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
        equal = all(
            all(self.np.array_equal(a, b) for a, b in zip(mine[n].get_weights(), theirs[n].get_weights()))
            for n in copied
        )
        claims = [(f"{len(copied)} layers take the base's weights", equal, "")]
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
                ", ".join(n for n in frozen if moved[n]),
            )
        )
        trained = [n for n in mine if n not in frozen and mine[n].trainable_weights]
        claims.append(
            (
                f"the other layers train ({len(trained)})",
                all(moved[n] for n in trained),
                ", ".join(n for n in trained if not moved[n]),
            )
        )
        return claims


if __name__ == "__main__":
    if sys.argv[1] == "--without-classes":
        without_classes(sys.argv[2])
    else:
        main(sys.argv[1])
