"""The language model's answers, remembered per question: in the process, and (where a store
is given) in the database, shared by every process.

A digest is built again for every preview, every edit a facilitator makes to a draft and the
post that follows its approval, and the post may be made by another process than the draft
(the scheduler drafts, a server posts once approved). Asking the model each time would cost a
call per edit and could change a headline under the facilitator; so its answer for a question
is kept, keyed by everything it was given (the round, the question, each theme's answers and
offline title, and the text sent). The same themes get the same model text; a new, moved or
edited answer asks again. Only answers that parsed are kept: a failure is not. What comes
back from the shared store is only JSON: its shape is checked here, and whatever a build takes
from it is checked against the answers again, like the model's own reply.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from bot.core.digest.model import PromptDigest

KEPT = 128
"""Questions whose model answer is kept (the one used longest ago is forgotten first)."""

Suggestions = dict[int, dict[str, Any]]
"""The model's parsed answer for one question: its proposals by theme number."""
V = TypeVar("V")

GROUPING = "grouping"
HEADLINES = "headlines"
"""The kinds of answer kept: a question's groups, and its themes' headline suggestions."""
HEADLINE_FIELDS = {"title": str, "summary": str, "quotes": list}


def headline_key(round_id: int, prompt: PromptDigest, request: str) -> str:
    """What the model was given for this question's headlines (the round, the question, each
    theme's answers and offline title, and the text sent), as a SHA-256 in hex."""
    themes = [(list(t.reply_ids), t.title) for t in prompt.themes]
    sent = hashlib.sha256(request.encode()).hexdigest()
    given = json.dumps([round_id, prompt.prompt_id, themes, sent])
    return hashlib.sha256(given.encode()).hexdigest()


def grouping_key(request: str) -> str:
    """The request for a question's groups, as a SHA-256 in hex."""
    return hashlib.sha256(request.encode()).hexdigest()


class ModelAnswers(Generic[V]):
    """A bounded, thread-safe store of the model's answers by what it was given (headline
    suggestions, or a grouping's labels)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[str, V] = OrderedDict()
        self._size = kept
        self._lock = threading.Lock()

    def recall(self, key: str) -> V | None:
        """The model's answer given for this key before, if it is still kept."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def keep(self, key: str, answer: V) -> None:
        with self._lock:
            self._kept[key] = answer
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)


class SharedAnswers(Protocol):
    """Where the model's answers are kept beyond this process (storage.model_answers), as
    JSON by kind and key; `round_id` names the round whose words a value holds."""

    def load(self, kind: str, key: str) -> object | None: ...

    def keep(self, kind: str, key: str, value: object, round_id: int | None = None,
             replace: bool = False) -> None: ...


class KeptAnswers(Generic[V]):
    """The model's answers of one kind: this process's own memory first, then the shared
    store; what is kept goes to both."""

    def __init__(self, kind: str, read: Callable[[object], V | None],
                 write: Callable[[V], object], shared: SharedAnswers | None = None) -> None:
        self.kind = kind
        self._read = read
        self._write = write
        self._shared = shared
        self._memory = ModelAnswers[V]()

    def recall(self, key: str) -> tuple[V | None, bool]:
        """The answer kept for `key`, if any; and whether the shared store holds one for it
        that could not be used (then `keep` replaces it)."""
        found = self._memory.recall(key)
        if found is not None or self._shared is None:
            return found, False
        stored = self._shared.load(self.kind, key)
        found = self._read(stored) if stored is not None else None
        if found is not None:
            self._memory.keep(key, found)
        return found, stored is not None and found is None

    def keep(self, key: str, answer: V, round_id: int | None = None,
             replace: bool = False) -> None:
        self._memory.keep(key, answer)
        if self._shared is not None:
            self._shared.keep(self.kind, key, self._write(answer), round_id, replace)


def suggestions_json(suggestions: Suggestions) -> dict[str, dict[str, Any]]:
    """Suggestions as JSON keeps them: theme numbers as text."""
    return {str(n): suggestion for n, suggestion in suggestions.items()}


def suggestions_from_json(value: object) -> Suggestions | None:
    """Suggestions read back from JSON (suggestions_json), or None when the value is not of
    that shape."""
    if not isinstance(value, dict):
        return None
    out: Suggestions = {}
    for number, suggestion in value.items():
        if not (isinstance(number, str) and number.isdigit() and _headline(suggestion)):
            return None
        out[int(number)] = suggestion
    return out


def _headline(suggestion: object) -> bool:
    """Whether this is one theme's suggestion as kept: a title, a summary, quotes, or none."""
    return (isinstance(suggestion, dict) and set(suggestion) <= set(HEADLINE_FIELDS)
            and all(isinstance(suggestion[name], kind) for name, kind in HEADLINE_FIELDS.items()
                    if name in suggestion)
            and all(isinstance(q, str) for q in suggestion.get("quotes", [])))


def labels_from_json(value: object) -> list[int] | None:
    """A grouping read back from JSON (a group number per answer, -1 for none), or None."""
    if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= -1 for n in value):
        return None
    return list(value)
