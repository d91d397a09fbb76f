"""Reviewing a digest before it posts: the round's facilitators see the draft, rename, merge,
move answers (to a theme, "Other answers" or a new theme), hide a quote, write a question's
lead, and approve. One place for Slack, Teams and `roundtable digest review`.

Themes are named by their number in the question as the draft shows it now; a form names them
by the answers they held when it was opened as well (bot.core.digest.theme_marks), so a form
opened before another edit changes the theme it showed, wherever it is now, or nothing. An
edit is stored against the answers the theme holds (bot.core.digest.edits), so it carries
over to later digests. Every change is in the audit log, with who made it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot.app.access import require_facilitator, round_of, who
from bot.app.actors import Actor
from bot.app.deadlines import Outcome
from bot.app.roundtable import Roundtable
from bot.core import audit, digest_review
from bot.core.bot_messages import (
    draft_removed,
    forget_form,
    form_closed,
    form_outdated,
    remember_form,
    rounds_standing,
    sent_again,
    take_down,
)
from bot.core.digest.build import build_digest
from bot.core.digest.edits import LEAD_LIMIT, TITLE_LIMIT, lead_of, load_edits
from bot.core.digest.model import AnswerView, DigestView, Draft, PromptDigest, ThemeView
from bot.core.digest.render_review import POSTED_LATER, approver, theme_id
from bot.core.digest.theme_marks import ThemeMark, marked
from bot.core.digest_posts import post_again
from bot.core.errors import NotFound, RoundtableError
from bot.core.ports import DeliveryError, Sent
from bot.core.said import Code, DirectChat, Place, Said, lines, said
from bot.core.wording import counted, listed, quoted_last
from storage.db import reading, transaction
from storage.models import Digest, DigestEdit, Round

log = logging.getLogger(__name__)

AUDITED_AS = {"show": "unhide"}
"""An edit's audit action where it differs from the edit's own name: `digest.show` is a
digest viewed. (Entries made before un-hiding had its own name read `digest.show` with the
detail "quote … shown again".)"""

MODES = ("review", "post")
UNREVIEWED = ("post", "wait")
ID_KEPT = 100
"""An answer id longer than this (a CSV's id column takes 200 characters) is named in a form by
its key (`answer_key`): a form's choice holds only so much (Slack: 150 characters)."""
KEY_MARK = "key:"


@dataclass(frozen=True)
class Reviewing:
    """What a facilitator sees of a round's digest: the draft waiting (if any) and the digest
    as it would post now."""

    round_id: int
    view: DigestView
    draft: Draft | None
    hidden_words: dict[str, str]
    """The words of the answers hidden in review, by id, to decide whether to quote one again
    (digest_review.hidden_words): the view shows none of them."""


def reviewing(app: Roundtable, actor: Actor, round_id: int) -> Reviewing:
    """The round's digest as it would post now, and its draft to approve (waiting, or
    refused for good by the platform once approved)."""
    require_facilitator(app, actor, "review")
    now = app.clock()
    with reading(app.database.sessions) as session:
        round_ = round_of(app, session, actor, round_id)
        row = digest_review.approvable_draft(session, round_.id)
        draft = (digest_review.draft_of(session, row, now, summariser=app.summariser)
                 if row is not None else None)
        view = draft.view if draft is not None else build_digest(
            session, round_id, now, summariser=app.summariser)
        return Reviewing(round_id, view, draft, digest_review.hidden_words(session, view))


@dataclass(frozen=True)
class Opened:
    """A draft waiting for review as an edit form opens on it."""

    draft: Draft
    hidden_words: dict[str, str]
    """The words of the answers hidden in review, by id, for the form's "Quote again"
    (digest_review.hidden_words): the draft shows none of them."""

    def listing(self, prompt_id: str) -> list[str]:
        """The answers an edit form of this question lists word for word, by id."""
        prompt = self.draft.view.prompt(prompt_id)
        return [] if prompt is None else [a.reply_id for a in prompt.answers]


def waiting(app: Roundtable, actor: Actor, round_id: int, digest_id: int) -> Opened:
    """The draft `digest_id` of the round, as it would post now, while it is the one waiting
    for review (what an edit form is opened on); else RoundtableError saying what became of
    it."""
    require_facilitator(app, actor, "review")
    with reading(app.database.sessions) as session:
        _reviewed_round(app, session, actor, round_id)
        row = _still_waiting(session, round_id, digest_id)
        draft = digest_review.draft_of(session, row, app.clock(), summariser=app.summariser)
        return Opened(draft, digest_review.hidden_words(session, draft.view))


def form_opened(app: Roundtable, actor: Actor, round_id: int, form_id: str,
                listing: Collection[str] = (), *, keep: Callable[[Session], None] | None = None
                ) -> Said | None:
    """An edit form the actor opened on a draft of the round (`form_id`: the platform's id
    of it; `listing`: the answers it lists word for word, `Opened.listing`): kept, so that it
    is closed when they are deleted (bot.core.bot_messages.FORM), or closed at once when some
    already are. `keep`: how the platform keeps it instead, in the transaction that checks
    it (a Teams form is on a draft's card, kept by the adapter); such a form the adapter
    closes itself. None when it is kept open; else why it is closed."""
    form = Sent(actor.user_id, form_id)
    now = app.clock()
    with transaction(app.database.sessions) as session:
        # locked: a deletion of the round, or forget-me, either finds this form or has
        # happened before (and the check below sees what it deleted)
        if not rounds_standing(session, [round_id]):
            closing = form_closed(actor.platform, form, round_id, now)
        elif digest_review.any_gone(session, round_id, listing):
            closing = form_outdated(actor.platform, form, now)
        else:
            if keep is None:
                remember_form(session, actor.platform, form, round_id, now)
            else:
                keep(session)
            return None
    if keep is None:  # its words were deleted while it opened: nothing would close it later
        take_down(app.gateways, [closing])
    return closing.note


def form_not_opened(round_id: int, why: str) -> Said:
    """What a facilitator is told when the platform would not show the edit form they asked
    for (nothing is kept as open)."""
    return said(f"The edit form on the draft digest of round {round_id} could not be opened "
                f"({why}). Press Edit on the draft again.")


def draft_sent_again(app: Roundtable, platform: str, channel_id: str, old_id: str,
                     new_id: str, round_id: int) -> bool:
    """A facilitator's copy of a draft of the round the platform no longer had, sent again
    as a new message (a form opened on it came so): kept under its new id, so that it is
    brought up to date, and a form open on it closed when answers it lists are deleted.
    False when the round was deleted (or purged) as it was sent: that deletion could not
    know of the new message, which is replaced at once by the note it leaves in a draft's
    place (as bot.core.digest_review.send_drafts does)."""
    now = app.clock()
    with transaction(app.database.sessions) as session:
        if rounds_standing(session, [round_id]):
            sent_again(session, platform, Sent(channel_id, old_id), Sent(channel_id, new_id))
            return True
    take_down(app.gateways, [draft_removed(platform, Sent(channel_id, new_id), round_id, now)])
    return False


def form_done(app: Roundtable, actor: Actor, form_id: str) -> None:
    """The actor saved or closed an edit form: it is no longer open, so nothing is kept to
    close it."""
    with transaction(app.database.sessions) as session:
        forget_form(session, actor.platform, Sent(actor.user_id, form_id))


def _reviewed_round(app: Roundtable, session: Session, actor: Actor, round_id: int, *,
                    doing: str | None = None) -> Round:
    """The round a draft or its form is of (`round_of`), saying so when it was deleted
    since, or its answers were (retention); `doing`: what was under way as they went."""
    try:
        round_ = round_of(app, session, actor, round_id)
    except NotFound:
        if audit.done_to_round(session, "round.delete", round_id):
            raise NotFound(f"round {round_id} was deleted, with its answers and drafts, "
                           + (f"while {doing}" if doing else "so nothing was changed")
                           ) from None
        raise
    if round_.purged_at is not None:
        raise RoundtableError(f"round {round_id}'s answers were deleted (retention)"
                              + (f" while {doing}" if doing else ": there is no digest to edit"))
    return round_


def _still_waiting(session: Session, round_id: int, digest_id: int, *, lock: bool = False
                   ) -> Digest:
    """The round's draft `digest_id`, when it is still the one waiting for review: a form
    opened on an older card (the draft approved, posted at its deadline, or replaced by a
    newer one) numbers its themes as that draft did, so nothing of it may be stored.
    `lock`: held until the transaction ends, so an approval cannot slip in between."""
    row = session.get(Digest, digest_id, with_for_update=lock)
    if row is None or row.round_id != round_id:
        raise NotFound(f"round {round_id} has no such draft digest; please use the newest "
                       "draft")
    if row.state != "review":
        raise RoundtableError(_stale(round_id, row.state, row.approved_by))
    return row



def _stale(round_id: int, state: str, by: str | None) -> str:
    if state == "superseded":
        return (f"that draft of round {round_id} was replaced (by a newer draft, or a digest "
                "posted meanwhile), so nothing was changed; please edit the newest draft")
    if by == audit.SCHEDULER:
        return (f"that draft of round {round_id} was already posted at its review deadline, "
                "so nothing was changed")
    if state == "claimed":
        return f"that draft of round {round_id} was already approved, so nothing was changed"
    if state == "posted":
        return (f"that draft of round {round_id} was already approved and posted, so nothing "
                "was changed")
    return f"that draft of round {round_id} is not waiting for review, so nothing was changed"


def lead_now(app: Roundtable, actor: Actor, round_id: int, prompt_id: str) -> str | None:
    """The lead a question of the round's digest has now (what an edit form starts from),
    read from the edits alone: no digest is built for it."""
    require_facilitator(app, actor, "review")
    with reading(app.database.sessions) as session:
        _reviewed_round(app, session, actor, round_id)
        return lead_of(load_edits(session, round_id), prompt_id)


@dataclass(frozen=True)
class ThemeRef:
    """A theme as a facilitator names it: by its number in the question as the draft shows
    it now (the command line prints the draft just before); from a form, by the mark of the
    answers it held when the form was opened, and its number and title then, to say which
    theme it was when it is no longer there."""

    number: int
    mark: ThemeMark | None = None
    title: str = ""
    source: str = field(default="", compare=False)
    """The form's field that named it, for saying where a refusal about it is (not part of
    which theme it is)."""


class ThemeChanged(RoundtableError):
    """A theme a form named is no longer in the draft as the form showed it."""

    def __init__(self, message: str, ref: ThemeRef) -> None:
        super().__init__(message)
        self.ref = ref


@dataclass(frozen=True)
class Change:
    """One edit as a facilitator asks for it: themes as ThemeRef, answers by the id the
    draft shows."""

    action: str
    """rename, merge, move, group (answers as a new theme), hide, show (a hidden answer quoted
    again) or lead."""
    prompt_id: str = ""
    theme: ThemeRef | None = None
    """rename, merge: the theme edited (merge: the one merged away)."""
    into: ThemeRef | None = None
    """merge: the theme that takes the other's answers and keeps its title."""
    reply_id: str = ""
    """move, hide, show: the answer."""
    reply_ids: tuple[str, ...] = ()
    """group: the answers that make the new theme."""
    to: ThemeRef | None = None
    """move: the theme it goes to; None: "Other answers"."""
    text: str = ""
    """rename, group: the title; lead: the line ("" takes it away)."""
    source: str = ""
    """Where the change was asked for (a form's field), for saying where a refusal is."""


class ChangeRefused(RoundtableError):
    """A change that cannot be made, and which one: nothing of the request was stored."""

    def __init__(self, change: Change, refused: RoundtableError) -> None:
        super().__init__(str(refused), refused.said)
        self.change = change
        self.field = (refused.ref.source if isinstance(refused, ThemeChanged)
                      and refused.ref.source else change.source)
        """Where the refusal belongs in the form: the theme that changed, else the change's
        own field."""


def edit(app: Roundtable, actor: Actor, round_id: int, changes: list[Change],
         digest_id: int | None = None, seen_at: datetime | None = None, *,
         saved: Callable[[Session], None] | None = None) -> Said:
    """Make the changes, all or none, against the digest as it is now; then bring the drafts
    shown to facilitators up to date. `digest_id`: the draft the changes were asked on (a
    card's or a message's form), which must still be the one waiting for review; `seen_at`:
    when that form's draft was built (review_form.seen_in), so that the answers given since, which
    the facilitator could not see, may join a theme they make. `saved`: what the platform
    does once they are all made, in the transaction that stores them (a Teams card's form is
    no longer kept as open, so its card follows the draft again); a refusal does not do it."""
    if not changes:
        raise RoundtableError("nothing to change")
    with _editing(app, actor, round_id, digest_id) as (session, view, now):
        done = []
        renamed: dict[tuple[str, ...], str] = {}
        placed = _placed(view, changes)
        for change in changes:
            try:
                done.append(_change(session, actor, now, view, change, seen_at, renamed,
                                    placed))
            except RoundtableError as exc:
                raise ChangeRefused(change, exc) from None
        if saved is not None:
            saved(session)
    _refresh(app, round_id)
    return lines(done)


def answer_key(reply_id: str) -> str:
    """How a form's choice names an answer: by its id, or by a key made from an id longer than
    ID_KEPT; an edit takes either (`_named`)."""
    if len(reply_id) <= ID_KEPT:
        return reply_id
    digest = hashlib.sha256(reply_id.encode()).digest()
    return KEY_MARK + base64.b32encode(digest[:15]).decode().lower()


def _named(view: DigestView, change: Change) -> Change:
    """The change with the answers a form named by their key named by their id; a key no
    answer has now (a stale form) stays, and is refused as an answer the round does not have."""
    ids = {a.reply_id for p in view.prompts for a in p.answers}
    keyed = {answer_key(r): r for r in ids if len(r) > ID_KEPT}
    if not keyed:
        return change

    def id_of(value: str) -> str:
        return value if value in ids else keyed.get(value, value)

    return replace(change, reply_id=id_of(change.reply_id),
                   reply_ids=tuple(map(id_of, change.reply_ids)))


def edit_outcome(round_id: int, outcome: Outcome[Said]) -> Said:
    """What to tell a facilitator of an edit that outlasted the platform's wait: saved (and
    what changed), or not saved and why (the draft was approved meanwhile, say)."""
    if outcome.error is None and outcome.result is not None:
        return said(f"Your changes to the draft of round {round_id} are saved: ",
                    outcome.result)
    if isinstance(outcome.error, RoundtableError):
        words = outcome.error.said
    else:
        log.error("a review change failed after the platform's wait: %s",
                  type(outcome.error).__name__)
        words = said("something went wrong; please try again")
    return said(f"Your changes to the draft of round {round_id} were not saved: ", words)


def _placed(view: DigestView, changes: list[Change]) -> set[str]:
    """The answers a request moves or makes a theme of: a reply set aside as not an answer
    among them is taken for one, so the request may hide it too."""
    named = [_named(view, change) for change in changes]
    return ({c.reply_id for c in named if c.action == "move"}
            | {r for c in named if c.action == "group" for r in c.reply_ids})


def _change(session: Session, actor: Actor, now: datetime, view: DigestView, change: Change,
            seen_at: datetime | None = None,
            renamed: dict[tuple[str, ...], str] | None = None,
            placed: Collection[str] = ()) -> Said:
    """One change, stored and audited; what it did, in a line. `renamed`: the titles given by
    the request's earlier renames, by the answers of the theme renamed (the view still has
    the old ones), so a merge or move into that theme names it as it will be. `placed`: the
    answers the request moves or groups (`_placed`)."""
    renamed = {} if renamed is None else renamed
    change = _named(view, change)

    def title_of(theme: ThemeView) -> str:
        return renamed.get(tuple(theme.reply_ids), theme.title)

    round_id = view.round.id
    if change.source:
        _still_held(view, change)
    if change.action in ("move", "hide", "show", "group"):
        question = _answer_question(view, change.reply_ids[0] if change.action == "group"
                                    and change.reply_ids else change.reply_id,
                                    votes=change.action in ("hide", "show"))
        prompt_id = question.prompt_id
    else:
        question = _question(view, change.prompt_id)
        prompt_id = question.prompt_id
    if change.action == "rename":
        title = _one_line(change.text, "title", TITLE_LIMIT)
        number, chosen = _theme(question, change.theme)
        size = counted(len(chosen.reply_ids), "answer")
        _record(session, actor, now, round_id, prompt_id, "rename", theme=chosen.reply_ids,
                text=title, detail=f"theme {theme_id(prompt_id, number)} ({size}) renamed "
                                   f"“{title}”")
        renamed[tuple(chosen.reply_ids)] = title
        return said(f"Theme {theme_id(prompt_id, number)} is now {quoted_last(title)}")
    if change.action == "merge":
        (number, merged), (into, kept) = (_theme(question, change.theme),
                                          _theme(question, change.into))
        if number == into:
            raise RoundtableError("a theme cannot be merged into itself: give two different "
                                  "theme numbers")
        _record(session, actor, now, round_id, prompt_id, "merge", theme=kept.reply_ids,
                other=merged.reply_ids,
                detail=f"theme {theme_id(prompt_id, number)} merged into theme "
                       f"{theme_id(prompt_id, into)}")
        return said(f"Theme {theme_id(prompt_id, number)} is merged into theme "
                    f"{theme_id(prompt_id, into)}, " + quoted_last(title_of(kept)))
    if change.action == "move":
        reply_id = change.reply_id
        if change.prompt_id and change.prompt_id != prompt_id:
            # a theme is numbered within its question: the number alone would pick a theme
            # of the answer's own question that the facilitator never meant
            raise RoundtableError(f"answer {reply_id} is an answer to {prompt_id}, not to "
                                  f"{change.prompt_id}: name a theme of {prompt_id} "
                                  f"({prompt_id}/1) or other")
        set_aside = any(a.reply_id == reply_id and a.noise for a in question.answers)
        if change.to is None:
            target, where = None, "Other answers"
            if reply_id in question.unthemed_reply_ids and not set_aside:
                raise RoundtableError(f"answer {reply_id} is among the other answers already")
        else:
            number, chosen = _theme(question, change.to)
            if reply_id in chosen.reply_ids:
                raise RoundtableError(f"answer {reply_id} is in theme "
                                      f"{theme_id(prompt_id, number)} already")
            target, where = (chosen.reply_ids,
                             f"theme {theme_id(prompt_id, number)}, “{title_of(chosen)}”")
        _record(session, actor, now, round_id, prompt_id, "move", theme=target,
                reply_id=reply_id, detail=f"answer {reply_id} of {prompt_id} moved to "
                                          + ("other answers" if target is None
                                             else f"theme {theme_id(prompt_id, number)}"))
        return said(f"Answer {reply_id} is now in {where}"
                    + (", taken for an answer." if set_aside else "."))
    if change.action == "group":
        return _group(session, actor, now, round_id, question, change, seen_at)
    if change.action == "hide":
        _quoted_now(question, change.reply_id, placed=change.reply_id in placed)
        _record(session, actor, now, round_id, prompt_id, "hide", reply_id=change.reply_id,
                detail=f"quote {change.reply_id} of {prompt_id} hidden")
        return said(_hidden_said(question, change.reply_id))
    if change.action == "show":
        answer = _answer(question, change.reply_id)
        if not answer.hidden:
            raise RoundtableError(f"answer {change.reply_id} is not hidden" + (
                "" if answer.quotable else ": its author asked not to be quoted"))
        _record(session, actor, now, round_id, prompt_id, "show", reply_id=change.reply_id,
                detail=f"quote {change.reply_id} of {prompt_id} shown again")
        return said(f"Answer {change.reply_id} may be quoted again.")
    if change.action == "lead":
        text = " ".join(change.text.split())
        if text:
            text = _one_line(text, "lead", LEAD_LIMIT)
        _record(session, actor, now, round_id, prompt_id, "lead", text=text,
                detail=f"lead of {prompt_id} " + ("written" if text else "taken away"))
        return said(f"The lead of {prompt_id} is "
                    + (quoted_last(text) if text else "taken away."))
    raise RoundtableError(f"{change.action!r} is not a change a digest takes: "
                          "rename, merge, move, group, hide, show or lead")


def _group(session: Session, actor: Actor, now: datetime, round_id: int,
           question: PromptDigest, change: Change, seen_at: datetime | None) -> Said:
    """Answers of one question taken out of where they are, as a new theme with a title;
    answers given after `seen_at` (the facilitator did not see them) may join it later."""
    title = _one_line(change.text, "title", TITLE_LIMIT)
    ids = list(dict.fromkeys(change.reply_ids))
    answers = {a.reply_id: a for a in question.answers}
    strangers = [r for r in ids if r not in answers]
    if strangers:
        raise RoundtableError(f"a new theme holds answers of one question: {strangers[0]} is "
                              f"not an answer of {question.prompt_id}")
    prompt_id = question.prompt_id
    _record(session, actor, now, round_id, prompt_id, "group", other=ids, text=title,
            seen_at=min(seen_at, now) if seen_at is not None else None,
            detail=f"{counted(len(ids), 'answer')} of {prompt_id} made a new theme “{title}”")
    # the title last: a title that ends its own sentence ends the confirmation too
    which = (f"Answer {ids[0]} of {prompt_id} is" if len(ids) == 1
             else f"Answers {listed(ids)} of {prompt_id} are")
    return said(f"{which} now a new theme, {quoted_last(title)}")


def approve(app: Roundtable, actor: Actor, round_id: int, digest_id: int | None = None
            ) -> Said:
    """Post the round's digest waiting for review (the one named, when given); once, however
    many facilitators approve it. One the platform refused for good (the bot not in the
    channel, say) is tried again, once, when approved again."""
    require_facilitator(app, actor, "approve")
    with reading(app.database.sessions) as session:
        round_of(app, session, actor, round_id)
        row = (session.get(Digest, digest_id) if digest_id is not None
               else digest_review.waiting_draft(session, round_id)
               or digest_review.latest_draft(session, round_id))
        if row is None or row.round_id != round_id:
            raise NotFound(f"round {round_id} has no digest waiting for review")
        digest_id, state, by = row.id, row.state, row.approved_by
    if state not in ("review", "failed"):
        return _settled(round_id, state, by, actor.platform)
    try:
        if state == "review":
            posted = digest_review.release(app.database.sessions, app.gateways, digest_id,
                                           app.clock, who(actor), summariser=app.summariser)
        else:  # refused for good before: tried again, once it may have been fixed
            posted = post_again(app.database.sessions, app.gateways, digest_id, app.clock,
                                who(actor), summariser=app.summariser)
    except DeliveryError as exc:
        # its copies say it was not posted and why, keeping Approve (refused for good), or
        # that it is approved and not posted yet (Approve on them would only say it again)
        digest_review.refresh_draft(app.database.sessions, app.gateways, digest_id, app.clock,
                                    summariser=app.summariser)
        if exc.permanent:
            again = (said("run ", Code(f"roundtable digest review {round_id} --approve"),
                          " again") if actor.is_operator
                     else said("press Approve on the draft again"))
            raise RoundtableError(said=said(
                f"the digest of round {round_id} could not be posted: ",
                exc.refusal.then(again, " to post it"))) from exc
        # the approval stands: the digest stays claimed, and recovery posts it
        why = exc.reason + (f". {exc.hint}" if exc.hint else "")
        return said(f"Approved: the digest of round {round_id} could not be posted yet "
                    f"({why}); {POSTED_LATER}, so there is nothing more to do.")
    if posted is None:
        with reading(app.database.sessions) as session:
            row = session.get_one(Digest, digest_id)
            return _settled(round_id, row.state, row.approved_by, actor.platform)
    _refresh(app, round_id)
    return said(f"Approved: the digest of round {round_id} is posted in ",
                Place(posted.channel_id), ".")


def edit_and_approve(app: Roundtable, actor: Actor, round_id: int, changes: list[Change]
                     ) -> Said:
    """Make the changes to the draft waiting for review, then post it (the command line's
    `--approve` with edits); when no draft waits (it was approved already, say), nothing is
    changed: the edits were meant for that post. Given without --approve they would be kept
    for the round's next digests, and the refusal says so."""
    require_facilitator(app, actor, "approve")
    with reading(app.database.sessions) as session:
        round_of(app, session, actor, round_id)
        row = digest_review.waiting_draft(session, round_id)
        if row is None:
            latest = digest_review.latest_draft(session, round_id)
            raise RoundtableError(
                (_stale(round_id, latest.state, latest.approved_by) if latest is not None
                 else f"round {round_id} has no digest waiting for review, so nothing was "
                      "changed")
                + "\nThe edits given were not kept; to keep them for the round's next "
                  "digests, run the command again without --approve.")
        digest_id = row.id
    edited = edit(app, actor, round_id, changes, digest_id=digest_id)
    return lines([edited, approve(app, actor, round_id, digest_id)])


def show(app: Roundtable, actor: Actor, round_id: int) -> Said:
    """Send the actor the round's draft waiting for review, in their chat with the bot."""
    require_facilitator(app, actor, "review")
    with reading(app.database.sessions) as session:
        round_of(app, session, actor, round_id)
        row = digest_review.waiting_draft(session, round_id)
        digest_id = row.id if row is not None else None
    if digest_id is None or actor.is_operator:
        raise RoundtableError(f"round {round_id} has no digest waiting for review"
                              if digest_id is None else "the command line shows the draft: "
                              f"roundtable digest review {round_id}")
    if not digest_review.send_drafts(app.database.sessions, app.gateways, digest_id,
                                     app.clock, to=[actor.user_id],
                                     summariser=app.summariser):
        with reading(app.database.sessions) as session:  # the draft sent says it was removed
            _reviewed_round(app, session, actor, round_id,
                            doing="its draft was being sent to you")
        raise RoundtableError("the draft could not be sent to you; try again in a minute")
    return said(f"The draft digest of round {round_id} is in ", DirectChat(), ".")


def set_review(app: Roundtable, actor: Actor, round_id: int, mode: str | None = None,
               unreviewed: str | None = None, hours: int | None = None) -> Said:
    """How a round's digests go out: reviewed first or posted as built; what becomes of one
    nobody approves within `hours`."""
    require_facilitator(app, actor, "set")
    if mode is not None and mode not in MODES:
        raise RoundtableError(f"review: {mode!r} is not one of {', '.join(MODES)}")
    if unreviewed is not None and unreviewed not in UNREVIEWED:
        raise RoundtableError(f"unreviewed: {unreviewed!r} is not one of "
                              f"{', '.join(UNREVIEWED)}")
    if hours is not None and not 1 <= hours <= 24 * 14:
        raise RoundtableError("the review deadline is given in hours, from 1 to 336 (two "
                              "weeks)")
    if mode is None and unreviewed is None and hours is None:
        raise RoundtableError("nothing to change: give review or post, post or wait for a "
                              "digest nobody approves, or the hours to approve in")
    with transaction(app.database.sessions) as session:
        round_ = round_of(app, session, actor, round_id)
        round_.review = mode or round_.review
        round_.unreviewed = unreviewed or round_.unreviewed
        round_.review_hours = hours or round_.review_hours
        audit.record(session, app.clock(), who(actor), "round.set", round_id=round_id,
                     detail=f"review {round_.review}, unreviewed {round_.unreviewed}, "
                            f"{round_.review_hours} hours")
        shown = review_line(round_id, round_.review, round_.unreviewed, round_.review_hours)
        if round_.review != "review" and (hours is not None or unreviewed is not None):
            return said(shown, f" The {counted(round_.review_hours, 'hour')} to approve in, "
                        "and what becomes of a digest nobody approves, apply once its digests "
                        "wait for review.")
        return shown


def review_line(round_id: int, mode: str, unreviewed: str, hours: int) -> Said:
    if mode != "review":
        return said(f"Round {round_id}: digests are posted as built.")
    then = "posted as built" if unreviewed == "post" else "kept waiting"
    return said(f"Round {round_id}: each scheduled digest goes to its facilitators first; one "
                f"nobody approves within {counted(hours, 'hour')} is {then}.")


def _settled(round_id: int, state: str, by: str | None, platform: str) -> Said:
    """What became of a draft no longer waiting, told to someone on `platform`."""
    if state == "superseded":
        return said(f"That draft of round {round_id} was replaced (by a newer draft, or a "
                    "digest posted meanwhile); nothing was posted.")
    if by == audit.SCHEDULER:
        return said(f"The digest of round {round_id} was already posted at its review "
                    "deadline.")
    if state == "claimed":
        return said(f"The digest of round {round_id} was already approved",
                    approver(by, platform), f" and is not posted yet: {POSTED_LATER}. "
                    "Nothing more was posted.")
    if state == "posted":
        return said(f"The digest of round {round_id} was already approved",
                    approver(by, platform), " and posted; nothing more was posted.")
    return said(f"The digest of round {round_id} is not waiting for review ({state}).")


@contextmanager
def _editing(app: Roundtable, actor: Actor, round_id: int, digest_id: int | None
             ) -> Iterator[tuple[Session, DigestView, datetime]]:
    """The round's digest as it is now, in the transaction that stores an edit and audits
    it (a refused edit changes nothing); with `digest_id`, while that draft waits."""
    require_facilitator(app, actor, "review")
    if app.summariser is not None:
        # The model is asked, where it must be, before the write turn is taken: on SQLite the
        # transaction below holds it, and no answer could be stored while the model thinks.
        # The build inside then finds the model's answers remembered.
        with reading(app.database.sessions) as session:
            _reviewed_round(app, session, actor, round_id)
            build_digest(session, round_id, app.clock(), summariser=app.summariser)
    with transaction(app.database.sessions) as session:
        _reviewed_round(app, session, actor, round_id)
        if digest_id is not None:
            _still_waiting(session, round_id, digest_id, lock=True)
        now = app.clock()
        # the themes as the draft numbers them: worded by the model as the draft is
        yield session, build_digest(session, round_id, now, summariser=app.summariser), now


def _record(session: Session, actor: Actor, now: datetime, round_id: int, prompt_id: str,
            action: str, *, theme: list[str] | None = None, other: list[str] | None = None,
            reply_id: str | None = None, text: str | None = None,
            seen_at: datetime | None = None, detail: str) -> None:
    session.add(DigestEdit(round_id=round_id, prompt_id=prompt_id, action=action,
                           theme=list(theme) if theme is not None else None,
                           other=list(other) if other is not None else None,
                           reply_id=reply_id, text=text, actor=who(actor), at=now,
                           seen_at=seen_at))
    audit.record(session, now, who(actor), f"digest.{AUDITED_AS.get(action, action)}",
                 round_id=round_id, detail=detail)


def _refresh(app: Roundtable, round_id: int) -> None:
    digest_review.refresh_drafts(app.database.sessions, app.gateways, round_id, app.clock,
                                 summariser=app.summariser)


def _question(view: DigestView, prompt_id: str) -> PromptDigest:
    found = view.prompt(prompt_id)
    if found is None:
        raise RoundtableError(f"round {view.round.id} has no question {prompt_id!r}; its "
                              "questions: " + ", ".join(p.prompt_id for p in view.prompts))
    return found


def _theme(question: PromptDigest, ref: ThemeRef | None) -> tuple[int, ThemeView]:
    """The theme named, and its number now."""
    if ref is None:
        raise RoundtableError("which theme? give its number")
    if ref.mark is not None:
        index = marked(question.themes, ref.mark)
        if index is None:
            shown = f"theme {ref.number}" + (f", “{ref.title}”," if ref.title else "")
            raise ThemeChanged(f"{shown} has changed since this form was opened, so nothing "
                               "was saved: please open the form again", ref)
        return index + 1, question.themes[index]
    number = ref.number
    if not question.themes:
        raise RoundtableError(f"question {question.prompt_id} has no themes")
    if not 1 <= number <= len(question.themes):
        raise RoundtableError(f"question {question.prompt_id} has "
                              f"{counted(len(question.themes), 'theme')}: give a number from "
                              f"1 to {len(question.themes)}")
    return number, question.themes[number - 1]


def _answer(question: PromptDigest, reply_id: str) -> AnswerView:
    """One answer of the question (`_answer_question` found it there)."""
    return next(a for a in question.answers if a.reply_id == reply_id)


def _quoted_now(question: PromptDigest, reply_id: str, *, placed: bool = False) -> None:
    """Refuse to hide what is not quoted now (nothing would change, and the log would say it
    did); `placed`: the same request moves it, so one set aside is an answer by then."""
    answer = _answer(question, reply_id)
    if answer.noise and not placed:
        counting = ("" if question.kind != "text" else  # a vote's comment is not moved
                    "; move it to " + ("a theme or " if question.themes else "")
                    + "other to count it")
        raise RoundtableError(f"answer {reply_id} is set aside as not an answer: it is never "
                              f"quoted{counting}")
    if answer.hidden:
        raise RoundtableError(f"answer {reply_id} is hidden already")
    if not answer.quotable:
        raise RoundtableError(f"answer {reply_id} is never quoted: its author asked not to be")
    if question.kind != "text" and not answer.comment and not answer.reason:
        raise RoundtableError(f"ballot {reply_id} has no words to quote: only its choices")


def _hidden_said(question: PromptDigest, reply_id: str) -> str:
    """What hiding did: a written answer still counts in its theme, a vote's ballot still
    counts; a comment on a vote counts in nothing."""
    if question.kind == "text":
        return f"Answer {reply_id} is no longer quoted; it still counts."
    if _answer(question, reply_id).comment:
        return f"Comment {reply_id} is no longer quoted."
    return f"The reason given with ballot {reply_id} is no longer quoted; the ballot still counts."


def _still_held(view: DigestView, change: Change) -> None:
    """Refuse a form's change to an answer deleted since the form listed it (by its writer,
    or with all they wrote when they asked to be forgotten). Nothing of the form is saved,
    as for any refusal: a new theme without one of the answers chosen for it would not be
    the theme the facilitator meant, and they keep the form to take it out and save again."""
    held = {a.reply_id for p in view.prompts for a in p.answers}
    for reply_id in (change.reply_id, *change.reply_ids):
        if reply_id and reply_id not in held:
            raise RoundtableError(
                f"answer {reply_id} is deleted (its writer deleted it or asked to be "
                "forgotten), so nothing was saved: unselect it and save again")


def _answer_question(view: DigestView, reply_id: str, *, votes: bool = False
                     ) -> PromptDigest:
    """The question of a written answer (with `votes`, also of a vote's comment or reason,
    which are quoted too and so may be hidden)."""
    for question in view.prompts:
        if (question.kind == "text" or votes) and any(a.reply_id == reply_id
                                                      for a in question.answers):
            return question
    raise RoundtableError(f"round {view.round.id} has no written answer {reply_id!r} (answers "
                          "are named by the id the draft shows beside each)")


def _one_line(text: str, what: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise RoundtableError(f"the {what} is empty")
    if "\n" in text:
        raise RoundtableError(f"the {what} must be one line")
    if len(text) > limit:
        raise RoundtableError(f"the {what} is {len(text)} characters long: at most {limit}")
    return text


def review_hint(round_id: int) -> Said:
    return said("Edit and approve it in the message above, or with ",
                Code(f"roundtable digest review {round_id}"), ".")
