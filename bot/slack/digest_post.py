"""`roundtable digest --post`: post a digest view to its round's channel, outside the server."""

from __future__ import annotations

from bot.config import Settings
from bot.core.digest.model import DigestView
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.core.rounds import get_round
from bot.runtime import open_database
from bot.slack.app import export_hint
from bot.slack.gateway import SlackGateway, make_client


def post_digest(settings: Settings, view: DigestView) -> None:
    """Post the digest (top message, then one per question in its thread)."""
    settings.require_slack()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    database = open_database(settings)
    with database.sessions() as session:
        channel = get_round(session, view.round.id).digest_channel
    if channel is None:
        raise RoundtableError(f"round {view.round.id} has no digest channel")
    gateway = SlackGateway(make_client(token, settings.slack_api_url), export_hint)
    try:
        gateway.post_digest(channel, view)
    except DeliveryError as exc:
        raise RoundtableError(f"Slack refused the digest: {exc.reason}") from exc
