"""A digest whose claim was left unfinished (Slack failed it, or its poster died) is found in
the channel or posted, once; a fresh claim is left to its poster; a gone channel is not
retried for ever, nor one Slack refuses for good when recovery tries it again (the round's
starter is told once); while Slack refuses the history and thread reads that look for it, the sweep
goes on without waiting for them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.digest.build import build_digest
from bot.core.digest.changes import claim_digest
from bot.core.digest_posts import STALE_DIGEST_CLAIM, post_digest, recover_digests
from bot.core.people import Person
from bot.core.ports import DeliveryError, utcnow
from bot.core.rounds import RoundRequest, start_round
from bot.scheduling import jobs
from bot.scheduling.service import Scheduler
from bot.slack.gateway import DIGEST_EVENT, SlackGateway, make_client
from storage.database import Database
from storage.db import reading, transaction
from storage.models import Digest, Round
from tests.helpers import StillThenRunning, seed_pack, wait_for
from tests.outbox.fanout import working_zone
from tests.slack_api_stub import DROP, SlackStub

CLAIMED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = CLAIMED + STALE_DIGEST_CLAIM + timedelta(minutes=1)
HISTORY_WAIT = 120
"""Retry-After of a refused history read (Slack: up to 60 s): longer than the test waits for a
round to close. The gateway's own count of it is held by the test, which lets the reads go
once the round has closed."""
REPLIES_WAIT = 2


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    slack.add_channel("CLEADS", ["UFAC"])
    slack.history_interval = 0.0
    yield slack
    slack.stop()


@pytest.fixture
def gateway(stub: SlackStub) -> SlackGateway:
    return SlackGateway(make_client("xoxb-test", stub.base_url))


def claimed(database: Database, channel: str = "CLEADS") -> tuple[int, int]:
    """A round and a digest claimed at CLAIMED by a poster that never finished."""
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(seed_pack(), [Person("UAMARA", "Amara")],
                                                   digest_channel=channel, platform="slack"),
                             CLAIMED)
        digest = claim_digest(session, round_.id, "2026-11-27", CLAIMED, channel_id=channel)
        assert digest is not None
        return round_.id, digest.id


def digest_parts(stub: SlackStub, digest_id: int) -> list[int]:
    """The parts of this digest that reached the channel (0: the top message), in order."""
    return [c.params["metadata"]["event_payload"]["part"] for c in stub.posted("CLEADS")
            if (c.params.get("metadata") or {}).get("event_type") == DIGEST_EVENT
            and c.params["metadata"]["event_payload"]["digest"] == digest_id]


def digest_posts(stub: SlackStub, digest_id: int) -> list[str]:
    """The top messages of this digest in the channel."""
    return [c.answer["ts"] for c in stub.posted("CLEADS")
            if (c.params.get("metadata") or {}).get("event_type") == DIGEST_EVENT
            and c.params["metadata"]["event_payload"] == {"digest": digest_id, "part": 0}]


def state(database: Database, digest_id: int) -> tuple[str, str | None]:
    with database.sessions() as session:
        row = session.get_one(Digest, digest_id)
        return row.state, row.message_id


def failed_post(database: Database, gateway: SlackGateway, round_id: int, period: str,
                at: datetime) -> Digest:
    """Post a period's digest, which Slack fails; its row as it was left."""
    with pytest.raises(DeliveryError):
        post_digest(database.sessions, {"slack": gateway}, round_id, period, lambda: at)
    with database.sessions() as session:
        return session.scalars(select(Digest).where(Digest.period == period)).one()


def test_a_digest_slack_has_already_is_marked_posted_not_posted_again(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    round_id, digest_id = claimed(database)
    with reading(database.sessions) as session:
        view = build_digest(session, round_id, CLAIMED)
    gateway.post_digest("CLEADS", view, digest_id)  # then its poster died
    recovered = recover_digests(database.sessions, {"slack": gateway}, lambda: LATER)
    assert [s.message_id for s in recovered] == digest_posts(stub, digest_id)
    assert len(digest_posts(stub, digest_id)) == 1
    assert state(database, digest_id) == ("posted", digest_posts(stub, digest_id)[0])
    assert recover_digests(database.sessions, {"slack": gateway}, lambda: LATER) == []


def test_a_digest_that_never_reached_slack_is_posted_once(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    _, digest_id = claimed(database)
    assert recover_digests(database.sessions, {"slack": gateway},
                           lambda: CLAIMED + timedelta(minutes=1)) == []  # its poster may be busy
    assert digest_posts(stub, digest_id) == []
    recover_digests(database.sessions, {"slack": gateway}, lambda: LATER)
    recover_digests(database.sessions, {"slack": gateway}, lambda: LATER + timedelta(minutes=1))
    assert len(digest_posts(stub, digest_id)) == 1
    assert state(database, digest_id)[0] == "posted"


def test_a_failed_post_is_taken_up_again_and_a_gone_channel_given_up(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    round_id, _ = claimed(database)
    stub.fail_next("chat.postMessage", status=200, error="internal_error", times=1)
    retried = failed_post(database, gateway, round_id, "next-week", CLAIMED)
    assert retried.state == "claimed"
    recover_digests(database.sessions, {"slack": gateway}, lambda: LATER)
    assert state(database, retried.id)[0] == "posted"

    stub.channels.pop("CLEADS")
    assert failed_post(database, gateway, round_id, "week-after", LATER).state == "failed"
    assert recover_digests(database.sessions, {"slack": gateway},
                           lambda: LATER + 2 * STALE_DIGEST_CLAIM) == []


def test_a_digest_slack_refuses_for_good_at_recovery_is_given_up_and_its_starter_told_once(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    """Slack failed the scheduled digest for a passing reason; by the time recovery tries it
    again the bot was taken out of the channel. It is not tried at every sweep: it is failed,
    keeps why, and the facilitator who started the round hears it, once."""
    stub.add_user("UFAC", "Fola")
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UAMARA", "Amara")], started_by="UFAC",
            digest_channel="CLEADS", platform="slack"), CLAIMED).id
    stub.fail_next("chat.postMessage", status=200, error="internal_error", times=1)
    digest = failed_post(database, gateway, round_id, CLAIMED.isoformat(), CLAIMED)
    assert digest.state == "claimed"
    stub.refuse("conversations.history", lambda p: p.get("channel") == "CLEADS", times=5,
                status=200, error="not_in_channel")

    for at in (LATER, LATER + 2 * STALE_DIGEST_CLAIM):
        jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda at=at: at, "UTC"))
        jobs.recover_digests()
    assert len(stub.calls_to("conversations.history", ok_only=False)) == 1
    with database.sessions() as session:
        row = session.get_one(Digest, digest.id)
        assert (row.state, row.refused_reason) == ("failed", "not_in_channel")
    [told] = stub.posted("DUFAC")
    assert told.params["text"].startswith(
        f"The scheduled digest of round {round_id} could not be posted in <#CLEADS>: "
        "not_in_channel. Invite @Roundtable to the channel"), told.params["text"]
    assert digest_posts(stub, digest.id) == []


def test_a_digest_cut_short_in_its_thread_gets_only_its_missing_parts(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    round_id, _ = claimed(database)
    stub.fail_next("chat.postMessage", status=200, error="internal_error", after=3)
    digest = failed_post(database, gateway, round_id, "cut-short", CLAIMED)
    assert digest_parts(stub, digest.id) == [0, 1, 2]
    recover_digests(database.sessions, {"slack": gateway}, lambda: LATER)
    questions = len(seed_pack().prompts)
    assert sorted(digest_parts(stub, digest.id)) == list(range(questions + 1))  # each once
    thread = stub.threads[("CLEADS", digest_posts(stub, digest.id)[0])]
    assert len(thread) == questions
    assert state(database, digest.id) == ("posted", digest_posts(stub, digest.id)[0])


def test_a_recovery_that_fails_part_way_leaves_the_next_one_to_find_the_top_message(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    """The stand-in stamps its messages in January 2027: the round begins and the digest is
    claimed before that, and each recovery takes it up after, as in Slack a recovery comes
    after the top message its first poster left."""
    began = datetime(2026, 12, 1, tzinfo=UTC)
    claim, first_try = datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)
    with transaction(database.sessions) as session:
        round_ = start_round(session, RoundRequest(seed_pack(), [Person("UAMARA", "Amara")],
                                                   digest_channel="CLEADS", platform="slack"),
                             began)
    stub.fail_next("chat.postMessage", status=200, error="internal_error", after=1)
    digest = failed_post(database, gateway, round_.id, "cut-short", claim)
    assert digest_parts(stub, digest.id) == [0]
    stub.fail_next("chat.postMessage", status=200, error="internal_error", after=1)
    recover_digests(database.sessions, {"slack": gateway}, lambda: first_try)  # fails again
    assert digest_parts(stub, digest.id) == [0, 1]
    recover_digests(database.sessions, {"slack": gateway},
                    lambda: first_try + STALE_DIGEST_CLAIM + timedelta(minutes=1))
    questions = len(seed_pack().prompts)
    assert len(digest_posts(stub, digest.id)) == 1
    assert sorted(digest_parts(stub, digest.id)) == list(range(questions + 1))  # each once
    assert state(database, digest.id) == ("posted", digest_posts(stub, digest.id)[0])


def test_it_closes_rounds_while_an_unfinished_digest_waits_for_slack_to_allow_its_reads(
        database: Database, stub: SlackStub, gateway: SlackGateway) -> None:
    zone = working_zone()
    stub.add_user("UAMARA", "Amara", tz=zone)
    stub.add_user("UBEN", "Ben", tz=zone)
    stub.add_channel("CTEAM", ["UFAC"])
    passed = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + passed[0]

    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(
            seed_pack(), [Person("UAMARA", timezone=zone)], digest_channel="CLEADS",
            platform="slack"), clock()).id
        closing = start_round(session, RoundRequest(
            seed_pack(), [Person("UBEN", timezone=zone)], digest_channel="CTEAM",
            closes_at=clock() + timedelta(hours=1), platform="slack"), clock()).id
    # its poster was killed, long enough ago, as its fourth message reached Slack
    stub.fail_next("chat.postMessage", status=DROP, after=3)
    digest = failed_post(database, gateway, round_id, "cut-short",
                         clock() - STALE_DIGEST_CLAIM - timedelta(minutes=1))
    assert digest_parts(stub, digest.id) == [0, 1, 2, 3]
    stub.fail_next("conversations.history", retry_after=HISTORY_WAIT)
    stub.fail_next("conversations.replies", retry_after=REPLIES_WAIT)
    held = gateway.pause.clock = StillThenRunning()  # Retry-After passes as the test says
    scheduler = Scheduler(jobs.JobContext(database, {"slack": gateway}, clock, "UTC"),
                          sweep_seconds=0.5, holder="sweeper")
    scheduler.tick()
    try:
        wait_for(lambda: any(c.status == 429 for c in stub.calls_to(
            "conversations.history", ok_only=False)), "the digest's history read to be refused")
        passed[0] = timedelta(hours=1, minutes=1)  # the other round's closing time passes
        # while the digest's reads are still refused: nothing waits for one
        wait_for(lambda: round_status(database, closing) == "closed", "the round to close",
                 timeout=HISTORY_WAIT / 2)
        assert state(database, digest.id)[0] == "claimed"
        held.run_on(HISTORY_WAIT + 1)  # Slack allows the reads again
        wait_for(lambda: state(database, digest.id)[0] == "posted",
                 "the unfinished digest to be finished", timeout=60)
    finally:
        scheduler.stop()
    questions = len(seed_pack().prompts)
    assert sorted(digest_parts(stub, digest.id)) == list(range(questions + 1))  # each once
    top = digest_posts(stub, digest.id)
    assert len(stub.threads[("CLEADS", top[0])]) == questions
    assert state(database, digest.id) == ("posted", top[0])


def round_status(database: Database, round_id: int) -> str:
    with database.sessions() as session:
        return session.get_one(Round, round_id).status
