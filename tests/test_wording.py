"""Small pieces of English: roles that facilitators write freely, made plural."""

from __future__ import annotations

import pytest

from bot.core.wording import plural


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
