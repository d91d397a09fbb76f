"""Managing rounds from Teams as from Slack: `list [all]`, `status N who`, `reopen N`,
`delete N` behind a card that asks first, and `add-facilitator`/`remove-facilitator … round N`;
refused to anyone who does not facilitate (in their 1:1 chat, such words are theirs: an answer),
and never taken for an answer that starts with the same word."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from storage.models import BotMessage, Delivery, Participant, Round, RoundFacilitator, TeamsSent
from tests.teams.conftest import PACK, RunningTeams, Tenant, replaced_by
from tests.teams.test_listener_failures import tables_gone
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import Call, Person, card_text

FACILITATOR_CHAT = "a:1facilitator-chat"
NO_QUESTION = ("I have no open question waiting for an answer here (a round may have closed). "
               "Use the buttons on the questions, or see your open questions in the list "
               "you get by writing questions.")


def in_chat(running: RunningTeams, person: Person, text: str, expect: str) -> str:
    """`person` writes `text` in their 1:1 chat; what the bot then says there that contains
    `expect`."""
    before = len(running.stub.sent_to(person))
    running.teams.chat(person, text)
    found = running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(person)[before:]
                                      if expect in card_text(c)],
                             f"an answer to {text!r} saying {expect!r}")
    return str(found[0])


def in_team(running: RunningTeams, tenant: Tenant, person: Person, text: str, expect: str
            ) -> str:
    """`person` writes `text` mentioning the bot in the team's channel; what the bot then says
    there that contains `expect`."""
    channel = tenant.team.channel_id
    before = len(running.stub.sent(channel))
    assert running.teams.in_channel(tenant.team, person, text).status == 200
    found = running.wait_for(lambda: [card_text(c) for c in running.stub.sent(channel)[before:]
                                      if expect in card_text(c)],
                             f"an answer to {text!r} saying {expect!r}")
    return str(found[0])


def card_sent(running: RunningTeams, person: Person, text: str, expect: str) -> Call:
    before = len(running.stub.sent_to(person))
    running.teams.chat(person, text)
    found = running.wait_for(lambda: [c for c in running.stub.sent_to(person)[before:]
                                      if expect in card_text(c)], f"the card for {text!r}")
    return found[0]


def buttons(call: Call) -> dict[str, dict[str, Any]]:
    """A card's buttons by title."""
    return {a["title"]: a for a in call.body["attachments"][0]["content"]["actions"]}


def facilitator_chat(running: RunningTeams, tenant: Tenant) -> Person:
    facilitator = tenant.facilitator
    running.stub.open_chat(facilitator, FACILITATOR_CHAT)
    assert running.teams.installed(facilitator, FACILITATOR_CHAT).status == 200
    return facilitator


def started(running: RunningTeams, tenant: Tenant, extra: str = "") -> int:
    start_from_channel(running, tenant, extra)
    [round_id] = running.wait_for(lambda: running.scalars(select(Round.id)), "the round")
    return int(round_id)


def test_a_facilitator_lists_rounds_sees_who_has_not_answered_and_reopens_a_closed_round(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, amara = running_teams, tenant.members[0]
    round_id = started(running, tenant, " named")
    fola = facilitator_chat(running, tenant)
    question(running, amara, 1)

    listed = in_chat(running, fola, "list", f"Round {round_id}")
    assert f"Round {round_id} · {PACK} · open · 0 of 5 answered, 0 replies · digests to " \
           "#Leaders" in listed
    # by name, not by an Entra object id nobody can read
    assert f"started by {fola.name}" in listed and fola.aad not in listed
    who = in_chat(running, fola, f"status {round_id} who", "Not answered yet")
    assert "Not answered yet: 5 people — Amara, Ben, Chidi, Dev, Elif" in who

    in_chat(running, fola, f"close {round_id}", "is closed")
    assert "No open rounds (list all shows the closed ones too)." in in_chat(
        running, fola, "list", "No open rounds")
    assert f"Round {round_id} · {PACK} · closed" in in_chat(running, fola, "list all", "closed")
    # in a channel, where no answers are taken, a mistake after the word is explained
    before = len(running.stub.sent(tenant.team.channel_id))
    running.teams.in_channel(tenant.team, fola, "list everything")
    assert running.wait_for(lambda: [card_text(c) for c in running.stub.sent(
        tenant.team.channel_id)[before:] if "like this" in card_text(c)], "the usage") == [
        "Type it like this: list [all]."]

    reopened = in_chat(running, fola, f"reopen {round_id} closes 14d", "is open again")
    assert reopened.startswith(f"Round {round_id} is open again; it closes ")
    assert running.scalars(select(Round.status)) == ["open"]
    # the reopened round takes answers again
    running.teams.chat(amara, "Protected time, once it was open again.")
    running.wait_for(lambda: running.replies(), "Amara's answer")
    assert [r.text for r in running.replies()] == ["Protected time, once it was open again."]


def test_a_round_is_deleted_only_once_its_card_is_confirmed(running_teams: RunningTeams,
                                                            tenant: Tenant) -> None:
    running, amara = running_teams, tenant.members[0]
    running.stub.long_ids = True  # ids the core keeps by a short key: noted in teams_sent
    round_id = started(running, tenant)
    fola = facilitator_chat(running, tenant)
    question(running, amara, 1)
    running.teams.chat(amara, "Peer support.")
    running.wait_for(lambda: running.replies(), "Amara's answer")

    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    assert "has 5 people, 1 reply and 0 digests" in card_text(asked)
    shown = buttons(asked)
    assert set(shown) == {f"Delete round {round_id}", "Cancel"}
    assert shown[f"Delete round {round_id}"]["style"] == "destructive"
    assert running.scalars(select(Round.id)) == [round_id]  # asking deleted nothing

    cancelled = running.teams.submit(fola, shown["Cancel"]["data"])
    assert replaced_by(cancelled[0].json()) == f"Cancelled: round {round_id} is kept."
    assert running.scalars(select(Round.id)) == [round_id] and len(running.replies()) == 1

    # someone else pressing the button (the card was posted where others see it) is refused
    refused = running.teams.submit(amara, shown[f"Delete round {round_id}"]["data"])
    assert refused[0].json()["value"].startswith("Only facilitators can use delete.")
    assert running.scalars(select(Round.id)) == [round_id]

    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    done = running.teams.submit(fola, buttons(asked)[f"Delete round {round_id}"]["data"],
                                execute=False)
    assert done[0].status == 200
    in_chat_said = running.wait_for(
        lambda: [card_text(c) for c in running.stub.sent_to(fola) if "is deleted" in
                 card_text(c)], "the deletion")
    assert in_chat_said == [f"Round {round_id} is deleted, with its 1 answer and 0 digests."]
    assert running.scalars(select(Round)) == running.scalars(select(Delivery)) == []
    assert running.scalars(select(Participant)) == [] and running.replies() == []
    assert [(t.kind, t.part) for t in running.scalars(select(TeamsSent))] == []


def test_a_cancelled_deletion_card_loses_its_buttons_and_its_old_delete_deletes_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Cancel (and Delete) replace the card with what they did, so its Delete cannot be
    pressed again; a copy of the card still showing its Delete (another device, the
    Action.Submit fallback) deletes nothing once it was cancelled."""
    running, stub = running_teams, running_teams.stub
    round_id = started(running, tenant)
    fola = facilitator_chat(running, tenant)
    chat = stub.chat_of(fola)

    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    shown = buttons(asked)
    cancelled = running.teams.submit(fola, shown["Cancel"]["data"], card_id=asked.activity_id)
    assert replaced_by(cancelled[0].json()) == f"Cancelled: round {round_id} is kept."
    pressed_later = running.teams.submit(fola, shown[f"Delete round {round_id}"]["data"],
                                         card_id=asked.activity_id)
    assert pressed_later[0].json()["value"] == (
        f"That deletion was cancelled, so round {round_id} is kept. To delete it, ask "
        f"again with delete {round_id}.")
    assert running.scalars(select(Round.id)) == [round_id]

    # the Action.Submit fallback: the card the buttons were on is replaced in the chat
    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    running.teams.submit(fola, buttons(asked)["Cancel"]["data"], execute=False,
                         card_id=asked.activity_id)
    replaced = running.wait_for(lambda: [c for c in stub.calls if c.method == "PUT"
                                         and unquote(c.path).endswith(f"/{asked.activity_id}")],
                                "the cancelled card replaced")
    assert replaced[0].conversation == chat and "actions" not in replaced[0].body[
        "attachments"][0]["content"]
    assert card_text(replaced[0]) == f"Cancelled: round {round_id} is kept."
    running.teams.submit(fola, buttons(asked)[f"Delete round {round_id}"]["data"],
                         execute=False, card_id=asked.activity_id)
    refused = running.wait_for(lambda: [card_text(c) for c in stub.sent_to(fola)
                                        if "deletion was cancelled" in card_text(c)],
                               "the old Delete refused")
    assert refused == [f"That deletion was cancelled, so round {round_id} is kept. "
                       f"To delete it, ask again with delete {round_id}."]
    assert running.scalars(select(Round.id)) == [round_id]

    # a Delete pressed on a new question deletes, and its card says what was deleted
    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    done = running.teams.submit(fola, buttons(asked)[f"Delete round {round_id}"]["data"],
                                card_id=asked.activity_id)
    assert replaced_by(done[0].json()) == (
        f"Round {round_id} is deleted, with its 0 answers and 0 digests.")
    assert running.scalars(select(Round)) == []


def test_round_management_is_refused_to_anyone_who_does_not_facilitate(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Refused in a channel and in the 1:1 chat alike: these commands' shapes (a round
    number, an email) are no answer's, and nothing is saved as one."""
    running, ben = running_teams, tenant.members[1]
    round_id = started(running, tenant)
    question(running, ben, 1)
    in_chat(running, facilitator_chat(running, tenant), f"close {round_id}", "is closed")
    for text in ("list", "list all", f"status {round_id} who", f"reopen {round_id}",
                 f"delete {round_id}", f"remove-facilitator {tenant.facilitator.email}",
                 f"add-facilitator {ben.email} round {round_id}"):
        word = text.split()[0]
        refused = (f"Sorry, only facilitators can use {word}. If you should be one, ask "
                   "one of Roundtable's admins to add you.")
        assert in_team(running, tenant, ben, text, "Sorry") == refused, text
        assert in_chat(running, ben, text, "Sorry") == refused, text
    assert running.scalars(select(Round.status)) == ["closed"]
    assert running.scalars(select(RoundFacilitator)) == [] and running.replies() == []
    assert not [c for c in running.stub.sent_to(ben) if "Deleting it removes" in card_text(c)]


def test_a_facilitators_command_written_by_a_participant_in_their_chat_is_kept_as_words(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """"Start early to beat the queues" reads as `start` with pack "early": from someone who
    may not start rounds, in the 1:1 chat, it is their answer; with no question waiting, they
    are told so, as for any words, and no round starts."""
    running, chidi = running_teams, tenant.members[2]
    round_id = started(running, tenant)
    question(running, chidi, 1)
    saved = in_chat(running, chidi, "Start early to beat the queues", "Saved")
    assert saved.startswith("Saved as your answer to question 1")
    assert [r.text for r in running.replies()] == ["Start early to beat the queues"]

    in_chat(running, facilitator_chat(running, tenant), f"close {round_id}", "is closed")
    told = in_chat(running, chidi, "Start early to beat the queues", "no open question")
    assert told == NO_QUESTION
    refused = in_chat(running, chidi, f"start {PACK} to x@y.z", "Sorry")  # a pack: a command
    assert refused.startswith("Sorry, only facilitators can use start."), refused
    assert running.scalars(select(Round.id)) == [round_id]
    assert [r.text for r in running.replies()] == ["Start early to beat the queues"]


def test_answers_that_start_with_the_new_command_words_are_stored_as_answers(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, chidi = running_teams, tenant.members[2]
    started(running, tenant)
    answers = ["delete the duplicate audits", "List all the PCNs in the patch first",
               "reopen the Saturday clinics", "status who cares, outcomes matter",
               "remove-facilitator roles from the board"]
    for number, text in enumerate(answers, start=1):
        question(running, chidi, number)
        running.teams.chat(chidi, text)
        running.wait_for(lambda number=number: len(running.replies()) == number,
                         f"answer {number}")
    assert [r.text for r in running.replies()] == answers
    assert not [c for c in running.stub.sent_to(chidi) if "Sorry" in card_text(c)]


def test_words_like_a_facilitators_command_are_kept_when_who_facilitates_cannot_be_read(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Telling a facilitators' command from an answer reads who facilitates: when that cannot
    be read (the database failing), the words are kept as an answer's are."""
    running, chidi = running_teams, tenant.members[2]
    started(running, tenant)
    question(running, chidi, 1)
    with tables_gone(running, ("facilitators",)):
        saved = in_chat(running, chidi, "Start early to beat the queues", "Saved")
    assert saved.startswith("Saved as your answer to question 1")
    assert [r.text for r in running.replies()] == ["Start early to beat the queues"]


def test_the_owner_shares_a_round_by_email_and_takes_it_back(running_teams: RunningTeams,
                                                             tenant: Tenant) -> None:
    running, dev = running_teams, tenant.members[3]
    round_id = started(running, tenant)
    fola = facilitator_chat(running, tenant)
    question(running, dev, 1)

    assert f"they can now act on round {round_id}" in in_chat(
        running, fola, f"add-facilitator {dev.email} round {round_id}", "Done")
    assert running.scalars(select(RoundFacilitator.platform_user_id)) == [dev.aad]
    assert f"Round {round_id}" in in_chat(running, dev, f"status {round_id}", f"Round {round_id}")

    refused = in_chat(running, fola, f"remove-facilitator {dev.email}", "admins")
    assert refused == ("Only Roundtable's admins can remove a facilitator. To take "
                       "someone off one of your rounds: remove-facilitator with round N after "
                       "the person.")
    assert running.scalars(select(RoundFacilitator.platform_user_id)) == [dev.aad]
    assert "'2x' is not a round number." in in_chat(
        running, fola, f"remove-facilitator {dev.email} round 2x", "round number")

    assert f"they can no longer act on round {round_id}" in in_chat(
        running, fola, f"remove-facilitator {dev.email} round {round_id}", "Done")
    assert running.scalars(select(RoundFacilitator)) == []
    assert "only facilitators can use status." in in_team(
        running, tenant, dev, f"status {round_id}", "facilitators")


@pytest.mark.each_database
def test_a_confirmation_recorded_as_its_round_is_being_deleted_is_deleted(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The deletion has looked for the messages repeating the round's answers, and is
    deleting Amara's first confirmation, when her second answer is confirmed and the
    confirmation recorded: the deletion finds it before it deletes the round's rows, and
    deletes it too. No message of the bot's in her chat repeats her words."""
    running, amara = running_teams, tenant.members[0]
    said = ["Peer support from the pharmacy next door.", "Commissioners who call back."]
    round_id = started(running, tenant)
    fola = facilitator_chat(running, tenant)
    question(running, amara, 1)
    running.teams.chat(amara, said[0])

    def confirmations() -> list[BotMessage]:
        return running.scalars(select(BotMessage).where(BotMessage.kind == "confirmation"))

    running.wait_for(confirmations, "her first confirmation, recorded")
    question(running, amara, 2)
    asked = card_sent(running, fola, f"delete {round_id}", "Deleting it removes")
    running.stub.hold("delete", lambda body: True)
    deleting = threading.Thread(target=running.teams.submit, args=(
        fola, buttons(asked)[f"Delete round {round_id}"]["data"]), kwargs={"execute": False})
    deleting.start()
    running.wait_for(lambda: running.stub.holding, "the first, being deleted")
    running.teams.chat(amara, said[1])
    running.wait_for(lambda: len(confirmations()) == 2, "her second, recorded")
    running.stub.release()
    running.wait_for(lambda: [c for c in running.stub.sent_to(fola)
                              if "is deleted" in card_text(c)], "the deletion")
    deleting.join()
    shown = [json.dumps(c.body) for c in running.stub.sent_to(amara)
             if c.activity_id not in running.stub.gone]
    assert [words for words in said if any(words in one for one in shown)] == []
