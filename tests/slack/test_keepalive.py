"""Slack Web API calls reuse their connections, and survive Slack closing an idle one."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from bot.core.ports import Where
from bot.core.said import said
from bot.slack.gateway import SlackGateway, make_client
from tests.slack_api_stub import SlackStub


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    slack.add_user("UAMARA", "Amara")
    yield slack
    slack.stop()


def _say(gateway: SlackGateway, words: str) -> None:
    gateway.say(Where("DUAMARA"), said(words))


def test_it_sends_many_messages_on_one_connection(stub: SlackStub) -> None:
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    for n in range(30):
        _say(gateway, f"Message {n}")
    assert [c.params["text"] for c in stub.posted()] == [f"Message {n}" for n in range(30)]
    assert stub.connections_opened == 1


def test_a_connection_slack_closed_while_idle_is_replaced(stub: SlackStub) -> None:
    stub.idle_timeout = 0.2
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    _say(gateway, "Before")
    stub.wait_for(lambda: stub.connections_closed == 1, what="the stand-in to close the idle "
                  "connection")
    _say(gateway, "After")
    assert [c.params["text"] for c in stub.posted()] == ["Before", "After"]
    assert stub.connections_opened == 2


def test_a_request_of_the_process_without_a_timeout_goes_on_the_kept_connection(
        stub: SlackStub) -> None:
    """The kept connections serve every urlopen of the process (the installed opener), also
    one with no timeout of its own, which waits as long as the process's default."""
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    _say(gateway, "First")
    request = urllib.request.Request(stub.response_url(), b'{"text": "Second"}',
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answered:
        assert answered.read() == b"ok"
    assert [c.params["text"] for c in stub.calls_to("response_url")] == ["Second"]
    assert stub.connections_opened == 1
