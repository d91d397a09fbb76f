""""Don't quote me" buttons as a client may send them: a button's data is the client's, so
whatever answers it lists, the card shown again holds only the presser's own; data out of
shape or bounds is refused and changes nothing; a button of a card of several that had no
room to list its answers says what it did by the card, which stays as it was."""

from __future__ import annotations

from typing import Any

from tests.teams.conftest import RunningTeams, Tenant, replaced_by
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import Person, card_text

WORDS = ["Amara: the ICS board listened to us in 2020.",
         "Ben: peer support from the PCN lead.",
         "Chidi: protected learning time."]
STALE = "That card could not be read; please use the newest one."
DONE = "Done: that answer counts in its theme but will never be quoted."


def _press(running: RunningTeams, person: Person, data: dict[str, Any]) -> Any:
    [pressed] = running.teams.submit(person, {"roundtable": "dont-quote", **data})
    assert pressed.status == 200
    return pressed.json()


def test_a_dont_quote_button_shows_again_only_the_pressers_own_answers(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    start_from_channel(running, tenant)
    people = tenant.members[:3]
    for person, words in zip(people, WORDS, strict=True):
        question(running, person, 1)
        running.teams.chat(person, words)
    for person, words in zip(people, WORDS, strict=True):
        running.wait_for(lambda p=person, w=words: [c for c in running.stub.sent_to(p)
                                                   if w in card_text(c)], "the confirmation")
    ids = {r.text: str(r.external_id) for r in running.replies()}
    amara, ben, chidi = (ids[w] for w in WORDS)
    round_id = running.replies()[0].round_id

    refused = [{"answer": ben, "card": [ben] * 21},
               {"answer": ben, "card": [amara]},
               {"answer": ben, "card": [ben, "x" * 201]},
               {"answer": ben, "card": [ben, [round_id]]},
               {"answer": ben, "card": ben},
               {"answer": ben, "files": "yes"},
               {"answer": ["x"]}]
    for data in refused:
        assert _press(running, people[1], data)["value"] == STALE, data
    assert [r.quotable for r in running.replies()] == [True, True, True]

    shown = _press(running, people[1], {"answer": ben, "files": True, "card": [
        amara, ben, [round_id, "done-well"], [round_id, "support-factors"]]})
    read = replaced_by(shown)
    assert WORDS[1] in read and WORDS[0] not in read, read
    assert read.startswith("Saved as your answer to question 1: "), read
    assert "files and pictures are not kept" in read, read  # as the card it came from said
    assert [r.quotable for r in running.replies()] == [True, False, True]

    # a card of several with no room for the lists: what was done, by the card
    assert _press(running, people[2], {"answer": chidi, "card": []}) == {
        "statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": DONE}
    assert [r.quotable for r in running.replies()] == [True, False, False]
