"""Working hours: nobody is messaged outside 08:00-18:00 in their own time zone.

A message due at night waits for the next morning (`next_working_time`); one that must come
before a time (a reminder a day before the close) comes in the last working hour before it
(`last_working_time`)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.core.dates import readers_zone

WORKDAY_START = time(8, 0)
WORKDAY_END = time(18, 0)
LAST_WORKING_HOUR = time(17, 0)
"""A message moved back out of the night goes at the start of the day's last working hour, not
its last minute: a sweep sends one message after another, and one not sent by 18:00 would
wait for the next morning."""


def next_working_time(now: datetime, zone: str | None, default_zone: str) -> datetime | None:
    """None when `now` is within 08:00-18:00 where the person is; else the next 08:00 there."""
    tz = readers_zone(zone, default_zone)
    local = now.astimezone(tz)
    if WORKDAY_START <= local.time() < WORKDAY_END:
        return None
    day = local.date() if local.time() < WORKDAY_START else local.date() + timedelta(days=1)
    return datetime.combine(day, WORKDAY_START, tzinfo=tz)


def last_working_time(moment: datetime, zone: str | None, default_zone: str) -> datetime | None:
    """None when `moment` is within 08:00-18:00 where the person is; else the start of the last
    working hour before it there (17:00 that day, or the day before when it is early)."""
    tz = readers_zone(zone, default_zone)
    local = moment.astimezone(tz)
    if WORKDAY_START <= local.time() < WORKDAY_END:
        return None
    day = local.date() if local.time() >= WORKDAY_END else local.date() - timedelta(days=1)
    return datetime.combine(day, LAST_WORKING_HOUR, tzinfo=tz)
