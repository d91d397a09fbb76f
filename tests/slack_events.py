"""Slack's Events API delivery, played locally: sign, POST, and retry the way Slack does.

Slack POSTs each event to the app's request URL, signed (HMAC-SHA256 over `v0:{ts}:{body}`,
a fresh timestamp per attempt). An attempt fails when the answer is not 2xx, takes longer than
3 seconds, or no connection can be made. Slack then retries up to three times, roughly at once,
after 1 minute and after 5 minutes, each retry carrying `X-Slack-Retry-Num` (1, 2, 3) and
`X-Slack-Retry-Reason` (`http_error`, `http_timeout`, `connection_failed`); after the last
failed retry it gives up and the event is gone.

`EventDeliverer` does the same with a schedule a test can scale down (`retry_delays`, counted
from the end of the failed attempt), delivering each event on a thread of its own so many are
in flight at once, and records every attempt and how each delivery ended ("delivered" or
"dropped"), so a test can assert that Slack gave up on nothing, or on exactly N. Envelopes
have the shape `tests.slack.conftest.SlackDriver.event` sends (a test checks they match).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from tests.slack.conftest import sign
from tests.slack_api_stub import BOT_USER, TEAM

SLACK_RETRY_DELAYS: tuple[float, ...] = (0.0, 60.0, 300.0)
"""Slack's own schedule: the first retry at once, then after 1 and 5 minutes."""
ACK_TIMEOUT = 3.0
"""Slack counts an answer slower than this as a failure (and retries: `http_timeout`)."""
API_APP_ID = "AROUNDTABLE"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

Failure = Literal["http_error", "http_timeout", "connection_failed"]
State = Literal["pending", "delivered", "dropped", "cancelled"]


@dataclass(frozen=True)
class Attempt:
    """One POST of one event."""

    event_id: str
    retry_num: int
    """0 for the first attempt, then the X-Slack-Retry-Num it carried (1, 2, 3)."""
    retry_reason: str | None
    """The X-Slack-Retry-Reason it carried (why the attempt before failed)."""
    status: int | None
    """The HTTP status answered; None when there was no answer (timeout, no connection)."""
    failure: Failure | None
    """Why Slack would count it as failed; None when it was acknowledged."""
    started: float
    """time.monotonic() when it was sent."""
    seconds: float
    """How long the answer took (or until it was given up on)."""

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class Delivery:
    """One event and its attempts: pending until acknowledged (delivered) or given up on
    after the last retry (dropped); cancelled when the deliverer was closed first."""

    event_id: str
    envelope: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    state: State = "pending"


class EventDeliverer:
    """Delivers events to `url` (the bot's /slack/events) as Slack does; see the module."""

    def __init__(self, url: str, signing_secret: str, *,
                 retry_delays: Sequence[float] = SLACK_RETRY_DELAYS,
                 ack_timeout: float = ACK_TIMEOUT, max_in_flight: int = 64,
                 team: str = TEAM, api_app_id: str = API_APP_ID,
                 bot_user: str = BOT_USER) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.url, self.secret = url, signing_secret
        self.retry_delays = tuple(retry_delays)
        self.ack_timeout = ack_timeout
        self.team, self.api_app_id, self.bot_user = team, api_app_id, bot_user
        self._parts = parts
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._deliveries: dict[str, Delivery] = {}
        self._changed = threading.Condition()
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ts = itertools.count(1)
        self._run = uuid.uuid4().hex[:6].upper()

    @property
    def retry_window(self) -> float:
        """The longest an event can take from its first attempt until it is given up on:
        every attempt taking the full ack timeout, plus every retry delay."""
        return sum(self.retry_delays) + (len(self.retry_delays) + 1) * self.ack_timeout

    # --- sending ------------------------------------------------------------------------------

    def envelope(self, event: dict[str, Any], event_id: str) -> dict[str, Any]:
        """The Events API envelope around `event` (the shape SlackDriver.event sends)."""
        return {
            "token": "legacy", "team_id": self.team, "api_app_id": self.api_app_id,
            "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": self.team, "user_id": self.bot_user,
                                "is_bot": True}],
        }

    def deliver(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        """Start delivering `event` in the background; its event id."""
        if self._closed.is_set():
            raise RuntimeError("the deliverer is closed")
        event_id = event_id or f"Ev{self._run}{next(self._ts):06d}"
        delivery = Delivery(event_id, self.envelope(event, event_id))
        with self._changed:
            if event_id in self._deliveries:
                raise ValueError(f"event {event_id} is already being delivered")
            self._deliveries[event_id] = delivery
        thread = threading.Thread(target=self._deliver, args=(delivery,),
                                  name=f"slack-delivery-{event_id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return event_id

    def dm(self, user: str, text: str, *, thread_ts: str | None = None,
           event_id: str | None = None) -> tuple[str, str]:
        """The user writes in their DM with the bot (a `message.im` event, as
        SlackDriver.dm builds it); returns (the message's ts, the event id)."""
        ts = f"{1_950_000_000 + next(self._ts)}.000300"
        event: dict[str, Any] = {"type": "message", "channel": "D" + user,
                                 "channel_type": "im", "user": user, "text": text, "ts": ts,
                                 "event_ts": ts, "team": self.team}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return ts, self.deliver(event, event_id=event_id)

    # --- what happened ------------------------------------------------------------------------

    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in the order they were started (copies)."""
        with self._changed:
            return [Delivery(d.event_id, d.envelope, list(d.attempts), d.state)
                    for d in self._deliveries.values()]

    def attempts(self) -> list[Attempt]:
        """Every attempt so far, in the order they were made."""
        return sorted((a for d in self.deliveries() for a in d.attempts),
                      key=lambda a: a.started)

    def in_state(self, state: State) -> list[str]:
        """The event ids of the deliveries in this state."""
        return [d.event_id for d in self.deliveries() if d.state == state]

    def delivered(self) -> list[str]:
        return self.in_state("delivered")

    def dropped(self) -> list[str]:
        """The events Slack gave up on after the last retry: lost, unless the app kept them."""
        return self.in_state("dropped")

    def pending(self) -> list[str]:
        return self.in_state("pending")

    def summary(self) -> str:
        """One line for assertion messages: how deliveries ended, and the answers seen."""
        deliveries = self.deliveries()
        states = {s: sum(d.state == s for d in deliveries)
                  for s in ("delivered", "dropped", "pending", "cancelled")}
        answers: dict[str, int] = {}
        for attempt in (a for d in deliveries for a in d.attempts):
            key = str(attempt.status) if attempt.status is not None else str(attempt.failure)
            answers[key] = answers.get(key, 0) + 1
        seen = ", ".join(f"{k} x{v}" for k, v in sorted(answers.items())) or "none"
        return (f"{len(deliveries)} events: " + ", ".join(f"{v} {k}" for k, v in states.items())
                + f"; {sum(answers.values())} attempts answered: {seen}")

    def wait_idle(self, timeout: float) -> None:
        """Wait until no delivery is pending (each delivered or given up on); AssertionError
        after `timeout` seconds."""
        with self._changed:
            idle = self._changed.wait_for(
                lambda: not any(d.state == "pending" for d in self._deliveries.values()),
                timeout)
        if not idle:
            raise AssertionError(f"deliveries still pending after {timeout} s: {self.summary()}")

    def close(self, timeout: float = 10.0) -> None:
        """Cancel the retries still waiting and wait for the attempts in flight."""
        self._closed.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> EventDeliverer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the work -----------------------------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> None:
        reason: str | None = None
        for retry_num in range(len(self.retry_delays) + 1):
            if retry_num and self._closed.wait(self.retry_delays[retry_num - 1]):
                self._finish(delivery, "cancelled")
                return
            attempt = self._attempt(delivery, retry_num, reason)
            with self._changed:
                delivery.attempts.append(attempt)
                self._changed.notify_all()
            if attempt.ok:
                self._finish(delivery, "delivered")
                return
            reason = attempt.failure
        self._finish(delivery, "dropped")

    def _finish(self, delivery: Delivery, state: State) -> None:
        with self._changed:
            delivery.state = state
            self._changed.notify_all()

    def _attempt(self, delivery: Delivery, retry_num: int, reason: str | None) -> Attempt:
        body = json.dumps(delivery.envelope).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **sign(body, secret=self.secret)}  # a fresh timestamp for every attempt
        if retry_num:
            headers |= {"X-Slack-Retry-Num": str(retry_num),
                        "X-Slack-Retry-Reason": str(reason)}
        status: int | None = None
        failure: Failure | None = None
        with self._in_flight:
            started = time.monotonic()
            connection = self._connection()
            try:
                connection.request("POST", self._path(), body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except TimeoutError:
                failure = "http_timeout"
            except (OSError, http.client.HTTPException):
                failure = "connection_failed"
            finally:
                connection.close()
            seconds = time.monotonic() - started
        if failure is None:
            if seconds > self.ack_timeout:
                failure = "http_timeout"  # Slack hung up before this answer came
            elif status is None or not 200 <= status < 300:
                failure = "http_error"
        return Attempt(delivery.event_id, retry_num, reason if retry_num else None, status,
                       failure, started, seconds)

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.ack_timeout)
        return http.client.HTTPConnection(host, port, timeout=self.ack_timeout)

    def _path(self) -> str:
        path = self._parts.path or "/"
        return f"{path}?{self._parts.query}" if self._parts.query else path
