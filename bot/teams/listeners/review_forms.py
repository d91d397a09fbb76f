"""A draft digest's card, for the facilitator who reviews it: Edit opens a question's form on
the card (Close shuts it), Save changes saves what the form holds, Approve posts the draft."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from microsoft_teams.api import InvokeResponse

from bot.app import review, review_form
from bot.app.actors import Actor
from bot.app.conversations import UNCHANGED
from bot.app.deadlines import Deadline, Late, Outcome
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.core.said import Said, said
from bot.teams import review_cards
from bot.teams.activities import Activity, CardAction
from bot.teams.cards import STALE
from bot.teams.listeners.card_data import digest, draft, target
from bot.teams.listeners.chat import Chat, in_place
from bot.teams.references import PLATFORM, Reference, message_key
from bot.teams.render import Element

log = logging.getLogger(__name__)

REVIEW_WAIT = 4.0
"""Seconds a draft's Save changes waits for them to be saved before its button is answered.
Teams shows an error by a card whose action is not answered within a few seconds (and
delivers it again); a change takes longer where the language model words the draft again.
Then the button (or the chat, for a form sent by Action.Submit) says SAVING, and the outcome
follows in the chat."""
SAVING = "Saving your changes while the draft is worded again: I'll say here when it's done."


@dataclass(frozen=True)
class OpenForm:
    """A draft's edit form as Edit opens it on a card: the card (its activity id) and the
    answers the form lists word for word."""

    round_id: int
    digest_id: int
    card_id: str
    listing: list[str]


class ReviewForms:
    """The buttons of a draft digest's card."""

    def __init__(self, app: Roundtable, chat: Chat) -> None:
        self.app, self.chat, self.gateway = app, chat, chat.gateway
        self.edits = Deadline(REVIEW_WAIT, "roundtable-teams-edit")

    def open(self, action: CardAction, actor: Actor, where: Reference, card_id: str | None
             ) -> InvokeResponse[Any] | None:
        """Edit (or Close) on a draft digest: the facilitator's card, with that question's form
        open; in the HTTP answer (Action.Execute) or in place of the card (Action.Submit). A
        form is kept as open once the card shows it (Action.Submit: once Teams changed it),
        and only while every answer it lists is still there."""
        round_id, prompt_id = target(action.data)
        digest_id = digest(action.data)
        opened = review.waiting(self.app, actor, round_id, digest_id)
        content = review_cards.draft_card(opened.draft, prompt_id, opened.hidden_words,
                                           zone=self.gateway.zone)
        form = OpenForm(round_id, digest_id, card_id or "", opened.listing(prompt_id))
        shown = bool(prompt_id) and review_cards.form_open(content)
        if card_id and not shown and action.execute:  # Close, or a form too big to open
            self.gateway.form_closed(digest_id, card_id)
        if action.execute:
            if card_id and shown:
                closing = self._keep_form(actor, where, form)
                if closing is not None:
                    content = self._draft_now(actor, form, closing)
                    self.chat.later(self.chat.say, where.key, closing)
            return in_place(content)
        if not card_id:
            raise ValueError(STALE)
        if shown:
            self.chat.later(self._show_form, actor, where, form, content, told_in=where.key)
        else:
            self.chat.later(self._close_form, where, form, content, told_in=where.key)
        return None

    def save(self, activity: Activity, data: dict[str, Any], actor: Actor, where: Reference
             ) -> tuple[str, Said]:
        """Save changes: what the form holds, saved on the draft (or SAVING, when that takes
        longer than Teams waits for the button's answer)."""
        round_id, prompt_id = target(data)
        digest_id = digest(data)
        changes = review_form.changes_asked(
            self.app, actor, round_id, prompt_id,
            review_cards.form_fields(data, round_id, prompt_id))
        if not changes:
            done = said("Nothing changed: the form was left as it was.")
            return self.gateway.plain(done), done
        card_id = activity.replyToId
        # saved, the card follows the draft again, this edit first; refused (in time or
        # after SAVING), its form stays open, with what was typed in it
        saved = partial(self.gateway.form_saved, digest_id, card_id) if card_id else None
        try:
            done = self.edits.run(
                partial(review.edit, self.app, actor, round_id, changes, digest_id,
                        review_form.seen_in(data), saved=saved),
                partial(self._told_late, where.key, round_id))
        except Late:
            return SAVING, said(SAVING)
        return self.gateway.plain(done), done

    def approve(self, data: dict[str, Any], actor: Actor) -> tuple[str, Said]:
        """Approve: the draft posted as the round's digest."""
        round_id, digest_id = draft(data)
        done = review.approve(self.app, actor, round_id, digest_id)
        return self.gateway.plain(done), done

    def _close_form(self, where: Reference, form: OpenForm, content: Element) -> None:
        """Action.Submit's Close (or a form too big to open) in place of its card; the form is
        no longer kept as open once the card no longer shows it. When Teams would not change
        the card, it is still kept (forget-me closes it), and the facilitator is told."""
        try:
            self._draft_replaced(where.key, form, content, "close a form")
        except DeliveryError:
            self.chat.say(where.key, UNCHANGED)
            return
        self.gateway.form_closed(form.digest_id, form.card_id)

    def _show_form(self, actor: Actor, where: Reference, form: OpenForm, content: Element
                   ) -> None:
        """Action.Submit's form in place of its card, then kept as open; when Teams would not
        change the card, nothing is kept and the facilitator is told to press Edit again."""
        try:
            shown_in = self._draft_replaced(where.key, form, content, "open a form")
        except DeliveryError as exc:
            self.chat.say(where.key, review.form_not_opened(form.round_id, exc.reason))
            return
        if shown_in is None:
            return
        form = replace(form, card_id=shown_in)
        closing = self._keep_form(actor, where, form)
        if closing is None:
            return
        self.chat.card_replaced(where.key, form.card_id, self._draft_now(actor, form, closing),
                                review_cards.SUMMARY, "close a form")
        self.chat.say(where.key, closing)

    def _draft_replaced(self, key: str, form: OpenForm, content: Element, doing: str
                        ) -> str | None:
        """`content` in place of a facilitator's copy of a draft (the card `form` is on): the
        activity id that shows it, a new card's when Teams no longer had that one (the copy
        is kept as that card from then on); None when that new card came as the round was
        deleted, and says so instead of `content`; DeliveryError (logged as what it was
        `doing`) when Teams refused."""
        try:
            shown_in = self.gateway.replace_card(key, form.card_id, content,
                                                 review_cards.SUMMARY)
        except DeliveryError as exc:
            log.warning("could not %s in Teams conversation %s: %s", doing, key, exc.reason)
            raise
        if shown_in != form.card_id and not review.draft_sent_again(
                self.app, PLATFORM, key, message_key(form.card_id), message_key(shown_in),
                form.round_id):
            return None
        return shown_in

    def _keep_form(self, actor: Actor, where: Reference, form: OpenForm) -> Said | None:
        """The form kept as open on its card (so that a later refresh leaves what is typed in
        it, and forget-me closes it), unless answers it lists were deleted since its draft
        was read: then why it is to close."""
        return review.form_opened(
            self.app, actor, form.round_id, message_key(form.card_id), form.listing,
            keep=partial(self.gateway.note_form, form.digest_id, where.key, form.card_id))

    def _draft_now(self, actor: Actor, form: OpenForm, closing: Said) -> Element:
        """What a card whose form closed as it opened shows: the draft as it is now, with no
        form open; the words saying why, when no draft of it waits any more."""
        try:
            opened = review.waiting(self.app, actor, form.round_id, form.digest_id)
        except RoundtableError:
            return self.gateway.said_card(closing)
        return review_cards.draft_card(opened.draft, zone=self.gateway.zone)

    def _told_late(self, key: str, round_id: int, outcome: Outcome[Said]) -> None:
        self.chat.say(key, review.edit_outcome(round_id, outcome))

    def close(self) -> None:
        self.edits.close()
