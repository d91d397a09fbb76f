"""Every answer and vote of a round as CSV, for the facilitator's own analysis."""

from __future__ import annotations

import csv
import io

from bot.core.digest.model import DigestView, ThemeView
from bot.core.digest.synthesis import BEYOND_ROOM, model_notes

COLUMNS = ("id", "prompt", "question", "participant", "role", "source", "text", "theme",
           "theme_note")
NOISE = "(not an answer)"
COMMENT = "(a comment on the vote)"

# A cell that starts like a formula runs as one in a spreadsheet; a leading apostrophe makes
# Excel and LibreOffice show it as text (OWASP's advice against CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(view: DigestView) -> str:
    """One row per answer: attribution and role as the round's anonymity allows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for prompt in view.prompts:
        notes = {t.title: _note(t) for t in prompt.themes}
        for answer in prompt.answers:
            theme = answer.theme or (NOISE if answer.noise else "")
            if answer.comment:
                theme = COMMENT
            # Every cell: a named round's ids are the ones a facilitator's CSV gave.
            writer.writerow(
                [
                    sheet_safe(value or "")
                    for value in (answer.reply_id, prompt.prompt_id, prompt.question, answer.by,
                                  answer.role, answer.source, answer.text, theme,
                                  notes.get(answer.theme or "", ""))
                ]
            )
    return out.getvalue()


def _note(theme: ThemeView) -> str:
    """"not raised in the room" and what a language model did, where so."""
    return "; ".join([BEYOND_ROOM] * theme.beyond_room + model_notes(theme))
