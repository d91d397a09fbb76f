"""A running Roundtable with Teams (and Slack, for mixed rounds) against local stand-ins.

Activities shaped like Teams' own (Microsoft's docs: a message in a 1:1 chat, a channel
message with the bot's @mention, conversationUpdate when the app is added to a team, a card's
Action.Submit and Action.Execute, messageUpdate and messageDelete) are signed with the stand-in
issuer's key and POSTed to the bot's real /api/messages, where the Teams SDK checks them.
"""

from __future__ import annotations

import http.client
import itertools
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import waitress
from sqlalchemy import select
from waitress import wasyncore

from bot.app.platforms import Platform
from bot.app.processes import MAX_BODY, Served, endpoints
from bot.app.roundtable import Roundtable, assemble
from bot.config import Settings, load_settings
from bot.teams.app import TeamsPlatform
from storage.database import Database
from storage.models import Reply
from tests.helpers import PATIENCE
from tests.slack.conftest import advancing_clock
from tests.teams_connector_stub import APP_ID, PASSWORD, TENANT, ConnectorStub, Person, Team

MEMBER_NAMES = ["Amara", "Ben", "Chidi", "Dev", "Elif"]
PACK = "sel-pharmacy-leadership"


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class TeamsDriver:
    """Plays Teams' part: signed activities to the bot's /api/messages."""

    def __init__(self, port: int, stub: ConnectorStub) -> None:
        self.port, self.stub = port, stub
        self._ids = itertools.count(1)

    def post(self, body: bytes, headers: dict[str, str]) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/api/messages", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return Response(response.status, data)

    def send(self, activity: dict[str, Any], token: str | None = None) -> Response:
        headers = {"Content-Type": "application/json",
                   "Authorization": f"Bearer {token or self.stub.sign()}"}
        return self.post(json.dumps(activity).encode(), headers)

    def new_id(self) -> str:
        return f"1:{int(time.time() * 1000)}{next(self._ids):06d}"

    def _base(self, kind: str, sender: Person | None, conversation: dict[str, Any],
              activity_id: str | None = None) -> dict[str, Any]:
        return {
            "type": kind, "id": activity_id or self.new_id(),
            "timestamp": "2026-11-23T10:00:00.000Z", "localTimestamp":
                "2026-11-23T10:00:00.000+00:00", "localTimezone": "Europe/London",
            "serviceUrl": self.stub.base_url, "channelId": "msteams",
            "from": ({"id": sender.user_id, "name": sender.name, "aadObjectId": sender.aad}
                     if sender else {"id": "29:system"}),
            "conversation": conversation,
            "recipient": {"id": f"28:{APP_ID}", "name": "Roundtable"},
            "entities": [{"type": "clientInfo", "locale": "en-GB", "country": "GB",
                          "platform": "Web", "timezone": "Europe/London"}],
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-GB",
        }

    def personal(self, person: Person) -> dict[str, Any]:
        return {"conversationType": "personal", "tenantId": TENANT,
                "id": self.stub.chat_of(person)}

    def chat(self, person: Person, text: str, *, activity_id: str | None = None,
             times: int = 1, zone: str | None = None,
             attachments: list[dict[str, Any]] | None = None, formatted: bool = False
             ) -> tuple[str, list[Response]]:
        """The person writes in their 1:1 chat with the bot (delivered `times` times), with
        `attachments` (a picture, a file) when given; `formatted`: `text` is the HTML Teams
        sends for a message with formatting."""
        activity = self._base("message", person, self.personal(person), activity_id)
        activity.update(text=text, textFormat="xml" if formatted else "plain")
        if attachments:
            activity["attachments"] = attachments
        if zone:
            activity["localTimezone"] = zone
        return activity["id"], [self.send(activity) for _ in range(times)]

    def reply_quoting(self, person: Person, quoted_id: str, quote: tuple[str, str], text: str,
                      form: str) -> tuple[str, Response]:
        """The person replies in their chat quoting one of its messages (Teams' "Reply"),
        `quote` its sender's name and the words it shows, as Teams carries it (`form`):
        "html" (a blockquote in the HTML text), "run-together" (plain text starting with the
        quote's words, the blockquote in a text/html attachment) or "entity" (a quotedReply
        entity, and its mark in the text)."""
        activity = self._base("message", person, self.personal(person))
        sender, shown = quote
        block = (f'<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" '
                 f'itemid="{quoted_id}"><strong itemprop="mri" itemid="28:{APP_ID}">{sender}'
                 f'</strong><span itemprop="time" itemid="{quoted_id}"></span>'
                 f'<p itemprop="preview">{shown}</p></blockquote>')
        if form == "html":
            activity.update(text=f"{block}<p>{text}</p>", textFormat="xml")
        elif form == "run-together":
            activity.update(text=f"{sender}{shown}{text}", textFormat="plain", attachments=[
                {"contentType": "text/html", "content": f"{block}<p>{text}</p>"}])
        else:
            activity.update(text=f'<quoted messageId="{quoted_id}"/>{text}', textFormat="plain")
            activity["entities"].append({"type": "quotedReply", "quotedReply": {
                "messageId": quoted_id, "senderName": sender, "preview": shown}})
        return activity["id"], self.send(activity)

    def edit(self, person: Person, activity_id: str, text: str,
             attachments: list[dict[str, Any]] | None = None, when: str | None = None
             ) -> Response:
        """The person edits a message of theirs (at `when`, the activity's timestamp)."""
        activity = self._base("messageUpdate", person, self.personal(person), activity_id)
        activity.update(text=text, textFormat="plain")
        if when is not None:
            activity["timestamp"] = when
        if attachments:
            activity["attachments"] = attachments
        activity["channelData"]["eventType"] = "editMessage"
        return self.send(activity)

    def undelete(self, person: Person, activity_id: str, text: str, when: str) -> Response:
        """The person brings back a message they deleted (Undo): an update marked so, with
        the message's words, at `when` (the activity's timestamp)."""
        activity = self._base("messageUpdate", person, self.personal(person), activity_id)
        activity.update(text=text, textFormat="plain", timestamp=when)
        activity["channelData"]["eventType"] = "undeleteMessage"
        return self.send(activity)

    def delete(self, person: Person, activity_id: str, when: str | None = None) -> Response:
        """The person deletes a message of theirs (at `when`, the activity's timestamp: a
        message deleted again after an Undo is deleted at another time)."""
        activity = self._base("messageDelete", person, self.personal(person), activity_id)
        activity["channelData"]["eventType"] = "softDeleteMessage"
        if when is not None:
            activity["timestamp"] = when
        return self.send(activity)

    def submit(self, person: Person, data: dict[str, Any], *, execute: bool = True,
               times: int = 1, card_id: str | None = None) -> list[Response]:
        """A card's button: Action.Execute (an invoke) or its Action.Submit fallback;
        `card_id`: the activity id of the card the button is on (Teams' replyToId)."""
        if execute:
            activity = self._base("invoke", person, self.personal(person))
            activity.update(name="adaptiveCard/action", value={
                "action": {"type": "Action.Execute", "verb": data.get("roundtable"),
                           "data": data}, "trigger": "manual"})
        else:
            activity = self._base("message", person, self.personal(person))
            activity["value"] = data
        if card_id is not None:
            activity["replyToId"] = card_id
        return [self.send(activity) for _ in range(times)]

    def channel(self, team: Team) -> dict[str, Any]:
        return {"isGroup": True, "conversationType": "channel", "tenantId": TENANT,
                "id": team.channel_id}

    def team_data(self, team: Team) -> dict[str, Any]:
        return {"teamsChannelId": team.channel_id, "teamsTeamId": team.team_id,
                "channel": {"id": team.channel_id},
                "team": {"id": team.team_id, "name": team.name}, "tenant": {"id": TENANT}}

    def added_to_team(self, team: Team, by: Person) -> Response:
        activity = self._base("conversationUpdate", by, self.channel(team))
        activity["membersAdded"] = [{"id": f"28:{APP_ID}"}]
        activity["channelData"] = {**self.team_data(team), "eventType": "teamMemberAdded"}
        return self.send(activity)

    def installed(self, person: Person, conversation_id: str) -> Response:
        activity = self._base("installationUpdate", person, {
            "conversationType": "personal", "tenantId": TENANT, "id": conversation_id})
        activity["action"] = "add"
        return self.send(activity)

    def in_channel(self, team: Team, by: Person, text: str) -> Response:
        """`@Roundtable <text>` in the team's channel."""
        activity = self._base("message", by, self.channel(team))
        activity.update(text=f"<at>Roundtable</at> {text}", textFormat="plain",
                        entities=[{"type": "mention", "text": "<at>Roundtable</at>",
                                   "mentioned": {"id": f"28:{APP_ID}", "name": "Roundtable"}}])
        activity["channelData"] = self.team_data(team)
        return self.send(activity)


@dataclass
class RunningTeams:
    bot: Roundtable
    teams: TeamsDriver
    stub: ConnectorStub
    database: Database

    def replies(self) -> list[Reply]:
        with self.database.sessions() as session:
            return list(session.scalars(select(Reply).order_by(Reply.id)))

    def scalars(self, query: Any) -> list[Any]:
        with self.database.sessions() as session:
            return list(session.scalars(query))

    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = PATIENCE) -> Any:
        return self.stub.wait_for(predicate, what, timeout)


def replaced_by(answer: dict[str, Any]) -> str:
    """What a card shows once Teams replaces it with an Action.Execute's answer (a card, with
    no button left)."""
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    assert "actions" not in answer["value"]
    return "\n".join("".join(i["text"] for i in p["inlines"]) for p in answer["value"]["body"])


def teams_settings(database_url: str, stub: ConnectorStub, **more: str) -> Settings:
    return load_settings(**{
        "DATABASE_URL": database_url, "TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": PASSWORD,
        "TEAMS_LOGIN_URL": stub.base_url, "TEAMS_OPENID_URL": stub.openid_url,
        "TEAMS_SERVICE_URL": stub.base_url, **more})


@contextmanager
def serving(settings: Settings, database: Database, platforms: list[Served],
            clock: Callable[[], datetime] | None = None,
            pacing: Callable[[], float] = time.monotonic) -> Iterator[tuple[Roundtable, int]]:
    """The bot on a free port, as `roundtable serve --no-scheduler` runs it."""
    chosen: list[Platform] = list(platforms)
    bot = assemble(settings, database, chosen, clock=clock or advancing_clock(), pacing=pacing)
    # waitress's own loop timeout, as the product runs it: it reads the setting as an int, so
    # a fraction (0.05 was given here) is 0, a select() that never waits: a core kept busy
    # for as long as the bot ran. Answers and the close below wake the loop themselves.
    server = waitress.create_server(endpoints(bot, platforms), host="127.0.0.1", port=0,
                                    threads=8, max_request_body_size=MAX_BODY)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    bot.start()
    try:
        yield bot, server.effective_port
    finally:
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            pass
        thread.join(5)
        server.task_dispatcher.shutdown()
        bot.stop()


@contextmanager
def run_teams(database: Database, database_url: str, stub: ConnectorStub,
              facilitator: Person, clock: Callable[[], datetime] | None = None,
              pacing: Callable[[], float] = time.monotonic, **more: str
              ) -> Iterator[RunningTeams]:
    more.setdefault("ROUNDTABLE_DATA_DIR", tempfile.mkdtemp(prefix="roundtable-data-"))
    settings = teams_settings(database_url, stub, TEAMS_FACILITATORS=facilitator.aad, **more)
    teams = TeamsPlatform(settings, database)
    with serving(settings, database, [teams], clock, pacing) as (bot, port):
        yield RunningTeams(bot, TeamsDriver(port, stub), stub, database)


@pytest.fixture
def connector() -> Iterator[ConnectorStub]:
    stub = ConnectorStub().start()
    yield stub
    stub.stop()


@dataclass
class Tenant:
    facilitator: Person
    members: list[Person]
    team: Team


@pytest.fixture
def tenant(connector: ConnectorStub) -> Tenant:
    facilitator = connector.add_person("Fola")
    members = [connector.add_person(name) for name in MEMBER_NAMES]
    return Tenant(facilitator, members, connector.add_team("Leaders", members))


@pytest.fixture
def running_teams(database: Database, database_url: str, connector: ConnectorStub,
                  tenant: Tenant) -> Iterator[RunningTeams]:
    with run_teams(database, database_url, connector, tenant.facilitator) as running:
        yield running
