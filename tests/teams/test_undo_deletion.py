"""Teams lets someone bring back a message they deleted (Undo). An answer brought back is
their answer again, to the question it answered, and confirmed as any answer is: their
words are not left out of the digest while they stand in the chat. So too a message edited
back to words it held before: each change counts, not only the first with those words."""

from __future__ import annotations

from storage.models import Reply
from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import Person, card_text

FIRST = "Peer support from the PCN lead."
LATER = "Protected time for the leads."


def _kept(running: RunningTeams) -> list[tuple[str, str]]:
    return sorted((r.prompt_id, r.text or "") for r in running.replies()
                  if isinstance(r, Reply) and r.deleted_at is None)


def _answered(running: RunningTeams, tenant: Tenant) -> tuple[Person, str]:
    """A round started, its first member's answer to question 1 confirmed: who, and the
    answer's message."""
    start_from_channel(running, tenant)
    person = tenant.members[0]
    question(running, person, 1)
    message, _ = running.teams.chat(person, FIRST)
    _confirmed(running, person, 1)
    return person, message


def _confirmed(running: RunningTeams, person: Person, times: int) -> None:
    running.wait_for(lambda: len([c for c in running.stub.sent_to(person)
                                  if FIRST in card_text(c)]) == times, "its confirmation")


def _deleted(running: RunningTeams, person: Person, message: str, times: int) -> None:
    when = f"2026-11-23T10:0{times}:30.000Z"
    assert running.teams.delete(person, message, when).status == 200
    running.wait_for(lambda: len([c for c in running.stub.calls if c.method == "PUT"
                                  and "You deleted" in card_text(c)]) >= times,
                     "the confirmation saying it was deleted")


def test_an_answer_brought_back_after_its_deletion_is_saved_again_each_time(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    person, message = _answered(running, tenant)
    for times, when in ((1, "2026-11-23T10:01:00.000Z"), (2, "2026-11-23T10:02:00.000Z")):
        _deleted(running, person, message, times)
        assert _kept(running) == []
        assert running.teams.undelete(person, message, FIRST, when).status == 200
        running.wait_for(lambda: _kept(running) == [("done-well", FIRST)],
                         "the answer, brought back")
        _confirmed(running, person, 1 + times)


def test_an_answer_brought_back_after_another_was_given_joins_it(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Question 1 was open again after the deletion, and answered anew: the words brought
    back join that answer, as words added to it."""
    running = running_teams
    person, message = _answered(running, tenant)
    _deleted(running, person, message, 1)
    running.teams.chat(person, LATER)
    running.wait_for(lambda: [c for c in running.stub.sent_to(person) if LATER in card_text(c)],
                     "the new answer's confirmation")
    running.teams.undelete(person, message, FIRST, "2026-11-23T10:05:00.000Z")
    running.wait_for(lambda: len(_kept(running)) == 2, "the words, brought back")
    assert _kept(running) == sorted([("done-well", FIRST), ("done-well", LATER)])
    told = running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(person)
                                     if FIRST in card_text(c) and "Added" in card_text(c)],
                            "they were added")
    assert "question 1" in told[0], told


def test_an_answer_edited_back_to_words_it_held_before_reads_them_again(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    person, message = _answered(running, tenant)
    for minute, words in ((1, LATER), (2, "Time, and money for backfill."), (3, LATER)):
        running.teams.edit(person, message, words, when=f"2026-11-23T10:0{minute}:00.000Z")
        running.wait_for(lambda: _kept(running) == [("done-well", words)],  # noqa: B023
                         "the edit")
