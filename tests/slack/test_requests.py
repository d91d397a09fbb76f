"""What reaches /slack/events: retried events, forged, stale, malformed and oversized requests."""

from __future__ import annotations

import json
import time

from pydantic import SecretStr
from sqlalchemy import select

from storage.database import Database
from storage.models import Delivery, ProcessedEvent
from tests.slack.conftest import MEMBERS, Running, application, bot_settings, sign
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round
from tests.slack_api_stub import SlackStub


def test_it_stores_one_answer_when_slack_retries_an_event(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    thread = question_ts(running, user, "done-well")
    event = {"type": "message", "channel": "D" + user, "channel_type": "im", "user": user,
             "text": "Once, please.", "ts": "1900000001.000100", "thread_ts": thread}
    statuses = [running.slack.event(event, event_id="EvSAME", retry=retry).status
                for retry in (None, 1, 2)]
    # the same message again under a new event id (Slack does this after a reconnect)
    statuses.append(running.slack.event(event, event_id="EvOTHER").status)
    assert statuses == [200, 200, 200, 200]
    running.wait_for(lambda: len(running.scalars(select(ProcessedEvent))) == 2,
                     "both event ids to be claimed")
    replies = running.replies()
    assert [(r.text, r.external_id) for r in replies] == [
        ("Once, please.", f"D{user}:1900000001.000100")]
    # the confirmation is posted after the answer's transaction commits: wait for it
    confirmations = running.wait_for(
        lambda: [c for c in running.stub.posted("D" + user) if "Saved" in c.params["text"]],
        "the confirmation")
    assert len(confirmations) == 1


def test_it_refuses_forged_stale_malformed_and_oversized_requests(running: Running) -> None:
    slack = running.slack
    event = json.dumps({"type": "event_callback", "event_id": "EvX", "team_id": "T",
                        "event": {"type": "message", "channel": "DUAMARA", "channel_type": "im",
                                  "user": "UAMARA", "text": "sneaky", "ts": "1.2"}}).encode()
    json_type = {"Content-Type": "application/json"}
    forged = {**json_type, **sign(event, secret="not-the-secret")}
    stale = {**json_type, **sign(event, timestamp=int(time.time()) - 6 * 60)}
    unsigned = {**json_type, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    malformed = b'{"type": "event_callback", "event": '
    form_junk = b"payload=%7Bnot+json"
    huge = json.dumps({"type": "event_callback", "padding": "x" * 400_000}).encode()
    answers = [
        slack.post(event, forged).status,
        slack.post(event, stale).status,
        slack.post(event, unsigned).status,
        slack.post(event, json_type).status,
        slack.signed(malformed, "application/json").status,
        slack.signed(form_junk, "application/x-www-form-urlencoded").status,
        slack.signed(b"[1, 2]", "application/json").status,
        slack.signed(huge, "application/json").status,
    ]
    assert answers == [401, 401, 401, 401, 400, 400, 400, 413]
    assert running.replies() == [] and running.scalars(select(ProcessedEvent)) == []
    assert slack.get("/healthz").status == 200
    # and it still works
    assert slack.command("UAMARA", "help").status == 200


def test_it_answers_health_checks_and_unknown_paths(running: Running) -> None:
    health = running.slack.get("/healthz")
    assert health.status == 200
    assert health.json()["database"] == "ok" and health.json()["ok"] is True
    assert running.slack.get("/nowhere").status == 404
    assert running.slack.get("/slack/events").status == 405


def test_it_ignores_messages_from_bots_including_itself(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    for n, extra in enumerate(({"bot_id": "BROUNDTABLE", "user": "UROUNDTABLE"},
                               {"bot_id": "BOTHER", "subtype": "bot_message"})):
        running.slack.event({"type": "message", "channel": "D" + user, "channel_type": "im",
                             "text": "I am a bot", "ts": f"19000000{len(extra)}.1", **extra},
                            event_id=f"EvBot{n}")
    running.slack.dm(user, "A person, finally.")
    running.wait_for(lambda: running.replies(), "the person's answer")
    assert [r.text for r in running.replies()] == ["A person, finally."]
    handled = running.scalars(select(ProcessedEvent.event_id))
    assert not {"EvBot0", "EvBot1"} & set(handled)  # not even stored: nothing to act on
    assert len(running.scalars(select(Delivery))) == len(MEMBERS)


def test_it_builds_socket_mode_on_the_same_web_api(database: Database, database_url: str,
                                                   stub: SlackStub) -> None:
    settings = bot_settings(database_url, stub).model_copy(
        update={"slack_app_token": SecretStr("xapp-test")})
    settings.require_slack(socket=True)
    bot = application(settings, database)
    slack = bot.platforms["slack"]
    slack.socket(bot)
    handler = slack.socket_handler  # type: ignore[attr-defined]
    assert handler.client.web_client.base_url == stub.base_url
    assert handler.app.client.base_url == stub.base_url
    assert stub.calls_to("auth.test")
    bot.stop()


def test_it_answers_slacks_url_verification_challenge(running: Running) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"}).encode()
    response = running.slack.signed(body, "application/json")
    assert response.status == 200 and b"c-123" in response.body


MALFORMED_EVENTS = {
    "event as a list": ["message"],
    "channel as a number": {"type": "message", "channel": 42, "channel_type": "im",
                            "user": "UAMARA", "text": "x", "ts": "1900000000.1"},
    "event type as a number": {"type": 7, "channel": "DUAMARA", "channel_type": "im",
                               "user": "UAMARA", "text": "x", "ts": "1900000000.2"},
    "thread_ts as an object": {"type": "message", "channel": "DUAMARA", "channel_type": "im",
                               "user": "UAMARA", "text": "x", "ts": "1900000000.3",
                               "thread_ts": {"ts": "1"}},
    "edit whose message is a string": {"type": "message", "subtype": "message_changed",
                                       "channel": "DUAMARA", "channel_type": "im",
                                       "ts": "1900000000.4", "message": "text"},
}


def test_it_refuses_signed_events_whose_fields_are_of_the_wrong_type(running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    statuses = {what: running.slack.event(event).status  # type: ignore[arg-type]
                for what, event in MALFORMED_EVENTS.items()}
    assert statuses == dict.fromkeys(MALFORMED_EVENTS, 400)
    _, fine = running.slack.dm("UAMARA", "A real answer")  # and the next real one is taken
    assert fine.status == 200
    running.wait_for(lambda: running.replies(), "the real answer")
    assert [r.text for r in running.replies()] == ["A real answer"]
    running.wait_for(lambda: running.waiting_events() == [], "nothing left in the inbox")


def test_it_refuses_our_buttons_and_forms_when_what_they_carry_is_not_ours(
        running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    buttons = [running.slack.click("UAMARA", "answer_open", value) for value in
               ("not json", "[1]", json.dumps({"round": "one", "prompt": "done-well"}))]
    form = {"type": "modal", "callback_id": "answer_submit", "id": "V1",
            "private_metadata": json.dumps([round_id])}
    submitted = running.slack.submit("UAMARA", form, {})
    assert [r.status for r in buttons] + [submitted.status] == [400, 400, 400, 400]
    assert running.replies() == [] and running.stub.calls_to("views.open") == []
