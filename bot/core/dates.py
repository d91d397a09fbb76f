"""Dates people type: `closes 14d`, `closes 2026-12-18`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.errors import RoundtableError

CLOSING_TIME = time(18, 0)
"""A round that closes "on a date" closes at the end of that working day, local time."""


def parse_closes(text: str, now: datetime, zone: str) -> datetime:
    """`Nd` (N days from now, at the end of the working day) or an ISO date, in `zone`."""
    text = text.strip().lower()
    tz = ZoneInfo(zone)
    match = re.fullmatch(r"(\d{1,3})\s*d(ays?)?", text)
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
    return closes
