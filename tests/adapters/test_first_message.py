"""The first message of a round, as each person reads it on Slack and Teams: how their words
will be used, and when the round closes, in their own time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import Round
from tests.adapters.harness import (
    MEMBERS,
    Harness,
    SlackHarness,
    TeamsHarness,
)

KOLKATA = "Asia/Kolkata"
"""In working hours when the round starts (10:00 in London), and 5 hours 30 minutes ahead."""
FIRST = "one at a time"
"""Words of the first message only (it says how answering works)."""


def _lives_in(bot: Harness, who: int, zone: str) -> None:
    """Person `who`'s chat app says they are in `zone` (Teams tells the bot when they write)."""
    if isinstance(bot, SlackHarness):
        bot.stub.add_user(MEMBERS[who], MEMBERS[who][1:].title(), tz=zone)
    else:
        assert isinstance(bot, TeamsHarness)
        member = bot.tenant.members[who]
        bot.stub.open_chat(member)
        bot.running.teams.chat(member, "Hello", zone=zone)


def _first_message(bot: Harness, who: int) -> str:
    return next(m for m in bot.said_to(who) if FIRST in m)


def _closes_at(bot: Harness) -> datetime:
    with bot.app.database.sessions() as session:
        closes_at = session.scalars(select(Round.closes_at)).one()
    assert closes_at is not None
    return closes_at


def _as_read_in(moment: datetime, zone: str) -> str:
    moment = moment.astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M %Z}"


def test_the_first_message_says_when_the_round_closes_in_the_readers_own_time(
        bot: Harness) -> None:
    _lives_in(bot, 1, KOLKATA)
    bot.start(closes="14d")
    closes_at = _closes_at(bot)
    london = f"The round closes {_as_read_in(closes_at, 'Europe/London')}."
    kolkata = f"The round closes {_as_read_in(closes_at, KOLKATA)}."
    assert london in _first_message(bot, 0)
    assert kolkata in _first_message(bot, 1)
    assert "18:00 GMT" in london  # the end of the working day, where the round is


def test_the_first_message_of_a_round_with_no_close_says_none(bot: Harness) -> None:
    bot.start()
    first = _first_message(bot, 0)
    assert "The round closes" not in first
    assert first.count(FIRST) == 1


def test_the_first_message_tells_each_person_how_their_words_are_used(bot: Harness) -> None:
    bot.start(anonymous=True)
    first = _first_message(bot, 0)
    assert "How your answers are used" in first
    assert "This round is anonymous" in first.replace("*", "")
    assert "with no name, role or organisation" in first


def test_a_second_remind_the_same_day_reminds_nobody_again_and_says_why(bot: Harness) -> None:
    bot.start(closes="14d")
    assert bot.command("remind").startswith("Reminded 5 people")
    again = bot.command("remind")
    round_id = bot.deliveries()[0].round_id
    assert again == (f"Reminded nobody in round {round_id}. 5 people reminded less than a day "
                     "ago are not reminded again yet. Nobody gets more than 2 reminders."), again
    assert sum("A gentle reminder" in m for m in bot.said_to(0)) == 1


def test_a_closed_round_reminds_nobody_and_says_so(bot: Harness) -> None:
    """Nobody is nudged to answer a round that takes no more answers, and the facilitator is
    not told they were."""
    bot.start()
    round_id = bot.deliveries()[0].round_id
    bot.command(f"close {round_id}")
    assert bot.command(f"remind {round_id}") == (
        f"Round {round_id} is closed: it takes no more answers, so nobody is reminded.")
    assert not any("A gentle reminder" in m for who in range(5) for m in bot.said_to(who))


def test_people_reminded_of_a_close_the_facilitator_moves_are_told_the_new_one(
        bot: Harness) -> None:
    bot.start(closes="14d")
    assert bot.command("remind").startswith("Reminded 5 people")
    round_id = bot.deliveries()[0].round_id
    answer = bot.command(f"set {round_id} closes 21d")
    assert "5 people whose reminder named the old close are told the new one" in answer, answer
    closes_at = _closes_at(bot)
    [told] = [m for m in bot.said_to(0) if "has moved" in m]
    assert told.startswith("The close of “SEL pharmacy system leadership"), told
    assert (f"The round now closes {_as_read_in(closes_at, 'Europe/London')}, later than I "
            "said. Questions 1, 2, 3, 4, 5 and 6 still wait for your answer") in told, told
