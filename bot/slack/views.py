"""Modal submissions: an answer form, and the start form of the App Home."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.answers import answer_in_form, asked_of
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.slack import blocks, facilitation
from bot.slack.app import Bot
from bot.slack.command_text import Audience, StartCommand
from storage.db import transaction

log = logging.getLogger(__name__)


def register(app: App, bot: Bot) -> None:
    @app.view(blocks.ANSWER_VIEW)
    def answer_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        target = json.loads(view["private_metadata"])
        values = view["state"]["values"]
        user = body["user"]["id"]
        try:
            with transaction(bot.database.sessions) as session:
                asked = asked_of(session, int(target["round"]), str(target["prompt"]), user)
                external_id = f"view:{view['id']}"
                if asked.prompt.kind == "text":
                    text = values[blocks.ANSWER_BLOCK]["value"].get("value") or ""
                    answer_in_form(session, asked, text, bot.clock(), external_id)
                    saved = blocks.confirmation(asked, text)
                else:
                    choices = blocks.choices_from_state(asked.prompt, values)
                    answer_in_form(session, asked, choices, bot.clock(), external_id)
                    saved = blocks.vote_confirmation(asked, choices)
        except RoundtableError as exc:
            first = next(iter(values), blocks.ANSWER_BLOCK)
            ack(response_action="errors", errors={first: str(exc)[:150]})
            return
        ack()
        try:  # the form closes: say in the conversation what was kept
            bot.gateway.post(bot.gateway.open_direct(user), saved)
        except DeliveryError as exc:
            log.warning("could not confirm a form answer to %s: %s", user, exc.reason)
        bot.outbox.wake()  # after the confirmation, so the next question comes below it
        _refresh_home(bot, user)

    @app.view(blocks.START_VIEW)
    def start_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                        client: WebClient) -> None:
        user = body["user"]["id"]
        if not facilitation.may_facilitate(bot, user):
            ack(response_action="errors", errors={"pack": facilitation.refusal("start")})
            return
        values = view["state"]["values"]

        def picked(block: str, key: str) -> Any:
            return values.get(block, {}).get("value", {}).get(key)

        channel, users = picked("channel", "selected_conversation"), picked(
            "users", "selected_users") or []
        if not channel and not users:
            ack(response_action="errors", errors={"channel": "Choose a channel or people."})
            return
        ack()
        request = StartCommand(
            pack=(picked("pack", "selected_option") or {}).get("value", ""),
            audience=Audience(channels=(channel,) if channel else (), users=tuple(users)),
            digest_channel=picked("digest", "selected_conversation"),
            closes=picked("closes", "value"),
            anonymous=bool(picked("anonymous", "selected_options")),
        )
        try:
            outcome = facilitation.start(bot, client, user, request)
        except RoundtableError as exc:
            outcome = f"The round was not started: {exc}"
        try:
            bot.gateway.post(bot.gateway.open_direct(user), blocks.said(outcome))
        except DeliveryError as exc:
            log.warning("could not tell %s how the start went: %s", user, exc.reason)
        _refresh_home(bot, user)


def _refresh_home(bot: Bot, user: str) -> None:
    try:
        bot.gateway.publish_home(user, facilitation.home(bot, user))
    except DeliveryError as exc:
        log.warning("could not refresh the Home tab of %s: %s", user, exc.reason)
