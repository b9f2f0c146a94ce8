"""The search-backend contract (qa/search/backend.py), checked on every backend.

A backend is added to ``BACKENDS`` below with a function that opens it on an index of the
shipped corpus; every test here then runs against it too. The local backend searches the bm25s
and FAISS files of the index folder; the Qdrant one a collection in Qdrant's local mode (the
same client API as a Qdrant server).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from test_retriever import FACTUAL_QUESTIONS, NR, XINJIANG

from qa.errors import IndexFormatError
from qa.index.build import build_index
from qa.index.lexical import LexicalSettings
from qa.index.manifest import MANIFEST_FILE, Manifest
from qa.index.qdrant import QdrantSettings
from qa.search.backend import NO_FILTERS, Backend, Filters, open_backend
from qa.search.retriever import Retriever

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"
NR_OUTLET = "National Review"


def _local(request: pytest.FixtureRequest) -> Retriever:
    return request.getfixturevalue("hybrid")


def _qdrant(request: pytest.FixtureRequest) -> Retriever:
    return Retriever.load(request.getfixturevalue("qdrant_hybrid_index"))


BACKENDS = {"local": _local, "qdrant": _qdrant}


@pytest.fixture(params=sorted(BACKENDS))
def searched(request) -> Retriever:
    """A retriever on the shipped corpus (hybrid, the tiny static model) searching through each backend."""
    return BACKENDS[request.param](request)


@pytest.fixture()
def backend(searched) -> tuple[Backend, Retriever]:
    return searched.backend, searched


def _passes(retriever: Retriever, row: int, filters: Filters) -> bool:
    article = retriever.catalog.article_of(row)
    if filters.outlets and article.outlet not in filters.outlets:
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    if article.date is None:
        return filters.include_undated
    day = dt.date.fromisoformat(article.date[:10])
    return (filters.date_from or day) <= day <= (filters.date_to or day)


FILTERS = [
    NO_FILTERS,
    Filters(outlets=(NR_OUTLET,)),
    Filters(date_from=dt.date(2019, 1, 1)),
    Filters(date_from=dt.date(2019, 1, 1), include_undated=True),
    Filters(date_to=dt.date(2019, 12, 31), outlets=(NR_OUTLET,), include_undated=True),
]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_lexical_candidates_are_every_positive_passing_row_best_first(backend, filters):
    searcher, retriever = backend[0].lexical, backend[1]
    everything = np.arange(len(retriever.passages))
    scores = searcher.scores_for(QUESTION, everything)
    expected = [row for row in everything.tolist() if scores[row] > 0 and _passes(retriever, row, filters)]
    expected.sort(key=lambda row: (-scores[row], row))
    found = searcher.search(QUESTION, 1000, filters)
    assert found.rows.tolist() == expected
    assert found.scores.tolist() == pytest.approx(scores[found.rows].tolist())
    assert searcher.search(QUESTION, 3, filters).rows.tolist() == expected[:3]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_dense_candidates_are_the_nearest_passing_rows_in_one_batched_call(backend, filters):
    searcher, retriever = backend[0].dense, backend[1]
    assert searcher is not None and searcher.dimension == retriever.manifest.model.dimension
    vectors = retriever.encoder.encode_queries([QUESTION, "women trafficked to China"])
    found = searcher.search(vectors, 7, filters)
    assert len(found) == 2
    for vector, candidates in zip(vectors, found):
        passing = [row for row in range(len(retriever.passages)) if _passes(retriever, row, filters)]
        cosines = searcher.scores_for(vector, np.asarray(passing, dtype=np.int64))
        best = sorted(zip(cosines.tolist(), passing), key=lambda pair: (-pair[0], pair[1]))[:7]
        assert len(candidates) == len(best)
        assert candidates.scores.tolist() == pytest.approx([cosine for cosine, _ in best], abs=1e-5)
        assert all(_passes(retriever, row, filters) for row in candidates.rows.tolist())


def test_filters_nothing_passes_give_no_candidates(backend):
    searcher, retriever = backend
    nothing = Filters(date_from=dt.date(1900, 1, 1), date_to=dt.date(1900, 1, 2))
    assert len(searcher.lexical.search(QUESTION, 10, nothing)) == 0
    vectors = retriever.encoder.encode_queries([QUESTION])
    assert [len(c) for c in searcher.dense.search(vectors, 10, nothing)] == [0]


def test_an_index_names_its_backend_and_an_unknown_one_is_refused(tmp_path, hybrid_index):
    manifest = Manifest.read(hybrid_index)
    assert json.loads((hybrid_index / MANIFEST_FILE).read_text())["backend"] == manifest.backend == "local"
    retriever = Retriever.load(hybrid_index)
    with pytest.raises(IndexFormatError, match="backend 'elsewhere'"):
        open_backend(hybrid_index, dataclasses.replace(manifest, backend="elsewhere"), retriever.catalog)


# -- the same questions through the retriever, whichever backend searches ---------------------------------


@pytest.mark.parametrize("question,article_id,paragraph", FACTUAL_QUESTIONS)
def test_factual_question_is_answered_by_the_right_paragraph_first(searched, question, article_id, paragraph):
    top = searched.ask(question, k=5, mode="lexical").hits[0]
    assert (top.passage.article_id, top.passage.paragraph) == (article_id, paragraph)


def test_hits_are_cited_and_highlighted_from_the_catalog(searched):
    for mode in ("lexical", "dense", "hybrid"):
        for hit in searched.search("How many traffickers did the FIA arrest in Gujranwala?", k=3, mode=mode):
            assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
            start, end = hit.highlight
            assert 0 <= start < end <= len(hit.passage.text)
            assert hit.citation.endswith(f"¶{hit.passage.paragraph}")
            assert "lexical" in hit.scores and ("dense" in hit.scores) == (mode != "lexical")


def test_dense_scores_are_exact_cosines(searched):
    question = "women sold as brides in China"
    vector = searched.encoder.encode_queries([question])[0]
    hits = searched.search(question, k=5, mode="dense")
    documents = [(h.article.title + "\n" if h.article.title else "") + h.passage.text for h in hits]
    cosines = searched.encoder.encode_passages(documents) @ vector
    assert np.allclose([h.score for h in hits], cosines, atol=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_outlet_filter_applies_before_ranking(searched):
    hits = searched.search("trafficking victims", k=10, outlets=["National Review"], mode="hybrid")
    assert hits and {h.article.outlet for h in hits} == {"National Review"}
    assert {h.passage.article_id for h in hits} == {NR}


def test_outlet_none_selects_articles_that_name_no_outlet(searched):
    hits = searched.search("trafficking", k=50, outlets=[None], mode="lexical")
    assert hits and all(h.article.outlet is None for h in hits)


def test_date_range_keeps_dated_articles_and_undated_ones_only_when_asked(searched):
    for mode in ("lexical", "dense", "hybrid"):
        hits = searched.search("Pakistan", k=50, date_from="2018-01-01", date_to="2018-12-31", mode=mode)
        assert hits and {h.passage.article_id for h in hits} == {XINJIANG}, mode
        answer = searched.ask("Pakistan", k=50, date_from="2018-01-01", date_to="2018-12-31", include_undated=True)
        assert {h.article.date for h in answer.hits} == {"2018-09-25", None}


def test_a_question_without_known_words_has_no_lexical_hits_but_dense_ones(searched):
    assert searched.search("zzqx wwvk", k=5, mode="lexical") == []
    assert len(searched.search("zzqx wwvk", k=5, mode="dense")) == 5


def test_huge_k_returns_every_matching_passage_once(searched):
    hits = searched.search("Gujranwala", k=1000, mode="lexical")
    rows = [(h.passage.article_id, h.passage.paragraph, h.passage.char_start) for h in hits]
    assert 0 < len(rows) == len(set(rows)) < len(searched.passages)


def test_lexical_scores_for_rows_agree_with_the_search(searched):
    lexical = searched.backend.lexical
    found = lexical.search("Chinese traffickers prosecuted", 20, Filters())
    assert np.allclose(lexical.scores_for("Chinese traffickers prosecuted", found.rows), found.scores, rtol=1e-5)
    assert np.all(np.diff(found.scores) <= 0)


def test_vocabulary_and_idf_are_the_indexes_own(searched):
    lexical = searched.backend.lexical
    assert lexical.vocabulary()["gujranwala"] >= 1
    assert lexical.idf("gujranwala") > lexical.idf("pakistan") > 0
    assert lexical.idf("zzqx") == max(lexical.idf(term) for term in ("zzqx", "pakistan"))


def _build(corpus, index_dir, qdrant_dir, backend: str, model, **options):
    qdrant = None
    if backend.startswith("qdrant"):
        qdrant = QdrantSettings(path=str(qdrant_dir), collection=index_dir.name, sparse=backend.split("-")[1])
    build_index(corpus, index_dir, model=model, qdrant=qdrant, **options)
    return Retriever.load(index_dir)


@pytest.fixture(scope="module", params=["qdrant-idf", "qdrant-bm25"])
def pair(request, seed_corpus, static_model_dir, tmp_path_factory) -> tuple[Retriever, Retriever]:
    """The same corpus and model, a local index and a Qdrant one (either sparse weighting), BM25 without
    the sentence field (which no sparse vector can hold): their scores must agree."""
    folder = tmp_path_factory.mktemp("pair")
    lexical = LexicalSettings(sentence_weight=0.0)
    model = str(static_model_dir)
    return (
        _build(seed_corpus, folder / "local", None, "local", model, lexical=lexical),
        _build(seed_corpus, folder / request.param, folder / "qdrant", request.param, model, lexical=lexical),
    )


def _same_ranking(ours: list, theirs: list) -> bool:
    """Equal scores rank for rank, and the same passage at each score, except that tied passages may swap
    places and the cut at k may take different ones of those tied last."""

    def scores(hits: list) -> list[float]:
        return [round(hit.score, 5) for hit in hits]

    if scores(ours) != scores(theirs):
        return False
    last = scores(ours)[-1] if ours else None

    def above_last(hits: list) -> set:
        return {(round(hit.score, 5), hit.passage) for hit in hits if round(hit.score, 5) != last}

    return above_last(ours) == above_last(theirs)


def test_the_same_passages_score_the_same_on_both_backends(pair):
    local, qdrant = pair
    questions = [question for question, _, _ in FACTUAL_QUESTIONS] + ["Gujranwala FIA", "brides China"]
    for question in questions:
        ours = local.backend.lexical.search(question, 100, Filters())
        theirs = qdrant.backend.lexical.search(question, 100, Filters())
        assert ours.rows.tolist() == theirs.rows.tolist(), question
        assert np.allclose(ours.scores, theirs.scores, rtol=1e-4), question
        assert _same_ranking(local.search(question, 10, mode="dense"), qdrant.search(question, 10, mode="dense"))
        # Fused on the server, passages with equal BM25 scores enter RRF in Qdrant's order rather than by row,
        # so a tied passage can gain or lose one rank's worth: the same answer first, nearly the same ten.
        ours_hybrid, theirs_hybrid = local.search(question, 10), qdrant.search(question, 10)
        assert ours_hybrid[0].passage == theirs_hybrid[0].passage, question
        assert len({h.passage for h in ours_hybrid} & {h.passage for h in theirs_hybrid}) >= 8, question


def test_filters_select_the_same_rows_on_both_backends(pair):
    local, qdrant = pair
    vector = local.encoder.encode_queries(["trafficking in Pakistan"])
    for filters in (
        Filters(outlets=("National Review", None)),
        Filters(date_from=dt.date(2019, 1, 1)),
        Filters(date_to=dt.date(2019, 12, 31), include_undated=True),
    ):
        ours = local.backend.dense.search(vector, 60, filters)[0]
        theirs = qdrant.backend.dense.search(vector, 60, filters)[0]
        assert sorted(ours.rows.tolist()) == sorted(theirs.rows.tolist()), filters
