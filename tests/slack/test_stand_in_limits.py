"""The Slack stand-in refuses what Slack refuses: Block Kit's limits on messages and views,
checked on its own (not with the bot's checks), so a test sees when the bot breaks one."""

from __future__ import annotations

from collections.abc import Iterator
from textwrap import dedent
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack_api_stub import SlackStub

pytest_plugins = ["pytester"]


@pytest.fixture
def slack() -> Iterator[tuple[SlackStub, WebClient]]:
    stub = SlackStub().start()
    stub.add_user("UONE", "One")
    try:
        yield stub, WebClient(token="xoxb-test", base_url=stub.base_url)
    finally:
        stub.stop()
        stub.violations.clear()  # broken on purpose, and seen: the test's end checks no more


def _options(count: int) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": f"Option {n}"}, "value": str(n)}
            for n in range(count)]


def _modal(*blocks: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "A form"},
            "blocks": list(blocks), **more}


def _input(element: dict[str, Any], label: str = "Pick") -> dict[str, Any]:
    return {"type": "input", "label": {"type": "plain_text", "text": label},
            "element": {"action_id": "value", **element}}


BROKEN_VIEWS = {
    "checkboxes with 11 options": _modal(_input({"type": "checkboxes",
                                                 "options": _options(11)})),
    "radio_buttons with 11 options": _modal(_input({"type": "radio_buttons",
                                                    "options": _options(11)})),
    "multi_static_select with 101 options": _modal(_input({"type": "multi_static_select",
                                                           "options": _options(101)})),
    "view private_metadata over 3,000": _modal(private_metadata="x" * 3001),
    "view submit over 24": _modal(submit={"type": "plain_text", "text": "S" * 25}),
    "input label over 2,000": _modal(_input({"type": "plain_text_input"}, "L" * 2001)),
    "initial_value over 3,000": _modal(_input({"type": "plain_text_input",
                                               "initial_value": "v" * 3001})),
    "option text over 75": _modal(_input({"type": "static_select", "options": [
        {"text": {"type": "plain_text", "text": "o" * 76}, "value": "1"}]})),
}


@pytest.mark.parametrize("name", list(BROKEN_VIEWS))
def test_it_names_a_view_over_block_kits_limits(
        slack: tuple[SlackStub, WebClient], name: str) -> None:
    stub, client = slack
    client.views_open(trigger_id="t1", view=BROKEN_VIEWS[name])
    with pytest.raises(AssertionError, match=name.split(" over ")[0].split(" with ")[0]):
        stub.assert_within_limits()


BROKEN_BLOCKS = {
    "section with 11 fields": {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "f"}] * 11},
    "section field over 2,000": {"type": "section", "fields": [
        {"type": "plain_text", "text": "f" * 2001}]},
    "context with over 10 elements": {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "c"}] * 11},
    "overflow with 6 options": {"type": "section", "text": {"type": "mrkdwn", "text": "s"},
                                "accessory": {"type": "overflow", "action_id": "more",
                                              "options": _options(6)}},
    "confirm text over 300": {"type": "actions", "elements": [{
        "type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "Go"},
        "confirm": {"title": {"type": "plain_text", "text": "Sure?"},
                    "text": {"type": "plain_text", "text": "t" * 301},
                    "confirm": {"type": "plain_text", "text": "Yes"},
                    "deny": {"type": "plain_text", "text": "No"}}}]},
}


@pytest.mark.parametrize("name", list(BROKEN_BLOCKS))
def test_it_refuses_a_message_over_block_kits_limits(
        slack: tuple[SlackStub, WebClient], name: str) -> None:
    stub, client = slack
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="DUONE", text="hello", blocks=[BROKEN_BLOCKS[name]])
    assert stub.posted() == []
    with pytest.raises(AssertionError, match=name.split(" over ")[0].split(" with ")[0]):
        stub.assert_within_limits()


def test_it_takes_a_message_and_a_view_within_the_limits(
        slack: tuple[SlackStub, WebClient]) -> None:
    stub, client = slack
    client.chat_postMessage(channel="DUONE", text="hello", blocks=[
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10}])
    client.views_open(trigger_id="t1", view=_modal(
        _input({"type": "checkboxes", "options": _options(10)}),
        _input({"type": "multi_static_select", "options": _options(100)}),
        private_metadata="x" * 3000))
    stub.assert_within_limits()


def test_a_stand_in_a_test_starts_itself_is_checked_when_the_test_ends(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own_stand_in=dedent("""
        from slack_sdk import WebClient
        from tests.slack_api_stub import SlackStub

        def test_it_opens_a_modal_too_long():
            stub = SlackStub().start()
            client = WebClient(token="xoxb-test", base_url=stub.base_url)
            client.views_open(trigger_id="t1", view={
                "type": "modal", "title": {"type": "plain_text", "text": "A form"},
                "blocks": [], "private_metadata": "x" * 3001})
            stub.stop()
    """))
    result = pytester.runpytest_inprocess("-p", "tests.stand_in_limits", "-p", "no:cacheprovider",
                                          "-W", "ignore::pytest.PytestAssertRewriteWarning")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*Block Kit limits broken: views.open: view private_metadata*"])
