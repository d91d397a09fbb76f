"""A language model's groupings, kept in the database so that every process uses the same:
the scheduler drafts a digest, a server rebuilds it when a facilitator approves it, and both
must show the themes the facilitator saw. Keyed by a hash of what was sent; rows older than
KEPT are deleted as new ones come (a question whose answers change is sent again anyway).

A grouping is asked for while a digest is being built, often inside the caller's transaction,
which on SQLite holds the one write turn until it ends. So a grouping is written by a thread
of its own once that turn is free, and the build never waits for it (`flush` does)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import reading, transaction
from storage.models import ModelGrouping

log = logging.getLogger(__name__)

KEPT = timedelta(days=60)


class DatabaseGroupings:
    """load/keep of groupings by key, for bot.core.digest.summariser.Summariser."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._writing: list[threading.Thread] = []
        self._lock = threading.Lock()

    def load(self, key: str) -> list[int] | None:
        with reading(self._sessions) as session:
            row = session.get(ModelGrouping, key)
            return list(row.labels) if row is not None else None

    def keep(self, key: str, labels: list[int]) -> None:
        """Write the grouping soon, in the background (a grouping already kept for `key`,
        by another process, stands)."""
        thread = threading.Thread(target=self._write, args=(key, labels), daemon=True,
                                  name="model-grouping")
        with self._lock:
            self._writing = [t for t in self._writing if t.is_alive()] + [thread]
        thread.start()

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the groupings being written."""
        with self._lock:
            writing = list(self._writing)
        for thread in writing:
            thread.join(timeout)

    def _write(self, key: str, labels: list[int]) -> None:
        now = datetime.now(UTC)
        try:
            with transaction(self._sessions) as session:
                session.execute(delete(ModelGrouping).where(ModelGrouping.created_at < now - KEPT))
                session.add(ModelGrouping(key=key, labels=labels, created_at=now))
        except IntegrityError:
            pass  # another process kept one first
        except SQLAlchemyError as exc:  # the database is busy or away: asked again next time
            log.warning("a model grouping was not kept: %s", exc.__class__.__name__)
