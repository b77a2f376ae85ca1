"""Comparing a model's predictions with the reference, output by output, saying why they differ.

Outputs are paired by name wherever both sides have names (a model with named outputs returns a
dict, and so does its SavedModel's serve()); by position only where one side has no names (a
list, a tuple or a single tensor). Never by shape: two heads of the same shape would be paired
by chance.
"""

from __future__ import annotations

from ..samples import as_numpy

RTOL = 1e-5
ATOL = 1e-6
SHOWN = 3  # differing entries shown in a detail


def outputs(value):
    """Predictions as numpy arrays: a dict (name -> array, in the model's order) where the
    outputs are named, otherwise a list."""
    if isinstance(value, dict):
        return {str(name): as_numpy(array) for name, array in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_numpy(array) for array in value]
    return [as_numpy(value)]


def compare(got, want, rtol: float = RTOL, atol: float = ATOL) -> tuple[bool, str]:
    """Whether `got` equals `want` (both from outputs()), and if not, why: which output, the
    largest difference and the first differing entries."""
    pairs, problem = _pairs(got, want)
    if problem:
        return False, problem
    for label, a, b in pairs:
        if a.shape != b.shape:
            return False, f"{label}: shape {a.shape}, expected {b.shape}"
        if not _close(a, b, rtol, atol).all():
            return False, f"{label}: {difference(a, b, rtol, atol)}"
    return True, ""


def _pairs(got, want):
    if isinstance(got, dict) and isinstance(want, dict):
        if set(got) != set(want):
            return [], f"output names differ: got {sorted(got)}, expected {sorted(want)}"
        return [(f"output {name!r}", got[name], want[name]) for name in want], ""
    got_list = list(got.values()) if isinstance(got, dict) else list(got)
    want_list = list(want.values()) if isinstance(want, dict) else list(want)
    if len(got_list) != len(want_list):
        return [], f"{len(got_list)} outputs, expected {len(want_list)}"
    if len(want_list) == 1:
        return [("the output", got_list[0], want_list[0])], ""
    names = list(want) if isinstance(want, dict) else list(got) if isinstance(got, dict) else None
    return [
        (f"output {index}" + (f" ({names[index]!r}, by position)" if names else ""), a, b)
        for index, (a, b) in enumerate(zip(got_list, want_list))
    ], ""


def _close(a, b, rtol, atol):
    import numpy as np

    try:
        return np.isclose(a, b, rtol=rtol, atol=atol)
    except TypeError:  # not numbers
        return np.asarray(a == b)


def difference(a, b, rtol: float = RTOL, atol: float = ATOL) -> str:
    """Two arrays of one shape that differ, abbreviated: how many entries differ, the largest
    absolute difference, and the first few differing entries as got/expected."""
    import numpy as np

    bad = ~_close(a, b, rtol, atol)
    counted = f"{int(bad.sum())} of {bad.size} entries differ"
    try:
        largest = float(np.max(np.abs(a.astype("float64") - b.astype("float64"))))
        counted += f", max abs difference {largest:.4g}"
    except (TypeError, ValueError):  # not numbers
        pass
    parts = [counted]
    first = [tuple(int(i) for i in index) for index in np.argwhere(bad)[:SHOWN]]
    shown = ", ".join(
        f"[{', '.join(map(str, index))}] {_value(a[index])} vs {_value(b[index])}" for index in first
    )
    if shown:
        parts.append(f"first (got vs expected): {shown}")
    return "; ".join(parts)


def _value(value) -> str:
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return repr(value)[:40]
