"""New answers judged against the earlier digest's themes directly: the ones an earlier theme
covers make it grow; new answers that share a word the earlier ones hardly use are one new
theme."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pytest

from bot.core.digest import novelty
from bot.core.digest.changes import compare, snapshot
from bot.core.digest.lexicon import singular
from bot.core.digest.model import AnswerView, DigestView, ThemeView
from bot.core.digest.novelty import Judgement, covering, judge, new_words, reach_vectors
from tests.digest.builders import view_of


def around(axis: int, n: int, seed: int) -> np.ndarray:
    """`n` unit vectors spread around one axis of eight."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, 8), np.float32)
    rows[:, axis] = 1.0
    rows += rng.normal(0, 0.1, rows.shape).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_answers_near_an_earlier_theme_are_covered_and_others_are_not() -> None:
    earlier = [around(0, 6, 1), around(1, 6, 2)]
    new = np.vstack([around(0, 4, 3), around(1, 4, 4), around(2, 4, 5)])
    covered = covering(new, earlier)
    # an earlier theme covers answers as close as most of its own members (not all of them)
    assert set(covered[:4]) <= {0, None} and covered[:4].count(0) >= 3
    assert set(covered[4:8]) <= {1, None} and covered[4:8].count(1) >= 3
    assert covered[8:] == [None] * 4
    assert covering(new, []) == [None] * 12


def test_reach_is_how_far_inside_each_theme_an_answer_is_on_that_themes_scale() -> None:
    """What a facilitator's theme takes later answers by: the cover of `covering` as a
    margin per theme, and nothing reached by an answer or a theme with no vector."""
    new = np.vstack([around(0, 1, 3), around(1, 1, 4), np.zeros((1, 8), np.float32)])
    reached = reach_vectors(new, [around(0, 6, 1), around(1, 6, 2),
                                  np.zeros((0, 8), np.float32)])
    assert reached[0, 0] >= 0 > reached[0, 1] and reached[1, 1] >= 0 > reached[1, 0]
    assert np.isneginf(reached[:, 2]).all() and np.isneginf(reached[2]).all()
    assert covering(new[:2], [around(0, 6, 1), around(1, 6, 2)]) == [0, 1]


EARLIER = [
    *(f"Rota gaps on {day} mean the pharmacist works alone" for day in
      ("Mondays", "Tuesdays", "Fridays", "weekends", "bank holidays")),
    *(f"Training budget for {who} was cut again" for who in
      ("technicians", "dispensers", "new starters", "counter staff", "locums")),
    *(f"The {what} is slow and crashes" for what in
      ("dispensing software", "ordering portal", "label printer", "stock system", "till")),
]


def test_new_answers_sharing_a_word_the_earlier_ones_never_used_are_one_new_theme() -> None:
    new = ["Parking for patients is impossible near the surgery",
           "A patient cannot park anywhere close",
           "Rota gaps again on Thursdays",
           "Patients give up when the car park is full"]
    assert new_words(new, EARLIER) == [{0, 1, 3}]
    judged = judge(new, [EARLIER[:5], EARLIER[5:10], EARLIER[10:]])
    assert [sorted(g) for g in judged.groups] == [[0, 1, 3]]
    # the new theme's answers grow no earlier theme: they are not counted twice
    assert [judged.covered_by[i] for i in (0, 1, 3)] == [None] * 3
    assert judged.covered_by[2] == 0


def test_new_words_that_share_an_answer_are_one_new_theme() -> None:
    """Five answers of one subject, three saying "parking" and three "patients", one both:
    one new theme, not two."""
    new = ["Parking for patients is impossible", "Patients wait far too long",
           "Patients give up and go home", "Parking costs too much", "Parking spaces are gone"]
    assert new_words(new, EARLIER) == [{0, 1, 2, 3, 4}]


def test_answers_tied_in_pairs_by_new_words_are_one_new_theme(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three answers about getting to the pharmacy: no word three of them hold, but "bus" in
    two and "miles" in two, one answer holding both. Two answers alone are no theme."""
    new = ["The bus to the surgery stopped running", "No bus now, so it is miles on foot",
           "Older people cannot walk those miles", "Rota gaps again on Thursdays"]
    assert new_words(new, EARLIER) == [{0, 1, 2}]
    assert new_words([*new[:2], new[3]], EARLIER) == []
    monkeypatch.setattr(novelty, "PAIRED", 0)  # only words three answers hold
    assert new_words(new, EARLIER) == []


def test_a_word_the_earlier_answers_use_as_often_marks_nothing() -> None:
    new = ["Rota gaps at lunchtime", "Rota gaps in August", "More rota gaps at Christmas",
           "Training budget for pre-registration trainees was cut", "The fax machine is slow",
           "The website crashes"]
    assert new_words(new, EARLIER) == []


def test_new_answers_sharing_words_of_one_family_are_one_new_theme(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three answers about money, each in its own word: the words are read by family."""
    earlier = [*(f"Rota gaps on {day} mean the pharmacist works alone" for day in
                 ("Mondays", "Tuesdays", "Fridays", "weekends", "bank holidays")),
               *(f"The {what} is slow and crashes" for what in
                 ("dispensing software", "ordering portal", "label printer", "stock system"))]
    new = ["Cut the budget for every service", "No money left for anything new",
           "Funding stops after a single year", "Rota gaps again on Thursdays"]
    assert new_words(new, earlier) == [{0, 1, 2}]
    monkeypatch.setattr(novelty, "WORD_FAMILY", 1.01)  # each word alone: no word shared
    assert new_words(new, earlier) == []


def test_plurals_count_as_the_word() -> None:
    assert [singular(w) for w in ("patients", "pharmacies", "access", "status", "bus", "rota")
            ] == ["patient", "pharmacy", "access", "status", "bus", "rota"]


def theme(title: str, *ids: str) -> ThemeView:
    return ThemeView(title, "", [], list(ids), {}, "chat")


def digests(earlier: list[ThemeView], later: list[ThemeView], answered_before: Sequence[str],
            answered_since: Sequence[str], unthemed: Sequence[str] = (),
            texts: Mapping[str, str] | None = None) -> tuple[DigestView, DigestView]:
    """Two digests of one question: its themes then and now, over answers "answer <id>" (or
    their `texts`)."""
    before = view_of({})
    prompt = before.prompts[0]
    answers = [AnswerView(r, texts[r] if texts else f"answer {r}", None, None, False)
               for r in [*answered_before, *answered_since]]
    then = replace(before, prompts=[replace(prompt, themes=earlier,
                                            unthemed_reply_ids=list(unthemed),
                                            answers=answers[:len(answered_before)])])
    now = replace(then, prompts=[replace(then.prompts[0], themes=later, answers=answers)])
    return then, now


def test_compare_names_grown_themes_as_shown_now_and_new_ones_from_their_answers() -> None:
    before, after = digests(
        [theme("Covid", "a", "b"), theme("Care homes", "c", "d")],
        [theme("Covid response", "a", "b", "f", "g", "h", "i", "j"),
         theme("Care homes", "c", "d")], "abcde", "fghij", unthemed=["e"])
    prompt = before.prompts[0]

    asked: list[list[str]] = []

    def judge(new: Sequence[str], earlier: Sequence[Sequence[str]],
              sizes: Sequence[int], worded: Sequence[str]) -> Judgement:
        assert [list(e) for e in earlier] == [["answer a", "answer b"],
                                              ["answer c", "answer d"]]
        asked.append(list(new))
        # f and g continue the first earlier theme; h, i, j are a new subject the engine
        # folded into it this time
        covered: list[int | None] = [0 if t in ("answer f", "answer g") else None
                                     for t in new]
        rest = [i for i, c in enumerate(covered) if c is None]
        return Judgement(covered, [rest] if len(rest) >= 3 else [])

    changes = compare(snapshot(before), after, "week 1", judge=judge)
    assert asked == [[f"answer {r}" for r in "fghij"]]
    assert [(c.title, c.added, c.total) for c in changes.grown_themes] == [
        ("Covid response", 2, 7)]
    assert len(changes.new_themes) == 1
    assert changes.new_themes[0].added == changes.new_themes[0].total == 3
    assert changes.new_themes[0].title != "Covid response"

    # the same, after a facilitator merged h, i and j into the theme: it grew by all five
    placed = {prompt.prompt_id: {"h", "i", "j"}}
    merged = compare(snapshot(before), after, "week 1", judge=judge, placed=placed)
    assert [(c.title, c.added, c.total) for c in merged.grown_themes] == [
        ("Covid response", 5, 7)]
    assert merged.new_themes == []
    assert asked[-1] == ["answer f", "answer g"]  # what they placed is not judged again


def test_a_theme_shown_grows_by_no_more_new_answers_than_it_holds() -> None:
    # e joined Covid; f and g went to Care homes, but the judge finds all three of Covid's
    # subject: "Covid grew by 3 to 3 answers" would not add up
    before, after = digests(
        [theme("Covid", "a", "b"), theme("Care homes", "c", "d")],
        [theme("Covid", "a", "b", "e"), theme("Care homes", "c", "d", "f", "g")],
        "abcd", "efg")

    def judge(new: Sequence[str], earlier: Sequence[Sequence[str]],
              sizes: Sequence[int], worded: Sequence[str]) -> Judgement:
        return Judgement([0] * len(new), [])

    changes = compare(snapshot(before), after, "week 1", judge=judge)
    assert [(c.title, c.added, c.total) for c in changes.grown_themes] == [("Covid", 1, 3)]
    assert changes.new_themes == []


PLACES = ("surgery", "health centre", "hospital", "high street", "station", "market",
          "school", "retail park", "town hall", "clinic")
WHO = ("patients", "carers", "drivers", "delivery vans", "older people", "parents")
OTHERS = {
    "rota": ("Rota gaps on {} mean the pharmacist works alone",
             ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
              "Sundays", "weekends", "evenings", "bank holidays", "lunchtimes", "mornings",
              "nights", "Easter")),
    "training": ("Training budget for {} was cut again",
                 ("technicians", "dispensers", "new starters", "counter staff", "locums",
                  "trainees", "managers", "assistants", "drivers", "students", "apprentices",
                  "pre-registration pharmacists", "accuracy checkers", "relief staff")),
    "software": ("The {} is slow and crashes",
                 ("dispensing software", "ordering portal", "label printer", "stock system",
                  "till", "scanner", "fridge monitor", "booking tool", "intranet",
                  "email server", "tablet", "PMR system", "card reader", "phone line")),
    "letters": ("Discharge letters from the {} arrive late",
                ("hospital", "ward", "hospice", "care home", "clinic", "urgent care centre",
                 "mental health unit", "day surgery", "rehab unit", "maternity unit",
                 "eye hospital", "children's ward", "stroke unit", "renal unit")),
}


def test_a_large_theme_growing_as_before_is_no_new_theme() -> None:
    """Sixty answers about parking, ten of each other subject, then forty more in the same
    proportions: the judgement reads ten answers of each earlier theme, but parking's share of
    the earlier answers is still sixty in a hundred, so its words are no new subject."""
    texts: dict[str, str] = {}
    said = ("Parking near the {} is impossible for {}", "No parking at the {} for {}")
    combos = [(i, j) for i in range(len(PLACES)) for j in range(len(WHO))]
    parking = [said[(i + j) % 2].format(PLACES[i], WHO[j]) for i, j in combos]
    earlier_ids = {"parking": [f"p{i}" for i in range(60)]}
    texts |= dict(zip(earlier_ids["parking"], parking, strict=True))
    # the same places and people, said the other way
    new_parking = [said[(i + j + 1) % 2].format(PLACES[i], WHO[j]) for i, j in combos[::5][:12]]
    new_parking += [said[(i + j + 1) % 2].format(PLACES[i], WHO[j]) for i, j in combos[2::5][:12]]
    since = [f"n{i}" for i in range(24)]
    texts |= dict(zip(since, new_parking, strict=True))
    for name, (pattern, fillers) in OTHERS.items():
        earlier_ids[name] = [f"{name}{i}" for i in range(10)]
        texts |= {r: pattern.format(f) for r, f in zip(earlier_ids[name], fillers, strict=False)}
        later = [f"{name}-new{i}" for i in range(4)]
        texts |= {r: pattern.format(f) for r, f in zip(later, fillers[10:], strict=True)}
        since += later
    before_ids = [r for ids in earlier_ids.values() for r in ids]
    then_themes = [theme(name, *ids) for name, ids in earlier_ids.items()]
    grown = {name: [*ids, *(r for r in since if r.startswith(name if name != "parking"
                                                              else "n"))]
             for name, ids in earlier_ids.items()}
    before, after = digests(then_themes, [theme(n, *ids) for n, ids in grown.items()],
                            before_ids, since, texts=texts)
    changes = compare(snapshot(before), after, "week 2", judge=judge)
    assert changes.new_themes == [], [(c.title, c.added) for c in changes.new_themes]
    assert sum(c.added for c in changes.grown_themes) >= 30



BUSY = {
    "Rota gaps on {}": ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays",
                        "Saturdays", "Sundays", "weekends", "evenings", "mornings", "nights",
                        "lunchtimes", "holidays", "Easter", "Christmas"),
    "Training cut for {}": ("technicians", "dispensers", "starters", "locums", "trainees",
                            "managers", "assistants", "students", "apprentices", "checkers",
                            "drivers", "cleaners", "porters", "buyers", "clerks"),
    "The {} crashes": ("software", "portal", "printer", "scanner", "till", "tablet",
                       "intranet", "fridge", "phone", "router", "laptop", "server", "website",
                       "app", "keyboard"),
    "Letters from {} arrive late": ("wards", "hospices", "clinics", "hospitals", "surgeries",
                                    "dentists", "opticians", "hostels", "prisons", "schools",
                                    "councils", "charities", "courts", "labs", "units"),
    "Shortages of {}": ("antibiotics", "inhalers", "insulin", "painkillers", "drops",
                        "patches", "creams", "vaccines", "strips", "dressings", "syrups",
                        "pessaries", "capsules", "sprays", "gels"),
    "Heating broken in {}": ("kitchens", "basements", "stockrooms", "offices", "corridors",
                             "toilets", "lobbies", "annexes", "attics", "pantries", "sheds",
                             "cellars", "studios", "lofts", "yards"),
}
PARKING = ["No parking for patients", "Parking costs too much", "Parking spaces always full",
           "Parking fines every week", "Van parking impossible"]


def test_a_new_subject_among_many_other_new_answers_is_read_in_every_answers_words() -> None:
    """Six themes of nine short answers, then 36 more of them and five about parking in the
    same week: only 21 of the 41 new answers are judged one by one (every other one), none of
    them about parking, but the words of every new answer are read."""
    texts: dict[str, str] = {}
    earlier_ids: dict[str, list[str]] = {}
    others: list[str] = []
    for n, (pattern, fillers) in enumerate(BUSY.items()):
        earlier_ids[pattern] = [f"t{n}-{i}" for i in range(9)]
        texts |= {f"t{n}-{i}": pattern.format(f) for i, f in enumerate(fillers)}
        others += [f"t{n}-{i}" for i in range(9, 15)]
    parking = [f"parking{i}" for i in range(5)]
    texts |= dict(zip(parking, PARKING, strict=True))
    # none of the new answers in a theme yet; one in two is judged one by one, from the
    # first: parking's are in between
    since = [*(r for pair in zip(others, parking, strict=False) for r in pair), *others[5:]]
    themes = [theme(n, *ids) for n, ids in earlier_ids.items()]
    before, after = digests(themes, themes, [r for ids in earlier_ids.values() for r in ids],
                            since, texts=texts)
    after = replace(after, prompts=[replace(after.prompts[0], unthemed_reply_ids=since)])
    changes = compare(snapshot(before), after, "week 2", judge=judge)
    assert [(c.added, c.total) for c in changes.new_themes] == [(5, 5)]
    assert "parking" in changes.new_themes[0].title.lower()
