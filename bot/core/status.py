"""Where a round stands: deliveries, answers, reminders, digests — for `status` anywhere."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.rounds import MODE_NAMES, delivery_counts, participation
from storage.models import Delivery, Digest, Participant, Reminder, Round

FAILURES_SHOWN = 10


@dataclass(frozen=True)
class RoundStatus:
    round_id: int
    title: str
    status: str
    delivered: int
    pending: int
    failed: int
    failures: list[tuple[str, str]]
    """(who, why) of deliveries that failed for good, the first few; in a round that is not
    named, who is only how many ("2 people")."""
    invited: int
    answered_any: int
    answered_all: int
    reminders_sent: int
    digests_posted: int
    closes_at: datetime | None
    next_digest: datetime | None
    mode: str = "role"
    digest_channel: str | None = None
    withdrawn: int = 0
    purged_at: datetime | None = None

    def lines(self, zone: str = "UTC") -> list[str]:
        """Plain text with times in `zone` (the caller escapes it for its platform)."""
        tz = ZoneInfo(zone)
        out = [
            f"Round {self.round_id} · {self.title} · {self.status} · "
            f"{MODE_NAMES.get(self.mode, self.mode)}",
            f"{self.delivered} delivered, {self.pending} pending, {self.failed} failed · "
            f"{self.answered_any} of {self.invited} answered, {self.answered_all} answered all · "
            f"{self.reminders_sent} reminders sent, {self.digests_posted} digests posted",
        ]
        if self.withdrawn:
            out.append(f"{self.withdrawn} {'person' if self.withdrawn == 1 else 'people'} "
                       "asked to be forgotten: no longer counted as invited")
        if self.purged_at is not None:
            out.append(f"Answers and digests deleted {self.purged_at.astimezone(tz):%d %b %Y} "
                       "(kept for the retention period after closing); the counts above are "
                       "as they were then")
        elif self.digest_channel is None:
            out.append("No digest channel: set one before the first digest")
        when = []
        if self.next_digest is not None and self.status == "open":
            when.append(f"next digest {self.next_digest.astimezone(tz):%a %d %b %H:%M %Z}")
        if self.closes_at is not None and self.status == "open":
            when.append(f"closes {self.closes_at.astimezone(tz):%a %d %b %H:%M %Z}")
        if when:
            text = ", ".join(when)
            out.append(text[0].upper() + text[1:])
        if self.failures:
            out.append("Not delivered: " + "; ".join(f"{who}: {why}" for who, why in self.failures))
        return out


def round_status(session: Session, round_: Round, next_digest: datetime | None) -> RoundStatus:
    counts = delivery_counts(session, round_.id)
    turnout = participation(session, round_)
    failures = session.execute(
        select(Participant.display_name, Participant.platform_user_id, Delivery.last_error)
        .join(Participant, Participant.id == Delivery.participant_id)
        .where(Delivery.round_id == round_.id, Delivery.state == "failed")
        .order_by(Delivery.id)
        .limit(FAILURES_SHOWN if round_.anonymity == "named" else None)
    ).all()
    if round_.anonymity == "named":
        shown = [(name or uid, why or "unknown") for name, uid, why in failures]
    else:  # who could not be reached would say who was asked: only how many, and why
        reasons = Counter(why or "unknown" for _, _, why in failures)
        shown = [(f"{n} {'person' if n == 1 else 'people'}", why)
                 for why, n in reasons.most_common(FAILURES_SHOWN)]
    reminders = (
        session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.round_id == round_.id, Reminder.state == "sent")
        )
        or 0
    )
    digests = (
        session.scalar(
            select(func.count())
            .select_from(Digest)
            .where(Digest.round_id == round_.id, Digest.state == "posted")
        )
        or 0
    )
    return RoundStatus(
        round_.id,
        round_.pack_title,
        round_.status,
        counts["sent"],
        counts["pending"],
        counts["failed"],
        shown,
        turnout.invited,
        turnout.answered_any,
        turnout.answered_all,
        reminders,
        digests,
        round_.closes_at,
        next_digest,
        round_.anonymity,
        round_.digest_channel,
        round_.withdrawn,
        round_.purged_at,
    )
