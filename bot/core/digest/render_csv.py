"""Every answer and vote of a round as CSV, for the facilitator's own analysis."""

from __future__ import annotations

import csv
import io

from bot.core.digest.model import AnswerView, DigestView, ThemeView
from bot.core.digest.synthesis import BEYOND_ROOM, model_notes

COLUMNS = ("id", "prompt", "question", "participant", "role", "organisation", "source", "text",
           "theme", "theme_note")
NOISE = "(not an answer)"
COMMENT = "(a comment on the vote)"
OTHER_ANSWERS = "Other answers"
"""The theme cell of a written answer in no theme, as the digest lists it (a ballot's is
empty: it is counted in the ranking)."""

# A cell that starts like a formula runs as one in a spreadsheet; a leading apostrophe makes
# Excel and LibreOffice show it as text (OWASP's advice against CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def id_cell(reply_id: str) -> str:
    """An id as the CSV writes it: defused like any cell, and an id that starts with ' gets
    one more, so that taking one leading ' away from a CSV id always gives the JSON's."""
    return "'" + reply_id if reply_id.startswith((*_FORMULA_START, "'")) else reply_id


def render_csv(view: DigestView) -> str:
    """One row per answer: name (named rounds only), role and organisation as the round's
    anonymity allows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for prompt in view.prompts:
        notes = {t.title: _note(t) for t in prompt.themes}
        for answer in prompt.answers:
            theme = _theme_cell(prompt.kind, answer)
            # Every cell, the id too: a named round's ids are the ones a facilitator's CSV gave.
            writer.writerow(
                [id_cell(answer.reply_id)] + [
                    sheet_safe(value or "")
                    for value in (prompt.prompt_id, prompt.question,
                                  answer.name, answer.role, answer.organisation, answer.source,
                                  _words(answer), theme, notes.get(answer.theme or "", ""))
                ]
            )
    return out.getvalue()


def _words(answer: AnswerView) -> str:
    """The answer's text; a ballot's with the reason typed after it."""
    return f"{answer.text} — {answer.reason}" if answer.reason else answer.text


def _theme_cell(kind: str, answer: AnswerView) -> str:
    if answer.comment:
        return COMMENT
    if answer.noise:
        return NOISE
    return answer.theme or (OTHER_ANSWERS if kind == "text" else "")


def _note(theme: ThemeView) -> str:
    """"not raised in the room" and what a language model did, where so."""
    return "; ".join([BEYOND_ROOM] * theme.beyond_room + model_notes(theme))
