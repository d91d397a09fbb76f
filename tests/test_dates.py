"""Dates as people read them: the day without a leading zero, as a reader in the UK writes it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.dates import local_date_time, local_time, long_date, long_date_time, short_date

FRIDAY = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


def test_it_writes_the_day_without_a_leading_zero() -> None:
    assert local_time(FRIDAY, "Europe/London") == "Fri 4 Dec 14:00 GMT"
    assert local_date_time(FRIDAY, "Europe/London") == "Fri 4 Dec 2026 14:00 GMT"
    assert short_date(FRIDAY) == "4 Dec 2026"
    assert long_date(FRIDAY.date()) == "4 December 2026"
    assert long_date_time(FRIDAY) == "4 December 2026, 14:00"
