"""What facilitators do: start, follow, nudge, post a digest, close; and who may.

One place for every way in: the Slack command and forms, Teams, and the command line call
these, and show the Said that comes back in their own markup.

Who may is bot.app.access's; who facilitates, bot.app.facilitators'. Each action on a round
is written to the audit log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

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
from bot.app.personal_data import left_in_chat
from bot.app.roundtable import Roundtable
from bot.config import ConfigError, Settings
from bot.core import audit, digest_review, reminders
from bot.core.bot_messages import (
    TakenDown,
    holding_words_in,
    take_down,
    taken_down_after,
    taken_down_counts,
    words_recorded_in,
)
from bot.core.dates import local_date_time, local_time, parse_closes, short_date
from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView
from bot.core.digest_posts import post_digest
from bot.core.digest_refused import MANUAL
from bot.core.direction_marks import closed
from bot.core.errors import NotAllowed, NotFound, RoundtableError
from bot.core.homes_owed import owe_homes
from bot.core.inbox import backlog_line
from bot.core.packs import Pack, PackError, find_pack, load_pack, pack_files
from bot.core.people import Audience, said_stop, team_to_reach
from bot.core.ports import DeliveryError
from bot.core.privacy import Policy, notice
from bot.core.round_changes import (
    FINAL_PERIOD,
    Changes,
    Contents,
    change_round,
    contents,
    delete_round,
    reopen_round,
)
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
from bot.core.said import Code, Command, Place, Said, Someone, Strong, lines, said, to_parts
from bot.core.status import (
    RoundLine,
    Who,
    final_is_next,
    round_lines,
    round_status,
    who_answered,
)
from bot.core.wording import counted, listed
from bot.scheduling.jobs import forget_digest_job
from bot.scheduling.timing import check_digest_schedule, digest_trigger, next_digest_time
from storage.db import reading, transaction
from storage.models import Delivery, Digest, Participant, Round

PACK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
DELETE_CANCELLED = "round.delete.cancel"
"""The audit action of a Cancel pressed on the question `delete` asked (its id as detail)."""
DELETED_MEANWHILE = "round.delete.meanwhile"
"""The audit action of what a deletion found recorded while it ran, taken off chat after."""


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
    review: bool | None = None
    """Whether scheduled digests wait for a facilitator's approval; None: they do when the
    round has a digest channel."""


@dataclass(frozen=True)
class Started:
    round_id: int
    invited: int
    said: Said
    stopped: tuple[str, ...] = ()
    """Those of the audience left out because they said stop, by name or id."""
    closes: str | None = None
    """When the round closes, as people read it in the round's zone (None: no closing date)."""
    channel_problem: str | None = None
    """Why no digest could be posted to the digest channel now (Directory.cannot_post)."""


def policy(app: Roundtable) -> Policy:
    """What this deployment tells people about their answers (its settings)."""
    return Policy(app.settings.retention_days, app.settings.llm_url, app.settings.privacy_text)


def start(app: Roundtable, actor: Actor, request: StartRequest, platform: str | None = None,
          pack: Pack | None = None) -> Started:
    """Resolve the audience on its platform, create the round, and wake the sender; `pack`
    is the request's pack when the caller read it first (so the file is read once)."""
    if not may_start(app, actor):
        raise NotAllowed(said=refusal("start"))
    now, zone = app.clock(), app.settings.timezone
    ready = ready_to_start(app.settings, actor, request,
                           pack or startable_pack(app.settings, actor, request.pack), now)
    pack, closes = ready.pack, ready.closes
    on = platform or actor.platform
    if on not in app.platforms:
        raise RoundtableError(f"Roundtable is not set up for {on} here")
    directory = app.platforms[on].directory
    looked = directory.resolve(request.audience, now)
    owner = request.owner if actor.is_operator and request.owner else actor.user_id
    with transaction(app.database.sessions) as session:
        stopped = said_stop(session, looked.people, on)
        round_ = start_round(session, RoundRequest(
            pack, looked.people, started_by=owner, audience=request.audience.as_dict(),
            digest_channel=request.digest_channel, digest_cron=request.digest_cron,
            closes_at=closes, anonymity=request.mode, platform=on,
            privacy_notice=to_parts(notice(policy(app), request.mode, request.digest_channel)),
            review="review" if (request.review if request.review is not None
                                else bool(request.digest_channel)) else "post",
        ), now)
        directory.remember(session, looked, now)
        round_id, invited, reviewed = round_.id, len(round_.deliveries), round_.review
        if not invited:  # raised inside the transaction: the empty round is not kept
            raise RoundtableError("nobody to ask, so no round was started" + (
                f": {listed(stopped)} said stop" if stopped else
                ": the audience holds no one who may be asked"))

        audit.record(session, now, who(actor), "round.start", round_id=round_id,
                     detail=f"pack {pack.id}, {MODE_NAMES[request.mode]}, {invited} invited, "
                            f"digests to {request.digest_channel or 'no channel yet'}")
    app.outbox.wake()
    problem = _channel_problem(app, on, request.digest_channel)
    where = (said(" Digests go to ", Place(request.digest_channel), ".",
                  " Each scheduled one comes to its facilitators to approve first." if
                  reviewed == "review" else "", _after(problem))
             if request.digest_channel else
             said(" No digest channel yet: set one before the first digest (",
                  Command(f"set {round_id} digest #channel"), ")."))
    left_out = said(f" Left out: {listed(stopped)}, who said stop.") if stopped else said()
    closing = local_date_time(closes, zone) if closes else None
    return Started(round_id, invited, said(
        f"Round {round_id} of “{pack.title}” started ({MODE_NAMES[request.mode]}): sending the "
        f"questions to {counted(invited, 'person', 'people')} (those at night where they are "
        "get them in the morning).",
        f" It closes {closing}." if closing else "", left_out, where), tuple(stopped), closing,
        problem)


@dataclass(frozen=True)
class Ready:
    """A start request read and checked, nothing stored yet."""
    pack: Pack
    closes: datetime | None


def ready_to_start(settings: Settings, actor: Actor, request: StartRequest, pack: Pack,
                   now: datetime) -> Ready:
    """`request` with `pack` read, its closing date and digest schedule checked: what can be
    refused without the database is refused before it is touched."""
    zone = settings.timezone
    closes = parse_closes(request.closes, now, zone) if request.closes else None
    if request.digest_cron:
        _check_schedule(actor, request.digest_cron, zone, now)
    return Ready(pack, closes)


def _check_schedule(actor: Actor, cron: str, zone: str, now: datetime) -> None:
    """Refuse a digest schedule that cannot be read or never falls due; from a facilitator,
    one that falls due more often than hourly too (a slip that would post a digest a minute
    to the group). The operator may set any schedule (a test of the scheduler, a demo)."""
    if actor.is_operator:
        digest_trigger(cron, zone)
    else:
        check_digest_schedule(cron, zone, now)


def startable_pack(settings: Settings, actor: Actor, pack_id: str) -> Pack:
    """The pack `pack_id` names, for a round `actor` starts; one that is not there is refused
    before anything else of the command is read (it is cheap to check, and local)."""
    if not actor.is_operator and not PACK_ID.fullmatch(pack_id):
        # find_pack also takes file paths; from chat only the ids of packs in the folder go
        raise RoundtableError(said=said(f"{pack_id[:40]!r} is not a pack id (see ",
                                        Code("roundtable packs list"), ")"))
    try:
        return find_pack(pack_id, settings.packs_dir)
    except PackError as exc:
        # the file and line are for the operator: in a chat they name the server's folders
        raise RoundtableError(str(exc) if actor.is_operator else exc.problem) from None


def _channel_problem(app: Roundtable, platform: str, channel: str | None) -> str | None:
    """Why no digest could be posted to `channel` now, if the platform says so (the
    facilitator hears it when choosing the channel, not when the first digest fails)."""
    if not channel or platform not in app.platforms:
        return None
    return app.platforms[platform].directory.cannot_post(channel)


def _after(problem: str | None) -> Said:
    """A problem as words to add, after a space; none when there is no problem."""
    return said(" ", problem) if problem else said()


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
    where = (said(" Its digests go to ", Place(digest_channel), " too.",
                  _after(_channel_problem(app, on, digest_channel)))
             if digest_channel else said())
    return said(f"Round {round_id}: asking {counted(added, 'more person', 'more people')}.",
                where)


def status(app: Roundtable, actor: Actor, round_id: int | None, *, who: bool = False,
           names_shown: int | None = None) -> Said:
    """Where each of the actor's open rounds (or the one named) stands; with `who`, who has
    not answered (by name in a named round, counted in any other; `names_shown` at most, then
    how many more)."""
    require_facilitator(app, actor, "status")
    with app.database.sessions() as session:
        rounds = ([round_of(app, session, actor, round_id)] if round_id is not None
                  else visible_rounds(app, session, actor))
        out = [_status(app, session, r, names_shown if who else 0) for r in rounds] or [
            _none_open(app, session, actor)]
    with app.database.inbox_sessions() as session:
        if (inbox := backlog_line(session)) is not None:
            out.append(said("Warning: ", inbox))
    if app.spool is not None and (spooled := app.spool.waiting()):
        out.append(said(f"Warning: {counted(spooled, 'incoming message')} kept in the spool "
                        "while the database was away, to be stored when it answers again."))
    return lines(out)


def _none_open(app: Roundtable, session: Session, actor: Actor) -> Said:
    """`status` when none of the actor's rounds is open: which closed last, and the commands
    that show it and every round."""
    ended = [r for r in visible_rounds(app, session, actor, open_only=False)
             if r.status == "closed"]
    if not ended:
        return said("No open rounds.")
    last = max(ended, key=lambda r: (r.closed_at or r.created_at, r.id))
    when = (f" closed on {local_date_time(last.closed_at, app.settings.timezone)}"
            if last.closed_at else " is closed")
    shown, listed_all = ((Code(f"roundtable round status {last.id}"),
                          Code("roundtable round list --all")) if actor.is_operator
                         else (Command(f"status {last.id}"), Command("list all")))
    return said(f"No open rounds. Round {last.id}{when}: ", shown, " shows it; ", listed_all,
                " lists every round.")


def _status(app: Roundtable, session: Session, round_: Round, who: int | None) -> Said:
    """A round's status; `who`: 0 without who has answered, else how many names at most
    (None: all)."""
    zone = app.settings.timezone
    when = next_digest_time(round_.digest_cron, bool(round_.digest_channel), app.clock(), zone)
    first, *rest = round_status(session, round_, when).lines(zone)
    out = [said(Strong(first)), *(said(line) for line in rest)]
    if not round_.digest_channel and round_.purged_at is None:
        then = ("no digest is posted until one is set" if round_.status == "open"
                else "its final digest is posted once one is set")
        out.append(said(f"No digest channel: {then} (",
                        Command(f"set {round_.id} digest #channel"), " in chat, or ",
                        Code(f"roundtable round set {round_.id} --digest C…"),
                        " on the server)."))
    return lines(out + (_who(who_answered(session, round_), who) if who != 0 else []))


def _names(names: list[str], shown: int | None) -> str:
    """The names one after the other, each closed (bot.core.direction_marks), so none left
    open right-to-left reorders the names after it."""
    names = [closed(name) for name in names]
    if shown is None or len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _people(n: int) -> str:
    """How many people are at one stage of `status N who`: "nobody", "1 person", "3 people"."""
    return counted(n, "person", "people") if n else "nobody"


def _who(found: Who, shown: int | None) -> list[Said]:
    people = found.counts
    stopped = f" · stopped: {_people(people['stopped'])}" if people["stopped"] else ""
    if not found.named:
        return [said(f"Not answered yet: {_people(people['not yet'])} · answered some: "
                     f"{_people(people['some'])} · answered all: {_people(people['all'])}"
                     f"{stopped} (names are shown only in named rounds)")]

    def named(label: str, names: list[str]) -> Said:
        return said(f"{label}: {_people(len(names))}"
                    + (f" — {_names(names, shown)}" if names else ""))

    out = [named("Not answered yet", found.not_yet)]
    if found.some:
        out.append(named("Answered some", found.some))
    out.append(said(f"Answered all: {_people(people['all'])}{stopped}"))
    return out


def rounds(app: Roundtable, actor: Actor, include_closed: bool = False) -> list[RoundLine]:
    """The open rounds (or every round), newest first, for `round list`."""
    require_facilitator(app, actor, "list")
    with app.database.sessions() as session:
        mine = {r.id for r in visible_rounds(app, session, actor, open_only=not include_closed)}
        return [line for line in round_lines(session, include_closed) if line.round_id in mine]


ROUNDS_SHOWN = 20
"""`list` in chat shows the newest rounds; the command line lists them all."""
NAMES_SHOWN = 60
"""`status N who` in chat names this many people at most (a Slack section holds 3,000
characters); the command line lists everyone."""


def list_rounds(app: Roundtable, actor: Actor, include_closed: bool = False) -> Said:
    """`list` in chat: the actor's open rounds (or every round of theirs), newest first."""
    return rounds_said(rounds(app, actor, include_closed), app.settings.timezone,
                       include_closed)


def rounds_said(found: list[RoundLine], zone: str, include_closed: bool) -> Said:
    """`list` in chat: a line a round, the newest ROUNDS_SHOWN."""
    if not found:
        return said("No rounds.") if include_closed else said(
            "No open rounds (", Command("list all"), " shows the closed ones too).")
    out: list[Said] = []
    for line in found[:ROUNDS_SHOWN]:
        where = said(" · digests to ", Place(line.digest_channel)) if line.digest_channel \
            else said(" · no digest channel")
        closes = (f" · closes {local_time(line.closes_at, zone)}"
                  if line.closes_at and line.status == "open" else "")
        out.append(said(Strong(f"Round {line.round_id}"), f" · {line.pack_id} · {line.status}"
                        f" · {line.answered_any} of {line.invited} answered, "
                        f"{counted(line.replies, 'reply', 'replies')}", where, closes,
                        " · started by ", Someone(line.owner) if line.owner else "unknown"))
    if len(found) > ROUNDS_SHOWN:
        out.append(said(f"…and {len(found) - ROUNDS_SHOWN} older (",
                        Code("roundtable round list --all"), " lists them all)."))
    return lines(out)


@dataclass(frozen=True)
class RoundSettings:
    """What `set` changes; None leaves it. A digest of "" takes the channel away; closes
    "never" takes the closing date away; a digest_cron of "" goes back to the default."""

    digest_channel: str | None = None
    closes: str | None = None
    digest_cron: str | None = None

    @property
    def empty(self) -> bool:
        return self.digest_channel is None and self.closes is None and self.digest_cron is None


NEVER = "never"


def set_round(app: Roundtable, actor: Actor, round_id: int | None, chosen: RoundSettings
              ) -> Said:
    """Change a round's digest channel (the only place its digests are posted), digest
    schedule or closing date. A closed round that is given a channel posts its final digest
    there now. People asked from now on are told of a new channel in their first message."""
    require_facilitator(app, actor, "set")
    round_id = chosen_round(app, actor, round_id, open_only=False)
    if chosen.empty:
        raise RoundtableError("nothing to change: give a digest channel, a closing date or a "
                              "digest schedule")
    now, zone = app.clock(), app.settings.timezone
    closes = (parse_closes(chosen.closes, now, zone)
              if chosen.closes and chosen.closes.lower() != NEVER else None)
    if chosen.digest_cron:
        _check_schedule(actor, chosen.digest_cron, zone, now)
    changes = Changes(chosen.digest_channel, closes,
                      chosen.closes is not None and chosen.closes.lower() == NEVER,
                      chosen.digest_cron)
    with transaction(app.database.sessions) as session:
        round_ = round_of(app, session, actor, round_id)
        if (chosen.digest_channel is not None and not actor.is_operator
                and actor.platform != round_.platform and round_.platform in app.platforms):
            # the channel named is one of the actor's platform; the round posts on its own
            raise RoundtableError(f"round {round_id} was started in "
                                  f"{round_.platform.capitalize()}: set its digest channel there")
        before = round_.digest_channel
        round_ = change_round(session, round_id, changes, now, zone)
        channel, cron, status = round_.digest_channel, round_.digest_cron, round_.status
        platform = round_.platform
        if channel != before:
            round_.privacy_notice = to_parts(notice(policy(app), round_.anonymity, channel))
        told = channel != before and session.scalar(select(Delivery.id).where(
            Delivery.round_id == round_id, Delivery.state == "sent").limit(1)) is not None
        audit.record(session, now, who(actor), "round.set", round_id=round_id,
                     detail=", ".join(f"{k} {v}" for k, v in (
                         ("digest", None if chosen.digest_channel is None
                          else f"from {before or 'none'} to {channel or 'none'}"),
                         ("closes", chosen.closes),
                         ("schedule", None if chosen.digest_cron is None
                          else chosen.digest_cron or "default"))
                         if v is not None))
        closes_at = round_.closes_at
        moved = reminders.told_of_move(session, round_id, now)
        final_due = status == "closed" and channel and not session.scalar(
            select(Digest.id).where(Digest.round_id == round_id, Digest.period == "final"))
    out = [said(f"Round {round_id}: ")]
    when = next_digest_time(cron, True, now, zone) if channel and status == "open" else None
    if channel and closes_at is not None and final_is_next(when, closes_at):
        out.append(said("digests go to ", Place(channel), ", the next (the final one) when it "
                        f"closes {local_date_time(closes_at, zone)}."))
    else:
        if channel:
            out.append(said("digests go to ", Place(channel)))
            if when is not None:
                out.append(said(f", the next on {local_time(when, zone)}"))
        else:
            out.append(said("no digest channel, so no digests are posted"))
        if status == "open":
            out.append(said(f"; closes {local_date_time(closes_at, zone)}."
                            if closes_at else "; no closing date."))
        else:
            out.append(said("."))
    if moved:
        out.append(said(" ", _told_of_move(app, moved)))
    if channel and channel != before:
        out.append(_after(_channel_problem(app, platform, channel)))
    if told:
        out.append(said(" People already asked were told ",
                        *((Place(before),) if before else ("that digests go to a channel",)),
                        "; those asked from now on are told ",
                        *((Place(channel),) if channel else ("there is none",)), "."))
    if final_due:
        try:
            out.append(said(" ", digest(app, actor, round_id, period=FINAL_PERIOD)))
        except RoundtableError as exc:
            out.append(said(" ", exc.said))
    return said(*out)


def reopen(app: Roundtable, actor: Actor, round_id: int, closes: str | None = None) -> Said:
    """Take answers again in a closed round (a closing date already past is dropped)."""
    require_facilitator(app, actor, "reopen")
    now, zone = app.clock(), app.settings.timezone
    closes_at = parse_closes(closes, now, zone) if closes else None
    with transaction(app.database.sessions) as session:
        if round_of(app, session, actor, round_id).status == "open" and closes:
            raise RoundtableError(said=said(
                f"round {round_id} is open already; to change when it closes: ",
                Command(f"set {round_id} closes {closes}"), " in chat, or ",
                Code(f"roundtable round set {round_id} --closes {closes}"), " on the server"))
        round_ = reopen_round(session, round_id, now, closes_at, zone)
        audit.record(session, now, who(actor), "round.reopen", round_id=round_id)
        closes_at, channel = round_.closes_at, round_.digest_channel
        moved = reminders.told_of_move(session, round_id, now)
    app.outbox.wake()
    when = (f"; it closes {local_date_time(closes_at, zone)}"
            if closes_at else "; it has no closing date")
    told = (" ", _told_of_move(app, moved)) if moved else ()
    if not channel:
        return said(f"Round {round_id} is open again{when}. It has no digest channel, so "
                    "closing it again posts no final digest. Set one: ",
                    Command(f"set {round_id} digest #channel"), " in chat, or ",
                    Code(f"roundtable round set {round_id} --digest C0123"), " on the server.",
                    *told)
    return said(f"Round {round_id} is open again{when}. Closing it again posts a new final "
                "digest.", *told)


def _told_of_move(app: Roundtable, moved: int) -> Said:
    """People a reminder told the old close are told the new one: now, or in their working
    hours."""
    reminders.send_due(app.database.sessions, app.gateways, app.clock, app.settings.timezone)
    return said(f"{counted(moved, 'person', 'people')} whose reminder named the old close "
                f"{'is' if moved == 1 else 'are'} told the new one, in working hours where "
                "they are.")


def deletion(app: Roundtable, actor: Actor, round_id: int) -> Contents:
    """What deleting the round would remove: asked before `delete`."""
    require_facilitator(app, actor, "delete")
    with app.database.sessions() as session:
        round_of(app, session, actor, round_id)
        return contents(session, round_id)


@dataclass(frozen=True)
class DeletionAsked:
    """The question `delete` asks first: what deleting the round would remove, in words, and
    the id its Delete and Cancel buttons carry (once cancelled, its Delete does nothing)."""

    round_id: int
    said: Said
    asked: str


def deletion_asked(app: Roundtable, actor: Actor, round_id: int) -> DeletionAsked:
    """What deleting the round would remove, asked before `delete`, with a new id."""
    return DeletionAsked(round_id, deletion_said(deletion(app, actor, round_id)),
                         secrets.token_hex(8))


def cancel_deletion(app: Roundtable, actor: Actor, round_id: int, asked: str | None
                    ) -> Said:
    """Cancel on the question `delete` asked: recorded, so a press of that question's Delete
    button later (a copy of the card left on another device, a message not yet replaced)
    deletes nothing. `asked` is None on a question of an earlier version, which had no id.
    Only someone who may delete the round may cancel its deletion."""
    require_facilitator(app, actor, "delete")
    with transaction(app.database.sessions) as session:
        round_of(app, session, actor, round_id)
        if asked is not None:
            audit.record(session, app.clock(), who(actor), DELETE_CANCELLED,
                         round_id=round_id, detail=asked)
    return said(f"Cancelled: round {round_id} is kept.")


def deletion_said(what: Contents) -> Said:
    # replies, as `list` counts them; its people are those asked and those who replied
    return said(f"Round {what.round_id} ({what.title}, {what.status}) has "
                f"{counted(what.people, 'person', 'people')}, "
                f"{counted(what.answers, 'reply', 'replies')} and "
                f"{counted(what.digests, 'digest')}. Deleting it removes all of them from "
                "Roundtable for good (someone also in another round stays there; messages "
                "already in chat stay there, except my messages that hold someone's words: "
                "those in their conversation with me are deleted, and the drafts of its "
                "digests sent for review say they were removed).")


def delete(app: Roundtable, actor: Actor, round_id: int, asked: str | None = None) -> Said:
    """Delete the round and everything Roundtable holds of it; refused when `asked`, the
    question whose button this is, was cancelled."""
    require_facilitator(app, actor, "delete")
    app.confirmations.flush()  # where this process's latest confirmations landed
    with app.database.sessions() as session:
        round_of(app, session, actor, round_id)
        if asked is not None and audit.recorded(session, DELETE_CANCELLED, round_id, asked):
            raise RoundtableError(said=said(
                f"that deletion was cancelled, so round {round_id} is kept. To delete it, "
                "ask again with ", Command(f"delete {round_id}"), "."))
        holding = holding_words_in(session, [round_id], app.clock())
    work = take_down(app.gateways, holding)
    with transaction(app.database.sessions) as session:
        round_of(app, session, actor, round_id)
        # so too those whose post the platform answered meanwhile, recorded as the round
        # stood (and forms opened meanwhile)
        opened = words_recorded_in(session, [round_id], holding, app.clock())
        owe_homes(session, _homes_listing(app, session, actor, round_id), app.clock())
        what = delete_round(session, round_id)
        forget_digest_job(session, round_id)
        audit.record(session, app.clock(), who(actor), "round.delete", round_id=round_id,
                     detail=_deleted(what, work))
    app.database.drop_deleted()
    app.homes.wake()
    work.add(taken_down_after(app.database.sessions, app.gateways, opened, app.clock,
                              who(actor), DELETED_MEANWHILE, round_id))
    done = said(f"Round {round_id} is deleted, with its {counted(what.answers, 'answer')} "
                f"and {counted(what.digests, 'digest')}.")
    if work.failed:
        done += said(" ") + left_in_chat(work, "of mine holding someone's words could not be "
                                         "removed")
    return done


def _deleted(what: Contents, work: TakenDown) -> str:
    """The deletion's audit detail: counts only, as retention's purge words them."""
    taken = taken_down_counts(work.removed, len(work.failed))
    return (f"{counted(what.answers, 'answer')}, {counted(what.digests, 'digest')}"
            + (f"; {taken}" if taken else ""))


def _homes_listing(app: Roundtable, session: Session, actor: Actor, round_id: int
                   ) -> list[tuple[str, str]]:
    """Whose home lists the round: the people sent its questions while it is open (their
    open questions), its team, the facilitator deleting it and the admins (their rounds);
    those on a platform Roundtable runs on here."""
    people = session.execute(
        select(Participant.platform, Participant.platform_user_id)
        .join(Delivery, Delivery.participant_id == Participant.id)
        .join(Round, Round.id == Delivery.round_id)
        .where(Delivery.round_id == round_id, Delivery.state == "sent",
               Round.status == "open", Participant.opted_out.is_(False))
        .order_by(Participant.id)).all()
    round_ = session.get_one(Round, round_id)
    homes = [(platform, user_id) for platform, user_id in people]
    homes += [(round_.platform, user_id) for user_id in team_to_reach(session, round_)]
    homes.append((actor.platform, actor.user_id))
    homes += app.admins_homes()
    return [home for home in dict.fromkeys(homes) if home[0] in app.platforms]


def chosen_round(app: Roundtable, actor: Actor, round_id: int | None, *,
                 open_only: bool = True) -> int:
    """The round a command means: the one named (if the actor may act on it), or the only
    open one of theirs."""
    with app.database.sessions() as session:
        if round_id is not None:
            return round_of(app, session, actor, round_id).id
        ids = [r.id for r in visible_rounds(app, session, actor, open_only=open_only)]
        if not open_only and len(ids) > 1:
            ids = [r.id for r in visible_rounds(app, session, actor)]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise RoundtableError("you have no open round")
    raise RoundtableError("which round? Your open rounds: " + ", ".join(map(str, ids)))


def remind(app: Roundtable, actor: Actor, round_id: int | None) -> Said:
    """Nudge everyone with open questions now (within the cap, in their working hours)."""
    require_facilitator(app, actor, "remind")
    chosen = chosen_round(app, actor, round_id)
    zone = app.settings.timezone
    now = app.clock()
    with transaction(app.database.sessions) as session:
        if get_round(session, chosen).status != "open":
            raise RoundtableError(f"round {chosen} is closed: it takes no more answers, so "
                                  "nobody is reminded")
        planned = reminders.plan_now(session, chosen, now, zone)
        lately = reminders.reminded_lately(session, chosen, now)
        audit.record(session, now, who(actor), "round.remind", round_id=chosen,
                     detail=f"{planned} planned")
    reminders.send_due(app.database.sessions, app.gateways, app.clock, zone)
    with app.database.sessions() as session:
        waiting = reminders.waiting(session, chosen, now)
    later = (f" {counted(waiting, 'person', 'people')} will be reminded when it is working "
             "hours where they are." if waiting else "")
    if lately:
        later += (f" {counted(lately, 'person', 'people')} reminded less than a day ago "
                  f"{'is' if lately == 1 else 'are'} not reminded again yet.")
    sent = planned - min(waiting, planned)
    reminded = (f"Reminded {counted(sent, 'person', 'people')} who "
                f"{'has' if sent == 1 else 'have'} open questions in round {chosen}." if sent
                else f"Reminded nobody in round {chosen}.")
    return said(f"{reminded}{later} Nobody gets more than {reminders.MAX_REMINDERS} reminders.")


def set_channel_hint(round_id: int, closed: bool = False) -> Said:
    """How to give a round its digest channel, in chat or on the server. A closed round posts
    its final digest there as the channel is set: told to post one too, a facilitator would
    post it twice."""
    return said("Set one: ", Command(f"set {round_id} digest #channel"),
                " in chat, or ", Code(f"roundtable round set {round_id} --digest C0123"),
                " on the server; " + ("its final digest is posted there as soon as it is set."
                                      if closed else "then post the digest."))


def no_digest_channel(round_id: int) -> Said:
    """The refusal when a round has nowhere to post its digest, and how to give it one."""
    return said(f"round {round_id} has no digest channel, so its digest was not posted "
                "anywhere. ", set_channel_hint(round_id))


def digest(app: Roundtable, actor: Actor, round_id: int | None, period: str | None = None
           ) -> Said:
    """Post the digest now, to the round's digest channel and nowhere else; when there is
    none, or the platform refuses it, say why and what to do. The period "final" is the
    round's final digest (at its close), and is called so."""
    require_facilitator(app, actor, "digest")
    chosen = chosen_round(app, actor, round_id)
    named = "its final digest" if period == FINAL_PERIOD else f"the digest of round {chosen}"
    with app.database.sessions() as session:
        round_ = get_round(session, chosen)
        channel, purged = round_.digest_channel, round_.purged_at
    if purged is not None:
        raise RoundtableError(f"round {chosen}'s answers were deleted on {short_date(purged)} "
                              "(retention): there is nothing left to digest")
    if channel is None:
        raise RoundtableError(said=no_digest_channel(chosen))
    try:  # the round first, then the platform, then the digest is built
        app.settings.require_platform(receiving=False)
    except ConfigError as exc:
        raise RoundtableError(str(exc)) from None
    try:
        sent = post_digest(app.database.sessions, app.gateways, chosen,
                           period or f"{MANUAL}{app.clock().isoformat()}", app.clock,
                           actor=who(actor), summariser=app.summariser)
    except NotFound as exc:  # the channel was unset meanwhile
        raise RoundtableError(said=no_digest_channel(chosen)) from exc
    except DeliveryError as exc:
        raise RoundtableError(said=said(f"I could not post {named} in ",
                                        Place(channel), f": {exc.reason}.",
                                        f" {exc.hint}" if exc.hint else "")) from exc
    if sent is None:
        if period == FINAL_PERIOD:
            return _final_meanwhile(app, chosen, channel)
        return said(f"The digest of round {chosen} for that period was already posted.")
    if digest_review.supersede_waiting(app.database.sessions, app.gateways, chosen, app.clock,
                                       summariser=app.summariser):
        return said(f"Posted {named} in ", Place(sent.channel_id),
                    "; it takes the place of the draft that was waiting for review.")
    return said(f"Posted {named} in ", Place(sent.channel_id), ".")


def _final_meanwhile(app: Roundtable, round_id: int, channel: str) -> Said:
    """What became of a round's final digest that the schedule took up between the round's
    close (or its channel set) and the post that follows it: the schedule posts the final
    digest of every closed round with a channel, so the facilitator is told where it stands,
    not that it "was already posted"."""
    with reading(app.database.sessions) as session:
        row = session.scalar(select(Digest).where(Digest.round_id == round_id,
                                                  Digest.period == FINAL_PERIOD))
    if row is None:
        return said("Its final digest was already posted.")
    where = Place(row.channel_id or channel)
    if row.state == "posted":
        return said("Posted its final digest in ", where, ".")
    if row.state == "review":
        return said("Its final digest waits for review before it posts in ", where, ".")
    if row.state == "failed":
        return said("Its final digest could not be posted in ", where,
                    f": {row.refused_reason}." if row.refused_reason else ".")
    return said("Its final digest is being posted in ", where, ".")


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
    with reading(app.database.sessions) as session:
        if get_round(session, chosen).digest_channel:
            try:  # as `digest --post` does: a platform not set up is said before anything
                app.settings.require_platform(receiving=False)
            except ConfigError as exc:
                raise RoundtableError(f"{exc}; round {chosen} is still open, as its final "
                                      "digest could not be posted") from None
    with transaction(app.database.sessions) as session:
        close_round(session, chosen, app.clock())
        has_channel = bool(get_round(session, chosen).digest_channel)
        audit.record(session, app.clock(), who(actor), "round.close", round_id=chosen)
    if not has_channel:
        return Closed(chosen, said("No final digest was posted: the round has no digest "
                                   "channel. ", set_channel_hint(chosen, closed=True)))
    try:
        return Closed(chosen, digest(app, actor, chosen, period=FINAL_PERIOD))
    except RoundtableError as exc:
        return Closed(chosen, exc.said)


def digest_view(app: Roundtable, actor: Actor, round_id: int, what: str | None) -> DigestView:
    """A round's digest as of now, for showing or exporting (`what` says which, for the audit
    log; None: the caller records it with record_view once it is done, an export once its
    file is written); theme titles and summaries reworded by the AI service when one is
    set."""
    with reading(app.database.sessions) as session:
        round_ = round_of(app, session, actor, round_id)
        if round_.purged_at is not None:
            raise RoundtableError(f"round {round_id}'s answers were deleted on "
                                  f"{short_date(round_.purged_at)} (retention): nothing is left "
                                  "to show")
        view = build_digest(session, round_id, app.clock(), summariser=app.summariser)
    if what is not None:
        record_view(app, actor, round_id, what)
    return view


def record_view(app: Roundtable, actor: Actor, round_id: int, what: str) -> None:
    """Audit a round's digest shown or exported (`what`)."""
    with transaction(app.database.sessions) as session:
        audit.record(session, app.clock(), who(actor), what, round_id=round_id)


def packs(app: Roundtable) -> list[Pack]:
    """The packs a round can be started with (broken files left out)."""
    out: list[Pack] = []
    for path in pack_files(app.settings.packs_dir):
        try:
            out.append(load_pack(path))
        except PackError:
            continue
    return out

