"""`POST /api/messages`: the Teams SDK's own request handling, served by our WSGI server.

The SDK lets any web framework carry its messaging endpoint (`HttpServerAdapter`): this one
is a WSGI application, so Teams' activities arrive on the same waitress server, port and
process as Slack's events and /healthz. The SDK's handler (JWT validation of the Bot
Connector's token against its OpenID metadata, then the activity handlers) runs on the SDK's
loop; the request thread waits for its answer.

Before the SDK sees a request: its size is capped (413) and a request without a bearer token
is refused (401); a body that is not a JSON object (or nested too deep, or holding text that
is not Unicode) gets 400. The SDK answers 401 to a token
that is not the Bot Connector's, signed by its keys, for this bot and this service URL. An
authenticated activity whose fields are not of their types gets 400, not the SDK's 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpRouteHandler

from bot.app.processes import MAX_BODY, answer
from bot.teams.activities import problem
from bot.teams.loop import SdkLoop

log = logging.getLogger(__name__)
MESSAGES_PATH = "/api/messages"
TENANT_REFUSED = {"error": "Unauthorized: not this bot's tenant"}
"""The body of the 401 a single-tenant bot answers an activity from another tenant."""
ANSWER_WITHIN = 30.0
"""Teams gives up on an answer after 15 seconds; nothing here should take half as long."""
StartResponse = Callable[..., Any]


class TeamsEndpoint:
    """The SDK's HTTP server adapter, as a WSGI application."""

    def __init__(self, loop: SdkLoop, max_body: int = MAX_BODY) -> None:
        self.loop, self.max_body = loop, max_body
        self.routes: dict[str, HttpRouteHandler] = {}

    # -- HttpServerAdapter ------------------------------------------------------------------

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        self.routes[path] = handler

    def serve_static(self, path: str, directory: str) -> None:
        return None

    async def start(self, port: int) -> None:
        raise NotImplementedError("served by `roundtable serve` (waitress)")

    async def stop(self) -> None:
        return None

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "") != "POST":
            return answer(start_response, 405, "use POST")
        handler = self.routes.get(MESSAGES_PATH)
        if handler is None:
            return answer(start_response, 503, "Teams is starting")
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return answer(start_response, 411, "Content-Length required")
        if length < 0 or length > self.max_body:
            return answer(start_response, 413, "body too large")
        body = environ["wsgi.input"].read(length)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if not authorization.startswith("Bearer "):
            log.info("refused a request to %s: no bearer token", MESSAGES_PATH)
            return answer(start_response, 401, "Unauthorized")
        try:
            parsed = json.loads(body.decode("utf-8"))
            # half a surrogate pair (a JSON escape) could be neither stored nor sent on
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except (UnicodeError, ValueError, RecursionError):  # RecursionError: nested too deep
            parsed = None
        if not isinstance(parsed, dict):
            return answer(start_response, 400, "malformed body")
        request = HttpRequest(body=parsed, headers={"authorization": authorization})
        try:
            response = self.loop.run(handler(request), timeout=ANSWER_WITHIN)
        except TimeoutError:
            log.error("an activity took over %.0fs; Teams will send it again", ANSWER_WITHIN)
            return answer(start_response, 503, "try again")
        status = int(response["status"])
        if status == 500 and (why := problem(parsed)) is not None:
            # authenticated, but its fields are not of their types: the SDK could not read it
            # (answered 500, which Teams would retry); nothing was done with it
            log.info("refused a malformed activity: %s", why)
            return answer(start_response, 400, why)
        if status == 401 and response["body"] != TENANT_REFUSED:  # that refusal is logged
            log.info("refused a request to %s: token not accepted", MESSAGES_PATH)
        if response["body"] is None:
            return answer(start_response, status, "")
        return answer(start_response, status, json.dumps(response["body"]), "application/json")
