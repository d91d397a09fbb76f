"""The outbox sender: sends due deliveries while its process lives, on long-lived senders.

Its claims on deliveries live as long as this process's worker lease (renewed by the process's
lease loop, `renew`); when the process dies, the lease lapses and any other sender (or this
one, restarted) recovers them. Each delivery goes out on the platform of its person.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from bot.app.loops import Faults, WokenLoop
from bot.core import sending
from bot.core.ports import Clock, Gateways
from storage import leases
from storage.database import Database

SWEEP_SECONDS = 60.0
SOONEST = 0.1
"""Seconds at least between passes that come back for deliveries put off (a platform that
says "try again in 0 s" gets no busy loop)."""


class Outbox:
    """Sends due deliveries: at once when woken, else when the earliest one put off falls due
    (a look-up or send refused for now, a retry, the morning), and at least every minute."""

    def __init__(self, database: Database, gateways: Gateways, clock: Clock, zone: str,
                 lease_ttl: timedelta = leases.LEASE_TTL, worker: str = leases.PROCESS,
                 faults: Faults | None = None) -> None:
        self.database, self.gateways, self.clock, self.zone = database, gateways, clock, zone
        self.lease_ttl, self.worker = lease_ttl, worker
        self.loop = WokenLoop("outbox", self._pass, self._idle, faults=faults)
        self._senders: ThreadPoolExecutor | None = None
        self._dues: list[datetime] = []
        """When the deliveries this outbox put off fall due (those still ahead)."""

    def start(self) -> None:
        self.renew()
        self._senders = ThreadPoolExecutor(sending.IN_FLIGHT,
                                           thread_name_prefix="roundtable-sender")
        self.loop.start()

    def wake(self) -> None:
        self.loop.wake()

    def stop(self) -> None:
        self.loop.stop(timeout=30)
        if self._senders is not None:
            self._senders.shutdown(wait=True)
        leases.release(self.database.sessions, self.worker, leases.worker_lease(self.worker))

    def renew(self) -> None:
        """This process's worker lease: its claims stay its own while it lives."""
        leases.acquire(self.database.sessions, self.worker, self.clock(), self.lease_ttl,
                       name=leases.worker_lease(self.worker))

    def _pass(self) -> None:
        began = self.clock()
        outcomes = sending.send_due(self.database.sessions, self.gateways, self.clock,
                                    self.zone, stopping=self.loop.stopping.is_set,
                                    worker=self.worker, pool=self._senders)
        # Those that fell due only once the pass had begun are kept: it may have missed them.
        self._dues = [*(d for d in self._dues if d > began),
                      *(o.until for o in outcomes if o.until is not None)]

    def _idle(self) -> float:
        """Seconds to wait for a wake before the next pass."""
        if not self._dues:
            return SWEEP_SECONDS
        return min(SWEEP_SECONDS,
                   max(SOONEST, (min(self._dues) - self.clock()).total_seconds()))
