"""The bot's own words (a Said) in Slack.

Blocks show them as rich text: the bot's emphasis and code as styles, places as channel links,
and every plain part exactly as written, since plain parts carry others' words too (a pack's
title and question in a reminder, a round's title, a reason). The message's `text`
(notifications, screen readers) and a file's comment, which take only mrkdwn, are the same
words made inert (bot.slack.mrkdwn.said_mrkdwn).
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    RichTextBlock,
    RichTextElementParts,
    RichTextSectionElement,
)

from bot.core.direction_marks import closed
from bot.core.said import Code, Command, Marker, OpenQuestions, Place, Said, Someone, Strong
from bot.slack import messages
from bot.slack.limits import RICH_TEXT
from bot.slack.messages import SlackMessage, Words, words
from bot.slack.mrkdwn import code_words, named_words, said_mrkdwn

mrkdwn = said_mrkdwn


def message(said: Said) -> SlackMessage:
    return messages.message(mrkdwn(said), [rich_said(said)])


def rich_said(said: Said, budget: int = RICH_TEXT) -> RichTextBlock:
    """The words as one paragraph of rich text, cut to `budget` characters of text."""
    shown: list[Words | RichTextElementParts.Channel | RichTextElementParts.User] = []
    for part in said.parts:
        if isinstance(part, Place):
            shown.append(RichTextElementParts.Channel(channel_id=part.conversation_id))
            continue
        if isinstance(part, Someone):
            shown.append(RichTextElementParts.User(user_id=part.user_id))
            continue
        text, bold, code = _run(part)
        if not text:
            continue
        if len(closed(text)) > budget:
            if budget > 1:
                shown.append(words(text, budget, bold=bold, code=code))
            break
        run = words(text, bold=bold, code=code)
        budget -= len(run.text)
        shown.append(run)
    return RichTextBlock(elements=[RichTextSectionElement(elements=shown)])


def _run(part: str | Strong | Code | Command | OpenQuestions | Marker) -> tuple[str, bool, bool]:
    """A part's text, and whether it is bold or code."""
    if isinstance(part, Strong):
        return part.text, True, False
    if isinstance(part, Code | Command):
        return code_words(part), False, True
    if isinstance(part, OpenQuestions | Marker):
        return named_words(part), False, False
    return part, False, False
