"""Retention: what is deleted once it has been kept long enough.

Once a round has been closed for longer than the retention period, its answers (with their
earlier versions), its digests (and the language model's headlines kept for them), and
everything that tied people to it (deliveries, the questions sent, reminders, the bot's
messages kept for forget-me, co-facilitators, the user ids its audience named) are deleted;
the bot's messages in people's conversations that hold their words (confirmations repeating
answers, replies whose "Save as my answer" button holds words) are deleted on the platform
first, and the drafts of its digests shown to facilitators replaced by a note
(bot.core.bot_messages.take_down);
the round itself stays with its pack and its counts (invited, answered, withdrawn), marked
`purged_at`. People left in no round at all are deleted too, except those who said `stop`:
of them only the platform id and the stop are kept, so that no new round asks them; so are the
records kept to reach people no round needs (a Teams roster's), once not refreshed for the
period. Incoming
events set aside after failing, kept word for word for a person to look at, go once they are
older than the period; a language model's answers kept for every process, once older than
theirs (storage.model_answers.KEPT). Notes of Teams activities (`teams_sent`) whose delivery,
digest or kept message is gone are deleted too, once a day old; so are homes owed that no
process published (bot.core.homes_owed.KEPT), and acknowledgements owed that none posted
(bot.core.confirmations_owed.KEPT; those of a purged round go with its answers). The homes
of a purged round's team, and those of the admins the caller names (they list every round),
are owed (published again by a serving process: its line shows the counts kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.bot_messages import (
    holding_words_in,
    take_down,
    taken_down_counts,
    words_recorded_in,
)
from bot.core.confirmations_owed import forget_owed
from bot.core.homes_owed import Home, forget_stale_homes, owe_homes
from bot.core.inbox import MAX_ATTEMPTS
from bot.core.people import forget_roundless, team_to_reach
from bot.core.ports import Gateways
from bot.core.rounds import participation
from bot.core.wording import counted, listed
from storage import reach
from storage.database import Database
from storage.db import transaction
from storage.model_answers import KEPT as MODEL_ANSWERS_KEPT
from storage.models import (
    BotMessage,
    Delivery,
    Digest,
    DigestEdit,
    InboxEvent,
    ModelAnswer,
    QuestionMessage,
    Reminder,
    Reply,
    ReplyVersion,
    Round,
    RoundFacilitator,
)

DEFAULT_DAYS = 365
NOTES_SETTLE = timedelta(days=1)
"""A note of a message sent is written before the row that keeps the message: only notes
older than this are taken for left behind."""


@dataclass
class Purged:
    rounds: list[int] = field(default_factory=list)
    answers: int = 0
    digests: int = 0
    people: int = 0
    """People deleted because no round was left that named them."""
    inbox_events: int = 0
    messages: int = 0
    """The bot's messages holding someone's words, taken off the platform: confirmations and
    offers deleted, drafts shown to facilitators replaced by a note."""
    messages_left: int = 0
    """Such messages the platform would not let it delete (their rows are deleted all the
    same: the round's retention period is over)."""

    @property
    def anything(self) -> bool:
        return bool(self.rounds or self.people or self.inbox_events)

    def line(self) -> str:
        rounds = ", ".join(map(str, self.rounds)) or "none"
        return (f"rounds purged: {rounds}; {counted(self.answers, 'answer')}, "
                f"{counted(self.digests, 'digest')}, {counted(self.people, 'person', 'people')}, "
                f"{counted(self.inbox_events, 'set-aside incoming event')} deleted"
                + (f"; {taken}" if (taken := taken_down_counts(self.messages,
                                                                self.messages_left)) else ""))


    def sentence(self, days: int) -> str:
        """What was deleted, as the operator who ran `purge` reads it (line() is the log's)."""
        kept = counted(days, "day")
        if not self.anything and not self.messages:
            return (f"Nothing was due for deletion: no round closed more than {kept} ago still "
                    "holds answers, and no incoming message set aside after failing is that old.")
        held = f"{counted(self.answers, 'answer')} and {counted(self.digests, 'digest')}"
        if not self.rounds:
            rounds = "no round's answers"
        elif len(self.rounds) == 1:
            rounds = f"round {self.rounds[0]}'s {held}"
        else:
            rounds = f"the {held} of rounds {listed([str(r) for r in self.rounds])}"
        people = counted(self.people, "person", "people")
        events = counted(self.inbox_events, "incoming message set aside after failing",
                         "incoming messages set aside after failing")
        were = "was" if self.messages == 1 else "were"
        taken = (f" {counted(self.messages, 'message')} of Roundtable's holding someone's words "
                 f"{were} taken down in chat" + (f" ({self.messages_left} could not be)"
                                                 if self.messages_left else "") + "."
                 if self.messages else "")
        return (f"Deleted what is kept for {kept} after a round closes: {rounds}, {people} in "
                f"no other round, and {events}.{taken}")


def due_rounds(session: Session, now: datetime, days: int) -> list[int]:
    """Rounds closed more than `days` days before `now` whose answers are still kept."""
    return list(session.scalars(select(Round.id).where(
        Round.status == "closed", Round.closed_at.is_not(None),
        Round.closed_at < now - timedelta(days=days), Round.purged_at.is_(None)
    ).order_by(Round.id)))


def purge(session: Session, now: datetime, days: int, admins_homes: Iterable[Home] = ()
          ) -> Purged:
    """Delete what is due in the main database (see the module); the inbox's set-aside events
    are `purge_inbox`'s, as they may live in a database of their own. `admins_homes` are owed
    when any round is purged (an admin's home lists every round)."""
    done = Purged()
    for round_id in due_rounds(session, now, days):
        done.answers += _purge_round(session, round_id, now, done)
        done.rounds.append(round_id)
    if done.rounds:
        owe_homes(session, admins_homes, now)
    done.people = _purge_people(session, now, days)
    reach.forget_unkept(session, now - NOTES_SETTLE)
    forget_stale_homes(session, now)
    forget_owed(session, now)
    session.execute(delete(ModelAnswer).where(ModelAnswer.created_at < now - MODEL_ANSWERS_KEPT))
    return done


def _purge_round(session: Session, round_id: int, now: datetime, done: Purged) -> int:
    answers = session.scalar(select(func.count(Reply.id)).where(Reply.round_id == round_id)) or 0
    done.digests += session.scalar(select(func.count(Digest.id)).where(
        Digest.round_id == round_id)) or 0
    round_ = session.get_one(Round, round_id)
    # its team's homes list it: with its counts as they are kept from now on
    owe_homes(session, [(round_.platform, user_id)
                        for user_id in team_to_reach(session, round_)], now)
    # the counts stay: who was invited and who answered is known only from the rows going now
    turnout = participation(session, round_)
    round_.summary = {"invited": turnout.invited, "answered_any": turnout.answered_any,
                      "answered_all": turnout.answered_all, "answers": answers,
                      "withdrawn": round_.withdrawn}
    replies = select(Reply.id).where(Reply.round_id == round_id)
    deliveries = select(Delivery.id).where(Delivery.round_id == round_id)
    reach.forget_sent(session, deliveries=deliveries,
                      digests=select(Digest.id).where(Digest.round_id == round_id),
                      messages=select(BotMessage.message_id).where(
                          BotMessage.round_id == round_id))
    session.execute(delete(ReplyVersion).where(ReplyVersion.reply_id.in_(replies)))
    session.execute(delete(Reply).where(Reply.round_id == round_id))
    session.execute(delete(BotMessage).where(BotMessage.round_id == round_id))
    session.execute(delete(DigestEdit).where(DigestEdit.round_id == round_id))
    session.execute(delete(Digest).where(Digest.round_id == round_id))
    session.execute(delete(ModelAnswer).where(ModelAnswer.round_id == round_id))
    session.execute(delete(QuestionMessage).where(QuestionMessage.delivery_id.in_(deliveries)))
    session.execute(delete(Reminder).where(Reminder.round_id == round_id))
    session.execute(delete(Delivery).where(Delivery.round_id == round_id))
    session.execute(delete(RoundFacilitator).where(RoundFacilitator.round_id == round_id))
    # what was owed about it (a notice naming its question, an offer holding someone's
    # words): a process taking over would post it
    forget_owed(session, now, round_id)
    round_.audience = {k: v for k, v in (round_.audience or {}).items() if k != "users"}
    round_.purged_at = now
    return answers


def _purge_people(session: Session, now: datetime, days: int) -> int:
    """Delete people no round names any more (keeping only the stop of those who said it),
    and what was kept to reach them, roster records included, once not refreshed for the
    period."""
    gone = forget_roundless(session)
    reach.forget_unneeded(session, unseen_since=now - timedelta(days=days))
    return gone


def purge_inbox(session: Session, now: datetime, days: int) -> int:
    """Delete incoming events set aside after failing, older than `days` days."""
    result = session.execute(delete(InboxEvent).where(
        InboxEvent.attempts >= MAX_ATTEMPTS, InboxEvent.received_at < now - timedelta(days=days)))
    return int(getattr(result, "rowcount", 0) or 0)


def apply_retention(database: Database, now: datetime, days: int, actor: str,
                    gateways: Gateways, *, admins_homes: Iterable[Home] = ()) -> Purged:
    """Delete what has been kept long enough: on the platforms (through `gateways`), then in
    the main database and the inbox's (the daily job and `roundtable purge`); one audit line
    says what went (a run that finds nothing due writes none). The application names the
    admins' homes, owed with the rounds' teams' (`purge`)."""
    with database.sessions() as session:
        holding = holding_words_in(session, due_rounds(session, now, days), now)
    taken = take_down(gateways, holding)
    with transaction(database.sessions) as session:
        # so too those recorded meanwhile, as the rounds' answers stood
        opened = words_recorded_in(session, due_rounds(session, now, days), holding, now)
        done = purge(session, now, days, admins_homes)
    with transaction(database.inbox_sessions) as session:
        done.inbox_events = purge_inbox(session, now, days)
    database.drop_deleted()
    taken.add(take_down(gateways, opened))
    done.messages, done.messages_left = taken.removed, len(taken.failed)
    if done.anything:
        with transaction(database.sessions) as session:
            audit.record(session, now, actor, "retention.purge",
                         detail=f"kept {counted(days, 'day')}; {done.line()}")
    return done
