"""The homes loop: publishes the homes owed (bot.core.homes_owed) on the platforms this process
is signed in to, one person at a time, after the change that owes them has been answered.

Deleting a round of a thousand people owes a thousand homes: publishing them in the request
would keep the facilitator waiting minutes. Here they go out in the background, each person
once however many changes owed theirs, as fast as the platform takes them (its gateway waits
out a rate limit); the rows of one person are deleted once theirs is published, so a process
that dies leaves the rest to another (or to itself, restarted). Rows written by a process that
publishes nothing (a command line, with a token or without) are found at the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.app.loops import Faults, WokenLoop
from bot.core.homes_owed import claim_homes, published
from bot.core.ports import Clock, DeliveryError
from storage.database import Database
from storage.db import transaction

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15.0
"""Seconds at most between looks for homes owed by another process."""


class Homes:
    """Publishes the homes owed: at once when woken (this process owed some), else at each
    sweep."""

    def __init__(self, database: Database, publish: Callable[[str, str], None],
                 platforms: Callable[[], Sequence[str]], clock: Clock, worker: str,
                 faults: Faults | None = None) -> None:
        self.database, self.publish, self.platforms = database, publish, platforms
        self.clock, self.worker = clock, worker
        self.loop = WokenLoop("homes", self.publish_owed, lambda: SWEEP_SECONDS, faults=faults)

    def start(self) -> None:
        self.loop.start()

    def wake(self) -> None:
        self.loop.wake()

    def stop(self) -> None:
        self.loop.stop(timeout=30)

    def publish_owed(self) -> int:
        """Publish every home owed on this process's platforms; how many were."""
        done = 0
        while not self.loop.stopping.is_set():
            with transaction(self.database.sessions) as session:
                owed = claim_homes(session, self.platforms(), self.clock(), self.worker)
            if not owed:
                break
            for (platform, user_id), row_ids in owed.items():
                if self.loop.stopping.is_set():
                    break  # the rest stay claimed until this process's lease is given up
                try:
                    self.publish(platform, user_id)
                except DeliveryError as exc:  # their next opening of it shows it as it is
                    log.warning("could not publish a home on %s: %s", platform, exc.reason)
                with transaction(self.database.sessions) as session:
                    published(session, row_ids)
                done += 1
        return done
