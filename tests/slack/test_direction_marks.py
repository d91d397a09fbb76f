"""Right-to-left words, and Unicode's direction controls in them, shown back as written
without reaching past them: an override (U+202E) or isolate someone leaves open would run on
to the end of the paragraph in any reader's Slack, so the bot's words after a quote on the
same line (who said it, its id) would read reversed, as if the writer had put them there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from bot.scheduling import jobs
from bot.slack import review_blocks
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running
from tests.slack.test_digest_review import FRIDAY_NOON, button, draft_in
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round

RLO, LRO, RLE, LRE, PDF = "\u202e", "\u202d", "\u202b", "\u202a", "\u202c"
RLI, LRI, FSI, PDI = "\u2067", "\u2066", "\u2068", "\u2069"
ANSWER = (f"Cover is what we lack, and no rota allows for it {RLO}"
          + "ecnerefer a ton si siht " * 4).strip()
"""As written (Arabic or Hebrew text carries such marks, and so can a spoof); long enough
for the draft and its form to cut it."""
START = ANSWER[:40]
ARABIC = "نحتاج إلى وقت محمي"


def open_at(text: str, index: int) -> list[str]:
    """The direction controls still open at `index` of a paragraph, as Unicode's bidi
    algorithm pairs them (a PDF closes the last embedding or override, a PDI the last
    isolate and all opened inside it)."""
    stack: list[str] = []
    for char in text[:index]:
        if char in (RLO, LRO, RLE, LRE, RLI, LRI, FSI):
            stack.append(char)
        elif char == PDF and stack and stack[-1] not in (RLI, LRI, FSI):
            stack.pop()
        elif char == PDI and any(c in (RLI, LRI, FSI) for c in stack):
            while stack.pop() not in (RLI, LRI, FSI):
                pass
    return stack


def paragraphs(node: Any) -> Iterator[str]:
    """The text of every rich text paragraph (section, quote, list item), runs joined."""
    if isinstance(node, list):
        for item in node:
            yield from paragraphs(item)
    elif isinstance(node, dict):
        if node.get("type") in ("rich_text_section", "rich_text_quote"):
            yield "".join(str(e.get("text", "")) for e in node.get("elements") or [])
        else:
            for value in node.values():
                yield from paragraphs(value)


def attributed(node: Any, by: str) -> list[tuple[str, list[str]]]:
    """Each paragraph that names `by` after a quote, and the controls open where it does."""
    return [(p, open_at(p, p.index(by))) for p in paragraphs(node) if by in p]


def test_an_answers_open_override_stops_at_its_end_in_the_draft_and_digest(
        running: Running) -> None:
    round_id = start_round(running, " named")
    sent_to_everyone(running)
    for user, text in zip(MEMBERS, (ANSWER, ARABIC), strict=False):
        running.slack.dm(user, text, thread_ts=question_ts(running, user, "done-well"))
    running.wait_for(lambda: len(running.replies()) == 2, "both answers")
    assert [r.text for r in running.replies()] == [ANSWER, ARABIC]  # kept as written
    running.slack.command(FACILITATOR, f"review {round_id} on")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "goes to its facilitators first" in c.params["text"]],
                     "review turned on")
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)

    draft = draft_in(running, FACILITATOR)
    shown = attributed(draft["blocks"], "— Amara")
    assert shown and all(START in line and "…" in line for line, _ in shown), shown
    assert [still for _, still in shown] == [[]] * len(shown), shown
    assert any(ARABIC in line for line, _ in attributed(draft["blocks"], "— Ben"))

    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:done-well")
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    options = [o["text"]["text"] for b in form.params["view"]["blocks"]
               for o in (b.get("element") or {}).get("options") or [] if START in o["text"]["text"]]
    assert options and [open_at(o, len(o)) for o in options] == [[]] * len(options), options

    approve = button(draft, review_blocks.REVIEW_APPROVE)
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    running.wait_for(lambda: "— Amara" in json.dumps(
        [c.params for c in running.stub.posted(DIGEST_CHANNEL)], ensure_ascii=False),
        "the digest quoting the answer")
    posted = attributed([c.params["blocks"] for c in running.stub.posted(DIGEST_CHANNEL)],
                        "— Amara")
    assert posted and all(ANSWER in line for line, _ in posted), posted
    assert [still for _, still in posted] == [[]] * len(posted), posted


def test_a_display_name_left_open_right_to_left_reverses_no_other_name_in_status(
        running: Running) -> None:
    """`status N who` lists people by the names they chose, on one line: one left open
    right-to-left would read the names after it backwards, as other people."""
    running.stub.add_user(MEMBERS[0], "Amara", display_name=f"Amara {RLO}ilA")
    round_id = start_round(running, " named")
    sent_to_everyone(running)
    answer = running.answer_to(running.slack.command(FACILITATOR, f"status {round_id} who"),
                               "the status").params
    line = next(p for p in paragraphs(answer["blocks"]) if "Not answered yet" in p)
    assert f"Amara {RLO}ilA" in line, line  # the name as its owner wrote it, listed first
    assert open_at(line, line.index("Ben")) == [], line
