"""Managing rounds from Slack, as a facilitator would expect: `/roundtable list`, `status N
who`, `set N digest #channel`, `reopen N`, and `delete N` behind a confirmation button."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import facilitation
from bot.app.actors import OPERATOR, Actor
from bot.app.personal_data import my_data
from bot.core import audit
from bot.core.retention import apply_retention
from bot.core.rounds import close_round
from bot.scheduling import jobs
from bot.scheduling.jobs import FINAL_PERIOD
from bot.slack import blocks
from storage.database import Database
from storage.db import transaction
from storage.models import BotMessage, Delivery, Digest, Participant, Round
from tests.helpers import started_round
from tests.slack.conftest import (
    CHANNEL,
    DIGEST_CHANNEL,
    FACILITATOR,
    MEMBERS,
    PACK,
    Running,
    application,
    bot_settings,
)
from tests.slack.test_answers import answer_buttons
from tests.slack.test_forget_me import AMARA, AMARA_SAID, copies_to_amara
from tests.slack.test_round_loop import asked, question_ts, sent_to_everyone, start_round
from tests.slack_api_stub import SlackStub

OUTSIDER = MEMBERS[0]


def command(running: Running, text: str, expect: str, user: str = FACILITATOR) -> dict[str, Any]:
    """Type `/roundtable TEXT`; the answer (sent to the response_url) that contains `expect`."""
    before = len(running.stub.calls_to("response_url"))
    assert running.slack.command(user, text).status == 200
    found = running.wait_for(lambda: [c.params for c in running.stub.calls_to("response_url")
                                      [before:] if expect in c.params.get("text", "")],
                             f"an answer to {text!r} saying {expect!r}")
    return dict(found[0])


def delete_button(running: Running, round_id: int) -> dict[str, Any]:
    """Ask to delete the round: the Delete button of the question that comes back."""
    asked = command(running, f"delete {round_id}", "Deleting it removes")
    return dict(next(e for b in asked["blocks"] if b["type"] == "actions"
                     for e in b["elements"] if e.get("style") == "danger"))


def test_a_round_started_without_a_digest_channel_is_given_one_in_slack_and_posts_there(
        running: Running) -> None:
    started = command(running, f"start {PACK} to <#{CHANNEL}|leaders> named", "started")
    round_id = int(started["text"].split()[1])
    sent_to_everyone(running)
    status = command(running, f"status {round_id}", "No digest channel")
    assert "/roundtable set" in status["text"]

    # a digest goes to a group: a minute's slip (`*` for `0`) would post sixty in an hour
    for schedule, apart in (("* 9 * * mon", "a minute apart (Mon 09:00:00 and 09:01:00)"),
                            ("0,30 9 * * mon", "30 minutes apart (Mon 09:00:00 and 09:30:00)"),
                            ("*/10 0 9 * * mon", "10 seconds apart")):
        refused = command(running, f"set {round_id} digest <#{DIGEST_CHANNEL}|digest> "
                                   f"schedule {schedule}", "at most one an hour")
        assert f"The schedule '{schedule}' posts digests {apart}" in refused["text"]
    assert running.scalar(select(Round.digest_channel)) is None  # nothing changed
    changed = command(running, f"set {round_id} digest <#{DIGEST_CHANNEL}|digest> "
                               "schedule 0 9 * * mon", "digests go to")
    assert changed["text"].startswith(f"Round {round_id}: digests go to <#{DIGEST_CHANNEL}>, "
                                      "the next on Mon ")
    assert running.scalar(select(Round.digest_cron)) == "0 9 * * mon"
    command(running, f"digest {round_id}", "Posted the digest")  # typed in #leaders
    assert running.stub.posted(DIGEST_CHANNEL) and not running.stub.posted(CHANNEL)

    listed = command(running, "list", f"Round {round_id}")
    assert f"0 of 5 answered, 0 replies · digests to <#{DIGEST_CHANNEL}>" in listed["text"]
    # Slack shows a mention as the person's name (in an answer only its asker sees)
    assert f"started by <@{FACILITATOR}>" in listed["text"]
    who = command(running, f"status {round_id} who", "Not answered yet")
    assert "Not answered yet: 5 people — Amara, Ben, Chidi, Dev, Elif" in who["text"]


def test_a_facilitator_is_told_when_choosing_a_channel_the_bot_cannot_post_to(
        running: Running) -> None:
    """Slack lets the bot post only where it is a member: a digest channel it is not in, or
    cannot see, is said at once (with how to fix it), not found out when the first digest
    fails a week later; the round starts all the same."""
    running.stub.add_channel("CQUIET", [], name="quiet")
    running.stub.outside.add("CQUIET")
    started = command(running, f"start {PACK} to <#{CHANNEL}|leaders> digest <#CQUIET|quiet>",
                      "started")
    assert ("I am not in that channel yet, so no digest can be posted there: invite "
            "@Roundtable to it (type /invite @Roundtable there).") in started["text"]
    round_id = int(started["text"].split()[1])
    assert running.scalar(select(Round.digest_channel)) == "CQUIET"

    hidden = command(running, f"set {round_id} digest <#CPRIVATE|private>", "digests go to")
    assert ("I cannot see that channel, so no digest can be posted there: invite @Roundtable "
            "to it") in hidden["text"]
    fine = command(running, f"set {round_id} digest <#{DIGEST_CHANNEL}|digest>",
                   "digests go to")
    assert "no digest can be posted" not in fine["text"]
    again = command(running, f"set {round_id} closes 3d", "closes")
    assert "no digest can be posted" not in again["text"]


def test_an_audience_channel_the_bot_cannot_see_is_named_with_how_to_invite_it(
        running: Running) -> None:
    """Starting a round for a private channel the bot is not in is refused in the
    facilitator's words: the channel as Slack names it (no id, no error code) and how to let
    the bot in; no round is kept."""
    refused = command(running, f"start {PACK} to <#CPRIVATE|private>", "cannot see")
    assert refused["text"] == (
        "I cannot see <#CPRIVATE>, so I cannot ask its members: invite @Roundtable to it "
        "(type /invite @Roundtable there), then start the round again.")
    assert running.scalar(select(Round.id)) is None

    # the Home tab's Start form says the same, in a DM, with the channel named as Slack does
    form = {"id": "VSTART", "type": "modal", "callback_id": blocks.START_VIEW}
    assert running.slack.submit(FACILITATOR, form, {
        "pack": {"value": {"type": "static_select", "selected_option": {"value": PACK}}},
        "channel": {"value": {"type": "conversations_select",
                              "selected_conversation": "CPRIVATE"}}}).status == 200
    told = running.wait_for(lambda: [c.params["text"] for c in running.stub.posted(
        "D" + FACILITATOR) if "not started" in c.params.get("text", "")], "the refusal")
    assert told == ["The round was not started: I cannot see <#CPRIVATE>, so I cannot ask its "
                    "members: invite @Roundtable to it (type /invite @Roundtable there), then "
                    "start the round again."]
    assert running.scalar(select(Round.id)) is None


def test_one_person_reminded_is_said_in_the_singular(running: Running) -> None:
    started = command(running, f"start {PACK} to <@{MEMBERS[0]}|amara>", "started")
    round_id = int(started["text"].split()[1])
    running.wait_for(lambda: running.scalars(select(Delivery).where(
        Delivery.state == "sent")), "question 1 sent")
    reminded = command(running, "remind", "Reminded")
    assert reminded["text"] == (f"Reminded 1 person who has open questions in round "
                                f"{round_id}. Nobody gets more than 2 reminders.")


def test_a_closed_round_is_reopened_and_a_mistaken_one_deleted_after_a_button(
        running: Running) -> None:
    round_id = int(command(running, f"start {PACK} to <@UBEN>", "started")["text"].split()[1])
    sent_to_everyone(running, ["UBEN"])
    command(running, f"close {round_id}", "is closed")
    assert "No open rounds" in command(running, "list", "No open rounds")["text"]
    assert f"Round {round_id}* · {PACK} · closed" in command(running, "list all", "closed")[
        "text"]
    command(running, f"reopen {round_id}", "is open again")
    assert running.scalar(select(Round.status)) == "open"

    asked = command(running, f"delete {round_id}", "Deleting it removes")
    # no final digest: the round has no digest channel, and digests go nowhere else
    assert "has 1 person, 0 replies and 0 digests." in asked["text"]
    buttons = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    delete = next(b for b in buttons if b["style"] == "danger")
    assert delete["confirm"]["title"]["text"] == "Delete the round?"
    assert running.scalar(select(Round.id)) == round_id  # asking deleted nothing

    clicked = running.slack.click(FACILITATOR, delete["action_id"], delete["value"],
                                  channel=CHANNEL)
    assert clicked.status == 200
    done = running.answer_to(clicked, "the deletion").params
    assert done["text"] == f"Round {round_id} is deleted, with its 0 answers and 0 digests."
    assert done["replace_original"] is True
    assert running.scalars(select(Round)) == running.scalars(select(Delivery)) == []
    assert running.scalars(select(Participant)) == [] and running.scalars(select(Digest)) == []


def test_cancel_replaces_the_deletion_question_and_its_old_delete_button_deletes_nothing(
        running: Running) -> None:
    round_id = int(command(running, f"start {PACK} to <@UBEN>", "started")["text"].split()[1])
    sent_to_everyone(running, ["UBEN"])
    asked = command(running, f"delete {round_id}", "Deleting it removes")
    buttons = {e["text"]["text"]: e for b in asked["blocks"] if b["type"] == "actions"
               for e in b["elements"]}

    def clicked(title: str) -> dict[str, Any]:
        button = buttons[title]
        pressed = running.slack.click(FACILITATOR, button["action_id"], button.get("value", ""),
                                      channel=CHANNEL)
        assert pressed.status == 200
        return dict(running.answer_to(pressed, f"the answer to {title}").params)

    cancelled = clicked("Cancel")
    assert cancelled["text"] == f"Cancelled: round {round_id} is kept."
    assert cancelled["replace_original"] is True
    assert not any(b["type"] == "actions" for b in cancelled.get("blocks") or [])
    # the same question's Delete, pressed anyway (a copy not yet replaced), deletes nothing
    refused = clicked(f"Delete round {round_id}")
    assert refused["text"] == (f"That deletion was cancelled, so round {round_id} is "
                               f"kept. To delete it, ask again with `/roundtable delete "
                               f"{round_id}`.")
    assert refused["replace_original"] is False
    assert running.scalar(select(Round.id)) == round_id


def test_round_management_is_refused_to_anyone_but_a_facilitator(running: Running) -> None:
    for text in ("list", "set 1 digest <#CDIGEST|digest>", "reopen 1", "delete 1",
                 "status 1 who"):
        answer = running.slack.command(OUTSIDER, text).json()
        assert "only facilitators" in answer["text"], text
    assert running.stub.calls_to("response_url") == []


def test_set_says_how_to_use_it(running: Running) -> None:
    answer = command(running, "set 1 digest", "like this")
    assert answer["text"].startswith("Type it like this: `/roundtable set ")
    assert "[digest #channel|none] [closes 14d|2026-12-18|never]" in answer["text"]


def test_a_facilitator_is_told_when_a_round_closes_in_the_rounds_time_zone(
        running: Running) -> None:
    """`closes 2026-12-18` closes at the end of that working day in ROUNDTABLE_TIMEZONE;
    the answer says the hour and the zone, GMT in December and BST after the clocks change."""
    started = command(running, f"start {PACK} to <@UBEN> closes 2026-12-18", "started")
    assert " It closes Fri 18 Dec 2026 18:00 GMT." in started["text"]
    round_id = int(started["text"].split()[1])
    changed = command(running, f"set {round_id} closes 2027-04-02", "closes")
    assert changed["text"].endswith("; closes Fri 2 Apr 2027 18:00 BST.")
    listed = command(running, "list", f"Round {round_id}")
    assert " · closes Fri 2 Apr 18:00 BST · " in listed["text"]


def test_deleting_an_open_round_takes_its_questions_off_its_peoples_home_tabs(
        running: Running) -> None:
    """Ben's App Home lists the round's six questions; once the facilitator deletes the
    round it is published again without them, not left until Ben next opens it."""
    round_id = int(command(running, f"start {PACK} to <@UBEN>", "started")["text"].split()[1])
    sent_to_everyone(running, ["UBEN"])
    running.slack.event({"type": "app_home_opened", "user": "UBEN", "channel": "DUBEN",
                         "tab": "home"})
    home = running.wait_for(lambda: running.stub.calls_to("views.publish"), "Ben's home tab")
    assert len(answer_buttons(home[0].params["view"])) == 6

    delete = delete_button(running, round_id)
    running.slack.click(FACILITATOR, delete["action_id"], delete["value"], channel=CHANNEL)
    published = running.wait_for(lambda: [c for c in running.stub.calls_to("views.publish")[1:]
                                          if c.params["user_id"] == "UBEN"],
                                 "Ben's home tab published again")
    assert answer_buttons(published[0].params["view"]) == []


SAVED = "Saved as your answer"


def _confirmations(running: Running) -> list[BotMessage]:
    return running.scalars(select(BotMessage).where(BotMessage.kind == "confirmation"))


def _repeated_to_amara(running: Running) -> list[str]:
    """The words of Amara's answers that a message of the bot's in her DM still repeats."""
    shown = json.dumps(running.stub.history.get("D" + AMARA, []))
    return [words for words in AMARA_SAID if words in shown]


def _deleted(running: Running, round_id: int) -> None:
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if f"Round {round_id} is deleted" in c.params.get("text", "")],
                     "the deletion")


def _withhold_confirmations_to_amara(running: Running) -> None:
    running.stub.withhold("chat.postMessage", lambda params: params.get("channel") == "D" + AMARA
                          and SAVED in str(params.get("text")))


@pytest.mark.each_database
def test_a_confirmation_recorded_as_its_round_is_being_deleted_is_deleted(
        running: Running) -> None:
    """The deletion has looked for the messages repeating the round's answers, and is
    deleting Amara's first confirmation, when Slack answers where her second landed, and it
    is recorded: the deletion finds it before it deletes the round's rows, and deletes it
    too. No message of the bot's repeats her words."""
    round_id = start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: _confirmations(running), "her first confirmation, recorded")
    _withhold_confirmations_to_amara(running)
    running.slack.dm(AMARA, AMARA_SAID[1], thread_ts=asked(running, AMARA, "bought-in"))
    posted = running.wait_for(lambda: running.stub.withheld, "her second, posted")[0]
    delete = delete_button(running, round_id)
    running.stub.withhold("chat.delete", lambda params: True)
    deleting = threading.Thread(target=running.slack.click, args=(
        FACILITATOR, delete["action_id"], delete["value"]), kwargs={"channel": CHANNEL})
    deleting.start()
    running.wait_for(lambda: [c for c in running.stub.withheld if c.method == "chat.delete"],
                     "the first, being deleted")
    running.stub.release("chat.postMessage")
    running.wait_for(lambda: len(_confirmations(running)) == 2, "her second, recorded")
    running.stub.release()
    _deleted(running, round_id)
    deleting.join()
    assert running.stub.message("D" + AMARA, posted.answer["ts"]) is None
    assert _repeated_to_amara(running) == []


def test_a_confirmation_being_posted_when_its_round_is_deleted_is_deleted_after(
        running: Running) -> None:
    """Amara's confirmation is in the chat, but Slack has not said where yet, while the
    round is deleted: once Slack answers, it is deleted, as the deletion deletes those it
    knows of."""
    round_id = start_round(running)
    sent_to_everyone(running)
    _withhold_confirmations_to_amara(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    posted = running.wait_for(lambda: running.stub.withheld, "her confirmation, posted")[0]
    delete = delete_button(running, round_id)
    running.slack.click(FACILITATOR, delete["action_id"], delete["value"], channel=CHANNEL)
    _deleted(running, round_id)
    running.stub.release()
    running.bot.confirmations.stop()  # answered, and recorded (or not)
    assert running.stub.message("D" + AMARA, posted.answer["ts"]) is None
    assert _repeated_to_amara(running) == []


def closing_round(running: Running, round_id: int, how: str) -> Callable[[], object]:
    """How a round's answers go: the round deleted ("delete"), or its retention period over
    ("purge": it is closed long enough ago here, and purged when this is called)."""
    if how == "purge":
        with transaction(running.database.sessions) as session:  # closed past the period
            session.execute(update(Round).where(Round.id == round_id).values(
                status="closed", closed_at=running.bot.clock() - timedelta(days=400)))
        return lambda: apply_retention(running.database, running.bot.clock(), 365,
                                       audit.OPERATOR, running.bot.gateways)
    return lambda: facilitation.delete(running.bot, OPERATOR, round_id)


def _answered_by_amara(running: Running) -> int:
    round_id = start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: _confirmations(running), "her confirmation, recorded")
    return round_id


@pytest.mark.each_database
@pytest.mark.parametrize("how", ["delete", "purge"])
def test_a_copy_of_someone_s_data_sent_as_its_round_s_answers_are_being_deleted_goes_too(
        running: Running, how: str) -> None:
    """The deletion (or the end of the retention period) is deleting Amara's confirmation in
    Slack when she asks for her data: the copy, sent and recorded meanwhile, holds her
    answer, and is deleted with the round's rows."""
    round_id = _answered_by_amara(running)
    closing = closing_round(running, round_id, how)
    running.stub.hold("chat.delete", lambda params: True)
    told: list[str] = []
    running.meanwhile(closing, "her confirmation, being deleted",
                      lambda: told.append(my_data(running.bot, Actor("slack", AMARA)).plain))
    assert told and "I have sent you" in told[0], told
    assert running.stub.uploaded("D" + AMARA) != []
    assert copies_to_amara(running) == []


@pytest.mark.each_database
@pytest.mark.parametrize("how", ["delete", "purge"])
def test_a_copy_of_someone_s_data_being_sent_as_its_round_s_answers_are_deleted_goes_after(
        running: Running, how: str) -> None:
    """Amara's copy of her data is in her DM, but Slack has not said so yet, while the
    round's answers are deleted: once Slack answers, the copy is deleted, and she is told
    to ask again."""
    round_id = _answered_by_amara(running)
    closing = closing_round(running, round_id, how)
    running.stub.withhold("files.completeUploadExternal", lambda params: True)
    told: list[str] = []
    running.meanwhile(lambda: told.append(my_data(running.bot, Actor("slack", AMARA)).plain),
                      "her copy, shared", closing)
    assert running.stub.uploaded("D" + AMARA) != []
    assert copies_to_amara(running) == []
    assert told and "took it down" in told[0], told


@pytest.mark.parametrize(("review", "told"), [
    ("post", f"Posted its final digest in #{DIGEST_CHANNEL}."),
    ("review", f"Its final digest waits for review before it posts in #{DIGEST_CHANNEL}."),
])
@pytest.mark.each_database
def test_a_close_whose_final_digest_the_schedule_took_up_meanwhile_says_where_it_stands(
        database: Database, database_url: str, stub: SlackStub, now: datetime, review: str,
        told: str) -> None:
    """The schedule posts the final digest of every closed round that has a channel (or, in a
    round whose digests are reviewed, sends it for review): its sweep can come between a
    facilitator's close and the close's own post of it. The facilitator is told where the
    final digest stands, not that it "was already posted" (which reads as if the round had
    been closed before), and it is claimed once."""
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, started_by=FACILITATOR,
                                 digest_channel=DIGEST_CHANNEL, review=review).id
        close_round(session, round_id, now)
    serving = application(bot_settings(database_url, stub), database)
    jobs.install(jobs.JobContext(database, serving.gateways, serving.clock,
                                 "Europe/London"))
    jobs.close_due_rounds()  # the sweep, between the close's commit and its post
    closing = facilitation.digest(serving, Actor("slack", FACILITATOR), round_id,
                                  period=FINAL_PERIOD)
    assert closing.plain == told, closing.plain
    with database.sessions() as session:
        assert session.scalars(select(Digest.period)).all() == [FINAL_PERIOD]
    assert bool(stub.posted(DIGEST_CHANNEL)) == (review == "post")  # the draft goes to review
