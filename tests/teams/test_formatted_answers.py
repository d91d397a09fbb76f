"""An answer written with Teams' formatting (paragraphs, line breaks, numbered and bulleted
lists, emoji drawn as pictures) comes as HTML: it is kept as it reads in the chat, a line for
each paragraph and list item, a numbered list's numbers and each emoji shown, not as words
run together."""

from __future__ import annotations

from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import question, start_from_channel
from tests.teams_connector_stub import card_text

WRITTEN = ("<p>Three things made it work:</p><ol><li>Protected time</li>"
           "<li>Backfill &amp; cover</li><li>A named lead</li></ol>"
           "<p>And we kept<br>meeting <img alt=\"🙂\" "
           "itemtype=\"http://schema.skype.com/Emoji\" src=\"smile.png\"></p>"
           "<ul><li>weekly</li><li>in person</li></ul>")
AS_READ = ("Three things made it work:\n1. Protected time\n2. Backfill & cover\n"
           "3. A named lead\nAnd we kept\nmeeting 🙂\n- weekly\n- in person")


def test_an_answer_with_paragraphs_and_lists_is_kept_as_it_reads(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running = running_teams
    start_from_channel(running, tenant)
    person = tenant.members[0]
    question(running, person, 1)
    _, responses = running.teams.chat(person, WRITTEN, formatted=True)
    assert [r.status for r in responses] == [200]
    running.wait_for(lambda: running.replies(), "the answer, saved")
    assert [r.text for r in running.replies()] == [AS_READ]
    running.wait_for(lambda: [c for c in running.stub.sent_to(person)
                              if "2. Backfill & cover" in card_text(c)], "its confirmation")
