"""Calls to the Bot Connector through the Teams SDK's ApiClient, run on the SDK's loop, with
retries and with failures turned into the core's DeliveryErrors.

The SDK's HTTP client does not retry: `Retrying` (SDK middleware) waits out a 429's
Retry-After and retries 5xx answers a few times; a dropped connection is retried only for
reads, since a post whose answer was lost may have been posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from microsoft_teams.api import ApiClient
from microsoft_teams.common.http.client import MiddlewareContext, MiddlewareNext

from bot.core.ports import DeliveryError
from bot.teams.loop import SdkLoop
from bot.teams.tokens import TokenError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 6
LONGEST_WAIT = 60.0
SERVER_ERRORS = {500, 502, 503, 504}
READS = {"GET", "HEAD"}


def retry_after(headers: httpx.Headers) -> float:
    """Seconds the Bot Connector asked to wait (seconds or an HTTP date); 1 when it did not."""
    value = headers.get("retry-after")
    if not value:
        return 1.0
    try:
        return min(max(float(value), 0.0), LONGEST_WAIT)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 1.0
        return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), LONGEST_WAIT)


class Retrying:
    """SDK middleware: wait out 429s and retry 5xx answers (and dropped reads)."""

    def __init__(self, retries: int = RETRIES, sleep: Callable[[float], Any] = asyncio.sleep
                 ) -> None:
        self.retries, self.sleep = retries, sleep

    async def send(self, context: MiddlewareContext, next: MiddlewareNext) -> httpx.Response:
        attempt = 0
        while True:
            try:
                return await next()
            except httpx.HTTPStatusError as exc:
                status = exc.response.status_code
                if attempt >= self.retries or (status != 429 and status not in SERVER_ERRORS):
                    raise
                wait = retry_after(exc.response.headers) if status == 429 else 0.25 * 2 ** attempt
                log.info("Bot Connector answered %s to %s; trying again in %.1fs", status,
                         context.method, wait)
            except httpx.TransportError:
                if attempt >= self.retries or context.method not in READS:
                    raise
                wait = 0.25 * 2 ** attempt
            attempt += 1
            await self.sleep(wait)


HINTS = {
    401: "The Bot Connector refused the bot's token: check TEAMS_APP_ID and TEAMS_APP_PASSWORD.",
    403: "Teams refused: the app may have been removed, or blocked by this person or the "
         "tenant's admin. Add Roundtable to the team (or for the person) again.",
    404: "Teams does not know that conversation any more: add Roundtable to the team again, "
         "or choose another channel.",
}


def delivery_error(exc: BaseException, method: str = "POST") -> DeliveryError:
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        code = _error_code(exc.response) or f"http_{status}"
        if status == 429:
            return DeliveryError(code, retry_after=retry_after(exc.response.headers))
        permanent = status in {400, 401, 403, 404, 413}
        return DeliveryError(code, permanent=permanent, hint=HINTS.get(status))
    if isinstance(exc, TokenError):
        return DeliveryError(str(exc), hint=HINTS[401])
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return DeliveryError(f"{exc.__class__.__name__}: {exc}")  # never reached Teams
    # No answer: a post may or may not have taken effect.
    return DeliveryError(f"{exc.__class__.__name__}: {exc}", uncertain=method not in READS)


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else None


class Connector:
    """The Bot Connector, per service URL, called from any thread."""

    def __init__(self, api: ApiClient, loop: SdkLoop) -> None:
        self.api, self.loop = api, loop
        self._scoped: dict[str, ApiClient] = {}

    def at(self, service_url: str) -> ApiClient:
        url = service_url.rstrip("/")
        if url not in self._scoped:
            self._scoped[url] = self.api.clone(service_url=url)
        return self._scoped[url]

    def call(self, work: Callable[[], Coroutine[Any, Any, T]], method: str = "POST") -> T:
        """Run `work()` on the SDK's loop; failures as DeliveryError."""
        try:
            return self.loop.run(work())
        except DeliveryError:
            raise
        except (httpx.HTTPError, TokenError) as exc:
            raise delivery_error(exc, method) from exc
        except TimeoutError as exc:
            raise DeliveryError("the Bot Connector did not answer in time",
                                uncertain=method not in READS) from exc
