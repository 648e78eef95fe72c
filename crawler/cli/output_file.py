"""An output file that appears whole or not at all (`export -o FILE`).

An export cut short by a full disk, a quota or a signal used to leave a truncated file
under the name asked for, which a later job would read as the archive's content; an
export over an earlier one destroyed it before the new one was known to be complete. So
the bytes go to a hidden temporary file beside the target, which replaces the target
only once everything was written and flushed to disk; on failure it is removed and the
earlier file is untouched. A target that is not a regular file (/dev/stdout, a named
pipe, /dev/null) is written in place: it cannot be replaced, and holds nothing to lose.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

__all__ = ["CannotCreateError", "write_whole"]

T = TypeVar("T")


class CannotCreateError(OSError):
    """The file could not even be created (no such directory, no permission): a mistake
    in the command, where a failure while writing (a full disk) is not."""


def write_whole(target: str | os.PathLike[str], write: Callable[[IO[bytes]], T]) -> T:
    """Call `write` with a binary file that becomes `target` only if it returns normally.

    CannotCreateError when the file cannot be created at all; the OSError of the failure
    otherwise (a full disk), the target then as it was.
    """
    path = Path(os.path.realpath(target))  # a symlink stays one: its target is written
    try:
        mode: int | None = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with _created(lambda: open(path, "wb"), path) as special:
            return write(special)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=path.parent
        )
    except PermissionError:
        if mode is None or not os.access(path, os.W_OK):
            raise CannotCreateError(errno.EACCES, os.strerror(errno.EACCES), str(path)) from None
        # A writable file in a directory this user cannot add to: written in place, as
        # before (whole-or-nothing needs a file beside it).
        with open(path, "wb") as in_place:
            return write(in_place)
    except OSError as exc:
        raise CannotCreateError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(handle, "wb") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(mode) if mode is not None else _new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def _created(create: Callable[[], T], path: Path) -> T:
    try:
        return create()
    except OSError as exc:
        raise CannotCreateError(exc.errno, exc.strerror, str(path)) from exc


def _new_file_mode() -> int:
    """The mode `open(path, "w")` would have given a new file (mkstemp's is 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
