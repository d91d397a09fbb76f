"""Teams' "Reply" in a chat quotes the message replied to. The quote is not the person's
words: only what they wrote is kept, and it answers the question they replied to (its card,
or their own earlier answer to it), not the one waiting. Each way Teams has carried a quote
is sent: a blockquote in the HTML text, the quote's words run together before the plain text
(the blockquote in an HTML attachment), and a quotedReply entity with its mark."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import BotMessage, Reply
from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import Person, card_text

FORMS = ["html", "run-together", "entity"]
FIRST = "Peer support from the PCN lead."
MORE = "And a named lead in each PCN."


def _answered_first(running: RunningTeams, tenant: Tenant) -> tuple[Person, str, str]:
    """Question 1 answered in the chat, question 2 waiting: who, the card of question 1,
    and the answer's message."""
    start_from_channel(running, tenant)
    person = tenant.members[0]
    card = question(running, person, 1)
    answer, _ = running.teams.chat(person, FIRST)
    question(running, person, 2)
    assert card.activity_id is not None
    return person, card.activity_id, answer


def _kept(running: RunningTeams) -> list[tuple[str, str]]:
    return sorted((r.prompt_id, r.text or "") for r in running.replies()
                  if isinstance(r, Reply))


@pytest.mark.parametrize("form", FORMS)
def test_a_reply_quoting_a_question_answers_that_question_in_the_persons_words_alone(
        running_teams: RunningTeams, tenant: Tenant, form: str) -> None:
    running = running_teams
    person, card, _ = _answered_first(running, tenant)
    _, response = running.teams.reply_quoting(person, card, ("Roundtable", "Question 1 of 6"),
                                              MORE, form)
    assert response.status == 200
    running.wait_for(lambda: len(running.replies()) == 2, "the reply, saved")
    assert _kept(running) == sorted([("done-well", FIRST), ("done-well", MORE)])
    told = running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(person)
                                     if MORE in card_text(c)], "its confirmation")
    assert "question 1" in told[0], told


@pytest.mark.parametrize("form", FORMS)
def test_a_reply_quoting_ones_own_answer_adds_to_it(running_teams: RunningTeams,
                                                     tenant: Tenant, form: str) -> None:
    running = running_teams
    person, _, answer = _answered_first(running, tenant)
    running.teams.reply_quoting(person, answer, (person.name, FIRST), MORE, form)
    running.wait_for(lambda: len(running.replies()) == 2, "the reply, saved")
    assert _kept(running) == sorted([("done-well", FIRST), ("done-well", MORE)])


def test_a_reply_quoting_the_confirmation_of_an_answer_adds_to_it(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    person, _, _ = _answered_first(running, tenant)
    confirmation = running.wait_for(lambda: next((c for c in running.stub.sent_to(person)
                                                  if FIRST in card_text(c)), None),
                                    "the confirmation")
    assert confirmation.activity_id is not None
    # written down milliseconds after it is posted: a quote of it before then goes to the
    # question waiting, as a message quoting none would
    running.wait_for(lambda: confirmation.activity_id in running.scalars(
        select(BotMessage.message_id)), "where it landed, written down")
    running.teams.reply_quoting(person, confirmation.activity_id,
                                ("Roundtable", "Saved as your answer to question 1"), MORE,
                                "entity")
    running.wait_for(lambda: len(running.replies()) == 2, "the reply, saved")
    assert _kept(running) == sorted([("done-well", FIRST), ("done-well", MORE)])


def test_a_reply_quoting_a_message_the_bot_does_not_know_answers_the_question_waiting(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A quote of another message (a notice, the welcome): the words alone, kept as any
    message written in the chat, for the question waiting."""
    running = running_teams
    person, _, _ = _answered_first(running, tenant)
    running.teams.reply_quoting(person, "1:elsewhere", ("Roundtable", "Welcome"), MORE, "html")
    running.wait_for(lambda: len(running.replies()) == 2, "the reply, saved")
    assert _kept(running) == sorted([("done-well", FIRST), ("bought-in", MORE)])
