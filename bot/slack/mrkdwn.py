"""People's words between Slack and the core.

Slack sends message text already encoded: `<@U123|amara>`, `<!channel>`, `<https://x|label>`,
and `&amp;`/`&lt;`/`&gt;`. The adapter turns it into the plain text a reader saw (`to_plain`)
before it reaches the core, so the core only ever holds plain text, whichever platform it came
from. Going out, plain text is escaped (`inert`): `&`, `<`, `>` become entities, so nothing
in it can ping or link.
"""

from __future__ import annotations

import re

from bot.core.said import (
    AnswerForm,
    Code,
    Command,
    DirectChat,
    Marker,
    OpenQuestions,
    Place,
    Said,
    Strong,
    WhereAsked,
)
from bot.slack.command_text import SLASH_COMMAND

_CONTROL = re.compile(r"<([^<>]*)>")
_SPECIAL = {"channel", "here", "everyone"}
ELLIPSIS = "…"


def _plain(match: re.Match[str]) -> str:
    body = match.group(1)
    target, _, label = body.partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return "@" + (label or target[1:])
    if target.startswith("#C") or target.startswith("#G"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@" + target.split("^", 1)[1]
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in _SPECIAL:
            return "@" + name
        return label or name
    return label or target


def to_plain(text: str) -> str:
    """What a reader saw: control sequences as plain text, entities decoded."""
    plain = _CONTROL.sub(_plain, text)
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
                                    AnswerForm: "the button on the question"}
"""The places and things each platform names its own way, as Slack's words name them."""


def said_mrkdwn(words: Said) -> str:
    """The bot's own words in mrkdwn: plain parts made inert, places as channel links."""
    out: list[str] = []
    for part in words.parts:
        if isinstance(part, Strong):
            out.append(f"*{inert(part.text)}*")
        elif isinstance(part, Code | Command):
            text = part.text if isinstance(part, Code) else f"{SLASH_COMMAND} {part.text}"
            out.append("`" + inert(text).replace("`", "'") + "`")
        elif isinstance(part, Place):
            out.append(f"<#{part.conversation_id}>")
        elif isinstance(part, OpenQuestions):
            out.append(f"on {'your' if part.yours else 'the'} Home tab")
        elif isinstance(part, Marker):
            out.append(MARKERS[type(part)])
        else:
            out.append(inert(part))
    return "".join(out)
