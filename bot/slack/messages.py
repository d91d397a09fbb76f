"""A Slack message as the adapter builds it, and the few Block Kit parts every builder uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.limits import MESSAGE_BLOCKS, MESSAGE_TEXT
from bot.slack.mrkdwn import cut


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


def plain(text: str, limit: int) -> PlainTextObject:
    """Plain text cut to a limit (titles, labels, options)."""
    return PlainTextObject(text=text if len(text) <= limit else cut(text, limit), emoji=False)
