"""A digest waiting for review, in Slack: the draft a facilitator gets in a direct message
(each question with its themes, numbered, an Edit button, and Approve), and the form that
edits one question (rename, merge, move an answer, hide quotes, write its lead).

People's words pass through `inert`; option texts are plain text, which Slack never renders
as markup.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
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

from bot.app.review import OTHER, Change
from bot.core.digest.edits import LEAD_LIMIT, TITLE_LIMIT
from bot.core.digest.model import DigestView, Draft, PromptDigest
from bot.core.wording import counted
from bot.slack.limits import HEADER_TEXT, OPTION_TEXT, SECTION_TEXT, SELECT_OPTIONS
from bot.slack.messages import SlackMessage, context, message, plain
from bot.slack.mrkdwn import cut, inert, to_plain

REVIEW_EDIT = "digest_review_edit"
REVIEW_APPROVE = "digest_review_approve"
REVIEW_VIEW = "digest_review_submit"
QUOTE_SHOWN = 90
"""How much of a quote the draft shows: enough to recognise it (the digest shows it all)."""
FIELDS = ("rename_theme", "rename_title", "merge_theme", "merge_into", "move_answer",
          "move_to", "hide", "lead")


def draft_message(draft: Draft) -> SlackMessage:
    """The draft as a facilitator sees it: a question a section, with its Edit button; then
    Approve. Once settled, the same message says what became of it, without buttons."""
    view = draft.view
    value = json.dumps({"round": view.round.id, "digest": draft.digest_id})
    text = f"Draft digest of round {view.round.id} ({inert(view.round.title, 200)}) for review"
    blocks: list[Block] = [HeaderBlock(text=plain(f"For review: {view.round.title}",
                                                  HEADER_TEXT)),
                           context(_state_line(draft))]
    for prompt in view.prompts:
        section = SectionBlock(text=MarkdownTextObject(text=_question_text(prompt)))
        if draft.waiting:
            section.accessory = ButtonElement(
                text=plain("Edit", 75), action_id=f"{REVIEW_EDIT}:{prompt.prompt_id}"[:255],
                value=json.dumps({"round": view.round.id, "digest": draft.digest_id,
                                  "prompt": prompt.prompt_id}))
        blocks.append(section)
    if draft.waiting:
        blocks.append(ActionsBlock(elements=[ButtonElement(
            text=plain("Approve and post", 75), action_id=REVIEW_APPROVE, value=value,
            style="primary", confirm=ConfirmObject(
                title=plain("Post this digest?", 100),
                text=MarkdownTextObject(text="It goes to the round's digest channel now, as "
                                             "shown here."),
                confirm=plain("Post it", 30), deny=plain("Not yet", 30)))]))
    return message(text, blocks[:49])


def _state_line(draft: Draft) -> str:
    if draft.state == "superseded":
        return "A newer draft of this round took the place of this one."
    if not draft.waiting:
        by = draft.approved_by
        if by == "scheduler":
            return "Posted as built at its review deadline."
        return "Approved" + (f" by {inert(by)}" if by else "") + " and posted."
    when = _when(draft.review_until)
    then = ("it is posted as built" if draft.unreviewed == "post"
            else "it keeps waiting for approval")
    return (f"Nothing is posted until a facilitator approves it. If nobody has by {when}, "
            f"{then}. Edits carry over to the round's later digests.")


def _when(iso: str | None) -> str:
    if not iso:
        return "its deadline"
    return f"{datetime.fromisoformat(iso):%a %d %b %H:%M} UTC"


def _question_text(prompt: PromptDigest) -> str:
    head = f"*{inert(prompt.question, 300)}*"
    out = [head]
    if prompt.lead:
        out.append(f"_{inert(prompt.lead, LEAD_LIMIT + 20)}_")
    if prompt.kind != "text":
        out.append(counted(prompt.answer_count, "ballot"))
        return "\n".join(out)
    if not prompt.themes:
        out.append(counted(prompt.answer_count, "answer") + ", no themes")
    for number, theme in enumerate(prompt.themes, start=1):
        out.append(f"{number}. *{inert(theme.title, 150)}* · "
                   f"{counted(len(theme.reply_ids), 'answer')}")
        out += [f"      “{inert(q.text, QUOTE_SHOWN)}” `{q.reply_id}`" for q in theme.quotes]
    others = len(prompt.unthemed_reply_ids)
    if others and prompt.themes:
        out.append(f"Other answers: {others}")
    text = "\n".join(out)
    return text if len(text) <= SECTION_TEXT else text[: SECTION_TEXT - 1] + "…"


def edit_view(view: DigestView, digest_id: int, prompt_id: str) -> dict[str, Any]:
    """The form that edits one question of the draft; every field may be left empty."""
    prompt = view.prompt(prompt_id)
    if prompt is None:
        raise ValueError(f"no question {prompt_id}")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"*{inert(prompt.question, 2800)}*"))]
    themes = [Option(text=plain(f"{n}. {to_plain(t.title)}", OPTION_TEXT), value=str(n))
              for n, t in enumerate(prompt.themes, start=1)][:SELECT_OPTIONS]
    if themes:
        answers = [Option(text=plain(f"{_shown(a.text)}", OPTION_TEXT), value=a.reply_id)
                   for a in prompt.answers if not a.noise][:SELECT_OPTIONS]
        quotes = [Option(text=plain(_shown(q.text), OPTION_TEXT), value=q.reply_id)
                  for t in prompt.themes for q in t.quotes][:SELECT_OPTIONS]
        blocks += [
            _select("rename_theme", "Rename theme", themes),
            _text("rename_title", "New title", TITLE_LIMIT),
            _select("merge_theme", "Merge theme", themes),
            _select("merge_into", "into theme", themes),
        ]
        if answers:
            blocks += [
                _select("move_answer", "Move answer", answers),
                _select("move_to", "to", [*themes, Option(text=plain("Other answers", 75),
                                                          value=OTHER)]),
            ]
        if quotes:
            blocks.append(InputBlock(
                block_id="hide", label=plain("Hide quotes (the answers still count)", 2000),
                optional=True, element=StaticMultiSelectElement(action_id="value",
                                                                options=quotes)))
    blocks.append(_text("lead", "Lead (one line, above the themes)", LEAD_LIMIT,
                        initial=prompt.lead or ""))
    return View(
        type="modal", callback_id=REVIEW_VIEW, title=plain("Edit the draft", 24),
        submit=plain("Save", 24), close=plain("Cancel", 24), blocks=blocks,
        private_metadata=json.dumps({"round": view.round.id, "digest": digest_id,
                                     "prompt": prompt_id}),
    ).to_dict()


def _shown(text: str) -> str:
    plain_text = " ".join(to_plain(text).split())
    return plain_text if len(plain_text) <= OPTION_TEXT else cut(plain_text, OPTION_TEXT)


def _select(block_id: str, label: str, options: list[Option]) -> InputBlock:
    return InputBlock(block_id=block_id, label=plain(label, 2000), optional=True,
                      element=StaticSelectElement(action_id="value", options=options,
                                                  placeholder=plain("Choose", 150)))


def _text(block_id: str, label: str, limit: int, initial: str = "") -> InputBlock:
    return InputBlock(block_id=block_id, label=plain(label, 2000), optional=True,
                      element=PlainTextInputElement(action_id="value", max_length=limit,
                                                    initial_value=initial or None))


def changes_from_state(prompt_id: str, lead_before: str | None,
                       values: dict[str, dict[str, Any]]) -> list[Change]:
    """The changes a submitted edit form asks for; ValueError (naming the field) when a pair
    is half filled in."""

    def picked(block: str) -> str:
        state = values.get(block, {}).get("value", {})
        chosen = state.get("selected_option") or {}
        return str(chosen.get("value") or state.get("value") or "").strip()

    changes: list[Change] = []
    theme, title = picked("rename_theme"), picked("rename_title")
    if theme or title:
        if not (theme and title):
            raise FieldError("rename_title" if theme else "rename_theme",
                             "give both the theme and its new title")
        changes.append(Change("rename", prompt_id, theme=int(theme), text=title,
                              source="rename_title"))
    merged, into = picked("merge_theme"), picked("merge_into")
    if merged or into:
        if not (merged and into):
            raise FieldError("merge_into" if merged else "merge_theme",
                             "give both themes to merge")
        changes.append(Change("merge", prompt_id, theme=int(merged), into=int(into),
                              source="merge_into"))
    answer, to = picked("move_answer"), picked("move_to")
    if answer or to:
        if not (answer and to):
            raise FieldError("move_to" if answer else "move_answer",
                             "give both the answer and where it goes")
        changes.append(Change("move", prompt_id, reply_id=answer, to=to, source="move_to"))
    hidden = values.get("hide", {}).get("value", {}).get("selected_options") or []
    changes += [Change("hide", prompt_id, reply_id=str(o.get("value")), source="hide")
                for o in hidden]
    if "lead" in values:
        lead = picked("lead")
        if lead != (lead_before or ""):
            changes.append(Change("lead", prompt_id, text=lead, source="lead"))
    return changes


class FieldError(ValueError):
    """A form field filled in wrongly: which one, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
