"""Reading a vote from typed words: strict, so that a reason is never taken for a ballot."""

from __future__ import annotations

import pytest

from bot.core.packs import Prompt
from bot.core.typed_votes import read_vote, read_vote_and_reason
from tests.helpers import seed_pack

RANK = seed_pack().prompt("support-factors")
assert RANK is not None
OPT = RANK.options


@pytest.mark.parametrize(("typed", "ballot"), [
    ("3, 1, 5, 2, 4", (OPT[2], OPT[0], OPT[4], OPT[1], OPT[3])),
    ("3 1 5 2 4", (OPT[2], OPT[0], OPT[4], OPT[1], OPT[3])),
    ("My top five: 2, 4, 6, 8, 10", (OPT[1], OPT[3], OPT[5], OPT[7], OPT[9])),
    ("Protected time, then psychological safety, then relationships and networks, executive "
     "backing and trust, leadership development", (OPT[0], OPT[5], OPT[6], OPT[7], OPT[4])),
    ("1. Protected time\n2. Psychological safety\n3. Relationships\n4. Executive backing\n"
     "5. Shared vision", (OPT[0], OPT[5], OPT[6], OPT[7], OPT[9])),
    ("protected time and information and analytics and insights from elsewhere and joint "
     "cross-sector training and clear purpose and motivation",
     (OPT[0], OPT[3], OPT[1], OPT[8], OPT[2])),
    ("Protected time > psych safety > leadership dev > networks > info and analytics",
     (OPT[0], OPT[5], OPT[4], OPT[6], OPT[3])),
    ("Time. Safety. Networks. Purpose. Development.", (OPT[0], OPT[5], OPT[6], OPT[2], OPT[4])),
    ("protected time, pyschological safety, leadership developement, relationships & "
     "networks, exec backing", (OPT[0], OPT[5], OPT[4], OPT[6], OPT[7])),
    ("Protected tiem, psychological safety, relationships, executive backing, leadership "
     "development", (OPT[0], OPT[5], OPT[6], OPT[7], OPT[4])),
])
def test_it_reads_a_ranking_typed_by_number_or_name(typed: str, ballot: tuple[str, ...]) -> None:
    assert read_vote(RANK, typed).ballot == ballot


@pytest.mark.parametrize(("typed", "problem"), [
    ("3, 1, 5", "a ranking here needs your top 5, and I found 3"),
    ("3, 1, 5, 1, 4", "you named Protected time twice, and a ranking here needs your top 5, "
                      "each named once"),
    ("1, 1, 1, 2, 2", "you named Protected time 3 times and Insights from elsewhere twice, and "
                      "a ranking here needs your top 5, each named once"),
])
def test_it_says_why_named_options_are_not_a_ballot(typed: str, problem: str) -> None:
    vote = read_vote(RANK, typed)
    assert vote.ballot is None and vote.problem == problem and vote.named


def test_it_says_an_option_chosen_twice_is_taken_once() -> None:
    choose = Prompt(id="choose", section="S", kind="choice", question="Pick two?",
                    options=OPT, pick=2)
    vote = read_vote(choose, "protected time and protected time")
    assert vote.ballot is None and vote.problem == (
        "you named Protected time twice, and this question takes each option once")


@pytest.mark.parametrize("typed", [
    "Honestly protected time matters most", "11, 1, 2, 3, 4", "Not protected time, 1, 2, 3, 4",
    "the first one", "", "Protected time. Everything else follows.", "Time is what we lack",
    "Timing and safety", "hand, 2, 3, 4, 5", "Relationships hand networks, 1, 2, 3, 4",
])
def test_it_takes_words_that_are_not_only_options_for_no_vote(typed: str) -> None:
    assert read_vote(RANK, typed).named == ()


def test_it_keeps_the_words_after_a_ballot_as_the_reason() -> None:
    vote, reason = read_vote_and_reason(RANK, "3, 1, 5, 2, 4 because time comes first")
    assert vote.ballot == (OPT[2], OPT[0], OPT[4], OPT[1], OPT[3])
    assert reason == "because time comes first"
    listed = "1. Protected time\n2. Psychological safety\n3. Relationships\n4. Executive backing"
    vote, reason = read_vote_and_reason(RANK, f"{listed}\n5. Shared vision\n\nWe lack time.")
    assert vote.ballot == (OPT[0], OPT[5], OPT[6], OPT[7], OPT[9]) and reason == "We lack time."
    assert read_vote_and_reason(RANK, "3, 1, 5, 2, 4 - ok") == (read_vote(RANK, "x"), None)
    vote, reason = read_vote_and_reason(RANK, "Time. Safety. Networks. Purpose. Development. "
                                              "All of them, really.")
    assert vote.ballot == (OPT[0], OPT[5], OPT[6], OPT[2], OPT[4])
    assert reason == "All of them, really."


@pytest.mark.parametrize(("typed", "unread"), [
    ("Protected time, psychological safety, relationships, exec support, leadership "
     "development", ("exec support",)),
    ("1. Protected time\n2. Leadership training\n3. Safety\n4. Networks\n5. Purpose",
     ("Leadership training",)),
    ("11, 1, 2, 3, 4", ("11",)),
])
def test_it_names_the_pieces_of_a_ballot_that_it_could_not_match(
        typed: str, unread: tuple[str, ...]) -> None:
    vote = read_vote(RANK, typed)
    assert vote.named == () and vote.unread == unread


@pytest.mark.parametrize("typed", [
    "Honestly protected time matters most", "Protected time. Everything else follows.",
    "Time, safety, networks - but really it is all about the culture we build together",
])
def test_it_names_no_piece_of_words_that_are_not_a_ballot(typed: str) -> None:
    assert read_vote(RANK, typed).unread == ()
