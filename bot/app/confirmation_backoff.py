"""When a conversation's messages that a platform refused are tried again, or given up: after
the Retry-After the platform gave, or a pause that grows with each failure (RETRY_FIRST,
doubling, at most RETRY_LONGEST); given up after GIVE_UP_AFTER failures in a row that are not
rate limits, or at once when trying again cannot help.
"""

from __future__ import annotations

from collections.abc import Hashable

from bot.core.ports import DeliveryError

RETRY_FIRST = 2.0
"""Seconds before a conversation's messages refused for now (not rate limited) are tried
again; twice as long after each further failure, up to RETRY_LONGEST."""
RETRY_LONGEST = 300.0
GIVE_UP_AFTER = 12
"""Failures in a row (not rate limits) after which a conversation's messages are given up:
some half an hour of a platform that keeps failing."""


class Backoff:
    """Failures in a row of each conversation, and when each refused for now may be tried
    again. Not thread-safe: the confirmations loop calls it under its lock."""

    def __init__(self) -> None:
        self._failures: dict[Hashable, int] = {}
        """Failures in a row (not rate limits) of a conversation's messages."""
        self._not_before: dict[Hashable, float] = {}
        """When a conversation refused for now may be tried again."""

    def failed(self, key: Hashable, exc: DeliveryError) -> int:
        """Count the refusal (a rate limit is no failure); the failures in a row now."""
        failures = self._failures.get(key, 0) + (exc.retry_after is None)
        self._failures[key] = failures
        return failures

    @staticmethod
    def gives_up(exc: DeliveryError, failures: int) -> bool:
        """Whether trying again cannot help, or has been tried long enough."""
        return exc.permanent or failures >= GIVE_UP_AFTER

    @staticmethod
    def pause(exc: DeliveryError, failures: int) -> float:
        """Seconds before trying again."""
        return exc.retry_after if exc.retry_after is not None else min(
            RETRY_FIRST * 2 ** (failures - 1), RETRY_LONGEST)

    def wait_until(self, key: Hashable, when: float) -> None:
        self._not_before[key] = when

    def not_before(self, key: Hashable, default: float) -> float:
        """When the conversation may be tried again (`default` when it is not waiting)."""
        return self._not_before.get(key, default)

    def cleared(self, key: Hashable) -> None:
        """Posted, or given up: the conversation starts afresh."""
        self._failures.pop(key, None)
        self._not_before.pop(key, None)
