"""Questions are asked one at a time: the next follows an answer or a skip, never twice, and
never to someone who still has a question waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.answers import ChatMessage, answer_from_chat, answer_in_form, asked_of, skip
from bot.core.errors import RoundtableError
from bot.core.people import Person
from bot.core.ports import Question, Sent
from bot.core.rounds import RoundRequest, close_round, start_round
from bot.core.sending import send_due
from storage.database import Database
from storage.db import transaction
from storage.models import Delivery, QuestionMessage, Reply
from tests.conftest import NOW
from tests.fakes import Transcript
from tests.helpers import seed_pack

LONDON = "Europe/London"
USER, CHANNEL = "UAMARA", "DUAMARA"


class Conversation:
    """One person's round, driven through the core as the Slack adapter drives it."""

    def __init__(self, database: Database, now: datetime = NOW) -> None:
        self.database = database
        self.gateway = Transcript()
        self.now = now
        self.said = 0
        with transaction(database.sessions) as session:
            self.round_id = start_round(session, RoundRequest(
                seed_pack(), [Person(USER, "Amara", timezone=LONDON)], platform="slack"), now).id

    def send(self) -> list[str]:
        """Run the outbox once; the questions it sent, by prompt id."""
        before = len(self.gateway.sent)
        send_due(self.database.sessions, {"slack": self.gateway}, lambda: self.now, LONDON)
        return [what for _, what in self.gateway.sent[before:]]

    def write(self, text: str, thread: str | None = None) -> str:
        """A message in the conversation; the prompt it was filed under."""
        self.said += 1
        thread_ts = None
        if thread is not None:
            with self.database.sessions() as session:
                thread_ts = session.scalars(select(QuestionMessage.message_id).where(
                    QuestionMessage.prompt_id == thread)).one()
        with transaction(self.database.sessions) as session:
            answer, = answer_from_chat(session, [ChatMessage(
                CHANNEL, USER, text, f"{CHANNEL}:{self.said}", thread_ts)], self.now, "slack")
        assert answer.asked is not None and answer.created
        return answer.asked.prompt.id

    def skip(self, prompt_id: str) -> bool:
        with transaction(self.database.sessions) as session:
            return skip(session, self.round_id, prompt_id, USER, self.now, "slack")[1]

    def answer_by_form(self, prompt_id: str, text: str | list[str]) -> int:
        """The answer form, as from the Home tab; how many questions it queued."""
        with transaction(self.database.sessions) as session:
            asked = asked_of(session, self.round_id, prompt_id, USER, "slack")
            return answer_in_form(session, asked, text, self.now, f"view:{prompt_id}").queued


def test_the_first_message_asks_one_question_and_each_answer_brings_the_next(
        database: Database) -> None:
    talk = Conversation(database)
    assert talk.send() == ["done-well"]
    assert talk.send() == []  # nothing more until they answer
    assert talk.write("The vaccine rollout") == "done-well"
    assert talk.send() == ["bought-in"]
    assert talk.write("Practice managers") == "bought-in"
    assert talk.send() == ["future-leaders"]
    assert talk.gateway.to(CHANNEL) == ["done-well", "bought-in", "future-leaders"]


def test_words_sent_before_the_next_question_arrives_join_the_answer_before(
        database: Database) -> None:
    talk = Conversation(database)
    talk.send()
    assert talk.write("Care homes, because") == "done-well"
    assert talk.write("we met every week.") == "done-well"
    assert talk.send() == ["bought-in"]  # asked once, not once per message
    assert talk.write("The LPC") == "bought-in"


def test_a_skipped_question_brings_the_next_and_stays_answerable_in_its_thread(
        database: Database) -> None:
    talk = Conversation(database)
    talk.send()
    assert talk.skip("done-well") is True
    assert talk.send() == ["bought-in"]
    assert talk.write("Commissioners") == "bought-in"  # not the skipped one
    assert talk.send() == ["future-leaders"]
    assert talk.write("Our vaccine work", thread="done-well") == "done-well"
    assert talk.send() == []  # future-leaders is still waiting
    with pytest.raises(RoundtableError, match="answered already"):
        talk.skip("done-well")


def test_answering_ahead_in_a_form_does_not_send_a_question_while_one_waits(
        database: Database) -> None:
    talk = Conversation(database)
    talk.send()
    assert talk.answer_by_form("bought-in", "The ICS board") == 0
    assert talk.send() == []
    talk.write("Flu season")
    assert talk.send() == ["future-leaders"]  # bought-in was answered already


def test_the_next_question_goes_at_night_only_straight_after_an_answer(
        database: Database) -> None:
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=NOW.tzinfo)  # 20:00 in London
    talk = Conversation(database)
    talk.send()
    talk.now = evening
    talk.write("Late shift thoughts")
    assert talk.send() == ["bought-in"]  # they are writing to us now
    talk.write("The LMC")
    talk.now = evening + timedelta(minutes=45)  # the outbox was down meanwhile
    assert talk.send() == []
    with database.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.not_before is not None and delivery.not_before.hour == 8
    talk.now = delivery.not_before
    assert talk.send() == ["future-leaders"]


def test_nothing_more_is_asked_once_a_round_closes(database: Database) -> None:
    talk = Conversation(database)
    talk.send()
    talk.write("Shared aims")
    with transaction(database.sessions) as session:
        close_round(session, talk.round_id, NOW)
    assert talk.send() == []
    with database.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.next_prompt_id) == ("sent", None)  # not a failure
    with pytest.raises(RoundtableError), transaction(database.sessions) as session:
        skip(session, talk.round_id, "done-well", USER, NOW, "slack")


def test_the_last_question_brings_nothing_after_it(database: Database) -> None:
    talk = Conversation(database)
    prompts = [p.id for p in seed_pack().prompts]
    talk.send()
    for prompt_id in prompts[:-1]:
        talk.write(f"About {prompt_id}")
        assert talk.send() == [prompts[prompts.index(prompt_id) + 1]]
    assert talk.answer_by_form(prompts[-1], seed_pack().prompts[-1].options[:5]) == 0
    assert talk.send() == []
    with database.sessions() as session:
        assert len(session.scalars(select(Reply)).all()) == len(prompts)
        assert len(session.scalars(select(QuestionMessage)).all()) == len(prompts)


def test_a_question_answered_ahead_while_it_waited_is_not_asked(database: Database) -> None:
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=NOW.tzinfo)
    talk = Conversation(database)
    talk.send()
    talk.now = evening
    talk.write("Shared aims")  # queues bought-in, but the outbox is down till morning
    talk.now = evening + timedelta(hours=1)
    assert talk.send() == []
    talk.answer_by_form("bought-in", "The LPC")  # from the Home tab, at night
    talk.now = datetime(2026, 11, 24, 8, 0, tzinfo=NOW.tzinfo)
    assert talk.send() == ["future-leaders"]


def test_an_answer_that_lands_while_its_question_is_sent_still_brings_the_next(
        database: Database) -> None:
    talk = Conversation(database)
    talk.send()
    talk.write("Shared aims")

    class AnswersAsItLands(Transcript):
        def send_question(self, channel_id: str, question: Question) -> Sent:
            sent = super().send_question(channel_id, question)
            talk.answer_by_form(question.prompt.id, "Said at once")  # before it is recorded
            return sent

    talk.gateway = AnswersAsItLands(sent=list(talk.gateway.sent))  # message ids go on
    assert talk.send() == ["bought-in"]
    assert talk.send() == ["future-leaders"]
