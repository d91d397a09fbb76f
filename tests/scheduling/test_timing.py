"""Digest schedules as pure functions of `now`, across time zones and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.errors import RoundtableError
from bot.scheduling.timing import digest_trigger, latest_fire_time, next_fire_time


def test_it_falls_due_on_friday_noon_london_time_by_default() -> None:
    trigger = digest_trigger(None, "Europe/London")
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # a Wednesday, BST
    assert next_fire_time(trigger, summer) == datetime(2026, 7, 3, 11, 0, tzinfo=UTC)
    assert latest_fire_time(trigger, summer) == datetime(2026, 6, 26, 11, 0, tzinfo=UTC)
    winter = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Friday noon, GMT: exactly due
    assert latest_fire_time(trigger, winter) == winter


def test_it_takes_a_cron_with_seconds_for_fast_schedules() -> None:
    trigger = digest_trigger("*/20 * * * * *", "UTC")
    now = datetime(2026, 11, 26, 15, 0, 47, tzinfo=UTC)
    assert latest_fire_time(trigger, now) == datetime(2026, 11, 26, 15, 0, 40, tzinfo=UTC)
    assert next_fire_time(trigger, now) == datetime(2026, 11, 26, 15, 1, 0, tzinfo=UTC)


def test_it_finds_the_last_monthly_time_a_month_back() -> None:
    trigger = digest_trigger("0 9 1 * *", "UTC")
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert latest_fire_time(trigger, now) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["every friday", "0 12 * * funday", "1 2 3"])
def test_it_refuses_a_schedule_it_cannot_read(expression: str) -> None:
    with pytest.raises(RoundtableError, match="cannot read the schedule"):
        digest_trigger(expression, "UTC")


@pytest.mark.parametrize("expression, due", [
    ("0 12 * * 5", datetime(2026, 7, 3, 12, 0, tzinfo=UTC)),  # cron's 5 is Friday
    ("0 12 * * 0", datetime(2026, 7, 5, 12, 0, tzinfo=UTC)),  # and 0 Sunday
    ("0 12 * * 7", datetime(2026, 7, 5, 12, 0, tzinfo=UTC)),  # as 7 is
    ("0 12 * * 1-5", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
    ("0 12 * * 6,0", datetime(2026, 7, 4, 12, 0, tzinfo=UTC)),
    ("0 0 12 * * 5", datetime(2026, 7, 3, 12, 0, tzinfo=UTC)),  # seconds first
])
def test_it_reads_weekday_numbers_as_cron_does(expression: str, due: datetime) -> None:
    wednesday = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert next_fire_time(digest_trigger(expression, "UTC"), wednesday) == due


def test_a_weekday_past_seven_is_refused() -> None:
    with pytest.raises(RoundtableError, match=r"cannot read the schedule '0 12 \* \* 8': "
                                              "weekdays go from 0 to 7"):
        digest_trigger("0 12 * * 8", "UTC")
