"""What facilitators do: start, follow, nudge, post a digest, close; and who may.

One place for every way in: the Slack command and forms, Teams, and the command line call
these, and show the Said that comes back in their own markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core import people, reminders
from bot.core.dates import parse_closes
from bot.core.digest_posts import post_digest
from bot.core.errors import NotAllowed, RoundtableError
from bot.core.inbox import backlog_line
from bot.core.packs import Pack, PackError, find_pack, load_pack, pack_files
from bot.core.people import Audience
from bot.core.ports import DeliveryError
from bot.core.rounds import (
    RoundRequest,
    add_people,
    close_round,
    get_round,
    open_rounds,
    set_digest_channel,
    start_round,
)
from bot.core.said import Place, Said, Strong, lines, said
from bot.core.status import round_status
from bot.core.wording import counted
from bot.scheduling.timing import digest_trigger, next_digest_time
from storage.db import transaction
from storage.models import Round

PACK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class StartRequest:
    pack: str
    audience: Audience
    digest_channel: str | None = None
    closes: str | None = None
    anonymous: bool = False
    digest_cron: str | None = None


@dataclass(frozen=True)
class Started:
    round_id: int
    invited: int
    said: Said


def may_facilitate(app: Roundtable, actor: Actor) -> bool:
    if actor.is_operator:
        return True
    configured = app.platforms[actor.platform].facilitators
    with app.database.sessions() as session:
        return people.is_facilitator(session, actor.user_id, configured, actor.platform)


FACILITATOR_ONLY = frozenset({"start", "invite", "status", "remind", "digest", "close",
                              "add-facilitator"})


def refusal(what: str) -> str:
    return (f"only facilitators can use `{what}`. If you should be one, ask a facilitator "
            "to add you.")


def require_facilitator(app: Roundtable, actor: Actor, what: str) -> None:
    if not may_facilitate(app, actor):
        raise NotAllowed(refusal(what))


def start(app: Roundtable, actor: Actor, request: StartRequest, platform: str | None = None
          ) -> Started:
    """Resolve the audience on its platform, create the round, and wake the sender."""
    require_facilitator(app, actor, "start")
    on = platform or actor.platform
    if on not in app.platforms:
        raise RoundtableError(f"Roundtable is not set up for {on} here")
    if not actor.is_operator and not PACK_ID.fullmatch(request.pack):
        # find_pack also takes file paths; from chat only the ids of packs in prompts/ go
        raise RoundtableError(f"{request.pack[:40]!r} is not a pack id (see `roundtable packs "
                              "list`)")
    try:
        pack = find_pack(request.pack)
    except PackError as exc:
        raise RoundtableError(str(exc)) from None
    now, zone = app.clock(), app.settings.timezone
    closes = parse_closes(request.closes, now, zone) if request.closes else None
    if request.digest_cron:
        digest_trigger(request.digest_cron, zone)  # refuse a schedule it cannot read
    directory = app.platforms[on].directory
    looked = directory.resolve(request.audience, now)
    with transaction(app.database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            pack, looked.people, started_by=actor.user_id, audience=request.audience.as_dict(),
            digest_channel=request.digest_channel, digest_cron=request.digest_cron,
            closes_at=closes, anonymity="anonymous" if request.anonymous else "named",
            platform=on), now)
        directory.remember(session, looked, now)
        round_id, invited = round_.id, len(round_.deliveries)
    app.outbox.wake()
    where = (said(" Digests go to ", Place(request.digest_channel), ".")
             if request.digest_channel else said())
    return Started(round_id, invited, said(
        f"Round {round_id} of “{pack.title}” started: sending the questions to "
        f"{counted(invited, 'person', 'people')} (those at night where they are get them in "
        "the morning).", where))


def invite(app: Roundtable, actor: Actor, round_id: int, audience: Audience,
           digest_channel: str | None = None, platform: str | None = None) -> Said:
    """Ask more people in an open round, on any platform set up here (a mixed round: one
    digest covers everyone; it is posted to the round's channel on each platform that has one).
    `digest_channel` is where its digests go on that platform."""
    require_facilitator(app, actor, "invite")
    on = platform or actor.platform
    if on not in app.platforms:
        raise RoundtableError(f"Roundtable is not set up for {on} here")
    now = app.clock()
    directory = app.platforms[on].directory
    looked = directory.resolve(audience, now)
    with transaction(app.database.sessions) as session:
        round_ = get_round(session, round_id)
        if round_.status != "open":
            raise RoundtableError(f"round {round_id} is closed")
        added = add_people(session, round_, looked.people, on, now)
        if digest_channel:
            set_digest_channel(session, round_, on, digest_channel)
        directory.remember(session, looked, now)
    app.outbox.wake()
    where = (said(" Its digests go to ", Place(digest_channel), " too.")
             if digest_channel else said())
    return said(f"Round {round_id}: asking {counted(added, 'more person', 'more people')}.",
                where)


def status(app: Roundtable, actor: Actor, round_id: int | None) -> Said:
    require_facilitator(app, actor, "status")
    with app.database.sessions() as session:
        rounds = [get_round(session, round_id)] if round_id else open_rounds(session)
        out = [_status(app, session, r) for r in rounds] or [said("No open rounds.")]
    with app.database.inbox_sessions() as session:
        if (inbox := backlog_line(session)) is not None:
            out.append(said(f"Warning: {inbox}"))
    if app.spool is not None and (spooled := app.spool.waiting()):
        out.append(said(f"Warning: {counted(spooled, 'incoming message')} kept in the spool "
                        "while the database was away, to be stored when it answers again."))
    return lines(out)


def _status(app: Roundtable, session: Session, round_: Round) -> Said:
    zone = app.settings.timezone
    when = next_digest_time(round_.digest_cron, bool(round_.digest_channel), app.clock(), zone)
    first, *rest = round_status(session, round_, when).lines(zone)
    return lines([said(Strong(first)), *(said(line) for line in rest)])


def chosen_round(app: Roundtable, round_id: int | None) -> int:
    """The round a command means: the one named, or the only open one."""
    if round_id is not None:
        return round_id
    with app.database.sessions() as session:
        ids = [r.id for r in open_rounds(session)]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise RoundtableError("there is no open round")
    raise RoundtableError("which round? open rounds: " + ", ".join(map(str, ids)))


def remind(app: Roundtable, actor: Actor, round_id: int | None) -> Said:
    """Nudge everyone with open questions now (within the cap, in their working hours)."""
    require_facilitator(app, actor, "remind")
    chosen = chosen_round(app, round_id)
    zone = app.settings.timezone
    with transaction(app.database.sessions) as session:
        planned = reminders.plan_now(session, chosen, app.clock(), zone)
    reminders.send_due(app.database.sessions, app.gateways, app.clock, zone)
    with app.database.sessions() as session:
        waiting = reminders.waiting(session, chosen)
    later = (f" {counted(waiting, 'person', 'people')} will be reminded when it is working "
             "hours where they are." if waiting else "")
    return said(f"Reminded {counted(planned - min(waiting, planned), 'person', 'people')} "
                f"who have open questions in round {chosen}.{later} Nobody gets more than "
                f"{reminders.MAX_REMINDERS} reminders.")


def digest(app: Roundtable, actor: Actor, round_id: int | None,
           fallback_channel: str | None = None, period: str | None = None) -> Said:
    """Post the digest now; when the platform refuses it, say why and what to do."""
    require_facilitator(app, actor, "digest")
    chosen = chosen_round(app, round_id)
    with app.database.sessions() as session:
        channel = get_round(session, chosen).digest_channel or fallback_channel
    try:
        sent = post_digest(app.database.sessions, app.gateways, chosen,
                           period or f"manual:{app.clock().isoformat()}", app.clock,
                           fallback_channel=fallback_channel)
    except DeliveryError as exc:
        where = said(" in ", Place(channel)) if channel else said()
        raise RoundtableError(said=said(f"I could not post the digest of round {chosen}", where,
                                        f": {exc.reason}.",
                                        f" {exc.hint}" if exc.hint else "")) from exc
    if sent is None:
        return said(f"The digest of round {chosen} for that period was already posted.")
    return said(f"Posted the digest of round {chosen} in ", Place(sent.channel_id), ".")


@dataclass(frozen=True)
class Closed:
    round_id: int
    digest: Said | None
    """What became of the final digest (None: the round has nowhere to post it)."""

    @property
    def said(self) -> Said:
        closed = said(f"Round {self.round_id} is closed; no more answers are taken.")
        return closed if self.digest is None else said(closed, " ", self.digest)


def close(app: Roundtable, actor: Actor, round_id: int | None,
          fallback_channel: str | None = None) -> Closed:
    """Close the round and post its final digest (where it has a channel)."""
    require_facilitator(app, actor, "close")
    chosen = chosen_round(app, round_id)
    with transaction(app.database.sessions) as session:
        close_round(session, chosen, app.clock())
        has_channel = bool(get_round(session, chosen).digest_channel or fallback_channel)
    if not has_channel:
        return Closed(chosen, None)
    try:
        return Closed(chosen, digest(app, actor, chosen, fallback_channel, period="final"))
    except RoundtableError as exc:
        return Closed(chosen, exc.said)


def add_facilitator(app: Roundtable, actor: Actor, user_id: str) -> Said:
    require_facilitator(app, actor, "add-facilitator")
    with transaction(app.database.sessions) as session:
        added = people.add_facilitator(session, user_id, actor.user_id, app.clock(),
                                       actor.platform)
    return said("Done: they can now run rounds." if added else
                "They were already a facilitator.")


def packs() -> list[Pack]:
    """The packs a round can be started with (broken files left out)."""
    out: list[Pack] = []
    for path in pack_files():
        try:
            out.append(load_pack(path))
        except PackError:
            continue
    return out

