"""The search-backend contract (qa/search/backend.py), checked on every backend.

A backend is added to ``BACKENDS`` below with a function that opens it on an index of the
shipped corpus; every test here then runs against it too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from qa.errors import IndexFormatError
from qa.index.manifest import MANIFEST_FILE, Manifest
from qa.search.backend import NO_FILTERS, Backend, Filters, open_backend
from qa.search.retriever import Retriever

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"
NR_OUTLET = "National Review"


def _local(retriever: Retriever) -> Backend:
    return open_backend(retriever.index_dir, retriever.manifest, retriever.catalog)


BACKENDS = {"local": _local}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, hybrid) -> tuple[Backend, Retriever]:
    return BACKENDS[request.param](hybrid), hybrid


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
