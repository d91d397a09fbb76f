"""How well the theme engine recovers the themes a careful reader gave labelled answers.

Usage: python bench/digest_quality.py [--data CSV ...] [--engine NAME ...] [--no-loqo] [--folds DIR]
                                      [--resample N]

Sets scored (all unless --data names some): the sample file ``../shared/data/
replies-labeled.csv`` (its questions from the seed pack), on which every parameter was
chosen, and each set under ``bench/data/`` (``*.csv`` beside a ``*-themes.csv``; questions
in ``bench/data/*-questions.csv``), written for this. ``STATUS`` says which sets were looked
at while choosing the engine and which were kept unseen until scored once (the table prints
it beside each set; docs/theme-engine.md tells the history).
A file of one's own (--data) needs the columns id, prompt_id, theme and text (role and
question are read when present; a spreadsheet's byte-order mark and column names in capitals
are fine); its non-answers are labelled "noise", or as --non-answer-label says. Without a
question column, each question's wording comes from a ``*questions*.csv`` beside it
(prompt_id, question), else from the seed pack and bench/data, else the engine reads the
answers without it.
For each engine and question the answers go through ``find_themes`` exactly as in a digest
(with the question's wording), and the result is compared with the labels:

- adjusted Rand index and V-measure (sklearn). Noise is scored as a cluster of its own on both
  sides: the labelled non-answers ("noise") form one class, and every answer the engine put in
  no shown theme (non-answers, other answers) forms one predicted cluster.
- themes recovered: a labelled theme (noise excluded) is recovered when more than half of its
  answers sit in one digest theme and more than half of that theme's answers are its own.
- non-answers quoted: labelled non-answers that sit in a theme (and so could be quoted); in
  the overall table also how many of them are among their theme's quotes, what a reader sees;
  real answers set aside: labelled answers the engine called "not an answer".
- themes shown, against the labelled number.

"overall" is the mean ARI and V-measure over the set's questions and pooled counts. Unless
--no-loqo, the default engine's clustering knobs are also chosen leave-one-question-out on
the sample file: best mean ARI on four questions, scored on the fifth; those held-out figures
are the honest estimate for a question the engine has not seen. --resample N scores again on
N random 85% subsets of the sample file's answers, to show how far figures move.
Runs offline: the model comes from an installed package or ROUNDTABLE_EMBEDDING_MODEL.

--llm-url URL [--llm-model NAME] scores a language model's grouping instead, as a digest gets
it with ROUNDTABLE_LLM_URL (the key, if any, from ROUNDTABLE_LLM_KEY): the same find_themes,
with the model proposing the groups. No such model can run on the project's machine, so no
figure of it is recorded here; a deployer can measure theirs on these sets.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's engine, not whichever one is installed

from bot.core.digest import clustering  # noqa: E402
from bot.core.digest.embeddings import ModelUnavailable  # noqa: E402
from bot.core.digest.summariser import Endpoint, summariser  # noqa: E402
from bot.core.digest.themes import ENGINES, Answer, Proposer, find_themes  # noqa: E402
from prompts import PROMPTS_DIR  # noqa: E402

SAMPLE_DATA = ROOT.parent / "shared" / "data" / "replies-labeled.csv"
SETS = ROOT / "bench" / "data"
UNTHEMED = "(unthemed)"
LOOKED_AT = "looked at while choosing"
FIRST_5_DEC = ("scored once unseen on 5 Dec, then used to fit the non-answer classifier; "
               "first score")
SECOND_5_DEC = ("scored once unseen on 5 Dec (second batch), then its quoted non-answers were "
                "read; first score")
THIRD_5_DEC = "scored once unseen on 5 Dec (third batch); first score"
FOURTH_5_DEC = "scored once unseen on 5 Dec (fourth batch); first score"
FIFTH_5_DEC = "scored once unseen on 5 Dec (fifth batch); first score"
SIXTH_5_DEC = ("scored once unseen on 5 Dec (sixth batch), by the engine with fine-tuned layers; "
               "first score")
SEVENTH_5_DEC = ("scored once unseen on 5 Dec (seventh batch), by the shipped engine with "
                 "fine-tuned layers; first score")


def _held_out(batch: str, layers: str = "fine-tuned on 40 sets") -> str:
    return (f"scored once unseen on 5 Dec ({batch} batch), by the engine with all six layers "
            f"{layers}; first score; never trained on")


EIGHTH_5_DEC, NINTH_5_DEC = _held_out("eighth"), _held_out("ninth")
TENTH_5_DEC = _held_out("tenth", "fine-tuned on 49 sets, non-answers included")
ELEVENTH_5_DEC = _held_out("eleventh", "fine-tuned on 49 sets, non-answers included, and the "
                           "novelty knobs chosen again")
TWELFTH_5_DEC = _held_out("twelfth", "fine-tuned on 49 sets, non-answers included (the shipped "
                         "engine, chosen over a candidate trained on 67 sets)")
THIRTEENTH_5_DEC = _held_out("thirteenth", "fine-tuned on 49 sets, non-answers included (the "
                             "shipped engine, unchanged since the seventh session)")
TRAINING_BATCH = ("written on 5 Dec as training data for the fine-tuned layers and the non-answer "
                  "classifier; never scored unseen")
NOT_SHIPPED_BATCH = ("written on 5 Dec (eighth session) as training data; the layers trained with "
                     "it did not ship, so the shipped engine never trained on it and nothing "
                     "shipped was chosen on it")
TRAINED_ON = "; in the fine-tuned layers' training data"
UNSEEN = "unseen: never scored"
SCORED_8_DEC = ("scored once unseen on 8 Dec, by the engine as shipped at 2fd0228 (all six layers "
                "fine-tuned on 49 sets, non-answers included); first score; never trained on")
STATUS = {
    "sample file": LOOKED_AT,
    "2026-12-04-pharmacy-first": LOOKED_AT,
    "2026-12-04-keep-staff": LOOKED_AT,
    "2026-12-04-shortages": LOOKED_AT,
    "2026-12-04-inequalities": LOOKED_AT + " (round 2; unseen in round 1)",
    "2026-12-04-discharge": LOOKED_AT + " (after its one score in round 2)",
    "2026-12-04-prescribers": LOOKED_AT + " (after its one score in round 2)",
    "2026-12-04-near-misses": LOOKED_AT + " (after its one score in round 2)",
    "2026-12-04-blood-pressure": LOOKED_AT + " (after its one unseen score in round 2)",
    "2026-12-04-medicines-waste": LOOKED_AT + " (after its one unseen score in round 2)",
    "2026-12-05-technician-skills": FIRST_5_DEC + " (0.20)",
    "2026-12-05-shared-records": FIRST_5_DEC + " (0.18)",
    "2026-12-05-mental-health": FIRST_5_DEC + " (0.24)",
    "2026-12-05b-antibiotics": SECOND_5_DEC + " (0.34)",
    "2026-12-05b-trainees": SECOND_5_DEC + " (0.31)",
    "2026-12-05b-accessibility": SECOND_5_DEC + " (0.30)",
    "2026-12-05c-weight-loss": THIRD_5_DEC,
    "2026-12-05c-stop-smoking": THIRD_5_DEC,
    "2026-12-05c-closures": THIRD_5_DEC,
    "2026-12-05d-vaccination": FOURTH_5_DEC,
    "2026-12-05d-staff-abuse": FOURTH_5_DEC,
    "2026-12-05d-care-home-reviews": FOURTH_5_DEC,
    "2026-12-05e-inhaler-carbon": FIFTH_5_DEC,
    "2026-12-05e-controlled-drugs": FIFTH_5_DEC,
    "2026-12-05e-outpatient-scripts": FIFTH_5_DEC,
    "2026-12-05f-cost-of-living": SIXTH_5_DEC,
    "2026-12-05f-sexual-health": SIXTH_5_DEC,
    "2026-12-05f-end-of-life": SIXTH_5_DEC,
    "2026-12-05g-interpreting": SEVENTH_5_DEC,
    "2026-12-05g-rotations": SEVENTH_5_DEC,
    "2026-12-05g-school-medicines": SEVENTH_5_DEC,
    "2026-12-05h-prison-release": EIGHTH_5_DEC,
    "2026-12-05h-smr-sharing": EIGHTH_5_DEC,
    "2026-12-05h-safeguarding": EIGHTH_5_DEC,
    "2026-12-05l-hrt": NINTH_5_DEC,
    "2026-12-05l-learning-disabilities": NINTH_5_DEC,
    "2026-12-05l-social-prescribing": NINTH_5_DEC,
    "2026-12-05m-pain": TENTH_5_DEC,
    "2026-12-05m-locums": TENTH_5_DEC,
    "2026-12-05m-heat": TENTH_5_DEC,
    "2026-12-05n-supervised-consumption": ELEVENTH_5_DEC,
    "2026-12-05n-diabetes": ELEVENTH_5_DEC,
    "2026-12-05n-out-of-hours": ELEVENTH_5_DEC,
    "2026-12-05r-sleep": TWELFTH_5_DEC,
    "2026-12-05r-alcohol": TWELFTH_5_DEC,
    "2026-12-05r-refugees": TWELFTH_5_DEC,
    "2026-12-05w-compliance-aids": THIRTEENTH_5_DEC,
    "2026-12-05w-skin-conditions": THIRTEENTH_5_DEC,
    "2026-12-05w-team-communication": THIRTEENTH_5_DEC,
    "2026-12-05z-sickle-cell": SCORED_8_DEC,
    "2026-12-05z-pregnancy-medicines": SCORED_8_DEC,
    "2026-12-05z-admin-burden": SCORED_8_DEC,
    "2026-12-06a-parkinsons": SCORED_8_DEC,
    "2026-12-06a-hepatitis-c": SCORED_8_DEC,
    "2026-12-06a-kidney-disease": SCORED_8_DEC,
    "2026-12-06b-men-health": SCORED_8_DEC,
    "2026-12-06b-stoma-care": SCORED_8_DEC,
    "2026-12-06b-hay-fever": SCORED_8_DEC,
    "2026-12-06c-epilepsy": SCORED_8_DEC,
    "2026-12-06c-heart-failure": SCORED_8_DEC,
    "2026-12-06c-osteoporosis": SCORED_8_DEC,
    # batch 06d shares its topics with training batches o and p: new voices on trained topics
    "2026-12-06d-anticoagulants": SCORED_8_DEC,
    "2026-12-06d-cancer-signs": SCORED_8_DEC,
    "2026-12-06d-unpaid-carers": SCORED_8_DEC,
    "2026-12-06e-high-risk-monitoring": SCORED_8_DEC,
    "2026-12-06e-migraine": SCORED_8_DEC,
    "2026-12-06e-period-health": SCORED_8_DEC,
    # written on 8 Dec (twenty-ninth session) after the eighteen above were scored: the sets
    # a change to the engine is scored on once
    "2026-12-08a-housebound": UNSEEN,
    "2026-12-08a-joint-posts": UNSEEN,
    "2026-12-08a-long-covid": UNSEEN,
    **{f"2026-12-05{batch}-{name}": status for batch, status, names in (
        ("i", TRAINING_BATCH, ("dementia", "homelessness", "automation")),
        ("j", TRAINING_BATCH, ("ramadan", "research", "falls")),
        ("k", TRAINING_BATCH, ("nhs-app", "new-medicines", "safety-alerts")),
        ("o", TRAINING_BATCH, ("contraception", "anticoagulation", "cancer")),
        ("p", TRAINING_BATCH, ("virtual-wards", "carers", "children")),
        ("q", TRAINING_BATCH, ("gp-relations", "pharmacogenomics", "allergy")),
        ("s", NOT_SHIPPED_BATCH, ("travel-health", "eye-care", "veterans")),
        ("t", NOT_SHIPPED_BATCH, ("rural-delivery", "gambling-harm", "asthma-reviews")),
        ("u", NOT_SHIPPED_BATCH, ("consultation-rooms", "lgbtq-health", "sickness-absence")),
        ("v", NOT_SHIPPED_BATCH, ("deprescribing", "eps-outages", "leadership-development")),
        ("x", NOT_SHIPPED_BATCH, ("dental-pain", "patient-feedback", "winter-pressures")),
        ("y", NOT_SHIPPED_BATCH, ("clinical-supervision", "remote-consultations", "vaping")))
       for name in names},
}
NEVER_TRAINED = ("2026-12-05h-", "2026-12-05l-", "2026-12-05m-", "2026-12-05n-",
                 "2026-12-05r-", "2026-12-05w-", "2026-12-05z-", "2026-12-06a-",
                 "2026-12-06b-", "2026-12-06c-", "2026-12-06d-", "2026-12-06e-",
                 "2026-12-08a-", *(f"2026-12-05{b}-" for b in "stuvxy"))
"""Sets kept to score what is trained (the fine-tuned layers, the non-answer classifier): never
trained on, so the shipped files can be built again as they are. (The layers of b7ba7f3 kept
the sixth and seventh batches so; each was scored once and is training data since.) Batches
s to y were written as training data, but the layers trained with them gave no gain out of
fold and did not ship (docs/theme-engine.md, eighth session): the shipped files were built
without them."""
NEVER_TRAINED_DECIDE = ("2026-12-05h-", "2026-12-05l-", "2026-12-05m-", "2026-12-05n-",
                        "2026-12-05r-", *(f"2026-12-05{b}-" for b in "stuvxy"))
"""The never-trained batches experiments choose on (33 sets: no layer trained on them, and
none is kept unseen): what bench/weight_mix.py and bench/new_theme_rules.py read by default."""

STATUS.update({name: status + TRAINED_ON for name, status in STATUS.items()
               if status != UNSEEN and not name.startswith(NEVER_TRAINED)})
"""Sets marked UNSEEN are left out unless named with --data: they are kept for scoring a
changed engine once, and a run over everything must not look at them first. Every other set
but NEVER_TRAINED trained the engine's fine-tuned layers (bench/finetune_folds.py): their
figures are in-sample."""


def data_files() -> list[Path]:
    """The sample file, then every labelled set under bench/data (by name) but the unseen."""
    return [SAMPLE_DATA, *sorted(p for p in SETS.glob("*.csv")
                                 if not p.stem.endswith(("-themes", "-questions"))
                                 and STATUS.get(p.stem) != UNSEEN)]


def training_files() -> list[Path]:
    """What the trained parts learn from: every file `data_files` gives but NEVER_TRAINED."""
    return [p for p in data_files() if not p.stem.startswith(NEVER_TRAINED)]


def set_name(path: Path) -> str:
    """How the bench names a labelled file: "sample file", or its stem."""
    return "sample file" if path.resolve() == SAMPLE_DATA.resolve() else path.stem


def questions() -> dict[str, str]:
    """Each prompt id's wording: the seed pack's, and bench/data's questions files."""
    import yaml

    found = {}
    for pack in PROMPTS_DIR.glob("*.yaml"):
        for prompt in yaml.safe_load(pack.read_text(encoding="utf-8")).get("prompts", []):
            found[prompt["id"]] = prompt["question"]
    for listed in SETS.glob("*-questions.csv"):
        with listed.open(newline="", encoding="utf-8") as f:
            found.update({row["prompt_id"]: row["question"] for row in csv.DictReader(f)})
    return found


QUESTIONS: dict[str, str] = {}
REQUIRED = ("id", "prompt_id", "theme", "text")
NON_ANSWER = "noise"
"""The label of a non-answer in every labelled file here; --non-answer-label names another."""
NON_ANSWER_LABELS: set[str] = {NON_ANSWER}


class UnreadableSet(Exception):
    """A labelled file that cannot be scored, and why, in a line."""


def load(path: Path) -> dict[str, list[dict[str, str]]]:
    """Rows of the labelled file grouped by prompt_id, in file order.

    Read as a spreadsheet may save it: a byte-order mark, column names in any case or with
    spaces around them, columns beyond the four needed (id, prompt_id, theme, text; role
    and question are read when present). A non-answer's label (NON_ANSWER_LABELS, any case)
    becomes "noise". A question's wording comes from its rows' ``question`` column, else from
    a ``*questions*.csv`` beside the file, else from the seed pack and bench/data."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            names = {name: name.strip().lower() for name in reader.fieldnames or []}
            missing = [c for c in REQUIRED if c not in names.values()]
            if missing:
                raise UnreadableSet(f"{path}: no column {', '.join(missing)} (a labelled "
                                    f"file has {', '.join(REQUIRED)}; role and question "
                                    "are optional)")
            rows = [{names[k]: (v or "").strip() for k, v in row.items() if k in names}
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableSet(f"{path}: {exc}") from exc
    by_prompt: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["theme"].lower() in NON_ANSWER_LABELS:
            row["theme"] = NON_ANSWER
        by_prompt[row["prompt_id"]].append(row)
        if row.get("question"):
            QUESTIONS[row["prompt_id"]] = row["question"]
    for listed in sorted(path.parent.glob("*questions*.csv")):
        if listed.resolve() != path.resolve():
            with listed.open(newline="", encoding="utf-8-sig") as f:
                for row in csv.DictReader(f):
                    if row.get("prompt_id") and row.get("question"):
                        QUESTIONS.setdefault(row["prompt_id"], row["question"])
    return dict(by_prompt)


PROPOSE: Proposer | None = None
"""With --llm-url: the language model's grouping, as a digest gets it."""


def model_grouping(url: str, model: str) -> Proposer:
    """The endpoint's grouping of a question's answers, as a digest asks for it."""
    asked = summariser(Endpoint(url, model, os.environ.get("ROUNDTABLE_LLM_KEY"), timeout=120))

    def propose(answers: Sequence[Answer], question: str) -> list[int] | None:
        return asked.propose([a.text for a in answers], question)
    return propose


def predicted_labels(rows: Sequence[dict[str, str]], engine: str
                     ) -> tuple[list[str], set[str], set[str]]:
    """Each row's digest theme (or UNTHEMED), the ids the engine called non-answers, and the
    ids its themes quote."""
    answers = [Answer(r["id"], r["text"], r.get("role") or None) for r in rows]
    question = QUESTIONS.get(rows[0]["prompt_id"], "") if rows else ""
    result = find_themes(answers, question=question, engine=engine, propose=PROPOSE)
    label = {rid: f"t{n}" for n, theme in enumerate(result.themes) for rid in theme.reply_ids}
    quoted = {rid for theme in result.themes for rid in theme.quote_ids}
    return [label.get(r["id"], UNTHEMED) for r in rows], set(result.non_answer_ids), quoted


def recovered(truth: Sequence[str], predicted: Sequence[str]) -> tuple[int, int]:
    """(labelled themes recovered, labelled themes), noise excluded."""
    sizes = Counter(predicted)
    hits = total = 0
    for theme in sorted(set(truth) - {"noise"}):
        total += 1
        members = [p for t, p in zip(truth, predicted, strict=True) if t == theme]
        cluster, n = Counter(members).most_common(1)[0]
        if cluster != UNTHEMED and 2 * n > len(members) and 2 * n > sizes[cluster]:
            hits += 1
    return hits, total


def score(truth: Sequence[str], predicted: Sequence[str], refused: Sequence[bool],
          quoted: Sequence[bool] = ()) -> dict[str, float]:
    hits, total = recovered(truth, predicted)
    pairs = list(zip(truth, predicted, refused, strict=True))
    return {"ari": adjusted_rand_score(truth, predicted),
            "v": v_measure_score(truth, predicted), "hits": hits, "total": total,
            "k": len(set(predicted) - {UNTHEMED}), "k_true": total,
            "quoted": sum(t == "noise" and p != UNTHEMED for t, p, _ in pairs),
            "among_quotes": sum(t == "noise" and q for t, q in
                                zip(truth, quoted or [False] * len(truth), strict=True)),
            "set_aside": sum(t != "noise" and r for t, _, r in pairs),
            "noise": sum(t == "noise" for t in truth),
            "caught": sum(t == "noise" and r for t, _, r in pairs)}


def run_engine(engine: str, data: dict[str, list[dict[str, str]]]) -> dict[str, dict[str, float]]:
    rows_out = {}
    for prompt, rows in data.items():
        predicted, refused, quoted = predicted_labels(rows, engine)
        rows_out[prompt] = score([r["theme"] for r in rows], predicted,
                                 [r["id"] in refused for r in rows],
                                 [r["id"] in quoted for r in rows])
    overall = {key: float(sum(s[key] for s in rows_out.values()))
               for key in ("hits", "total", "k", "k_true", "quoted", "among_quotes",
                           "set_aside", "noise", "caught")}
    overall["ari"] = float(np.mean([s["ari"] for s in rows_out.values()]))
    overall["v"] = float(np.mean([s["v"] for s in rows_out.values()]))
    rows_out["overall"] = overall
    return rows_out


def print_table(name: str, engine: str, results: dict[str, dict[str, float]],
                seconds: float) -> None:
    print(f"\n## {name}, engine {engine}  ({seconds:.1f} s)")
    print("| question | ARI | V | themes recovered | themes shown (labelled) | "
          "non-answers set aside | non-answers quoted | real answers set aside |")
    print("|---|---|---|---|---|---|---|---|")
    for prompt, s in results.items():
        share = s["hits"] / s["total"] if s["total"] else 0.0
        print(f"| {prompt} | {s['ari']:.2f} | {s['v']:.2f} | "
              f"{int(s['hits'])}/{int(s['total'])} ({share:.0%}) | "
              f"{int(s['k'])} ({int(s['k_true'])}) | {int(s['caught'])}/{int(s['noise'])} | "
              f"{int(s['quoted'])} | {int(s['set_aside'])} |")


LOQO_CAP = (7, 10, 14, 80)  # numbers of clusters tried: 2 up to n / 3 and this cap
LOQO_CUT = (0.4, 0.5, 0.6)  # the consensus cut
LOQO_MERGE: tuple[int | None, ...] = (None, 7)  # merge groups beyond this many (None: no)
Setting = tuple[int, float, int | None]
GRID: list[Setting] = [(d, c, m) for d in LOQO_CAP for c in LOQO_CUT for m in LOQO_MERGE]


def shipped_setting() -> Setting:
    return clustering.K_CAP, clustering.MAJORITY, clustering.MERGE_TO


@contextmanager
def knobs(setting: Setting) -> Iterator[None]:
    """The clustering's knobs set to `setting` for a run, then put back."""
    shipped = shipped_setting()
    clustering.K_CAP, clustering.MAJORITY, clustering.MERGE_TO = setting
    try:
        yield
    finally:
        clustering.K_CAP, clustering.MAJORITY, clustering.MERGE_TO = shipped


def loqo(data: dict[str, list[dict[str, str]]], engine: str = "default") -> None:
    """Leave-one-question-out choice of the clustering's two knobs (the largest number of
    clusters tried, as a share of the answers, and the consensus cut), each setting run
    through find_themes exactly as the engine runs: chosen by mean ARI on the other
    questions, scored on the held-out one. These held-out figures are the honest ones."""
    shipped = shipped_setting()
    result: dict[str, dict[Setting, tuple[float, int, int]]] = defaultdict(dict)
    try:
        for setting in GRID:
            with knobs(setting):
                scored = run_engine(engine, data)
            for prompt, s in scored.items():
                if prompt != "overall":
                    result[prompt][setting] = (s["ari"], int(s["hits"]), int(s["total"]))
    except ModelUnavailable as exc:
        print(f"\n(leave-one-question-out skipped: {exc})")
        return
    print(f"\n## leave-one-question-out on the sample file: k up to {list(LOQO_CAP)} "
          f"x consensus cut {list(LOQO_CUT)} x merge beyond {list(LOQO_MERGE)} groups")
    print("| held-out question | chosen on the others | held-out ARI | recovered | "
          "shipped values: ARI | recovered |")
    print("|---|---|---|---|---|---|")
    held: list[tuple[float, int, int]] = []
    for prompt in result:
        others = [p for p in result if p != prompt]
        chosen = max(GRID, key=lambda g: (np.mean([result[p][g][0] for p in others]),
                                          g == shipped))
        held.append(result[prompt][chosen])
        a, h, t = result[prompt][chosen]
        fa, fh, ft = result[prompt][shipped]
        print(f"| {prompt} | {_setting(chosen)} | {a:.2f} | {h}/{t} | "
              f"{fa:.2f} | {fh}/{ft} |")
    hits = sum(h for _, h, _ in held)
    total = sum(t for _, _, t in held)
    print(f"| **mean / pooled** | | **{np.mean([a for a, _, _ in held]):.2f}** | "
          f"**{hits}/{total} ({hits / total:.0%})** | "
          f"{np.mean([result[p][shipped][0] for p in result]):.2f} | "
          f"{sum(result[p][shipped][1] for p in result)}/{total} |")
    print("| setting, all five questions | mean ARI | recovered |")
    print("|---|---|---|")
    for g in GRID:
        print(f"| {_setting(g)} | {np.mean([result[p][g][0] for p in result]):.3f} | "
              f"{sum(result[p][g][1] for p in result)}/{total} |")
    best = max(GRID, key=lambda g: np.mean([result[p][g][0] for p in result]))
    print(f"(on all five questions the best setting is {_setting(best)}; "
          f"shipped: {_setting(shipped)})")


def fold_models(folder: Path) -> dict[str, Path]:
    """Each set's model among the fold models of ``finetune_folds.py --keep DIR``: the fold
    that held it out (named in its held-out.json)."""
    return {name: fold for fold in sorted(folder.glob("fold-*"))
            for name in json.loads((fold / "held-out.json").read_text(encoding="utf-8"))}


def fold_grid(folder: Path, files: Sequence[Path]) -> None:
    """The clustering's knobs (the grid of `loqo`) over every set, each read by the
    fine-tuned model of the fold that never trained on it: mean ARI over the sets per
    setting, the best first. For choosing on vectors like those of a new question."""
    from bot.core.digest import embeddings

    model_of = fold_models(folder)
    shipped = shipped_setting()
    scores: dict[Setting, list[tuple[float, int, int, int]]] = defaultdict(list)
    try:
        for path in files:
            if set_name(path) not in model_of:
                continue
            embeddings.use_model(model_of[set_name(path)])
            data = load(path)
            for setting in GRID:
                with knobs(setting):
                    o = run_engine("default", data)["overall"]
                scores[setting].append((o["ari"], int(o["hits"]), int(o["total"]),
                                        int(o["quoted"])))
    finally:
        embeddings.use_model(None)
    base = scores[shipped]
    print(f"\n## clustering knobs over {len(base)} sets, each read by a model that never "
          "trained on it")
    print("| setting | mean ARI | better / worse than shipped | themes recovered | "
          "non-answers quoted |")
    print("|---|---|---|---|---|")
    for setting in sorted(GRID, key=lambda g: -np.mean([x[0] for x in scores[g]])):
        rows = scores[setting]
        better = sum(a[0] > b[0] + 1e-9 for a, b in zip(rows, base, strict=True))
        worse = sum(a[0] < b[0] - 1e-9 for a, b in zip(rows, base, strict=True))
        mark = " (shipped)" if setting == shipped else ""
        print(f"| {_setting(setting)}{mark} | {np.mean([x[0] for x in rows]):.3f} | "
              f"{better} / {worse} | {sum(x[1] for x in rows)}/{sum(x[2] for x in rows)} | "
              f"{sum(x[3] for x in rows)} |", flush=True)


def _setting(setting: Setting) -> str:
    cap, cut_at, merge = setting
    return f"k <= {cap}, cut {cut_at}" + (f", merge to {merge}" if merge else "")


def resample(data: dict[str, list[dict[str, str]]], engines: Sequence[str], times: int,
             share: float = 0.85) -> None:
    """How much the figures move with the answers: each run keeps a random 85% of every
    question's answers (the same subsets for every engine) and scores the engines on them.
    A difference between engines smaller than the spread shown here is not a finding."""
    rng = np.random.default_rng(2026)
    subsets = [{p: [r for r in rows if rng.random() < share] for p, rows in data.items()}
               for _ in range(times)]
    runs: dict[str, list[dict[str, float]]] = {}
    for engine in engines:
        try:
            runs[engine] = [run_engine(engine, subset)["overall"] for subset in subsets]
        except ModelUnavailable:
            continue
    if not runs:
        return
    first = next(iter(runs))
    print(f"\n## {times} random subsets of {share:.0%} of the answers (same subsets for all)")
    print(f"| engine | ARI mean ± sd | themes recovered mean | ARI above {first} in |")
    print("|---|---|---|---|")
    reference = np.array([o["ari"] for o in runs[first]])
    for engine, overall in runs.items():
        ari = np.array([o["ari"] for o in overall])
        rec = np.mean([o["hits"] / o["total"] for o in overall])
        wins = int((ari > reference).sum())
        print(f"| {engine} | {ari.mean():.2f} ± {ari.std():.2f} | {rec:.0%} | "
              f"{wins}/{times} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the sample and bench/data")
    parser.add_argument("--engine", action="append", choices=ENGINES)
    parser.add_argument("--no-loqo", action="store_true")
    parser.add_argument("--folds", type=Path, metavar="DIR",
                        help="instead of scoring: the clustering knobs over every set, each "
                             "read by the fold model of finetune_folds.py --keep DIR that "
                             "never trained on it")
    parser.add_argument("--resample", type=int, default=0, metavar="N",
                        help="also score the engines on N random 85%% subsets of the sample")
    parser.add_argument("--llm-url", help="score a language model's grouping (an "
                        "OpenAI-compatible endpoint; key in ROUNDTABLE_LLM_KEY)")
    parser.add_argument("--llm-model", default="")
    parser.add_argument("--non-answer-label", action="append", default=[], metavar="LABEL",
                        help="a theme label that marks a non-answer in --data files "
                             "(repeatable; \"noise\" always does)")
    args = parser.parse_args()
    NON_ANSWER_LABELS.update(label.strip().lower() for label in args.non_answer_label)
    if args.llm_url:
        global PROPOSE
        PROPOSE = model_grouping(args.llm_url, args.llm_model)
    QUESTIONS.update(questions())
    files = [f.resolve() for f in args.data] if args.data else data_files()
    if args.folds:
        fold_grid(args.folds, files)
        return
    chosen = args.engine or ["default"]
    summary = []
    try:
        loaded = [(path, load(path)) for path in files]
    except UnreadableSet as exc:
        sys.exit(f"digest_quality: {exc}")
    for path, data in loaded:
        name = set_name(path)
        for engine in chosen:
            start = time.perf_counter()
            try:
                results = run_engine(engine, data)
            except ModelUnavailable as exc:
                print(f"\n## {name}, engine {engine}: skipped ({exc})")
                continue
            label = engine + (" + model grouping" if PROPOSE else "")
            print_table(name, label, results, time.perf_counter() - start)
            summary.append((name, label, results["overall"]))
    print("\n## overall, per set and engine")
    print("| set | status | engine | ARI | V-measure | themes recovered | "
          "themes shown (labelled) | non-answers quoted (among the quotes) | "
          "real answers set aside |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, engine, s in summary:
        print(f"| {name} | {STATUS.get(name, 'not listed')} | {engine} | {s['ari']:.2f} | "
              f"{s['v']:.2f} | "
              f"{int(s['hits'])}/{int(s['total'])} ({s['hits'] / max(s['total'], 1):.0%}) | "
              f"{int(s['k'])} ({int(s['k_true'])}) | {int(s['quoted'])} "
              f"({int(s['among_quotes'])}) | {int(s['set_aside'])} |")
    if not args.no_loqo and SAMPLE_DATA.resolve() in files:
        loqo(load(SAMPLE_DATA))
    if args.resample:
        resample(load(SAMPLE_DATA), chosen, args.resample)


if __name__ == "__main__":
    main()
