"""Bolt listeners, one module per Slack surface; each translates a payload into a call of the
application layer (bot.app) and its result into Slack messages."""

from __future__ import annotations

from slack_bolt import App

from bot.app.roundtable import Roundtable
from bot.slack.gateway import SlackGateway
from bot.slack.listeners import actions, commands, events, views
from bot.slack.mentions import MessageReader


def register(bolt: App, app: Roundtable, slack: SlackGateway, messages: MessageReader) -> None:
    events.register(bolt, app, slack, messages)
    for surface in (commands, actions, views):
        surface.register(bolt, app, slack)
