"""Events: direct messages (answers, edits, deletions) and the App Home tab.

A direct message is stored in the inbox (bot/core/inbox.py) before Bolt acknowledges it: the
listener middleware below runs ahead of the acknowledgement, and `capture` returns once the
event is on disk. The inbox's writer then hands it to `handle` in a batch. Slack retries an
event it thinks failed: the inbox hands over each event id once, and an answer's external id
is `channel:ts`, so a retry that slips through finds it taken and stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy.orm import Session

from bot.core.answers import Asked, ChatMessage, answer_from_chat
from bot.core.errors import RoundtableError
from bot.core.inbox import FollowUp, InboxUnavailable, Received
from bot.core.replies import delete_reply, edit_reply
from bot.slack import blocks, facilitation
from bot.slack.app import Bot
from bot.slack.confirmations import say_later

log = logging.getLogger(__name__)
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
SUBSCRIBED = ("message.im", "app_home_opened")
"""The bot events manifest.yml subscribes to (a test compares)."""


def register(app: App, bot: Bot) -> None:
    # One listener for every `message` subtype, so none of them is answered 404 (and retried).
    @app.event("message", middleware=[_stored_first(bot)])
    def on_other_message() -> None:
        """Messages outside a DM with the bot concern nobody here."""

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            bot.gateway.publish_home(event["user"], facilitation.home(bot, event["user"]))


def _stored_first(bot: Bot) -> Callable[..., BoltResponse | None]:
    def store(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        event = body.get("event") or {}
        if event.get("channel_type") != "im" or not isinstance(event.get("channel"), str):
            next_()
            return None
        if not _concerns_us(event):  # the bot's own messages (each one comes back as an event)
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") or f"{event['channel']}:{event.get('event_ts')}"
        try:
            bot.inbox.capture(str(event_id), event)
        except InboxUnavailable as exc:
            log.error("could not store an event; Slack will send it again: %s", exc)
            return BoltResponse(status=503, body="")
        return BoltResponse(status=200, body="")
    return store


def _from_bot(message: dict[str, Any]) -> bool:
    return bool(message.get("bot_id") or message.get("subtype") == "bot_message"
                or message.get("bot_profile"))


def handle(bot: Bot, session: Session, received: list[Received]) -> list[FollowUp]:
    """Answers, edits and deletions in DMs with the bot, in the order they came; anything
    else is ignored. Runs in the inbox's transaction; what to say back is returned, to be
    sent after the commit. Consecutive answers are stored together (a few queries in all)."""
    now = bot.clock()
    events = [r.payload for r in received if _concerns_us(r.payload)]
    follow_ups: list[FollowUp] = []
    answers: list[dict[str, Any]] = []
    for event in [*events, None]:
        if event is not None and event.get("subtype") in ANSWER_SUBTYPES:
            answers.append(event)
            continue
        follow_ups += _store_answers(bot, session, answers, now)
        answers = []
        if event is not None:
            _change(session, event, now)
    return follow_ups


def _concerns_us(event: dict[str, Any]) -> bool:
    """An answer, an edit or a deletion by a person, with the fields each needs."""
    subtype, changed = event.get("subtype"), event.get("message")
    if _from_bot(event):
        return False
    if subtype == "message_changed":
        return (isinstance(changed, dict) and not _from_bot(changed) and _text(changed.get("ts"))
                and isinstance(changed.get("text", ""), str))
    if subtype == "message_deleted":
        return _text(event.get("deleted_ts"))
    return (subtype in ANSWER_SUBTYPES and _text(event.get("user")) and _text(event.get("ts"))
            and isinstance(event.get("text", ""), str))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _change(session: Session, event: dict[str, Any], now: datetime) -> None:
    """An edit or a deletion of an answer; one of something that is not an answer is no-op."""
    channel = event["channel"]
    try:
        with session.begin_nested():
            if event.get("subtype") == "message_changed":
                changed = event.get("message") or {}
                edit_reply(session, f"{channel}:{changed['ts']}", changed.get("text", ""), now)
            else:
                delete_reply(session, f"{channel}:{event['deleted_ts']}", now)
    except RoundtableError as exc:
        log.info("ignored a change in %s: %s", channel, exc)


def _store_answers(bot: Bot, session: Session, events: list[dict[str, Any]], now: datetime
                   ) -> list[FollowUp]:
    """Store the answers; what to say back, one message per conversation (and thread) for
    the answers of this batch, so a burst does not become a burst of replies."""
    messages = [ChatMessage(e["channel"], e["user"], e.get("text") or "",
                            f"{e['channel']}:{e['ts']}", _thread(e)) for e in events]
    saved: dict[tuple[str, str | None], list[tuple[Asked, str]]] = {}
    follow_ups: list[FollowUp] = []
    for message, outcome in zip(messages, answer_from_chat(session, messages, now), strict=True):
        where = (message.channel_id, message.thread_ts)
        if outcome.asked is None:
            follow_ups.append(partial(say_later, bot, where, blocks.notice(
                "I have no open question waiting for a written answer here (a round may have "
                "closed). Use the buttons on the questions, or see the Home tab.")))
        elif outcome.refused:
            follow_ups.append(partial(say_later, bot, where, blocks.notice(
                f"I could not save that: {outcome.refused}")))
        elif outcome.created:
            saved.setdefault(where, []).append((outcome.asked, message.text))
        # else: stored before, and confirmed then
    for where, answers in saved.items():
        follow_ups.append(partial(bot.confirmations.add, where, answers))
    return follow_ups


def _thread(event: dict[str, Any]) -> str | None:
    return event.get("thread_ts") if event.get("thread_ts") != event["ts"] else None
