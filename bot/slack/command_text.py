"""Reading `/roundtable …` text: Slack's tokens (mentions in its escaped forms, should_escape:
true); the command words themselves are bot.app.command_words'."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.app import command_words
from bot.app.command_words import Typed
from bot.app.facilitation import RoundSettings, StartRequest
from bot.core.errors import RoundtableError
from bot.core.packs import Pack
from bot.core.people import Audience

SLASH_COMMAND = "/roundtable"
"""The app's slash command (manifest.yml); the bot's words show commands with it."""

TOKEN = re.compile(r"<[^<>]*>|\S+")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
WHO = "#channel|@group|@person …"
"""How people are named in `start`, for its usage line."""
PERSON_AND_ROUND = "say `@person` for every round, or `@person round N` for one"


def split(text: str) -> Typed:
    tokens = TOKEN.findall(text.strip())
    if not tokens:
        return Typed("help")
    return Typed(tokens[0].lower(), tokens[1:])


def channel(token: str) -> str | None:
    """The id of a channel picked from Slack's suggestions (`<#C…|name>`)."""
    return m.group(1) if (m := CHANNEL.match(token)) else None


def audience(tokens: list[str]) -> Audience:
    """Channels, user groups and people, as Slack escapes them when they are picked."""
    channels: list[str] = []
    groups: list[str] = []
    users: list[str] = []
    for token in tokens:
        if m := CHANNEL.match(token):
            channels.append(m.group(1))
        elif m := GROUP.match(token):
            groups.append(m.group(1))
        elif m := USER.match(token):
            users.append(m.group(1))
        elif token != ",":
            raise RoundtableError(
                f"I can't tell who {token.strip(',')!r} is: pick the channel, group or person "
                "from Slack's suggestions as you type # or @")
    return Audience(tuple(channels), tuple(groups), tuple(users))


def parse_start(args: list[str], known_pack: Callable[[str], Pack]
                ) -> tuple[StartRequest, Pack]:
    """`<pack> to <#C…|@group|@user …> [options]` (bot.app.command_words.parse_start)."""
    return command_words.parse_start(args, WHO, audience, channel, known_pack=known_pack)


def parse_set(args: list[str]) -> tuple[int | None, RoundSettings]:
    return command_words.parse_set(args, channel)


def mentioned_user(args: list[str]) -> str:
    if args and (m := USER.match(args[0])):
        return m.group(1)
    raise RoundtableError("mention the person with @ so Slack links them")


def person_and_round(args: list[str]) -> tuple[str, int | None]:
    """`@person [round N]` (add-facilitator, remove-facilitator)."""
    return mentioned_user(args), command_words.round_after(args[1:], PERSON_AND_ROUND)
