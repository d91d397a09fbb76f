"""The synthesis document as plain blocks, laid out like the seed workshop's synthesis pack.

Markdown, HTML and Word render these same blocks, so the three exports hold the same content:
title and date, an introduction with who took part, what is new since the last digest, one
section per part of the workshop with a heading per question, themes as headings with their
quotes, and votes as a ranked list with a chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.core.dates import long_date, long_date_time
from bot.core.digest.lexicon import same_words
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, SinceLast, ThemeView
from bot.core.digest.ranking import RankRow, in_top
from bot.core.digest.theme_views import quote_text
from bot.core.rounds import UNKNOWN_ROLE
from bot.core.shown import shown
from bot.core.wording import counted, plural


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Quote:
    reply_id: str
    text: str
    by: str | None


@dataclass(frozen=True)
class Items:
    items: tuple[tuple[Run, ...], ...]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    """What the table holds, for a screen reader (HTML's caption, Word's table title)."""


@dataclass(frozen=True)
class Chart:
    prompt: PromptDigest
    alt: str


Block = Heading | Paragraph | Quote | Items | Table | Chart

ANONYMITY_NOTE = {
    "named": "Quotes carry the name and role of the person who gave them.",
    "role": "Quotes carry the person's role where at least three people of that role answered "
    "(and their organisation where three of that role and organisation did), and nothing "
    "otherwise; by the same rule, roles and organisations fewer than three of which answered "
    "are counted together.",
    "anonymous": "Quotes carry no name, role or organisation, and who took part is counted "
    "only in total.",
}
OTHERS_LISTED = 40
"""Answers in no theme listed per question; the CSV export has every one."""
LANGUAGE = "en-GB"
"""The language every export names, so that a screen reader speaks it as British English."""
ORIGIN = {
    "room": "said in the room",
    "both": "in the room and the chat",
}
"""Where a theme's answers were given, beside it where some came from the room (a theme said
only in the chat is marked BEYOND_ROOM then, and unmarked in a round with none from the room:
there everything was)."""
BEYOND_ROOM = "not raised in the room: new from the chat"
"""Beside a theme none of whose answers came from the live workshop (when some did)."""
BY_MODEL = "headline written by a language model, checked against these answers"
GROUPED_BY_MODEL = "answers grouped by a language model"


FULL_SYNTHESIS = "the full synthesis, which the round's facilitators can share"
"""Where a digest's reader finds what a chat message could not hold, and every answer: in
words for its readers, not the facilitator's `roundtable export`, a command they cannot run
(the facilitators are shown that in review, bot.core.digest.render_review)."""


def plain(text: str) -> Paragraph:
    return Paragraph((Run(text),))


def synthesis(view: DigestView) -> list[Block]:
    """The whole document, every text in it as shown back (bot.core.shown)."""
    return [_shown(block) for block in _blocks(view)]


def _shown(block: Block) -> Block:
    if isinstance(block, Heading):
        return replace(block, text=shown(block.text))
    if isinstance(block, Paragraph):
        return replace(block, runs=_shown_runs(block.runs))
    if isinstance(block, Quote):
        return replace(block, text=shown(block.text),
                       by=None if block.by is None else shown(block.by))
    if isinstance(block, Items):
        return replace(block, items=tuple(_shown_runs(item) for item in block.items))
    if isinstance(block, Table):
        return replace(block, header=tuple(shown(h) for h in block.header),
                       rows=tuple(tuple(shown(c) for c in row) for row in block.rows),
                       caption=shown(block.caption))
    return replace(block, alt=shown(block.alt))


def _shown_runs(runs: tuple[Run, ...]) -> tuple[Run, ...]:
    return tuple(replace(run, text=shown(run.text)) for run in runs)


def _blocks(view: DigestView) -> list[Block]:
    info = view.round
    blocks: list[Block] = [
        Heading(1, info.title),
        plain(f"Workshop of {_long_date(info.workshop_date)}"),
        Paragraph(
            (
                Run("Synthesis Pack", bold=True),
                Run(
                    f" · Round {info.id}, {info.status}"
                    + (" (late)" if info.late else "")
                    + f" · Generated {_long_time(info.generated_at)}"
                ),
            )
        ),
        Heading(2, "Introduction"),
        # The intro speaks to the people asked; a board reads it as how they were asked.
        plain("The questions below were put with these words:"),
        plain(info.intro),
        *_participation(view),
    ]
    if view.since_last is not None:
        blocks += [Heading(2, "New since the last digest"), *_since_last(view, view.since_last)]
    sections: list[str] = []
    for prompt in view.prompts:
        if not sections or sections[-1] != prompt.section:
            sections.append(prompt.section)
            blocks.append(Heading(2, f"Section {len(sections)}: {prompt.section}"))
        blocks += _prompt(prompt)
    blocks += [
        Heading(2, "About this synthesis"),
        plain(
            "Made by Roundtable from the answers given in chat and, where imported, in the room. "
            "Every quote is an answer word for word; “…” marks where a long answer was cut. "
            + _model_note(view)
            + "Every answer is in the round's CSV export, which its facilitators can share."
        ),
    ]
    return blocks


def _model_note(view: DigestView) -> str:
    themes = [t for p in view.prompts for t in p.themes]
    note = ""
    if any(t.grouped_by_model for t in themes):
        note += ("Themes marked as grouped by a language model are its proposal of which "
                 "answers go together; every answer still appears once, and quotes are the "
                 "answers' own words. ")
    if any(t.written_by_model for t in themes):
        note += ("Headlines marked as written by a language model were checked against their "
                 "theme's answers: only their words, no names, links or quotation marks. ")
    return note


def _participation(view: DigestView) -> list[Block]:
    people = view.participation
    blocks: list[Block] = [
        Heading(3, "Who took part"),
        plain(
            f"{people['answered_any']} of {counted(people['invited'], 'person', 'people')} "
            f"invited answered at least one question and {people['answered_all']} answered all "
            f"of them: {counted(view.answer_count, 'answer or vote', 'answers and votes')} in "
            "all. "
            + ANONYMITY_NOTE.get(view.round.anonymity, "")
            + (f" {withdrawn}" if (withdrawn := withdrawn_line(people)) else "")
        ),
    ]
    if people["silent_roles"]:
        blocks.append(
            Paragraph((Run("Not heard from yet: ", bold=True), Run(silent_line(people))))
        )
    for key, label in (("by_role", "Role"), ("by_organisation", "Organisation")):
        if people[key]:
            blocks.append(
                Table(
                    (label, "Invited", "Answered any", "Answered all"),
                    tuple(
                        (name, str(r["invited"]), str(r["answered_any"]), str(r["answered_all"]))
                        for name, r in people[key].items()
                    ),
                    f"Who took part, by {label.lower()}",
                )
            )
    return blocks


def withdrawn_line(people: dict[str, Any]) -> str:
    """"1 person invited asked for everything about them to be deleted…" (forget-me), as
    every format says it; "" when nobody did."""
    n = people.get("withdrawn", 0)
    if not n:
        return ""
    return (f"{counted(n, 'person', 'people')} invited asked for everything about them to be "
            f"deleted, and {'is' if n == 1 else 'are'} not counted.")


def where_the_rest_is(view: DigestView, questions_are: str) -> str:
    """The top message's closing words, before where everything is: "5 themes across the
    questions; each question is in this thread." (no count of themes when there are none,
    as in a round of votes)."""
    themes = sum(len(p.themes) for p in view.prompts)
    lead = f"{counted(themes, 'theme')} across the questions; each" if themes else "Each"
    return f"{lead} question is {questions_are}."


def headline(view: DigestView) -> tuple[Run, ...]:
    """The digest's headline figures, as every platform's top message opens."""
    people = view.participation
    invited, answered = people["invited"], people["answered_any"]
    return (
        Run(str(answered), bold=True), Run(" of "), Run(str(invited), bold=True),
        Run(f" {'person' if invited == 1 else 'people'} invited "
            f"{'has' if answered == 1 else 'have'} answered at least one question; "),
        Run(str(people["answered_all"]), bold=True),
        Run(f" answered all. {counted(view.answer_count, 'answer or vote', 'answers and votes')}"
            f" across {counted(len(view.prompts), 'question')}."),
    ) + ((Run(f" {withdrawn}"),) if (withdrawn := withdrawn_line(people)) else ())


def silent_line(people: dict[str, Any]) -> str:
    """"no community pharmacists yet; no GPs yet." for the invited roles nobody has answered
    from (and "no answer yet from anyone whose role is not given" for the people invited
    without one): the end of the sentence "Not heard from yet: " begins in every format, its
    full stop included; "" when every role has been heard from."""
    silent = ["no answer yet from anyone whose role is not given" if role == UNKNOWN_ROLE
              else f"no {plural(str(role))} yet" for role in people.get("silent_roles", [])]
    return "; ".join(silent) + "." if silent else ""


def since_last_lines(view: DigestView, changes: SinceLast) -> list[str]:
    """What changed, one line each, in the order a reader cares about."""
    questions = {p.prompt_id: p.question for p in view.prompts}
    lines: list[str] = []
    if changes.quiet:
        return ["Nothing new since the last digest."]
    if changes.new_answers:
        per = ", ".join(
            f"{n} to “{_short(questions.get(k, k))}”" for k, n in changes.new_by_prompt.items()
        )
        people = (f" and {counted(changes.new_people, 'more person', 'more people')} took part"
                  if changes.new_people else "")
        new = counted(changes.new_answers, "new answer or vote", "new answers and votes")
        lines.append(f"{new}{people}: {per}.")
        if changes.new_by_role:
            lines.append("New answers by role: " + ", ".join(
                f"{role} {n}" for role, n in changes.new_by_role.items()) + ".")
    for change in changes.new_themes:
        question = _short(questions.get(change.prompt_id, change.prompt_id))
        lines.append(f"New theme “{change.title}” ({counted(change.total, 'answer')}) on "
                     f"“{question}”.")
    for change in changes.grown_themes:
        lines.append(f"“{change.title}” grew by {change.added} to "
                     f"{counted(change.total, 'answer')}.")
    for move in changes.moves:
        way = "up" if move.place < move.previous_place else "down"
        lines.append(
            f"“{move.option}” moved {way} to {_place(move.place, move.tied)} "
            f"(was {_place(move.previous_place, move.previous_tied)})."
        )
    return lines


def _since_last(view: DigestView, changes: SinceLast) -> list[Block]:
    when = _long_time(changes.previous_at) if changes.previous_at else "the last digest"
    return [
        plain(f"Compared with the digest of {when}:"),
        Items(tuple((Run(line),) for line in since_last_lines(view, changes))),
    ]


def _prompt(prompt: PromptDigest) -> list[Block]:
    blocks: list[Block] = [Heading(3, prompt.question)]
    if prompt.lead:  # a facilitator's words, from review
        blocks.append(Paragraph((Run(prompt.lead, bold=True),)))
    if prompt.kind != "text":
        return blocks + _votes(prompt)
    if not prompt.answer_count:
        return blocks + [plain("No answers yet.")]
    blocks.append(plain(answers_line(prompt)))
    for theme in prompt.themes:
        blocks += _theme(theme)
    others = other_answers(prompt)
    listing, left = listed(others, OTHERS_LISTED)
    if others:
        blocks.append(Heading(4, others_heading(prompt, len(others))))
        blocks += [Quote(a.reply_id, quote_text(a.text), a.by) for a in listing]
    if left:
        blocks.append(plain(f"…and {left} more, all in the CSV export."))
    unquoted = unquoted_line(prompt)
    if unquoted:
        blocks.append(plain(unquoted))
    return blocks


def unquoted_line(prompt: PromptDigest) -> str | None:
    """"Counted but not quoted: 1 answer whose writer asked not to be quoted." for the
    answers in no theme that are neither listed nor set aside, so that the answers shown add
    up to the question's count."""
    unthemed = set(prompt.unthemed_reply_ids)
    listed = {a.reply_id for a in other_answers(prompt)}
    left = [a for a in prompt.answers
            if a.reply_id in unthemed and not a.noise and a.reply_id not in listed]
    hidden = sum(a.hidden for a in left)
    parts = [f"{counted(n, 'answer')} {why}" for n, why in (
        (len(left) - hidden, "whose writer asked not to be quoted" if len(left) - hidden == 1
         else "whose writers asked not to be quoted"),
        (hidden, "hidden in review")) if n]
    return f"Counted but not quoted: {'; '.join(parts)}." if parts else None


def answers_line(prompt: PromptDigest) -> str:
    """"12 answers, 9 of them in 3 themes; 2 replies that were not answers"."""
    noise = prompt.not_answer_count
    themed = sum(len(t.reply_ids) for t in prompt.themes)
    parts = [counted(prompt.answer_count, "answer")]
    if prompt.themes:
        parts[0] += f", {themed} of them in {counted(len(prompt.themes), 'theme')}"
    if noise:
        parts.append(f"{noise} reply that was not an answer" if noise == 1
                     else f"{noise} replies that were not answers")
    return "; ".join(parts) + "."


def others_heading(prompt: PromptDigest, others: int) -> str:
    """"Other answers (4)" beside themes; "Answers" where the question has no theme."""
    return f"Other answers ({others})" if prompt.themes else "Answers"


def other_answers(prompt: PromptDigest) -> list[AnswerView]:
    """Answers in no theme that say something and may be quoted, in the order given."""
    unthemed = set(prompt.unthemed_reply_ids)
    return [a for a in prompt.answers if a.reply_id in unthemed and not a.noise and a.quotable]


def listed(others: Sequence[AnswerView], limit: int) -> tuple[list[AnswerView], int]:
    """The first `limit` of the other answers as a digest lists them, copies of one answer
    ("no comment" from six people) once, attributed with how many gave it; and how many other
    answers that leaves unlisted."""
    copies: dict[str, list[AnswerView]] = {}
    for answer in others:
        copies.setdefault(same_words(answer.text), []).append(answer)
    first = list(copies.values())[:limit]
    return [_once(same) for same in first], len(others) - sum(len(same) for same in first)


def _once(copies: list[AnswerView]) -> AnswerView:
    """One answer for its copies: their attribution where they share it, and their number."""
    if len(copies) == 1:
        return copies[0]
    by = copies[0].by if len({a.by for a in copies}) == 1 else None
    many = counted(len(copies), "answer")
    return replace(copies[0], by=f"{by} ({many})" if by else many)


OTHER_ANSWERS_SHOWN = 5
"""How many of a question's other answers (or of a vote's comments) a chat digest lists; the
full synthesis has them all."""


def other_answers_heading(prompt: PromptDigest) -> str:
    """"Other answers (3)" under a question's themes; "Answers (3)" where it has none."""
    return f"{'Other answers' if prompt.themes else 'Answers'} ({len(other_answers(prompt))})"


def theme_line(theme: ThemeView) -> str:
    """"7 answers · community pharmacist 3, PCN pharmacy lead 2 · in the room and the chat"."""
    parts = [counted(len(theme.reply_ids), "answer")]
    if theme.roles:
        parts.append(", ".join(f"{role} {n}" for role, n in theme.roles.items()))
    if theme.beyond_room:
        parts.append(BEYOND_ROOM)
    elif theme.origin in ORIGIN:
        parts.append(ORIGIN[theme.origin])
    parts += model_notes(theme)
    return " · ".join(parts)


def model_notes(theme: ThemeView) -> list[str]:
    """What a language model did for the theme: grouped its answers, wrote its headline."""
    return [note for note, holds in ((GROUPED_BY_MODEL, theme.grouped_by_model),
                                     (BY_MODEL, theme.written_by_model)) if holds]


def _theme(theme: ThemeView) -> list[Block]:
    runs = (Run(theme.summary + " "),) if theme.summary else ()
    return [
        Heading(4, theme.title),
        Paragraph((*runs, Run(theme_line(theme), italic=True))),
        *(Quote(q.reply_id, q.text, q.by) for q in theme.quotes),
    ]


def _votes(prompt: PromptDigest) -> list[Block]:
    if not prompt.answer_count:
        return [plain("No votes yet."), *_comments(prompt)]
    blocks: list[Block] = [plain(f"{counted(prompt.answer_count, 'ballot')}. "
                                 f"{points_line(prompt)}")]
    blocks.append(Items(tuple(_rank_item(prompt, row) for row in prompt.ranking)))
    top = top_line(prompt)
    if top:
        blocks.append(plain(top))
    blocks.append(Chart(prompt, chart_alt(prompt)))
    places = {row.option: row.place_label for row in prompt.ranking}
    for reasons in prompt.reasons:
        blocks.append(Heading(4, f"{places.get(reasons.option, '')}. {reasons.option}: "
                                 "why people put it first"))
        blocks += [Quote(q.reply_id, q.text, q.by) for q in reasons.quotes]
    return blocks + _comments(prompt)


def chart_alt(prompt: PromptDigest) -> str:
    """What a vote's chart shows, for a screen reader: each bar's place, option and figure
    ("Bar chart of the points on 3 ballots for “…”: 1. Protected time (top 5), 11 points; …")."""
    unit = "point" if prompt.kind == "rank" else "vote"
    bars = "; ".join(
        f"{row.place_label}. {row.option}"
        + (f" ({top_label(prompt)})" if is_top(prompt, row) else "")
        + f", {counted(row.score, unit)}"
        for row in prompt.ranking if row.score)
    return (f"Bar chart of the {unit}s on {counted(prompt.answer_count, 'ballot')} for "
            f"“{prompt.question}”: {bars}.")


def _comments(prompt: PromptDigest) -> list[Block]:
    if not prompt.comments:
        return []
    return [Heading(4, comments_heading(prompt)),
            *(Quote(q.reply_id, q.text, q.by) for q in prompt.comments[:OTHERS_LISTED])]


def comments_heading(prompt: PromptDigest) -> str:
    """"Comments on the question (2)": words written to a vote's question apart from a ballot
    (reasons typed with a ballot are under its first choice instead)."""
    return f"Comments on the question ({len(prompt.comments)})"


_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                  "ninth", "tenth")


def points_line(prompt: PromptDigest) -> str:
    """How the figures are counted, in one line: "5 points for a first place, 4 for a
    second…"; and that options of equal standing share a place."""
    if prompt.kind != "rank":
        return ("Each ballot counts once for every option it chose; options chosen as often "
                "share a place (=2).")
    picks = prompt.picks or 1
    words = [*_ORDINAL_WORDS, *(_ordinal(n) for n in range(len(_ORDINAL_WORDS) + 1, picks + 1))]
    worth = [f"{picks - i} for a {words[i]}" for i in range(picks)]
    worth[0] = f"{counted(picks, 'point')} for a {_ORDINAL_WORDS[0]} place"
    scale = worth[0] if picks == 1 else ", ".join(worth[:-1]) + " and " + worth[-1]
    return (f"Points: {scale}; an option nobody picked gets none. Options with equal "
            "points and first places share a place (=2).")


def top_label(prompt: PromptDigest) -> str | None:
    """"top 5": the mark beside the options among the top the question asks for."""
    if prompt.kind != "rank" or not prompt.picks or prompt.picks >= len(prompt.ranking):
        return None
    return f"top {prompt.picks}"


def top_line(prompt: PromptDigest) -> str | None:
    """What the top mark means, where the question asks for a top."""
    label = top_label(prompt)
    if label is None:
        return None
    return (f"“{label.capitalize()}” marks the options with the most points: the top "
            f"{prompt.picks} the question asks for (all of them where a place is shared).")


def is_top(prompt: PromptDigest, row: RankRow) -> bool:
    return top_label(prompt) is not None and in_top(row, prompt.picks)


def rank_detail(prompt: PromptDigest, row: RankRow) -> str:
    """"42 points, 5 first places, on 8 of 10 ballots" (rank) or "5 votes (50%)" (choice)."""
    if prompt.kind == "rank":
        return (
            f"{counted(row.score, 'point')}, {counted(row.first_places, 'first place')}, "
            f"on {row.votes} of {counted(prompt.answer_count, 'ballot')}"
        )
    return f"{counted(row.score, 'vote')} ({row.share:.0%})"


def _rank_item(prompt: PromptDigest, row: RankRow) -> tuple[Run, ...]:
    mark = (Run(f" ({top_label(prompt)})", bold=True),) if is_top(prompt, row) else ()
    return (Run(f"{row.place_label}. "), Run(row.option, bold=True), *mark,
            Run(" — " + rank_detail(prompt, row)))


def _short(text: str, limit: int = 60) -> str:
    """A question's words in a line about it: whole, or cut at a word and marked."""
    return quote_text(text, limit)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _place(n: int, tied: bool) -> str:
    """"3rd", or "=1st" for a place shared, as the ranking shows it ("=1")."""
    return ("=" if tied else "") + _ordinal(n)


def _long_date(iso: str) -> str:
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return long_date(day)


def _long_time(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{long_date_time(moment)} UTC"
