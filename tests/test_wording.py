"""Small pieces of English: roles that facilitators write freely, made plural."""

from __future__ import annotations

import pytest

from bot.core.wording import plural, quoted_last


@pytest.mark.parametrize(("role", "roles"), [
    ("community pharmacist", "community pharmacists"),
    ("PCN pharmacy lead", "PCN pharmacy leads"),
    ("GP", "GPs"),
    ("trainee ACP", "trainee ACPs"),
    ("GPs", "GPs"),
    ("practice pharmacists", "practice pharmacists"),
    ("Head of Medicines Optimisation", "Heads of Medicines Optimisation"),
    ("lead pharmacist (ICB)", "lead pharmacists (ICB)"),
    ("clinical director, PCN", "clinical directors, PCN"),
    ("chief pharmacist", "chief pharmacists"),
    ("deputy", "deputies"),
    ("pharmacy technician/assistant", "pharmacy technicians/assistants"),
    ("coach", "coaches"),
    ("pharmacy staff", "pharmacy staff"),
])
def test_it_makes_a_role_plural_by_its_head_noun(role: str, roles: str) -> None:
    assert plural(role) == roles


@pytest.mark.parametrize(("words", "sentence_end"), [
    ("Time to learn", "“Time to learn”."),
    ("Most of you asked for protected time first.", "“Most of you asked for protected time "
                                                    "first.”"),
    ("Who decides?", "“Who decides?”"),
    ("Time, then peers…", "“Time, then peers…”"),
])
def test_it_ends_a_sentence_with_quoted_words_by_one_full_stop_at_most(
        words: str, sentence_end: str) -> None:
    assert quoted_last(words) == sentence_end
