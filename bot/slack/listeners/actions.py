"""Buttons: open the answer form, skip a question, "don't quote me", save the words of a
greeting as an answer after all, open the start form, confirm or cancel forget-me and the
deletion of a round."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App

from bot.app import access, facilitation, participants, personal_data, review
from bot.app.actors import Actor
from bot.app.conversations import not_saved, why_refused
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.incoming import Kept
from bot.core.ports import DeliveryError
from bot.core.said import said
from bot.slack import blocks, render, review_blocks
from bot.slack.gateway import SlackGateway
from bot.slack.listeners.failures import told_on_failure
from bot.slack.messages import SlackMessage
from bot.slack.payloads import (
    DraftQuestion,
    DraftTarget,
    answer_target,
    deletion_target,
    draft_target,
    target,
)


def register(bolt: App, app: Roundtable, slack: SlackGateway) -> None:
    guarded = told_on_failure(slack)
    def actor(body: dict[str, Any]) -> Actor:
        return Actor(slack.platform, str(body["user"]["id"]))

    @bolt.action(blocks.ANSWER_OPEN)
    @guarded
    def open_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            which = target(action.get("value"))
            asked = participants.question(app, actor(body), which.round, which.prompt)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), blocks.notice(why_refused(exc).plain))
            return
        slack.open_view(body["trigger_id"], blocks.answer_view(asked))

    @bolt.action(blocks.SKIP)
    @guarded
    def skip_question(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            which = target(action.get("value"))
            participants.skip(app, actor(body), which.round, which.prompt)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), blocks.notice(why_refused(exc).plain))

    @bolt.action(blocks.DONT_QUOTE)
    @guarded
    def dont_quote(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            answer = answer_target(action.get("value"))
            done = participants.keep_from_quotes(app, actor(body), answer)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), blocks.notice(why_refused(exc).plain))
            return
        original = (body.get("message") or {}).get("blocks")
        if isinstance(original, list) and original:
            slack.respond(body.get("response_url"), SlackMessage(
                str((body.get("message") or {}).get("text") or done.plain),
                blocks.without_dont_quote(original, answer)), replace_original=True)
        else:
            slack.respond(body.get("response_url"), render.message(done))

    @bolt.action(blocks.SAVE_KEPT)
    @guarded
    def save_kept(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            kept = Kept.from_data(json.loads(str(action.get("value"))))
            done = participants.save_kept(app, actor(body), kept)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), render.message(not_saved(exc)))
            return
        slack.respond(body.get("response_url"), render.message(done), replace_original=True)

    @bolt.action(blocks.START_OPEN)
    @guarded
    def open_start(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        if access.may_start(app, actor(body)):
            slack.open_view(body["trigger_id"], blocks.start_view(facilitation.packs(app)))

    @bolt.action(blocks.FORGET_CONFIRM)
    @guarded
    def forget_confirm(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        done = personal_data.forget(app, actor(body))
        slack.respond(body.get("response_url"), render.message(done), replace_original=True)

    @bolt.action(blocks.DELETE_CONFIRM)
    @guarded
    def delete_round(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            round_id, asked = deletion_target(action.get("value"))
            done = facilitation.delete(app, actor(body), round_id, asked)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), render.message(why_refused(exc)))
            return
        slack.respond(body.get("response_url"), render.message(done), replace_original=True)

    @bolt.action(blocks.DELETE_CANCEL)
    @guarded
    def delete_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            round_id, asked = deletion_target(action.get("value"))
        except ValueError:  # a question asked by an earlier version: nothing to record
            done = said("Nothing was deleted.")
        else:
            try:
                done = facilitation.cancel_deletion(app, actor(body), round_id, asked)
            except RoundtableError as exc:
                slack.respond(body.get("response_url"), render.message(why_refused(exc)))
                return
        slack.respond(body.get("response_url"), render.message(done), replace_original=True)

    @bolt.action(re.compile(re.escape(review_blocks.REVIEW_EDIT) + ":.*"))
    @guarded
    def open_review_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            which = draft_target(action.get("value"), DraftQuestion)
            opened = review.waiting(app, actor(body), which.round, which.digest)
            form = review_blocks.edit_view(opened, which.prompt)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), blocks.notice(why_refused(exc).plain))
            return
        try:
            view_id = slack.open_view(body["trigger_id"], form)
        except DeliveryError as exc:
            slack.respond(body.get("response_url"),
                          render.message(review.form_not_opened(which.round, exc.reason)))
            return
        if view_id is not None:
            review.form_opened(app, actor(body), which.round, view_id,
                               opened.listing(which.prompt))

    @bolt.action(review_blocks.REVIEW_APPROVE)
    @guarded
    def approve_digest(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            which = draft_target(action.get("value"), DraftTarget)
            done = review.approve(app, actor(body), which.round, which.digest)
        except (RoundtableError, ValueError) as exc:
            slack.respond(body.get("response_url"), blocks.notice(why_refused(exc).plain))
            return
        slack.respond(body.get("response_url"), render.message(done))

    @bolt.action(blocks.FORGET_CANCEL)
    @guarded
    def forget_cancel(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        slack.respond(body.get("response_url"), render.message(said("Nothing was deleted.")),
                      replace_original=True)
