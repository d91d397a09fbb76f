"""Signed requests that are hostile or malformed: each gets a 4xx (or a clear answer) and
changes nothing; none reaches a listener that would fail on it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bot.slack import review_blocks
from storage.models import Digest, DigestEdit, Round
from tests.review_round import PROMPT
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, PACK, Running
from tests.slack.test_digest_review import button, draft_in, drafted, open_form
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
    skip = {**base, "user": {"id": "UAMARA", "team_id": TEAM},
            "actions": [{"type": "button", "action_id": "question_skip",
                         "value": json.dumps({"round": 1, "prompt": "done-well"})}]}
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
        # what Bolt reads of every payload before choosing a listener, and fails on
        "no action": {**base, "actions": []},
        "a conversation as true": {**base, "channel": True},
        "a conversation as a number": {**base, "channel": 0},
        "a user as a number": {**base, "user": 1e308},
        "a kind that is an object": {**base, "type": {"a": 1}},
        "a workspace as a list": {**base, "team": ["T1"]},
        # where the answer goes: Slack's own address, never anything else
        **{f"an answer address {address!r}": {**skip, "response_url": address}
           for address in ("", "NaN", "<@U999>", "\u202e", "htx", "http://127.0.0.1:43\"")},
        "an answer address that is a list": {**skip, "response_url": [1, 2]},
        # a NUL where Slack never sends one (in an id, or in a value of ours, however deep)
        "a person's id holding a NUL": {**skip, "user": {"id": "UAMARA\x00"}},
        "a question's id holding a NUL": {**skip, "actions": [{
            "type": "button", "action_id": "question_skip",
            "value": json.dumps({"round": 1, "prompt": "done-well\x00"})}]},
    }
    statuses = {what: running.slack.signed(_interactivity(body), FORM).status
                for what, body in malformed.items()}
    command = {"command": "/roundtable", "text": "status", "team_id": TEAM,
               "response_url": running.stub.response_url("hostile-command")}
    statuses["a command of no user"] = running.slack.signed(
        urlencode(command).encode(), FORM).status
    statuses["a command naming someone with a NUL"] = running.slack.signed(urlencode({
        **command, "user_id": FACILITATOR, "text": "start sel-pharmacy-leadership to <@U\x00>"
    }).encode(), FORM).status
    assert statuses == dict.fromkeys(statuses, 400)
    assert running.stub.calls_to("views.open") == []
    assert running.stub.calls_to("response_url") == []


def test_it_refuses_message_events_whose_ids_are_not_slacks_with_400(
        running: Running) -> None:
    """Ids the bot would repeat (in what it stores, in the button that saves a greeting as an
    answer) have the shape Slack gives every one; one that has not is refused at the door,
    not failed on when the bot answers."""
    good = {"type": "message", "channel": "DUAMARA", "channel_type": "im", "user": "UAMARA",
            "text": "Hello", "ts": "1900000000.000100", "event_ts": "1900000000.000100"}
    malformed = {
        "a message id of words": {**good, "ts": "x" * 3000},
        "a thread of words": {**good, "thread_ts": "the first one"},
        "a message id with no dot": {**good, "ts": "1900000000"},
        "a person's id of 3,000 characters": {**good, "user": "U" * 3000},
        "a conversation's id of 3,000 characters": {**good, "channel": "D" * 3000},
        "an edit of a message whose id is words": {
            **good, "subtype": "message_changed", "ts": "1900000001.000100",
            "message": {**good, "ts": "later"}},
        "a deletion of no message id": {**good, "subtype": "message_deleted",
                                        "deleted_ts": "-1"},
        # PostgreSQL refuses a NUL in any query: such an event failed on every attempt there
        "a person's id holding a NUL": {**good, "user": "UAMARA\x00"},
        "a conversation's id holding a NUL": {**good, "channel": "\x00"},
    }
    statuses = {what: running.slack.event(event).status for what, event in malformed.items()}
    assert statuses == dict.fromkeys(statuses, 400)
    assert running.waiting_events() == [] and running.replies() == []
    assert running.stub.posted() == []


def test_it_says_a_round_number_too_large_to_exist_is_no_round(running: Running) -> None:
    huge = "9" * 30
    for text in (f"status {huge}", f"reopen {huge}", f"set {huge} closes 1d"):
        assert running.slack.command(FACILITATOR, text).status == 200
    def answers() -> list[str] | None:
        found = [c.params.get("text", "") for c in running.stub.calls_to("response_url")
                 if huge[:10] in c.params.get("text", "")]
        return found if len(found) == 3 else None  # the three answer in any order

    said = running.wait_for(answers, "an answer to each command naming the round")
    assert all("There is no round" in s for s in said), said
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


def _rank_form(running: Running, user: str, round_id: int) -> dict[str, Any]:
    """The rank form `user` opens from the question's button (the view Slack shows)."""
    running.slack.click(user, "answer_open",
                        json.dumps({"round": round_id, "prompt": "support-factors"}))
    return running.wait_for(lambda: running.stub.calls_to("views.open"),
                            "the rank form")[0].answer["view"]


def test_it_refuses_a_rank_form_whose_options_name_no_place_in_the_form(
        running: Running) -> None:
    """The options' values are their places, 0, 1, 2…: "-1" would be the last option."""
    round_id = start_round(running)
    sent_to_everyone(running)
    view = _rank_form(running, MEMBERS[0], round_id)

    def ranked(values: list[Any]) -> dict[str, Any]:
        return {f"rank-{place}": {"value": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "an option"}, "value": value}}}
            for place, value in enumerate(values, start=1)}

    tampered = {
        "from the end": ["-1", "-2", "-3", "-4", "-5"],
        "beyond the last": ["0", "1", "2", "3", "99999999999999999999"],
        "not a number": ["abc", "1", "2", "3", "4"],
        "a fraction": ["1.5", "1", "2", "3", "4"],
        "a number, not text": [0, 1, 2, 3, 4],
        "a superscript digit": ["²", "1", "3", "4", "5"],
    }
    errors = {what: running.slack.submit(MEMBERS[0], view, ranked(values)).json()
              for what, values in tampered.items()}
    unreadable = {"response_action": "errors",
                  "errors": {"rank-1": "That form could not be read; please open it again."}}
    assert errors == dict.fromkeys(tampered, unreadable)
    assert running.replies() == []


def test_it_refuses_buttons_and_forms_whose_round_is_not_a_rounds_id_with_400(
        running: Running) -> None:
    """JSON's true, "1" and 1.0 were read as round 1; 0 and negative numbers name no round."""
    round_id = start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    rounds: list[Any] = [True, str(round_id), float(round_id), 0, -round_id]
    statuses = [running.slack.click(user, action, json.dumps({"round": r,
                                                              "prompt": "done-well"})).status
                for action in ("answer_open", "question_skip") for r in rounds]
    form = {"type": "modal", "callback_id": "answer_submit", "id": "VTAMPERED"}
    statuses += [running.slack.submit(user, {**form, "private_metadata": json.dumps(
        {"round": r, "prompt": "done-well"})}, {"answer": {"value": {
            "type": "plain_text_input", "value": "Protected time"}}}).status for r in rounds]
    assert statuses == [400] * len(statuses)
    assert running.replies() == [] and running.stub.calls_to("views.open") == []

    answered = len(running.stub.calls_to("response_url"))
    for r in rounds:
        deleting = json.dumps({"round": r, "asked": "0123456789abcdef"})
        assert running.slack.click(FACILITATOR, "round_delete", deleting).status == 200
    told = running.wait_for(lambda: (lambda calls: calls if len(calls) == len(rounds) else None)(
        running.stub.calls_to("response_url")[answered:]), "an answer to each Delete")
    assert [c.params["text"] for c in told] == [
        "That button could not be read; please ask again."] * len(rounds)
    assert running.scalar(select(Round.id)) == round_id


def test_it_refuses_a_draft_digests_buttons_and_form_naming_no_draft_clearly(
        running: Running) -> None:
    """A draft's Approve and Edit buttons and its edit form carry the round and draft ids:
    one no database could hold, or not a number, is refused with a clear message (inside
    the form, for the form), and nothing is changed or posted."""
    round_id = drafted(running)
    draft = draft_in(running, FACILITATOR)
    approve = button(draft, review_blocks.REVIEW_APPROVE)
    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    tampered = [{"round": round_id, "digest": 10**30}, {"round": round_id, "digest": True},
                {"round": 10**30, "digest": 1}, ["round", "digest"], "not JSON"]
    for value in tampered:
        for pressed in (approve, edit):
            shown = {**json.loads(pressed["value"]), **value} if isinstance(value, dict) \
                else value
            text = shown if isinstance(shown, str) else json.dumps(shown)
            assert running.slack.click(FACILITATOR, pressed["action_id"], text).status == 200
    told = running.wait_for(lambda: (lambda calls: calls if len(calls) == 2 * len(tampered)
                                     else None)(running.stub.calls_to("response_url")),
                            "an answer to each button")
    assert {c.params["text"] for c in told} == {
        "That button could not be read; please ask again."}

    form = open_form(running).answer["view"]
    seen = json.loads(form["private_metadata"])
    renamed = {"lead": {"value": {"type": "plain_text_input", "value": "Read this first."}}}
    refusals = [running.slack.submit(FACILITATOR, {**form, "private_metadata": metadata},
                                     renamed)
                for metadata in (json.dumps({**seen, "digest": 10**30}),
                                 json.dumps(seen).replace(f'"round": {round_id}',
                                                          '"round": 1e400'),
                                 json.dumps({**seen, "digest": "1"}), "null", "[]")]
    assert [(r.status, r.json()) for r in refusals] == [(200, {
        "response_action": "errors",
        "errors": {"lead": "That form could not be read; please open it again."}})] * 5
    assert running.scalars(select(DigestEdit)) == []
    assert running.scalar(select(Digest.state).where(Digest.round_id == round_id)) == "review"
    assert running.stub.posted(DIGEST_CHANNEL) == []


def test_it_refuses_a_draft_edit_form_whose_inputs_are_not_what_the_form_sends(
        running: Running) -> None:
    """Each input of a draft's edit form as a shape its element never sends: refused inside
    the form with the words any unreadable form gets, the draft unchanged and nothing
    posted (the listener failed on them, and the facilitator was told nothing)."""
    round_id = drafted(running)
    form = open_form(running).answer["view"]
    lead = {"lead": {"value": {"type": "plain_text_input", "value": "Read this first."}}}
    tampered: dict[str, dict[str, Any]] = {
        "an input as a text": {**lead, "rename_theme": "1"},
        "an input's state as a number": {**lead, "rename_theme": {"value": 5}},
        "an input's state as a list": {**lead, "hide": {"value": ["r1"]}},
        "a choice as a text": {**lead, "rename_theme": {"value": {"selected_option": "1"}}},
        "choices as a text": {**lead, "hide": {"value": {"selected_options": "r1"}}},
        "a choice as a number": {**lead, "move_answer": {"value": {"selected_options": [5]}}},
        "a lead as a number": {"lead": {"value": {"value": 5}}},
    }
    answers = {what: running.slack.submit(FACILITATOR, form, values).json()
               for what, values in tampered.items()}
    assert answers == dict.fromkeys(tampered, {"response_action": "errors", "errors": {
        "lead": "That form could not be read; please open it again."}})
    assert running.scalars(select(DigestEdit)) == []
    assert running.scalar(select(Digest.state).where(Digest.round_id == round_id)) == "review"
    assert running.stub.posted(DIGEST_CHANNEL) == []


def test_it_refuses_a_start_form_whose_inputs_are_not_what_the_form_sends(
        running: Running) -> None:
    """Each input of the start form as a type its element never sends: refused inside the
    form, no round started, nobody asked anything (a text for the people was read as one
    person per letter)."""
    view = {"type": "modal", "callback_id": "start_submit", "id": "VSTART1"}
    pack = {"pack": {"value": {"type": "static_select", "selected_option": {"value": PACK}}}}
    people = {"users": {"value": {"type": "multi_users_select", "selected_users": MEMBERS[:1]}}}
    tampered: dict[str, dict[str, Any]] = {
        "people as a text": {**pack, "users": {"value": {"selected_users": MEMBERS[0]}}},
        "a person as a number": {**pack, "users": {"value": {"selected_users": [5]}}},
        "the users input as a text": {**pack, "users": "UAMARA"},
        "a channel as a number": {**pack, "channel": {"value": {"selected_conversation": 5}}},
        "the pack as a text": {**people, "pack": {"value": {"selected_option": PACK}}},
        "a pack id too long": {**people, "pack": {"value": {"selected_option": {
            "value": "p" * 100_000}}}},
        "closes as a number": {**pack, **people, "closes": {"value": {"value": 14}}},
    }
    answers = {what: running.slack.submit(FACILITATOR, view, values).json()
               for what, values in tampered.items()}
    assert answers == dict.fromkeys(tampered, {"response_action": "errors", "errors": {
        "pack": "That form could not be read; please open it again."}})
    assert running.scalars(select(Round)) == []
    assert running.stub.posted() == []
