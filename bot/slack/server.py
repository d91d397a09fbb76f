"""`roundtable serve`: waitress in front of Bolt's WSGI adapter, or Socket Mode.

Bolt parses a body before checking its signature, so a malformed body or a non-numeric
timestamp would make it answer 500 (and Slack would retry). `SlackEndpoint` therefore caps the
body size, checks the signature and timestamp, and checks that the body parses, answering 4xx,
before Bolt sees the request. Bolt then checks the signature again and dispatches.
"""

from __future__ import annotations

import io
import json
import logging
import signal
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.core.deliveries import Clock
from bot.runtime import Database, open_database, utcnow
from bot.scheduling.jobs import JobContext
from bot.scheduling.service import Scheduler
from bot.slack.app import Bot, build_app
from storage.db import database_answers

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 256 * 1024
"""Slack's largest payloads (a modal of long answers) are well under this."""
THREADS = 8

StartResponse = Callable[..., Any]


class SlackEndpoint:
    """The WSGI application: GET /healthz, and a guarded POST /slack/events for Bolt."""

    def __init__(self, app: App, database: Database, signing_secret: str,
                 max_body: int = MAX_BODY) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.database = database
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = database_answers(self.database.engine)
            return _answer(start_response, 200 if healthy else 503,
                           "ok" if healthy else "database does not answer")
        if path != EVENTS_PATH:
            return _answer(start_response, 404, "not found")
        if method != "POST":
            return _answer(start_response, 405, "use POST")
        refused = self._refusal(environ)
        if refused is not None:
            status, reason = refused
            log.info("refused a request to %s: %s %s", path, status, reason)
            return _answer(start_response, status, reason)
        return self.bolt(environ, start_response)

    def _refusal(self, environ: dict[str, Any]) -> tuple[int, str] | None:
        """Why the request must not reach Bolt, or None; puts the read body back for Bolt."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return 411, "Content-Length required"
        if length < 0 or length > self.max_body:
            return 413, "body too large"
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not timestamp.isdigit() or not signature:
            return 401, "missing or malformed signature headers"
        if not self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return 401, "invalid signature or stale timestamp"
        if not _parses(body, environ.get("CONTENT_TYPE", "")):
            return 400, "malformed body"
        return None


def _parses(body: bytes, content_type: str) -> bool:
    """True when the body is what Slack sends: a JSON object, or a form (maybe with payload)."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, strict_parsing=bool(text), keep_blank_values=True)
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return bool(form)
    except (UnicodeDecodeError, ValueError):
        return False


def _answer(start_response: StartResponse, status: int, text: str) -> list[bytes]:
    phrases = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
               405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
               503: "Service Unavailable"}
    body = text.encode()
    start_response(f"{status} {phrases.get(status, '')}", [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def make_wsgi(settings: Settings, database: Database, *, clock: Clock = utcnow) -> tuple[
        SlackEndpoint, Bot]:
    """The guarded WSGI app and the Bot behind it (its outbox not yet started)."""
    app, bot = build_app(settings, database, clock=clock)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret \
        else ""
    return SlackEndpoint(app, database, secret), bot


def socket_mode(settings: Settings, database: Database, *, clock: Clock = utcnow) -> tuple[
        Any, Bot]:
    """A Socket Mode handler (slack_sdk's built-in client) for the app, not yet connected."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app, bot = build_app(settings, database, clock=clock)
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    return SocketModeHandler(app, token), bot


def serve(settings: Settings, *, socket: bool = False, scheduler: bool = True) -> None:
    """Run until interrupted: HTTP on settings.port under waitress, or Socket Mode.

    With `scheduler`, this process also competes for the scheduler lease (see bot.scheduling).
    """
    _log_to_stderr()
    settings.require_slack(socket=socket)
    database = open_database(settings)
    _stop_on_sigterm()
    if socket:
        handler, bot = socket_mode(settings, database)
    else:
        endpoint, bot = make_wsgi(settings, database)
    schedule = _schedule(settings, database, bot) if scheduler else None
    bot.start()
    try:
        if socket:
            handler.start()
        else:
            import waitress

            waitress.serve(endpoint, host="0.0.0.0", port=settings.port, threads=THREADS,
                           max_request_body_size=MAX_BODY, ident="roundtable")
    finally:
        if schedule is not None:
            schedule.stop()
        bot.stop()


def run_scheduler(settings: Settings) -> None:
    """Only the schedule (digests, reminders, closing, the outbox): `roundtable scheduler`.
    Its inbox also handles any events a stopped server left stored."""
    _run_without_requests(settings, worker=False)


def run_worker(settings: Settings) -> None:
    """Handle the answers, edits and deletions that `roundtable serve` processes stored, and
    confirm them (`roundtable worker`); it also sends what is due, as every process does.
    While it runs, those processes only store and acknowledge; when it stops, they handle
    again."""
    _run_without_requests(settings, worker=True)


def _run_without_requests(settings: Settings, *, worker: bool) -> None:
    _log_to_stderr()
    settings.require_slack(socket=False)
    database = open_database(settings)
    _stop_on_sigterm()
    _, bot = build_app(settings, database)
    schedule = None if worker else _schedule(settings, database, bot)
    bot.start(worker=worker)
    if worker:
        log.info("handling the inbox for the serving processes")
    try:
        # Not one endless wait: a SIGTERM that lands on another thread only flags the main
        # thread, which acts on it (raising SystemExit) when it next wakes.
        while True:
            time.sleep(1.0)
    finally:
        if schedule is not None:
            schedule.stop()
        bot.stop()


def _schedule(settings: Settings, database: Database, bot: Bot) -> Scheduler:
    lease = timedelta(seconds=settings.lease_seconds)
    schedule = Scheduler(JobContext(database, bot.gateway, bot.clock, settings.timezone),
                         lease_ttl=lease, lease_check_seconds=lease.total_seconds() / 3)
    schedule.start()
    return schedule


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a clean exit, so the scheduler lease is released for a successor."""
    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
