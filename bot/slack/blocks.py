"""Block Kit for everything Roundtable posts or opens, built with slack_sdk's models.

Words that people wrote (answers, and the pack's words a facilitator wrote: its intro,
questions, options) are shown exactly as written: in rich text (bot.slack.messages), or in
plain text where a block takes no rich text (context), never as mrkdwn, which would turn
`*really*` bold and has no way to escape it. The bot's own wording keeps its mrkdwn, with any
words of others in it made `inert`. Each message is checked against Block Kit's limits
(`limits.py`) by the gateway before it is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core.home import HomeView
from bot.core.incoming import Kept
from bot.core.packs import Pack, Prompt
from bot.core.questions import (
    NOT_QUOTED_NOTE,
    WRONG_QUESTION,
    Asked,
    Question,
    Saved,
    how_it_goes,
    quote_choice,
    saved_as,
    saved_to,
    saved_together,
)
from bot.core.read_back import NOT_WHAT_YOU_MEANT, correction, read_back
from bot.core.typed_votes import how_to_type, numbered_options
from bot.slack.limits import HEADER_TEXT, RICH_TEXT, SECTION_TEXT, VIEW_BLOCKS
from bot.slack.messages import (
    Part,
    SlackMessage,
    context,
    fitted,
    line,
    message,
    plain,
    plain_context,
    quoted,
    rich,
    section,
    words,
)
from bot.slack.mrkdwn import escape, inert, said_mrkdwn
from bot.slack.payloads import UNREADABLE

ANSWER_OPEN = "answer_open"
SKIP = "question_skip"
ANSWER_VIEW = "answer_submit"
START_OPEN = "start_open"
START_VIEW = "start_submit"
FORGET_CONFIRM = "forget_confirm"
FORGET_CANCEL = "forget_cancel"
DONT_QUOTE = "answer_dont_quote"
SAVE_KEPT = "kept_save"
SAVE_KEPT_LABEL = "Save as my answer"
MODES = (("role", "By role: quotes carry role (and organisation), never a name"),
         ("named", "Named: quotes carry the person's name and role"),
         ("anonymous", "Anonymous: no name, role or organisation anywhere"))
DELETE_CONFIRM = "round_delete"
DELETE_CANCEL = "round_delete_cancel"
ANSWER_BLOCK = "answer"
RANK_BLOCK = "rank"
QUOTE_LIMIT = 2800
"""How much of an answer a confirmation shows; the rest is in the export."""
SHARED_QUOTE_LIMIT = 600
"""How much of each answer a confirmation of several shows."""
OPTION_LIMIT = 90
"""How much of an option a vote's confirmation shows."""
CUT = line(words("…"))
"""In place of the lines of a vote that do not fit."""
OPTION_PLACE = re.compile(r"[0-9]{1,4}")
"""An option's value in our forms: its place in the prompt's options (not isdigit(): "²" is a
digit int() refuses)."""


def question_message(question: Question) -> SlackMessage:
    """One question; the first comes under the pack's title and intro, with how answering
    works. The next question follows once this one is answered or skipped."""
    prompt = question.prompt
    number = f"Question {question.number} of {question.total} · "
    blocks: list[Block] = []
    text = f"{number}{inert(prompt.section, 200)}: {inert(prompt.question, 2400)}"
    if question.intro is not None:
        pack = question.intro
        blocks += [HeaderBlock(text=plain(pack.title, HEADER_TEXT)),
                   rich(line(words(pack.intro, RICH_TEXT)))]
        if question.notice is not None:
            blocks.append(section(cut_mrkdwn(said_mrkdwn(question.notice))))
        blocks.append(context(said_mrkdwn(how_it_goes(question))))
        text = f"{inert(pack.title)}: {text}"
    blocks.append(rich(line(words(number + prompt.section, len(number) + 200, bold=True),
                            words("\n" + prompt.question, 2400))))
    if prompt.context:
        blocks.append(plain_context(prompt.context, 2000))
    value = json.dumps({"round": question.round_id, "prompt": prompt.id})
    if prompt.kind == "text":
        blocks.append(context("Write your answer here, or reply in this thread, or use the form."))
        label, style = "Answer in a form", None
    else:
        verb = "Rank" if prompt.kind == "rank" else "Choose"
        label, style = f"{verb} your answer", "primary"
        blocks.append(plain_context(f"{numbered_options(prompt)}\n{how_to_type(prompt)}",
                                    2000))
    buttons = [ButtonElement(text=plain(label, 75), action_id=ANSWER_OPEN, value=value,
                             style=style)]
    if question.number < question.total:
        buttons.append(ButtonElement(text=plain("Skip for now", 75), action_id=SKIP,
                                     value=value))
    blocks.append(ActionsBlock(elements=buttons))
    return message(text, blocks)


def confirmation(one: Saved, text: str) -> SlackMessage:
    """What the bot says when it stored an answer (or an edit of one, or words added to one):
    which question, and what was kept (as written: rich text)."""
    asked, verb = one.asked, saved_as(one)
    blocks: list[Block] = [rich(line(words(verb), words(asked.prompt.question, 300))),
                           rich(quoted(words(text, QUOTE_LIMIT)))]
    what = verb + inert(asked.prompt.question, 300)
    if len(text) > QUOTE_LIMIT:
        blocks.append(context(
            f"Your whole answer ({len(text):,} characters) is kept; only the start is shown here. "
            "It appears in full in the round's export."))
    if one.added:
        blocks.append(context(Saved.ADDED))
    blocks.append(context(said_mrkdwn(WRONG_QUESTION)))
    return message(what, blocks + _dont_quote(asked, text, one.external_id, one.quotable))


def _dont_quote(asked: Asked, text: str, external_id: str | None,
                quotable: bool = True) -> list[Block]:
    """The "Don't quote me" button under a written answer (or the note, when it says so or
    the person asked already)."""
    offered = quote_choice(asked, text, external_id, quotable)
    if offered is None:
        return []
    if not offered:
        return [context(NOT_QUOTED_NOTE)]
    return [ActionsBlock(elements=[ButtonElement(
        text=plain("Don't quote me", 75), action_id=DONT_QUOTE,
        value=json.dumps({"answer": external_id}))])]


def confirmations(saved: Sequence[Saved], revised: bool = False) -> SlackMessage:
    """One message for answers that arrived together in a conversation: which question each
    was saved to, and its start; a vote typed in words is read back as its own confirmation
    would; a file sent with the words is said not to be kept. (Slack takes about one message
    a second per conversation; bot.app.confirmations sends at most 20 together: two blocks
    each, 44 blocks of the 50.) `revised`: brought up to date after an edit of one of them."""
    out = _confirmations(saved, revised)
    if not any(s.files_dropped for s in saved):
        return out
    # under the words saved (of one answer), or above the last line (of several)
    at = 2 if len(saved) == 1 else len(out.blocks) - 1
    note = context(Saved.FILES_NOT_KEPT).to_dict()
    return SlackMessage(out.text, [*out.blocks[:at], note, *out.blocks[at:]], out.files)


def _confirmations(saved: Sequence[Saved], revised: bool) -> SlackMessage:
    if len(saved) == 1:
        one = saved[0]
        if isinstance(one.answer, str):
            return confirmation(one, one.answer)
        return vote_confirmation(one)
    what = saved_together(saved, revised)
    blocks: list[Block] = [section(what)]
    for one in saved:
        question = line(words(saved_to(one, saved) + one.asked.prompt.question, 200,
                              bold=True))
        understood = read_back(one)
        if understood is not None:
            blocks.append(rich(*fitted([question, line(words(understood.heading)),
                                        *_option_lines(understood.lines)], CUT)))
            if understood.note:
                blocks.append(context(understood.note))
            continue
        text = one.answer if isinstance(one.answer, str) else "; ".join(one.answer)
        blocks += [rich(question, quoted(words(text, SHARED_QUOTE_LIMIT))),
                   *_dont_quote(one.asked, text, one.external_id)]
    how = correction(saved)
    if how is not None:
        blocks.append(context(said_mrkdwn(how)))
    blocks.append(context(said_mrkdwn(WRONG_QUESTION)))
    return message(what, blocks)


def _option_lines(options: Sequence[str]) -> list[Part]:
    return [line(words(option, OPTION_LIMIT)) for option in options]


def vote_confirmation(saved: Saved) -> SlackMessage:
    """A vote saved alone: read back as understood when it was typed in words."""
    asked = saved.asked
    understood = read_back(saved)
    if understood is None:
        what = f"{'Updated' if saved.updated else 'Saved'} your answer to question {asked.number}: "
        options = [f"{n}. {o}" for n, o in enumerate(saved.answer, start=1)]
    else:
        what, options = understood.saved, understood.lines
    blocks: list[Block] = [rich(line(words(what), words(asked.prompt.question, 300))),
                           rich(*fitted(_option_lines(options), CUT))]
    what = inert(what) + inert(asked.prompt.question, 300)
    if understood is not None:
        if understood.note:
            blocks.append(context(understood.note))
        blocks.append(context(said_mrkdwn(NOT_WHAT_YOU_MEANT)))
    return message(what, blocks)


def save_offer(reply: SlackMessage, kept: Kept) -> SlackMessage:
    """The bot's reply to words it did not take as an answer, with the button that saves
    them as one (its value carries them)."""
    button = ButtonElement(text=plain(SAVE_KEPT_LABEL, 75), action_id=SAVE_KEPT,
                           value=json.dumps(kept.to_data()))
    return SlackMessage(reply.text, [*reply.blocks, ActionsBlock(elements=[button]).to_dict()],
                        reply.files)


def notice(text: str) -> SlackMessage:
    """A short plain message (a refusal, an error that may quote what was typed), shown as
    written; escaped in `text`, so nothing in it can ping."""
    return message(escape(text), [rich(line(words(text, RICH_TEXT)))])


def answer_view(asked: Asked) -> dict[str, Any]:
    """The modal that answers one question: a text box, a choice, or N selects to rank."""
    prompt = asked.prompt
    blocks: list[Block] = [rich(line(words(f"Question {asked.number}", bold=True),
                                     words("\n" + prompt.question, 2800)))]
    blocks += _answer_inputs(prompt)
    view = View(
        type="modal", callback_id=ANSWER_VIEW, title=plain("Your answer", 24),
        submit=plain("Save", 24), close=plain("Cancel", 24), blocks=blocks,
        private_metadata=json.dumps({"round": asked.round_id, "prompt": prompt.id}),
    )
    return view.to_dict()


def _options(prompt: Prompt) -> list[Option]:
    return [Option(text=plain(o, 75), value=str(i)) for i, o in enumerate(prompt.options)]


def _answer_inputs(prompt: Prompt) -> list[Block]:
    if prompt.kind == "text":
        return [InputBlock(block_id=ANSWER_BLOCK, label=plain("Your answer", 2000),
                           element=PlainTextInputElement(action_id="value", multiline=True))]
    if prompt.kind == "choice" and prompt.picks == 1:
        element: Any = StaticSelectElement(action_id="value", options=_options(prompt),
                                           placeholder=plain("Choose one", 150))
        return [InputBlock(block_id=ANSWER_BLOCK, label=plain("Your choice", 2000),
                           element=element)]
    if prompt.kind == "choice":
        element = (CheckboxesElement(action_id="value", options=_options(prompt))
                   if len(prompt.options) <= 10 else
                   StaticMultiSelectElement(action_id="value", options=_options(prompt),
                                            max_selected_items=prompt.picks))
        return [InputBlock(block_id=ANSWER_BLOCK, label=plain(f"Choose up to {prompt.picks}",
                                                              2000), element=element)]
    places = prompt.places
    return [
        InputBlock(block_id=f"{RANK_BLOCK}-{place}", label=plain(_ordinal(place), 2000),
                   element=StaticSelectElement(action_id="value", options=_options(prompt),
                                               placeholder=plain("Pick one", 150)))
        for place in range(1, places + 1)
    ]


def _ordinal(n: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix} choice"


def answer_from_state(prompt: Prompt, values: dict[str, Any]) -> str | list[str]:
    """What a submitted answer form says: the text, or the options chosen in ranked order;
    ValueError when the form's state is not what the form asked for."""
    try:
        if prompt.kind == "text":
            text = values[ANSWER_BLOCK]["value"].get("value") or ""
            if not isinstance(text, str):
                raise TypeError("the answer is not text")
            return text
        return choices_from_state(prompt, values)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(UNREADABLE) from exc


def choices_from_state(prompt: Prompt, values: dict[str, dict[str, Any]]) -> list[str]:
    """The options a submitted answer view chose, in the order the person ranked them."""
    picked: list[dict[str, Any]] = []
    if prompt.kind == "rank":
        for place in range(1, prompt.places + 1):
            selected = values.get(f"{RANK_BLOCK}-{place}", {}).get("value", {})
            if selected.get("selected_option"):
                picked.append(selected["selected_option"])
    else:
        state = values.get(ANSWER_BLOCK, {}).get("value", {})
        picked = ([state["selected_option"]] if state.get("selected_option")
                  else list(state.get("selected_options") or []))
    return [_option(prompt, o) for o in picked]


def _option(prompt: Prompt, picked: Any) -> str:
    """The option a form's choice names by its place, as `_options` numbers them: "-1" would
    be the last option, so only the places the form offered are read."""
    value = picked.get("value") if isinstance(picked, dict) else None
    if not (isinstance(value, str) and OPTION_PLACE.fullmatch(value)
            and int(value) < len(prompt.options)):
        raise ValueError(UNREADABLE)
    return prompt.options[int(value)]


def start_view(packs: Sequence[Pack]) -> dict[str, Any]:
    """The form that starts a round, for people who prefer it to typing the command."""
    pack_options = [Option(text=plain(p.title, 75), value=p.id[:150]) for p in packs][:100]
    blocks: list[Block] = [
        InputBlock(block_id="pack", label=plain("Prompt pack", 2000),
                   element=StaticSelectElement(action_id="value", options=pack_options)),
        InputBlock(block_id="channel", label=plain("Ask the members of a channel", 2000),
                   optional=True, element=ConversationSelectElement(action_id="value")),
        InputBlock(block_id="users", label=plain("…and/or these people", 2000), optional=True,
                   element=UserMultiSelectElement(action_id="value")),
        InputBlock(block_id="digest", label=plain("Post digests in", 2000), optional=True,
                   element=ConversationSelectElement(action_id="value")),
        InputBlock(block_id="closes", label=plain("Closes (14d or 2026-12-18)", 2000),
                   optional=True, element=PlainTextInputElement(action_id="value")),
        InputBlock(block_id="mode", label=plain("How quotes are attributed", 2000),
                   element=RadioButtonsElement(
                       action_id="value", options=[Option(text=plain(label, 75), value=value)
                                                   for value, label in MODES],
                       initial_option=Option(text=plain(MODES[0][1], 75), value=MODES[0][0]))),
    ]
    return View(type="modal", callback_id=START_VIEW, title=plain("Start a round", 24),
                submit=plain("Start", 24), close=plain("Cancel", 24), blocks=blocks).to_dict()


def home_view(home: HomeView) -> dict[str, Any]:
    """The App Home: a facilitator's rounds and Start button; anyone's open questions."""
    rounds, questions, facilitator = home.rounds, home.questions, home.facilitator
    blocks: list[Block] = []
    if facilitator:
        blocks += [HeaderBlock(text=plain("Rounds", HEADER_TEXT)), ActionsBlock(elements=[
            ButtonElement(text=plain("Start a round", 75), action_id=START_OPEN,
                          style="primary")])]
        for one in rounds[:20]:
            blocks.append(rich(line(
                words(f"Round {one.id}", bold=True), words(" · "), words(one.title, 200),
                words(f" · {one.status}\n{one.sent} delivered, {one.pending} pending, "
                      f"{one.failed} failed · {one.answered} of {one.invited} answered"))))
        if not rounds:
            blocks.append(context("No rounds yet."))
        blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text=plain("Your open questions", HEADER_TEXT)))
    shown = questions[: (VIEW_BLOCKS - len(blocks) - 1) // 2]  # two blocks each, a last line
    for asked in shown:
        value = json.dumps({"round": asked.round_id, "prompt": asked.prompt.id})
        blocks += [rich(line(words(f"Question {asked.number}", bold=True), words(" · "),
                             words(asked.prompt.question, 2800))),
                   ActionsBlock(elements=[ButtonElement(text=plain("Answer", 75),
                                                        action_id=ANSWER_OPEN, value=value)])]
    if not questions:
        blocks.append(context("Nothing waiting for you. Thank you!"))
    elif len(shown) < len(questions):
        blocks.append(context(f"…and {len(questions) - len(shown)} more in your messages."))
    return View(type="home", blocks=blocks).to_dict()


def forget_prompt(text: str) -> SlackMessage:
    """forget-me's question (`text`, mrkdwn) with its Delete everything and Cancel buttons."""
    return message(text, [section(text), ActionsBlock(elements=[
        ButtonElement(text=plain("Delete everything", 75), action_id=FORGET_CONFIRM,
                      style="danger"),
        ButtonElement(text=plain("Cancel", 75), action_id=FORGET_CANCEL),
    ])])


def cut_mrkdwn(text: str) -> str:
    """mrkdwn already made inert, kept within a section's 3,000 characters."""
    return text if len(text) <= SECTION_TEXT else text[:SECTION_TEXT - 1].rsplit(" ", 1)[0] + "…"


def without_dont_quote(blocks: list[dict[str, Any]], external_id: str) -> list[dict[str, Any]]:
    """A confirmation's blocks once its answer may no longer be quoted: the button gone,
    a note in its place. (Confirmations of several answers posted by earlier versions hold
    the button beside the answer, in a section.)"""
    value = json.dumps({"answer": external_id})
    out: list[dict[str, Any]] = []
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == DONT_QUOTE and accessory.get("value") == value:
            text = dict(block["text"])
            text["text"] = cut_mrkdwn(f"{text['text']}\n_{NOT_QUOTED_NOTE}_")
            out.append({k: v for k, v in block.items() if k != "accessory"} | {"text": text})
        elif block.get("type") == "actions" and any(
                e.get("action_id") == DONT_QUOTE and e.get("value") == value
                for e in block.get("elements") or []):
            out.append(context(NOT_QUOTED_NOTE).to_dict())
        else:
            out.append(block)
    return out


def delete_prompt(round_id: int, asked: str, text: str) -> SlackMessage:
    """What deleting a round removes, with a button that asks once more before it does; both
    buttons carry the round and `asked`, the question's id."""
    value = json.dumps({"round": round_id, "asked": asked})
    return message(text, [section(text), ActionsBlock(elements=[
        ButtonElement(
            text=plain(f"Delete round {round_id}", 75), action_id=DELETE_CONFIRM,
            value=value, style="danger",
            confirm=ConfirmObject(title=plain("Delete the round?", 100),
                                  text=plain(f"Round {round_id} and all its answers go for "
                                             "good.", 300),
                                  confirm=plain("Delete", 30), deny=plain("Keep it", 30),
                                  style="danger")),
        ButtonElement(text=plain("Cancel", 75), action_id=DELETE_CANCEL, value=value),
    ])])
