"""What a person wrote with Teams' formatting is kept as it reads, whatever shape the HTML
takes: malformed tags, numbers Python would refuse, quotes inside quotes."""

from __future__ import annotations

from bot.teams.markup import Quote, read_html

REPLY = 'itemtype="http://schema.skype.com/Reply"'


def test_malformed_html_keeps_every_word_as_written() -> None:
    assert read_html("a < b and 2 > 1, &lt;tag&gt; <a <p>").words == "a < b and 2 > 1, <tag> <a"


def test_a_list_numbered_from_a_number_python_would_refuse_is_numbered_from_one() -> None:
    huge = "9" * 5000  # int() refuses strings this long
    written = f'<ol start="{huge}"><li>x</li></ol><ol start="²"><li>y</li></ol>'
    assert read_html(written).words == "1. x\n1. y"


def test_a_quote_holding_a_quote_is_set_apart_whole() -> None:
    written = (f'<blockquote {REPLY} itemid="7"><p>Ben</p><blockquote><p>older</p>'
               "</blockquote><p>Question 1</p></blockquote><p>My answer</p>")
    read = read_html(written)
    assert read.words == "My answer"
    assert read.quotes == (Quote("7", "Ben\nolder\nQuestion 1"),)


def test_a_blockquote_of_the_persons_own_is_their_words() -> None:
    assert read_html("<blockquote><p>As the report said</p></blockquote><p>yes</p>"
                     ).words == "As the report said\nyes"
