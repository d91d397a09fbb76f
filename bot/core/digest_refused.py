"""Telling the facilitator who started a round that a platform refused its digest for good:
why, what to fix, and what posts it once that is fixed (a digest posted by the schedule, or
on a further platform of a mixed round, has nobody else to tell)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.core.people import NOT_PEOPLE
from bot.core.ports import DeliveryError, Gateways, Where
from bot.core.said import Code, Place, said
from bot.core.wording import PLATFORM_NAMES
from storage.db import reading
from storage.models import Digest, Round

log = logging.getLogger(__name__)
MANUAL = "manual:"
"""How the period of a digest a facilitator asked for begins (the `digest` command)."""


def tell_digest_refused(sessions: sessionmaker[Session], gateways: Gateways, digest_id: int,
                        exc: DeliveryError) -> None:
    """`tell_refused` for a digest by its row: its round, period and platform."""
    with reading(sessions) as session:
        row = session.get_one(Digest, digest_id)
        round_id, period, platform = row.round_id, row.period, row.platform
    tell_refused(sessions, gateways, round_id, period, exc, platform)


def tell_refused(sessions: sessionmaker[Session], gateways: Gateways, round_id: int,
                 period: str, exc: DeliveryError, platform: str | None = None) -> None:
    """The round's starter hears, in a direct message on the round's own platform, that its
    digest for `period` could not be posted, why, and what to do. `platform`: a further
    platform of a mixed round whose copy was refused (None: the round's own channel)."""
    with reading(sessions) as session:
        round_ = session.get(Round, round_id)
        if round_ is None or not round_.started_by or round_.started_by in NOT_PEOPLE:
            return
        own, starter, channel = round_.platform, round_.started_by, round_.digest_channel
        closed = round_.status == "closed"
    gateway = gateways.get(own)
    if gateway is None:
        log.warning("nobody told that the digest of round %s was refused: no %s here",
                    round_id, own)
        return
    kind = "final " if closed else "" if period.startswith(MANUAL) else "scheduled "
    if platform is not None and platform != own:  # posted (or kept) in the own channel
        where = said(f" in {PLATFORM_NAMES.get(platform, platform)}")
        again = said(" there, and in ", Place(channel), " again") if channel else said()
    else:
        where, again = (said(" in ", Place(channel)) if channel else said()), said()
    next_step = said("the ", Code("digest"), " command posts it", again)
    try:
        gateway.say(Where(gateway.open_direct(starter)), said(
            f"The {kind}digest of round {round_id} could not be posted", where, ": ",
            exc.refusal.then(next_step),
            " Nothing will post it otherwise: the round is closed." if closed else
            " Otherwise the next one is tried at the next digest time."))
    except DeliveryError as failed:
        log.warning("could not tell the facilitator of round %s about its digest: %s",
                    round_id, failed.reason)
