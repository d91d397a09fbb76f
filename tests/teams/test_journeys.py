"""Teams journeys beyond the round itself: edits and deletions, stop and forget-me, time zones
from people's own activities, and proactive messages after a restart from stored references."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.app.confirmations import Confirmations
from bot.core.digest_posts import STALE_DIGEST_CLAIM, post_digest, recover_digests
from bot.core.ports import DeliveryError
from bot.core.questions import Saved
from bot.core.retention import apply_retention
from bot.teams.connector import RETRIES
from bot.teams.references import conversation_key
from storage.database import Database
from storage.models import (
    Digest,
    Participant,
    Reminder,
    Reply,
    Round,
    TeamsConversation,
    TeamsSent,
    TeamsUser,
)
from tests.helpers import TOP5, stepping, stored_values
from tests.teams.conftest import PACK, RunningTeams, Tenant, replaced_by, run_teams
from tests.teams.test_round import confirmed_with_its_button, question, start_from_channel
from tests.teams_connector_stub import Call, ConnectorStub, Person, card_text


def test_it_follows_edits_and_deletions_made_in_teams(running_teams: RunningTeams,
                                                      tenant: Tenant) -> None:
    running, amara = running_teams, tenant.members[0]
    start_from_channel(running, tenant)
    question(running, amara, 1)
    activity_id, _ = running.teams.chat(amara, "Protected tme")
    running.wait_for(lambda: running.replies(), "the answer")
    assert running.teams.edit(amara, activity_id, "Protected time").status == 200
    running.wait_for(lambda: [r for r in running.replies() if r.text == "Protected time"],
                     "the edit")
    assert running.teams.delete(amara, activity_id).status == 200
    running.wait_for(lambda: running.scalars(select(Reply).where(
        Reply.deleted_at.is_not(None))), "the deletion")


def test_it_updates_the_confirmation_of_an_answer_edited_in_teams(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The same path as Slack's (bot.app.conversations): the answer's confirmation card is
    changed in place to say it was updated, with the words as they are now."""
    running, amara = running_teams, tenant.members[0]
    start_from_channel(running, tenant)
    question(running, amara, 1)
    activity_id, _ = running.teams.chat(amara, "Protected tme")
    running.wait_for(lambda: [c for c in running.stub.sent_to(amara)
                              if "Saved as your answer to question 1" in card_text(c)],
                     "the confirmation")
    assert running.teams.edit(amara, activity_id, "Protected time").status == 200
    updated = running.wait_for(lambda: [c for c in running.stub.calls if c.method == "PUT"
                                        and "Updated as your answer" in card_text(c)],
                               "the confirmation updated")
    assert "Protected time" in card_text(updated[0])
    assert updated[0].conversation == running.stub.chat_of(amara)



def test_a_ranking_typed_again_in_teams_is_confirmed_as_updated(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant
) -> None:
    """A second ranking typed in the chat replaces the ballot, and its card says updated."""
    amara = tenant.members[0]
    # each message waits for what the last brought: pacing would join nothing, only wait
    with run_teams(database, database_url, connector, tenant.facilitator,
                   pacing=stepping(Confirmations.SPACING)) as running:
        start_from_channel(running, tenant)
        for number in range(1, 6):
            question(running, amara, number)
            running.teams.chat(amara, f"An answer to question {number}.")
        question(running, amara, 6)

        def read_back() -> list[str]:
            return [card_text(c) for c in running.stub.sent_to(amara)
                    if "as I read your message" in card_text(c)]

        running.teams.chat(amara, "1, 2, 3, 4, 5")
        running.wait_for(read_back, "the first confirmation")
        running.teams.chat(amara, "5, 4, 3, 2, 1")
        first, again = running.wait_for(lambda: read_back()[1:] and read_back(),
                                        "the second confirmation")
    assert first.startswith("Saved your ranking for question 6, as I read your message")
    assert again.startswith("Updated your ranking for question 6, as I read your message")


def test_it_stops_and_forgets_a_participant_on_request(running_teams: RunningTeams,
                                                       tenant: Tenant) -> None:
    running, ben = running_teams, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support.")
    running.wait_for(lambda: running.replies(), "the answer")
    running.teams.chat(ben, "stop")
    running.wait_for(lambda: running.scalars(select(Participant).where(
        Participant.opted_out.is_(True))), "Ben to be opted out")
    running.teams.chat(ben, "forget-me")
    card = running.wait_for(lambda: next((c for c in running.stub.sent_to(ben)
                                          if "cannot be undone" in card_text(c)), None),
                            "the forget-me card")
    assert card_text(card).startswith(
        "This deletes everything Roundtable holds about you: your one answer or vote, the "
        "questions sent to you, your name, time zone and Teams id.")
    delete = card.body["attachments"][0]["content"]["actions"][0]
    assert (delete["title"], delete["style"]) == ("Delete everything", "destructive")
    # Teams refuses to delete one of the bot's messages: the answer, in the card's place,
    # says so whole
    running.stub.fail_next("delete", 403)
    answered = replaced_by(running.teams.submit(ben, delete["data"])[0].json())
    assert answered.startswith("Done. Roundtable deleted 1 answer")
    assert "Slack" not in answered  # it said Slack keeps what Ben wrote
    assert "yours: Teams keeps it until you delete it there." in answered
    assert running.replies() == []


def test_personal_commands_written_in_a_channel_are_answered_in_the_1_1_chat(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    # a channel has no message only one person sees: what concerns one person goes to them
    running, ben, channel = running_teams, tenant.members[1], tenant.team.channel_id
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support.")
    running.wait_for(lambda: running.replies(), "the answer")
    for command, private in (("my-data", "my-data.json"), ("forget-me", "cannot be undone"),
                             ("stop", "no more questions")):
        before = len(running.stub.sent(channel))
        assert running.teams.in_channel(tenant.team, ben, command).status == 200
        def answered(words: str = private) -> bool:
            return any(words in card_text(c) for c in running.stub.sent_to(ben))

        def told_here(after: int = before) -> list[Call]:
            return running.stub.sent(channel)[after:]

        running.wait_for(answered, f"{command}'s answer in Ben's chat")
        told = running.wait_for(told_here, f"{command}'s word in the channel")
        assert [card_text(c) for c in told] == [
            "I have answered you in your 1:1 chat with me."], command
    assert running.replies() != []  # nothing is deleted until Ben presses the button


def test_my_data_sends_a_person_their_own_answers_only(running_teams: RunningTeams,
                                                      tenant: Tenant) -> None:
    running, amara, ben = running_teams, tenant.members[0], tenant.members[1]
    start_from_channel(running, tenant)
    question(running, amara, 1)
    question(running, ben, 1)
    running.teams.chat(amara, "Protected time for the leads.")
    running.teams.chat(ben, "Peer support.")
    running.wait_for(lambda: len(running.replies()) == 2, "both answers")
    before = len(running.stub.sent_to(ben))
    running.teams.chat(ben, "my-data")
    running.wait_for(lambda: [card_text(c) for c in running.stub.sent_to(ben)[before:]
                     if "format_version" in card_text(c)], "Ben's data")
    everything = "\n".join(card_text(c) for c in running.stub.sent_to(ben)[before:])
    assert "Peer support." in everything and "Protected time for the leads." not in everything
    # what the Teams adapter keeps to reach him is held about him too, and only his
    assert ben.email in everything and ben.user_id in everything
    assert amara.email not in everything and amara.user_id not in everything


def test_a_question_can_be_skipped_from_its_card(running_teams: RunningTeams,
                                                 tenant: Tenant) -> None:
    running, chidi = running_teams, tenant.members[2]
    start_from_channel(running, tenant)
    skip = question(running, chidi, 1).body["attachments"][0]["content"]["actions"][1]
    assert skip["title"] == "Skip for now" and skip["fallback"]["type"] == "Action.Submit"
    assert running.teams.submit(chidi, skip["data"])[0].json()["value"] == "Skipped for now."
    question(running, chidi, 2)
    # the notice says where the skipped question is in Teams: no Home tab, no thread
    notice = running.wait_for(lambda: next((card_text(c) for c in running.stub.sent_to(chidi)
                                            if "Skipped question 1" in card_text(c)), None),
                              "the skip notice")
    assert "Home tab" not in notice and "thread" not in notice
    assert "writing questions" in notice and "answer it on its card" in notice


def test_a_reminder_and_a_word_with_no_question_waiting_name_the_questions_command(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, dev = running_teams, running_teams.teams, tenant.members[3]
    start_from_channel(running, tenant)
    for number in range(1, 6):  # skip all but the last, which has no Skip
        card = question(running, dev, number).body["attachments"][0]["content"]
        skipped = teams.submit(dev, card["actions"][1]["data"])[0].json()["value"]
        assert skipped == "Skipped for now."
    card = question(running, dev, 6).body["attachments"][0]["content"]
    choices = next(e for e in card["body"] if e.get("id") == "rank-1")["choices"]
    index = {c["title"]: c["value"] for c in choices}
    ballot = {f"rank-{i}": index[o] for i, o in enumerate(TOP5, start=1)}
    teams.submit(dev, {**card["actions"][0]["data"], **ballot})
    running.wait_for(lambda: running.replies(), "the ranking of question 6")
    # nothing waits in the chat now, but questions 1 to 5 are open
    assert teams.in_channel(tenant.team, tenant.facilitator, "remind").status == 200
    nudge = running.wait_for(lambda: next((card_text(c) for c in running.stub.sent_to(dev)
                                           if "gentle reminder" in card_text(c)), None),
                             "the reminder")
    assert "still wait" in nudge and "Home tab" not in nudge
    assert "You will find them in the list you get by writing questions." in nudge
    assert teams.in_channel(tenant.team, tenant.facilitator, "close 1").status == 200
    running.wait_for(lambda: running.scalars(select(Round.status)) == ["closed"], "the close")
    teams.chat(dev, "One more thing.")
    refusal = running.wait_for(lambda: next((card_text(c) for c in running.stub.sent_to(dev)
                                             if "no open question" in card_text(c)), None),
                               "the word that no question waits")
    assert "Home tab" not in refusal and "writing questions" in refusal


def test_it_takes_a_persons_time_zone_from_their_own_activities(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, dev = running_teams, tenant.members[3]
    start_from_channel(running, tenant)
    question(running, dev, 1)
    running.teams.chat(dev, "From Auckland.", zone="Pacific/Auckland")
    running.wait_for(lambda: running.scalars(select(Participant.timezone).where(
        Participant.platform_user_id == dev.aad)) == ["Pacific/Auckland"], "Dev's time zone")


def test_an_answer_sent_with_a_time_zone_that_is_no_zone_is_kept_and_the_zone_is_not(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams' `localTimezone` is the sender's client's word: a name no zone has (too long
    even to look up) leaves the person's zone as it was, and takes nothing from the answer."""
    running, dev = running_teams, tenant.members[3]
    start_from_channel(running, tenant)
    question(running, dev, 1)
    for n, zone in enumerate(("x" * 3000, "Mars/Olympus_Mons", "../../etc/passwd")):
        [response] = running.teams.chat(dev, f"Answer {n} from nowhere.", zone=zone)[1]
        assert response.status == 200
    running.wait_for(lambda: sorted(r.text for r in running.replies()) == [
        f"Answer {n} from nowhere." for n in range(3)], "the three messages kept")
    assert running.scalars(select(Participant.timezone).where(
        Participant.platform_user_id == dev.aad)) == [None]


def test_it_messages_people_after_a_restart_from_the_references_it_stored(
        database: Database, database_url: str, connector: ConnectorStub,
        tenant: Tenant) -> None:
    with run_teams(database, database_url, connector, tenant.facilitator) as first:
        start_from_channel(first, tenant)
        for person in tenant.members:
            question(first, person, 1)
    created = len([c for c in connector.calls if c.path == "/v3/conversations"])
    with run_teams(database, database_url, connector, tenant.facilitator) as second:
        assert second.teams.in_channel(tenant.team, tenant.facilitator, "remind").status == 200
        for person in tenant.members:
            second.wait_for(lambda p=person: [c for c in connector.sent_to(p)
                                              if "reminder" in card_text(c).lower()
                                              or "still" in card_text(c).lower()],
                            f"a reminder to {person.name}")
    assert len([c for c in connector.calls if c.path == "/v3/conversations"]) == created
    assert len(second.scalars(select(TeamsConversation).where(
        TeamsConversation.kind == "personal"))) == len(tenant.members)


def test_a_facilitator_names_people_by_email_or_entra_id_in_their_chat_with_the_bot(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, stub, teams = running_teams, running_teams.stub, running_teams.teams
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    chat = "a:1facilitator-chat-with-roundtable"
    stub.open_chat(tenant.facilitator, chat)
    assert teams.installed(tenant.facilitator, chat).status == 200
    amara, ben = tenant.members[:2]
    teams.chat(tenant.facilitator, f'start sel-pharmacy-leadership to {amara.email}, '
                                   f'{ben.aad} digest "Leaders (General)"')
    said = running.wait_for(lambda: [card_text(c) for c in stub.sent(chat)
                                     if "started" in card_text(c)], "the round to start")
    assert "2 people" in said[0] and "#Leaders (General)" in said[0]
    question(running, amara, 1)
    question(running, ben, 1)
    assert all(stub.sent_to(p) == [] for p in tenant.members[2:])


def test_what_a_card_button_answers_by_the_card_names_commands_and_channels_the_teams_way(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, teams, facilitator = running_teams, running_teams.teams, tenant.facilitator
    assert teams.added_to_team(tenant.team, facilitator).status == 200
    running.wait_for(lambda: running.stub.sent(tenant.team.channel_id), "the welcome")
    running.stub.open_chat(facilitator, "a:1facilitator-chat")
    assert teams.installed(facilitator, "a:1facilitator-chat").status == 200
    amara, ben = tenant.members[:2]
    start = {"roundtable": "start", "pack": "sel-pharmacy-leadership", "people": amara.email}

    [answer] = teams.submit(facilitator, start)  # Action.Execute: a line shown by the card
    shown = answer.json()["value"]
    assert "No digest channel yet: set one before the first digest (set 1 digest #channel)" \
        in shown and "/roundtable" not in shown
    [channel] = running.scalars(select(TeamsConversation.key).where(
        TeamsConversation.kind == "channel"))  # as the start form offers it
    [answer] = teams.submit(facilitator, {**start, "people": ben.email, "digest": channel})
    shown = answer.json()["value"]
    assert "Digests go to #Leaders (General)." in shown and channel not in shown


def test_forget_me_does_not_report_a_digest_message_already_gone_as_a_failure(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A digest part quoting Ben that someone deleted in Teams holds his words no more: as in
    Slack, forget-me counts it done rather than asking Ben to have an admin remove it."""
    running, stub, ben, channel = (running_teams, running_teams.stub, tenant.members[1],
                                   tenant.team.channel_id)
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support from the next pharmacy over.")
    running.wait_for(lambda: running.replies(), "the answer")
    assert running.teams.in_channel(tenant.team, tenant.facilitator, "digest").status == 200
    quoting = running.wait_for(lambda: [c for c in stub.sent() if (c.conversation or "")
                                        .startswith(channel) and "Peer support" in card_text(c)],
                               "the digest part quoting Ben")
    stub.gone.update(c.activity_id for c in quoting if c.activity_id)
    told = _forgets_themselves(running, ben)
    assert told.startswith("Done. Roundtable deleted 1 answer")
    assert "could not be changed" not in told and "ask an admin" not in told
    assert running.replies() == []


def test_forget_me_sends_no_open_questions_card_nobody_asked_for(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Slack's Home tab is refreshed quietly after forget-me; Teams has no home page, so the
    open-questions card comes only when someone writes `questions`."""
    running, stub, ben = running_teams, running_teams.stub, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "questions")
    running.wait_for(lambda: [c for c in stub.sent_to(ben)
                              if card_text(c).startswith("Your open questions")],
                     "the open questions, asked for")
    running.teams.chat(ben, "forget-me")
    card = running.wait_for(lambda: next((c for c in stub.sent_to(ben)
                                          if "cannot be undone" in card_text(c)), None),
                            "the forget-me card")
    forget = card.body["attachments"][0]["content"]["actions"][0]["data"]
    # the button is answered once forgetting is done, and with it anything it sends
    [answered] = running.teams.submit(ben, forget)
    assert replaced_by(answered.json()).startswith("Done. Roundtable deleted")
    said = [card_text(c) for c in stub.sent_to(ben)]
    assert len([s for s in said if s.startswith("Your open questions")]) == 1, said


def test_a_person_mentioned_in_an_answer_reads_as_their_name_not_as_teams_markup(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams sends a mention typed in the 1:1 chat as <at>Name</at>: the answer keeps what the
    writer saw, @Name, as Slack keeps a mention, in the confirmation and in the digest."""
    running, stub, teams = running_teams, running_teams.stub, running_teams.teams
    amara, chidi, channel = tenant.members[0], tenant.members[2], tenant.team.channel_id
    start_from_channel(running, tenant)
    question(running, chidi, 1)
    activity = teams._base("message", chidi, teams.personal(chidi))
    activity.update(text="<at>Amara</at> ran the care home rounds well", textFormat="plain",
                    entities=[{"type": "mention", "text": "<at>Amara</at>",
                               "mentioned": {"id": amara.user_id, "name": "Amara"}}])
    assert teams.send(activity).status == 200
    confirmed = running.wait_for(lambda: [card_text(c) for c in stub.sent_to(chidi)
                                          if "Saved as your answer" in card_text(c)],
                                 "the confirmation")
    assert "@Amara ran the care home rounds well" in confirmed[0]
    assert teams.in_channel(tenant.team, tenant.facilitator, "digest").status == 200
    quoted = running.wait_for(lambda: [card_text(c) for c in stub.sent() if (
        c.conversation or "").startswith(channel) and "care home rounds" in card_text(c)],
                              "the digest quoting Chidi")
    assert "@Amara ran the care home rounds well" in quoted[0] and "<at>" not in quoted[0]


def test_stop_written_as_a_sentence_stops_rather_than_answering(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The first card says "stop stops the questions"; people write "Stop." and
    "stop!" too. Neither is an answer to the question waiting."""
    running, stub, ben, elif_ = (running_teams, running_teams.stub, tenant.members[1],
                                 tenant.members[4])
    start_from_channel(running, tenant)
    for person, words in ((ben, "Stop."), (elif_, "stop!")):
        question(running, person, 1)
        running.teams.chat(person, words)
        told = running.wait_for(
            lambda p=person: [card_text(c) for c in stub.sent_to(p)
                              if "no more questions or reminders" in card_text(c)],
            f"{person.name} told the questions stop")
        assert not any("Saved as your answer" in card_text(c) for c in stub.sent_to(person))
        assert not any("Question 2 of 6" in card_text(c) for c in stub.sent_to(person)), told
    assert running.replies() == []


PICTURE = {"contentType": "image/*", "contentUrl":
           "https://smba.trafficmanager.net/uk/v3/attachments/0-uks-d1-abc/views/original"}
PICTURE_HTML = {"contentType": "text/html", "content":
                '<div><span><img src="https://smba.trafficmanager.net/uk/v3/attachments/'
                '0-uks-d1-abc/views/imgo" width="200"></span></div>'}
FILE = {"contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": "rota.pdf", "contentUrl": "https://contoso.sharepoint.com/rota.pdf",
        "content": {"downloadUrl": "https://contoso.sharepoint.com/download/rota.pdf",
                    "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D", "fileType": "pdf"}}


def test_a_picture_or_file_alone_is_answered_and_one_sent_with_words_is_said_not_kept(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As in Slack: a message of only a picture (or a file) is told to write the answer, and
    nothing is stored; words sent with one are saved, and the confirmation says the file was
    not kept."""
    running, stub, amara = running_teams, running_teams.stub, tenant.members[0]
    start_from_channel(running, tenant)
    question(running, amara, 1)
    for attached in ([PICTURE, PICTURE_HTML], [FILE]):
        before = len(stub.sent_to(amara))
        _, responses = running.teams.chat(amara, "", attachments=attached)
        assert [r.status for r in responses] == [200]
        told = running.wait_for(lambda b=before: [card_text(c) for c in stub.sent_to(amara)[b:]
                                                  if "could not save" in card_text(c)],
                                "a word about the picture")
        assert told == ["I could not save that. Files and pictures are not kept, only words: "
                        "please write your answer here as text."]
    assert running.replies() == []

    running.teams.chat(amara, "Protected time, as on the rota attached.", attachments=[FILE])
    confirmed = running.wait_for(lambda: [card_text(c) for c in stub.sent_to(amara)
                                          if "Saved as your answer" in card_text(c)],
                                 "the confirmation")
    assert "Protected time, as on the rota attached." in confirmed[0]
    assert "Only your words are saved: files and pictures are not kept, so the one you sent " \
           "with them is not part of your answer." in confirmed[0]
    assert [r.text for r in running.replies()] == ["Protected time, as on the rota attached."]


def test_a_ranking_card_requires_every_place_and_a_partial_ranking_is_still_refused(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams checks required inputs before a card is sent: each of the five places is
    required, with a line that says so; a client that sends a partial ranking anyway (an old
    one, the Action.Submit fallback) is refused by the bot and nothing is stored."""
    running, teams, dev = running_teams, running_teams.teams, tenant.members[3]
    start_from_channel(running, tenant)
    for number in range(1, 6):
        card = question(running, dev, number).body["attachments"][0]["content"]
        teams.submit(dev, card["actions"][1]["data"])
    card = question(running, dev, 6).body["attachments"][0]["content"]
    places = [e for e in card["body"] if str(e.get("id", "")).startswith("rank-")]
    assert [p["label"] for p in places] == [f"{n} choice" for n in
                                            ("1st", "2nd", "3rd", "4th", "5th")]
    assert all(p["isRequired"] is True for p in places)
    assert places[3]["errorMessage"] == "Pick your 4th choice: a ranking needs all 5 places"

    index = {c["title"]: c["value"] for c in places[0]["choices"]}
    partial = {f"rank-{i}": index[o] for i, o in enumerate(TOP5[:3], start=1)}
    refused = teams.submit(dev, {**card["actions"][0]["data"], **partial})
    assert refused[0].json()["value"] == (
        "I could not save that. A ranking here needs your top 5, and 3 were chosen: choose 5 "
        "options, best first.")
    assert running.replies() == []


def test_forget_me_leaves_nothing_of_a_teams_person_in_the_database(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """After forget-me, an auditor searching every table finds neither Ben's words nor his
    Entra id, Teams user id, name or email: not in the details the Teams adapter keeps to
    reach people, and not when the team's roster is read again for a later round."""
    running, ben = running_teams, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support from the pharmacy in Tooting.")
    running.wait_for(lambda: running.replies(), "the answer")
    assert _forgets_themselves(running, ben).startswith("Done. Roundtable deleted 1 answer")
    # the team is asked again: its roster, Ben in it, is read once more
    assert running.teams.in_channel(tenant.team, tenant.facilitator,
                                    f"start {PACK} to team").status == 200
    running.wait_for(lambda: len(running.scalars(select(Round.id))) == 2, "the second round")
    question(running, tenant.members[0], 1)
    with running.database.sessions() as session:
        held = stored_values(session)
    ben_ids = (ben.aad, ben.user_id, ben.email, "Tooting")
    assert [v for v in held if any(i.lower() in v.lower() for i in ben_ids)] == []


def test_the_log_at_debug_holds_no_words_name_or_id_of_a_teams_person(
        running_teams: RunningTeams, tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    """As in Slack: an operator who turns on DEBUG reads no answer, name or Entra id in the log
    (the Teams SDK would log each activity whole)."""
    caplog.set_level(logging.DEBUG)
    running, ben = running_teams, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support from the pharmacy in Tooting.")
    running.wait_for(lambda: running.replies(), "the answer")
    assert caplog.records  # the log was written
    for trace in ("Tooting", ben.aad, ben.user_id, ben.email, "'Ben'"):
        assert trace not in caplog.text, trace


def _forgets_themselves(running: RunningTeams, person: Person) -> str:
    """`person` writes forget-me and presses the card's button: what Teams shows them."""
    running.teams.chat(person, "forget-me")
    card = running.wait_for(lambda: next((c for c in running.stub.sent_to(person)
                                          if "cannot be undone" in card_text(c)), None),
                            "the forget-me card")
    [answered] = running.teams.submit(person, card.body["attachments"][0]["content"]["actions"]
                                      [0]["data"])
    return replaced_by(answered.json())


def test_forget_me_s_card_shows_what_its_buttons_did_and_a_cancelled_one_deletes_nothing(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """As delete's question: Delete and Cancel replace forget-me's card with what they did;
    the Delete of a card cancelled (a copy on another device, the Action.Submit fallback)
    deletes nothing, and a second Delete harms nothing."""
    running, stub, ben = running_teams, running_teams.stub, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support.")
    running.wait_for(lambda: running.replies(), "the answer")

    def forget_card() -> dict[str, dict[str, Any]]:
        before = len(stub.sent_to(ben))
        running.teams.chat(ben, "forget-me")
        card = running.wait_for(lambda: next((c for c in stub.sent_to(ben)[before:]
                                              if "cannot be undone" in card_text(c)), None),
                                "the forget-me card")
        return {a["title"]: a["data"] for a in card.body["attachments"][0]["content"]["actions"]}

    asked = forget_card()
    cancelled = running.teams.submit(ben, asked["Cancel"])
    assert replaced_by(cancelled[0].json()) == "Nothing was deleted."
    pressed_later = running.teams.submit(ben, asked["Delete everything"])
    assert pressed_later[0].json()["value"] == (
        "You cancelled that, so nothing was deleted. To delete your answers, write "
        "forget-me again.")
    assert [r.text for r in running.replies()] == ["Peer support."]

    asked = forget_card()
    done = replaced_by(running.teams.submit(ben, asked["Delete everything"])[0].json())
    assert done.startswith("Done. Roundtable deleted 1 answer")
    again = replaced_by(running.teams.submit(ben, asked["Delete everything"])[0].json())
    assert again == "Roundtable held nothing about you; it will not ask you in any future round."
    assert running.replies() == []


def test_what_was_noted_of_teams_messages_goes_with_forget_me_and_retention(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The activity ids of the questions and digest parts sent (`teams_sent`) are kept no
    longer than what they belong to: forget-me deletes those of the person's questions, and
    retention those of the round's questions and digests; also of the messages whose
    activity ids are longer than the core keeps (noted under a short key)."""
    running, ben = running_teams, tenant.members[1]
    running.stub.long_ids = True
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support.")
    question(running, ben, 2)  # the next question is asked (and noted) before forget-me
    bens_chat = conversation_key(running.stub.chat_of(ben))
    assert running.scalars(select(TeamsSent).where(TeamsSent.conversation_key == bens_chat))
    _forgets_themselves(running, ben)
    assert [(t.kind, t.ref_id, t.part) for t in running.scalars(select(TeamsSent).where(
        TeamsSent.conversation_key == bens_chat))] == []

    assert running.teams.in_channel(tenant.team, tenant.facilitator, "close 1").status == 200
    running.wait_for(lambda: running.scalars(select(Digest.state)) == ["posted"],
                     "the final digest posted")
    assert sorted(running.scalars(select(TeamsSent.kind).distinct())) == [
        "digest", "message", "question"]
    apply_retention(running.database, running.bot.clock() + timedelta(days=400), 365,
                    "scheduler", running.bot.gateways)
    assert [(t.kind, t.ref_id, t.part) for t in running.scalars(select(TeamsSent))] == []


def test_a_file_added_by_an_edit_is_said_not_kept(running_teams: RunningTeams,
                                                  tenant: Tenant) -> None:
    """An edit that adds a file is answered as a new message with one is: the updated
    confirmation says the file was not kept; an edit that only adds a file is told so."""
    running, stub, amara = running_teams, running_teams.stub, tenant.members[0]
    start_from_channel(running, tenant)
    question(running, amara, 1)
    activity_id, _ = running.teams.chat(amara, "Protected tme")
    running.wait_for(lambda: [c for c in stub.sent_to(amara)
                              if "Saved as your answer to question 1" in card_text(c)],
                     "the confirmation")
    assert running.teams.edit(amara, activity_id, "Protected time, as on the rota",
                              attachments=[FILE]).status == 200
    updated = running.wait_for(lambda: [card_text(c) for c in stub.calls if c.method == "PUT"
                                        and "Updated as your answer" in card_text(c)],
                               "the confirmation updated")
    assert "Protected time, as on the rota" in updated[-1]
    assert Saved.FILES_NOT_KEPT in updated[-1]
    before = len(stub.sent_to(amara))
    assert running.teams.edit(amara, activity_id, "Protected time, as on the rota",
                              attachments=[FILE, PICTURE]).status == 200
    told = running.wait_for(lambda: [card_text(c) for c in stub.sent_to(amara)[before:]
                                     if "not kept" in card_text(c)], "a word about the file")
    assert told == [Saved.FILES_NOT_KEPT]
    assert [r.text for r in running.replies()] == ["Protected time, as on the rota"]



def test_every_question_on_the_questions_card_has_its_save_button(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The card lists up to eight open questions: each has its own Save, under it."""
    running, teams, dev = running_teams, running_teams.teams, tenant.members[3]
    start_from_channel(running, tenant)
    for number in range(1, 6):
        card = question(running, dev, number).body["attachments"][0]["content"]
        teams.submit(dev, card["actions"][1]["data"])  # skipped: all six are open
    question(running, dev, 6)
    listing = open_questions(running, dev).body["attachments"][0]["content"]
    assert sorted(save_buttons(listing)) == [f"Save question {n}" for n in range(1, 7)]
    ranking = next(e for e in listing["body"] if str(e.get("id", "")).startswith("rank-1-"))
    index = {c["title"]: c["value"] for c in ranking["choices"]}
    ballot = {ranking["id"].replace("rank-1-", f"rank-{n}-"): index[o]
              for n, o in enumerate(TOP5, start=1)}
    [saved] = teams.submit(dev, {**save_buttons(listing)["Save question 6"], **ballot})
    assert saved.json()["value"] == "Saved as your answer to question 6."
    running.wait_for(lambda: [r.choices for r in running.replies()] == [TOP5], "the ranking")


def open_questions(running: RunningTeams, person: Person) -> Call:
    """`person` writes questions: the card of their open questions."""
    before = len(running.stub.sent_to(person))
    running.teams.chat(person, "questions")
    return running.wait_for(lambda: [c for c in running.stub.sent_to(person)[before:]
                                     if card_text(c).startswith("Your open questions")],
                            "the open questions")[0]


def save_buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The data of the card's Save buttons (at its foot or under their questions), by
    title."""
    under = [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]]
    return {a["title"]: a["data"] for a in [*card.get("actions", []), *under]
            if a["title"].startswith("Save")}


def test_a_question_left_empty_on_the_questions_card_is_named_and_what_was_typed_stays(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """The open-questions card cannot mark its inputs required (Teams would require every
    question's for any button). A question saved empty, or a ranking with places left
    empty, is refused naming what is missing; nothing is stored, and the card comes back
    with everything typed on it still there, so nobody types it twice."""
    running, stub, teams, dev = (running_teams, running_teams.stub, running_teams.teams,
                                 tenant.members[3])
    start_from_channel(running, tenant)
    for number in range(1, 6):
        card = question(running, dev, number).body["attachments"][0]["content"]
        teams.submit(dev, card["actions"][1]["data"])  # skipped: all six are open
    question(running, dev, 6)
    listed = open_questions(running, dev)
    listing = listed.body["attachments"][0]["content"]
    inputs = {e["id"]: e for e in listing["body"] if "id" in e}
    saves = save_buttons(listing)
    first = next(i for i in inputs if i.startswith("answer-") and i.endswith("-done-well"))
    second = next(i for i in inputs if i.startswith("answer-") and i.endswith("-bought-in"))
    typed = {first: "Protected time for the care home rounds.", second: ""}

    [refused] = teams.submit(dev, {**saves["Save question 2"], **typed})
    shown = replaced_by_card(refused.json())
    assert "Not saved: question 2 has no answer yet: write it in its box." in card_text_of(shown)
    again = {e["id"]: e.get("value") for e in shown["body"] if "id" in e}
    assert again[first] == "Protected time for the care home rounds."
    assert running.replies() == []

    ranking = next(i for i in inputs if i.startswith("rank-1-"))
    index = {c["title"]: c["value"] for c in inputs[ranking]["choices"]}
    places = {ranking.replace("rank-1-", f"rank-{n}-"): index[o]
              for n, o in enumerate(TOP5[:3], start=1)}
    [refused] = teams.submit(dev, {**saves["Save question 6"], **typed, **places},
                             execute=False, card_id=listed.activity_id)
    replaced = running.wait_for(lambda: [c for c in stub.calls if c.method == "PUT"
                                         and "Not saved: question 6" in card_text(c)],
                                "the card back, with the ranking's gap named")
    shown = replaced[0].body["attachments"][0]["content"]
    assert "Not saved: question 6 needs your 4th choice and 5th choice: a ranking needs all " \
           "5 places." in card_text(replaced[0])
    again = {e["id"]: e.get("value") for e in shown["body"] if "id" in e}
    assert {k: again[k] for k in places} == places
    assert again[first] == "Protected time for the care home rounds."
    assert running.replies() == []


def replaced_by_card(answer: dict[str, Any]) -> dict[str, Any]:
    """The card Teams puts in place of the one a button was on (an Action.Execute's answer)."""
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    return dict(answer["value"])


def card_text_of(card: dict[str, Any]) -> str:
    return card_text(Call("POST", "", None, {"attachments": [{"content": card}]}, 201))


def _on_roster(running: RunningTeams) -> set[str]:
    return set(running.scalars(select(TeamsUser.aad_object_id)))


def test_retention_deletes_the_roster_records_of_people_no_round_names_any_more(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Starting a round from a team keeps everyone on its roster (name, email, Teams id), to
    reach them; once retention has deleted the round's answers, nobody needs them, those who
    never answered included. The facilitator who started the round is kept: the round is."""
    running, ben = running_teams, tenant.members[1]
    start_from_channel(running, tenant)
    question(running, ben, 1)
    running.teams.chat(ben, "Peer support.")
    running.wait_for(lambda: running.replies(), "the answer")
    assert running.teams.in_channel(tenant.team, tenant.facilitator, "close 1").status == 200
    running.wait_for(lambda: running.scalars(select(Digest.state)) == ["posted"],
                     "the final digest posted")
    before = _on_roster(running)
    members = {m.aad for m in tenant.members}
    assert members <= before
    apply_retention(running.database, running.bot.clock() + timedelta(days=400), 365,
                    "scheduler", running.bot.gateways)
    assert _on_roster(running) == before - members


def test_deleting_a_round_deletes_the_roster_records_of_its_people_in_no_other_round(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    start_from_channel(running, tenant)
    question(running, tenant.members[0], 1)
    before = _on_roster(running)
    members = {m.aad for m in tenant.members}
    assert members <= before
    facilitation.delete(running.bot, OPERATOR, 1)
    assert _on_roster(running) == before - members


def test_a_reminder_whose_teams_activity_id_is_long_is_sent_once_and_recorded(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Teams' activity ids have no set length: nudges given ids longer than the core keeps
    are recorded as sent (by a short key), so none is sent again."""
    running, dev = running_teams, tenant.members[3]
    running.stub.long_ids = True
    start_from_channel(running, tenant)
    for person in tenant.members:
        question(running, person, 1)
    assert running.teams.in_channel(tenant.team, tenant.facilitator, "remind").status == 200
    sent = running.wait_for(lambda: (lambda rows: rows if len(rows) == 5 and all(
        r.state == "sent" for r in rows) else None)(running.scalars(select(Reminder))),
        "the reminders recorded as sent")
    assert all(r.message_id and len(r.message_id) <= 64 for r in sent)
    nudges = [c for c in running.stub.sent_to(dev) if "gentle reminder" in card_text(c)]
    assert len(nudges) == 1 and len(nudges[0].activity_id or "") > 64


def test_a_teams_digest_cut_short_by_a_failure_gets_only_its_missing_parts_under_its_top(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """A digest whose posting stopped after its top card and first question, with activity
    ids longer than the core keeps: recovery posts only the missing parts, as replies to that
    top card, and the top card is found under the short key the digest's row keeps of it."""
    running, stub, channel = running_teams, running_teams.stub, tenant.team.channel_id
    stub.long_ids = True
    start_from_channel(running, tenant)
    [round_id] = running.wait_for(lambda: running.scalars(select(Round.id)), "the round")
    began, gateways = running.bot.clock(), running.bot.gateways
    stub.fail_next("send", retry_after=0, times=RETRIES + 1, after=2, where=channel)
    with pytest.raises(DeliveryError):
        post_digest(running.database.sessions, gateways, round_id, "cut-short", lambda: began)

    later = began + STALE_DIGEST_CLAIM + timedelta(minutes=1)
    [posted] = recover_digests(running.database.sessions, gateways, lambda: later)
    [top] = [c for c in stub.sent(channel) if card_text(c).startswith("Digest: ")]
    assert top.activity_id is not None and len(top.activity_id) > 64
    thread = [card_text(c) for c in stub.sent(f"{channel};messageid={top.activity_id}")]
    assert len(thread) == len(set(thread)) == len(posted.parts) - 1 == 6  # each question once
    [digest] = running.scalars(select(Digest))
    assert digest.state == "posted" and digest.message_id == posted.top.message_id
    found = gateways["teams"].find_digest(channel, digest.id, began)
    assert found is not None and found.message_id == digest.message_id


def test_dont_quote_me_pressed_by_a_client_without_execute_changes_the_confirmation_in_place(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    """Action.Submit (older clients, Outlook): the confirmation the button was on is put back
    with the note in the button's place, and the answer is never quoted."""
    running, stub, ben = running_teams, running_teams.stub, tenant.members[1]
    confirmation, button = confirmed_with_its_button(running, tenant, ben)
    assert (button["title"], button["fallback"]["type"]) == ("Don't quote me", "Action.Submit")
    running.teams.submit(ben, button["data"], execute=False, card_id=confirmation.activity_id)
    [put] = running.wait_for(lambda: [c for c in stub.calls if c.method == "PUT"
                                      and c.path.endswith("/" + str(confirmation.activity_id))],
                             "the confirmation changed")
    assert "actions" not in put.body["attachments"][0]["content"]
    assert card_text(put).endswith("Peer support from the PCN lead.\nYou asked that this answer "
                                   "is never quoted: it counts in its theme, that is all.\nNot "
                                   "the right question? Answer the one you meant on its card, "
                                   "and delete the message you wrote."), card_text(put)
    assert [r.quotable for r in running.replies()] == [False]
