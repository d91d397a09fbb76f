"""When digests fall due: cron expressions as time-zone-aware functions of `now`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.core.errors import RoundtableError

DEFAULT_DIGEST_CRON = "0 12 * * fri"
"""Weekly, Friday at noon in ROUNDTABLE_TIMEZONE."""


WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Cron's weekday numbers: 0 (and 7) is Sunday."""

class WallClockTrigger(CronTrigger):  # type: ignore[misc]  # (APScheduler 3 is untyped)
    """A CronTrigger that falls due when cron would.

    Day of month and weekday: when both are restricted (neither begins with `*`), cron falls
    due on a day that matches either (`0 9 1 * 1`: the 1st, and every Monday); CronTrigger
    wants both. `either_day` says so; it is kept with a stored job.

    When the clocks go back (01:00-02:00 in Europe/London on the last Sunday of October),
    APScheduler 3's CronTrigger falls due at both 01:30s, and asked for the time after the
    second it answers that same time again, for ever: its scheduler (and `latest_fire_time`)
    would loop there. Cron's rule instead: a time of day (`30 1 * * *`) falls due at its first
    pass only, and a schedule whose minute or hour begins with `*` (hourly, every 20
    minutes) runs by the time that passes, so in both passes. A time that does not exist
    (01:30 when the clocks go forward from 01:00 to 02:00) falls due once, at the first moment
    after the gap (02:00), as in cron; CronTrigger would answer 02:30 (the skipped time read
    with the offset from before the change), or skip the day when the gap is at midnight.
    """

    either_day: bool = False

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        return {**state, "either_day": self.either_day}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.either_day = bool(state.get("either_day", False))  # stored before: both days

    def __str__(self) -> str:
        return f"{super().__str__()} (either day)" if self.either_day else str(super().__str__())

    @property
    def by_the_hour(self) -> bool:
        """Whether the minute or the hour begins with `*`, as cron tells such schedules."""
        fields = {field.name: str(field) for field in self.fields}
        return fields["minute"].startswith("*") or fields["hour"].startswith("*")

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        start = _searched_from(previous_fire_time, now)
        fire = self._first_pass_time(start)
        if self.by_the_hour:
            fire = _earliest((fire, self._second_pass_time(start)))
        return fire

    def _first_pass_time(self, start: datetime) -> datetime | None:
        """The first time at or after `start`, the repeated hour's second pass left out."""
        if self.either_day:
            return _earliest(days._first_pass_time(start) for days in self._each_day_field())
        fire: datetime | None = super().get_next_fire_time(None, start)
        while fire is not None and _second_time_round(fire, self.timezone):
            fire = super().get_next_fire_time(None, _after_repeat(fire, self.timezone))
        if self.by_the_hour:
            return fire  # by the time that passes: a skipped time is not made up
        return _earliest((fire, self._skipped_time(start)))

    def _skipped_time(self, start: datetime) -> datetime | None:
        """When the first time the schedule names after `start`, read on the wall clock, is one
        the clocks skip: the first moment after the gap (else None)."""
        on_the_wall = start.astimezone(self.timezone).replace(tzinfo=UTC, fold=0)
        named: datetime | None = self._wall_clock().get_next_fire_time(None, on_the_wall)
        if named is None:
            return None
        local = named.replace(tzinfo=self.timezone)
        if local.astimezone(UTC).astimezone(self.timezone).replace(tzinfo=None) == \
                named.replace(tzinfo=None):
            return None  # the clock shows it
        # read with the offset after the change (fold=1), a skipped time comes before it
        return _change_between(local.replace(fold=1).astimezone(UTC), local.astimezone(UTC),
                               self.timezone).astimezone(self.timezone)

    def _wall_clock(self) -> CronTrigger:
        """The same schedule on a clock that never changes (UTC), to read wall-clock times."""
        cached: CronTrigger | None = self.__dict__.get("_wall")
        if cached is None:
            fields = {field.name: str(field) for field in self.fields}
            cached = self.__dict__["_wall"] = CronTrigger(**fields, timezone=UTC)
        return cached

    def _second_pass_time(self, start: datetime) -> datetime | None:
        """The first time at or after `start` in the second pass of an hour the clocks
        repeat (None when no such hour is within reach): the second pass of the first time
        in the first pass whose second comes at or after `start`."""
        repeat = _repeated_hour_near(start, self.timezone)
        if repeat is None:
            return None
        first_pass, change = repeat
        fire = self._first_pass_time(max(first_pass, start - change))
        while fire is not None and fire < start:
            again = _second_pass(fire, self.timezone)
            if again is not None and again >= start:
                return again
            fire = self._first_pass_time(fire + timedelta(microseconds=1))
        return None

    def _each_day_field(self) -> tuple[WallClockTrigger, WallClockTrigger]:
        """The schedule on its days of the month, and on its weekdays, every other field kept."""
        cached: tuple[WallClockTrigger, WallClockTrigger] | None = self.__dict__.get("_days")
        if cached is None:
            fields = {field.name: str(field) for field in self.fields}
            cached = (WallClockTrigger(**{**fields, "day_of_week": "*"}, timezone=self.timezone),
                      WallClockTrigger(**{**fields, "day": "*"}, timezone=self.timezone))
            self.__dict__["_days"] = cached
        return cached


CLOCK_CHANGE_REACH = timedelta(hours=3)
"""Cron takes a change of the local time by less than this for summer time's."""


def _searched_from(previous_fire_time: datetime | None, now: datetime) -> datetime:
    """Where APScheduler's CronTrigger starts looking for the next time, in UTC."""
    if previous_fire_time is None:
        return now.astimezone(UTC)
    after = previous_fire_time.astimezone(UTC) + timedelta(microseconds=1)
    start = min(now.astimezone(UTC), after)
    return after if start == previous_fire_time else start


def _earliest(fires: Iterable[datetime | None]) -> datetime | None:
    """The earliest of some times (compared in UTC: a repeated hour's local times are not)."""
    return min((fire for fire in fires if fire is not None),
               key=lambda fire: fire.astimezone(UTC), default=None)


def _repeated_hour_near(moment: datetime, zone: tzinfo) -> tuple[datetime, timedelta] | None:
    """When the first pass of local times the clocks repeat begins, and how far they go back,
    for a change `moment` is in or is near (else None)."""
    if moment.astimezone(zone).fold == 1:
        before, after = moment - CLOCK_CHANGE_REACH, moment
    else:
        before, after = moment, moment + CLOCK_CHANGE_REACH
    was, becomes = _offset(before, zone), _offset(after, zone)
    if becomes >= was:
        return None
    return _change_between(before, after, zone) - (was - becomes), was - becomes


def _change_between(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The moment the clocks change, between `before` and `after` (whose offsets differ)."""
    was = _offset(before, zone)
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        before, after = (middle, after) if _offset(middle, zone) == was else (before, middle)
    return after


def _offset(moment: datetime, zone: tzinfo) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    return offset if offset is not None else timedelta(0)


def _second_pass(fire: datetime, zone: tzinfo) -> datetime | None:
    """When the clock shows a first-pass `fire`'s local time again (None if it never does),
    in UTC."""
    local = fire.astimezone(zone)
    again = local.replace(fold=1)
    if local.fold == 1 or again.utcoffset() == local.utcoffset():
        return None
    return again.astimezone(UTC)


def _second_time_round(moment: datetime, zone: tzinfo) -> bool:
    """Whether the clock showed `moment`'s local time once already (the clocks went back)."""
    return moment.astimezone(zone).fold == 1


def _after_repeat(moment: datetime, zone: tzinfo) -> datetime:
    """The first whole minute after `moment` whose local time the clock shows only once."""
    minute = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    while _second_time_round(minute, zone):
        minute += timedelta(minutes=1)
    return minute


EVER_FROM = datetime(2000, 1, 1, tzinfo=UTC)
"""A cron that falls due at all falls due after any moment; this one is in the past."""


def digest_trigger(expression: str | None, zone: str) -> CronTrigger:
    """A cron trigger from 5 fields (minute hour day month weekday) or 6 (seconds first);
    weekdays numbered as cron numbers them (0 or 7 Sunday, 5 Friday). One that never falls
    due (30 February) is refused."""
    expression = (expression or DEFAULT_DIGEST_CRON).strip()
    trigger = _cron_trigger(expression, zone)
    if trigger.get_next_fire_time(None, EVER_FROM) is None:
        raise RoundtableError(
            f"the schedule {expression!r} never falls due: no date has the day and month it "
            f"names (the default is {DEFAULT_DIGEST_CRON!r}, Fridays at noon)")
    return trigger


DIGESTS_APART = timedelta(hours=1)
"""The least time between two of a round's digests a facilitator may ask for: each goes to a
group's channel (or to its facilitators for review), and a schedule more often than hourly is
a slip (`* 9 * * fri` is every minute from 9:00 to 9:59, sixty digests), not a wish."""
LOOKED_AHEAD = timedelta(days=8)
"""How far ahead a new schedule is read for two digests too close: a week covers every
weekday, and a day more the turn of one."""


def check_digest_schedule(expression: str, zone: str, now: datetime) -> None:
    """Refuse (RoundtableError) a schedule a facilitator gives that cannot be read, never
    falls due, or falls due twice within DIGESTS_APART in the LOOKED_AHEAD after `now`.
    Rounds stored with such a schedule before keep it (`digest_trigger` reads them)."""
    if (close := too_close(expression, zone, now)) is not None:
        raise RoundtableError(f"{close}: a digest goes to a group, so at most one an hour "
                              "(`* 9 * * fri` is every minute from 9:00, `0 9 * * fri` once "
                              "at 9:00)")


def too_close(expression: str, zone: str, now: datetime) -> str | None:
    """How a schedule falls due twice within DIGESTS_APART in the LOOKED_AHEAD after `now`
    ("the schedule '…' posts digests a minute apart (Fri 09:00:00 and 09:01:00)"), or None
    when it never does; RoundtableError when it cannot be read or never falls due."""
    trigger = digest_trigger(expression, zone)
    until = now + LOOKED_AHEAD
    previous = next_fire_time(trigger, now)
    while previous is not None and previous < until:
        fire = next_fire_time(trigger, previous)
        if fire is not None and fire - previous < DIGESTS_APART:
            gap = int((fire - previous).total_seconds())
            apart = (f"{gap // 60} minutes" if gap >= 120 else "a minute" if gap == 60
                     else f"{gap} second{'s' if gap != 1 else ''}")
            local = ZoneInfo(zone)
            return (f"the schedule {expression.strip()!r} posts digests {apart} apart "
                    f"({previous.astimezone(local):%a %H:%M:%S} and "
                    f"{fire.astimezone(local):%H:%M:%S})")
        previous = fire
    return None


def _cron_trigger(expression: str, zone: str) -> CronTrigger:
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise RoundtableError(
            f"cannot read the schedule {expression!r}: give 5 cron fields "
            "(minute hour day month weekday), or 6 with seconds first"
        )
    names = ("minute", "hour", "day", "month", "day_of_week")
    given = dict(zip(("second", *names) if len(fields) == 6 else names, fields, strict=True))
    try:
        either_day = not given["day"].startswith("*") and not given["day_of_week"].startswith("*")
        given["day_of_week"] = cron_weekdays(given["day_of_week"])
        trigger = WallClockTrigger(**given, timezone=ZoneInfo(zone))
    except ValueError as exc:
        raise RoundtableError(f"cannot read the schedule {expression!r}: {exc}") from None
    trigger.either_day = either_day
    return trigger


def cron_weekdays(field: str) -> str:
    """A cron weekday field in APScheduler's words: APScheduler 3 counts 0 as Monday (its
    `from_crontab` too), so cron's `5`, Friday, would fall on a Saturday. Numbers, ranges
    and steps become the days' names; names are left as they are."""
    if not re.search(r"[0-9]", field) or re.search(r"[a-z]", field, re.IGNORECASE):
        return field
    days: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
        if match is None:
            raise ValueError(f"cannot read the weekdays {part!r}")
        star, first, last, step = match.groups()
        if star == "*":
            start, end = 0, 6
        else:
            start = int(first)
            end = int(last) if last is not None else (6 if step else start)
        if not 0 <= start <= end <= 7:
            raise ValueError(f"weekdays go from 0 to 7 (0 and 7 are Sunday), not {part!r}")
        days.update(day % 7 for day in range(start, end + 1, int(step or 1)))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


LONGEST_GAP = timedelta(days=146097)
"""400 years, after which the Gregorian calendar repeats: a schedule that falls due at all
(29 February: every four years, eight across 2100) falls due within any such span."""


def latest_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The last time at or before `now` the trigger fired (None if it never has)."""
    first: datetime | None = trigger.get_next_fire_time(None, now)
    if first is None:
        return None
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    step = (second - first) if second else timedelta(days=1)
    lookback = min(max(step, timedelta(seconds=1)), LONGEST_GAP)
    while True:
        start = now - lookback * 2
        fire: datetime | None = trigger.get_next_fire_time(None, start)
        latest: datetime | None = None
        while fire is not None and fire <= now:
            latest = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if latest is not None or lookback >= LONGEST_GAP:
            return latest
        lookback = min(lookback * 4, LONGEST_GAP)


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
