"""How a large question's answers are read in part: the engine's sample, and the answers
"new since" reads, those the model read already first."""

from __future__ import annotations

from bot.core.digest.spread import SAMPLE, clustering_sample, model_sample, read_first, spread


def test_a_question_of_few_answers_is_read_whole_and_a_large_one_by_a_fixed_sample() -> None:
    assert model_sample(SAMPLE) == list(range(SAMPLE))
    large = model_sample(2_000)
    assert len(large) == SAMPLE == len(set(large)) and large == sorted(large)
    assert model_sample(2_000) == large  # the same answers every build


def test_the_answers_read_already_come_first_and_nothing_changes_when_all_were_read() -> None:
    ids = [f"a{n:03}" for n in range(200)]
    assert read_first(ids, set(ids), 40) == spread(ids, 40)
    assert read_first(ids[:30], set(ids), 40) == ids[:30]
    read = set(ids[::20])  # 10 of them
    chosen = read_first(ids, read, 40)
    assert len(chosen) <= 40 and read <= set(chosen)
    assert chosen == [i for i in ids if i in set(chosen)]  # in their order
    assert read_first(ids, set(ids[::2]), 40) == spread(ids[::2], 40)


def test_the_engine_clusters_the_answers_its_non_answer_check_read_already() -> None:
    """The non-answer check reads a sample of all the replies; what the engine clusters is
    that sample less the replies left out, topped up from the others (read once, not twice)."""
    few = [n % 7 == 0 for n in range(60)]
    assert clustering_sample(few) == list(range(sum(not o for o in few)))
    out = [n % 10 == 0 for n in range(2_000)]
    kept = [n for n, o in enumerate(out) if not o]
    chosen = [kept[i] for i in clustering_sample(out)]
    read = [n for n in model_sample(2_000) if not out[n]]
    assert len(chosen) == SAMPLE == len(set(chosen)) and chosen == sorted(chosen)
    assert set(read) <= set(chosen)  # every answer read already is clustered
    assert clustering_sample(out) == clustering_sample(out)
