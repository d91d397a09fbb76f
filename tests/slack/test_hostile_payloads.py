"""Signed requests that are hostile or malformed: each gets a 4xx (or a clear answer) and
changes nothing; none reaches a listener that would fail on it."""

from __future__ import annotations

import json

from tests.slack.conftest import Running
from tests.slack_api_stub import TEAM

FORM = "application/x-www-form-urlencoded"


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


def test_it_acknowledges_slacks_rate_limit_notice(running: Running) -> None:
    notice = {"token": "legacy", "type": "app_rate_limited", "team_id": TEAM,
              "minute_rate_limited": 1518467820, "api_app_id": "AROUNDTABLE"}
    assert running.slack.signed(json.dumps(notice).encode(), "application/json").status == 200
