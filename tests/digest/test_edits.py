"""A facilitator's edits apply to every later build of the round's digests: a renamed theme
keeps its name while it keeps most of its answers, and every answer stays accounted for
exactly once whatever is moved or merged."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from bot.app.review_form import choices
from bot.core.digest.build import build_digest
from bot.core.digest.edits import HIDDEN
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_md import render_md
from bot.core.digest.render_review import review_text
from bot.core.digest.render_text import render_text
from bot.core.digest.synthesis import theme_line
from bot.core.digest.theme_views import quote_text
from bot.core.digest_review import hidden_words
from bot.core.people import find_participant
from bot.core.replies import dont_quote, record_reply
from storage.database import Database
from storage.db import transaction
from storage.models import DigestEdit
from tests.digest.builders import summed_up_from
from tests.digest.test_stable_themes import MENTOR, PEERS, TIME
from tests.helpers import PLATFORM
from tests.review_round import ANSWERS, PROMPT, question, review_round, unquoted_in

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


def test_an_edited_theme_is_summed_up_from_the_answers_it_now_holds(
        database: Database, now: datetime) -> None:
    """A merge and a move change how many answers a theme holds: its summary says so, as its
    heading does, in every format (it said the engine's count before)."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    kept, merged, left = first.themes[0], first.themes[1], first.themes[2]
    moved = left.reply_ids[0]
    edit(database, round_id, "merge", now, theme=kept.reply_ids, other=merged.reply_ids)
    edit(database, round_id, "move", now, reply_id=moved, theme=kept.reply_ids)
    edited = build(database, round_id, now)
    prompt = question(edited)
    grown = next(t for t in prompt.themes if t.title == kept.title)
    shrunk = next(t for t in prompt.themes if t.title == left.title)
    size = len(kept.reply_ids) + len(merged.reply_ids) + 1
    assert len(grown.reply_ids) == size and theme_line(grown).startswith(f"{size} answers")
    assert theme_line(shrunk).startswith(f"{len(left.reply_ids) - 1} answer")
    assert summed_up_from(grown, prompt) and summed_up_from(shrunk, prompt)
    text = render_text(edited)
    assert f"{size} answers" in text and f"{len(kept.reply_ids)} answers," not in text
    accounted_once(edited)


def test_a_hidden_answers_words_leave_every_summary_title_and_output(
        database: Database, now: datetime) -> None:
    """Hiding an answer takes its words out of the digest: not quoted, not in the summary's
    "they also say", not a title, not its text in the JSON or the CSV. It still counts."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    theme, answer = next(
        (t, a) for t in first.themes for a in first.answers
        if a.reply_id in t.reply_ids and any(c.strip() and c.strip() in t.summary
                                             for c in re.split(r"[.,;:!?()-]", a.text)
                                             if len(c.split()) >= 3))
    edit(database, round_id, "hide", now, reply_id=answer.reply_id)
    edited = build(database, round_id, now)
    prompt = question(edited)
    after = next(t for t in prompt.themes if answer.reply_id in t.reply_ids)
    assert len(after.reply_ids) == len(theme.reply_ids) and theme_line(after).startswith(
        f"{len(theme.reply_ids)} answers")
    clauses = [c.strip() for c in re.split(r"[.,;:!?()-]", answer.text) if len(c.split()) >= 3]
    outputs = [render_text(edited), render_md(edited), json.dumps(edited.to_json()),
               render_csv(edited)]
    for output in outputs:
        assert answer.text not in output
        for clause in clauses:
            assert clause not in output, clause
    [shown] = [a for a in prompt.answers if a.reply_id == answer.reply_id]
    assert shown.text == HIDDEN and shown.hidden and not shown.quotable
    accounted_once(edited)
    # the facilitators' form and listing alone read its words back, to quote it again or not
    with database.sessions() as session:
        words = hidden_words(session, edited)
    assert words == {answer.reply_id: answer.text}
    assert [(c.value, c.text) for c in choices(prompt, hidden_words=words).hidden] == [
        (answer.reply_id, answer.text)]
    listed = review_text(edited, None, words)
    assert f"      {answer.reply_id}  “{quote_text(answer.text, 160)}”\n" in listed
    assert answer.text not in review_text(edited, None)


def test_answers_a_facilitator_makes_a_new_theme_stay_one_in_later_digests(
        database: Database, now: datetime) -> None:
    """Answers taken out of the engine's themes as a new theme, with the facilitator's title:
    it is shown by its size, summed up from its own answers, and every answer is still in
    one place; a later digest keeps it."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    big = first.themes[0]
    chosen = [unquoted_in(first, 1), first.themes[1].reply_ids[-1], first.themes[2].quotes[0]
              .reply_id]
    edit(database, round_id, "group", now, other=chosen, text="Time and cover, said plainly")
    for when in (now, now + timedelta(days=7)):
        edited = build(database, round_id, when)
        prompt = question(edited)
        [made] = [t for t in prompt.themes if t.title == "Time and cover, said plainly"]
        assert made.reply_ids == chosen and theme_line(made).startswith("3 answers")
        assert summed_up_from(made, prompt)
        assert made.quotes and {q.reply_id for q in made.quotes} <= set(chosen)
        assert not any(set(chosen) & set(t.reply_ids) for t in prompt.themes if t is not made)
        sizes = [len(t.reply_ids) for t in prompt.themes]
        assert sizes == sorted(sizes, reverse=True)
        shrunk = next(t for t in prompt.themes if t.title == big.title)
        assert len(shrunk.reply_ids) == len(big.reply_ids) - 1
        accounted_once(edited)
    assert "Time and cover, said plainly" in render_md(edited)


def test_a_hidden_answer_shown_again_is_quoted_as_before(database: Database,
                                                         now: datetime) -> None:
    """A hide can be taken back: the answer is quoted again where the engine quoted it, its
    words back in the outputs; hiding it once more hides it."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    hidden = first.themes[0].quotes[0]
    edit(database, round_id, "hide", now, reply_id=hidden.reply_id)
    assert hidden.text not in render_md(build(database, round_id, now))
    edit(database, round_id, "show", now, reply_id=hidden.reply_id)
    shown = build(database, round_id, now)
    assert question(shown).themes[0].quotes[0] == hidden
    assert hidden.text in render_md(shown) and HIDDEN not in json.dumps(shown.to_json())
    edit(database, round_id, "hide", now, reply_id=hidden.reply_id)
    again = question(build(database, round_id, now))
    assert hidden.reply_id not in {q.reply_id for t in again.themes for q in t.quotes}


def test_a_theme_whose_quotes_were_moved_out_is_quoted_and_titled_from_what_is_left(
        database: Database, now: datetime) -> None:
    """Every quote of a theme taken into a new theme: what stays is still quoted, from its
    own answers, and its title is a phrase of one of them, not of an answer gone."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    theme = first.themes[0]
    taken = [q.reply_id for q in theme.quotes]
    assert len(theme.reply_ids) > len(taken)
    edit(database, round_id, "group", now, other=taken, text="What the quotes said")
    prompt = question(build(database, round_id, now))
    [left] = [t for t in prompt.themes if set(t.reply_ids) == set(theme.reply_ids) - set(taken)]
    texts = {a.reply_id: " ".join(a.text.lower().split()) for a in prompt.answers}
    assert left.quotes and {q.reply_id for q in left.quotes} <= set(left.reply_ids)
    assert any(" ".join(left.title.lower().split()) in texts[r] for r in left.reply_ids), (
        left.title)
    assert theme_line(left).startswith(f"{len(left.reply_ids)} answers")
    assert summed_up_from(left, prompt)


def test_an_answer_hidden_whose_author_then_asks_not_to_be_quoted_is_not_offered_again(
        database: Database, now: datetime) -> None:
    """Hidden in review, then its author says "don't quote me": it may never be quoted, so
    neither the form nor the listing offers it, and its words are read for neither."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    first = question(build(database, round_id, now))
    hidden = first.themes[0].quotes[0]
    edit(database, round_id, "hide", now, reply_id=hidden.reply_id)
    n = ANSWERS.index(hidden.text)  # review_round's answers are stored as review-<n>
    with transaction(database.sessions) as session:
        dont_quote(session, f"review-{n}", (PLATFORM, MEMBERS[n % 5]))
    edited = build(database, round_id, now)
    with database.sessions() as session:
        assert hidden_words(session, edited) == {}
    assert choices(question(edited), hidden_words={}).hidden == []
    assert "Hidden in review" not in review_text(edited, None, {})
    assert hidden.text not in review_text(edited, None, {})


def test_a_question_with_no_themes_lists_its_answers_without_pointing_at_quotes(
        database: Database, now: datetime) -> None:
    """A question answered too little for themes has no quotes above its answers: the draft
    does not call them "not among the quotes above", nor tag each as in "other"."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    with transaction(database.sessions) as session:
        person = find_participant(session, MEMBERS[0], PLATFORM)
        assert person is not None
        record_reply(session, round_id, "done-well", person, "Weekly huddles", now,
                     external_id="lone")
    view = build(database, round_id, now)
    lone = view.prompt("done-well")
    assert lone is not None and not lone.themes
    [answer] = lone.answers
    shown = review_text(view, None)
    part = shown[shown.index("[done-well]"):shown.index("[bought-in]")]
    assert part.splitlines()[1:] == [
        "  Answers (the question has no themes yet: the digest lists them all):",
        f"      {answer.reply_id}  “Weekly huddles”", ""]
    assert shown.count("not among the quotes above") == 1  # the themed question's heading


def test_a_reply_set_aside_and_moved_by_a_facilitator_is_an_answer(
        database: Database, now: datetime) -> None:
    """The draft lists the replies the engine set aside as not answers; one a facilitator
    moves into a theme is counted, shown and quoted there like any answer, in later digests
    too."""
    round_id = review_round(database, now, MEMBERS[:5], starter="UFAC")
    with transaction(database.sessions) as session:
        person = find_participant(session, MEMBERS[0], PLATFORM)
        assert person is not None
        record_reply(session, round_id, PROMPT, person, "my mum", now, external_id="aside")
    view = build(database, round_id, now)
    first = question(view)
    aside = next(a.reply_id for a in first.answers if a.text == "my mum")
    assert next(a for a in first.answers if a.reply_id == aside).noise
    assert ("  Set aside as not answers (one you move to a theme or to other answers counts as "
            f"an answer):\n      {aside}  “my mum”\n") in review_text(view, None)
    assert "1 reply that was not an answer" in render_text(view)
    # the answers the digest lists but does not quote are not called "not quoted" (a theme's
    # line counts those of its answers the digest neither quotes nor lists)
    assert not [line for line in review_text(view, None).splitlines()
                if "not quoted" in line and f"{PROMPT}/" not in line]
    assert "  Answers not among the quotes above (in a theme, or listed under other answers):" \
        in review_text(view, None)

    edit(database, round_id, "move", now, reply_id=aside, theme=first.themes[0].reply_ids)
    for later in (now, now + timedelta(days=7)):
        after = build(database, round_id, later)
        accounted_once(after)
        moved = question(after)
        assert not next(a for a in moved.answers if a.reply_id == aside).set_aside
        assert aside in moved.themes[0].reply_ids
        assert "not an answer" not in render_text(after) and "Set aside" not in review_text(
            after, None)
