"""A card's buttons: answer, skip, "don't quote me", save a greeting's words as an answer
after all, start a round, forget me, delete a round, cancel; a draft digest's are passed to
its review forms. An Action.Execute is answered in the HTTP response; an Action.Submit with a
message. A button Teams delivers again is answered as it was the first time."""

from __future__ import annotations

import logging
import textwrap
from collections import OrderedDict
from dataclasses import replace
from threading import Lock
from typing import Any

from microsoft_teams.api import InvokeResponse

from bot.app import access, facilitation, participants, personal_data
from bot.app.actors import Actor
from bot.app.conversations import SORRY, not_saved, why_refused
from bot.app.facilitation import StartRequest
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.incoming import Kept
from bot.core.people import Audience
from bot.core.questions import form_saved
from bot.core.said import Said, said
from bot.teams import cards, review_cards
from bot.teams.activities import Activity, CardAction
from bot.teams.commands import people
from bot.teams.listeners.card_data import asked, deletion, target
from bot.teams.listeners.chat import TOAST_LIMIT, Chat, done, in_place
from bot.teams.listeners.review_forms import ReviewForms
from bot.teams.references import Reference
from bot.teams.render import Element

log = logging.getLogger(__name__)
WHOLE_IN_CHAT = " (the whole answer is in our chat)"
REMEMBERED = 10_000
"""Card submissions handled lately, by activity id: a redelivered one is not confirmed twice
(it would be stored once anyway)."""
NOBODY = said("Teams did not say who you are: sign in to Teams with your work account to use "
              "Roundtable's buttons")
"""Why a button pressed by someone Teams names no Entra id for (an anonymous guest in a
meeting) does nothing."""
REPLACED = frozenset({cards.DELETE_ROUND, cards.FORGET, cards.CANCEL, cards.SAVE_KEPT})
"""Buttons of a question asked first (delete a round, forget me; save a greeting's words as
an answer after all): what they did takes the card's place, so none can be pressed again."""
SAVES = (cards.ANSWER, cards.SAVE_KEPT, review_cards.EDIT)
"""The buttons that save what a person wrote: a refusal of one says it was not saved."""


class CardActions:
    """The Teams side of every button: translates, calls bot.app, answers."""

    def __init__(self, app: Roundtable, chat: Chat, forms: ReviewForms) -> None:
        self.app, self.chat, self.gateway, self.forms = app, chat, chat.gateway, forms
        self._handled: OrderedDict[str, InvokeResponse[Any] | None] = OrderedDict()
        """Card actions handled, by activity id, with what the first delivery was answered
        (None while it is being handled): Teams delivers an activity again when the answer
        was slow, and the button's answer must not change."""
        self._lock = Lock()

    def pressed(self, activity: Activity, action: CardAction, actor: Actor, where: Reference
                ) -> InvokeResponse[Any] | None:
        """A card's button pressed by `actor`, answered."""
        if activity.id:
            first, seen = self._seen(activity.id)
            if seen:
                return (first or done("Still working on that: a moment.")) if (
                    action.execute) else None
        try:
            answered = self._answer(activity, action, actor, where)
        except Exception:  # noqa: BLE001 - answered, so that Teams shows no error by the card
            log.exception("a Teams listener failed: the button %s", action.verb[:40])
            answered = self._told(action, where)
        if activity.id and answered is not None:
            with self._lock:
                if activity.id in self._handled:
                    self._handled[activity.id] = answered
        return answered

    def by_nobody(self, action: CardAction) -> InvokeResponse[Any] | None:
        """A button pressed by someone not signed in (an anonymous guest in a meeting)."""
        if not action.execute:
            return None
        return done(self.gateway.plain(_refused(action, RoundtableError(said=NOBODY))))

    def _told(self, action: CardAction, where: Reference) -> InvokeResponse[Any] | None:
        """A button whose work failed unexpectedly: the person is told that it was not done,
        by the card (Action.Execute) or in the chat (Action.Submit)."""
        if action.execute:
            return done(SORRY.plain)
        self.chat.later(self.chat.say, where.key, SORRY)
        return None

    def _answer(self, activity: Activity, action: CardAction, actor: Actor,
                where: Reference) -> InvokeResponse[Any] | None:
        outcome: tuple[str, Said | None]
        try:
            if action.verb == review_cards.OPEN:
                return self.forms.open(action, actor, where, activity.replyToId)
            if action.verb == cards.ANSWER and action.data.get(cards.ON) == cards.QUESTIONS:
                unfinished = self._unfinished(action.data, actor)
                if unfinished is not None:
                    return self._replace(activity, action, where, *unfinished)
            if action.verb == cards.DONT_QUOTE:
                content, did = self._not_quoted(action.data, actor)
                if content is not None:
                    return self._replace(activity, action, where, content, did)
                outcome = self.gateway.plain(did), did  # the card stays as it was
            else:
                outcome = self._did(action, actor, where, activity)
        except (RoundtableError, ValueError) as exc:
            told = _refused(action, exc)
            if action.execute:
                return done(self.gateway.plain(told))
            self.chat.later(self.chat.say, where.key, told)
            return None
        toast, message = outcome
        if action.verb in REPLACED and message is not None:
            return self._replace(activity, action, where, self.gateway.said_card(message),
                                 message)
        if action.execute:
            if len(toast) > TOAST_LIMIT and message is not None:
                # Teams shows only a short line by the card: the whole answer goes to the chat
                self.chat.later(self.chat.say, where.key, message)
                toast = textwrap.shorten(toast, TOAST_LIMIT - len(WHOLE_IN_CHAT),
                                         placeholder=" …") + WHOLE_IN_CHAT
            return done(toast)
        if message is not None:
            self.chat.later(self.chat.say, where.key, message)
        return None

    def _did(self, action: CardAction, actor: Actor, where: Reference, activity: Activity
             ) -> tuple[str, Said | None]:
        """What the button did: a line to show by the card (Action.Execute), and a message
        for the chat (Action.Submit, or when there is more to say)."""
        data, verb, activity_id = action.data, action.verb, activity.id or ""
        if verb in (cards.ANSWER, cards.SKIP):
            round_id, prompt_id = target(data)
            if verb == cards.SKIP:
                participants.skip(self.app, actor, round_id, prompt_id)
                return "Skipped for now.", None  # the notice follows in the chat
            question = participants.question(self.app, actor, round_id, prompt_id)
            answer = cards.answer_from(question.prompt,
                                       cards.scoped_inputs(data, round_id, prompt_id))
            saved = participants.answer_in_form(self.app, actor, round_id, prompt_id, answer,
                                                f"card:{activity_id}")
            return form_saved(saved), None  # confirmed too
        if verb == review_cards.APPROVE:
            return self.forms.approve(data, actor)
        if verb == review_cards.EDIT:
            return self.forms.save(activity, data, actor, where)
        return self._in_words(verb, data, actor, where)

    def _in_words(self, verb: str, data: dict[str, Any], actor: Actor, where: Reference
                  ) -> tuple[str, Said]:
        """The buttons answered with what they did, in words: save a greeting's words, start
        a round, and those of a question asked first (forget me, delete a round, cancel)."""
        if verb == cards.SAVE_KEPT:
            # the chat the button was pressed in, not one the card's data could name
            words = replace(Kept.from_data(data), channel_id=where.key)
            did = participants.save_kept(self.app, actor, words)
        elif verb == cards.START:
            did = self._start(data, actor, where)
        elif verb == cards.FORGET:
            did = personal_data.forget(self.app, actor, asked=asked(data))
        elif verb == cards.DELETE_ROUND:
            doomed, asked_id = deletion(data)
            did = facilitation.delete(self.app, actor, doomed, asked_id)
        elif verb == cards.CANCEL and "round" not in data:  # forget-me's question
            did = personal_data.cancel_forget(self.app, actor, asked(data))
        elif verb == cards.CANCEL:
            kept, asked_id = deletion(data)
            did = facilitation.cancel_deletion(self.app, actor, kept, asked_id)
        else:
            raise ValueError("that button is not one of Roundtable's")
        return self.gateway.plain(did), did

    def _unfinished(self, data: dict[str, Any], actor: Actor) -> tuple[Element, Said] | None:
        """A question of the open-questions card saved with its inputs not filled in: the
        card again, everything typed in it kept, saying what is missing; None when there is
        nothing missing."""
        round_id, prompt_id = target(data)
        question = participants.question(self.app, actor, round_id, prompt_id)
        gap = cards.missing(question.prompt, cards.scoped_inputs(data, round_id, prompt_id))
        if gap is None:
            return None
        told = f"Not saved: question {question.number} {gap}."
        return cards.home_card(participants.home(self.app, actor), data,
                               (round_id, prompt_id, told)), said(told)

    def _not_quoted(self, data: dict[str, Any], actor: Actor) -> tuple[Element | None, Said]:
        """"Don't quote me" on a confirmation: the confirmation again, as it stands, the note
        in the button's place (None when the card did not list what it shows, and stays as
        it was), and what was done."""
        pressed = cards.DontQuote.from_data(data)
        saved = participants.not_quoted(self.app, actor, pressed.answer, pressed.shown)
        did = participants.NOT_QUOTED
        if not pressed.shown:
            return None, did
        if not saved:  # deleted since, or its question gone from the round
            return self.gateway.said_card(did), did
        return cards.confirmations_card([replace(s, files_dropped=pressed.files)
                                         for s in saved]), did

    def _replace(self, activity: Activity, action: CardAction, where: Reference,
                 content: Element, did: Said) -> InvokeResponse[Any] | None:
        """The card a button was on replaced by `content` (what the button did): in the HTTP
        answer (Action.Execute), else in place of that card (Action.Submit; a message when
        Teams did not say which card)."""
        if action.execute:
            return in_place(content)
        if activity.replyToId:
            self.chat.later(self.chat.replace_card, where.key, activity.replyToId, content, did)
        else:
            self.chat.later(self.chat.say, where.key, did)
        return None

    def _start(self, data: dict[str, Any], actor: Actor, where: Reference) -> Said:
        if not access.may_facilitate(self.app, actor):
            raise RoundtableError(said=access.refusal("start"))
        who = people([str(data.get("people") or "").replace("\n", ",")])
        team = (where.key,) if data.get("team") == "yes" and where.kind == "channel" else ()
        if not who and not team:
            raise RoundtableError("name people, or ask everyone in the team")
        digest = str(data.get("digest") or "") or None
        request = StartRequest(str(data.get("pack") or ""), Audience(channels=team,
                                                                    users=tuple(who)),
                               digest, str(data.get("closes") or "") or None,
                               facilitation.mode_chosen(str(data.get("mode") or "")
                                                        or ("anonymous" if data.get("anonymous")
                                                            == "yes" else None)))
        return facilitation.start(self.app, actor, request).said

    def _seen(self, activity_id: str) -> tuple[InvokeResponse[Any] | None, bool]:
        """What the activity's first delivery was answered (None while it is handled), and
        whether it was delivered before."""
        with self._lock:
            if activity_id in self._handled:
                return self._handled[activity_id], True
            self._handled[activity_id] = None
            if len(self._handled) > REMEMBERED:
                self._handled.popitem(last=False)
            return None, False


def _refused(action: CardAction, exc: RoundtableError | ValueError) -> Said:
    """What a person is told when their button was refused: for one that saves what they
    wrote, that it was not saved, and why."""
    return not_saved(exc) if action.verb in SAVES else why_refused(exc)
