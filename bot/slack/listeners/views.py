"""Modal submissions: an answer form, and the start form of the App Home."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.app import access, facilitation, participants, review, review_form
from bot.app.actors import Actor
from bot.app.conversations import why_refused
from bot.app.deadlines import Deadline, Late, Outcome
from bot.app.facilitation import StartRequest
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError, as_sentence
from bot.core.people import Audience
from bot.core.ports import DeliveryError, Where
from bot.core.said import Said, said
from bot.slack import blocks, review_blocks
from bot.slack.gateway import SlackGateway
from bot.slack.listeners.failures import ERROR_TEXT, told_on_failure
from bot.slack.messages import shortened
from bot.slack.payloads import (
    UNREADABLE,
    DraftQuestion,
    FormInput,
    draft_target,
    form_inputs,
    target,
)

log = logging.getLogger(__name__)

REVIEW_WAIT = 2.0
"""Seconds a review form's submission waits for its changes to be saved. Slack closes the
form with an error after three, counted from before the request reached the listener, so a
busy server needs the second left over; a change can take longer where the language model
words the draft again (answers came in since it was opened): then the form closes at once,
and the outcome (saved, or why not) follows in a direct message."""


def field_error(reason: str) -> str:
    """A refusal as a form shows it under a field: a sentence, within Slack's 150
    characters."""
    return shortened(as_sentence(said(reason.strip())).plain, ERROR_TEXT)


def register(bolt: App, app: Roundtable, slack: SlackGateway) -> None:
    guarded = told_on_failure(slack)
    edits = Deadline(REVIEW_WAIT, "review-edit")

    def told_late(actor: Actor, round_id: int, saving: Outcome[Said]) -> None:
        try:
            slack.say(Where(slack.open_direct(actor.user_id)),
                      review.edit_outcome(round_id, saving))
        except DeliveryError as exc:
            log.warning("could not tell the outcome of a review change: %s", exc.reason)

    @bolt.view(blocks.ANSWER_VIEW)
    @guarded
    def answer_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        first = next(iter(values), blocks.ANSWER_BLOCK)
        actor = Actor(slack.platform, str(body["user"]["id"]))
        try:
            which = target(view.get("private_metadata"))
            asked = participants.question(app, actor, which.round, which.prompt)
            answer = blocks.answer_from_state(asked.prompt, values)
            participants.answer_in_form(app, actor, which.round, which.prompt, answer,
                                        f"view:{view.get('id')}")
        except (RoundtableError, ValueError) as exc:
            ack(response_action="errors", errors={first: field_error(why_refused(exc).plain)})
            return
        ack()
        participants.refresh_home(app, actor)

    @bolt.view(review_blocks.REVIEW_VIEW)
    @guarded
    def review_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        actor = Actor(slack.platform, str(body["user"]["id"]))
        try:
            which = draft_target(view.get("private_metadata"), DraftQuestion, UNREADABLE)
            changes = review_form.changes_asked(app, actor, which.round, which.prompt,
                                                review_blocks.form_fields(values))
            if changes:
                edits.run(partial(review.edit, app, actor, which.round, changes, which.digest,
                                  review_form.seen_in(which.model_dump())),
                          partial(told_late, actor, which.round))
        except Late:
            pass  # the form closes now; the outcome follows in a direct message
        except review_form.FieldError as exc:
            ack(response_action="errors", errors={exc.field: field_error(str(exc))})
            return
        except review.ChangeRefused as exc:
            field = exc.field if exc.field in values else "lead"
            ack(response_action="errors", errors={field: field_error(str(exc))})
            return
        except (RoundtableError, ValueError) as exc:
            ack(response_action="errors", errors={"lead": field_error(why_refused(exc).plain)})
            return
        ack()
        if view.get("id"):  # Slack closes the form now
            review.form_done(app, actor, str(view["id"]))

    @bolt.view_closed(review_blocks.REVIEW_VIEW)
    @guarded
    def review_closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        if view.get("id"):
            review.form_done(app, Actor(slack.platform, str(body["user"]["id"])),
                             str(view["id"]))

    @bolt.view(blocks.START_VIEW)
    @guarded
    def start_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = Actor(slack.platform, str(body["user"]["id"]))
        if not access.may_start(app, actor):
            ack(response_action="errors",
                errors={"pack": field_error(access.refusal("start").plain)})
            return
        try:
            inputs = form_inputs((view.get("state") or {}).get("values"))
        except ValueError as exc:
            ack(response_action="errors", errors={"pack": field_error(str(exc))})
            return

        def picked(block: str) -> FormInput:
            return inputs.get(block, {}).get("value") or FormInput()

        def option(block: str) -> str | None:
            chosen = picked(block).selected_option
            return chosen.value if chosen else None

        channel, users = picked("channel").selected_conversation, picked("users").selected_users
        if not channel and not users:
            ack(response_action="errors", errors={"channel": "Choose a channel or people."})
            return
        ack()
        request = StartRequest(
            pack=option("pack") or "",
            audience=Audience(channels=(channel,) if channel else (), users=tuple(users or ())),
            digest_channel=picked("digest").selected_conversation,
            closes=picked("closes").value, mode=facilitation.mode_chosen(option("mode")),
        )
        try:
            outcome = facilitation.start(app, actor, request).said
        except RoundtableError as exc:
            outcome = as_sentence(said("The round was not started: ", exc.said))
        try:
            slack.say(Where(slack.open_direct(actor.user_id)), outcome)
        except DeliveryError:
            pass  # they see the round on the Home tab, refreshed below
        participants.refresh_home(app, actor)
