"""A single-tenant bot (TEAMS_TENANT_ID set) acts only on activities from its own tenant: one
the Bot Connector signed for another tenant, or naming none, is refused with 401, stores
nothing and sends nothing; without TEAMS_TENANT_ID every tenant is served, as before."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import InboxEvent, Round, TeamsConversation, TeamsUser
from tests.teams.conftest import PACK, RunningTeams, Tenant, run_teams
from tests.teams_connector_stub import APP_ID, PASSWORD, TENANT, ConnectorStub, card_text
from tests.test_operations import Serving

OTHER = "0b7e3e7a-5f0c-4a2f-9d7e-4e1c2d3a4b5c"


@pytest.fixture
def single_tenant(database: Database, database_url: str, connector: ConnectorStub,
                  tenant: Tenant) -> Iterator[RunningTeams]:
    with run_teams(database, database_url, connector, tenant.facilitator,
                   TEAMS_TENANT_ID=TENANT.upper()) as running:
        yield running


def from_tenant(activity: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    """The activity as Teams would send it from `tenant` (None: naming no tenant)."""
    moved = copy.deepcopy(activity)
    for holder in (moved["conversation"], moved.get("channelData") or {}):
        holder.pop("tenantId", None)
        holder.pop("tenant", None)
        if tenant is not None:
            holder.update({"tenantId": tenant} if holder is moved["conversation"]
                          else {"tenant": {"id": tenant}})
    return moved


def activities(running: RunningTeams, tenant: Tenant) -> dict[str, dict[str, Any]]:
    teams, person = running.teams, tenant.members[0]
    running.stub.open_chat(person, "a:1amara-chat")
    answer = {**teams._base("message", person, teams.personal(person)),
              "text": "Our PCN's weekly huddle", "textFormat": "plain"}
    added = {**teams._base("conversationUpdate", tenant.facilitator,
                           teams.channel(tenant.team)),
             "membersAdded": [{"id": f"28:{APP_ID}"}],
             "channelData": {**teams.team_data(tenant.team), "eventType": "teamMemberAdded"}}
    start = {**teams._base("message", tenant.facilitator, teams.channel(tenant.team)),
             "text": f"<at>Roundtable</at> start {PACK} to team", "textFormat": "plain",
             "channelData": teams.team_data(tenant.team)}
    return {"answer": answer, "added": added, "start": start}


def test_a_single_tenant_bot_refuses_activities_from_another_tenant_or_none_with_401(
        single_tenant: RunningTeams, tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    running, teams, stub = single_tenant, single_tenant.teams, single_tenant.stub
    caplog.set_level(logging.WARNING, logger="bot.teams.app")
    sent = activities(running, tenant)
    refused = [from_tenant(a, t) for a in sent.values() for t in (OTHER, None)]
    # another tenant's id in the channel data of an activity whose conversation names ours
    mixed = copy.deepcopy(sent["start"])
    mixed["channelData"]["tenant"] = {"id": OTHER}
    statuses = [teams.send(activity).status for activity in [*refused, mixed]]

    assert statuses == [401] * 7
    assert running.scalars(select(TeamsConversation)) == []
    assert running.scalars(select(TeamsUser)) == []
    assert running.scalars(select(Round)) == []
    assert running.replies() == []
    with running.database.inbox_sessions() as session:
        assert list(session.scalars(select(InboxEvent))) == []
    refusals = [r.getMessage() for r in caplog.records if "TEAMS_TENANT_ID" in r.getMessage()]
    assert len(refusals) == 7
    assert f"from tenant '{OTHER}': TEAMS_TENANT_ID is {TENANT.upper()}" in refusals[0]
    assert "from tenant (none named)" in refusals[1]

    # the same activities from the bot's own tenant are acted on
    assert teams.send(sent["added"]).status == 200
    assert teams.send(sent["start"]).status == 200
    channel = tenant.team.channel_id
    running.wait_for(lambda: [c for c in stub.sent(channel) if " started (" in card_text(c)],
                     "the round to start")
    # one round, one welcome and one "started": nothing came of the refused activities
    assert [r.pack_id for r in running.scalars(select(Round))] == [PACK]
    said = [card_text(c) for c in stub.sent(channel)]
    assert len([t for t in said if "Roundtable is here" in t]) == 1, said
    assert len([t for t in said if " started (" in t]) == 1, said


def test_without_a_tenant_setting_every_tenant_is_served(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams = running_teams, running_teams.teams
    added = activities(running, tenant)["added"]
    assert teams.send(from_tenant(added, OTHER)).status == 200
    running.wait_for(lambda: running.stub.sent(tenant.team.channel_id), "the welcome")
    assert [c.tenant_id for c in running.scalars(select(TeamsConversation))] == [OTHER]



@pytest.mark.long
def test_serve_with_teams_and_no_tenant_setting_logs_nothing_to_worry_about(
        tmp_path: Path, connector: ConnectorStub) -> None:
    """The Teams SDK says at start that TENANT_ID (a variable of its own, which Roundtable
    asks operators to leave unset) is not set, and warns of a preview API it uses itself, in
    a line that is not JSON: neither is true of Roundtable's set-up, so a clean start of
    `roundtable serve` with Teams logs only JSON lines, and none above INFO."""
    with Serving(tmp_path, TEAMS_APP_ID=APP_ID, TEAMS_APP_PASSWORD=PASSWORD,
                 TEAMS_LOGIN_URL=connector.base_url, TEAMS_OPENID_URL=connector.openid_url,
                 TEAMS_SERVICE_URL=connector.base_url) as serving:
        pass
    assert connector.tokens_issued  # Teams was on: serve checked its app id and secret
    assert [line for line in serving.lines if line["level"] != "INFO"] == []


def test_a_single_tenant_bot_refuses_web_chat_which_names_no_tenant(
        single_tenant: RunningTeams, caplog: pytest.LogCaptureFixture) -> None:
    """Web Chat and Direct Line (the Azure portal's "Test in Web Chat") name no tenant, and
    nothing in their activities could show the sender is in one: a single-tenant bot refuses
    them as it refuses any activity naming none, and says so in the log."""
    caplog.set_level(logging.WARNING, logger="bot.teams.app")
    service_url = "https://webchat.botframework.com/"
    web_chat = {"type": "message", "id": "GdJzHTSVKdxIFw4sR3wuZz-eu|0000001",
                "timestamp": "2026-11-23T10:00:00.000Z", "serviceUrl": service_url,
                "channelId": "webchat", "from": {"id": "dl_5d1f2b6c", "name": "You"},
                "conversation": {"id": "GdJzHTSVKdxIFw4sR3wuZz-eu"},
                "recipient": {"id": f"roundtable@{APP_ID}", "name": "Roundtable"},
                "text": "help", "textFormat": "plain", "locale": "en-GB"}
    answer = single_tenant.teams.send(web_chat, single_tenant.stub.sign(service_url))
    assert answer.status == 401
    assert single_tenant.scalars(select(TeamsConversation)) == []
    assert [r.getMessage() for r in caplog.records] == [
        "refused a Teams message activity in a personal conversation from tenant (none "
        f"named): TEAMS_TENANT_ID is {TENANT.upper()}"]
