"""Rounds: start one for an audience, close it, and count who took part."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.digest.lexicon import says_nothing
from bot.core.errors import NotFound, RoundClosed, RoundtableError
from bot.core.packs import Pack, pack_from_snapshot
from bot.core.people import Person, suppressed, upsert_participant
from bot.core.wording import reading_order
from storage.models import MAX_ROW_ID, Delivery, Participant, Reply, Round, RoundChannel
from storage.queries import is_an_answer

Anonymity = Literal["named", "role", "anonymous"]
DEFAULT_MODE: Anonymity = "role"
MODE_WORDS: dict[str, Anonymity] = {"named": "named", "by-role": "role", "role": "role",
                                    "anonymous": "anonymous"}
"""What people type for each mode (`by-role`; `role` is the stored name)."""
MODE_NAMES: dict[str, str] = {"named": "named", "role": "by role", "anonymous": "anonymous"}
MAX_ROUND = MAX_ROW_ID
"""The largest round id a database here can hold (storage.models.MAX_ROW_ID)."""
UNKNOWN_ROLE = "role not given"
MIN_GROUP = 3
"""Outside named rounds, no group of fewer than this many people is shown on its own."""
SMALL_ROLES = "Other roles (fewer than three of each answered)"
SMALL_ORGANISATIONS = "Other organisations (fewer than three of each answered)"


def mode_of(word: str) -> Anonymity:
    """The mode a facilitator typed: named, by-role (or role), anonymous."""
    mode = MODE_WORDS.get(word.strip().lower())
    if mode is None:
        raise RoundtableError(f"{word[:30]!r} is not a mode: say named, by-role or anonymous")
    return mode


@dataclass(frozen=True)
class RoundRequest:
    """Everything a facilitator chose when starting a round."""

    pack: Pack
    people: Sequence[Person]
    started_by: str | None = None
    audience: dict[str, Any] = field(default_factory=dict)
    digest_channel: str | None = None
    digest_cron: str | None = None
    """When digests are posted (cron); None for the default, weekly on Friday at noon."""
    closes_at: datetime | None = None
    anonymity: Anonymity = DEFAULT_MODE
    platform: str = field(kw_only=True)
    """The chat platform the round runs on (slack, teams)."""
    privacy_notice: list[dict[str, str]] | None = None
    """What the first message tells people (bot.core.privacy.notice_parts)."""
    review: str = "post"
    """post: digests are posted as built; review: a facilitator approves each first."""


def start_round(session: Session, request: RoundRequest, now: datetime) -> Round:
    """Create the round and one pending delivery per person who has not opted out (nor
    asked to be forgotten: those are not even stored again)."""
    if request.closes_at is not None and request.closes_at <= now:
        raise RoundClosed("the closing date is in the past")
    round_ = Round(
        pack_id=request.pack.id,
        pack_title=request.pack.title,
        pack=request.pack.model_dump(mode="json"),
        platform=request.platform,
        audience=request.audience,
        digest_channel=request.digest_channel,
        digest_cron=request.digest_cron,
        anonymity=request.anonymity,
        privacy_notice=request.privacy_notice,
        review=request.review,
        status="open",
        started_by=request.started_by,
        opens_at=now,
        closes_at=request.closes_at,
        created_at=now,
    )
    session.add(round_)
    session.flush()
    add_people(session, round_, request.people, request.platform, now)
    return round_


def add_people(session: Session, round_: Round, people: Sequence[Person], platform: str,
               now: datetime) -> int:
    """One pending delivery for each person (on `platform`) not yet asked in the round, not
    opted out and not forgotten at their request: how a round takes in people of several
    platforms. Returns how many."""
    seen = set(session.scalars(select(Delivery.participant_id).where(
        Delivery.round_id == round_.id)))
    gone = suppressed(session, [p.platform_user_id for p in people], platform)
    added = 0
    for person in people:
        if person.platform_user_id in gone:
            continue
        participant = upsert_participant(session, person, now, platform)
        if participant.opted_out or participant.id in seen:
            continue
        seen.add(participant.id)
        session.add(
            Delivery(
                round_id=round_.id, participant_id=participant.id, state="pending", created_at=now
            )
        )
        added += 1
    session.flush()
    return added


def digest_channels(session: Session, round_: Round, fallback: str | None = None
                    ) -> dict[str, str]:
    """Where the round's digests go, by platform: its own channel (or `fallback`), and a
    mixed round's channel on each further platform."""
    out = {p: c for p, c in session.execute(
        select(RoundChannel.platform, RoundChannel.channel_id).where(
            RoundChannel.round_id == round_.id)) if p != round_.platform}
    own = round_.digest_channel or fallback
    return {round_.platform: own, **out} if own else out


def set_digest_channel(session: Session, round_: Round, platform: str, channel_id: str) -> None:
    """Where the round's digests go on `platform`."""
    if platform == round_.platform:
        round_.digest_channel = channel_id
        return
    row = session.get(RoundChannel, (round_.id, platform))
    if row is None:
        session.add(RoundChannel(round_id=round_.id, platform=platform, channel_id=channel_id))
    else:
        row.channel_id = channel_id


def get_round(session: Session, round_id: int) -> Round:
    round_ = session.get(Round, round_id) if abs(round_id) <= MAX_ROUND else None
    if round_ is None:
        raise NotFound(f"there is no round {round_id}")
    return round_


def round_pack(round_: Round) -> Pack:
    """The pack as it was when the round started."""
    return pack_from_snapshot(round_.pack)


def vote_questions(rounds: Iterable[Round]) -> dict[int, set[str]]:
    """Per round id, its rank and choice questions (words written to one are a comment, not
    an answer: storage.queries.is_an_answer)."""
    return {r.id: {p["id"] for p in r.pack["prompts"] if p.get("kind") != "text"}
            for r in rounds}


def close_round(session: Session, round_id: int, now: datetime) -> Round:
    """Close the round: no more answers are taken. Closing twice is refused."""
    round_ = get_round(session, round_id)
    if round_.status == "closed":
        raise RoundClosed(f"round {round_id} is already closed")
    round_.status = "closed"
    round_.closed_at = now
    return round_


def open_rounds(session: Session) -> list[Round]:
    return list(session.scalars(select(Round).where(Round.status == "open").order_by(Round.id)))


@dataclass
class Turnout:
    invited: int = 0
    answered_any: int = 0
    answered_all: int = 0


@dataclass
class Participation:
    """Who took part: overall, by role and by organisation."""

    invited: int
    answered_any: int
    answered_all: int
    by_role: dict[str, Turnout]
    by_organisation: dict[str, Turnout]
    withdrawn: int = 0
    """People who asked to be forgotten: no longer invited, only counted here."""

    @property
    def silent_roles(self) -> list[str]:
        """Invited roles from which nobody has answered yet."""
        return sorted((r for r, t in self.by_role.items() if t.invited and not t.answered_any),
                      key=reading_order)

    def as_dict(self) -> dict[str, Any]:
        def table(rows: dict[str, Turnout]) -> dict[str, dict[str, int]]:
            return {k: vars(rows[k]).copy() for k in sorted(rows, key=reading_order)}

        return {
            "invited": self.invited,
            "answered_any": self.answered_any,
            "answered_all": self.answered_all,
            "by_role": table(self.by_role),
            "by_organisation": table(self.by_organisation),
            "silent_roles": self.silent_roles,
            "withdrawn": self.withdrawn,
        }

    def shown(self, anonymity: str, roles: Collection[str] = (),
              organisations: Collection[str] = ()) -> dict[str, Any]:
        """Who took part, as a round of this mode may say it: named rounds in full;
        anonymous, totals only; by role, the rule quotes follow: a row of its own only for
        the `roles` and `organisations` at least MIN_GROUP people answered from (those a
        quote may name), and for those of at least MIN_GROUP people invited that nobody
        answered from (no words to tell apart); the rest counted in one row."""
        out = self.as_dict()
        if anonymity == "named":
            return out
        if anonymity == "anonymous":
            return {**out, "by_role": {}, "by_organisation": {}, "silent_roles": []}
        pooled_roles = _pooled(self.by_role, SMALL_ROLES, roles)
        return {
            **out,
            "by_role": {k: vars(v).copy() for k, v in pooled_roles.items()},
            "by_organisation": {k: vars(v).copy() for k, v in
                                _pooled(self.by_organisation, SMALL_ORGANISATIONS,
                                        organisations).items()},
            "silent_roles": sorted((r for r, t in pooled_roles.items()
                                    if r != SMALL_ROLES and t.invited and not t.answered_any),
                                   key=reading_order),
        }


def _pooled(rows: dict[str, Turnout], label: str, answered: Collection[str]
            ) -> dict[str, Turnout]:
    """The rows `answered` names and those of at least MIN_GROUP people invited nobody
    answered from, in order, and the rest added up as one; no row at all when no row is
    shown (the one row would be the totals again)."""
    shown = {k: rows[k] for k in sorted(rows, key=reading_order)
             if k in answered or (rows[k].invited >= MIN_GROUP and not rows[k].answered_any)}
    small = [v for k, v in rows.items() if k not in shown]
    if small and shown:
        shown[label] = Turnout(sum(t.invited for t in small),
                               sum(t.answered_any for t in small),
                               sum(t.answered_all for t in small))
    return shown


class Taking(NamedTuple):
    """One live reply that takes part: who wrote it, to which question, and whether it
    answers that question (a ballot, or words to a text question)."""

    participant_id: int
    prompt_id: str
    is_answer: bool


def takes_part(choices: object, text: str | None) -> bool:
    """A ballot, or words with a letter in them: "+1" or an emoji alone takes no part
    (lexicon.says_nothing). The one rule every count of who answered uses."""
    return choices is not None or not says_nothing(text or "")


def taking_part(session: Session, round_: Round) -> list[Taking]:
    """The round's live replies that say something. A reply with no letter and no ballot
    ("+1", an emoji: lexicon.says_nothing) takes no part; the rule needs no model, so
    status, the home page, the kept summary and the digest all count who answered alike."""
    return [
        Taking(participant_id, prompt_id, bool(is_answer))
        for participant_id, prompt_id, is_answer, choices, text in session.execute(
            select(Reply.participant_id, Reply.prompt_id,
                   is_an_answer(vote_questions([round_])), Reply.choices,
                   Reply.text).where(Reply.round_id == round_.id, Reply.deleted_at.is_(None))
        )
        if takes_part(choices, text)
    ]


def participation(session: Session, round_: Round) -> Participation:
    """Invited (deliveries, plus anyone who answered, e.g. by import), answered any, all,
    counting only the replies that take part (`taking_part`): "+1" alone is not taking part.
    (Of a round whose answers the retention job deleted, the counts it kept.)"""
    if round_.purged_at is not None and round_.summary:
        kept = round_.summary
        return Participation(int(kept.get("invited", 0)), int(kept.get("answered_any", 0)),
                             int(kept.get("answered_all", 0)), {}, {}, round_.withdrawn)
    prompt_ids = {p["id"] for p in round_.pack["prompts"]}
    # A comment on a vote question (words, no ballot) is taking part, but leaves that
    # question unanswered: it does not count towards answering all.
    answered: dict[int, set[str]] = defaultdict(set)
    took_part: set[int] = set()
    for reply in taking_part(session, round_):
        took_part.add(reply.participant_id)
        if reply.is_answer:
            answered[reply.participant_id].add(reply.prompt_id)
    invited_ids = set(
        session.scalars(select(Delivery.participant_id).where(Delivery.round_id == round_.id))
    ) | took_part
    people = (
        session.execute(
            select(Participant.id, Participant.role, Participant.organisation).where(
                Participant.id.in_(invited_ids)
            )
        ).all()
        if invited_ids
        else []
    )
    total = Turnout()
    by_role: dict[str, Turnout] = defaultdict(Turnout)
    by_org: dict[str, Turnout] = defaultdict(Turnout)
    for pid, role, organisation in people:
        rows = [total, by_role[role or UNKNOWN_ROLE]]
        if organisation:
            rows.append(by_org[organisation])
        for row in rows:
            row.invited += 1
            row.answered_any += pid in took_part
            row.answered_all += answered[pid] >= prompt_ids
    return Participation(
        total.invited, total.answered_any, total.answered_all, dict(by_role), dict(by_org),
        round_.withdrawn,
    )


def delivery_counts(session: Session, round_id: int) -> dict[str, int]:
    """How many deliveries of the round are pending, sent and failed."""
    counts = {"pending": 0, "sent": 0, "failed": 0}
    for (state,) in session.execute(select(Delivery.state).where(Delivery.round_id == round_id)):
        counts[state] = counts.get(state, 0) + 1
    return counts
