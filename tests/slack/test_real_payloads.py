"""Slack's real payload shapes, signed and POSTed to the bot's real /slack/events.

Each payload is a JSON file in tests/fixtures/slack/ (its README names the source of every
shape). Timestamps and ids that tie a payload to stored state are placeholders (`"$TS"`,
`"$ANSWER_TS"`, ...) filled in here with the values of messages the bot actually sent or
stored in this test, so every payload acts on real state: a round started by the facilitator,
questions posted in the Slack stand-in, answers stored by the bot.

Tests wait for what a user would see (`running.wait_for`); where they check that something did
NOT happen, `settle` first lets the bot finish everything in hand (it stops the bot), so the
check neither sleeps nor races.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from storage.models import ReplyVersion, Round
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Response, Running
from tests.slack.test_answers import answer_buttons
from tests.slack.test_round_loop import asked, question_ts, sent_to_everyone, start_round
from tests.slack_reading import as_read

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
PLACEHOLDER = re.compile(r"\$[A-Z_]+")
AMARA = "UAMARA"
DM = "DUAMARA"
TOMBSTONE = "This message was deleted."
QUESTION = re.compile(r"Question \d+ of \d+")
_numbers = itertools.count(1)


def fixture(name: str, **values: Any) -> dict[str, Any]:
    """A stored payload with its placeholders filled: `ts="1.2"` fills `"$TS"`. A placeholder
    left without a value is an error, so no payload goes out with a "$..." in it."""
    raw = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    filled: dict[str, Any] = _fill(
        raw, {f"${key.upper()}": value for key, value in values.items()}, name)
    return filled


def _fill(node: Any, values: dict[str, Any], name: str) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values, name) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values, name) for value in node]
    if isinstance(node, str) and PLACEHOLDER.fullmatch(node):
        if node not in values:
            raise KeyError(f"{name}: no value given for {node}")
        return values[node]
    return node


def new_ts() -> str:
    """A Slack message timestamp no other message of this test has."""
    return f"{1_900_500_000 + next(_numbers)}.000300"


class Slack:
    """Plays Slack with the stored payloads: Events API envelopes, slash command forms and
    interactivity payloads, each signed like Slack signs them."""

    def __init__(self, running: Running) -> None:
        self.running = running

    def load_event(self, name: str, **values: Any) -> dict[str, Any]:
        """An event envelope; a fresh event id, event time and `$TS` unless given."""
        values.setdefault("event_id", f"Ev0PAYLOAD{next(_numbers):06d}")
        values.setdefault("event_time", int(time.time()))
        values.setdefault("ts", new_ts())
        return fixture(name, **values)

    def send(self, envelope: dict[str, Any]) -> Response:
        return self.running.slack.signed(json.dumps(envelope).encode(), "application/json")

    def event(self, name: str, **values: Any) -> tuple[dict[str, Any], Response]:
        envelope = self.load_event(name, **values)
        return envelope, self.send(envelope)

    def command(self, name: str, **values: Any) -> Response:
        values.setdefault("response_url", self.running.stub.response_url(
            f"cmd-{next(_numbers)}"))
        values.setdefault("trigger_id", f"{next(_numbers)}.1764000000.f3b2c1")
        form = fixture(name, **values)
        return self.running.slack.signed(urlencode(form).encode(),
                                         "application/x-www-form-urlencoded")

    def interact(self, name: str, **values: Any) -> tuple[dict[str, Any], Response]:
        values.setdefault("trigger_id", f"{next(_numbers)}.1764000000.a9e8d7")
        payload = fixture(name, **values)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return payload, self.running.slack.signed(body, "application/x-www-form-urlencoded")


def ok(response: Response) -> None:
    """Slack counts anything but a 2xx as a failure and sends the request again."""
    assert 200 <= response.status < 300, (response.status, response.body[:300])


def settle(running: Running) -> None:
    """Let the bot finish all it has in hand (stored events handled, confirmations and notices
    posted, listeners done). It stops the bot: call it once, before the last checks."""
    running.bot.stop()


def said_in_dm(running: Running, user: str = AMARA) -> list[str]:
    return [str(c.params.get("text", "")) for c in running.stub.posted("D" + user)]


def notices(running: Running, user: str = AMARA) -> list[str]:
    """What the bot said in someone's DM that is neither a question nor a confirmation."""
    return [t for t in said_in_dm(running, user)
            if not QUESTION.search(t) and not t.startswith("Saved")]


def confirmed(running: Running, user: str = AMARA) -> list[str]:
    return [t for t in said_in_dm(running, user) if t.startswith("Saved")]


def live_answers(running: Running) -> list[tuple[str, str | None]]:
    return [(r.prompt_id, r.text) for r in running.replies() if r.deleted_at is None]


def every_stored_text(running: Running) -> list[str]:
    """Every answer text kept anywhere: the answers and their earlier versions."""
    kept = [r.text for r in running.replies()] + running.scalars(select(ReplyVersion.text))
    return [t for t in kept if t is not None]


def answered(running: Running, slack: Slack) -> tuple[dict[str, Any], str]:
    """Amara answers question 1 in her DM (a real message.im); the envelope and its ts."""
    envelope, response = slack.event("events/message_im.json")
    ok(response)
    running.wait_for(lambda: live_answers(running), "Amara's answer")
    return envelope, envelope["event"]["ts"]


def a_round(running: Running) -> int:
    round_id = start_round(running)
    sent_to_everyone(running)
    return round_id


# --- what participants write --------------------------------------------------------------


def test_it_stores_a_direct_message_as_the_answer_and_confirms_it(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    envelope, _ = answered(running, slack)
    assert live_answers(running) == [("done-well", envelope["event"]["text"])]
    assert running.replies()[0].source == "chat"
    running.wait_for(lambda: confirmed(running), "the confirmation")
    assert notices(running) == []


def test_it_takes_a_reply_in_a_questions_thread_as_the_answer_to_that_question(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, _ = answered(running, slack)
    asked(running, AMARA, "bought-in")  # question 2 is now the one waiting
    thread = question_ts(running, AMARA, "done-well")
    reply, response = slack.event("events/message_im_thread_reply.json", thread_ts=thread)
    ok(response)
    running.wait_for(lambda: len(live_answers(running)) == 2, "the thread reply")
    assert sorted(live_answers(running)) == sorted([
        ("done-well", first["event"]["text"]), ("done-well", reply["event"]["text"])])
    # question 1 was answered already: the reply is kept beside that answer, and says so
    in_thread = running.wait_for(
        lambda: [c for c in running.stub.posted(DM) if c.params.get("thread_ts") == thread
                 and str(c.params.get("text", "")).startswith(
                     "Added to your answer to question 1")],
        "the confirmation in the question's thread")
    assert len(in_thread) == 1


def test_it_follows_an_edit_made_by_the_author(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, ts = answered(running, slack)
    edit, response = slack.event("events/message_changed.json", answer_ts=ts)
    ok(response)
    edited = edit["event"]["message"]["text"]
    running.wait_for(lambda: live_answers(running) == [("done-well", edited)], "the edit")
    assert running.scalars(select(ReplyVersion.text)) == [first["event"]["text"]]


def test_it_honours_a_deletion_made_by_the_author(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, ts = answered(running, slack)
    _, response = slack.event("events/message_deleted.json", answer_ts=ts)
    ok(response)
    running.wait_for(lambda: not live_answers(running), "the deletion")
    assert first["event"]["text"] not in every_stored_text(running)


@dataclass
class Deleted:
    """An answer with a reply in the thread under it, edited, then deleted in Slack."""

    texts: list[str]
    """What the answer said, first and after the edit."""
    under: dict[str, Any]
    """The reply under it (an answer too)."""
    tombstone: Response


def answer_reply_edit_and_delete(running: Running, slack: Slack) -> Deleted:
    """Deleting a DM message that has a thread reply under it: Slack sends message_changed
    whose inner message is a `tombstone` from USLACKBOT, not message_deleted."""
    a_round(running)
    first, answer_ts = answered(running, slack)
    asked(running, AMARA, "bought-in")
    # Amara adds a reply in the thread under her own answer (it answers question 2)
    under = slack.load_event("events/message_im_thread_reply.json", thread_ts=answer_ts)
    under["event"]["parent_user_id"] = AMARA
    ok(slack.send(under))
    running.wait_for(lambda: len(live_answers(running)) == 2, "the reply under the answer")
    edit, response = slack.event("events/message_changed.json", answer_ts=answer_ts)
    ok(response)
    edited = edit["event"]["message"]["text"]
    running.wait_for(lambda: ("done-well", edited) in live_answers(running), "the edit")
    # she deletes the answer; the reply under it stays, so Slack leaves a tombstone
    _, tombstone = slack.event("events/message_changed_tombstone.json", answer_ts=answer_ts,
                               reply_ts=under["event"]["ts"], edited_ts=edit["event"]["ts"])
    return Deleted([first["event"]["text"], edited], under, tombstone)


def test_it_deletes_an_answer_and_its_history_when_slack_sends_a_tombstone(
        running: Running) -> None:
    slack = Slack(running)
    deleted = answer_reply_edit_and_delete(running, slack)
    ok(deleted.tombstone)
    # an answer she writes next is handled after the tombstone (the inbox keeps their order)
    later = "Weekly huddles with the GP practice managers."
    running.slack.dm(AMARA, later)
    running.wait_for(lambda: later in every_stored_text(running), "the next answer")
    running.slack.command(FACILITATOR, "digest")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "Posted the digest" in c.params.get("text", "")],
                     "the digest", timeout=60)  # themes take a while on a busy machine
    digest = json.dumps([c.params for c in running.stub.posted(DIGEST_CHANNEL)])

    kept = every_stored_text(running)
    assert TOMBSTONE not in kept, "the tombstone's text was stored as the answer"
    assert not set(deleted.texts) & set(kept), "the deleted answer or its history is kept"
    assert deleted.under["event"]["text"] in kept  # the reply under it was not deleted
    assert TOMBSTONE not in digest, "the digest quotes the tombstone"
    assert not [t for t in deleted.texts if t in digest], "the digest quotes the deleted answer"
    assert deleted.under["event"]["text"] in digest or later in digest  # it quotes the living


def test_it_takes_the_tombstone_of_an_emptied_thread_in_its_stride(running: Running) -> None:
    """When the last reply under a deleted answer goes too, Slack may send the tombstone
    again, with `previous_message: []` (java-slack-sdk issue 784)."""
    slack = Slack(running)
    deleted = answer_reply_edit_and_delete(running, slack)
    answer_ts = deleted.under["event"]["thread_ts"]
    gone = slack.load_event("events/message_deleted.json", answer_ts=deleted.under["event"]["ts"])
    gone["event"]["previous_message"].update(
        text=deleted.under["event"]["text"], thread_ts=answer_ts, parent_user_id=AMARA)
    responses = [deleted.tombstone, slack.send(gone), slack.event(
        "events/message_changed_tombstone_emptied_thread.json", answer_ts=answer_ts)[1]]
    settle(running)
    for response in responses:
        ok(response)
    assert live_answers(running) == []
    kept = every_stored_text(running)
    assert TOMBSTONE not in kept, "the tombstone's text was stored as the answer"
    assert not set(deleted.texts) & set(kept), "the deleted answer or its history is kept"


def test_it_stores_a_me_message_as_an_answer_and_confirms_it(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    me, response = slack.event("events/message_me.json")
    ok(response)
    settle(running)
    assert live_answers(running) == [("done-well", me["event"]["text"])], (
        "a /me message from a participant was not stored as an answer")
    assert confirmed(running), "the /me answer was not confirmed"
    assert notices(running) == []


def test_it_stores_a_thread_broadcast_as_the_answer_to_its_thread(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    thread = question_ts(running, AMARA, "done-well")
    broadcast, response = slack.event("events/message_thread_broadcast.json", thread_ts=thread)
    ok(response)
    running.wait_for(lambda: live_answers(running), "the broadcast answer")
    assert live_answers(running) == [("done-well", broadcast["event"]["text"])]
    running.wait_for(lambda: confirmed(running), "its confirmation")


def test_it_stores_the_words_shared_with_a_file_and_says_the_file_was_not_kept(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    shared, response = slack.event("events/message_file_share.json")
    ok(response)
    running.wait_for(lambda: live_answers(running), "the file's words")
    assert live_answers(running) == [("done-well", shared["event"]["text"])]
    running.wait_for(lambda: confirmed(running), "its confirmation")
    [confirmation] = [as_read(c.params.get("blocks")) for c in running.stub.posted(DM)
                      if str(c.params.get("text", "")).startswith("Saved")]
    assert "files and pictures are not kept, so the one you sent with them is not part of " \
           "your answer" in confirmation


def test_it_stores_nothing_for_a_file_shared_without_words_and_says_why(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    _, response = slack.event("events/message_file_share_without_text.json")
    ok(response)
    told = running.wait_for(lambda: notices(running), "a word about the file")
    settle(running)
    assert running.replies() == []
    assert confirmed(running) == [] and told == [
        "I could not save that. Files and pictures are not kept, only words: please write "
        "your answer here as text."]


def test_a_file_sent_under_a_question_of_a_closed_round_is_told_the_round_closed(
        running: Running) -> None:
    """Writing the answer as text would not help there: the round is what stands in the way."""
    a_round(running)
    slack = Slack(running)
    thread = question_ts(running, AMARA, "done-well")
    assert running.slack.command(FACILITATOR, "close 1").status == 200
    running.wait_for(lambda: running.scalar(select(Round.status)) == "closed", "the close")
    envelope = slack.load_event("events/message_file_share_without_text.json")
    envelope["event"]["thread_ts"] = thread
    ok(slack.send(envelope))
    told = running.wait_for(lambda: notices(running), "a word about the file")
    assert told == ["I could not save that. Round 1 has closed, so it takes no more answers. "
                    "The answers you gave before it closed are kept."]
    assert running.replies() == []


# --- what others write in a participant's DM -----------------------------------------------


def test_it_neither_answers_nor_stores_a_message_from_slackbot(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    _, response = slack.event("events/message_im_from_slackbot.json")
    ok(response)
    settle(running)
    assert running.replies() == []
    assert notices(running) == [], "the bot answered Slackbot"
    assert len(said_in_dm(running)) == 1  # only the first question


def test_it_ignores_its_own_echo_and_other_bots(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    responses = [slack.event(name)[1] for name in (
        "events/message_bot_echo.json", "events/message_other_app_bot.json",
        "events/message_bot_message.json")]
    settle(running)
    for response in responses:
        ok(response)
    assert running.replies() == [] and running.waiting_events() == []
    assert notices(running) == []
    assert len(said_in_dm(running)) == 1  # only the first question


def test_it_ignores_an_edit_claimed_by_another_user(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, ts = answered(running, slack)
    forged, response = slack.event("events/message_changed_foreign.json", answer_ts=ts)
    ok(response)
    settle(running)
    assert forged["event"]["message"]["user"] != AMARA
    assert live_answers(running) == [("done-well", first["event"]["text"])], (
        "another user's message_changed rewrote Amara's answer")
    assert running.scalars(select(ReplyVersion.text)) == []


def test_it_ignores_a_deletion_claimed_by_another_user(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, ts = answered(running, slack)
    forged, response = slack.event("events/message_deleted_foreign.json", answer_ts=ts)
    ok(response)
    settle(running)
    assert forged["event"]["previous_message"]["user"] != AMARA
    assert live_answers(running) == [("done-well", first["event"]["text"])], (
        "another user's message_deleted deleted Amara's answer")


def test_it_leaves_an_answer_alone_when_slack_says_its_thread_got_a_reply(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    first, ts = answered(running, slack)
    _, response = slack.event("events/message_replied.json", answer_ts=ts, reply_ts=new_ts())
    ok(response)
    settle(running)
    assert live_answers(running) == [("done-well", first["event"]["text"])]
    assert running.scalars(select(ReplyVersion.text)) == []
    assert notices(running) == []


def test_it_acknowledges_channel_join_and_topic_messages_and_does_nothing(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    responses = [slack.event(name)[1] for name in (
        "events/message_channel_join.json", "events/message_channel_topic.json")]
    settle(running)
    for response in responses:
        ok(response)
    assert running.replies() == []
    assert running.stub.posted("CLEADERS") == []
    assert all(notices(running, user) == [] for user in MEMBERS)


# --- the Home tab, the slash command, buttons and forms --------------------------------------


def test_it_publishes_the_home_tab_when_it_is_opened_and_not_for_the_messages_tab(
        running: Running) -> None:
    round_id = a_round(running)
    slack = Slack(running)
    _, messages_tab = slack.event("events/app_home_opened_messages_tab.json")
    _, home_tab = slack.event("events/app_home_opened.json")
    ok(messages_tab)
    ok(home_tab)
    published = running.wait_for(lambda: running.stub.calls_to("views.publish"), "the Home tab")
    settle(running)
    assert len(running.stub.calls_to("views.publish")) == 1  # none for the Messages tab
    assert published[0].params["user_id"] == AMARA
    buttons = answer_buttons(published[0].params["view"])
    assert len(buttons) == 6
    assert json.loads(buttons[0]["value"]) == {"round": round_id, "prompt": "done-well"}


def test_it_answers_the_status_command_sent_as_slacks_form(running: Running) -> None:
    round_id = a_round(running)
    slack = Slack(running)
    answered(running, slack)
    ok(slack.command("commands/roundtable_status.json"))
    said = running.wait_for(lambda: [c.params["text"] for c in running.stub.calls_to(
        "response_url") if "answered" in c.params.get("text", "")], "the status")
    assert f"Round {round_id}" in said[0] and "1 of 5 answered" in said[0]


def test_it_opens_and_saves_the_answer_form_from_real_interactivity_payloads(
        running: Running) -> None:
    round_id = a_round(running)
    slack = Slack(running)
    question = question_ts(running, AMARA, "done-well")
    _, clicked = slack.interact(
        "interactivity/block_actions_answer_open.json", question_ts=question,
        value=json.dumps({"round": round_id, "prompt": "done-well"}),
        response_url=running.stub.response_url("act-1"), action_ts=f"{time.time():.6f}")
    ok(clicked)
    opened = running.wait_for(lambda: running.stub.calls_to("views.open"), "the form")[0]
    view = opened.answer["view"]
    assert view["callback_id"] == "answer_submit"
    form, submitted = slack.interact("interactivity/view_submission_answer.json",
                                     view_id=view["id"], private_metadata=view["private_metadata"])
    assert submitted.status == 200 and not submitted.body, submitted.body  # the form closes
    running.wait_for(lambda: live_answers(running), "the form's answer")
    text = form["view"]["state"]["values"]["answer"]["value"]["value"]
    assert live_answers(running) == [("done-well", text)]
    assert running.replies()[0].source == "form"
    running.wait_for(lambda: confirmed(running), "the form's confirmation")


# --- correctly signed, malformed: 400 and nothing changes ----------------------------------


def test_it_refuses_an_event_given_as_a_string_with_400(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    _, response = slack.event("malformed/event_as_string.json")
    settle(running)
    assert response.status == 400, (response.status, response.body[:200])
    assert running.replies() == [] and running.waiting_events() == []
    assert notices(running) == []


def test_it_refuses_a_message_whose_user_is_not_a_string_with_400(running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    statuses = [slack.event(name)[1].status for name in (
        "malformed/message_im_user_number.json", "malformed/message_im_user_object.json")]
    settle(running)
    assert statuses == [400, 400]
    assert running.replies() == [] and running.waiting_events() == []
    assert notices(running) == []


def test_it_refuses_an_answer_form_whose_private_metadata_is_not_json_with_400(
        running: Running) -> None:
    a_round(running)
    slack = Slack(running)
    _, response = slack.interact("malformed/view_submission_private_metadata_not_json.json",
                                 view_id="V0FORMAMARA1")
    settle(running)
    assert response.status == 400, (response.status, response.body[:200])
    assert running.replies() == []
    assert confirmed(running) == [] and notices(running) == []
