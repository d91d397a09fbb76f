"""A stand-in for Slack's Web API: a real HTTP server on 127.0.0.1 that answers like Slack.

It keeps a small workspace (users, channels, user groups), records every call (also the ones
it failed on purpose), checks every message and view against Block Kit's limits, and can be
told to answer 429 with Retry-After, 500, or `ok: false` on demand or at random. `response_url`
posts land here too (`response_url()` makes one).
"""

from __future__ import annotations

import itertools
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.helpers import LAST_CALLS, PATIENCE, SHUTDOWN_POLL, wait_for

BOT_USER = "UROUNDTABLE"
BOT_ID = "BROUNDTABLE"
TEAM = "T0ROUNDTBL"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    status: int = 429
    retry_after: int = 0
    error: str = "ratelimited"


DROP = 0
"""A Failure status: the call takes effect, then the connection drops with no answer."""

STARTED: list[SlackStub] = []
"""The stand-ins started in this process since the last test began: each test's are checked
against Block Kit's limits when it ends (tests/stand_in_limits.py)."""


class SlackStub:
    """Start with `start()`; point SLACK_API_URL at `base_url`."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, list[str]] = {}
        self.outside: set[str] = set()
        """Channels the bot is not a member of: it sees them, but may not post there."""
        self.usergroups: dict[str, list[str]] = {}
        self.handles: dict[str, str] = {}
        """A user group's handle by its id (usergroups.list), for those given one."""
        self.channel_names: dict[str, str] = {}
        self.files: dict[str, bool] = {}
        self.views: dict[str, dict[str, Any]] = {}
        """Modals open now (views.open), by id, as they show: views.update changes one; one
        closed (`close_view`) is gone, and updating it is `not_found`, as in Slack."""
        """Files shared (files.completeUploadExternal), by id: True while not deleted."""
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._queued: dict[str, list[Failure | None]] = {}
        self._holds: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
        self._refusals: list[tuple[str, Callable[[dict[str, Any]], bool], list[Failure]]] = []
        self._released = threading.Event()
        self.held: list[Call] = []
        """Calls held (`hold`) and not yet answered."""
        self._withholds: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
        self.withheld: list[Call] = []
        """Calls that took effect (`withhold`) and are not yet answered."""
        self._answers: list[tuple[Call, threading.Event]] = []
        """The withheld calls, each with what `release` sets to answer it."""
        self._random_rate = 0.0
        self._random_modes: tuple[int, ...] = (429, 500)
        self._random = random.Random(20261126)
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """Replies in threads, by (channel, parent ts), oldest first."""
        self.post_rate: int | None = None
        self._post_window: tuple[int, int] = (0, 0)
        self.history_interval = 60.0
        """Seconds between conversations.history calls (Slack: one a minute for our kind of app)."""
        self._history_next: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.socket_url: str | None = None
        self.idle_timeout: float | None = None
        """Seconds a connection may wait for its next request before the stand-in closes it
        (servers close idle kept-alive connections); None: never."""
        self.connections_opened = 0
        self.connections_closed = 0
        self._open: set[socket.socket] = set()
        """What apps.connections.open answers: a SocketModeStub's address, once one runs."""

    # --- the workspace ---------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, tz: str = "Europe/London", *,
                 is_bot: bool = False, deleted: bool = False,
                 display_name: str | None = None) -> None:
        """A member: `name` is their full (real) name, `display_name` what they chose to be
        called (Slack leaves it empty until they choose; here it is `name` unless given)."""
        shown = name if display_name is None else display_name
        self.users[user_id] = {
            "id": user_id, "team_id": TEAM, "name": name.lower().replace(" ", "."),
            "real_name": name, "deleted": deleted, "is_bot": is_bot, "is_app_user": False,
            "tz": tz, "profile": {"display_name": shown, "display_name_normalized": shown,
                                  "real_name": name, "real_name_normalized": name},
        }

    def add_channel(self, channel_id: str, members: list[str], name: str | None = None
                    ) -> None:
        self.channels[channel_id] = list(members)
        if name is not None:
            self.channel_names[channel_id] = name

    def add_group(self, group_id: str, handle: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)
        self.handles[group_id] = handle

    # --- failures ----------------------------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, *, status: int = 429, retry_after: int = 0,
                  error: str = "ratelimited", after: int = 0) -> None:
        """The next `times` calls of `method`, once `after` more have gone through, fail this
        way (status 200 means `ok: false`)."""
        with self._lock:
            self._queued.setdefault(method, []).extend(
                [None] * after + [Failure(status, retry_after, error)] * times)

    def refuse(self, method: str, matches: Callable[[dict[str, Any]], bool], times: int = 1,
               *, status: int = 429, retry_after: int = 0, error: str = "ratelimited") -> None:
        """The next `times` calls of `method` whose parameters `matches` fail this way (status
        200 means `ok: false`); other calls go through."""
        with self._lock:
            self._refusals.append((method, matches, [Failure(status, retry_after, error)] * times))

    def refuse_no_more(self) -> None:
        """Forget the refusals still waiting (`refuse`): every call goes through again."""
        with self._lock:
            self._refusals.clear()

    def hold(self, method: str, matches: Callable[[dict[str, Any]], bool]) -> None:
        """Calls of `method` whose parameters `matches` wait, with no effect, until
        `release()`, and then fail (500) with none: a caller killed meanwhile never knew."""
        with self._lock:
            self._holds.append((method, matches))

    def withhold(self, method: str, matches: Callable[[dict[str, Any]], bool]) -> None:
        """Calls of `method` whose parameters `matches` take effect (a message posted is in
        the channel) but their answer waits until `release()`: the platform is slow to
        answer, and meanwhile the caller does not know where its message landed."""
        with self._lock:
            self._withholds.append((method, matches))

    def release(self, method: str | None = None) -> None:
        """Answer the held calls (500, no effect) and the withheld ones (as they took
        effect), and hold and withhold no more; given a `method`, only the withheld calls of
        that method, which is withheld no more."""
        with self._lock:
            if method is None:
                self._holds.clear()
            self._withholds = [w for w in self._withholds
                               if method is not None and w[0] != method]
            for call, answer in self._answers:
                if method in (None, call.method):
                    answer.set()
        if method is None:
            self._released.set()

    def fail_at_random(self, rate: float, modes: tuple[int, ...] = (429, 500)) -> None:
        """Answer this share of Web API calls with 429 (Retry-After: 0) or 500, at random.

        Mode DROP (0) is a dropped connection after a chat.postMessage took effect: the message
        is posted, but the caller never hears so.
        """
        self._random_rate = rate
        self._random_modes = modes

    def limit_posts(self, per_second: int) -> None:
        """Refuse chat.postMessage over this many a second, workspace-wide (429, Retry-After 1)."""
        self.post_rate = per_second

    # --- what happened -----------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def responses(self, url: str) -> list[Call]:
        """What the bot posted to the response_url `url` (one `response_url()` made)."""
        return [c for c in self.calls_to("response_url") if self.root + c.answer["path"] == url]

    def posted(self, channel: str | None = None) -> list[Call]:
        """Messages actually posted (chat.postMessage that answered ok)."""
        return [c for c in self.calls_to("chat.postMessage")
                if channel is None or c.answer.get("channel") == channel]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = PATIENCE,
                 what: str = "the expected calls") -> Any:
        """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds, and
        with what the bot last called, so a failure shows what came instead."""
        try:
            return wait_for(predicate, what, timeout)
        except AssertionError as timed_out:
            last = [f"{c.method} {c.status} {c.params.get('channel', '')}: "
                    f"{str(c.params.get('text', ''))[:120]!r}"
                    for c in list(self.calls)[-LAST_CALLS:]]
            raise AssertionError("\n".join([str(timed_out), "the bot's last calls:", *last])
                                 ) from None

    # --- the server --------------------------------------------------------------------------

    def start(self) -> SlackStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Each answer leaves in one write, as a real server's does: written in two (head,
            # then body) on a connection kept alive, the body would wait for the client's
            # delayed acknowledgement of the head (Nagle's algorithm), some 40 ms a call.
            wbufsize = -1
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                if stub.idle_timeout is not None:
                    self.connection.settimeout(stub.idle_timeout)
                with stub._lock:
                    stub.connections_opened += 1
                    stub._open.add(self.connection)

            def finish(self) -> None:
                super().finish()
                # The client sees the close before it is counted: a test that waits for the
                # count would otherwise race the server's own close, which comes later.
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                except OSError:
                    pass  # the client closed it first
                with stub._lock:
                    stub.connections_closed += 1
                    stub._open.discard(self.connection)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, answer = stub._handle(self.path, self.headers.get(
                    "Content-Type", ""), body)
                if status == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = json.dumps(answer).encode() if isinstance(answer, dict) else answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL,),
                         daemon=True).start()
        STARTED.append(self)
        return self

    def stop(self) -> None:
        """Stop answering, and close the connections clients keep open (as a server that
        stops does): none of them reaches this stand-in afterwards."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
        with self._lock:
            for connection in self._open:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # closed already
        if self._server is not None:
            # after the connections: it waits for every handler, and a handler waits for its
            # connection's next request for as long as the client keeps it open
            self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/api/"

    def response_url(self, label: str = "r") -> str:
        return f"{self.root}/response/{label}"

    # --- answering ---------------------------------------------------------------------------

    def _handle(self, path: str, content_type: str, body: bytes) -> tuple[
            int, dict[str, str], dict[str, Any] | bytes]:
        if path.startswith("/upload/"):
            self._record(Call("file_upload", {"path": path, "bytes": len(body),
                                              "content": body}, 200, True))
            return 200, {}, b"OK - uploaded"
        text = body.decode()
        if content_type.startswith("application/json"):
            params: dict[str, Any] = json.loads(text or "{}")
        else:
            params = {k: v[0] for k, v in parse_qs(text).items()}
        if path.startswith("/response/"):
            if isinstance(params.get("blocks"), str):
                params["blocks"] = json.loads(params["blocks"])
            with self._lock:
                queued = self._queued.get("response_url")
                refused = queued.pop(0) if queued else None
            if refused is not None:  # only failures asked for with fail_next("response_url")
                self._record(Call("response_url", params, refused.status, False, {"path": path}))
                headers = {"Retry-After": str(refused.retry_after)} if refused.status == 429 \
                    else {}
                return refused.status, headers, b"rate_limited" if refused.status == 429 \
                    else b"internal_error"
            self._check_message(params, "response_url")
            self._record(Call("response_url", params, 200, True, {"path": path}))
            return 200, {}, b"ok"
        method = path.removeprefix("/api/")
        if self._held(method, params):
            return 500, {}, {"ok": False, "error": "internal_error"}
        failure = (self._refused(method, params) or self._failure(method)
                   or self._over_limit(method))
        if failure is not None and failure.status == DROP:
            if method != "chat.postMessage":
                failure = Failure(500)
            else:
                for key in ("blocks", "metadata"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                answer = self._answer(method, params)
                self._record(Call(method, params, DROP, bool(answer.get("ok")), answer))
                return DROP, {}, answer
        if failure is not None:
            answer = {"ok": False, "error": failure.error if failure.status in (200, 429)
                      else "internal_error"}
            self._record(Call(method, params, failure.status, False, answer))
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return failure.status, headers, answer
        for key in ("blocks", "view", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        answer = self._answer(method, params)
        call = Call(method, params, 200, bool(answer.get("ok")), answer)
        self._record(call)
        self._withheld(method, call)
        return 200, {}, answer

    def _withheld(self, method: str, call: Call) -> None:
        """Wait for `release()` before answering this call, if it is withheld."""
        with self._lock:
            if not any(m == method and matches(call.params)
                       for m, matches in self._withholds):
                return
            answer = threading.Event()
            self.withheld.append(call)
            self._answers.append((call, answer))
        answer.wait()
        with self._lock:
            self.withheld.remove(call)
            self._answers.remove((call, answer))

    def _held(self, method: str, params: dict[str, Any]) -> bool:
        """Whether this call was held (it has waited for `release()`)."""
        with self._lock:
            if not any(m == method and matches(params) for m, matches in self._holds):
                return False
            call = Call(method, params, 500, False)
            self.held.append(call)
        self._released.wait()
        with self._lock:
            self.held.remove(call)
        self._record(call)
        return True

    def _refused(self, method: str, params: dict[str, Any]) -> Failure | None:
        with self._lock:
            for refused, matches, left in self._refusals:
                if refused == method and left and matches(params):
                    return left.pop(0)
        return None

    def _failure(self, method: str) -> Failure | None:
        with self._lock:
            queued = self._queued.get(method)
            if queued:
                return queued.pop(0)  # None: this one goes through
            if self._random_rate and self._random.random() < self._random_rate:
                return Failure(self._random.choice(self._random_modes))
        return None

    def allow_history(self) -> None:
        """History and thread reads are no longer limited, from now on (a test's "a minute
        later")."""
        with self._lock:
            self.history_interval = 0.0
            self._history_next.clear()

    def _over_limit(self, method: str) -> Failure | None:
        """Slack's rate limits that matter here: posting, and reading history and threads."""
        with self._lock:
            if method == "chat.postMessage" and self.post_rate:
                second = int(time.monotonic())
                window, used = self._post_window
                used = used + 1 if window == second else 1
                self._post_window = (second, used)
                if used > self.post_rate:
                    return Failure(429, 1)
            if method in ("conversations.history", "conversations.replies"):
                now = time.monotonic()  # one a minute each, for apps outside the Marketplace
                due = self._history_next.get(method, 0.0)
                if now < due:
                    return Failure(429, max(1, int(due - now + 0.999)))
                self._history_next[method] = now + self.history_interval
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://roundtable-test.slack.com/", "team": "Test",
                    "user": "roundtable", "team_id": TEAM, "user_id": BOT_USER,
                    "bot_id": BOT_ID}
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}
        if method == "conversations.open":
            user = str(p.get("users", ""))
            if user not in self.users or self.users[user]["deleted"]:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + user}}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return self._post(method, p)
        if method == "chat.delete":
            return self._delete(str(p.get("channel", "")), str(p.get("ts", "")))
        if method == "conversations.members":
            members = self.channels.get(str(p.get("channel")))
            if members is None:
                return {"ok": False, "error": "channel_not_found"}
            start, size = int(p.get("cursor") or 0), int(p.get("limit") or 100)
            page = members[start: start + size]
            more = str(start + size) if start + size < len(members) else ""
            return {"ok": True, "members": page, "response_metadata": {"next_cursor": more}}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": [
                {"id": g, "team_id": TEAM, "is_usergroup": True, "name": self.handles.get(g, g),
                 "handle": self.handles.get(g, g.lower())} for g in self.usergroups]}
        if method == "conversations.info":
            channel = str(p.get("channel"))
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "is_channel": True,
                                            "is_member": channel not in self.outside,
                                            "is_archived": False,
                                            "name": self.channel_names.get(channel,
                                                                           channel.lower())}}
        if method == "usergroups.users.list":
            users = self.usergroups.get(str(p.get("usergroup")))
            if users is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": users}
        if method == "users.info":
            user = self.users.get(str(p.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False,
                                                               "error": "user_not_found"}
        if method == "users.list":
            everyone = list(self.users.values())
            start, size = int(p.get("cursor") or 0), int(p.get("limit") or 100)
            more = str(start + size) if start + size < len(everyone) else ""
            return {"ok": True, "members": everyone[start: start + size],
                    "response_metadata": {"next_cursor": more}}
        if method in ("views.open", "views.publish", "views.update"):
            view = p.get("view") or {}
            self._check_view(view, method)
            if method == "views.update":
                view_id = str(p.get("view_id") or "")
                with self._lock:
                    if view_id not in self.views:
                        return {"ok": False, "error": "not_found"}
                    self.views[view_id] = view
                return {"ok": True, "view": {**view, "id": view_id, "hash": "h",
                                             "state": {"values": {}}}}
            shown = {**view, "id": f"V{next(self._ts):08d}", "hash": "h",
                     "state": {"values": {}}}
            if method == "views.open":
                with self._lock:
                    self.views[shown["id"]] = view
            return {"ok": True, "view": shown}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.root}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = p.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            with self._lock:
                self.files.update({f["id"]: True for f in files})
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                          for f in files]}
        if method == "files.delete":
            with self._lock:
                shared = self.files.get(str(p.get("file")))
                if shared is None:
                    return {"ok": False, "error": "file_not_found"}
                if not shared:
                    return {"ok": False, "error": "file_deleted"}
                self.files[str(p.get("file"))] = False
            return {"ok": True}
        if method == "conversations.history":
            channel = str(p.get("channel", ""))
            limit = min(int(p.get("limit") or 100), 15)  # non-Marketplace apps get 15 at most
            with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
            oldest = float(p.get("oldest") or 0)
            with self._lock:
                newest = [m for m in reversed(self.history.get(channel, []))
                          if float(m["ts"]) > oldest][:limit]
            messages = [{k: v for k, v in m.items() if k != "metadata" or with_metadata}
                        for m in newest]
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "conversations.replies":
            channel, parent = str(p.get("channel", "")), str(p.get("ts", ""))
            with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
            with self._lock:
                top = [m for m in self.history.get(channel, []) if m["ts"] == parent]
                if not top:
                    return {"ok": False, "error": "thread_not_found"}
                thread = top + self.threads.get((channel, parent), [])
            limit = min(int(p.get("limit") or 100), 15)  # as for history
            messages = [{k: v for k, v in m.items() if k != "metadata" or with_metadata}
                        for m in thread[:limit]]
            return {"ok": True, "messages": messages, "has_more": len(thread) > limit}
        return {"ok": False, "error": "unknown_method"}

    def _post(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel", ""))
        known = channel in self.channels or (channel.startswith("D") and channel[1:] in self.users)
        if not known:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.outside and method != "chat.postEphemeral":
            return {"ok": False, "error": "not_in_channel"}
        problems = self._check_message(p, method)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        ts = p.get("ts") or f"{1_800_000_000 + next(self._ts)}.000100"
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            with self._lock:
                found = self._find(channel, str(ts))
                if found is None:
                    return {"ok": False, "error": "message_not_found"}
                found["text"] = p.get("text")
                found["blocks"] = p.get("blocks")
                found["edited"] = True
            return {"ok": True, "channel": channel, "ts": ts, "text": p.get("text")}
        if method == "chat.postMessage":
            message = {"type": "message", "ts": ts, "text": p.get("text"), "bot_id": BOT_ID,
                       "blocks": p.get("blocks")}
            if isinstance(p.get("metadata"), dict):
                message["metadata"] = p["metadata"]
            with self._lock:
                if p.get("thread_ts"):
                    message["thread_ts"] = str(p["thread_ts"])
                    self.threads.setdefault((channel, str(p["thread_ts"])), []).append(message)
                else:
                    self.history.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"text": p.get("text"), "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}}

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A posted message, at the top of the channel or in a thread (caller holds the lock)."""
        for message in self.history.get(channel, []):
            if message["ts"] == ts:
                return message
        for (where, _), replies in self.threads.items():
            if where == channel:
                for message in replies:
                    if message["ts"] == ts:
                        return message
        return None

    def _delete(self, channel: str, ts: str) -> dict[str, Any]:
        with self._lock:
            found = self._find(channel, ts)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            for messages in [self.history.get(channel, []), *(
                    r for (where, _), r in self.threads.items() if where == channel)]:
                if found in messages:
                    messages.remove(found)
        return {"ok": True, "channel": channel, "ts": ts}

    def close_view(self, view_id: str) -> None:
        """The person closes a modal (or submits it and the app lets it close)."""
        with self._lock:
            self.views.pop(view_id, None)

    def uploaded(self, channel: str) -> list[tuple[dict[str, Any], bytes]]:
        """Files shared in a conversation, deleted since or not: (files.completeUploadExternal's
        file, its bytes)."""
        contents = {c.params["path"].rsplit("/", 1)[-1]: c.params["content"]
                    for c in self.calls_to("file_upload")}
        out = []
        for call in self.calls_to("files.completeUploadExternal"):
            if call.params.get("channel_id") != channel:
                continue
            files = call.params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            out += [(f, contents.get(f["id"], b"")) for f in files]
        return out

    def assert_within_limits(self) -> None:
        """Fail naming the first breaches if any message or view sent here broke Block Kit's
        limits (Slack refuses a post that does; a response_url or a view, the stand-in takes
        and records, so the test goes on to see what else was sent)."""
        assert not self.violations, "Block Kit limits broken: " + "; ".join(self.violations[:5])

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """What a posted message says now (after any chat.update), or None once deleted."""
        with self._lock:
            return self._find(channel, ts)

    # --- Block Kit limits, checked independently of the bot's own checks ---------------------

    def _check_message(self, p: dict[str, Any], where: str) -> list[str]:
        problems: list[str] = []
        text, blocks = p.get("text") or "", p.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text:
            problems.append("no text")
        if len(text) > 40_000:
            problems.append(f"text of {len(text)} characters")
        if len(blocks) > 50:
            problems.append(f"{len(blocks)} blocks in a message")
        problems += _block_problems(blocks)
        for key in ("link_names", "parse"):
            if p.get(key) not in (None, False, "none", "0", 0):
                problems.append(f"{key} is set")
        self._note(where, problems)
        return problems

    def _check_view(self, view: dict[str, Any], where: str) -> None:
        self._note(where, view_problems(view))

    def _note(self, where: str, problems: list[str]) -> None:
        if problems:
            with self._lock:
                self.violations += [f"{where}: {p}" for p in problems]


def view_problems(view: dict[str, Any]) -> list[str]:
    """How a modal or Home tab breaks Block Kit's limits (views.open, .update, .publish)."""
    blocks = view.get("blocks") or []
    problems = _block_problems(blocks)
    if len(blocks) > 100:
        problems.append(f"{len(blocks)} blocks in a view")
    for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
        if len(_text(view.get(key))) > limit:
            problems.append(f"view {key} over {limit} characters")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255),
                       ("external_id", 255)):
        if len(view.get(key) or "") > limit:
            problems.append(f"view {key} over {limit:,} characters")
    return problems


def _text(obj: Any) -> str:
    """A text object's text ("" when there is none)."""
    return str(obj.get("text") or "") if isinstance(obj, dict) else ""


def _over(what: str, text: str, limit: int) -> list[str]:
    return [f"{what} over {limit:,} characters"] if len(text) > limit else []


def _block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for block in blocks:
        kind = block.get("type")
        problems += _over("block_id", block.get("block_id") or "", 255)
        if kind == "section":
            problems += _over("section text", _text(block.get("text")), 3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"section with {len(fields)} fields")
            for one in fields:
                problems += _over("section field", _text(one), 2000)
        if kind == "header":
            problems += _over("header", _text(block.get("text")), 150)
        if kind == "context":
            if len(block.get("elements") or []) > 10:
                problems.append("context with over 10 elements")
            for element in block.get("elements") or []:
                problems += _over("context text", _text(element), 3000)
        if kind == "actions" and len(block.get("elements") or []) > 25:
            problems.append("actions with over 25 elements")
        if kind == "input":
            problems += _over("input label", _text(block.get("label")), 2000)
            problems += _over("input hint", _text(block.get("hint")), 2000)
        if kind == "image":
            problems += _over("image alt_text", block.get("alt_text") or "", 2000)
        elements = [] if kind in ("context", "rich_text") else list(block.get("elements") or [])
        elements += [block[key] for key in ("accessory", "element") if block.get(key)]
        for element in elements:
            problems += _element_problems(element)
    return problems


def _element_problems(element: dict[str, Any]) -> list[str]:
    kind = element.get("type")
    problems = _over("action_id", element.get("action_id") or "", 255)
    problems += _over("placeholder", _text(element.get("placeholder")), 150)
    if kind == "button":
        problems += _over("button text", _text(element.get("text")), 75)
        problems += _over("button value", element.get("value") or "", 2000)
        problems += _over("button url", element.get("url") or "", 3000)
    if kind == "plain_text_input":
        problems += _over("initial_value", element.get("initial_value") or "", 3000)
        if int(element.get("max_length") or 0) > 3000:
            problems.append("max_length over 3,000")
    confirm = element.get("confirm") or {}
    for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
        problems += _over(f"confirm {key}", _text(confirm.get(key)), limit)
    options = list(element.get("options") or [])
    groups = element.get("option_groups") or []
    most = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}.get(str(kind), 100)
    if len(options) > most:
        problems.append(f"{kind} with {len(options)} options (at most {most})")
    if len(groups) > 100:
        problems.append(f"{kind} with over 100 option groups")
    for group in groups:
        options += group.get("options") or []
    initial = list(element.get("initial_options") or [])
    initial += [element["initial_option"]] if element.get("initial_option") else []
    for option in options + initial:
        problems += _over("option text", _text(option.get("text")), 75)
        problems += _over("option value", option.get("value") or "", 150)
        problems += _over("option description", _text(option.get("description")), 75)
    return problems


class SocketModeStub:
    """Slack's Socket Mode end, locally: the app's client connects (at the URL the Web API
    stand-in hands out from apps.connections.open), is greeted with `hello`, receives the
    envelopes `send` pushes, and its acknowledgements are recorded by envelope id."""

    def __init__(self, api: SlackStub) -> None:
        self.api = api
        self.acks: dict[str, dict[str, Any]] = {}
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._server: Any = None

    def start(self) -> SocketModeStub:
        from websockets.sync.server import serve

        self._server = serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.api.socket_url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def connected(self) -> bool:
        with self._lock:
            return bool(self._clients)

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Push an envelope (events_api, slash_commands, interactive); returns its id."""
        envelope_id = f"env-{next(self.api._ts)}"
        with self._lock:
            client = self._clients[-1]
        client.send(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api",
                                "retry_attempt": 0, "retry_reason": ""}))
        return envelope_id

    def _session(self, connection: Any) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "AROUNDTABLE"}}))
        with self._lock:
            self._clients.append(connection)
        try:
            for raw in connection:
                message = json.loads(raw)
                if "envelope_id" in message:
                    with self._lock:
                        self.acks[message["envelope_id"]] = message
        except Exception:  # noqa: BLE001 - the client went away; the test judges the rest
            return
        finally:
            with self._lock:
                self._clients.remove(connection)
