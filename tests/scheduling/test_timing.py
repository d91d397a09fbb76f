"""Digest schedules as pure functions of `now`, across time zones and clock changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

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


def utc(moment: datetime | None) -> datetime | None:
    """In UTC: Python never finds a local time in a repeated or skipped hour equal to a time
    of another zone (PEP 495), so times near a clock change are compared in UTC."""
    return moment.astimezone(UTC) if moment is not None else None


def test_it_falls_due_once_at_a_time_the_clocks_pass_twice() -> None:
    """01:30 happens twice in London on 25 Oct 2026 (BST, then GMT): a daily 01:30 digest
    falls due at the first, and the time after the second is the next night's, not itself."""
    trigger = digest_trigger("30 1 * * *", "Europe/London")
    first = utc(next_fire_time(trigger, datetime(2026, 10, 24, 12, 0, tzinfo=UTC)))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert utc(next_fire_time(trigger, first)) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT, as a scheduler has it
    assert utc(trigger.get_next_fire_time(second, second + timedelta(seconds=1))) == datetime(
        2026, 10, 26, 1, 30, tzinfo=UTC)
    assert utc(latest_fire_time(trigger, datetime(2026, 10, 25, 1, 40, tzinfo=UTC))) == first


@pytest.mark.parametrize("expression, minutes", [
    ("30 * * * *", [30]),
    ("0 * * * *", [0]),
    ("*/20 * * * *", [0, 20, 40]),
    ("0 */20 * * * *", [0, 20, 40]),
])
def test_a_schedule_by_the_hour_falls_due_in_both_passes_of_the_repeated_hour(
        expression: str, minutes: list[int]) -> None:
    """Cron runs a schedule whose minute or hour begins with `*` by the time that passes:
    on 25 Oct 2026 London's 01:00-02:00 comes twice (BST, then GMT), and so do its times."""
    trigger = digest_trigger(expression, "Europe/London")
    fire = utc(next_fire_time(trigger, datetime(2026, 10, 24, 23, 59, tzinfo=UTC)))
    times = []
    while fire is not None and fire < datetime(2026, 10, 25, 3, 0, tzinfo=UTC):
        times.append(fire)
        # as APScheduler asks, a moment after the time it ran
        fire = utc(trigger.get_next_fire_time(fire, fire + timedelta(milliseconds=5)))
    assert times == [datetime(2026, 10, 25, hour, minute, tzinfo=UTC)
                     for hour in (0, 1, 2) for minute in minutes]  # 01:xx BST, 01:xx GMT, 02:xx


def test_the_last_time_an_hourly_schedule_fell_due_may_be_in_the_repeated_hour() -> None:
    trigger = digest_trigger("30 * * * *", "Europe/London")
    second_pass = datetime(2026, 10, 25, 1, 40, tzinfo=UTC)  # 01:40 GMT
    due = latest_fire_time(trigger, second_pass)
    assert utc(due) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert due is not None and due.isoformat() == "2026-10-25T01:30:00+00:00"


@pytest.mark.parametrize("expression", ["30 1 * * *", "0,30 1 * * *", "59 1 * * *"])
def test_it_falls_due_once_at_a_time_the_clocks_skip(expression: str) -> None:
    """01:00-02:00 does not happen in London on 29 Mar 2026: as in cron, that night's digest
    falls due once, at the first moment after the gap (02:00 BST), and the next night's at
    its time."""
    trigger = digest_trigger(expression, "Europe/London")
    skipped = utc(next_fire_time(trigger, datetime(2026, 3, 28, 12, 0, tzinfo=UTC)))
    assert skipped == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 BST
    following = next_fire_time(trigger, skipped)
    assert following is not None and following.date() == date(2026, 3, 30)
    before = latest_fire_time(trigger, datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    assert before is not None and before.date() == date(2026, 3, 28)
    assert utc(latest_fire_time(trigger, datetime(2026, 3, 29, 1, 20, tzinfo=UTC))) == skipped


def test_a_time_the_clocks_skip_at_midnight_falls_due_after_the_gap() -> None:
    """Santiago's clocks go from 00:00 to 01:00 on 6 Sep 2026: a midnight digest falls due at
    01:00 that day, not a day later."""
    trigger = digest_trigger("0 0 * * *", "America/Santiago")
    skipped = next_fire_time(trigger, datetime(2026, 9, 5, 12, 0, tzinfo=UTC))
    assert utc(skipped) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # 01:00 -03


@pytest.mark.parametrize("expression, after, due", [
    ("0 9 1 * 1", datetime(2026, 7, 1, 10, 0), datetime(2026, 7, 6, 9, 0)),  # a Monday
    ("0 9 1 * 1", datetime(2026, 7, 28, 10, 0), datetime(2026, 8, 1, 9, 0)),  # the 1st
    ("0 9 1-7 * 1", datetime(2026, 7, 7, 10, 0), datetime(2026, 7, 13, 9, 0)),
    ("0 9 13 * fri", datetime(2026, 7, 1, 10, 0), datetime(2026, 7, 3, 9, 0)),
    ("0 9 */2 * 1", datetime(2026, 7, 1, 10, 0), datetime(2026, 7, 13, 9, 0)),  # `*`: both
    ("0 9 1 * */2", datetime(2026, 7, 2, 10, 0), datetime(2026, 8, 1, 9, 0)),  # a Saturday
])
def test_a_day_and_a_weekday_fall_due_on_either_as_cron_has_it(
        expression: str, after: datetime, due: datetime) -> None:
    """Cron falls due on a day matching either day field when both are restricted, and on
    one matching both when either begins with `*`."""
    trigger = digest_trigger(expression, "UTC")
    assert next_fire_time(trigger, after.replace(tzinfo=UTC)) == due.replace(tzinfo=UTC)


@pytest.mark.parametrize("expression", ["0 12 30 2 *", "0 9 31 4,6,9,11 *"])
def test_it_refuses_a_schedule_that_never_falls_due(expression: str) -> None:
    with pytest.raises(RoundtableError, match=rf"the schedule '{re.escape(expression)}' never "
                                              "falls due: no date has the day and month it names"):
        digest_trigger(expression, "Europe/London")


def test_it_takes_a_schedule_that_falls_due_once_in_four_years() -> None:
    trigger = digest_trigger("0 12 29 2 *", "UTC")
    assert next_fire_time(trigger, datetime(2026, 3, 1, tzinfo=UTC)) == datetime(
        2028, 2, 29, 12, 0, tzinfo=UTC)
