"""Spelling: unknown question words within one or two edits of a corpus word are searched as that word,
and every way of asking (API, CLI, page) says so; questions in other languages get a hint instead."""

from __future__ import annotations

import json

import pytest

from qa.index.terms import Analyzer
from qa.records import Correction
from qa.search.language import ENGLISH_ONLY, looks_english
from qa.search.spelling import Speller, edit_distance, spelling_in
from qa.serve.cli import main

ANALYZER = Analyzer()
VOCABULARY = {term: 1 for term in ANALYZER.terms("Gujranwala traffickers arrested embassy Beijing Islamabad would")}
VOCABULARY["traffick"] = 9  # more passages than any other candidate
GUJRANWALA = "How many traffickers did the FIA arrest in Gujranwla?"


@pytest.mark.parametrize(
    "a,b,limit,expected",
    [
        ("gujranwla", "gujranwala", 2, 1),  # a letter left out
        ("embsasy", "embassy", 2, 1),  # two neighbours swapped: one edit
        ("beijign", "beijing", 1, 1),
        ("kitten", "sitting", 3, 3),
        ("kitten", "sitting", 2, 3),  # beyond the limit: limit + 1
        ("abc", "abcdef", 1, 2),
    ],
)
def test_edit_distance_counts_optimal_alignment_edits(a, b, limit, expected):
    assert edit_distance(a, b, limit) == expected


@pytest.mark.parametrize(
    "typed,meant",
    [
        ("Gujranwla", "gujranwala"),  # one deletion
        ("Gujrnawala", "gujranwala"),  # one swap
        ("Gujarnwla", "gujranwala"),  # two edits, a long word
        ("Beijng", "beij"),  # found through the variant's stem ("beijing" → "beij")
        ("trafficers", "traffick"),
        ("embasy", "embassi"),
        ("Islamabd", "islamabad"),
        ("Gujranwala", None),  # the corpus has it
        ("Beiing", "beij"),
        ("Lahore", None),  # nothing close
        ("wuld", None),  # too short to trust
        ("world", None),  # a real English word, never a typo (the dictionary)
        ("Gujr4nwla", None),  # digits
        ("uGjranwala", "gujranwala"),  # the first two letters swapped
    ],
)
def test_speller_suggests_a_close_corpus_term_for_unknown_words_only(typed, meant):
    speller = Speller(VOCABULARY, ANALYZER, dictionary=frozenset({"world"}))
    assert speller.suggest(typed) == meant


def test_the_corpus_spelling_closest_to_the_typed_word_is_shown():
    texts = ["Police arrested two men. The arrest was filmed.", "Arrests rose; the arrest of 109 traffickers."]
    assert spelling_in(texts, "arrest", ANALYZER, "arested") == "arrested"
    assert spelling_in(texts, "arrest", ANALYZER, "Arest") == "Arrest"  # capitalised like the typed word
    assert spelling_in(texts, "gujranwala", ANALYZER, "Gujranwla") is None


def test_a_misspelt_word_is_searched_as_the_corpus_word_and_the_answer_says_so(lexical):
    answer = lexical.ask(GUJRANWALA, 3)
    assert answer.corrections == [Correction("Gujranwla", "Gujranwala")]
    assert answer.question == GUJRANWALA  # the question as asked
    assert answer.searched_question == GUJRANWALA.replace("Gujranwla", "Gujranwala")
    assert answer.confident
    top = answer.hits[0]
    assert (top.article.outlet, top.passage.paragraph) == ("Shafaqna Pakistan", 2)
    assert "Gujranwala" in top.highlighted_text
    assert answer.to_dict()["corrections"] == [{"typed": "Gujranwla", "searched": "Gujranwala"}]


def test_without_the_correction_the_typo_is_not_answered_confidently(lexical, monkeypatch):
    import qa.search.rewriting

    monkeypatch.setattr(qa.search.rewriting, "correct_question", lambda question, speller, spelling_of: (question, []))
    answer = lexical.ask(GUJRANWALA, 3)
    assert not answer.confident  # the unknown word weighs most and matches nothing


def test_questions_the_corpus_spells_are_left_alone(lexical):
    answer = lexical.ask("How many traffickers did the FIA arrest in Gujranwala?", 3)
    assert answer.corrections == [] and "corrections" not in answer.to_dict()
    assert lexical.ask("Who won the football world cup in 1998?", 3).corrections == []


@pytest.mark.parametrize(
    "question,english",
    [
        ("How many traffickers did the FIA arrest in Gujranwala?", True),
        ("Pourquoi le Pakistan a-t-il abandonné les poursuites contre les trafiquants chinois ?", False),
        ("¿Qué pasó con las mujeres paquistaníes?", False),
        ("O que aconteceu com as mulheres?", False),
        ("Wer hat die Frauen nach China gebracht?", False),
        ("پاکستان میں انسانی اسمگلنگ", False),
        ("لماذا توقفت باكستان عن التحقيق؟", False),
        ("die Hard", True),  # one foreign-looking word is not enough
        ("FIA 2019", True),
    ],
)
def test_looks_english(question, english):
    assert looks_english(question) is english


def test_a_question_in_another_language_gets_the_english_hint_and_no_corrections(lexical):
    answer = lexical.ask("¿Qué pasó con las mujeres paquistaníes en China?", 3)
    assert ENGLISH_ONLY in answer.warnings and answer.corrections == []
    assert ENGLISH_ONLY not in lexical.ask(GUJRANWALA, 3).warnings


def test_the_cli_says_what_it_searched_for(lexical_index, capsys):
    assert main(["ask", GUJRANWALA, "-k", "1", "--index", str(lexical_index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Q: {GUJRANWALA}\nShowing results for Gujranwala (you typed Gujranwla).\n")
    assert main(["ask", GUJRANWALA, "-k", "1", "--index", str(lexical_index), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["corrections"] == [{"typed": "Gujranwla", "searched": "Gujranwala"}]


def test_the_cli_hints_that_the_search_is_english(lexical_index, capsys):
    assert main(["ask", "¿Qué pasó con las mujeres paquistaníes?", "--index", str(lexical_index)]) == 0
    assert f"warning: {ENGLISH_ONLY}" in capsys.readouterr().err


def test_the_relevance_cue_judges_the_question_as_searched(lexical):
    from qa.serve.service import match_strengths

    answer = lexical.ask(GUJRANWALA, 1)
    assert match_strengths(lexical, answer) == ["strong"]  # as for the question spelt right
