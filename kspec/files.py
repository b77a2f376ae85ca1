"""Writing files so that a run stopped half-way leaves the old file intact."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, data) -> None:
    """Write text or bytes to `path` through a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, temporary = tempfile.mkstemp(prefix=".kspec-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(
            fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"})
        ) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
