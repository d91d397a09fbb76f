"""A digest reviewed before it posts, in Slack: the draft goes to the round's facilitators
only; a rename, a merge, a move and a hidden quote made in the edit form show in the digest
posted; approving posts it once, and a second facilitator's approval posts nothing more."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import facilitation, review
from bot.app.actors import OPERATOR, Actor
from bot.app.personal_data import forget
from bot.app.review import Opened
from bot.core import audit, digest_review
from bot.core.bot_messages import FORM
from bot.core.digest.model import (
    AnswerView,
    DigestView,
    Draft,
    PromptDigest,
    QuoteView,
    RoundInfo,
    ThemeView,
)
from bot.core.imports import import_replies
from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.core.retention import apply_retention
from bot.scheduling import jobs
from bot.slack import review_blocks
from bot.slack.limits import check_message
from storage.db import transaction
from storage.models import (
    AuditEntry,
    BotMessage,
    Digest,
    DigestEdit,
    Participant,
    Reply,
    Round,
)
from tests.conftest import NOW
from tests.digest.test_stable_themes import TIME
from tests.helpers import day_in_words
from tests.review_round import (
    PROMPT,
    current,
    question,
    review_round,
    text_of,
    unquoted_in,
)
from tests.slack.conftest import CHANNEL, DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running
from tests.slack.test_round_commands import closing_round, command, delete_button
from tests.slack_api_stub import TEAM, view_problems
from tests.slack_reading import as_read

CO_FACILITATOR = "UCOFAC"
FRIDAY_NOON = NOW + timedelta(days=4, hours=2)  # the default digest time, in London (UTC now)


def drafted(running: Running, *, co_facilitator: bool = False, imported: Path | None = None,
            **more: Any) -> int:
    """A round in review whose scheduled digest has gone to its facilitators as a draft;
    `imported`: a CSV of answers imported into it first."""
    round_id = review_round(running.database, NOW, MEMBERS, starter=FACILITATOR,
                            co_facilitator=CO_FACILITATOR if co_facilitator else None, **more)
    if imported is not None:
        with transaction(running.database.sessions) as session:
            import_replies(session, imported, NOW, round_id=round_id)
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)
    return round_id


def draft_in(running: Running, user: str) -> dict[str, Any]:
    """The draft digest in someone's direct message with the bot, as it reads now."""
    posted = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                       if "For review" in json.dumps(c.params.get("blocks"))],
                              f"the draft in {user}'s DM")
    found = running.stub.message("D" + user, posted[0].answer["ts"])
    assert found is not None
    return found


def open_form(running: Running, user: str = FACILITATOR) -> Any:
    """The edit form `user` opens from the draft in their DM (the views.open call)."""
    edit = button(draft_in(running, user), f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    opened = len(running.stub.calls_to("views.open"))
    running.slack.click(user, edit["action_id"], edit["value"])
    return running.wait_for(lambda: running.stub.calls_to("views.open")[opened:],
                            "the edit form")[0]


def button(message: dict[str, Any], prefix: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
            if str(element.get("action_id", "")).startswith(prefix):
                return dict(element)
    raise AssertionError(f"no button {prefix} in {message['blocks']}")


def theme(form: Any, field: str, number: int) -> dict[str, Any]:
    """Theme `number` (as the form numbers it) chosen in the form's `field`, as Slack sends the
    choice back."""
    [block] = [b for b in form.params["view"]["blocks"] if b.get("block_id") == field]
    option = block["element"]["options"][number - 1]
    assert option["text"]["text"].startswith(f"{number}. "), option
    return {"value": {"selected_option": option}}


def digest_posted(running: Running) -> str:
    """Everything the digest channel holds, as read (tests.slack_reading)."""
    return as_read([c.params for c in running.stub.posted(DIGEST_CHANNEL)])


def tops(running: Running) -> list[Any]:
    return [c for c in running.stub.posted(DIGEST_CHANNEL) if not c.params.get("thread_ts")]


def respond_text(running: Running, before: int, expect: str) -> str:
    found = running.wait_for(lambda: [c.params["text"] for c in running.stub.calls_to(
        "response_url")[before:] if expect in c.params.get("text", "")], repr(expect))
    return str(found[0])


NOT_IN_CHANNEL = ("Approved by @Fola Facilitator, but not posted: the digest channel refused it: "
                  "not_in_channel. Invite @Roundtable to the channel (type /invite @Roundtable "
                  "there). Then approve it again.")
"""What every draft says once an approval was refused for the bot's absence from the channel."""


def approve_and_see_it_posted(running: Running, who: str, approve: dict[str, Any],
                              round_id: int) -> None:
    """`who` presses Approve and is told the digest is posted, once."""
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(who, approve["action_id"], approve["value"])
    posted = respond_text(running, answers, "Approved")
    assert posted == f"Approved: the digest of round {round_id} is posted in <#{DIGEST_CHANNEL}>."
    assert len(tops(running)) == 1

def test_a_reviewed_digest_is_edited_and_approved_in_slack_and_posts_once(
        running: Running) -> None:
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    round_id = drafted(running, co_facilitator=True)

    draft = draft_in(running, FACILITATOR)
    draft_in(running, CO_FACILITATOR)
    assert not running.stub.posted(DIGEST_CHANNEL) and not running.stub.posted(CHANNEL)
    # the deadline is a Slack date: each facilitator reads it in their own time zone
    with running.database.sessions() as session:
        until = session.scalar(select(Digest.review_until).where(Digest.round_id == round_id))
    assert until is not None
    until = until.replace(tzinfo=until.tzinfo or UTC)
    date = (f"<!date^{int(until.timestamp())}^{{date_short_pretty}} at {{time}}"
            f"|{until:%a} {until.day} {until:%b %H:%M} UTC>")
    assert ("Nothing is posted until a facilitator approves it. If nobody has approved it by "
            f"{date}, it keeps waiting for approval.") in json.dumps(draft["blocks"])
    for member in MEMBERS:
        assert "For review" not in json.dumps([c.params for c in running.stub.posted(
            "D" + member)])

    before = question(current(running.database, round_id, NOW))
    renamed, kept, merged = before.themes[0], before.themes[2], before.themes[3]
    moved = unquoted_in(before, 2)
    hidden = renamed.quotes[0].reply_id
    view = current(running.database, round_id, NOW)
    moved_text, hidden_text = text_of(view, moved), text_of(view, hidden)

    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    assert running.slack.click(FACILITATOR, edit["action_id"], edit["value"]).status == 200
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    refused = running.slack.submit(FACILITATOR, form.answer["view"], {
        "rename_theme": theme(form, "rename_theme", 1)})
    assert refused.json()["errors"] == {"rename_title": "Give both the theme and its new title."}
    answered = running.slack.submit(FACILITATOR, form.answer["view"], {
        "rename_theme": theme(form, "rename_theme", 1),
        "rename_title": {"value": {"value": "Time away from the dispensary"}},
        "merge_theme": theme(form, "merge_theme", 4),
        "merge_into": theme(form, "merge_into", 3),
        "move_answer": {"value": {"selected_options": [{"value": moved}]}},
        "move_to": {"value": {"selected_option": {"value": "other"}}},
        "new_title": {"value": {"value": None}},
        "hide": {"value": {"selected_options": [{"value": hidden}]}},
        "lead": {"value": {"value": ""}},
    })
    assert answered.status == 200 and not answered.body, answered.body
    running.wait_for(lambda: "Time away from the dispensary" in json.dumps(
        draft_in(running, CO_FACILITATOR)["blocks"]), "the co-facilitator's draft updated")

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    assert respond_text(running, answers, "Approved").startswith(
        f"Approved: the digest of round {round_id} is posted in <#{DIGEST_CHANNEL}>")
    posted = digest_posted(running)
    assert "*Time away from the dispensary*  ·" in posted
    assert f"*{renamed.title}*  ·" not in posted
    assert f"*{kept.title}*  ·" in posted and f"*{merged.title}*  ·" not in posted
    assert f"{len(kept.reply_ids) + len(merged.reply_ids)} answers" in posted
    assert "Other answers" in posted and json.dumps(moved_text, ensure_ascii=False)[1:-1] \
        in posted
    assert json.dumps(hidden_text, ensure_ascii=False)[1:-1] not in posted

    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(CO_FACILITATOR, approve["action_id"], approve["value"])
    assert "nothing more was posted" in respond_text(running, answers, "already approved")
    assert len(tops(running)) == 1
    [row] = running.scalars(select(Digest))
    assert (row.state, row.approved_by) == ("posted", f"slack:{FACILITATOR}")
    actions = [(e.actor, e.action) for e in running.scalars(
        select(AuditEntry).where(AuditEntry.round_id == round_id).order_by(AuditEntry.id))]
    me = f"slack:{FACILITATOR}"
    for action in ("digest.rename", "digest.merge", "digest.move", "digest.hide",
                   "digest.approve", "digest.post"):
        assert (me, action) in actions, action
    running.wait_for(lambda: "Approved by" in json.dumps(
        draft_in(running, CO_FACILITATOR)["blocks"]), "the drafts marked approved")


def test_a_facilitator_sets_how_a_round_is_reviewed_from_slack(running: Running) -> None:
    round_id = review_round(running.database, NOW, MEMBERS, starter=FACILITATOR)
    said = command(running, f"review {round_id} unapproved post within 12h", "Round")
    assert said["text"] == (f"Round {round_id}: each scheduled digest goes to its facilitators "
                            "first; one nobody approves within 12 hours is posted as built.")
    [round_] = running.scalars(select(Round))
    assert (round_.review, round_.unreviewed, round_.review_hours) == ("review", "post", 12)
    none = command(running, f"review {round_id}", "no digest")
    assert none["text"] == f"Round {round_id} has no digest waiting for review."
    bad = command(running, f"review {round_id} sometimes", "like this")
    assert bad["text"] == ("Type it like this: `/roundtable review N [on|off] "
                           "[unapproved post|wait] [within 24h]`.")
    refused = running.slack.command(MEMBERS[0], f"review {round_id} off").json()
    assert "only facilitators can use `/roundtable review`" in refused["text"]
    assert running.scalars(select(Round.review)) == ["review"]
    off = command(running, f"review {round_id} off", "Round")
    assert off["text"] == f"Round {round_id}: digests are posted as built."


def test_a_digest_posted_by_hand_replaces_the_draft_waiting(running: Running) -> None:
    round_id = drafted(running)
    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    posted = command(running, f"digest {round_id}", "Posted")
    assert posted["text"] == (f"Posted the digest of round {round_id} in <#{DIGEST_CHANNEL}>; "
                              "it takes the place of the draft that was waiting for review.")
    running.wait_for(lambda: "took the place of this one" in json.dumps(
        draft_in(running, FACILITATOR)["blocks"]), "the draft marked replaced")
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    assert "replaced (by a newer draft, or a digest posted meanwhile); nothing was posted" in \
        respond_text(running, answers, "replaced")
    assert len(tops(running)) == 1


def test_an_edit_form_saved_after_its_draft_was_approved_changes_nothing_and_says_why(
        running: Running) -> None:
    round_id = drafted(running)
    draft = draft_in(running, FACILITATOR)
    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    approve = button(draft, review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    respond_text(running, answers, "Approved")

    refused = running.slack.submit(FACILITATOR, form.answer["view"], {
        "rename_theme": theme(form, "rename_theme", 1),
        "rename_title": {"value": {"value": "Too late"}}})
    assert refused.json()["errors"] == {"lead": (
        f"That draft of round {round_id} was already approved and posted, so nothing "
        "was changed.")[:150]}
    assert running.scalars(select(DigestEdit)) == []
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    assert respond_text(running, answers, "already approved") == (
        f"That draft of round {round_id} was already approved and posted, so nothing "
        "was changed.")
    assert len(running.stub.calls_to("views.open")) == 1


def test_review_sends_the_draft_again_and_says_it_is_in_the_direct_messages(
        running: Running) -> None:
    round_id = drafted(running)
    draft_in(running, FACILITATOR)
    said = command(running, f"review {round_id}", "The draft digest")
    assert said["text"] == (f"The draft digest of round {round_id} is in your direct messages "
                            "with me.")


def test_answers_moved_to_a_new_theme_in_slack_post_as_that_theme(running: Running) -> None:
    """The form's "Move answers" takes several answers; sent to "a new theme" with a title,
    they are that theme in the draft and in the digest posted, summed up from themselves."""
    round_id = drafted(running)
    before = question(current(running.database, round_id, NOW))
    chosen = [before.themes[0].reply_ids[-1], before.themes[1].reply_ids[-1]]
    edit = button(draft_in(running, FACILITATOR), f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    fields = {b["block_id"]: b["element"] for b in form.params["view"]["blocks"]
              if b.get("type") == "input"}
    assert fields["move_answer"]["type"] == "multi_static_select"
    assert {"new", "other"} <= {o["value"] for o in fields["move_to"]["options"]}

    moving = {"move_answer": {"value": {"selected_options": [{"value": r} for r in chosen]}},
              "move_to": {"value": {"selected_option": {"value": "new"}}}}
    refused = running.slack.submit(FACILITATOR, form.answer["view"], moving)
    assert refused.json()["errors"] == {"new_title": "Give the new theme its title."}
    answered = running.slack.submit(FACILITATOR, form.answer["view"], {
        **moving, "new_title": {"value": {"value": "Someone to ask, inside or out"}}})
    assert answered.status == 200 and not answered.body, answered.body
    running.wait_for(lambda: "Someone to ask, inside or out" in json.dumps(
        draft_in(running, FACILITATOR)["blocks"]), "the draft with the new theme")

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    posted = running.wait_for(lambda: digest_posted(running) if "Someone to ask" in
                              digest_posted(running) else None, "the question's part posted")
    assert "*Someone to ask, inside or out*  ·  _2 answers" in posted, posted
    assert (f"*{before.themes[0].title}*  ·  _{len(before.themes[0].reply_ids) - 1} answers"
            in posted)
    assert ("slack:" + FACILITATOR, "digest.group") in [
        (e.actor, e.action) for e in running.scalars(select(AuditEntry))]


def test_an_imported_answer_with_a_long_id_is_moved_from_the_slack_form(
        running: Running, tmp_path: Path) -> None:
    """A named round keeps the ids a CSV gave its answers, up to 200 characters: longer than
    Slack takes for an option's value, the form still opens, and moving the answer moves it."""
    long_id = "interview-notes-" + "0123456789" * 16 + "-0042"
    assert len(long_id) == 181
    csv = tmp_path / "notes.csv"
    csv.write_text("id,prompt_id,participant,role,text\n"
                   f"{long_id},{PROMPT},p1,,Pairing on the first tickets helped me most\n")
    round_id = drafted(running, imported=csv, anonymity="named")
    form = open_form(running)
    assert view_problems(form.params["view"]) == []
    [move] = [b for b in form.params["view"]["blocks"] if b.get("block_id") == "move_answer"]
    [option] = [o for o in move["element"]["options"] if "Pairing on the first" in
                o["text"]["text"]]

    def moving(chosen: dict[str, Any]) -> dict[str, Any]:
        return {"move_answer": {"value": {"selected_options": [chosen]}},
                "move_to": {"value": {"selected_option": {"value": "new"}}},
                "new_title": {"value": {"value": "Pairing early"}}}

    stale = running.slack.submit(FACILITATOR, form.answer["view"],
                                 moving({**option, "value": "key:" + "a" * 24}))
    assert stale.json()["errors"]["new_title"].startswith(
        "Answer key:aaaa"), stale.body  # not one the form listed: a stale form's
    answered = running.slack.submit(FACILITATOR, form.answer["view"], moving(option))

    assert answered.status == 200 and not answered.body, answered.body
    running.wait_for(lambda: "Pairing early" in json.dumps(
        draft_in(running, FACILITATOR)["blocks"]), "the draft with the new theme")
    [theme] = [t for t in question(current(running.database, round_id, NOW)).themes
               if t.title == "Pairing early"]
    assert theme.reply_ids == [long_id]


def test_an_answer_given_while_the_form_was_open_joins_the_new_theme_it_matches(
        running: Running) -> None:
    """An answer that came in after the form opened was not on it, so the facilitator could
    not choose it: when it says what the answers they made a new theme of say, the draft
    shows it in that theme."""
    round_id = drafted(running)
    view = current(running.database, round_id, NOW)
    chosen = question(view).themes[0].reply_ids[:3]
    form = open_form(running)
    with transaction(running.database.sessions) as session:
        person = find_participant(session, MEMBERS[0], "slack")
        assert person is not None
        record_reply(session, round_id, PROMPT, person, text_of(view, chosen[0]),
                     running.bot.clock(), external_id="while-the-form-was-open")
    answered = running.slack.submit(FACILITATOR, form.answer["view"], {
        "move_answer": {"value": {"selected_options": [{"value": r} for r in chosen]}},
        "move_to": {"value": {"selected_option": {"value": "new"}}},
        "new_title": {"value": {"value": "Someone to ask"}}})
    assert answered.status == 200 and not answered.body, answered.body
    draft = running.wait_for(lambda: [d for d in [as_read(draft_in(
        running, FACILITATOR)["blocks"])] if "Someone to ask" in d],
        "the draft with the new theme")[0]
    assert "*Someone to ask* · 4 answers" in draft, draft


def test_a_form_time_in_the_future_or_not_a_time_moves_no_answer_into_the_new_theme(
        running: Running) -> None:
    """The form's time comes back with the submission: one later than the save counts as the
    save, and one that is not a time as none (the theme takes in answers given after the
    save, as from the command line)."""
    round_id = drafted(running)
    chosen = question(current(running.database, round_id, NOW)).themes[0].reply_ids
    form = open_form(running)
    for n, seen in enumerate(["2100-01-01T00:00:00+00:00", "not a time"]):
        view = {**form.answer["view"], "private_metadata": json.dumps(
            {**json.loads(form.answer["view"]["private_metadata"]), "seen": seen})}
        answered = running.slack.submit(FACILITATOR, view, {
            "move_answer": {"value": {"selected_options": [{"value": chosen[n]}]}},
            "move_to": {"value": {"selected_option": {"value": "new"}}},
            "new_title": {"value": {"value": f"Theme {n}"}}})
        assert answered.status == 200 and not answered.body, answered.body
    stored = running.wait_for(lambda: [e for e in running.scalars(select(DigestEdit))
                                       if e.action == "group"][1:] and
                              running.scalars(select(DigestEdit)), "both edits")
    assert [(e.text, e.seen_at == e.at, e.seen_at) for e in stored] == [
        ("Theme 0", True, stored[0].at), ("Theme 1", False, None)]


def test_a_quote_hidden_in_slack_can_be_quoted_again(running: Running) -> None:
    """Hiding is not for ever: the next form lists the hidden answer under "Quote again";
    chosen there, the digest quotes it as before."""
    round_id = drafted(running)
    before = question(current(running.database, round_id, NOW))
    hidden = before.themes[0].quotes[0]

    first = open_form(running)
    assert hidden.text[:40] in json.dumps(draft_in(running, FACILITATOR)["blocks"],
                                          ensure_ascii=False)
    assert "show" not in {b.get("block_id") for b in first.params["view"]["blocks"]}
    running.slack.submit(FACILITATOR, first.answer["view"], {
        "hide": {"value": {"selected_options": [{"value": hidden.reply_id}]}}})
    running.wait_for(lambda: hidden.text[:40] not in json.dumps(
        draft_in(running, FACILITATOR)["blocks"], ensure_ascii=False), "the quote hidden")
    second = open_form(running)
    [show] = [b for b in second.params["view"]["blocks"] if b.get("block_id") == "show"]
    assert [o["value"] for o in show["element"]["options"]] == [hidden.reply_id]
    answered = running.slack.submit(FACILITATOR, second.answer["view"], {
        "show": {"value": {"selected_options": [{"value": hidden.reply_id}]}}})
    assert answered.status == 200 and not answered.body, answered.body
    running.wait_for(lambda: hidden.text[:40] in json.dumps(
        draft_in(running, FACILITATOR)["blocks"], ensure_ascii=False), "the quote back")


def test_a_form_opened_before_another_edit_changes_the_theme_it_showed_or_nothing(
        running: Running) -> None:
    """Two forms opened on the same draft: the co-facilitator's merge, saved first, reorders
    the themes by size. The facilitator's form still names the themes as it showed them: its
    rename and move reach those themes at their new numbers, and a theme merged away since
    refuses the whole form, naming the theme, with nothing saved."""
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    round_id = drafted(running, co_facilitator=True)
    first, second, third, fourth = question(current(running.database, round_id, NOW)).themes
    assert len(second.reply_ids) + len(third.reply_ids) > len(first.reply_ids)
    moved = unquoted_in(question(current(running.database, round_id, NOW)), 1)

    mine, other_tab = open_form(running), open_form(running)
    theirs = open_form(running, CO_FACILITATOR)
    merged = running.slack.submit(CO_FACILITATOR, theirs.answer["view"], {
        "merge_theme": theme(theirs, "merge_theme", 3),
        "merge_into": theme(theirs, "merge_into", 2)})
    assert merged.status == 200 and not merged.body, merged.body
    now = question(current(running.database, round_id, NOW))
    assert [t.title for t in now.themes] == [second.title, first.title, fourth.title]

    answered = running.slack.submit(FACILITATOR, mine.answer["view"], {
        "rename_theme": theme(mine, "rename_theme", 2),
        "rename_title": {"value": {"value": "Someone outside to learn from"}},
        "move_answer": {"value": {"selected_options": [{"value": moved}]}},
        "move_to": theme(mine, "move_to", 4)})
    assert answered.status == 200 and not answered.body, answered.body
    draft = running.wait_for(lambda: [d for d in [as_read(draft_in(
        running, FACILITATOR)["blocks"])] if "Someone outside" in d],
        "the draft edited")[0]
    assert (f"1. *Someone outside to learn from* · "
            f"{len(second.reply_ids) + len(third.reply_ids)} answers") in draft
    assert f"2. *{first.title}* · {len(first.reply_ids) - 1} answers" in draft
    assert f"3. *{fourth.title}* · {len(fourth.reply_ids) + 1} answers" in draft
    after = question(current(running.database, round_id, NOW))
    assert moved in after.themes[2].reply_ids

    edits = len(running.scalars(select(DigestEdit)))
    refused = running.slack.submit(FACILITATOR, other_tab.answer["view"], {
        "rename_theme": theme(other_tab, "rename_theme", 1),
        "rename_title": {"value": {"value": "Not saved"}},
        "merge_theme": theme(other_tab, "merge_theme", 3),
        "merge_into": theme(other_tab, "merge_into", 1)})
    assert refused.json()["errors"] == {"merge_theme": (
        f"Theme 3, “{third.title[:39].rstrip()}…”, has changed since this form was opened, "
        "so nothing was saved: please open the form again.")}
    assert len(running.scalars(select(DigestEdit))) == edits
    assert question(current(running.database, round_id, NOW)) == after
    assert "Not saved" not in json.dumps(draft_in(running, FACILITATOR)["blocks"])


def test_the_form_shows_a_hidden_answers_words_and_the_draft_and_post_do_not(
        running: Running) -> None:
    """To decide whether to quote a hidden answer again, the facilitator reads its words in
    the form's "Quote again" (theirs alone); the draft in their DM and the digest posted to
    the channel still leave them out."""
    round_id = drafted(running)
    before = question(current(running.database, round_id, NOW))
    hidden = before.themes[0].quotes[0]
    words = json.dumps(hidden.text, ensure_ascii=False)[1:-1]

    running.slack.submit(FACILITATOR, open_form(running).answer["view"], {
        "hide": {"value": {"selected_options": [{"value": hidden.reply_id}]}}})
    running.wait_for(lambda: words[:40] not in json.dumps(
        draft_in(running, FACILITATOR)["blocks"], ensure_ascii=False), "the quote hidden")
    [show] = [b for b in open_form(running).params["view"]["blocks"]
              if b.get("block_id") == "show"]
    [option] = show["element"]["options"]
    assert option["value"] == hidden.reply_id
    assert option["text"]["text"] == (hidden.text if len(hidden.text) <= 75
                                      else hidden.text[:74].rstrip() + "…"), option
    assert words[:40] not in json.dumps(draft_in(running, FACILITATOR), ensure_ascii=False)

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    respond_text(running, answers, "Approved")
    other = json.dumps(before.themes[1].title, ensure_ascii=False)[1:-1]
    posted = running.wait_for(lambda: digest_posted(running) if other in digest_posted(
        running) else None, "the question's part posted")
    assert words[:40] not in posted


def test_a_reply_set_aside_as_not_an_answer_is_taken_for_one_from_the_form(
        running: Running) -> None:
    """The engine may set a real answer aside; the draft says how many were, the form lists
    them first under "Move answers", and one moved into a theme is counted and shown there."""
    round_id = review_round(running.database, NOW, MEMBERS, starter=FACILITATOR)
    with transaction(running.database.sessions) as session:
        person = find_participant(session, MEMBERS[0], "slack")
        assert person is not None
        record_reply(session, round_id, PROMPT, person, "my mum", NOW, external_id="set-aside")
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)
    before = question(current(running.database, round_id, NOW))
    aside = next(a.reply_id for a in before.answers if a.text == "my mum")
    assert [a.reply_id for a in before.answers if a.noise] == [aside]
    assert ("Set aside as not answers: 1 (Edit lists them first under “Move answers”; one you "
            "move counts as an answer)") in json.dumps(draft_in(running, FACILITATOR)["blocks"],
                                                       ensure_ascii=False)

    form = open_form(running)
    [moving] = [b for b in form.params["view"]["blocks"] if b.get("block_id") == "move_answer"]
    first = moving["element"]["options"][0]
    assert (first["value"], first["text"]["text"]) == (aside,
                                                       "(set aside as not an answer) my mum")
    answered = running.slack.submit(FACILITATOR, form.answer["view"], {
        "move_answer": {"value": {"selected_options": [{"value": aside}]}},
        "move_to": theme(form, "move_to", 1)})
    assert answered.status == 200 and not answered.body, answered.body
    running.wait_for(lambda: "Set aside" not in json.dumps(
        draft_in(running, FACILITATOR)["blocks"]), "the draft without the reply set aside")

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    posted = running.wait_for(lambda: digest_posted(running) if before.themes[0].title in
                              digest_posted(running) else None, "the question's part posted")
    assert (f"*{before.themes[0].title}*  ·  _{len(before.themes[0].reply_ids) + 1} answers"
            in posted), posted
    assert "not an answer" not in posted


def test_an_edit_button_naming_no_question_of_the_draft_says_so_without_repeating_it(
        running: Running) -> None:
    round_id = drafted(running)
    edit = button(draft_in(running, FACILITATOR), f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    tampered = "<!channel> " + "x" * 89
    value = edit["value"].replace(PROMPT, tampered)
    assert tampered in value
    before = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, edit["action_id"], value)
    told = respond_text(running, before, "Edit button")
    assert told == (f"The question this Edit button is for is not one of round "
                    f"{round_id}'s 6 questions; please use the Edit buttons of the newest "
                    "draft.")
    assert running.stub.calls_to("views.open") == []


def test_a_draft_cut_to_fit_slack_says_so_and_where_the_whole_is() -> None:
    """A vote with very many comments, and more questions than a message has room for: what
    is left out is said, with the command that shows the whole draft."""
    comments = [QuoteView(f"ans-{n}", f"Comment {n}, " + "words " * 14, None)
                for n in range(80)]
    vote = PromptDigest("vote", "S", "rank", "Which matter most?", 3, comments=comments)
    written = [PromptDigest(f"q{n}", "S", "text", f"Question {n}?", 0) for n in range(60)]
    info = RoundInfo(7, "pack", "A long round", "", "", "open", "role", "", None, "")
    draft = Draft(3, "week", DigestView(info, {}, [vote, *written]), "review", None, "wait")
    posted = review_blocks.draft_message(draft)
    check_message(posted.text, posted.blocks)
    read = as_read(posted.blocks)
    assert "Comment 79" not in read
    assert read.count("cut here to fit Slack; _`roundtable digest review 7`_ on the server "
                      "shows the whole draft") == 2, read
    assert "Question 59?" not in read
    assert review_blocks.REVIEW_APPROVE in json.dumps(posted.blocks)


def test_an_edit_form_too_big_for_slack_lists_what_it_can_and_says_where_the_rest_is() -> None:
    """A question with more themes, answers and quotes than a Slack form lists: the form
    still opens within Block Kit's limits, and says what it left out and where to edit it."""
    themes = [ThemeView(f"Theme {n}", "", [QuoteView(f"q{n}-{k}", f"Quote {n}.{k}", None)
                                            for k in range(2)],
                        [f"q{n}-{k}" for k in range(3)], {}, "chat") for n in range(120)]
    answers = [AnswerView(f"q{n}-{k}", f"Answer {n}.{k}", None, None, False)
               for n in range(120) for k in range(3)]
    big = PromptDigest("big", "S", "text", "What went well?", len(answers), themes=themes,
                       answers=answers)
    info = RoundInfo(7, "pack", "A big round", "", "", "open", "anonymous", "",
                     None, "2026-11-27T12:00:00+00:00")
    draft = Draft(3, "week", DigestView(info, {}, [big]), "review", None, "wait")

    view = review_blocks.edit_view(Opened(draft, {}), "big")

    assert view_problems(view) == []
    read = as_read(view["blocks"])
    tail = "`roundtable digest review 7` on the server"
    assert (f"Listed: the first 98 of the 120 themes (a Slack form has room for no more); "
            f"{tail} renames or merges any.") in read, read
    assert ("Listed: the first 100 of the 360 answers (a Slack form has room for no more); "
            f"{tail} moves any.") in read
    assert ("Listed: the first 100 of the 240 quotes (a Slack form has room for no more); "
            f"{tail} hides any.") in read


def _open_and_shown(running: Running) -> tuple[Any, str]:
    """The facilitator opens the edit form; the form, and its view id (the form lists the
    answers to move, word for word)."""
    form = open_form(running)
    view_id = str(form.answer["view"]["id"])
    assert TIME[0] in json.dumps(running.stub.views[view_id])
    running.wait_for(lambda: running.scalars(select(BotMessage.id).where(
        BotMessage.kind == FORM, BotMessage.message_id == view_id)), "the form remembered")
    return form, view_id


def _form_now(running: Running, view_id: str) -> str:
    """What an open form shows once it is closed by the bot (nothing left to save: only
    Close): its words."""
    shown = running.wait_for(lambda: (view := running.stub.views[view_id]).get(
        "callback_id") != review_blocks.REVIEW_VIEW and view, "the form changed")
    assert "submit" not in shown
    return " ".join(b["text"]["text"] for b in shown["blocks"] if b.get("text"))


def test_an_open_edit_form_shows_no_answer_once_its_round_is_deleted_and_saving_changes_nothing(
        running: Running) -> None:
    round_id = drafted(running)
    form, view_id = _open_and_shown(running)

    facilitation.delete(running.bot, OPERATOR, round_id)
    assert _form_now(running, view_id) == (
        f"This form was closed on {day_in_words(running.bot.clock())}: round {round_id}'s answers "
        "were deleted, so there is nothing left to edit.")

    # a form saved as the round went (before Slack showed the change) is refused, clearly
    refused = running.slack.submit(FACILITATOR, form.answer["view"], {
        "rename_theme": theme(form, "rename_theme", 1),
        "rename_title": {"value": {"value": "Too late"}}})
    assert refused.json()["errors"] == {"lead": (
        f"Round {round_id} was deleted, with its answers and drafts, so nothing was "
        "changed.")}
    assert running.scalars(select(DigestEdit)) == []


def test_an_open_edit_form_shows_no_answer_once_retention_deletes_the_round_s_answers(
        running: Running) -> None:
    round_id = drafted(running)
    form, view_id = _open_and_shown(running)
    with transaction(running.database.sessions) as session:  # closed past the period
        session.execute(update(Round).values(
            status="closed", closed_at=running.bot.clock() - timedelta(days=400)))
    done = apply_retention(running.database, running.bot.clock(), 365, audit.OPERATOR,
                           running.bot.gateways)
    assert done.rounds == [round_id] and done.messages_left == 0
    assert _form_now(running, view_id).endswith(
        f"round {round_id}'s answers were deleted, so there is nothing left to edit.")

    refused = running.slack.submit(FACILITATOR, form.answer["view"], {
        "rename_theme": theme(form, "rename_theme", 1),
        "rename_title": {"value": {"value": "Too late"}}})
    assert refused.json()["errors"] == {"lead": (
        f"Round {round_id}'s answers were deleted (retention): there is no digest to "
        "edit.")}
    assert running.scalars(select(DigestEdit)) == []


def test_an_open_edit_form_shows_no_answer_once_someone_it_lists_is_forgotten(
        running: Running) -> None:
    drafted(running)
    _, view_id = _open_and_shown(running)
    [user] = running.scalars(select(Participant.platform_user_id).join(
        Reply, Reply.participant_id == Participant.id).where(Reply.text == TIME[0]))
    assert running.slack.command(user, "forget-me").status == 200
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "cannot be undone" in c.params.get("text", "")], "the question")
    assert running.slack.click(user, "forget_confirm").status == 200
    done = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                     if "Done." in c.params.get("text", "")], "done")
    assert "could not be changed" not in done[0].params["text"]
    assert _form_now(running, view_id) == (
        f"This form was closed on {day_in_words(running.bot.clock())}: someone who answered "
        "in this round asked Roundtable to delete their answers. Press Edit on the draft again "
        "to edit it as it is now.")


@pytest.mark.each_database
def test_a_form_opened_while_someone_it_lists_is_being_forgotten_is_closed_too(
        running: Running) -> None:
    """Forget-me first takes the person's words down in Slack (the open form among them),
    then deletes their rows: a second form opened on the draft meanwhile, read while their
    answers were still there, is closed too, not left listing them."""
    round_id = drafted(running)
    form, view_id = _open_and_shown(running)
    [user] = running.scalars(select(Participant.platform_user_id).join(
        Reply, Reply.participant_id == Participant.id).where(Reply.text == TIME[0]))
    running.stub.hold("views.update", lambda params: params["view_id"] == view_id)

    def opened() -> None:  # as they are forgotten
        running.stub.views["VMIDWAY"] = form.params["view"]
        review.form_opened(running.bot, Actor("slack", FACILITATOR), round_id, "VMIDWAY")

    running.meanwhile(lambda: forget(running.bot, OPERATOR, "slack", user),
                      "the forgetting under way in Slack", opened)
    assert _form_now(running, "VMIDWAY") == (
        f"This form was closed on {day_in_words(running.bot.clock())}: someone who answered "
        "in this round asked Roundtable to delete their answers. Press Edit on the draft again "
        "to edit it as it is now.")
    assert running.scalars(select(BotMessage).where(BotMessage.kind == FORM)) == []


def test_a_form_read_before_someone_it_lists_was_forgotten_and_opened_after_is_closed(
        running: Running) -> None:
    """The draft is read for a form (listing their answer), forget-me runs to its end, and
    only then does Slack say the form is open: it is closed, not left listing the words."""
    round_id = drafted(running)
    [digest_id] = running.scalars(select(Digest.id).where(Digest.state == "review"))
    facilitator = Actor("slack", FACILITATOR)
    opened = review.waiting(running.bot, facilitator, round_id, digest_id)
    form = review_blocks.edit_view(opened, PROMPT)
    assert TIME[0] in json.dumps(form)
    [user] = running.scalars(select(Participant.platform_user_id).join(
        Reply, Reply.participant_id == Participant.id).where(Reply.text == TIME[0]))
    forget(running.bot, OPERATOR, "slack", user)
    running.stub.views["VLATE"] = form  # Slack opened it as they were forgotten
    review.form_opened(running.bot, facilitator, round_id, "VLATE", opened.listing(PROMPT))
    assert _form_now(running, "VLATE") == (
        f"This form was closed on {day_in_words(running.bot.clock())}: answers it listed were "
        "deleted while it opened. Press Edit on the draft again to edit it as it is now.")
    assert running.scalars(select(BotMessage).where(BotMessage.kind == FORM)) == []


def test_a_form_closed_before_its_round_is_deleted_is_left_alone(running: Running) -> None:
    round_id = drafted(running)
    _, view_id = _open_and_shown(running)
    running.stub.close_view(view_id)
    facilitation.delete(running.bot, OPERATOR, round_id)
    tried = running.wait_for(lambda: running.stub.calls_to("views.update", ok_only=False),
                             "the form closed")
    assert [c.answer for c in tried] == [{"ok": False, "error": "not_found"}]
    assert running.scalars(select(Round)) == []


def test_a_form_that_opens_as_its_round_is_deleted_is_closed_at_once(running: Running) -> None:
    round_id = drafted(running)
    form = open_form(running)
    facilitation.delete(running.bot, OPERATOR, round_id)
    # Slack opened a second form on the draft just before the round went, and the bot hears
    # its id only now: nothing is left to close it later
    running.stub.views["VLATE"] = form.params["view"]
    review.form_opened(running.bot, Actor("slack", FACILITATOR), round_id, "VLATE")
    assert _form_now(running, "VLATE").endswith(
        f"round {round_id}'s answers were deleted, so there is nothing left to edit.")
    assert running.scalars(select(BotMessage)) == []


@pytest.mark.each_database
def test_a_form_opened_while_its_round_is_being_deleted_is_closed_with_it(
        running: Running) -> None:
    """The deletion first takes the round's messages down in Slack (a big round's take a
    while), then deletes its rows: a form opened meanwhile is closed too, not left listing
    deleted answers."""
    round_id = drafted(running)
    form = open_form(running)
    running.stub.hold("chat.update", lambda params: True)  # the draft being replaced

    def opened() -> None:  # as the round goes
        running.stub.views["VMIDWAY"] = form.params["view"]
        review.form_opened(running.bot, Actor("slack", FACILITATOR), round_id, "VMIDWAY")

    running.meanwhile(lambda: facilitation.delete(running.bot, OPERATOR, round_id),
                      "the deletion under way in Slack", opened)
    assert _form_now(running, "VMIDWAY").endswith(
        f"round {round_id}'s answers were deleted, so there is nothing left to edit.")
    assert running.scalars(select(BotMessage)) == []


def _send_draft_to(running: Running, user: str) -> None:
    """The waiting draft, sent to `user` too (as when a facilitator is added)."""
    [digest_id] = running.scalars(select(Digest.id).where(Digest.state == "review"))
    digest_review.send_drafts(running.database.sessions, running.bot.gateways, digest_id,
                              running.bot.clock, to=[user])


def _removed_note(running: Running, round_id: int) -> str:
    return (f"This draft of round {round_id}'s digest was removed on "
            f"{day_in_words(running.bot.clock())}: the round's answers were deleted.")


@pytest.mark.each_database
@pytest.mark.parametrize("how", ["delete", "purge"])
def test_a_draft_sent_while_its_round_s_answers_are_being_deleted_is_replaced_with_them(
        running: Running, how: str) -> None:
    """The deletion (or the end of the retention period) first replaces the round's drafts
    in Slack, then deletes its rows: a draft sent to someone meanwhile, and recorded, is
    replaced too, not left quoting the deleted answers."""
    round_id = drafted(running)
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    closing = closing_round(running, round_id, how)
    running.stub.hold("chat.update", lambda params: True)  # the first draft being replaced
    running.meanwhile(closing, "the deletion under way in Slack",
                      lambda: _send_draft_to(running, CO_FACILITATOR))
    draft = running.wait_for(lambda: (m := draft_in(running, CO_FACILITATOR)).get(
        "text") == _removed_note(running, round_id) and m, "the draft replaced")
    assert TIME[0] not in json.dumps(draft)


@pytest.mark.each_database
@pytest.mark.parametrize("how", ["delete", "purge"])
def test_a_draft_being_sent_as_its_round_s_answers_are_deleted_is_replaced_after(
        running: Running, how: str) -> None:
    """A draft is in the chat, but Slack has not said where yet, while the round's answers
    are deleted: once Slack answers, it is replaced, as the deletion replaces those it
    knows of."""
    round_id = drafted(running)
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    closing = closing_round(running, round_id, how)
    running.stub.withhold("chat.postMessage",
                          lambda params: params.get("channel") == "D" + CO_FACILITATOR)
    running.meanwhile(lambda: _send_draft_to(running, CO_FACILITATOR), "the draft, posted",
                      closing)
    draft = running.wait_for(lambda: (m := draft_in(running, CO_FACILITATOR)).get(
        "text") == _removed_note(running, round_id) and m, "the draft replaced")
    assert TIME[0] not in json.dumps(draft)
    assert running.scalars(select(BotMessage).where(BotMessage.round_id == round_id)) == []


@pytest.mark.parametrize(("how", "gone"), [
    ("delete", " was deleted, with its answers and drafts,"),
    ("purge", "'s answers were deleted (retention)")])
def test_review_says_the_round_was_deleted_when_it_is_as_the_draft_is_sent(
        running: Running, how: str, gone: str) -> None:
    """`/roundtable review` sends the facilitator the draft again; the round's answers are
    deleted while Slack posts it. The draft says it was removed, and the facilitator is told
    why they have none: the round was deleted (not that it could not be sent)."""
    round_id = drafted(running)
    draft_in(running, FACILITATOR)
    closing = closing_round(running, round_id, how)
    running.stub.withhold("chat.postMessage",
                          lambda params: params.get("channel") == "D" + FACILITATOR)
    answers = len(running.stub.calls_to("response_url"))
    assert running.slack.command(FACILITATOR, f"review {round_id}").status == 200
    try:
        running.wait_for(lambda: running.stub.withheld, "the draft, posted")
        closing()
    finally:
        running.stub.release()
    told = respond_text(running, answers, "")  # the command's answer
    assert told == f"Round {round_id}{gone} while its draft was being sent to you."
    drafts = [c for c in running.stub.posted("D" + FACILITATOR)
              if "For review" in json.dumps(c.params.get("blocks"))]
    assert len(drafts) == 2
    assert running.wait_for(lambda: (m := running.stub.message(
        "D" + FACILITATOR, drafts[-1].answer["ts"])) and m.get("text") == _removed_note(
        running, round_id), "the draft sent again, replaced")


@pytest.mark.each_database
def test_deleting_a_round_names_a_draft_sent_meanwhile_that_slack_kept(
        running: Running) -> None:
    """The deletion is replacing the round's draft in Slack when the draft is sent to a
    co-facilitator too: the deletion replaces that one once the round's rows are gone, and
    when Slack will not let it, the facilitator who deleted the round is told, as of the
    messages it could not remove before."""
    round_id = drafted(running)
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    delete = delete_button(running, round_id)
    running.stub.withhold("chat.update", lambda params: params.get("channel") == "D" + FACILITATOR)
    running.stub.refuse("chat.update",
                        lambda params: params.get("channel") == "D" + CO_FACILITATOR,
                        status=200, error="cant_update_message")
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, delete["action_id"], delete["value"])
    try:
        running.wait_for(lambda: running.stub.withheld, "the first draft being replaced")
        _send_draft_to(running, CO_FACILITATOR)
    finally:
        running.stub.release()
    done = respond_text(running, answers, "is deleted")
    assert done.startswith(f"Round {round_id} is deleted, with its "), done
    assert done.endswith("1 message of mine holding someone's words could not be removed in "
                         "Slack (cant_update_message): ask an admin to remove it."), done
    assert TIME[0] in json.dumps(draft_in(running, CO_FACILITATOR))  # as it says
    with running.database.sessions() as session:  # both passes, as `roundtable audit` shows
        assert [(e.action, e.detail.split("; ")[-1]) for e in audit.entries(session, round_id)
                if e.action.startswith("round.delete")] == [
            ("round.delete", "1 message holding someone's words deleted in chat"),
            ("round.delete.meanwhile",
             "0 messages holding someone's words deleted in chat, 1 could not be")]


def test_a_form_saved_or_cancelled_is_no_longer_kept_to_be_closed(running: Running) -> None:
    """A form Slack has closed (saved, or cancelled) needs no closing later: its record
    goes, so records of forms do not pile up."""
    drafted(running)
    saved, saved_id = _open_and_shown(running)
    answered = running.slack.submit(FACILITATOR, saved.answer["view"], {
        "rename_theme": theme(saved, "rename_theme", 1),
        "rename_title": {"value": {"value": "Time away from the dispensary"}}})
    assert answered.status == 200 and not answered.body, answered.body
    cancelled, cancelled_id = _open_and_shown(running)
    assert running.slack.interact({
        "type": "view_closed", "user": {"id": FACILITATOR, "team_id": TEAM},
        "view": cancelled.answer["view"], "is_cleared": False}).status == 200
    running.stub.close_view(cancelled_id)
    running.wait_for(lambda: not running.scalars(select(BotMessage.message_id).where(
        BotMessage.kind == FORM)), "the forms' records gone")


def test_a_facilitator_who_is_forgotten_leaves_no_id_with_the_forms_they_opened(
        running: Running) -> None:
    drafted(running)
    _open_and_shown(running)
    assert running.slack.command(FACILITATOR, "forget-me").status == 200
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "cannot be undone" in c.params.get("text", "")], "the question")
    assert running.slack.click(FACILITATOR, "forget_confirm").status == 200
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "Done." in c.params.get("text", "")], "done")
    assert [m for m in running.scalars(select(BotMessage))
            if FACILITATOR in (m.channel_id, m.message_id)] == []


def test_a_facilitator_s_data_lists_the_edit_forms_they_opened(running: Running) -> None:
    round_id = drafted(running)
    _open_and_shown(running)
    [opened] = running.scalars(select(BotMessage.created_at).where(BotMessage.kind == FORM))
    with running.database.sessions() as session:
        participant = Participant(platform="slack", platform_user_id=FACILITATOR,
                                  created_at=NOW)  # as someone who also answers would be
        session.add(participant)
        session.commit()
    assert running.slack.command(FACILITATOR, "my-data").status == 200
    [(_, content)] = running.wait_for(lambda: running.stub.uploaded("D" + FACILITATOR),
                                      "the file")
    held = json.loads(content)
    assert held["facilitator"]["edit_forms_opened"] == [
        {"round": round_id, "opened_at": opened.isoformat(),
         "what": "An edit form of a draft digest, open in Slack until you closed it: "
                 "Roundtable keeps its id to close it if the answers it lists are deleted."}]


def test_a_form_saved_after_someone_it_moves_is_forgotten_says_their_answer_was_deleted(
        running: Running) -> None:
    """The facilitator moves two answers to a new theme in a form opened before one writer
    asked to be forgotten (the bot could not close the form in time): the refusal says that
    answer was deleted and nothing was saved, not that the round never had it."""
    round_id = drafted(running)
    form = open_form(running)
    [move] = [b for b in form.params["view"]["blocks"] if b.get("block_id") == "move_answer"]
    options = move["element"]["options"]
    [gone] = [o for o in options if TIME[0][:30] in o["text"]["text"]]
    kept = next(o for o in options if o is not gone)
    [user] = running.scalars(select(Participant.platform_user_id).join(
        Reply, Reply.participant_id == Participant.id).where(Reply.text == TIME[0]))
    forget(running.bot, OPERATOR, "slack", user)

    refused = running.slack.submit(FACILITATOR, form.answer["view"], {
        "move_answer": {"value": {"selected_options": [gone, kept]}},
        "move_to": {"value": {"selected_option": {"value": "new"}}},
        "new_title": {"value": {"value": "Time to lead"}}})

    assert refused.json()["errors"]["new_title"] == (
        f"Answer {gone['value']} is deleted (its writer deleted it or asked to be "
        "forgotten), so nothing was saved: unselect it and save again."), refused.body
    assert "Time to lead" not in json.dumps(draft_in(running, FACILITATOR)["blocks"])
    assert running.scalars(select(DigestEdit).where(DigestEdit.round_id == round_id)) == []


def test_an_approved_draft_names_who_approved_it_as_slack_shows_a_person(
        running: Running) -> None:
    """Once approved, each facilitator's draft says who approved it: the person as Slack
    names them, never the audit log's `slack:U…` key; at the command line, said so."""
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    drafted(running, co_facilitator=True)
    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    settled = running.wait_for(lambda: "and posted" in as_read(
        draft_in(running, CO_FACILITATOR)["blocks"]) and draft_in(running, CO_FACILITATOR),
        "the co-facilitator's draft marked approved")
    read = as_read(settled["blocks"], running.stub).splitlines()
    assert "Approved by @Fola Facilitator and posted." in read, read
    assert "slack:" not in json.dumps(settled["blocks"])

    later = drafted(running)
    review.approve(running.bot, OPERATOR, later)
    shown = running.wait_for(lambda: [as_read(m["blocks"]) for m in (
        running.stub.message(c.params["channel"], c.answer["ts"])
        for c in running.stub.posted("D" + FACILITATOR)
        if c.params["text"].startswith(f"Draft digest of round {later} "))
        if m and "and posted" in as_read(m["blocks"])], "the later draft marked approved")
    assert "Approved at the command line and posted." in shown[0].splitlines(), shown


def test_an_edit_form_slack_would_not_open_says_so_and_to_press_edit_again(
        running: Running) -> None:
    """Slack refuses to open the edit form (views.open): the facilitator is told it could not
    be opened and to press Edit again, nothing is kept as an open form, and Edit pressed again
    opens it."""
    round_id = drafted(running)
    running.stub.refuse("views.open", lambda p: True, status=200, error="expired_trigger_id")
    edit = button(draft_in(running, FACILITATOR), f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    told = respond_text(running, answers, "could not be opened")
    assert told == (f"The edit form on the draft digest of round {round_id} could not be "
                    "opened (expired_trigger_id). Press Edit on the draft again.")
    assert running.scalars(select(BotMessage).where(BotMessage.kind == FORM)) == []
    assert open_form(running).params["view"]["blocks"]
    running.wait_for(lambda: running.scalars(select(BotMessage).where(
        BotMessage.kind == FORM)), "the form kept as open")


def test_an_approval_slack_refuses_for_good_says_how_to_post_it_and_approve_again_does(
        running: Running) -> None:
    """The bot is not in the digest channel: the approval says why the digest could not be
    posted and what posts it once that is fixed, and the drafts say it was not posted and keep
    Approve; once the bot is invited, Approve pressed again posts it, once, and a second
    facilitator's approval after that posts nothing."""
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    round_id = drafted(running, co_facilitator=True)
    running.stub.refuse("chat.postMessage", lambda p: p.get("channel") == DIGEST_CHANNEL,
                        times=20, status=200, error="not_in_channel")
    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    told = respond_text(running, answers, "could not be posted")
    assert (f"The digest of round {round_id} could not be posted: not_in_channel. Invite "
            "@Roundtable to the channel (type /invite @Roundtable there). Then press Approve on "
            "the draft again to post it.") in told, told
    assert tops(running) == []
    refused = running.wait_for(lambda: "but not posted" in as_read(
        draft_in(running, CO_FACILITATOR)["blocks"]) and draft_in(running, CO_FACILITATOR),
        "the co-facilitator's draft saying it was not posted")
    assert NOT_IN_CHANNEL in as_read(refused["blocks"], running.stub).splitlines()
    assert button(refused, review_blocks.REVIEW_APPROVE)

    running.stub.refuse_no_more()  # the bot was invited
    approve_and_see_it_posted(running, FACILITATOR, approve, round_id)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(CO_FACILITATOR, approve["action_id"], approve["value"])
    again = respond_text(running, answers, "already approved")
    assert "and posted; nothing more was posted" in again, again
    assert len(tops(running)) == 1
    [row] = running.scalars(select(Digest))
    assert row.state == "posted"
    posted_draft = draft_in(running, CO_FACILITATOR)
    assert "Approved by @Fola Facilitator and posted." in as_read(
        posted_draft["blocks"], running.stub).splitlines()
    assert review_blocks.REVIEW_APPROVE not in json.dumps(posted_draft["blocks"])


def test_a_digest_slack_refuses_for_good_at_its_review_deadline_says_so_on_every_draft(
        running: Running) -> None:
    """Nobody approved it and the round posts it as built at its deadline, but the bot is not
    in the digest channel: every facilitator's draft says it was not posted, why, and what to
    do, and keeps Approve, which posts it once the bot is invited."""
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    round_id = drafted(running, co_facilitator=True, unreviewed="post", hours=24)
    draft_in(running, FACILITATOR)
    draft_in(running, CO_FACILITATOR)
    running.stub.refuse("chat.postMessage", lambda p: p.get("channel") == DIGEST_CHANNEL,
                        times=20, status=200, error="not_in_channel")
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(hours=25), "Europe/London"))
    jobs.settle_reviews()
    assert tops(running) == []
    said_now = ("Not posted at its review deadline: the digest channel refused it: "
                "not_in_channel. Invite @Roundtable to the channel (type /invite @Roundtable "
                "there). Then approve it to post it.")
    for user in (FACILITATOR, CO_FACILITATOR):
        refused = draft_in(running, user)
        assert said_now in as_read(refused["blocks"], running.stub).splitlines(), as_read(
            refused["blocks"], running.stub)
        assert button(refused, review_blocks.REVIEW_APPROVE)

    running.stub.refuse_no_more()  # the bot was invited
    approve = button(draft_in(running, CO_FACILITATOR), review_blocks.REVIEW_APPROVE)
    approve_and_see_it_posted(running, CO_FACILITATOR, approve, round_id)
    assert "Approved by @Cora Cofacilitator and posted." in as_read(
        draft_in(running, FACILITATOR)["blocks"], running.stub).splitlines()


def test_an_approval_slack_fails_to_post_is_kept_and_says_it_will_be_posted(
        running: Running) -> None:
    """Slack failing the digest's post does not undo the approval: the facilitator is told it
    is approved and will be posted when Slack takes it, a second approval meanwhile does not
    claim it was posted, and the recovery posts it once."""
    round_id = drafted(running, co_facilitator=True)
    # Slack's own "could not complete the operation", which trying again may mend
    running.stub.refuse("chat.postMessage", lambda p: p.get("channel") == DIGEST_CHANNEL,
                        times=20, status=200, error="fatal_error")
    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    told = respond_text(running, answers, "")  # the command's answer
    assert told.startswith(f"Approved: the digest of round {round_id} could not be posted "
                           "yet"), told
    assert "tries again" in told and "not done" not in told
    assert tops(running) == []
    copy = running.wait_for(lambda: [line for line in as_read(
        draft_in(running, FACILITATOR)["blocks"], running.stub).splitlines()
        if line.startswith("Approved")], "the draft's copy to settle")
    assert copy == ["Approved by @Fola Facilitator, and not posted yet: Roundtable tries again "
                    "within about a quarter of an hour."], copy

    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(CO_FACILITATOR, approve["action_id"], approve["value"])
    again = respond_text(running, answers, "already approved")
    assert "not posted yet" in again and "and posted" not in again, again

    running.stub.refuse_no_more()
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(minutes=30), "Europe/London"))
    jobs.recover_digests()
    assert len(tops(running)) == 1
    [row] = running.scalars(select(Digest))
    assert (row.state, row.approved_by) == ("posted", f"slack:{FACILITATOR}")
    assert "Approved by @Fola Facilitator and posted." in as_read(
        draft_in(running, FACILITATOR)["blocks"], running.stub).splitlines()


def test_an_approved_digest_slack_refuses_for_good_at_recovery_says_so_on_every_draft(
        running: Running) -> None:
    """Approved while Slack failed for a passing reason, then the bot was taken out of the
    digest channel before recovery tried again: recovery gives it up as an approval refused
    for good does (every draft says why and keeps Approve) instead of trying at every sweep;
    once the bot is invited, Approve posts it once."""
    running.stub.add_user(CO_FACILITATOR, "Cora Cofacilitator")
    round_id = drafted(running, co_facilitator=True)
    running.stub.refuse("chat.postMessage", lambda p: p.get("channel") == DIGEST_CHANNEL,
                        times=20, status=200, error="fatal_error")
    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    respond_text(running, answers, "could not be posted yet")
    running.stub.refuse_no_more()
    for method in ("conversations.history", "chat.postMessage"):  # the bot was removed
        running.stub.refuse(method, lambda p: p.get("channel") == DIGEST_CHANNEL, times=20,
                            status=200, error="not_in_channel")

    for at in (FRIDAY_NOON + timedelta(minutes=30), FRIDAY_NOON + timedelta(minutes=60)):
        # the second sweep finds nothing to try again
        jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                     lambda at=at: at, "Europe/London"))
        jobs.recover_digests()
    assert len(running.stub.calls_to("conversations.history", ok_only=False)) == 1
    assert tops(running) == []
    [row] = running.scalars(select(Digest))
    assert (row.state, row.refused_reason) == ("failed", "not_in_channel")
    for user in (FACILITATOR, CO_FACILITATOR):
        refused = draft_in(running, user)
        assert NOT_IN_CHANNEL in as_read(refused["blocks"], running.stub).splitlines()
        assert button(refused, review_blocks.REVIEW_APPROVE)

    running.stub.refuse_no_more()  # the bot was invited
    approve_and_see_it_posted(running, CO_FACILITATOR, approve, round_id)
