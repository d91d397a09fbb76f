"""The bot's own words (a Said) in Slack's mrkdwn: plain parts made inert, so nothing anybody
typed in them (a pack title, a reason) can ping or link."""

from __future__ import annotations

from bot.core.said import Said
from bot.slack.blocks import notice_blocks
from bot.slack.messages import SlackMessage
from bot.slack.mrkdwn import said_mrkdwn

mrkdwn = said_mrkdwn


def message(words: Said) -> SlackMessage:
    return notice_blocks(mrkdwn(words))
