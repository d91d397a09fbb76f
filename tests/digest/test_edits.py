"""A facilitator's edits apply to every later build of the round's digests: a renamed theme
keeps its name while it keeps most of its answers, and every answer stays accounted for
exactly once whatever is moved or merged."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView
from bot.core.people import find_participant
from bot.core.replies import record_reply
from storage.database import Database
from storage.db import transaction
from storage.models import DigestEdit
from tests.digest.test_stable_themes import MENTOR, PEERS, TIME
from tests.review_round import PROMPT, question, review_round, unquoted_in

MEMBERS = [f"U{i:03d}" for i in range(40)]


def edit(database: Database, round_id: int, action: str, now: datetime, **what: object) -> None:
    with transaction(database.sessions) as session:
        session.add(DigestEdit(round_id=round_id, prompt_id=PROMPT, action=action,
                               actor="slack:UFAC", at=now, **what))


def build(database: Database, round_id: int, now: datetime) -> DigestView:
    with database.sessions() as session:
        return build_digest(session, round_id, now)


def accounted_once(view: DigestView) -> None:
    prompt = question(view)
    ids = [*prompt.unthemed_reply_ids, *(r for t in prompt.themes for r in t.reply_ids)]
    assert sorted(ids) == sorted(a.reply_id for a in prompt.answers)


def test_edits_carry_over_to_later_digests(database: Database, now: datetime) -> None:
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    renamed, hidden = first.themes[0], first.themes[0].quotes[0].reply_id
    moved = unquoted_in(first, 2)
    edit(database, round_id, "rename", now, theme=renamed.reply_ids, text="Time to lead")
    edit(database, round_id, "hide", now, reply_id=hidden)
    edit(database, round_id, "move", now, reply_id=moved, theme=None)
    edit(database, round_id, "merge", now, theme=first.themes[2].reply_ids,
         other=first.themes[3].reply_ids)
    edit(database, round_id, "lead", now, text="Time, mentors and peers")
    edited = build(database, round_id, now)
    prompt = question(edited)
    assert prompt.lead == "Time, mentors and peers"
    assert prompt.themes[0].title == "Time to lead"
    assert hidden not in [q.reply_id for t in prompt.themes for q in t.quotes]
    assert hidden in prompt.themes[0].reply_ids  # it still counts
    assert moved in prompt.unthemed_reply_ids
    assert len(prompt.themes) == len(first.themes) - 1
    accounted_once(edited)

    later = now + timedelta(days=7)
    with transaction(database.sessions) as session:
        for n, text in enumerate([*TIME[6:], *MENTOR[6:], *PEERS[6:]]):
            person = find_participant(session, MEMBERS[n % 5], "slack")
            assert person is not None
            record_reply(session, round_id, PROMPT, person, text, later,
                         external_id=f"later-{n}")
    grown = question(build(database, round_id, later))
    holder = max(grown.themes, key=lambda t: len(set(t.reply_ids) & set(renamed.reply_ids)))
    assert len(set(holder.reply_ids) & set(renamed.reply_ids)) * 2 > len(renamed.reply_ids)
    assert holder.title == "Time to lead"
    assert moved in grown.unthemed_reply_ids
    accounted_once(build(database, round_id, later))
