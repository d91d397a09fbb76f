"""Fan-out: everyone gets the questions exactly once through 429s, 500s and dropped
connections (in process), and through the sending process being killed again and again (real
processes), judged from what the Slack stand-in recorded."""

from __future__ import annotations

import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.core.answers import ChatMessage, answer_from_chat
from bot.core.people import Person
from bot.core.ports import utcnow
from bot.core.rounds import RoundRequest, start_round
from bot.core.sending import RETRY_AFTER, send_due
from bot.slack.gateway import SlackGateway, make_client
from storage.database import Database
from storage.db import make_engine, make_session_factory, transaction
from storage.leases import sending_alive
from storage.models import Delivery
from tests.helpers import ROUNDTABLE, cli_env, run_cli, seed_pack
from tests.outbox.fanout import missing_and_repeated, people, working_zone
from tests.slack_api_stub import DROP, SlackStub

FIRST = [seed_pack().prompts[0].id]
"""What the start of a round sends: the intro with the first question."""
AUDIENCE = 100
"""A dozen rounds of IN_FLIGHT claims, each kind of failure met many times over: twice as many
only took longer."""
KILLS = 4
"""Each kill leaves up to IN_FLIGHT claims to look up at Slack's pace for history reads (the
stand-in's one a second): ten took the test near two minutes, and four kill the sender at as
many points of a fan-out, and again while it looks up what an earlier one left."""
KILLED_AUDIENCE = 80
"""Enough people that every kill comes during the fan-out: at most KILLS x 18 posts."""


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    yield slack
    slack.stop()


def test_it_reaches_everyone_once_through_rate_limits_errors_and_dropped_connections(
    database: Database, stub: SlackStub
) -> None:
    users = people(stub, AUDIENCE)
    with transaction(database.sessions) as session:
        everyone = [Person(u, timezone=working_zone()) for u in users]
        start_round(session, RoundRequest(seed_pack(), everyone, platform="slack"), utcnow())
    stub.history_interval = 0.0  # a storm of unknown outcomes, checked without Slack's 1/min
    stub.fail_at_random(0.2, modes=(429, 500, DROP))
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    # Sweeps, as the outbox makes them: uncertain sends go again at once, and a send the
    # platform kept failing after the client's own retries goes again RETRY_AFTER later, so
    # each sweep is that much later than the one before.
    for sweep in range(20):
        outcomes = send_due(database.sessions, {"slack": gateway},
                            lambda later=sweep * RETRY_AFTER: utcnow() + later, "UTC")
        if not outcomes:
            break
    assert missing_and_repeated(stub, users, FIRST) == (0, 0)
    assert {c.status for c in stub.calls} >= {429, 500, DROP}  # the storm really happened


@pytest.mark.long
def test_it_reaches_everyone_once_when_the_sender_is_killed_again_and_again(
    database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one run is enough: the same code on SQLite, with real processes")
    users = people(stub, KILLED_AUDIENCE)
    stub.history_interval = 1.0
    env = cli_env(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test",
                  SLACK_SIGNING_SECRET="secret", SLACK_API_URL=stub.base_url,
                  ROUNDTABLE_LEASE_SECONDS="2")
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", ",".join(users),
                      env=env, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    chance = random.Random(7)
    total = KILLED_AUDIENCE

    logs: list[Path] = []

    def run_server() -> subprocess.Popen[bytes]:
        logs.append(tmp_path / f"scheduler-{len(logs)}.log")
        with logs[-1].open("wb") as log:
            return subprocess.Popen([ROUNDTABLE, "scheduler"], env=env, cwd=tmp_path,
                                    stdout=subprocess.DEVNULL, stderr=log)

    for _ in range(KILLS):
        before = len(stub.posted())
        assert before < total
        server = run_server()
        target = before + chance.randint(1, 18)
        try:
            stub.wait_for(
                lambda t=target, s=server: len(stub.posted()) >= t or s.poll() is not None,
                timeout=60,
                what="sending to make progress",
            )
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
    # The kills are over. The last sender starts once the last killed one's lease has lapsed
    # (one started before finds its claims only at the schedule's next sweep, 15 s on), and
    # looks up what the kills left (some thirty sends) without Slack's pace for history
    # reads, which only made it wait half a minute, a read a second.
    engine = make_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        stub.wait_for(lambda: not sending_alive(sessions, utcnow()), timeout=60,
                      what="the killed sender's lease to lapse")
    finally:
        engine.dispose()
    stub.allow_history()
    server = run_server()
    try:
        stub.wait_for(
            lambda: missing_and_repeated(stub, users, FIRST)[0] == 0,
            timeout=300,  # exactly once is judged here, not how soon (bench/fanout.py)
            what="every question to reach everyone",
        )
    except AssertionError as timed_out:  # what is left to send, and what the sender said
        raise AssertionError("\n".join(
            [str(timed_out), *_unsent(database_url),
             *logs[-1].read_text(errors="replace").splitlines()[-40:]])) from None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert missing_and_repeated(stub, users, FIRST) == (0, 0)
    assert stub.calls_to("conversations.history")  # a kill left outcomes to look up


def _unsent(database_url: str) -> list[str]:
    """The deliveries not sent, as the database holds them (why a sender did not finish)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(
                Delivery.id, Delivery.state, Delivery.attempts, Delivery.uncertain,
                Delivery.claimed_by, Delivery.not_before, Delivery.last_error,
            ).where(Delivery.state != "sent")).all()
    finally:
        engine.dispose()
    return [f"{len(rows)} deliveries not sent:", *(str(tuple(r)) for r in rows)]


def test_next_questions_reach_everyone_once_through_errors_and_dropped_connections(
    database: Database, stub: SlackStub
) -> None:
    users = people(stub, 60)
    with transaction(database.sessions) as session:
        everyone = [Person(u, timezone=working_zone()) for u in users]
        start_round(session, RoundRequest(seed_pack(), everyone, platform="slack"), utcnow())
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    send_due(database.sessions, {"slack": gateway}, utcnow, "UTC")
    with transaction(database.sessions) as session:  # everyone answers the first question
        answer_from_chat(session, [ChatMessage("D" + u, u, "Shared aims", f"D{u}:1")
                                   for u in users], utcnow(), "slack")
    stub.history_interval = 0.0
    stub.fail_at_random(0.2, modes=(429, 500, DROP))
    for _ in range(20):
        if not send_due(database.sessions, {"slack": gateway}, utcnow, "UTC"):
            break
    assert missing_and_repeated(stub, users, [*FIRST, seed_pack().prompts[1].id]) == (0, 0)
    assert {c.status for c in stub.calls} >= {429, 500, DROP}
