"""Search syntax: "exact phrase" must appear, -word and NOT word must not (parsing and matching)."""

from __future__ import annotations

import pytest

from qa.errors import EmptyQuestionError
from qa.search.syntax import Query, parse_query


@pytest.mark.parametrize(
    "question,expected",
    [
        ("Who built the barriers?", Query("Who built the barriers?")),
        (
            '"emergency levy" repairs -Beijing',
            Query("emergency levy repairs", ("emergency levy",), ("Beijing",)),
        ),
        ("flood insurance NOT Beijing", Query("flood insurance", (), ("Beijing",))),
        ("“curly quotes” work", Query("curly quotes work", ("curly quotes",))),
        ('levy -"sports hall"', Query("levy", (), ("sports hall",))),
        ("re-education centres", Query("re-education centres")),  # a hyphen inside a word is text
        ("losses of -5 percent", Query("losses of -5 percent")),  # a negative number is text
        ('an "unclosed phrase', Query('an "unclosed phrase')),
        ('empty "" phrase', Query("empty phrase")),
        ('"levy" "levy" -x -x', Query("levy levy", ("levy",), ("x",))),
        ("not Beijing", Query("not Beijing")),  # only capitals make NOT an operator
    ],
)
def test_questions_parse_into_text_phrases_and_exclusions(question, expected):
    assert parse_query(question) == expected


@pytest.mark.parametrize("question", ["-Beijing", '-"sports hall" NOT levy', '""'])
def test_a_question_of_only_exclusions_is_refused_with_a_way_out(question):
    with pytest.raises(EmptyQuestionError, match="Add words or a phrase"):
        parse_query(question)


@pytest.mark.parametrize(
    "question,text,admitted",
    [
        ('"emergency levy"', "The council approved an Emergency\nLevy on Monday.", True),
        ('"emergency levy"', "An emergency, levy or not.", False),  # the words, but not the phrase
        ('"emergency levy"', "Emergency levying powers.", False),  # whole words only
        ("talks -Beijing", "Talks with BEIJING stalled.", False),
        ("talks -Beijing", "Talks with Beijingers stalled.", True),
        ('"China\'s ties" -Beijing', "China’s ties with Islamabad.", True),  # either apostrophe
        ('levy -"sports hall"', "The sports ground and the town hall opened.", True),
        ('levy -"sports hall"', "The municipal sports  hall opened.", False),
    ],
)
def test_phrases_must_appear_and_excluded_words_must_not(question, text, admitted):
    assert parse_query(question).admits(text) is admitted


def test_restrictions_are_described_for_people():
    query = parse_query('"emergency levy" -Beijing NOT port')
    assert query.restricts
    assert query.describe() == 'must contain "emergency levy"; without "Beijing", "port"'
    assert not parse_query("plain words").restricts
