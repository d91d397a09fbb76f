"""A round walked as its people meet it, on both platforms: pharmacists answer in chat
(comments and reasons on a vote among them), and the facilitator reviews the draft before the
group sees it, from the command line or in chat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import review
from bot.app.actors import OPERATOR
from bot.app.review_form import HIDE, SHOW
from bot.core.replies import record_reply
from bot.scheduling import jobs
from storage.database import Database
from storage.db import transaction
from storage.models import Participant, Round
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import (
    RANKED_BY_NAME,
    REASON,
    TEXT_ANSWERS,
    answer_text_questions,
    wait,
)
from tests.conftest import NOW
from tests.helpers import run_cli
from tests.review_round import ANSWERS, PROMPT, current, question, text_of, unquoted_in

COMMENT = "Honestly it is time to think that matters, more than any list"
VOTE = "support-factors"
SMALL = "done-well"
"""A written question the walk's two people answer: too few answers for themes."""
FRIDAY_NOON = NOW + timedelta(days=4, hours=2)  # the default digest time, in London


def comment_and_reason(bot: Harness, database: Database) -> int:
    """Two people answer the written questions; then one writes a comment to the ranking
    question and the other types a ranking with a reason. The round's id."""
    bot.start()
    answer_text_questions(bot, range(2), database)
    bot.write(0, COMMENT)
    bot.write(1, f"{RANKED_BY_NAME}\n\n{REASON}")
    wait(bot, lambda: any("kept your message as a comment" in m for m in bot.said_to(0)),
         "the comment's notice")
    wait(bot, lambda: any("as your reason" in m for m in bot.said_to(1)), "the ranking")
    return bot.replies()[0].round_id


def test_a_vote_s_comment_and_reason_are_shown_in_review_and_a_hidden_one_is_quoted_nowhere(
        bot: Harness, database: Database, database_url: str) -> None:
    """What people wrote to a vote reaches the group word for word: the facilitator reviewing
    the draft sees it with its id, and what they hide is in no digest (the ballot counts)."""
    round_id = str(comment_and_reason(bot, database))
    env = {"DATABASE_URL": database_url}

    shown = run_cli("digest", "review", round_id, env=env)
    assert shown.returncode == 0, shown.stderr
    vote = shown.stdout[shown.stdout.index("[support-factors]"):].splitlines()
    ids = {words: next((line.split()[0] for line in vote if words in line), None)
           for words in (COMMENT, REASON)}
    assert None not in ids.values(), shown.stdout

    hidden = run_cli("digest", "review", round_id, *(f"--hide={i}" for i in ids.values()),
                     env=env)
    assert hidden.returncode == 0, hidden.stderr
    # what hiding did, in the words of each: a comment counts in nothing, a ballot still does
    assert f"Comment {ids[COMMENT]} is no longer quoted." in hidden.stdout
    assert (f"The reason given with ballot {ids[REASON]} is no longer quoted; the ballot still "
            "counts.") in hidden.stdout
    for form in ("md", "json", "text"):
        digest = run_cli("digest", "--round", round_id, "--format", form, env=env).stdout
        assert COMMENT not in digest and REASON not in digest, form
    assert "1 ballot" in digest


def test_a_vote_s_comment_and_reason_are_in_the_chat_draft_and_its_form_hides_one(
        bot: Harness, database: Database) -> None:
    """Reviewing in chat, the facilitator reads what people wrote to a vote before the group
    does, and hides a reason through the question's Edit form: the digest they approve
    leaves it out, quotes the comment, and still counts the ballot."""
    round_id = comment_and_reason(bot, database)
    jobs.install(jobs.JobContext(database, bot.app.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)

    draft = bot.draft()
    assert COMMENT in draft and REASON in draft, draft
    assert bot.form_choices(VOTE) == {HIDE: [REASON, COMMENT], SHOW: []}
    bot.hide_in_review(VOTE, [REASON])
    wait(bot, lambda: REASON not in bot.draft(), "the draft brought up to date")
    assert COMMENT in bot.draft()
    # what a ballot's "Quote again" shows is the reason that was hidden, not the ballot
    assert bot.form_choices(VOTE) == {HIDE: [COMMENT], SHOW: [REASON]}

    assert bot.approve_review().startswith(f"Approved: the digest of round {round_id}")
    wait(bot, lambda: COMMENT in bot.posted(), "the vote's comment in the digest")
    posted = bot.posted()
    assert REASON not in posted and "1 ballot" in posted, posted


def drafted_small_question(bot: Harness, database: Database) -> tuple[int, list[str]]:
    """Two people answer the written questions; the scheduled digest goes to review. The
    round's id, and the two answers to the first question (too few for themes)."""
    bot.start()
    answer_text_questions(bot, range(2), database)
    round_id = bot.replies()[0].round_id
    jobs.install(jobs.JobContext(database, bot.app.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)
    return round_id, [f"{TEXT_ANSWERS[0]} ({who})" for who in range(2)]


def test_the_chat_draft_lists_a_question_without_themes_answer_by_answer_with_ids(
        bot: Harness, database: Database, database_url: str) -> None:
    """A question with too few answers for themes is listed in the digest answer by answer:
    the draft shows each of them, with the id the command line names it by, before the group
    reads them."""
    round_id, answers = drafted_small_question(bot, database)
    draft = bot.draft()
    for answer in answers:
        assert answer in draft, draft
    shown = run_cli("digest", "review", str(round_id), env={"DATABASE_URL": database_url}).stdout
    for answer in answers:
        reply_id = next(line.split()[0] for line in shown.splitlines() if answer in line)
        assert reply_id in draft, (reply_id, draft)


def test_an_answer_hidden_in_a_question_without_themes_is_quoted_again_from_the_chat_form(
        bot: Harness, database: Database) -> None:
    """The digest lists a small question's answers word for word: its form hides one, then
    offers it under "Quote again", and the digest approved after quotes it."""
    _, (kept, hidden) = drafted_small_question(bot, database)
    assert bot.form_choices(SMALL) == {HIDE: [kept, hidden], SHOW: []}
    bot.hide_in_review(SMALL, [hidden])
    wait(bot, lambda: hidden not in bot.draft(), "the draft without the hidden answer")
    assert bot.form_choices(SMALL) == {HIDE: [kept], SHOW: [hidden]}

    bot.hide_in_review(SMALL, [hidden], field=SHOW)
    wait(bot, lambda: hidden in bot.draft(), "the draft quoting it again")
    assert bot.form_choices(SMALL) == {HIDE: [kept, hidden], SHOW: []}
    bot.approve_review()
    wait(bot, lambda: hidden in bot.posted() and kept in bot.posted(), "the digest")


def themed_question(bot: Harness, database: Database, role: str | None = None) -> int:
    """The five answer the question the review tests theme (tests.review_round), written
    straight to the database (`role`: every one of them holds it); the round's id."""
    bot.start()
    with transaction(database.sessions) as session:
        round_id = session.scalars(select(Round.id)).one()
        people = list(session.scalars(select(Participant).where(
            Participant.platform == bot.platform, Participant.role.is_(None))
            .order_by(Participant.id)))[-5:]
        for person in people:
            person.role = role
        for n, text in enumerate(ANSWERS):
            record_reply(session, round_id, PROMPT, people[n % len(people)], text, NOW,
                         external_id=f"walk-{n}")
    return round_id


def draft_now(bot: Harness, database: Database, round_id: int) -> None:
    jobs.install(jobs.JobContext(database, bot.app.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)


def test_a_themes_other_answers_are_hidden_from_the_chat_form_as_at_the_command_line(
        bot: Harness, database: Database) -> None:
    """The digest lists a question's other answers word for word, under its themes: the
    chat form offers them under "Hide" beside the themes' quotes, as `--hide` takes them."""
    round_id = themed_question(bot, database)
    other = unquoted_in(question(current(database, round_id, NOW)), 1)
    words = text_of(current(database, round_id, NOW), other)
    review.edit(bot.app, OPERATOR, round_id, [review.Change("move", PROMPT, reply_id=other)])
    draft_now(bot, database, round_id)
    assert words in bot.draft()

    assert words in bot.form_choices(PROMPT)[HIDE]
    bot.hide_in_review(PROMPT, [words])
    wait(bot, lambda: words not in bot.draft(), "the draft without the hidden answer")
    assert bot.form_choices(PROMPT)[SHOW] == [words]


def test_the_chat_draft_counts_each_themes_answers_not_quoted_and_attributes_each_quote(
        bot: Harness, database: Database) -> None:
    """Approving in chat, a facilitator sees how many of each theme's answers the digest does
    not quote, and each quote with the role the group will read beside it."""
    round_id = themed_question(bot, database, role="community pharmacist")
    draft_now(bot, database, round_id)
    lines = bot.draft().splitlines()
    prompt = question(current(database, round_id, NOW))
    assert any("posted with the writer's role" in line for line in lines), lines
    for theme in prompt.themes:
        left = len(theme.reply_ids) - len(theme.quotes)
        count = f"{len(theme.reply_ids)} answers, " + (f"{left} not quoted" if left
                                                       else "all quoted")
        assert any(theme.title in line and count in line for line in lines), (theme.title, lines)
        for quote in theme.quotes:
            assert any(quote.reply_id in line and "— community pharmacist" in line
                       for line in lines), (quote.reply_id, lines)
