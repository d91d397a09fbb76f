"""How a listener answers in Teams: in a conversation, now or on one of a few listener
threads; in the HTTP answer to an Action.Execute (a line by its card, or a card in its place);
or by replacing the card a button was on, saying so in the chat when Teams would not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from microsoft_teams.api import InvokeResponse

from bot.app.conversations import SORRY, UNCHANGED
from bot.core.ports import DeliveryError, Where
from bot.core.said import Said, lines
from bot.teams.gateway import TeamsGateway
from bot.teams.render import CARD_TYPE, Element

log = logging.getLogger(__name__)
LISTENER_THREADS = 4
TOAST_LIMIT = 500
"""Characters of the line Teams shows by a card after an Action.Execute."""
MESSAGE = "application/vnd.microsoft.activity.message"


class Chat:
    """Teams conversations as the listeners answer in them."""

    def __init__(self, gateway: TeamsGateway) -> None:
        self.gateway = gateway
        self.pool = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="roundtable-teams")

    def say(self, key: str, words: Said) -> None:
        try:
            self.gateway.say(Where(key), words)
        except DeliveryError as exc:
            log.warning("could not answer in Teams conversation %s: %s", key, exc.reason)

    def later(self, work: Callable[..., None], *args: Any, told_in: str | None = None
              ) -> None:
        """`work` on a listener thread; when it fails, the failure is logged and, with
        `told_in`, the person is told in that conversation that it was not done."""
        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - a listener's failure is logged, never lost
                log.exception("a Teams listener failed")
                if told_in is not None:
                    self.say(told_in, SORRY)
        self.pool.submit(run)

    def replace_card(self, key: str, card_id: str, content: Element, done: Said) -> None:
        """`content` in place of the card a button was on; when Teams would not change it,
        what the button did (done by now) is said in the chat, and that the card still shows
        as it was."""
        if self.card_replaced(key, card_id, content, self.gateway.plain(done),
                              "update a card") is not None:
            self.say(key, lines([done, UNCHANGED]))

    def card_replaced(self, key: str, card_id: str, content: Element, summary: str,
                      doing: str) -> str | None:
        """`content` in place of a card: None when Teams changed it, else why not (logged as
        what it was `doing`)."""
        try:
            self.gateway.replace_card(key, card_id, content, summary)
        except DeliveryError as exc:
            log.warning("could not %s in Teams conversation %s: %s", doing, key, exc.reason)
            return exc.reason
        return None

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def done(text: str) -> InvokeResponse[Any]:
    """The answer to an Action.Execute: a short message Teams shows by the card."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": MESSAGE,
                                            "value": text[:TOAST_LIMIT]})


def in_place(content: Element) -> InvokeResponse[Any]:
    """The answer to an Action.Execute: `content` in place of the card."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_TYPE,
                                            "value": content})
