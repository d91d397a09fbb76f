"""Acceptance 1 (issue 14): a round started from Teams reaches five people once each; their
answers, written in the chat and given in cards, each delivered twice, are stored once against
the right questions; the digest posts to the channel and accounts for every answer."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from storage.models import Delivery, Participant, QuestionMessage, Reply
from tests.helpers import TOP5
from tests.teams.conftest import PACK, RunningTeams, Tenant
from tests.teams_connector_stub import Call, Person, card_text


def start_from_channel(running: RunningTeams, tenant: Tenant, extra: str = "") -> None:
    teams, stub, channel = running.teams, running.stub, tenant.team.channel_id
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    running.wait_for(lambda: stub.sent(channel), "the welcome in the channel")
    before = len(stub.sent(channel))
    assert teams.in_channel(tenant.team, tenant.facilitator,
                            f"start {PACK} to team{extra}").status == 200
    # its own words: the welcome says "started" too (digests go where a round was started)
    running.wait_for(lambda: [c for c in stub.sent(channel)[before:]
                              if card_text(c).startswith("Round ") and " started (" in
                              card_text(c)], "the facilitator to hear the round started")


def question(running: RunningTeams, person: Person, number: int) -> Call:
    """The card asking `person` question `number`, once the bot has also written down that it
    asked it (as a person would answer: after the question is there)."""
    card = running.wait_for(
        lambda: next((c for c in running.stub.sent_to(person)
                      if f"Question {number} of 6" in card_text(c)), None),
        f"question {number} to reach {person.name}")
    running.wait_for(lambda: len(running.scalars(
        select(QuestionMessage.id).join(Delivery, Delivery.id == QuestionMessage.delivery_id)
        .join(Participant, Participant.id == Delivery.participant_id)
        .where(Participant.platform_user_id == person.aad,
               QuestionMessage.prompt_id.is_not(None)))) >= number,
        f"question {number} to be recorded as asked of {person.name}")
    return card


def confirmed_with_its_button(running: RunningTeams, tenant: Tenant, person: Person
                              ) -> tuple[Call, dict[str, Any]]:
    """A round started from the channel, `person`'s words to question 1 confirmed: the
    confirmation card and its one button ("Don't quote me")."""
    start_from_channel(running, tenant)
    question(running, person, 1)
    running.teams.chat(person, "Peer support from the PCN lead.")
    confirmation = running.wait_for(lambda: next((c for c in running.stub.sent_to(person)
                                                  if "Peer support" in card_text(c)), None),
                                    "the confirmation")
    [button] = confirmation.body["attachments"][0]["content"]["actions"]
    return confirmation, button


def target(call: Call) -> dict[str, object]:
    """The data of the card's first button (its Action.Execute)."""
    card = call.body["attachments"][0]["content"]
    return dict(card["actions"][0]["data"])


def test_a_round_started_from_teams_reaches_everyone_once_and_its_digest_counts_every_answer(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, stub, teams = running_teams, running_teams.stub, running_teams.teams
    start_from_channel(running, tenant)
    for person in tenant.members:
        first = question(running, person, 1)
        assert "South East London" in card_text(first) or card_text(first).count("\n") > 3
    creates = [c for c in stub.calls if c.path == "/v3/conversations" and c.status == 201]
    assert len(creates) == len(tenant.members)

    # Each person answers each question once it is asked; the five answer side by side, as
    # people do (each chat paces its confirmations, and so its next question, on its own).
    # 1: written in the chat, and delivered twice by Teams
    for person in tenant.members:
        _, responses = teams.chat(person, f"Answer one from {person.name}", times=2)
        assert [r.status for r in responses] == [200, 200]
    # 2: in the card, with Action.Execute, delivered twice
    for person in tenant.members:
        data = {**target(question(running, person, 2)), "answer": f"Card two {person.name}"}
        answered = teams.submit(person, data, times=2)
        assert [r.status for r in answered] == [200, 200]
        assert answered[0].json()["value"].startswith("Saved as your answer to question 2")
        assert answered[1].json() == answered[0].json()  # the card says the same again
    # 3-5: in the chat (the Action.Submit fallback for one of them)
    for number in (3, 4):
        for person in tenant.members:
            question(running, person, number)
            teams.chat(person, f"Answer {number} from {person.name}")
    for n, person in enumerate(tenant.members):
        data = {**target(question(running, person, 5)), "answer": f"Submitted five {n}"}
        teams.submit(person, data, execute=False, times=2)
    # 6: the ranking, in the card's ChoiceSets
    for person in tenant.members:
        card = question(running, person, 6).body["attachments"][0]["content"]
        choices = next(e for e in card["body"] if e.get("id") == "rank-1")["choices"]
        index = {c["title"]: c["value"] for c in choices}
        ballot = {f"rank-{i}": index[o] for i, o in enumerate(TOP5, start=1)}
        teams.submit(person, {**target(question(running, person, 6)), **ballot}, times=2)

    running.wait_for(lambda: len(running.replies()) == 30, "thirty answers")
    replies = running.replies()
    per_person = Counter((r.participant_id, r.prompt_id) for r in replies)
    assert set(per_person.values()) == {1} and len(per_person) == 30
    texts = {r.prompt_id: [] for r in replies}  # type: dict[str, list[str]]
    for r in replies:
        texts[r.prompt_id].append(r.text or "; ".join(r.choices or []))
    assert sorted(texts["done-well"]) == sorted(f"Answer one from {p.name}"
                                                for p in tenant.members)
    assert sorted(texts["bought-in"]) == sorted(f"Card two {p.name}" for p in tenant.members)
    assert all(t == "; ".join(TOP5) for t in texts["support-factors"])
    # each question reached each person once
    for person in tenant.members:
        asked = Counter(line for c in stub.sent_to(person) for line in card_text(c).splitlines()
                        if line.startswith("Question "))
        assert set(asked.values()) == {1} and len(asked) == 6, asked
    assert len(running.scalars(select(Delivery))) == 5

    # the digest, in the channel: a card, then one card per question as its replies
    def in_channel() -> list[Call]:
        return [c for c in stub.sent() if (c.conversation or "").startswith(
            tenant.team.channel_id)]
    before = len(in_channel())
    assert teams.in_channel(tenant.team, tenant.facilitator, "digest").status == 200
    running.wait_for(lambda: len(in_channel()) >= before + 8,
                     "the digest's cards and the facilitator's answer")
    posted = in_channel()[before:]
    top = next(c for c in posted if "Digest:" in card_text(c))
    assert "5 of 5" in card_text(top) and "30 answers and votes across 6" in card_text(top)
    replies_in_thread = [c for c in posted if ";messageid=" in (c.conversation or "")]
    assert len(replies_in_thread) == 6
    assert len(running.scalars(select(Reply).where(Reply.deleted_at.is_(None)))) == 30


def test_a_ranking_whose_places_are_not_the_cards_options_is_not_saved_and_says_why(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, amara = running_teams, running_teams.teams, tenant.members[0]
    start_from_channel(running, tenant)
    for number in range(1, 6):  # skipped, to reach the ranking
        skip = question(running, amara, number).body["attachments"][0]["content"]["actions"][1]
        assert teams.submit(amara, dict(skip["data"]))[0].status == 200
    ballot = target(question(running, amara, 6))
    told = []
    for first in ("-1", 0, ["0"], "9" * 5000, "²", "99"):
        rest = {f"rank-{place}": str(place - 1) for place in range(2, 6)}
        answered, = teams.submit(amara, {**ballot, "rank-1": first, **rest})
        assert answered.status == 200
        told.append(answered.json()["value"])
    assert told == ["I could not save that. That form could not be read; please use the "
                    "newest card."] * 6
    assert running.replies() == []
    saved, = teams.submit(amara, {**ballot, **{f"rank-{p}": str(p - 1) for p in range(1, 6)}})
    assert saved.json()["value"] == "Saved as your answer to question 6."
    assert len(running.replies()) == 1
