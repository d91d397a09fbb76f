"""Sending the questions: exactly once through 429s and 500s, never at night, resumable."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.core.people import Person
from bot.core.rounds import RoundRequest, start_round
from bot.core.sending import send_due
from bot.core.working_hours import next_working_time
from bot.slack.blocks import notice
from bot.slack.gateway import RateLimitPause, SharedRateLimitRetryHandler, SlackGateway
from storage.database import Database
from storage.db import transaction
from storage.models import Delivery, QuestionMessage, Round
from tests.conftest import NOW
from tests.fakes import Transcript
from tests.helpers import seed_pack
from tests.slack.conftest import MEMBERS, Running, advancing_clock, run_bot
from tests.slack.test_round_loop import sent_to_everyone
from tests.slack.test_round_loop import start_round as slack_start
from tests.slack_api_stub import SlackStub

LONDON = "Europe/London"


@pytest.mark.parametrize(("at", "zone", "expected"), [
    (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), LONDON, None),
    (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), LONDON, datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
    (datetime(2026, 11, 23, 18, 0, tzinfo=UTC), LONDON, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    # 10:00 UTC is 23:00 in Auckland (NZDT, UTC+13): the next morning there is 19:00 UTC
    (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "Pacific/Auckland",
     datetime(2026, 11, 23, 19, 0, tzinfo=UTC)),
    (datetime(2026, 7, 1, 7, 30, tzinfo=UTC), LONDON, None),  # 08:30 BST
    (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "Not/AZone", None),
])
def test_it_keeps_messages_to_working_hours_where_people_are(
        at: datetime, zone: str, expected: datetime | None) -> None:
    assert next_working_time(at, zone, LONDON) == expected


def _round(database: Database, *people: Person) -> None:
    with transaction(database.sessions) as session:
        start_round(session, RoundRequest(seed_pack(), list(people), platform="slack"), NOW)


def test_it_sends_a_first_message_that_failed_once_when_it_may_retry(database: Database
                                                                        ) -> None:
    _round(database, Person("UAMARA", "Amara", timezone=LONDON))
    gateway = Transcript(fail_on={1})
    first = send_due(database.sessions, gateway.gateways, lambda: NOW, LONDON)
    assert [o.state for o in first] == ["deferred"] and gateway.sent == []
    # it waits to retry:
    assert send_due(database.sessions, gateway.gateways, lambda: NOW, LONDON) == []
    later = NOW + timedelta(minutes=6)
    outcomes = send_due(database.sessions, gateway.gateways, lambda: later, LONDON)
    assert [o.state for o in outcomes] == ["sent"]
    assert gateway.sent == [("DUAMARA", seed_pack().prompts[0].id)]
    with database.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.attempts, delivery.channel_id) == ("sent", 2, "DUAMARA")
        assert len(session.scalars(select(QuestionMessage)).all()) == 1


def test_it_marks_a_delivery_failed_when_retrying_cannot_help(database: Database) -> None:
    _round(database, Person("UGONE", timezone=LONDON))
    gateway = Transcript(fail_on={1}, permanent=True)
    outcomes = send_due(database.sessions, gateway.gateways, lambda: NOW, LONDON)
    assert [o.state for o in outcomes] == ["failed"]
    with database.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.last_error) == ("failed", "user_not_found")


def test_it_holds_messages_until_morning_where_the_person_is(database: Database) -> None:
    _round(database, Person("UKIRI", timezone="Pacific/Auckland"),
           Person("UAMARA", timezone=LONDON))
    gateway = Transcript()
    outcomes = send_due(database.sessions, gateway.gateways, lambda: NOW, LONDON)
    assert sorted(o.state for o in outcomes) == ["deferred", "sent"]
    assert {channel for channel, _ in gateway.sent} == {"DUAMARA"}
    morning = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    with database.sessions() as session:
        waiting = session.scalars(select(Delivery).where(Delivery.state == "pending")).one()
        assert waiting.not_before == morning
    assert send_due(database.sessions, gateway.gateways, lambda: morning - timedelta(minutes=1),
                    LONDON) == []
    outcomes = send_due(database.sessions, gateway.gateways, lambda: morning, LONDON)
    assert [o.state for o in outcomes] == ["sent"]


def test_it_sends_everyone_their_questions_once_through_random_429s_and_500s(
        database: Database, database_url: str, stub: SlackStub) -> None:
    with run_bot(database, database_url, stub, advancing_clock()) as running:
        stub.fail_at_random(0.2)
        slack_start(running)
        sent_to_everyone(running)
        stub.fail_at_random(0)
        failed = [c for c in stub.calls if not c.ok and c.status in (429, 500)]
        assert len(failed) >= 3, "the stand-in should have failed some calls"
        per_message = Counter((c.params["channel"], c.params["text"][:40])
                              for c in stub.posted() if c.params["channel"].startswith("D"))
        assert set(per_message.values()) == {1}
        assert len(per_message) == len(MEMBERS)
        assert all("Question 1 of 6" in c.params["text"] for c in stub.posted()
                   if c.params["channel"].startswith("D"))


def test_it_waits_for_the_morning_in_a_far_time_zone(
        database: Database, database_url: str, stub: SlackStub) -> None:
    stub.add_user("UKIRI", "Kiri", tz="Pacific/Auckland")
    stub.add_channel("CMIXED", ["UKIRI", "UAMARA"])
    with run_bot(database, database_url, stub) as running:
        running.slack.command("UFACILITATOR", "start sel-pharmacy-leadership to <#CMIXED|mixed>")
        running.wait_for(lambda: running.scalar(select(Delivery).where(
            Delivery.state == "sent")), "Amara's questions")
        running.wait_for(lambda: running.scalar(select(Delivery.not_before).where(
            Delivery.state == "pending")), "Kiri's delivery to be deferred")
        assert not stub.posted("DUKIRI") and stub.posted("DUAMARA")


def test_the_facilitator_hears_the_round_started_even_when_slack_stumbles(
        running: Running) -> None:
    running.stub.fail_next("response_url", status=500)
    running.stub.fail_next("response_url", status=429)
    round_id = slack_start(running)  # waits for the "Round N started" the facilitator sees
    said = [c for c in running.stub.calls if c.method == "response_url"]
    assert [c.status for c in said] == [500, 429, 200]
    assert f"Round {round_id} of" in said[-1].params["text"]
    assert len(running.scalars(select(Round))) == 1


def test_after_a_429_every_post_waits_out_retry_after_not_only_the_refused_one(
        stub: SlackStub) -> None:
    now, slept = [1000.0], []
    dm = ["D" + member for member in MEMBERS[:3]]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pause = RateLimitPause(lambda: now[0], sleep)
    gateway = SlackGateway(WebClient(token="xoxb-test", base_url=stub.base_url, retry_handlers=[
        SharedRateLimitRetryHandler(pause, max_retry_count=3)]))
    stub.fail_next("chat.postMessage", status=429, retry_after=2)
    sent = gateway.post(dm[0], notice("First"))  # refused once, waits 2 s, then lands
    assert slept == [2.0] and sent.channel_id == dm[0]
    assert [c.status for c in stub.calls_to("chat.postMessage", ok_only=False)] == [429, 200]

    now[0] = 1001.5  # a second sender, half way through that wait: waits the rest
    gateway.post(dm[1], notice("Second"))
    assert slept == [2.0, 0.5]
    gateway.client.users_info(user=MEMBERS[0])  # other methods are not held up
    gateway.post(dm[2], notice("Third"))  # the wait is over: no more waiting
    assert slept == [2.0, 0.5]
    assert [c.params["channel"] for c in stub.calls_to("chat.postMessage")] == dm
