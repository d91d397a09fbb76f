"""A serving process either works or says it does not: what kills a loop is logged and the
loop comes back, /healthz answering 503 meanwhile; follow-ups of a batch cannot crash it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app.health import health
from bot.app.roundtable import assemble
from bot.config import load_settings
from storage.database import Database
from storage.models import Lease
from tests.slack.conftest import MEMBERS, Running, run_bot
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round
from tests.slack_api_stub import SlackStub


def confirmed(running: Running, user: str, text: str) -> bool:
    return any(text in str(c.params.get("blocks")) for c in running.stub.posted("D" + user)
               if str(c.params.get("text", "")).startswith(("Saved", "Added")))


def test_a_thread_reply_and_a_message_of_one_conversation_in_one_batch_are_both_confirmed(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    thread = question_ts(running, user, "done-well")
    running.bot.inbox.stop()  # what comes now waits (in the spool) and is handled as one batch
    assert running.slack.dm(user, "Mutual aid in the oxygen crisis", thread_ts=thread)[1].status \
        == 200
    assert running.slack.dm(user, "And the vaccine hubs")[1].status == 200
    running.bot.inbox.start()
    running.wait_for(lambda: len(running.replies()) == 2, "both answers")
    running.wait_for(lambda: confirmed(running, user, "Mutual aid in the oxygen crisis")
                     and confirmed(running, user, "And the vaccine hubs"), "both confirmations")

    running.slack.dm(user, "A pharmacist on the ICS board")  # and the bot still takes answers
    running.wait_for(lambda: len(running.replies()) == 3, "the third answer")
    running.wait_for(lambda: confirmed(running, user, "A pharmacist on the ICS board"),
                     "its confirmation")
    health = running.slack.get("/healthz")
    assert health.status == 200
    assert set(health.json()["loops"].values()) == {"running"}


def test_a_loop_that_fails_comes_back_and_health_says_503_until_it_does(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    # the answers' handler fails its first two passes (ROUNDTABLE_FAULTS, a setting for
    # drills like this one): it is started again after 1 and then 2 seconds
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path),
                 ROUNDTABLE_FAULTS="inbox-handle:2") as running:
        failing = running.wait_for(lambda: (h := running.slack.get("/healthz")).status == 503
                                   and h.json(), "/healthz to say the handler fails")
        assert failing["loops"]["inbox-handle"].startswith("failing since")
        assert "fault injected" in failing["loops"]["inbox-handle"]
        start_round(running)  # a facilitator's command works meanwhile
        sent_to_everyone(running)
        user = MEMBERS[1]
        _, taken = running.slack.dm(user, "Protected time for leadership")
        assert taken.status == 200  # stored: the handler failing does not stop answers
        assert running.slack.get("/healthz").status == 503  # (it was failing still)
        running.wait_for(lambda: running.slack.get("/healthz").status == 200,
                         "the handler to come back")
        running.wait_for(lambda: [r.text for r in running.replies()]
                         == ["Protected time for leadership"], "the answer to be handled")
        running.wait_for(lambda: confirmed(running, user, "Protected time for leadership"),
                         "its confirmation")
        assert running.bot.inbox.loops[-1].crashes == 2


def test_a_stopped_process_leaves_no_lease_rows_behind(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    for _ in range(3):  # three starts of the process
        with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path)):
            with database.sessions() as session:
                assert session.scalars(select(Lease.name).where(
                    Lease.name.startswith("worker:"))).all()
    with database.sessions() as session:
        assert session.scalars(select(Lease.name)).all() == []


def test_a_process_whose_loops_have_not_started_is_not_healthy(
        database: Database, database_url: str, tmp_path: Path) -> None:
    """Between taking its port and starting its loops a process answers /healthz, and it
    handles and sends nothing yet: not healthy, until its loops run."""
    app = assemble(load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path)),
                   database, [])
    report = health(app)
    assert report.ok is False and report.as_json()["loops"] == {}
    app.start()
    try:
        report = health(app)
        assert report.ok is True, report.as_json()
        assert {"inbox-handle", "outbox", "leases"} <= set(report.as_json()["loops"])
    finally:
        app.stop()
