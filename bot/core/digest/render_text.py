"""The digest as plain text for a terminal."""

from __future__ import annotations

import textwrap

from bot.core.digest.model import DigestView, PromptDigest
from bot.core.digest.synthesis import (
    OTHERS_LISTED,
    answers_line,
    other_answers,
    others_heading,
    rank_detail,
    silent_line,
    since_last_lines,
    theme_line,
)
from bot.core.digest.theme_views import quote_text

WIDTH = 88


def render_text(digest: DigestView) -> str:
    info, people = digest.round, digest.participation
    lines = [
        f"{info.title}",
        f"Round {info.id} · {info.status}" + (" · LATE" if info.late else ""),
        "",
        f"Participation: {people['answered_any']} of {people['invited']} answered at least one "
        f"question; {people['answered_all']} answered all.",
    ]
    for role, row in people["by_role"].items():
        lines.append(f"  {role}: {row['answered_any']} of {row['invited']}")
    if people["by_organisation"]:
        lines.append("By organisation:")
    for organisation, row in people["by_organisation"].items():
        lines.append(f"  {organisation}: {row['answered_any']} of {row['invited']}")
    if people["silent_roles"]:
        lines.append(f"Not heard from yet: {silent_line(people)}.")
    if digest.since_last is not None:
        lines += ["", "New since the last digest:"]
        lines += [f"  - {line}" for line in since_last_lines(digest, digest.since_last)]
    for prompt in digest.prompts:
        lines += ["", *_prompt_lines(prompt)]
    return "\n".join(lines) + "\n"


def _prompt_lines(prompt: PromptDigest) -> list[str]:
    lines = [f"== {prompt.section}: {prompt.question}"]
    if prompt.lead:  # a facilitator's words, from review
        lines += _wrapped(prompt.lead, 3)
    if prompt.kind != "text":
        noun = "ballot" if prompt.answer_count == 1 else "ballots"
        count = f"{prompt.answer_count} {noun}" if prompt.answer_count else "No votes yet."
        lines.append(f"   {count}")
        for place, row in enumerate(prompt.ranking if prompt.answer_count else [], start=1):
            lines.append(f"   {place:>2}. {row.option}: {rank_detail(prompt, row)}")
        return lines
    lines.append("   " + (answers_line(prompt) if prompt.answer_count else "No answers yet."))
    for theme in prompt.themes:
        lines.append(f"   * {theme.title} ({theme_line(theme)})")
        if theme.summary:
            lines += _wrapped(theme.summary, 5)
        for quote in theme.quotes:
            lines += _wrapped(f'"{quote.text}"' + (f" - {quote.by}" if quote.by else ""), 7)
    others = other_answers(prompt)
    if others:
        lines.append("   * " + others_heading(prompt, len(others)))
    for answer in others[:OTHERS_LISTED]:
        text = quote_text(answer.text)
        lines += _wrapped(f'"{text}"' + (f" - {answer.by}" if answer.by else ""), 7)
    if len(others) > OTHERS_LISTED:
        lines.append(f"     …and {len(others) - OTHERS_LISTED} more, all in the CSV export.")
    return lines


def _wrapped(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(
        " ".join(text.split()), WIDTH, initial_indent=pad, subsequent_indent=pad + "  "
    ) or [pad]
