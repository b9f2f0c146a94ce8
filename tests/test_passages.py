"""Passages: one per paragraph, exact character spans, long paragraphs split at sentences."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.chunking import estimate_tokens, split_passages
from qa.ingest.corpus import load_corpus
from qa.ingest.sentences import sentence_spans, split_sentences
from qa.records import Article


@pytest.mark.parametrize(
    "text,expected",
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        (
            "Baig said late on Sept. 25, after his meeting. Then he left.",
            ["Baig said late on Sept. 25, after his meeting.", "Then he left."],
        ),
        (
            "The U.S. Department of State said so. Others agreed.",
            ["The U.S. Department of State said so.", "Others agreed."],
        ),
        ("“No one is helping,” he said. “Why?” she asked.", ["“No one is helping,” he said.", "“Why?” she asked."]),
        ("Mr. Khan met Dr. Ali. They talked.", ["Mr. Khan met Dr. Ali.", "They talked."]),
        ("It rose 70.6% in 2023. It fell later.", ["It rose 70.6% in 2023.", "It fell later."]),
        ("no capital after the stop. still one sentence", ["no capital after the stop. still one sentence"]),
    ],
)
def test_sentences(text, expected):
    assert split_sentences(text) == expected


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n“”'A1")), max_size=200))
def test_sentence_spans_cover_every_visible_character_once(text):
    spans = sentence_spans(text)
    covered = "".join(text[start:end] for start, end in spans)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert all(a < b for a, b in spans) and all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(spans))


def test_every_seed_passage_is_an_exact_slice_of_its_article(seed_corpus):
    for article in load_corpus(seed_corpus).articles:
        passages = split_passages(article)
        assert [p.paragraph for p in passages] == list(range(1, len(passages) + 1))
        for passage in passages:
            assert article.text[passage.char_start : passage.char_end] == passage.text


def test_long_paragraph_is_split_at_sentences_and_keeps_its_number():
    sentences = [f"Sentence number {n} has exactly seven words." for n in range(40)]
    article = Article(id="a", path="a.txt", text="Short first paragraph here.\n\n" + " ".join(sentences))
    passages = split_passages(article, estimate_tokens, max_tokens=40)
    assert passages[0].paragraph == 1
    second = [p for p in passages if p.paragraph == 2]
    assert len(second) > 1
    for passage in second:
        assert estimate_tokens(passage.text) <= 40
        assert passage.text.startswith("Sentence number") and passage.text.endswith("words.")
        assert article.text[passage.char_start : passage.char_end] == passage.text
    assert " ".join(p.text for p in second) == " ".join(sentences)


def test_split_uses_the_model_tokenizer(bert_model_dir, seed_corpus):
    from qa.models.encoder import load_encoder

    encoder = load_encoder(bert_model_dir)
    assert encoder.max_tokens == 62  # 64-token window minus [CLS] and [SEP]
    article = next(a for a in load_corpus(seed_corpus).articles if a.id.startswith("breaking"))
    prefix = article.title + "\n"
    passages = split_passages(article, encoder.count_tokens, encoder.max_tokens, prefix)
    assert len(passages) > article.text.count("\n\n") + 1
    for passage in passages:
        assert article.text[passage.char_start : passage.char_end] == passage.text
        single_long_sentence = len(split_sentences(passage.text)) == 1
        assert encoder.count_tokens(prefix + passage.text) <= encoder.max_tokens or single_long_sentence


def test_a_sentence_longer_than_the_limit_is_cut_between_words():
    article = Article(id="a", path="a.txt", text=" ".join(f"word{n}" for n in range(100)))
    passages = split_passages(article, lambda text: len(text.split()), max_tokens=30)
    assert [len(p.text.split()) for p in passages] == [30, 30, 30, 10]
    assert all(article.text[p.char_start : p.char_end] == p.text for p in passages)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=6), st.integers(min_value=3, max_value=60))
def test_span_invariant_holds_for_any_text(paragraphs, limit):
    text = "\n\n".join(paragraphs)
    article = Article(id="x", path="x.txt", text=text)
    for passage in split_passages(article, estimate_tokens, max_tokens=limit):
        assert article.text[passage.char_start : passage.char_end] == passage.text
