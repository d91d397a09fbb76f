"""Adaptive Cards for everything the bot posts in a 1:1 chat: questions (with their answer
inputs), confirmations, the start form, someone's open questions, forget-me and the deletion
of a round (each asking first, with a Cancel button).

Answer inputs sit on the question's card: `Input.Text` for a written answer, `Input.ChoiceSet`
for a choice, one ChoiceSet per place for a ranking. Each button is an Action.Execute with an
Action.Submit fallback (bot.teams.render.action), both carrying the same data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from bot.app.confirmations import CONFIRMED_TOGETHER
from bot.core.answers import Shown, shown_of
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
from bot.core.read_back import NOT_WHAT_YOU_MEANT, ReadBack, correction, read_back
from bot.core.said import Code, Said, said
from bot.core.typed_votes import how_to_type, numbered_options, read_vote, which_unread
from bot.core.wording import counted, listed
from bot.teams.activities import OURS
from bot.teams.render import (
    MAX_CARD_BYTES,
    Element,
    action,
    card,
    choice_set,
    heading,
    note,
    plain,
    rich,
    run,
    said_elements,
    said_line,
    said_note,
    size,
)
from storage.models import row_id

ANSWER, SKIP, START, FORGET, CANCEL = "answer", "skip", "start", "forget", "cancel"
ON, QUESTIONS = "on", "questions"
"""The key that marks a button of the open-questions card, and its value."""
DELETE_ROUND = "delete-round"
SAVE_KEPT = "save-kept"
SAVE_KEPT_LABEL = "Save as my answer"
DONT_QUOTE = "dont-quote"
DONT_QUOTE_LABEL = "Don't quote me"
SHOWN, FILES = "card", "files"
"""What a "Don't quote me" button carries besides its answer: the answers its card shows, and
that the card said files were not kept (DontQuote)."""
ANSWER_ID_CHARS = 200
"""The longest answer id a "Don't quote me" button may carry (an answer's external id)."""
STALE = "that card could not be read; please use the newest one"
ANSWER_INPUT = "answer"
RANK_INPUT = "rank-{}"
RANKING_INPUT = "ranking"
"""A ranking's one box, written in, where a list a place does not fit in a card."""
RANKING_CHARS = 2000
RANK_LISTS_BYTES = 12_000
"""How much of a card a ranking's lists (one a place, each listing every option) may take:
the rest of MAX_CARD_BYTES holds the question, its numbered options (up to 100 of 75
characters) and a pack's intro. Beyond it the ranking is written in one box."""
QUOTE_CHARS = 1500
SHARED_CUTS = (400, 200, 100)
"""How much of each question and answer a confirmation of several shows: the most that fits."""
OPTION = re.compile(r"[0-9]{1,4}")
UNREADABLE = "that form could not be read; please use the newest card"


def _target(verb: str, round_id: int, prompt_id: str) -> dict[str, Any]:
    return {OURS: verb, "round": round_id, "prompt": prompt_id}


def question_card(question: Question, names: Mapping[str, str] | None = None) -> Element:
    """One question, under the pack's title and intro when it is the first, with how the
    round uses the person's words (a channel named by its name in `names`)."""
    prompt = question.prompt
    body: list[Element] = []
    if question.intro is not None:
        pack = question.intro
        body += [heading(pack.title, "Large"), rich(pack.intro)]
        if question.notice is not None:
            body += said_elements(question.notice, names)
        body.append(said_note(how_it_goes(question)))
    body += [rich(run(f"Question {question.number} of {question.total} · ", bold=True),
                  run(prompt.section, bold=True), separator=question.intro is not None),
             rich(prompt.question)]
    if prompt.context:
        body.append(note(prompt.context))
    if prompt.kind != "text":
        body.append(note(f"{numbered_options(prompt)}\n{how_to_type(prompt)}"))
    target = _target(ANSWER, question.round_id, prompt.id)
    actions = [action("Save my answer", ANSWER, target, primary=True)]
    if question.number < question.total:
        actions.append(action("Skip for now", SKIP, _target(SKIP, question.round_id, prompt.id)))
    whole = card(body + answer_inputs(prompt), actions)
    if prompt.kind != "rank" or size(whole) <= MAX_CARD_BYTES:
        return whole
    # the lists fit their share, but not beside this question's words (a long intro)
    return card(body + answer_inputs(prompt, typed=True), actions)


def save_offer(body: list[Element], kept: Kept) -> Element:
    """The bot's reply to words it did not take as an answer, with the button that saves
    them as one (its data carries them)."""
    return card(body, [action(SAVE_KEPT_LABEL, SAVE_KEPT, {OURS: SAVE_KEPT, **kept.to_data()})])


def answer_inputs(prompt: Prompt, *, typed: bool = False) -> list[Element]:
    """The inputs that answer `prompt`. A ranking has a list for each place, or, `typed` or
    when those lists would take more than RANK_LISTS_BYTES, one box to write the ranking in
    (read as one written in the chat is)."""
    options = [(o, str(i)) for i, o in enumerate(prompt.options)]
    if prompt.kind == "text":
        return [note("Write your answer in the chat, or here:"),
                {"type": "Input.Text", "id": ANSWER_INPUT, "isMultiline": True,
                 "maxLength": 10000, "label": "Your answer"}]
    if prompt.kind == "choice":
        many = prompt.picks > 1
        label = f"Choose up to {prompt.picks}" if many else "Choose one"
        return [choice_set({"id": ANSWER_INPUT, "label": label, "isMultiSelect": many,
                            "style": "expanded" if len(options) <= 10 else "compact",
                            "isRequired": True, "errorMessage": "Choose at least one"},
                           options)]
    # every place is required: the ballot is refused unless it fills all of them
    # (bot.core.replies), so the card says so before it is sent, not after
    places = prompt.places
    lists = [choice_set({"id": RANK_INPUT.format(place), "style": "compact",
                         "label": _ordinal(place), "isRequired": True,
                         "errorMessage": f"Pick your {_ordinal(place)}: a ranking needs all "
                                         f"{places} places",
                         "placeholder": "Pick one"}, options)
             for place in range(1, places + 1)]
    if not typed and sum(size(e) for e in lists) <= RANK_LISTS_BYTES:
        return lists
    return [note(f"This ranking has more places than a Teams card has room to list the "
                 f"options for: write the numbers (or names) of your top {places}, best "
                 "first, in the box below or in this chat."),
            {"type": "Input.Text", "id": RANKING_INPUT, "maxLength": RANKING_CHARS,
             "label": f"Your top {places}, best first", "isRequired": True,
             "placeholder": f"like {_example(prompt)}",
             "errorMessage": f"Write your top {places}: a ranking needs all {places} "
                             "places"}]


def _ordinal(n: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix} choice"


def answer_from(prompt: Prompt, data: Mapping[str, Any]) -> str | list[str]:
    """What a submitted card says: the text, or the options chosen (ranked in order);
    ValueError when it is not what the card asked for."""
    if prompt.kind == "text":
        text = data.get(ANSWER_INPUT)
        if not isinstance(text, str) or not text.strip():
            raise ValueError("write an answer first")
        return text.strip()
    if prompt.kind == "choice":
        raw = data.get(ANSWER_INPUT)
        picked = [p for p in _choice(raw).split(",") if p]
        if not picked or len(picked) > prompt.picks:
            raise ValueError(f"choose between 1 and {prompt.picks}")
    elif isinstance(data.get(RANKING_INPUT), str) and data[RANKING_INPUT].strip():
        return _typed_ranking(prompt, data[RANKING_INPUT])
    else:
        places = prompt.places
        picked = [_choice(data[k]) for k in (RANK_INPUT.format(p)
                                             for p in range(1, places + 1))
                  if data.get(k) not in (None, "")]
        if not picked:
            raise ValueError("pick your first choice at least")
        if len(set(picked)) != len(picked):
            raise ValueError("each option can have one place only")
    # the card's values are the options' places, 0, 1, 2…: "-1" would be the last option
    if not all(OPTION.fullmatch(p) and int(p) < len(prompt.options) for p in picked):
        raise ValueError(UNREADABLE)
    return [prompt.options[int(p)] for p in picked]


def _boxed(inputs: list[Element]) -> bool:
    """Whether a ranking's inputs are the box it is written in."""
    return any(e.get("id") == RANKING_INPUT for e in inputs)


def _typed_ranking(prompt: Prompt, text: str) -> list[str]:
    """A ranking written in the card's box, read as one written in the chat is."""
    vote = read_vote(prompt, text)
    if vote.ballot is not None:
        return list(vote.ballot)
    how = (f"the numbers (or names) of your top {prompt.places}, best first, like "
           f"{_example(prompt)}")
    asked = which_unread(vote)
    raise ValueError(vote.problem or (f"{asked} Write {how}" if asked else f"write {how}"))


def _example(prompt: Prompt) -> str:
    return ", ".join(str(n) for n in (3, 1, 5) if n <= len(prompt.options))


def _choice(value: object) -> str:
    """A choice set's value: text (Teams sends no other), or none."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(UNREADABLE)
    return value


def confirmations_card(saved: Sequence[Saved], revised: bool = False) -> Element:
    """Which question each answer was saved to, and its start; a vote typed in words is read
    back as understood; a written answer has its "Don't quote me" (or the note, once asked).
    The buttons of a card of several list what it shows, so that pressing one can put the
    card back with only that answer changed: the starts are cut shorter to make room for the
    lists, and when even that is not enough, the lists are left out (a button then leaves
    the card as it was). `revised`: brought up to date after an edit of one of them."""
    if len(saved) == 1:
        return _confirmation_card(saved[0])
    shown = [shown_of(one) for one in saved]
    listed = [one for one in shown if one is not None]
    for lists in ([listed] if len(listed) == len(shown) else []) + [[]]:
        for cut in SHARED_CUTS:
            built = _shared_card(saved, lists, cut, revised)
            if size(built) <= MAX_CARD_BYTES:
                return built
    return built


def _shared_card(saved: Sequence[Saved], shown: list[Shown], cut: int, revised: bool = False
                 ) -> Element:
    """A card of several answers, each question and answer cut at `cut` characters; the
    buttons list `shown` (none: not listed)."""
    files = any(s.files_dropped for s in saved)
    body = [rich(run(saved_together(saved, revised), bold=True))]
    for one in saved:
        body.append(rich(run(saved_to(one, saved), bold=True),
                         run(_cut(one.asked.prompt.question, cut), bold=True)))
        understood = read_back(one)
        if understood is not None:
            body += _read_back(understood, under_question=True)
            continue
        text = one.answer if isinstance(one.answer, str) else "; ".join(one.answer)
        body.append(rich(run(_cut(text, cut), italic=True)))
        offered = quote_choice(one.asked, text, one.external_id, one.quotable)
        if offered:  # under its answer: a card's own actions stop at five
            body.append({"type": "ActionSet", "actions": [_dont_quote(one, shown, files)]})
        elif offered is not None:
            body.append(note(NOT_QUOTED_NOTE))
    how = correction(saved)
    if how is not None:
        body.append(note(plain(how)))
    if files:
        body.append(note(Saved.FILES_NOT_KEPT))
    body.append(note(plain(WRONG_QUESTION)))
    return card(body)


def _confirmation_card(one: Saved) -> Element:
    """One answer saved: a written one with "Don't quote me" (or the note, once asked)."""
    understood = read_back(one)
    what = understood.saved if understood is not None else saved_as(one)
    body = [rich(run(what, bold=True), run(one.asked.prompt.question))]
    actions: list[Element] = []
    if understood is not None:
        body += _read_back(understood)
        body.append(note(plain(NOT_WHAT_YOU_MEANT)))
    elif isinstance(one.answer, str):
        text = one.answer
        body.append(rich(run(_cut(text, QUOTE_CHARS), italic=True)))
        if len(text) > QUOTE_CHARS:
            body.append(note(f"Your whole answer ({len(text):,} characters) is kept; only "
                             "the start is shown here."))
        if one.added:
            body.append(note(Saved.ADDED))
        offered = quote_choice(one.asked, text, one.external_id, one.quotable)
        if offered:
            actions.append(_dont_quote(one, None, one.files_dropped))
        elif offered is not None:
            body.append(note(NOT_QUOTED_NOTE))
        body.append(note(plain(WRONG_QUESTION)))
    else:
        body += [rich(f"{i}. {c}") for i, c in enumerate(one.answer, start=1)]
    if one.files_dropped:
        body.append(note(Saved.FILES_NOT_KEPT))
    return card(body, actions)


def _dont_quote(one: Saved, shown: list[Shown] | None, files: bool) -> Element:
    """The "Don't quote me" button of a written answer: it carries what its card shows
    besides the answer's words (DontQuote), to show it again with the note in its place."""
    data: dict[str, Any] = {OURS: DONT_QUOTE, "answer": one.external_id}
    if shown is not None:
        data[SHOWN] = [list(s) if isinstance(s, tuple) else s for s in shown]
    if files:
        data[FILES] = True
    return action(DONT_QUOTE_LABEL, DONT_QUOTE, data)


@dataclass(frozen=True)
class DontQuote:
    """What a "Don't quote me" button says: its answer (an external id), the answers its
    card shows, in order (its answer alone on a card of one; none when a card of several had
    no room to list them), and whether the card said that files sent were not kept."""

    answer: str
    shown: tuple[Shown, ...]
    files: bool = False

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DontQuote:
        """The button's data, checked as anything a client sends is (ValueError)."""
        answer, listed, files = data.get("answer"), data.get(SHOWN), data.get(FILES, False)
        if not _answer_id(answer) or not isinstance(files, bool):
            raise ValueError(STALE)
        if listed is None:
            return cls(answer, (answer,), files)
        if not isinstance(listed, list) or len(listed) > CONFIRMED_TOGETHER:
            raise ValueError(STALE)
        shown = tuple(_shown(one) for one in listed)
        if shown and answer not in shown:
            raise ValueError(STALE)
        return cls(answer, shown, files)


def _answer_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= ANSWER_ID_CHARS


def _shown(value: object) -> Shown:
    """One answer a "Don't quote me" button lists: an external id, or [round, question]."""
    if _answer_id(value):
        return value
    if isinstance(value, list) and len(value) == 2:
        round_id, prompt_id = row_id(value[0]), value[1]
        if round_id is not None and isinstance(prompt_id, str) and 0 < len(prompt_id) <= 100:
            return round_id, prompt_id
    raise ValueError(STALE)


def _read_back(understood: ReadBack, *, under_question: bool = False) -> list[Element]:
    """The options as understood, one a line, and whether the person's reason was kept."""
    body = [rich(understood.heading)] if under_question else []
    body += [rich(line) for line in understood.lines]
    if understood.note:
        body.append(note(understood.note))
    return body


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def start_form(packs: Sequence[Pack], channels: Sequence[tuple[str, str]], *,
               in_team: bool) -> Element:
    """The form that starts a round. `channels`: (key, name) of channels digests can go to."""
    body: list[Element] = [
        heading("Start a round"),
        choice_set({"id": "pack", "label": "Prompt pack", "isRequired": True,
                    "style": "compact", "errorMessage": "Choose a pack"},
                   [(p.title, p.id) for p in packs][:100]),
        {"type": "Input.Text", "id": "people", "isMultiline": True,
         "label": "Ask these people (emails or Entra object ids, one a line)"},
    ]
    if in_team:
        body.append({"type": "Input.Toggle", "id": "team", "title": "Ask everyone in this team",
                     "valueOn": "yes", "valueOff": "no"})
    body += [
        choice_set({"id": "digest", "label": "Post digests in", "style": "compact"},
                   [(name, key) for key, name in channels][:100]),
        {"type": "Input.Text", "id": "closes", "label": "Closes (14d or 2026-12-18)"},
        {"type": "Input.Toggle", "id": "anonymous", "title": "Quote nobody by name or role",
         "valueOn": "yes", "valueOff": "no"},
    ]
    return card(body, [action("Start", START, {OURS: START}, primary=True)])


def missing(prompt: Prompt, data: Mapping[str, Any]) -> str | None:
    """What a question's inputs lack before they can be saved (the open-questions card, whose
    inputs cannot be marked required), or None."""
    if prompt.kind == "text":
        text = data.get(ANSWER_INPUT)
        return None if isinstance(text, str) and text.strip() else (
            "has no answer yet: write it in its box")
    if prompt.kind == "choice":
        return None if data.get(ANSWER_INPUT) not in (None, "") else (
            "has no option chosen: choose at least one")
    if _boxed(answer_inputs(prompt)):
        return None if str(data.get(RANKING_INPUT) or "").strip() else (
            f"has no ranking yet: write your top {prompt.places} in its box")
    gaps = [_ordinal(p) for p in range(1, prompt.places + 1)
            if data.get(RANK_INPUT.format(p)) in (None, "")]
    return None if not gaps else (
        f"needs your {listed(gaps)}: a ranking needs all {prompt.places} places")


def _typed(element: Element, prompt: Prompt, value: Any) -> Element:
    """An input of the open-questions card holding what was typed in it, when that is what
    the input can hold."""
    if not isinstance(value, str) or not value:
        return element
    if element["type"] == "Input.Text":
        return {**element, "value": value[: element.get("maxLength", len(value))]}
    picked = value.split(",")
    if all(OPTION.fullmatch(p) and int(p) < len(prompt.options) for p in picked):
        return {**element, "value": value}
    return element


def home_card(home: HomeView, typed: Mapping[str, Any] | None = None,
              problem: tuple[int, str, str] | None = None) -> Element:
    """Someone's open questions (each answerable here), and a facilitator's rounds; given
    `typed` (a submission of this card), its inputs hold what was typed in them, and
    `problem` (round, question, what) is said under its question. As many questions as fit
    in a message (QUESTIONS_SHOWN at most), then how many more there are and how to see them."""
    body: list[Element] = []
    if home.facilitator:
        body.append(heading("Rounds"))
        for line in home.rounds[:10]:
            body.append(rich(run(f"Round {line.id} · ", bold=True), run(line.title),
                             run(f" · {line.status} · {line.sent} delivered, {line.pending} "
                                 f"pending, {line.failed} failed · {line.answered} of "
                                 f"{line.invited} answered")))
        if not home.rounds:
            body.append(said_note(said("No rounds yet. Write ", Code("form"),
                                       " to start one.")))
    body.append(heading("Your open questions"))
    if not home.questions:
        return card([*body, note("Nothing waiting for you. Thank you!")])
    total, shown = len(home.questions), 0
    for asked in home.questions[:QUESTIONS_SHOWN]:
        more = _open_question(asked, typed or {}, problem)
        if size(card([*body, *more, *_rest(total - shown - 1, shown + 1)])) > MAX_CARD_BYTES:
            break
        body += more
        shown += 1
    return card([*body, *_rest(total - shown, shown)])


QUESTIONS_SHOWN = 8
"""Questions on the open-questions card at most: each has its own Save button (a card's own
actions stop at five)."""


def _open_question(asked: Asked, typed: Mapping[str, Any],
                   problem: tuple[int, str, str] | None) -> list[Element]:
    """One question of the open-questions card: its words, its inputs and its Save button."""
    out = [rich(run(f"Question {asked.number} (round {asked.round_id}) · ", bold=True),
                run(asked.prompt.question), separator=True)]
    elements = answer_inputs(asked.prompt)
    if _boxed(elements):  # the box takes the options' numbers: they are listed above it
        out += [note(numbered_options(asked.prompt)), *(e for e in elements if "id" not in e)]
    inputs = [dict(e, id=f"{e['id']}-{asked.round_id}-{asked.prompt.id}", isRequired=False)
              for e in elements if "id" in e]
    out += [_typed(e, asked.prompt, typed.get(e["id"])) for e in inputs]
    if problem is not None and problem[:2] == (asked.round_id, asked.prompt.id):
        out.append(rich(run(problem[2], bold=True)))
    # under its question: a card's own actions stop at five, and the card shows eight
    out.append({"type": "ActionSet", "actions": [action(
        f"Save question {asked.number}", ANSWER,
        {**_target(ANSWER, asked.round_id, asked.prompt.id), ON: QUESTIONS})]})
    return out


def _rest(left: int, shown: int) -> list[Element]:
    """What the open-questions card says of the `left` questions it has no room for, when
    it shows `shown`: how to see them."""
    if not left:
        return []
    if not shown:
        return [rich(run("Your open questions are too long to show on one card: answer the "
                         "one waiting on its card in this chat, or write your answer here.",
                         bold=True))]
    return [said_line(said(
        f"{counted(left, 'more open question')} did not fit on this card: save these, then "
        "write ", Code("questions"), " again to see the rest."), bold=True)]


def scoped_inputs(data: Mapping[str, Any], round_id: int, prompt_id: str) -> dict[str, Any]:
    """The inputs of one question of the open-questions card, under their plain names."""
    suffix = f"-{round_id}-{prompt_id}"
    return {**data, **{k[: -len(suffix)]: v for k, v in data.items()
                       if isinstance(k, str) and k.endswith(suffix)}}


def forget_card(words: Said, asked: str) -> Element:
    """forget-me's question (`words`: all that its Delete deletes); both buttons carry
    `asked`, the question's id."""
    return card(said_elements(words), [
        action("Delete everything", FORGET, {OURS: FORGET, "asked": asked}, destructive=True),
        action("Cancel", CANCEL, {OURS: CANCEL, "asked": asked})])


def delete_card(round_id: int, asked: str, words: Said) -> Element:
    """What deleting a round removes (`words`, which name no channel), with a button that
    deletes it and one that does not; both carry the round and `asked`, the question's id."""
    target = {"round": round_id, "asked": asked}
    return card(said_elements(words), [
        action(f"Delete round {round_id}", DELETE_ROUND, {OURS: DELETE_ROUND, **target},
               destructive=True),
        action("Cancel", CANCEL, {OURS: CANCEL, **target})])
