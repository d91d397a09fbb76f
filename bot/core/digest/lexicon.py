"""Generic English word handling shared by the theme engine (no domain word lists)."""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    {"im", "ive", "dont", "didnt", "doesnt", "isnt", "thats", "its", "tbh", "imo", "really",
     "just", "lot", "lots", "got", "get", "like", "things", "thing", "way", "make", "sure",
     "honestly", "actually", "basically", "definitely", "probably", "maybe", "absolutely",
     "pretty", "quite", "bit", "easy", "yes", "ha", "oh", "ok", "okay", "good", "great",
     "bonus", "points", "etc", "stuff", "everyone", "anyone", "someone", "nobody", "people"})
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")


def words(text: str) -> list[str]:
    """Lower-case words of a text, apostrophes dropped ("we're" -> "were")."""
    return [w.lower().replace("'", "").replace("’", "") for w in WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """Words that are not stop words."""
    return [w for w in words(text) if w not in STOP_WORDS and len(w) > 1]
