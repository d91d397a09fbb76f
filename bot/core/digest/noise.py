"""Recognising replies that are not answers, by a general method: no phrase lists.

A reply is set aside as "not an answer" when three views agree:

1. **It says nothing specific.** Every word in it is one of the common words of everyday
   English: none below Zipf frequency 4 (ten uses per million words) in ``wordfreq``'s
   general-English counts (its data ships with the package: subtitles, news, books,
   Wikipedia, web text), and it holds no number. "Sorry, not sure", "thanks, will reply
   later", "same as before" are made of such words; nearly any answer that names a thing
   ("locum cover", "the IT", "referrals", "2020") is not.
2. **It says little about the question's subject.** Its relevance (the cosine of its
   sentence vector to the sum of the question's and all the other replies' vectors) is well
   below the question's typical reply: under the lower quartile less half the interquartile
   range of the relevance of all the replies to that question.
3. **It has nothing in common with the other replies' words.** Fewer than three other
   replies share a content word with it (a word outside the stop-word list, plurals folded).

No view alone is enough: short real answers are often made of common words ("time, we have
no time"), and a real answer can sit far from the others. A reply of one to three words is
too short for the model's relevance to mean much, so for it the first and third views decide
("no comment", "see above", "thanks"). Two exceptions: a reply with no letter at all
(empty, emoji, "...", "+1") says nothing outright, and a reply whose relevance is far out
(below the lower quartile less three interquartile ranges, Tukey's fence for far-out values)
says nothing about the question whatever words it uses.

Replies of everyday words are also how people write short real answers ("Fewer forms.",
"Proper breaks."), and a reply set aside is never shown: so a reply the word views above
set aside is only set aside when the learned view below agrees that it reads as a remark
(``set_aside``); otherwise it is *doubtful*, listed with the other answers. Only a reply
with no letter, or one whose relevance is far out, is set aside on the word views
and relevance alone. (Over the 85 labelled sets of 6 Dec the word views alone hid 32 real
answers and 335 non-answers; with the learned view agreeing, 6 and 334:
``bench/set_aside.py``.)

A fourth, learned view keeps *doubtful* replies out of themes (``doubtful``): remarks about
the exchange itself (a question to the organisers, a request for slides, a complaint about
when the bot writes) often name something specific, so the word views above miss them, but
they share a direction in the sentence model's space. A logistic regression on each reply's
sentence vector, centred on its question's replies, fitted to the labelled non-answers of
every training set (``bench/train_non_answers.py``, weights in ``non_answer_model.py``), flags
such a reply when its score is above all but the top 0.5% of the real answers' scores in that
data and its relevance is under the lower quartile (the quantile chosen out of fold). The
fine-tuned layers learn the non-answers too, as one more group in each question. A doubtful
reply is not counted as a non-answer: it is listed with the other answers, never themed,
titled or quoted, so a real answer flagged by mistake is still shown, while a remark left in a
theme could be quoted as what people said.

The cut-offs of the first two views were chosen on ``../shared/data/replies-labeled.csv``
(Zipf 4 is also where the Zipf scale puts the start of high-frequency words); the third view
was added after scoring two of the sets in bench/data, which were therefore used in choosing
it (docs/theme-engine.md says which sets stayed unseen).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from bot.core.digest.lexicon import says_nothing

COMMON_ZIPF = 4.0
"""Words at or above this Zipf frequency are everyday English; below it, specific."""
RELEVANCE_FENCE = 0.5
"""How many interquartile ranges below the lower quartile the relevance of a reply of
everyday words must fall."""
FAR_FENCE = 3.0
"""Tukey's fence for far-out values: a reply this far below says nothing about the subject,
whatever words it uses."""
MIN_SUPPORT = 3
"""A reply that shares a content word with this many other replies is on their subject."""
SHORT = 3
"""Replies of at most this many words are too short for the sentence model's relevance to
mean much: for them the other two views decide."""
MIN_FOR_RELEVANCE = 20
"""Quartiles of fewer replies are rough (in a question of twelve very alike answers, a real
one fell under the lower fence): below this a reply of everyday words must be far out."""
MIN_TO_JUDGE = 8
"""Below this many replies, those of everyday words only are listed, never themed."""
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@lru_cache(maxsize=1 << 17)
def is_specific(text: str) -> bool:
    """True when a reply holds a number or a word that is not everyday English."""
    if any(c.isdigit() for c in text):
        return True
    return any(_zipf(word.lower().replace("’", "'")) < COMMON_ZIPF
               for word in _WORD.findall(text))


@lru_cache(maxsize=1 << 16)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def relevance(vectors: NDArray[np.float32], reference: NDArray[np.bool_],
              question: NDArray[np.float32] | None) -> NDArray[np.float64]:
    """Each reply's cosine to the sum of the question's vector and the reference replies'
    (those that name something specific), its own left out."""
    vectors64 = vectors.astype(np.float64)
    total = vectors64[reference].sum(axis=0)
    if question is not None:
        total = total + question.astype(np.float64)
    others = total[None, :] - np.where(reference[:, None], vectors64, 0.0)
    norms = np.linalg.norm(others, axis=1)
    out: NDArray[np.float64] = (vectors64 * others).sum(axis=1) / np.maximum(norms, 1e-12)
    return out


def relevance_floors(scores: NDArray[np.float64]) -> tuple[float, float]:
    """The relevance under which a reply of everyday words says little about the question's
    subject, and the one under which any reply says nothing about it. With fewer than
    MIN_FOR_RELEVANCE replies the quartiles are rough: a reply of everyday words must then be
    far out, and no other reply is judged by relevance; below MIN_TO_JUDGE, none is."""
    if len(scores) < MIN_TO_JUDGE:
        return -np.inf, -np.inf
    low, high = np.quantile(scores, [0.25, 0.75])
    far = float(low - FAR_FENCE * (high - low))
    if len(scores) < MIN_FOR_RELEVANCE:
        return far, -np.inf
    return float(low - RELEVANCE_FENCE * (high - low)), far


def support(texts: Sequence[str]) -> list[int]:
    """For each reply, how many other replies share a content word with it (plurals folded)."""
    from bot.core.digest.lexicon import content_words

    said = [{w[:-1] if w.endswith("s") and len(w) > 3 else w for w in content_words(t)}
            for t in texts]
    users: dict[str, set[int]] = {}
    for i, found in enumerate(said):
        for word in found:
            users.setdefault(word, set()).add(i)
    return [len(set().union(*(users[w] for w in found)) - {i}) if found else 0
            for i, found in enumerate(said)]


def not_answers(texts: Sequence[str], scores: NDArray[np.float64],
                floors: tuple[float, float]) -> list[bool]:
    """Which replies are not answers: nothing specific, little relevance and no word in common
    with the other replies' subject; or no relevance at all."""
    low, far = floors
    shared = support(texts)
    return [says_nothing(text) or float(score) < far
            or (not is_specific(text) and others < MIN_SUPPORT
                and (float(score) < low or len(_WORD.findall(text)) <= SHORT))
            for text, score, others in zip(texts, scores, shared, strict=True)]


class Judged(NamedTuple):
    """Each reply's reading: set aside as not an answer; doubtful (listed with the other
    answers); read by the learned view as a remark about the exchange."""
    refused: list[bool]
    doubtful: list[bool]
    remark: list[bool]


def set_aside(texts: Sequence[str], plain: NDArray[np.float32], scores: NDArray[np.float64]
              ) -> Judged:
    """For each reply: set aside as not an answer, doubtful, a remark. A reply of no letter,
    or of far-out relevance, is set aside; one the word views flag (``not_answers``) only
    when the learned view agrees (``remarks``), else it is doubtful, and so is one
    ``doubtful`` flags or one of everyday words the learned view reads as a remark."""
    floors = relevance_floors(scores)
    flagged = not_answers(texts, scores, floors)
    remark = remarks(plain)
    # A reply of everyday words read as a remark is doubtful whatever its relevance: copies
    # of "no comment" lend each other the relevance and shared words that would clear it.
    unsure = [other or (said and not is_specific(text))
              for other, said, text in zip(doubtful(remark, scores), remark, texts, strict=True)]
    refused = [flag and (says_nothing(text) or float(score) < floors[1] or said)
               for text, score, flag, said in zip(texts, scores, flagged, remark, strict=True)]
    return Judged(refused, [(flag or other) and not no
                            for flag, other, no in zip(flagged, unsure, refused, strict=True)],
                  remark)


def centred_rows(plain: NDArray[np.float32]) -> NDArray[np.float64]:
    """Sentence vectors less their mean: what each reply says beyond what every reply to the
    same question says (the classifier's input)."""
    rows = plain.astype(np.float64)
    centred: NDArray[np.float64] = rows - rows.mean(axis=0, keepdims=True)
    return centred


def doubtful(remark: Sequence[bool], scores: NDArray[np.float64]) -> list[bool]:
    """Replies that read like remarks about the exchange rather than answers: the learned
    classifier's reading (`remarks`) and relevance under the lower quartile. Judged
    only with MIN_FOR_RELEVANCE replies or more (rougher quartiles judge nothing)."""
    if len(scores) < MIN_FOR_RELEVANCE:
        return [False] * len(scores)
    low = float(np.quantile(scores, 0.25))
    return [said and score < low for said, score in zip(remark, scores, strict=True)]


def remarks(plain: NDArray[np.float32]) -> list[bool]:
    """Which replies the learned classifier reads as remarks about the exchange: its score
    above its threshold (non_answer_model.py)."""
    from bot.core.digest import non_answer_model as model

    logits = centred_rows(plain) @ np.asarray(model.WEIGHTS, dtype=np.float64) + model.BIAS
    return [bool(logit > model.THRESHOLD) for logit in logits]
