"""The composition root of the Slack adapter: build the Bolt app and register its listeners."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_bolt import App

from bot.config import Settings
from bot.core.deliveries import Clock, send_due
from bot.runtime import Database, utcnow
from bot.slack.gateway import SlackGateway, make_client

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0
LISTENER_THREADS = 10


@dataclass
class Outbox:
    """Sends due deliveries on a background thread: at once when woken, else every minute.

    Deliveries deferred to the morning (quiet hours) or to a retry go out on a later sweep.
    Issue 4 replaces this with the scheduler's outbox; the core calls stay the same.
    """

    database: Database
    gateway: SlackGateway
    clock: Clock
    zone: str
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="roundtable-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(SWEEP_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                send_due(self.database.sessions, self.gateway, self.clock, self.zone,
                         stopping=self._stop.is_set)
            except Exception:  # noqa: BLE001 - the loop must outlive one bad sweep
                log.exception("sending due deliveries failed; trying again on the next sweep")


@dataclass
class Bot:
    """What the listeners need: settings, the database, the clock, Slack, the outbox."""

    settings: Settings
    database: Database
    gateway: SlackGateway
    outbox: Outbox
    listeners: ThreadPoolExecutor
    clock: Clock = utcnow

    def facilitators(self) -> tuple[str, ...]:
        return self.settings.facilitators

    def stop(self) -> None:
        """Finish the work in hand: the outbox sweep and the listeners Bolt has started."""
        self.outbox.stop()
        self.listeners.shutdown(wait=True)


def export_hint(round_id: int) -> str:
    return f"roundtable export --round {round_id} --format docx"


def build_app(settings: Settings, database: Database, *, clock: Clock = utcnow) -> tuple[App, Bot]:
    """The Bolt app with every listener registered, and the Bot behind them."""
    from bot.slack import actions, commands, events, views

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = (settings.slack_signing_secret.get_secret_value()
              if settings.slack_signing_secret else "")
    client = make_client(token, settings.slack_api_url)
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="roundtable-listener")
    app = App(
        client=client,
        signing_secret=secret,
        listener_executor=listeners,
        # say() in a DM thread would first call conversations.replies (1 call a minute).
        attaching_conversation_kwargs_enabled=False,
    )
    gateway = SlackGateway(client, export_hint)
    outbox = Outbox(database, gateway, clock, settings.timezone)
    bot = Bot(settings, database, gateway, outbox, listeners, clock)
    for surface in (events, commands, actions, views):
        surface.register(app, bot)
    return app, bot
