"""The `/roundtable` slash command: parse, call the application, answer ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.app import access, facilitation, facilitators, participants, personal_data
from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.said import Said, said
from bot.slack import blocks, render
from bot.slack.command_text import (
    digest_setting,
    parse_start,
    person_and_round,
    round_number,
    split,
)
from bot.slack.gateway import SlackGateway
from bot.slack.messages import SlackMessage

COMMAND = "/roundtable"
HELP = """*Roundtable* asks a workshop's questions to the people who could not be in the room.
For facilitators:
• `/roundtable start <pack> to #channel @group @person …` \
`[digest #channel] [closes 14d|2026-12-18] [named|anonymous|by-role]` (by role unless you say)
• `/roundtable status [round]` · `remind [round]` · `digest [round]` · `close [round]`
• `/roundtable set [round] digest #channel`: where the round's digests go (and only there)
• `/roundtable add-facilitator @person [round N]` · `remove-facilitator @person [round N]`: \
a co-facilitator of one of your rounds (admins: a facilitator of any round)
For everyone:
• `/roundtable stop`: no more questions for you
• `/roundtable my-data`: a file of everything Roundtable holds about you
• `/roundtable forget-me`: delete it all (asks first)
• Write "don't quote me" in an answer (or press the button under my reply): it counts, but \
is never quoted
The Home tab shows your open questions (and, for facilitators, your rounds and a Start form)."""
SLOW = {"start", "remind", "digest", "close", "my-data"}

Run = Callable[[Roundtable, Actor, dict[str, Any], list[str]], "Said | SlackMessage"]


def register(bolt: App, app: Roundtable, slack: SlackGateway) -> None:
    @bolt.command(COMMAND)
    def roundtable(ack: Ack, command: dict[str, Any]) -> None:
        parsed = split(command.get("text") or "")
        actor = Actor(slack.platform, str(command.get("user_id")))
        run = RUNS.get(parsed.name)
        if run is None:
            ack(text=HELP if parsed.name == "help" else f"I don't know `{parsed.name[:30]}`.\n"
                + HELP)
            return
        if parsed.name in access.FACILITATOR_ONLY and not access.may_facilitate(
                app, actor):
            ack(text=f"Sorry, {access.refusal(parsed.name)} (They type "
                     "`/roundtable add-facilitator @you`.)", response_type="ephemeral")
            return
        ack(text="Working on it…") if parsed.name in SLOW else ack()
        try:
            answer = run(app, actor, command, parsed.args)
        except RoundtableError as exc:
            answer = said("Sorry: ", exc.said)
        slack.respond(command.get("response_url"),
                      answer if isinstance(answer, SlackMessage) else render.message(answer))


def _start(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    return facilitation.start(app, actor, parse_start(args)).said


def _forget_me(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]
               ) -> SlackMessage:
    return blocks.forget_prompt(participants.answers_kept(app, actor))


RUNS: dict[str, Run] = {
    "start": _start,
    "status": lambda app, actor, c, args: facilitation.status(app, actor, round_number(args)),
    "remind": lambda app, actor, c, args: facilitation.remind(app, actor, round_number(args)),
    "digest": lambda app, actor, c, args: facilitation.digest(app, actor, round_number(args)),
    "close": lambda app, actor, c, args: facilitation.close(
        app, actor, round_number(args)).said,
    "set": lambda app, actor, c, args: facilitation.set_digest_channel(
        app, actor, *digest_setting(args)),
    "add-facilitator": lambda app, actor, c, args: facilitators.add_facilitator(
        app, actor, *person_and_round(args)),
    "remove-facilitator": lambda app, actor, c, args: facilitators.remove_facilitator(
        app, actor, *person_and_round(args)),
    "stop": lambda app, actor, c, args: participants.stop(app, actor),
    "my-data": lambda app, actor, c, args: personal_data.my_data(app, actor),
    "forget-me": _forget_me,
}
