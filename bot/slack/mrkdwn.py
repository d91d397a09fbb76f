"""People's words between Slack and the core.

Slack sends message text already encoded: `<@U123|amara>`, `<!channel>`, `<https://x|label>`,
and `&amp;`/`&lt;`/`&gt;`. The adapter turns it into the plain text a reader saw (`to_plain`)
before it reaches the core, so the core only ever holds plain text, whichever platform it came
from. Mentions usually come with no label (`<@U0123ABC>`): the names they show are looked up
first (bot.slack.mentions) and given to `to_plain`. Going out, plain text is escaped
(`inert`): `&`, `<`, `>` become entities, so nothing in it can ping or link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.said import (
    QUOTE_BUTTON,
    AnswerForm,
    Code,
    Command,
    DirectChat,
    Marker,
    OpenQuestions,
    Place,
    QuoteButton,
    Said,
    Someone,
    Strong,
    WhereAsked,
)
from bot.slack.command_text import SLASH_COMMAND

_CONTROL = re.compile(r"<([^<>]*)>")
_SPECIAL = {"channel", "here", "everyone"}
_USER = ("@U", "@W", "@B")
_PERSON = ("@U", "@W")
"""Users Slack can be asked about (users.info): not bots' B… ids."""
_CHANNEL = ("#C", "#G")
_GROUP = "!subteam^"
ELLIPSIS = "…"

SOMEONE = "@someone"
A_GROUP = "@a group"
A_CHANNEL = "#a channel"
"""What a mention with no label becomes when its name cannot be had (Slack refused the
look-up, the user is unknown or has no name, or Slack was too slow or rate-limited us).

Never the id: `U0123ABC` tells a reader of a digest or an export nothing, and in an anonymous
round it is a key to a person. Never a guess at a name either: a quote must not put words
next to the wrong person. A neutral word that reads as what was mentioned keeps the sentence
whole ("ask @someone in pharmacy"), and the answer is stored all the same, since losing what
someone wrote is worse than losing a name in it."""

Names = Mapping[str, str]
"""What each mention without a label shows, by the id it names ("U0123ABC" → "@Amara
Okafor", "S0123" → "@pcn", "C0123" → "#leaders"): Slack's ids never repeat across kinds."""


@dataclass(frozen=True)
class Unnamed:
    """The ids of the mentions in a text that came without a label, by kind."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.users or self.groups or self.channels)


def unnamed(text: str) -> Unnamed:
    """The mentions without a label in Slack-encoded text, each id once."""
    users: dict[str, None] = {}
    groups: dict[str, None] = {}
    channels: dict[str, None] = {}
    for match in _CONTROL.finditer(text):
        target, _, label = match.group(1).partition("|")
        if label:
            continue
        if target.startswith(_PERSON):
            users[target[1:]] = None
        elif target.startswith(_CHANNEL):
            channels[target[1:]] = None
        elif target.startswith(_GROUP):
            groups[target.split("^", 1)[1]] = None
    return Unnamed(tuple(users), tuple(groups), tuple(channels))


def _plain(names: Names, match: re.Match[str]) -> str:
    body = match.group(1)
    target, _, label = body.partition("|")
    if target.startswith(_USER):
        return "@" + label if label else names.get(target[1:], SOMEONE)
    if target.startswith(_CHANNEL):
        return "#" + label if label else names.get(target[1:], A_CHANNEL)
    if target.startswith(_GROUP):
        return label or names.get(target.split("^", 1)[1], A_GROUP)
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in _SPECIAL:
            return "@" + name
        return label or name
    return label or target


def to_plain(text: str, names: Names | None = None) -> str:
    """What a reader saw: control sequences as plain text, entities decoded; a mention with
    no label as `names` has it, else as a neutral word (SOMEONE)."""
    plain = _CONTROL.sub(lambda match: _plain(names or {}, match), text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(text: str, limit: int | None = None) -> str:
    """Plain text (as the core holds it), safe to post as mrkdwn: nothing pings, nothing
    links; cut to `limit` characters once escaped."""
    if limit is not None and len(escape(text)) > limit:
        text = cut(text, limit)
    return escape(text)


def cut(plain: str, limit: int) -> str:
    """Shorten plain text so that, once escaped, it fits in `limit` characters, marked with …."""
    out: list[str] = []
    size = len(ELLIPSIS)
    for char in plain:
        size += len(escape(char))
        if size > limit:
            break
        out.append(char)
    return "".join(out).rstrip() + ELLIPSIS


DIRECT_CHAT = "your direct messages with me"
"""Someone's one-to-one conversation with the bot, as Slack calls it."""
MARKERS: dict[type[Marker], str] = {DirectChat: DIRECT_CHAT, WhereAsked: "in its thread",
                                    AnswerForm: "the button on the question",
                                    QuoteButton: QUOTE_BUTTON}
"""The places and things each platform names its own way, as Slack's words name them."""


def said_mrkdwn(words: Said) -> str:
    """The bot's own words in mrkdwn: plain parts made inert, places as channel links."""
    out: list[str] = []
    for part in words.parts:
        if isinstance(part, Strong):
            out.append(f"*{inert(part.text)}*")
        elif isinstance(part, Code | Command):
            out.append("`" + inert(code_words(part)).replace("`", "'") + "`")
        elif isinstance(part, Place):
            out.append(f"<#{part.conversation_id}>")
        elif isinstance(part, Someone):
            out.append(f"<@{part.user_id}>")
        elif isinstance(part, OpenQuestions | Marker):
            out.append(named_words(part))
        else:
            out.append(inert(part))
    return "".join(out)


def code_words(part: Code | Command) -> str:
    """What a code part shows: a command as it is typed in Slack."""
    return part.text if isinstance(part, Code) else f"{SLASH_COMMAND} {part.text}"


def named_words(part: OpenQuestions | Marker) -> str:
    """A place or thing as Slack's words name it ("on your Home tab", "in its thread")."""
    if isinstance(part, OpenQuestions):
        return f"on {'your' if part.yours else 'the'} Home tab"
    return MARKERS[type(part)]
