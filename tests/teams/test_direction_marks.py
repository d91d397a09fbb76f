"""Right-to-left words shown back in Teams as written, without reaching past them: an
override (U+202E) someone leaves open would run on to the end of the paragraph, so what
Teams shows after their words on the same line (the closing quotation mark, who said it,
its id) would read reversed, as if the writer had put it there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.scheduling import jobs
from storage.db import transaction
from storage.models import Round
from tests.conftest import NOW
from tests.review_round import ANSWERS, PROMPT
from tests.slack.test_direction_marks import PDF, RLO, open_at
from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_digest_review import FRIDAY_NOON, content, json_text
from tests.teams.test_round import start_from_channel
from tests.teams_connector_stub import card_text


def paragraphs(node: Any) -> Iterator[list[str]]:
    """Each paragraph of a card (a RichTextBlock) as the texts of its runs."""
    if isinstance(node, list):
        for item in node:
            yield from paragraphs(item)
    elif isinstance(node, dict):
        if node.get("type") == "RichTextBlock":
            yield [str(i.get("text", "")) for i in node.get("inlines", [])]
        else:
            for value in node.values():
                yield from paragraphs(value)


def test_an_answers_open_override_stops_at_its_end_in_the_teams_draft(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    start_from_channel(running, tenant)
    [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
    members = [p.aad for p in tenant.members]
    with transaction(running.database.sessions) as session:
        for n, text in enumerate(ANSWERS):
            person = find_participant(session, members[n % len(members)], "teams")
            assert person is not None
            record_reply(session, round_.id, PROMPT, person, f"{text} {RLO}", NOW,
                         external_id=f"rtl-{n}")
    assert all(r.text.endswith(RLO) for r in running.replies())  # kept as written
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_.id)
    draft = running.wait_for(lambda: [c for c in running.stub.sent_to(tenant.facilitator)
                                      if "For review" in card_text(c)], "the draft card")[0]

    shown = [runs for runs in paragraphs(content(draft)) if RLO in "".join(runs)]
    quotes = [runs for runs in shown if runs[0].startswith("“")]
    assert quotes, json_text(content(draft))
    # each quote closed where its words end, inside its quotation marks; who said it and
    # its id follow on the same line
    assert all(runs[0].endswith(f"{RLO}{PDF}”") and len(runs) > 1 for runs in quotes), quotes
    for runs in shown:  # a quote, or a theme's title taken from one
        line = "".join(runs)
        ends = [len("".join(runs[:n + 1])) for n, r in enumerate(runs) if RLO in r]
        assert [open_at(line, end) for end in ends] == [[]] * len(ends), runs
