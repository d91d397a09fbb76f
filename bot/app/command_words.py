"""The words of Roundtable's chat commands, the same on every platform: round numbers, the
options of `start`, `set` and `review`, and the usage lines.

An adapter splits the text into tokens and reads only its own forms (how people and
channels are named in Slack or Teams), passing them in as functions; everything else a
facilitator types means the same, and a mistake gets the same message, on every platform.
Usage lines name the command with a Command part, so each platform shows it as it is typed
there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.app.facilitation import RoundSettings, StartRequest, mode_chosen
from bot.core.errors import NotFound, RoundtableError
from bot.core.packs import Pack
from bot.core.people import Audience
from bot.core.rounds import MAX_ROUND
from bot.core.said import Code, Command, Said, Strong, said

MODES = ("named", "anonymous", "by-role")
START_OPTIONS = {"digest", "closes", *MODES}
"""The words after `start <pack> to <who …>`; the audience ends at the first of them."""
SET_OPTIONS = {"digest", "closes", "schedule"}
NO_CHANNEL = "none"
DEFAULT_SCHEDULE = "default"
CLOSES = "14d|2026-12-18"
"""What `closes` takes: a number of days, or a date (bot.core.dates.parse_closes)."""

SET_USAGE = (f"set [round] [digest #channel|{NO_CHANNEL}] [closes {CLOSES}|never] "
             f"[schedule <cron: minute hour day month weekday>|{DEFAULT_SCHEDULE}]")
REVIEW_USAGE = "review N [on|off] [unapproved post|wait] [within 24h]"
REOPEN_USAGE = f"reopen <round> [closes {CLOSES}]"
DELETE_USAGE = "delete <round>"
STATUS_USAGE = "status [round] [who]"
LIST_USAGE = "list [all]"
WHO = "who"
"""After `status [round]`: who has not answered yet."""
ALL = "all"
"""After `list`: the closed rounds too."""

@dataclass(frozen=True)
class Typed:
    """A command as typed: its word (lower case) and the tokens after it."""

    name: str
    args: list[str] = field(default_factory=list)


Channel = Callable[[str], "str | None"]
"""A platform's reading of a channel as typed: its id, or None when it is not one."""


def usage(command: str) -> RoundtableError:
    """The refusal that shows how a command is typed (`command` without the platform's
    prefix)."""
    return RoundtableError(said=said("Type it like this: ", Command(command), "."))


def digest_channel(typed: str, channel: Channel, command: str) -> str:
    """The channel named after `digest`, read the platform's way; one it cannot read is
    refused in the same words on every platform, with `command`'s usage."""
    found = channel(typed)
    if found is None:
        raise RoundtableError(said=said(f"I don't know a channel called {typed[:60]!r}. ",
                                        usage(command).said))
    return found


def start_usage(who: str) -> str:
    """`start`'s usage, `who` being how the platform names people (`#channel @person …`)."""
    return (f"start <pack> to <{who}> [digest #channel] [closes {CLOSES}] "
            f"[{'|'.join(MODES)}]")


def _digits(token: str) -> bool:
    return token.isascii() and token.isdigit()


def round_id(token: str) -> int:
    """A round's number as typed; anything else is refused, saying so."""
    if _digits(token) and int(token) > MAX_ROUND:
        raise NotFound(f"there is no round {token[:30]}")
    if _digits(token):
        return int(token)
    raise RoundtableError(f"{token[:30]!r} is not a round number")


def round_number(args: list[str]) -> int | None:
    """The round named first, or None when none is (the command then means the only open
    round of the facilitator's)."""
    return round_id(args[0]) if args else None


def parse_status(args: list[str]) -> tuple[int | None, bool]:
    """`[round] [who]`: the round (None: the facilitator's open ones), and whether to say who
    has not answered."""
    who = bool(args) and args[-1].lower() == WHO
    rest = args[:-1] if who else args
    if len(rest) > 1:
        raise usage(STATUS_USAGE)
    return round_number(rest), who


def parse_list(args: list[str]) -> bool:
    """`[all]`: whether the closed rounds are listed too."""
    if not args:
        return False
    if len(args) == 1 and args[0].lower() == ALL:
        return True
    raise usage(LIST_USAGE)


def required_round(args: list[str], command: str) -> int:
    """The round named first, which `command` (its usage) needs."""
    if not args:
        raise usage(command)
    return round_id(args[0])


def parse_start(args: list[str], who: str, audience: Callable[[list[str]], Audience],
                channel: Channel, digest: str | None = None, *,
                known_pack: Callable[[str], Pack]) -> tuple[StartRequest, Pack]:
    """`<pack> to <who …> [digest #channel] [closes 14d|date] [named|anonymous|by-role]`, by
    role when no mode is said. `audience` reads the platform's tokens naming people,
    `channel` a digest channel; `digest` is where digests go unless one is named;
    `known_pack` reads the pack (refusing one that is not there) before the people are read,
    and what it read comes back beside the request, for the round to start with it: the
    pack is read once."""
    shown = start_usage(who)
    if len(args) < 3 or args[1].lower() != "to":
        raise usage(shown)
    pack = known_pack(args[0])
    rest = args[2:]
    people = _asked(rest, audience, shown)
    closes = mode = None
    while rest:
        word = rest.pop(0).lower()
        if word in MODES:
            if mode is not None and mode != word:
                raise RoundtableError("say one mode: " + ", ".join(MODES))
            mode = word
        elif word == "digest" and rest:
            digest = digest_channel(rest.pop(0), channel, shown)
        elif word == "closes" and rest:
            closes = rest.pop(0)
        else:
            raise usage(shown)
    return StartRequest(args[0], people, digest, closes, mode_chosen(mode)), pack


def invite_usage(who: str) -> str:
    """`invite`'s usage, `who` being how the platform names people."""
    return f"invite <round> to <{who}> [digest #channel]"


def parse_invite(args: list[str], who: str, audience: Callable[[list[str]], Audience],
                 channel: Channel, digest: str | None = None
                 ) -> tuple[int, Audience, str | None]:
    """`<round> to <who …> [digest #channel]`: the round, who to add, and where its digests go
    on the platform (`digest` unless one is named); read as `start` reads its audience, any
    mistake shown with `invite`'s own usage."""
    shown = invite_usage(who)
    chosen = required_round(args, shown)
    if len(args) < 3 or args[1].lower() != "to":
        raise usage(shown)
    rest = args[2:]
    people = _asked(rest, audience, shown)
    while rest:
        word = rest.pop(0).lower()
        if word == "digest" and rest:
            digest = digest_channel(rest.pop(0), channel, shown)
        else:
            raise usage(shown)
    return chosen, people, digest


def _asked(rest: list[str], audience: Callable[[list[str]], Audience], shown: str
           ) -> Audience:
    """The people named at the head of `rest` (taken off it), up to the first option."""
    named: list[str] = []
    while rest and rest[0].lower() not in START_OPTIONS:
        named.append(rest.pop(0))
    people = audience(named)
    if not (people.channels or people.groups or people.users):
        raise RoundtableError(said=said("Say who to ask. ", usage(shown).said))
    return people


def parse_set(args: list[str], channel: Channel) -> tuple[int | None, RoundSettings]:
    """`[round] [digest #channel|none] [closes 14d|date|never] [schedule <cron…>|default]`
    (no round: the only open one of the facilitator's)."""
    rest = list(args)
    chosen = round_id(rest.pop(0)) if rest and rest[0].lower() not in SET_OPTIONS else None
    digest = closes = cron = None
    while rest:
        word = rest.pop(0).lower()
        value: list[str] = []
        while rest and rest[0].lower() not in SET_OPTIONS:
            value.append(rest.pop(0))
        typed = " ".join(value)
        if word == "digest" and typed.lower() == NO_CHANNEL:
            digest = ""
        elif word == "digest" and value:
            digest = digest_channel(typed, channel, SET_USAGE)
        elif word == "closes" and len(value) == 1:
            closes = value[0]
        elif word == "schedule" and value:
            cron = "" if typed.lower() == DEFAULT_SCHEDULE else typed
        else:
            raise usage(SET_USAGE)
    if digest is None and closes is None and cron is None:
        raise usage(SET_USAGE)
    return chosen, RoundSettings(digest, closes, cron)


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
    chosen = required_round(args, REVIEW_USAGE)
    rest = [a.lower() for a in args[1:]]
    mode = unreviewed = None
    hours = None
    while rest:
        word = rest.pop(0)
        if word in ("on", "off"):
            mode = "review" if word == "on" else "post"
        elif word == "unapproved" and rest and rest[0] in ("post", "wait"):
            unreviewed = rest.pop(0)
        elif word == "within" and rest and _digits(rest[0].removesuffix("h")):
            hours = int(rest.pop(0).removesuffix("h"))
        else:
            raise usage(REVIEW_USAGE)
    return ReviewChoice(chosen, mode, unreviewed, hours)


def parse_reopen(args: list[str]) -> tuple[int, str | None]:
    """`<round> [closes 14d|date]`: the round, and its new closing date if one is given."""
    chosen = required_round(args, REOPEN_USAGE)
    rest = [a.lower() for a in args[1:]]
    if rest and (len(rest) != 2 or rest[0] != "closes"):
        raise usage(REOPEN_USAGE)
    return chosen, args[2] if rest else None


def round_after(args: list[str], refusal: str | Said) -> int | None:
    """`[round N]` at the end of a command: the round, or None when not given; `refusal`
    when something else follows."""
    rest = [a.lower() for a in args]
    if not rest:
        return None
    if len(rest) == 2 and rest[0] == "round":
        return round_id(rest[1])
    raise (RoundtableError(refusal) if isinstance(refusal, str)
           else RoundtableError(said=refusal))


def help_said(text: str, args: list[str]) -> Said:
    """`help`: every command of the help `text`, after Roundtable's name; `help <command>`:
    the lines of it that give the command; a word that names none is said so, before the
    whole help. Each platform writes its own `text` (how its commands are typed) and renders
    the result its own way."""
    if not args:
        return said(Strong("Roundtable"), with_commands(text))
    shown = help_lines(text, args[0])
    return with_commands("\n".join(shown)) if shown else unknown_command(text, args[0])


def unknown_command(text: str, name: str) -> Said:
    """What a word that names no command gets: that it names none, and the whole help."""
    return said("I don't know ", Code(name[:30]), ".\n", help_said(text, []))


def with_commands(text: str) -> Said:
    """`text` with each command written between backticks as a Code part, so that every
    platform shows it as code (Teams, which has no inline code, in a fixed-width font)."""
    return said(*(Code(p) if i % 2 else p for i, p in enumerate(text.split("`")) if p))


def help_lines(text: str, name: str) -> list[str]:
    """The lines of a help `text` that give the command `name`: each command in it is written
    between backticks, its name first (after the slash command, on Slack)."""
    return [line for line in text.splitlines() if name.lower() in _commands_in(line)]


def help_commands(text: str) -> frozenset[str]:
    """The names of every command a help `text` gives."""
    return frozenset(name for line in text.splitlines() for name in _commands_in(line))


def _commands_in(line: str) -> set[str]:
    """The names of the commands a help line writes between backticks."""
    names = set()
    for code in line.split("`")[1::2]:
        words = [word for word in code.split() if not word.startswith("/")]
        if words:
            names.add(words[0].lower())
    return names
