"""A command or a card's button whose work fails unexpectedly, for a real reason (a table of
the database gone from under the running bot): Teams gets its answer (no 500, so Teams shows
no error by a card), the person is told in the chat they wrote in that it was not done, and
the failure is logged with its traceback. A button whose work was done, but whose card Teams
would not change, says what it did and that the card still shows as it was."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from bot.teams.connector import RETRIES
from tests.teams.conftest import RunningTeams, Tenant, replaced_by
from tests.teams.test_round import confirmed_with_its_button, question
from tests.teams_connector_stub import card_text

# On both databases: how each locks and fails is tested here (the database failing under the bot).
pytestmark = pytest.mark.each_database

SORRY = ("Sorry, something went wrong on my side and that was not done. Please try again in "
         "a few minutes; if it keeps happening, tell your facilitator.")
FAILED = "a Teams listener failed"
GONE = ("replies", "audit_log")


@contextmanager
def tables_gone(running: RunningTeams, tables: tuple[str, ...] = GONE) -> Iterator[None]:
    """The tables (of answers and of the audit log, unless others are named) renamed away
    while the bot runs, and back afterwards."""
    with running.database.sessions.begin() as session:
        for table in tables:
            session.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with running.database.sessions.begin() as session:
            for table in tables:
                session.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


def apologies(running: RunningTeams, conversation: str, count: int) -> list[str]:
    def found() -> list[str] | None:
        sorry = [card_text(c) for c in running.stub.sent(conversation)
                 if card_text(c) == SORRY]
        return sorry if len(sorry) == count else None
    return list(running.wait_for(found, f"{count} apologies in {conversation}"))


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.getMessage().startswith(FAILED) and r.levelno == logging.ERROR and r.exc_info]


def test_commands_and_buttons_that_fail_are_answered_and_the_person_told(
        running_teams: RunningTeams, tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    """my-data written in the 1:1 chat and in a channel, and forget-me's Delete button
    pressed (Action.Execute and Action.Submit), each while the tables it reads are gone."""
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    amara, ben = tenant.members[:2]
    for person in (amara, ben):
        stub.open_chat(person)
    with tables_gone(running):
        _, [written] = teams.chat(amara, "my-data")
        in_channel = teams.in_channel(tenant.team, ben, "my-data")
        [pressed] = teams.submit(ben, {"roundtable": "forget", "asked": "a1"})
        [submitted] = teams.submit(amara, {"roundtable": "forget", "asked": "a2"},
                                   execute=False)
        assert [r.status for r in (written, in_channel, pressed, submitted)] == [200] * 4
        assert pressed.json() == {"statusCode": 200, "type":
                                  "application/vnd.microsoft.activity.message", "value": SORRY}
        in_chat = apologies(running, stub.chat_of(amara), 2)
        in_team = apologies(running, tenant.team.channel_id, 1)
        running.wait_for(lambda: len(failures_logged(caplog)) == 4, "the failures logged")
    assert in_chat == [SORRY] * 2 and in_team == [SORRY]
    assert [card_text(c) for c in stub.sent()] == [SORRY] * 3  # and nothing else


NOT_QUOTED = "Done: that answer counts in its theme but will never be quoted."
UNCHANGED = "I could not update the message whose button you pressed: it still shows as it was."


def test_a_button_whose_card_teams_would_not_update_says_what_it_did_not_that_nothing_was(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Submit (older clients, Outlook): "Don't quote me" is done, then the Bot
    Connector refuses to put the confirmation with the note in place of the card (500, then
    429s until the retries run out). The person is told in the chat what was done and that
    the card still shows as it was; nothing says it was not done."""
    running, stub, ben = running_teams, running_teams.stub, tenant.members[1]
    confirmation, button = confirmed_with_its_button(running, tenant, ben)
    question(running, ben, 2)
    before = len(stub.sent_to(ben))
    stub.fail_next("update", status=500)
    stub.fail_next("update", status=429, retry_after=0, times=RETRIES)
    [submitted] = running.teams.submit(ben, button["data"], execute=False,
                                       card_id=confirmation.activity_id)
    assert submitted.status == 200
    [told] = running.wait_for(lambda: stub.sent_to(ben)[before:], "what the button did")
    assert card_text(told) == f"{NOT_QUOTED}\n{UNCHANGED}"
    assert [c.status for c in stub.calls if c.method == "PUT"] == [500] + [429] * RETRIES
    assert [r.quotable for r in running.replies()] == [False]
    assert not [c for c in stub.sent() if card_text(c) == SORRY]


def test_a_button_answered_by_execute_needs_no_update_from_the_connector(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Execute (current clients): what the button did comes back as the card itself,
    in the HTTP answer, so a Bot Connector refusing every update and post meanwhile cannot
    turn a change made into a "not done"."""
    running, stub, ben = running_teams, running_teams.stub, tenant.members[1]
    confirmation, button = confirmed_with_its_button(running, tenant, ben)
    question(running, ben, 2)
    before = len(stub.calls)
    for kind in ("update", "send"):
        stub.fail_next(kind, status=500, times=RETRIES + 1)
    [pressed] = running.teams.submit(ben, button["data"], card_id=confirmation.activity_id)
    assert ("Peer support from the PCN lead.\nYou asked that this answer is never quoted: it "
            "counts in its theme, that is all.\n") in replaced_by(pressed.json())
    assert stub.calls[before:] == []
    assert [r.quotable for r in running.replies()] == [False]
