"""A ranking with many options and places: a list for each place would take a Teams card past
the size the Connector takes, so the card carries a short form instead (one box for the
ranking, typed), says how to answer, and the answer is saved either way."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Delivery, Participant, Round
from tests.teams.conftest import RunningTeams, Tenant, run_teams
from tests.teams_connector_stub import MESSAGE_BYTES, Call, ConnectorStub, card_text

OPTIONS = [f"Support of kind {n:02d}, told apart from the others by this longer wording"
           for n in range(1, 61)]
PLACES = 30


@pytest.fixture
def big_ranking(database: Database, database_url: str, connector: ConnectorStub,
                tenant: Tenant, tmp_path: Path) -> Iterator[RunningTeams]:
    """The bot, with one pack: a single question ranking 30 places of 60 long options."""
    options = "".join(f"      - {o}\n" for o in OPTIONS)
    (tmp_path / "big-ranking.yaml").write_text(
        "id: big-ranking\ntitle: A big ranking\nworkshop_date: 2026-12-01\n"
        "intro: One question with many options.\nprompts:\n"
        "  - id: order\n    section: Support\n    kind: rank\n"
        f"    question: Put the kinds of support in order.\n    pick: {PLACES}\n"
        f"    options:\n{options}")
    with run_teams(database, database_url, connector, tenant.facilitator,
                   ROUNDTABLE_PACKS_DIR=str(tmp_path)) as running:
        yield running


def asked(running: RunningTeams, tenant: Tenant) -> Call:
    """The ranking's card, as it reached the first member once the round started."""
    teams, stub, channel = running.teams, running.stub, tenant.team.channel_id
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    running.wait_for(lambda: stub.sent(channel), "the welcome in the channel")
    assert teams.in_channel(tenant.team, tenant.facilitator,
                            "start big-ranking to team").status == 200
    running.wait_for(lambda: running.scalars(select(Round)), "the round")
    member = tenant.members[0]
    card = running.wait_for(lambda: next((c for c in stub.sent_to(member)
                                          if "Question 1 of 1" in card_text(c)), None),
                            "the ranking's card to reach Amara")
    # the card is out before its sending is recorded; until then it is not yet open to her
    running.wait_for(lambda: running.scalars(
        select(Delivery.id).join(Participant, Participant.id == Delivery.participant_id)
        .where(Participant.platform_user_id == member.aad, Delivery.state == "sent")),
        "the card's sending to Amara recorded")
    return card


def test_the_connector_stand_in_refuses_an_activity_over_teams_size_as_teams_does(
        connector: ConnectorStub) -> None:
    """The stand-in holds the bot to Teams' size: a bigger activity is refused, 413."""
    connector.bot_token = "t"
    host = connector.base_url.removeprefix("http://")
    for text, status in (("a" * 100, 201), ("a" * MESSAGE_BYTES, 413)):
        http_ = http.client.HTTPConnection(host, timeout=10)
        http_.request("POST", "/v3/conversations/a:1/activities",
                      json.dumps({"type": "message", "text": text}),
                      {"Authorization": "Bearer t", "Content-Type": "application/json"})
        answer = http_.getresponse()
        assert answer.status == status
        body: dict[str, Any] = json.loads(answer.read())
        http_.close()
        if status == 413:
            assert body["error"]["code"] == "MessageSizeTooBig"


def test_a_ranking_too_big_for_a_list_a_place_reaches_people_as_a_typed_form(
        big_ranking: RunningTeams, tenant: Tenant) -> None:
    running, member = big_ranking, tenant.members[0]
    card = asked(running, tenant)
    content = card.body["attachments"][0]["content"]
    read = card_text(card)
    assert "1. Support of kind 01" in read and "60. Support of kind 60" in read
    assert ("This ranking has more places than a Teams card has room to list the options "
            f"for: write the numbers (or names) of your top {PLACES}, best first, in the box "
            "below or in this chat.") in read
    [box] = [e for e in content["body"] if e.get("type") == "Input.Text"]
    assert box["label"] == f"Your top {PLACES}, best first" and box["isRequired"] is True
    assert not [e for e in content["body"] if e.get("type") == "Input.ChoiceSet"]

    order = [(7 * n) % 60 + 1 for n in range(PLACES)]  # 1, 8, 15, … all different
    data = {**content["actions"][0]["data"], box["id"]: ", ".join(map(str, order))}
    [answered] = running.teams.submit(member, data)
    assert answered.json()["value"].startswith("Saved as your answer to question 1"), \
        answered.json()
    [reply] = running.replies()
    assert list(reply.choices or []) == [OPTIONS[n - 1] for n in order]


def test_a_typed_ranking_on_the_card_that_is_not_a_whole_ballot_is_not_saved_and_says_why(
        big_ranking: RunningTeams, tenant: Tenant) -> None:
    running, member = big_ranking, tenant.members[0]
    content = asked(running, tenant).body["attachments"][0]["content"]
    [box] = [e for e in content["body"] if e.get("type") == "Input.Text"]
    target = content["actions"][0]["data"]
    almost = ", ".join(map(str, range(1, PLACES))) + ", Support of kind 99"
    told = [running.teams.submit(member, {**target, box["id"]: typed})[0].json()["value"]
            for typed in ("3, 1, 5", "3, 1, my reasons are many", almost, "3, 3, 1")]
    assert told == [
        f"I could not save that. A ranking here needs your top {PLACES}, and I found 3.",
        f"I could not save that. Write the numbers (or names) of your top {PLACES}, best "
        "first, like 3, 1, 5.",
        "I could not save that. Which option is “Support of kind 99”? Write the numbers (or "
        f"names) of your top {PLACES}, best first, like 3, 1, 5.",
        f"I could not save that. You named {OPTIONS[2]} twice, and a ranking here needs your "
        f"top {PLACES}, each named once."]
    assert running.replies() == []


def test_the_open_questions_card_offers_a_big_ranking_as_a_typed_form_with_its_numbers(
        big_ranking: RunningTeams, tenant: Tenant) -> None:
    running, member = big_ranking, tenant.members[0]
    asked(running, tenant)
    before = len(running.stub.sent_to(member))
    running.teams.chat(member, "questions")
    listed = running.wait_for(lambda: [c for c in running.stub.sent_to(member)[before:]
                                       if card_text(c).startswith("Your open questions")],
                              "the open questions")[0]
    content = listed.body["attachments"][0]["content"]
    assert "1. Support of kind 01" in card_text(listed)
    assert f"write the numbers (or names) of your top {PLACES}" in card_text(listed)
    [box] = [e for e in content["body"] if e.get("type") == "Input.Text"]
    [save] = [a["data"] for e in content["body"] if e.get("type") == "ActionSet"
              for a in e["actions"]]

    [refused] = running.teams.submit(member, {**save, box["id"]: ""})
    assert (f"Not saved: question 1 has no ranking yet: write your top {PLACES} in its box."
            in json.dumps(refused.json()))
    order = list(range(PLACES, 0, -1))
    [saved] = running.teams.submit(member, {**save, box["id"]: " ".join(map(str, order))})
    assert saved.json()["value"] == "Saved as your answer to question 1."
    [reply] = running.replies()
    assert list(reply.choices or []) == [OPTIONS[n - 1] for n in order]
