"""The digest in Teams: a card for the channel with the headline figures, then a card per
question as replies to it. Each card keeps within Teams' message size; what does not fit is
left to the export, with a pointer saying so. People's words are text runs only (render.py).
"""

from __future__ import annotations

from bot.core.digest.model import DigestView, PromptDigest, ThemeView
from bot.core.digest.synthesis import (
    FULL_SYNTHESIS,
    OTHER_ANSWERS_SHOWN,
    answers_line,
    comments_heading,
    headline,
    is_top,
    listed,
    other_answers,
    other_answers_heading,
    points_line,
    rank_detail,
    silent_line,
    since_last_lines,
    theme_line,
    top_label,
    top_line,
    unquoted_line,
    where_the_rest_is,
)
from bot.core.wording import counted
from bot.teams.render import (
    Element,
    closed_lines,
    fitted,
    heading,
    note,
    rich,
    run,
)

QUOTE_CHARS = 800


def digest_cards(view: DigestView) -> list[Element]:
    """The top card for the channel, then one card per question for its replies."""
    return [top_card(view, FULL_SYNTHESIS)] + [question_card(view, p, FULL_SYNTHESIS)
                                               for p in view.prompts]


def top_card(view: DigestView, hint: str) -> Element:
    info, people = view.round, view.participation
    body: list[Element] = [
        heading(f"Digest: {info.title}", "Large"),
        rich(*(run(r.text, bold=r.bold) for r in headline(view))),
    ]
    if info.late:
        body.append(note("Posted late: the bot was not running at the scheduled time."))
    if people["silent_roles"]:
        body.append(rich(run("Not heard from yet: ", bold=True), run(silent_line(people))))
    for role, row in list(people["by_role"].items())[:10]:
        body.append(rich(run(role, bold=True),
                         run(f": {row['answered_any']} of {row['invited']} answered")))
    if view.since_last is not None:
        body.append(rich(run("New since the last digest", bold=True), separator=True))
        body += [rich(f"• {line}") for line in since_last_lines(view, view.since_last)]
    closing = note(f"{where_the_rest_is(view, 'in the replies')} Every answer is in {hint}.")
    return _fitted(body, closing, hint)


def question_card(view: DigestView, prompt: PromptDigest, hint: str) -> Element:
    body: list[Element] = [heading(prompt.section), rich(run(prompt.question, bold=True))]
    if prompt.lead:  # a facilitator's words, from review
        body.append(rich(run(prompt.lead, italic=True)))
    if prompt.kind != "text":
        body += _ranking(prompt)
    elif not prompt.answer_count:
        body.append(rich("No answers yet."))
    else:
        body.append(note(answers_line(prompt)))
        for theme in prompt.themes:
            body += _theme(theme)
        others = other_answers(prompt)
        if others:
            body.append(rich(run(other_answers_heading(prompt), bold=True), separator=True))
            listing, left = listed(others, OTHER_ANSWERS_SHOWN)
            for answer in listing:
                body.append(_quote(answer.text, answer.by, QUOTE_CHARS // 2))
            if left:
                body.append(note(f"…and {left} more in the full synthesis"))
        unquoted = unquoted_line(prompt)
        if unquoted:
            body.append(note(unquoted))
    return _fitted(body, None, hint)


def _theme(theme: ThemeView) -> list[Element]:
    out = [rich(run(theme.title, bold=True), run("  ·  "), run(theme_line(theme), italic=True),
                separator=True)]
    if theme.summary:
        out.append(rich(theme.summary))
    out += [_quote(q.text, q.by, QUOTE_CHARS) for q in theme.quotes]
    return out


def _quote(text: str, by: str | None, limit: int) -> Element:
    words = text.strip()
    words = words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
    runs = [run(f"“{closed_lines(words)}”", italic=True)]
    if by:
        runs.append(run(f" — {by}", subtle=True))
    return rich(*runs)


def _ranking(prompt: PromptDigest) -> list[Element]:
    comments = _comments(prompt)
    if not prompt.answer_count:
        return [rich("No votes yet."), *comments]
    out: list[Element] = [note(f"{counted(prompt.answer_count, 'ballot')} · "
                               f"{points_line(prompt)}")]
    for row in prompt.ranking:
        mark = [run(f" ({top_label(prompt)})", italic=True)] if is_top(prompt, row) else []
        out.append(rich(run(f"{row.place_label}. "), run(row.option, bold=True), *mark,
                        run(f" — {rank_detail(prompt, row)}")))
    top = top_line(prompt)
    if top:
        out.append(note(top))
    places = {row.option: row.place_label for row in prompt.ranking}
    for reasons in prompt.reasons:
        out.append(rich(run(f"{places.get(reasons.option, '')}. {reasons.option}: why people "
                            "put it first", bold=True), separator=True))
        out += [_quote(q.text, q.by, QUOTE_CHARS // 2) for q in reasons.quotes]
    return out + comments


def _comments(prompt: PromptDigest) -> list[Element]:
    if not prompt.comments:
        return []
    out = [rich(run(comments_heading(prompt), bold=True), separator=True)]
    out += [_quote(q.text, q.by, QUOTE_CHARS // 2) for q in prompt.comments[:OTHER_ANSWERS_SHOWN]]
    if len(prompt.comments) > OTHER_ANSWERS_SHOWN:
        out.append(note(f"…and {len(prompt.comments) - OTHER_ANSWERS_SHOWN} more in the full "
                        "synthesis"))
    return out


def _fitted(body: list[Element], closing: Element | None, hint: str) -> Element:
    """The card with as much of `body` as fits, and a pointer to the export when cut."""
    return fitted(body, note(f"…cut here to fit Teams; the rest is in {hint}."),
                  tail=[closing] if closing is not None else [])
