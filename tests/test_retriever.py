"""Asking questions of the shipped corpus: the right paragraph first, with an exact citation."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from qa.errors import EmptyQuestionError, InvalidRequestError
from qa.search.retriever import MAX_QUESTION_CHARS

NR = "national-review-pakistan-backs-off-prosecuting-chinese-traffickers"
FO = "2019-05-11-pakistan-china-working-closely-on-women-trafficking"
SHAFAQNA = "shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state"
CHAINS = "breaking-the-chains-of-human-trafficking-in-pakistan"
XINJIANG = "2018-09-25-pakistanis-lobby-to-free-wives-trapped-in-xinjiang"

FACTUAL_QUESTIONS = [
    ("How many girls and women did Pakistani investigators list as brought to China to be sold as brides?", NR, 3),
    ("Why did Pakistan decline to pursue the case against Chinese sex traffickers?", NR, 1),
    ("What happened to the case against 31 Chinese nationals accused of human trafficking?", NR, 7),
    ("Were the organs of trafficked women harvested in China?", NR, 4),
    ("How many traffickers did the FIA arrest in Gujranwala?", SHAFAQNA, 2),
    ("How many convictions were achieved in 2023 out of the cases investigated?", SHAFAQNA, 1),
    ("Which law still permits fines instead of imprisonment for trafficking?", SHAFAQNA, 3),
    ("What share of the trafficking victims identified were women and girls?", CHAINS, 1),
    ("How do social media posts lure people into illegal migration?", CHAINS, 3),
    ("How do traffickers use online recruitment and fraudulent job listings?", CHAINS, 9),
    ("By when do the Sustainable Development Goals call for the eradication of trafficking?", CHAINS, 12),
    ("What did the Chinese team that visited Pakistan offer?", FO, 5),
    ("Who helped rescue Pakistani women and sent them back home?", FO, 3),
    ("How long was Mirza Imran Baig's wife detained in a re-education camp?", XINJIANG, 3),
    ("How many cases of Pakistani husbands did Ilyas confirm?", XINJIANG, 13),
    ("Who was elected as Pakistan's prime minister last month?", XINJIANG, 9),
    ("What are Uyghurs forbidden from doing in the re-education centers?", XINJIANG, 14),
    ("What kind of shelters and training should victims of trafficking get?", CHAINS, 11),
]


def test_question_two_paragraphs_answer_finds_both_at_the_top(lexical):
    """¶5 ("enhancing victim support systems") and ¶11 (what such a system includes) both qualify."""
    hits = lexical.search("What does a robust victim support system include?", k=2)
    assert {(h.passage.article_id, h.passage.paragraph) for h in hits} == {(CHAINS, 5), (CHAINS, 11)}


@pytest.mark.parametrize("question,article_id,paragraph", FACTUAL_QUESTIONS)
def test_factual_question_is_answered_by_the_right_paragraph_first(lexical, question, article_id, paragraph):
    answer = lexical.ask(question, k=5)
    top = answer.hits[0]
    assert (top.passage.article_id, top.passage.paragraph) == (article_id, paragraph)
    assert answer.confident


def test_hit_carries_an_exact_citation_and_highlight(lexical):
    hit = lexical.search("How many traffickers did the FIA arrest in Gujranwala?", k=1)[0]
    article = hit.article
    assert article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
    assert (
        hit.citation
        == "Shafaqna Pakistan — Human trafficking glaring failure of the state (untitled), Arsal Mir, 2024-01-01, ¶2"
    )
    assert hit.highlighted_text == (
        "The Federal Investigation Agency’s (FIA) arrest of 109 traffickers in Gujranwala in a single month "
        "underscores the vast scale of this crisis."
    )
    assert hit.scores.keys() == {"lexical"} and hit.score == hit.scores["lexical"] > 0


def test_citation_gives_the_full_title_and_the_full_citation_adds_the_quote(lexical):
    hit = lexical.search("Why did Pakistan decline to pursue the case against Chinese sex traffickers?", k=1)[0]
    assert hit.citation == (
        'National Review — "Pakistan Backs Off Prosecuting Chinese Sex Traffickers to Preserve Economic Ties to '
        'Beijing: Report", Zachary Evans, ¶1'
    )
    assert hit.full_citation == f"{hit.citation}: “{hit.highlighted_text}”"  # the shipped articles have no URL


def test_highlight_picks_the_answering_sentence_inside_a_long_passage(lexical):
    hit = lexical.search("Where did Ilyas's Chinese Uyghur wife get detained and since when?", k=1)[0]
    assert (
        hit.highlighted_text.startswith("But in 2017 they start") or "detained since April 2017" in hit.highlighted_text
    )


def test_question_the_corpus_does_not_answer_is_not_confident(lexical):
    answer = lexical.ask("What is the boiling point of liquid nitrogen?", k=5)
    assert answer.confident is False


def test_stopword_only_question_is_not_confident(lexical):
    assert lexical.ask("what is it that they were?", k=3).confident is False


def test_blank_question_raises(lexical):
    with pytest.raises(EmptyQuestionError):
        lexical.ask("   \n\t ")


def test_overlong_question_is_truncated_with_a_warning(lexical, caplog):
    question = "Gujranwala traffickers arrest " * 200
    with caplog.at_level(logging.WARNING, logger="qa"):
        answer = lexical.ask(question, k=1)
    assert len(answer.question) <= MAX_QUESTION_CHARS
    assert answer.warnings and "2,000 characters" in answer.warnings[0]
    assert any("2,000 characters" in message for message in caplog.messages)


@pytest.mark.parametrize("k", [0, -3])
def test_k_below_one_is_refused(lexical, k):
    with pytest.raises(InvalidRequestError, match="k must be at least 1"):
        lexical.search("trafficking", k=k)


def test_huge_k_returns_every_matching_passage(lexical):
    hits = lexical.search("trafficking", k=10_000)
    assert 0 < len(hits) <= len(lexical.passages)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_outlet_filter_applies_before_ranking(lexical):
    hits = lexical.search("women trafficked to China", k=5, outlets=["National Review"])
    assert len(hits) == 5
    assert {h.article.outlet for h in hits} == {"National Review"}


def test_outlet_filter_ignores_case(lexical):
    hits = lexical.search("women trafficked to China", k=5, outlets=["national REVIEW"])
    assert {h.article.outlet for h in hits} == {"National Review"}


def test_outlet_none_selects_articles_that_name_no_outlet(lexical):
    hits = lexical.search("Pakistani women trafficked to China", k=20, outlets=[None])
    assert hits and {h.article.outlet for h in hits} == {None}
    both = lexical.search("Pakistani women trafficked to China", k=50, outlets=[None, "National Review"])
    assert {h.article.outlet for h in both} == {None, "National Review"}


def test_date_filter_keeps_dated_articles_in_range(lexical):
    hits = lexical.search("Pakistani women China", k=10, date_from="2019-01-01", date_to="2019-12-31")
    assert hits and {h.article.id for h in hits} == {FO}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"date_from": "last week"}, "is not a date; write it as YYYY-MM-DD"),
        ({"date_from": "2020-01-01", "date_to": "2019-01-01"}, "is after date_to"),
        (
            {"outlets": ["The Onion"]},
            "No articles from outlet 'The Onion'. Known outlets: National Review, Shafaqna Pakistan",
        ),
        ({"mode": "psychic"}, "Unknown mode"),
        ({"mode": "dense"}, "needs semantic search, which is off"),
    ],
)
def test_bad_search_arguments_get_a_clear_message(lexical, kwargs, message):
    with pytest.raises(InvalidRequestError, match=message):
        lexical.search("trafficking", k=3, **kwargs)


def test_filters_that_match_nothing_return_no_hits(lexical):
    answer = lexical.ask("trafficking", k=3, date_from="2030-01-01")
    assert answer.hits == [] and answer.confident is False


def test_hybrid_mode_fuses_lexical_and_dense(hybrid):
    assert hybrid.mode == "hybrid"
    answer = hybrid.ask("How many traffickers did the FIA arrest in Gujranwala?", k=5)
    assert answer.mode == "hybrid"
    # The tiny test model has random weights, so only the fusion mechanics are checked here:
    # the lexical winner survives fusion with an uninformative dense ranking.
    assert (SHAFAQNA, 2) in [(h.passage.article_id, h.passage.paragraph) for h in answer.hits]
    for hit in answer.hits:
        assert hit.scores.keys() == {"lexical", "dense"}
        assert -1.0001 <= hit.scores["dense"] <= 1.0001
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)


def test_dense_mode_ranks_by_cosine(hybrid):
    hits = hybrid.search("Xinjiang re-education camps", k=5, mode="dense")
    cosines = [h.scores["dense"] for h in hits]
    assert cosines == sorted(cosines, reverse=True)
    assert [h.score for h in hits] == pytest.approx(cosines, abs=1e-5)


def test_dense_filter_still_returns_k_hits(hybrid):
    hits = hybrid.search("wives trapped in Xinjiang", k=4, mode="dense", outlets=["Shafaqna Pakistan"])
    assert len(hits) == 4 and {h.article.outlet for h in hits} == {"Shafaqna Pakistan"}


def test_the_same_answer_twice(hybrid):
    first = [h.to_dict() for h in hybrid.search("Chinese sex traffickers", k=5)]
    assert first == [h.to_dict() for h in hybrid.search("Chinese sex traffickers", k=5)]


def test_a_static_model_is_encoded_in_numpy_exactly_as_sentence_transformers_does(hybrid):
    """StaticTable reproduces StaticEmbedding + normalisation (no torch threads involved)."""
    encoder = hybrid.encoder
    assert encoder.static is not None
    texts = [
        "How many traffickers did the FIA arrest in Gujranwala?",
        "",
        "   ",
        "émigrés 🚢 ‏مرحبا‎ Zürich",
        "trafficking " * 300,
        "x",
    ]
    expected = encoder.model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    got = encoder.encode_passages(texts)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-6)
    chunked = type(encoder.static)(encoder.static.tokenizer, encoder.static.weights, chunk=2).encode(texts)
    np.testing.assert_allclose(chunked, got, atol=1e-7)
