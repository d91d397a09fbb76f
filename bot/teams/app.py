"""The Teams platform: the Teams SDK's App (authentication, routing, the Bot Connector client)
on a loop of its own, our gateway and directory, and its way in, `POST /api/messages`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from microsoft_teams.api import InvokeResponse
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.apps import App
from microsoft_teams.common import Client, ClientOptions
from pydantic import ValidationError

from bot.app.platforms import WsgiApp
from bot.app.roundtable import Roundtable
from bot.config import Settings
from bot.core.incoming import Incoming
from bot.core.ports import Clock, utcnow
from bot.teams.connector import Connector, Retrying
from bot.teams.directory import TeamsDirectory
from bot.teams.endpoint import MESSAGES_PATH, TeamsEndpoint
from bot.teams.gateway import TeamsGateway
from bot.teams.listeners import Listeners
from bot.teams.loop import SdkLoop
from bot.teams.references import PLATFORM, Conversations
from bot.teams.tokens import ClientCredentials
from storage.database import Database

log = logging.getLogger(__name__)
TIMEOUT = 20.0


def export_hint(round_id: int) -> str:
    return f"roundtable export --round {round_id} --format docx"


class TeamsPlatform:
    """Teams, as the application sees a platform (bot.app.platforms.Platform)."""

    name = PLATFORM

    def __init__(self, settings: Settings, database: Database, clock: Clock = utcnow) -> None:
        app_id = str(settings.teams_app_id)
        password = settings.teams_app_password.get_secret_value() \
            if settings.teams_app_password else ""
        self.settings = settings
        self.loop = SdkLoop()
        self.endpoint = TeamsEndpoint(self.loop)
        http = Client(ClientOptions(timeout=TIMEOUT))
        http.use(Retrying())
        cloud = with_overrides(PUBLIC, openid_metadata_url=settings.teams_openid_url,
                               token_issuer=settings.teams_token_issuer,
                               login_endpoint=settings.teams_login_url)
        self.sdk = App(
            client_id=app_id, tenant_id=settings.teams_tenant_id,
            token=ClientCredentials(settings.teams_login_url, app_id, password,
                                    settings.teams_tenant_id),
            cloud=cloud, client=http, http_server_adapter=self.endpoint,
            messaging_endpoint=MESSAGES_PATH, service_url=settings.teams_service_url,
            telemetry={"agent365": False}, state=False,
            dangerously_allow_unauthenticated_requests=False,
        )
        self.conversations = Conversations(database.sessions, clock)
        self.connector = Connector(self.sdk.api, self.loop)
        self.gateway = TeamsGateway(self.connector, self.conversations, app_id,
                                    settings.teams_service_url, export_hint)
        self.directory = TeamsDirectory(self.connector, self.conversations)
        self.facilitators: tuple[str, ...] = settings.teams_facilitators
        self.listeners: Listeners | None = None

    def translate(self, payload: dict[str, Any]) -> Incoming | None:
        """Teams' events are stored already translated (bot.core.incoming)."""
        return None

    def endpoints(self, app: Roundtable) -> Mapping[str, WsgiApp]:
        if self.listeners is None:
            self.listeners = Listeners(app, self.gateway, self.conversations)
            self.sdk.on_activity(self.listeners.on_activity)
            self.loop.run(self.sdk.initialize())
            self.sdk.server.on_request = _refusing_malformed(self.sdk.server.on_request)
        return {MESSAGES_PATH: self.endpoint}

    def socket(self, app: Roundtable) -> Callable[[], None] | None:
        return None  # Teams always calls in over HTTPS

    def close(self) -> None:
        if self.listeners is not None:
            self.listeners.close()
        self.loop.close()


def _refusing_malformed(handle: Any) -> Any:
    """The SDK's activity handling, answering 400 (not 500, which Teams would retry) to an
    authenticated activity whose fields are not of their types."""
    async def guarded(event: Any) -> Any:
        try:
            return await handle(event)
        except ValidationError as exc:
            log.info("refused a malformed activity: %s", str(exc).splitlines()[0])
            return InvokeResponse(status=400)
    return guarded
