"""Run Keras work that recurses once per layer on a thread with room for it.

Keras builds a Functional model, and loads one, with a recursion per layer: past
about 1,500 chained layers the interpreter's limit (1,000 frames) raises
RecursionError. `deep` runs such work on a fresh thread whose C stack and
whose recursion limit grow with the layer count, and puts the limit back after.
"""

from __future__ import annotations

import sys
import threading

FRAMES_PER_LAYER = 20  # measured: Keras 3.15 needs 2 to 4; room for other versions
FRAME_BYTES = 4096  # C stack per Python frame, generously
MAX_STACK = 4 << 30


def deep(work, layers: int):
    """`work()`, run where `layers` chained layers fit; its exception is raised here."""
    limit = max(sys.getrecursionlimit(), FRAMES_PER_LAYER * layers + 10_000)
    if limit == sys.getrecursionlimit():
        return work()
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    previous_stack = threading.stack_size(min(MAX_STACK, max(256 << 20, limit * FRAME_BYTES)))
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        thread = threading.Thread(target=run, name="kspec-deep", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous_stack)
    try:
        thread.join()
    finally:
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
