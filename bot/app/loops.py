"""Background loops that cannot die silently.

Each background job of a process is a `Loop`: a named thread that calls its step again and
again. A step that raises is logged with its traceback, and the loop starts again after a
pause (1 s, doubling to a minute); from the failure until its next step succeeds the loop
counts as failing, and /healthz answers 503 naming it. So a passing fault costs a few seconds,
and a lasting one keeps the process marked unhealthy for its supervisor to restart.

Faults can be injected by configuration (ROUNDTABLE_FAULTS, for tests and drills): the named
loop's first N steps raise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0

Step = Callable[[], bool]
"""One pass of a loop's work; returns False when the loop has finished (it is stopping)."""


class InjectedFault(RuntimeError):
    """A failure asked for by ROUNDTABLE_FAULTS."""


class Faults:
    """Failures to inject, by loop name: `inbox-handle:3` makes that loop's first 3 steps
    raise. Empty in normal running."""

    def __init__(self, spec: str = "") -> None:
        self._left: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, count = item.partition(":")
            self._left[name] = int(count or 1)
        self._lock = threading.Lock()

    def check(self, name: str) -> None:
        with self._lock:
            left = self._left.get(name, 0)
            if left <= 0:
                return
            self._left[name] = left - 1
        raise InjectedFault(f"fault injected into {name} (ROUNDTABLE_FAULTS)")


@dataclass
class Failure:
    at: float
    error: str


class Loop:
    """A named daemon thread running `step` until it returns False or `stop()` is called."""

    def __init__(self, name: str, step: Step, *, faults: Faults | None = None,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.name, self.step = name, step
        self.faults = faults or Faults()
        self.on_stop = on_stop
        """Wakes a step that waits, so that it sees the stop at once."""
        self.stopping = threading.Event()
        self.failure: Failure | None = None
        self.crashes = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"roundtable-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self.stopping.set()
        if self.on_stop is not None:
            self.on_stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def healthy(self) -> bool:
        return self.alive and self.failure is None

    def state(self) -> str:
        if self.failure is not None:
            return f"failing since {time.time() - self.failure.at:.0f} s: {self.failure.error}"
        return "running" if self.alive else "stopped"

    def _run(self) -> None:
        pause = FIRST_PAUSE
        while True:
            try:
                self.faults.check(self.name)
                more = self.step()
            except Exception as exc:  # noqa: BLE001 - logged, reported, and started again
                self.crashes += 1
                self.failure = Failure(time.time(), f"{type(exc).__name__}: {exc}"[:300])
                log.exception("%s failed (%d so far); starting it again in %.0f s", self.name,
                              self.crashes, pause)
                if self.stopping.wait(pause):
                    return
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            if self.failure is not None:
                log.info("%s works again", self.name)
            self.failure, pause = None, FIRST_PAUSE
            if not more:
                return


class WokenLoop(Loop):
    """A loop whose passes run when woken (`wake()`: work arrived in this process), else
    after `idle()` seconds (work another process left, or put off until then)."""

    def __init__(self, name: str, work: Callable[[], object], idle: Callable[[], float], *,
                 faults: Faults | None = None) -> None:
        self._wake = threading.Event()
        super().__init__(name, self._pass, faults=faults, on_stop=self._wake.set)
        self.work, self.idle = work, idle

    def start(self) -> None:
        super().start()
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def _pass(self) -> bool:
        self._wake.wait(self.idle())
        self._wake.clear()
        if self.stopping.is_set():
            return False
        self.work()
        return True


def stop_all(loops: Iterable[Loop]) -> None:
    for loop in loops:
        loop.stop()
