"""The spool: incoming events kept on local disk while the database cannot take them.

An answer acknowledged must never be lost, and the platform stops sending an event again
after a few minutes. So when the inbox cannot store an event (the database is down or does
not answer in time), the event is appended to a spool file in the data folder and fsynced
before it is acknowledged. When the database answers again, the spool is replayed into the
inbox, where an event id already there (or already handled) is not stored or handled twice.

Each process appends to a file of its own (`spool-<process>.jsonl`, one JSON line an event);
any process may replay any file. A file is locked (flock) while it is appended to or
replayed, and replaying deletes it, so an event is replayed once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: one process per spool folder, guarded by the thread lock alone
    fcntl = None  # type: ignore[assignment]

from storage.files import private_folder
from storage.leases import PROCESS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spooled:
    platform: str
    event_id: str
    payload: str
    """The event as the inbox stores it (JSON text)."""
    received_at: datetime


Store = Callable[[list[Spooled]], None]
"""Stores events in the inbox (an event id already there is kept once); raises if it cannot."""


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f"spool-{re.sub(r'[^A-Za-z0-9_.-]', '_', PROCESS)}.jsonl"
        self._lock = threading.Lock()

    def keep(self, event: Spooled) -> None:
        """Append the event and wait until it is on disk."""
        line = json.dumps({"platform": event.platform, "event_id": event.event_id,
                           "payload": event.payload,
                           "received_at": event.received_at.isoformat()},
                          ensure_ascii=False) + "\n"
        with self._lock:
            private_folder(self.folder)
            with _appending(self.path) as fd:
                os.write(fd, line.encode())
                os.fsync(fd)

    def waiting(self) -> int:
        """How many events wait in the spool (every process's files)."""
        count = 0
        for path in self._files():
            try:
                count += sum(1 for line in path.read_bytes().splitlines() if line.strip())
            except FileNotFoundError:
                continue  # replayed meanwhile
        return count

    def replay(self, store: Store) -> int:
        """Store every spooled event through `store`, file by file, deleting each file once
        its events are stored; how many were replayed. A file another process is replaying
        is left to it; a failing `store` leaves the file for the next try."""
        replayed = 0
        for path in self._files():
            with self._lock if path == self.path else _nothing():
                events = _take(path, store)
            replayed += events
        if replayed:
            log.info("replayed %d incoming events kept in the spool while the database was "
                     "away", replayed)
        return replayed

    def _files(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("spool-*.jsonl"))
        except OSError:
            return []


@contextmanager
def _appending(path: Path) -> Iterator[int]:
    """An append descriptor on `path`, locked; reopened if a replayer deleted the file
    between our open and our lock (then our lines would go to a file nobody reads)."""
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                yield fd
                return
        finally:
            os.close(fd)  # closing gives the lock up


def _take(path: Path, store: Store) -> int:
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another process is on it
        if not path.exists() or os.fstat(fd).st_ino != os.stat(path).st_ino:
            return 0  # replayed and deleted by another process before our lock
        events = _read(path)
        if events:
            store(events)
        path.unlink()
        return len(events)
    finally:
        os.close(fd)


def _read(path: Path) -> list[Spooled]:
    events: list[Spooled] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            events.append(Spooled(str(item["platform"]), str(item["event_id"]),
                                  str(item["payload"]),
                                  datetime.fromisoformat(item["received_at"])))
        except (ValueError, KeyError, TypeError):
            # a line cut short by a crash during its write: it was never acknowledged
            log.warning("%s:%d: not a whole spooled event; skipped", path, number)
    return events


@contextmanager
def _nothing() -> Iterator[None]:
    yield
