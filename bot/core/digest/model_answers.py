"""The language model's answers, remembered per question for the life of the process.

A digest is built again for every preview, every edit a facilitator makes to a draft and the
post that follows its approval. Asking the model each time would cost a call per edit and
could change a headline under the facilitator; so its answer for a question is kept, keyed by
everything it was given (the round, the question, each theme's answers and offline title, and
the text sent). The same themes get the same model text; a new, moved or edited answer asks
again. Only answers that parsed are kept: a failure is not.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from bot.core.digest.model import PromptDigest

KEPT = 128
"""Questions whose model answer is kept (the one used longest ago is forgotten first)."""

Key = tuple[object, ...]
Suggestions = dict[int, dict[str, Any]]
"""The model's parsed answer for one question: its proposals by theme number."""
V = TypeVar("V")


def key_of(round_id: int, prompt: PromptDigest, request: str) -> Key:
    """What the model was given for this question, as a key."""
    themes = tuple((tuple(t.reply_ids), t.title) for t in prompt.themes)
    sent = hashlib.sha256(request.encode()).hexdigest()
    return (round_id, prompt.prompt_id, themes, sent)


class ModelAnswers(Generic[V]):
    """A bounded, thread-safe store of the model's answers by what it was given (headline
    suggestions, or a grouping's labels)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[Key, V] = OrderedDict()
        self._size = kept
        self._lock = threading.Lock()

    def recall(self, key: Key) -> V | None:
        """The model's answer given for this key before, if it is still kept."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def keep(self, key: Key, answer: V) -> None:
        with self._lock:
            self._kept[key] = answer
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)
