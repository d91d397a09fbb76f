"""Where a round stands: deliveries, answers, reminders, digests — for `status` anywhere."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.dates import local_time, short_date
from bot.core.rounds import MODE_NAMES, delivery_counts, participation, taking_part
from bot.core.wording import counted
from storage.models import Delivery, Digest, Participant, Reminder, Reply, Round

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
    close_notices_sent: int = 0
    """Notices that the close moved, sent to people a reminder told the old one (not
    reminders: they do not count against the cap)."""

    def lines(self, zone: str = "UTC") -> list[str]:
        """Plain text with times in `zone` (the caller escapes it for its platform)."""
        tz = ZoneInfo(zone)
        out = [
            f"Round {self.round_id} · {self.title} · {self.status} · "
            f"{MODE_NAMES.get(self.mode, self.mode)}",
            f"{self.delivered} delivered, {self.pending} pending, {self.failed} failed · "
            f"{self.answered_any} of {self.invited} answered, {self.answered_all} answered all · "
            f"{counted(self.reminders_sent, 'reminder')} sent, "
            + (f"{counted(self.close_notices_sent, 'notice')} that the close moved, "
               if self.close_notices_sent else "")
            + f"{counted(self.digests_posted, 'digest')} posted",
        ]
        if self.withdrawn:
            out.append(f"{self.withdrawn} {'person' if self.withdrawn == 1 else 'people'} "
                       "asked to be forgotten: no longer counted as invited")
        if self.purged_at is not None:
            out.append(f"Answers and digests deleted {short_date(self.purged_at.astimezone(tz))} "
                       "(kept for the retention period after closing); the counts above are "
                       "as they were then")
        when = []
        if (self.status == "open" and self.closes_at is not None
                and final_is_next(self.next_digest, self.closes_at)):
            when.append(f"next digest (the final one) when it closes "
                        f"{local_time(self.closes_at, zone)}")
        elif self.status == "open":
            if self.next_digest is not None:
                when.append(f"next digest {local_time(self.next_digest, zone)}")
            if self.closes_at is not None:
                when.append(f"closes {local_time(self.closes_at, zone)}")
        if when:
            text = ", ".join(when)
            out.append(text[0].upper() + text[1:])
        if self.failures:
            out.append("Not delivered: " + "; ".join(f"{who}: {why}" for who, why in self.failures))
        return out


def final_is_next(next_digest: datetime | None, closes_at: datetime | None) -> bool:
    """Whether an open round closes, posting its final digest, before its schedule's next
    digest (which then never comes)."""
    return next_digest is not None and closes_at is not None and closes_at <= next_digest


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
    sent = dict(
        session.execute(
            select(Reminder.moved_from.is_not(None), func.count())
            .where(Reminder.round_id == round_.id, Reminder.state == "sent")
            .group_by(Reminder.moved_from.is_not(None))
        ).all()
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
        sent.get(False, 0),
        digests,
        round_.closes_at,
        next_digest,
        round_.anonymity,
        round_.digest_channel,
        round_.withdrawn,
        round_.purged_at,
        sent.get(True, 0),
    )


@dataclass(frozen=True)
class RoundLine:
    """One round in a list of rounds."""

    round_id: int
    pack_id: str
    status: str
    anonymity: str
    invited: int
    answered_any: int
    replies: int
    """Every reply kept, as stored: more than the digest's "answers and votes", which leave
    out the replies it sets aside as not answers and the comments on votes."""
    owner: str | None
    digest_channel: str | None
    closes_at: datetime | None
    closed_at: datetime | None


def round_lines(session: Session, include_closed: bool = False) -> list[RoundLine]:
    """The open rounds (every round, with `include_closed`), newest first."""
    query = select(Round).order_by(Round.id.desc())
    if not include_closed:
        query = query.where(Round.status == "open")
    replies: dict[int, int] = {round_id: count for round_id, count in session.execute(
        select(Reply.round_id, func.count()).where(Reply.deleted_at.is_(None))
        .group_by(Reply.round_id))}
    out = []
    for round_ in session.scalars(query):
        turnout = participation(session, round_)
        out.append(RoundLine(round_.id, round_.pack_id, round_.status, round_.anonymity,
                             turnout.invited, turnout.answered_any, replies.get(round_.id, 0),
                             round_.started_by, round_.digest_channel, round_.closes_at,
                             round_.closed_at))
    return out


@dataclass(frozen=True)
class Who:
    """Who has answered a round: by name in a named round, only counted in any other."""

    named: bool
    not_yet: list[str]
    """Names of those who have answered nothing (named rounds only)."""
    some: list[str]
    """Names of those who have answered some of the questions but not all."""
    counts: dict[str, int]
    """"not yet", "some", "all", "stopped": how many people are at each."""


def who_answered(session: Session, round_: Round) -> Who:
    prompt_ids = {p["id"] for p in round_.pack["prompts"]}
    answered: dict[int, set[str]] = {}
    for participant_id, prompt_id, is_answer in taking_part(session, round_):
        done = answered.setdefault(participant_id, set())
        if is_answer:  # a comment on a vote question leaves it waiting for a ballot
            done.add(prompt_id)
    invited = select(Delivery.participant_id).where(Delivery.round_id == round_.id)
    people = session.execute(select(Participant).where(
        Participant.id.in_(invited) | Participant.id.in_(list(answered)))
        .order_by(Participant.display_name, Participant.platform_user_id)).scalars().all()
    counts = {"not yet": 0, "some": 0, "all": 0, "stopped": 0}
    not_yet: list[str] = []
    some: list[str] = []
    for person in people:
        done = answered.get(person.id, set())
        name = person.display_name or person.platform_user_id
        if done >= prompt_ids:
            counts["all"] += 1
        elif person.opted_out:
            counts["stopped"] += 1
        elif done:
            counts["some"] += 1
            some.append(name)
        else:
            counts["not yet"] += 1
            not_yet.append(name)
    named = round_.anonymity == "named"
    return Who(named, not_yet if named else [], some if named else [], counts)
