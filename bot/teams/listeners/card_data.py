"""What a card's button names in its data: a round and question, the question asked first
(delete a round, forget me), a draft digest. What cannot be read raises ValueError, telling
the person to use the newest card."""

from __future__ import annotations

from typing import Any

from bot.teams.cards import STALE, UNREADABLE
from storage.models import row_id


def target(data: dict[str, Any]) -> tuple[int, str]:
    """The round and question a question's (or a draft's) button names."""
    round_id, prompt_id = row_id(data.get("round")), data.get("prompt")
    if round_id is None or not isinstance(prompt_id, str):
        raise ValueError(UNREADABLE)
    return round_id, prompt_id


def deletion(data: dict[str, Any]) -> tuple[int, str | None]:
    """The round a Delete or Cancel button of `delete`'s question names, and the question's
    id (None on a card of an earlier version)."""
    round_id = row_id(data.get("round"))
    if round_id is None:
        raise ValueError(STALE)
    return round_id, asked(data)


def asked(data: dict[str, Any]) -> str | None:
    """The id of the question (delete a round, forget me) a button was on; None on a card of
    an earlier version."""
    question = data.get("asked")
    if not (question is None or (isinstance(question, str) and len(question) <= 64)):
        raise ValueError(STALE)
    return question


def digest(data: dict[str, Any]) -> int:
    """The draft digest a card's button was on."""
    digest_id = row_id(data.get("digest"))
    if digest_id is None:
        raise ValueError(UNREADABLE)
    return digest_id


def draft(data: dict[str, Any]) -> tuple[int, int]:
    """The round and draft digest an Approve button names."""
    round_id, digest_id = row_id(data.get("round")), row_id(data.get("digest"))
    if round_id is None or digest_id is None:
        raise ValueError(STALE)
    return round_id, digest_id
