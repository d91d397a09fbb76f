"""`roundtable demo`: a simulated workspace runs a round of the seed pack and prints its digest."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.digest.build import build_digest
from bot.core.digest.changes import record_digest
from bot.core.digest.export import default_name, write_export
from bot.core.digest.render_text import render_text
from bot.core.packs import load_pack
from bot.core.people import Person, find_participant
from bot.core.ports import utcnow
from bot.core.replies import record_reply, record_vote
from bot.core.rounds import RoundRequest, start_round
from prompts import PROMPTS_DIR
from storage.db import make_engine, make_session_factory, reading, transaction
from storage.files import private_folder
from storage.migrate import upgrade
from storage.models import Delivery

HERE = Path(__file__).parent
SEED_PACK = PROMPTS_DIR / "sel-pharmacy-leadership.yaml"
PLATFORM = "slack"
"""The simulated workspace's ids (U0DEMOFAC, C0DEMOLEAD) are Slack's."""
CHOICE_SEPARATOR = "; "
DIGEST_CHANNEL = "C0DEMOLEAD"


def run_demo(folder: Path | None = None) -> str:
    """Run the demo in `folder` (a new temporary one by default) and return what it printed."""
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="roundtable-demo-"))
    private_folder(folder)
    database = folder / "roundtable-demo.db"
    database.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    pack = load_pack(SEED_PACK)
    people = _people()
    start = utcnow() - timedelta(days=6)
    with transaction(sessions) as session:
        round_ = start_round(
            session,
            RoundRequest(
                pack,
                people,
                started_by="U0DEMOFAC",
                audience={"channel": DIGEST_CHANNEL},
                digest_channel=DIGEST_CHANNEL,
                closes_at=start + timedelta(days=14),
                platform=PLATFORM,
            ),
            start,
        )
        _simulate_sending(session, round_.id, start)
        rows = _rows("answers.csv")
        first_digest_after = len(rows) * 2 // 3
        for n, row in enumerate(rows, start=1):
            if n == first_digest_after + 1:
                # A first weekly digest part-way through, so the final one shows what changed.
                session.flush()
                then = start + timedelta(hours=n)
                week_one = build_digest(session, round_.id, then)
                posted = record_digest(session, round_.id, "demo-week-1", week_one, then)
                assert posted is not None
                posted.state, posted.channel_id, posted.posted_at = "posted", DIGEST_CHANNEL, then
            participant = find_participant(session, row["participant"], PLATFORM)
            assert participant is not None, row["participant"]
            when = start + timedelta(hours=n)
            external_id = f"D{row['participant']}:{n}"
            if pack.prompt(row["prompt_id"]).kind == "text":  # type: ignore[union-attr]
                record_reply(
                    session,
                    round_.id,
                    row["prompt_id"],
                    participant,
                    row["text"],
                    when,
                    external_id=external_id,
                )
            else:
                choices = [c.strip() for c in row["text"].split(";")]
                record_vote(
                    session,
                    round_.id,
                    row["prompt_id"],
                    participant,
                    choices,
                    when,
                    external_id=external_id,
                )
        round_id = round_.id
    with reading(sessions) as session:
        digest = build_digest(session, round_id, utcnow())
    engine.dispose()
    exports = [
        write_export(digest, fmt, folder / default_name(round_id, fmt))[0] for fmt in ("md", "docx")
    ]
    header = (
        f"Roundtable demo: round {round_id} of '{pack.id}' for {len(people)} simulated "
        f"participants.\nDatabase: {database}\n"
        + "".join(f"Synthesis export: {path}\n" for path in exports)
        + "\n"
    )
    return header + render_text(digest)


def _simulate_sending(session: Session, round_id: int, at: datetime) -> None:
    """The simulated workspace asked everyone at the start, as the outbox would have: the
    round's status then agrees with its answers (nobody answers a question never sent), and
    a service run on the demo's database has nothing to send to its made-up people."""
    for delivery in session.scalars(select(Delivery).where(Delivery.round_id == round_id)):
        delivery.state, delivery.sent_at, delivery.attempts = "sent", at, 1


def _people() -> list[Person]:
    return [
        Person(r["participant"], r["name"], r["role"], r["organisation"], r["timezone"])
        for r in _rows("people.csv")
    ]


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
