"""Keys generated on first use into the instance folder, safely when several processes start at once.

Gunicorn's workers, sync workers and watchers may all start together on a fresh instance folder:
each must end up with the same key, never an empty or half-written file. The key is written to a
private temporary file and linked into place, which fails when another process got there first;
then that process's key is read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def private_folder(path: Path) -> None:
    """The folder, made readable by its owner only (0700) when it is made here (an operator's is kept)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            return
        os.chmod(path, 0o700)  # whatever the umask


def private_file(path: Path) -> None:
    """The file, made empty and readable by its owner only (0600) if there is none yet (a database SQLite
    is about to create: it gives its -wal and -shm files the same mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The key in `path` (mode 0600), created with `make()` if there is none yet."""
    if not path.exists():
        private_folder(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(make())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, path)  # atomic, and refuses to replace a key another process made
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()
