"""Commands written to the bot in Teams (in the 1:1 chat, or with an @mention in a channel).

Answers are written in the same 1:1 chat, so there a message is a command only when it is
exactly one: `stop` alone stops, but "Stop the duplicate audits" is an answer; a command that
takes a round is one when a round number follows it, or something typed as one (`close 3x`,
`status #2`, refused with a clear message rather than kept as an answer); `start` is one alone,
with a pack's id alone (its usage is shown), or followed by `<pack> to …`; `help` followed
by a command's name is help about that command (in a channel, a word that names none is
said so; in the 1:1 chat, "Help me" is small talk). Who writes it is read next
(bot.teams.listeners.commands, `Commands.taken`): in the 1:1 chat, a `start` naming no
pack is words from someone who may not start rounds, or from a facilitator while a question
waits ("Start early to beat the queues"). In a channel no
answers are taken, so a command's word is enough and any mistake after it is explained.
Facilitators name people by email or Entra object id; in a channel, `team` means the team's
members and the digests go to that channel unless `digest` names another. The command words
themselves are bot.app.command_words'.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from bot.app import command_words
from bot.app.command_words import ALL, SET_OPTIONS, WHO, Typed, help_commands, help_said
from bot.app.facilitation import PACK_ID, RoundSettings, StartRequest
from bot.core.errors import RoundtableError
from bot.core.packs import Pack
from bot.core.people import Audience
from bot.core.said import Code, said

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}$")
BARE = {"help", "stop", "my-data", "forget-me", "questions", "form"}
NUMBERED = {"status", "remind", "digest", "close"}
PERSON_AND_ROUND = {"add-facilitator", "remove-facilitator"}
WITH_ARGUMENTS = {*NUMBERED, *PERSON_AND_ROUND, "start", "invite", "set", "review", "list",
                  "reopen", "delete"}
TEAM = "team"
"""In `start … to team`: the members of the team the command was written in."""
PEOPLE = "team|email or Entra id …"
"""How people are named in `start`, for its usage line."""
PERSON_AND_ROUND_USAGE = said("name them by email or Entra id for every round, or add ",
                              Code("round N"), " for one")


HELP_TEXT = (
    """ asks a workshop's questions to the people who could not be in the room.
For facilitators (here, or with @Roundtable in a team's channel):
• `start <pack> to <email or Entra id …> [digest #channel] [closes 14d] [named|anonymous|by-role]`
• in a channel: `start <pack> to team`: everyone in the team, digests in that channel
• `form`: a form to start a round
• `list [all]` · `status [round] [who]` · `remind [round]` · `digest [round]` · \
`close [round]`
• `set [round] [digest #channel|none] [closes 14d|never] [schedule <cron>|default]`: where the \
round's digests go (and only there), when it closes, when digests come
• `review <round>`: the digest waiting for your approval, in your chat with me, to edit \
and approve; `review <round> on|off [unapproved post|wait] [within 24h]`: whether scheduled \
digests wait for approval, and what becomes of one nobody approves in time
• `invite <round> to <team|email …>`: add people here to a round (started here or in Slack)
• `reopen <round> [closes 14d]` · `delete <round>` (asks first)
• `add-facilitator <email or Entra id> [round N]` · `remove-facilitator <email or Entra id> \
[round N]`: a co-facilitator of one of your rounds (admins: a facilitator of any round)
For everyone: `questions` (your open questions), `stop` (no more questions), `my-data` \
(everything Roundtable holds about you), `forget-me` (delete it all; asks first); \
written in a channel, what concerns you alone is answered in your 1:1 chat with me.
Write "don't quote me" in an answer (or press the button under my reply): it counts, but is \
never quoted.
Anything else you write here answers the question waiting.""")
HELP = help_said(HELP_TEXT, [])
"""The list of commands, one paragraph a line (a card's runs show no Markdown list)."""
HELP_COMMANDS = help_commands(HELP_TEXT)


def command(text: str, *, answers_here: bool = True) -> Typed | None:
    """The command a message is, or None when it is an answer (or nothing we know).
    `answers_here`: the message was written where answers are taken (the 1:1 chat)."""
    try:
        tokens = shlex.split(text.strip().replace("\u201c", '"').replace("\u201d", '"'))
    except ValueError:
        return None
    if not tokens:
        return None
    name, args = tokens[0].lower(), tokens[1:]
    if not args and name.rstrip(".!?") in BARE:  # "Stop." is stop: no answer is that word
        return Typed(name.rstrip(".!?"))
    if name == "help" and len(args) == 1 and (not answers_here
                                              or args[0].lower() in HELP_COMMANDS):
        return Typed(name, args)  # in the 1:1 chat, "Help me" is not a command
    if name in WITH_ARGUMENTS and (not answers_here or _is_command(name, args)):
        return Typed(name, args)
    return None


def _is_command(name: str, args: list[str]) -> bool:
    """Whether words written in the 1:1 chat are this command rather than an answer."""
    first = args[0] if args else ""
    if name == "status" and args and args[-1].lower() == WHO:
        return len(args) == 1 or (len(args) == 2 and _typed_as_round(first))
    if name in NUMBERED or name == "delete":  # delete alone shows its usage
        return not args or (len(args) == 1 and _typed_as_round(first))
    if name == "list":
        return not args or (len(args) == 1 and first.lower() == ALL)
    if name == "reopen":
        return not args or (_typed_as_round(first) and (
            len(args) == 1 or args[1].lower() == "closes"))
    if name == "set":  # alone (as the app's suggested commands send it): shows its usage
        return not args or first.lower() in SET_OPTIONS or _typed_as_round(first)
    if name == "review":
        return not args or _typed_as_round(first)
    if name == "invite":
        return len(args) >= 3 and _typed_as_round(first) and args[1].lower() == "to"
    if name in PERSON_AND_ROUND:
        return _person(first) and (len(args) == 1 or (
            len(args) == 3 and args[1].lower() == "round" and _typed_as_round(args[2])))
    if name == "start":  # alone, or with a pack alone: shows its usage, as in Slack
        return (not args or (len(args) == 1 and _typed_as_pack(first))
                or (len(args) >= 3 and args[1].lower() == "to"))
    return False


def _typed_as_pack(token: str) -> bool:
    """A pack's id, as written alone after `start`: lower case, and a hyphen or digit in it
    (`sel-pharmacy-leadership`), so an answer such as "Start early" is still an answer."""
    return bool(PACK_ID.fullmatch(token)) and any(c == "-" or c.isdigit() for c in token)


def _typed_as_round(token: str) -> bool:
    """A round number, or a mistyped one: digits in it, or a #."""
    return token.startswith("#") or any(c.isdigit() for c in token)


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


def channel_named(channels: dict[str, str]) -> Callable[[str], str | None]:
    """Reads a channel as typed (`#Leaders`, `Leaders` or its key) among `channels`, the
    channels the bot knows by lower-cased name and key; None for one it does not know."""
    def read(name: str) -> str | None:
        return channels.get(name.lower().lstrip("#")) or channels.get(name)
    return read


def parse_start(args: list[str], *, team: str | None, here: str | None,
                channels: dict[str, str], known_pack: Callable[[str], Pack]
                ) -> tuple[StartRequest, Pack]:
    """`<pack> to <team|email|Entra id …> [options]` (bot.app.command_words.parse_start).

    `team` is the key of the channel the command came from (None in a 1:1 chat), `here` the
    channel itself, `channels` the channels the bot knows by lower-cased name (and key)."""
    return command_words.parse_start(args, PEOPLE, _audience(team), channel_named(channels),
                                     here, known_pack=known_pack)


def _audience(team: str | None) -> Callable[[list[str]], Audience]:
    """Reads people as typed in Teams: `team` (the members of the team written in, whose
    channel's key is `team`), emails and Entra object ids."""
    def audience(tokens: list[str]) -> Audience:
        who: list[str] = []
        teams: list[str] = []
        for token in tokens:
            if token.lower() == TEAM:
                if team is None:
                    raise RoundtableError(said=said(Code("to team"), " works in a team's "
                                                    "channel: mention me there"))
                teams.append(team)
                continue
            for person in people([token]):
                if not _person(person):
                    raise RoundtableError(f"I can't tell who {person[:60]!r} is: give an "
                                          "email address or an Entra object id")
                who.append(person)
        return Audience(channels=tuple(teams), users=tuple(who))
    return audience


def parse_set(args: list[str], channels: dict[str, str]) -> tuple[int | None, RoundSettings]:
    return command_words.parse_set(args, channel_named(channels))


def parse_invite(args: list[str], *, team: str | None, here: str | None,
                 channels: dict[str, str]) -> tuple[int, Audience, str | None]:
    """`<round> to <team|email|Entra id …> [digest #channel]`: the round, who to add, and
    where its digests go on Teams (bot.app.command_words.parse_invite)."""
    return command_words.parse_invite(args, PEOPLE, _audience(team), channel_named(channels),
                                      here)


def person_and_round(args: list[str]) -> tuple[str, int | None]:
    """`<email or Entra id> [round N]` (add-facilitator, remove-facilitator): the person as
    typed, and the round."""
    found = people(args[:1])
    if len(found) != 1 or not _person(found[0]):
        raise RoundtableError(said=PERSON_AND_ROUND_USAGE)
    return found[0], command_words.round_after(args[1:], PERSON_AND_ROUND_USAGE)
