"""The digest as plain text for a terminal."""

from __future__ import annotations

import textwrap

from bot.core.digest.model import DigestView, PromptDigest

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
    if people["silent_roles"]:
        lines.append("Not heard from yet: " + ", ".join(people["silent_roles"]) + ".")
    for prompt in digest.prompts:
        lines += ["", *_prompt_lines(prompt)]
    return "\n".join(lines) + "\n"


def _prompt_lines(prompt: PromptDigest) -> list[str]:
    noun = "vote" if prompt.kind != "text" else "answer"
    lines = [
        f"== {prompt.section}: {prompt.question}",
        f"   {prompt.answer_count} {noun}{'s' if prompt.answer_count != 1 else ''}",
    ]
    for theme in prompt.themes:
        lines.append(f"   * {theme.title} ({len(theme.reply_ids)}) - {theme.summary}")
        for quote in theme.quotes:
            lines += _wrapped(f'"{quote.text}"' + (f" - {quote.by}" if quote.by else ""), 7)
    themed = {q for t in prompt.themes for q in t.reply_ids}
    for answer in (a for a in prompt.answers if a.reply_id not in themed):
        lines += _wrapped(f"- {answer.text}" + (f" ({answer.by})" if answer.by else ""), 5)
    for place, row in enumerate(prompt.ranking, start=1):
        lines.append(
            f"   {place:>2}. {row.option}: {row.score} points, "
            f"{row.first_places} first place{'s' if row.first_places != 1 else ''}"
        )
    return lines


def _wrapped(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(
        " ".join(text.split()), WIDTH, initial_indent=pad, subsequent_indent=pad + "  "
    ) or [pad]
