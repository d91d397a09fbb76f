"""A digest in review reaches a Teams facilitator as a card: each question has an Edit button
that opens its form in the card (rename, merge, move an answer, hide quotes, write its lead),
and the card has Approve. What the forms change shows in the digest posted to the team's
channel, once; a half-filled form, a refused change and a non-facilitator's form change
nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import facilitation, review
from bot.app.actors import OPERATOR, Actor
from bot.app.personal_data import forget
from bot.app.review_form import theme_value
from bot.core import audit
from bot.core.bot_messages import DRAFT
from bot.core.dates import local_time
from bot.core.digest.edits import LEAD_LIMIT, TITLE_LIMIT
from bot.core.digest.model import (
    AnswerView,
    DigestView,
    Draft,
    PromptDigest,
    QuoteView,
    RoundInfo,
    ThemeView,
)
from bot.core.digest.render_review import theme_size
from bot.core.errors import Refusal
from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.scheduling import jobs
from bot.teams.connector import RETRIES
from bot.teams.gateway import TeamsGateway
from bot.teams.render import MAX_CARD_BYTES, size
from bot.teams.review_cards import draft_card, form_fields
from storage.db import transaction
from storage.models import (
    AuditEntry,
    BotMessage,
    Digest,
    DigestEdit,
    Reply,
    Round,
    RoundFacilitator,
    TeamsSent,
)
from storage.reach import FORM
from tests.conftest import NOW
from tests.helpers import day_in_words
from tests.review_round import PROMPT, answer_all, current, question, text_of, unquoted_in
from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import start_from_channel
from tests.teams_connector_stub import Call, Person, card_text

FRIDAY_NOON = NOW + timedelta(days=4, hours=2)
VOTE = "support-factors"
LEAD = "Most of you asked for protected time first."
Card = dict[str, Any]

NOT_SAVED = "I could not save that."


def draft_for_review(running: RunningTeams, tenant: Tenant, comments: int = 0
                     ) -> tuple[int, Card]:
    """A round started from the team's channel, answered (with `comments` written on its
    vote), its digest built at its time: the round's id, and the draft card the facilitator
    got."""
    start_from_channel(running, tenant)
    [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
    assert round_.review == "review"  # a round with a digest channel is reviewed by default
    with transaction(running.database.sessions) as session:
        answer_all(session, round_.id, [p.aad for p in tenant.members], NOW, "teams")
        author = find_participant(session, tenant.members[0].aad, "teams")
        assert author is not None
        session.add_all(Reply(round_id=round_.id, prompt_id=VOTE, participant_id=author.id,
                              text=f"Comment {n} on the support we had", source="chat",
                              created_at=NOW) for n in range(comments))
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_.id)
    draft = running.wait_for(lambda: [c for c in running.stub.sent_to(tenant.facilitator)
                                      if "For review" in card_text(c)], "the draft card")[0]
    return round_.id, content(draft)


def content(call: Call) -> Card:
    return dict(call.body["attachments"][0]["content"])


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def buttons(card: Card, verb: str) -> list[dict[str, Any]]:
    """The buttons of the card (in its body's action sets too) that do `verb`."""
    found = [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]]
    return [a for a in [*found, *card.get("actions", [])] if a["data"]["roundtable"] == verb]


def edit_button(card: Card, prompt_id: str) -> dict[str, Any]:
    [edit] = [b for b in buttons(card, "digest-open") if b["data"]["prompt"] == prompt_id]
    return edit


def opened(running: RunningTeams, person: Person, card: Card, prompt_id: str) -> Card:
    """The card Teams shows once Edit is pressed by the question (an Action.Execute: the card
    comes back in the HTTP answer)."""
    [answer] = running.teams.submit(person, dict(edit_button(card, prompt_id)["data"]))
    assert answer.json()["type"] == "application/vnd.microsoft.card.adaptive", answer.body
    return dict(answer.json()["value"])


def form_of(card: Card, round_id: int, prompt_id: str) -> tuple[Card, dict[str, Card]]:
    """The open form on a draft card: its Save changes button, and its inputs by field."""
    [save] = buttons(card, "digest-edit")
    assert save["type"] == "Action.Submit" and save["data"]["prompt"] == prompt_id
    suffix = f"-{round_id}-{prompt_id}"
    return save, {e["id"][: -len(suffix)]: e for e in card["body"]
                  if str(e.get("id", "")).endswith(suffix)}


def filled(save: Card, inputs: dict[str, Card], **values: str) -> dict[str, Any]:
    """What Teams sends for the form: the button's data and every input's value."""
    sent = {e["id"]: e.get("value", "") for e in inputs.values()}
    sent.update({inputs[field]["id"]: value for field, value in values.items()})
    return {**save["data"], **sent}


def said_to(running: RunningTeams, person: Person, words: str) -> str:
    found = running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(person)
                                      if words in card_text(c)], repr(words))
    return str(found[0])


def updates(running: RunningTeams, person: Person) -> list[Card]:
    """The cards the bot put in place of its earlier ones in `person`'s chat."""
    chat = running.stub.chat_of(person)
    return [content(c) for c in list(running.stub.calls)
            if c.method == "PUT" and c.conversation == chat and c.status == 200]


def digest_cards(running: RunningTeams, tenant: Tenant) -> list[Call]:
    """The digest's cards in the channel: the top card and the replies under it."""
    channel = tenant.team.channel_id
    return [c for c in running.stub.sent() if (c.conversation == channel and card_text(
        c).startswith("Digest: ")) or (c.conversation or "").startswith(channel + ";messageid=")]


def edits(running: RunningTeams) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in running.scalars(select(DigestEdit))]


def test_a_teams_facilitator_edits_the_draft_in_its_card_and_the_digest_shows_it(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    assert "roundtable digest review" not in json_text(draft)
    assert buttons(draft, "digest-edit") == []  # forms open one at a time, on Edit
    before = question(current(running.database, round_id, NOW))
    renamed, kept, merged = before.themes[0], before.themes[2], before.themes[3]
    moved = unquoted_in(before, 2)
    hidden = renamed.quotes[0].reply_id
    view = current(running.database, round_id, NOW)
    moved_text, hidden_text = text_of(view, moved), text_of(view, hidden)

    card = opened(running, facilitator, draft, PROMPT)
    save, inputs = form_of(card, round_id, PROMPT)
    assert (inputs["rename_title"]["maxLength"], inputs["lead"]["maxLength"]) == (
        TITLE_LIMIT, LEAD_LIMIT)
    assert inputs["hide"]["isMultiSelect"] is True
    assert {c["value"] for c in inputs["move_to"]["choices"]} >= {"1", "2", "other"}
    assert moved in {c["value"] for c in inputs["move_answer"]["choices"]}
    assert hidden in {c["value"] for c in inputs["hide"]["choices"]}
    running.teams.submit(facilitator, filled(
        save, inputs, rename_theme="1", rename_title="Time away from the dispensary",
        merge_theme="4", merge_into="3", move_answer=moved, move_to="other", hide=hidden,
        lead=LEAD), execute=False)

    reply = said_to(running, facilitator, "Time away from the dispensary")
    assert f"Theme {PROMPT}/4 is merged into theme {PROMPT}/3" in reply
    assert f"Answer {moved} is now in Other answers." in reply
    assert f"Answer {hidden} is no longer quoted; it still counts." in reply
    # the lead's own full stop ends the sentence: none after the closing quotation mark
    assert f"The lead of {PROMPT} is “{LEAD}”" in reply and f"“{LEAD}”." not in reply
    now = running.wait_for(lambda: [c for c in updates(running, facilitator)
                                    if "Time away from the dispensary" in json_text(c)],
                           "the draft card brought up to date")[-1]
    assert LEAD in json_text(now) and buttons(now, "digest-edit") == []
    assert {action for action, _ in edits(running)} == {"rename", "merge", "move", "hide",
                                                         "lead"}

    [approve] = buttons(now, "digest-approve")
    answered = running.teams.submit(facilitator, dict(approve["data"]))
    assert answered[0].json()["value"].startswith(f"Approved: the digest of round {round_id}")
    running.wait_for(lambda: [c for c in digest_cards(running, tenant) if LEAD in card_text(c)],
                     "the question's card in the channel, with its lead")
    lines = "\n".join(card_text(c) for c in digest_cards(running, tenant)).splitlines()
    assert any(line.startswith("Time away from the dispensary  ·") for line in lines)
    assert not any(line.startswith(f"{renamed.title}  ·") for line in lines)
    assert not any(line.startswith(f"{merged.title}  ·") for line in lines)
    assert any(line.startswith(f"{kept.title}  ·  "
                               f"{len(kept.reply_ids) + len(merged.reply_ids)} answers")
               for line in lines)
    others = lines[next(n for n, line in enumerate(lines)
                        if line.startswith("Other answers (")):]
    assert any(moved_text.strip() in line for line in others)
    assert not any(hidden_text.strip() in line for line in lines)
    me = f"teams:{facilitator.aad}"
    audited = [(e.actor, e.action) for e in running.scalars(
        select(AuditEntry).where(AuditEntry.round_id == round_id))]
    for action in ("digest.rename", "digest.merge", "digest.move", "digest.hide",
                   "digest.lead", "digest.approve"):
        assert (me, action) in audited, action


def test_the_teams_draft_shows_what_each_theme_will_quote_with_the_ids_edits_name(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As in Slack: under each numbered theme, the beginning of each quote the digest will post
    and its answer's id; a facilitator approves nothing they have not read."""
    running = running_teams
    round_id, draft = draft_for_review(running, tenant)
    themes = question(current(running.database, round_id, NOW)).themes
    lines = rich_text(draft).splitlines()
    for number, theme in enumerate(themes, start=1):
        at = lines.index(f"{number}. {theme.title} · {theme_size(theme)}")
        quoted = lines[at + 1:at + 1 + len(theme.quotes)]
        assert len(quoted) == len(theme.quotes) > 0
        for line, quote in zip(quoted, theme.quotes, strict=True):
            assert line.startswith("“" + " ".join(quote.text.split())[:60]), line
            assert line.endswith(f"” — unattributed {quote.reply_id}"), line


def test_the_teams_draft_says_when_it_is_settled_if_nobody_approves_it(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As Slack and the command line do: the deadline, in the service's zone, and what then."""
    running = running_teams
    round_id, draft = draft_for_review(running, tenant)
    with running.database.sessions() as session:
        digest = session.scalars(select(Digest).where(Digest.round_id == round_id)).one()
        round_ = session.get_one(Round, round_id)
        assert digest.review_until is not None
        until = digest.review_until.replace(tzinfo=UTC)
        assert round_.unreviewed == "wait"
    assert ("Nothing is posted until a facilitator approves it. If nobody has approved it by "
            f"{local_time(until, 'Europe/London')}, it keeps waiting for approval."
            in rich_text(draft)), rich_text(draft)


def test_an_edit_pressed_on_a_card_id_longer_than_teams_gives_gets_400_and_stores_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A replyToId is taken within the length an activity's own id is: a hostile one opens
    no form, is not noted among the cards with a form open, and is asked of Teams nowhere;
    the same Edit on the real card opens the form."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    hostile = "1:" + "9" * 300
    [answered] = running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]),
                                      execute=False, card_id=hostile)
    assert answered.status == 400
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []
    assert not [c for c in running.stub.calls if "9" * 300 in c.path]

    running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]), execute=False,
                         card_id=card_id)
    card = running.wait_for(lambda: updates(running, facilitator), "the form opened")[0]
    form_of(card, round_id, PROMPT)
    kept = running.wait_for(lambda: running.scalars(select(TeamsSent).where(
        TeamsSent.kind == FORM)), "the form kept as open, once its card shows it")
    assert [t.activity_id for t in kept] == [card_id]


def test_a_half_filled_or_refused_form_changes_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    # a client without Action.Execute: Edit comes as a message, the card is replaced in place
    running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]), execute=False,
                         card_id=card_id)
    card = running.wait_for(lambda: updates(running, facilitator), "the form opened")[0]
    save, inputs = form_of(card, round_id, PROMPT)

    running.teams.submit(facilitator, filled(save, inputs, rename_theme="1"), execute=False)
    assert said_to(running, facilitator, NOT_SAVED) == (
        "I could not save that. Give both the theme and its new title.")
    running.teams.submit(facilitator, filled(save, inputs, rename_theme="1",
                                             rename_title="Kept?", merge_theme="2",
                                             merge_into="2"), execute=False)
    said_to(running, facilitator, "merged into itself")
    assert edits(running) == [] and len(updates(running, facilitator)) == 1


def test_a_form_submitted_by_someone_not_a_facilitator_is_refused(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, member = running_teams, tenant.members[0]
    round_id, draft = draft_for_review(running, tenant)
    running.wait_for(lambda: running.stub.sent_to(member), "the member's chat with the bot")
    [refused] = running.teams.submit(member, dict(edit_button(draft, PROMPT)["data"]))
    assert "Only facilitators can use review." in refused.json()["value"]
    save, inputs = form_of(opened(running, tenant.facilitator, draft, PROMPT), round_id,
                           PROMPT)
    running.teams.submit(member, filled(save, inputs, rename_theme="1",
                                        rename_title="Mine now", lead="Mine"), execute=False)
    assert "Only facilitators can use review." in said_to(running, member, NOT_SAVED)
    assert edits(running) == [] and updates(running, tenant.facilitator) == []


def test_a_teams_facilitator_approves_a_reviewed_digest_once(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, stub, channel = running_teams, running_teams.stub, tenant.team.channel_id
    round_id, card = draft_for_review(running, tenant)

    def digests() -> list[object]:
        return [c for c in stub.sent(channel) if card_text(c).startswith("Digest: ")]

    assert digests() == []
    [approve] = card["actions"]
    answered = running.teams.submit(tenant.facilitator, dict(approve["data"]))
    assert answered[0].json()["value"].startswith(f"Approved: the digest of round {round_id}")
    tops = running.wait_for(digests, "the digest in the channel")
    again = running.teams.submit(tenant.facilitator, dict(approve["data"]))
    # who approved it by their name in Teams, not by the id the audit log keeps
    assert again[0].json()["value"] == (f"The digest of round {round_id} was already approved "
                                        "by Fola and posted; nothing more was posted.")
    assert len(tops) == 1 and digests() == tops


def test_a_card_refused_by_teams_for_good_says_why_after_a_later_edit_too(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams refuses the approved digest for good (the app removed from the team): the
    facilitator's card says why and what to fix, and still does once the draft is edited
    from the command line, until the digest is posted."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    why = ("the digest channel refused it: ServiceError. Teams refused: the app may have been "
           "removed, or blocked by this person or the tenant's admin. Add Roundtable to the "
           "team (or for the person) again. Then approve it again.")
    stub.fail_next("send", status=403, where=tenant.team.channel_id)
    [approve] = buttons(card, "digest-approve")
    [answered] = running.teams.submit(fola, dict(approve["data"]))
    assert "could not be posted: ServiceError" in answered.json()["value"], answered.body
    refused = running.wait_for(lambda: updates(running, fola), "the card saying so")[-1]
    assert f"Approved by Fola, but not posted: {why}" in rich_text(refused), rich_text(refused)

    review.edit(running.bot, OPERATOR, round_id, [review.Change("lead", PROMPT, text=LEAD)])
    now = running.wait_for(lambda: [c for c in updates(running, fola)
                                    if LEAD in json_text(c)], "the card brought up to date")[-1]
    assert f"Approved by Fola, but not posted: {why}" in rich_text(now), rich_text(now)
    assert buttons(now, "digest-approve")


def test_an_approved_draft_card_names_who_approved_it_by_their_teams_name(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Once approved, the facilitator's draft card says who approved it, by the name Teams
    shows, as Slack's draft does: never an id, nor someone unnamed."""
    running, facilitator = running_teams, tenant.facilitator
    _, card = draft_for_review(running, tenant)
    [approve] = card["actions"]
    running.teams.submit(facilitator, dict(approve["data"]))
    settled = running.wait_for(lambda: [c for c in updates(running, facilitator)
                                        if "and posted" in rich_text(c)],
                               "the draft card marked approved")[-1]
    read = rich_text(settled).splitlines()
    assert "Approved by Fola and posted." in read, read
    assert facilitator.aad not in json_text(settled)


def test_a_long_draft_opens_one_form_listing_fewer_answers_and_says_so() -> None:
    prompts = []
    for q in range(6):
        answers = [AnswerView(f"ans-{q}-{n}", f"Answer {n} to question {q}, " + "words " * 30,
                              None, None, False) for n in range(100)]
        themes = [ThemeView(f"Theme {t} of question {q}", "", [QuoteView(
            a.reply_id, a.text, None) for a in answers[t * 10:t * 10 + 3]],
            [a.reply_id for a in answers[t * 10:(t + 1) * 10]], {}, "chat") for t in range(10)]
        prompts.append(PromptDigest(f"q{q}", "Section", "text", f"Question {q}?", 100,
                                    themes=themes, answers=answers))
    info = RoundInfo(7, "pack", "A long round", "", "", "open", "named", "", None, "")
    draft = Draft(3, "week", DigestView(info, {}, prompts), "review", None, "wait")
    closed = draft_card(draft)
    assert [b["data"]["prompt"] for b in buttons(closed, "digest-open")] == [
        f"q{q}" for q in range(6)]
    # quotes cut to fit, fewer to a theme, and the card says so
    assert size(closed) <= MAX_CARD_BYTES
    shows_command(closed, "Fewer quotes are shown than the digest posts, for the card to fit in "
                  "Teams; roundtable digest review 7 on the server shows them all.",
                  "roundtable digest review 7")
    card = draft_card(draft, "q2")
    assert size(card) <= MAX_CARD_BYTES
    save, inputs = form_of(card, 7, "q2")
    assert save["data"] == {"roundtable": "digest-edit", "round": 7, "digest": 3, "prompt": "q2",
                            "themes": [theme_value(n, t) for n, t in enumerate(
                                draft.view.prompts[2].themes, start=1)],
                            "seen": draft.view.round.generated_at}
    assert [c["value"] for c in inputs["rename_theme"]["choices"]] == [
        str(n) for n in range(1, 11)]  # the values once, in Save's data
    listed = inputs["move_answer"]["choices"]
    assert 0 < len(listed) < 100 and all(len(c["title"]) <= 75 for c in listed)
    shows_command(card, f"Listed: the first {len(listed)} of the 100 answers (a Teams form has "
                  "room for no more); roundtable digest review 7 on the server moves any.",
                  "roundtable digest review 7")
    assert [b["data"]["prompt"] for b in buttons(card, "digest-open")] == [
        "q0", "q1", "q2", "", "q3", "q4", "q5"]  # Edit by the others; Refresh, Close


def test_a_teams_form_listing_the_first_quotes_to_hide_says_so_as_slack_does(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A vote with more comments than a form lists: its form in the card says which it
    lists, and where any of them can be hidden instead, in the words Slack's form uses."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant, comments=105)
    card = opened(running, facilitator, draft, VOTE)
    _, inputs = form_of(card, round_id, VOTE)
    assert len(inputs["hide"]["choices"]) == 100
    shows_command(card, f"Listed: the first 100 of the 105 quotes (a Teams form has room for no "
                  f"more); roundtable digest review {round_id} on the server hides any.",
                  f"roundtable digest review {round_id}")


def test_quotes_to_hide_keep_ids_with_commas_apart() -> None:
    quotes = [QuoteView("row,1", "Named in a spreadsheet", None),
              QuoteView("ans-2", "Another", None)]
    prompt = PromptDigest("q", "S", "text", "Q?", 2, themes=[ThemeView(
        "Theme", "", quotes, ["row,1", "ans-2"], {}, "chat")], answers=[
        AnswerView(q.reply_id, q.text, None, None, False) for q in quotes])
    info = RoundInfo(7, "pack", "Imported", "", "", "open", "named", "", None, "")
    card = draft_card(Draft(3, "week", DigestView(info, {}, [prompt]), "review", None, "wait"),
                      "q")
    save, inputs = form_of(card, 7, "q")
    chosen = ",".join(c["value"] for c in inputs["hide"]["choices"])  # as Teams joins them
    fields = form_fields(filled(save, inputs, hide=chosen), 7, "q")
    assert fields["hide"] == ["row,1", "ans-2"]


def test_a_form_saved_from_a_draft_already_approved_changes_nothing_and_says_why(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    [approve] = buttons(draft, "digest-approve")
    running.teams.submit(facilitator, dict(approve["data"]))

    running.teams.submit(facilitator, filled(save, inputs, rename_theme="1",
                                             rename_title="Too late", lead=LEAD),
                         execute=False)
    assert said_to(running, facilitator, NOT_SAVED) == (
        f"I could not save that. That draft of round {round_id} was already approved and "
        "posted, so nothing was changed.")
    assert edits(running) == []


@pytest.mark.each_database
def test_a_form_saved_from_a_draft_replaced_meanwhile_changes_nothing_and_says_why(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    running.teams.chat(facilitator, f"digest {round_id}")  # posted by hand: the draft replaced
    said_to(running, facilitator, "takes the place of the draft")

    running.teams.submit(facilitator, filled(save, inputs, merge_theme="2", merge_into="1"),
                         execute=False)
    assert said_to(running, facilitator, NOT_SAVED) == (
        f"I could not save that. That draft of round {round_id} was replaced (by a newer "
        "draft, or a digest posted meanwhile), so nothing was changed; please edit the newest "
        "draft.")
    [reopened] = running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]))
    assert reopened.json()["value"] == (
        f"That draft of round {round_id} was replaced (by a newer draft, or a digest "
        "posted meanwhile), so nothing was changed; please edit the newest draft.")
    assert edits(running) == []


def test_review_sends_the_draft_again_and_says_it_is_in_the_teams_chat(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, _ = draft_for_review(running, tenant)
    running.teams.chat(facilitator, f"review {round_id}")
    assert said_to(running, facilitator, "The draft digest") == (
        f"The draft digest of round {round_id} is in your 1:1 chat with me.")
    running.wait_for(lambda: len([c for c in running.stub.sent_to(facilitator)
                                  if "For review" in card_text(c)]) == 2, "the draft again")


def test_answers_moved_to_a_new_theme_in_teams_post_as_that_theme(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The card's "Move answers" takes several answers; sent to "a new theme" with a title,
    they are that theme in the draft and in the digest posted to the channel."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    before = question(current(running.database, round_id, NOW))
    chosen = [before.themes[0].reply_ids[-1], before.themes[1].reply_ids[-1]]
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    assert inputs["move_answer"]["isMultiSelect"] is True
    assert {"new", "other"} <= {c["value"] for c in inputs["move_to"]["choices"]}
    running.teams.submit(facilitator, filled(save, inputs, move_answer=",".join(chosen),
                                             move_to="new"), execute=False)
    assert "Give the new theme its title." in said_to(running, facilitator, "new theme")
    running.teams.submit(facilitator, filled(
        save, inputs, move_answer=",".join(chosen), move_to="new",
        new_title="Someone to ask, inside or out"), execute=False)
    told = said_to(running, facilitator, "now a new theme, “Someone to ask, inside or out”.")
    assert f"Answers {chosen[0]} and {chosen[1]} of " in told
    now = running.wait_for(lambda: [c for c in updates(running, facilitator)
                                    if "Someone to ask, inside or out" in json_text(c)],
                           "the draft card brought up to date")[-1]
    [approve] = buttons(now, "digest-approve")
    running.teams.submit(facilitator, dict(approve["data"]))
    running.wait_for(lambda: [c for c in digest_cards(running, tenant)
                              if "Someone to ask, inside or out  ·  2 answers" in card_text(c)],
                     "the new theme in the channel")
    assert ("digest.group", f"teams:{facilitator.aad}") in {
        (e.action, e.actor) for e in running.scalars(select(AuditEntry))}


def test_an_answer_given_while_the_card_form_was_open_joins_the_new_theme_it_matches(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """An answer that came in after the form opened was not on it: when it says what the
    answers made a new theme say, the draft card shows it in that theme."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    view = current(running.database, round_id, NOW)
    chosen = question(view).themes[0].reply_ids[:3]
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    with transaction(running.database.sessions) as session:
        person = find_participant(session, tenant.members[0].aad, "teams")
        assert person is not None
        record_reply(session, round_id, PROMPT, person, text_of(view, chosen[0]),
                     running.bot.clock(), external_id="while-the-form-was-open")
    running.teams.submit(facilitator, filled(save, inputs, move_answer=",".join(chosen),
                                             move_to="new", new_title="Someone to ask"),
                         execute=False)
    running.wait_for(lambda: [c for c in updates(running, facilitator)
                              if "Someone to ask" in json_text(c)], "the draft with the theme")
    assert ". Someone to ask · 4 answers" in rich_text(updates(running, facilitator)[-1])


def rich_text(card: Card) -> str:
    """The card's paragraphs as a person reads them, one a line."""
    return "\n".join("".join(i.get("text", "") for i in e.get("inlines", []))
                     for e in card["body"] if e.get("type") == "RichTextBlock")


def monospace(card: Card) -> list[str]:
    """What the card shows in a fixed-width font (the runs set as code): Teams' cards show no
    inline code of Markdown, so a command set in backticks would show its backticks."""
    return [i["text"] for e in card["body"] if e.get("type") == "RichTextBlock"
            for i in e.get("inlines", []) if i.get("fontType") == "Monospace"]


def shows_command(card: Card, words: str, command: str) -> None:
    """The card reads `words` (which hold `command`), with the command in a fixed-width font
    and no backtick anywhere."""
    assert words in rich_text(card), rich_text(card)
    assert command in monospace(card), monospace(card)
    assert "`" not in rich_text(card)


def test_a_form_saved_after_another_edit_changes_the_theme_it_showed_or_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Forms open on three copies of the card (a card left open, a second device): a merge
    saved from one reorders the themes by size. Another card's rename of its theme 2 renames
    that theme, now first, and a card that names a theme merged away since is refused whole,
    naming it."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    first, second, third, _ = question(current(running.database, round_id, NOW)).themes
    mine, stale, merging = (form_of(opened(running, facilitator, draft, PROMPT), round_id,
                                    PROMPT) for _ in range(3))
    running.teams.submit(facilitator, filled(*merging, merge_theme="3", merge_into="2"),
                         execute=False)
    said_to(running, facilitator, f"Theme {PROMPT}/3 is merged into theme {PROMPT}/2")

    running.teams.submit(facilitator, filled(*mine, rename_theme="2",
                                             rename_title="Someone outside to learn from"),
                         execute=False)
    assert said_to(running, facilitator, "Someone outside") == (
        f"Theme {PROMPT}/1 is now “Someone outside to learn from”.")
    now = question(current(running.database, round_id, NOW))
    assert [(t.title, set(t.reply_ids)) for t in now.themes[:2]] == [
        ("Someone outside to learn from", {*second.reply_ids, *third.reply_ids}),
        (first.title, set(first.reply_ids))]

    saved = edits(running)
    running.teams.submit(facilitator, filled(*stale, rename_theme="1", rename_title="Mine",
                                             merge_theme="3", merge_into="1"), execute=False)
    assert said_to(running, facilitator, NOT_SAVED) == (
        f"I could not save that. Theme 3, “{third.title[:39].rstrip()}…”, has changed since "
        "this form was opened, so nothing was saved: please open the form again.")
    assert edits(running) == saved
    assert question(current(running.database, round_id, NOW)) == now


def test_a_hidden_answers_words_are_in_the_teams_form_and_not_in_the_draft(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The card's "Quote again" lists an answer hidden in review by its words; the draft
    cards, brought up to date after the hide, leave them out."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    hidden = question(current(running.database, round_id, NOW)).themes[0].quotes[0]
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    running.teams.submit(facilitator, filled(save, inputs, hide=hidden.reply_id),
                         execute=False)
    said_to(running, facilitator, f"Answer {hidden.reply_id} is no longer quoted")
    refreshed = running.wait_for(lambda: updates(running, facilitator), "the draft updated")
    assert not [c for c in refreshed if hidden.text[:40] in json_text(c)]

    _, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    [choice] = inputs["show"]["choices"]
    assert choice["value"] == hidden.reply_id
    assert choice["title"] == (hidden.text if len(hidden.text) <= 75
                               else hidden.text[:74].rstrip() + "…")


def test_a_reply_set_aside_as_not_an_answer_is_taken_for_one_from_the_teams_card(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As in Slack: the draft card counts the replies set aside, the form lists them first,
    and one moved to "Other answers" is shown there in the digest, no longer counted aside."""
    running, facilitator = running_teams, tenant.facilitator
    start_from_channel(running, tenant)
    [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
    with transaction(running.database.sessions) as session:
        answer_all(session, round_.id, [p.aad for p in tenant.members], NOW, "teams")
        person = find_participant(session, tenant.members[0].aad, "teams")
        assert person is not None
        record_reply(session, round_.id, PROMPT, person, "my mum", NOW, external_id="aside")
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_.id)
    draft = content(running.wait_for(lambda: [c for c in running.stub.sent_to(facilitator)
                                              if "For review" in card_text(c)],
                                     "the draft card")[0])
    assert "Set aside as not answers: 1" in json_text(draft)
    aside = next(a.reply_id for a in question(current(running.database, round_.id, NOW)
                                              ).answers if a.text == "my mum")

    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_.id, PROMPT)
    first = inputs["move_answer"]["choices"][0]
    assert (first["value"], first["title"]) == (aside, "(set aside as not an answer) my mum")
    running.teams.submit(facilitator, filled(save, inputs, move_answer=aside,
                                             move_to="other"), execute=False)
    assert (f"Answer {aside} is now in Other answers, taken for an answer."
            in said_to(running, facilitator, "is now in Other answers"))

    now = running.wait_for(lambda: [c for c in updates(running, facilitator)
                                    if "Set aside" not in json_text(c)],
                           "the draft card brought up to date")[-1]
    [approve] = buttons(now, "digest-approve")
    running.teams.submit(facilitator, dict(approve["data"]))
    running.wait_for(lambda: [c for c in digest_cards(running, tenant)
                              if "my mum" in card_text(c)], "the answer among the others")
    assert not any("not an answer" in card_text(c) for c in digest_cards(running, tenant))


def test_edit_pressed_on_a_draft_card_teams_no_longer_has_opens_the_form_in_a_new_card(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Submit's form replaces the card it was pressed on; where Teams says that card is
    gone, the facilitator still gets the form, as a new message."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    running.stub.gone.add(card_id)
    drafts_before = len([c for c in running.stub.sent_to(facilitator)
                         if "For review" in card_text(c)])
    running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]), execute=False,
                         card_id=card_id)
    card = running.wait_for(lambda: [c for c in running.stub.sent_to(facilitator)
                                     if "For review" in card_text(c)][drafts_before:],
                            "the form in a new card")[0]
    save, inputs = form_of(content(card), round_id, PROMPT)
    assert save["data"]["prompt"] == PROMPT and "rename_title" in inputs


def test_a_form_opened_in_a_new_card_is_closed_there_once_someone_it_lists_is_forgotten(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The draft's card is gone from Teams, so Edit (Action.Submit) brings the form as a new
    card: that card is the one kept as the draft's, with its form open, so forget-me replaces
    it (none of their words left) and tells the facilitator why."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    stub.gone.add(card_id)
    drafts_before = len([c for c in stub.sent_to(fola) if "For review" in card_text(c)])
    running.teams.submit(fola, dict(edit_button(draft, PROMPT)["data"]), execute=False,
                         card_id=card_id)
    new = running.wait_for(lambda: [c for c in stub.sent_to(fola)
                                    if "For review" in card_text(c)][drafts_before:],
                           "the form in a new card")[0]
    running.wait_for(lambda: running.scalars(select(TeamsSent).where(
        TeamsSent.kind == FORM, TeamsSent.activity_id == new.activity_id)),
        "the new card's form kept as open")
    theirs = their_words(running, tenant.members[0])
    assert any(words in json_text(content(new)) for words in theirs)

    forget(running.bot, OPERATOR, "teams", tenant.members[0].aad)

    now = running.wait_for(lambda: [content(c) for c in list(stub.calls)
                                    if c.method == "PUT" and c.status == 200
                                    and c.path.endswith(new.activity_id or "-")],
                           "the new card replaced")[-1]
    assert buttons(now, "digest-edit") == [] and buttons(now, "digest-open")
    assert not any(words in json_text(now) for words in theirs)
    assert said_to(running, fola, "asked Roundtable to delete their answers").startswith(
        f"Your form on the draft digest of round {round_id} was closed")
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []


def test_a_form_whose_inputs_are_not_text_or_no_theme_number_changes_nothing_and_says_why(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    save, inputs = form_of(opened(running, facilitator, draft, PROMPT), round_id, PROMPT)
    told = []
    for values in ({"lead": [1]}, {"lead": True}, {"lead": 5},
                   {"rename_theme": "1", "rename_title": {"a": 1}},
                   {"hide": ["x"]}, {"merge_theme": "9" * 5000, "merge_into": "1"},
                   {"merge_theme": "²", "merge_into": "1"}):
        data = {**filled(save, inputs), **{inputs[f]["id"]: v for f, v in values.items()}}
        [answer] = running.teams.submit(facilitator, data)
        assert answer.status == 200
        told.append(answer.json()["value"])
    assert told == ["I could not save that. That form could not be read; please use the "
                    "newest card."] * 5 + [
        "I could not save that. Choose a theme from the list."] * 2
    assert edits(running) == []


def renamed_while_open(running: RunningTeams, tenant: Tenant) -> tuple[int, Call, Card]:
    """Two facilitators each have the draft's card, with the same question's form open; the
    second (Elif) renames its first theme "Time away from the dispensary". The round's id,
    the first's (Fola's) draft card, and that card as her open form shows it."""
    stub, fola, elif_ = running.stub, tenant.facilitator, tenant.members[4]
    start_from_channel(running, tenant)
    [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
    assert running.teams.in_channel(tenant.team, fola, f"add-facilitator {elif_.email} round "
                                                       f"{round_.id}").status == 200
    running.wait_for(lambda: running.scalars(select(RoundFacilitator)), "Elif co-facilitating")
    with transaction(running.database.sessions) as session:
        answer_all(session, round_.id, [p.aad for p in tenant.members], NOW, "teams")
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_.id)
    folas, elifs = (running.wait_for(lambda p=p: [c for c in stub.sent_to(p)
                                                  if "For review" in card_text(c)],
                                     f"{p.name}'s draft card")[0] for p in (fola, elif_))

    [answer] = running.teams.submit(fola, dict(edit_button(content(folas), PROMPT)["data"]),
                                    card_id=folas.activity_id)
    fola_card = dict(answer.json()["value"])
    [answer] = running.teams.submit(elif_, dict(edit_button(content(elifs), PROMPT)["data"]),
                                    card_id=elifs.activity_id)
    elif_form = form_of(dict(answer.json()["value"]), round_.id, PROMPT)
    running.teams.submit(elif_, filled(*elif_form, rename_theme="1",
                                       rename_title="Time away from the dispensary"),
                         execute=False, card_id=elifs.activity_id)
    running.wait_for(lambda: [c for c in updates(running, elif_)
                              if "Time away from the dispensary" in json_text(c)],
                     "Elif's card brought up to date")
    return round_.id, folas, fola_card


def test_a_co_facilitators_edit_leaves_a_card_with_an_open_form_as_it_is_and_says_so(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Two facilitators each have the draft's card; one has its form open when the other
    saves an edit. Her card is not replaced (that would lose what she typed): she is told
    the draft changed, and her form, saved later, applies and brings her card up to date."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, folas, fola_card = renamed_while_open(running, tenant)
    fola_form = form_of(fola_card, round_id, PROMPT)
    told = said_to(running, fola, "Another facilitator changed")
    assert told == (f"Another facilitator changed the draft digest of round {round_id} while "
                    "your form was open. Your card is left as it is, so nothing you typed is "
                    "lost: Save changes applies your edits to the themes your form showed; "
                    "Refresh shows the draft as it is now with this form open again, and "
                    "clears what you typed.")
    assert updates(running, fola) == []

    running.teams.submit(fola, filled(*fola_form, lead=LEAD), execute=False,
                         card_id=folas.activity_id)
    now = running.wait_for(lambda: [c for c in updates(running, fola) if LEAD in json_text(c)],
                           "Fola's card brought up to date")[-1]
    assert "Time away from the dispensary" in json_text(now)
    assert [card_text(c) for c in stub.sent_to(fola)].count(told) == 1


def test_refresh_on_an_open_form_shows_the_draft_as_it_is_now_with_the_form_open_again(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Told that another facilitator changed the draft, a facilitator presses Refresh on
    her open form: her card shows the draft as it is now, the same question's form open on
    the current themes, nothing she had typed in it."""
    running, fola = running_teams, tenant.facilitator
    round_id, folas, fola_card = renamed_while_open(running, tenant)
    assert "Time away from the dispensary" not in json_text(fola_card)
    [refresh] = [b for b in buttons(fola_card, "digest-open") if b["title"] == "Refresh"]
    assert refresh["data"]["prompt"] == PROMPT
    [answer] = running.teams.submit(fola, dict(refresh["data"]), card_id=folas.activity_id)
    now = dict(answer.json()["value"])
    themes = [c["title"] for c in form_of(now, round_id, PROMPT)[1]["rename_theme"]["choices"]]
    assert "Time away from the dispensary" in themes[0]
    assert "Time away from the dispensary" in rich_text(now)
    assert all(not e.get("value") for e in form_of(now, round_id, PROMPT)[1].values()
               if e["type"] == "Input.Text" and not e["id"].startswith("lead-"))


def test_a_draft_too_big_even_without_quotes_is_cut_and_says_where_the_whole_is() -> None:
    """More questions and themes than a card holds, with no quote shown: the card is cut
    within Teams' size, says so and where the whole draft is, and keeps Approve."""
    prompts = [PromptDigest(f"q{q}", "Section", "text", f"Question {q}? " + "Why " * 40, 50,
                            themes=[ThemeView(f"Theme {t} of question {q}, " + "long " * 20,
                                              "", [], [f"ans-{q}-{t}-{n}" for n in range(5)],
                                              {}, "chat") for t in range(7)])
               for q in range(40)]
    info = RoundInfo(7, "pack", "A very long round", "", "", "open", "role", "", None, "")
    card = draft_card(Draft(3, "week", DigestView(info, {}, prompts), "review", None, "wait"))
    assert size(card) <= MAX_CARD_BYTES
    assert "Question 39?" not in json_text(card)
    shows_command(card, "cut here to fit Teams; roundtable digest review 7 on the server shows "
                  "the whole draft", "roundtable digest review 7")
    assert [a["data"]["roundtable"] for a in card["actions"]] == ["digest-approve"]


def test_an_edit_form_too_big_for_a_card_says_so_and_the_command_that_edits_instead(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A question of some sixty themes: its form has no room in a card even with no answer
    listed to move. Edit shows the draft, saying the form could not open and how to edit that
    question on the server; the card is not taken for one with a form being filled in."""
    running, facilitator = running_teams, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    with transaction(running.database.sessions) as session:
        for n in range(60):
            person = find_participant(session, tenant.members[n % 5].aad, "teams")
            assert person is not None
            record_reply(session, round_id, PROMPT, person, f"Reply {n} on a subject of its "
                         "own, " + "words " * 10, NOW, external_id=f"many-{n}")
    answers = [a.reply_id for a in question(current(running.database, round_id, NOW)).answers]
    review.edit(running.bot, OPERATOR, round_id, [
        review.Change("group", reply_ids=(r,), text=f"Theme {n}, " + "long " * 20)
        for n, r in enumerate(answers[:60])])
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))

    [answer] = running.teams.submit(facilitator, dict(edit_button(draft, PROMPT)["data"]),
                                    card_id=card_id)
    card = dict(answer.json()["value"])
    assert buttons(card, "digest-edit") == [] and "For review" in json_text(card)
    shows_command(card, f"The edit form of {PROMPT} could not open: the question is too big "
                  f"for Teams. roundtable digest review {round_id} on the server edits it: "
                  f"--rename {PROMPT}/N TITLE, --merge, --move, --new-theme, --hide, --show, "
                  "--lead (--help says how).", f"roundtable digest review {round_id}")
    assert size(card) <= MAX_CARD_BYTES
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []


def test_a_draft_posted_as_built_at_its_deadline_says_so_and_when() -> None:
    """A round whose unapproved digests post at their deadline: the draft does not claim that
    nothing is posted without approval."""
    info = RoundInfo(7, "pack", "A round", "", "", "open", "anonymous", "", None, "")
    prompts = [PromptDigest("q", "Section", "text", "What went well?", 0)]
    draft = Draft(3, "week", DigestView(info, {}, prompts), "review",
                  "2026-12-11T12:00:00+00:00", "post")
    assert ("Nothing is posted until a facilitator approves it or its deadline passes. If "
            "nobody has approved it by Fri 11 Dec 12:00 GMT, it is posted as built."
            ) in rich_text(draft_card(draft, zone="Europe/London"))


def test_a_draft_whose_post_was_refused_for_good_says_so_and_keeps_approve() -> None:
    """Approved, then refused by Teams for good (the bot removed from the channel): the card
    says it was not posted and keeps Approve, which posts it once that is fixed; no Edit."""
    info = RoundInfo(7, "pack", "A round", "", "", "open", "anonymous", "", None, "")
    prompts = [PromptDigest("q", "Section", "text", "What went well?", 0)]
    draft = Draft(3, "week", DigestView(info, {}, prompts), "failed",
                  "2026-12-11T12:00:00+00:00", "wait", "teams:aad-fola")
    card = draft_card(draft, zone="Europe/London", names={"aad-fola": "Fola"})
    assert ("Approved by Fola, but not posted: the digest channel refused it. Once that is "
            "fixed, approve it again.") in rich_text(card), rich_text(card)
    assert [b["data"]["digest"] for b in buttons(card, "digest-approve")] == [3]
    assert buttons(card, "digest-open") == []
    at_deadline = draft_card(replace(draft, approved_by=audit.SCHEDULER))
    assert ("Not posted at its review deadline: the digest channel refused it. Once that is "
            "fixed, approve it to post it.") in rich_text(at_deadline)
    assert buttons(at_deadline, "digest-approve")
    refused_now = draft_card(replace(draft, approved_by=audit.SCHEDULER, refused=Refusal(
        "Forbidden", "Add Roundtable to the team again.")))
    assert ("Not posted at its review deadline: the digest channel refused it: Forbidden. Add "
            "Roundtable to the team again. Then approve it to post it."
            ) in rich_text(refused_now), rich_text(refused_now)
    assert buttons(refused_now, "digest-approve")


def test_a_card_with_its_form_open_lists_no_answer_once_someone_it_lists_is_forgotten(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Forget-me closes a Slack form listing someone's answers; a Teams form is on the draft's
    card, which a draft brought up to date leaves as it is while the form is open: after
    forget-me it is replaced all the same, and the facilitator told why."""
    running, fola = running_teams, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    [sent] = [c for c in running.stub.sent_to(fola) if "For review" in card_text(c)]
    [answer] = running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]),
                                    card_id=sent.activity_id)
    with running.database.sessions() as session:
        person = find_participant(session, tenant.members[0].aad, "teams")
        assert person is not None
        theirs = list(session.scalars(select(Reply.text).where(
            Reply.participant_id == person.id, Reply.prompt_id == PROMPT)))
    shown = [words for words in theirs if words in json_text(answer.json()["value"])]
    assert shown  # the form lists their answers word for word

    forget(running.bot, OPERATOR, "teams", tenant.members[0].aad)

    now = running.wait_for(lambda: updates(running, fola), "the card replaced")[-1]
    assert not any(words in json_text(now) for words in shown)
    assert buttons(now, "digest-edit") == []  # its form closed
    assert said_to(running, fola, "asked Roundtable to delete their answers") == (
        f"Your form on the draft digest of round {round_id} was closed: someone who answered "
        "in this round asked Roundtable to delete their answers. Press Edit on the draft to "
        "edit it as it is now.")


def test_an_edit_whose_card_teams_would_not_change_says_so_and_keeps_no_form_open(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Submit: the Bot Connector refuses to put the draft with its form open in place
    of the card (429 until the retries run out). The facilitator is told the form could not
    be opened and to press Edit again, and nothing keeps it as open: the card, which still
    shows the draft, follows the next edit."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    [sent] = [c for c in stub.sent_to(fola) if "For review" in card_text(c)]
    stub.fail_next("update", status=429, retry_after=0, times=RETRIES + 1)
    running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]), execute=False,
                         card_id=sent.activity_id)
    assert said_to(running, fola, "could not be opened") == (
        f"The edit form on the draft digest of round {round_id} could not be opened "
        "(Throttled). Press Edit on the draft again.")
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []

    review.edit(running.bot, OPERATOR, round_id, [review.Change(
        "rename", PROMPT, theme=review.ThemeRef(1), text="Time away from the dispensary")])
    running.wait_for(lambda: [c for c in updates(running, fola)
                              if "Time away from the dispensary" in json_text(c)],
                     "the card brought up to date")
    assert not [c for c in stub.sent_to(fola) if "Another facilitator" in card_text(c)]


def test_a_refused_save_does_not_keep_open_a_form_forget_me_closed(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Forget-me closes a card's form that lists Amara's answers, but Teams will not change
    the card just then, so the form still shows, noted as one to close. Saved there and
    refused, it is not kept as open again (that would skip the check every opening goes
    through): the next edit of the draft replaces the card, her words and the form gone."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    [sent] = [c for c in stub.sent_to(fola) if "For review" in card_text(c)]
    theirs = their_words(running, tenant.members[0])
    [answer] = running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]),
                                    card_id=sent.activity_id)
    save, inputs = form_of(dict(answer.json()["value"]), round_id, PROMPT)
    stub.fail_next("update", status=429, retry_after=0, times=RETRIES + 1)
    forget(running.bot, OPERATOR, "teams", tenant.members[0].aad)
    assert updates(running, fola) == []  # the form, and her words, still on the card

    running.teams.submit(fola, filled(save, inputs, merge_theme="2", merge_into="2"),
                         execute=False, card_id=sent.activity_id)
    said_to(running, fola, NOT_SAVED)
    review.edit(running.bot, OPERATOR, round_id, [review.Change(
        "rename", PROMPT, theme=review.ThemeRef(1), text="Time away from the dispensary")])
    running.wait_for(lambda: updates(running, fola) or [
        c for c in stub.sent_to(fola) if "Another facilitator" in card_text(c)],
        "the card brought up to date, or left as it was")
    assert not [c for c in stub.sent_to(fola) if "Another facilitator" in card_text(c)]
    [now] = updates(running, fola)
    assert "Time away from the dispensary" in json_text(now)
    assert buttons(now, "digest-edit") == []
    assert not any(words in json_text(now) for words in theirs)


def not_closed_at_forget_me(running: RunningTeams, tenant: Tenant
                            ) -> tuple[int, Call, list[str], str]:
    """The facilitator's card shows the form of a draft listing Amara's answers; Teams
    refuses to change the card as forget-me closes it. The round, the card, her words, and
    what forget-me answered."""
    stub, fola = running.stub, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    [sent] = [c for c in stub.sent_to(fola) if "For review" in card_text(c)]
    theirs = their_words(running, tenant.members[0])
    running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]),
                         card_id=sent.activity_id)
    stub.fail_next("update", status=429, retry_after=0, times=RETRIES + 1)
    done = forget(running.bot, OPERATOR, "teams", tenant.members[0].aad).plain
    return round_id, sent, theirs, done


def test_a_card_form_teams_would_not_close_at_forget_me_is_said_and_closed_by_a_later_refresh(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Forget-me would close a card's form that lists Amara's answers, but Teams refuses to
    change the card: forget-me's answer says a message could not be changed, and the card is
    still known to show the form, so the next refresh of the draft closes it (her words
    gone) and tells the facilitator why."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, _, theirs, done = not_closed_at_forget_me(running, tenant)
    assert ("1 message could not be changed in Teams (Throttled): ask an admin to remove it."
            in done), done
    assert updates(running, fola) == []  # the form, and her words, still on the card
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM))

    review.edit(running.bot, OPERATOR, round_id, [review.Change(
        "rename", PROMPT, theme=review.ThemeRef(1), text="Time away from the dispensary")])
    [now] = running.wait_for(lambda: updates(running, fola), "the card replaced")
    assert "Time away from the dispensary" in json_text(now)
    assert buttons(now, "digest-edit") == []  # its form closed
    assert not any(words in json_text(now) for words in theirs)
    assert said_to(running, fola, "asked Roundtable to delete their answers") == (
        f"Your form on the draft digest of round {round_id} was closed: someone who answered "
        "in this round asked Roundtable to delete their answers. Press Edit on the draft to "
        "edit it as it is now.")
    assert not [c for c in stub.sent_to(fola) if "Another facilitator" in card_text(c)]
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []


def test_a_form_opened_again_after_forget_me_could_not_close_it_is_left_open_by_a_refresh(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The form forget-me could not close is opened again on the same card (Edit: it lists
    the answers there are now): it is an open form like any other, which a co-facilitator's
    edit leaves as it is, telling her so."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, sent, theirs, _ = not_closed_at_forget_me(running, tenant)
    [card] = [content(c) for c in stub.sent_to(fola) if "For review" in card_text(c)]
    [answer] = running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]),
                                    card_id=sent.activity_id)
    assert not any(words in json_text(answer.json()["value"]) for words in theirs)

    review.edit(running.bot, OPERATOR, round_id, [review.Change(
        "rename", PROMPT, theme=review.ThemeRef(1), text="Time away from the dispensary")])
    said_to(running, fola, "Another facilitator changed")
    assert updates(running, fola) == []
    assert not [c for c in stub.sent_to(fola) if "asked Roundtable to delete" in card_text(c)]


def their_words(running: RunningTeams, person: Person) -> list[str]:
    """What `person` answered to PROMPT, word for word."""
    with running.database.sessions() as session:
        found = find_participant(session, person.aad, "teams")
        assert found is not None
        return list(session.scalars(select(Reply.text).where(
            Reply.participant_id == found.id, Reply.prompt_id == PROMPT)))


def test_a_card_form_read_before_someone_it_lists_was_forgotten_and_shown_after_is_closed(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Submit: Edit reads the draft (listing Amara's answers); forget-me runs to its
    end while Teams is still putting the form in place of the card; only then does the card
    show it. It is closed at once: the card shows the draft as it is now, with no form and
    none of her words, the facilitator is told why, and nothing keeps the form as open."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, card = draft_for_review(running, tenant)
    [sent] = [c for c in stub.sent_to(fola) if "For review" in card_text(c)]
    theirs = their_words(running, tenant.members[0])
    stub.hold("update", lambda body: "digest-edit" in json_text(body))
    running.teams.submit(fola, dict(edit_button(card, PROMPT)["data"]), execute=False,
                         card_id=sent.activity_id)
    stub.wait_for(lambda: stub.holding, "the form on its way to the card")

    forget(running.bot, OPERATOR, "teams", tenant.members[0].aad)
    stub.release()

    told = said_to(running, fola, "deleted while it opened")
    assert told == (f"This form was closed on {day_in_words(running.bot.clock())}: answers it "
                    "listed were deleted while it opened. Press Edit on the draft again to "
                    "edit it as it is now.")
    shown = updates(running, fola)
    assert any(words in json_text(shown[-2]) for words in theirs)  # the form, landed late
    assert buttons(shown[-1], "digest-edit") == [] and buttons(shown[-1], "digest-open")
    assert not any(words in json_text(shown[-1]) for words in theirs)
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []


def test_a_card_form_read_before_someone_it_lists_was_forgotten_is_not_kept_after(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The order Action.Execute can meet, played step by step: the draft read for the form,
    forget-me to its end, then the form kept as the card shows it. It is not kept, and the
    words that close it say why."""
    running, fola = running_teams, tenant.facilitator
    round_id, _ = draft_for_review(running, tenant)
    [digest_id] = running.scalars(select(Digest.id))
    [chat] = running.scalars(select(BotMessage.channel_id).where(BotMessage.kind == DRAFT))
    [card_key] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    facilitator = Actor("teams", fola.aad)
    opened = review.waiting(running.bot, facilitator, round_id, digest_id)
    assert set(their_words(running, tenant.members[0])) & {
        a.text for p in opened.draft.view.prompts for a in p.answers}

    forget(running.bot, OPERATOR, "teams", tenant.members[0].aad)
    gateway = running.bot.gateways["teams"]
    assert isinstance(gateway, TeamsGateway)
    closing = review.form_opened(running.bot, facilitator, round_id, card_key,
                                 opened.listing(PROMPT),
                                 keep=partial(gateway.note_form, digest_id, chat, card_key))
    assert closing is not None and "deleted while it opened" in closing.plain
    assert running.scalars(select(TeamsSent).where(TeamsSent.kind == FORM)) == []


@pytest.mark.parametrize("pressed", ["Close", "Edit"])
def test_a_draft_card_sent_again_as_its_round_is_deleted_says_it_was_removed(
        running_teams: RunningTeams, tenant: Tenant, pressed: str) -> None:
    """The draft's card is gone from Teams, so a button pressed on it (Action.Submit) brings
    the draft as a new card; the round is deleted while Teams posts it. The deletion could
    not know of that card: once Teams has posted it, it says the draft was removed, as the
    deletion's other drafts do, and quotes none of the deleted answers."""
    running, stub, fola = running_teams, running_teams.stub, tenant.facilitator
    round_id, draft = draft_for_review(running, tenant)
    [card_id] = running.scalars(select(BotMessage.message_id).where(BotMessage.kind == DRAFT))
    stub.gone.add(card_id)
    theirs = their_words(running, tenant.members[0])
    data = dict(edit_button(draft, PROMPT)["data"])
    if pressed == "Close":
        data["prompt"] = ""
    drafts_before = len([c for c in stub.sent_to(fola) if "For review" in card_text(c)])
    stub.hold("send", lambda body: "For review" in json_text(body))
    running.teams.submit(fola, data, execute=False, card_id=card_id)
    stub.wait_for(lambda: stub.holding, "the draft on its way as a new card")

    facilitation.delete(running.bot, OPERATOR, round_id)
    stub.release()

    new = running.wait_for(lambda: [c for c in stub.sent_to(fola)
                                    if "For review" in card_text(c)][drafts_before:],
                           "the draft in a new card")[0]
    assert any(words in json_text(content(new)) for words in theirs)  # landed late
    removed = (f"This draft of round {round_id}'s digest was removed on "
               f"{day_in_words(running.bot.clock())}: the round's answers were deleted.")

    def replacing(call: Call) -> bool:
        return (call.method == "PUT" and call.status == 200
                and call.path.endswith(new.activity_id or "-"))

    running.wait_for(lambda: [c for c in list(stub.calls)
                              if replacing(c) and removed in card_text(c)],
                     "the new card replaced")
    last = [c for c in list(stub.calls) if replacing(c)][-1]
    assert removed in card_text(last)
    assert not any(words in json_text(content(last)) for words in theirs)
    assert running.scalars(select(BotMessage)) == []
