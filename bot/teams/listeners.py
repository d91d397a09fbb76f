"""What the bot does with each activity: keep its conversation reference, then store an answer
in the inbox (before Teams is answered), run a command, or take a card's submission.

Handlers run on the SDK's loop and hand their blocking work (the database, sending) to
threads. Answers written in the 1:1 chat are stored in the inbox before the HTTP answer (200),
under the activity's id, so an activity Teams delivers twice is handled once. Commands and
the welcome are answered at once and worked on by a few listener threads, the answer
following as a message (Teams waits at most 15 seconds for the HTTP answer).
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from threading import Lock
from typing import Any

from microsoft_teams.api import InvokeResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.app import (
    access,
    facilitation,
    facilitators,
    participants,
    personal_data,
    review,
    review_form,
)
from bot.app.actors import Actor
from bot.app.command_words import (
    DELETE_USAGE,
    Typed,
    parse_list,
    parse_reopen,
    parse_review,
    parse_status,
    required_round,
    round_number,
)
from bot.app.conversations import not_saved, why_refused
from bot.app.deadlines import Deadline, Late, Outcome
from bot.app.facilitation import StartRequest
from bot.app.inbox import InboxUnavailable
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.incoming import Kept, to_payload
from bot.core.people import Audience
from bot.core.ports import DeliveryError, Where
from bot.core.questions import form_saved
from bot.core.said import Code, DirectChat, Said, said
from bot.teams import activities, cards, review_cards
from bot.teams.activities import Activity, CardAction
from bot.teams.commands import (
    HELP,
    command,
    parse_invite,
    parse_set,
    parse_start,
    people,
    person_and_round,
)
from bot.teams.gateway import TeamsGateway
from bot.teams.references import PLATFORM, Conversations, Reference
from bot.teams.render import CARD_TYPE, Element
from storage.models import row_id as _row_id

log = logging.getLogger(__name__)
LISTENER_THREADS = 4
PRIVATE = frozenset({"stop", "my-data", "forget-me", "delete"})
"""Commands whose answer is for the person alone: written in a channel (where Teams has no
message only one person sees), it goes to their 1:1 chat, and the channel is told so."""
TOAST_LIMIT = 500
"""Characters of the line Teams shows by a card after an Action.Execute."""
WHOLE_IN_CHAT = " (the whole answer is in our chat)"
REMEMBERED = 10_000
"""Card submissions handled lately, by activity id: a redelivered one is not confirmed twice
(it would be stored once anyway)."""
WELCOME_PERSONAL = said("Hello! I am Roundtable. When a facilitator starts a round for you, I "
                        "will ask its questions here, one at a time; just write your answers. "
                        "Write ", Code("help"), " to see what else I do.")
WELCOME_TEAM = said("Roundtable is here. Facilitators: mention me with ",
                    Code("start <pack> to team"), " to ask everyone in this team, or with ",
                    Code("form"), " for the start form. Digests are posted in the channel the "
                    "round was started from.")
MESSAGE = "application/vnd.microsoft.activity.message"
NOBODY = ("Not saved: Teams did not say who you are. Sign in to Teams with your work "
          "account to use Roundtable's buttons.")


class Listeners:
    """The Teams side of every use case: translates, calls bot.app, answers as cards."""

    def __init__(self, app: Roundtable, gateway: TeamsGateway, conversations: Conversations
                 ) -> None:
        self.app, self.gateway, self.conversations = app, gateway, conversations
        self.pool = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="roundtable-teams")
        self.edits = Deadline(REVIEW_WAIT, "roundtable-teams-edit")
        self._handled: OrderedDict[str, InvokeResponse[Any] | None] = OrderedDict()
        """Card actions handled, by activity id, with what the first delivery was answered
        (None while it is being handled): Teams delivers an activity again when the answer
        was slow, and the button's answer must not change."""
        self._lock = Lock()

    async def on_activity(self, ctx: Any) -> Any:
        """The SDK's handler for every activity (authenticated by then)."""
        body = ctx.activity.model_dump(by_alias=True, exclude_none=True, mode="json")
        return await asyncio.to_thread(self.handle, body)

    def handle(self, body: dict[str, Any]) -> InvokeResponse[Any] | None:
        activity = activities.parse(body)
        if activity is None:
            return InvokeResponse(status=400)
        if activities.is_from_bot(activity):
            # another bot (or an app's own message) is nobody to act for: the Entra object
            # id it may carry is not a person's to claim, nor its 28: id a way to reach them
            return None
        reference = activities.reference(activity)
        if reference is None:
            return None
        try:
            self.conversations.remember(reference, activities.member(activity),
                                        activities.timezone_of(activity))
        except SQLAlchemyError as exc:
            # the database is away: an answer still goes to the inbox (or its spool); the
            # reference was stored when the conversation began, and is refreshed next time
            log.warning("could not store a conversation reference: %s", exc.__class__.__name__)
        actor = Actor(PLATFORM, str(activity.from_.aadObjectId)) if (
            activity.from_ and activity.from_.aadObjectId) else None
        if activities.bot_added(activity, self.gateway.bot_id):
            welcome = WELCOME_PERSONAL if reference.kind == "personal" else WELCOME_TEAM
            self._later(self._say, reference.key, welcome)
            return None
        action = activities.card_action(activity)
        if action is not None:
            if actor is None:  # someone not signed in: an anonymous guest in a meeting
                return _done(NOBODY) if action.execute else None
            return self.card(activity, action, actor, reference)
        if activity.type == "message" and actor is not None:
            found = command(activities.words(activity),
                            answers_here=reference.kind == "personal")
            if found is not None:
                self._later(self.command, found, actor, reference, activity)
                return None
            if reference.kind != "personal":
                self._later(self._say, reference.key, said(
                    "Answers go in your 1:1 chat with me. Here I take commands: ", HELP_LINE))
                return None
        incoming = activities.incoming(activity, reference.key)
        if incoming is None:
            return None
        try:
            self.app.inbox.capture(PLATFORM, activities.event_id(activity), to_payload(incoming))
        except InboxUnavailable as exc:
            log.error("could not store an activity; Teams will send it again: %s", exc)
            return InvokeResponse(status=503)
        return None

    # -- commands --------------------------------------------------------------------------

    def command(self, found: Typed, actor: Actor, where: Reference, activity: Activity
                ) -> None:
        name = found.name
        if name in access.FACILITATOR_ONLY and not access.may_facilitate(
                self.app, actor):
            self._say(where.key, said("Sorry, ", access.refusal(name)))
            return
        try:
            key = self._answer_in(name, actor, where)
            if name == "help":
                self._help(actor, where)
            elif name == "form":
                channels = [(c.key, c.name or "a channel") for c in self.conversations.channels()]
                in_team = where.kind == "channel"
                if in_team:
                    channels = [(where.key, where.name or "this channel"),
                                *(c for c in channels if c[0] != where.key)]
                self.gateway.send_card(where.key, cards.start_form(
                    facilitation.packs(self.app), channels, in_team=in_team), "Start a round")
            elif name == "questions":
                self.gateway.send_home(actor.user_id, participants.home(self.app, actor))
            elif name == "forget-me":
                count = participants.answers_kept(self.app, actor)
                self.gateway.send_card(key, cards.forget_card(
                    count, personal_data.forget_asked()), "Forget me?")
            elif name == "delete":
                asked = facilitation.deletion_asked(self.app, actor,
                                                    required_round(found.args, DELETE_USAGE))
                self.gateway.send_card(key, cards.delete_card(asked.round_id, asked.asked,
                                                              asked.said),
                                       f"Delete round {asked.round_id}?")
            else:
                self._say(key, self._run(found, actor, where))
            if key != where.key:
                self._say(where.key, said("I have answered you in ", DirectChat(), "."))
        except RoundtableError as exc:
            self._say(where.key, why_refused(exc))

    def _help(self, actor: Actor, where: Reference) -> None:
        """The list of commands (for facilitators, and in a channel); in the 1:1 chat, what
        a participant is told on every platform: the question waiting."""
        personal = where.kind == "personal"
        commands = not personal or access.may_facilitate(self.app, actor)
        if commands:
            self.gateway.send_card(where.key, self.gateway.said_card(HELP), "Roundtable help")
        told = participants.help_here(self.app, actor, where.key,
                                      beside_commands=commands) if personal else None
        if told is not None:
            self._say(where.key, told)

    def _answer_in(self, name: str, actor: Actor, where: Reference) -> str:
        """The conversation a command's answer goes to: where it was written, or the
        person's 1:1 chat for a PRIVATE one written in a channel."""
        if where.kind == "personal" or name not in PRIVATE:
            return where.key
        try:
            return self.gateway.open_direct(actor.user_id)
        except DeliveryError as exc:
            raise RoundtableError(f"I could not open a 1:1 chat with you ({exc.reason}). "
                                  "Write the command to me there instead.") from exc

    def _run(self, found: Typed, actor: Actor, where: Reference) -> Said:
        args, app = found.args, self.app
        here = where.key if where.kind == "channel" else None
        if found.name == "start":
            request = parse_start(args, team=here, here=here, channels=self._channels())
            return facilitation.start(app, actor, request).said
        if found.name == "invite":
            return facilitation.invite(app, actor, *parse_invite(
                args, team=here, here=here, channels=self._channels()))
        if found.name == "set":
            return facilitation.set_round(app, actor, *parse_set(args, self._channels()))
        if found.name == "review":
            chosen = parse_review(args)
            if chosen.empty:
                return review.show(app, actor, chosen.round_id)
            return review.set_review(app, actor, chosen.round_id, chosen.mode,
                                     chosen.unreviewed, chosen.hours)
        if found.name == "list":
            return facilitation.list_rounds(app, actor, parse_list(args))
        if found.name == "status":
            round_id, who = parse_status(args)
            return facilitation.status(app, actor, round_id, who=who,
                                       names_shown=facilitation.NAMES_SHOWN)
        if found.name == "reopen":
            return facilitation.reopen(app, actor, *parse_reopen(args))
        if found.name == "remind":
            return facilitation.remind(app, actor, round_number(args))
        if found.name == "digest":
            return facilitation.digest(app, actor, round_number(args))
        if found.name == "close":
            return facilitation.close(app, actor, round_number(args)).said
        if found.name in ("add-facilitator", "remove-facilitator"):
            person, round_id = person_and_round(args)
            member = self.conversations.member(person)
            if member is None:
                raise RoundtableError("I don't know them yet: they must be in a team I am in, "
                                      "or write to me once")
            change = (facilitators.add_facilitator if found.name == "add-facilitator"
                      else facilitators.remove_facilitator)
            return change(app, actor, member.aad_object_id, round_id)
        if found.name == "stop":
            return participants.stop(app, actor)
        if found.name == "my-data":
            return personal_data.my_data(app, actor)
        return said(HELP_LINE)

    def _channels(self) -> dict[str, str]:
        """The channels the bot knows, by lower-cased name and by key."""
        known = self.conversations.channels()
        return {**{(c.name or "").lower(): c.key for c in known}, **{c.key: c.key for c in known}}

    # -- cards -----------------------------------------------------------------------------

    def card(self, activity: Activity, action: CardAction, actor: Actor, where: Reference
             ) -> InvokeResponse[Any] | None:
        """A card's button: answer, skip, start, forget, delete a round, cancel; a draft
        digest's Edit, Save changes or Approve. Action.Execute is answered in the HTTP
        response; Action.Submit with a message."""
        if activity.id:
            first, seen = self._seen(activity.id)
            if seen:
                return (first or _done("Still working on that: a moment.")) if (
                    action.execute) else None
        answered = self._card_answer(activity, action, actor, where)
        if activity.id and answered is not None:
            with self._lock:
                if activity.id in self._handled:
                    self._handled[activity.id] = answered
        return answered

    def _card_answer(self, activity: Activity, action: CardAction, actor: Actor,
                     where: Reference) -> InvokeResponse[Any] | None:
        try:
            if action.verb == review_cards.OPEN:
                return self._open(action, actor, where, activity.replyToId)
            if action.verb == cards.ANSWER and action.data.get(cards.ON) == cards.QUESTIONS:
                unfinished = self._unfinished(action.data, actor)
                if unfinished is not None:
                    return self._replace(activity, action, where, *unfinished)
            outcome = self._card(action, actor, where, activity)
        except (RoundtableError, ValueError) as exc:
            told = not_saved(exc) if action.verb in SAVES else why_refused(exc)
            if action.execute:
                return _done(self.gateway.plain(told))
            self._later(self._say, where.key, told)
            return None
        toast, message = outcome
        if action.verb in REPLACED and message is not None:
            return self._replace(activity, action, where, self.gateway.said_card(message),
                                 message)
        if action.execute:
            if len(toast) > TOAST_LIMIT and message is not None:
                # Teams shows only a short line by the card: the whole answer goes to the chat
                self._later(self._say, where.key, message)
                toast = textwrap.shorten(toast, TOAST_LIMIT - len(WHOLE_IN_CHAT),
                                         placeholder=" …") + WHOLE_IN_CHAT
            return _done(toast)
        if message is not None:
            self._later(self._say, where.key, message)
        return None

    def _card(self, action: CardAction, actor: Actor, where: Reference, activity: Activity
              ) -> tuple[str, Said | None]:
        """What the button did: a line to show by the card (Action.Execute), and a message
        for the chat (Action.Submit, or when there is more to say)."""
        data, verb, activity_id = action.data, action.verb, activity.id or ""
        if verb in (cards.ANSWER, cards.SKIP):
            round_id, prompt_id = _target(data)
            if verb == cards.SKIP:
                participants.skip(self.app, actor, round_id, prompt_id)
                return "Skipped for now.", None  # the notice follows in the chat
            asked = participants.question(self.app, actor, round_id, prompt_id)
            answer = cards.answer_from(asked.prompt,
                                       cards.scoped_inputs(data, round_id, prompt_id))
            saved = participants.answer_in_form(self.app, actor, round_id, prompt_id, answer,
                                                f"card:{activity_id}")
            return form_saved(saved), None  # confirmed too
        if verb == cards.SAVE_KEPT:
            # the chat the button was pressed in, not one the card's data could name
            words = replace(Kept.from_data(data), channel_id=where.key)
            done = participants.save_kept(self.app, actor, words)
            return self.gateway.plain(done), done
        if verb == cards.START:
            started = self._start(data, actor, where)
            return self.gateway.plain(started), started
        if verb == cards.FORGET:
            done = personal_data.forget(self.app, actor, asked=_asked(data))
            return self.gateway.plain(done), done
        if verb == cards.DELETE_ROUND:
            doomed, asked_id = _deletion(data)
            done = facilitation.delete(self.app, actor, doomed, asked_id)
            return self.gateway.plain(done), done
        if verb == cards.CANCEL:
            if "round" not in data:  # forget-me's question
                done = personal_data.cancel_forget(self.app, actor, _asked(data))
                return self.gateway.plain(done), done
            kept, asked_id = _deletion(data)
            done = facilitation.cancel_deletion(self.app, actor, kept, asked_id)
            return self.gateway.plain(done), done
        if verb == review_cards.APPROVE:
            which, digest = _row_id(data.get("round")), _row_id(data.get("digest"))
            if which is None or digest is None:
                raise ValueError("that card could not be read; please use the newest one")
            done = review.approve(self.app, actor, which, digest)
            return self.gateway.plain(done), done
        if verb == review_cards.EDIT:
            round_id, prompt_id = _target(data)
            digest_id = _digest(data)
            changes = review_form.changes_asked(
                self.app, actor, round_id, prompt_id,
                review_cards.form_fields(data, round_id, prompt_id))
            if not changes:
                done = said("Nothing changed: the form was left as it was.")
                return self.gateway.plain(done), done
            card_id = activity.replyToId
            if card_id:  # saved: the card follows the draft again, this edit first
                self.gateway.form_closed(digest_id, card_id)
            try:
                done = self.edits.run(
                    partial(review.edit, self.app, actor, round_id, changes, digest_id,
                            review_form.seen_in(data)),
                    partial(self._told_late, where.key, round_id))
            except Late:
                return SAVING, said(SAVING)
            except (RoundtableError, ValueError):
                if card_id:  # refused: the form stays open, with what was typed in it
                    self.gateway.form_opened(digest_id, where.key, card_id)
                raise
            return self.gateway.plain(done), done
        raise ValueError("that button is not one of Roundtable's")

    def _unfinished(self, data: dict[str, Any], actor: Actor) -> tuple[Element, Said] | None:
        """A question of the open-questions card saved with its inputs not filled in: the
        card again, everything typed in it kept, saying what is missing; None when there is
        nothing missing."""
        round_id, prompt_id = _target(data)
        asked = participants.question(self.app, actor, round_id, prompt_id)
        gap = cards.missing(asked.prompt, cards.scoped_inputs(data, round_id, prompt_id))
        if gap is None:
            return None
        told = f"Not saved: question {asked.number} {gap}."
        return cards.home_card(participants.home(self.app, actor), data,
                               (round_id, prompt_id, told)), said(told)

    def _replace(self, activity: Activity, action: CardAction, where: Reference,
                 content: Element, done: Said) -> InvokeResponse[Any] | None:
        """The card a button was on replaced by `content` (what the button did): in the HTTP
        answer (Action.Execute), else in place of that card (Action.Submit; a message when
        Teams did not say which card)."""
        if action.execute:
            return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_TYPE,
                                                    "value": content})
        if activity.replyToId:
            self._later(self.gateway.replace_card, where.key, activity.replyToId, content,
                        self.gateway.plain(done))
        else:
            self._later(self._say, where.key, done)
        return None

    def _open(self, action: CardAction, actor: Actor, where: Reference, card_id: str | None
              ) -> InvokeResponse[Any] | None:
        """Edit (or Close) on a draft digest: the facilitator's card, with that question's form
        open; in the HTTP answer (Action.Execute) or in place of the card (Action.Submit)."""
        round_id, prompt_id = _target(action.data)
        digest_id = _digest(action.data)
        opened = review.waiting(self.app, actor, round_id, digest_id)
        content = review_cards.draft_card(opened.draft, prompt_id, opened.hidden_words,
                                           zone=self.gateway.zone)
        if card_id and prompt_id and review_cards.form_open(content):
            self.gateway.form_opened(digest_id, where.key, card_id)
        elif card_id:  # Close, or a form too big to open
            self.gateway.form_closed(digest_id, card_id)
        if action.execute:
            return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_TYPE,
                                                    "value": content})
        if not card_id:
            raise ValueError("that card could not be read; please use the newest one")
        self._later(self.gateway.replace_card, where.key, card_id, content,
                    review_cards.SUMMARY)
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

    # -- helpers ---------------------------------------------------------------------------

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

    def _say(self, key: str, words: Said) -> None:
        try:
            self.gateway.say(Where(key), words)
        except DeliveryError as exc:
            log.warning("could not answer in Teams conversation %s: %s", key, exc.reason)

    def _told_late(self, key: str, round_id: int, outcome: Outcome[Said]) -> None:
        self._say(key, review.edit_outcome(round_id, outcome))

    def _later(self, work: Callable[..., None], *args: Any) -> None:
        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - a listener's failure is logged, never lost
                log.exception("a Teams listener failed")
        self.pool.submit(run)

    def close(self) -> None:
        self.edits.close()
        self.pool.shutdown(wait=True)


HELP_LINE = said("write ", Code("help"), " to see them.")
REPLACED = frozenset({cards.DELETE_ROUND, cards.FORGET, cards.CANCEL, cards.SAVE_KEPT})
"""Buttons of a question asked first (delete a round, forget me; save a greeting's words as
an answer after all): what they did takes the card's place, so none can be pressed again."""
REVIEW_WAIT = 4.0
"""Seconds a draft's Save changes waits for them to be saved before its button is answered.
Teams shows an error by a card whose action is not answered within a few seconds (and
delivers it again); a change takes longer where the language model words the draft again.
Then the button (or the chat, for a form sent by Action.Submit) says SAVING, and the outcome
follows in the chat."""
SAVING = "Saving your changes while the draft is worded again: I'll say here when it's done."


SAVES = (cards.ANSWER, cards.SAVE_KEPT, review_cards.EDIT)
"""The buttons that save what a person wrote: a refusal of one says it was not saved."""


def _target(data: dict[str, Any]) -> tuple[int, str]:
    round_id, prompt_id = _row_id(data.get("round")), data.get("prompt")
    if round_id is None or not isinstance(prompt_id, str):
        raise ValueError("that form could not be read; please use the newest card")
    return round_id, prompt_id


def _deletion(data: dict[str, Any]) -> tuple[int, str | None]:
    """The round a Delete or Cancel button of `delete`'s question names, and the question's
    id (None on a card of an earlier version)."""
    round_id = _row_id(data.get("round"))
    if round_id is None:
        raise ValueError("that card could not be read; please use the newest one")
    return round_id, _asked(data)


def _asked(data: dict[str, Any]) -> str | None:
    """The id of the question (delete a round, forget me) a button was on; None on a card of
    an earlier version."""
    asked = data.get("asked")
    if not (asked is None or (isinstance(asked, str) and len(asked) <= 64)):
        raise ValueError("that card could not be read; please use the newest one")
    return asked


def _digest(data: dict[str, Any]) -> int:
    """The draft digest a card's button was on."""
    digest_id = _row_id(data.get("digest"))
    if digest_id is None:
        raise ValueError("that form could not be read; please use the newest card")
    return digest_id


def _done(text: str) -> InvokeResponse[Any]:
    """The answer to an Action.Execute: a short message Teams shows by the card."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": MESSAGE,
                                            "value": text[:TOAST_LIMIT]})
