"""Working hours: nobody is messaged outside 08:00-18:00 in their own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.core.dates import readers_zone

WORKDAY_START = time(8, 0)
WORKDAY_END = time(18, 0)


def next_working_time(now: datetime, zone: str | None, default_zone: str) -> datetime | None:
    """None when `now` is within 08:00-18:00 where the person is; else the next 08:00 there."""
    tz = readers_zone(zone, default_zone)
    local = now.astimezone(tz)
    if WORKDAY_START <= local.time() < WORKDAY_END:
        return None
    day = local.date() if local.time() < WORKDAY_START else local.date() + timedelta(days=1)
    return datetime.combine(day, WORKDAY_START, tzinfo=tz)

