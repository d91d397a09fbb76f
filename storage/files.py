"""Files for our eyes only: what Roundtable writes (the SQLite database and its inbox, their
-wal and -shm files, exports, a person's data, the spool) is created readable by its owner
alone (0600), in folders it creates 0700, whatever the umask (022 usually makes 0644)."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create the folder (and any missing parents) 0700; an existing one is left as it is."""
    missing: list[Path] = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Make sure the file exists; created empty and 0600 if it did not (an existing one is
    left as it is, and need not be writable)."""
    if path.exists():
        return path
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path  # made meanwhile by another process
    os.close(fd)
    return path


def write_private(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write (replacing) a file that only its owner may read: created 0600, and made 0600
    if it existed with looser permissions."""
    private_folder(path.parent)
    content = data.encode(encoding) if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return path
