"""Teams commands are told from answers written in the same chat; the app package holds a
manifest for this bot and icons of the sizes Teams asks for."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core.inbox import MAX_ATTEMPTS
from bot.teams.commands import command
from storage.models import InboxEvent, Round
from tests.teams.conftest import PACK, RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel
from tests.teams.test_round_management import in_chat
from tests.teams_connector_stub import APP_ID, Call, Person, card_text


@pytest.mark.parametrize("text", [
    "Stop the duplicate audits", "status: nobody knows", "Close working with the PCN",
    "help the locums first", "start with protected time", "digest of the week was useful",
    "remind people of the peer review", "forget-me-not", "add-facilitator for every PCN",
    "status quo", "close gaps", "set clear goals", "review the rota weekly",
    "invite them to lunch", "delete the duplicate audits", "delete 3 of the audits",
    "list all the PCNs", "reopen the Saturday clinics", "reopen 2 clinics",
    "status who cares", "status 3 who knows", "remove-facilitator roles from the board",
    "add-facilitator fola@nhs.net for round 2", "Start early", "start now", "Start small.",
    "start Sel-pharmacy-leadership",
])
def test_an_answer_that_begins_like_a_command_is_an_answer(text: str) -> None:
    assert command(text) is None


@pytest.mark.parametrize(("text", "name"), [
    ("stop", "stop"), ("  Help ", "help"), ("Stop.", "stop"), ("help?", "help"),
    ("my-data!", "my-data"), ("status 3", "status"), ("digest", "digest"),
    ("forget-me", "forget-me"), ("start sel-pharmacy-leadership to team", "start"),
    ("start p to amara@nhs.net, ben@nhs.net closes 14d", "start"),
    ("invite 2 to team", "invite"), ("add-facilitator fola@nhs.net", "add-facilitator"),
    ("set 3 digest #Leaders", "set"), ("set digest none", "set"), ("review 3", "review"),
    ("review 3 on within 12h", "review"), ("list", "list"), ("List all", "list"),
    ("status who", "status"), ("status 3 who", "status"), ("reopen 3", "reopen"),
    ("reopen 3 closes 14d", "reopen"), ("delete 3", "delete"), ("delete", "delete"),
    ("remove-facilitator fola@nhs.net", "remove-facilitator"),
    ("add-facilitator fola@nhs.net round 2", "add-facilitator"),
    ("remove-facilitator 00000000-0000-0000-0000-000000001001 round 2", "remove-facilitator"),
    ("start sel-pharmacy-leadership", "start"), ("start ics-2026", "start"),
])
def test_a_command_alone_is_a_command(text: str, name: str) -> None:
    found = command(text)
    assert found is not None and found.name == name


def test_set_review_or_start_sent_alone_shows_how_it_is_typed(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As the suggested commands send set and review, and as Slack answers /roundtable start:
    a facilitator's command word alone is not taken for an answer."""
    running, facilitator = running_teams, tenant.facilitator
    running.stub.open_chat(facilitator, "a:1facilitator-chat")
    assert running.teams.installed(facilitator, "a:1facilitator-chat").status == 200
    for word, shown in (("review", "review N [on|off]"), ("set", "set [round] [digest"),
                        ("start", "start <pack> to <team|email")):
        running.teams.chat(facilitator, word)
        running.wait_for(lambda shown=shown: [c for c in running.stub.sent_to(facilitator)
                                              if f"Type it like this: {shown}" in card_text(c)],
                         f"the usage of {word}")
    assert running.replies() == []


def asked_facilitator(running: RunningTeams, tenant: Tenant) -> Person:
    """The facilitator, who started a round for themselves from their 1:1 chat (a facilitator
    is asked questions too), once question 1 is waiting for them there."""
    facilitator = tenant.facilitator
    pharmacists = running.stub.add_team("Pharmacists", [facilitator])
    assert running.teams.added_to_team(pharmacists, facilitator).status == 200
    running.stub.open_chat(facilitator, "a:1facilitator-chat")
    assert running.teams.installed(facilitator, "a:1facilitator-chat").status == 200
    running.teams.chat(facilitator, f"start {PACK} to {facilitator.email}")
    question(running, facilitator, 1)
    return facilitator


def test_start_and_a_pack_alone_shows_how_it_is_typed_and_is_not_an_answer(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A facilitator with a question waiting who writes `start <pack>` without `to …` is
    shown how start is typed; an answer that begins "Start" is still saved as one."""
    running, facilitator = running_teams, asked_facilitator(running_teams, tenant)
    running.teams.chat(facilitator, f"start {PACK}")
    running.wait_for(lambda: [c for c in running.stub.sent_to(facilitator) if
                              "Type it like this: start <pack> to <team|email" in card_text(c)],
                     "the usage of start")
    assert running.replies() == []
    running.teams.chat(facilitator, "Start early")
    running.wait_for(lambda: [r for r in running.replies() if r.text == "Start early"],
                     "the answer saved")
    assert [r.text for r in running.replies()] == ["Start early"]


def test_start_naming_no_pack_while_a_question_waits_is_a_facilitators_answer(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """"Start early to beat the queues" reads as `start` with pack "early"; written in the
    1:1 chat by a facilitator with a question waiting, no pack being called that, it is
    their answer, not a start refused (and their words dropped)."""
    running, facilitator = running_teams, asked_facilitator(running_teams, tenant)
    saved = in_chat(running, facilitator, "Start early to beat the queues", "Saved")
    assert saved.startswith("Saved as your answer to question 1")
    assert [r.text for r in running.replies()] == ["Start early to beat the queues"]
    assert len(running.scalars(select(Round.id))) == 1
    assert not [c for c in running.stub.sent_to(facilitator) if "no pack" in card_text(c)]


@pytest.mark.parametrize("text", ["close 3x", "status #2", "remind 1.", "set 2x closes 14d",
                                  "review #3", "invite 2x to team", "delete 3x", "status 2x who",
                                  "reopen #2", "reopen 2x closes 14d",
                                  "remove-facilitator fola@nhs.net round 2x"])
def test_a_mistyped_round_number_is_a_command_to_refuse_not_an_answer(text: str) -> None:
    assert command(text) is not None


def test_in_a_channel_a_command_word_is_enough_for_its_mistakes_to_be_explained() -> None:
    found = command("close the round", answers_here=False)
    assert found is not None and found.args == ["the", "round"]
    assert command("close the round") is None  # in the 1:1 chat, an answer
    assert command("Stop the duplicate audits", answers_here=False) is None


def test_it_packages_the_manifest_and_both_icons(tmp_path: Path) -> None:
    out = tmp_path / "roundtable-teams.zip"
    result = CliRunner().invoke(app, ["teams", "package", "--app-id", APP_ID, "--domain",
                                      "roundtable.nhs.example", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        sizes = {name: struct.unpack(">II", archive.read(name)[16:24])
                 for name in ("color.png", "outline.png")}
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team"}
    assert manifest["validDomains"] == ["roundtable.nhs.example"]
    assert manifest["developer"]["websiteUrl"] == "https://roundtable.nhs.example"
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    suggested = {lists["scopes"][0]: lists["commands"]
                 for lists in manifest["bots"][0]["commandLists"]}
    assert {"set", "review", "list"} <= {c["title"] for c in suggested["personal"]}
    assert {"set", "review", "list"} <= {c["title"] for c in suggested["team"]}
    # forget-me deletes everything held about the person, as its card and help say
    assert {c["title"]: c["description"] for c in suggested["personal"]}["forget-me"] == (
        "Delete everything Roundtable holds about you (asks first)")
    for commands in suggested.values():  # the manifest schema's limits
        assert len(commands) <= 10
        assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
        # each suggestion, sent as it is, is a command (and never taken as an answer)
        assert all(command(c["title"]) is not None for c in commands)


def test_it_refuses_an_app_id_that_is_not_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["teams", "package", "--app-id", "my-bot", "--out",
                                      str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "is not an app id" in result.output


@pytest.mark.parametrize("words", ["to digest Leaders", "to fola@nhs.net anonymous",
                                   "to fola@nhs.net closes 14d"])
def test_invite_typed_wrongly_shows_how_invite_is_typed(
        running_teams: RunningTeams, tenant: Tenant, words: str) -> None:
    running, facilitator = running_teams, tenant.facilitator
    running.stub.open_chat(facilitator, "a:1facilitator-chat")
    assert running.teams.installed(facilitator, "a:1facilitator-chat").status == 200
    running.teams.chat(facilitator, f"invite 1 {words}")
    [said] = running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(facilitator)
                                       if "like this" in card_text(c)], "the refusal")
    assert said.endswith("Type it like this: invite <round> to <team|email or Entra id …> "
                         "[digest #channel]."), said
    assert "start" not in said


def _monospace(node: Any) -> list[str]:
    """The text runs of a card set in a fixed-width font."""
    if isinstance(node, dict):
        found = [str(node["text"])] if node.get("fontType") == "Monospace" else []
        return found + [t for v in node.values() for t in _monospace(v)]
    if isinstance(node, list):
        return [t for item in node for t in _monospace(item)]
    return []


def test_commands_teams_shows_are_in_a_fixed_width_font_never_in_backticks(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams shows no inline code: a backtick would be read as one, so every command the bot
    names (help, usage lines, refusals) is a run in a fixed-width font instead."""
    running, facilitator = running_teams, tenant.facilitator
    start_from_channel(running, tenant)
    with running.database.inbox_sessions.begin() as session:  # one message the inbox set aside
        session.add(InboxEvent(platform="teams", event_id="set-aside", payload="{}",
                               received_at=running.bot.clock(), attempts=MAX_ATTEMPTS,
                               last_error="ValueError: unreadable"))
    running.stub.open_chat(facilitator, "a:1facilitator-chat")
    assert running.teams.installed(facilitator, "a:1facilitator-chat").status == 200
    asked = {"help": "asks a workshop's questions",
             f"start {PACK} to team": "works in a team's channel",
             "start ../packs/x to amara@nhs.net": "is not a pack id",
             "status": "could not be handled",
             "close 1": "Round 1 is closed",
             "set 1 closes 14d": "to give it a closing date"}
    for text, answer in asked.items():
        before = len(running.stub.sent_to(facilitator))
        running.teams.chat(facilitator, text)
        running.wait_for(lambda before=before, answer=answer: [
            c for c in running.stub.sent_to(facilitator)[before:] if answer in card_text(c)],
            f"the answer to {text!r}")
    assert running.teams.in_channel(tenant.team, facilitator,
                                    "add-facilitator nobody").status == 200
    running.wait_for(lambda: [c for c in running.stub.sent(tenant.team.channel_id)
                              if "Entra id for every round" in card_text(c)],
                     "the usage of add-facilitator")
    sent = [c.body for c in running.stub.sent()]
    assert "`" not in json.dumps(sent, ensure_ascii=False)
    fixed = _monospace(sent)
    for shown in ("start <pack> to team", "to team", "roundtable packs list", "reopen",
                  "round N", "forget-me", "roundtable inbox list"):
        assert shown in fixed, (shown, fixed)


def test_the_words_teams_tells_people_to_write_are_in_a_fixed_width_font(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The welcomes, the first question's card and the reply to words written in a channel
    name a command to write: like every command the bot names, each is set apart in a
    fixed-width font, not left in the middle of the sentence as plain words."""
    running, stub, amara = running_teams, running_teams.stub, tenant.members[0]
    start_from_channel(running, tenant)
    stub.open_chat(amara, "a:1amara-chat")
    assert running.teams.installed(amara, "a:1amara-chat").status == 200
    assert running.teams.in_channel(tenant.team, amara, "Protected time").status == 200
    channel = tenant.team.channel_id

    def fixed(call: Call) -> list[str]:
        return _monospace(call.body)

    def said(where: Callable[[], list[Call]], words: str) -> Call:
        return running.wait_for(lambda: next((c for c in where() if words in card_text(c)),
                                             None), words)

    assert fixed(said(lambda: stub.sent(channel), "Roundtable is here.")) == [
        "start <pack> to team", "form"]
    assert fixed(said(lambda: stub.sent("a:1amara-chat"), "Hello! I am Roundtable.")) == [
        "help"]
    assert fixed(said(lambda: stub.sent(channel), "Answers go in your 1:1 chat")) == ["help"]
    assert "stop" in fixed(said(lambda: stub.sent_to(amara), "Question 1 of 6"))


def test_my_data_from_someone_never_asked_anything_names_no_other_platform(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Nobody asked Fola a question, but the bot keeps how to reach her in Teams: she gets the
    file of that, and nothing she reads names another platform (no "Slack id")."""
    running, fola = running_teams, tenant.facilitator
    running.stub.open_chat(fola, "a:1fola-chat")
    assert running.teams.installed(fola, "a:1fola-chat").status == 200
    running.teams.chat(fola, "my-data")
    told = running.wait_for(lambda: (lambda texts: texts if any(
        "I have sent you" in t for t in texts) else None)(
        [card_text(c) for c in running.stub.sent("a:1fola-chat")
         if "Hello!" not in card_text(c)]), "the answer")
    assert any(t.startswith("Everything Roundtable holds about you") for t in told), told
    assert any("0 answers and everything else held about you" in t for t in told), told
    assert not any("Slack" in t for t in told), told
