"""The bot's own token for the Bot Connector: OAuth 2 client credentials, kept until shortly
before it expires.

Given to the Teams SDK as its token provider (its `token` option). The SDK's built-in
ClientCredentials go through MSAL, which only accepts https authorities known to Microsoft;
this is the same single request, so a local issuer can stand in for Entra in tests and the
code that runs in production is the code the tests run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

BOT_TENANT = "botframework.com"
"""Where a multi-tenant bot registration gets its token; a single-tenant one uses its own."""
EARLY = 300.0
"""Renew this many seconds before the token expires."""


class TokenError(Exception):
    """The bot could not get a token: wrong app id or password, or the issuer is away."""


@dataclass
class _Held:
    value: str
    until: float


class ClientCredentials:
    """A token provider for the SDK: called with a scope (and a tenant), returns a token."""

    def __init__(self, login_url: str, app_id: str, password: str,
                 tenant_id: str | None = None, timeout: float = 20.0) -> None:
        self.login_url, self.app_id, self.password = login_url.rstrip("/"), app_id, password
        self.tenant_id, self.timeout = tenant_id, timeout
        self._held: dict[tuple[str, str], _Held] = {}
        self._lock = asyncio.Lock()

    async def __call__(self, scope: str | list[str], tenant_id: str | None = None) -> str:
        scope = scope if isinstance(scope, str) else " ".join(scope)
        tenant = self.tenant_id or (tenant_id if tenant_id and tenant_id != "common"
                                    else BOT_TENANT)
        async with self._lock:
            held = self._held.get((scope, tenant))
            if held is not None and held.until > time.monotonic():
                return held.value
            token, lifetime = await self._fetch(scope, tenant)
            self._held[(scope, tenant)] = _Held(token, time.monotonic() + lifetime - EARLY)
            return token

    async def _fetch(self, scope: str, tenant: str) -> tuple[str, float]:
        url = f"{self.login_url}/{tenant}/oauth2/v2.0/token"
        form = {"grant_type": "client_credentials", "client_id": self.app_id,
                "client_secret": self.password, "scope": scope}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise TokenError(f"could not reach {url}: {exc.__class__.__name__}") from exc
        body = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            why = body.get("error_description") or body.get("error") or response.status_code
            raise TokenError(f"no token for TEAMS_APP_ID {self.app_id}: {why}")
        return body["access_token"], float(body.get("expires_in") or 3600)
