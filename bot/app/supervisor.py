"""Telling the service manager how the process is: systemd's notify protocol (sd_notify).

Under a unit with `Type=notify`, the process says READY=1 once it takes requests; with
`WatchdogSec=`, it says WATCHDOG=1 every third of that time while /healthz would answer 200.
When the process stays unhealthy (a loop failing, answers that cannot be taken) for the whole
watchdog time, systemd stops it and starts it again. Elsewhere (Docker, Windows, a terminal)
nothing is sent: NOTIFY_SOCKET is not set.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

from bot.app.health import health
from bot.app.loops import Loop
from bot.app.roundtable import Roundtable

log = logging.getLogger(__name__)
SEND_WITHIN = 1.0
"""Seconds a notification may wait for room in the manager's queue."""


class Supervisor:
    """The service manager's socket, when there is one."""

    def __init__(self, notify_socket: str | None, watchdog: timedelta | None) -> None:
        self.address = notify_socket
        self.watchdog = watchdog
        self.loop: Loop | None = None
        self.failed = False

    def notify(self, message: str) -> bool:
        """Send one notification; False when there is nobody to tell (or it failed)."""
        family = getattr(socket, "AF_UNIX", None)
        if not self.address or family is None:
            return False
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as channel:
                channel.settimeout(SEND_WITHIN)  # never hang on a manager that does not read
                channel.connect(address)
                channel.sendall(message.encode())
        except OSError as exc:
            if not self.failed:  # once: it says the same every beat
                log.warning("could not notify the service manager at %s: %s", self.address,
                            exc)
            self.failed = True
            return False
        return True

    def ready(self, app: Roundtable) -> None:
        """The process takes requests now; keep the watchdog fed while it is healthy."""
        if not self.notify("READY=1"):
            return
        if self.watchdog is not None and self.loop is None:
            beat = self.watchdog.total_seconds() / 3

            def feed() -> bool:
                if health(app).ok:
                    self.notify("WATCHDOG=1")
                loop = self.loop
                return loop is None or not loop.stopping.wait(beat)

            self.loop = Loop("watchdog", feed)
            self.loop.start()

    def stopping(self) -> None:
        self.notify("STOPPING=1")
        if self.loop is not None:
            self.loop.stop()
