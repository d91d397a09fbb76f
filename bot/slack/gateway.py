"""The core's ChatGateway on Slack's Web API; Slack errors become typed DeliveryErrors.

Retries of 429 (after Retry-After), 500/503 and dropped connections happen inside slack_sdk,
through the retry handlers configured in `make_client`; what still fails here is final for
this attempt.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.core.digest.model import DigestView, Draft
from bot.core.home import HomeView
from bot.core.incoming import Kept
from bot.core.ports import Attachment, DeliveryError, Posted, Sent, Where
from bot.core.questions import Question, Saved
from bot.core.said import Said
from bot.slack import blocks, render, review_blocks
from bot.slack.digest_blocks import digest_messages
from bot.slack.keepalive import keep_alive
from bot.slack.limits import check_message, check_view
from bot.slack.messages import SlackFile, SlackMessage

log = logging.getLogger(__name__)

PERMANENT = {
    "account_inactive", "user_not_found", "user_disabled", "channel_not_found",
    "cannot_dm_bot", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long",
    "no_text", "restricted_action", "not_allowed_token_type", "invalid_auth", "token_revoked",
    "missing_scope", "messages_tab_disabled",
}
RETRIES = 6
"""slack_sdk counts one retry budget per call across handlers: room for several 429s/500s."""
QUESTION_EVENT = "roundtable_question"
DIGEST_EVENT = "roundtable_digest"
"""Message metadata on every question and digest part: ids only, so recovery can find what
arrived."""
NOT_IDEMPOTENT = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal")
HISTORY = "conversations.history"
REPLIES = "conversations.replies"
GONE = {"message_not_found", "channel_not_found", "is_archived", "thread_not_found"}
"""What Slack says when the message to change is gone already: nothing left to remove."""
VIEW_GONE = {"not_found"}
"""What views.update answers for a modal the person has closed (or submitted)."""
FILE_GONE = {"file_not_found", "file_deleted"}


class IdempotentConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retries dropped connections, except for calls that may have taken effect already.

    A post whose connection drops may have been posted: repeating it blindly would send it
    twice. Those errors reach the core as `uncertain`, which looks before it sends again.
    """

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if request.url.rstrip("/").endswith(NOT_IDEMPOTENT):
            return False
        return bool(super()._can_retry(state=state, request=request, response=response,
                                       error=error))


class RateLimitPause:
    """Slack limits each Web API method for the whole app: once it answers 429 with
    Retry-After, every call of that method should wait that long, not only the one refused.
    Senders working side by side (the outbox has several in flight) then wait it out
    together and start again together, instead of each being refused in turn and sleeping a
    second and a random part of another on its own, which left the allowance unused."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def hold(self, method: str, seconds: float) -> None:
        with self._lock:
            self._until[method] = max(self._until.get(method, 0.0), self.clock() + seconds)

    def left(self, method: str) -> float:
        """Seconds before `method` may be called again (0: now)."""
        return max(0.0, self._until.get(method, 0.0) - self.clock())

    def wait(self, method: str) -> None:
        """Return when `method` may be called (at once, unless Slack asked to wait)."""
        delay = self.left(method)
        if delay > 0:
            self.sleep(delay)


class SharedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting out Retry-After with every other caller of the method
    (RateLimitPause) rather than alone."""

    def __init__(self, pause: RateLimitPause, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pause = pause

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]  # as slack_sdk's own handler does
        state.next_attempt_requested = True
        method = api_method(request.url)
        self.pause.hold(method, retry_after(response.headers))
        self.pause.wait(method)
        state.increment_current_attempt()


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds Slack asked to wait (its Retry-After header, in any case; a value or a list of
    them, as slack_sdk gives headers in different places); 1 when it did not say."""
    wait = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(wait, list):
        wait = wait[0] if wait else None
    return float(wait or 1)


def api_method(url: str) -> str:
    """`chat.postMessage` for https://slack.com/api/chat.postMessage."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _pause_of(web: WebClient) -> RateLimitPause:
    """The pause the client's 429 handler keeps, so posts wait with it (a client made
    elsewhere gets a pause of its own)."""
    return next((h.pause for h in web.retry_handlers
                 if isinstance(h, SharedRateLimitRetryHandler)), RateLimitPause())


def refusing(web: WebClient) -> WebClient:
    """The same client, except that a 429 comes back at once as an error naming Retry-After,
    instead of being waited out."""
    reader = copy.copy(web)
    reader.retry_handlers = [h for h in web.retry_handlers
                             if not isinstance(h, RateLimitErrorRetryHandler)]
    return reader


def make_client(token: str, base_url: str, proxy: str | None = None) -> WebClient:
    """A WebClient that waits out 429s and retries 500s and (safe) dropped connections itself;
    through `proxy` when one is given (HTTPS_PROXY), else on kept-alive connections
    (`keepalive`)."""
    if proxy is None:
        keep_alive(base_url)
    return WebClient(
        token=token,
        base_url=base_url,
        proxy=proxy,
        retry_handlers=[
            SharedRateLimitRetryHandler(RateLimitPause(), max_retry_count=RETRIES),
            ServerErrorRetryHandler(max_retry_count=RETRIES),
            IdempotentConnectionRetryHandler(max_retry_count=RETRIES),
        ],
    )


HINTS = {
    "not_in_channel": "Invite @Roundtable to the channel (type /invite @Roundtable there).",
    "channel_not_found": "The channel is private or gone: invite @Roundtable to it (type "
                         "/invite @Roundtable there), or choose another channel.",
    "is_archived": "The channel is archived: choose another channel for the digests.",
    "missing_scope": "The Slack app lacks a permission: reinstall it from manifest.yml.",
    "invalid_auth": "The bot token is wrong or revoked: check SLACK_BOT_TOKEN.",
    "token_revoked": "The bot token was revoked: reinstall the app and update "
                     "SLACK_BOT_TOKEN.",
    "not_authed": "No bot token was sent: set SLACK_BOT_TOKEN (see .env.example).",
    "account_inactive": "The app was uninstalled or its token deactivated: reinstall it and "
                        "update SLACK_BOT_TOKEN.",
    "restricted_action": "This workspace does not let apps post there: ask a Slack admin, or "
                         "choose another channel.",
    "user_not_found": "That person is not in the workspace (or the id is wrong).",
    "user_disabled": "That person's account is deactivated.",
    "cannot_dm_bot": "That id is a bot: only people can be asked.",
    "messages_tab_disabled": "Turn on the Messages tab (App Home → Show Tabs) in the app's "
                             "settings, or reinstall it from manifest.yml.",
    "not_allowed_token_type": "SLACK_BOT_TOKEN must be the bot token (xoxb-…), not a user "
                              "or app-level token.",
    "team_access_not_granted": "The app is not installed in that workspace of the "
                               "organisation: ask a Slack admin to add it.",
    "msg_too_long": "The message is too long for Slack: the export has everything "
                    "(roundtable export).",
}
UNREACHABLE_HINT = ("Slack could not be reached: check this server's network, or set "
                    "HTTPS_PROXY to the web proxy it must use.")
"""What a person can do about Slack's refusals, in Slack's terms."""


def delivery_error(exc: Exception) -> DeliveryError:
    """A Slack failure as the core sees it: permanent when retrying cannot help."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if exc.response.status_code == 429:
            return DeliveryError(code, retry_after=retry_after(exc.response.headers))
        return DeliveryError(code, permanent=code in PERMANENT, hint=HINTS.get(code))
    # No answer at all: the request may or may not have taken effect.
    reason = getattr(exc, "reason", None) or exc
    return DeliveryError(f"no answer from Slack ({reason})", permanent=False, uncertain=True,
                         hint=UNREACHABLE_HINT)


def calling(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a WebClient method; whatever still fails after its retries is a DeliveryError."""
    try:
        return method(**kwargs)
    except (SlackClientError, URLError, OSError) as exc:
        raise delivery_error(exc) from exc


def _tag(delivery_id: int, prompt_id: str | None) -> dict[str, Any]:
    return {"event_type": QUESTION_EVENT,
            "event_payload": {"delivery": delivery_id, "prompt": prompt_id or ""}}


def _digest_tag(digest_id: int | None, part: int) -> dict[str, Any] | None:
    return None if digest_id is None else {
        "event_type": DIGEST_EVENT, "event_payload": {"digest": digest_id, "part": part}}


def _digest_part(message: dict[str, Any], digest_id: int) -> int | None:
    """Which part of this digest a message is (0: the top), or None if it is not one."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != DIGEST_EVENT or payload.get("digest") != digest_id:
        return None
    part = payload.get("part", 0)  # digests posted before parts were tagged: the top only
    return part if isinstance(part, int) else None


class SlackGateway:
    """Sends what the core asks for; never repeats people's words without `inert`."""

    platform = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.pause = _pause_of(client)
        self.checking = refusing(client)
        """For recovery's history and thread reads, which Slack allows about once a minute."""

    def open_direct(self, user_id: str) -> str:
        response = calling(self.client.conversations_open, users=user_id)
        return str(response["channel"]["id"])

    def send_question(self, channel_id: str, question: Question) -> Sent:
        return self.post(channel_id, blocks.question_message(question),
                         metadata=_tag(question.delivery_id, question.prompt.id))

    def find_sent(self, channel_id: str, delivery_id: int) -> dict[str | None, Sent]:
        """Our tagged messages among the newest of the conversation (15 at most for apps outside
        the Marketplace): what is looked for was posted moments before, with at most a few
        answers and confirmations after it.

        A read Slack refuses for now is not waited for (that could take minutes with several to
        make): the DeliveryError says when to try again, and the caller does other work
        meanwhile (`_read`).
        """
        response = self._read(HISTORY, self.checking.conversations_history,
                              channel=channel_id, limit=15, include_all_metadata=True)
        found: dict[str | None, Sent] = {}
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == QUESTION_EVENT and payload.get("delivery") == delivery_id:
                prompt = payload.get("prompt") or None
                found.setdefault(prompt, Sent(channel_id, str(message["ts"])))
        return found

    def find_digest(self, channel_id: str, digest_id: int, since: datetime) -> Sent | None:
        """The top message of this digest, if it reached the channel after `since`; a read
        Slack refuses for now is not waited for (`_read`)."""
        response = self._read(HISTORY, self.checking.conversations_history,
                              channel=channel_id, limit=100,
                              oldest=f"{since.timestamp():.6f}", include_all_metadata=True)
        for message in response.get("messages") or []:
            if _digest_part(message, digest_id) == 0:
                return Sent(channel_id, str(message["ts"]))
        return None

    def _parts_in_thread(self, top: Sent, digest_id: int) -> dict[int, Sent]:
        response = self._read(REPLIES, self.checking.conversations_replies,
                              channel=top.channel_id, ts=top.message_id, limit=100,
                              include_all_metadata=True)
        return {part: Sent(top.channel_id, str(m["ts"])) for m in response.get("messages") or []
                if (part := _digest_part(m, digest_id)) is not None}

    def _read(self, method: str, call: Callable[..., Any], **kwargs: Any) -> Any:
        """A recovery read of history or a thread, which Slack allows about once a minute.

        One Slack refuses for now is not waited for (that could hold the caller for minutes
        with several to make): the DeliveryError says when to try again, and the caller does
        other work meanwhile. Until then every read of `method` is refused here, without
        asking Slack.
        """
        wait = self.pause.left(method)
        if wait > 0:
            raise DeliveryError("ratelimited", retry_after=wait)
        try:
            return calling(call, **kwargs)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self.pause.hold(method, exc.retry_after)
            raise

    def say(self, where: Where, said: Said) -> Sent:
        return self.post(where.channel_id, render.message(said), thread_ts=where.thread_id)

    def offer_to_save(self, where: Where, said: Said, kept: Kept) -> Sent:
        return self.post(where.channel_id, blocks.save_offer(render.message(said), kept),
                         thread_ts=where.thread_id)

    def confirm(self, where: Where, saved: Sequence[Saved]) -> Sent:
        return self.post(where.channel_id, blocks.confirmations(saved),
                         thread_ts=where.thread_id)

    def update_confirmation(self, sent: Sent, saved: Sequence[Saved]) -> bool:
        return self._update(sent, blocks.confirmations(saved, revised=True))

    def replace_message(self, sent: Sent, said: Said) -> None:
        self._update(sent, render.message(said))

    def replace_form(self, sent: Sent, said: Said) -> None:
        """views.update of the modal (its view id the message id); one closed is `not_found`."""
        view = review_blocks.closed_view(said)
        check_view(view)
        try:
            calling(self.client.views_update, view_id=sent.message_id, view=view)
        except DeliveryError as exc:
            if exc.reason not in VIEW_GONE:
                raise

    def delete_message(self, sent: Sent) -> None:
        try:
            calling(self.client.chat_delete, channel=sent.channel_id, ts=sent.message_id)
        except DeliveryError as exc:
            if exc.reason not in GONE:
                raise

    def send_file(self, where: Where, file: Attachment, said: Said) -> list[Sent]:
        """files.upload_v2 into the conversation, with the words as its comment; the file's
        id as the message id."""
        response = calling(self.client.files_upload_v2, channel=where.channel_id,
                           thread_ts=where.thread_id, content=file.content,
                           filename=file.filename, title=file.title,
                           initial_comment=render.mrkdwn(said))
        return [Sent(where.channel_id, str(f["id"])) for f in response.get("files") or []
                if f.get("id")]

    def delete_file(self, sent: Sent) -> None:
        """files.delete (the bot's own file, with files:write); its share goes with it."""
        try:
            calling(self.client.files_delete, file=sent.message_id)
        except DeliveryError as exc:
            if exc.reason not in FILE_GONE:
                raise

    def post_digest(self, channel_id: str, view: DigestView, digest_id: int | None = None,
                    *, top: Sent | None = None) -> Posted:
        """The top message, then one per question in its thread, each tagged with the digest
        id and its place. Given the `top` of an earlier attempt, only the thread parts missing
        from Slack are posted."""
        messages = digest_messages(view)
        present = {} if top is None or digest_id is None else self._parts_in_thread(
            top, digest_id)
        if top is None:
            top = self.post(channel_id, messages[0], metadata=_digest_tag(digest_id, 0))
        parts = {**present, 0: top}
        for part, message in enumerate(messages[1:], start=1):
            if part in present:
                continue
            parts[part] = self.post(channel_id, message, thread_ts=top.message_id,
                                    metadata=_digest_tag(digest_id, part))
            for file in message.files:
                self._upload(channel_id, top.message_id, file)
        return Posted(top, parts)

    def send_draft(self, channel_id: str, draft: Draft) -> Sent:
        return self.post(channel_id, review_blocks.draft_message(draft))

    def update_draft(self, sent: Sent, draft: Draft) -> None:
        self._update(sent, review_blocks.draft_message(draft))

    def _update(self, sent: Sent, message: SlackMessage) -> bool:
        """chat.update; a message deleted meanwhile is left gone (False)."""
        check_message(message.text, message.blocks)
        try:
            calling(self.client.chat_update, channel=sent.channel_id, ts=sent.message_id,
                    text=message.text, blocks=message.blocks)
        except DeliveryError as exc:
            if exc.reason not in GONE:
                raise
            return False
        return True

    def _upload(self, channel_id: str, thread_ts: str, file: SlackFile) -> None:
        """A chart beside its question; the digest stands without it if the upload fails."""
        try:
            calling(self.client.files_upload_v2, channel=channel_id, thread_ts=thread_ts,
                    content=file.content, filename=file.filename, title=file.title)
        except DeliveryError as exc:
            log.warning("could not upload %s: %s", file.filename, exc.reason)

    def post(self, channel_id: str, message: SlackMessage, thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> Sent:
        """chat.postMessage, checked against Block Kit's limits first."""
        check_message(message.text, message.blocks)
        self.pause.wait("chat.postMessage")
        response = calling(
            self.client.chat_postMessage, channel=channel_id, text=message.text,
            blocks=message.blocks or None, thread_ts=thread_ts, unfurl_links=False,
            unfurl_media=False, metadata=metadata,
        )
        return Sent(str(response["channel"]), str(response["ts"]))

    def respond(self, response_url: str | None, message: SlackMessage, *,
                replace_original: bool = False) -> None:
        """Answer the person who typed a command or clicked a button, only to them, through
        the request's response_url, with the Web API's retry handlers (Bolt's respond() has
        none, so a 500 or a 429 would lose "Round 3 started" and invite a second start)."""
        if not response_url:  # buttons on the Home tab and in modals have none
            return
        check_message(message.text, message.blocks)
        webhook = WebhookClient(response_url, proxy=self.client.proxy, retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=RETRIES),
            ServerErrorRetryHandler(max_retry_count=RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=RETRIES),
        ])
        body: dict[str, Any] = {"text": message.text, "response_type": "ephemeral",
                                "replace_original": replace_original}
        if message.blocks:
            body["blocks"] = message.blocks
        answer = webhook.send_dict(body)
        if answer.status_code != 200:
            log.warning("Slack did not take a response (HTTP %s): %s", answer.status_code,
                        answer.body[:200])

    def publish_home(self, user_id: str, home: HomeView) -> None:
        view = blocks.home_view(home)
        check_view(view)
        calling(self.client.views_publish, user_id=user_id, view=view)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str | None:
        """Open a modal; its view id (for views.update), when Slack gives one."""
        check_view(view)
        response = calling(self.client.views_open, trigger_id=trigger_id, view=view)
        opened = response.get("view") or {}
        return str(opened["id"]) if opened.get("id") else None
