"""Answers go through the inbox: Slack hears "received" only once an answer is on disk, and
what people write is handled in the order they wrote it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.database import Database
from storage.db import transaction
from storage.models import BotMessage, InboxEvent, OwedConfirmation, Reply
from tests.slack.conftest import FACILITATOR, MEMBERS, Running, run_bot
from tests.slack.test_round_loop import asked, said_to, sent_to_everyone, start_round
from tests.slack_api_stub import SlackStub
from tests.slack_reading import as_read

# On both databases: how each locks and fails is tested here (the inbox's claims of events).
pytestmark = pytest.mark.each_database


def test_an_answer_edited_at_once_keeps_the_edit_and_the_next_answers_the_next_question(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    ts, first = running.slack.dm(user, "Protectd time")
    edit = {"type": "message", "subtype": "message_changed", "channel": "D" + user,
            "channel_type": "im", "hidden": True, "ts": "1900009999.000100",
            "message": {"type": "message", "user": user, "text": "Protected time", "ts": ts}}
    second = running.slack.event(edit)
    asked(running, user, "bought-in")  # the answer brought the next question
    said = [c.params["text"] for c in running.stub.posted("D" + user)]
    assert said[1].startswith("Saved") and "Question 2 of 6" in said[2]  # in that order
    _, third = running.slack.dm(user, "A pharmacist on the board")
    assert (first.status, second.status, third.status) == (200, 200, 200)
    running.wait_for(lambda: len(running.replies()) == 2, "both answers")
    answers = sorted(running.replies(), key=lambda r: r.id)
    assert [(r.prompt_id, r.text) for r in answers] == [
        ("done-well", "Protected time"), ("bought-in", "A pharmacist on the board")]


def test_an_answer_that_cannot_be_stored_now_is_kept_in_the_spool_and_stored_once_later(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    running.bot.inbox.stop()  # nothing can be stored in the inbox now
    _, kept = running.slack.dm(MEMBERS[1], "Clear purpose", event_id="EvLater")
    assert kept.status == 200  # on disk, in the spool: Slack need not send it again
    assert running.waiting_events() == [] and running.replies() == []
    assert running.bot.spool is not None and running.bot.spool.waiting() == 1
    health = running.slack.get("/healthz").json()
    assert health["spool"]["events"] == 1
    running.slack.command(FACILITATOR, "status")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "1 incoming message kept in the spool" in c.params["text"]],
                     "status to say what waits in the spool")

    running.bot.inbox.start()  # replays the spool
    _, retried = running.slack.dm(MEMBERS[1], "Clear purpose", event_id="EvLater", retry=1)
    assert retried.status == 200
    running.wait_for(lambda: running.replies(), "the spooled answer")
    running.wait_for(lambda: said_to(running, MEMBERS[1], "Saved"), "its confirmation")
    assert [r.text for r in running.scalars(select(Reply))] == ["Clear purpose"]
    assert running.bot.spool.waiting() == 0


def test_slack_is_told_to_send_again_when_the_answer_can_be_kept_nowhere(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with run_bot(database, database_url, stub,
                 ROUNDTABLE_DATA_DIR=str(tmp_path / "a-file" / "data")) as running:
        start_round(running)
        sent_to_everyone(running)
        running.bot.inbox.stop()
        _, refused = running.slack.dm(MEMBERS[1], "Clear purpose", event_id="EvLater")
        assert refused.status == 503  # not "received": Slack retries
        assert running.slack.get("/healthz").status == 503  # and says it cannot take answers
        assert running.waiting_events() == [] and running.replies() == []

        running.bot.inbox.start()
        _, retried = running.slack.dm(MEMBERS[1], "Clear purpose", event_id="EvLater", retry=1)
        assert retried.status == 200
        running.wait_for(lambda: running.replies(), "the retried answer")
        assert [r.text for r in running.scalars(select(Reply))] == ["Clear purpose"]


def test_a_message_event_missing_what_it_needs_is_ignored_not_kept_failing(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[2]
    odd = [{"type": "message", "channel": "D" + user, "channel_type": "im", "user": user,
            "text": "no ts"},
           {"type": "message", "subtype": "message_changed", "channel": "D" + user,
            "channel_type": "im", "ts": "1900000000.1", "message": "not an object"},
           {"type": "message", "subtype": "message_deleted", "channel": "D" + user,
            "channel_type": "im", "ts": "1900000000.2"},
           {"type": "message", "channel": "D" + user, "channel_type": "im", "user": user,
            "ts": "1900000000.3", "text": ["not", "text"]}]
    # incomplete ones are ignored; ones whose fields are of the wrong type are refused (400)
    assert [running.slack.event(e).status for e in odd] == [200, 400, 200, 400]
    _, fine = running.slack.dm(user, "A real answer")
    assert fine.status == 200
    running.wait_for(lambda: running.replies(), "the real answer")
    assert [r.text for r in running.replies()] == ["A real answer"]
    # nothing stuck, nothing set aside (the inbox row goes just after the answer is saved)
    running.wait_for(lambda: running.waiting_events() == [], "the inbox to be empty")


def test_answers_that_arrive_together_are_confirmed_in_one_message(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[3]
    _burst(running, user)
    said = running.wait_for(lambda: said_to(running, user, "Saved"), "a confirmation")
    asked(running, user, "bought-in")  # the next question follows
    # the next question follows the confirmation; none waits to be posted after it
    running.wait_for(lambda: running.bot.confirmations.queued() == [], "nothing more to confirm")
    assert len(said_to(running, user, "Saved")) == 1
    # all three came before the next question was asked: they answer the first
    assert said[0] == "Saved 3 messages as your answer to question 1."
    assert {r.prompt_id for r in running.replies()} == {"done-well"}
    confirmation = next(c for c in running.stub.posted("D" + user)
                        if c.params["text"] == said[0])
    assert all(t in json.dumps(confirmation.params["blocks"])
               for t in ("Covid jabs", "The ICS board", "Trainee leads"))


BURST = ["Covid jabs", "The ICS board", "Trainee leads"]


def _burst(running: Running, user: str) -> list[str]:
    """Three answers land together, while the handler is busy (stored, not handled), and are
    handled at once: their timestamps, in order."""
    running.bot.inbox.stop()
    stamps = [f"1900001000.{n:06d}" for n in range(len(BURST))]
    with transaction(running.database.inbox_sessions) as session:
        for n, (text, ts) in enumerate(zip(BURST, stamps, strict=True)):
            session.add(InboxEvent(
                platform="slack", event_id=f"EvBurst{n}", received_at=datetime.now(UTC),
                payload=json.dumps({"type": "message", "channel": "D" + user,
                                    "channel_type": "im", "user": user, "text": text,
                                    "ts": ts, "event_ts": ts})))
    running.bot.inbox.start()
    running.wait_for(lambda: len(running.replies()) == 3, "the three answers")
    return stamps


def test_deleting_one_of_answers_confirmed_together_takes_its_words_off_the_confirmation(
        running: Running) -> None:
    """The one message confirming answers that arrived together repeats each of them: once
    one is deleted, it no longer shows those words, and says the others stay saved."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[3]
    stamps = _burst(running, user)
    said = running.wait_for(lambda: said_to(running, user, "Saved"), "a confirmation")
    confirmation = next(c for c in running.stub.posted("D" + user)
                        if c.params["text"] == said[0])
    assert "The ICS board" in json.dumps(confirmation.params["blocks"])
    running.wait_for(lambda: running.scalars(select(BotMessage)), "the confirmation kept")
    running.slack.event({"type": "message", "subtype": "message_deleted", "channel": "D" + user,
                         "channel_type": "im", "ts": "1900002000.000001", "hidden": True,
                         "deleted_ts": stamps[1],
                         "previous_message": {"user": user, "ts": stamps[1]}})

    def shown() -> str:
        now = running.stub.message("D" + user, confirmation.answer["ts"])
        return "" if now is None or now["text"] == said[0] else as_read(now["blocks"])

    assert running.wait_for(shown, "the confirmation, changed") == (
        "You deleted these words from your answer to question 1, and they are deleted here "
        "too. The rest of your answer stays.\n"
        "The other answers this message confirmed are still saved.")
    assert not any("The ICS board" in json.dumps(c.params)
                   for c in running.stub.calls_to("chat.update"))



def test_a_confirmation_of_several_kept_before_it_named_them_is_left_as_it_was(
        running: Running) -> None:
    """A confirmation of answers that arrived together, kept before confirmations named the
    answers they repeat: deleting one of them leaves it as it was (forget-me still takes it
    down)."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[3]
    stamps = _burst(running, user)
    running.wait_for(lambda: running.scalars(select(BotMessage)), "the confirmation kept")
    with transaction(running.database.sessions) as session:
        session.execute(update(BotMessage).values(answers=None))
    running.slack.event({"type": "message", "subtype": "message_deleted", "channel": "D" + user,
                         "channel_type": "im", "ts": "1900002000.000001", "hidden": True,
                         "deleted_ts": stamps[1],
                         "previous_message": {"user": user, "ts": stamps[1]}})
    running.wait_for(lambda: [r for r in running.replies() if r.deleted_at is not None]
                     and not running.scalars(select(OwedConfirmation)), "the deletion, taken")
    assert not running.stub.calls_to("chat.update")


def test_answers_written_in_a_burst_are_confirmed_together_not_one_message_each(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    running.bot.confirmations.clock = lambda: 0.0  # the second the first confirmation went out
    user = MEMBERS[3]
    texts = ["Protected time", "A pharmacist on the board", "Shared data"]
    for text in texts:
        assert running.slack.dm(user, text)[1].status == 200
    running.wait_for(lambda: len(running.replies()) == 3, "the three answers")

    def confirmations() -> list[str]:
        return [str(c.params) for c in running.stub.posted("D" + user)
                if any(t in str(c.params) for t in texts)]

    running.wait_for(confirmations, "the first confirmation, at once")
    running.wait_for(lambda: all(any(t in m for m in confirmations())
                                 or any(s.answer == t for s in running.bot.confirmations.queued())
                                 for t in texts), "the others to wait for the next second")
    running.bot.confirmations.stop()  # what waits for the next second is posted now
    said = running.wait_for(lambda: all(any(t in m for m in confirmations()) for t in texts)
                            and confirmations(), "every answer confirmed")
    assert len(said) <= 2
