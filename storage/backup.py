"""Backups of an SQLite database while the service runs: SQLite's online backup of the main
file and of the inbox file beside it (storage.db.inbox_url), each a consistent copy.

PostgreSQL is backed up with its own tools (pg_dump); see docs/operations.md.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import inbox_url

BUSY_SECONDS = 30.0
"""How long a backup waits for a writer to finish before it reads."""


class BackupError(Exception):
    """The backup cannot be made; the message is one line, fit to show."""


@dataclass(frozen=True)
class Copied:
    source: Path
    backup: Path


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for any other database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def pg_dump_target(url: str) -> str:
    """A PostgreSQL URL as pg_dump and pg_restore take it: libpq's scheme, and no password
    (they ask for it, or read ~/.pgpass), so it can be shown."""
    return make_url(url)._replace(drivername="postgresql", password=None).render_as_string(
        hide_password=False)


def backup_sqlite(url: str, destination: Path) -> list[Copied]:
    """Copy the database of `url` to `destination`, and its inbox file to the matching name
    beside it (`backup.db` and `backup.inbox.db`); files readable by their owner only. An
    existing file is never overwritten."""
    source = sqlite_path(url)
    if source is None:
        raise BackupError("not an SQLite database")
    if not source.is_file():
        raise BackupError(f"there is no database at {source}: run `roundtable db upgrade`")
    pairs = [(source, destination)]
    inbox = sqlite_path(inbox_url(url))
    if inbox is not None and inbox != source and inbox.is_file():
        beside = sqlite_path(inbox_url(f"sqlite:///{destination}"))
        assert beside is not None
        pairs.append((inbox, beside))
    for _, target in pairs:
        if target.exists():
            raise BackupError(f"{target} exists already: give a new name (backups are never "
                              "overwritten)")
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return [_copy(source_file, target) for source_file, target in pairs]


def _copy(source: Path, target: Path) -> Copied:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=BUSY_SECONDS)) as reading, \
                closing(sqlite3.connect(partial)) as writing:
            reading.backup(writing)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"could not copy {source} to {target}: {exc}") from None
    return Copied(source, target)
