"""A digest waiting for review, in Teams: the card a facilitator gets in their 1:1 chat (each
question with its numbered themes and what the digest quotes of each, its other answers as the
digest lists them, or a vote's reasons and comments, each quote with the id an edit names it
by; an Edit button; then Approve), the same card with one question's edit form open, and
reading a submitted form.

A question's form: choice sets for a theme, an answer, where it goes and the quotes to hide
(a vote's: its reasons and comments),
text inputs for a new title and the lead, and "Save changes", an Action.Submit. Its inputs are
named for the question (`lead-7-best-support`). Choice titles go through
render.choice_set, which escapes those Teams reads as Markdown (the checkboxes).

An open form has Refresh (the same question's form on the draft as it is now, nothing typed
kept: a form is not replaced under a facilitator's typing when another edits the draft, so
she chooses when) and Close.

One form is open at a time, because a card and its envelope must stay within about 28 KB
(render.MAX_CARD_BYTES): every question's form at once left no room to list answers to move
in a round of five questions with twenty answers each. Edit asks the bot for the card with
that question's form open; saving brings every copy of the draft up to date, forms closed.
When even one form does not fit, the answers it lists to move are cut, fewer and fewer; a
list cut (to fit the card, or to a form's CHOICES) is said under it in the words Slack's
form uses; when it does not fit listing none (a question of very many themes), the
draft shows no form and says where that question can be edited instead. Quotes are cut
before that, fewer to a theme (QUOTED), and the card says so (an open form's "Hide" still
lists all of its question's). A draft too big even without
quotes is cut where it stops fitting, and says so and where the whole draft is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from bot.app import review_form
from bot.app.review_form import (
    FIELDS,
    HIDE,
    LABELS,
    LEAD,
    MANY,
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
from bot.core.digest.edits import LEAD_LIMIT, TITLE_LIMIT
from bot.core.digest.model import Draft, PromptDigest
from bot.core.digest.render_review import (
    UNQUOTED_POINTER,
    attributed,
    attribution_rule,
    cut_words,
    form_cut_words,
    form_too_big_words,
    local_deadline,
    not_listed_line,
    review_command,
    settled_words,
    theme_size,
)
from bot.core.digest.synthesis import (
    OTHER_ANSWERS_SHOWN,
    comments_heading,
    other_answers,
    other_answers_heading,
)
from bot.core.said import Said, said
from bot.core.wording import counted
from bot.teams.activities import OURS
from bot.teams.cards import scoped_inputs
from bot.teams.references import PLATFORM
from bot.teams.render import (
    MAX_CARD_BYTES,
    Element,
    action,
    card,
    choice_set,
    closed_lines,
    fitted,
    heading,
    note,
    rich,
    run,
    said_line,
    said_note,
    size,
)

APPROVE, OPEN, EDIT = "digest-approve", "digest-open", "digest-edit"
SUMMARY = "Digest for review"
ANSWERS_LISTED = (review_form.CHOICES, 80, 60, 40, 25, 10, 5, 3, 1, 0)
"""How many answers the open form lists to move, tried in turn until the card fits."""
CHOICE_CHARS = 75
"""How much of an answer or a quote a choice shows: enough to recognise it (as in Slack)."""
QUOTE_CHARS = 90
"""How much of a vote's reason or comment the draft shows (as in Slack; the digest shows it
all)."""
QUOTED: tuple[int | None, ...] = (None, 2, 1, 0)
"""How many quotes of a theme (and of its other answers) the draft shows, tried in turn until
the card fits: all that the digest quotes first."""
THEMES = "themes"
"""Where Save's data holds the open form's themes' values, once: its four lists of themes name
them by number (what a theme's value holds would take four times the room in the card)."""
THEME_FIELDS = (RENAME_THEME, MERGE_THEME, MERGE_INTO, MOVE_TO)


def changed_meanwhile(round_id: int) -> Said:
    """To a facilitator whose edit form is open on a draft another facilitator changed."""
    return said(f"Another facilitator changed the draft digest of round {round_id} while your "
                "form was open. Your card is left as it is, so nothing you typed is lost: Save "
                "changes applies your edits to the themes your form showed; Refresh shows the "
                "draft as it is now with this form open again, and clears what you typed.")


def draft_card(draft: Draft, editing: str = "",
               hidden_words: Mapping[str, str] | None = None, *, zone: str = "UTC",
               names: Mapping[str, str] | None = None) -> Element:
    """The draft as a facilitator sees it: while it waits, each question with its Edit button
    (`editing`: the question whose form is open, which quotes again answers hidden in review
    by their `hidden_words`), and Approve; once settled, what became of it, whoever approved
    it by their name in `names` (the gateway's, for `people_named`)."""
    return _fitted(draft, editing, hidden_words or {}, zone, None, names or {})


def people_named(draft: Draft) -> Said:
    """The words of the draft card that name a person (who approved it), for the gateway to
    look up their names."""
    return said() if draft.waiting else _settled(draft)


def _settled(draft: Draft) -> Said:
    return settled_words(draft, PLATFORM)


def form_open(content: Element) -> bool:
    """Whether a draft card shows a question's form (draft_card shows none where the form
    does not fit)."""
    return any(a["data"].get(OURS) == EDIT for e in content["body"]
               if e.get("type") == "ActionSet" for a in e["actions"])


def _fitted(draft: Draft, editing: str, hidden_words: Mapping[str, str], zone: str,
            notice: Said | None, names: Mapping[str, str]) -> Element:
    """draft_card, with `notice` under its heading."""
    content: Element = {}
    for listed in ANSWERS_LISTED if draft.waiting and editing else (0,):
        for quoted in QUOTED:
            content = _card(draft, editing, listed, hidden_words, quoted, zone, notice, names)
            if size(content) <= MAX_CARD_BYTES:
                return content
    if editing:  # not even the form without answers fits: the draft, saying so
        return _fitted(draft, "", {}, zone,
                       form_too_big_words("Teams", draft.view.round.id, editing), names)
    return fitted(content["body"], said_note(cut_words("Teams", draft.view.round.id)),
                  content.get("actions"))


def _card(draft: Draft, editing: str, listed: int, hidden_words: Mapping[str, str],
          quoted: int | None, zone: str, notice: Said | None, names: Mapping[str, str]
          ) -> Element:
    """The card, listing `listed` answers to move in the open form, and `quoted` quotes a
    theme (None: all); `notice`, when given, under its heading; `names`: draft_card's."""
    view = draft.view
    round_id = view.round.id
    body: list[Element] = [heading(f"For review: {view.round.title}")]
    if notice is not None:
        body.append(said_line(notice, bold=True))
    if draft.waiting:
        body.append(note(f"{local_deadline(draft, zone)} Edit a question "
                         "to rename or merge its themes, move answers (to another theme or a new "
                         "one), hide quotes or write its lead; edits carry over to the round's "
                         "later digests."))
        body.append(note(f"{attribution_rule(view.round.anonymity)} "
                         f"{UNQUOTED_POINTER}"))
    elif draft.state == "superseded":
        body.append(note("A newer draft, or a digest posted meanwhile, took the place of "
                         "this one."))
    else:
        body.append(said_note(_settled(draft), names))
    if quoted is not None:
        body.append(said_note(said(
            "Fewer quotes are shown than the digest posts, for the card to fit in Teams"
            + (": the open form lists all of its question's to hide" if editing else "")
            + "; ", review_command(round_id), " on the server shows them all.")))
    for prompt in view.prompts:
        body.append(rich(run(prompt.question, bold=True), separator=True))
        if prompt.lead:
            body.append(rich(run(prompt.lead, italic=True)))
        anonymity = view.round.anonymity
        body += (_written_words(prompt, quoted, anonymity) if prompt.kind == "text"
                 else _vote_words(prompt, quoted, anonymity))
        if not draft.waiting:
            continue
        if (aside := review_form.set_aside_note(prompt)) is not None:
            body.append(note(aside))
        which = {"round": round_id, "digest": draft.digest_id, "prompt": prompt.prompt_id}
        if prompt.prompt_id != editing:
            body.append({"type": "ActionSet", "actions": [
                action("Edit", OPEN, {OURS: OPEN, **which})]})
            continue
        form, themes = _form(prompt, round_id, listed, hidden_words)
        body += form
        body.append({"type": "ActionSet", "actions": [
            {"type": "Action.Submit", "title": "Save changes", "style": "positive",
             "data": {OURS: EDIT, **which, THEMES: themes,
                      review_form.SEEN: draft.view.round.generated_at}},
            action("Refresh", OPEN, {OURS: OPEN, **which}),
            action("Close", OPEN, {OURS: OPEN, **which, "prompt": ""})]})
    actions = ([action("Approve and post", APPROVE, {OURS: APPROVE, "round": round_id,
                                                     "digest": draft.digest_id},
                       primary=True)] if draft.approvable else [])
    return card(body, actions)


def _written_words(prompt: PromptDigest, quoted: int | None, anonymity: str
                   ) -> list[Element]:
    """A written question's themes, numbered, each with its quotes, then the other answers
    the digest lists (all its answers when it has no themes): what the group will read, word
    for word, each with its id and attribution; at most `quoted` quotes a theme (None: all)."""
    out: list[Element] = []
    for number, theme in enumerate(prompt.themes, start=1):
        out.append(rich(run(f"{number}. "), run(theme.title, bold=True),
                        run(f" · {theme_size(theme)}")))
        out += [_quote(q.reply_id, q.text, attributed(q.by, anonymity))
                for q in theme.quotes[:quoted]]
    others = other_answers(prompt)
    if others:
        out.append(rich(run(other_answers_heading(prompt), bold=True)))
        listed = others[:OTHER_ANSWERS_SHOWN]
        out += [_quote(a.reply_id, a.text, attributed(a.by, anonymity))
                for a in listed[:quoted]]
        if more := not_listed_line(prompt):
            out.append(note(more))
    return out


def _vote_words(prompt: PromptDigest, quoted: int | None, anonymity: str) -> list[Element]:
    """A vote's ballots, its reasons under the option their ballots put first, and its
    comments: quoted in the digest word for word, so the facilitator reads them before it
    posts (the form hides one)."""
    out = [note(counted(prompt.answer_count, "ballot"))]
    for reasons in prompt.reasons:
        out.append(rich(run(reasons.option, bold=True), run(": why people put it first")))
        out += [_quote(q.reply_id, q.text, attributed(q.by, anonymity))
                for q in reasons.quotes[:quoted]]
    if prompt.comments:
        out.append(rich(run(comments_heading(prompt), bold=True)))
    return out + [_quote(q.reply_id, q.text, attributed(q.by, anonymity))
                  for q in prompt.comments[:quoted]]


def _quote(reply_id: str, text: str, by: str) -> Element:
    """A quote as the draft shows it: its beginning, its attribution as the group will read
    it (`by`: render_review.attributed), and the id an edit names it by."""
    return rich(run(f"“{closed_lines(_shown(text, QUOTE_CHARS))}”", italic=True),
                run(f"{by} ", subtle=True),
                run(reply_id, code=True, subtle=True))


def _form(prompt: PromptDigest, round_id: int, listed: int, hidden_words: Mapping[str, str]
          ) -> tuple[list[Element], list[str]]:
    """One question's inputs, every one of which may be left empty; and its themes' values
    (review_form.theme_value), which its choices name by the themes' numbers."""

    def named(field: str) -> str:
        return f"{field}-{round_id}-{prompt.prompt_id}"

    def chosen(field: str, choices: list[Choice], *, many: bool = False) -> Element:
        out: Element = {"id": named(field), "label": review_form.label(field, prompt),
                        "style": "compact", "placeholder": "Choose"}
        if many:
            out["isMultiSelect"] = True
        return choice_set(out, [(_shown(c.text), quote(c.value, safe="") if many else c.value)
                                for c in choices])

    def written(field: str, limit: int, value: str = "") -> Element:
        return {"type": "Input.Text", "id": named(field), "label": LABELS[field],
                "maxLength": limit, "value": value}

    offered = review_form.choices(prompt, answers=listed, hidden_words=hidden_words)

    def cut(field: str, shown: list[Choice], what: str) -> list[Element]:
        """The note under a list cut to fit (as Slack's form says it): what it left out, and
        where to edit that."""
        if field not in offered.in_all:
            return []
        return [said_note(form_cut_words("Teams", round_id, len(shown),
                                         offered.in_all[field], what))]

    themes = [Choice(str(n), c.text) for n, c in enumerate(offered.themes, start=1)]
    form: list[Element] = [note("Every field may be left empty" + (
        "; a theme is named by its number above." if themes else "."))]
    if themes:
        form += [chosen(RENAME_THEME, themes), written(RENAME_TITLE, TITLE_LIMIT),
                 chosen(MERGE_THEME, themes), chosen(MERGE_INTO, themes),
                 *cut(RENAME_THEME, offered.themes, "themes")]
        if offered.answers:
            form.append(chosen(MOVE_ANSWER, offered.answers, many=True))
        form += cut(MOVE_ANSWER, offered.answers, "answers")  # said even when none fits
        if offered.answers:
            form += [chosen(MOVE_TO, [*themes, *offered.targets[len(themes):]]),
                     written(NEW_TITLE, TITLE_LIMIT)]
    if offered.quotes:
        form += [chosen(HIDE, offered.quotes, many=True), *cut(HIDE, offered.quotes, "quotes")]
    if offered.hidden:
        form += [chosen(SHOW, offered.hidden, many=True),
                 *cut(SHOW, offered.hidden, "hidden answers")]
    form.append(written(LEAD, LEAD_LIMIT, prompt.lead or ""))
    return form, [c.value for c in offered.themes]


def _shown(text: str, limit: int = CHOICE_CHARS) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def form_fields(data: Mapping[str, Any], round_id: int, prompt_id: str
                ) -> dict[str, str | list[str]]:
    """A submitted question form as field name → value (the answers to move and the quotes to
    hide: lists), for bot.app.review_form to read. Teams joins a multiple choice's values with
    commas (each value is percent-encoded, so an id's own comma stays apart)."""
    inputs = scoped_inputs(data, round_id, prompt_id)
    fields: dict[str, str | list[str]] = {
        f: _text(inputs[f]) for f in FIELDS if f not in MANY and f in inputs}
    for many in MANY:
        fields[many] = [unquote(v) for v in _text(inputs.get(many)).split(",") if v]
    themes = data.get(THEMES)
    if isinstance(themes, list):  # a card without them is older: its numbers are refused
        for field in THEME_FIELDS:
            number = fields.get(field)
            if isinstance(number, str) and review_form.THEME_NUMBER.fullmatch(number) and (
                    0 < int(number) <= len(themes)):
                fields[field] = str(themes[int(number) - 1])
    return fields


def _text(value: Any) -> str:
    """A submitted input's value. Teams sends every input as text, or leaves it out: a list
    or a number was not sent by this card, and would be saved as its Python spelling."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("that form could not be read; please use the newest card")
    return value
