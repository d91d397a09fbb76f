"""A greeting's words, not taken as an answer, are kept only in the "Save as my answer" button
of the bot's reply. On Slack and Teams alike: my-data says so, and forget-me, retention and a
round's deletion take that reply (and the words with it) off the platform and out of every
store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.app.confirmations import Confirmations
from bot.core import audit
from bot.core.retention import apply_retention
from storage.db import transaction
from storage.models import BotMessage, InboxEvent, Participant, Round
from tests.adapters.harness import (
    MEMBERS,
    Harness,
    SlackHarness,
    TeamsHarness,
)
from tests.adapters.test_every_adapter import (
    SAVE,
    offers,
    saved_to,
    wait,
)
from tests.helpers import HeldClock, stored_values
from tests.teams.conftest import replaced_by
from tests.teams_connector_stub import Call, card_text

WORDS = "Good evening, Roundtable!"
"""A whole message of greeting: not an answer, so kept only in the reply's button."""
QUESTION = "Where have you seen clinical or professional system leadership work well"
NUMBERS = {"done-well": 1, "bought-in": 2}
"""The number of the pack's first questions, as people are asked them."""


def _greeted(bot: Harness) -> None:
    """Person 0 writes a greeting while question 1 waits; the reply holding it is posted
    and remembered."""
    bot.start()
    bot.write(0, WORDS)
    wait(bot, lambda: offers(bot, 0), "the reply to the greeting")
    wait(bot, lambda: _remembered(bot), "the reply, remembered")
    assert bot.replies() == []
    assert _holding(bot) != []  # its button holds the words, on the platform


def _remembered(bot: Harness) -> list[BotMessage]:
    with bot.app.database.sessions() as session:
        return list(session.scalars(select(BotMessage)))


def _holding(bot: Harness, words: str = WORDS) -> list[str]:
    """The bot's messages in person 0's conversation that hold `words` on the platform now
    (posted, and neither deleted nor changed since)."""
    if isinstance(bot, SlackHarness):
        channel = "D" + MEMBERS[0]
        now = [bot.stub.message(channel, c.answer["ts"]) for c in bot.stub.posted(channel)]
        return [json.dumps(m) for m in now if m is not None and words in json.dumps(m)]
    assert isinstance(bot, TeamsHarness)
    calls = bot.stub.calls
    holding = []
    for call in bot.stub.sent_to(bot.tenant.members[0]):
        if call.activity_id is None or call.activity_id in bot.stub.gone:
            continue
        changed = [c for c in calls if c.method == "PUT" and c.status == 200
                   and c.path.endswith("/" + call.activity_id)]
        body = json.dumps((changed[-1] if changed else call).body)
        if words in body:
            holding.append(body)
    return holding


def _my_data(bot: Harness) -> str:
    """Person 0 asks for their data: the file they get, as text."""
    if isinstance(bot, SlackHarness):
        before = len(bot.stub.uploaded("D" + MEMBERS[0]))
        acked = bot.running.slack.command(MEMBERS[0], "my-data")
        assert acked.status == 200
        files = bot.running.wait_for(lambda: bot.stub.uploaded("D" + MEMBERS[0])[before:],
                                     "the file")
        bot.running.answer_to(acked, "the answer to my-data")  # it comes after the file
        return str(files[0][1].decode())
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    before = len(bot.stub.sent_to(member))
    bot.running.teams.chat(member, "my-data")
    bot.running.wait_for(lambda: any('"audit_log"' in card_text(c)
                                     for c in bot.stub.sent_to(member)[before:]), "the file")
    return "\n".join(card_text(c) for c in bot.stub.sent_to(member)[before:])


def _forget_me(bot: Harness) -> str:
    """Person 0 writes forget-me and confirms it: what they are told."""
    if isinstance(bot, SlackHarness):
        user, stub = MEMBERS[0], bot.stub
        assert bot.running.slack.command(user, "forget-me").status == 200
        bot.running.wait_for(lambda: [c for c in stub.calls_to("response_url")
                                      if "cannot be undone" in c.params.get("text", "")],
                             "the question")
        assert bot.running.slack.click(user, "forget_confirm").status == 200
        done = bot.running.wait_for(lambda: [c for c in stub.calls_to("response_url")
                                             if "Done." in c.params.get("text", "")], "done")
        return str(done[0].params["text"])
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    bot.running.teams.chat(member, "forget-me")
    card: Call = bot.running.wait_for(lambda: next((c for c in bot.stub.sent_to(member)
                                                    if "cannot be undone" in card_text(c)),
                                                   None), "the forget-me card")
    [answered] = bot.running.teams.submit(
        member, card.body["attachments"][0]["content"]["actions"][0]["data"])
    return replaced_by(answered.json())


def _everything_stored(bot: Harness) -> str:
    database = bot.app.database
    with database.sessions() as session:
        main = stored_values(session)
    with database.inbox_sessions() as session:
        inbox = stored_values(session)
    return "\n".join(main + inbox)


def _files_holding(root: Path, words: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and words.encode() in p.read_bytes()]


def _round_id(bot: Harness) -> int:
    with bot.app.database.sessions() as session:
        return int(session.scalars(select(Round.id)).one())


def test_my_data_says_a_greeting_s_words_are_held_in_the_reply_s_button(bot: Harness) -> None:
    _greeted(bot)
    held: Any = _my_data(bot)
    assert "Save as my answer" in held
    assert "not in Roundtable's database" in held
    assert QUESTION in held
    assert WORDS not in held  # never stored: the file says where they are instead

    # once saved, the words are an answer like any other, and the button is gone
    assert bot.press(0, SAVE) == "Saved as your answer to question 1."
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    held = _my_data(bot)
    assert WORDS in held
    assert "not in Roundtable's database" not in held


def test_forget_me_takes_the_reply_holding_a_greeting_off_the_platform_and_keeps_no_trace(
        bot: Harness, tmp_path: Path) -> None:
    _greeted(bot)
    assert _forget_me(bot).startswith("Done. Roundtable deleted")
    assert _holding(bot) == []
    assert WORDS not in _everything_stored(bot)
    assert _files_holding(tmp_path, WORDS) == []  # the data dir and the database files


def test_retention_takes_the_reply_holding_a_greeting_off_the_platform(bot: Harness) -> None:
    _greeted(bot)
    round_id = _round_id(bot)
    assert "closed" in bot.command(f"close {round_id}")
    app = bot.app
    with transaction(app.database.sessions) as session:  # closed past the period
        session.execute(update(Round).values(closed_at=app.clock() - timedelta(days=400)))
    done = apply_retention(app.database, app.clock(), 365, audit.OPERATOR, app.gateways)
    assert done.rounds == [round_id]
    assert _holding(bot) == []
    assert _remembered(bot) == []
    assert WORDS not in _everything_stored(bot)


def test_deleting_a_round_takes_the_reply_holding_a_greeting_off_the_platform(
        bot: Harness) -> None:
    _greeted(bot)
    round_id = _round_id(bot)
    done = facilitation.delete(bot.app, OPERATOR, round_id)
    assert done.plain.startswith(f"Round {round_id} is deleted")
    assert _holding(bot) == []
    assert _remembered(bot) == []
    assert WORDS not in _everything_stored(bot)


ANSWER = "Protected time made it work."
"""An answer: its confirmation repeats it in person 0's conversation."""


def _answered(bot: Harness) -> None:
    """Person 0 answers question 1; the confirmation repeating it is posted and remembered."""
    bot.start()
    bot.write(0, ANSWER)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    wait(bot, lambda: _remembered(bot), "the confirmation, remembered")
    assert _holding(bot, ANSWER) != []


def test_retention_takes_an_answer_s_confirmation_off_the_platform(bot: Harness) -> None:
    _answered(bot)
    round_id = _round_id(bot)
    assert "closed" in bot.command(f"close {round_id}")
    app = bot.app
    with transaction(app.database.sessions) as session:  # closed past the period
        session.execute(update(Round).values(closed_at=app.clock() - timedelta(days=400)))
    done = apply_retention(app.database, app.clock(), 365, audit.OPERATOR, app.gateways)
    assert done.rounds == [round_id]
    assert _holding(bot, ANSWER) == []
    assert _remembered(bot) == []
    assert "1 message holding someone's words deleted in chat" in done.line()


def test_deleting_a_round_takes_an_answer_s_confirmation_off_the_platform(
        bot: Harness) -> None:
    _answered(bot)
    round_id = _round_id(bot)
    facilitation.delete(bot.app, OPERATOR, round_id)
    assert _holding(bot, ANSWER) == []
    assert _remembered(bot) == []


NEXT = "Shared rotas across the borough."
LATER = "Peer support from the pharmacy next door."
"""An answer to a second round's question, confirmed with an earlier round's answer."""


def _shared_confirmation(bot: Harness, pacing: HeldClock) -> int:
    """Person 0's second answer to round 1 waits for its turn when a new round asks them, and
    their answer to it joins the same confirmation. The new round's id."""
    second = _waiting_with_another_round_s_answer(bot)
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: _holding(bot, LATER), "the shared confirmation")
    wait(bot, lambda: len(_remembered(bot)) >= 2, "the shared confirmation, remembered")
    return second


def _waiting_with_another_round_s_answer(bot: Harness) -> int:
    """Person 0's second answer to round 1 waits for its turn, and their answer to a new
    round's question joins it. The new round's id."""
    _answered(bot)  # the first answer is confirmed at once, the next a second after
    bot.write(0, NEXT)
    wait(bot, lambda: len(bot.app.confirmations.queued()) == 1, "the second answer, saved")
    first = _round_id(bot)
    bot.start()  # a second round for the same people
    wait(bot, lambda: len([d for d in bot.deliveries() if d.state == "sent"]) == 2 * len(MEMBERS),
         "the second round's first question")
    bot.write(0, LATER)
    wait(bot, lambda: len(bot.app.confirmations.queued()) == 2, "its answer, saved")
    [second] = [r.round_id for r in bot.replies() if r.text == LATER]
    assert second != first
    return second


def test_a_confirmation_waiting_when_a_round_is_deleted_repeats_only_the_answers_that_stand(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    second = _waiting_with_another_round_s_answer(bot)
    facilitation.delete(bot.app, OPERATOR, second)
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: _holding(bot, NEXT), "the confirmation of the answer that stands")
    assert _holding(bot, LATER) == []


NO_WORDS = "An answer needs some words"
"""The notice a message of nothing to see gets: it is owed about the question it answered."""


def _notice_waiting(bot: Harness) -> None:
    """Person 0 sends a blank message a moment after a notice was posted to them: the notice
    that it needs words waits for its turn (the pacing clock held)."""
    bot.start()
    bot.write(0, "", files=1)  # its notice goes out at once; the next one waits its turn
    wait(bot, lambda: any("Files and pictures" in m for m in bot.said_to(0)),
         "the notice about the file")
    bot.write(0, "\u2800")  # the blank Braille cell: it shows nothing
    wait(bot, lambda: NO_WORDS in _everything_stored(bot), "the notice, owed")
    assert not any(NO_WORDS in m for m in bot.said_to(0))


def test_a_notice_waiting_when_its_round_is_deleted_is_never_posted(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    _notice_waiting(bot)
    facilitation.delete(bot.app, OPERATOR, _round_id(bot))
    pacing.advance(Confirmations.SPACING)
    bot.app.confirmations.stop()  # posts everything still waiting, then ends
    assert not any(NO_WORDS in m for m in bot.said_to(0))


def test_a_notice_waiting_when_its_reader_is_forgotten_is_never_posted(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    _notice_waiting(bot)
    assert _forget_me(bot).startswith("Done.")
    pacing.advance(Confirmations.SPACING)
    bot.app.confirmations.stop()
    assert not any(NO_WORDS in m for m in bot.said_to(0))


def test_deleting_a_round_takes_down_a_confirmation_it_shares_with_another_round(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    second = _shared_confirmation(bot, pacing)
    facilitation.delete(bot.app, OPERATOR, second)
    assert _holding(bot, LATER) == []
    assert _holding(bot, ANSWER) != []  # round 1's own confirmation stays


def test_my_data_and_forget_me_count_a_confirmation_shared_by_two_rounds_once(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    _shared_confirmation(bot, pacing)
    assert '"bot_messages_repeating_your_answers": 2' in _my_data(bot)
    done = _forget_me(bot)
    assert "deleted 2 messages of mine that repeated your answers" in done, done


def test_a_confirmation_of_two_rounds_answers_names_each_round_s_question(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    second = _shared_confirmation(bot, pacing)
    # the earlier round's answer went to its question 1 (Teams) or 2 (Slack, which had sent
    # question 2 by then): either way, the two rounds' questions are not one question
    [next_reply] = [r for r in bot.replies() if r.text == NEXT]
    first, number = next_reply.round_id, NUMBERS[next_reply.prompt_id]
    [shared] = [m for m in bot.said_to(0) if LATER in m]
    assert shared.startswith(f"Saved 2 answers, to question {number} of round {first} and "
                             f"question 1 of round {second}."), shared
    assert f"Round {first}, question {number}: " in shared, shared
    assert f"Round {second}, question 1: {QUESTION}" in shared, shared


DELETED = "You deleted that message; nothing of it was saved."


def test_deleting_a_greeting_takes_its_words_back_from_the_reply(bot: Harness) -> None:
    _greeted(bot)
    bot.delete(0)
    wait(bot, lambda: _holding(bot) == [], "the reply to the greeting, replaced")
    assert DELETED in bot.shown_to(0)
    assert not any(SAVE in m for m in bot.shown_to(0))  # nor its button
    assert WORDS not in _everything_stored(bot)
    assert bot.replies() == []
    # nor does my-data say a reply of the bot's still holds words of theirs
    assert "not in Roundtable's database" not in _my_data(bot)


def test_a_greeting_deleted_before_its_posted_reply_was_recorded_is_not_listed_as_held(
        paced: tuple[Harness, HeldClock]) -> None:
    """The reply to a greeting is posted, and the confirmation after it holds up its loop
    before where the reply landed is recorded, when the greeting is deleted: my-data never
    says the reply holds the words."""
    bot, pacing = paced
    bot.start()
    bot.write(0, "", files=1)  # its notice goes out at once; what follows waits its turn
    wait(bot, lambda: any("Files and pictures" in m for m in bot.said_to(0)),
         "the notice about the file")
    bot.write(0, WORDS)
    wait(bot, lambda: WORDS in _everything_stored(bot), "the reply to the greeting, owed")
    bot.write(0, ANSWER)  # confirmed after the reply, as it was written after the greeting
    wait(bot, lambda: bot.replies() != [], "the answer, saved")
    bot.hold_posts(0, ANSWER)
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: bot.holding() and offers(bot, 0), "the reply posted, then the hold")
    bot.delete(0, back=1)
    wait(bot, lambda: WORDS not in _everything_stored(bot), "the deletion, honoured")
    bot.release()
    wait(bot, lambda: [m for m in _remembered(bot) if m.prompt_id is not None],
         "where the reply landed, recorded")
    assert "not in Roundtable's database" not in _my_data(bot)


def _waiting_for_locks(bot: Harness) -> int:
    """How many transactions of the PostgreSQL database wait for another's lock now."""
    with bot.app.database.engine.connect() as watching:
        return int(watching.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")).scalar() or 0)


def test_a_greeting_deleted_while_its_reply_is_being_recorded_is_taken_back(
        bot: Harness) -> None:
    """Where the reply to a greeting landed is being recorded (its transaction waits, as one
    on a busy database may) when the greeting is deleted: the deletion is not lost for
    finding the reply neither recorded nor waiting to be, and my-data never lists it."""
    app = bot.app
    if app.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: the recording never waits")
    bot.start()
    person = MEMBERS[0] if isinstance(bot, SlackHarness) else bot.tenant.members[0].aad
    with app.database.sessions() as busy, busy.begin():  # holds person 0's row a while
        busy.execute(select(Participant.id).where(Participant.platform_user_id == person)
                     .with_for_update(key_share=True))
        bot.write(0, WORDS)
        wait(bot, lambda: offers(bot, 0) and _waiting_for_locks(bot) == 1,
             "the reply posted, and where it landed being recorded")
        bot.delete(0)
        with app.database.sessions() as session:
            wait(bot, lambda: _waiting_for_locks(bot) == 2 or not session.scalars(
                select(InboxEvent.id)).all(), "the deletion, handled or waiting in turn")
    wait(bot, lambda: _remembered(bot), "where the reply landed, recorded")
    with app.database.sessions() as session:
        wait(bot, lambda: not session.scalars(select(InboxEvent.id)).all(),
             "the deletion, handled")
    assert "not in Roundtable's database" not in _my_data(bot)
    wait(bot, lambda: DELETED in bot.shown_to(0), "the reply, replaced")


def test_a_greeting_deleted_before_its_reply_was_posted_is_never_repeated(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    bot.start()
    bot.write(0, "Hello!")  # its reply goes out at once; the next one waits its turn
    wait(bot, lambda: offers(bot, 0), "the reply to the first greeting")
    bot.write(0, WORDS)
    wait(bot, lambda: WORDS in _everything_stored(bot), "the reply to the second, owed")
    bot.delete(0)
    # were the process to die now, no process taking over would post the words
    wait(bot, lambda: WORDS not in _everything_stored(bot), "the deletion, honoured")
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: DELETED in bot.said_to(0), "what the deletion did")
    assert WORDS not in bot.everything_sent()
    assert len(offers(bot, 0)) == 1
    assert bot.replies() == []
