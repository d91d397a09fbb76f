"""The outbox sender: a background thread that sends due deliveries while its process lives.

It holds a worker lease for as long as the process is alive, so the deliveries it has claimed
are not taken for abandoned; when the process dies, the lease lapses and any other sender (or
this one, restarted) recovers them.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from bot.core import deliveries
from bot.core.deliveries import Clock
from bot.core.ports import ChatGateway
from bot.runtime import Database
from storage import leases

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


class Outbox:
    """Sends due deliveries: at once when woken, else every minute (quiet hours, retries)."""

    def __init__(self, database: Database, gateway: ChatGateway, clock: Clock, zone: str,
                 lease_ttl: timedelta = leases.LEASE_TTL,
                 worker: str = deliveries.WORKER) -> None:
        self.database, self.gateway, self.clock, self.zone = database, gateway, clock, zone
        self.lease_ttl, self.worker = lease_ttl, worker
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._renew()
        for target, name in ((self._send_loop, "roundtable-outbox"),
                             (self._heartbeat, "roundtable-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        leases.release(self.database.sessions, self.worker, leases.worker_lease(self.worker))

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(SWEEP_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                deliveries.send_due(self.database.sessions, self.gateway, self.clock, self.zone,
                                    stopping=self._stop.is_set, worker=self.worker)
            except Exception:  # noqa: BLE001 - the loop must outlive one bad sweep
                log.exception("sending due deliveries failed; trying again on the next sweep")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_ttl.total_seconds() / 3):
            self._renew()

    def _renew(self) -> None:
        try:
            leases.acquire(self.database.sessions, self.worker, self.clock(), self.lease_ttl,
                           name=leases.worker_lease(self.worker))
        except Exception:  # noqa: BLE001 - retried at the next beat
            log.exception("could not renew this sender's worker lease")
