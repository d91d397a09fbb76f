"""A digest waiting for review, in Slack: the draft a facilitator gets in a direct message
(each question with its themes, numbered, their quotes and the other answers the digest lists,
or a vote's reasons and comments, each with its id; an Edit button, and Approve), and the form
that edits one question (rename, merge, move answers to a theme or a new one, hide quotes, a
vote's reasons and comments among them, write its lead).

People's words (theme titles, quotes, leads, the approver's name) and the pack's questions
go in rich text or plain text, and option texts are plain text: Slack shows both exactly as
written. mrkdwn holds only the bot's own words (and the deadline, a Slack date).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.app import review_form
from bot.app.review import Opened
from bot.app.review_form import (
    HIDE,
    LABELS,
    LEAD,
    MERGE_INTO,
    MERGE_THEME,
    MOVE_ANSWER,
    MOVE_TO,
    NEW_TITLE,
    RENAME_THEME,
    RENAME_TITLE,
    SHOW,
    Choice,
)
from bot.core.dates import local_time
from bot.core.digest.edits import LEAD_LIMIT, TITLE_LIMIT
from bot.core.digest.model import Draft, PromptDigest, QuoteView
from bot.core.digest.render_review import (
    UNQUOTED_POINTER,
    attributed,
    attribution_rule,
    cut_words,
    deadline_line,
    form_cut_words,
    not_listed_line,
    settled_words,
    theme_size,
)
from bot.core.digest.synthesis import (
    OTHER_ANSWERS_SHOWN,
    comments_heading,
    other_answers,
    other_answers_heading,
)
from bot.core.said import Code, Command, Said
from bot.core.wording import counted
from bot.slack.limits import (
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    OPTION_TEXT,
    RICH_TEXT,
    SECTION_TEXT,
)
from bot.slack.messages import (
    Part,
    SlackMessage,
    context,
    kept_within,
    line,
    message,
    plain,
    plain_context,
    quoted,
    rich,
    rich_length,
    shortened,
    words,
)
from bot.slack.mrkdwn import code_words, inert, said_mrkdwn
from bot.slack.payloads import FormInput, form_inputs

REVIEW_EDIT = "digest_review_edit"
REVIEW_APPROVE = "digest_review_approve"
REVIEW_VIEW = "digest_review_submit"
CLOSED_VIEW = "digest_review_closed"
"""An edit form emptied because its answers were deleted: it has nothing to submit."""
QUOTE_SHOWN = 90
"""How much of a quote the draft shows: enough to recognise it (the digest shows it all)."""


def draft_message(draft: Draft) -> SlackMessage:
    """The draft as a facilitator sees it: a question a section, with its Edit button; then
    Approve. Once settled, the same message says what became of it, without buttons."""
    view = draft.view
    value = json.dumps({"round": view.round.id, "digest": draft.digest_id})
    text = f"Draft digest of round {view.round.id} ({inert(view.round.title, 200)}) for review"
    blocks: list[Block] = [HeaderBlock(text=plain(f"For review: {view.round.title}",
                                                  HEADER_TEXT)),
                           _state(draft)]
    if draft.waiting:
        blocks.append(plain_context(f"{attribution_rule(view.round.anonymity)} "
                                    f"{UNQUOTED_POINTER}", 2000))
    cut = _cut(view.round.id)
    for prompt in view.prompts:
        section = SectionBlock(text=plain(_question_text(prompt), SECTION_TEXT))
        if draft.waiting:
            section.accessory = ButtonElement(
                text=plain("Edit", 75), action_id=f"{REVIEW_EDIT}:{prompt.prompt_id}"[:255],
                value=json.dumps({"round": view.round.id, "digest": draft.digest_id,
                                  "prompt": prompt.prompt_id}))
        drafted = _drafted(prompt, draft.waiting, view.round.anonymity, cut)
        question = [section, rich(*drafted)] if drafted else [section]
        if len(blocks) + len(question) > MESSAGE_BLOCKS - 2:  # room for the cut and Approve
            blocks.append(rich(cut))
            break
        blocks += question
    if draft.approvable:
        blocks.append(ActionsBlock(elements=[ButtonElement(
            text=plain("Approve and post", 75), action_id=REVIEW_APPROVE, value=value,
            style="primary", confirm=ConfirmObject(
                title=plain("Post this digest?", 100),
                text=MarkdownTextObject(text="It goes to the round's digest channel now, as "
                                             "shown here."),
                confirm=plain("Post it", 30), deny=plain("Not yet", 30)))]))
    return message(text, blocks)


def _state(draft: Draft) -> ContextBlock:
    """What became of the draft; while it waits, when it is posted or kept waiting (a Slack
    date, which only mrkdwn shows: the line holds only the bot's words then)."""
    if draft.state == "superseded":
        return context("A newer draft, or a digest posted meanwhile, took the place of this one.")
    if not draft.waiting:
        return context(said_mrkdwn(settled_words(draft, "slack")))
    return context(f"{deadline_line(draft.unreviewed, _when(draft.review_until))} Edits carry "
                   "over to the round's later digests.")


def _when(iso: str | None) -> str:
    """A deadline as Slack shows a date: in each reader's own time zone (UTC where it cannot)."""
    if not iso:
        return "its deadline"
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # stored in UTC
    return (f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}"
            f"|{local_time(moment, 'UTC')}>")


def _question_text(prompt: PromptDigest) -> str:
    """The question (the pack's words, for plain text) and its count."""
    head = shortened(prompt.question, 300)
    if prompt.kind != "text":
        return f"{head}\n{counted(prompt.answer_count, 'ballot')}"
    if not prompt.themes:
        return f"{head}\n{counted(prompt.answer_count, 'answer')}, no themes"
    return head


def _cut(round_id: int) -> Part:
    """What ends a draft cut to fit Slack: where the whole draft is, in italics, the command
    as code."""
    return line(*(words(part, italic=True) if isinstance(part, str) else
                  words(code_words(part), code=True)
                  for part in cut_words("Slack", round_id).parts
                  if isinstance(part, str | Code | Command)))


def _drafted(prompt: PromptDigest, waiting: bool, anonymity: str, cut: Part) -> list[Part]:
    """The lead, then each theme numbered with its quotes, then the other answers the digest
    lists (each with its answer id and attribution), as rich text: people's words shown
    exactly as written."""
    out: list[Part] = []
    if prompt.lead:
        out.append(line(words(prompt.lead, LEAD_LIMIT + 20, italic=True)))
    if prompt.kind != "text":
        return _within(out + _vote_words(prompt, anonymity), cut)
    for number, theme in enumerate(prompt.themes, start=1):
        out.append(line(words(f"{number}. "), words(theme.title, 150, bold=True),
                        words(f" · {theme_size(theme)}")))
        out += [_quote(q, anonymity) for q in theme.quotes]
    others = other_answers(prompt)
    if others:  # listed in the digest word for word, as quotes are
        out.append(line(words(other_answers_heading(prompt), bold=True)))
        listed = others[:OTHER_ANSWERS_SHOWN]
        out += [_quote(QuoteView(a.reply_id, a.text, a.by), anonymity) for a in listed]
        if more := not_listed_line(prompt):
            out.append(line(words(more)))
    if waiting and (aside := review_form.set_aside_note(prompt)) is not None:
        out.append(line(words(aside)))
    return _within(out, cut)


def _vote_words(prompt: PromptDigest, anonymity: str) -> list[Part]:
    """A vote's reasons, under the option their ballots put first, and its comments: quoted
    in the digest word for word, so shown as a theme's quotes are."""
    out: list[Part] = []
    for reasons in prompt.reasons:
        out.append(line(words(reasons.option, 150, bold=True),
                        words(": why people put it first")))
        out += [_quote(q, anonymity) for q in reasons.quotes]
    if prompt.comments:
        out.append(line(words(comments_heading(prompt), bold=True)))
    return out + [_quote(q, anonymity) for q in prompt.comments]


def _quote(quote: QuoteView, anonymity: str) -> Part:
    """A quote as the draft shows it: its beginning, its attribution as the group will read
    it, and the id an edit names it by."""
    return quoted(words("“"), words(quote.text, QUOTE_SHOWN), words("”"),
                  words(attributed(quote.by, anonymity) + " ", 250, italic=True),
                  words(quote.reply_id, code=True))


def _within(parts: list[Part], cut: Part) -> list[Part]:
    """A draft's question within one rich text block's characters, cut from its end (its
    first paragraph kept whatever its length), saying so with `cut`."""
    if rich_length(parts) <= RICH_TEXT:
        return parts
    return (kept_within(parts, RICH_TEXT - rich_length([cut])) or parts[:1]) + [cut]


def edit_view(opened: Opened, prompt_id: str) -> dict[str, Any]:
    """The form that edits one question of the draft; every field may be left empty."""
    view, digest_id = opened.draft.view, opened.draft.digest_id
    prompt = view.prompt(prompt_id)
    if prompt is None:
        # the button's value came back from Slack: not repeated, it may not be ours
        raise ValueError(f"the question this Edit button is for is not one of round "
                         f"{view.round.id}'s {len(view.prompts)} questions; please use the "
                         "Edit buttons of the newest draft")
    blocks: list[Block] = [rich(line(words(prompt.question, 2800, bold=True)))]
    offered = review_form.choices(prompt, hidden_words=opened.hidden_words)

    def cut(field: str, listed: list[Choice], what: str) -> list[Block]:
        """The note under a list cut to fit: what it left out, and where to edit that."""
        if field not in offered.in_all:
            return []
        return [context(said_mrkdwn(form_cut_words("Slack", view.round.id, len(listed),
                                                   offered.in_all[field], what)))]

    if offered.themes:
        themes = _options(offered.themes)
        blocks += [
            _select(RENAME_THEME, themes),
            _text(RENAME_TITLE, TITLE_LIMIT),
            _select(MERGE_THEME, themes),
            _select(MERGE_INTO, themes),
            *cut(RENAME_THEME, offered.themes, "themes"),
        ]
        if offered.answers:
            blocks += [
                _several(MOVE_ANSWER, _options(offered.answers)),
                *cut(MOVE_ANSWER, offered.answers, "answers"),
                _select(MOVE_TO, _options(offered.targets)),
                _text(NEW_TITLE, TITLE_LIMIT),
            ]
    if offered.quotes:
        blocks.append(_several(HIDE, _options(offered.quotes), review_form.label(HIDE, prompt)))
        blocks += cut(HIDE, offered.quotes, "quotes")
    if offered.hidden:
        blocks.append(_several(SHOW, _options(offered.hidden), review_form.label(SHOW, prompt)))
        blocks += cut(SHOW, offered.hidden, "hidden answers")
    blocks.append(_text(LEAD, LEAD_LIMIT, initial=prompt.lead or ""))
    return View(
        type="modal", callback_id=REVIEW_VIEW, title=plain("Edit the draft", 24),
        submit=plain("Save", 24), close=plain("Cancel", 24), blocks=blocks,
        notify_on_close=True,  # its record goes once it is closed (review.form_done)
        private_metadata=json.dumps({"round": view.round.id, "digest": digest_id,
                                     "prompt": prompt_id,
                                     review_form.SEEN: view.round.generated_at}),
    ).to_dict()


def closed_view(note: Said) -> dict[str, Any]:
    """What an edit form shows once the answers it listed are deleted: the note alone, and
    nothing to save."""
    return View(type="modal", callback_id=CLOSED_VIEW, title=plain("Edit the draft", 24),
                close=plain("Close", 24),
                blocks=[SectionBlock(text=plain(note.plain, SECTION_TEXT))]).to_dict()


def _options(chosen: list[Choice]) -> list[Option]:
    return [Option(text=plain(_shown(c.text), OPTION_TEXT), value=c.value) for c in chosen]


def _shown(text: str) -> str:
    return shortened(" ".join(text.split()), OPTION_TEXT)


def _select(block_id: str, options: list[Option]) -> InputBlock:
    return InputBlock(block_id=block_id, label=plain(LABELS[block_id], 2000), optional=True,
                      element=StaticSelectElement(action_id="value", options=options,
                                                  placeholder=plain("Choose", 150)))


def _several(block_id: str, options: list[Option], label: str = "") -> InputBlock:
    return InputBlock(block_id=block_id, label=plain(label or LABELS[block_id], 2000),
                      optional=True,
                      element=StaticMultiSelectElement(action_id="value", options=options,
                                                       placeholder=plain("Choose", 150)))


def _text(block_id: str, limit: int, initial: str = "") -> InputBlock:
    return InputBlock(block_id=block_id, label=plain(LABELS[block_id], 2000), optional=True,
                      element=PlainTextInputElement(action_id="value", max_length=limit,
                                                    initial_value=initial or None))


def form_fields(values: Any) -> dict[str, str | list[str]]:
    """A submitted edit form's `view.state.values` as field name → value (the answers to move
    and the quotes to hide: lists), for bot.app.review_form to read; ValueError when an input
    is not of the shape this form's elements send."""
    fields: dict[str, str | list[str]] = {}
    for block, states in form_inputs(values).items():
        state = states.get("value") or FormInput()
        if state.selected_options is not None:
            fields[block] = [o.value for o in state.selected_options]
        else:
            chosen = state.selected_option.value if state.selected_option else None
            fields[block] = chosen or state.value or ""
    return fields
