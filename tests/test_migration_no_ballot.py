"""Migration 0023 on answers written before it (both backends): a comment on a vote's
question that was edited had JSON null for a ballot, which counted it as a vote; after the
migration the question waits for a vote again."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, text

from bot.core.people import Person, upsert_participant
from bot.core.replies import record_reply
from bot.core.rounds import RoundRequest, start_round
from storage.database import Database
from storage.db import transaction
from storage.models import Reply
from storage.queries import is_an_answer
from tests.conftest import NOW
from tests.helpers import seed_pack

BEFORE = "0022"


def test_an_edited_comment_on_a_vote_s_question_stored_before_is_not_a_vote_after(
        database: Database, to: Callable[[str], None]) -> None:
    pack = seed_pack()
    vote = next(p for p in pack.prompts if p.kind != "text")
    words = next(p for p in pack.prompts if p.kind == "text")
    with transaction(database.sessions) as session:
        round_id = start_round(session, RoundRequest(pack, [], platform="slack"), NOW).id
        amara = upsert_participant(session, Person("UAMARA", "Amara"), NOW, "slack")
        record_reply(session, round_id, words.id, amara, "They all matter to me", NOW)
    to(BEFORE)
    with database.engine.begin() as connection:  # a comment, as an edit stored it before 0023
        connection.execute(text("UPDATE replies SET prompt_id = :vote, choices = 'null'"),
                           {"vote": vote.id})

    def answers() -> int:
        with database.sessions() as session:
            return session.scalar(select(func.count()).select_from(Reply).where(
                is_an_answer({round_id: {vote.id}}))) or 0

    assert answers() == 1  # what the bug counted: a comment taken for a vote
    to("head")
    assert answers() == 0
    with database.sessions() as session:
        assert session.scalars(select(Reply.text)).all() == ["They all matter to me"]
