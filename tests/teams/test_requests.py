"""What reaches /api/messages: only activities the Bot Connector signed for this bot are acted
on (acceptance 3 of issue 14); the Teams SDK's own JWT validation decides, pointed at the
stand-in issuer through its configuration."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import select

from storage.models import InboxEvent, ProcessedEvent, Round, TeamsConversation, TeamsUser
from tests.teams.conftest import PACK, RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import card_text


def test_an_unauthenticated_or_wrongly_signed_activity_gets_401_and_changes_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, stub, teams = running_teams, running_teams.stub, running_teams.teams
    start = {**teams._base("message", tenant.facilitator, teams.channel(tenant.team)),
             "text": f"<at>Roundtable</at> start {PACK} to team",
             "channelData": teams.team_data(tenant.team)}
    body = json.dumps(start).encode()
    plain = {"Content-Type": "application/json"}
    statuses = [
        teams.post(body, plain).status,
        teams.post(body, {**plain, "Authorization": "Basic dXNlcjpwYXNz"}).status,
        teams.send(start, token="not-a-jwt").status,
        teams.send(start, token=stub.sign(forged=True)).status,
        teams.send(start, token=stub.sign(expired=True)).status,
        teams.send(start, token=stub.sign(audience="another-bot")).status,
        teams.send(start, token=stub.sign(issuer="https://login.example.com")).status,
        teams.send(start, token=stub.sign(service_url="https://elsewhere.example.com")).status,
    ]
    assert statuses == [401] * 8
    assert running.scalars(select(Round)) == []
    assert running.scalars(select(TeamsConversation)) == []
    with running.database.inbox_sessions() as session:
        assert list(session.scalars(select(InboxEvent))) == []
    assert running.scalars(select(ProcessedEvent)) == []
    assert stub.sent() == []
    # the same activity, signed by the Bot Connector, is acted on
    assert teams.send(start).status == 200
    running.wait_for(lambda: [c for c in stub.sent() if "started" in card_text(c)],
                     "the round to start")


def test_it_refuses_malformed_and_oversized_bodies_and_wrong_methods(
        running_teams: RunningTeams) -> None:
    teams = running_teams.teams
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {teams.stub.sign()}"}
    huge = json.dumps({"type": "message", "text": "x" * 400_000}).encode()
    assert teams.post(b'{"type": "message", ', auth).status == 400
    assert teams.post(b"[1, 2]", auth).status == 400
    assert teams.post(huge, auth).status == 413
    assert teams.send({"type": "message", "id": 7, "from": "me"}).status == 400
    conn_status = running_teams.teams.post(b"{}", {"Content-Type": "application/json"}).status
    assert conn_status == 401


def test_it_refuses_bodies_nested_too_deep_or_holding_half_a_surrogate_pair_with_400(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    teams = running_teams.teams
    person = tenant.members[0]
    for token in ("not-a-token", teams.stub.sign()):
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        deep = b'{"type": "message", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert teams.post(deep, auth).status == 400
    teams.stub.open_chat(person, "a:1amara-chat")
    _, answers = teams.chat(person, "half an emoji \ud83d")
    assert [a.status for a in answers] == [400]
    assert running_teams.replies() == []


def test_a_card_naming_an_id_no_row_can_have_is_told_it_could_not_be_read_and_changes_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    boss = tenant.facilitator  # facilitators' buttons reach the database too
    stub.open_chat(boss, "a:1fola-chat")
    assert teams.in_channel(tenant.team, boss, f"start {PACK} to team").status == 200
    running.wait_for(lambda: running.scalars(select(Round)), "the round to start")
    buttons = [{"roundtable": verb, "prompt": "q1", "answer": "Kept?", "asked": "a1",
                "digest": 1} for verb in ("answer", "skip", "delete-round", "cancel",
                                          "digest-approve", "digest-open", "digest-edit")]
    sent = 0
    for bad in (2**31, 2**70, True):
        for data in buttons:
            sent += 1
            execute, = teams.submit(boss, {**data, "round": bad})
            assert execute.status == 200, (data, bad)
            assert "could not be read" in execute.json()["value"], (data, bad)
            submit, = teams.submit(boss, {**data, "round": bad}, execute=False)
            assert submit.status == 200, (data, bad)
    running.wait_for(lambda: len([c for c in stub.sent_to(boss)
                                  if "could not be read" in card_text(c)]) >= sent,
                     "each Action.Submit to be told its card could not be read")
    assert running.replies() == []
    assert [r.status for r in running.scalars(select(Round))] == ["open"]


def test_it_acts_on_nothing_a_bot_sends_even_with_a_persons_entra_id(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    boss, amara = tenant.facilitator, tenant.members[0]
    assert teams.in_channel(tenant.team, boss, f"start {PACK} to team").status == 200
    running.wait_for(lambda: stub.sent_to(amara), "the first question to reach Amara")
    users_before = {u.aad_object_id: u.user_id for u in running.scalars(select(TeamsUser))}
    sent_before = len(stub.sent())
    a_bot = {"id": "28:another-bot", "name": "Another bot"}
    close = teams._base("message", boss, teams.channel(tenant.team))
    close.update(text="<at>Roundtable</at> close 1", channelData=teams.team_data(tenant.team),
                 **{"from": {**a_bot, "aadObjectId": boss.aad}})
    answer = teams._base("message", amara, teams.personal(amara))
    answer.update(text="Written by a bot", **{"from": {**a_bot, "aadObjectId": amara.aad}})
    press = teams._base("invoke", amara, teams.personal(amara))
    press.update(name="adaptiveCard/action", value={"action": {"type": "Action.Execute", "data": {
        "roundtable": "skip", "round": 1, "prompt": "x"}}},
        **{"from": {**a_bot, "aadObjectId": amara.aad}})
    assert [teams.send(a).status for a in (close, answer, press)] == [200] * 3
    # the people's own message after them is acted on: so those were not just slow
    assert teams.in_channel(tenant.team, boss, "list").status == 200
    running.wait_for(lambda: len(stub.sent()) > sent_before, "the answer to list")
    assert [r.status for r in running.scalars(select(Round))] == ["open"]
    assert running.replies() == []
    with running.database.inbox_sessions() as session:
        assert list(session.scalars(select(InboxEvent))) == []
    assert {u.aad_object_id: u.user_id
            for u in running.scalars(select(TeamsUser))} == users_before
    assert "closed" not in " ".join(card_text(c) for c in stub.sent())


def test_a_start_form_naming_people_no_address_can_be_asks_teams_nothing_and_starts_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    boss = tenant.facilitator
    stub.open_chat(boss, "a:1fola-chat")
    assert teams.added_to_team(tenant.team, boss).status == 200
    running.wait_for(lambda: stub.sent(), "the welcome in the channel")
    calls = len(stub.calls)
    for people in ("x" * 100_000, "../../../v3/conversations/a:1fola-chat/members",
                   "amara@nhs.net?x=1", "a b@nhs.net"):
        answered, = teams.submit(boss, {"roundtable": "start", "pack": PACK, "people": people})
        assert answered.status == 200
        assert answered.json()["value"].startswith("I can't find "), people[:40]
        assert len(answered.json()["value"]) <= 500
    assert len(stub.calls) == calls  # the Connector was not asked
    assert running.scalars(select(Round)) == []


def test_an_activity_whose_ids_are_longer_than_teams_gives_gets_400_and_changes_nothing(
        running_teams: RunningTeams, tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    amara = tenant.members[0]
    assert teams.in_channel(tenant.team, tenant.facilitator,
                            f"start {PACK} to team").status == 200
    asked = running.wait_for(lambda: stub.sent_to(amara), "the first question to reach Amara")
    data = {**asked[0].body["attachments"][0]["content"]["actions"][0]["data"],
            "answer": "An answer in the card"}
    long_id = "1:" + "9" * 300
    answer = teams._base("message", amara, teams.personal(amara), long_id)
    answer.update(text="An answer in the chat")
    press = teams._base("invoke", amara, teams.personal(amara), long_id)
    press.update(name="adaptiveCard/action", value={"action": {"type": "Action.Execute",
                                                               "data": data}})
    gone = teams._base("messageDelete", amara, teams.personal(amara), long_id)
    someone = teams._base("message", amara, teams.personal(amara))
    someone.update(text="Hello", **{"from": {"id": amara.user_id, "aadObjectId": "a" * 100}})
    elsewhere = teams._base("message", amara, {**teams.personal(amara), "tenantId": "t" * 100})
    elsewhere.update(text="Hello")
    with caplog.at_level(logging.WARNING):
        statuses = [teams.send(a).status for a in (answer, press, gone, someone, elsewhere)]
    assert statuses == [400] * 5
    assert running.replies() == []
    with running.database.inbox_sessions() as session:
        assert list(session.scalars(select(InboxEvent))) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_it_welcomes_only_its_own_arrival_and_tells_a_guest_with_no_entra_id_why_not(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    amara = tenant.members[0]
    stub.open_chat(amara, "a:1amara-chat")
    another_bot = teams._base("conversationUpdate", tenant.facilitator, teams.channel(tenant.team))
    another_bot.update(membersAdded=[{"id": "28:another-bot"}], channelData={
        **teams.team_data(tenant.team), "eventType": "teamMemberAdded"})
    assert teams.send(another_bot).status == 200
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    running.wait_for(lambda: stub.sent(), "the welcome in the channel")
    time.sleep(0.3)  # time for a welcome to the other bot, had one been sent
    assert [card_text(c)[:24] for c in stub.sent()] == ["Roundtable is here. Faci"]

    def pressed_by_a_guest(verb: str) -> str:
        guest = teams._base("invoke", amara, teams.personal(amara))
        del guest["from"]["aadObjectId"]
        guest.update(name="adaptiveCard/action", value={"action": {
            "type": "Action.Execute", "data": {"roundtable": verb, "round": 1, "prompt": "x",
                                               "answer": "Protected time"}}})
        answered = teams.send(guest)
        assert answered.status == 200
        return str(answered.json()["value"])
    assert pressed_by_a_guest("answer") == (
        "I could not save that. Teams did not say who you are: sign in to Teams with your "
        "work account to use Roundtable's buttons.")
    assert pressed_by_a_guest("skip") == (
        "Teams did not say who you are: sign in to Teams with your work account to use "
        "Roundtable's buttons.")
    assert running.replies() == []


def test_a_start_form_naming_no_pack_says_so_without_naming_the_servers_folders(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, stub = running_teams, running_teams.teams, running_teams.stub
    boss = tenant.facilitator
    stub.open_chat(boss, "a:1fola-chat")
    told = [teams.submit(boss, {"roundtable": "start", "pack": pack, "people": "x@nhs.net"}
                         )[0].json()["value"] for pack in ("no-such-pack", "1")]
    assert told == [f"No pack {p!r} (known: {PACK})." for p in ("no-such-pack", "1")]
    assert running.scalars(select(Round)) == []


def test_a_display_name_as_long_as_entra_allows_is_kept_cut_and_the_round_starts(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams = running_teams, running_teams.teams
    amara = tenant.members[0]
    amara.name = "Amara " + "Adebayo-" * 31  # 254 characters: Entra allows 256
    start_from_channel(running, tenant)
    [kept] = running.wait_for(lambda: running.scalars(select(TeamsUser.name).where(
        TeamsUser.aad_object_id == amara.aad)), "Amara to be kept from the team's roster")
    assert kept == amara.name[:199].rstrip() + "…"
    question(running, amara, 1)
    _, [written] = teams.chat(amara, "Amara's answer")
    assert written.status == 200
    running.wait_for(lambda: running.replies(), "Amara's answer to be stored")
    assert [r.text for r in running.replies()] == ["Amara's answer"]
