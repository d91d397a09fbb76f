"""The offline theme engine: what find_themes promises the digest, on invented answers."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from bot.core.digest import clustering, embeddings, noise, spread, titles
from bot.core.digest import themes as themes_module
from bot.core.digest.embeddings import ModelUnavailable
from bot.core.digest.lexicon import STOP_WORDS
from bot.core.digest.themes import ENGINES, Answer, Themes, find_themes

# Two invented topics, far from the labelled workshop file: a shared kitchen and cycling.
KITCHEN = [
    "The coffee machine in the kitchen is always broken, please fix the coffee machine",
    "Fridge in the kitchen is full of old food nobody claims, clean the fridge weekly",
    "We need a second kettle in the kitchen, the queue for hot water is endless",
    "Dirty mugs pile up in the kitchen sink every afternoon",
    "Please buy decent coffee beans for the kitchen machine, the cheap coffee is awful",
    "Kitchen microwave queue at lunchtime is far too long, get another microwave",
    "Someone keeps leaving dirty dishes in the kitchen sink overnight",
    "The kitchen fridge smells, old milk cartons everywhere",
]
CYCLING = [
    "More bike racks by the entrance, I can never find a space to lock my bike",
    "Showers for people who cycle to work would make a big difference to cycling",
    "A secure bike shed so bicycles don't get stolen from the car park",
    "Cycle to work scheme with a discount on a new bicycle",
    "Bike repair tools and a pump near the bike racks for cyclists",
    "Lockers to dry wet cycling gear after riding in the rain",
    "The bike parking is full by 9am, we need more bike stands",
    "Safe cycle lane into the site, cycling past the lorries on the road is scary",
]
NOISE = ["no comment", "see above", "Thanks!", "not sure", "👍", "n/a"]


def answers(texts: list[str], prefix: str = "a") -> list[Answer]:
    return [Answer(id=f"{prefix}{i}", text=t, role="staff") for i, t in enumerate(texts)]


def mixed() -> list[Answer]:
    # Interleaved, as replies arrive.
    texts = [t for pair in zip(KITCHEN, CYCLING, strict=True) for t in pair] + NOISE
    return answers(texts)


def placement(result: Themes) -> Counter[str]:
    return Counter([rid for t in result.themes for rid in t.reply_ids] + list(result.unthemed_ids))


@pytest.mark.parametrize("engine", ENGINES)
def test_it_places_every_answer_exactly_once(engine: str) -> None:
    given = mixed()
    try:
        result = find_themes(given, engine=engine)
    except ModelUnavailable:
        pytest.skip(f"engine {engine} needs a model package that is not installed")
    assert placement(result) == Counter(a.id for a in given)


def test_it_separates_two_clearly_different_topics() -> None:
    given = mixed()
    topic = {a.id: ("kitchen" if a.text in KITCHEN else "cycling") for a in given
             if a.text in KITCHEN + CYCLING}
    result = find_themes(given)
    assert result.themes, "no theme found"
    for theme in result.themes:
        assert len({topic[rid] for rid in theme.reply_ids}) == 1, theme
    themed = [topic[r] for t in result.themes for r in t.reply_ids]
    # Each topic may be split into finer themes, but its answers are not left aside.
    assert themed.count("kitchen") >= 6 and themed.count("cycling") >= 6, result


def test_it_never_quotes_noise_nor_makes_a_theme_of_it() -> None:
    given = mixed()
    noise_ids = {a.id for a in given if a.text in NOISE}
    result = find_themes(given, question="What would make the office a better place to work?")
    assert noise_ids <= set(result.unthemed_ids)
    assert set(result.non_answer_ids) <= noise_ids  # no real answer set aside
    for theme in result.themes:
        assert not noise_ids & set(theme.reply_ids)
        assert not noise_ids & set(theme.quote_ids)


def test_it_quotes_two_or_three_different_members_of_each_theme() -> None:
    given = mixed()
    text = {a.id: a.text for a in given}
    for theme in find_themes(given).themes:
        assert set(theme.quote_ids) <= set(theme.reply_ids)
        assert 1 <= len(theme.quote_ids) <= 3
        assert len(theme.quote_ids) >= min(2, len(theme.reply_ids))
        quoted = [text[q] for q in theme.quote_ids]
        assert len(set(quoted)) == len(quoted)


def test_it_does_not_quote_near_duplicates() -> None:
    texts = ["Fix the coffee machine in the kitchen"] * 3 + KITCHEN[1:4]
    result = find_themes(answers(texts))
    text = {a.id: a.text for a in answers(texts)}
    for theme in result.themes:
        quoted = [text[q] for q in theme.quote_ids]
        assert len(set(quoted)) == len(quoted)


def test_it_titles_themes_with_whole_phrases_of_their_answers() -> None:
    given = mixed()
    text = {a.id: a.text.lower() for a in given}
    for theme in find_themes(given).themes:
        assert 0 < len(theme.title) <= titles.MAX_TITLE_CHARS
        assert any(theme.title.lower() in text[r] for r in theme.reply_ids), theme.title
        assert theme.title.split()[-1].lower() not in STOP_WORDS, theme.title
        # a sentence, or none: the count is the theme's line ("5 answers · …"), never
        # repeated in its summary
        assert not theme.summary or theme.summary.endswith("."), theme.summary
        assert not re.search(r"\b\d+ answers?\b", theme.summary), theme.summary


def test_it_sums_a_theme_up_in_a_sentence_of_its_answers_own_words() -> None:
    members = [
        "End of life care in care homes, with the ICS paying for it.",
        "Care homes sharing end of life medicines so nobody went without.",
        "The palliative scheme joined up care homes and hospices; end of life stock shared.",
    ]
    others = ["Protected time for leads.", "A seat on the ICS board.", "Fund backfill."]
    scores = titles.distinctive_terms(members, others)
    heading = titles.title(members, [0, 1, 2], scores)
    said = titles.summary(3, ["PCN pharmacy lead"] * 3, scores, members, heading)
    assert said.startswith("Mostly from PCN pharmacy leads (3); they also say “")
    # three of eight is not most of them: "Most from PCN pharmacy leads (3)" beside "8 answers"
    # contradicts its own count, and the theme's line already gives every role's count
    fewer = titles.summary(8, ["PCN pharmacy lead"] * 3 + ["GP", "nurse", None, None, None],
                           scores, members, heading)
    assert fewer.startswith("They also say “"), fewer
    half = titles.summary(6, ["PCN pharmacy lead"] * 3 + ["GP", None, None], scores, members,
                          heading)
    assert half.startswith("They also say “"), half
    both = titles.summary(7, ["PCN pharmacy lead"] * 3 + ["GP"] * 3 + [None], scores, members,
                          heading)
    # equal counts in reading order, as the theme's line lists them
    assert both.startswith("Mostly from GPs (3) and PCN pharmacy leads (3); ")
    assert titles.summary(3, [None] * 3, scores, members, heading).startswith("They also say “")
    # nothing to say beyond the count, which the theme's line gives: no summary
    assert titles.summary(2, [None] * 2, {}, ["Yes", "No"], "") == ""
    assert said.endswith("”.")
    for clause in said.split("“")[1:]:
        assert any(clause.split("”")[0] in m for m in members), said
    assert heading not in said


@pytest.mark.parametrize(("text", "clauses"), [
    ("1) UTI upper age limit, 2) impetigo exclusions too many. all three mean back to GP",
     ["UTI upper age limit", "all three mean back to GP"]),
    ("time. thats it. we have no time", ["we have no time"]),
    ("Know what pharmacists can do and", []),
    ("- a named contact in each practice\n- and a WhatsApp group",
     ["a named contact in each practice"]),
    ("1. insulin 2. epilepsy meds 3. Parkinson's 4. end of life", ["epilepsy meds", "end of life"]),
    # a number is not cut at its point, colon or comma
    ("1:1 mentoring from a senior pharmacist who had done the job",
     ["1:1 mentoring from a senior pharmacist who had done the job"]),
    ("Clinic at 9.30 every Tuesday, 2,000 patients seen. Done",
     ["Clinic at 9.30 every Tuesday", "2,000 patients seen"]),
])
def test_a_title_is_a_whole_clause_never_one_cut_or_ending_on_a_function_word(
        text: str, clauses: list[str]) -> None:
    assert titles.whole_clauses(text) == clauses


def test_a_summary_quotes_no_clause_of_one_everyday_word() -> None:
    members = ["Our team.", "What worked.", "The supplier never answers the phone",
               "Weekend opening hours for the late shift", "Weekend opening with a late clinic"]
    scores = titles.distinctive_terms(members, ["Parking at the station", "A new lift"])
    said = titles.summary(5, [None] * 5, scores, members, shown="Weekend opening hours",
                          quoted=(2, 3, 4))
    # the answers not quoted say nothing a reader can use, and the quoted ones are shown
    assert said == ""
    # one word that names something specific is worth quoting
    members = ["The LPC.", *members[1:]]
    scores = titles.distinctive_terms(members, ["Parking at the station", "A new lift"])
    named = titles.summary(5, [None] * 5, scores, members, shown="Weekend opening hours",
                           quoted=(2, 3, 4))
    assert named == "They also say “The LPC”."
    # but not a name cut at a comma from the sentence it is the subject of
    members = ["The ICB, the trust and the GPs met every week.", *members[1:]]
    scores = titles.distinctive_terms(members, ["Parking at the station", "A new lift"])
    cut = titles.summary(5, [None] * 5, scores, members, shown="Weekend opening hours",
                         quoted=(2, 3, 4))
    assert "“The ICB”" not in cut and "“the trust and the GPs met every week”" in cut, cut


def test_a_summary_repeats_no_answer_quoted_beside_it() -> None:
    """The quotes are shown under the summary: a theme whose answers are all quoted says
    nothing more of them, and one with an answer left says only what that one says."""
    members = ["Different IT systems with no shared records",
               "Keep every system's data separate so nobody sees the whole picture",
               "Three logins before you can see a blood result"]
    scores = titles.distinctive_terms(members, ["Protected time for leads", "Fund backfill"])
    assert titles.summary(2, [None] * 2, scores, members[:2], shown="Different IT systems",
                          quoted=(0, 1)) == ""
    one_left = titles.summary(3, [None] * 3, scores, members, shown="Different IT systems",
                              quoted=(0, 1))
    assert one_left == "They also say “Three logins before you can see a blood result”."
    copied = [*members, "different IT systems, with no shared records!"]
    assert titles.summary(4, [None] * 4, scores, copied, shown="Different IT systems",
                          quoted=(0, 1)) == one_left  # a copy of a quote is a quote


def test_a_clause_that_opens_an_example_or_an_aside_is_no_title() -> None:
    clauses = titles.whole_clauses("Shorter courses, like two weeks, for anything new")
    assert clauses == ["Shorter courses", "for anything new"]
    assert titles.whole_clauses("Cheaper lunches, especially hot food") == ["Cheaper lunches"]


@pytest.mark.parametrize("told", [
    "My bike needs a covered shelter",  # one person's own
    "They never built the covered bike shelter",  # who "they" are, the answer does not say
    "Where is the covered bike shelter?",
])
def test_a_title_names_the_theme_s_subject_not_one_person_s_story_or_their_question(
        told: str) -> None:
    members = [told, "Covered shelter for the bikes", "A roof over the bike racks"]
    scores = titles.distinctive_terms(members, KITCHEN)
    assert titles.title(members, [0, 1, 2], scores) == "Covered shelter for the bikes"


def test_a_title_leaves_the_emoji_at_its_ends_to_the_quote() -> None:
    members = ["🚲 Covered bike shelter 🙏🙏", "covered shelter for bikes 👍🏽", "Bike shelter ☔️"]
    scores = titles.distinctive_terms(members, KITCHEN)
    assert titles.title(members, [0, 1, 2], scores) == "Covered bike shelter"
    clauses = titles.whole_clauses("Free fruit 🍎🍌, every Friday ✨")
    assert clauses == ["Free fruit", "every Friday"]


def test_it_lists_themes_largest_first() -> None:
    sizes = [len(t.reply_ids) for t in find_themes(mixed()).themes]
    assert sizes == sorted(sizes, reverse=True)


def test_it_gives_the_same_result_every_time() -> None:
    assert find_themes(mixed()) == find_themes(mixed())
    assert find_themes(list(reversed(mixed()))) == find_themes(list(reversed(mixed())))


def test_it_handles_no_answers() -> None:
    assert find_themes([]) == Themes(themes=(), unthemed_ids=())


def test_it_lists_one_answer_rather_than_making_a_theme_of_it() -> None:
    result = find_themes([Answer("only", "More bike racks by the entrance please")])
    assert result == Themes(themes=(), unthemed_ids=("only",))


def test_it_invents_no_theme_for_fewer_than_five_answers() -> None:
    given = answers([KITCHEN[0], KITCHEN[1], CYCLING[0], "More bike racks please"])
    result = find_themes(given)
    assert result.themes == ()
    assert result.unthemed_ids == tuple(a.id for a in given)


def test_it_shows_at_most_seven_themes_and_leaves_the_rest_as_other_answers() -> None:
    topics = [
        ["coffee machine broken", "the coffee machine leaks", "coffee machine needs fixing"],
        ["more bike racks", "bike racks are full", "bike racks by the door"],
        ["car park is full", "car park spaces by 8am", "the car park needs more spaces"],
        ["printer jams daily", "printer out of toner", "printer on floor two broken"],
        ["lifts are slow", "lifts broken again", "the lifts need servicing"],
        ["heating too hot", "heating off in winter", "heating control in the office"],
        ["windows do not open", "windows leak in rain", "windows need cleaning"],
        ["wifi drops out", "wifi slow in meeting rooms", "wifi password changes daily"],
        ["desks too small", "desks wobble", "standing desks please"],
    ]
    given = answers([t for topic in topics for t in topic])
    result = find_themes(given)
    assert len(result.themes) <= themes_module.MAX_THEMES
    assert placement(result) == Counter(a.id for a in given)
    sizes = [len(t.reply_ids) for t in result.themes]
    assert sizes == sorted(sizes, reverse=True)


def test_it_handles_only_noise() -> None:
    result = find_themes(answers(NOISE))
    assert result.themes == ()
    assert sorted(result.unthemed_ids) == sorted(a.id for a in answers(NOISE))


def test_copies_of_one_answer_are_one_theme_not_several_of_one_title() -> None:
    copies = ["Backfill funding", "backfill funding.", "Backfill Funding!", " backfill  funding"]
    given = answers([copies[i % 4] for i in range(40)])
    result = find_themes(given, question="What would help you take part?")
    assert [(t.title, len(t.reply_ids)) for t in result.themes] == [("Backfill funding", 40)]
    mixed_in = answers(KITCHEN + [copies[i % 4] for i in range(20)], prefix="m")
    result = find_themes(mixed_in, question="What would make the office a better place to work?")
    copy_ids = {a.id for a in mixed_in[len(KITCHEN):]}
    holding = [t for t in result.themes if copy_ids & set(t.reply_ids)]
    assert len(holding) == 1 and copy_ids <= set(holding[0].reply_ids), holding
    # too few different answers to group: each one that several people gave is its own theme
    three = answers(["Backfill funding", "Protected time", "A mentor"] * 10, prefix="t")
    assert sorted((t.title, len(t.reply_ids)) for t in find_themes(three).themes) == [
        ("A mentor", 10), ("Backfill funding", 10), ("Protected time", 10)]


@pytest.mark.parametrize(("writers", "themed"), [(("w1", "w2"), True), (("w1", "w1"), False)])
def test_a_theme_is_the_point_of_two_writers_not_one_person_s_two_answers(
        writers: tuple[str, str], themed: bool) -> None:
    others = ["A covered bike shelter", "Free fruit on Fridays", "A quiet room for calls",
              "Later start on Mondays", "Standing desks"]
    given = [Answer("b1", "Backfill funding", None, writers[0]),
             Answer("b2", "backfill funding.", None, writers[1]),
             *(Answer(f"o{i}", text, None, f"x{i}") for i, text in enumerate(others))]
    result = find_themes(given, question="What would make the office a better place to work?")
    assert ([(t.title, t.reply_ids) for t in result.themes]
            == ([("Backfill funding", ("b1", "b2"))] if themed else []))


def test_the_answer_many_gave_in_everyday_words_is_a_theme_a_repeated_remark_is_not() -> None:
    everyday = ["Proper lunch breaks", "proper lunch breaks.", "Proper lunch breaks please"]
    assert not any(noise.is_specific(t) for t in everyday)
    texts = [*KITCHEN, *CYCLING, *(everyday[i % 3] for i in range(9)),
             *(NOISE[i % 2] for i in range(6))]  # "no comment", "see above" three times each
    given = answers(texts)
    result = find_themes(given, question="What would make the office a better place to work?")
    said = {a.id: a.text for a in given}
    breaks = {a.id for a in given if a.text in everyday}
    assert any(breaks <= set(t.reply_ids) for t in result.themes), [
        (t.title, [said[r] for r in t.reply_ids]) for t in result.themes]
    remarks = {a.id for a in given if a.text in NOISE}
    assert remarks <= set(result.unthemed_ids)


def test_short_answers_many_people_repeat_are_themed_with_their_like_and_no_remark_is() -> None:
    said = {
        "shelter": ["Covered bike shelter", "covered bike shelter.", "A bike shelter with a roof"],
        "kettle": ["A second kettle", "Another kettle in the kitchen", "second kettle!"],
        "fruit": ["Free fruit", "Free fruit on Fridays", "free fruit"],
        "remark": ["no comment", "see above"],
    }
    subject = {text: name for name, texts in said.items() for text in texts}
    texts = [text for n in range(6) for texts in said.values() for text in texts[: n % 3 + 1]]
    given = answers(texts)
    result = find_themes(given, question="What would make the office a better place to work?")
    of = {a.id: subject[a.text] for a in given}
    for theme in result.themes:
        assert len({of[r] for r in theme.reply_ids}) == 1, theme
    for name in ("shelter", "kettle", "fruit"):
        holding = [t for t in result.themes if of[t.reply_ids[0]] == name]
        assert len(holding) == 1, (name, [t.title for t in result.themes])
        assert len(holding[0].reply_ids) == sum(of[a.id] == name for a in given)
    assert {a.id for a in given if of[a.id] == "remark"} <= set(result.unthemed_ids)


def test_it_assigns_answers_beyond_the_sample_to_the_themes_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spread, "SAMPLE", 16)
    given = answers(KITCHEN * 3 + CYCLING * 3, prefix="big")
    result = find_themes(given)
    assert placement(result) == Counter(a.id for a in given)
    theme_of = {r: n for n, t in enumerate(result.themes) for r in t.reply_ids}
    by_text: dict[str, set[int | None]] = {}
    for a in given:
        by_text.setdefault(a.text, set()).add(theme_of.get(a.id))
    # The same words always land in the same theme, sampled or not.
    assert all(len(found) == 1 for found in by_text.values()), by_text
    assert len(theme_of) >= len(given) - 6
    for theme in result.themes:
        assert set(theme.quote_ids) <= set(theme.reply_ids)


def test_it_rejects_an_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown theme engine"):
        find_themes(mixed(), engine="magic")


@pytest.mark.parametrize("text", ["🤷", "👍🙏", "...", "", "?", "+1", "100%"])
def test_a_reply_without_a_letter_says_nothing(text: str) -> None:
    assert noise.says_nothing(text)


@pytest.mark.parametrize("text", ["A", "£5k", "NHS", "今日"])
def test_a_reply_with_a_letter_may_say_something(text: str) -> None:
    assert not noise.says_nothing(text)


@pytest.mark.parametrize(("text", "specific"), [
    ("Sorry, not sure, will get back to you", False), ("thanks so much", False),
    ("More bike racks", True), ("IPMO", True), ("Covid wave 1", True),
    ("Showers for cyclists", True), ("time. we have no time", False),
])
def test_a_reply_is_specific_when_it_names_something_beyond_everyday_words(
        text: str, specific: bool) -> None:
    assert noise.is_specific(text) is specific


def test_it_keeps_short_real_answers_made_of_everyday_words() -> None:
    # Everyday words alone are not enough to be set aside: the reply must also say little
    # about what the other answers are about.
    texts = [*KITCHEN, "the kitchen is always dirty and nobody cleans it", "no idea sorry"]
    result = find_themes(answers(texts), question="What would make the kitchen better?")
    said = {a.id: a.text for a in answers(texts)}
    assert [said[i] for i in result.non_answer_ids] == ["no idea sorry"]


def test_a_reply_of_everyday_words_is_set_aside_only_when_the_learned_view_agrees(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply set aside is never shown, and short real answers are made of everyday words
    too: the word views alone only make a reply doubtful, listed with the other answers."""
    texts = [*KITCHEN, "the kitchen is always dirty and nobody cleans it", "no idea sorry"]
    given = answers(texts)
    reply = given[-1].id
    assert reply in find_themes(given, question="What would make the kitchen better?"
                                ).non_answer_ids
    monkeypatch.setattr(noise, "remarks", lambda plain: [False] * len(plain))
    result = find_themes(given, question="What would make the kitchen better?")
    assert reply not in result.non_answer_ids
    assert reply in result.doubtful_ids and reply in result.unthemed_ids
    assert all(reply not in t.reply_ids for t in result.themes)


def test_a_reply_is_doubtful_only_when_the_classifier_and_low_relevance_agree() -> None:
    from bot.core.digest import non_answer_model

    rng = np.random.default_rng(3)
    weights = np.asarray(non_answer_model.WEIGHTS, dtype=np.float64)
    direction = (weights / np.linalg.norm(weights)).astype(np.float32)
    plain = rng.normal(size=(30, 384)).astype(np.float32) * 0.05
    plain -= np.outer(plain @ direction, direction)  # the others say nothing of the kind
    plain[0] += 40.0 * direction  # a reply far along the learned direction
    scores = np.linspace(0.2, 0.8, 30)
    assert noise.doubtful(noise.remarks(plain), scores) == [True] + [False] * 29
    # The same reply with the best relevance is an answer that merely reads oddly.
    assert not any(noise.doubtful(noise.remarks(plain), scores[::-1].copy()))
    # Quartiles of fewer replies are rough: nothing is judged.
    assert not any(noise.doubtful(noise.remarks(plain[:10]), scores[:10]))


def test_a_doubtful_reply_is_listed_with_the_other_answers_not_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [*KITCHEN, *CYCLING, *KITCHEN[:4], *CYCLING[:4]]
    given = answers(texts)
    monkeypatch.setattr(noise, "doubtful",
                        lambda plain, scores: [i == 3 for i in range(len(scores))])
    result = find_themes(given, question="What would make the office a better place to work?")
    assert "a3" in result.unthemed_ids and "a3" not in result.non_answer_ids
    assert all("a3" not in t.reply_ids and "a3" not in t.quote_ids for t in result.themes)
    assert placement(result) == Counter(a.id for a in given)


def test_the_whitened_view_is_unit_length_deterministic_and_keeps_tiny_inputs() -> None:
    rng = np.random.default_rng(1)
    x = embeddings.centred(rng.normal(size=(12, 384)).astype(np.float32))
    view = embeddings.whitened(x)
    # Rows are the answers; columns are the principal axes (at most as many as answers).
    assert view.shape[0] == len(x) and view.dtype == np.float32
    assert np.allclose(np.linalg.norm(view, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(view, embeddings.whitened(x.copy()))
    assert np.array_equal(embeddings.whitened(x[:2]), x[:2])


def test_the_whitened_view_evens_out_a_dominant_direction() -> None:
    # Two groups told apart along a weak axis, while one strong axis varies within both:
    # cosine on the raw vectors is dominated by the strong axis, the whitened view is not.
    rng = np.random.default_rng(2)
    strong = rng.normal(size=(20, 1)) * 10.0
    group = np.repeat([1.0, -1.0], 10)[:, None]
    x = np.hstack([strong, group, 0.1 * rng.normal(size=(20, 6))]).astype(np.float32)
    x = embeddings.centred(x)
    view = embeddings.whitened(x)

    def separation(v: np.ndarray) -> float:
        sim = v @ v.T
        same = group @ group.T > 0
        return float(sim[same].mean() - sim[~same].mean())

    assert separation(view) > separation(x)


def test_consensus_over_two_views_never_mixes_clear_groups() -> None:
    rng = np.random.default_rng(3)
    centres = np.eye(3, 16, dtype=np.float32) * 5
    x = np.vstack([c + 0.3 * rng.normal(size=(8, 16)) for c in centres]).astype(np.float32)
    x = embeddings.centred(x)
    labels = clustering.consensus_labels(x, embeddings.whitened(x))
    group = np.repeat(np.arange(3), 8)
    # A group may be split (consensus errs on the fine side), but no theme mixes groups.
    for label in set(labels.tolist()):
        assert len(set(group[labels == label].tolist())) == 1
    assert np.array_equal(labels, clustering.consensus_labels(x, embeddings.whitened(x)))


def test_the_profile_view_never_mixes_clear_groups() -> None:
    rng = np.random.default_rng(3)
    centres = np.eye(3, 16, dtype=np.float32) * 5
    x = np.vstack([c + 0.3 * rng.normal(size=(8, 16)) for c in centres]).astype(np.float32)
    x = embeddings.centred(x)
    labels = clustering.consensus_labels(x, embeddings.whitened(x), profile_view=True)
    group = np.repeat(np.arange(3), 8)
    for label in set(labels.tolist()):
        assert len(set(group[labels == label].tolist())) == 1
    assert np.array_equal(
        labels, clustering.consensus_labels(x, embeddings.whitened(x), profile_view=True))


def test_a_profile_is_each_answer_s_unit_co_association_row() -> None:
    together = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    company = clustering.profile(together)
    assert np.allclose(np.linalg.norm(company, axis=1), 1.0)
    assert np.allclose(company[0], together[0] / np.linalg.norm(together[0]))
    assert company[2] @ company[0] == 0.0  # no shared company, nothing in common


# Speed work (docs/theme-engine.md, "Speed"): each faster piece must give what the piece it
# replaced gave, so that the quality figures stay the same.


def test_the_copied_stop_words_are_sklearn_s() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from bot.core.digest.lexicon import ENGLISH_STOP_WORDS as copied

    assert copied == ENGLISH_STOP_WORDS


def test_the_assignment_tfidf_is_sklearn_s_to_the_last_bit() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.core.digest.lexicon import STOP_WORDS

    texts = [*KITCHEN, *CYCLING, "Kitchen kitchen KITCHEN bike", "the and of", "", "café naïve"]
    expected = TfidfVectorizer(stop_words=sorted(STOP_WORDS), sublinear_tf=True).fit_transform(
        texts)
    got = themes_module._tfidf(texts)
    assert got is not None and got.shape == expected.shape
    assert np.array_equal(got.toarray(), expected.toarray())
    sample = [0, 3, 8, 12]
    assert np.array_equal((got @ got[sample].T).toarray(),
                          (expected @ expected[sample].T).toarray())
    assert themes_module._tfidf(["the and of", "it is"]) is None


def test_the_majority_cut_groups_as_sklearn_s_agglomerative_clustering() -> None:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(4)
    for n in (2, 3, 9, 40, 90):
        runs = 30
        group = rng.integers(0, 5, n)
        votes = (group[:, None] == group[None, :]) * 20 + rng.integers(0, 12, (n, n))
        votes = np.triu(np.clip(votes, 0, runs), 1)
        distance = (1.0 - (votes + votes.T) / runs).astype(np.float32)
        np.fill_diagonal(distance, 0.0)
        for threshold in (0.4, 0.5, 0.6):
            ours = clustering.cut(distance.copy(), threshold, "average")
            theirs = AgglomerativeClustering(
                n_clusters=None, distance_threshold=threshold, linkage="average",
                metric="precomputed").fit_predict(np.clip(distance, 0.0, None))
            assert adjusted_rand_score(ours, theirs) == 1.0


def test_the_dense_spectral_embedding_clusters_as_sklearn_s() -> None:
    import warnings

    from sklearn.manifold import spectral_embedding

    rng = np.random.default_rng(5)
    x = embeddings.centred(rng.normal(size=(60, 24)).astype(np.float32))
    for neighbours in clustering.NEIGHBOURS:
        graph = clustering.knn_affinity(x @ x.T, neighbours)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            theirs = spectral_embedding(graph, n_components=20, random_state=0,
                                        drop_first=False)
        ours = clustering._spectral_embedding(graph, 20)
        for k in range(2, 21):
            assert np.array_equal(clustering._cluster_qr(ours[:, :k]),
                                  clustering._cluster_qr(theirs[:, :k]))


def test_batched_model_runs_give_each_answer_the_states_it_gets_alone() -> None:
    try:
        encoder = embeddings.default_encoder()
    except ModelUnavailable:
        pytest.skip("the packaged model is not installed")
    texts = [*KITCHEN, *CYCLING, KITCHEN[0], "ok", " ".join(CYCLING) * 3]
    ids = encoder.token_ids(texts)
    together = encoder.token_states(ids)
    for seq, states in zip(ids, together, strict=True):
        alone = encoder.token_states([seq])[0]
        assert states.shape == (len(seq), encoder.hidden_size)
        assert np.allclose(states, alone, atol=1e-5)


def test_the_default_engine_imports_neither_sklearn_nor_the_model_until_needed() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from bot.core.digest.themes import Answer, find_themes\n"
        "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules\n"
        f"find_themes([Answer(str(i), t) for i, t in enumerate({KITCHEN + CYCLING!r})])\n"
        "assert 'sklearn' not in sys.modules, 'the default engine imported scikit-learn'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


MARKED_UP = [
    "<@U0123ABC> said shorter meetings with a clear agenda work",
    "</script> Shorter meetings & clear agendas",
    "@amara shorter meetings with a clear agenda",
    "Shorter meetings, see https://example.org/notes for the agenda template",
    "Agendas sent out a week before every meeting; minutes &amp; actions after",
]
MARKUP_LEFTOVERS = ("@", "<", ">", "U0123ABC", "amara", "script", "example", "https", "&amp")


@pytest.mark.parametrize("first", range(len(MARKED_UP)))
def test_a_title_or_quoted_clause_holds_no_mention_link_or_tag(first: int) -> None:
    members = MARKED_UP[first:] + MARKED_UP[:first]
    scores = titles.distinctive_terms(members, ["Parking at the station", "A new lift"])
    heading = titles.title(members, range(len(members)), scores)
    said = titles.summary(len(members), [None] * len(members), scores, members, heading)
    alone = titles.title(members[:1], [0], scores)
    for shown in (heading, said, alone):
        assert not any(bit in shown for bit in MARKUP_LEFTOVERS), shown
    assert "“" in said  # the clean clauses are still quoted
    assert heading.lower() in " ".join(members).lower()
