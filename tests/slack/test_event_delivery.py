"""The Events API stand-in (tests/slack_events.py) against a tiny local HTTP server: it signs
each attempt, retries with Slack's headers on its (scaled-down) schedule, and gives up after
the last retry, recording all of it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.helpers import wait_for
from tests.slack.conftest import SECRET, SlackDriver
from tests.slack_api_stub import SlackStub
from tests.slack_events import EventDeliverer

FAST = (0.05, 0.2, 0.4)
"""Slack's schedule (at once, 1 min, 5 min) scaled down."""


@dataclass(frozen=True)
class Received:
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str:
        return str(json.loads(self.body)["event_id"])


Script = Callable[[int], tuple[int, float]]
"""The n-th request (from 0) for an event -> (status to answer, seconds to take first)."""


class App:
    """A tiny app endpoint: answers each event's requests as its script says; records them."""

    def __init__(self) -> None:
        self.script: Script = lambda n: (200, 0.0)
        self.received: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = Received(time.monotonic(), dict(self.headers.items()), body)
                with app._lock:
                    n = sum(r.event_id == seen.event_id for r in app.received)
                    app.received.append(seen)
                status, delay = app.script(n)
                if delay:
                    app.released.wait(delay)  # a slow app; released at teardown
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # many deliveries connect at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def requests_for(self, event_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.event_id == event_id]


@pytest.fixture
def app() -> Iterator[App]:
    app = App()
    yield app
    app.released.set()
    app.server.shutdown()
    app.server.server_close()


def deliverer(url: str, **kwargs: Any) -> EventDeliverer:
    return EventDeliverer(url, SECRET, **{"retry_delays": FAST, **kwargs})


def signed_by_secret(request: Received) -> bool:
    timestamp = request.headers["X-Slack-Request-Timestamp"]
    return abs(int(timestamp) - time.time()) <= 2 and SignatureVerifier(SECRET).is_valid(
        body=request.body, timestamp=timestamp, signature=request.headers["X-Slack-Signature"])


def test_a_refused_event_is_retried_with_slacks_headers_then_given_up(app: App) -> None:
    app.script = lambda n: (503, 0.0)
    with deliverer(app.url) as slack:
        event_id, = [slack.deliver({"type": "message", "text": "hello"})]
        slack.wait_idle(10)
        assert slack.dropped() == [event_id] and slack.delivered() == []
        attempts = slack.attempts()
    requests = app.requests_for(event_id)
    assert [r.headers.get("X-Slack-Retry-Num") for r in requests] == [None, "1", "2", "3"]
    assert [r.headers.get("X-Slack-Retry-Reason") for r in requests] == [
        None, "http_error", "http_error", "http_error"]
    assert all(signed_by_secret(r) for r in requests)
    assert len({r.body for r in requests}) == 1  # the same event every time
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:], strict=False)]
    assert all(gap >= delay for gap, delay in zip(gaps, FAST, strict=True)), gaps
    assert [(a.retry_num, a.status, a.failure) for a in attempts] == [
        (0, 503, "http_error"), (1, 503, "http_error"), (2, 503, "http_error"),
        (3, 503, "http_error")]
    assert slack.retry_window == pytest.approx(sum(FAST) + 4 * 3.0)


def test_retrying_stops_at_the_first_acknowledgement(app: App) -> None:
    app.script = lambda n: (503, 0.0) if n == 0 else (200, 0.0)
    with deliverer(app.url) as slack:
        event_id = slack.deliver({"type": "message", "text": "hello"})
        slack.wait_idle(10)
        assert slack.delivered() == [event_id] and slack.dropped() == []
        assert [(a.retry_num, a.status, a.ok) for a in slack.attempts()] == [
            (0, 503, False), (1, 200, True)]
    assert [r.headers.get("X-Slack-Retry-Num") for r in app.requests_for(event_id)] == [
        None, "1"]


def test_an_answer_slower_than_the_ack_timeout_counts_as_a_timeout(app: App) -> None:
    app.script = lambda n: (200, 5.0) if n == 0 else (200, 0.0)
    with deliverer(app.url, ack_timeout=0.3) as slack:
        event_id = slack.deliver({"type": "message", "text": "slow"})
        slack.wait_idle(10)
        first, second = slack.attempts()
        assert (first.status, first.failure) == (None, "http_timeout")
        assert second.ok and slack.delivered() == [event_id]
    retried = app.requests_for(event_id)[1]
    assert retried.headers["X-Slack-Retry-Reason"] == "http_timeout"


def test_an_app_that_cannot_be_reached_is_given_up_on_as_connection_failed() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with deliverer(f"http://127.0.0.1:{port}/slack/events") as slack:
        event_id = slack.deliver({"type": "message", "text": "nobody home"})
        slack.wait_idle(10)
        assert slack.dropped() == [event_id]
        assert [(a.retry_reason, a.failure) for a in slack.attempts()] == [
            (None, "connection_failed"), ("connection_failed", "connection_failed"),
            ("connection_failed", "connection_failed"),
            ("connection_failed", "connection_failed")]


def test_many_events_in_flight_at_once_are_each_delivered_once(app: App) -> None:
    app.script = lambda n: (503, 0.0) if n == 0 else (200, 0.0)
    with deliverer(app.url) as slack:
        ids = [slack.deliver({"type": "message", "text": f"answer {i}"}) for i in range(40)]
        slack.wait_idle(20)
        assert sorted(slack.delivered()) == sorted(ids) and not slack.dropped()
        assert "40 delivered, 0 dropped" in slack.summary()
    assert all(len(app.requests_for(i)) == 2 for i in ids)


def test_wait_idle_fails_while_a_retry_waits_and_closing_cancels_it(app: App) -> None:
    app.script = lambda n: (503, 0.0)
    slack = deliverer(app.url, retry_delays=(60.0,))
    event_id = slack.deliver({"type": "message", "text": "later"})
    wait_for(lambda: slack.attempts(), "the first attempt")
    with pytest.raises(AssertionError, match="still pending"):
        slack.wait_idle(0.2)
    started = time.monotonic()
    slack.close()
    assert time.monotonic() - started < 5
    assert slack.in_state("cancelled") == [event_id] and len(app.requests_for(event_id)) == 1


def test_the_envelope_is_the_one_the_slack_driver_sends(app: App) -> None:
    event = {"type": "message", "channel": "DUAMARA", "channel_type": "im", "user": "UAMARA",
             "text": "same shape", "ts": "1900000001.000200"}
    port = int(app.url.split(":")[2].split("/")[0])
    assert SlackDriver(port, SlackStub()).event(event, event_id="EvDRIVER").status == 200
    with deliverer(app.url) as slack:
        slack.deliver(event, event_id="EvDELIVERER")
        slack.wait_idle(10)
    driver, ours = (json.loads(app.requests_for(i)[0].body) for i in ("EvDRIVER", "EvDELIVERER"))
    for envelope in (driver, ours):
        del envelope["event_id"], envelope["event_time"]
    assert ours == driver
