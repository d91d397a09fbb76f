"""Digests reviewed before they post (a round whose `review` is "review").

The period's Digest row is claimed in state "review" instead of being posted: its draft goes
to the round's facilitators. Approving it is a conditional UPDATE from "review" to "claimed",
so it posts once however many approve; at its deadline (`review_until`) the schedule posts it
as built or leaves it waiting, as the round says. A newer digest of the round supersedes a
draft still waiting: it holds every answer the older one did.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core import audit
from bot.core.bot_messages import DRAFT, draft_removed, rounds_standing, take_down
from bot.core.digest.build import Summariser, build_digest
from bot.core.digest.model import DigestView, Draft
from bot.core.digest_posts import claim_channels, claim_from, send_claimed
from bot.core.errors import Refusal, RoundtableError
from bot.core.packs import Prompt
from bot.core.people import NOT_PEOPLE, round_team
from bot.core.ports import Clock, DeliveryError, Gateways, Posted, Sent
from bot.core.public_ids import public_reply_id
from bot.core.rounds import get_round, round_pack
from bot.core.said import Said
from bot.core.typed_votes import read_vote_and_reason
from storage.db import reading, transaction
from storage.models import BotMessage, Digest, Reply, Round

log = logging.getLogger(__name__)
REVIEW, POST, WAIT = "review", "post", "wait"


def in_review(round_: Round) -> bool:
    return round_.review == REVIEW


def hold_digest(session: Session, round_: Round, period: str, now: datetime, *,
                late: bool = False) -> Digest | None:
    """Claim `period` for review (None when it was claimed already); a draft of the round
    still waiting is superseded by this one."""
    row = Digest(round_id=round_.id, period=period, state="review", late=late,
                 channel_id=round_.digest_channel, created_at=now,
                 review_until=now + timedelta(hours=round_.review_hours))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    session.execute(update(Digest).where(Digest.round_id == round_.id, Digest.id != row.id,
                                         Digest.state == "review").values(state="superseded"))
    audit.record(session, now, audit.SCHEDULER, "digest.review", round_id=round_.id,
                 detail=f"period {period}, waiting until {row.review_until:%Y-%m-%d %H:%M} UTC")
    return row


def supersede_waiting(sessions: sessionmaker[Session], gateways: Gateways, round_id: int,
                      clock: Clock, *, summariser: Summariser | None = None) -> bool:
    """A digest was posted by other means (a facilitator's `digest`): the draft waiting for
    review, if any, is superseded and its copies say so. Whether there was one."""
    with transaction(sessions) as session:
        row = waiting_draft(session, round_id)
        if row is None:
            return False
        row.state = "superseded"
        digest_id = row.id
    refresh_draft(sessions, gateways, digest_id, clock, summariser=summariser)
    return True


def waiting_draft(session: Session, round_id: int) -> Digest | None:
    """The round's digest waiting for approval, if any."""
    return session.scalar(select(Digest).where(Digest.round_id == round_id,
                                               Digest.state == "review")
                          .order_by(Digest.id.desc()).limit(1))


def latest_draft(session: Session, round_id: int) -> Digest | None:
    """The round's latest digest that was held for review (waiting or not)."""
    return session.scalar(select(Digest).where(Digest.round_id == round_id,
                                               Digest.review_until.is_not(None))
                          .order_by(Digest.id.desc()).limit(1))


def approvable_draft(session: Session, round_id: int) -> Digest | None:
    """The round's draft a facilitator may approve: the one waiting, else the latest one
    approved that the platform refused for good (approving it again posts it)."""
    waiting = waiting_draft(session, round_id)
    if waiting is not None:
        return waiting
    latest = latest_draft(session, round_id)
    return latest if latest is not None and latest.state == "failed" else None


def draft_of(session: Session, row: Digest, now: datetime, *,
             summariser: Summariser | None = None) -> Draft:
    """The draft as it would post now: built afresh (headlines worded by the `summariser`'s
    model as the post will be), with every edit made so far."""
    round_ = get_round(session, row.round_id)
    view = build_digest(session, row.round_id, now, late=row.late, summariser=summariser)
    refused = (Refusal(row.refused_reason, row.refused_hint)
               if row.refused_reason is not None else None)
    return Draft(row.id, row.period, view, row.state,
                 row.review_until.isoformat() if row.review_until else None,
                 round_.unreviewed, row.approved_by, refused=refused)


def hidden_words(session: Session, view: DigestView) -> dict[str, str]:
    """By id, the words of the answers of `view` a facilitator hid in review, read from the
    store for the facilitators' own form and listing, where they decide whether to quote one
    again: the view itself holds edits.HIDDEN in their place, and so does everything posted
    or exported. An answer whose author has asked not to be quoted is never one of them."""
    hidden = {a.reply_id: p.prompt_id for p in view.prompts for a in p.answers if a.hidden}
    if not hidden:
        return {}
    round_ = get_round(session, view.round.id)
    prompts = {p.id: p for p in round_pack(round_).prompts}
    rows = session.execute(select(Reply.id, Reply.external_id, Reply.source, Reply.prompt_id,
                                  Reply.choices, Reply.text).where(
        Reply.round_id == round_.id, Reply.prompt_id.in_(set(hidden.values())),
        Reply.deleted_at.is_(None), Reply.quotable.is_(True), Reply.text.is_not(None)))
    words = {public_reply_id(round_.secret, round_.anonymity, row_id, external_id, source):
             _quoted_words(prompts.get(prompt_id), choices, text or "")
             for row_id, external_id, source, prompt_id, choices, text in rows}
    return {reply_id: words[reply_id] for reply_id in hidden if reply_id in words}


def any_gone(session: Session, round_id: int, answer_ids: Collection[str]) -> bool:
    """Whether any of these answers of the round (by the ids a draft names them by) is gone:
    deleted, or its author forgotten, since the draft was read."""
    wanted = set(answer_ids)
    if not wanted:
        return False
    round_ = get_round(session, round_id)
    rows = session.execute(select(Reply.id, Reply.external_id, Reply.source).where(
        Reply.round_id == round_id, Reply.deleted_at.is_(None)))
    standing = {public_reply_id(round_.secret, round_.anonymity, row_id, external_id, source)
                for row_id, external_id, source in rows}
    return not wanted <= standing


def _quoted_words(prompt: Prompt | None, choices: list[str] | None, text: str) -> str:
    """What the digest quotes of a reply: of a typed ballot, the reason after it (the ballot
    itself is counted, never quoted); else its words."""
    if prompt is None or not choices:
        return text
    return read_vote_and_reason(prompt, text)[1] or text


def release(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int, clock: Clock,
            actor: str, *, summariser: Summariser | None = None) -> Posted | None:
    """Post a digest waiting for review, once: None when it was not waiting (approved by
    someone else, posted at its deadline, or superseded)."""
    now = clock()
    with transaction(sessions) as session:
        if not claim_from(session, digest_id, "review", actor, now):
            return None
        row = session.get_one(Digest, digest_id)
        round_ = get_round(session, row.round_id)
        audit.record(session, now, actor, "digest.approve", round_id=round_.id,
                     detail=f"period {row.period}")
        claimed = claim_channels(session, round_, row.period, now, late=row.late, own=row)
        own_platform = round_.platform
    return send_claimed(sessions, gateways, claimed, own_platform, clock, actor,
                        summariser=summariser)


def settle_due(sessions: sessionmaker[Session], gateways: Gateways, clock: Clock, *,
               summariser: Summariser | None = None) -> list[int]:
    """Digests whose review deadline passed: posted as built where the round says so, left
    waiting where it says wait. The ids of those posted."""
    now = clock()
    with reading(sessions) as session:
        due = session.execute(select(Digest.id).join(Round, Round.id == Digest.round_id).where(
            Digest.state == "review", Digest.review_until <= now, Round.unreviewed == POST)
        ).scalars().all()
    posted = []
    for digest_id in due:
        try:
            if release(sessions, gateways, digest_id, clock, audit.SCHEDULER,
                       summariser=summariser) is not None:
                posted.append(digest_id)
                refresh_draft(sessions, gateways, digest_id, clock, summariser=summariser)
        except DeliveryError as exc:
            log.warning("digest %s not posted at its review deadline: %s", digest_id, exc.reason)
            if exc.permanent:  # failed: its copies say why, and keep Approve to post it
                refresh_draft(sessions, gateways, digest_id, clock, summariser=summariser)
        except RoundtableError as exc:  # its channel was taken away meanwhile
            log.warning("digest %s not posted at its review deadline: %s", digest_id, exc)
    return posted


def send_drafts(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int,
                clock: Clock, to: list[str] | None = None, *,
                summariser: Summariser | None = None) -> int:
    """Show the draft to each of the round's facilitators (or those named) in a direct
    message, remembered so that it can be brought up to date; how many got it. Copies
    posted as the round was deleted (or purged), which that deletion could not know of, are
    replaced at once by the note it leaves in a draft's place (and none got it)."""
    now = clock()
    with reading(sessions) as session:
        row = session.get_one(Digest, digest_id)
        round_ = get_round(session, row.round_id)
        team = to if to is not None else sorted(round_team(session, round_) - NOT_PEOPLE)
        platform = round_.platform
        draft = draft_of(session, row, now, summariser=summariser)
    gateway = gateways.get(platform)
    if gateway is None:
        return 0
    sent: list[Sent] = []
    for user in team:
        try:
            sent.append(gateway.send_draft(gateway.open_direct(user), draft))
        except DeliveryError as exc:
            log.warning("draft digest %s not shown to a facilitator: %s", digest_id, exc.reason)
    round_id = draft.view.round.id
    with transaction(sessions) as session:
        standing = bool(rounds_standing(session, [round_id]))
        for message in sent if standing else []:
            session.add(BotMessage(platform=platform, channel_id=message.channel_id,
                                   message_id=message.message_id, kind=DRAFT,
                                   round_id=round_id, digest_id=digest_id, created_at=now))
    if not standing:
        take_down(gateways, [draft_removed(platform, message, round_id, now)
                             for message in sent])
        return 0
    return len(sent)


def refresh_drafts(sessions: sessionmaker[Session], gateways: Gateways, round_id: int,
                   clock: Clock, *, summariser: Summariser | None = None,
                   closing: Said | None = None) -> list[tuple[str, str | None]]:
    """Bring the facilitators' copies of the round's latest draft up to date (after an edit,
    an approval, or its posting; `closing`: after answers were deleted, Draft.closing); those
    left as they were, as `refresh_draft` says."""
    with reading(sessions) as session:
        row = latest_draft(session, round_id)
    if row is None:
        return []
    return refresh_draft(sessions, gateways, row.id, clock, summariser=summariser,
                         closing=closing)


def refresh_draft(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int,
                  clock: Clock, *, summariser: Summariser | None = None,
                  closing: Said | None = None) -> list[tuple[str, str | None]]:
    """Bring the facilitators' copies of one draft up to date; (platform, why) of each copy
    left as it was (why None: this process runs no gateway for that platform), so that
    forget-me can say which still show what it deleted."""
    now = clock()
    with reading(sessions) as session:
        row = session.get_one(Digest, digest_id)
        shown = session.execute(select(BotMessage.platform, BotMessage.channel_id,
                                       BotMessage.message_id).where(
            BotMessage.digest_id == row.id, BotMessage.kind == DRAFT)).all()
        if not shown:  # a digest posted as built has no copies to bring up to date
            return []
        draft = replace(draft_of(session, row, now, summariser=summariser), closing=closing)
    left: list[tuple[str, str | None]] = []
    for platform, channel, message in shown:
        gateway = gateways.get(platform)
        if gateway is None:
            left.append((platform, None))
            continue
        try:
            gateway.update_draft(Sent(channel, message), draft)
        except DeliveryError as exc:
            log.warning("draft digest %s not brought up to date: %s", row.id, exc.reason)
            left.append((platform, exc.reason))
    return left
