"""What the facilitator commands do, shared by `/roundtable` and the App Home forms.

Each function translates a request into core calls and returns the words to show; permission
checks happen before any of them is called.
"""

from __future__ import annotations

import re

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import answers, deliveries, people, reminders
from bot.core.dates import parse_closes
from bot.core.errors import RoundtableError
from bot.core.inbox import backlog_line
from bot.core.packs import Pack, PackError, find_pack, load_pack, pack_files
from bot.core.people import find_participant, is_facilitator
from bot.core.rounds import (
    RoundRequest,
    close_round,
    delivery_counts,
    get_round,
    open_rounds,
    participation,
    start_round,
)
from bot.core.status import round_status
from bot.scheduling.timing import next_digest_time
from bot.slack import blocks, directory
from bot.slack.app import Bot
from bot.slack.command_text import StartCommand
from bot.slack.mrkdwn import inert
from storage.db import transaction
from storage.models import Round

PACK_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
FACILITATOR_ONLY = frozenset({"start", "status", "remind", "digest", "close", "add-facilitator"})


def may_facilitate(bot: Bot, user_id: str) -> bool:
    with bot.database.sessions() as session:
        return is_facilitator(session, user_id, bot.facilitators())


def refusal(name: str) -> str:
    return (f"Sorry, only facilitators can use `{name}`. If you should be one, ask a "
            "facilitator to run `/roundtable add-facilitator @you`.")


def start(bot: Bot, client: WebClient, user_id: str, request: StartCommand) -> str:
    """Resolve the audience through Slack, create the round, and wake the sender."""
    if not PACK_ID.fullmatch(request.pack):
        # find_pack also takes file paths; from Slack only the ids of packs in prompts/ go
        raise RoundtableError(f"{request.pack[:40]!r} is not a pack id (see `roundtable packs "
                              "list`)")
    try:
        pack = find_pack(request.pack)
    except PackError as exc:
        raise RoundtableError(str(exc)) from None
    now = bot.clock()
    closes = parse_closes(request.closes, now, bot.settings.timezone) if request.closes else None
    looked = directory.resolve(client, bot.database.sessions, request.audience, now)
    with transaction(bot.database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            pack, looked.people, started_by=user_id, audience=request.audience.as_dict(),
            digest_channel=request.digest_channel,
            closes_at=closes, anonymity="anonymous" if request.anonymous else "named",
        ), now)
        directory.remember(session, looked.fetched, now)
        round_id, asked = round_.id, len(round_.deliveries)
    bot.outbox.wake()
    where = f" Digests go to <#{request.digest_channel}>." if request.digest_channel else ""
    return (f"Round {round_id} of “{inert(pack.title, 200)}” started: sending the "
            f"questions to {asked} people (those at night where they are get them in the "
            f"morning).{where}")


def status(bot: Bot, round_id: int | None) -> str:
    with bot.database.sessions() as session:
        rounds = [get_round(session, round_id)] if round_id else open_rounds(session)
        lines = [_status_line(bot, session, r) for r in rounds] or ["No open rounds."]
    with bot.database.inbox_sessions() as session:
        if (inbox := backlog_line(session)) is not None:
            lines.append(f":warning: {inbox}")
    return "\n".join(lines)


def _status_line(bot: Bot, session: Session, round_: Round) -> str:
    now = bot.clock()
    when = next_digest_time(round_.digest_cron, bool(round_.digest_channel), now,
                            bot.settings.timezone)
    lines = round_status(session, round_, when).lines(bot.settings.timezone)
    return "\n".join([f"*{inert(lines[0], 300)}*", *(inert(line, 2000) for line in lines[1:])])


def chosen_round(bot: Bot, round_id: int | None) -> int:
    """The round a command means: the one named, or the only open one."""
    if round_id is not None:
        return round_id
    with bot.database.sessions() as session:
        ids = [r.id for r in open_rounds(session)]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise RoundtableError("there is no open round")
    raise RoundtableError("which round? open rounds: " + ", ".join(map(str, ids)))


def remind(bot: Bot, round_id: int | None) -> str:
    """Nudge everyone with open questions now (within the cap, in their working hours)."""
    chosen = chosen_round(bot, round_id)
    zone = bot.settings.timezone
    with transaction(bot.database.sessions) as session:
        planned = reminders.plan_now(session, chosen, bot.clock(), zone)
    reminders.send_due(bot.database.sessions, bot.gateway, bot.clock, zone)
    with bot.database.sessions() as session:
        waiting = reminders.waiting(session, chosen)
    later = (f" {waiting} will be reminded when it is working hours where they are."
             if waiting else "")
    return (f"Reminded {planned - min(waiting, planned)} people who have open questions in "
            f"round {chosen}.{later} Nobody gets more than {reminders.MAX_REMINDERS} reminders.")


def digest(bot: Bot, round_id: int | None, channel_id: str, period: str | None = None) -> str:
    chosen = chosen_round(bot, round_id)
    now = bot.clock()
    sent = deliveries.post_digest(bot.database.sessions, bot.gateway, chosen,
                                  period or f"manual:{now.isoformat()}", bot.clock,
                                  fallback_channel=channel_id)
    if sent is None:
        return f"The digest of round {chosen} for that period was already posted."
    return f"Posted the digest of round {chosen} in <#{sent.channel_id}>."


def close(bot: Bot, round_id: int | None, channel_id: str) -> str:
    chosen = chosen_round(bot, round_id)
    with transaction(bot.database.sessions) as session:
        close_round(session, chosen, bot.clock())
    posted = digest(bot, chosen, channel_id, period="final")
    return f"Round {chosen} is closed; no more answers are taken. {posted}"


def add_facilitator(bot: Bot, added_by: str, user_id: str) -> str:
    with transaction(bot.database.sessions) as session:
        added = people.add_facilitator(session, user_id, added_by, bot.clock())
    return ("Done: they can now run rounds." if added else "They were already a facilitator.")


def packs() -> list[Pack]:
    out: list[Pack] = []
    for path in pack_files():
        try:
            out.append(load_pack(path))
        except PackError:
            continue
    return out


def home(bot: Bot, user_id: str) -> dict[str, object]:
    """The App Home view for this person."""
    with bot.database.sessions() as session:
        facilitator = is_facilitator(session, user_id, bot.facilitators())
        lines: list[blocks.RoundLine] = []
        if facilitator:
            for round_ in session.scalars(select(Round).order_by(Round.id.desc()).limit(20)):
                counts = delivery_counts(session, round_.id)
                turnout = participation(session, round_)
                lines.append(blocks.RoundLine(round_.id, round_.pack_title, round_.status,
                                              counts["sent"], counts["pending"],
                                              counts["failed"], turnout.answered_any,
                                              turnout.invited))
        participant = find_participant(session, user_id)
        questions = (answers.open_questions(session, participant)
                     if participant is not None and not participant.opted_out else [])
        return blocks.home_view(lines, questions, facilitator)
