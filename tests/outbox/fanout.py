"""Shared by the fan-out tests and bench/fanout.py: a workspace of N people, and the judge."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

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
