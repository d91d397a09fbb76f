"""Buttons: open the answer form, skip a question, open the start form, confirm or cancel
forget-me."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.core.answers import asked_of, skip
from bot.core.errors import RoundtableError
from bot.slack import blocks, commands, facilitation
from bot.slack.app import Bot
from storage.db import transaction


def register(app: App, bot: Bot) -> None:
    @app.action(blocks.ANSWER_OPEN)
    def open_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        target = json.loads(action["value"])
        try:
            with bot.database.sessions() as session:
                asked = asked_of(session, int(target["round"]), str(target["prompt"]),
                                 body["user"]["id"])
                view = blocks.answer_view(asked)
        except RoundtableError as exc:
            bot.gateway.respond(body.get("response_url"), blocks.notice(str(exc)))
            return
        bot.gateway.open_view(body["trigger_id"], view)

    @app.action(blocks.SKIP)
    def skip_question(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        target = json.loads(action["value"])
        try:
            with transaction(bot.database.sessions) as session:
                asked, _ = skip(session, int(target["round"]), str(target["prompt"]),
                                body["user"]["id"], bot.clock())
                said = blocks.skipped(asked)
        except RoundtableError as exc:
            said = blocks.notice(str(exc))
        bot.gateway.respond(body.get("response_url"), said)
        bot.outbox.wake()

    @app.action(blocks.START_OPEN)
    def open_start(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        if facilitation.may_facilitate(bot, body["user"]["id"]):
            bot.gateway.open_view(body["trigger_id"], blocks.start_view(facilitation.packs()))

    @app.action(blocks.FORGET_CONFIRM)
    def forget_confirm(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        done = commands.forget(bot, body["user"]["id"])
        bot.gateway.respond(body.get("response_url"), blocks.notice(done), replace_original=True)

    @app.action(blocks.FORGET_CANCEL)
    def forget_cancel(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        bot.gateway.respond(body.get("response_url"), blocks.said("Nothing was deleted."),
                            replace_original=True)
