"""Reading `/roundtable …` text, with mentions in Slack's escaped forms (should_escape: true)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.app.facilitation import RoundSettings, StartRequest
from bot.core.errors import RoundtableError
from bot.core.people import Audience
from bot.core.rounds import DEFAULT_MODE, MODE_WORDS, Anonymity

SLASH_COMMAND = "/roundtable"
"""The app's slash command (manifest.yml); the bot's words show commands with it."""

TOKEN = re.compile(r"<[^<>]*>|\S+")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
GROUP = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
MODES = {"named", "anonymous", "by-role"}
KEYWORDS = {"digest", "closes", *MODES}


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str] = field(default_factory=list)


def split(text: str) -> Command:
    tokens = TOKEN.findall(text.strip())
    if not tokens:
        return Command("help")
    return Command(tokens[0].lower(), tokens[1:])


def parse_start(args: list[str]) -> StartRequest:
    """`<pack> to <#C…|@group|@user …> [digest <#C…>] [closes <date|Nd>]
    [named|anonymous|by-role]` (by role when no mode is said)."""
    usage = ("usage: /roundtable start <pack> to <#channel|@group|@person …> "
             "[digest #channel] [closes 14d] [named|anonymous|by-role]")
    if len(args) < 3 or args[1].lower() != "to":
        raise RoundtableError(usage)
    channels: list[str] = []
    groups: list[str] = []
    users: list[str] = []
    rest = args[2:]
    while rest and rest[0].lower() not in KEYWORDS:
        token = rest.pop(0)
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
    if not (channels or groups or users):
        raise RoundtableError("say who to ask: " + usage)
    digest = closes = None
    mode: Anonymity | None = None
    while rest:
        word = rest.pop(0).lower()
        if word in MODES:
            if mode is not None and mode != MODE_WORDS[word]:
                raise RoundtableError("say one mode: named, anonymous or by-role")
            mode = MODE_WORDS[word]
        elif word == "digest" and rest and (m := CHANNEL.match(rest[0])):
            digest = m.group(1)
            rest.pop(0)
        elif word == "closes" and rest:
            closes = rest.pop(0)
        else:
            raise RoundtableError(usage)
    return StartRequest(args[0], Audience(tuple(channels), tuple(groups), tuple(users)),
                        digest, closes, mode or DEFAULT_MODE)


def mentioned_user(args: list[str]) -> str:
    if args and (m := USER.match(args[0])):
        return m.group(1)
    raise RoundtableError("mention the person with @ so Slack links them")


def person_and_round(args: list[str]) -> tuple[str, int | None]:
    """`@person [round N]` (add-facilitator, remove-facilitator)."""
    user = mentioned_user(args)
    rest = [a.lower() for a in args[1:]]
    if not rest:
        return user, None
    if len(rest) == 2 and rest[0] == "round" and rest[1].isdigit():
        return user, int(rest[1])
    raise RoundtableError("say `@person` for every round, or `@person round N` for one")


def round_number(args: list[str]) -> int | None:
    if not args:
        return None
    if args[0].isdigit():
        return int(args[0])
    raise RoundtableError(f"{args[0]!r} is not a round number")


SET_KEYWORDS = {"digest", "closes", "schedule"}
SET_USAGE = ("usage: /roundtable set [round] [digest #channel|none] [closes 14d|2026-12-18|never] "
             "[schedule <cron: minute hour day month weekday>|default]")


def parse_set(args: list[str]) -> tuple[int | None, RoundSettings]:
    """`[round] [digest <#C…>|none] [closes <date|Nd|never>] [schedule <cron…>|default]` (no
    round: the only open one of the facilitator's)."""
    round_id = int(args[0]) if args and args[0].isdigit() else None
    rest = args[1:] if round_id is not None else list(args)
    digest = closes = cron = None
    while rest:
        word = rest.pop(0).lower()
        value: list[str] = []
        while rest and rest[0].lower() not in SET_KEYWORDS:
            value.append(rest.pop(0))
        if word == "digest" and len(value) == 1 and (m := CHANNEL.match(value[0])):
            digest = m.group(1)
        elif word == "digest" and [v.lower() for v in value] == ["none"]:
            digest = ""
        elif word == "closes" and len(value) == 1:
            closes = value[0]
        elif word == "schedule" and value:
            cron = "" if [v.lower() for v in value] == ["default"] else " ".join(value)
        else:
            raise RoundtableError(SET_USAGE)
    if digest is None and closes is None and cron is None:
        raise RoundtableError(SET_USAGE)
    return round_id, RoundSettings(digest, closes, cron)


REVIEW_USAGE = ("usage: /roundtable review N [on|off] [unapproved post|wait] "
                "[within 24h]")


@dataclass(frozen=True)
class ReviewChoice:
    """`review N …`: what to change (None: leave it); nothing chosen shows the draft."""

    round_id: int
    mode: str | None = None
    unreviewed: str | None = None
    hours: int | None = None

    @property
    def empty(self) -> bool:
        return self.mode is None and self.unreviewed is None and self.hours is None


def parse_review(args: list[str]) -> ReviewChoice:
    """`<round> [on|off] [unapproved post|wait] [within 24h]`."""
    round_id = required_round(args, REVIEW_USAGE)
    rest = [a.lower() for a in args[1:]]
    mode = unreviewed = None
    hours = None
    while rest:
        word = rest.pop(0)
        if word in ("on", "off"):
            mode = "review" if word == "on" else "post"
        elif word == "unapproved" and rest and rest[0] in ("post", "wait"):
            unreviewed = rest.pop(0)
        elif word == "within" and rest and rest[0].rstrip("h").isdigit():
            hours = int(rest.pop(0).rstrip("h"))
        else:
            raise RoundtableError(REVIEW_USAGE)
    return ReviewChoice(round_id, mode, unreviewed, hours)


def required_round(args: list[str], usage: str) -> int:
    if args and args[0].isdigit():
        return int(args[0])
    raise RoundtableError(usage)
