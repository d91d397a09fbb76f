"""Acceptance 4 of issue 14: the duplicate-delivery, hostile-text, rate-limit and anonymity
tests, one suite run over both adapters (Slack and Teams) on both databases."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app.command_words import SET_USAGE
from bot.app.confirmations import Confirmations
from bot.core.digest.build import build_digest
from bot.core.public_ids import public_reply_id
from storage.database import Database
from storage.models import Delivery, QuestionMessage, Reply, Round
from tests.adapters.harness import (
    HOSTILE,
    NAMES,
    STORED,
    Harness,
    SlackHarness,
    TeamsHarness,
    harness,
    leaders_tenant,
)
from tests.helpers import HeldClock, wait_for
from tests.teams.conftest import PACK

PLATFORMS = ["slack", "teams"]


def saved_to(bot: Harness, who: int) -> list[str]:
    return [m for m in bot.said_to(who) if "Saved" in m]


def test_an_answer_delivered_three_times_is_stored_and_confirmed_once(bot: Harness) -> None:
    bot.start()
    bot.write(0, "Protected time made it work.", times=3)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [
        ("done-well", "Protected time made it work.")]
    assert len(saved_to(bot, 0)) == 1
    asked = Counter(m.split("\n")[0][:40] for m in bot.said_to(0) if "Question 2 of 6" in m)
    assert list(asked.values()) == [1]


def test_hostile_text_is_stored_as_read_and_pings_nobody_when_repeated(bot: Harness) -> None:
    bot.start()
    hostile = HOSTILE[bot.platform]
    bot.write(1, hostile)
    wait(bot, lambda: saved_to(bot, 1), "the confirmation")
    assert [r.text for r in bot.replies()] == [STORED[bot.platform]]
    digest = "\n".join(bot.digest())
    assert "evil.example" in digest or "the NHS site" in digest  # shown, as words
    assert bot.pings() == []


def test_everyone_gets_question_one_once_through_rate_limits(bot: Harness) -> None:
    bot.refuse_next_posts(3, retry_after=1)
    bot.start()
    for who in range(len(NAMES)):
        firsts = [m for m in bot.said_to(who) if "Question 1 of 6" in m]
        assert len(firsts) == 1, (who, firsts)
    assert {d.state for d in bot.deliveries()} == {"sent"}
    assert bot.refusals() == 3


def test_an_anonymous_round_names_nobody_in_its_digest(bot: Harness) -> None:
    bot.start(anonymous=True)
    for who in range(3):
        bot.write(who, f"Answer {who}: protected time and peer support.")
    wait(bot, lambda: len(bot.replies()) == 3, "three answers")
    digest = "\n".join(bot.digest())
    assert "Answer 0: protected time" in digest
    for name in NAMES:
        assert name not in digest, name


def test_the_group_is_told_where_everything_is_without_a_command_it_cannot_run(
        bot: Harness) -> None:
    """The digest channel is the group's: its top message points to the full synthesis in
    words for them, never to the facilitator's `roundtable export`."""
    bot.start()
    for who in range(3):
        bot.write(who, f"Answer {who}: protected time and peer support.")
    wait(bot, lambda: len(bot.replies()) == 3, "three answers")
    digest = bot.digest()
    assert "the full synthesis, which the round's facilitators can share" in digest[0]
    assert not [m for m in digest if "roundtable " in m]


def _round(bot: Harness, database: Database) -> Round:
    with database.sessions() as session:
        return session.scalars(select(Round)).one()


def test_a_bad_round_number_gets_the_same_clear_message_and_changes_nothing(
        bot: Harness, database: Database) -> None:
    bot.start()
    before = _round(bot, database)
    for text, typed in (("close 3x", "3x"), ("status #1", "#1"), ("set 1x closes 14d", "1x"),
                        ("review 1x on", "1x"), ("remind 1.", "1.")):
        assert bot.command(text) == f"'{typed}' is not a round number.", text
    after = _round(bot, database)
    assert (after.status, after.closes_at, after.digest_channel, after.review) == (
        before.status, before.closes_at, before.digest_channel, before.review)
    assert bot.replies() == []  # Teams: not kept as an answer either


def test_set_and_review_change_a_round_alike_on_both(bot: Harness, database: Database
                                                      ) -> None:
    bot.start()
    round_ = _round(bot, database)
    channel, n = round_.digest_channel, round_.id
    assert bot.command(f"set {n} digest none").startswith(
        f"Round {n}: no digest channel, so no digests are posted; no closing date.")
    assert _round(bot, database).digest_channel is None
    status = bot.command(f"status {n}")  # how to give it one, as typed on this platform
    typed = f"/roundtable set {n} digest #channel" if bot.platform == "slack" else (
        f"set {n} digest #channel")
    assert typed in status and "in Slack" not in status, status
    assert ("/roundtable" in status) == (bot.platform == "slack")
    set_again = bot.command(f"set {n} digest {bot.digest_channel} closes 14d")
    assert set_again.startswith(f"Round {n}: digests go to {bot.digest_channel_read}, "), \
        set_again
    assert _round(bot, database).digest_channel == channel

    assert bot.command(f"review {n} on unapproved wait within 12h") == (
        f"Round {n}: each scheduled digest goes to its facilitators first; one nobody "
        "approves within 12 hours is kept waiting.")
    assert (_round(bot, database).unreviewed, _round(bot, database).review_hours) == (
        "wait", 12)
    assert bot.command(f"review {n}") == f"Round {n} has no digest waiting for review."
    usage = bot.command(f"set {n} digest")  # the same usage, the command shown as typed there
    assert usage.replace("`/roundtable ", "").replace("`", "") == (
        f"Type it like this: {SET_USAGE}.")


def test_reopen_with_a_closing_date_on_an_open_round_says_how_to_move_its_close(
        bot: Harness, database: Database) -> None:
    """A facilitator who types `reopen N closes 7d` to give an open round more time is told
    the command that does it; the round is left as it was."""
    bot.start()
    n = _round(bot, database).id
    answer = bot.command(f"reopen {n} closes 7d").replace("`/roundtable ", "").replace("`", "")
    assert answer == (f"Round {n} is open already; to change when it closes: set {n} closes 7d "
                      f"in chat, or roundtable round set {n} --closes 7d on the server.")
    assert bot.command(f"reopen {n}") == f"Round {n} is open already."
    assert _round(bot, database).closes_at is None


def test_a_command_that_could_mean_two_rounds_asks_which_and_changes_nothing(
        bot: Harness, database: Database) -> None:
    bot.start()
    amara = "<@UAMARA|amara>" if bot.platform == "slack" else "amara@nhs.net"
    assert "started" in bot.command(f"start {PACK} to {amara}")
    assert bot.command("close") == "Which round? Your open rounds: 1, 2."
    with database.sessions() as session:
        assert set(session.scalars(select(Round.status))) == {"open"}


def test_a_digest_channel_nobody_has_gets_the_same_words_on_both(bot: Harness) -> None:
    said = [bot.command(text).replace("`/roundtable ", "").replace("`", "")
            for text in ("set 1 digest weekly", "set digest weekly closes 14d")]
    assert said == [f"I don't know a channel called 'weekly'. Type it like this: {SET_USAGE}."
                    ] * 2


def test_the_first_message_tells_each_person_how_their_words_will_be_used(
        bot: Harness) -> None:
    """The promise of anonymity is made where the questions begin, on every platform: the
    round's privacy notice is in the message that asks question 1."""
    bot.start(anonymous=True)
    first = next(m for m in bot.said_to(0) if "Question 1 of 6" in m)
    assert "How your answers are used" in first, first
    assert ("what you write may be quoted word for word in digests posted to "
            f"{bot.digest_channel_read} and in the facilitators' exports") in first, first
    assert "Write “don't quote me” in an answer" in first, first
    # a button under the reply to a written answer keeps it from quotes, on both platforms
    assert "press the button under my reply" in first, first


def test_help_says_what_roundtable_does_and_how_to_stop_it(bot: Harness) -> None:
    shown = bot.command("help")
    # Teams' words are runs, its name a bold one: no Markdown, which a card's runs never read
    assert shown.startswith("*Roundtable* asks a workshop's questions" if bot.platform == "slack"
                            else "Roundtable asks a workshop's questions"), shown
    assert bot.platform == "slack" or ("`" not in shown and "**" not in shown), shown
    assert "stop" in shown and "my-data" in shown and "forget-me" in shown


def test_help_names_the_same_commands_in_the_same_words_on_both(bot: Harness) -> None:
    """A facilitator reads each command's placeholders (<pack>, <round>) as typed, and the
    same choices and promises on either platform."""
    shown = bot.command("help").replace("`", "").replace("/roundtable ", "")
    for words in ("start <pack> to ", "status [round] [who]",
                  "set [round] [digest #channel|none] [closes 14d|never] "
                  "[schedule <cron>|default]: where the round's digests go",
                  "review <round>: the digest waiting for your approval, in ",
                  ", to edit and approve; review <round> on|off [unapproved post|wait]",
                  "reopen <round> [closes 14d]", "delete <round> (asks first)",
                  "forget-me", "delete it all", "asks first", "don't quote me"):
        assert words in shown, (words, shown)
    assert "the same as a form" not in shown, shown


def wait(bot: Harness, predicate: Callable[[], object], what: str) -> None:
    wait_for(predicate, what)


TEXT_ANSWERS = ["Covid vaccine rollout worked.", "GPs and the ICS board.",
                "Community pharmacists who mentor.", "Action learning sets.",
                "Meet without minutes."]
RANKED_BY_NAME = ("Protected time, then psychological safety, then relationships and networks, "
                  "executive backing and trust, leadership development")
REASON = "Without time and safety nobody steps up."


def answer_text_questions(bot: Harness, people: range, database: Database) -> None:
    """Each of `people` answers questions 1 to 5 in their own conversation, one after the
    other (each once the bot has recorded asking it, as a person would only answer what they
    were sent); the people write at the same time, as they would."""
    for n in range(1, len(TEXT_ANSWERS) + 1):
        for who in people:
            bot.write(who, _text_answer(n, who))
        for who in people:
            _wait_for_next_question(bot, who, database, n)


def answer_text_question(bot: Harness, who: int, database: Database, n: int) -> None:
    """Person `who` answers question `n` (1 to 5); returns once question n + 1 is asked."""
    bot.write(who, _text_answer(n, who))
    _wait_for_next_question(bot, who, database, n)


def _text_answer(n: int, who: int) -> str:
    return f"{TEXT_ANSWERS[n - 1]} ({who})"


def _wait_for_next_question(bot: Harness, who: int, database: Database, n: int) -> None:
    wait(bot, lambda: any(f"Question {n + 1} of 6" in m for m in bot.said_to(who))
         and _asked(database, _text_answer(n, who)) >= n + 1, f"question {n + 1} to {who}")


def _asked(database: Database, answer: str) -> int:
    """How many questions the bot has recorded asking the author of `answer`."""
    with database.sessions() as session:
        return len(session.scalars(
            select(QuestionMessage.id)
            .join(Delivery, Delivery.id == QuestionMessage.delivery_id)
            .join(Reply, (Reply.participant_id == Delivery.participant_id)
                  & (Reply.round_id == Delivery.round_id))
            .where(Reply.text == answer, QuestionMessage.prompt_id.is_not(None))).all())


def test_typed_rankings_are_stored_as_votes_and_other_words_as_comments(
        bot: Harness, database: Database) -> None:
    bot.start()
    # together: a typed ranking may share a confirmation with its author's last answer, which
    # reads it back all the same
    answer_text_questions(bot, range(3), database)
    bot.write(0, "3, 1, 5, 2, 4")
    bot.write(1, f"{RANKED_BY_NAME}\n\n{REASON}")
    bot.write(2, "Honestly it is time to think that matters, more than any list")
    wait(bot, lambda: any("as I read your message" in m for m in bot.said_to(0)), "ranking 0")
    wait(bot, lambda: any("as I read your message" in m for m in bot.said_to(1)), "ranking 1")
    wait(bot, lambda: any("kept your message as a comment" in m for m in bot.said_to(2)),
         "the comment's notice")
    understood = next(m for m in bot.said_to(0) if "as I read your message" in m)
    assert understood.index("Clear purpose and motivation") < understood.index("Protected time")
    assert any("as your reason" in m for m in bot.said_to(1))
    notice = next(m for m in bot.said_to(2) if "kept your message as a comment" in m)
    form = {"slack": "use the button on the question", "teams": "use the form on its card"}
    assert form[bot.platform] in notice and "top 5" in notice
    for who in range(3):
        assert not any("no open question" in m for m in bot.said_to(who)), who
    votes = {r.participant_id: r for r in bot.replies() if r.prompt_id == "support-factors"}
    assert sorted(tuple(r.choices or ()) for r in votes.values() if r.choices) == sorted([
        ("Clear purpose and motivation", "Protected time", "Leadership development",
         "Insights from elsewhere", "Information and analytics"),
        ("Protected time", "Psychological safety", "Relationships and networks",
         "Executive backing and trust", "Leadership development")])
    comment = [r for r in votes.values() if not r.choices]
    assert [r.text for r in comment] == [
        "Honestly it is time to think that matters, more than any list"]
    assert "It is not a vote yet" in notice
    # the question still waits for their vote: the next words are read as one, and both kept
    bot.write(2, "2, 1, 4, 3, 5")
    wait(bot, lambda: any("as I read your message" in m for m in bot.said_to(2)), "ranking 2")
    bot.write(0, "Purpose matters more than anything else")
    wait(bot, lambda: any("beside your ranking" in m for m in bot.said_to(0)), "a 2nd comment")

    digest = "\n".join(bot.digest())
    assert "Honestly it is time to think that matters, more than any list" in digest
    assert "Purpose matters more than anything else" in digest
    assert REASON in digest
    with database.sessions() as session:
        round_id = session.scalars(select(Reply.round_id)).first()
        view = build_digest(session, round_id, datetime.now(UTC)).to_json()
        public = {r.id: public_id for r, public_id in _public_ids(session, round_id)}
    listed = [i for p in view["prompts"] for t in p["themes"] for i in t["reply_ids"]]
    listed += [i for p in view["prompts"] for i in p["unthemed_reply_ids"]]
    assert sorted(listed) == sorted(public.values())  # every reply exactly once
    rank = next(p for p in view["prompts"] if p["prompt_id"] == "support-factors")
    assert rank["answer_count"] == 3
    # the reason typed with a ballot is under its first choice; words written apart from a
    # ballot, before or after it, are comments on the question
    reasons = {q["text"]: r["option"] for r in rank["reasons"] for q in r["quotes"]}
    assert reasons == {REASON: "Protected time"}
    assert [q["text"] for q in rank["comments"]] == [
        "Honestly it is time to think that matters, more than any list",
        "Purpose matters more than anything else"]


def _public_ids(session: Session, round_id: int) -> list[tuple[Reply, str]]:
    round_ = session.get_one(Round, round_id)
    replies = session.scalars(select(Reply).where(Reply.round_id == round_id,
                                                  Reply.deleted_at.is_(None))).all()
    return [(r, public_reply_id(round_.secret, round_.anonymity, r.id, r.external_id,
                                r.source)) for r in replies]


def test_a_ranking_typed_right_after_an_answer_is_read_back_in_their_shared_confirmation(
        paced: tuple[Harness, HeldClock], database: Database) -> None:
    bot, pacing = paced
    bot.start()
    for n in range(1, 5):  # a second apart: each answer is confirmed on its own
        pacing.advance(Confirmations.SPACING)
        answer_text_question(bot, 0, database, n)
    # within a second of the 4th's confirmation, the answer to question 5 waits for its turn;
    # another person's confirmation wakes the sender, which asks question 6 meanwhile
    bot.write(0, _text_answer(5, 0))
    wait(bot, lambda: len(bot.app.confirmations.queued()) == 1, "the 5th answer to be saved")
    bot.write(1, "Peer support in the pandemic.")
    _wait_for_next_question(bot, 0, database, 5)
    bot.write(0, f"{RANKED_BY_NAME}\n\n{REASON}")  # and the ranking joins the 5th answer
    wait(bot, lambda: len(bot.app.confirmations.queued()) == 2, "the ranking to be saved")
    pacing.advance(Confirmations.SPACING)

    shared = wait_for(lambda: [m for m in bot.said_to(0) if "Saved 2 answers" in m],
                      "the shared confirmation")
    assert len(shared) == 1
    said = shared[0]
    assert _text_answer(5, 0) in said
    assert ("Your ranking, as I read your message:\n1. Protected time\n2. Psychological "
            "safety\n3. Relationships and networks\n4. Executive backing and trust\n"
            "5. Leadership development") in said
    assert "Your words after it are kept with it, as your reason" in said
    assert said.count("Not what you meant?") == 1
    assert not any("as I read your message" in m for m in bot.said_to(0) if m != said)


SMALL_TALK = ["hi", "Hello! :wave:", "what is this?", "Help me", "Who are you?"]
"""A greeting or a question about the bot, one per person, as people write them."""
FIRST_QUESTION = "Where have you seen clinical or professional system leadership work well"
SAVE = "Save as my answer"


def offers(bot: Harness, who: int) -> list[str]:
    return [m for m in bot.said_to(who) if "Not a greeting but your answer?" in m]


def test_a_greeting_is_not_an_answer_and_its_button_saves_it_as_one(bot: Harness) -> None:
    bot.start()
    for who, text in enumerate(SMALL_TALK):
        bot.write(who, text if bot.platform == "slack" else text.replace(":wave:", "\U0001f44b"))
    for who in range(len(SMALL_TALK)):
        wait(bot, lambda who=who: offers(bot, who), f"the answer to {SMALL_TALK[who]!r}")
    assert bot.replies() == []
    hello = offers(bot, 0)[0]
    assert hello.startswith("Hello! Question 1 is waiting for your answer: " + FIRST_QUESTION)
    assert "Question 1 is waiting" in offers(bot, 1)[0]
    for who in (2, 3, 4):
        assert offers(bot, who)[0].startswith("I'm Roundtable: I ask you a workshop's questions")
        assert "Question 1 is waiting for your answer" in offers(bot, who)[0]
    assert not any("Question 2 of 6" in m for who in range(5) for m in bot.said_to(who))

    # the button saves the words, as the answer to the question that waited
    assert bot.press(0, SAVE) == "Saved as your answer to question 1."
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [("done-well", "hi")]

    # a real answer afterwards is saved as any answer; one that starts "Hi," is one
    bot.write(1, "Protected time made it work.")
    bot.write(2, "Hi, the vaccine rollout: shared goals and daily huddles.")
    wait(bot, lambda: saved_to(bot, 1) and saved_to(bot, 2), "the two confirmations")
    assert sorted((r.prompt_id, r.text) for r in bot.replies()) == [
        ("done-well", "Hi, the vaccine rollout: shared goals and daily huddles."),
        ("done-well", "Protected time made it work."), ("done-well", "hi")]
    # words left unsaved are in no digest
    digest = "\n".join(bot.digest())
    for text in SMALL_TALK[1:]:
        assert text not in digest


def test_a_save_button_whose_data_names_another_chat_answers_where_it_was_pressed(
        database: Database, database_url: str, tmp_path: Path) -> None:
    """A Teams client can send a card's data altered; the words are saved as the presser's,
    and what follows goes to the chat the button was pressed in, never to the one named."""
    with harness("teams", database, database_url, str(tmp_path), leaders_tenant) as bot:
        assert isinstance(bot, TeamsHarness)
        bot.start()
        bot.write(0, "hi")
        wait(bot, lambda: offers(bot, 0), "the answer to 'hi'")
        member = bot.tenant.members[0]
        data = next(a["data"] for c in reversed(bot.stub.sent_to(member))
                    for attachment in (c.body or {}).get("attachments") or []
                    for a in (attachment.get("content") or {}).get("actions") or []
                    if a.get("title") == SAVE)
        in_channel = len(bot._in_channel())
        response, = bot.running.teams.submit(member, {**data, "channel": bot.channel})
        assert response.status == 200
        wait(bot, lambda: saved_to(bot, 0), "the confirmation in the person's own chat")
        wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
        assert [(r.prompt_id, r.text) for r in bot.replies()] == [("done-well", "hi")]
        assert len(bot._in_channel()) == in_channel


def test_asked_what_this_is_with_no_question_open_the_reply_points_at_no_waiting_question(
        bot: Harness) -> None:
    bot.start()
    wait(bot, lambda: any("Question 1 of 6" in m for m in bot.said_to(0)), "question 1")
    assert "closed" in bot.command("close 1")
    bot.write(0, "what is this?")
    reply = wait_for(lambda: [m for m in bot.said_to(0) if "I'm Roundtable" in m],
                     "the reply")[0]
    assert "I have no open question waiting for an answer here" in reply
    assert "the question waiting" not in reply
    assert "stops the questions" in reply


def test_a_slack_walk_fails_when_the_bot_answered_with_blocks_slack_would_refuse(
        database: Database, database_url: str, tmp_path: Path) -> None:
    """An answer at a response_url or a view over Block Kit's limits is taken by the
    stand-in (so the walk goes on) and fails the walk at its end, as the `stub` fixture
    fails a test."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the harness's own check: one backend is enough")
    too_long = {"text": "x", "blocks": [{"type": "section",
                                         "text": {"type": "mrkdwn", "text": "x" * 3001}}]}
    with pytest.raises(AssertionError, match="response_url: section text over 3,000"):
        with harness("slack", database, database_url, str(tmp_path), leaders_tenant) as bot:
            assert isinstance(bot, SlackHarness)
            request = urllib.request.Request(bot.stub.response_url(), json.dumps(
                too_long).encode(), {"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as answered:
                assert answered.status == 200
    bot.stub.violations.clear()  # seen, as the test meant: no more to report at its end


def test_a_pack_that_is_not_there_is_said_before_anything_about_the_audience(
        bot: Harness, database: Database) -> None:
    """The pack is checked first: a facilitator who mistyped it hears that, not that the
    people named cannot be told apart, on both platforms alike."""
    said = bot.command("start nosuchpack to team")
    assert said == f"No pack 'nosuchpack' (known: {PACK}).", said
    with database.sessions() as session:
        assert session.scalars(select(Round)).all() == []


def test_status_with_only_closed_rounds_says_where_to_look(bot: Harness) -> None:
    bot.start()
    assert "closed" in bot.command("close 1")
    shown = bot.command("status").replace("`/roundtable ", "").replace("`", "")
    assert re.fullmatch(r"No open rounds\. Round 1 closed on \w{3} [1-9]\d? \w{3} \d{4} \d\d:\d\d "
                        r"\w+: status 1 shows it; list all lists every round\.", shown), shown


def test_closing_a_round_says_it_posted_its_final_digest(bot: Harness) -> None:
    bot.start()
    closed = bot.command("close 1")
    assert closed == ("Round 1 is closed; no more answers are taken. Posted its final digest "
                      f"in {bot.digest_channel_read}."), closed


def test_help_with_a_command_shows_that_commands_lines_of_the_help(bot: Harness) -> None:
    """`help start` answers with the lines of the help that give `start`, word for word as
    the whole help gives them; nothing of the other commands."""
    whole = bot.command("help").splitlines()
    shown = bot.command("help start").splitlines()
    assert shown and set(shown) <= set(whole), (shown, whole)
    assert any("start <pack> to " in line for line in shown), shown
    assert not any("forget-me" in line or "reopen <round>" in line for line in shown), shown
    assert len(shown) < len(whole) / 3, shown


def test_help_with_a_word_it_does_not_know_says_so_and_shows_every_command(
        bot: Harness) -> None:
    """Where commands are typed (Slack's /roundtable, a Teams channel); in Teams' 1:1 chat,
    where answers are written, "Help me" stays small talk (test_a_greeting_is_not_an_answer_...)."""
    whole = bot.command_in_channel("help")
    shown = bot.command_in_channel("help frobnicate")
    assert shown.startswith("I don't know `frobnicate`." if bot.platform == "slack"
                            else "I don't know frobnicate."), shown
    assert shown.endswith(whole), shown
