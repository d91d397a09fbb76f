"""A language model's answers, kept in the database so that every process uses the same:
the scheduler drafts a digest, a server rebuilds it when a facilitator approves it, and both
must show the themes and headlines the facilitator saw. Keyed by the kind of answer and a hash
of what was sent; rows older than KEPT are deleted as new ones come (a question whose answers
change is sent again anyway). A headline's row names its round, so that deleting the round,
purging its answers or forgetting one of its people deletes it (bot.core.round_changes,
bot.core.retention, bot.core.forgetting).

An answer is asked for while a digest is being built, often inside the caller's transaction,
which on SQLite holds the one write turn until it ends. So an answer is written by a thread of
its own once that turn is free, and the build never waits for it (`flush` does)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import reading, transaction
from storage.models import ModelAnswer

log = logging.getLogger(__name__)

KEPT = timedelta(days=60)


class DatabaseModelAnswers:
    """load/keep of the model's answers by kind and key, for
    bot.core.digest.summariser.Summariser (bot.core.digest.model_answers.SharedAnswers)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._writing: list[threading.Thread] = []
        self._lock = threading.Lock()

    def load(self, kind: str, key: str) -> object | None:
        """The value kept for `key`, as its JSON was stored (its shape unchecked), or None;
        also None when the value is not JSON or the database does not answer."""
        try:
            with reading(self._sessions) as session:
                row = session.get(ModelAnswer, (kind, key))
                return row.value if row is not None else None
        except ValueError:
            log.warning("a kept model %s is not JSON; it is not used", kind)
            return None
        except SQLAlchemyError as exc:  # the database is busy or away: the model is asked
            log.warning("a kept model %s was not read: %s", kind, exc.__class__.__name__)
            return None

    def keep(self, kind: str, key: str, value: object, round_id: int | None = None,
             replace: bool = False) -> None:
        """Write the value soon, in the background. A value already kept for `key`, by
        another process, stands, unless `replace` (the one kept could not be used)."""
        thread = threading.Thread(target=self._write, args=(kind, key, value, round_id, replace),
                                  daemon=True, name=f"model-{kind}")
        with self._lock:
            self._writing = [t for t in self._writing if t.is_alive()] + [thread]
        thread.start()

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the answers being written."""
        with self._lock:
            writing = list(self._writing)
        for thread in writing:
            thread.join(timeout)

    def _write(self, kind: str, key: str, value: object, round_id: int | None,
               replace: bool) -> None:
        now = datetime.now(UTC)
        try:
            with transaction(self._sessions) as session:
                session.execute(delete(ModelAnswer).where(ModelAnswer.created_at < now - KEPT))
                if replace:
                    session.execute(delete(ModelAnswer).where(ModelAnswer.kind == kind,
                                                              ModelAnswer.key == key))
                session.add(ModelAnswer(kind=kind, key=key, round_id=round_id, value=value,
                                        created_at=now))
        except IntegrityError:
            pass  # another process kept one first, or the round has been deleted meanwhile
        except SQLAlchemyError as exc:  # the database is busy or away: asked again next time
            log.warning("a model %s was not kept: %s", kind, exc.__class__.__name__)
