"""Adaptive Card pieces, and the bot's own words (a Said) as card elements.

Everything that is not our own fixed wording goes into a RichTextBlock's TextRuns, which
Teams never reads as Markdown (Microsoft's "Text features": RichTextBlock does not support
Markdown), never into a TextBlock or a FactSet, which it does read so. The one place people's
words must go where Markdown is read is the title of a choice shown as a radio button or a
checkbox (the Adaptive Cards renderer draws it as Markdown text): `choice_set` escapes those
(`as_written`). And no activity of ours carries a mention entity, without which Teams makes
no mention of `<at>…</at>` or of anything else. So nothing anybody typed (an answer, a pack
title, a channel's name) can ping, link or change the formatting.

Nor can it turn what follows it around: every run, choice title and summary has each
direction control its lines leave open closed where the line ends (`closed_lines`, through
bot.core.direction_marks), so an override in someone's words stops at the end of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.core.direction_marks import closed
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

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CARD_BYTES = 26_000
"""Teams takes about 28 KB in one message, card and envelope together: room is kept for the
envelope."""
Element = dict[str, Any]
DIRECT_CHAT = "your 1:1 chat with me"
"""Someone's one-to-one conversation with the bot, as Teams calls it."""
OPEN_QUESTIONS = ("in the list you get by writing ", "questions")
"""Where someone sees their open questions: Teams has no Home tab, so the `questions` command
brings them as a card in the 1:1 chat (bot.teams.cards.home_card)."""
WHERE_ASKED = "on its card"
"""Where an asked question can still be answered: its card keeps its inputs and its Save
button (bot.teams.cards.question_card)."""
ANSWER_FORM = "the form on its card"
"""The form that answers a question already asked (bot.core.said.AnswerForm)."""
MARKERS: dict[type[Marker], str] = {DirectChat: DIRECT_CHAT, WhereAsked: WHERE_ASKED,
                                    AnswerForm: ANSWER_FORM, QuoteButton: QUOTE_BUTTON}
"""The places and things each platform names its own way, as Teams' words name them."""


MARKDOWN = re.compile(r"[\\`*_~\[\]]|^\s*(?:[-+>#]|\d+(?=[.)]))", re.MULTILINE)
"""What Teams' Markdown reads as markup: emphasis, code, links, and a list, quote or heading
at the start of a line (a number's `.` or `)` is escaped after the number)."""


def closed_lines(text: str) -> str:
    """`text` with each direction control left open closed at the end of its line (a line
    break ends a paragraph in Unicode's bidi algorithm, and so whatever was still open)."""
    return "\n".join(closed(line) for line in text.split("\n"))


def as_written(text: str) -> str:
    """`text` for a field Teams reads as Markdown, shown as written: each character Markdown
    would read is escaped with a backslash (CommonMark's escape, which Teams' renderers
    remove)."""
    return MARKDOWN.sub(lambda m: _escaped(m.group()), text)


def _escaped(found: str) -> str:
    if found[-1:].isdigit():  # "1. " starts a list: the number stays, its dot is escaped
        return found + "\\"
    return found[:-1] + "\\" + found[-1]


def choice_set(element: Element, choices: Sequence[tuple[str, str]]) -> Element:
    """An Input.ChoiceSet with these (title, value) choices. Radio buttons and checkboxes
    (`expanded`, or any multiple choice) show their titles as Markdown, so there the titles
    are escaped; a drop-down shows them as they are."""
    marked = element.get("style") == "expanded" or bool(element.get("isMultiSelect"))
    titles = (closed_lines(title) for title, _ in choices)
    return {"type": "Input.ChoiceSet", **element, "choices": [
        {"title": as_written(title) if marked else title, "value": value}
        for title, (_, value) in zip(titles, choices, strict=True)]}


def run(text: str, *, bold: bool = False, italic: bool = False, code: bool = False,
        subtle: bool = False, size: str | None = None) -> Element:
    return {"type": "TextRun", "text": closed_lines(text),
            **_style(bold=bold, italic=italic, code=code, subtle=subtle, size=size)}


def _style(*, bold: bool = False, italic: bool = False, code: bool = False,
           subtle: bool = False, size: str | None = None) -> Element:
    """A text run's style properties, only those set."""
    out: Element = {}
    if bold:
        out["weight"] = "Bolder"
    if italic:
        out["italic"] = True
    if code:
        out["fontType"] = "Monospace"
    if subtle:
        out["isSubtle"] = True
    if size:
        out["size"] = size
    return out


def rich(*inlines: Element | str, separator: bool = False, spacing: str | None = None
         ) -> Element:
    """One paragraph of text runs (plain strings become plain runs)."""
    out: Element = {"type": "RichTextBlock",
                    "inlines": [run(i) if isinstance(i, str) else i for i in inlines]}
    if separator:
        out["separator"] = True
    if spacing:
        out["spacing"] = spacing
    return out


def heading(text: str, size: str = "Medium") -> Element:
    return rich(run(text, bold=True, size=size))


def note(text: str) -> Element:
    """A small grey line (our own wording, or people's words: runs either way)."""
    return rich(run(text, subtle=True, size="Small"))


def said_note(words: Said, names: Mapping[str, str] | None = None) -> Element:
    """The bot's words as a note (one paragraph): small and grey, a command in a fixed-width
    font. Teams' cards show no inline code of Markdown, and runs are never read as Markdown,
    so a font, not backticks, sets a command apart."""
    return said_line(words, subtle=True, size="Small", names=names)


def said_line(words: Said, *, bold: bool = False, subtle: bool = False,
              size: str | None = None, names: Mapping[str, str] | None = None) -> Element:
    """The bot's words in one paragraph (said_elements' paragraphs joined), in a style; a
    channel or a person by their name in `names`."""
    style = _style(bold=bold, subtle=subtle, size=size)
    return rich(*({**i, **style} for e in said_elements(words, names) for i in e["inlines"]))


def code_block(text: str) -> Element:
    """Text shown as it is, in a fixed-width font (a data file): a run, so nothing in it is
    read as markup or a mention."""
    return rich(run(text, code=True))


def card(body: list[Element], actions: list[Element] | None = None) -> Element:
    out: Element = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
                    "body": body, "msteams": {"width": "Full"}}
    if actions:
        out["actions"] = actions
    return out


def size(content: Element) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode())


def fitted(body: list[Element], pointer: Element, actions: list[Element] | None = None,
           tail: Sequence[Element] = ()) -> Element:
    """The card with as much of `body` as fits within MAX_CARD_BYTES, then `pointer` (where
    the rest is) when some did not, then `tail`; its `actions` kept."""
    whole = card([*body, *tail], actions)
    if size(whole) <= MAX_CARD_BYTES:
        return whole
    kept: list[Element] = []
    for element in body:
        if size(card([*kept, element, pointer, *tail], actions)) > MAX_CARD_BYTES:
            break
        kept.append(element)
    return card([*kept, pointer, *tail], actions)


def action(title: str, verb: str, data: Mapping[str, Any], *, primary: bool = False,
           destructive: bool = False) -> Element:
    """An Action.Execute, with an Action.Submit of the same data for clients that cannot
    execute (older Teams clients, Outlook)."""
    payload = dict(data)
    out: Element = {"type": "Action.Execute", "title": title, "verb": verb, "data": payload,
                    "fallback": {"type": "Action.Submit", "title": title, "data": payload}}
    if primary or destructive:
        out["style"] = "destructive" if destructive else "positive"
    return out


def said_elements(words: Said, names: Mapping[str, str] | None = None) -> list[Element]:
    """The bot's words as paragraphs of runs: a paragraph a line."""
    names = names or {}
    paragraphs: list[list[Element]] = [[]]
    for part in words.parts:
        bold = isinstance(part, Strong | Place)
        code = isinstance(part, Code | Command)  # Teams commands are typed as they are
        if isinstance(part, Place):
            lines = ["#" + names.get(part.conversation_id, "a channel")]
        elif isinstance(part, Someone):
            lines = [names.get(part.user_id, SOMEONE)]
        elif isinstance(part, OpenQuestions):
            lead, command = OPEN_QUESTIONS
            paragraphs[-1] += [run(lead), run(command, code=True)]
            continue
        elif isinstance(part, Marker):
            lines = [MARKERS[type(part)]]
        elif isinstance(part, Code | Command):
            lines = [part.text.replace("\n", " ")]
        else:
            lines = (part.text if isinstance(part, Strong) else part).split("\n")
        for n, text in enumerate(lines):
            if n:
                paragraphs.append([])
            if text:
                paragraphs[-1].append(run(text, bold=bold, code=code))
    return [rich(*p) for p in paragraphs if p]


def places(words: Said) -> Iterable[str]:
    return (p.conversation_id for p in words.parts if isinstance(p, Place))


def people(words: Said) -> Iterable[str]:
    return (p.user_id for p in words.parts if isinstance(p, Someone))


SOMEONE = "someone not seen here yet"
"""A person Teams has not told the bot the name of (a Place unknown reads "a channel")."""


def plain(words: Said, names: Mapping[str, str] | None = None) -> str:
    """As one line of plain text (a notification's summary)."""
    names = names or {}
    out = []
    for part in words.parts:
        if isinstance(part, Place):
            out.append("#" + names.get(part.conversation_id, "a channel"))
        elif isinstance(part, Someone):
            out.append(names.get(part.user_id, SOMEONE))
        elif isinstance(part, OpenQuestions):
            out.append("".join(OPEN_QUESTIONS))
        elif isinstance(part, Marker):
            out.append(MARKERS[type(part)])
        elif isinstance(part, Strong | Code | Command):
            out.append(part.text)
        else:
            out.append(part)
    return " ".join("".join(closed(p) for p in out).split())
