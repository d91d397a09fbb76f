"""An optional summariser: any OpenAI-compatible chat endpoint (Azure OpenAI, a local Ollama)
may rewrite theme titles and summaries. It never changes what is quoted: a quote it proposes is
kept only when it is found word for word in an answer of that theme, and then the answer
itself is quoted. A title or summary is checked like a quote (bot.core.digest.grounded): only
words of the theme's answers, no names, user ids, mentions, quotation marks or links; one that
fails is dropped for the offline one, and a theme whose headline the model wrote says so
(ThemeView.written_by_model). Any failure, timeout or odd reply leaves the offline result as
it was.

A summariser made once (`summariser`) remembers the model's answer for each question
(bot.core.digest.model_answers), keyed by all it was given, and where given a shared store
(the database) keeps it for every process too: a draft rebuilt after each of a facilitator's
edits, and the digest posted once it is approved, by whichever process, show the same
headlines and ask the model once. Only the parts of an answer that passed the checks below
are remembered, and every build checks them again against the answers as they are.

Unless turned off (ROUNDTABLE_LLM_GROUPING=false), the model also proposes which answers go
together (`Summariser.engine`, which build_digest uses): a general sentence model groups
answers by the things they mention, a language model can group them by what they say about
them. Only its numbers are used: replies the engine finds are not answers are never sent nor
themed, a group of one is no theme, at most seven are shown, and titles and quotes are still
taken from each group's own answers (then headlined as above). A reply that does not place at
least half the answers in groups, or any failure, leaves the engine's grouping; themes the
model grouped say so (ThemeView.grouped_by_model).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.core.digest.grounded import Grounding
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, QuoteView, ThemeView
from bot.core.digest.model_answers import (
    GROUPING,
    HEADLINES,
    KeptAnswers,
    SharedAnswers,
    Suggestions,
    grouping_key,
    headline_key,
    labels_from_json,
    suggestions_from_json,
    suggestions_json,
)
from bot.core.digest.theme_views import QUOTES_PER_THEME, Engine, proposing_engine, quote_text

log = logging.getLogger(__name__)

TITLE_MAX = 80
SUMMARY_MAX = 300
ANSWERS_SENT = 30
"""Answers sent per theme, each cut to ANSWER_SENT_CHARS: enough to name the theme."""
ANSWER_SENT_CHARS = 400
MIN_QUOTE = 15
"""A proposed quote shorter than this must be a whole answer (a word alone proves nothing)."""

SYSTEM = (
    "You help write a workshop synthesis. For each numbered theme you get the answers people "
    "gave. Reply with JSON only: {\"themes\": [{\"n\": <number>, \"title\": <at most 8 words, "
    "in the participants' own words>, \"summary\": <one sentence>, \"quotes\": [<2 or 3 answers "
    "copied exactly, character for character>]}]}. Never invent or reword a quote."
)


GROUPING_SYSTEM = (
    "You group the answers people gave to one workshop question into themes for a synthesis. "
    "A theme is one point several people make: what they propose, report or ask for, not "
    "only the things they mention. Reply with JSON only: {\"themes\": [{\"label\": <a few "
    "words>, \"answers\": [<answer numbers>]}]}. At most 7 themes, largest first, each of 2 "
    "answers or more; an answer in one theme at most; leave out answers that fit no theme."
)
PLACED_AT_LEAST = 0.5
"""A proposed grouping is used only when it places at least this share of the answers in
groups of two or more (a model that groups little has not grouped)."""
RETRY_AFTER = 60.0
"""Seconds without asking for groupings after the endpoint failed to answer (a build of
several questions then waits for one timeout, not one per question)."""


class SummariserFailed(Exception):
    """The endpoint could not be used; the offline result stands."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    model: str
    key: str | None = None
    timeout: float = 30.0
    """Seconds for one question's answer: a digest waits at most this long for a model that
    does not answer (the questions after it are not asked)."""
    proxy: str | None = None
    """The outbound web proxy to call it through (HTTPS_PROXY), if any."""

    @property
    def chat_url(self) -> str:
        base = self.url.rstrip("/")
        return base if "/chat/completions" in base else base + "/chat/completions"


class Summariser:
    """The model's part in digests, made once per process: called on a view, its headlines
    (`summarise`); its `engine` (None when grouping is off) proposes the grouping. Both
    remember the model's answers for as long as the summariser is kept, and keep them in
    `shared` (the database) where given, for every process."""

    def __init__(self, endpoint: Endpoint, grouping: bool = True,
                 shared: SharedAnswers | None = None) -> None:
        self.endpoint = endpoint
        self._headlines = KeptAnswers[Suggestions](HEADLINES, suggestions_from_json,
                                                   suggestions_json, shared)
        self._groupings = KeptAnswers[list[int]](GROUPING, labels_from_json, list, shared)
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self.engine: Engine | None = proposing_engine(self.propose) if grouping else None

    def __call__(self, view: DigestView) -> DigestView:
        return summarise(view, self.endpoint, self._headlines)

    def propose(self, texts: Sequence[str], question: str) -> list[int] | None:
        """The model's groups of `texts` (a number per answer, -1 for none), or None."""
        request = _grouping_request(texts, question)
        key = grouping_key(request)
        found, stale = self._groupings.recall(key)
        if found is not None and len(found) == len(texts):
            return list(found)
        stale = stale or found is not None
        with self._lock:
            if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER:
                return None
        try:
            # Temperature 0: another process (the scheduler, a second server) asking again
            # for the same answers should get the same groups.
            labels = _grouping(_ask(self.endpoint, request, GROUPING_SYSTEM, 0.0), len(texts))
        except SummariserFailed as exc:
            log.warning("the model's grouping was not used: %s", exc)
            if exc.__cause__ is not None:  # the endpoint is down or slow: stop asking a while
                with self._lock:
                    self._failed_at = time.monotonic()
            return None
        self._groupings.keep(key, labels, replace=stale)
        return labels


def summariser(endpoint: Endpoint, grouping: bool = True,
               shared: SharedAnswers | None = None) -> Summariser:
    """A summariser for build_digest(summariser=…), remembering the model's answers for as
    long as it is kept, and in `shared` too where given (the database), so that every process
    shows the same; with `grouping`, the model also proposes each question's groups."""
    return Summariser(endpoint, grouping, shared)


def _grouping_request(texts: Sequence[str], question: str) -> str:
    parts = [f"Question: {question}", "", "Answers:"]
    parts += [f"{n}. " + " ".join(text.split())[:ANSWER_SENT_CHARS]
              for n, text in enumerate(texts, start=1)]
    return "\n".join(parts)


def _grouping(content: str, count: int) -> list[int]:
    """A group number per answer from the model's JSON (-1: in none); numbers outside
    1..count, repeats and groups of one are dropped."""
    labels = [-1] * count
    groups = 0
    for item in _json_themes(content):
        numbers = item.get("answers") if isinstance(item, dict) else None
        if not isinstance(numbers, list):
            continue
        members = list(dict.fromkeys(
            n - 1 for n in numbers
            if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count
            and labels[n - 1] < 0))
        if len(members) < 2:
            continue
        for index in members:
            labels[index] = groups
        groups += 1
    placed = sum(label >= 0 for label in labels)
    if placed < PLACED_AT_LEAST * count:
        raise SummariserFailed(f"it placed {placed} of {count} answers in groups")
    return labels


def summarise(view: DigestView, endpoint: Endpoint,
              remembered: KeptAnswers[Suggestions] | None = None) -> DigestView:
    """The view with titles and summaries from the endpoint where it answered well (or
    where it answered well before, for the same themes, when `remembered` is given: then
    what passed the checks is kept there)."""
    prompts: list[PromptDigest] = []
    broken = False
    # In a named round the views carry people's names: no headline may hold one.
    names = ({a.by.split(" (")[0] for p in view.prompts for a in p.answers if a.by}
             if view.round.anonymity == "named" else set())
    for prompt in view.prompts:
        if prompt.kind != "text" or not prompt.themes:
            prompts.append(prompt)
            continue
        answers = {a.reply_id: a for a in prompt.answers}
        request = _request(prompt, answers)
        key = headline_key(view.round.id, prompt, request)
        suggestions, stale = (remembered.recall(key) if remembered is not None
                              else (None, False))
        if suggestions is not None:
            prompts.append(_rewrite(prompt, suggestions, answers, names)[0])
            continue
        if broken:
            prompts.append(prompt)
            continue
        try:
            suggestions = _suggestions(_ask(endpoint, request))
        except SummariserFailed as exc:
            log.warning("summariser not used for %s: %s", prompt.prompt_id, exc)
            broken = exc.__cause__ is not None  # the endpoint is down or slow: stop asking
            prompts.append(prompt)
            continue
        rewritten, passed = _rewrite(prompt, suggestions, answers, names)
        if remembered is not None:
            remembered.keep(key, passed, view.round.id, replace=stale)
        prompts.append(rewritten)
    return replace(view, prompts=prompts)


def _rewrite(prompt: PromptDigest, suggestions: Suggestions, answers: dict[str, AnswerView],
             names: set[str]) -> tuple[PromptDigest, Suggestions]:
    """The question with the suggestions that pass the checks applied; and those parts of
    the suggestions alone, by theme number (what is kept)."""
    applied = [_apply(theme, suggestions.get(n, {}), answers, names)
               for n, theme in enumerate(prompt.themes, start=1)]
    themes = [theme for theme, _passed in applied]
    titles = {r: t.title for t in themes for r in t.reply_ids}
    passed = {n: kept for n, (_theme, kept) in enumerate(applied, start=1) if kept}
    return replace(
        prompt,
        themes=themes,
        answers=[replace(a, theme=titles.get(a.reply_id)) for a in prompt.answers],
    ), passed


def _request(prompt: PromptDigest, answers: dict[str, AnswerView]) -> str:
    parts = [f"Question: {prompt.question}"]
    for n, theme in enumerate(prompt.themes, start=1):
        parts.append(f"\nTheme {n} (now called: {theme.title})")
        for reply_id in theme.reply_ids[:ANSWERS_SENT]:
            parts.append("- " + " ".join(answers[reply_id].text.split())[:ANSWER_SENT_CHARS])
    return "\n".join(parts)


def _ask(endpoint: Endpoint, content: str, system: str = SYSTEM,
         temperature: float = 0.2) -> str:
    body = json.dumps(
        {
            "model": endpoint.model,
            "temperature": temperature,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": content},
            ],
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    if endpoint.key:
        headers["Authorization"] = f"Bearer {endpoint.key}"
        headers["api-key"] = endpoint.key  # Azure OpenAI's header
    request = urllib.request.Request(endpoint.chat_url, data=body, headers=headers)
    opener = (urllib.request.build_opener(urllib.request.ProxyHandler(
        {"http": endpoint.proxy, "https": endpoint.proxy})) if endpoint.proxy
        else urllib.request.build_opener())
    try:
        with opener.open(request, timeout=endpoint.timeout) as response:
            payload = json.loads(response.read())
    except (OSError, urllib.error.URLError, TimeoutError, http.client.HTTPException) as exc:
        raise SummariserFailed(f"{exc.__class__.__name__}: {exc}") from exc
    except ValueError:
        raise SummariserFailed("the endpoint's answer is not JSON") from None
    try:
        content_out = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise SummariserFailed("no choices[0].message.content in the answer") from None
    if not isinstance(content_out, str):
        raise SummariserFailed("the model's content is not text")
    return content_out


def _json_themes(content: str) -> list[Any]:
    """The list of themes in the model's JSON, found even inside prose or a code fence."""
    match = re.search(r"\{.*\}", content, re.DOTALL)
    if match is None:
        raise SummariserFailed("no JSON object in the model's reply")
    try:
        data = json.loads(match.group(0))
    except ValueError:
        raise SummariserFailed("the model's JSON does not parse") from None
    themes = data.get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, list):
        raise SummariserFailed("no list of themes in the model's JSON")
    return themes


def _suggestions(content: str) -> Suggestions:
    """The model's proposals by theme number (checked when applied)."""
    out: Suggestions = {}
    for item in _json_themes(content):
        if isinstance(item, dict) and isinstance(item.get("n"), int):
            out[item["n"]] = item
    return out


def _apply(
    theme: ThemeView, suggestion: dict[str, Any], answers: dict[str, AnswerView],
    names: set[str],
) -> tuple[ThemeView, dict[str, Any]]:
    """The theme with what of the suggestion passes the checks; and those parts alone."""
    members = [answers[r] for r in theme.reply_ids
               if r in answers and not answers[r].noise and answers[r].quotable]
    ground = Grounding([a.text for a in members], names)
    title = _checked(suggestion.get("title"), TITLE_MAX, ground, "title")
    summary = _checked(suggestion.get("summary"), SUMMARY_MAX, ground, "summary")
    found = _verbatim_quotes(suggestion.get("quotes"), theme, answers)
    passed = {"title": title, "summary": summary, "quotes": [q for q, _a in found] or None}
    quotes = [QuoteView(a.reply_id, quote_text(a.text), a.by) for _q, a in found]
    return replace(theme, title=title or theme.title, summary=summary or theme.summary,
                   quotes=quotes or theme.quotes, written_by_model=bool(title or summary)
                   ), {name: value for name, value in passed.items() if value}


def _checked(value: object, limit: int, ground: Grounding, what: str) -> str | None:
    """The model's text where it stands the check, else None (the offline text stays)."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not 0 < len(text) <= limit:
        return None
    problem = ground.problem(text)
    if problem is not None:
        log.warning("the model's %s was not used: %s", what, problem)
        return None
    return text


def _verbatim_quotes(
    proposed: object, theme: ThemeView, answers: dict[str, AnswerView]
) -> list[tuple[str, AnswerView]]:
    """Proposed quotes found word for word in a (non-noise) answer of the theme, each with
    that answer (which is what is quoted); the rest are dropped."""
    if not isinstance(proposed, list):
        return []
    members = [answers[r] for r in theme.reply_ids
               if r in answers and not answers[r].noise and answers[r].quotable]
    chosen: list[tuple[str, AnswerView]] = []
    for quote in proposed:
        if not isinstance(quote, str) or not quote.strip():
            continue
        quote = quote.strip()
        source = next(
            (a for a in members if quote in a.text and len(quote) >= min(MIN_QUOTE, len(a.text))),
            None,
        )
        if source is not None and source not in [a for _q, a in chosen]:
            chosen.append((quote, source))
    return chosen[:QUOTES_PER_THEME]
