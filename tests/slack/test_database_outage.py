"""Issue 10, acceptance 3: answers sent while PostgreSQL is down for longer than Slack keeps
retrying are all stored, once each, when it is back.

The bot runs on a PostgreSQL server of this test's own (tests/pg_cluster.py), which is stopped
for real. Slack is played by tests/slack_events.py with its retry schedule scaled down. The
server stays down until Slack has finished with every event (acknowledged, or given up on
after its last retry), and for at least twice Slack's retry delays in all, so the outage is
longer than Slack's retry window also when the bot acknowledges every answer at once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import pytest
from sqlalchemy import select

from storage.database import connect
from storage.db import make_engine
from storage.models import BotMessage, OwedConfirmation, Participant, Reply
from tests.pg_cluster import PrivatePostgres
from tests.slack.conftest import MEMBERS, SECRET, Running, run_bot
from tests.slack.test_round_loop import asked, sent_to_everyone, start_round
from tests.slack_api_stub import Call, SlackStub
from tests.slack_events import EventDeliverer

# On both databases: how each locks and fails is tested here (the database going down).
pytestmark = pytest.mark.each_database

ANSWERS = 50
RETRY_DELAYS = (0.1, 0.5, 1.0)
"""Slack's schedule (at once, after 1 minute, after 5 minutes), scaled down."""
OUTAGE_AT_LEAST = 2 * sum(RETRY_DELAYS)
"""The shortest outage, in seconds: longer than Slack takes to give up on a refused event."""
BACK_DEADLINE = 20.0
"""How long the bot has, once the database is back, to store every answer (and leave nothing
waiting in its inbox)."""
SAVED = "Saved as your answer"
POLL = 0.2
"""Seconds between looks at the database while waiting (each look is two queries; the bot
shares this process's CPU)."""


def stored_answers(running: Running) -> list[tuple[str, str, str | None]]:
    """(user, text, external id) of every stored answer."""
    with running.database.sessions() as session:
        return [(user, text or "", external_id) for user, text, external_id in session.execute(
            select(Participant.platform_user_id, Reply.text, Reply.external_id)
            .join(Participant, Participant.id == Reply.participant_id)
            .where(Reply.deleted_at.is_(None)).order_by(Reply.id))]


def test_answers_sent_during_an_outage_longer_than_slacks_retries_are_each_stored_once(
        private_postgres: PrivatePostgres, stub: SlackStub) -> None:
    pg = private_postgres
    engine = make_engine(pg.url)
    database = connect(engine)
    try:
        with run_bot(database, pg.url, stub) as running:
            start_round(running)
            sent_to_everyone(running)
            for user in MEMBERS:  # a plain DM then answers the question waiting
                asked(running, user, "done-well")
            sent = [(MEMBERS[i % len(MEMBERS)], f"Answer {i:02d}: protected time, week {i}")
                    for i in range(ANSWERS)]
            url = f"http://127.0.0.1:{running.slack.port}/slack/events"
            with EventDeliverer(url, SECRET, retry_delays=RETRY_DELAYS) as slack:
                with pg.down("immediate"):
                    outage = time.monotonic()
                    for user, text in sent:
                        slack.dm(user, text)
                    slack.wait_idle(timeout=slack.retry_window + 30)
                    # the scenario's length, not a wait for the bot: the database stays down
                    time.sleep(max(0.0, outage + OUTAGE_AT_LEAST - time.monotonic()))
                    assert not pg.accepts_connections(), "the outage ended early"
                    outage = time.monotonic() - outage
                during = slack.summary()
                back = time.monotonic()
                stored = stored_answers(running)
                while (len(stored) < ANSWERS or running.waiting_events()) and (
                        time.monotonic() < back + BACK_DEADLINE):
                    time.sleep(POLL)
                    stored = stored_answers(running)
                waited = time.monotonic() - back

            texts = Counter((user, text) for user, text, _ in stored)
            missing = [a for a in sent if texts[a] == 0]
            twice = {a: n for a, n in texts.items() if n > 1}
            report = (f"PostgreSQL was down {outage:.1f} s (Slack's retries: after "
                      f"{'/'.join(f'{d:g}' for d in RETRY_DELAYS)} s, then it gives up). "
                      f"During the outage Slack saw: {during}. "
                      f"{waited:.1f} s after it came back, {ANSWERS - len(missing)} of "
                      f"{ANSWERS} answers were stored, {len(twice)} more than once")
            assert not missing and not twice, report
            assert all(n == 1 for n in Counter(ext for *_, ext in stored).values()), report
            assert sorted((u, t) for u, t, _ in stored) == sorted(sent), report
    finally:
        if database.inbox is not None:
            database.inbox.kw["bind"].dispose()
        engine.dispose()


def test_a_confirmation_posted_while_the_database_is_down_is_recorded_once_it_is_back(
    private_postgres: PrivatePostgres, stub: SlackStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Where it landed is kept (forget-me replaces it) and it is owed no more, so a restart
    does not post it again."""
    pg = private_postgres
    engine = make_engine(pg.url)
    database = connect(engine)
    user = MEMBERS[0]

    def confirmations() -> list[Call]:
        return [c for c in stub.posted("D" + user) if SAVED in str(c.params.get("text"))]

    def not_recorded() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("could not record")]

    try:
        with run_bot(database, pg.url, stub) as running:
            start_round(running)
            sent_to_everyone(running)
            stub.hold("chat.postMessage", lambda params: SAVED in str(params.get("text")))
            running.slack.dm(user, "Protected time", thread_ts=asked(running, user, "done-well"))
            running.wait_for(lambda: stub.held, "the confirmation on its way")
            with caplog.at_level(logging.WARNING), pg.down("immediate"):
                stub.release()
                running.wait_for(confirmations, "the confirmation posted")
                running.wait_for(not_recorded, "the bot to try to record it")
            [posted] = confirmations()
            running.wait_for(
                lambda: not running.scalars(select(OwedConfirmation))
                and running.scalars(
                    select(BotMessage).where(BotMessage.message_id == posted.answer["ts"])
                ),
                "the confirmation recorded, owed no more",
            )
    finally:
        if database.inbox is not None:
            database.inbox.kw["bind"].dispose()
        engine.dispose()
