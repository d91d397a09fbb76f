"""Block Kit builders: every kind of question as a form, within Slack's limits."""

from __future__ import annotations

import json

import pytest

from bot.core.answers import Asked
from bot.core.packs import MOST_OPTIONS, MOST_PLACES, Prompt
from bot.core.ports import Question
from bot.core.questions import Saved, deleted_among
from bot.core.said import Command, OpenQuestions, Place, Strong, said
from bot.slack import blocks, render
from bot.slack.command_text import Audience, StartRequest, parse_start
from bot.slack.limits import message_problems, view_problems
from storage.models import Participant
from tests.helpers import seed_pack
from tests.slack_reading import as_read

OPTIONS = tuple(f"Option {i}" for i in range(12))


def _asked(prompt: Prompt) -> Asked:
    return Asked(1, Participant(platform_user_id="U1"), prompt, 2)


@pytest.mark.parametrize("prompt", [
    Prompt(id="one", section="S", kind="choice", question="Pick one?", options=OPTIONS[:3]),
    Prompt(id="few", section="S", kind="choice", question="Up to 2?", options=OPTIONS[:4],
           pick=2),
    Prompt(id="many", section="S", kind="choice", question="Up to 3?", options=OPTIONS, pick=3),
    Prompt(id="top", section="S", kind="rank", question="Top 3?", options=OPTIONS, pick=3),
])
def test_it_turns_each_kind_of_question_into_a_form_and_reads_it_back(prompt: Prompt) -> None:
    view = blocks.answer_view(_asked(prompt))
    assert view_problems(view) == []
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    options = inputs[0]["element"]["options"]
    if prompt.kind == "rank":
        values = {b["block_id"]: {"value": {"selected_option": b["element"]["options"][-1 - i]}}
                  for i, b in enumerate(inputs)}
        assert blocks.choices_from_state(prompt, values) == ["Option 11", "Option 10", "Option 9"]
    elif prompt.picks == 1:
        values = {"answer": {"value": {"selected_option": options[2]}}}
        assert blocks.choices_from_state(prompt, values) == ["Option 2"]
    else:
        values = {"answer": {"value": {"selected_options": options[:2]}}}
        assert blocks.choices_from_state(prompt, values) == ["Option 0", "Option 1"]


def test_it_keeps_every_message_of_the_seed_pack_within_limits() -> None:
    pack = seed_pack()
    messages = [
        blocks.question_message(Question(1, 1, p, i, len(pack.prompts), pack if i == 1 else None))
        for i, p in enumerate(pack.prompts, start=1)]
    long_text = "<!channel> " + "x" * 40_000
    long_answer = blocks.confirmation(Saved(_asked(pack.prompts[0]), long_text), long_text)
    for message in [*messages, long_answer]:
        assert message_problems(message.text, message.blocks) == []
    # only in rich text, shown as written: it pings nobody
    assert [b["type"] for b in long_answer.blocks if "<!channel>" in json.dumps(b)] == [
        "rich_text"]


CHOOSE = Prompt(id="choose", section="S", kind="choice", question="Pick two?",
                options=OPTIONS[:4], pick=2)
RANK = Prompt(id="top", section="S", kind="rank", question="Top 3?", options=OPTIONS, pick=3)
WRITE = Prompt(id="write", section="S", kind="text", question="What worked?")


def test_a_shared_confirmation_reads_back_a_typed_vote_and_lists_a_form_vote() -> None:
    typed = Saved(Asked(1, Participant(), CHOOSE, 3), ("Option 2", "Option 0"), "D1:2",
                  typed=True)
    form = Saved(Asked(1, Participant(), RANK, 4), ("Option 9", "Option 1", "Option 5"), "f1")
    written = Saved(Asked(1, Participant(), WRITE, 2), "Mutual aid", "D1:1")
    message = blocks.confirmations([written, typed, form])
    assert message_problems(message.text, message.blocks) == []
    read = as_read(message.blocks)
    assert "*3. Pick two?*\nYour choice, as I read your message:\n1. Option 2\n2. Option 0" in read
    assert "*4. Top 3?*\n>Option 9; Option 1; Option 5" in read
    assert "Mutual aid" in read and "Don't quote me" in read
    assert read.count("Not what you meant? Answer the question again in its thread.") == 1
    assert "as your reason" not in read
    with_reason = blocks.confirmations([written, Saved(typed.asked, typed.answer, "D1:2",
                                                       typed=True, reason="Because.")])
    assert "kept with it, as your reason" in as_read(with_reason.blocks)
    assert "Not what you meant?" not in as_read(blocks.confirmations([written, form]).blocks)


def test_twenty_typed_rankings_with_reasons_fit_in_one_message() -> None:
    long_options = tuple(f"{'Option with a long name ' * 4}{i}" for i in range(30))
    ranking = Prompt(id="long", section="S", kind="rank", question="Q? " * 600,
                     options=long_options, pick=30)
    saved = [Saved(Asked(1, Participant(), ranking, n), long_options, f"D1:{n}", typed=True,
                   reason="Because.") for n in range(20)]
    message = blocks.confirmations(saved)
    assert message_problems(message.text, message.blocks) == []
    assert as_read(message.blocks).count("Your ranking, as I read your message:") == 20


def test_it_reads_the_start_command_in_slacks_escaped_forms() -> None:
    def read(args: list[str]) -> StartRequest:
        return parse_start(args, lambda pack: seed_pack())[0]  # every pack is there

    start = read(["sel-pharmacy-leadership", "to", "<#C1|leaders>", "<!subteam^S1|@pcn>",
                         "<@U1|amara>", "<@U2>", "digest", "<#C9>", "closes", "14d",
                         "anonymous"])
    assert start.audience == Audience(("C1",), ("S1",), ("U1", "U2"))
    assert (start.digest_channel, start.closes, start.mode) == ("C9", "14d", "anonymous")
    with pytest.raises(Exception, match="can't tell who"):
        read(["sel-pharmacy-leadership", "to", "#leaders"])
    for words, mode in (([], "role"), (["named"], "named"), (["by-role"], "role"),
                        (["anonymous"], "anonymous")):
        assert read(["p", "to", "<@U1>", *words]).mode == mode, words
    with pytest.raises(Exception, match="one mode"):
        read(["p", "to", "<@U1>", "named", "anonymous"])


def test_dont_quote_me_under_one_of_several_answers_leaves_the_others_their_button() -> None:
    first = Saved(Asked(1, Participant(), WRITE, 2), "this is *really* _urgent_", "D1:1")
    second = Saved(Asked(1, Participant(), WRITE, 2), "Mutual aid", "D1:2")
    shared = blocks.confirmations([first, second]).blocks
    marked = blocks.without_dont_quote(shared, "D1:1")
    assert as_read(marked).count(blocks.NOT_QUOTED_NOTE) == 1
    assert [json.loads(e["value"])["answer"] for b in marked if b["type"] == "actions"
            for e in b["elements"]] == ["D1:2"]
    assert [b for b in marked if b["type"] == "rich_text"] == [
        b for b in shared if b["type"] == "rich_text"]  # the words shown as they were


def test_a_confirmation_of_answers_to_several_questions_says_which_are_deleted_and_kept(
        ) -> None:
    """Two of its three answers deleted, one of them the only answer to its question: what
    the confirmation says instead of them names each question, and which is open again."""
    one, two, three = (Asked(1, Participant(), WRITE, n) for n in (1, 2, 3))
    told = as_read(render.message(deleted_among([(one, False), (two, True)], [three])).blocks)
    assert told == ("You deleted 2 of the 3 answers this message confirmed, to questions 1 "
                    "and 2, and they are deleted here too.\n"
                    "The other one, to question 3, is still saved.\n"
                    "The rest of your answer to question 2 stays.\n"
                    "Question 1 is open again: answer it in its thread whenever you like.")


def test_the_bots_words_keep_their_style_and_others_words_show_as_written() -> None:
    words = said("Round 3 (", Strong("Leadership *now*"), ") is open: ", Command("stop"),
                 " stops it; digests go to ", Place("CDIGEST"), " ", OpenQuestions(yours=True),
                 ".")
    message = render.message(words)
    assert message_problems(message.text, message.blocks) == []
    [block] = message.blocks
    assert block["type"] == "rich_text"  # no mrkdwn, which would make *now* bold
    assert as_read(block) == ("Round 3 (*Leadership *now**) is open: `/roundtable stop` stops "
                              "it; digests go to #CDIGEST on your Home tab.")
    runs = block["elements"][0]["elements"]
    assert {"type": "channel", "channel_id": "CDIGEST"} in runs
    assert message.text.startswith("Round 3 (*Leadership *now**) is open")  # notifications
    long = render.message(said("x" * 5000, Strong("never shown")))
    assert message_problems(long.text, long.blocks) == []
    assert "never shown" not in json.dumps(long.blocks)


def test_a_ranking_of_as_many_places_as_a_pack_allows_fits_a_slack_form() -> None:
    """A pack may ask for MOST_PLACES places (bot.core.packs): a select each, and the
    question, within the blocks a modal holds."""
    options = tuple(f"Option {n}" for n in range(MOST_OPTIONS))
    prompt = Prompt(id="all", section="S", kind="rank", question="Rank them", options=options,
                    pick=MOST_PLACES)
    view = blocks.answer_view(_asked(prompt))
    assert view_problems(view) == []
    assert len([b for b in view["blocks"] if b["type"] == "input"]) == MOST_PLACES
