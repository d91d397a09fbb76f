"""Sends whose outcome is unknown (the post reached Slack but its answer never came back: a
dropped connection, or a sender killed with kill -9) are looked up in the conversation before
anything is sent again, and Slack lets an app like ours read history about once a minute. Those
look-ups wait for their turn without holding anything else up: the sweep goes on closing rounds
and sending other questions, and each question still arrives exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.people import Person
from bot.core.ports import utcnow
from bot.core.rounds import RoundRequest, start_round
from bot.core.sending import send_due
from bot.scheduling import jobs
from bot.scheduling.service import Scheduler
from bot.slack.gateway import SlackGateway, make_client
from storage.database import Database
from storage.db import transaction
from storage.models import Delivery, Round
from tests.fakes import Transcript
from tests.helpers import StillThenRunning, seed_pack, wait_for
from tests.outbox.fanout import missing_and_repeated, people, working_zone
from tests.slack_api_stub import DROP, SlackStub

FIRST = [seed_pack().prompts[0].id]
HISTORY_INTERVAL = 120.0
"""Seconds between the history reads the stand-in allows (Slack: 60): waiting for one of them
takes longer than the test waits for the round to close. The gateway's own count of that wait
is held by the test (`held`), which lets the reads go once the round has closed."""


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    slack.add_channel("CLEADS", ["UFAC"])
    yield slack
    slack.stop()


def round_state(database: Database, round_id: int) -> str:
    with database.sessions() as session:
        return session.get_one(Round, round_id).status


def delivery_states(database: Database, round_id: int) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(Delivery.state).where(Delivery.round_id == round_id)))


def test_it_closes_rounds_and_sends_on_while_unconfirmed_sends_wait_for_their_history_check(
    database: Database, stub: SlackStub
) -> None:
    zone = working_zone()
    unconfirmed = people(stub, 3)
    stub.add_user("UBEN", "Ben", tz=zone)
    stub.add_user("UCARA", "Cara", tz=zone)
    gateways = {"slack": SlackGateway(make_client("xoxb-test", stub.base_url))}
    held = gateways["slack"].pause.clock = StillThenRunning()  # Retry-After as the test says
    passed = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + passed[0]

    with transaction(database.sessions) as session:
        closing = start_round(session, RoundRequest(
            seed_pack(), [Person("UBEN", timezone=zone)], digest_channel="CLEADS",
            closes_at=clock() + timedelta(hours=1), platform="slack"), clock()).id
    send_due(database.sessions, gateways, clock, "UTC")
    with transaction(database.sessions) as session:
        asked = start_round(session, RoundRequest(
            seed_pack(), [Person(u, timezone=zone) for u in unconfirmed], platform="slack"),
            clock()).id
    stub.fail_next("chat.postMessage", times=len(unconfirmed), status=DROP)
    send_due(database.sessions, gateways, clock, "UTC")  # posted; the answers never came
    stub.history_interval = HISTORY_INTERVAL
    scheduler = Scheduler(jobs.JobContext(database, gateways, clock, "UTC"), sweep_seconds=0.5,
                          holder="sweeper")
    scheduler.tick()
    try:
        wait_for(lambda: any(c.status == 429 for c in stub.calls_to(
            "conversations.history", ok_only=False)), "a history read to be refused")
        passed[0] = timedelta(hours=1, minutes=1)  # the round's closing time passes
        with transaction(database.sessions) as session:
            start_round(session, RoundRequest(seed_pack(), [Person("UCARA", timezone=zone)],
                                              platform="slack"), clock())
        # while every history read is still refused: nothing waits for one
        wait_for(lambda: round_state(database, closing) == "closed"
                 and missing_and_repeated(stub, ["UCARA"], FIRST)[0] == 0,
                 "the round to close and the new round's question to go",
                 timeout=HISTORY_INTERVAL / 2)
        assert delivery_states(database, asked) != ["sent"] * len(unconfirmed)
        stub.allow_history()
        held.run_on(HISTORY_INTERVAL + 1)  # Slack allows the reads again
        passed[0] += timedelta(minutes=3)  # and the look-ups put off fall due
        wait_for(lambda: delivery_states(database, asked) == ["sent"] * len(unconfirmed),
                 "every unconfirmed send to be looked up", timeout=60)
    finally:
        scheduler.stop()
    assert missing_and_repeated(stub, [*unconfirmed, "UBEN", "UCARA"], FIRST) == (0, 0)


def test_the_schedule_wakes_its_process_s_sender_instead_of_sending_beside_it(
    database: Database,
) -> None:
    """A second sender in the process put off deliveries the outbox did not know of, so the
    outbox slept its full minute while they fell due (a killed sender's look-ups then crept
    along at one a sweep)."""
    gateway, woken = Transcript(), []
    with transaction(database.sessions) as session:
        start_round(session, RoundRequest(seed_pack(), [Person("UAMARA", timezone=working_zone())],
                                          platform="slack"), utcnow())
    jobs.install(jobs.JobContext(database, {"slack": gateway}, utcnow, "UTC",
                                 wake_sender=lambda: woken.append(True)))
    jobs.send_due_deliveries()
    assert woken == [True]
    assert gateway.sent == []  # the outbox sends it, once woken
    with database.sessions() as session:
        assert session.scalars(select(Delivery.state)).all() == ["pending"]
