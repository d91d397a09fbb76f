"""The bot's own words (a Said) in Slack's mrkdwn: plain parts made inert, so nothing anybody
typed in them (a pack title, a reason) can ping or link."""

from __future__ import annotations

from bot.core.said import Code, Place, Said, Strong
from bot.slack.blocks import notice_blocks
from bot.slack.messages import SlackMessage
from bot.slack.mrkdwn import inert


def mrkdwn(words: Said) -> str:
    out: list[str] = []
    for part in words.parts:
        if isinstance(part, Strong):
            out.append(f"*{inert(part.text)}*")
        elif isinstance(part, Code):
            code = inert(part.text).replace("`", "'")
            out.append(f"`{code}`")
        elif isinstance(part, Place):
            out.append(f"<#{part.conversation_id}>")
        else:
            out.append(inert(part))
    return "".join(out)


def message(words: Said) -> SlackMessage:
    return notice_blocks(mrkdwn(words))
