"""What the confirmations loop hands to the application once it has posted: where each
confirmation landed (kept, so that forget-me can delete it later: it repeats the person's
words) and which acknowledgements are owed no more. Handed over in batches (`flush`); what
cannot be recorded (the database is away) is kept and handed over again RECORD_AGAIN seconds
later, until it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.ports import Sent

log = logging.getLogger("bot.app.confirmations")  # the loop's log, as before it had a module
RECORD_AGAIN = 1.0
"""Seconds between attempts to record where confirmations landed, while the database cannot
be reached."""


@dataclass(frozen=True)
class Confirmed:
    """A confirmation that landed: where, and whose answers (in which round) it repeats;
    one that repeats answers of several rounds is handed over once for each."""

    platform: str
    sent: Sent
    participant_id: int
    round_id: int
    answer_id: str | None = None
    """The answer it confirms, when it confirms one alone (of an offer: the id its words
    would be saved under)."""
    offer_for: str | None = None
    """An offer's question (prompt id): its button holds words that are not an answer."""
    answers: tuple[str, ...] = ()
    """The answers of the round it confirms (their external ids): no longer owed."""
    files_dropped: tuple[str, ...] = ()
    """Those of `answers` whose files it said were not kept."""


Remember = Callable[[list[Confirmed], list[int]], None]
"""Keeps where confirmations landed, and settles what is owed no more (the rows of
acknowledgements posted or given up)."""


class Records:
    """What was posted and is not recorded yet. Its lists are changed under `changed`, the
    confirmations loop's lock, which is notified when recording failed (to try again)."""

    def __init__(self, remember: Remember, changed: threading.Condition) -> None:
        self.remember, self._changed = remember, changed
        self.confirmed: list[Confirmed] = []
        self.recording: list[Confirmed] = []
        """Taken from `confirmed` by a flush that has not committed them yet: neither in the
        database nor waiting to be, to anyone else, but this process's still."""
        self.discharged: list[int] = []
        """Acknowledgements owed no more (posted, or given up), not yet recorded so."""
        self.again: float | None = None
        """When to record again, after recording failed (time.monotonic(): not the pacing
        clock, which a test may hold still)."""

    def flush(self) -> None:
        """Hand over where the confirmations posted since the last flush landed, and what is
        owed no more (any thread). What cannot be recorded now is kept, and handed over
        again RECORD_AGAIN seconds later, until it is: while it is not, its answers are owed
        still, and only a process that dies before it is would post them again."""
        with self._changed:
            confirmed, self.confirmed = self.confirmed, []
            done, self.discharged = self.discharged, []
            self.recording += confirmed
        if not confirmed and not done:
            return
        try:
            self.remember(confirmed, done)
        except Exception:  # noqa: BLE001 - kept, to record again
            with self._changed:
                self._recorded(confirmed)
                self.confirmed[:0] = confirmed
                self.discharged[:0] = done
                first = self.again is None
                self.again = time.monotonic() + RECORD_AGAIN
                self._changed.notify()
            if first:
                log.exception("could not record where %d confirmations landed; trying again",
                              len(confirmed))
            return
        with self._changed:
            self._recorded(confirmed)
            failed, self.again = self.again, None
        if failed is not None:
            log.info("recorded where %d confirmations landed, at last", len(confirmed))

    def _recorded(self, confirmed: list[Confirmed]) -> None:
        """These are handed over (or back to `confirmed`): no longer being recorded."""
        handed = {id(c) for c in confirmed}
        self.recording = [c for c in self.recording if id(c) not in handed]

    def due(self) -> bool:
        """Whether recording failed and it is time to try again."""
        return self.again is not None and self.again <= time.monotonic()

    def wait(self) -> float | None:
        """Seconds until recording again; None when nothing waits to be recorded again."""
        return None if self.again is None else self.again - time.monotonic()
