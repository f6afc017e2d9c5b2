"""Reading a file a user named: only a regular file, never blocking, never more than a cap.

``Path.read_bytes()`` on a name from a program file or a config reads ``/dev/zero`` until memory runs
out and blocks for ever on a named pipe. :func:`read_regular_file` looks before it reads (``os.stat``:
a regular file, not larger than the cap), opens with ``O_NONBLOCK`` so a pipe swapped in after the
look cannot block, checks the open file again, and reads at most ``limit + 1`` bytes.

:func:`inside_folder` keeps artwork named by a program file inside that file's folder (symlinks
resolved), so a program file cannot make a pass carry ``/etc/passwd`` or ``/proc/self/environ``.

Callers turn :class:`UnreadableFile` into their own error (naming their field and fix).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["UnreadableFile", "inside_folder", "read_regular_file"]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class UnreadableFile(Exception):
    """Why a file was not read (``reason``: a phrase such as ``is not a regular file``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at *path*, at most *limit* of them; else :class:`UnreadableFile`.

    >>> read_regular_file("/dev/zero", 10)
    Traceback (most recent call last):
    ...
    walletvoucher._files.UnreadableFile: is not a regular file (it is a character device)
    """
    name = os.fspath(path)
    if "\0" in name:
        raise UnreadableFile("contains a NUL character")
    try:
        _check_regular(os.stat(name), limit)
        fd = os.open(name, _OPEN_FLAGS)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as handle:
        _check_regular(os.fstat(fd), limit)  # the same file as looked at, or one as harmless
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"is larger than {limit} bytes")
    return data


def _check_regular(info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(f"is not a regular file (it is {_kind(info.st_mode)})")
    if info.st_size > limit:
        raise UnreadableFile(f"is larger than {limit} bytes ({info.st_size} bytes)")


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def inside_folder(path: Path, folder: Path) -> bool:
    """Whether *path*, with every symlink resolved, lies inside *folder* (also resolved)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
        return False
