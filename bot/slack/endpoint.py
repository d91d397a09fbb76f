"""`POST /slack/events`: requests checked before Bolt sees them, then Bolt's WSGI adapter.

Bolt parses a body before checking its signature, so a malformed body or a non-numeric
timestamp would make it answer 500 (and Slack would retry). `SlackEndpoint` therefore caps the
body size, checks the signature and timestamp, and checks that the body parses and that the
fields the bot reads are of their types (bot.slack.payloads), answering 4xx, before Bolt sees
the request. Bolt then checks the signature again and dispatches.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.app.processes import MAX_BODY, answer
from bot.slack.payloads import problem

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
RATE_LIMITED = "app_rate_limited"

StartResponse = Callable[..., Any]


class SlackEndpoint:
    """A guarded POST /slack/events for Bolt."""

    def __init__(self, app: App, signing_secret: str, max_body: int = MAX_BODY) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "") != "POST":
            return answer(start_response, 405, "use POST")
        refused = self._refusal(environ)
        if refused is not None:
            status, reason = refused
            if status != 200:
                log.info("refused a request to %s: %s %s", EVENTS_PATH, status, reason)
            return answer(start_response, status, reason)
        return self.bolt(environ, start_response)

    def _refusal(self, environ: dict[str, Any]) -> tuple[int, str] | None:
        """Why the request must not reach Bolt (or, 200, that it is answered here), or None;
        puts the read body back for Bolt."""
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
        if not _utf8(body):  # the SDK's verifier decodes the body first, and would raise
            return 400, "body is not UTF-8"
        if not self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return 401, "invalid signature or stale timestamp"
        parsed = _parsed(body, environ.get("CONTENT_TYPE", ""))
        if parsed is None:
            return 400, "malformed body"
        if parsed.get("type") == RATE_LIMITED:
            # Slack's notice that it dropped events for an hour's limit: Bolt has no listener
            # for it and would answer 404
            log.warning("Slack dropped events: over its 30,000 events an hour (%s)",
                        parsed.get("minute_rate_limited"))
            return 200, ""
        why = problem(parsed)
        if why is not None:
            return 400, why
        return None


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parsed(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The body as Slack sends it: a JSON object, or a form (its `payload` a JSON object);
    None when it is neither, or holds text that is not Unicode (a form's bytes that are not
    UTF-8, a JSON escape of half a surrogate pair), which could be neither stored nor sent."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            value = json.loads(text)
        else:
            form = parse_qs(text, strict_parsing=bool(text), keep_blank_values=True,
                            errors="strict")
            if "payload" in form:
                value = json.loads(form["payload"][0])
            else:
                value = {k: v[0] for k, v in form.items()} if form else None
        if not isinstance(value, dict):
            return None
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except (UnicodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
