"""Signed requests that are hostile or malformed: each gets a 4xx (or a clear answer) and
changes nothing; none reaches a listener that would fail on it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from tests.slack.conftest import FACILITATOR, MEMBERS, Running
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round
from tests.slack_api_stub import TEAM

FORM = "application/x-www-form-urlencoded"


def _interactivity(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_it_refuses_bodies_it_cannot_read_with_400_and_stores_nothing(running: Running) -> None:
    slack = running.slack
    dm = {"type": "message", "channel": "DUAMARA", "channel_type": "im", "user": "UAMARA",
          "ts": "1900000000.000100"}
    deep = ('{"type": "event_callback", "event": {"type": "message", "x": '
            + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    not_utf8 = b'{"type": "event_callback", "event": {"type": "message", "text": "\xff"}}'
    lone_surrogate = json.dumps({"type": "event_callback", "event_id": "EvS",
                                 "event": {**dm, "text": "half an emoji \ud83d"}}).encode()
    statuses = {
        "deeply nested": slack.signed(deep, "application/json").status,
        "not UTF-8": slack.signed(not_utf8, "application/json").status,
        "a form not UTF-8": slack.signed(b"payload=%7B%22a%22%3A%22%FF%22%7D", FORM).status,
        "a lone surrogate": slack.signed(lone_surrogate, "application/json").status,
    }
    assert statuses == dict.fromkeys(statuses, 400)
    assert running.waiting_events() == [] and running.replies() == []


def test_it_refuses_interactivity_and_commands_bolt_cannot_read_with_400(
        running: Running) -> None:
    base = {"type": "block_actions", "user": {"id": FACILITATOR, "team_id": TEAM},
            "team": {"id": TEAM}, "trigger_id": "trigger-1",
            "response_url": running.stub.response_url("hostile"),
            "actions": [{"type": "button", "action_id": "start_open", "value": ""}]}
    view = {"type": "view_submission", "user": {"id": FACILITATOR}, "team": {"id": TEAM},
            "view": {"type": "modal", "callback_id": "start_submit", "id": "V1",
                     "state": {"values": {}}}}
    malformed = {
        "actions as an object": {**base, "actions": {"action_id": "start_open"}},
        "actions as strings": {**base, "actions": ["start_open"]},
        "an action id as a number": {**base, "actions": [{"action_id": 5}]},
        "no user": {k: v for k, v in base.items() if k != "user"},
        "a user as a string": {**base, "user": FACILITATOR},
        "a user id as a number": {**base, "user": {"id": 5}},
        "no trigger id": {k: v for k, v in base.items() if k != "trigger_id"},
        "a view without its type": {**view, "view": {"callback_id": "start_submit"}},
        "a view of no user": {k: v for k, v in view.items() if k != "user"},
        "a view whose state is a list": {**view, "view": {**view["view"], "state": []}},
    }
    statuses = {what: running.slack.signed(_interactivity(body), FORM).status
                for what, body in malformed.items()}
    command = {"command": "/roundtable", "text": "status", "team_id": TEAM,
               "response_url": running.stub.response_url("hostile-command")}
    statuses["a command of no user"] = running.slack.signed(
        urlencode(command).encode(), FORM).status
    assert statuses == dict.fromkeys(statuses, 400)
    assert running.stub.calls_to("views.open") == []
    assert running.stub.calls_to("response_url") == []


def test_it_says_a_round_number_too_large_to_exist_is_no_round(running: Running) -> None:
    huge = "9" * 30
    for text in (f"status {huge}", f"reopen {huge}", f"set {huge} closes 1d"):
        assert running.slack.command(FACILITATOR, text).status == 200
    def answers() -> list[str] | None:
        found = [c.params.get("text", "") for c in running.stub.calls_to("response_url")
                 if huge[:10] in c.params.get("text", "")]
        return found if len(found) == 3 else None  # the three answer in any order

    said = running.wait_for(answers, "an answer to each command naming the round", timeout=10)
    assert all("there is no round" in s for s in said), said
    button = running.slack.click("UAMARA", "answer_open",
                                 json.dumps({"round": int(huge), "prompt": "done-well"}))
    assert button.status == 400


def test_it_acknowledges_slacks_rate_limit_notice(running: Running) -> None:
    notice = {"token": "legacy", "type": "app_rate_limited", "team_id": TEAM,
              "minute_rate_limited": 1518467820, "api_app_id": "AROUNDTABLE"}
    assert running.slack.signed(json.dumps(notice).encode(), "application/json").status == 200


def test_an_answer_holding_a_nul_character_is_stored_without_it(running: Running) -> None:
    """PostgreSQL refuses text holding NUL (SQLite keeps it): such an answer was refused on
    every attempt and never stored there. The NUL goes; the words are kept and confirmed."""
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    thread = question_ts(running, user, "done-well")
    running.slack.dm(user, "Protected\x00 time for leads", thread_ts=thread)
    # the answer can be read before its event has left the inbox: both are waited for
    running.wait_for(lambda: running.replies() and running.waiting_events() == [],
                     "the answer, and the inbox emptied")
    assert [r.text for r in running.replies()] == ["Protected time for leads"]
