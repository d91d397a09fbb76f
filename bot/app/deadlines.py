"""Work a platform wants answered within seconds, that can take longer.

A facilitator's change to a draft digest waits on the language model when answers came in
since the draft was worded (up to ROUNDTABLE_LLM_TIMEOUT). Slack closes a form with an error
after three seconds and Teams shows an error by a card whose action is not answered within a
few: the platform answers at the deadline ("saving") and tells the outcome when it is known.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as StillRunning
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Late(Exception):
    """The work goes on past the deadline; its outcome is told when it is done."""


class Outcome(Generic[T]):
    """What late work came to: its result, or the exception it raised."""

    def __init__(self, done: Future[T]) -> None:
        self.error: BaseException | None = done.exception()
        self.result: T | None = None if self.error is not None else done.result()


class Deadline:
    """Runs work for a platform's answer, waiting at most `seconds` for it."""

    def __init__(self, seconds: float, name: str, workers: int = 2) -> None:
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def run(self, work: Callable[[], T], tell: Callable[[Outcome[T]], None]) -> T:
        """`work`'s result (or its exception) if it is done in time. Else raises Late, and
        `tell` is given the outcome once it is known."""
        running = self._pool.submit(work)
        try:
            return running.result(timeout=self.seconds)
        except StillRunning:
            if running.done():
                raise  # the work's own timeout (a TimeoutError), not the deadline
            running.add_done_callback(lambda done: _told(tell, Outcome(done)))
            raise Late from None

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _told(tell: Callable[[Outcome[T]], None], outcome: Outcome[T]) -> None:
    try:
        tell(outcome)
    except Exception:  # noqa: BLE001 - telling is best effort; the work itself is done
        log.exception("could not tell the outcome of late work")
