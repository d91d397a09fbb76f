"""Commands written to the bot in Teams (in the 1:1 chat, or with an @mention in a channel).

Answers are written in the same 1:1 chat, so a message is a command only when it is exactly
one: `stop` alone stops, but "Stop the duplicate audits" is an answer. Facilitators name people
by email or Entra object id; in a channel, `team` means the team's members and the digests go
to that channel unless `digest` names another.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from bot.app.facilitation import StartRequest, mode_chosen
from bot.core.errors import RoundtableError
from bot.core.people import Audience

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}$")
BARE = {"help", "stop", "my-data", "forget-me", "questions", "form"}
NUMBERED = {"status", "remind", "digest", "close"}
MODES = {"named", "anonymous", "by-role"}
KEYWORDS = {"digest", "closes", *MODES}
TEAM = "team"
"""In `start … to team`: the members of the team the command was written in."""
HELP = """**Roundtable** asks a workshop's questions to the people who could not be in the room.
For facilitators (here, or with @Roundtable in a team's channel):
- `start <pack> to <email or Entra id …> [digest <channel>] [closes 14d] [named|anonymous|by-role]`
- in a channel: `start <pack> to team`: everyone in the team, digests in that channel
- `form`: the same as a form
- `status [round]` · `remind [round]` · `digest [round]` · `close [round]`
- `invite <round> to <team|email …>`: add people here to a round (started here or in Slack)
- `add-facilitator <email or Entra id>`
For everyone: `questions` (your open questions), `stop` (no more questions), `my-data`
(everything Roundtable holds about you), `forget-me` (delete your answers; asks first).
Anything else you write here answers the question waiting."""


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str] = field(default_factory=list)


def command(text: str) -> Command | None:
    """The command a message is, or None when it is an answer (or nothing we know)."""
    try:
        tokens = shlex.split(text.strip().replace("\u201c", '"').replace("\u201d", '"'))
    except ValueError:
        return None
    if not tokens:
        return None
    name, args = tokens[0].lower(), tokens[1:]
    if name in BARE and not args:
        return Command(name)
    if name in NUMBERED and (not args or (len(args) == 1 and args[0].isdigit())):
        return Command(name, args)
    if name == "add-facilitator" and len(args) == 1 and _person(args[0]):
        return Command(name, args)
    if name == "start" and len(args) >= 3 and args[1].lower() == "to":
        return Command(name, args)
    if name == "invite" and len(args) >= 3 and args[0].isdigit() and args[1].lower() == "to":
        return Command(name, args)
    return None


def _person(token: str) -> bool:
    return bool(EMAIL.match(token) or OBJECT_ID.match(token))


def people(tokens: list[str]) -> list[str]:
    """Emails and Entra object ids, split at commas and semicolons."""
    found: list[str] = []
    for token in tokens:
        for part in re.split(r"[,;]", token):
            if part.strip():
                found.append(part.strip().strip("<>").removeprefix("mailto:"))
    return found


def parse_start(args: list[str], *, team: str | None, here: str | None,
                channels: dict[str, str]) -> StartRequest:
    """`<pack> to <team|email|Entra id …> [digest <channel>] [closes …]
    [named|anonymous|by-role]` (by role when no mode is said).

    `team` is the key of the channel the command came from (None in a 1:1 chat), `here` the
    channel itself, `channels` the channels the bot knows by lower-cased name (and key)."""
    usage = ("usage: start <pack> to <email or Entra id …> [digest <channel>] "
             "[closes 14d] [named|anonymous|by-role]")
    if len(args) < 3 or args[1].lower() != "to":
        raise RoundtableError(usage)
    rest = args[2:]
    who: list[str] = []
    teams: list[str] = []
    while rest and rest[0].lower() not in KEYWORDS:
        token = rest.pop(0)
        if token.lower() == TEAM:
            if team is None:
                raise RoundtableError("`to team` works in a team's channel: mention me there")
            teams.append(team)
            continue
        for person in people([token]):
            if not _person(person):
                raise RoundtableError(f"I can't tell who {person[:60]!r} is: give an email "
                                      "address or an Entra object id")
            who.append(person)
    if not (who or teams):
        raise RoundtableError("say who to ask: " + usage)
    digest, closes, mode = here, None, None
    while rest:
        word = rest.pop(0).lower()
        if word in MODES:
            if mode is not None and mode != word:
                raise RoundtableError("say one mode: named, anonymous or by-role")
            mode = word
        elif word == "digest" and rest:
            name = rest.pop(0)
            digest = channels.get(name.lower().lstrip("#")) or channels.get(name)
            if digest is None:
                raise RoundtableError(f"I don't know a channel called {name[:60]!r}: add me to "
                                      "its team first, or start the round from that channel")
        elif word == "closes" and rest:
            closes = rest.pop(0)
        else:
            raise RoundtableError(usage)
    return StartRequest(args[0], Audience(channels=tuple(teams), users=tuple(who)), digest,
                        closes, mode_chosen(mode))


def round_number(args: list[str]) -> int | None:
    return int(args[0]) if args and args[0].isdigit() else None
