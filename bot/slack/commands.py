"""The `/roundtable` slash command: parse, check who may, call the core, answer ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.errors import RoundtableError
from bot.core.people import find_participant, opt_out
from bot.core.replies import answer_count, forget_participant
from bot.slack import blocks, facilitation
from bot.slack.app import Bot
from bot.slack.command_text import mentioned_user, parse_start, round_number, split
from bot.slack.messages import SlackMessage
from storage.db import transaction

COMMAND = "/roundtable"
HELP = """*Roundtable* asks a workshop's questions to the people who could not be in the room.
For facilitators:
• `/roundtable start <pack> to #channel @group @person …` \
`[digest #channel] [closes 14d|2026-12-18] [anonymous]`
• `/roundtable status [round]` · `remind [round]` · `digest [round]` · `close [round]`
• `/roundtable add-facilitator @person`
For everyone:
• `/roundtable stop`: no more questions for you
• `/roundtable forget-me`: delete your answers (asks first)
The Home tab shows your open questions (and, for facilitators, your rounds and a Start form)."""


def register(app: App, bot: Bot) -> None:
    @app.command(COMMAND)
    def roundtable(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        parsed = split(command.get("text") or "")
        user = command["user_id"]
        if parsed.name in facilitation.FACILITATOR_ONLY and not facilitation.may_facilitate(
                bot, user):
            ack(text=facilitation.refusal(parsed.name), response_type="ephemeral")
            return
        run = ACTIONS.get(parsed.name)
        if run is None:
            ack(text=HELP if parsed.name == "help" else f"I don't know `{parsed.name[:30]}`.\n"
                + HELP)
            return
        if parsed.name in SLOW:
            ack(text="Working on it…")
        else:
            ack()
        try:
            answer = run(bot, client, command, parsed.args)
        except RoundtableError as exc:
            answer = blocks.notice(f"Sorry: {exc}")
        if isinstance(answer, str):
            answer = blocks.said(answer)
        bot.gateway.respond(command.get("response_url"), answer)


Action = Callable[[Bot, WebClient, dict[str, Any], list[str]], "str | SlackMessage"]


def _start(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    return facilitation.start(bot, client, command["user_id"], parse_start(args))


def _status(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    return facilitation.status(bot, round_number(args))


def _remind(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    return facilitation.remind(bot, round_number(args))


def _digest(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    return facilitation.digest(bot, round_number(args), command["channel_id"])


def _close(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    return facilitation.close(bot, round_number(args), command["channel_id"])


def _add_facilitator(bot: Bot, client: WebClient, command: dict[str, Any],
                     args: list[str]) -> str:
    return facilitation.add_facilitator(bot, command["user_id"], mentioned_user(args))


def _stop(bot: Bot, client: WebClient, command: dict[str, Any], args: list[str]) -> str:
    with transaction(bot.database.sessions) as session:
        participant = find_participant(session, command["user_id"])
        if participant is not None:
            opt_out(session, participant, bot.clock())
    return ("Done: Roundtable will not message you again. Your answers are kept; "
            "`/roundtable forget-me` deletes them.")


def _forget_me(bot: Bot, client: WebClient, command: dict[str, Any],
               args: list[str]) -> str | SlackMessage:
    with bot.database.sessions() as session:
        participant = find_participant(session, command["user_id"])
        count = 0 if participant is None else answer_count(session, participant)
    return blocks.forget_prompt(count)


def forget(bot: Bot, user_id: str) -> str:
    """Delete everything this person answered (after they confirmed)."""
    with transaction(bot.database.sessions) as session:
        participant = find_participant(session, user_id)
        count = 0 if participant is None else forget_participant(session, participant,
                                                                 bot.clock())
    return f"Done: {count} answers deleted. Roundtable will not message you again."


ACTIONS: dict[str, Action] = {
    "start": _start, "status": _status, "remind": _remind, "digest": _digest, "close": _close,
    "add-facilitator": _add_facilitator, "stop": _stop, "forget-me": _forget_me,
}
SLOW = {"start", "remind", "digest", "close"}
