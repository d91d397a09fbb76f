"""Telling people what became of what they wrote: confirmations of saved answers, paced per
conversation, and short notices, all posted off the inbox's thread."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from bot.core.answers import Asked
from bot.core.ports import DeliveryError
from bot.slack import blocks
from bot.slack.app import Bot
from bot.slack.messages import SlackMessage

log = logging.getLogger(__name__)


class Confirmations:
    """Confirmations waiting to be posted, one queue per conversation (and thread). Slack
    takes about one message a second per conversation, so a conversation's confirmation goes
    out at once, and answers saved within the next SPACING seconds join the one after it: a
    burst of answers becomes a message a second per person, not one per answer. Everything
    waiting is posted when the process stops."""

    SPACING = 1.0

    def __init__(self, bot: Bot, submit: Callable[[Callable[[], None]], object],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bot, self.submit, self.clock = bot, submit, clock
        self._waiting: dict[tuple[str, str | None], list[tuple[Asked, str]]] = {}
        self._due: list[tuple[float, tuple[str, str | None]]] = []
        self._last: dict[tuple[str, str | None], float] = {}
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="roundtable-confirmations",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Post everything waiting, now."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def add(self, where: tuple[str, str | None], saved: list[tuple[Asked, str]]) -> None:
        """After the answers are committed: queue their confirmation."""
        with self._changed:
            if where not in self._waiting:
                due = self._last.get(where, -self.SPACING) + self.SPACING
                heapq.heappush(self._due, (due, where))
                self._changed.notify()
            self._waiting.setdefault(where, []).extend(saved)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = self.clock()
                while not self._stopping and (not self._due or self._due[0][0] > now):
                    self._changed.wait(self._due[0][0] - now if self._due else None)
                    now = self.clock()
                if self._stopping and not self._due:
                    return
                _, where = heapq.heappop(self._due)
                saved = self._waiting.pop(where)
                self._last = {w: t for w, t in self._last.items() if t > now - self.SPACING}
                self._last[where] = now
            self.submit(partial(confirm, self.bot, where, saved))


def confirm(bot: Bot, where: tuple[str, str | None], saved: list[tuple[Asked, str]]
             ) -> None:
    for start in range(0, len(saved), blocks.CONFIRMED_TOGETHER):  # built off the inbox thread
        say(bot, where, blocks.confirmations(saved[start:start + blocks.CONFIRMED_TOGETHER]))
    bot.outbox.wake()  # the next question, if one was queued, comes below the confirmation


def say_later(bot: Bot, where: tuple[str, str | None], said: SlackMessage) -> None:
    """Off the inbox's thread: on the confirming threads."""
    bot.confirming.submit(say, bot, where, said)


def say(bot: Bot, where: tuple[str, str | None], said: SlackMessage) -> None:
    """Tell the person what became of what they wrote, where they wrote it."""
    channel, thread = where
    try:
        bot.gateway.post(channel, said, thread_ts=thread)
    except DeliveryError as exc:
        log.warning("could not confirm an answer in %s: %s", channel, exc.reason)
