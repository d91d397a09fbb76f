"""Migration 0013 on a database imported into before it (both backends):
each round's p14 becomes a person of their own, so forget/export of a label still work and
name a round, answers stored without an id are not stored again by a second import, and going
back makes them one person again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bot.core.imports import IMPORT_PLATFORM, import_replies, one_imported_person
from bot.core.people import Person, upsert_participant
from bot.core.replies import ROOM_SOURCE, record_reply
from bot.core.rounds import RoundRequest, start_round
from storage.database import Database
from storage.db import transaction
from storage.models import Participant, Reply
from tests.conftest import NOW
from tests.helpers import seed_pack
from tests.test_imports import write_csv

BEFORE = "0012"


def _people(database: Database) -> dict[str, tuple[str | None, list[int]]]:
    with database.sessions() as session:
        return {p.platform_user_id: (p.role, sorted(session.scalars(select(Reply.round_id).where(
                    Reply.participant_id == p.id))))
                for p in session.scalars(select(Participant).where(
                    Participant.platform == IMPORT_PLATFORM))}


def test_it_splits_a_label_imported_into_two_rounds(
        database: Database, to: Callable[[str], None], tmp_path: Path) -> None:
    go = to
    with transaction(database.sessions) as session:  # as imports stored them before 0013
        rounds = [start_round(session, RoundRequest(seed_pack(), [], platform=IMPORT_PLATFORM),
                              NOW).id for _ in range(2)]
        p14 = upsert_participant(session, Person("p14", "p14", "community pharmacist"), NOW,
                                 IMPORT_PLATFORM)
        for round_id, text in zip(rounds, ["Vaccine hubs", "The board"], strict=True):
            record_reply(session, round_id, "done-well", p14, text, NOW, source=ROOM_SOURCE)
    go(BEFORE)
    go("head")
    first, second = rounds
    assert _people(database) == {f"p14@round{first}": ("community pharmacist", [first]),
                                 f"p14@round{second}": ("community pharmacist", [second])}
    with database.sessions() as session:
        assert one_imported_person(session, f"p14@round{second}") == f"p14@round{second}"
    # the same row imported again is recognised, though it was stored without an id
    again = write_csv(tmp_path / "again.csv", [
        {"prompt_id": "done-well", "participant": "p14", "text": "Vaccine hubs"}],
        ["prompt_id", "participant", "text"])
    with transaction(database.sessions) as session:
        result = import_replies(session, again, NOW, round_id=first)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 1)

    go(BEFORE)
    assert _people(database) == {"p14": ("community pharmacist", [first, second])}
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reply).where(
            Reply.external_id.is_not(None))) == 0
