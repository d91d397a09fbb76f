"""Bolt listeners, one module per Slack surface; each translates a payload into a call of the
application layer (bot.app) and its result into Slack messages."""

from __future__ import annotations

from slack_bolt import App

from bot.app.roundtable import Roundtable
from bot.slack.gateway import SlackGateway
from bot.slack.listeners import actions, commands, events, views


def register(bolt: App, app: Roundtable, slack: SlackGateway) -> None:
    for surface in (events, commands, actions, views):
        surface.register(bolt, app, slack)
