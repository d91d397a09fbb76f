"""Posting a round's digest once per period, and finishing digests whose posting was left
unfinished (the platform failed it, or the process died)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core import audit
from bot.core.bot_messages import remember_digest
from bot.core.digest.build import Summariser, build_digest
from bot.core.digest.changes import claim_digest, snapshot
from bot.core.digest_refused import tell_digest_refused
from bot.core.errors import NotFound
from bot.core.ports import Clock, DeliveryError, Gateways, Posted, Sent, gateway_for
from bot.core.rounds import digest_channels, get_round
from storage.db import reading, transaction
from storage.models import Digest, Round

log = logging.getLogger(__name__)
STALE_DIGEST_CLAIM = timedelta(minutes=10)
"""Longer than any digest takes to build and post: a claim this old was not going to finish."""


def post_digest(
    sessions: sessionmaker[Session], gateways: Gateways, round_id: int, period: str,
    clock: Clock, *, late: bool = False, actor: str = audit.SCHEDULER,
    summariser: Summariser | None = None,
) -> Posted | None:
    """Post the round's digest for `period` once: the Digest row is claimed before posting.

    It goes to the round's digest channel and nowhere else (NotFound when it has none); a mixed
    round's digest also goes to its channel on each further platform (the same digest, claimed
    as `<period>@<platform>`). None when that period's digest was already claimed (by another
    worker or earlier). A claim whose posting fails, or whose poster dies, is taken up again by
    `recover_digests`. With a `summariser`, the model may word its headlines (any failure
    of the model posts the offline ones).
    """
    now = clock()
    with transaction(sessions) as session:
        round_ = get_round(session, round_id)
        claimed = claim_channels(session, round_, period, now, late=late)
        own_platform = round_.platform
    return send_claimed(sessions, gateways, claimed, own_platform, clock, actor,
                        summariser=summariser)


def claim_channels(session: Session, round_: Round, period: str, now: datetime, *,
                   late: bool = False, own: Digest | None = None) -> list[tuple[str, int]]:
    """Claim `period` on each platform the round has a digest channel on (NotFound when it has
    none): (platform, digest id) of each claim made now. `own`: the round's own platform's
    row, claimed already (a digest approved after review)."""
    channels = digest_channels(session, round_)
    if not channels:
        raise NotFound(f"round {round_.id} has no digest channel")
    claimed: list[tuple[str, int]] = []
    for platform, channel in channels.items():
        mine = platform == round_.platform
        if mine and own is not None:
            own.channel_id = channel
            claimed.append((platform, own.id))
            continue
        digest = claim_digest(session, round_.id, period if mine else f"{period}@{platform}",
                              now, late=late, channel_id=channel)
        if digest is not None:
            digest.platform = None if mine else platform
            session.flush()
            claimed.append((platform, digest.id))
    return claimed


def send_claimed(sessions: sessionmaker[Session], gateways: Gateways,
                 claimed: list[tuple[str, int]], own_platform: str, clock: Clock,
                 actor: str = audit.SCHEDULER, *, summariser: Summariser | None = None
                 ) -> Posted | None:
    """Post each claimed digest; a failure on the round's own platform is raised, one on a
    further platform logged and left to recovery, or told to the round's starter when the
    platform refused it for good (nothing tries it again)."""
    first: Posted | None = None
    for platform, digest_id in claimed:
        try:
            sent = _send_digest(sessions, gateways, digest_id, clock, actor=actor,
                                summariser=summariser)
        except DeliveryError as exc:
            if platform == own_platform or len(claimed) == 1:
                raise
            log.warning("digest %s not posted on %s yet: %s", digest_id, platform, exc.reason)
            if exc.permanent:
                tell_digest_refused(sessions, gateways, digest_id, exc)
            continue
        first = first or sent
    return first


def recover_digests(sessions: sessionmaker[Session], gateways: Gateways, clock: Clock, *,
                    summariser: Summariser | None = None,
                    posted_now: Callable[[int], None] | None = None,
                    refused: Callable[[int, DeliveryError], None] | None = None
                    ) -> list[Posted]:
    """Digests claimed over STALE_DIGEST_CLAIM ago and never marked posted (the platform failed
    them, or their poster died): each is looked for in its channel first, by the id its top
    message carries, and only what is not there is posted. One worker takes each (a
    conditional UPDATE). One the platform refuses for good (the bot taken out of the channel)
    is failed, keeping why, as a refused post leaves it, and handed to `refused` (to say so);
    one it fails for a passing reason is tried again at a later pass.

    A look-up the platform refuses for now (Slack allows about one history read a minute) is
    not waited for: the digest is handed back as it was, the pass goes on, and a later one
    takes it up again (the gateway refuses at once, without asking, until the platform
    allows)."""
    now = clock()
    with reading(sessions) as session:
        platform_of = func.coalesce(Digest.platform, Round.platform)
        stale = session.execute(select(Digest.id, Digest.created_at, platform_of,
                                       Round.created_at)
                                .join(Round, Round.id == Digest.round_id).where(
            Digest.state == "claimed", Digest.channel_id.is_not(None),
            Digest.created_at < now - STALE_DIGEST_CLAIM, platform_of.in_(list(gateways)))
        ).all()
    recovered: list[Posted] = []
    for digest_id, claimed_at, platform, round_began in stale:
        with transaction(sessions) as session:
            taken = cast(CursorResult[Any], session.execute(
                update(Digest).where(Digest.id == digest_id, Digest.state == "claimed",
                                     Digest.created_at == claimed_at)
                .values(created_at=now))).rowcount
            channel = session.get_one(Digest, digest_id).channel_id
        if not taken or channel is None:
            continue
        try:
            # Looked for since the round began, not since this claim: a recovery that failed
            # part way moved the claim past a top message posted before it.
            found = gateways[platform].find_digest(channel, digest_id, round_began)
            recovered.append(_send_digest(sessions, gateways, digest_id, clock, posted=found,
                                          summariser=summariser))
            if posted_now is not None:  # a reviewed draft's copies said "not posted yet"
                posted_now(digest_id)
        except DeliveryError as exc:
            if exc.permanent:
                _refused(sessions, digest_id, exc)  # the look-up's refusal leaves it claimed
                log.warning("digest %s refused for good: %s", digest_id, exc.reason)
                if refused is not None:
                    refused(digest_id, exc)
                continue
            if exc.retry_after is None:
                log.warning("digest %s still not posted: %s", digest_id, exc.reason)
                continue
            _hand_back(sessions, digest_id, now, claimed_at)
            log.info("digest %s put off for %.0f s: %s", digest_id, exc.retry_after, exc.reason)
    return recovered


def post_again(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int,
               clock: Clock, actor: str, *, summariser: Summariser | None = None
               ) -> Posted | None:
    """Post a digest the platform refused for good (state failed) once more, now that it may
    take it (the bot invited to the channel, or the round given another channel): claimed as
    an approval claims it, by `actor` (whose approval it then is: one refused at its review
    deadline was not approved before), so that it is posted once however many ask; None when
    it was not failed (someone else took it first). Parts that reached the channel before are
    looked for first, as recovery does, and not posted again."""
    now = clock()
    with transaction(sessions) as session:
        if not claim_from(session, digest_id, "failed", actor, now):
            return None
        row = session.get_one(Digest, digest_id)
        round_ = get_round(session, row.round_id)
        platform = row.platform or round_.platform
        # where the round's digests go now: a channel set since the refusal takes it
        row.channel_id = digest_channels(session, round_).get(platform) or row.channel_id
        channel, round_began = str(row.channel_id), round_.created_at
        audit.record(session, now, actor, "digest.retry", round_id=round_.id,
                     detail=f"period {row.period}")
    try:
        found = gateway_for(gateways, platform).find_digest(channel, digest_id, round_began)
    except DeliveryError as exc:
        if exc.permanent:  # refused for good still: failed, as a refused post leaves it
            _refused(sessions, digest_id, exc)
        raise  # else the claim stands, and recovery finishes it
    return _send_digest(sessions, gateways, digest_id, clock, posted=found, actor=actor,
                        summariser=summariser)


def claim_from(session: Session, digest_id: int, state: str, actor: str, now: datetime
               ) -> bool:
    """Claim a digest in `state` (waiting for review, or refused for good) for posting, as
    released by `actor`: a conditional UPDATE, so that only one of those asking at once
    posts it. False when it was not in `state` any more."""
    return bool(cast(CursorResult[Any], session.execute(
        update(Digest).where(Digest.id == digest_id, Digest.state == state)
        .values(state="claimed", created_at=now, approved_by=actor))).rowcount)


def _hand_back(sessions: sessionmaker[Session], digest_id: int, taken_at: datetime,
               claimed_at: datetime) -> None:
    """Undo a recovery's take of a digest (when it is still the one that took it): stale at
    once again."""
    with transaction(sessions) as session:
        session.execute(update(Digest).where(
            Digest.id == digest_id, Digest.state == "claimed", Digest.created_at == taken_at)
            .values(created_at=claimed_at))


def _refused(sessions: sessionmaker[Session], digest_id: int, exc: DeliveryError) -> None:
    """A digest the platform refused for good: failed, with why and what to fix, which its
    drafts say until it is posted (Draft.refused)."""
    with transaction(sessions) as session:
        row = session.get_one(Digest, digest_id)
        row.state, row.refused_reason, row.refused_hint = "failed", exc.reason, exc.hint


def _send_digest(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int,
                 clock: Clock, posted: Sent | None = None, actor: str = audit.SCHEDULER,
                 summariser: Summariser | None = None) -> Posted:
    """Build and post a claimed digest (or the parts missing from one `posted` before), then
    mark it posted, remembering where each part landed (forget-me may have to replace one).
    A digest the platform refuses for good (the channel is gone) is marked failed, not
    retried."""
    with reading(sessions) as session:
        row = session.get_one(Digest, digest_id)
        round_id, channel, late, period = row.round_id, str(row.channel_id), row.late, row.period
        platform = row.platform or get_round(session, round_id).platform
        gateway = gateway_for(gateways, platform)
        view = build_digest(session, round_id, row.created_at, late=late,
                            summariser=summariser)
    try:
        sent = gateway.post_digest(channel, view, digest_id, top=posted)
    except DeliveryError as exc:
        if exc.permanent:
            _refused(sessions, digest_id, exc)
        raise
    with transaction(sessions) as session:
        row = session.get_one(Digest, digest_id)
        row.state, row.message_id, row.posted_at = "posted", sent.message_id, clock()
        row.refused_reason = row.refused_hint = None
        row.content = snapshot(view)  # what the next digest compares against
        remember_digest(session, platform, round_id, digest_id, sent.parts,
                        [p.prompt_id for p in view.prompts], clock())
        audit.record(session, clock(), actor, "digest.post", round_id=round_id,
                     detail=f"period {period}" + (" (late)" if late else ""))
    return sent
