"""A Slack message as the adapter builds it, and the few Block Kit parts every builder uses.

People's words go into rich text (`words`, `line`, `quoted`, `rich`), or plain text where a
block takes no rich text (`plain`, `plain_context`): Slack shows either exactly as given, where
mrkdwn would read `*`, `_`, `~` and backticks as formatting and has no way to escape them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    RichTextBlock,
    RichTextElementParts,
    RichTextListElement,
    RichTextQuoteElement,
    RichTextSectionElement,
    SectionBlock,
)

from bot.core.direction_marks import closed, closing
from bot.slack.limits import MESSAGE_BLOCKS, MESSAGE_TEXT, RICH_TEXT
from bot.slack.mrkdwn import ELLIPSIS, cut


@dataclass(frozen=True)
class SlackFile:
    """A file to upload beside a message (the ranking chart), in the same thread."""

    filename: str
    title: str
    content: bytes


@dataclass(frozen=True)
class SlackMessage:
    text: str
    """The notification and screen-reader text; Slack shows blocks where it can."""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    files: tuple[SlackFile, ...] = ()


def message(text: str, blocks: Sequence[Block], files: tuple[SlackFile, ...] = ()) -> SlackMessage:
    """Blocks validated by slack_sdk (`to_dict`), within Slack's per-message limits."""
    dicts = [block.to_dict() for block in blocks][:MESSAGE_BLOCKS]
    return SlackMessage(text[:MESSAGE_TEXT], dicts, files)


def section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn)])


def shortened(text: str, limit: int) -> str:
    """Words within `limit` characters, any direction control they leave open closed
    (bot.core.direction_marks): as they are, else cut and marked with …."""
    if len(text) + len(closing(text)) <= limit:
        return closed(text)
    room = limit
    while True:
        short = cut(text, room).removesuffix(ELLIPSIS)
        marks = closing(short)
        if len(short) + len(marks) + len(ELLIPSIS) <= limit or not short:
            return short + marks + ELLIPSIS
        room -= len(short) + len(marks) + len(ELLIPSIS) - limit


def plain(text: str, limit: int) -> PlainTextObject:
    """Plain text cut to a limit (titles, labels, options)."""
    return PlainTextObject(text=shortened(text, limit), emoji=False)


def plain_context(text: str, limit: int) -> ContextBlock:
    """A context line of words shown as written (a context block takes no rich text)."""
    return ContextBlock(elements=[plain(text, limit)])


Words = RichTextElementParts.Text
Part = RichTextSectionElement | RichTextQuoteElement | RichTextListElement


def words(text: str, limit: int | None = None, *, bold: bool = False, italic: bool = False,
          code: bool = False) -> Words:
    """Text shown exactly as written (cut to `limit` characters), in the style asked for;
    no direction control in it reaches past it."""
    text = closed(text) if limit is None else shortened(text, limit)
    style = {name: True for name, on in (("bold", bold), ("italic", italic), ("code", code))
             if on}
    return Words(text=text, style=style or None)


def line(*parts: Words) -> RichTextSectionElement:
    """A paragraph of rich text; "\n" inside a part breaks the line."""
    return RichTextSectionElement(elements=[p for p in parts if p.text])


def quoted(*parts: Words) -> RichTextQuoteElement:
    """A block quote of rich text."""
    return RichTextQuoteElement(elements=[p for p in parts if p.text])


def bullets(items: list[RichTextSectionElement]) -> RichTextListElement:
    return RichTextListElement(style="bullet", elements=items)


def rich(*paragraphs: Part) -> RichTextBlock:
    return RichTextBlock(elements=[p for p in paragraphs if p.elements])


def rich_length(nodes: Sequence[object]) -> int:
    """How many characters of text these paragraphs hold (bot.slack.limits.RICH_TEXT)."""
    total = 0
    for node in nodes:
        if isinstance(node, Words):
            total += len(node.text)
        elif isinstance(node, RichTextSectionElement | RichTextQuoteElement
                        | RichTextListElement):
            total += rich_length(node.elements)
    return total


Paragraph = TypeVar("Paragraph", bound=Part)


def kept_within(paragraphs: Sequence[Paragraph], budget: int) -> list[Paragraph]:
    """The first paragraphs, as many as fit in `budget` characters together."""
    kept: list[Paragraph] = []
    total = 0
    for paragraph in paragraphs:
        total += rich_length([paragraph])
        if total > budget:
            break
        kept.append(paragraph)
    return kept


def fitted(paragraphs: list[Part], pointer: Part, budget: int = RICH_TEXT) -> list[Part]:
    """As many paragraphs as fit in `budget` characters; when some do not, `pointer` (where
    the rest is) in their place."""
    if rich_length(paragraphs) <= budget:
        return paragraphs
    return kept_within(paragraphs, budget - rich_length([pointer])) + [pointer]
