"""Events: direct messages (answers, edits, deletions) and the App Home tab.

A direct message is read (bot.slack.mentions: translated, its mentions named) and stored in
the inbox before Bolt acknowledges it: the listener middleware below runs ahead of the
acknowledgement, and `capture` returns once the event is on disk (or in the spool). The
application handles it from there. Slack retries an event it thinks failed: the inbox hands
each event id over once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.app import participants
from bot.app.actors import Actor
from bot.app.inbox import InboxUnavailable
from bot.app.roundtable import Roundtable
from bot.core.incoming import to_payload
from bot.slack.gateway import SlackGateway
from bot.slack.mentions import MessageReader

log = logging.getLogger(__name__)
SUBSCRIBED = ("message.im", "app_home_opened")
"""The bot events manifest.yml subscribes to (a test compares)."""


def register(bolt: App, app: Roundtable, slack: SlackGateway, messages: MessageReader) -> None:
    # One listener for every `message` subtype, so none of them is answered 404 (and retried).
    @bolt.event("message", middleware=[stored_first(app, messages)])
    def on_other_message() -> None:
        """Messages outside a DM with the bot concern nobody here."""

    @bolt.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and isinstance(event.get("user"), str):
            participants.refresh_home(app, Actor(slack.platform, event["user"]))


def stored_first(app: Roundtable, messages: MessageReader
                 ) -> Callable[..., BoltResponse | None]:
    def store(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        event = body.get("event") or {}
        if event.get("channel_type") != "im":
            next_()
            return None
        incoming = messages.read(event)
        if incoming is None:  # the bot's own messages, other bots, Slackbot, joins…
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") or f"{incoming.channel_id}:{event.get('event_ts')}"
        try:
            app.inbox.capture("slack", str(event_id), to_payload(incoming))
        except InboxUnavailable as exc:
            log.error("could not store an event; Slack will send it again: %s", exc)
            return BoltResponse(status=503, body="")
        return BoltResponse(status=200, body="")
    return store
