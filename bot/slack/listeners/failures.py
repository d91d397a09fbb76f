"""A command, button or form whose listener fails unexpectedly: Slack still gets its answer,
the person is told, and the failure is logged with its traceback.

Bolt (1.30, `slack_bolt/listener/thread_runner.py`) runs a listener on its thread pool and
polls for its ack(). When the listener raises after acknowledging, Bolt sets the ack's
response back to none before its global error handler (`app.error`) could change anything
(that handler is given no response in this case): unless the request thread had already
picked the ack up, Slack gets nothing for 3 seconds, then a 404, and shows the person an
error. So each listener is guarded here instead, following Bolt's advice to handle a
listener's errors in the listener: the failure never reaches Bolt.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.app.conversations import SORRY
from bot.core.ports import DeliveryError, Where
from bot.slack import render
from bot.slack.gateway import SlackGateway

log = logging.getLogger(__name__)

ERROR_TEXT = 150
"""How much of a view error Slack shows by a form's field."""

Listener = Callable[..., None]


def told_on_failure(slack: SlackGateway) -> Callable[[Listener], Listener]:
    """A decorator for a listener that takes `ack` and `body` (or `command`): whatever it
    raises is logged, acknowledged if it was not yet, and told to the person."""
    def guard(listener: Listener) -> Listener:
        @functools.wraps(listener)  # Bolt reads the arguments to pass from the listener
        def guarded(**kwargs: Any) -> None:
            try:
                listener(**kwargs)
            except Exception:
                log.exception("the Slack listener %s failed", listener.__name__)
                body = kwargs.get("body") or kwargs.get("command") or {}
                if not _kept_open(kwargs["ack"], body):
                    _tell(slack, body)
        return guarded
    return guard


def _kept_open(ack: Ack, body: dict[str, Any]) -> bool:
    """Acknowledge the request when the listener had not: a form stays open, with what was
    written in it and the apology by its first field (True); anything else is answered."""
    if ack.response is not None:
        return False
    fields = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    if body.get("type") == "view_submission" and fields:
        ack(response_action="errors", errors={next(iter(fields)): SORRY.plain[:ERROR_TEXT]})
        return True
    ack()
    return False


def _tell(slack: SlackGateway, body: dict[str, Any]) -> None:
    """Only to the person: through the request's response_url, or else in a direct message
    (forms and the Home tab's buttons have no response_url)."""
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    try:
        if body.get("response_url"):
            slack.respond(str(body["response_url"]), render.message(SORRY))
        elif isinstance(user, str):
            slack.say(Where(slack.open_direct(user)), SORRY)
    except (DeliveryError, OSError) as exc:
        log.warning("could not tell a person their request failed: %s", exc)
