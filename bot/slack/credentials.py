"""Before a process starts: does Slack answer, and does it take our tokens?

Bolt asks Slack `auth.test` when its App is made, and a refused token ends in a long
traceback; an unreachable Slack, in twenty seconds of retries first. Asking once here, with
no retries and a short timeout, turns both into one line naming the setting to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.core.errors import RoundtableError

QUIET = logging.getLogger("roundtable.slack.start-up-check")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False  # slack_sdk logs each failure itself; ours is the one line
TIMEOUT = 15
"""Seconds to wait for Slack's answer at start-up."""
FIXES = {
    "SLACK_BOT_TOKEN": "check the Bot User OAuth Token (xoxb-…) on the app's OAuth & "
                       "Permissions page, and reinstall the app if it was revoked",
    "SLACK_APP_TOKEN": "check the app-level token (xapp-…, scope connections:write) under "
                       "Basic Information → App-Level Tokens",
}


def check_tokens(settings: Settings, *, socket: bool = False) -> None:
    """Raise a RoundtableError of one line when Slack cannot be reached or refuses a token."""
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    _ask(settings, "SLACK_BOT_TOKEN", lambda: _client(settings, bot).auth_test())
    if socket:
        app = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        # the one call an app-level token may make; the address it answers is left unused
        _ask(settings, "SLACK_APP_TOKEN",
             lambda: _client(settings, app).apps_connections_open(app_token=app))


def _client(settings: Settings, token: str) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT,
                     proxy=settings.https_proxy, retry_handlers=[], logger=QUIET)


def _ask(settings: Settings, setting: str, call: Callable[[], object]) -> None:
    try:
        call()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        raise RoundtableError(f"{setting} was refused by Slack ({code}): "
                              f"{FIXES[setting]}") from None
    except (SlackClientError, URLError, OSError) as exc:
        raise RoundtableError(
            f"Slack cannot be reached at {settings.slack_api_url} ({_reason(exc)}): check "
            "this server's network, or set HTTPS_PROXY to the web proxy it must use"
            + (f" (now {settings.https_proxy})" if settings.https_proxy else "")) from None


def _reason(exc: Exception) -> str:
    reason = exc.reason if isinstance(exc, URLError) else exc
    return str(getattr(reason, "strerror", None) or reason).strip() or type(exc).__name__
