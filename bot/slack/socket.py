"""Socket Mode with each envelope checked as the HTTP endpoint checks a signed body
(`payloads.problem`) before Bolt reads it. Imported only when a socket is asked for: the
websocket client is needed for nothing else."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack import payloads

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(SocketModeHandler):
    """A payload Bolt would fail on, or act on wrongly, is acknowledged (Slack would only
    send it again), logged, and changes nothing."""

    def handle(self, connection: SocketModeClient,  # type: ignore[override]  # as Bolt's
               req: SocketModeRequest) -> None:
        body = req.payload
        why = payloads.problem(body) if isinstance(body, dict) else "not an object"
        if why is None:
            super().handle(connection, req)
            return
        log.warning("Slack sent a payload over the socket that cannot be acted on (%s): "
                    "acknowledged, nothing done", why)
        connection.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
