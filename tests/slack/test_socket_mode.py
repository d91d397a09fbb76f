"""`roundtable serve --socket`: the same round over Socket Mode, against a local Socket Mode
end (no public URL, which suits NHS networks). The app's own client connects, acknowledges
each envelope, and answers are stored once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from storage.database import Database
from storage.models import Delivery, Reply
from tests.helpers import wait_for
from tests.slack.conftest import CHANNEL, FACILITATOR, MEMBERS, PACK, application, bot_settings
from tests.slack_api_stub import BOT_USER, TEAM, SlackStub, SocketModeStub


@pytest.fixture
def sockets(stub: SlackStub) -> Iterator[SocketModeStub]:
    end = SocketModeStub(stub).start()
    yield end
    end.stop()


def dm_event(user: str, text: str, event_id: str, ts: str) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "AROUNDTABLE",
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": {"type": "message", "channel": "D" + user, "channel_type": "im",
                      "user": user, "text": text, "ts": ts, "event_ts": ts, "team": TEAM}}


@contextmanager
def connected(database: Database, database_url: str, stub: SlackStub,
              sockets: SocketModeStub) -> Iterator[None]:
    """The bot running with its Socket Mode client connected to the local Socket Mode end."""
    settings = bot_settings(database_url, stub).model_copy(
        update={"slack_app_token": SecretStr("xapp-test")})
    bot = application(settings, database)
    slack = bot.platforms["slack"]
    slack.socket(bot)
    handler = slack.socket_handler  # type: ignore[attr-defined]
    bot.start()
    handler.connect()
    try:
        wait_for(sockets.connected, "the app to connect")
        yield
    finally:
        handler.close()
        bot.stop()


def test_a_round_runs_over_socket_mode(database: Database, database_url: str, stub: SlackStub,
                                       sockets: SocketModeStub) -> None:
    with connected(database, database_url, stub, sockets):
        started = sockets.send("slash_commands", {
            "command": "/roundtable", "text": f"start {PACK} to <#{CHANNEL}|leaders>",
            "user_id": FACILITATOR, "channel_id": CHANNEL, "team_id": TEAM,
            "response_url": stub.response_url("start"), "trigger_id": "trigger"})
        wait_for(lambda: started in sockets.acks, "the command's acknowledgement")
        wait_for(lambda: [c for c in stub.calls_to("response_url")
                          if "started" in c.params.get("text", "")], "the start confirmation")

        def all_sent() -> bool:
            with database.sessions() as session:
                states = session.scalars(select(Delivery.state)).all()
            return len(states) == len(MEMBERS) and set(states) == {"sent"}

        wait_for(all_sent, "the questions to go out")
        answer = dm_event(MEMBERS[0], "Protected time for leads", "EvSocket1", "1900000001.0001")
        first = sockets.send("events_api", answer)
        again = sockets.send("events_api", answer)  # Socket Mode's retry of the same event
        wait_for(lambda: first in sockets.acks and again in sockets.acks, "both acks")

        def stored() -> list[Reply]:
            with database.sessions() as session:
                return list(session.scalars(select(Reply)))

        wait_for(stored, "the answer")
        wait_for(lambda: [c for c in stub.posted("D" + MEMBERS[0])
                          if "Protected time for leads" in str(c.params)], "the confirmation")
        assert [(r.prompt_id, r.text) for r in stored()] == [
            ("done-well", "Protected time for leads")]


def test_payloads_bolt_cannot_read_are_acknowledged_over_the_socket_and_change_nothing(
        database: Database, database_url: str, stub: SlackStub,
        sockets: SocketModeStub) -> None:
    """Over the socket as at the HTTP endpoint: a payload of a shape Slack never sends is
    refused before Bolt reads it (acknowledged, since Slack would only send it again), and
    the next good one is taken as ever."""
    with connected(database, database_url, stub, sockets):
        hostile = [
            sockets.send("events_api", dm_event(MEMBERS[0], "Hello", "EvBad1", "x" * 3000)),
            sockets.send("interactive", {
                "type": "block_actions", "user": {"id": MEMBERS[0], "team_id": TEAM},
                "channel": True, "trigger_id": "t", "response_url": "NaN",
                "actions": [{"action_id": "question_skip", "value": "{}"}]}),
            sockets.send("slash_commands", {
                "command": "/roundtable", "text": "status", "user_id": FACILITATOR,
                "channel_id": CHANNEL, "team_id": TEAM, "response_url": "not an address",
                "trigger_id": "t"}),
        ]
        wait_for(lambda: all(e in sockets.acks for e in hostile), "each to be acknowledged")
        helped = sockets.send("slash_commands", {
            "command": "/roundtable", "text": "help", "user_id": FACILITATOR,
            "channel_id": CHANNEL, "team_id": TEAM, "response_url": stub.response_url("help"),
            "trigger_id": "t2"})
        wait_for(lambda: helped in sockets.acks, "the good command's acknowledgement")
        assert "/roundtable start" in json.dumps(sockets.acks[helped].get("payload"))
        assert all("payload" not in sockets.acks[e] for e in hostile)
        with database.sessions() as session:
            assert list(session.scalars(select(Reply))) == []
        assert stub.calls_to("response_url") == [] and stub.posted() == []
