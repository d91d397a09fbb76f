"""Telling people what became of what they wrote: confirmations of saved answers, paced per
conversation, and short notices, all posted by one loop of their own.

Platforms take about one message a second per conversation, so a conversation's confirmation
goes out at once, and answers saved within the next SPACING seconds join the one after it: a
burst of answers becomes a message a second per person, not one per answer. `confirm` and its
siblings only queue (they are called right after the inbox commits a batch, and must not fail
there); the pacing and the posting happen on this loop. Everything waiting is posted when the
process stops. A conversation's messages go out in the order of what they answer: the answers
waiting are confirmed together where the first of them comes, up to the next notice or offer,
which comes after them, so that an answer's confirmation never follows the reply to what was
written after it (`_together`).

Everything posted here is owed in the database from the transaction that made the change it
acknowledges (bot.core.confirmations_owed): an answer's confirmation, an edit's, a deletion's,
a notice, an offer. What waits here is only this process's copy, and a process that dies
leaves it to the next (`take_over` queues what it owed). Where each confirmation landed is
handed to `remember` (the application stores it, so that forget-me can delete it later: it
repeats the person's words, and settles what was owed) as soon as it is posted, so that a
crash afterwards does not post it again; other messages' (and that the other
acknowledgements are owed no more) in batches, whenever the loop has nothing due, in the same
write (bot.app.confirmation_records). What cannot be recorded (the database is away) is kept
and recorded again until it is: a process never posts again what it owes (its rows are its
own while its lease lives), so the worst a failure to record costs is one repeat, by the
process that comes after it, if this one stops before it records.

What a platform refuses for now is posted again by this loop, after the Retry-After it gave or
a pause that grows with each failure; after some failures that are not rate limits, or at once
when trying again cannot help (the conversation is gone, the person deactivated), it is given
up (bot.app.confirmation_backoff): said once in the log, and the answers' confirmations handed
to `given_up` (owed no more, as the rest given up is). A failure while stopping leaves them
owed in the database, for the next process.

An edited answer is confirmed as updated (`revise`): its own confirmation, if `recall` finds
where it landed, is changed to say so (what was handed over is remembered first, so a
confirmation posted moments before is found), or those of several answers repeating it
(`recall_together`) repeat its new words beside the others'; else a new one says it. A
deleted answer's confirmation, where `recall` finds it, no longer repeats the words: it says
they are deleted (`withdraw`); so too a confirmation of several answers repeating them,
which then says which of them are deleted and which stay saved. A notice about a comment on
a vote's question is that comment's confirmation (`notify` with `instead_of`): said in
place of the one known, else posted and remembered as one. A reply to words not taken as an
answer (a greeting) carries them in its button (`offer`), so it is remembered as a
confirmation is; once they are saved otherwise (the message edited into an answer), the
reply is replaced (`settle_offer`), so its button is gone: posted as what replaces it, when
it was still waiting for its turn.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.app.confirmation_backoff import Backoff
from bot.app.confirmation_records import Confirmed, Records, Remember
from bot.app.loops import Faults, Loop
from bot.core.confirmations_owed import (
    ConfirmationOf,
    Notice,
    Offered,
    Owed,
    Owing,
    Revised,
    Settled,
    Withdrawn,
)
from bot.core.confirmed_together import Together
from bot.core.incoming import external_id
from bot.core.ports import ChatGateway, DeliveryError, Gateways, Sent, Where
from bot.core.questions import Asked, Saved, deleted, deleted_among
from bot.core.said import Said

log = logging.getLogger(__name__)
CONFIRMED_TOGETHER = 20
"""Answers confirmed in one message at most."""

Key = tuple[str, Where]
"""(platform, where): one queue per conversation and thread."""


Recall = Callable[[str, int, str], Sent | None]
"""Where the confirmation of one answer landed, if it is known: (platform, round, answer)."""
RecallTogether = Callable[[str, int, str], list[Together]]
"""Where the confirmations of several answers repeating one landed, each with its answers as
they stand now: (platform, round, answer)."""
RecallOffer = Callable[[str, str], Sent | None]
"""Where the offer to save a message's words landed, if it is known: (platform, the id the
words would be saved under)."""


Arrived = Saved | Notice | Offered | Settled | Revised | Withdrawn


@dataclass
class Waiting:
    """What a conversation is owed, in the order of what it acknowledges: posted in that
    order (`_together`)."""

    items: list[Arrived] = field(default_factory=list)

    def answers(self) -> list[Saved]:
        """The answers among them: to confirm, or to confirm as updated."""
        return [_answer(item) for item in self.items if isinstance(item, Saved | Revised)]


class Confirmations:
    SPACING = 1.0

    def __init__(self, gateways: Gateways, *, after: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic,
                 faults: Faults | None = None,
                 remember: Remember = lambda *_: None,
                 given_up: Callable[[str, list[Saved]], None] = lambda *_: None,
                 recall: Recall = lambda *_: None,
                 recall_together: RecallTogether = lambda *_: [],
                 recall_offer: RecallOffer = lambda *_: None,
                 standing: Callable[[list[Saved]], list[Saved]] = lambda saved: saved,
                 owing: Callable[[list[int]], set[int]] = set) -> None:
        self.gateways, self.after, self.clock = gateways, after, clock
        """`after` runs once confirmations went out (the outbox's wake: a next question then
        comes below its answer's confirmation)."""
        self.recall, self.recall_offer = recall, recall_offer
        self.recall_together = recall_together
        self.given_up = given_up
        """Called with the answers whose confirmation was given up: owed no more."""
        self.standing = standing
        """Those of the answers given that stand now (not deleted, nor their round, nor their
        author forgotten): what a confirmation may repeat."""
        self.owing = owing
        """Those of the rows given that are owed still: a notice, an offer or a deletion's
        acknowledgement whose rows went with its round or its reader is not posted."""
        self._backoff = Backoff()
        self._posting: Waiting | None = None
        """What the loop is posting now (taken from `_waiting`)."""
        self._arrived: list[tuple[Key, Arrived]] = []
        self._waiting: dict[Key, Waiting] = {}
        self._due: list[tuple[float, int, Key]] = []
        self._order = itertools.count()  # equal times never compare the keys
        self._last: dict[Key, float] = {}
        self._changed = threading.Condition()
        self._records = Records(remember, self._changed)
        self.loop = Loop("confirmations", self._step, faults=faults, on_stop=self._poke)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        """Post everything waiting, now."""
        self.loop.stop()

    def confirm(self, platform: str, where: Where, saved: list[Saved]) -> None:
        """After the answers are committed: queue their confirmation."""
        with self._changed:
            self._arrived += [((platform, where), s) for s in saved]
            self._changed.notify()

    def revise(self, platform: str, where: Where, saved: Saved, owed: Owing = ()) -> None:
        """After an edit is committed: queue the confirmation that the answer was updated
        (`where`: the conversation and thread the edited message is in; `owed`: the rows
        that owe it)."""
        with self._changed:
            self._arrived.append(((platform, where), Revised(saved, owed)))
            self._changed.notify()

    def notify(self, platform: str, where: Where, said: Said, owed: Owing = (),
               instead_of: ConfirmationOf | None = None) -> None:
        """Queue a short notice (what could not be saved, and why; `instead_of`: the answer
        whose confirmation it is, Notice.instead_of)."""
        with self._changed:
            self._arrived.append(((platform, where), Notice(said, owed, instead_of)))
            self._changed.notify()

    def take_over(self, owed: list[Owed]) -> None:
        """Queue what a process that is gone owed, in order."""
        with self._changed:
            self._arrived += [((one.platform, one.where), one.what) for one in owed]
            self._changed.notify()

    def offer(self, platform: str, where: Where, offered: Offered) -> None:
        """Queue a reply to words that were not taken as an answer, offering to save them."""
        with self._changed:
            self._arrived.append(((platform, where), offered))
            self._changed.notify()

    def offering(self, platform: str, answer_id: str) -> int | None:
        """Whose words an offer holds (their participant id) while it waits to be posted, or
        was posted and is not remembered yet, or is being remembered (`answer_id`: the id the
        words would be saved under); None when no such offer of this process holds them."""
        with self._changed:
            notices = [*(item for _, item in self._arrived),
                       *(n for w in [*self._waiting.values(), self._posting] if w is not None
                         for n in w.items)]
            offered = next((n.participant_id for n in notices if isinstance(n, Offered)
                            and _answer_id(n) == answer_id), None)
            if offered is not None:
                return offered
            return next((c.participant_id for c in [*self._records.confirmed,
                                                    *self._records.recording]
                         if c.platform == platform and c.offer_for is not None
                         and c.answer_id == answer_id), None)

    def settle_offer(self, platform: str, where: Where, answer_id: str, said: Said,
                     owed: Owing = ()) -> None:
        """The words an offer holds were saved otherwise (`answer_id`: the id they were saved
        under): the offer (in the conversation `where`) is to say `said` instead, before
        what is queued after it there. Still waiting for its turn, it is posted as `said`
        alone, button and words gone."""
        with self._changed:
            for waiting in self._waiting.values():
                for at, notice in enumerate(waiting.items):
                    if isinstance(notice, Offered) and _answer_id(notice) == answer_id:
                        waiting.items[at] = Notice(said, notice.owed + owed)
                        return
            for at, (key, item) in enumerate(self._arrived):
                if isinstance(item, Offered) and _answer_id(item) == answer_id:
                    self._arrived[at] = (key, Notice(said, item.owed + owed))
                    return
            self._arrived.append(((platform, where), Settled(answer_id, said, owed)))
            self._changed.notify()

    def withdraw(self, platform: str, where: Where, asked: Asked, answer_id: str,
                 rest: bool = False, owed: Owing = ()) -> None:
        """After a deletion is committed: queue the change of the answer's confirmation."""
        with self._changed:
            self._arrived.append(((platform, where), Withdrawn(asked, answer_id, rest, owed)))
            self._changed.notify()

    def queued(self) -> list[Saved]:
        """The answers whose confirmation waits for its turn."""
        with self._changed:
            return ([_answer(item) for _, item in self._arrived
                     if isinstance(item, Saved | Revised)]
                    + [s for waiting in self._waiting.values() for s in waiting.answers()])

    def _poke(self) -> None:
        with self._changed:
            self._changed.notify()

    def _step(self) -> bool:
        with self._changed:
            self._take_arrived()
            now = self.clock()
            idle = not self._arrived and (not self._due or self._due[0][0] > now)
        if idle or self.loop.stopping.is_set():
            self.flush()
        with self._changed:
            self._take_arrived()
            now = self.clock()
            while not self.loop.stopping.is_set() and not self._arrived and (
                    not self._due or self._due[0][0] > now) and not self._records.due():
                self._changed.wait(self._wait(now))
                self._take_arrived()
                now = self.clock()
            self._take_arrived()
            stopping = self.loop.stopping.is_set()
            if stopping and not self._due:
                self.flush()
                return False
            if not self._due or (self._due[0][0] > now and not stopping):
                return True
            _, _, key = heapq.heappop(self._due)
            not_before = self._backoff.not_before(key, now)
            if not_before > now and not stopping:
                heapq.heappush(self._due, (not_before, next(self._order), key))
                return True
            waiting = self._posting = self._waiting.pop(key)
            self._last = {k: t for k, t in self._last.items() if t > now - self.SPACING}
            self._last[key] = now
        try:
            self._post(key, waiting, stopping)
        finally:
            with self._changed:
                self._posting = None
        return True

    def _take_arrived(self) -> None:
        """Pace what arrived: a conversation not already waiting is due SPACING after its
        last message (at once, if that was long ago)."""
        for key, item in self._arrived:
            if key not in self._waiting:
                self._waiting[key] = Waiting()
                due = self._last.get(key, -self.SPACING) + self.SPACING
                heapq.heappush(self._due, (due, next(self._order), key))
            self._waiting[key].items.append(item)
        self._arrived = []

    def _post(self, key: Key, waiting: Waiting, stopping: bool = False) -> None:
        platform, where = key
        gateway = self.gateways.get(platform)
        if gateway is None:
            log.warning("no gateway for %s: %d confirmations not posted", platform,
                        len(waiting.answers()))
            return
        try:
            self._post_each(gateway, key, waiting)
        except DeliveryError as exc:
            self._refused(key, waiting, exc, stopping)
        except Exception as exc:  # noqa: BLE001 - what waits is owed: it is not dropped here
            log.exception("could not post to a conversation on %s", platform)
            self._refused(key, waiting, DeliveryError(exc.__class__.__name__), stopping)
        else:
            with self._changed:
                self._backoff.cleared(key)
        self.after()

    def _post_each(self, gateway: ChatGateway, key: Key, waiting: Waiting) -> None:
        """Post what waits, in order, taking each part off `waiting` once it is posted: what
        is left when a post fails is what still waits."""
        self._leave_out_gone(key, waiting)
        while waiting.items:
            item = waiting.items[0]
            if isinstance(item, Saved):
                batch = {id(s): s for s in _together(waiting.items)}
                self._confirm(gateway, key, list(batch.values()))
                with self._changed:
                    waiting.items[:] = [i for i in waiting.items if id(i) not in batch]
                continue
            if isinstance(item, Offered):
                self._offer(gateway, key, item)
            elif isinstance(item, Settled):
                self._settle(gateway, key, item)
            elif isinstance(item, Revised):
                self._revise(gateway, key, item.saved)
            elif isinstance(item, Withdrawn):
                self._withdraw(gateway, key, item)
            elif item.instead_of is not None:
                self._say_instead(gateway, key, item, item.instead_of)
            else:
                gateway.say(key[1], item.said)
            with self._changed:
                waiting.items.pop(0)
                self._records.discharged += item.owed

    def _leave_out_gone(self, key: Key, waiting: Waiting) -> None:
        """Take off `waiting` the answers that no longer stand (deleted, their round deleted,
        their author forgotten, while they waited): a confirmation must not repeat words
        someone took back. The others are confirmed as they would have been. So too the
        other acknowledgements owed no more (`_leave_out_unowed`)."""
        self._leave_out_unowed(waiting)
        answers = waiting.answers()
        if not answers:
            return
        try:
            standing = {id(s) for s in self.standing(answers)}
        except Exception:  # noqa: BLE001 - the database is away: forget-me cannot run either
            log.exception("could not check that the answers to confirm still stand")
            return
        left_out = [item for item in waiting.items if isinstance(item, Saved | Revised)
                    and id(_answer(item)) not in standing]
        if not left_out:
            return
        with self._changed:
            out = {id(item) for item in left_out}
            waiting.items[:] = [item for item in waiting.items if id(item) not in out]
            self._records.discharged += [n for item in left_out if isinstance(item, Revised)
                                         for n in item.owed]
        self._say_left_out([_answer(item) for item in left_out])
        self._give_up([item for item in left_out if isinstance(item, Saved)], key[0])

    @staticmethod
    def _say_left_out(gone: list[Saved]) -> None:
        """Say in the log that these answers were left out of a confirmation: deleted (or
        their round, or their author forgotten), or votes edited into comments (whose
        notices say so)."""
        if gone:
            log.info("left out of a confirmation %d %s no longer saved as written while it "
                     "waited (deleted, or a vote edited into a comment)", len(gone),
                     _answers(len(gone)))

    def _leave_out_unowed(self, waiting: Waiting) -> None:
        """Take off `waiting` the notices, offers and deletions' acknowledgements none of
        whose rows is owed any more: they went with their round (deleted, or its answers by
        retention) or their reader (forgotten) while they waited, so nothing about either is
        posted after. One that replaced another waiting (an offer settled) is owed while
        either row is."""
        owing = [n for item in waiting.items if not isinstance(item, Saved | Revised)
                 for n in item.owed]
        if not owing:
            return
        try:
            owed = self.owing(owing)
        except Exception:  # noqa: BLE001 - the database is away: no deletion can commit either
            log.exception("could not check that the notices to post are owed still")
            return
        with self._changed:
            before = len(waiting.items)
            waiting.items[:] = [item for item in waiting.items
                                if isinstance(item, Saved | Revised) or _owed(item, owed)]
            left_out = before - len(waiting.items)
        if left_out:
            log.info("left out %d %s owed no more (a round deleted, or someone forgotten, "
                     "while they waited)", left_out, "notice" if left_out == 1 else "notices")

    def _refused(self, key: Key, rest: Waiting, exc: DeliveryError, stopping: bool) -> None:
        """What is left of a conversation's messages after the platform refused one: waits
        for its next turn (before anything queued since), or is given up."""
        platform, _ = key
        answers = len(rest.answers())
        with self._changed:
            failures = self._backoff.failed(key, exc)
        if stopping:
            log.warning("could not confirm %d %s on %s before stopping (%s): owed still",
                        answers, _answers(answers), platform, exc.reason)
            return
        if self._backoff.gives_up(exc, failures):
            if answers:
                log.warning("gave up confirming %d %s on %s: %s", answers, _answers(answers),
                            platform, exc.reason)
            else:
                log.warning("gave up a notice on %s: %s", platform, exc.reason)
            with self._changed:
                self._backoff.cleared(key)
            self._give_up([item for item in rest.items if isinstance(item, Saved)], platform)
            with self._changed:  # owed no more either
                self._records.discharged += [n for item in rest.items
                                             if not isinstance(item, Saved) for n in item.owed]
            return
        pause = self._backoff.pause(exc, failures)
        log.info("confirming %d %s on %s again in %.0f s: %s", answers, _answers(answers),
                 platform, pause, exc.reason)
        with self._changed:
            now = self.clock()
            self._backoff.wait_until(key, now + pause)
            later = self._waiting.get(key)
            if later is None:
                self._waiting[key] = rest
                heapq.heappush(self._due, (now + pause, next(self._order), key))
            else:  # queued while this was posted: it comes after what was refused
                self._waiting[key] = Waiting(rest.items + later.items)

    def _give_up(self, saved: list[Saved], platform: str) -> None:
        if not saved:
            return
        try:
            self.given_up(platform, saved)
        except Exception:  # noqa: BLE001 - owed still: the next process tries them again
            log.exception("could not record that %d confirmations were given up", len(saved))

    def _confirm(self, gateway: ChatGateway, key: Key, batch: list[Saved]) -> None:
        """Post one confirmation, and keep where it landed (and its answer, if it is one):
        once for each round whose answers it repeats, so that each round's deletion finds
        it."""
        platform, where = key
        sent = gateway.confirm(where, batch)
        first = batch[0]
        answer = first.external_id if len(batch) == 1 else None
        with self._changed:
            self._records.confirmed += [
                Confirmed(platform, sent, first.asked.participant.id, round_id, answer,
                          answers=tuple(s.external_id for s in batch
                                        if s.asked.round_id == round_id and s.external_id),
                          files_dropped=tuple(s.external_id for s in batch
                                              if s.asked.round_id == round_id
                                              and s.external_id and s.files_dropped))
                for round_id in dict.fromkeys(s.asked.round_id for s in batch)]
        self.flush()  # recorded at once: were the process to die now, it would be posted again

    def _offer(self, gateway: ChatGateway, key: Key, offered: Offered) -> None:
        """Post the offer, and keep where it landed: its button carries the person's words."""
        platform, where = key
        sent = gateway.offer_to_save(where, offered.said, offered.kept)
        with self._changed:
            kept = offered.kept
            self._records.confirmed.append(Confirmed(platform, sent, offered.participant_id,
                                             kept.round_id, _answer_id(offered),
                                             offer_for=kept.prompt_id))

    def _settle(self, gateway: ChatGateway, key: Key, settled: Settled) -> None:
        """Replace the offer posted before (remembered first, so one posted moments ago is
        found)."""
        platform, _ = key
        self.flush()
        try:
            offer = self.recall_offer(platform, settled.answer_id)
        except Exception:  # noqa: BLE001 - the words are saved; their confirmation says so
            log.exception("could not look up the offer of words saved by an edit")
            return
        if offer is not None:
            gateway.replace_message(offer, settled.said)

    def _say_instead(self, gateway: ChatGateway, key: Key, notice: Notice,
                     answer: ConfirmationOf) -> None:
        """Replace the answer's own confirmation with the notice (remembered first, so one
        posted moments ago is found); else post it, and keep where it landed as that."""
        platform, where = key
        self.flush()
        earlier = self._recall(platform, answer.round_id, answer.answer_id)
        if earlier is not None:
            gateway.replace_message(earlier, notice.said)
            return
        sent = gateway.say(where, notice.said)
        with self._changed:
            self._records.confirmed.append(Confirmed(platform, sent, answer.participant_id,
                                                     answer.round_id, answer.answer_id))

    def _revise(self, gateway: ChatGateway, key: Key, saved: Saved) -> None:
        """Update the answer's own confirmation to say it was updated, or those of several
        answers repeating it to repeat its new words; else post one."""
        platform, _ = key
        if saved.external_id is not None:
            self.flush()  # a confirmation posted moments ago is remembered before it is looked for
            earlier = self._recall(platform, saved.asked.round_id, saved.external_id)
            if earlier is not None and gateway.update_confirmation(earlier, [saved]):
                return
            if earlier is None and self._revise_together(gateway, platform, saved,
                                                          saved.external_id):
                return
        self._confirm(gateway, key, [saved])

    def _revise_together(self, gateway: ChatGateway, platform: str, saved: Saved,
                         answer_id: str) -> bool:
        """Bring the confirmations of several answers repeating the edited one up to date,
        its new words beside the others' as they stand (one whose answers were deleted in
        part repeats none: it says what was deleted); whether one was."""
        try:
            together = self.recall_together(platform, saved.asked.round_id, answer_id)
        except Exception:  # noqa: BLE001 - the edit is saved; a new confirmation says so
            log.exception("could not look up the confirmations repeating an edited answer")
            return False
        updated = False
        for one in together:
            if one.gone:
                continue
            shown = [replace(saved, added=s.added,
                             files_dropped=saved.files_dropped or s.files_dropped)
                     if _same(s, saved) else s for s in one.standing]
            if any(_same(s, saved) for s in shown):
                updated = gateway.update_confirmation(one.sent, shown) or updated
        return updated

    def _withdraw(self, gateway: ChatGateway, key: Key, withdrawn: Withdrawn) -> None:
        """Replace the deleted answer's own confirmation, if it is known; else those of
        several answers repeating it, which then say whether the others stay saved (none
        kept is left: it would take a new message to say less)."""
        platform, _ = key
        asked, answer_id = withdrawn.asked, withdrawn.answer_id
        self.flush()
        earlier = self._recall(platform, asked.round_id, answer_id)
        if earlier is not None:
            gateway.replace_message(earlier, deleted(asked, withdrawn.rest))
            return
        try:
            together = self.recall_together(platform, asked.round_id, answer_id)
        except Exception:  # noqa: BLE001 - the deletion is saved; forget-me takes it down
            log.exception("could not look up the confirmations repeating a deleted answer")
            return
        for one in together:
            gone = [(g.asked, g.rest) for g in one.gone] or [(asked, withdrawn.rest)]
            gateway.replace_message(one.sent, deleted_among(
                gone, [s.asked for s in one.standing]))

    def _recall(self, platform: str, round_id: int, answer_id: str) -> Sent | None:
        try:
            return self.recall(platform, round_id, answer_id)
        except Exception:  # noqa: BLE001 - the edit is saved; a new confirmation says so
            log.exception("could not look up the confirmation of an edited answer")
            return None

    def flush(self) -> None:
        """Hand over where the confirmations posted since the last flush landed, and what is
        owed no more (any thread: forget-me flushes before it looks; Records.flush)."""
        self._records.flush()

    def _wait(self, now: float) -> float | None:
        """Seconds until something is due: a conversation's turn, or recording again."""
        waits = [self._due[0][0] - now] if self._due else []
        record = self._records.wait()
        if record is not None:
            waits.append(record)
        return max(0.0, min(waits)) if waits else None


def _answers(count: int) -> str:
    return "answer" if count == 1 else "answers"


def _answer(item: Saved | Revised) -> Saved:
    return item.saved if isinstance(item, Revised) else item


def _together(items: list[Arrived]) -> list[Saved]:
    """The answers to confirm in one message, from the first of `items`: those that come
    before the next message posted anew (a notice, an offer), which then comes after them,
    as it was written after them. Changes to messages posted before (an edit's, a
    deletion's, an offer settled) do not part them: those that change this confirmation
    come after it still."""
    together: list[Saved] = []
    for item in items:
        if isinstance(item, Notice | Offered):
            break
        if isinstance(item, Saved):
            together.append(item)
    return together[:CONFIRMED_TOGETHER]


def _owed(item: Notice | Offered | Settled | Withdrawn, owed: set[int]) -> bool:
    """Whether `item` is owed still: one owed in no row (queued as it is) always is."""
    return not item.owed or not owed.isdisjoint(item.owed)


def _answer_id(offered: Offered) -> str:
    """The id the words an offer holds would be saved under."""
    return external_id(offered.kept.channel_id, offered.kept.message_id)


def _same(one: Saved, other: Saved) -> bool:
    """Whether these are the same answer (by round and id)."""
    return (one.asked.round_id, one.external_id) == (other.asked.round_id, other.external_id)
