"""How the command line ends when it cannot go on: one line on stderr and an exit status."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # the shell's status for a process stopped by SIGINT (128 + 2)


def exit_with(message: str, status: int):
    """Print `kspec: MESSAGE` and exit with `status`, even if stderr is gone."""
    try:
        sys.stderr.write(f"kspec: {message}\n")
        sys.stderr.flush()
    finally:
        raise SystemExit(status) from None
