"""What the bot says, in words every platform can show: plain text with a little emphasis.

Use cases build a `Said`; each adapter renders it in its own markup, escaping the plain parts,
so nothing anybody typed (a pack title, a reason) can turn into a mention or a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Code:
    """A command or a value to type, shown as code."""

    text: str


@dataclass(frozen=True)
class Command:
    """One of Roundtable's chat commands (`stop`, `forget-me`), shown as people type it on
    their platform (in Slack, `/roundtable stop`)."""

    text: str


@dataclass(frozen=True)
class Place:
    """A conversation named by its platform id (a channel); the platform shows its name."""

    conversation_id: str


@dataclass(frozen=True)
class Someone:
    """A person named by their platform user id; the platform shows their name (as it shows
    a channel's for a Place)."""

    user_id: str


@dataclass(frozen=True)
class DirectChat:
    """The person's one-to-one conversation with the bot, named the platform's way (in
    Slack, their direct messages with the bot; in Teams, their 1:1 chat with it)."""


@dataclass(frozen=True)
class OpenQuestions:
    """Where the person sees their open questions, as a place after a verb, named the
    platform's way (in Slack, "on the Home tab", or "on your Home tab" when `yours`; in
    Teams, which has no such page, the list the `questions` command brings)."""

    yours: bool = False


@dataclass(frozen=True)
class WhereAsked:
    """Where a question already asked can still be answered, as a place after a verb (in
    Slack, in its thread; in Teams, on its card)."""


@dataclass(frozen=True)
class AnswerForm:
    """The form that answers a question already asked, as a thing to use (in Slack, the
    button on the question; in Teams, the form on its card)."""


@dataclass(frozen=True)
class QuoteButton:
    """The other way to keep an answer from quotes, as an aside after "write “don't quote
    me” in an answer": " (or press the button under my reply to it)", the "Don't quote me"
    under the confirmation of a written answer, in Slack and in Teams alike."""


Marker = DirectChat | WhereAsked | AnswerForm | QuoteButton
"""A part with no value of its own: a place or thing each platform names its own way."""
Part = str | Strong | Code | Command | Place | Someone | OpenQuestions | Marker
MARKERS: dict[str, type[Marker]] = {
    "direct": DirectChat, "where_asked": WhereAsked, "answer_form": AnswerForm,
    "quote_button": QuoteButton}
"""Each marker by the key it is stored under (to_parts)."""
_STORED = {kind: key for key, kind in MARKERS.items()}
QUOTE_BUTTON = " (or press the button under my reply to it)"
_PLAIN: dict[type[Marker], str] = {DirectChat: "your one-to-one chat with me",
                                    WhereAsked: "where it was asked",
                                    AnswerForm: "the question's form",
                                    QuoteButton: QUOTE_BUTTON}


@dataclass(frozen=True)
class Said:
    parts: tuple[Part, ...] = ()

    def __add__(self, other: Said | Part) -> Said:
        more = other.parts if isinstance(other, Said) else (other,)
        return Said(self.parts + more)

    @property
    def plain(self) -> str:
        """As plain text (the command line, logs): code in backticks, places as #id."""
        return "".join(_plain(p) for p in self.parts)


def said(*parts: Part | Said) -> Said:
    out: list[Part] = []
    for part in parts:
        out += part.parts if isinstance(part, Said) else [part]
    return Said(tuple(out))


def lines(items: Iterable[Said | Part]) -> Said:
    """The items one under the other."""
    out = Said()
    for i, item in enumerate(items):
        out = (out + "\n" if i else out) + item
    return out


def _plain(part: Part) -> str:
    if isinstance(part, Strong):
        return part.text
    if isinstance(part, Code):
        return f"`{part.text}`"
    if isinstance(part, Command):
        return f"`/roundtable {part.text}`"
    if isinstance(part, Place):
        return f"#{part.conversation_id}"
    if isinstance(part, Someone):
        return part.user_id
    if isinstance(part, OpenQuestions):
        return "in your list of open questions"
    if isinstance(part, Marker):
        return _PLAIN[type(part)]
    return part


def to_parts(words: Said) -> list[dict[str, str]]:
    """As stored (JSON): each part a one-key object, `text`, `strong`, `code`, `command`,
    `place`, `someone`, `direct` (its value empty), `open_questions` (`your` or empty),
    `where_asked`, `answer_form` or `quote_button` (all empty)."""
    out: list[dict[str, str]] = []
    for part in words.parts:
        if isinstance(part, Strong):
            out.append({"strong": part.text})
        elif isinstance(part, Code):
            out.append({"code": part.text})
        elif isinstance(part, Command):
            out.append({"command": part.text})
        elif isinstance(part, Place):
            out.append({"place": part.conversation_id})
        elif isinstance(part, Someone):
            out.append({"someone": part.user_id})
        elif isinstance(part, OpenQuestions):
            out.append({"open_questions": "your" if part.yours else ""})
        elif isinstance(part, Marker):
            out.append({_STORED[type(part)]: ""})
        else:
            out.append({"text": part})
    return out


def from_parts(stored: list[dict[str, str]]) -> Said:
    """A Said stored by `to_parts` (unknown parts are left out)."""
    kinds: dict[str, type[Strong] | type[Code] | type[Command] | type[Place] | type[Someone]] = {
        "strong": Strong, "code": Code, "command": Command, "place": Place, "someone": Someone}
    out: list[Part] = []
    for item in stored:
        for key, value in item.items():
            if key == "text":
                out.append(str(value))
            elif key == "open_questions":
                out.append(OpenQuestions(yours=value == "your"))
            elif key in MARKERS:
                out.append(MARKERS[key]())
            elif key in kinds:
                out.append(kinds[key](str(value)))
    return Said(tuple(out))
