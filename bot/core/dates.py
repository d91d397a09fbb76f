"""Dates people type (`closes 14d`, `closes 2026-12-18`) and moments as people read them."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import RoundtableError

CLOSING_TIME = time(18, 0)
"""A round that closes "on a date" closes at the end of that working day, local time."""

MOST_DAYS = 999
"""The furthest `Nd` a closing date may be."""


def zone_named(name: str | None) -> ZoneInfo | None:
    """The time zone of that IANA name, or None when there is none: a name a platform (or a
    person) sends is not trusted to be one, and the file system refuses some before the
    zone database can (a name too long for a file's is OSError, not "not found")."""
    if not name or len(name) > ZONE_NAME_CHARS:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


ZONE_NAME_CHARS = 64
"""Longer than any IANA zone's name ("America/Argentina/ComodRivadavia" is 32)."""


def readers_zone(zone: str | None, default_zone: str) -> ZoneInfo:
    """A person's own time zone, or `default_zone` (the round's) when theirs is unknown."""
    return zone_named(zone) or ZoneInfo(default_zone)


def local_time(moment: datetime, zone: str) -> str:
    """A moment as people read it, in `zone`: Fri 4 Dec 12:00 GMT."""
    moment = moment.astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b %H:%M %Z}"


def local_date_time(moment: datetime, zone: str) -> str:
    """A moment weeks away as people read it, in `zone`: Fri 18 Dec 2026 18:00 GMT."""
    moment = moment.astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M %Z}"


def short_date(day: date) -> str:
    """A day as a sentence mentions it in passing: 4 Dec 2026."""
    return f"{day.day} {day:%b %Y}"


def long_date(day: date) -> str:
    """A day as a notice or a document gives it: 4 December 2026."""
    return f"{day.day} {day:%B %Y}"


def long_date_time(moment: datetime) -> str:
    """A moment as a document gives it, in the moment's own zone: 4 December 2026, 14:00."""
    return f"{long_date(moment)}, {moment:%H:%M}"


def round_closes(closes_at: datetime, zone: str, *, weeks_away: bool = False,
                 moved_from: datetime | None = None) -> str:
    """When a round closes, as a sentence its reader reads in their own `zone`: "The round
    closes Fri 18 Dec 18:00 GMT." (with the year when the close may be `weeks_away`); when
    the reader was told `moved_from` before, "The round now closes …, later than I said."."""
    when = local_date_time(closes_at, zone) if weeks_away else local_time(closes_at, zone)
    if moved_from is None:
        return f"The round closes {when}."
    return (f"The round now closes {when}, "
            f"{'later' if closes_at > moved_from else 'earlier'} than I said.")


def parse_closes(text: str, now: datetime, zone: str) -> datetime:
    """`Nd` (N days from now, at the end of the working day) or an ISO date, in `zone`."""
    text = text.strip().lower()
    tz = ZoneInfo(zone)
    match = re.fullmatch(r"(\d+)\s*d(ays?)?", text)
    if match and int(match.group(1)) > MOST_DAYS:
        raise RoundtableError(f"the closing date {text!r} is too far ahead: give at most "
                              f"{MOST_DAYS}d, or a date like 2026-12-18")
    if match:
        day = now.astimezone(tz).date() + timedelta(days=int(match.group(1)))
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise RoundtableError(
                f"cannot read the closing date {text!r}: use a number of days like 14d "
                "or a date like 2026-12-18"
            ) from None
    closes = datetime.combine(day, CLOSING_TIME, tzinfo=tz)
    if closes <= now:
        raise RoundtableError(f"the closing date {day.isoformat()} is already past")
    if day > now.astimezone(tz).date() + timedelta(days=MOST_DAYS):
        # as far as `Nd` may reach: 2062-12-18 is a slip for 2026, and the year 9999 is no
        # closing date (nor one every later date sum can hold)
        raise RoundtableError(f"the closing date {day.isoformat()} is too far ahead: give a "
                              f"date within {MOST_DAYS} days, or a number of days like 14d")
    return closes
