"""Sessions: a long read (building a digest) never holds up a write (an answer being stored)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.database import Database
from storage.db import make_engine, make_session_factory, reading, transaction
from storage.migrate import upgrade
from storage.models import ProcessedEvent


def test_a_reader_in_the_middle_of_its_work_does_not_hold_up_a_writer(database: Database
                                                                      ) -> None:
    written = threading.Event()

    def write() -> None:
        with transaction(database.sessions) as session:
            session.add(ProcessedEvent(event_id="Ev1", received_at=datetime.now(UTC)))
        written.set()

    with reading(database.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        writer = threading.Thread(target=write)
        writer.start()
        # on SQLite, a reader holding the write lock would keep the writer waiting 15 s
        assert written.wait(5), "the write waited for the read to finish"
        writer.join()
    with reading(database.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


def test_the_event_ledger_forgets_what_slack_can_no_longer_retry(database: Database) -> None:
    from bot.scheduling import jobs
    from tests.fakes import Transcript

    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        session.add_all([ProcessedEvent(event_id="EvOld", received_at=now - timedelta(days=8)),
                         ProcessedEvent(event_id="EvNew", received_at=now - timedelta(days=6))])
    jobs.install(jobs.JobContext(database, {"slack": Transcript()}, lambda: now, "Europe/London"))
    jobs.forget_old_events()
    with reading(database.sessions) as session:
        assert list(session.scalars(select(ProcessedEvent.event_id))) == ["EvNew"]


def test_sqlite_writers_of_two_processes_take_turns_and_neither_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    upgrade(make_engine(url))
    ours, theirs = (make_session_factory(make_engine(url)) for _ in range(2))
    written = threading.Event()

    def write() -> None:
        with transaction(theirs) as session:
            session.add(ProcessedEvent(event_id="EvTheirs", received_at=datetime.now(UTC)))
        written.set()

    with transaction(ours) as session:
        session.add(ProcessedEvent(event_id="EvOurs", received_at=datetime.now(UTC)))
        session.flush()
        writer = threading.Thread(target=write)
        writer.start()
        with reading(theirs) as other:  # reading takes no turn
            assert other.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
        assert not written.is_set()  # its turn comes after our commit
    writer.join(20)
    assert written.is_set()
    with reading(theirs) as session:
        assert set(session.scalars(select(ProcessedEvent.event_id))) == {"EvOurs", "EvTheirs"}
    assert (tmp_path / "turns.db-write.lock").exists()
