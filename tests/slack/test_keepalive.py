"""Slack Web API calls reuse their connections, and survive Slack closing an idle one."""

from __future__ import annotations

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
