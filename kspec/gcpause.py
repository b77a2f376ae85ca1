"""Pause Python's cyclic garbage collector around work that builds many small objects.

kspec's data (loaded YAML, graphs, expression trees) has no reference cycles;
full collections over a large spec's millions of objects only make the work
superlinear.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
