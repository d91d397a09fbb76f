"""The Slack platform: its gateway and directory, and its ways in (the guarded HTTP endpoint,
or Socket Mode), with every listener registered on a Bolt app bound to the application."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.app.platforms import BareDirectory, WsgiApp
from bot.app.roundtable import Roundtable
from bot.config import Settings, bolt_oauth_variables
from bot.core.errors import RoundtableError
from bot.core.incoming import Incoming
from bot.slack import listeners, payloads
from bot.slack.credentials import check_tokens
from bot.slack.directory import SlackDirectory
from bot.slack.endpoint import EVENTS_PATH, SlackEndpoint
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.mentions import MessageReader
from storage.database import Database

USER_ID = re.compile(r"[UW][A-Z0-9]+")
"""A Slack user id (W… in Enterprise Grid)."""
LISTENER_THREADS = 4
"""Bolt runs each command, button and form after acknowledging it: a few at a time is plenty
(answers do not come this way; they are stored before the acknowledgement)."""


class _TokenInClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment whatever it is given, and, given our
    client too, warns that the token will be unused. The client was made with that very
    token (Settings reads it from the same environment), so that one line is untrue here;
    every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOG = logging.getLogger("slack_bolt.App")
BOLT_LOG.addFilter(_TokenInClient())
"""Bolt's own logger, given to it: its loggers then take their level from "slack_bolt"
(bot.app.logs) rather than from the root logger's."""


class SlackPlatform:
    """Slack, as the application sees a platform (bot.app.platforms.Platform)."""

    name = "slack"

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        self.client = make_client(token, settings.slack_api_url, settings.https_proxy)
        self.gateway = SlackGateway(self.client)
        self.signed_in = bool(token)
        self.directory: SlackDirectory | BareDirectory = (
            SlackDirectory(self.client, database.sessions) if token
            else BareDirectory("SLACK_BOT_TOKEN", USER_ID, "U0123ABCD"))
        self.facilitators = settings.facilitators
        self._listeners: ThreadPoolExecutor | None = None
        self._messages: MessageReader | None = None
        self._bolt: App | None = None

    def is_user_id(self, user_id: str) -> bool:
        return USER_ID.fullmatch(user_id) is not None

    def translate(self, payload: dict[str, Any]) -> Incoming | None:
        """Events stored as Slack sent them, by versions before the application layer. Their
        mentions are not looked up: this runs inside the transaction that handles them, which
        must not wait on Slack; a mention with no label shows as a neutral word."""
        return payloads.translate(payload)

    def bolt(self, app: Roundtable) -> App:
        """The Bolt app with every listener registered (it calls auth.test once)."""
        if self._bolt is None:
            if oauth := bolt_oauth_variables():
                raise RoundtableError(
                    f"{' and '.join(oauth)} are set in this process's environment, which "
                    "makes Slack's Bolt use its OAuth flow for many workspaces and ignore "
                    "SLACK_BOT_TOKEN: Roundtable uses one workspace's bot token, so unset "
                    "them for roundtable serve")
            secret = (self.settings.slack_signing_secret.get_secret_value()
                      if self.settings.slack_signing_secret else "")
            self._listeners = ThreadPoolExecutor(LISTENER_THREADS,
                                                 thread_name_prefix="roundtable-slack")
            self._bolt = App(
                client=self.client, signing_secret=secret, listener_executor=self._listeners,
                # say() in a DM thread would first call conversations.replies (1 call a minute)
                attaching_conversation_kwargs_enabled=False, logger=BOLT_LOG,
            )
            self._messages = MessageReader(self.client, app.database.sessions, app.clock)
            listeners.register(self._bolt, app, self.gateway, self._messages)
        return self._bolt

    def endpoints(self, app: Roundtable) -> Mapping[str, WsgiApp]:
        secret = (self.settings.slack_signing_secret.get_secret_value()
                  if self.settings.slack_signing_secret else "")
        return {EVENTS_PATH: SlackEndpoint(self.bolt(app), secret)}

    def socket(self, app: Roundtable) -> Callable[[], None] | None:
        from bot.slack.socket import CheckedSocketModeHandler  # the websocket client: here only

        token = (self.settings.slack_app_token.get_secret_value()
                 if self.settings.slack_app_token else "")
        handler = CheckedSocketModeHandler(self.bolt(app), token,
                                           proxy=self.settings.https_proxy)
        self.socket_handler = handler
        return handler.start

    def check(self, *, socket: bool = False) -> None:
        """Slack answers and takes the bot token (and the app token, for a socket): one line
        naming the setting when not (bot.slack.credentials)."""
        check_tokens(self.settings, socket=socket)

    def close(self) -> None:
        if self._listeners is not None:
            self._listeners.shutdown(wait=True)
        if self._messages is not None:
            self._messages.close()
