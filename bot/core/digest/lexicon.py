"""Generic English word handling shared by the theme engine (no domain word lists)."""

from __future__ import annotations

import re
import unicodedata

# scikit-learn's English stop-word list (sklearn.feature_extraction.text.ENGLISH_STOP_WORDS),
# copied so that the noise filter and the digest need not import scikit-learn (about a
# second); tests/test_themes.py checks that it is still the same list.
ENGLISH_STOP_WORDS: frozenset[str] = frozenset({
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all",
    "almost", "alone", "along", "already", "also", "although", "always", "am", "among",
    "amongst", "amoungst", "amount", "an", "and", "another", "any", "anyhow", "anyone",
    "anything", "anyway", "anywhere", "are", "around", "as", "at", "back", "be", "became",
    "because", "become", "becomes", "becoming", "been", "before", "beforehand", "behind",
    "being", "below", "beside", "besides", "between", "beyond", "bill", "both", "bottom",
    "but", "by", "call", "can", "cannot", "cant", "co", "con", "could", "couldnt", "cry",
    "de", "describe", "detail", "do", "done", "down", "due", "during", "each", "eg",
    "eight", "either", "eleven", "else", "elsewhere", "empty", "enough", "etc", "even",
    "ever", "every", "everyone", "everything", "everywhere", "except", "few", "fifteen",
    "fifty", "fill", "find", "fire", "first", "five", "for", "former", "formerly", "forty",
    "found", "four", "from", "front", "full", "further", "get", "give", "go", "had", "has",
    "hasnt", "have", "he", "hence", "her", "here", "hereafter", "hereby", "herein",
    "hereupon", "hers", "herself", "him", "himself", "his", "how", "however", "hundred",
    "i", "ie", "if", "in", "inc", "indeed", "interest", "into", "is", "it", "its", "itself",
    "keep", "last", "latter", "latterly", "least", "less", "ltd", "made", "many", "may",
    "me", "meanwhile", "might", "mill", "mine", "more", "moreover", "most", "mostly",
    "move", "much", "must", "my", "myself", "name", "namely", "neither", "never",
    "nevertheless", "next", "nine", "no", "nobody", "none", "noone", "nor", "not",
    "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one", "only", "onto",
    "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own",
    "part", "per", "perhaps", "please", "put", "rather", "re", "same", "see", "seem",
    "seemed", "seeming", "seems", "serious", "several", "she", "should", "show", "side",
    "since", "sincere", "six", "sixty", "so", "some", "somehow", "someone", "something",
    "sometime", "sometimes", "somewhere", "still", "such", "system", "take", "ten", "than",
    "that", "the", "their", "them", "themselves", "then", "thence", "there", "thereafter",
    "thereby", "therefore", "therein", "thereupon", "these", "they", "thick", "thin",
    "third", "this", "those", "though", "three", "through", "throughout", "thru", "thus",
    "to", "together", "too", "top", "toward", "towards", "twelve", "twenty", "two", "un",
    "under", "until", "up", "upon", "us", "very", "via", "was", "we", "well", "were",
    "what", "whatever", "when", "whence", "whenever", "where", "whereafter", "whereas",
    "whereby", "wherein", "whereupon", "wherever", "whether", "which", "while", "whither",
    "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within", "without",
    "would", "yet", "you", "your", "yours", "yourself", "yourselves",
})
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


_ANY_WORD = re.compile(r"\w+")


def same_words(text: str) -> str:
    """What two copies of one answer have in common: its words, any case, with no punctuation
    or spacing ("Protected time!" and "protected  time." are one answer)."""
    return " ".join(_ANY_WORD.findall(text.casefold()))


def content_words(text: str) -> list[str]:
    """Words that are not stop words."""
    return [w for w in words(text) if w not in STOP_WORDS and len(w) > 1]


def singular(word: str) -> str:
    """A lower-case word with a regular English plural ending taken off ("pharmacies" ->
    "pharmacy", "patients" -> "patient"; "access" and "bus" stay as they are)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def says_nothing(text: str) -> bool:
    """True when a reply has no letter at all (empty, emoji, punctuation, "+1"): a reply to an
    open question with no word in it is no answer, whatever the engine says."""
    return not any(unicodedata.category(c)[0] == "L" for c in text)
