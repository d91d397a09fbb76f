"""A running Roundtable (waitress + Bolt, in this process) against the Slack stand-in.

Requests from "Slack" are signed with the signing secret and POSTed to the bot's real
/slack/events; what the bot sends lands in the stand-in, which records it. Bolt acknowledges
first and works on a thread pool, so tests wait for effects (`wait_for`), never for time.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import waitress
from sqlalchemy import select
from waitress import wasyncore

from bot.app.processes import MAX_BODY, endpoints
from bot.app.roundtable import Roundtable, assemble
from bot.config import Settings, load_settings
from bot.slack.app import SlackPlatform
from storage.database import Database
from storage.models import InboxEvent, Reply
from tests.conftest import NOW
from tests.helpers import PATIENCE
from tests.slack_api_stub import BOT_USER, TEAM, Call, SlackStub

SECRET = "test-signing-secret"
FACILITATOR = "UFACILITATOR"
ADMIN = "UADMIN"
CHANNEL = "CLEADERS"
DIGEST_CHANNEL = "CDIGEST"
MEMBERS = ["UAMARA", "UBEN", "UCHIDI", "UDEV", "UELIF"]
PACK = "sel-pharmacy-leadership"


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float
    response_url: str | None = None
    """Where the bot answers the command or click later (the stand-in records it there)."""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackDriver:
    """Plays Slack's part: signed events, slash commands and interactivity payloads."""

    def __init__(self, port: int, stub: SlackStub) -> None:
        self.port, self.stub = port, stub
        self._ids = itertools.count(1)

    def post(self, body: bytes, headers: dict[str, str], path: str = "/slack/events") -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return Response(response.status, data, time.perf_counter() - started)

    def get(self, path: str) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        return Response(response.status, response.read(), 0.0)

    def signed(self, body: bytes, content_type: str, extra: dict[str, str] | None = None,
               timestamp: int | None = None) -> Response:
        headers = {"Content-Type": content_type, **sign(body, timestamp), **(extra or {})}
        return self.post(body, headers)

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              retry: int | None = None) -> Response:
        envelope = {
            "token": "legacy", "team_id": TEAM, "api_app_id": "AROUNDTABLE",
            "type": "event_callback", "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else None
        return self.signed(json.dumps(envelope).encode(), "application/json", extra)

    def dm(self, user: str, text: str, *, thread_ts: str | None = None,
           event_id: str | None = None, retry: int | None = None) -> tuple[str, Response]:
        """The user writes in their DM with the bot; returns the message's ts."""
        ts = f"{1_900_000_000 + next(self._ids)}.000200"
        event = {"type": "message", "channel": "D" + user, "channel_type": "im", "user": user,
                 "text": text, "ts": ts, "event_ts": ts, "team": TEAM}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return ts, self.event(event, event_id=event_id, retry=retry)

    def command(self, user: str, text: str, channel: str = CHANNEL) -> Response:
        url = self.stub.response_url(f"cmd-{next(self._ids)}")
        form = {"token": "legacy", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
                "channel_name": "leaders", "user_id": user, "user_name": user.lower(),
                "command": "/roundtable", "text": text, "api_app_id": "AROUNDTABLE",
                "response_url": url, "trigger_id": f"trigger-{next(self._ids)}"}
        return replace(self.signed(urlencode(form).encode(), "application/x-www-form-urlencoded"),
                       response_url=url)

    def interact(self, payload: dict[str, Any]) -> Response:
        base = {"token": "legacy", "api_app_id": "AROUNDTABLE", "team": {"id": TEAM},
                "trigger_id": f"trigger-{next(self._ids)}"}
        body = urlencode({"payload": json.dumps({**base, **payload})}).encode()
        return self.signed(body, "application/x-www-form-urlencoded")

    def click(self, user: str, action_id: str, value: str = "", channel: str | None = None,
              message: dict[str, Any] | None = None) -> Response:
        """A button pressed; `message`: the message it is on, as Slack sends it along."""
        url = self.stub.response_url(f"act-{next(self._ids)}")
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user, "team_id": TEAM},
            "container": {"type": "message", "channel_id": channel or "D" + user},
            "channel": {"id": channel or "D" + user}, "response_url": url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                         "value": value, "action_ts": str(time.time())}],
        }
        if message is not None:
            payload["message"] = message
        return replace(self.interact(payload), response_url=url)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> Response:
        """The person submits a modal: Slack closes it unless the app answers with errors."""
        submitted = self.interact({
            "type": "view_submission", "user": {"id": user, "team_id": TEAM},
            "view": {**view, "state": {"values": values}},
        })
        if submitted.status == 200 and not (submitted.json() or {}).get("errors"):
            self.stub.close_view(str(view.get("id")))
        return submitted


@dataclass
class Running:
    bot: Roundtable
    slack: SlackDriver
    stub: SlackStub
    database: Database

    def replies(self) -> list[Reply]:
        return self.scalars(select(Reply).order_by(Reply.id))

    def scalars(self, query: Any) -> list[Any]:
        """Rows of a query, read in a short session of its own (SQLite locks on BEGIN)."""
        with self.database.sessions() as session:
            return list(session.scalars(query))

    def waiting_events(self) -> list[InboxEvent]:
        """Events stored and not yet handled (the inbox may be in a database of its own)."""
        with self.database.inbox_sessions() as session:
            return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))

    def scalar(self, query: Any) -> Any:
        with self.database.sessions() as session:
            return session.scalar(query)

    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = PATIENCE) -> Any:
        return self.stub.wait_for(predicate, timeout, what)

    def meanwhile(self, first: Callable[[], object], waiting: str,
                  then: Callable[[], object]) -> None:
        """`first` on a thread of its own until a call it makes is held (or withheld) at the
        stand-in (`waiting` says which), then `then` meanwhile; then the stand-in answers
        and `first` ends."""
        running = threading.Thread(target=first)
        running.start()
        try:
            self.wait_for(lambda: self.stub.held or self.stub.withheld, waiting)
            then()
        finally:
            self.stub.release()
            running.join(PATIENCE)
        assert not running.is_alive(), f"{waiting}: never ended"

    def answer_to(self, acked: Response, what: str) -> Call:
        """The answer the bot posted to the response_url of the command or click `acked`:
        counting answers from before it would take an earlier one that came late (a start's
        answer can follow the questions it sent, and the next command)."""
        assert acked.response_url is not None, "only commands and clicks are answered later"
        url = acked.response_url
        return self.wait_for(lambda: self.stub.responses(url), what)[0]


def advancing_clock(start: datetime = NOW) -> Callable[[], datetime]:
    """Starts at a Monday 10:00 UTC (working hours in London) and runs with real time."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def bot_settings(database_url: str, stub: SlackStub, **more: str) -> Settings:
    return load_settings(**{
        "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": stub.base_url,
        "ROUNDTABLE_FACILITATORS": FACILITATOR, "ROUNDTABLE_ADMINS": ADMIN, **more,
    })


def application(settings: Settings, database: Database,
                clock: Callable[[], datetime] | None = None) -> Roundtable:
    """The application as `roundtable serve` assembles it, with Slack as its platform."""
    return assemble(settings, database, [SlackPlatform(settings, database)],
                    clock=clock or advancing_clock())


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    stub.add_user(FACILITATOR, "Fola Facilitator")
    stub.add_user(ADMIN, "Ade Admin")
    for user in MEMBERS:
        stub.add_user(user, user[1:].title())
    stub.add_user("UHELPERBOT", "Helper", is_bot=True)
    stub.add_user("UGONE", "Gone", deleted=True)
    stub.add_channel(CHANNEL, [*MEMBERS, "UHELPERBOT", "UGONE"])
    stub.add_channel(DIGEST_CHANNEL, [FACILITATOR])
    yield stub
    stub.stop()
    stub.assert_within_limits()


@contextmanager
def run_bot(database: Database, database_url: str, stub: SlackStub,
            clock: Callable[[], datetime] | None = None,
            pacing: Callable[[], float] = time.monotonic, **settings: str) -> Iterator[Running]:
    """The bot serving HTTP on a free port (settings as environment variables, e.g.
    ROUNDTABLE_DATA_DIR), as `roundtable serve --no-scheduler` runs it."""
    settings.setdefault("ROUNDTABLE_DATA_DIR", tempfile.mkdtemp(prefix="roundtable-data-"))
    chosen = bot_settings(database_url, stub, **settings)
    slack = SlackPlatform(chosen, database)
    bot = assemble(chosen, database, [slack], clock=clock or advancing_clock(), pacing=pacing)
    # waitress's own loop timeout, as the product runs it: it reads the setting as an int, so
    # a fraction (0.05 was given here) is 0, a select() that never waits: a core kept busy
    # for as long as the bot ran. Answers and the close below wake the loop themselves.
    server = waitress.create_server(endpoints(bot, [slack]), host="127.0.0.1", port=0, threads=8,
                                    max_request_body_size=MAX_BODY)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    bot.start()
    try:
        yield Running(bot, SlackDriver(server.effective_port, stub), stub, database)
    finally:
        # close every socket from the server's own loop thread, so no select() sees one vanish
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            pass  # the loop already closed its sockets (its trigger among them)
        thread.join(5)
        server.task_dispatcher.shutdown()
        bot.stop()


@pytest.fixture
def running(database: Database, database_url: str, stub: SlackStub, tmp_path: Path
            ) -> Iterator[Running]:
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path)) as bot:
        yield bot
