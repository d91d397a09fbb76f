"""The digest in Slack: a short top message for the channel, then one message per question for
its thread. Every message keeps within Block Kit's limits; what does not fit is cut with a
pointer to the export. What people wrote (quotes, theme titles and summaries, leads, their
roles and organisations) and the pack's words (questions, options) go in rich text or plain
text, shown exactly as written: nothing in them pings, links or formats.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    HeaderBlock,
    PlainTextObject,
    RichTextBlock,
)

from bot.core.digest.chart import chart_filename, ranking_png
from bot.core.digest.model import DigestView, PromptDigest, QuoteView, ThemeView
from bot.core.digest.synthesis import (
    FULL_SYNTHESIS,
    OTHER_ANSWERS_SHOWN,
    answers_line,
    comments_heading,
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
    withdrawn_line,
)
from bot.core.digest.synthesis import (
    headline as synthesis_headline,
)
from bot.core.wording import counted
from bot.slack.limits import HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT
from bot.slack.messages import (
    Part,
    SlackFile,
    SlackMessage,
    bullets,
    context,
    fitted,
    kept_within,
    line,
    message,
    plain,
    plain_context,
    quoted,
    rich,
    section,
    shortened,
    words,
)
from bot.slack.mrkdwn import inert

QUESTION_CHARS = 2800
"""How much of a question (the pack's words) its message shows."""
QUOTE_CHARS = 800
"""How much of one answer a quote shows in Slack; three of them and their names fit a section."""
ROLES_SHOWN = 10
"""Roles shown by name in the top message; the rest are counted."""
ORGANISATIONS_SHOWN = 15
TEXT_FALLBACK = 1000


def digest_messages(view: DigestView, *, charts: bool = True) -> list[SlackMessage]:
    """The top message for the channel, then one message per question for its thread."""
    hint = FULL_SYNTHESIS
    return [top_message(view, hint)] + [
        question_message(view, prompt, hint, charts=charts) for prompt in view.prompts
    ]


def top_message(view: DigestView, hint: str) -> SlackMessage:
    """Headline figures, who has not been heard from, and what changed since the last digest."""
    info, people = view.round, view.participation
    headline = "".join(f"*{r.text}*" if r.bold else r.text for r in synthesis_headline(view))
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"Digest: {info.title}", HEADER_TEXT)),
        section(headline),
    ]
    if info.late:
        blocks.append(context("Posted late: the bot was not running at the scheduled time."))
    if people["silent_roles"]:  # role names: words of the people invited
        blocks.append(rich(line(words("⚠️ Not heard from yet: ", bold=True),
                                words(silent_line(people), SECTION_TEXT - 100))))
    if people["by_role"]:
        blocks.append(_roles(people["by_role"]))
    if people["by_organisation"]:
        blocks.append(plain_context(_organisations(people["by_organisation"]), SECTION_TEXT))
    if view.since_last is not None:  # theme titles: people's words
        changes = [line(words(change)) for change in since_last_lines(view, view.since_last)]
        kept = kept_within(changes, SECTION_TEXT - 300)
        pointer = [_pointer(hint)] if len(kept) < len(changes) else []
        blocks.append(rich(line(words("New since the last digest", bold=True)),
                           bullets(kept), *pointer))
    blocks.append(context(f"{where_the_rest_is(view, 'in this thread')} Every answer is in "
                          f"{inert(hint)}."))
    text = (
        f"Roundtable digest for {inert(info.title)}: {people['answered_any']} of "
        f"{people['invited']} have answered"
        + (f"; {inert(silent_line(people))}" if people["silent_roles"] else ".")
        + (f" {withdrawn}" if (withdrawn := withdrawn_line(people)) else "")
    )
    return message(text, blocks)


def question_message(
    view: DigestView, prompt: PromptDigest, hint: str, *, charts: bool = True
) -> SlackMessage:
    """One question: its themes with quotes, or its ranking (and chart)."""
    head: list[Block] = [
        HeaderBlock(text=_plain(prompt.section, HEADER_TEXT)),
        rich(line(words(prompt.question, QUESTION_CHARS, bold=True))),
    ]
    if prompt.lead:  # a facilitator's words, from review
        head.append(rich(line(words(prompt.lead, 600, italic=True))))
    files: tuple[SlackFile, ...] = ()
    if prompt.kind != "text":
        body = _ranking_blocks(prompt, hint)
        png = ranking_png(prompt) if charts else None
        if png is not None:
            name = chart_filename(view.round.id, prompt.prompt_id)
            files = (SlackFile(name, prompt.question[:250], png),)
    elif not prompt.answer_count:
        body = [section("No answers yet.")]
    else:
        body = [context(inert(answers_line(prompt)))] + _theme_blocks(prompt, hint)
    text = f"{prompt.section}: {prompt.question} ({_summary(prompt)})"
    return message(inert(text, TEXT_FALLBACK), head + body, files)


def _theme_blocks(prompt: PromptDigest, hint: str) -> list[Block]:
    """Two blocks a theme (heading and quotes), other answers, and a pointer when cut."""
    budget = MESSAGE_BLOCKS - 3 - 3  # header, question, counts; others, unquoted, pointer
    blocks: list[Block] = []
    shown = 0
    for theme in prompt.themes:
        if len(blocks) + 2 > budget:
            break
        blocks += _theme(theme, hint)
        shown += 1
    others = other_answers(prompt)
    if others:
        listing, left = listed(others, OTHER_ANSWERS_SHOWN)
        blocks.append(_quotes_block(other_answers_heading(prompt),
                                    [_quote(a.text, a.by, QUOTE_CHARS // 2) for a in listing],
                                    left, hint))
    unquoted = unquoted_line(prompt)
    if unquoted:
        blocks.append(context(unquoted))
    if shown < len(prompt.themes):
        left = len(prompt.themes) - shown
        blocks.append(context(f"{counted(left, 'more theme is', 'more themes are')} in "
                              f"{inert(hint)}."))
    return blocks


def _theme(theme: ThemeView, hint: str) -> list[Block]:
    heading = line(words(theme.title, 200, bold=True), words("  ·  "),
                   words(theme_line(theme), italic=True),
                   words("\n" + theme.summary if theme.summary else "", 1000))
    quotes = [_quote(q.text, q.by, QUOTE_CHARS) for q in theme.quotes]
    return [rich(heading), rich(*fitted(quotes, _pointer(hint)) if quotes
                                else [line(words("(no quote)", italic=True))])]


def _quote(text: str, by: str | None, limit: int) -> Part:
    """A quote as a rich text block quote, with its attribution."""
    said = "\n".join(row for row in text.strip().splitlines() if row.strip()) or "…"
    return quoted(words(said, limit), words(f"\n— {by}" if by else "", 200, italic=True))


def _quotes_block(title: str, quotes: list[Part], more: int, hint: str) -> Block:
    """A bold title over quotes, and how many more the export holds."""
    tail = [line(words(f"…and {more} more in {hint}", italic=True))] if more else []
    return rich(*fitted([line(words(title, bold=True)), *quotes], _pointer(hint),
                        budget=SECTION_TEXT - 100) + tail)


def _pointer(hint: str) -> Part:
    return line(words(f"…cut here; the rest is in {hint}.", 300, italic=True))


def _ranking_blocks(prompt: PromptDigest, hint: str) -> list[Block]:
    """The ballots and how points are counted, the options by place (ties as "=2", the top
    the question asks for marked), then the reasons under the top options and comments."""
    comments = _comment_blocks(prompt, hint)
    if not prompt.answer_count:
        return [section("No votes yet."), *comments]
    lines: list[Part] = []
    for row in prompt.ranking:  # the options: the pack's words
        mark = ([words(" "), words(f"({top_label(prompt)})", italic=True)]
                if is_top(prompt, row) else [])
        lines.append(line(words(f"{row.place_label}. "), words(row.option, 300, bold=True),
                          *mark, words(f" — {rank_detail(prompt, row)}")))
    top = top_line(prompt)
    blocks: list[Block] = [
        context(f"{counted(prompt.answer_count, 'ballot')} · {points_line(prompt)}"),
        rich(*fitted(lines, _pointer(hint))),
    ]
    if top:
        blocks.append(context(top))
    places = {row.option: row.place_label for row in prompt.ranking}
    budget = MESSAGE_BLOCKS - 2 - len(blocks) - len(comments)
    for reasons in prompt.reasons[:max(0, budget)]:
        title = f"{places.get(reasons.option, '')}. {reasons.option[:300]}: why people put it first"
        blocks.append(_quotes_block(title, _quotes(reasons.quotes), 0, hint))
    return blocks + comments


def _comment_blocks(prompt: PromptDigest, hint: str) -> list[Block]:
    if not prompt.comments:
        return []
    listed = prompt.comments[:OTHER_ANSWERS_SHOWN]
    return [_quotes_block(comments_heading(prompt), _quotes(listed),
                          len(prompt.comments) - len(listed), hint)]


def _quotes(quotes: list[QuoteView]) -> list[Part]:
    return [_quote(q.text, q.by, QUOTE_CHARS // 2) for q in quotes]


def _roles(by_role: dict[str, dict[str, int]]) -> RichTextBlock:
    """A line a role, its name in bold (as in Teams' card): rich text, since role names are
    the words of the people invited and mrkdwn would read their `*` or `_` as formatting."""
    rows = list(by_role.items())
    shown = rows[: ROLES_SHOWN if len(rows) <= ROLES_SHOWN else ROLES_SHOWN - 1]
    lines = [line(words(role, 200, bold=True),
                  words(f": {row['answered_any']} of {row['invited']} answered"))
             for role, row in shown]
    if len(rows) > len(shown):
        lines.append(line(words(f"and {len(rows) - len(shown)} more roles", italic=True)))
    return rich(*lines)


def _organisations(by_organisation: dict[str, dict[str, int]]) -> str:
    """"By organisation, people who answered of those asked: Lewisham: 3 of 4 · Other
    organisations (…): 12 of 12", as the other formats' table counts them: people
    per row, small organisations pooled in one row (bot.core.rounds)."""
    rows = list(by_organisation.items())
    shown = [f"{shortened(name, 100)}: {row['answered_any']} of {row['invited']}"
             for name, row in rows[:ORGANISATIONS_SHOWN]]
    more = len(rows) - len(shown)
    return ("By organisation, people who answered of those asked: " + " · ".join(shown)
            + (f" · and {more} more in the full synthesis" if more > 0 else ""))


def _summary(prompt: PromptDigest) -> str:
    if prompt.kind != "text":
        return counted(prompt.answer_count, "ballot")
    return f"{counted(prompt.answer_count, 'answer')}, {counted(len(prompt.themes), 'theme')}"


def _plain(text: str, limit: int) -> PlainTextObject:
    """Plain text (headers) on one line, cut to the limit."""
    return plain(" ".join(text.split()), limit)
