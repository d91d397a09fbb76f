"""Recognising answers that say nothing: generic chat patterns, no topic knowledge."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.core.digest.lexicon import content_words, words

# Whole-answer non-answers, and the phrases that make an answer about the process rather
# than the question. Generic to any workshop: nothing here names a topic.
_NON_ANSWER = re.compile(
    r"""^(?:
        n/?a | none | nothing | nope | no | nil | - | \.+ | \? | idk | dunno | pass
      | no\ comments? | nothing\ to\ add | nothing\ (?:more\ )?to\ say
      | (?:not\ sure|unsure|no\ idea|don'?t\ know)
      | (?:many\ )?thanks?(?:\ you)? | ty | cheers | ok(?:ay)? | sure | yes
      | same(?:\ as\ (?:above|before))? | ditto | as\ above | see\ above
    )[\s.!?,:;]*$""", re.IGNORECASE | re.VERBOSE)

_DEFERRAL = re.compile(
    r"""\b(?:
        see\ (?:my\ )?(?:above|previous|earlier|last)
      | same\ (?:answer|point|as\ (?:above|before|my))
      | as\ (?:i\ )?(?:said|mentioned)\ (?:above|before|earlier)
      | (?:will|I'?ll|let\ me)\ (?:have\ a\ )?
        (?:think|reflect|come\ back|get\ back|reply\ (?:properly\ )?later|pass)
      | get\ back\ to\ you | come\ back\ to\ (?:this|it|you)
      | (?:not\ sure|no\ idea|don'?t\ know)\b.{0,40}\b(?:to\ say|sorry|really)
      | not\ (?:really\ )?(?:seen|got|sure)\ (?:anything|enough|much)
      | not\ sure\ (?:I(?:'ve|\ have)\ )?(?:ever\ )?(?:seen|come\ across|experienced)
      | can'?t\ think\ of\ (?:any|one|an\ example) | nothing\ (?:comes|springs)\ to\ mind
      | too\ many\ to\ (?:name|list|mention) | too\ many\ good
      | off\ topic | (?:does|do)\ anyone\ know | (?:joined|arrived)\ late
      | what(?:'s|\ is)\ this\ (?:for|about) | is\ there\ a\ deadline
      | can\ (?:someone|anyone|you)\ (?:share|send|resend)
      | does\ this\ (?:link|relate|connect)\ to
      | (?:love|great|good|interesting)\ (?:this\ )?question
    )""", re.IGNORECASE | re.VERBOSE)

_MAX_NOISE_WORDS = 16


@lru_cache(maxsize=1 << 17)  # a digest asks twice per answer (the view and the engine)
def is_noise(text: str) -> bool:
    """True when an answer says nothing about the question: empty, emoji or punctuation only,
    a stock non-answer ("no comment", "n/a", "see above", "thanks", "not sure"), a deferral
    ("will think and come back"), or a short remark about the process rather than an answer."""
    stripped = " ".join(text.split())
    if not stripped or not any(unicodedata.category(c)[0] in "LN" for c in stripped):
        return True
    if _NON_ANSWER.match(stripped):
        return True
    n_words = len(words(stripped))
    if n_words <= _MAX_NOISE_WORDS and _DEFERRAL.search(stripped):
        return True
    return n_words <= 3 and not content_words(stripped)
