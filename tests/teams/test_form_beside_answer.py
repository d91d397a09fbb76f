"""An answer given in a question's card to a question answered already in the chat: kept
beside that answer, and said so, in the words the chat and the Save button use."""

from __future__ import annotations

from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel, target
from tests.teams_connector_stub import card_text


def test_words_given_in_the_card_of_a_question_answered_already_are_said_to_be_added(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, amara = running_teams, running_teams.teams, tenant.members[0]
    start_from_channel(running, tenant)
    first = question(running, amara, 1)
    teams.chat(amara, "Protected time made it work.")
    question(running, amara, 2)
    [answered] = teams.submit(amara, {**target(first), "answer": "And a named lead."})
    assert answered.status == 200
    line = answered.json()["value"]
    assert line.startswith("Added to your answer to question 1, which you had answered "
                           "already: these words are kept beside that answer, not in its "
                           "place."), line
    confirmed = running.wait_for(
        lambda: [card_text(c) for c in running.stub.sent_to(amara)
                 if "And a named lead." in card_text(c)], "the confirmation")
    assert confirmed[0].startswith("Added to your answer to question 1: "), confirmed[0]
    assert sorted(r.text or "" for r in running.replies()) == [
        "And a named lead.", "Protected time made it work."]
