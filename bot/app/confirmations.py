"""Telling people what became of what they wrote: confirmations of saved answers, paced per
conversation, and short notices, all posted by one loop of their own.

Platforms take about one message a second per conversation, so a conversation's confirmation
goes out at once, and answers saved within the next SPACING seconds join the one after it: a
burst of answers becomes a message a second per person, not one per answer. `add` only queues
(it is called right after the inbox commits a batch, and must not fail there); the pacing and
the posting happen on this loop. Everything waiting is posted when the process stops.

Where each confirmation landed is handed to `remember` (the application stores it, so that
forget-me can delete it later: it repeats the person's words), in batches, whenever the loop
has nothing due, so a burst costs one write, not one per message.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.app.loops import Faults, Loop
from bot.core.ports import DeliveryError, Gateways, Sent, Where
from bot.core.questions import Saved
from bot.core.said import Said

log = logging.getLogger(__name__)
CONFIRMED_TOGETHER = 20
"""Answers confirmed in one message at most."""

Key = tuple[str, Where]
"""(platform, where): one queue per conversation and thread."""


@dataclass(frozen=True)
class Confirmed:
    """A confirmation that landed: where, and whose answers (in which round) it repeats."""

    platform: str
    sent: Sent
    participant_id: int
    round_id: int


@dataclass
class Waiting:
    saved: list[Saved] = field(default_factory=list)
    notices: list[Said] = field(default_factory=list)


class Confirmations:
    SPACING = 1.0

    def __init__(self, gateways: Gateways, *, after: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic,
                 faults: Faults | None = None,
                 remember: Callable[[list[Confirmed]], None] = lambda _: None) -> None:
        self.gateways, self.after, self.clock = gateways, after, clock
        """`after` runs once confirmations went out (the outbox's wake: a next question then
        comes below its answer's confirmation)."""
        self.remember = remember
        self._confirmed: list[Confirmed] = []
        self._arrived: list[tuple[Key, Saved | Said]] = []
        self._waiting: dict[Key, Waiting] = {}
        self._due: list[tuple[float, int, Key]] = []
        self._order = itertools.count()  # equal times never compare the keys
        self._last: dict[Key, float] = {}
        self._changed = threading.Condition()
        self.loop = Loop("confirmations", self._step, faults=faults, on_stop=self._poke)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        """Post everything waiting, now."""
        self.loop.stop()

    def confirm(self, platform: str, where: Where, saved: list[Saved]) -> None:
        """After the answers are committed: queue their confirmation."""
        with self._changed:
            self._arrived += [((platform, where), s) for s in saved]
            self._changed.notify()

    def notify(self, platform: str, where: Where, said: Said) -> None:
        """Queue a short notice (what could not be saved, and why)."""
        with self._changed:
            self._arrived.append(((platform, where), said))
            self._changed.notify()

    def queued(self) -> list[Saved]:
        """The answers whose confirmation waits for its turn."""
        with self._changed:
            return ([item for _, item in self._arrived if isinstance(item, Saved)]
                    + [s for waiting in self._waiting.values() for s in waiting.saved])

    def _poke(self) -> None:
        with self._changed:
            self._changed.notify()

    def _step(self) -> bool:
        with self._changed:
            self._take_arrived()
            now = self.clock()
            idle = not self._arrived and (not self._due or self._due[0][0] > now)
        if idle or self.loop.stopping.is_set():
            self.flush()
        with self._changed:
            self._take_arrived()
            now = self.clock()
            while not self.loop.stopping.is_set() and not self._arrived and (
                    not self._due or self._due[0][0] > now):
                self._changed.wait(self._due[0][0] - now if self._due else None)
                self._take_arrived()
                now = self.clock()
            self._take_arrived()
            stopping = self.loop.stopping.is_set()
            if stopping and not self._due:
                self.flush()
                return False
            if not self._due or (self._due[0][0] > now and not stopping):
                return True
            _, _, key = heapq.heappop(self._due)
            waiting = self._waiting.pop(key)
            self._last = {k: t for k, t in self._last.items() if t > now - self.SPACING}
            self._last[key] = now
        self._post(key, waiting)
        return True

    def _take_arrived(self) -> None:
        """Pace what arrived: a conversation not already waiting is due SPACING after its
        last message (at once, if that was long ago)."""
        for key, item in self._arrived:
            if key not in self._waiting:
                self._waiting[key] = Waiting()
                due = self._last.get(key, -self.SPACING) + self.SPACING
                heapq.heappush(self._due, (due, next(self._order), key))
            if isinstance(item, Said):
                self._waiting[key].notices.append(item)
            else:
                self._waiting[key].saved.append(item)
        self._arrived = []

    def _post(self, key: Key, waiting: Waiting) -> None:
        platform, where = key
        gateway = self.gateways.get(platform)
        if gateway is None:
            log.warning("no gateway for %s: %d confirmations not posted", platform,
                        len(waiting.saved))
            return
        try:
            for said in waiting.notices:
                gateway.say(where, said)
            for start in range(0, len(waiting.saved), CONFIRMED_TOGETHER):
                batch = waiting.saved[start:start + CONFIRMED_TOGETHER]
                sent = gateway.confirm(where, batch)
                first = batch[0].asked
                with self._changed:
                    self._confirmed.append(Confirmed(platform, sent, first.participant.id,
                                                     first.round_id))
        except DeliveryError as exc:
            log.warning("could not confirm %d answers on %s: %s", len(waiting.saved), platform,
                        exc.reason)
        self.after()

    def flush(self) -> None:
        """Hand over where the confirmations posted since the last flush landed (any thread:
        forget-me flushes before it looks)."""
        with self._changed:
            confirmed, self._confirmed = self._confirmed, []
        if not confirmed:
            return
        try:
            self.remember(confirmed)
        except Exception:  # noqa: BLE001 - the answers are saved; forget-me would miss these
            log.exception("could not record where %d confirmations landed", len(confirmed))
