""""Don't quote me" under the confirmation of a written answer, in Slack and in Teams alike:
the answer is counted in its theme and never quoted; a second press, or a press for an answer
deleted since, says why nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.app.confirmations import Confirmations
from bot.core.questions import Saved
from tests.adapters.harness import (
    MEMBERS,
    Harness,
    SlackHarness,
    TeamsHarness,
    _card_read,
)
from tests.adapters.test_every_adapter import wait
from tests.helpers import HeldClock
from tests.teams.conftest import replaced_by

BUTTON = "Don't quote me"
KEPT_OUT = "Frankly the ICS board never listened to contractors."
OTHERS = ["Protected time made it work.", "Peer support made it work."]
NOTE = "You asked that this answer is never quoted: it counts in its theme, that is all."


def _confirmed(bot: Harness, who: int, words: str) -> str:
    bot.write(who, words)
    wait(bot, lambda: [m for m in bot.said_to(who) if "Saved" in m and words in m],
         "the confirmation")
    return next(m for m in bot.said_to(who) if "Saved" in m and words in m)


def _buttons(bot: Harness, who: int, words: str) -> list[str]:
    """The buttons under the confirmation of `words` sent to person `who`."""
    if isinstance(bot, SlackHarness):
        message = next(c.params for c in bot.stub.posted("D" + MEMBERS[who])
                       if words in str(c.params.get("blocks")))
        return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
                for e in b["elements"]]
    assert isinstance(bot, TeamsHarness)
    card = next(c.body["attachments"][0]["content"]
                for c in bot.stub.sent_to(bot.tenant.members[who]) if words in str(c.body))
    return [a["title"] for a in card.get("actions", [])]


def _press(bot: Harness, who: int, words: str) -> str:
    """Person `who` presses "Don't quote me" under the confirmation of `words`: what it
    said, as read (on Teams, a card put in the confirmation's place has no button left)."""
    if isinstance(bot, SlackHarness):
        return bot.press(who, BUTTON)
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[who]
    card = next(c.body["attachments"][0]["content"] for c in bot.stub.sent_to(member)
                if words in str(c.body))
    [pressed] = bot.running.teams.submit(member, card["actions"][0]["data"])
    answer = pressed.json()
    return str(answer["value"]) if isinstance(answer["value"], str) else replaced_by(answer)


def test_dont_quote_me_keeps_a_written_answer_out_of_the_digest_but_counts_it(
        bot: Harness) -> None:
    bot.start()
    _confirmed(bot, 0, KEPT_OUT)
    assert _buttons(bot, 0, KEPT_OUT) == [BUTTON]
    done = _press(bot, 0, KEPT_OUT)
    if bot.platform == "slack":
        assert done == "Done: that answer counts in its theme but will never be quoted."
    else:  # the confirmation again, the note in the button's place
        assert KEPT_OUT in done and NOTE in done, done
    # pressed again (a copy of the message on another device): nothing more to do
    assert _press(bot, 0, KEPT_OUT) == ("You asked already that this answer is never quoted: it "
                                    "counts in its theme, that is all.")
    for who, words in enumerate(OTHERS, start=1):
        _confirmed(bot, who, words)
    digest = "\n".join(bot.digest())
    assert KEPT_OUT not in digest and "Frankly" not in digest
    assert all(words in digest for words in OTHERS), digest
    assert "3 answers" in digest, digest


def test_dont_quote_me_is_offered_only_where_it_can_still_change_something(
        bot: Harness) -> None:
    """No button under an answer that says "don't quote me" itself (the note instead), nor
    under a vote; a press for an answer deleted since changes nothing and says so."""
    bot.start()
    said_so = "The ICS board never listened. Don't quote me on that."
    assert NOTE in _confirmed(bot, 0, said_so)
    assert _buttons(bot, 0, said_so) == []
    _confirmed(bot, 1, KEPT_OUT)
    assert _buttons(bot, 1, KEPT_OUT) == [BUTTON]
    bot.delete(1)
    wait(bot, lambda: [r for r in bot.replies() if r.deleted_at is not None], "the deletion")
    assert _press(bot, 1, KEPT_OUT) == ("That answer is not stored, or was deleted, so there is "
                                    "nothing to change.")
    assert [r.quotable for r in bot.replies()] == [False, True]


@pytest.mark.parametrize("bot", ["teams"], indirect=True)
def test_dont_quote_me_on_words_added_to_an_answer_still_says_they_were_added(
        bot: Harness) -> None:
    """On Teams the confirmation is put back with the note in the button's place: words kept
    beside an answer given already are still said to be added, not saved as the answer."""
    bot.start()
    bot.app.outbox.stop()  # question 2 waits, so the next words join question 1
    _confirmed(bot, 0, OTHERS[0])
    added = "And the ICS board never listened to contractors."
    bot.write(0, added)
    wait(bot, lambda: [m for m in bot.said_to(0) if "Added to your answer" in m and added in m],
         "the words confirmed as added")
    done = _press(bot, 0, added)
    assert NOTE in done and added in done, done
    assert "Added to your answer to question 1" in done, done
    assert "Saved as your answer" not in done, done


TOGETHER = ["Protected learning time for locums.", "Our PCN lead backed us at the ICS board."]
"""Two messages that arrive while the confirmation before them still has its turn: confirmed
together, in one message."""


def _sent_with(bot: Harness, who: int, words: str) -> dict[str, Any]:
    """The message (Slack's, as Slack hands it to a button's action) or the card (Teams')
    sent to person `who` that shows `words`."""
    if isinstance(bot, SlackHarness):
        call = next(c for c in bot.stub.posted("D" + MEMBERS[who])
                    if words in json.dumps(c.params.get("blocks")))
        return {"type": "message", "ts": call.answer["ts"], "text": call.params.get("text"),
                "blocks": call.params["blocks"]}
    assert isinstance(bot, TeamsHarness)
    return dict(next(c.body["attachments"][0]["content"]
                     for c in bot.stub.sent_to(bot.tenant.members[who]) if words in str(c.body)))


def _read(bot: Harness, shown: dict[str, Any]) -> str:
    if isinstance(bot, SlackHarness):
        return bot.read_message(shown)
    return _card_read(shown)


def _quote_buttons(bot: Harness, shown: dict[str, Any]) -> list[dict[str, Any]]:
    """The "Don't quote me" buttons of a message or card, in order."""
    if isinstance(bot, SlackHarness):
        return [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["text"]["text"] == BUTTON]
    in_body = [a for e in shown["body"] if e.get("type") == "ActionSet" for a in e["actions"]]
    return [a for a in [*in_body, *shown.get("actions", [])] if a["title"] == BUTTON]


def _answers(bot: Harness, shown: dict[str, Any]) -> list[str]:
    """The answers (their ids) the "Don't quote me" buttons of a message or card are for."""
    return [json.loads(b["value"])["answer"] if isinstance(bot, SlackHarness)
            else b["data"]["answer"] for b in _quote_buttons(bot, shown)]


def _rest(read: str) -> list[str]:
    """What a message or card says besides its buttons (which Slack's reader shows) and the
    note in their place."""
    return [line for line in read.splitlines() if line not in (BUTTON, NOTE)]


def _press_on(bot: Harness, who: int, shown: dict[str, Any], answer: str) -> dict[str, Any]:
    """Person `who` presses "Don't quote me" for `answer` on a message or card they were
    shown; the message or card they are shown in its place."""
    [button] = [b for b, a in zip(_quote_buttons(bot, shown), _answers(bot, shown),
                                  strict=True) if a == answer]
    if isinstance(bot, SlackHarness):
        clicked = bot.running.slack.click(MEMBERS[who], button["action_id"], button["value"],
                                          message=shown)
        assert clicked.status == 200
        answered = bot.running.answer_to(clicked, "what the button did").params
        assert answered.get("replace_original") is True, answered
        return {**shown, "text": answered.get("text"), "blocks": answered["blocks"]}
    assert isinstance(bot, TeamsHarness)
    [pressed] = bot.running.teams.submit(bot.tenant.members[who], button["data"])
    answered = pressed.json()
    assert answered["type"] == "application/vnd.microsoft.card.adaptive", answered
    return dict(answered["value"])


def test_dont_quote_me_on_a_confirmation_of_several_answers_changes_that_answer_alone(
        paced: tuple[Harness, HeldClock]) -> None:
    """Each written answer of a shared confirmation has its button; pressing one puts the
    note in its place and leaves the rest of the message as it was, the other answer's
    button and the note that a file was not kept included."""
    bot, pacing = paced
    bot.start()
    bot.app.outbox.stop()  # question 2 waits, so the words that follow join question 1
    _confirmed(bot, 0, OTHERS[0])
    bot.write(0, TOGETHER[0])
    bot.write(0, TOGETHER[1], files=1)
    wait(bot, lambda: len(bot.app.confirmations.queued()) == 2, "both to wait for their turn")
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: [m for m in bot.said_to(0) if TOGETHER[0] in m], "their confirmation")
    shared = _sent_with(bot, 0, TOGETHER[0])
    ids = {r.text: str(r.external_id) for r in bot.replies()}
    first, second = ids[TOGETHER[0]], ids[TOGETHER[1]]
    before = _read(bot, shared)
    assert "Added 2 messages to your answer to question 1." in before, before
    assert TOGETHER[1] in before and Saved.FILES_NOT_KEPT in before, before
    assert _answers(bot, shared) == [first, second]

    once = _press_on(bot, 0, shared, first)
    read = _read(bot, once)
    assert read.count(NOTE) == 1, read
    assert read.index(TOGETHER[0]) < read.index(NOTE) < read.index(TOGETHER[1]), read
    assert _rest(read) == _rest(before), read  # nothing else changed
    assert _answers(bot, once) == [second]
    assert [r.quotable for r in bot.replies()] == [True, False, True]
    digest = "\n".join(bot.digest())
    assert TOGETHER[0] not in digest and TOGETHER[1] in digest, digest

    twice = _press_on(bot, 0, once, second)
    assert _read(bot, twice).count(NOTE) == 2 and _quote_buttons(bot, twice) == []
    assert Saved.FILES_NOT_KEPT in _read(bot, twice)
    assert [r.quotable for r in bot.replies()] == [True, False, False]


def test_dont_quote_me_on_an_answer_sent_with_a_file_still_says_the_file_was_not_kept(
        bot: Harness) -> None:
    bot.start()
    bot.write(0, KEPT_OUT, files=1)
    wait(bot, lambda: [m for m in bot.said_to(0) if KEPT_OUT in m], "the confirmation")
    shown = _sent_with(bot, 0, KEPT_OUT)
    before = _read(bot, shown)
    assert Saved.FILES_NOT_KEPT in before, before
    [answer] = _answers(bot, shown)
    after = _read(bot, _press_on(bot, 0, shown, answer))
    assert NOTE in after and Saved.FILES_NOT_KEPT in after, after
    assert _rest(after) == _rest(before), after
    assert [r.quotable for r in bot.replies()] == [False]
