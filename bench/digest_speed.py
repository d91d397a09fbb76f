"""How long a digest takes, and how much memory, as the number of answers grows.

Usage: python bench/digest_speed.py [--sizes 1000 10000 100000] [--engine NAME|none] [--data CSV]
       python bench/digest_speed.py --sample-quality N [SAMPLE ...]

For each size, a fresh SQLite database gets a round of the seed pack with that many answers
(one in six a ranked vote), generated from the labelled file's vocabulary: each answer takes
the words of a labelled answer to the same question and mixes in words of another answer of the
same theme, so answers stay on a theme but are (almost) never identical. What is timed is
`build_digest` (load, noise filter, themes, votes, participation, changes) and then rendering
the Markdown export and the Slack messages. Each size runs in its own process so that its peak
memory (the resident set's high-water mark) is its own. Growth compares each size's build time
with the one before, beside what n log n would give. Each row also gives the load average when
it started and the theme engine's stages: importing it, loading the model (once per process),
embedding the sampled answers, clustering them, assigning the other answers, and "themes", the
engine's whole time (which holds the embedding, clustering and assignment).
Target: 10,000 answers under 10 s and 100,000 under 2 minutes, under 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "replies-labeled.csv"
SIZES = (1_000, 10_000, 100_000)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
VOTE_SHARE = 6  # one answer in six is a vote on the ranked question


def generate(data: Path, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(prompt_id, text) pairs: texts mixed from labelled answers of the same theme."""
    return [(prompt_id, text) for prompt_id, _, text in generate_labelled(data, n, seed)]


def generate_labelled(data: Path, n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(prompt_id, theme, text) triples: the generated answers with the theme they came from."""
    by_theme: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    with data.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_theme[(row["prompt_id"], row["theme"])].append(row["text"].split())
    themes = sorted(by_theme)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt_id, theme = rng.choice(themes)
        words = list(rng.choice(by_theme[(prompt_id, theme)]))
        other = rng.choice(by_theme[(prompt_id, theme)])
        for _swap in range(max(1, len(words) // 4)):
            if other:
                words.insert(rng.randrange(len(words) + 1), rng.choice(other))
        out.append((prompt_id, theme, " ".join(words)))
    return out


def sample_quality(data: Path, n: int, samples: list[int]) -> None:
    """How the themes of n generated answers match the themes they were generated from, for
    each size of the per-question sample that is embedded and clustered (spread.SAMPLE):
    mean adjusted Rand index and V-measure over the questions, as bench/digest_quality.py
    scores them (unthemed answers as one cluster). A check that the sample is big enough,
    on answers that are not the labelled file itself (though made from its words)."""
    from sklearn.metrics import adjusted_rand_score, v_measure_score

    from bot.core.digest import spread, themes
    from bot.core.packs import load_pack
    from prompts import PROMPTS_DIR

    pack = load_pack(PROMPTS_DIR / "sel-pharmacy-leadership.yaml")
    asked = {p.id: p.question for p in pack.prompts}
    rows = generate_labelled(data, n, seed=n % 97)
    print(f"themes of {n} generated answers against the themes they came from")
    print(f"{'sample':>6} {'ARI':>5} {'V':>5} {'themes':>6}  ARI per question")
    for size in samples:
        spread.SAMPLE = size
        aris, vs, found = [], [], 0
        for prompt in sorted({p for p, _, _ in rows}):
            mine = [(str(i), theme, text) for i, (p, theme, text) in enumerate(rows)
                    if p == prompt]
            result = themes.find_themes([themes.Answer(i, text) for i, _, text in mine],
                                        question=asked[prompt])
            label = {rid: k for k, t in enumerate(result.themes) for rid in t.reply_ids}
            predicted = [label.get(i, -1) for i, _, _ in mine]
            truth = [theme for _, theme, _ in mine]
            aris.append(adjusted_rand_score(truth, predicted))
            vs.append(v_measure_score(truth, predicted))
            found += len(result.themes)
        print(f"{size:>6} {sum(aris) / len(aris):5.2f} {sum(vs) / len(vs):5.2f} {found:>6}  "
              + " ".join(f"{a:.2f}" for a in aris), flush=True)


def one(n: int, data: Path, engine_name: str, second: bool = False) -> dict[str, Any]:
    """Build and render a digest of n answers in this process; the figures as a dict. With
    `second`, the round's second digest: a first was recorded when 80% of the answers were
    in, so this one also says what is new since (the new answers judged against its themes)."""
    from sqlalchemy import insert

    from bot.core.digest.build import build_digest
    from bot.core.digest.changes import record_digest
    from bot.core.digest.render_md import render_md
    from bot.core.digest.theme_views import Grouping, named_engine
    from bot.core.packs import load_pack
    from bot.core.people import Person
    from bot.core.rounds import RoundRequest, start_round
    from bot.slack.digest_blocks import digest_messages
    from prompts import PROMPTS_DIR
    from storage.db import make_engine, make_session_factory, transaction
    from storage.migrate import upgrade
    from storage.models import Participant, Reply

    pack = load_pack(PROMPTS_DIR / "sel-pharmacy-leadership.yaml")
    rank = next(p for p in pack.prompts if p.kind == "rank")
    folder = Path(tempfile.mkdtemp(prefix="roundtable-speed-"))
    engine = make_engine(f"sqlite:///{folder / 'speed.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(n)
    people = [
        Person(f"U{i:05d}", f"Person {i}", rng.choice(["community pharmacist", "PCN pharmacy lead",
               "practice pharmacist", "consultant pharmacist"]), f"Org {i % 97}")
        for i in range(max(10, min(1000, n // 10)))
    ]
    texts = generate(data, n - n // VOTE_SHARE)
    with transaction(sessions) as session:
        round_ = start_round(session, RoundRequest(pack, people, platform="slack"),
                             NOW - timedelta(days=7))
        ids = list(session.scalars(Participant.__table__.select().with_only_columns(
            Participant.id)))
        rows = [
            {"round_id": round_.id, "prompt_id": prompt_id, "participant_id": rng.choice(ids),
             "text": text, "source": "chat", "external_id": f"T{i}",
             "created_at": NOW - timedelta(seconds=n - i)}
            for i, (prompt_id, text) in enumerate(texts)
        ]
        rows += [
            {"round_id": round_.id, "prompt_id": rank.id, "participant_id": rng.choice(ids),
             "choices": rng.sample(list(rank.options), rank.picks), "source": "form",
             "external_id": f"V{i}", "created_at": NOW}
            for i in range(n // VOTE_SHARE)
        ]
        if second:  # a first digest of the first 80%, recorded, then the rest come in
            rng.shuffle(rows)
            session.execute(insert(Reply), rows[: len(rows) * 4 // 5])
            session.flush()
            first = build_digest(session, round_.id, NOW - timedelta(days=1))
            record_digest(session, round_.id, "week-1", first, NOW - timedelta(days=1))
            rows = rows[len(rows) * 4 // 5:]
        session.execute(insert(Reply), rows)
        round_id = round_.id
    if engine_name == "none":  # everything but the theme engine: what the digest itself costs
        themes = lambda answers: Grouping([], [a.reply_id for a in answers])  # noqa: E731
    else:
        themes = named_engine(engine_name)
    stages = Stages()
    start = time.perf_counter()
    if engine_name != "none":
        stages.instrument()  # imports the engine: its import time is part of the build
    with sessions() as session:
        view = build_digest(session, round_id, NOW, engine=themes)
    built = time.perf_counter() - start
    start = time.perf_counter()
    render_md(view)
    messages = digest_messages(view, charts=False)
    rendered = time.perf_counter() - start
    engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "answers": view.answer_count,
        "themes": sum(len(p.themes) for p in view.prompts),
        "build_s": built,
        "render_s": rendered,
        "peak_mb": peak_kb / 1024,
        "messages": len(messages),
        "stages": stages.seconds,
    }


class Stages:
    """Seconds spent in the theme engine's stages, by wrapping its functions in place."""

    WRAPPED = (
        ("import", None, None),
        ("load model", "bot.core.digest.embeddings", "default_encoder"),
        ("embed", "bot.core.digest.embeddings", "pool"),
        ("non-answers", "bot.core.digest.themes", "_not_answers"),
        ("cluster", "bot.core.digest.clustering", "consensus_labels"),
        ("assign", "bot.core.digest.themes", "_assign_rest"),
        ("themes", "bot.core.digest.themes", "find_themes"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def instrument(self) -> None:
        import importlib

        start = time.perf_counter()
        importlib.import_module("bot.core.digest.themes")
        self.seconds["import"] = time.perf_counter() - start
        for stage, module_name, attr in self.WRAPPED[1:]:
            assert module_name is not None and attr is not None
            module = importlib.import_module(module_name)
            setattr(module, attr, self._timed(stage, getattr(module, attr)))

    def _timed(self, stage: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

        return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--engine", default="default",
        help="theme engine (themes.ENGINES), or none to time the digest without themes",
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--second", action="store_true",
                        help="time a round's second digest (what is new since the first, "
                             "recorded at 80%% of the answers)")
    parser.add_argument(
        "--sample-quality", type=int, nargs="+", metavar=("N", "SAMPLE"),
        help="instead of timing: score the themes of N generated answers against the themes "
             "they came from, for each per-question sample size given (e.g. 10000 100 150)",
    )
    args = parser.parse_args()
    if args.sample_quality:
        n, *samples = args.sample_quality
        sample_quality(args.data, n, samples or [100, 150])
        return
    if args.one:
        print(json.dumps(one(args.one, args.data, args.engine, args.second)))
        return
    print(f"digest speed, engine {args.engine!r}, answers from {args.data.name}"
          + (", a round's second digest" if args.second else ""))
    print(f"{'answers':>8} {'themes':>6} {'build s':>8} {'render s':>8} {'peak MB':>8} "
          f"{'growth':>7} {'n log n':>7} {'load':>5}  theme engine stages, s")
    previous: tuple[int, float] | None = None
    for n in args.sizes:
        load = _load_average()
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--engine", args.engine,
             "--data", str(args.data), *(["--second"] if args.second else [])],
            capture_output=True, text=True, check=False,
        )
        if child.returncode != 0:
            print(f"{n:>8} failed:\n{child.stderr[-2000:]}")
            continue
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        growth = expected = ""
        if previous is not None:
            m, t = previous
            growth = f"{figures['build_s'] / t:.1f}x"
            expected = f"{n * math.log(n) / (m * math.log(m)):.1f}x"
        stages = ", ".join(f"{k} {v:.1f}" for k, v in figures["stages"].items())
        print(f"{figures['answers']:>8} {figures['themes']:>6} {figures['build_s']:>8.1f} "
              f"{figures['render_s']:>8.2f} {figures['peak_mb']:>8.0f} {growth:>7} "
              f"{expected:>7} {load:>5}  {stages}", flush=True)
        previous = (n, figures["build_s"])


def _load_average() -> str:
    """The one-minute load average when a size starts (other work on the machine slows every
    figure; on 2 cores, a load above 2 means this run did not have them to itself)."""
    try:
        return Path("/proc/loadavg").read_text(encoding="utf-8").split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
