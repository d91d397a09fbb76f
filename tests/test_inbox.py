"""The inbox: an event acknowledged is on disk, survives the death of its handler, is handled
once and in order; one that keeps failing is set aside with its error, never dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.inbox import MAX_ATTEMPTS, FollowUp, Inbox, InboxUnavailable, Received, WorkerWatch
from bot.runtime import Database
from storage.models import InboxEvent
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


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def inbox(database: Database, recorder: Recorder) -> Iterator[Inbox]:
    box = Inbox(database.sessions, "slack", recorder, lambda: NOW, poll_seconds=0.05)
    box.start()
    yield box
    box.stop()


def stored(database: Database) -> list[InboxEvent]:
    with database.sessions() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_it_handles_what_it_acknowledged_once_in_order_then_says_so(
        inbox: Inbox, recorder: Recorder, database: Database) -> None:
    for n in range(5):
        inbox.capture(f"Ev{n}", {"n": n})
    inbox.capture("Ev1", {"n": 1})  # Slack's retry of an event already here
    wait_for(lambda: len(recorder.said) == 5 and not stored(database), "all to be handled")
    assert recorder.handled == [f"Ev{n}" for n in range(5)]
    assert recorder.said == recorder.handled


def test_what_was_acknowledged_outlives_a_handler_that_died(
        database: Database, recorder: Recorder) -> None:
    recorder.crash = True
    first = Inbox(database.sessions, "slack", recorder, lambda: NOW, poll_seconds=0.05)
    first.start()
    first.capture("Ev0", {"n": 0})  # returned: Slack has been told "received"
    first._threads[-1].join(5)  # the handler died handling it (Crash is not an Exception)
    with pytest.raises(InboxUnavailable):
        first.capture("Ev1", {"n": 1})  # not acknowledged, so Slack sends it again
    assert [e.event_id for e in stored(database)] == ["Ev0"]
    assert recorder.handled == []

    recorder.crash = False
    second = Inbox(database.sessions, "slack", recorder, lambda: NOW, poll_seconds=0.05)
    second.start()
    try:
        second.capture("Ev1", {"n": 1})
        wait_for(lambda: len(recorder.handled) == 2, "the next process to handle both")
    finally:
        second.stop()
    assert recorder.handled == ["Ev0", "Ev1"]
    assert stored(database) == []


def test_it_sets_aside_an_event_that_keeps_failing_and_handles_the_rest(
        inbox: Inbox, recorder: Recorder, database: Database, database_url: str) -> None:
    inbox.capture("EvGood1", {})
    inbox.capture("EvBad", {"bad": True})
    inbox.capture("EvGood2", {})
    wait_for(lambda: inbox.waiting() == (0, 1), "the bad event to be set aside")
    assert set(recorder.handled) == {"EvGood1", "EvGood2"}
    [kept] = stored(database)
    assert (kept.event_id, kept.attempts) == ("EvBad", MAX_ATTEMPTS)
    assert kept.last_error == "ValueError: cannot read EvBad"
    assert '"bad": true' in kept.payload  # what was sent is still there, word for word
    env = {"DATABASE_URL": database_url}
    status = run_cli("status", env=env)
    assert "1 incoming message(s) could not be handled after 3 tries" in status.stdout
    listed = run_cli("inbox", "list", env=env)
    assert "EvBad" in listed.stdout and "ValueError: cannot read EvBad" in listed.stdout

    recorder.bad_is_fine = True  # the cause is fixed
    retried = run_cli("inbox", "retry", env=env)
    assert retried.stdout.strip() == "1 message(s) will be tried again"
    wait_for(lambda: "EvBad" in recorder.handled, "the retried event")
    assert stored(database) == []


def test_it_refuses_to_acknowledge_when_it_is_not_running(database: Database,
                                                          recorder: Recorder) -> None:
    box = Inbox(database.sessions, "slack", recorder, lambda: NOW)
    with pytest.raises(InboxUnavailable):
        box.capture("Ev0", {})
    assert stored(database) == []


def test_many_senders_at_once_share_commits_and_lose_nothing(
        inbox: Inbox, recorder: Recorder) -> None:
    threads = [threading.Thread(target=lambda i=i: [inbox.capture(f"Ev{i}-{k}", {})
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
    server = Inbox(database.sessions, "slack", served, lambda: NOW, poll_seconds=0.05,
                   handled_elsewhere=WorkerWatch(database.sessions, lambda: NOW, every=0.05))
    worker = Inbox(database.sessions, "slack", worked, lambda: NOW, poll_seconds=0.05)
    worker.start(capturing=False)  # `roundtable worker`
    server.start()
    try:
        with pytest.raises(InboxUnavailable):
            worker.capture("EvNotHere", {})  # a worker takes no requests
        for n in range(5):
            server.capture(f"Ev{n}", {"n": n})
        wait_for(lambda: len(worked.said) == 5, "the worker to handle and confirm all five")
        assert worked.handled == [f"Ev{n}" for n in range(5)]
        assert served.handled == [] and stored(database) == []

        worker.stop()  # gives its lease up: the server handles again
        server.capture("Ev5", {"n": 5})
        wait_for(lambda: served.said == ["Ev5"], "the server to handle it itself")
        assert worked.handled == [f"Ev{n}" for n in range(5)]
    finally:
        server.stop()
