"""The composition root of the Slack adapter: build the Bolt app and register its listeners."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_bolt import App

from bot.config import Settings
from bot.core.deliveries import Clock
from bot.core.inbox import Inbox, WorkerWatch
from bot.core.outbox import Outbox
from bot.runtime import Database, utcnow
from bot.slack.gateway import SlackGateway, make_client

if TYPE_CHECKING:
    from bot.slack.confirmations import Confirmations

log = logging.getLogger(__name__)
LISTENER_THREADS = 10
CONFIRMING_THREADS = 2
"""Confirmations of answers wait their turn in a burst rather than slow the storing of answers
(Slack takes about one message a second per conversation in any case)."""


@dataclass
class Bot:
    """What the listeners need: settings, the database, the clock, Slack, inbox and outbox."""

    settings: Settings
    database: Database
    gateway: SlackGateway
    inbox: Inbox
    outbox: Outbox
    listeners: ThreadPoolExecutor
    confirming: ThreadPoolExecutor
    clock: Clock = utcnow
    confirmations: Confirmations = field(init=False)
    """Answers' confirmations waiting to be posted (set by build_app)."""

    def facilitators(self) -> tuple[str, ...]:
        return self.settings.facilitators

    def start(self, *, worker: bool = False) -> None:
        """Start taking events (the inbox) and sending questions (the outbox). A `worker`
        (`roundtable worker`) takes no requests: its inbox only handles what others stored."""
        self.confirmations.start()
        if worker:
            self.inbox.start(capturing=False,
                             lease_ttl=timedelta(seconds=self.settings.lease_seconds))
        else:
            self.inbox.start()
        self.outbox.start()
        self.outbox.wake()

    def stop(self) -> None:
        """Finish the work in hand: stored events, the outbox sweep, the listeners' work."""
        self.inbox.stop()
        self.confirmations.stop()
        self.outbox.stop()
        self.listeners.shutdown(wait=True)
        self.confirming.shutdown(wait=True)


def export_hint(round_id: int) -> str:
    return f"roundtable export --round {round_id} --format docx"


def build_app(settings: Settings, database: Database, *, clock: Clock = utcnow) -> tuple[App, Bot]:
    """The Bolt app with every listener registered, and the Bot behind them."""
    from bot.slack import actions, commands, events, views
    from bot.slack.confirmations import Confirmations

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = (settings.slack_signing_secret.get_secret_value()
              if settings.slack_signing_secret else "")
    client = make_client(token, settings.slack_api_url)
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="roundtable-listener")
    confirming = ThreadPoolExecutor(CONFIRMING_THREADS, thread_name_prefix="roundtable-confirm")
    app = App(
        client=client,
        signing_secret=secret,
        listener_executor=listeners,
        # say() in a DM thread would first call conversations.replies (1 call a minute).
        attaching_conversation_kwargs_enabled=False,
    )
    gateway = SlackGateway(client, export_hint)
    outbox = Outbox(database, gateway, clock, settings.timezone,
                    lease_ttl=timedelta(seconds=settings.lease_seconds))
    # `bot` is bound below, before the inbox's thread can call this. What to say after a
    # batch is queued on its thread (cheap); the posting happens on the confirming threads.
    inbox = Inbox(database.sessions, "slack",
                  lambda session, received: events.handle(bot, session, received), clock,
                  store=database.inbox, handled_elsewhere=WorkerWatch(database.sessions, clock))
    bot = Bot(settings, database, gateway, inbox, outbox, listeners, confirming, clock)
    bot.confirmations = Confirmations(bot, confirming.submit)
    for surface in (events, commands, actions, views):
        surface.register(app, bot)
    return app, bot
