"""`roundtable digest --post`: post a round's digest to its channel, outside the server."""

from __future__ import annotations

from bot.config import Settings
from bot.core.deliveries import post_digest as post_once
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.runtime import open_database, utcnow
from bot.slack.app import export_hint
from bot.slack.gateway import SlackGateway, make_client


def post_digest(settings: Settings, round_id: int) -> None:
    """Post the digest now (top message, then one per question in its thread) and record it,
    as the scheduler does, so the next digest says what changed since this one."""
    settings.require_slack()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    database = open_database(settings)
    gateway = SlackGateway(make_client(token, settings.slack_api_url), export_hint)
    try:
        post_once(database.sessions, gateway, round_id, f"posted-{utcnow().isoformat()}", utcnow)
    except DeliveryError as exc:
        raise RoundtableError(f"Slack refused the digest: {exc.reason}") from exc
    finally:
        database.engine.dispose()
