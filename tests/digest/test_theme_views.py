"""What the digest promises about themes, whatever the theme engine returns."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.digest.model import AnswerView
from bot.core.digest.theme_views import (
    CUT_MARK,
    QUOTE_LIMIT,
    Engine,
    Grouping,
    is_verbatim,
    quote_text,
    theme_views,
)


def answers(
    *texts: str, room: Sequence[int] = (), roles: Sequence[str | None] = ()
) -> list[AnswerView]:
    return [
        AnswerView(
            f"R{i}", text, None, roles[i] if i < len(roles) else None, i in room,
            noise=text in ("no comment", "thanks"),
        )
        for i, text in enumerate(texts)
    ]


def fixed(grouping: Grouping) -> Engine:
    """An engine that always answers `grouping` (to test what the digest does with it)."""
    return lambda _answers, _question: grouping


def test_it_places_each_answer_once_even_when_the_engine_repeats_or_misses_some() -> None:
    given = answers("one", "two", "three", "four", "no comment")
    grouping = Grouping(
        [("A", "", ["R0", "R1", "R1", "R9"], ["R1", "R2"]), ("B", "", ["R1", "R2"], [])],
        [],
    )
    themes, unthemed = theme_views(given, "named", fixed(grouping))[:2]
    placed = [r for t in themes for r in t.reply_ids] + unthemed
    assert sorted(placed) == ["R0", "R1", "R2", "R3", "R4"]
    assert themes[0].reply_ids == ["R0", "R1"]
    assert themes[1].reply_ids == ["R2"]
    for theme in themes:
        assert {q.reply_id for q in theme.quotes} <= set(theme.reply_ids)


def test_it_never_quotes_or_themes_an_answer_that_says_nothing() -> None:
    given = answers("protected time", "no comment", "time to lead", "thanks")
    grouping = Grouping([("Time", "", ["R0", "R1", "R2", "R3"], ["R1", "R3"])], [])
    themes, unthemed = theme_views(given, "named", fixed(grouping))[:2]
    assert themes[0].reply_ids == ["R0", "R2"]
    assert [q.reply_id for q in themes[0].quotes] == ["R0", "R2"]
    assert unthemed == ["R1", "R3"]


def test_it_says_whether_a_theme_came_from_the_room_the_chat_or_both() -> None:
    given = answers("a1", "a2", "b1", "b2", "c1", "c2", room=(0, 1, 2))
    grouping = Grouping(
        [("A", "", ["R0", "R1"], []), ("B", "", ["R2", "R3"], []), ("C", "", ["R4", "R5"], [])], []
    )
    themes = theme_views(given, "named", fixed(grouping)).themes
    assert [t.origin for t in themes] == ["room", "both", "chat"]


def test_it_counts_roles_unless_the_round_is_anonymous() -> None:
    given = answers("a", "b", "c", roles=("PCN lead", "PCN lead", None))
    grouping = Grouping([("A", "", ["R0", "R1", "R2"], [])], [])
    named = theme_views(given, "role", fixed(grouping)).themes
    anonymous = theme_views(given, "anonymous", fixed(grouping)).themes
    assert named[0].roles == {"PCN lead": 2, "other roles": 1}
    assert anonymous[0].roles == {}


def test_it_picks_quotes_that_differ() -> None:
    given = answers("Protected time", "protected  time", "Clear purpose")
    grouping = Grouping([("A", "", ["R0", "R1", "R2"], ["R0", "R1"])], [])
    themes = theme_views(given, "named", fixed(grouping)).themes
    assert [q.text for q in themes[0].quotes] == ["Protected time", "Clear purpose"]


def test_it_cuts_a_very_long_answer_at_a_word_and_marks_the_cut() -> None:
    text = "word " * 400
    quote = quote_text(text)
    assert len(quote) <= QUOTE_LIMIT
    assert quote.endswith(CUT_MARK)
    assert quote[: -len(CUT_MARK)].endswith("word")
    assert is_verbatim(quote, text)
    assert quote_text("short answer") == "short answer"
    assert not is_verbatim("short answ" + CUT_MARK, "another answer")
