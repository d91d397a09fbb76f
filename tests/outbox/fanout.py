"""Shared by the fan-out tests and bench/fanout.py: a workspace of N people, and the judge;
the stand-in in a process of its own for the bench."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from bot.slack.gateway import QUESTION_EVENT
from tests.slack_api_stub import SlackStub

PACK_MESSAGES = 1
"""What a round's start sends each person: the seed pack's intro with its first question (the
next questions follow the person's answers, one at a time)."""


def working_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone where it is about midday now, so quiet hours never hold a test up."""
    hour = (now or datetime.now(UTC)).hour
    offset = max(-12, min(14, 12 - hour))
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def people(stub: SlackStub, count: int) -> list[str]:
    zone = working_zone()
    ids = [f"UP{i:05d}" for i in range(count)]
    for user_id in ids:
        stub.add_user(user_id, f"Pharmacist {user_id[2:]}", tz=zone)
    return ids


def tagged_posts(stub: SlackStub) -> Counter[tuple[str, str]]:
    """(conversation, prompt or "intro") of every question message that reached Slack.

    Counts posts that took effect, including those whose connection dropped before the answer.
    """
    seen: Counter[tuple[str, str]] = Counter()
    for call in stub.calls:
        meta = call.params.get("metadata")
        if (
            call.method == "chat.postMessage"
            and call.answer.get("ok")
            and isinstance(meta, dict)
            and meta.get("event_type") == QUESTION_EVENT
        ):
            seen[(str(call.params["channel"]), meta["event_payload"]["prompt"] or "intro")] += 1
    return seen


def missing_and_repeated(stub: SlackStub, users: list[str], prompts: list[str]) -> tuple[int, int]:
    """How many (person, question) pairs of `prompts` never arrived, and how many question
    messages of anyone arrived more than once."""
    seen = tagged_posts(stub)
    expected = {("D" + u, p) for u in users for p in prompts}
    missing = sum(1 for key in expected if seen[key] == 0)
    repeated = sum(n - 1 for key, n in seen.items() if n > 1)
    return missing, repeated


class StubProcess:
    """The Slack stand-in with `count` people, in a process of its own (so its CPU is not the
    sender's): `start()` gives its base URL; `finish(prompts)` stops it and gives the
    judgement, counted there from its record of calls."""

    def __init__(self, count: int, rate: int | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, count, rate), daemon=True)
        self.users: list[str] = []

    def start(self) -> str:
        self._process.start()
        base_url, self.users = self._ours.recv()
        return str(base_url)

    def finish(self, prompts: list[str]) -> StubReport:
        self._ours.send(prompts)
        report: StubReport = self._ours.recv()
        self._process.join(10)
        return report


@dataclass(frozen=True)
class StubReport:
    missing: int
    repeated: int
    posted: int
    """chat.postMessage calls that posted"""
    refused: int
    """chat.postMessage calls answered 429"""
    cpu_seconds: float
    """the stand-in process's own CPU time"""


def _serve(connection: Connection, count: int, rate: int | None) -> None:
    stub = SlackStub().start()
    if rate:
        stub.limit_posts(rate)
    users = people(stub, count)
    connection.send((stub.base_url, users))
    prompts = connection.recv()
    stub.stop()
    missing, repeated = missing_and_repeated(stub, users, prompts)
    refused = sum(1 for c in stub.calls if c.method == "chat.postMessage" and c.status == 429)
    connection.send(StubReport(missing, repeated, len(stub.posted()), refused,
                               time.process_time()))
