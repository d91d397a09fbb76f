"""A ranking a pharmacist types with a slip in an option's name, on both platforms: a slip in
a four-letter word ("tiem") is forgiven as one in a longer word is, and a piece of a ranking
that names no option is named back, so that they can write it again; an option named twice
is listed back once, and said to be named twice."""

from __future__ import annotations

from storage.database import Database
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import answer_text_questions, wait

RANKING = ("Protected tiem, psychological safety, relationships, executive backing, "
           "leadership development")
UNREAD = ("Protected time, psychological safety, relationships, exec support, "
          "leadership development")


def test_a_slip_in_a_four_letter_word_of_a_ranking_is_forgiven(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, RANKING)
    wait(bot, lambda: any("as I read your message" in m for m in bot.said_to(0)), "the ranking")
    [vote] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert vote.choices == ["Protected time", "Psychological safety",
                            "Relationships and networks", "Executive backing and trust",
                            "Leadership development"]


def test_a_piece_of_a_ranking_that_names_no_option_is_named_back(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, UNREAD)
    wait(bot, lambda: any("as a comment" in m for m in bot.said_to(0)), "the comment's notice")
    notice = next(m for m in bot.said_to(0) if "as a comment" in m)
    assert "I could not tell which option “exec support” is. It is not a vote yet" in notice, \
        notice
    assert not [r for r in bot.replies() if r.prompt_id == "support-factors" and r.choices]


def test_a_ranking_that_names_an_option_twice_names_it_once_and_says_what_is_wrong(
        bot: Harness, database: Database) -> None:
    """By number or by name, each option the person named is listed back once, and the
    notice says which one came twice and what a ranking here takes."""
    bot.start()
    answer_text_questions(bot, range(2), database)
    bot.write(0, "3, 3, 1")
    bot.write(1, "Protected time, protected time, 2, 3, 4")
    told = [newest_notice(bot, who) for who in range(2)]
    assert ("I found Clear purpose and motivation, Protected time in it, but you named Clear "
            "purpose and motivation twice, and a ranking here needs your top 5, each named "
            "once. It is not a vote yet") in told[0], told[0]
    assert ("I found Protected time, Insights from elsewhere, Clear purpose and motivation, "
            "Information and analytics in it, but you named Protected time twice, and a "
            "ranking here needs your top 5, each named once. It is not a vote yet") in told[1], \
        told[1]
    assert not [r for r in bot.replies() if r.prompt_id == "support-factors" and r.choices]


def newest_notice(bot: Harness, who: int) -> str:
    wait(bot, lambda: any("as a comment" in m for m in bot.said_to(who)), "the notice")
    return next(m for m in reversed(bot.said_to(who)) if "as a comment" in m)
