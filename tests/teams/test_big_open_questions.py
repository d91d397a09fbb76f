"""Eight long questions, each with many options, are more than one Teams message holds: the
open-questions card shows those that fit, says how many more there are and how to see them,
and never goes unsent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Delivery, Participant, Round
from tests.teams.conftest import RunningTeams, Tenant, run_teams
from tests.teams_connector_stub import Call, ConnectorStub, card_text

QUESTIONS = 8
QUESTION = "Which of these kinds of support would help you most, and why? " * 30
OPTIONS = [f"Support of kind {n:02d}, told apart from the others by this longer wording"
           for n in range(1, 41)]


@pytest.fixture
def long_questions(database: Database, database_url: str, connector: ConnectorStub,
                   tenant: Tenant, tmp_path: Path) -> Iterator[RunningTeams]:
    """The bot, with one pack of eight long choice questions of forty options each."""
    options = "".join(f"      - {o}\n" for o in OPTIONS)
    prompts = "".join(f"  - id: q{n}\n    section: Support\n    kind: choice\n"
                      f"    question: {QUESTION.strip()}\n    options:\n{options}"
                      for n in range(1, QUESTIONS + 1))
    (tmp_path / "long-questions.yaml").write_text(
        "id: long-questions\ntitle: Long questions\nworkshop_date: 2026-12-01\n"
        f"intro: Eight long questions.\nprompts:\n{prompts}")
    with run_teams(database, database_url, connector, tenant.facilitator,
                   ROUNDTABLE_PACKS_DIR=str(tmp_path)) as running:
        yield running


def open_questions(running: RunningTeams, tenant: Tenant) -> Call:
    """The open-questions card Amara gets by writing `questions` once question 1 reached her."""
    teams, stub, member = running.teams, running.stub, tenant.members[0]
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    running.wait_for(lambda: stub.sent(tenant.team.channel_id), "the welcome in the channel")
    assert teams.in_channel(tenant.team, tenant.facilitator,
                            "start long-questions to team").status == 200
    running.wait_for(lambda: running.scalars(select(Round)), "the round")
    running.wait_for(lambda: [c for c in stub.sent_to(member)
                              if f"Question 1 of {QUESTIONS}" in card_text(c)],
                     "question 1 to reach Amara")
    running.wait_for(lambda: running.scalars(
        select(Delivery.id).join(Participant, Participant.id == Delivery.participant_id)
        .where(Participant.platform_user_id == member.aad, Delivery.state == "sent")),
        "question 1 to be recorded as sent to Amara")
    before = len(stub.sent_to(member))
    teams.chat(member, "questions")
    return running.wait_for(lambda: next((c for c in stub.sent_to(member)[before:]
                                          if card_text(c).startswith("Your open questions")),
                                         None), "the open questions")


def test_open_questions_too_big_for_one_message_show_what_fits_and_say_how_to_see_the_rest(
        long_questions: RunningTeams, tenant: Tenant) -> None:
    running = long_questions
    listed = open_questions(running, tenant)
    assert listed.status == 201
    content = listed.body["attachments"][0]["content"]
    saves = [a["title"] for e in content["body"] if e.get("type") == "ActionSet"
             for a in e["actions"]]
    shown = len(saves)
    assert 1 <= shown < QUESTIONS
    assert saves == [f"Save question {n}" for n in range(1, shown + 1)]
    left = QUESTIONS - shown
    more = "1 more open question" if left == 1 else f"{left} more open questions"
    assert card_text(listed).endswith(
        f"{more} did not fit on this card: save these, then write questions again to see "
        "the rest.")
    assert [r for e in content["body"] if e.get("type") == "RichTextBlock"
            for r in e["inlines"] if r.get("fontType") == "Monospace"] == [
        {"type": "TextRun", "text": "questions", "weight": "Bolder", "fontType": "Monospace"}]
