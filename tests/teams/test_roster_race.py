"""Two requests that meet the same person for the first time at once (a member writing to the
bot while a facilitator starts a round for their team) both keep them: the second finds the
first's record instead of failing, so the round still starts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bot.teams.references import Conversations, Member
from storage.database import Database
from storage.models import TeamsUser
from tests.helpers import wait_for

# On both databases: how each locks and fails is tested here (two requests writing at once).
pytestmark = pytest.mark.each_database

AMARA = Member("00000000-0000-0000-0000-000000001002", "29:1amara", "https://smba.example",
               "tenant", "Amara", "amara@nhs.net")


def test_a_person_kept_by_another_request_at_the_same_moment_is_kept_once(
        database: Database, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: two cannot insert the same row at once")
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    conversations = Conversations(database.sessions, lambda: now)
    failed: list[BaseException] = []

    def keep() -> None:
        try:
            conversations.remember_members([AMARA])
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            failed.append(exc)

    with database.sessions() as other:  # the other request, its insert not yet committed
        other.add(TeamsUser(aad_object_id=AMARA.aad_object_id, user_id=AMARA.user_id,
                            service_url=AMARA.service_url, tenant_id=AMARA.tenant_id,
                            name="Amara", email=None, updated_at=now))
        other.flush()
        worker = threading.Thread(target=keep)
        worker.start()
        wait_for(lambda: other.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()")),
            "the second insert to wait for the first")
        other.commit()
    worker.join(20)
    assert failed == []
    with database.sessions() as session:
        [kept] = session.scalars(select(TeamsUser)).all()
    assert (kept.name, kept.email) == ("Amara", "amara@nhs.net")
