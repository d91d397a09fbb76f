"""Rounds with answers for digest tests, and the nasty things people type."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.core.digest.lexicon import says_nothing
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, RoundInfo, ThemeView
from bot.core.digest.ranking import borda
from bot.core.digest.theme_views import Engine, named_engine, theme_views
from bot.core.people import Person, find_participant
from bot.core.replies import record_reply, record_vote
from bot.core.rounds import RoundRequest, start_round
from storage.models import Round
from tests.helpers import seed_pack

NASTY = [
    "<!channel> please read this, it matters for everyone",
    "<!here> the ICS board has to own medicines leadership",
    "<@U0123ABC|amara> said the LPC must be in the room from the start",
    "Read <https://evil.example/x|this guidance> before the ICS board meets",
    "Fish & chips < champagne > beer &amp; &lt;b&gt; when contractors are released",
    "*bold* _italic_ ~strike~ `code` ```block``` protected time for leadership",
    "# Heading\n- list item\n1. numbered\n> quoted line about protected time",
    "<script>alert('x')</script> executive backing and trust",
    "=HYPERLINK(\"http://evil.example\",\"click\") protected time",
    "<!subteam^S012|@pharmacists> <#C0123|leadership> protected time please",
]
LONG = ("Protected time and space for leadership, " * 200).strip()

TEXT_PROMPTS = ("done-well", "bought-in", "future-leaders", "best-support", "anti-governance")
RANK_PROMPT = "support-factors"


@dataclass(frozen=True)
class Said:
    person: str
    prompt_id: str
    text: str | None = None
    choices: tuple[str, ...] = ()
    source: str = "chat"


def round_with(
    session: Session,
    now: datetime,
    people: Sequence[Person],
    said: Sequence[Said],
    anonymity: str = "named",
) -> Round:
    """Start a round of the seed pack for `people` and record what they said, in order."""
    round_ = start_round(
        session,
        RoundRequest(seed_pack(), people, anonymity=anonymity,  # type: ignore[arg-type]
                     platform="slack"),
        now - timedelta(days=7),
    )
    for n, item in enumerate(said, start=1):
        person = find_participant(session, item.person, "slack")
        assert person is not None, item.person
        when = now - timedelta(days=7) + timedelta(minutes=n)
        if item.text is not None:
            record_reply(
                session, round_.id, item.prompt_id, person, item.text, when,
                source=item.source, external_id=f"T{n}",
            )
        else:
            record_vote(
                session, round_.id, item.prompt_id, person, list(item.choices), when,
                external_id=f"V{n}",
            )
    session.flush()
    return round_


def view_of(
    answers: dict[str, list[str]], ballots: Sequence[Sequence[str]] = (), engine: str = "default",
    grouping: Engine | None = None,
) -> DigestView:
    """A digest view straight from texts (no database): the theme engine (or a `grouping`
    given by the test), Borda votes."""
    pack = seed_pack()
    prompts = []
    n = 0
    for prompt in pack.prompts:
        if prompt.kind == "text":
            views = []
            for text in answers.get(prompt.id, []):
                n += 1
                views.append(
                    AnswerView(f"R{n}", text, f"Person {n % 7}", None, n % 5 == 0,
                               noise=says_nothing(text))
                )
            built = theme_views(views, "named", grouping or named_engine(engine),
                                prompt.question)
            themes, unthemed, views = built.themes, built.unthemed, built.marked(views)
            noise = sum(a.noise for a in views)
            prompts.append(
                PromptDigest(prompt.id, prompt.section, prompt.kind, prompt.question,
                             len(views) - noise, themes=themes, unthemed_reply_ids=unthemed,
                             answers=views, not_answer_count=noise)
            )
        else:
            ranking = borda(ballots, prompt.options, prompt.picks)
            prompts.append(
                PromptDigest(prompt.id, prompt.section, prompt.kind, prompt.question,
                             len(ballots), ranking=ranking)
            )
    info = RoundInfo(1, pack.id, pack.title, pack.intro, pack.workshop_date.isoformat(), "open",
                     "named", "2026-11-16T10:00:00+00:00", None, "2026-11-23T10:00:00+00:00")
    participation = {
        "invited": 1200, "answered_any": 900, "answered_all": 400,
        "by_role": {f"role {i}": {"invited": 100, "answered_any": 75, "answered_all": 30}
                    for i in range(12)},
        "by_organisation": {}, "silent_roles": ["community pharmacist"],
    }
    return DigestView(info, participation, prompts)


def demo_people() -> list[Person]:
    import csv

    from bot.demo import HERE

    with (HERE / "people.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Person(r["participant"], r["name"], r["role"], r["organisation"], r["timezone"])
            for r in csv.DictReader(handle)
        ]


def demo_said(extra: bool = True) -> list[Said]:
    """The demo's answers and votes, some said in the room, plus nasty, long and empty ones."""
    import csv

    from bot.demo import HERE

    said = []
    with (HERE / "answers.csv").open(encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            if row["prompt_id"] == RANK_PROMPT:
                said.append(Said(row["participant"], row["prompt_id"],
                                 choices=tuple(c.strip() for c in row["text"].split(";"))))
            else:
                said.append(Said(row["participant"], row["prompt_id"], row["text"],
                                 source="import" if n % 4 == 0 else "chat"))
    if extra:
        people = [p.platform_user_id for p in demo_people()]
        for n, text in enumerate([*NASTY, LONG, "no comment", "thanks"]):
            said.append(Said(people[n % len(people)], TEXT_PROMPTS[n % 2 + 3], text))
    return said


def summed_up_from(theme: ThemeView, prompt: PromptDigest) -> bool:
    """Every clause the theme's summary quotes ("they also say “…”") is words of an answer the
    theme holds now."""
    held = set(theme.reply_ids)
    texts = [a.text for a in prompt.answers if a.reply_id in held]
    return all(any(clause in text for text in texts)
               for clause in re.findall(r"“([^”]*)”", theme.summary))
