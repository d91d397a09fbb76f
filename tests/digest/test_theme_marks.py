"""A form names a theme by a mark of the answers it held: the mark finds that theme wherever
the draft now puts it, while it keeps most of its answers and they are most of it; not a
theme merged into a larger one, or split up."""

from __future__ import annotations

from bot.core.digest.model import ThemeView
from bot.core.digest.theme_marks import SAMPLED, ThemeMark, mark_of, marked


def theme(ids: list[str]) -> ThemeView:
    return ThemeView("T", "", [], ids, {}, "chat")


def answers(prefix: str, count: int) -> list[str]:
    return [f"ans-{prefix}-{n}" for n in range(count)]


TIME, MENTORS, PEERS = answers("time", 6), answers("mentors", 5), answers("peers", 3)


def test_it_finds_the_theme_wherever_it_is_now() -> None:
    mark = mark_of(MENTORS)
    assert marked([theme(TIME), theme(MENTORS), theme(PEERS)], mark) == 1
    assert marked([theme(MENTORS + PEERS), theme(TIME)], mark) == 0  # PEERS merged into it
    assert marked([theme(TIME), theme(PEERS), theme([*MENTORS[1:], "ans-new"])], mark) == 2


def test_a_theme_merged_into_a_larger_one_or_split_is_gone() -> None:
    assert marked([theme(MENTORS + PEERS), theme(TIME)], mark_of(PEERS)) is None
    assert marked([theme(TIME[:3]), theme(TIME[3:]), theme(PEERS)], mark_of(TIME)) is None
    assert marked([theme(MENTORS[:2])], mark_of(MENTORS)) is None
    assert marked([], mark_of(MENTORS)) is None


def test_a_large_themes_mark_is_a_sample_that_still_tells() -> None:
    many = answers("many", 400)
    mark = mark_of(many)
    assert len(mark.sample) == SAMPLED and mark.size == 400
    assert marked([theme(answers("other", 50)), theme(many[:300] + answers("new", 40))],
                  mark) == 1
    assert marked([theme(many + answers("more", 600))], mark) is None  # most of it is not it
    assert marked([theme(many[:150]), theme(many[150:])], mark) == 1  # most of it went on
    assert marked([theme(many[n:n + 100]) for n in range(0, 400, 100)], mark) is None


def test_a_mark_reads_back_from_its_text_and_nothing_else_reads_as_one() -> None:
    mark = mark_of(answers("x", 30))
    assert ThemeMark.parse(mark.text) == mark and len(mark.text) <= 65
    assert ThemeMark.parse(mark_of(PEERS).text) == mark_of(PEERS)
    for text in ("", "2", "3.", "3.abc", "1." + "a" * 10, "x.aaaaa", "3.AAAAA"):
        assert ThemeMark.parse(text) is None, text
