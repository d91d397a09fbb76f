"""What facilitators do: start, follow, nudge, post a digest, close; and who may.

One place for every way in: the Slack command and forms, Teams, and the command line call
these, and show the Said that comes back in their own markup.

Who may is bot.app.access's; who facilitates, bot.app.facilitators'. Each action on a round
is written to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.access import (
    may_start,
    refusal,
    require_facilitator,
    round_of,
    visible_rounds,
    who,
)
from bot.app.actors import Actor
from bot.app.roundtable import Roundtable
from bot.core import audit, reminders
from bot.core.dates import parse_closes
from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView
from bot.core.digest.summariser import Endpoint, summariser
from bot.core.digest_posts import post_digest
from bot.core.errors import NotAllowed, NotFound, RoundtableError
from bot.core.inbox import backlog_line
from bot.core.packs import Pack, PackError, find_pack, load_pack, pack_files
from bot.core.people import Audience
from bot.core.ports import DeliveryError
from bot.core.privacy import Policy, notice
from bot.core.rounds import (
    DEFAULT_MODE,
    MODE_NAMES,
    Anonymity,
    RoundRequest,
    add_people,
    close_round,
    get_round,
    mode_of,
    start_round,
)
from bot.core.rounds import set_digest_channel as set_round_channel
from bot.core.said import Code, Place, Said, Strong, lines, said, to_parts
from bot.core.status import round_status
from bot.core.wording import counted
from bot.scheduling.timing import digest_trigger, next_digest_time
from storage.db import reading, transaction
from storage.models import Delivery, Round

PACK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


def mode_chosen(word: str | None) -> Anonymity:
    """The mode a facilitator chose (named, by-role or anonymous); by role when none."""
    return mode_of(word) if word else DEFAULT_MODE


@dataclass(frozen=True)
class StartRequest:
    pack: str
    audience: Audience
    digest_channel: str | None = None
    closes: str | None = None
    mode: Anonymity = DEFAULT_MODE
    digest_cron: str | None = None
    owner: str | None = None
    """Who owns the round when the operator starts it for a facilitator (their user id)."""


@dataclass(frozen=True)
class Started:
    round_id: int
    invited: int
    said: Said


def policy(app: Roundtable) -> Policy:
    """What this deployment tells people about their answers (its settings)."""
    return Policy(app.settings.retention_days, app.settings.llm_url, app.settings.privacy_text)


def start(app: Roundtable, actor: Actor, request: StartRequest, platform: str | None = None
          ) -> Started:
    """Resolve the audience on its platform, create the round, and wake the sender."""
    if not may_start(app, actor):
        raise NotAllowed(refusal("start"))
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
    owner = request.owner if actor.is_operator and request.owner else actor.user_id
    with transaction(app.database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            pack, looked.people, started_by=owner, audience=request.audience.as_dict(),
            digest_channel=request.digest_channel, digest_cron=request.digest_cron,
            closes_at=closes, anonymity=request.mode, platform=on,
            privacy_notice=to_parts(notice(policy(app), request.mode, request.digest_channel)),
        ), now)
        directory.remember(session, looked, now)
        round_id, invited = round_.id, len(round_.deliveries)
        audit.record(session, now, who(actor), "round.start", round_id=round_id,
                     detail=f"pack {pack.id}, {MODE_NAMES[request.mode]}, {invited} invited, "
                            f"digests to {request.digest_channel or 'no channel yet'}")
    app.outbox.wake()
    where = (said(" Digests go to ", Place(request.digest_channel), ".")
             if request.digest_channel else
             said(" No digest channel yet: set one before the first digest (",
                  Code(f"/roundtable set {round_id} digest #channel"), ")."))
    return Started(round_id, invited, said(
        f"Round {round_id} of “{pack.title}” started ({MODE_NAMES[request.mode]}): sending the "
        f"questions to {counted(invited, 'person', 'people')} (those at night where they are "
        "get them in the morning).", where))


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
        round_ = round_of(app, session, actor, round_id)
        if round_.status != "open":
            raise RoundtableError(f"round {round_id} is closed")
        added = add_people(session, round_, looked.people, on, now)
        if digest_channel:
            set_round_channel(session, round_, on, digest_channel)
        directory.remember(session, looked, now)
    app.outbox.wake()
    where = (said(" Its digests go to ", Place(digest_channel), " too.")
             if digest_channel else said())
    return said(f"Round {round_id}: asking {counted(added, 'more person', 'more people')}.",
                where)


def status(app: Roundtable, actor: Actor, round_id: int | None) -> Said:
    """Where each of the actor's open rounds stands (or the one named)."""
    require_facilitator(app, actor, "status")
    with app.database.sessions() as session:
        rounds = ([round_of(app, session, actor, round_id)] if round_id
                  else visible_rounds(app, session, actor))
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


def chosen_round(app: Roundtable, actor: Actor, round_id: int | None) -> int:
    """The round a command means: the one named (if the actor may act on it), or the only
    open one of theirs."""
    with app.database.sessions() as session:
        if round_id is not None:
            return round_of(app, session, actor, round_id).id
        ids = [r.id for r in visible_rounds(app, session, actor)]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise RoundtableError("you have no open round")
    raise RoundtableError("which round? your open rounds: " + ", ".join(map(str, ids)))


def remind(app: Roundtable, actor: Actor, round_id: int | None) -> Said:
    """Nudge everyone with open questions now (within the cap, in their working hours)."""
    require_facilitator(app, actor, "remind")
    chosen = chosen_round(app, actor, round_id)
    zone = app.settings.timezone
    with transaction(app.database.sessions) as session:
        planned = reminders.plan_now(session, chosen, app.clock(), zone)
        audit.record(session, app.clock(), who(actor), "round.remind", round_id=chosen,
                     detail=f"{planned} planned")
    reminders.send_due(app.database.sessions, app.gateways, app.clock, zone)
    with app.database.sessions() as session:
        waiting = reminders.waiting(session, chosen)
    later = (f" {counted(waiting, 'person', 'people')} will be reminded when it is working "
             "hours where they are." if waiting else "")
    return said(f"Reminded {counted(planned - min(waiting, planned), 'person', 'people')} "
                f"who have open questions in round {chosen}.{later} Nobody gets more than "
                f"{reminders.MAX_REMINDERS} reminders.")


def set_channel_hint(round_id: int) -> Said:
    """How to give a round its digest channel, from Slack or the server."""
    return said("Set one: ", Code(f"/roundtable set {round_id} digest #channel"),
                " in Slack, or ", Code(f"roundtable round set {round_id} --digest C0123"),
                " on the server; then post the digest.")


def no_digest_channel(round_id: int) -> Said:
    """The refusal when a round has nowhere to post its digest, and how to give it one."""
    return said(f"round {round_id} has no digest channel, so its digest was not posted "
                "anywhere. ", set_channel_hint(round_id))


def digest(app: Roundtable, actor: Actor, round_id: int | None, period: str | None = None
           ) -> Said:
    """Post the digest now, to the round's digest channel and nowhere else; when there is
    none, or the platform refuses it, say why and what to do."""
    require_facilitator(app, actor, "digest")
    chosen = chosen_round(app, actor, round_id)
    with app.database.sessions() as session:
        round_ = get_round(session, chosen)
        channel, purged = round_.digest_channel, round_.purged_at
    if purged is not None:
        raise RoundtableError(f"round {chosen}'s answers were deleted on {purged:%d %b %Y} "
                              "(retention): there is nothing left to digest")
    if channel is None:
        raise RoundtableError(said=no_digest_channel(chosen))
    try:
        sent = post_digest(app.database.sessions, app.gateways, chosen,
                           period or f"manual:{app.clock().isoformat()}", app.clock,
                           actor=who(actor))
    except NotFound as exc:  # the channel was unset meanwhile
        raise RoundtableError(said=no_digest_channel(chosen)) from exc
    except DeliveryError as exc:
        raise RoundtableError(said=said(f"I could not post the digest of round {chosen} in ",
                                        Place(channel), f": {exc.reason}.",
                                        f" {exc.hint}" if exc.hint else "")) from exc
    if sent is None:
        return said(f"The digest of round {chosen} for that period was already posted.")
    return said(f"Posted the digest of round {chosen} in ", Place(sent.channel_id), ".")


def set_digest_channel(app: Roundtable, actor: Actor, round_id: int | None, channel: str
                       ) -> Said:
    """Give a round the channel its digests go to (the only place they are posted)."""
    require_facilitator(app, actor, "set")
    chosen = chosen_round(app, actor, round_id)
    with transaction(app.database.sessions) as session:
        round_ = get_round(session, chosen)
        before = round_.digest_channel
        round_.digest_channel = channel
        round_.privacy_notice = to_parts(notice(policy(app), round_.anonymity, channel))
        told = session.scalar(select(Delivery.id).where(
            Delivery.round_id == chosen, Delivery.state == "sent").limit(1)) is not None
        audit.record(session, app.clock(), who(actor), "round.set-digest", round_id=chosen,
                     detail=f"from {before or 'none'} to {channel}")
    out = said(f"Digests of round {chosen} now go to ", Place(channel), ".")
    if told:
        out += said(" People already asked were told ",
                    *((Place(before),) if before else ("that digests go to a channel",)),
                    "; those asked from now on are told ", Place(channel), ".")
    return out


@dataclass(frozen=True)
class Closed:
    round_id: int
    digest: Said | None
    """What became of the final digest (None: the round has nowhere to post it)."""

    @property
    def said(self) -> Said:
        closed = said(f"Round {self.round_id} is closed; no more answers are taken.")
        return closed if self.digest is None else said(closed, " ", self.digest)


def close(app: Roundtable, actor: Actor, round_id: int | None) -> Closed:
    """Close the round and post its final digest (where it has a channel)."""
    require_facilitator(app, actor, "close")
    chosen = chosen_round(app, actor, round_id)
    with transaction(app.database.sessions) as session:
        close_round(session, chosen, app.clock())
        has_channel = bool(get_round(session, chosen).digest_channel)
        audit.record(session, app.clock(), who(actor), "round.close", round_id=chosen)
    if not has_channel:
        return Closed(chosen, said("No final digest was posted: the round has no digest "
                                   "channel. ", set_channel_hint(chosen)))
    try:
        return Closed(chosen, digest(app, actor, chosen, period="final"))
    except RoundtableError as exc:
        return Closed(chosen, exc.said)


def digest_view(app: Roundtable, actor: Actor, round_id: int, what: str) -> DigestView:
    """A round's digest as of now, for showing or exporting (`what` says which, for the audit
    log); theme titles and summaries reworded by the AI service when one is set."""
    rewrite = None
    if app.settings.llm_url:
        key = app.settings.llm_key.get_secret_value() if app.settings.llm_key else None
        rewrite = summariser(Endpoint(app.settings.llm_url, app.settings.llm_model or "", key))
    with reading(app.database.sessions) as session:
        round_ = round_of(app, session, actor, round_id)
        if round_.purged_at is not None:
            raise RoundtableError(f"round {round_id}'s answers were deleted on "
                                  f"{round_.purged_at:%d %b %Y} (retention): nothing is left "
                                  "to show")
        view = build_digest(session, round_id, app.clock(), summariser=rewrite)
    with transaction(app.database.sessions) as session:
        audit.record(session, app.clock(), who(actor), what, round_id=round_id)
    return view


def packs() -> list[Pack]:
    """The packs a round can be started with (broken files left out)."""
    out: list[Pack] = []
    for path in pack_files():
        try:
            out.append(load_pack(path))
        except PackError:
            continue
    return out

