"""Durable files: write under a temporary name, fsync, rename, fsync the folder.

Used by the folder transport (results in `res`, `.err` files) and by the face reader (face files):
below both, so a service writing a file does not import a transport.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

TEMP_PREFIX = ".mgw-"  # our temporary files: a leading "." matches no client's pattern
TEMP_SUFFIX = ".tmp"

_temp_ids = itertools.count(1)


def atomic_write(directory: Path, name: str, data: bytes) -> Path:
    """Write under a temporary name, fsync, rename over `name`, fsync the folder.

    The folder fsync makes the rename durable before the caller moves the request out of `req`,
    which is what makes "result first, then the request leaves" hold across a power cut.
    """
    target = directory / name
    temp = directory / f"{TEMP_PREFIX}{os.getpid()}-{next(_temp_ids)}{TEMP_SUFFIX}"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(directory)
    return target


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (SMB, FUSE) refuse fsync on folders; nothing better to do
        pass
    finally:
        os.close(fd)
