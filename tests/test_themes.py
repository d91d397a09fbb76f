"""The offline theme engine: what find_themes promises the digest, on invented answers."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bot.core.digest import clustering, embeddings, titles
from bot.core.digest import themes as themes_module
from bot.core.digest.embeddings import ModelUnavailable
from bot.core.digest.themes import ENGINES, Answer, Themes, find_themes, is_noise

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
    result = find_themes(given)
    assert noise_ids <= set(result.unthemed_ids)
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


def test_it_titles_themes_with_words_from_their_answers() -> None:
    given = mixed()
    text = {a.id: a.text.lower() for a in given}
    for theme in find_themes(given).themes:
        assert 0 < len(theme.title) <= 60
        assert any(theme.title.lower() in text[r] for r in theme.reply_ids), theme.title
        assert theme.summary.endswith(".")
        assert theme.summary.startswith(f"{len(theme.reply_ids)} answers")


def test_it_sums_a_theme_up_in_the_phrases_its_answers_use() -> None:
    members = [
        "End of life care in care homes, with the ICS paying for it.",
        "Care homes sharing end of life medicines so nobody went without.",
        "The palliative scheme joined up care homes and hospices; end of life stock shared.",
    ]
    others = ["Protected time for leads.", "A seat on the ICS board.", "Fund backfill."]
    scores = titles.distinctive_terms(members, others)
    said = titles.summary(3, ["PCN pharmacy lead"] * 3, scores, members)
    assert said.startswith("3 answers, mostly from PCN pharmacy lead (3), about ")
    assert "care homes" in said and "end of life" in said  # phrases, not "care", "homes"
    assert "palliative" not in said  # one answer's word is not what the theme is about


def test_it_lists_themes_largest_first() -> None:
    sizes = [len(t.reply_ids) for t in find_themes(mixed()).themes]
    assert sizes == sorted(sizes, reverse=True)


def test_it_gives_the_same_result_every_time() -> None:
    assert find_themes(mixed()) == find_themes(mixed())
    assert find_themes(list(reversed(mixed()))) == find_themes(list(reversed(mixed())))


def test_it_handles_no_answers() -> None:
    assert find_themes([]) == Themes(themes=(), unthemed_ids=())


def test_it_handles_one_answer() -> None:
    result = find_themes([Answer("only", "More bike racks by the entrance please")])
    assert placement(result) == Counter(["only"])
    assert [t.quote_ids for t in result.themes] in ([("only",)], [])


def test_it_handles_two_identical_answers() -> None:
    twins = [Answer("x", "More bike racks please"), Answer("y", "More bike racks please")]
    result = find_themes(twins)
    assert placement(result) == Counter(["x", "y"])
    for theme in result.themes:
        assert len(theme.quote_ids) == 1


def test_it_handles_only_noise() -> None:
    result = find_themes(answers(NOISE))
    assert result.themes == ()
    assert sorted(result.unthemed_ids) == sorted(a.id for a in answers(NOISE))


def test_it_assigns_answers_beyond_the_sample_to_the_themes_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(themes_module, "SAMPLE", 16)
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


@pytest.mark.parametrize("text", [
    "no comment", "No comment.", "n/a", "N/A", "see above", "See my previous reply",
    "thanks", "Thank you!", "not sure", "Not sure tbh", "🤷", "👍🙏", "...", "",
    "Same as above", "Will have a think and get back to you",
    "off topic but does anyone know where the slides are?", "Sorry, joined late - what's this for?",
    "Honestly, not sure I have seen it from where I sit.", "Nothing springs to mind",
    "I can't think of any",
])
def test_it_recognises_answers_that_say_nothing(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", [
    "More bike racks", "Showers", "Not sure the kettle is safe, it sparks when switched on",
    "Thanks to the new rota we finally get lunch breaks", "IPMO", "Cycle to work scheme",
    "Not sure I have seen better than the bike loan scheme, everyone in the team uses it now",
])
def test_it_keeps_short_real_answers(text: str) -> None:
    assert not is_noise(text)


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
        assert states.shape == (len(seq), embeddings.HIDDEN)
        assert np.allclose(states, alone, atol=1e-5)


def test_the_default_engine_imports_neither_sklearn_nor_the_model_until_needed() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from bot.core.digest.themes import Answer, find_themes, is_noise\n"
        "is_noise('thanks')\n"
        "assert 'onnxruntime' not in sys.modules and 'sklearn' not in sys.modules\n"
        f"find_themes([Answer(str(i), t) for i, t in enumerate({KITCHEN + CYCLING!r})])\n"
        "assert 'sklearn' not in sys.modules, 'the default engine imported scikit-learn'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
