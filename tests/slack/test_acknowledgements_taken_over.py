"""Every acknowledgement a person is owed survives the process that owed it: an edit's
"Updated", a deletion's "You deleted", a notice, a greeting's reply. A process killed right
after it committed a change leaves them owed, claimed by a lease that lapsed; the next
process to look posts them, saying what stands then. A process alive posts each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.app import facilitation, participants
from bot.app.actors import OPERATOR, Actor
from bot.app.confirmations import Confirmations
from bot.app.conversations import Conversations
from bot.app.personal_data import forget
from bot.core import audit
from bot.core.bot_messages import OFFER
from bot.core.inbox import Received
from bot.core.incoming import Deleted, Edited, Incoming, Written, to_payload
from bot.core.retention import apply_retention
from storage import leases
from storage.db import transaction
from storage.models import BotMessage, Delivery, OwedConfirmation, Round
from tests.conftest import NOW
from tests.slack.conftest import MEMBERS, Running, application
from tests.slack.test_answers import _at_the_ranking_question
from tests.slack.test_confirmations_after_a_crash import delete, edit
from tests.slack.test_round_loop import sent_to_everyone, start_round
from tests.slack_api_stub import Call

# On both databases: how each locks and fails is tested here (work taken over).
pytestmark = pytest.mark.each_database

USER = MEMBERS[0]
DM = "D" + USER
GONE = "a-process-killed-since"


def answered(running: Running, words: str) -> str:
    """The round started, the user's answer in their conversation, confirmed (and where the
    confirmation landed recorded); the answer's message id."""
    start_round(running)
    sent_to_everyone(running)
    ts, response = running.slack.dm(USER, words)
    assert response.status == 200
    running.wait_for(lambda: saved(running), "the answer's confirmation")
    running.wait_for(lambda: not owed(running), "the confirmation recorded")
    return ts


def saved(running: Running) -> list[Call]:
    return [c for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith("Saved as your answer")]


def updates(running: Running) -> list[str]:
    """What each change of a message in the user's conversation made it say."""
    return [f"{c.params.get('text')} {c.params.get('blocks')}"
            for c in running.stub.calls_to("chat.update") if c.params.get("channel") == DM]


def owed(running: Running) -> list[OwedConfirmation]:
    return running.scalars(select(OwedConfirmation))


def handled_by_a_process_killed_then(running: Running, *events: Incoming) -> None:
    """The events handled and committed by another process, which died before it said
    anything: its lease lapsed long ago."""
    killed = Conversations(running.bot.clock, Confirmations({}), worker=GONE)
    with transaction(running.database.sessions) as session:
        killed(session, [Received(n, "slack", f"gone-{n}", to_payload(event))
                         for n, event in enumerate(events, 1)])
    assert leases.acquire(running.database.sessions, GONE, NOW - timedelta(hours=1),
                          timedelta(minutes=1), name=leases.worker_lease(GONE))


def test_it_says_an_answer_was_updated_when_the_process_that_saved_the_edit_died(
        running: Running) -> None:
    ts = answered(running, "Protected time for leadership")
    handled_by_a_process_killed_then(
        running, Edited(DM, USER, ts, "Protected time, and a coach"))
    assert not updates(running)

    running.bot.take_over_owed()

    running.wait_for(lambda: updates(running), "the confirmation changed to say so")
    [update] = updates(running)
    assert "Updated as your answer to question 1" in update
    assert "Protected time, and a coach" in update
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    running.bot.take_over_owed()
    assert len(updates(running)) == 1 and len(saved(running)) == 1


def test_it_says_an_answer_was_deleted_and_not_its_edit_when_the_process_that_did_both_died(
        running: Running) -> None:
    ts = answered(running, "Protected time for leadership")
    handled_by_a_process_killed_then(
        running, Edited(DM, USER, ts, "Protected time, and a coach"), Deleted(DM, USER, ts))

    running.bot.take_over_owed()

    running.wait_for(lambda: updates(running), "the confirmation changed to say so")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    [update] = updates(running)
    assert "You deleted your answer to question 1" in update
    assert "Protected time" not in update


def test_a_comment_s_deletion_taken_over_is_said_in_place_of_its_notice(
        running: Running) -> None:
    """The notice that kept words as a comment on a vote's question is its confirmation:
    the process taking over the comment's deletion says it there, not in a new message."""
    thread = _at_the_ranking_question(running, USER)
    ts, response = running.slack.dm(USER, "3, 1", thread_ts=thread)
    assert response.status == 200
    running.wait_for(lambda: [c for c in running.stub.posted(DM)
                              if "as a comment" in str(c.params.get("text"))], "its notice")
    running.wait_for(lambda: not owed(running), "the notice recorded")
    handled_by_a_process_killed_then(running, Deleted(DM, USER, ts))

    running.bot.take_over_owed()

    running.wait_for(lambda: updates(running), "the notice changed to say so")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    [update] = updates(running)
    assert "You deleted your comment on question 6" in update
    assert not [c for c in running.stub.posted(DM) if "You deleted" in str(c.params)]


def test_it_posts_the_replies_a_process_that_died_owed_in_order(running: Running) -> None:
    answered(running, "Protected time for leadership")
    handled_by_a_process_killed_then(
        running, Written(DM, USER, "hello", "1900000100.1"),
        Written(DM, USER, "help", "1900000101.1"))

    running.bot.take_over_owed()

    running.wait_for(lambda: len(replies(running)) >= 2, "both replies")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    greeting, helped = replies(running)
    assert str(greeting.params["text"]).startswith("Hello!")
    assert "Save as my answer" in str(greeting.params["blocks"])  # its button, with the words
    assert str(helped.params["text"]).startswith("Write here to answer the question waiting")


def test_it_confirms_an_answer_before_replying_to_what_followed_it_when_the_process_died(
        running: Running) -> None:
    """An answer, a file sent alone and `help`, handled in one batch by a process that died:
    the process taking over replies in the order they were written."""
    start_round(running)
    sent_to_everyone(running)
    handled_by_a_process_killed_then(
        running, Written(DM, USER, "Protected time for leadership", "1900000100.1"),
        Written(DM, USER, "", "1900000101.1", files=1), Written(DM, USER, "help", "1900000102.1"))

    running.bot.take_over_owed()

    running.wait_for(lambda: replies(running), "the reply to help")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    told = [str(c.params["text"]) for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith(("Saved", "I could not", "Write here"))]
    assert [t[:12] for t in told] == ["Saved as you", "I could not ", "Write here t"], told


def test_it_takes_a_deleted_greeting_s_words_back_when_the_process_that_saw_it_died(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    ts, _ = running.slack.dm(USER, "Good evening, Roundtable!")
    running.wait_for(lambda: running.scalars(select(BotMessage).where(
        BotMessage.kind == OFFER)), "the reply to the greeting, remembered")
    running.wait_for(lambda: not owed(running), "nothing owed")
    handled_by_a_process_killed_then(running, Deleted(DM, USER, ts))

    running.bot.take_over_owed()

    [update] = running.wait_for(lambda: updates(running), "the reply changed")
    assert "You deleted that message; nothing of it was saved." in update
    assert "Good evening" not in update
    running.wait_for(lambda: not owed(running), "nothing owed any more")


def replies(running: Running) -> list[Call]:
    """The bot's replies to a greeting and to `help`."""
    return [c for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith(("Hello!", "Write here"))]


def test_it_confirms_an_edit_once_while_the_process_that_saved_it_lives(
        running: Running) -> None:
    ts = answered(running, "Protected time for leadership")
    edit(running.slack, USER, ts, "Protected time, and a coach")
    running.wait_for(lambda: updates(running), "the confirmation changed to say so")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    delete(running.slack, USER, ts)
    running.wait_for(lambda: len(updates(running)) == 2, "the deletion said")
    running.wait_for(lambda: not owed(running), "nothing owed any more")

    running.bot.take_over_owed()

    updated, deleted = updates(running)
    assert "Updated as your answer to question 1" in updated
    assert "You deleted your answer to question 1" in deleted
    assert len(saved(running)) == 1


def test_it_says_a_question_was_skipped_when_the_process_that_skipped_it_died(
        running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    killed = application(running.bot.settings, running.database, running.bot.clock)
    killed.outbox.worker = GONE  # never started: it dies before it says anything
    participants.skip(killed, Actor("slack", USER), round_id, "done-well")
    assert leases.acquire(running.database.sessions, GONE, NOW - timedelta(hours=1),
                          timedelta(minutes=1), name=leases.worker_lease(GONE))

    running.bot.take_over_owed()

    running.wait_for(lambda: skipped(running), "the notice of the skip")
    running.wait_for(lambda: not owed(running), "nothing owed any more")
    [notice] = skipped(running)
    assert "It stays open" in notice


def skipped(running: Running) -> list[str]:
    return [str(c.params["text"]) for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith("Skipped question 1 for now.")]


HELPED = "Write here to answer the question waiting"
"""How the reply to `help` begins when a question waits: it names that question."""


def test_a_reply_about_a_round_deleted_since_is_not_posted_by_the_process_taking_over(
        running: Running) -> None:
    first = start_round(running)
    sent_to_everyone(running)
    handled_by_a_process_killed_then(running, Written(DM, USER, "help", "1900000101.1"))
    start_round(running)  # the person is in a round that stays
    running.wait_for(lambda: running.scalars(select(Delivery.state)) == ["sent"] * 2
                     * len(MEMBERS), "the second round's first question")
    facilitation.delete(running.bot, OPERATOR, first)

    running.bot.take_over_owed()

    # a greeting now, in the round that stays: answered after anything the takeover posts
    assert running.slack.dm(USER, "hello")[1].status == 200
    running.wait_for(lambda: greeted(running), "the reply to the greeting")
    assert helped(running) == []


def test_a_reply_owed_to_someone_forgotten_since_is_not_posted(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    handled_by_a_process_killed_then(running, Written(DM, USER, "help", "1900000101.1"))
    forget(running.bot, OPERATOR, "slack", USER)
    assert owed(running) == []


def test_replies_owed_about_a_round_whose_answers_retention_deleted_are_not_posted(
        running: Running) -> None:
    first = start_round(running)
    sent_to_everyone(running)
    handled_by_a_process_killed_then(
        running, Written(DM, USER, "help", "1900000101.1"),
        Written(DM, USER, "Good evening, Roundtable!", "1900000102.1"))
    start_round(running)  # the person is in a round that stays
    running.wait_for(lambda: running.scalars(select(Delivery.state)) == ["sent"] * 2
                     * len(MEMBERS), "the second round's first question")
    with transaction(running.database.sessions) as session:  # closed past the period
        session.execute(update(Round).where(Round.id == first).values(
            status="closed", closed_at=running.bot.clock() - timedelta(days=400)))
    done = apply_retention(running.database, running.bot.clock(), 365, audit.OPERATOR,
                           running.bot.gateways)
    assert done.rounds == [first]
    assert owed(running) == []  # nor the greeting's words, which its reply's button held


def helped(running: Running) -> list[str]:
    return [str(c.params["text"]) for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith(HELPED)]


def greeted(running: Running) -> list[str]:
    return [str(c.params["text"]) for c in running.stub.posted(DM)
            if str(c.params.get("text")).startswith("Hello!")]
