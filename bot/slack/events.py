"""Events: direct messages (answers, edits, deletions) and the App Home tab.

Bolt acknowledges events before running these listeners. Slack retries an event it thinks
failed, so each one claims its event id in the same transaction as its work, and an answer's
external id is `channel:ts`: a retry finds both taken and does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.core.answers import answer_from_chat
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.core.replies import delete_reply, edit_reply
from bot.slack import blocks, facilitation
from bot.slack.app import Bot
from bot.slack.messages import SlackMessage
from storage.db import transaction
from storage.queries import claim_event

log = logging.getLogger(__name__)
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
SUBSCRIBED = ("message.im", "app_home_opened")
"""The bot events manifest.yml subscribes to (a test compares)."""


def register(app: App, bot: Bot) -> None:
    # One listener for every `message` subtype, so none of them is answered 404 (and retried).
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("channel_type") == "im":
            handle_message(bot, event, str(body.get("event_id") or ""))

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            bot.gateway.publish_home(event["user"], facilitation.home(bot, event["user"]))


def _from_bot(message: dict[str, Any]) -> bool:
    return bool(message.get("bot_id") or message.get("subtype") == "bot_message"
                or message.get("bot_profile"))


def handle_message(bot: Bot, event: dict[str, Any], event_id: str) -> None:
    """An answer, an edit or a deletion in a DM with the bot; anything else is ignored."""
    subtype, channel = event.get("subtype"), event["channel"]
    changed = event.get("message") or {}
    if _from_bot(event) or (subtype == "message_changed" and _from_bot(changed)):
        return
    now = bot.clock()
    reply: tuple[str | None, SlackMessage] | None = None
    try:
        with transaction(bot.database.sessions) as session:
            if event_id and not claim_event(session, event_id, now):
                return
            if subtype == "message_changed":
                edit_reply(session, f"{channel}:{changed['ts']}", changed.get("text", ""), now)
            elif subtype == "message_deleted":
                delete_reply(session, f"{channel}:{event['deleted_ts']}", now)
            elif subtype in ANSWER_SUBTYPES and event.get("user"):
                reply = _answer(session, bot, event)
    except RoundtableError as exc:
        if subtype in ANSWER_SUBTYPES:
            reply = (event.get("thread_ts"), blocks.notice(f"I could not save that: {exc}"))
    if reply is not None:
        try:
            bot.gateway.post(channel, reply[1], thread_ts=reply[0])
        except DeliveryError as exc:
            log.warning("could not confirm an answer in %s: %s", channel, exc.reason)


def _answer(session: Session, bot: Bot, event: dict[str, Any]) -> tuple[
        str | None, SlackMessage] | None:
    channel, ts, text = event["channel"], event["ts"], event.get("text") or ""
    thread = event.get("thread_ts") if event.get("thread_ts") != ts else None
    result = answer_from_chat(session, channel, event["user"], text, f"{channel}:{ts}",
                              bot.clock(), thread_ts=thread)
    if result is None:
        return thread, blocks.notice(
            "I have no open question waiting for a written answer here (a round may have "
            "closed). Use the buttons on the questions, or see the Home tab.")
    asked, recorded = result
    if not recorded.created:
        return None
    return thread, blocks.confirmation(asked, text)
