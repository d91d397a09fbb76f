"""The digest as a view model: built once from the database, rendered per target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.core.digest.ranking import RankRow


@dataclass(frozen=True)
class AnswerView:
    reply_id: str
    text: str
    by: str | None
    """Attribution as the round's anonymity allows: a name, a role, or None."""
    role: str | None
    said_in_room: bool


@dataclass(frozen=True)
class QuoteView:
    reply_id: str
    text: str
    by: str | None


@dataclass(frozen=True)
class ThemeView:
    title: str
    summary: str
    quotes: list[QuoteView]
    reply_ids: list[str]
    roles: dict[str, int]
    origin: str
    """"room", "chat" or "both": where the answers in the theme were given."""


@dataclass(frozen=True)
class PromptDigest:
    prompt_id: str
    section: str
    kind: str
    question: str
    answer_count: int
    themes: list[ThemeView] = field(default_factory=list)
    unthemed_reply_ids: list[str] = field(default_factory=list)
    ranking: list[RankRow] = field(default_factory=list)
    answers: list[AnswerView] = field(default_factory=list)


@dataclass(frozen=True)
class RoundInfo:
    id: int
    pack_id: str
    title: str
    intro: str
    workshop_date: str
    status: str
    anonymity: str
    opens_at: str
    closes_at: str | None
    generated_at: str
    late: bool = False


@dataclass(frozen=True)
class DigestView:
    round: RoundInfo
    participation: dict[str, Any]
    prompts: list[PromptDigest]

    @property
    def answer_count(self) -> int:
        return sum(p.answer_count for p in self.prompts)

    def to_json(self) -> dict[str, Any]:
        """The contract shape of PRODUCT.md (`roundtable digest --format json`)."""
        out = asdict(self)
        for prompt in out["prompts"]:
            for row in prompt["ranking"]:
                row["share"] = round(row["share"], 4)
        return out
