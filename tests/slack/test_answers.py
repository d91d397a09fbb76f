"""Answering as a participant: words kept as read, shown inert; edits, deletions, long answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app.confirmations import Confirmations
from bot.core import reminders
from bot.core.replies import delete_reply
from storage.database import Database
from storage.db import transaction
from storage.models import (
    BotMessage,
    Delivery,
    Participant,
    QuestionMessage,
    Reply,
    ReplyVersion,
)
from tests.helpers import stepping
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running, run_bot
from tests.slack.test_round_loop import question_ts, rank, sent_to_everyone, start_round
from tests.slack_api_stub import Call, SlackStub
from tests.slack_reading import as_read
from tests.test_reminders import waiting_for_a_lock

TRICKY = [
    "<!channel> we need <!here> and <!everyone> to read this",
    "Ask <@UFACILITATOR> or <@UBEN|ben> about <#CLEADERS|leaders> and <!subteam^SPCN|@pcn>",
    "See <https://evil.example/phish|the NHS site> &amp; <mailto:a@b.example>",
    "*bold* _italic_ ~strike~ `code` ```block``` > quote &lt;tag&gt;",
]
AS_READ = [
    "@channel we need @here and @everyone to read this",
    "Ask @Fola Facilitator or @ben about #leaders and @pcn",
    "See the NHS site & mailto:a@b.example",
    "*bold* _italic_ ~strike~ `code` ```block``` > quote <tag>",
]
"""TRICKY as its readers saw it in Slack: what is stored."""


def _bot_output(running: Running) -> str:
    """Everything the bot sent to Slack (messages, views, command answers) as one string."""
    sent = [c.params for c in running.stub.calls
            if c.method in ("chat.postMessage", "chat.update", "views.open", "views.publish",
                            "response_url")]
    return json.dumps(sent)


def test_it_keeps_words_as_read_and_never_pings(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    for user, text in zip(MEMBERS, TRICKY, strict=False):
        running.slack.dm(user, text, thread_ts=question_ts(running, user, "done-well"))
    running.wait_for(lambda: len(running.replies()) == len(TRICKY), "the tricky answers")
    assert sorted(r.text or "" for r in running.replies()) == sorted(AS_READ)
    running.slack.command(FACILITATOR, "digest")
    running.wait_for(lambda: running.stub.posted(DIGEST_CHANNEL), "the digest")
    running.wait_for(lambda: len([c for c in running.stub.calls_to("chat.postMessage")
                                  if c.params["channel"] == DIGEST_CHANNEL]) > 1,
                     "the digest thread")
    out = _bot_output(running)
    for control in ("<!channel", "<!here", "<!everyone", "<@U", "<!subteam", "<https:",
                    "<mailto:", "link_names", '"parse"'):
        assert control not in out, control
    # what people wrote is still readable, as plain text
    def confirmations_of_all() -> str:  # posted after each answer commits
        sent = [c for u in MEMBERS for c in running.stub.posted("D" + u)]
        saved = [c for c in sent if "Saved" in c.params["text"]]
        return json.dumps([c.params for c in sent]) if len(saved) >= len(TRICKY) else ""

    confirmations = running.wait_for(confirmations_of_all, "a confirmation of every answer")
    assert "@channel" in confirmations and "@ben" in confirmations


def test_it_stores_a_long_answer_whole_and_shows_it_cut(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    long = ("Protected time matters. " * 1300)[:30_000]
    running.slack.dm(user, long, thread_ts=question_ts(running, user, "done-well"))
    running.wait_for(lambda: running.replies(), "the long answer")
    assert running.replies()[0].text == long
    confirmation = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                             if c.params["text"].startswith("Saved")], "it")
    blocks: list[dict[str, Any]] = confirmation[0].params["blocks"]
    shown = " ".join(json.dumps(b) for b in blocks)
    assert len(shown) < 6000 and "export" in shown and "30,000 characters" in shown


def test_a_confirmation_says_in_plain_words_what_to_do_if_the_answer_went_astray(
        running: Running) -> None:
    """A pharmacist whose words went to the wrong question is told what to do in their own
    terms: the message they wrote, not "this message's original"."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    running.slack.dm(user, "Protected time made it work.")
    confirmation = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                             if c.params["text"].startswith("Saved")], "it")
    read = as_read(confirmation[0].params["blocks"], running.stub)
    assert ("Not the right question? Answer the one you meant in its thread, and delete "
            "the message you wrote.") in read, read


def test_it_follows_edits_and_deletions_made_in_slack(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[2]
    channel = "D" + user
    ts, _ = running.slack.dm(user, "First thought.")
    running.wait_for(lambda: running.replies(), "the answer")
    running.slack.event({"type": "message", "subtype": "message_changed", "channel": channel,
                         "channel_type": "im", "ts": "1900000999.1", "hidden": True,
                         "message": {"type": "message", "user": user, "text": "Second thought.",
                                     "ts": ts, "edited": {"user": user, "ts": "1900000999.1"}},
                         "previous_message": {"user": user, "text": "First thought.", "ts": ts}})
    running.wait_for(lambda: running.replies()[0].text == "Second thought.", "the edit")
    assert running.scalars(select(ReplyVersion.text)) == ["First thought."]
    running.slack.event({"type": "message", "subtype": "message_deleted", "channel": channel,
                         "channel_type": "im", "ts": "1900001000.1", "hidden": True,
                         "deleted_ts": ts, "previous_message": {"user": user, "ts": ts}})
    running.wait_for(lambda: running.replies()[0].deleted_at is not None, "the deletion")
    assert running.replies()[0].text is None
    # an event subtype nobody handles is still acknowledged (no 404, so Slack does not retry)
    other = running.slack.event({"type": "message", "subtype": "channel_join",
                                 "channel": channel, "channel_type": "im", "ts": "1.1"})
    assert other.status == 200


def _edit(running: Running, user: str, ts: str, text: str, thread_ts: str) -> None:
    """The person edits their message `ts` in a question's thread, as Slack reports it."""
    running.slack.event({"type": "message", "subtype": "message_changed", "channel": "D" + user,
                         "channel_type": "im", "ts": "1900000999.1", "hidden": True,
                         "message": {"type": "message", "user": user, "text": text, "ts": ts,
                                     "thread_ts": thread_ts,
                                     "edited": {"user": user, "ts": "1900000999.1"}},
                         "previous_message": {"user": user, "text": "x", "ts": ts,
                                              "thread_ts": thread_ts}})


def _confirmations_to(running: Running, user: str, start: str) -> list[Call]:
    return [c for c in running.stub.posted("D" + user) if c.params["text"].startswith(start)]


def _withholding(running: Running, stub: SlackStub, holding: str) -> str:
    """A round started and its questions sent; the first member's DMs whose text holds
    `holding` are posted, but Slack's answer (where they landed) waits for `stub.release`:
    that member."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    stub.withhold("chat.postMessage", lambda params: params.get("channel") == "D" + user
                  and holding in str(params.get("text")))
    return user


def _answered_first(running: Running, text: str) -> tuple[str, str, str, Call]:
    """A round started, the first member's answer to question 1 written in its thread and
    confirmed: who, the thread, the answer's ts, and the confirmation."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    thread = question_ts(running, user, "done-well")
    ts, _ = running.slack.dm(user, text, thread_ts=thread)
    saved = running.wait_for(lambda: _confirmations_to(running, user, "Saved"),
                             "the confirmation")[0]
    return user, thread, ts, saved


def test_it_tells_someone_their_edited_answer_was_updated_in_its_confirmation(
        running: Running) -> None:
    user, thread, ts, saved = _answered_first(running, "First thought.")
    _edit(running, user, ts, "Second *thought* &amp; more.", thread)
    running.wait_for(lambda: running.replies()[0].text == "Second *thought* & more.", "the edit")
    update = running.wait_for(lambda: running.stub.calls_to("chat.update"), "the update")[0]
    assert (update.params["channel"], update.params["ts"]) == ("D" + user, saved.answer["ts"])
    assert update.params["text"].startswith("Updated as your answer to question 1: ")
    shown = running.stub.message("D" + user, saved.answer["ts"])
    assert shown is not None
    read = as_read(shown["blocks"])
    assert read.startswith("Updated as your answer to question 1: ")
    assert "\n>Second *thought* & more.\n" in read  # as written, in rich text
    assert "First thought." not in read
    assert _confirmations_to(running, user, "Saved") == [saved]
    assert not _confirmations_to(running, user, "Updated")  # the update was the only word


def test_an_answer_edited_into_a_greeting_is_taken_as_written_and_confirmed(
        running: Running) -> None:
    """A greeting sent alone is not an answer, but an answer its writer edits into "Hello"
    is their answer now: they changed it themselves, the confirmation shows it as it reads
    (so a slip is seen and edited back), and the earlier words stay among its versions."""
    user, thread, ts, saved = _answered_first(running, "First thought.")
    _edit(running, user, ts, "Hello", thread)
    running.wait_for(lambda: running.replies()[0].text == "Hello", "the edit")
    shown = running.wait_for(lambda: running.stub.calls_to("chat.update"), "the update")[0]
    assert shown.params["ts"] == saved.answer["ts"]
    assert shown.params["text"].startswith("Updated as your answer to question 1: ")
    assert "Hello" in as_read(shown.params["blocks"])
    assert not [c for c in running.stub.posted("D" + user) if "Save as my answer" in str(c.params)]


def test_a_deleted_answers_confirmation_no_longer_repeats_it(running: Running) -> None:
    """Deleting an answer in Slack deletes it from the bot's confirmation too, which says so
    and that the question is open again; the other answers' confirmations stay."""
    user, thread, ts, saved = _answered_first(running, "Words I regret writing.")
    second = running.wait_for(lambda: _asked_ts(running, user, "bought-in"), "question 2")
    running.slack.dm(user, "Words I stand by.", thread_ts=second)
    kept = running.wait_for(lambda: _confirmations_to(running, user, "Saved")[1:],
                            "the second confirmation")[0]
    running.slack.event({"type": "message", "subtype": "message_deleted",
                         "channel": "D" + user, "channel_type": "im", "hidden": True,
                         "ts": "1900001000.1", "deleted_ts": ts,
                         "previous_message": {"user": user, "ts": ts, "thread_ts": thread}})

    def shown(call: Call) -> str:
        found = running.stub.message("D" + user, call.answer["ts"])
        return as_read(found["blocks"]) if found else ""

    running.wait_for(lambda: "deleted" in shown(saved), "the confirmation changed")
    assert shown(saved) == ("You deleted your answer to question 1, and it is deleted here "
                            "too. The question is open again: answer it in its thread "
                            "whenever you like.")
    assert "Words I stand by." in shown(kept)
    assert "Words I regret" not in json.dumps(running.stub.history["D" + user])


@pytest.mark.each_database
def test_an_answer_deleted_while_its_confirmation_is_being_posted_is_not_repeated_after(
        running: Running, database: Database, database_url: str, stub: SlackStub) -> None:
    """The confirmation is in the chat, but Slack has not said where yet, when the answer
    is deleted (the deletion handled by another process, which finds no confirmation to
    change): once Slack answers, the confirmation says the answer is deleted, as one
    recorded before would."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    thread = question_ts(running, user, "done-well")
    stub.withhold("chat.postMessage", lambda params: params.get("channel") == "D" + user
                  and "Saved" in str(params.get("text")))
    ts, _ = running.slack.dm(user, "Words I regret writing.", thread_ts=thread)
    saved = running.wait_for(lambda: stub.withheld, "the confirmation, posted")[0]
    running.bot.inbox.stop()  # the deletion goes to the other process
    with run_bot(database, database_url, stub) as other:
        other.slack.event({"type": "message", "subtype": "message_deleted",
                           "channel": "D" + user, "channel_type": "im", "hidden": True,
                           "ts": "1900001000.1", "deleted_ts": ts,
                           "previous_message": {"user": user, "ts": ts, "thread_ts": thread}})
        other.wait_for(lambda: other.replies()[0].deleted_at is not None, "the deletion")
        other.bot.confirmations.stop()  # its acknowledgement, done
    stub.release()
    running.bot.confirmations.stop()  # the confirmation, answered and recorded (or not)

    def shown() -> str:
        found = stub.message("D" + user, saved.answer["ts"])
        return as_read(found["blocks"]) if found else ""

    assert shown() == ("You deleted your answer to question 1, and it is deleted here "
                       "too. The question is open again: answer it in its thread "
                       "whenever you like.")


@pytest.mark.each_database
def test_a_deletion_committing_while_a_confirmation_is_recorded_is_seen_by_the_recording(
        running: Running, database: Database, stub: SlackStub) -> None:
    """On PostgreSQL, where transactions run side by side: the answer's deletion has
    changed its row, not yet committed, when Slack answers where its confirmation landed.
    Recording it waits for the deletion, and then sees it: the confirmation says the answer
    is deleted (nothing else would look for it: the deletion looks once it has committed)."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: the recording never waits")
    user = _withholding(running, stub, "Saved")
    running.slack.dm(user, "Words I regret writing.",
                     thread_ts=question_ts(running, user, "done-well"))
    saved = running.wait_for(lambda: stub.withheld, "the confirmation, posted")[0]
    answer = running.replies()[0].external_id or ""
    with transaction(database.sessions) as deleting:
        delete_reply(deleting, answer, running.bot.clock())
        deleting.flush()  # the row changed, and locked until this commits
        stub.release()
        running.wait_for(lambda: waiting_for_a_lock(database),
                         "the recording, waiting for the deletion")
    running.bot.confirmations.stop()  # recorded, or taken down
    found = stub.message("D" + user, saved.answer["ts"])
    assert found is not None and as_read(found["blocks"]) == (
        "You deleted your answer to question 1, and it is deleted here too. The question is "
        "open again: answer it in its thread whenever you like.")


def test_it_confirms_an_edit_anew_when_it_knows_no_confirmation_of_that_answer(
        running: Running) -> None:
    """Confirmations posted by earlier versions (or of several answers at once) name no
    answer: the edit gets a confirmation of its own, in the answer's thread."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[1]
    thread = question_ts(running, user, "done-well")
    ts, _ = running.slack.dm(user, "First thought.", thread_ts=thread)
    running.wait_for(lambda: running.scalars(select(BotMessage)), "the confirmation kept")
    with transaction(running.database.sessions) as session:
        session.execute(update(BotMessage).values(answer_id=None))
    _edit(running, user, ts, "Second thought.", thread)
    posted = running.wait_for(lambda: _confirmations_to(running, user, "Updated"),
                              "a new confirmation")
    assert posted[0].params["thread_ts"] == thread
    read = as_read(posted[0].params["blocks"])
    assert read.startswith("Updated as your answer to question 1: ")
    assert "\n>Second thought.\n" in read
    assert not running.stub.calls_to("chat.update")


def test_it_says_a_ranking_given_again_in_the_form_updated_the_first(
        running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[2]
    rank(running, user, round_id, [0, 1, 2, 3, 4])
    first = running.wait_for(lambda: _confirmations_to(running, user, "Saved your answer"),
                             "the first ranking's confirmation")
    rank(running, user, round_id, [4, 3, 2, 1, 0])
    again = running.wait_for(lambda: _confirmations_to(running, user, "Updated your answer"),
                             "the second ranking's confirmation")
    assert first[0].params["text"].startswith("Saved your answer to question 6: ")
    assert again[0].params["text"].startswith("Updated your answer to question 6: ")
    assert len([r for r in running.replies() if r.choices]) == 1


def test_it_stops_and_forgets_a_participant_on_request(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[3]
    running.slack.dm(user, "Something I may regret.")
    running.wait_for(lambda: running.replies(), "the answer")
    running.slack.command(user, "forget-me")
    asked = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                      if "cannot be undone" in c.params.get("text", "")],
                             "the confirmation question")
    assert "your one answer or vote, the questions" in asked[0].params["text"]
    assert "all 1 of" not in asked[0].params["text"]
    assert running.replies(), "nothing is deleted before the confirmation"
    running.slack.click(user, "forget_confirm")
    running.wait_for(lambda: not running.replies(), "the answers to go")
    assert running.scalar(select(Participant).where(Participant.platform_user_id == user)) \
        is None  # and a fingerprint keeps them out of new rounds (tests/slack/test_forget_me.py)
    other = MEMBERS[4]
    running.slack.command(other, "stop")
    running.wait_for(lambda: running.scalar(select(Participant.opted_out).where(
        Participant.platform_user_id == other)), "the opt-out")
    running.slack.command(FACILITATOR, "remind")
    reminded = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                         if "Reminded" in c.params.get("text", "")], "reminders")
    assert "Reminded 3 " in reminded[0].params["text"]
    # each of the three still asked gets one nudge in their conversation, in Slack's words;
    # the one who stopped and the one forgotten get none
    def nudges() -> list[Call]:
        return [c for c in running.stub.calls_to("chat.postMessage")
                if "gentle reminder" in c.params.get("text", "")]

    running.wait_for(lambda: len(nudges()) >= 3, "the reminders")
    assert sorted(c.params["channel"] for c in nudges()) == sorted(
        "D" + m for m in MEMBERS if m not in (user, other))
    for nudge in nudges():
        assert nudge.params["text"].startswith("A gentle reminder about “"), nudge.params
        assert nudge.params["text"].endswith(("Just write here to answer it.",
                                              "You will find them on the Home tab.")), nudge.params


def test_remind_counts_whom_it_reminded_beside_a_reminder_planned_for_later(
        running: Running) -> None:
    """The round closes tomorrow at 18:00, so its reminder a day before is planned for 17:00
    today; a facilitator's `remind` now reaches everyone now, and says so."""
    round_id = start_round(running, " closes 1d")
    sent_to_everyone(running)
    with transaction(running.database.sessions) as session:  # as the scheduler's sweep does
        assert reminders.plan_scheduled(session, round_id, running.bot.clock(), "Europe/London")
    running.slack.command(FACILITATOR, "remind")
    said = running.wait_for(lambda: [c.params["text"] for c in running.stub.calls_to(
        "response_url") if "Reminded" in c.params.get("text", "")], "the reminders")
    assert said[0].startswith(f"Reminded {len(MEMBERS)} people who have open questions in "
                              f"round {round_id}. Nobody gets more"), said[0]


def test_stop_or_help_written_alone_in_the_conversation_is_not_taken_for_an_answer(
        running: Running) -> None:
    """Someone who writes "stop" to the bot is stopped (as `/roundtable stop` does), not sent
    the next question with "stop" saved, and later quoted, as their answer; "help" alone
    says what they can do; a sentence that starts with either is an answer as ever."""
    start_round(running)
    sent_to_everyone(running)
    helped, stopped, answering = MEMBERS[0], MEMBERS[1], MEMBERS[2]
    running.slack.dm(helped, "Help?")
    told = running.wait_for(lambda: _said_to(running, helped)[1:], "the help")
    assert told[0].startswith("Write here to answer the question waiting, or answer another "
                              "one in its thread. `/roundtable stop` stops the questions")
    running.slack.dm(stopped, " STOP. ")
    told = running.wait_for(lambda: _said_to(running, stopped)[1:], "the stop's answer")
    assert told[0].startswith("Done: Roundtable will send you no more questions or reminders, "
                              "in any round. Your answers are kept; `/roundtable my-data` "
                              "sends you a copy")
    assert running.scalar(select(Participant.opted_out).where(
        Participant.platform_user_id == stopped))
    running.slack.dm(answering, "Stop the duplicate audits.")
    running.wait_for(lambda: _asked_ts(running, answering, "bought-in"), "the next question")
    assert [r.text for r in running.replies()] == ["Stop the duplicate audits."]
    assert not _asked_ts(running, helped, "bought-in") \
        and not _asked_ts(running, stopped, "bought-in")
    running.slack.command(FACILITATOR, "remind")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "Reminded" in c.params.get("text", "")], "the reminders")
    assert not [t for t in _said_to(running, stopped) if t.startswith("A gentle reminder")]
    assert [t for t in _said_to(running, helped) if t.startswith("A gentle reminder")]


def test_it_shows_open_questions_on_the_home_tab_with_an_answer_form(running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    running.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                         "tab": "home"})
    home = running.wait_for(lambda: running.stub.calls_to("views.publish"), "the home tab")
    buttons = answer_buttons(home[0].params["view"])
    assert len(buttons) == 6 and all(b["action_id"] == "answer_open" for b in buttons)
    assert json.loads(buttons[0]["value"]) == {"round": round_id, "prompt": "done-well"}
    running.slack.click(user, "answer_open", buttons[1]["value"])
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the form")[0]
    response = running.slack.submit(user, form.answer["view"], {
        "answer": {"value": {"type": "plain_text_input", "value": "From the form."}}})
    assert response.status == 200
    running.wait_for(lambda: running.replies(), "the form's answer")
    reply = running.replies()[0]
    assert (reply.prompt_id, reply.text, reply.source) == ("bought-in", "From the form.", "form")
    refreshed = running.wait_for(lambda: running.stub.calls_to("views.publish")[1:], "refresh")
    assert len(answer_buttons(refreshed[0].params["view"])) == 5
    # an empty rank is refused inside the form, and nothing is stored
    rank_value = json.dumps({"round": round_id, "prompt": "support-factors"})
    running.slack.click(user, "answer_open", rank_value)
    form = running.wait_for(lambda: running.stub.calls_to("views.open")[1:], "rank form")[0]
    refused = running.slack.submit(user, form.answer["view"], {})
    assert refused.json()["response_action"] == "errors"
    assert len(running.scalars(select(Reply))) == 1


def test_it_starts_a_round_from_the_home_tab_form(running: Running) -> None:
    running.slack.event({"type": "app_home_opened", "user": FACILITATOR,
                         "channel": "D" + FACILITATOR, "tab": "home"})
    home = running.wait_for(lambda: running.stub.calls_to("views.publish"), "the home tab")
    actions = [e["action_id"] for b in home[0].params["view"]["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert "start_open" in actions
    running.slack.click(FACILITATOR, "start_open")
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the start form")[0]
    view = form.answer["view"]
    pack_option = next(b for b in view["blocks"] if b["block_id"] == "pack")["element"][
        "options"][0]
    response = running.slack.submit(FACILITATOR, view, {
        "pack": {"value": {"type": "static_select", "selected_option": pack_option}},
        "users": {"value": {"type": "multi_users_select", "selected_users": MEMBERS[:2]}},
        "digest": {"value": {"type": "conversations_select",
                             "selected_conversation": DIGEST_CHANNEL}},
        "closes": {"value": {"type": "plain_text_input", "value": "7d"}},
        "anonymous": {"value": {"type": "checkboxes", "selected_options": []}},
    })
    assert response.status == 200
    sent_to_everyone(running, MEMBERS[:2])
    told = running.wait_for(lambda: running.stub.posted("D" + FACILITATOR), "the outcome")
    assert "started" in told[0].params["text"]
    assert len(running.scalars(select(Delivery))) == 2


def _at_the_ranking_question(running: Running, user: str) -> str:
    """Start a round, answer its five written questions in their threads: the thread of the
    ranking question, asked next."""
    start_round(running)
    sent_to_everyone(running)
    for prompt_id in ("done-well", "bought-in", "future-leaders", "best-support",
                      "anti-governance"):
        ts = running.wait_for(lambda p=prompt_id: _asked_ts(running, user, p), prompt_id)
        running.slack.dm(user, f"An answer to {prompt_id}.", thread_ts=ts)
    return running.wait_for(lambda: _asked_ts(running, user, "support-factors"), "question 6")


def test_a_typed_ranking_in_the_thread_of_the_ranking_question_is_stored(
        running: Running) -> None:
    """The words written in the thread of the ranking question are never dropped: a ranking
    is stored as the vote and confirmed as understood, other words as a comment beside it."""
    user = MEMBERS[0]
    ts = _at_the_ranking_question(running, user)
    running.slack.dm(user, "1. Psychological safety\n2. Protected time\n3. Executive backing\n"
                           "4. Relationships and networks\n5. Shared vision", thread_ts=ts)
    running.slack.dm(user, "Safety first: people speak up when they are not afraid.",
                     thread_ts=ts)
    said = running.wait_for(lambda: [t for t in _said_to(running, user)
                                     if "beside your ranking" in t], "the comment's notice")
    # the ranking's confirmation is posted after it is stored, so it may come after the notice
    [confirmed] = running.wait_for(lambda: [t for t in _said_to(running, user)
                                            if "as I read your message" in t], "the confirmation")
    assert "1. Psychological safety\n2. Protected time\n3. Executive backing and trust" in confirmed
    assert "To change your ranking, use the button on the question" in said[0]
    assert not any("no open question" in t for t in _said_to(running, user))
    replies = [r for r in running.replies() if r.prompt_id == "support-factors"]
    assert [(r.choices, r.text) for r in replies] == [
        (["Psychological safety", "Protected time", "Executive backing and trust",
          "Relationships and networks", "Shared vision across the system"],
         "1. Psychological safety\n2. Protected time\n3. Executive backing\n"
         "4. Relationships and networks\n5. Shared vision"),
        (None, "Safety first: people speak up when they are not afraid.")]


def test_a_ranking_typed_again_is_confirmed_as_updated(running: Running) -> None:
    """A second ranking typed for a question already voted on replaces the ballot, and the
    person is told it was updated, not saved as if it were the first."""
    user = MEMBERS[0]
    ts = _at_the_ranking_question(running, user)
    running.slack.dm(user, "1, 2, 3, 4, 5", thread_ts=ts)
    running.wait_for(lambda: [t for t in _said_to(running, user) if "as I read" in t],
                     "the first confirmation")
    running.slack.dm(user, "5, 4, 3, 2, 1", thread_ts=ts)
    confirmed = running.wait_for(lambda: [t for t in _said_to(running, user)
                                          if "as I read" in t][1:], "the second confirmation")
    said = [t for t in _said_to(running, user) if "as I read" in t]
    assert said[0].startswith("Saved your ranking for question 6, as I read your message")
    assert confirmed[0].startswith("Updated your ranking for question 6, as I read your "
                                   "message")


@pytest.fixture
def hurried(database: Database, database_url: str, stub: SlackStub, tmp_path: Path
            ) -> Iterator[Running]:
    """The bot, its confirmations paced by a clock a spacing later at each reading: where each
    edit waits for the last one's update, pacing would join nothing, only wait."""
    with run_bot(database, database_url, stub, pacing=stepping(Confirmations.SPACING),
                 ROUNDTABLE_DATA_DIR=str(tmp_path)) as bot:
        yield bot


def test_an_edited_ranking_with_a_reason_is_confirmed_with_its_reason_kept(
        hurried: Running) -> None:
    """The edited vote's confirmation says again that the words after the ballot are kept as
    the reason, as the first one did; an edit that leaves no reason does not say so."""
    running, user = hurried, MEMBERS[0]
    ts = _at_the_ranking_question(running, user)
    message, _ = running.slack.dm(user, "3, 1, 5, 2, 4 because protected time matters most",
                                  thread_ts=ts)
    first = running.wait_for(lambda: _confirmations_to(running, user, "Saved your ranking"),
                             "the first confirmation")[0]
    kept = "Your words after it are kept with it, as your reason"
    assert kept in as_read(first.params["blocks"])

    def shown() -> str:
        found = running.stub.message("D" + user, first.answer["ts"])
        return as_read(found["blocks"]) if found else ""

    _edit(running, user, message, "1, 2, 3, 4, 5 because protected time matters most", ts)
    running.wait_for(lambda: shown().startswith("Updated your ranking"), "the update")
    assert "1. Protected time\n2. Insights from elsewhere" in shown()
    assert kept in shown()
    _edit(running, user, message, "5, 4, 3, 2, 1", ts)
    running.wait_for(lambda: "1. Leadership development" in shown(), "the second update")
    assert kept not in shown()


def _asked_ts(running: Running, user: str, prompt_id: str) -> str | None:
    with running.database.sessions() as session:
        return session.scalars(select(QuestionMessage.message_id).where(
            QuestionMessage.channel_id == "D" + user,
            QuestionMessage.prompt_id == prompt_id)).first()


def _said_to(running: Running, user: str) -> list[str]:
    return [as_read(call.params.get("blocks") or []).replace("&amp;", "&")
            or str(call.params.get("text")) for call in running.stub.posted("D" + user)]


def answer_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The Answer buttons of the Home tab, one for each open question."""
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == "answer_open"]


def test_it_keeps_a_readers_less_than_and_markup_as_written_from_answer_to_digest(
        running: Running) -> None:
    """Slack sends `<` as `&lt;`: the answer is kept as its writer saw it, an edit too, and
    the digest shows it exactly so (no `<…>` taken for markup, no `*…*` turned bold)."""
    start_round(running)
    sent_to_everyone(running)
    user, other = MEMBERS[0], MEMBERS[1]
    ts, _ = running.slack.dm(user,
                             "Refer if INR &lt;2 or &gt;3 &amp; &lt;script&gt;x&lt;/script&gt;",
                             thread_ts=question_ts(running, user, "done-well"))
    running.slack.dm(other, "*Protected* time &amp; _space_",
                     thread_ts=question_ts(running, other, "done-well"))
    running.wait_for(lambda: len(running.replies()) == 2, "the answers")
    running.slack.event({"type": "message", "subtype": "message_changed", "channel": "D" + user,
                         "channel_type": "im", "ts": "1900000999.1", "hidden": True,
                         "message": {"type": "message", "user": user, "ts": ts,
                                     "text": "Refer if INR &lt;2 or &gt;3 twice"},
                         "previous_message": {"user": user, "ts": ts, "text": "x"}})
    running.wait_for(lambda: "Refer if INR <2 or >3 twice" in [r.text for r in
                                                                running.replies()], "the edit")
    assert sorted(r.text or "" for r in running.replies()) == [
        "*Protected* time & _space_", "Refer if INR <2 or >3 twice"]
    assert running.scalars(select(ReplyVersion.text)) == [
        "Refer if INR <2 or >3 & <script>x</script>"]
    confirmed = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                          if "Saved" in c.params["text"]], "the confirmation")
    assert "\n>Refer if INR <2 or >3 & <script>x</script>\n" in as_read(
        confirmed[0].params["blocks"])  # rich text: shown as written, nothing taken for markup
    running.slack.command(FACILITATOR, "digest")
    question = running.wait_for(lambda: [c for c in running.stub.posted(DIGEST_CHANNEL)
                                         if "(2 answers" in c.params["text"]], "its thread")[0]
    shown = [e for b in question.params["blocks"] if b["type"] == "rich_text"
             for p in b["elements"] for e in p["elements"]]
    quoted = {e["text"] for e in shown if not e.get("style")}
    assert {"Refer if INR <2 or >3 twice", "*Protected* time & _space_"} <= quoted, shown
    # a theme's title of people's words is rich text, bold by its style, never by `*`
    for block in question.params["blocks"]:
        if block["type"] in ("section", "context"):
            assert "Protected" not in json.dumps(block) and "INR" not in json.dumps(block)


INVISIBLE = "\u200b\u2060 \ufeff\u200d"
"""Zero-width spaces and joiners, a word joiner and a byte-order mark: characters that show
nothing, which a pasted or dictated message can be made of."""


def test_an_answer_of_characters_that_show_nothing_is_refused_like_an_empty_one(
        running: Running) -> None:
    """Saved, it read back as an empty quote, moved the person on to the next question and
    was counted as an answer; refused, the form says why, as it does for spaces alone."""
    round_id = start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    running.slack.click(user, "answer_open", json.dumps({"round": round_id,
                                                         "prompt": "done-well"}))
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the form")[0]
    refusals = [running.slack.submit(user, form.answer["view"], {"answer": {"value": {
        "type": "plain_text_input", "value": text}}}).json() for text in ("   ", INVISIBLE)]
    needs_words = "An answer needs some words: write your answer and send it again."
    assert refusals == [{"response_action": "errors",
                         "errors": {"answer": needs_words}}] * 2, refusals
    assert running.replies() == []
    assert not [c for c in running.stub.posted("D" + user)
                if c.params["text"].startswith("Saved")]


def test_words_written_in_the_thread_of_an_answer_join_that_answer(running: Running) -> None:
    """Someone answers question 1 outside its thread, question 2 follows, and then they
    add to their answer in the thread Slack opens under it (or under its confirmation):
    those words are added to their answer to question 1, not taken for question 2."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    ts, _ = running.slack.dm(user, "Protected time made it work.")
    running.wait_for(lambda: _asked_ts(running, user, "bought-in"), "question 2")
    saved = running.wait_for(lambda: _confirmations_to(running, user, "Saved"),
                             "the confirmation")[0]
    running.slack.dm(user, "And a named lead in each PCN.", thread_ts=ts)
    running.slack.dm(user, "And backfill for the day.", thread_ts=saved.answer["ts"])
    running.wait_for(lambda: len(running.replies()) == 3, "the added words")
    assert sorted((r.prompt_id, r.text) for r in running.replies()) == [
        ("done-well", "And a named lead in each PCN."),
        ("done-well", "And backfill for the day."),
        ("done-well", "Protected time made it work.")]
    added = running.wait_for(lambda: _confirmations_to(running, user, "Added"), "added")
    assert all("question 1" in c.params["text"] for c in added), [c.params for c in added]


@pytest.mark.each_database
def test_a_reply_in_the_thread_of_a_question_slack_has_not_yet_said_was_posted_answers_it(
        running: Running, stub: SlackStub) -> None:
    """Question 2 is in the DM, but Slack has not yet told the bot where (so it is not yet
    written down as asked) when the person replies in its thread: the words answer question
    2, the question being asked, not question 1."""
    user = _withholding(running, stub, "Question 2 of")
    running.slack.dm(user, "Protected time made it work.",
                     thread_ts=question_ts(running, user, "done-well"))
    running.wait_for(lambda: stub.withheld, "question 2, posted")
    posted = running.wait_for(lambda: next((m["ts"] for m in stub.history.get("D" + user, [])
                                            if "Question 2 of" in str(m.get("text"))), None),
                              "question 2 in the DM")
    running.slack.dm(user, "The ICS board and the LPC.", thread_ts=posted)
    running.wait_for(lambda: len(running.replies()) == 2, "the reply, saved")
    stub.release()
    assert sorted((r.prompt_id, r.text) for r in running.replies()) == [
        ("bought-in", "The ICS board and the LPC."),
        ("done-well", "Protected time made it work.")]
    running.wait_for(lambda: _asked_ts(running, user, "future-leaders"), "question 3 next")
