"""When digests fall due: cron expressions as time-zone-aware functions of `now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.core.errors import RoundtableError

DEFAULT_DIGEST_CRON = "0 12 * * fri"
"""Weekly, Friday at noon in ROUNDTABLE_TIMEZONE."""


def digest_trigger(expression: str | None, zone: str) -> CronTrigger:
    """A cron trigger from 5 fields (minute hour day month weekday) or 6 (seconds first)."""
    expression = (expression or DEFAULT_DIGEST_CRON).strip()
    fields = expression.split()
    tz = ZoneInfo(zone)
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=tz)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=tz,
            )
    except ValueError as exc:
        raise RoundtableError(f"cannot read the schedule {expression!r}: {exc}") from None
    raise RoundtableError(
        f"cannot read the schedule {expression!r}: give 5 cron fields "
        "(minute hour day month weekday), or 6 with seconds first"
    )


def latest_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time at or before `now` the trigger fired (None if it never has within a year)."""
    first: datetime | None = trigger.get_next_fire_time(None, now)
    if first is None:
        return None
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    step = (second - first) if second else timedelta(days=1)
    lookback = max(step, timedelta(seconds=1))
    while lookback <= timedelta(days=400):
        start = now - lookback * 2
        fire: datetime | None = trigger.get_next_fire_time(None, start)
        latest: datetime | None = None
        while fire is not None and fire <= now:
            latest = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if latest is not None:
            return latest
        lookback *= 4
    return None


def next_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    fire: datetime | None = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    return fire


def next_digest_time(cron: str | None, has_channel: bool, now: datetime,
                     zone: str) -> datetime | None:
    """When a round's next scheduled digest falls (None without a digest channel)."""
    if not has_channel:
        return None
    try:
        return next_fire_time(digest_trigger(cron, zone), now)
    except RoundtableError:
        return None
