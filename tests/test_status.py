"""`status`: deliveries with the reason any failed, answers, reminders, digests, next digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import sending
from bot.core.people import Person
from bot.core.rounds import RoundRequest, get_round, start_round
from bot.core.status import round_status
from storage.database import Database
from storage.db import transaction
from tests.fakes import Transcript
from tests.helpers import seed_pack

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("mode", "who"), [("named", "Gone Person"), ("role", "1 person"),
                                          ("anonymous", "1 person")])
def test_it_shows_failed_deliveries_with_their_reason_and_the_next_digest(
    database: Database, mode: str, who: str
) -> None:
    with transaction(database.sessions) as session:
        round_id = start_round(
            session,
            RoundRequest(
                seed_pack(),
                [
                    Person("UGONE", "Gone Person", timezone="Europe/London"),
                    Person("UHERE", "Here", timezone="Europe/London"),
                ],
                closes_at=START + timedelta(days=14),
                digest_channel="CLEADS",
                anonymity=mode,  # type: ignore[arg-type]
                platform="slack",
            ),
            START,
        ).id
    # one at a time, so the first call (the one that fails) is Gone Person's
    sending.send_due(database.sessions, {"slack": Transcript(fail_on={1}, permanent=True)},
                        lambda: START, "Europe/London", in_flight=1)
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with database.sessions() as session:
        lines = round_status(session, get_round(session, round_id), friday).lines("Europe/London")
    assert lines[1].startswith("1 delivered, 0 pending, 1 failed · 0 of 2 answered")
    assert "0 reminders sent, 0 digests posted" in lines[1]
    assert lines[2] == "Next digest Fri 27 Nov 12:00 GMT, closes Mon 7 Dec 10:00 GMT"
    assert lines[3] == f"Not delivered: {who}: user_not_found"  # names only when named
