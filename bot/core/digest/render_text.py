"""The digest as plain text for a terminal."""

from __future__ import annotations

import textwrap

from bot.core.digest.model import DigestView, PromptDigest
from bot.core.digest.synthesis import (
    OTHERS_LISTED,
    answers_line,
    comments_heading,
    is_top,
    listed,
    other_answers,
    others_heading,
    points_line,
    rank_detail,
    silent_line,
    since_last_lines,
    theme_line,
    top_label,
    top_line,
    unquoted_line,
    withdrawn_line,
)
from bot.core.digest.theme_views import quote_text
from bot.core.shown import shown
from bot.core.wording import counted

WIDTH = 88
NO_BREAK = "\u00a0"


def render_text(digest: DigestView) -> str:
    info, people = digest.round, digest.participation
    lines = [
        f"{info.title}",
        f"Round {info.id} · {info.status}" + (" · LATE" if info.late else ""),
        "",
        f"Participation: {people['answered_any']} of {people['invited']} answered at least one "
        f"question; {people['answered_all']} answered all.",
    ]
    if withdrawn := withdrawn_line(people):
        lines += _wrapped(withdrawn, 0)
    for role, row in people["by_role"].items():
        lines.append(f"  {role}: {row['answered_any']} of {row['invited']}")
    if people["by_organisation"]:
        lines.append("By organisation:")
    for organisation, row in people["by_organisation"].items():
        lines.append(f"  {organisation}: {row['answered_any']} of {row['invited']}")
    if people["silent_roles"]:
        lines.append(f"Not heard from yet: {silent_line(people)}")
    if digest.since_last is not None:
        lines += ["", "New since the last digest:"]
        lines += [f"  - {line}" for line in since_last_lines(digest, digest.since_last)]
    for prompt in digest.prompts:
        lines += ["", *_prompt_lines(prompt)]
    # shown line by line; people's words followed on their line by more (a quote's
    # attribution, a title's counts, an option's points) are shown before it
    return "\n".join(shown(line) for line in lines) + "\n"


def _prompt_lines(prompt: PromptDigest) -> list[str]:
    lines = [f"== {prompt.section}: {prompt.question}"]
    if prompt.lead:  # a facilitator's words, from review
        lines += _wrapped(prompt.lead, 3)
    if prompt.kind != "text":
        return lines + _vote_lines(prompt)
    lines.append("   " + (answers_line(prompt) if prompt.answer_count else "No answers yet."))
    for theme in prompt.themes:
        lines.append(f"   * {shown(theme.title)} ({theme_line(theme)})")
        if theme.summary:
            lines += _wrapped(theme.summary, 5)
        for quote in theme.quotes:
            lines += _quoted(quote.text, quote.by)
    others = other_answers(prompt)
    if others:
        lines.append("   * " + others_heading(prompt, len(others)))
    listing, left = listed(others, OTHERS_LISTED)
    for answer in listing:
        lines += _quoted(quote_text(answer.text), answer.by)
    if left:
        lines.append(f"     …and {left} more, all in the CSV export.")
    unquoted = unquoted_line(prompt)
    if unquoted:
        lines += _wrapped(unquoted, 3)
    return lines


def _vote_lines(prompt: PromptDigest) -> list[str]:
    if not prompt.answer_count:
        lines = ["   No votes yet."]
    else:
        lines = _wrapped(f"{counted(prompt.answer_count, 'ballot')}. {points_line(prompt)}", 3)
    for row in prompt.ranking if prompt.answer_count else []:
        mark = f" ({top_label(prompt)})" if is_top(prompt, row) else ""
        lines.append(f"   {row.place_label:>3}. {shown(row.option)}{mark}: "
                     f"{rank_detail(prompt, row)}")
    top = top_line(prompt) if prompt.answer_count else None
    if top:
        lines += _wrapped(top, 3)
    places = {row.option: row.place_label for row in prompt.ranking}
    for reasons in prompt.reasons:
        lines.append(f"   * {places.get(reasons.option, '')}. {reasons.option}: why people put "
                     "it first")
        for quote in reasons.quotes:
            lines += _quoted(quote.text, quote.by)
    if prompt.comments:
        lines.append(f"   * {comments_heading(prompt)}")
    for quote in prompt.comments[:OTHERS_LISTED]:
        lines += _quoted(quote.text, quote.by)
    return lines


def _wrapped(text: str, indent: int, tail: str = "") -> list[str]:
    """`text` wrapped at WIDTH, then `tail` (a quote's attribution) kept whole on one line."""
    pad = " " * indent
    # no-break spaces keep the tail's words on one line while wrapping; any the text held
    # are gone, as split() splits on them too
    kept = NO_BREAK.join(tail.split())
    return [line.replace(NO_BREAK, " ") for line in textwrap.wrap(
        " ".join(text.split()) + (f" {kept}" if kept else ""), WIDTH,
        initial_indent=pad, subsequent_indent=pad + "  ")] or [pad]


def _quoted(text: str, by: str | None) -> list[str]:
    """“What they said” — who said it, as every other format marks a quote."""
    return _wrapped(f"“{shown(text)}”", 7, f"— {by}" if by else "")
