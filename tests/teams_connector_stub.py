"""A stand-in for Microsoft's side of a Teams bot, on one real HTTP server on 127.0.0.1:

- the Bot Connector REST API (v3): create a conversation, send, update and delete an activity, a
  team's roster (`pagedMembers`) and one member; every call is recorded, and any can be made
  to answer 429 (with Retry-After) or 5xx on demand; an activity over MESSAGE_BYTES is refused
  413 (MessageSizeTooBig), as the Connector refuses one;
- an OpenID issuer: metadata and signing keys (JWKS), from which the Teams SDK's own JWT
  validation checks the tokens the tests sign for their activities; and a token endpoint
  (client credentials) where the bot gets its own token, which the Connector then checks.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import LAST_CALLS, PATIENCE, SHUTDOWN_POLL, wait_for

APP_ID = "2f0c6b8e-5d1a-4c3b-9e7f-0a1b2c3d4e5f"
PASSWORD = "test-app-password"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ISSUER = "https://api.botframework.com"
KID = "roundtable-test-key"
MESSAGE_BYTES = 28 * 1024
"""The most an activity sent or updated may hold: Teams answers a bigger one 413,
MessageSizeTooBig (Microsoft's "about 28 KB" a message)."""


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Call:
    method: str
    path: str
    conversation: str | None
    body: Any
    status: int
    activity_id: str | None = None
    """The id the Connector gave an activity it took."""


@dataclass
class Person:
    aad: str
    user_id: str
    name: str
    email: str


@dataclass
class Failure:
    status: int
    retry_after: int = 0


@dataclass
class Team:
    team_id: str
    name: str
    channel_id: str
    members: list[str] = field(default_factory=list)


@functools.cache
def _keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """The issuer's signing key and a forger's: made once per process (a 2048-bit key takes
    a tenth of a second, and the suite starts a stand-in for most Teams tests)."""
    return (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            rsa.generate_private_key(public_exponent=65537, key_size=2048))


class ConnectorStub:
    """Start with `start()`; `base_url` is both the service URL and the issuer's host."""

    def __init__(self) -> None:
        self.key, self.other_key = _keys()
        self.people: dict[str, Person] = {}
        self.teams: dict[str, Team] = {}
        self.conversations: dict[str, str] = {}
        """A personal conversation's id → the person's aad id."""
        self.calls: list[Call] = []
        self.tokens_issued = 0
        self._queued: dict[str, list[tuple[str | None, Failure | None]]] = {}
        self.long_ids = False
        """Give sent activities ids longer than the 64 characters the core keeps (which
        Teams' ids are not bound by), as a Connector may."""
        self.gone: set[str] = set()
        """Activity ids no longer there (deleted in Teams): updating or deleting one gets 404."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._holds: list[tuple[str, Any]] = []
        self._released = threading.Event()
        self.holding = 0
        """Calls waiting for `release()` now (`hold`)."""
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""
        self.bot_token = ""
        """The last token the issuer gave the bot: the Connector takes no other."""

    # --- the tenant ------------------------------------------------------------------------

    def add_person(self, name: str) -> Person:
        n = len(self.people) + 1
        aad = str(uuid.UUID(int=0x1000 + n))
        person = Person(aad, f"29:1{name.lower()}-{'x' * 60}-{n}", name,
                        f"{name.lower()}@nhs.net")
        self.people[aad] = person
        return person

    def add_team(self, name: str, members: list[Person]) -> Team:
        n = len(self.teams) + 1
        team_id = f"19:team{n}{'a' * 24}@thread.tacv2"
        team = Team(team_id, name, team_id, [m.aad for m in members])
        self.teams[team_id] = team
        return team

    def fail_next(self, kind: str, status: int = 429, retry_after: int = 0, times: int = 1,
                  *, after: int = 0, where: str | None = None) -> None:
        """Answer the next calls of `kind` (create, send, update, delete, members) with an
        error, once `after` more have gone through; `where`: only calls to conversations
        whose id begins so (a channel and its threads) count."""
        with self._lock:
            self._queued.setdefault(kind, []).extend(
                [(where, None)] * after + [(where, Failure(status, retry_after))] * times)

    def hold(self, kind: str, matches: Any) -> None:
        """Calls of `kind` whose body `matches` wait until `release()`, then are answered as
        any other: what the bot does meanwhile, elsewhere, happens before they land."""
        with self._lock:
            self._holds.append((kind, matches))
            self._released.clear()

    def release(self) -> None:
        """Let the held calls go on, and hold no more."""
        with self._lock:
            self._holds.clear()
        self._released.set()

    def _held(self, kind: str, body: Any) -> None:
        with self._lock:
            if not any(k == kind and matches(body) for k, matches in self._holds):
                return
            self.holding += 1
        self._released.wait(PATIENCE)
        with self._lock:
            self.holding -= 1

    # --- tokens the tests sign -------------------------------------------------------------

    def sign(self, service_url: str | None = None, *, audience: str = APP_ID,
             issuer: str = ISSUER, forged: bool = False, expired: bool = False) -> str:
        """A Bot Connector token, as Microsoft signs one (or a forged or expired one)."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url or self.base_url,
                  "nbf": now - 60, "iat": now - 60,
                  "exp": now - 3600 if expired else now + 3600}
        key = self.other_key if forged else self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "kid": KID, "alg": "RS256",
                          "n": _b64(numbers.n), "e": _b64(numbers.e),
                          "endorsements": ["msteams"]}]}

    @property
    def openid_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    # --- what the bot sent -----------------------------------------------------------------

    def sent(self, conversation: str | None = None) -> list[Call]:
        """Activities the bot created (and the Connector took), oldest first."""
        return [c for c in list(self.calls) if c.method == "POST" and c.status == 201
                and c.path.endswith("/activities")
                and (conversation is None or c.conversation == conversation)]

    def sent_to(self, person: Person) -> list[Call]:
        chats = self.chats_of(person)
        return [c for c in self.sent() if c.conversation in chats]

    def chats_of(self, person: Person) -> list[str]:
        """The person's chats, read under the lock: the server's threads open chats while a
        test reads (iterating the dict meanwhile raised "changed size during iteration")."""
        with self._lock:
            return [c for c, aad in self.conversations.items() if aad == person.aad]

    def open_chat(self, person: Person, conversation: str | None = None) -> str:
        """The person's 1:1 chat with the bot (`conversation`, else one a person), there from
        now on: as when the bot creates it, or the person opens the app themselves."""
        conversation = conversation or f"a:1{person.aad.replace('-', '')}{'c' * 70}"
        with self._lock:
            self.conversations[conversation] = person.aad
        return conversation

    def chat_of(self, person: Person) -> str:
        return self.chats_of(person)[0]

    def wait_for(self, predicate: Any, what: str, timeout: float = PATIENCE) -> Any:
        """Poll until `predicate()` is truthy; a timeout also says what the bot last sent, so a
        failure shows what came instead."""
        try:
            return wait_for(predicate, what, timeout)
        except AssertionError as timed_out:
            last = [f"{c.method} {c.status} {c.conversation or c.path}: "
                    f"{card_text(c)[:120]!r}" for c in list(self.calls)[-LAST_CALLS:]]
            raise AssertionError("\n".join([str(timed_out), "the bot's last calls:", *last])
                                 ) from None

    # --- the server ------------------------------------------------------------------------

    def start(self) -> ConnectorStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

            def do_PUT(self) -> None:
                stub._handle(self, "PUT")

            def do_DELETE(self) -> None:
                stub._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL,),
                         daemon=True, name="teams-connector-stub").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = url.path
        if path == "/v1/.well-known/openidconfiguration":
            return self._reply(request, 200, {
                "issuer": ISSUER, "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"]})
        if path == "/v1/.well-known/keys":
            return self._reply(request, 200, self.jwks())
        if path.endswith("/oauth2/v2.0/token"):
            return self._token(request, raw)
        if not path.startswith("/v3/conversations"):
            return self._reply(request, 404, {"error": {"code": "NotFound"}})
        if not self.bot_token or request.headers.get("Authorization", "") != \
                f"Bearer {self.bot_token}":
            return self._reply(request, 401, {"error": {"code": "Unauthorized"}})
        body = json.loads(raw) if raw else None
        parts = [unquote(p) for p in path.split("/")[3:]]  # after /v3/conversations
        conversation = parts[0] if parts else None
        kind = ("create" if not parts else "send" if method == "POST" else
                "update" if method == "PUT" else "delete" if method == "DELETE" else "members")
        self._held(kind, body)
        failure = self._failure(kind, conversation)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            self._record(method, path, conversation, body, failure.status)
            return self._reply(request, failure.status, {"error": {"code": "Throttled" if
                               failure.status == 429 else "ServiceError"}}, headers)
        if kind == "create":
            return self._create(request, path, body)
        if kind in ("send", "update") and len(raw) > MESSAGE_BYTES:
            self._record(method, path, conversation, body, 413)
            return self._reply(request, 413, {"error": {
                "code": "MessageSizeTooBig",
                "message": f"The activity is {len(raw)} bytes; at most {MESSAGE_BYTES}."}})
        if kind == "send":
            activity_id = f"1:{next(self._ids)}{'q' * (80 if self.long_ids else 40)}"
            self._record(method, path, conversation, body, 201, activity_id)
            return self._reply(request, 201, {"id": activity_id})
        if kind in ("update", "delete") and parts[-1] in self.gone:
            self._record(method, path, conversation, body, 404)
            return self._reply(request, 404, {"error": {"code": "NotFound"}})
        if kind == "update":
            self._record(method, path, conversation, body, 200)
            return self._reply(request, 200, {"id": parts[-1]})
        if kind == "delete":
            self._record(method, path, conversation, body, 200)
            with self._lock:
                self.gone.add(parts[-1])
            return self._reply(request, 200, {})
        return self._members(request, path, conversation, parts, url.query)

    def _token(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("client_id") != APP_ID or form.get("client_secret") != PASSWORD:
            return self._reply(request, 401, {"error": "invalid_client",
                                              "error_description": "wrong secret"})
        now = int(time.time())
        token = jwt.encode({"aud": "https://api.botframework.com", "appid": APP_ID,
                            "iat": now, "exp": now + 3600, "iss": "test-issuer"},
                           self.other_key, algorithm="RS256")
        with self._lock:
            self.tokens_issued += 1
            self.bot_token = token
        return self._reply(request, 200, {"token_type": "Bearer", "expires_in": 3600,
                                          "access_token": token})

    def _create(self, request: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        member = ((body or {}).get("members") or [{}])[0].get("id")
        person = next((p for p in self.people.values() if p.user_id == member), None)
        if person is None:
            self._record("POST", path, None, body, 403)
            return self._reply(request, 403, {"error": {"code": "Forbidden"}})
        conversation = self.open_chat(person)
        self._record("POST", path, None, body, 201)
        return self._reply(request, 201, {"id": conversation, "serviceUrl": self.base_url})

    def _members(self, request: BaseHTTPRequestHandler, path: str, conversation: str | None,
                 parts: list[str], query: str) -> None:
        team = self.teams.get(conversation or "")
        if team is None:
            self._record("GET", path, conversation, None, 404)
            return self._reply(request, 404, {"error": {"code": "ConversationNotFound"}})
        people = [self.people[a] for a in team.members]
        if parts[-1] == "pagedMembers" or parts[-1] == "pagedmembers":
            self._record("GET", path, conversation, None, 200)
            return self._reply(request, 200, {"members": [_account(p) for p in people]})
        wanted = parts[-1].lower()
        found = next((p for p in people if wanted in {p.aad, p.email, p.user_id.lower()}),
                     None)
        status = 200 if found else 404
        self._record("GET", path, conversation, None, status)
        return self._reply(request, status, _account(found) if found else
                           {"error": {"code": "MemberNotFoundInConversation"}})

    def _failure(self, kind: str, conversation: str | None) -> Failure | None:
        with self._lock:
            queue = self._queued.get(kind) or []
            for n, (where, failure) in enumerate(queue):
                if where is None or (conversation or "").startswith(where):
                    del queue[n]
                    return failure
            return None

    def _record(self, method: str, path: str, conversation: str | None, body: Any,
                status: int, activity_id: str | None = None) -> None:
        with self._lock:
            self.calls.append(Call(method, path, conversation, body, status, activity_id))

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: Any,
               headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)


def _account(person: Person) -> dict[str, Any]:
    return {"id": person.user_id, "name": person.name, "aadObjectId": person.aad,
            "email": person.email, "userPrincipalName": person.email, "tenantId": TENANT,
            "userRole": "user"}


def card_text(call: Call) -> str:
    """Everything a person reads in an activity's cards, one line per paragraph."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "RichTextBlock":
                lines.append("".join(i.get("text", "") for i in node.get("inlines", [])))
                return
            if node.get("type") == "TextBlock":
                lines.append(str(node.get("text", "")))
                return
            for key, value in node.items():
                if key not in ("fallback",):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for attachment in (call.body or {}).get("attachments") or []:
        walk(attachment.get("content"))
    return "\n".join(lines)
