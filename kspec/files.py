"""Reading and writing files safely.

Reads open regular files only, without blocking on a FIFO, and read a bounded
number of bytes. Writes go through a temporary file and a rename, so that a run
stopped half-way leaves the old file intact; a new file gets the mode the umask
allows, a replaced file keeps its mode, and a symbolic link is written through
to its target.
"""

from __future__ import annotations

import os
import stat

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotARegularFile(OSError):
    """A path that is a directory, FIFO, socket or device where a regular file is needed."""

    def __init__(self, path: str, mode: int):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        super().__init__(f"it is {kind}, not a regular file")
        self.strerror = self.args[0]
        self.path = path


def open_regular(path: str):
    """A binary file object for a regular file; OSError (NotARegularFile) for anything else.

    The path is checked before it is opened, so that no device is ever opened, and the open
    descriptor is checked again, so that a file swapped in between is caught. The open does
    not block: O_NONBLOCK makes opening a FIFO return at once (and is cleared for reading).
    Symbolic links are followed.
    """
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise NotARegularFile(path, before.st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise NotARegularFile(path, opened.st_mode)
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str, limit: int) -> bytes:
    """At most the first `limit` bytes of a regular file."""
    with open_regular(path) as handle:
        return handle.read(limit)


def check_writable(path: str) -> None:
    """NotARegularFile if `path`, followed through links, exists and is not a regular file
    (`-o /dev/stdout` into a pipe is a FIFO): such a path is never replaced or read."""
    try:
        existing = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(existing.st_mode):
        raise NotARegularFile(path, existing.st_mode)


def write_atomic(path: str, data) -> None:
    """Write text or bytes to `path` through a temporary file and a rename.

    A symbolic link is written through: its target is replaced and the link stays. A new
    file gets mode 0666 less the umask, like any file a program creates; a file that is
    replaced keeps its mode. An existing path that is not a regular file (a FIFO, a device)
    is refused with NotARegularFile, never replaced.
    """
    check_writable(path)
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        keep_mode = None
    else:
        if not stat.S_ISREG(existing.st_mode):
            raise NotARegularFile(path, existing.st_mode)
        keep_mode = stat.S_IMODE(existing.st_mode)
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    fd, temporary = _create_temporary(directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            if keep_mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), keep_mode)
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def _create_temporary(directory: str) -> tuple[int, str]:
    """A new, empty file beside the target, created with mode 0666 so that the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = os.path.join(directory, f".kspec-{os.urandom(8).hex()}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory}")
