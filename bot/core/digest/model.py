"""The digest as a view model: built once from the database, rendered per target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.core.digest.ranking import RankRow
from bot.core.errors import Refusal
from bot.core.said import Said


@dataclass(frozen=True)
class AnswerView:
    reply_id: str
    text: str
    """The answer word for word (for a vote: the options chosen, in order, joined by "; ")."""
    by: str | None
    """Attribution as the round's anonymity allows: a name, a role, or None."""
    role: str | None
    """The role where the round's anonymity and the group-of-three rule allow it, else None."""
    said_in_room: bool
    source: str = "chat"
    noise: bool = False
    """An answer that says nothing ("no comment"): counted, never quoted."""
    doubtful: bool = False
    """A reply the engine read as a remark about the exchange rather than an answer: listed
    with the other answers, never themed or quoted, and no part of a new theme."""
    theme: str | None = None
    """The title of the theme the answer sits in, if any."""
    quotable: bool = True
    """False when the author said "don't quote me": counted in its theme, never quoted (its
    text in the view outputs get is bot.core.digest.build.NOT_QUOTED)."""
    comment: bool = False
    """Words written to a vote's question that are not a ballot (shown as the person's)."""
    hidden: bool = False
    """True when a facilitator hid it in review: counted, never quoted, and its text in the
    view is bot.core.digest.edits.HIDDEN."""
    name: str | None = None
    """The person's name, in a named round only (`by` adds the role to it)."""
    organisation: str | None = None
    """The organisation where the round's anonymity and the group-of-three rule allow it."""
    reason: str | None = None
    """A ballot's reason: the words typed after it in the same message, verbatim (None where
    its writer asked not to be quoted or a facilitator hid it)."""
    writer: str | None = field(default=None, compare=False, repr=False)
    """Who wrote it, as a key of this build only, so that a theme is two writers' point and
    not one person's two answers; in no output (``DigestView.to_json`` leaves it out)."""

    @property
    def set_aside(self) -> bool:
        """Not taken for an answer (`noise` or `doubtful`): never themed or titled, so it
        neither makes nor joins a theme, a new one included."""
        return self.noise or self.doubtful


@dataclass(frozen=True)
class QuoteView:
    reply_id: str
    text: str
    """The answer's text verbatim, or its beginning followed by "…" when it is very long."""
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
    beyond_room: bool = False
    """True when the round has answers from the room but none of them is in this theme:
    raised only by people who were not there."""
    written_by_model: bool = False
    """True when the title or summary is a language model's (checked against the answers)."""
    grouped_by_model: bool = False
    """True when a language model proposed which answers make the theme."""


@dataclass(frozen=True)
class OptionReasons:
    """The reasons typed with ballots that put this option first (words after the ballot)."""

    option: str
    quotes: list[QuoteView]


@dataclass(frozen=True)
class PromptDigest:
    prompt_id: str
    section: str
    kind: str
    question: str
    answer_count: int
    """The answers, as the question's own line counts them ("11 answers"; a vote's ballots):
    not the replies set aside as not answers (`not_answer_count`), nor a vote's comments."""
    themes: list[ThemeView] = field(default_factory=list)
    unthemed_reply_ids: list[str] = field(default_factory=list)
    ranking: list[RankRow] = field(default_factory=list)
    answers: list[AnswerView] = field(default_factory=list)
    lead: str | None = None
    """A facilitator's one-line lead for the question (written in review), shown first."""
    picks: int = 0
    """How many options a ballot holds (a ranking's "top five": 5)."""
    reasons: list[OptionReasons] = field(default_factory=list)
    """Under each of a vote's top options, the reasons typed with ballots that put it first."""
    comments: list[QuoteView] = field(default_factory=list)
    """A vote's comments: words written to the question apart from a ballot (and reasons whose
    ballot put first an option outside the top)."""
    not_answer_count: int = 0
    """Replies set aside as not answers (`AnswerView.noise`): counted apart, never themed."""

    def uncounted_ids(self) -> set[str]:
        """The replies `answer_count` leaves out: those set aside as not answers, and a
        vote's comments."""
        return {a.reply_id for a in self.answers if a.noise or a.comment}


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
class ThemeChange:
    prompt_id: str
    title: str
    added: int
    """Answers in the theme that are new since the last digest."""
    total: int


@dataclass(frozen=True)
class RankMove:
    prompt_id: str
    option: str
    place: int
    previous_place: int
    tied: bool = False
    """True when another option shares its place now (shown "=1", as in the ranking)."""
    previous_tied: bool = False
    """True when another option shared its place in the earlier digest."""


@dataclass(frozen=True)
class SinceLast:
    """What changed since the previous recorded digest of the round."""

    previous_period: str
    previous_at: str
    new_answers: int
    new_by_prompt: dict[str, int]
    new_people: int
    """How many more people have answered at least one question."""
    new_by_role: dict[str, int] = field(default_factory=dict)
    """The new answers by role, where the round's anonymity shows roles."""
    new_themes: list[ThemeChange] = field(default_factory=list)
    grown_themes: list[ThemeChange] = field(default_factory=list)
    moves: list[RankMove] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.new_answers or self.new_themes or self.grown_themes or self.moves)


@dataclass(frozen=True)
class DigestView:
    round: RoundInfo
    participation: dict[str, Any]
    prompts: list[PromptDigest]
    since_last: SinceLast | None = None

    @property
    def answer_count(self) -> int:
        """Answers and ballots in all, as the questions count them (PromptDigest.answer_count)."""
        return sum(p.answer_count for p in self.prompts)

    def prompt(self, prompt_id: str) -> PromptDigest | None:
        return next((p for p in self.prompts if p.prompt_id == prompt_id), None)

    def to_json(self) -> dict[str, Any]:
        """The contract shape of PRODUCT.md (`roundtable digest --format json`)."""
        out = asdict(self)
        for prompt in out["prompts"]:
            for answer in prompt["answers"]:
                del answer["writer"]
            for row in prompt["ranking"]:
                row["share"] = round(row["share"], 4)
                row["place_label"] = f"={row['place']}" if row["tied"] else str(row["place"])
        for move in (out["since_last"] or {}).get("moves", []):
            move["place_label"] = f"={move['place']}" if move["tied"] else str(move["place"])
            move["previous_place_label"] = (f"={move['previous_place']}"
                                            if move["previous_tied"]
                                            else str(move["previous_place"]))
        return out


@dataclass(frozen=True)
class Draft:
    """A digest waiting for a facilitator's approval, as the facilitators are shown it."""

    digest_id: int
    period: str
    view: DigestView
    state: str
    """review (waiting), claimed or posted (approved, or posted at its deadline), superseded
    (a later digest of the round took its place) or failed."""
    review_until: str | None
    unreviewed: str
    """What happens at `review_until` if nobody approves: post (as built) or wait."""
    approved_by: str | None = None
    closing: Said | None = None
    """Why an edit form open on a copy of it is closed as the copy is brought up to date:
    answers the form may list were deleted (forget-me). None: an open form is left as it is,
    so that nothing typed in it is lost."""
    refused: Refusal | None = None
    """Why the platform last refused its post for good (state failed), and what to fix, as
    kept with the digest until it is posted; None when not known (refused before this was
    kept)."""

    @property
    def waiting(self) -> bool:
        return self.state == "review"

    @property
    def approvable(self) -> bool:
        """Waiting, or approved and refused for good by the platform (failed): approving it
        again posts it (bot.app.review.approve)."""
        return self.state in ("review", "failed")
