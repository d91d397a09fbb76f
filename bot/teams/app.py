"""The Teams platform: the Teams SDK's App (authentication, routing, the Bot Connector client)
on a loop of its own, our gateway and directory, and its way in, `POST /api/messages`."""

from __future__ import annotations

import logging
import os
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
from bot.core.errors import RoundtableError
from bot.core.incoming import Incoming
from bot.core.ports import Clock, utcnow
from bot.teams.activities import (
    ENTRA_ID_CHARS,
    Activity,
    from_tenant,
    kind_of,
    parse,
    tenants_named,
)
from bot.teams.commands import OBJECT_ID
from bot.teams.connector import Connector, Retrying
from bot.teams.directory import TeamsDirectory
from bot.teams.endpoint import MESSAGES_PATH, TENANT_REFUSED, TeamsEndpoint
from bot.teams.gateway import TeamsGateway
from bot.teams.listeners import Listeners
from bot.teams.loop import SdkLoop
from bot.teams.references import PLATFORM, Conversations
from bot.teams.tokens import ClientCredentials, TokenError
from storage.database import Database

log = logging.getLogger(__name__)


class _TenantNotSet(logging.Filter):
    """Without a tenant, the SDK warns at start that TENANT_ID (a variable of its own, which
    Roundtable asks operators to leave unset) is not set, and that Entra tokens of any tenant
    would be taken: those are checked only for a tab's functions (`App.func`), which
    Roundtable has none of. The tenant is TEAMS_TENANT_ID's, and without it every tenant is
    served on purpose (README, Microsoft Teams), so both lines only mislead; every other
    record passes."""

    UNTRUE = ("TENANT_ID is not set, assuming multi-tenant app",
              "No tenant_id provided for Entra token validation. Issuer validation will be "
              "skipped, accepting tokens from any tenant.")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.UNTRUE


for _name in ("microsoft_teams.apps.app", "microsoft_teams.apps.auth.token_validator"):
    logging.getLogger(_name).addFilter(_TenantNotSet())

TIMEOUT = 20.0
BOT_SCOPE = "https://api.botframework.com/.default"
"""What the bot's token is for: the Bot Connector."""


class TeamsPlatform:
    """Teams, as the application sees a platform (bot.app.platforms.Platform)."""

    name = PLATFORM

    def __init__(self, settings: Settings, database: Database, clock: Clock = utcnow) -> None:
        app_id = str(settings.teams_app_id)
        password = settings.teams_app_password.get_secret_value() \
            if settings.teams_app_password else ""
        self.settings = settings
        if settings.https_proxy:
            # the Teams SDK's HTTP client and ours (httpx) take the proxy from the
            # environment; the setting may have come from .env
            os.environ.setdefault("HTTPS_PROXY", settings.https_proxy)
        self.loop = SdkLoop()
        self.endpoint = TeamsEndpoint(self.loop)
        self.credentials = ClientCredentials(settings.teams_login_url, app_id, password,
                                             settings.teams_tenant_id)
        http = Client(ClientOptions(timeout=TIMEOUT))
        http.use(Retrying())
        cloud = with_overrides(PUBLIC, openid_metadata_url=settings.teams_openid_url,
                               token_issuer=settings.teams_token_issuer,
                               login_endpoint=settings.teams_login_url)
        self.sdk = App(
            client_id=app_id, tenant_id=settings.teams_tenant_id,
            token=self.credentials,
            cloud=cloud, client=http, http_server_adapter=self.endpoint,
            messaging_endpoint=MESSAGES_PATH, service_url=settings.teams_service_url,
            telemetry={"agent365": False}, state=False,
            dangerously_allow_unauthenticated_requests=False,
        )
        self.conversations = Conversations(database.sessions, clock)
        self.connector = Connector(self.sdk.api, self.loop)
        self.gateway = TeamsGateway(self.connector, self.conversations, app_id,
                                    settings.teams_service_url, settings.timezone)
        self.directory = TeamsDirectory(self.connector, self.conversations)
        self.facilitators: tuple[str, ...] = settings.teams_facilitators
        self.signed_in = settings.teams_enabled
        self.listeners: Listeners | None = None

    def is_user_id(self, user_id: str) -> bool:
        return OBJECT_ID.match(user_id) is not None

    def translate(self, payload: dict[str, Any]) -> Incoming | None:
        """Teams' events are stored already translated (bot.core.incoming)."""
        return None

    def endpoints(self, app: Roundtable) -> Mapping[str, WsgiApp]:
        if self.listeners is None:
            self.listeners = Listeners(app, self.gateway, self.conversations)
            self.sdk.on_activity(self.listeners.on_activity)
            self.loop.run(self.sdk.initialize())
            handle = self.sdk.server.on_request
            if self.settings.teams_tenant_id:
                handle = _refusing_other_tenants(self.settings.teams_tenant_id, handle)
            self.sdk.server.on_request = _refusing_malformed(handle)
        return {MESSAGES_PATH: self.endpoint}

    def socket(self, app: Roundtable) -> Callable[[], None] | None:
        return None  # Teams always calls in over HTTPS

    def check(self, *, socket: bool = False) -> None:
        """The bot's Microsoft app id and secret get a Bot Connector token: one line naming
        the settings when they do not."""
        try:
            self.loop.run(self.credentials(BOT_SCOPE))
        except TokenError as exc:
            raise RoundtableError(f"TEAMS_APP_ID / TEAMS_APP_PASSWORD / TEAMS_TENANT_ID: {exc} "
                                  "(check the Azure Bot's app id, its client secret and the "
                                  "tenant)") from None

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


def _refusing_other_tenants(tenant: str, handle: Any) -> Any:
    """The SDK's activity handling for a single-tenant bot: an authenticated activity from
    another tenant (or naming none) is answered 401, as Microsoft's adapters answer a tenant
    filter's refusal, before anything is stored or sent."""
    async def guarded(event: Any) -> Any:
        activity = parse(event.body.model_dump(by_alias=True, exclude_none=True, mode="json"))
        if activity is not None and not from_tenant(activity, tenant):
            log.warning("refused a Teams %s activity in a %s conversation from tenant %s: "
                        "TEAMS_TENANT_ID is %s", activity.type[:40], kind_of(activity),
                        _tenants_named(activity), tenant)
            return InvokeResponse(status=401, body=TENANT_REFUSED)
        return await handle(event)
    return guarded


def _tenants_named(activity: Activity) -> str:
    """The tenants an activity names, for a log line."""
    return " and ".join(repr(t[:ENTRA_ID_CHARS]) for t in sorted(tenants_named(activity))
                        ) or "(none named)"
