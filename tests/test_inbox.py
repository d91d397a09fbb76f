"""The inbox: an event acknowledged is on disk, survives the death of its handler, is handled
once and in order; one that keeps failing is set aside with its error, never dropped."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.inbox import FollowUp, Inbox, InboxUnavailable, WorkerWatch
from bot.core.inbox import MAX_ATTEMPTS, Received
from storage.database import Database, connect
from storage.db import make_engine, make_session_factory, transaction
from storage.models import InboxEvent
from storage.queries import claim_events
from tests.conftest import NOW
from tests.helpers import run_cli, wait_for


class Crash(BaseException):
    """What a process dying mid-batch looks like from inside: nothing after it runs."""


class Recorder:
    """A handler that keeps what it was given (committed with the batch), failing on demand."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.said: list[str] = []
        self.crash = False
        self.bad_is_fine = False

    def __call__(self, session: Session, received: list[Received]) -> list[FollowUp]:
        if self.crash:
            raise Crash
        follow_ups: list[FollowUp] = []
        for event in received:
            if event.payload.get("bad") and not self.bad_is_fine:
                raise ValueError(f"cannot read {event.event_id}")
            self.handled.append(event.event_id)
            follow_ups.append(lambda e=event.event_id: self.said.append(e))
        return follow_ups


def inbox_of(database: Database, handler: Recorder, **options: Any) -> Inbox:
    """An inbox as the app makes one: events wait in the inbox's own database (on SQLite)."""
    return Inbox(database, handler, lambda: NOW, **options)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def inbox(database: Database, recorder: Recorder) -> Iterator[Inbox]:
    box = inbox_of(database, recorder, poll_seconds=0.05)
    box.start()
    yield box
    box.stop()


def stored(database: Database) -> list[InboxEvent]:
    with database.inbox_sessions() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_it_handles_what_it_acknowledged_once_in_order_then_says_so(
        inbox: Inbox, recorder: Recorder, database: Database) -> None:
    for n in range(5):
        inbox.capture("slack", f"Ev{n}", {"n": n})
    inbox.capture("slack", "Ev1", {"n": 1})  # Slack's retry of an event already here
    wait_for(lambda: len(recorder.said) == 5 and not stored(database), "all to be handled")
    assert recorder.handled == [f"Ev{n}" for n in range(5)]
    assert recorder.said == recorder.handled


# The handler's thread dies of Crash on purpose: that death is what this test is about.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_what_was_acknowledged_outlives_a_handler_that_died(
        database: Database, recorder: Recorder) -> None:
    recorder.crash = True
    first = inbox_of(database, recorder, poll_seconds=0.05)
    first.start()
    first.capture("slack", "Ev0", {"n": 0})  # returned: Slack has been told "received"
    first.loops[-1]._thread.join(5)  # type: ignore[union-attr]  # the handler died handling it (Crash is not an Exception)
    with pytest.raises(InboxUnavailable):
        first.capture("slack", "Ev1", {"n": 1})  # not acknowledged, so Slack sends it again
    assert [e.event_id for e in stored(database)] == ["Ev0"]
    assert recorder.handled == []

    recorder.crash = False
    second = inbox_of(database, recorder, poll_seconds=0.05)
    second.start()
    try:
        second.capture("slack", "Ev1", {"n": 1})
        wait_for(lambda: len(recorder.handled) == 2, "the next process to handle both")
    finally:
        second.stop()
    assert recorder.handled == ["Ev0", "Ev1"]
    assert stored(database) == []


def test_what_was_stored_while_no_handler_ran_is_handled_as_soon_as_one_starts(
        database: Database, recorder: Recorder) -> None:
    """Events left stored (by a process that stopped or died before handling them) are
    handled when the next inbox starts, not only when it next looks (poll_seconds: 5 s in a
    serving process; none comes within this test)."""
    with transaction(database.inbox_sessions) as session:
        session.add(InboxEvent(platform="slack", event_id="EvLeft", received_at=NOW,
                               payload="{}"))
    box = inbox_of(database, recorder, poll_seconds=3600)
    box.start()
    try:
        wait_for(lambda: recorder.said == ["EvLeft"], "the event left stored to be handled")
    finally:
        box.stop()
    assert stored(database) == []


def test_it_sets_aside_an_event_that_keeps_failing_and_handles_the_rest(
        inbox: Inbox, recorder: Recorder, database: Database, database_url: str) -> None:
    inbox.capture("slack", "EvGood1", {})
    inbox.capture("slack", "EvBad", {"bad": True})
    inbox.capture("slack", "EvGood2", {})
    wait_for(lambda: inbox.waiting() == (0, 1), "the bad event to be set aside")
    assert set(recorder.handled) == {"EvGood1", "EvGood2"}
    [kept] = stored(database)
    assert (kept.event_id, kept.attempts) == ("EvBad", MAX_ATTEMPTS)
    assert kept.last_error == "ValueError: cannot read EvBad"
    assert '"bad": true' in kept.payload  # what was sent is still there, word for word
    env = {"DATABASE_URL": database_url}
    status = run_cli("status", env=env)
    assert "1 incoming message could not be handled after 3 tries" in status.stdout
    listed = run_cli("inbox", "list", env=env)
    assert "EvBad" in listed.stdout and "ValueError: cannot read EvBad" in listed.stdout

    recorder.bad_is_fine = True  # the cause is fixed
    retried = run_cli("inbox", "retry", env=env)
    assert retried.stdout.strip() == "1 message will be tried again."
    wait_for(lambda: "EvBad" in recorder.handled, "the retried event")
    assert stored(database) == []
    again = run_cli("inbox", "retry", env=env)  # not "0 messages will be tried again."
    assert again.stdout.strip() == "Nothing is set aside, so there is nothing to try again."


def test_it_refuses_to_acknowledge_when_it_is_not_running(database: Database,
                                                          recorder: Recorder) -> None:
    box = inbox_of(database, recorder)
    with pytest.raises(InboxUnavailable):
        box.capture("slack", "Ev0", {})
    assert stored(database) == []


def test_many_senders_at_once_share_commits_and_lose_nothing(
        inbox: Inbox, recorder: Recorder) -> None:
    threads = [threading.Thread(target=lambda i=i: [inbox.capture("slack", f"Ev{i}-{k}", {})
                                                    for k in range(25)]) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: len(recorder.handled) == 200, "every event")
    assert sorted(recorder.handled) == sorted(f"Ev{i}-{k}" for i in range(8) for k in range(25))


def test_a_worker_process_handles_what_the_server_stores_until_it_stops(
        database: Database) -> None:
    served, worked = Recorder(), Recorder()
    server = inbox_of(database, served, poll_seconds=0.05,
                   handled_elsewhere=WorkerWatch(database, lambda: NOW, every=0.05))
    worker = inbox_of(database, worked, poll_seconds=0.05)
    worker.start(capturing=False)  # `roundtable worker`
    server.start()
    try:
        with pytest.raises(InboxUnavailable):
            worker.capture("slack", "EvNotHere", {})  # a worker takes no requests
        for n in range(5):
            server.capture("slack", f"Ev{n}", {"n": n})
        wait_for(lambda: len(worked.said) == 5, "the worker to handle and confirm all five")
        assert worked.handled == [f"Ev{n}" for n in range(5)]
        assert served.handled == [] and stored(database) == []

        worker.stop()  # gives its lease up: the server handles again
        server.capture("slack", "Ev5", {"n": 5})
        wait_for(lambda: served.said == ["Ev5"], "the server to handle it itself")
        assert worked.handled == [f"Ev{n}" for n in range(5)]
    finally:
        server.stop()


def test_an_event_handled_just_before_its_handler_died_is_not_handled_again(
        database: Database, recorder: Recorder) -> None:
    # What a handler leaves when it dies between saving the answers and removing their events
    # (two databases on SQLite): the event id claimed with the answers, the event still here.
    with transaction(database.sessions) as session:
        claim_events(session, ["Ev0"], NOW, "slack")
    with transaction(database.inbox_sessions) as session:
        session.add(InboxEvent(platform="slack", event_id="Ev0", payload="{}", received_at=NOW))
    box = inbox_of(database, recorder, poll_seconds=0.05)
    box.start()
    try:
        box.capture("slack", "Ev1", {"n": 1})
        wait_for(lambda: recorder.handled == ["Ev1"] and not stored(database), "Ev1")
    finally:
        box.stop()
    assert recorder.handled == ["Ev1"]  # Ev0 was removed, not handled a second time


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Only SQLite writes one transaction at a time for the whole file (PostgreSQL locks rows),
    so only there has the inbox a file of its own."""
    shutil.copy(sqlite_template, tmp_path / "roundtable.db")
    return f"sqlite:///{tmp_path / 'roundtable.db'}"


@pytest.fixture
def sqlite_database(sqlite_url: str) -> Iterator[Database]:
    engine = make_engine(sqlite_url)
    database = connect(engine)
    yield database
    engine.dispose()


def test_on_an_sqlite_file_storing_an_event_never_waits_for_answers_being_saved(
        sqlite_database: Database, recorder: Recorder) -> None:
    database = sqlite_database
    assert database.inbox is not None  # a file of its own, beside the main one
    box = inbox_of(database, recorder, poll_seconds=0.05)
    box.start()
    try:
        with transaction(database.sessions) as session:
            claim_events(session, ["EvSomethingElse"], NOW, "slack")  # holds SQLite's write lock
            for n in range(3):
                box.capture("slack", f"Ev{n}", {"n": n})  # would time out, were it the same lock
            assert [e.event_id for e in stored(database)] == ["Ev0", "Ev1", "Ev2"]
        wait_for(lambda: len(recorder.handled) == 3, "the three, once the lock is free")
    finally:
        box.stop()


def test_events_an_earlier_version_left_in_the_main_database_move_to_the_inbox_file(
        sqlite_url: str, recorder: Recorder) -> None:
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as session:
        session.add(InboxEvent(platform="slack", event_id="EvLeft", payload='{"text": "kept"}',
                               received_at=NOW))
    database = connect(engine)
    assert stored(database)[0].payload == '{"text": "kept"}'
    with make_session_factory(engine)() as session:
        assert session.scalars(select(InboxEvent)).all() == []
    assert connect(engine).inbox is not None and len(stored(database)) == 1  # moved once
    box = inbox_of(database, recorder, poll_seconds=0.05)
    box.start()
    try:
        wait_for(lambda: recorder.handled == ["EvLeft"], "the event left behind")
    finally:
        box.stop()
        engine.dispose()
