"""The `/roundtable` slash command: parse, call the application, answer ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.app import access, facilitation, facilitators, participants, personal_data, review
from bot.app.actors import Actor
from bot.app.command_words import (
    DELETE_USAGE,
    Typed,
    help_said,
    parse_list,
    parse_reopen,
    parse_review,
    parse_status,
    required_round,
    round_number,
    unknown_command,
)
from bot.app.conversations import why_refused
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.said import Command, Said, said
from bot.slack import blocks, render
from bot.slack.command_text import SLASH_COMMAND as COMMAND
from bot.slack.command_text import parse_set, parse_start, person_and_round, split
from bot.slack.gateway import SlackGateway
from bot.slack.listeners.failures import told_on_failure
from bot.slack.messages import SlackMessage
from bot.slack.mrkdwn import said_mrkdwn, to_plain

HELP_TEXT = (""" asks a workshop's questions to the people who could not be in the room.
For facilitators:
• `/roundtable start <pack> to #channel @group @person …` \
`[digest #channel] [closes 14d|2026-12-18] [named|anonymous|by-role]` (by role unless you say)
• `/roundtable list [all]` · `status [round] [who]` · `remind [round]` · `digest [round]` · \
`close [round]`
• `/roundtable set [round] [digest #channel|none] [closes 14d|never] \
[schedule <cron>|default]`: where the round's digests go (and only there), when it closes, \
when digests come
• `/roundtable review <round>`: the digest waiting for your approval, in a DM, to edit and \
approve; `review <round> on|off [unapproved post|wait] [within 24h]`: whether scheduled \
digests wait for approval, and what becomes of one nobody approves in time
• `/roundtable reopen <round> [closes 14d]` · `delete <round>` (asks first)
• `/roundtable add-facilitator @person [round N]` · `remove-facilitator @person [round N]`: \
a co-facilitator of one of your rounds (admins: a facilitator of any round)
For everyone:
• `/roundtable stop`: no more questions for you
• `/roundtable my-data`: a file of everything Roundtable holds about you
• `/roundtable forget-me`: delete it all (asks first)
• Write "don't quote me" in an answer (or press the button under my reply): it counts, but \
is never quoted
The Home tab shows your open questions (and, for facilitators, your rounds and a Start form).""")
"""The list of commands, plain: it is escaped as it is rendered (Slack would read `<pack>` as
a link and show "pack")."""
WORKING = "Working on it…"
"""What a slow command's acknowledgement says; its answer follows at the response_url."""
SLOW = {"start", "remind", "digest", "close", "set", "my-data", "review"}

Run = Callable[[Roundtable, Actor, dict[str, Any], list[str]], "Said | SlackMessage"]


def register(bolt: App, app: Roundtable, slack: SlackGateway) -> None:
    guarded = told_on_failure(slack)
    @bolt.command(COMMAND)
    @guarded
    def roundtable(ack: Ack, command: dict[str, Any]) -> None:
        parsed = as_read(split(command.get("text") or ""))
        actor = Actor(slack.platform, str(command.get("user_id")))
        run = RUNS.get(parsed.name)
        if run is None:
            ack(text=said_mrkdwn(help_said(HELP_TEXT, parsed.args) if parsed.name == "help"
                                 else unknown_command(HELP_TEXT, parsed.name)))
            return
        if parsed.name in access.FACILITATOR_ONLY and not access.may_facilitate(
                app, actor):
            ack(text=said_mrkdwn(said("Sorry, ", access.refusal(parsed.name), " (They type ",
                                      Command("add-facilitator @you"), ".)")),
                response_type="ephemeral")
            return
        ack(text=WORKING) if parsed.name in SLOW else ack()
        try:
            answer = run(app, actor, command, parsed.args)
        except RoundtableError as exc:
            answer = why_refused(exc)
        slack.respond(command.get("response_url"),
                      answer if isinstance(answer, SlackMessage) else render.message(answer))


def as_read(typed: Typed) -> Typed:
    """A command's words as its writer saw them; Slack's escaped mentions (`<@U…|name>`) stay
    as they came, for bot.slack.command_text to read the ids in them."""
    def read(token: str) -> str:
        return token if token.startswith("<") else to_plain(token)
    return Typed(read(typed.name), [read(token) for token in typed.args])


def _start(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    request, pack = parse_start(
        args, lambda pack: facilitation.startable_pack(app.settings, actor, pack))
    return facilitation.start(app, actor, request, pack=pack).said


def _status(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    round_id, who = parse_status(args)
    return facilitation.status(app, actor, round_id, who=who,
                               names_shown=facilitation.NAMES_SHOWN)


def _list(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    return facilitation.list_rounds(app, actor, parse_list(args))


def _set(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    round_id, chosen = parse_set(args)
    return facilitation.set_round(app, actor, round_id, chosen)


def _review(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    chosen = parse_review(args)
    if chosen.empty:
        return review.show(app, actor, chosen.round_id)
    return review.set_review(app, actor, chosen.round_id, chosen.mode, chosen.unreviewed,
                             chosen.hours)


def _reopen(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]) -> Said:
    return facilitation.reopen(app, actor, *parse_reopen(args))


def _delete(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]
            ) -> SlackMessage:
    asked = facilitation.deletion_asked(app, actor, required_round(args, DELETE_USAGE))
    return blocks.delete_prompt(asked.round_id, asked.asked, render.mrkdwn(asked.said))


def _forget_me(app: Roundtable, actor: Actor, command: dict[str, Any], args: list[str]
               ) -> SlackMessage:
    return blocks.forget_prompt(render.mrkdwn(personal_data.forget_warning(app, actor)))


RUNS: dict[str, Run] = {
    "start": _start,
    "status": _status,
    "list": _list,
    "set": _set,
    "reopen": _reopen,
    "review": _review,
    "delete": _delete,
    "remind": lambda app, actor, c, args: facilitation.remind(app, actor, round_number(args)),
    "digest": lambda app, actor, c, args: facilitation.digest(app, actor, round_number(args)),
    "close": lambda app, actor, c, args: facilitation.close(
        app, actor, round_number(args)).said,
    "add-facilitator": lambda app, actor, c, args: facilitators.add_facilitator(
        app, actor, *person_and_round(args)),
    "remove-facilitator": lambda app, actor, c, args: facilitators.remove_facilitator(
        app, actor, *person_and_round(args)),
    "stop": lambda app, actor, c, args: participants.stop(app, actor),
    "my-data": lambda app, actor, c, args: personal_data.my_data(app, actor),
    "forget-me": _forget_me,
}
