"""The `qdrant` backend: an index's passages searched in the Qdrant collection it was built into.

Questions are analysed here, with the index's own analyzer and term list (``qdrant/terms.json``),
into the same sparse vectors the passages carry; filters become payload conditions (outlet,
day); rows are point ids, so hits, citations and highlights come from the catalog as for the
local backend. Hybrid search with rank fusion runs on the server in one request (a sparse and a
dense prefetch, fused by RRF); score interpolation needs each candidate's lexical score and
cosine, so that fusion runs in the retriever (qa.search.ranking) over this backend's searchers.

Unlike the local backend, lexical scores cover the passage and bigram fields only: the sentence
field scores a passage by its best sentence, a maximum no sparse vector can hold
(docs/scale.md measures what that costs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import EngineUnavailableError, IndexFormatError, Remedy
from qa.index.catalog import Catalog, day_number
from qa.index.lexical import bigrams
from qa.index.manifest import Manifest
from qa.index.qdrant import DENSE, LEXICAL, TERMS_FILE, QdrantSettings, client_for
from qa.index.terms import Analyzer
from qa.search.backend import Backend, Candidates, Filters

COUNT_LIMIT = 10_000  # LexicalSearcher.count looks no further (it tells how many undated passages a date filter hides)


class Terms:
    """The index's term list: term → sparse id and document count, bigram → sparse id, and IDF as bm25s's."""

    def __init__(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.documents = int(data["documents"])
            self.ids = {term: number for number, (term, _) in enumerate(data["terms"])}
            self.df = {term: int(count) for term, count in data["terms"]}
            self.bigram_ids = {bigram: len(self.ids) + number for number, bigram in enumerate(data["bigrams"])}
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexFormatError(f"{path} cannot be read ({error}).", path=path, remedy=Remedy.REBUILD) from None

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))


class QdrantSearch:
    """What the lexical, dense and hybrid searchers share: the collection, the analysis and the filters."""

    def __init__(self, client: Any, collection: str, terms: Terms, analyzer: Analyzer, bigram_weight: float) -> None:
        self.client = client
        self.collection = collection
        self.terms = terms
        self.analyzer = analyzer
        self.bigram_weight = bigram_weight

    def sparse(self, question: str) -> Any | None:
        """The question as a sparse vector (a term counted as often as it occurs, as bm25s does), or None
        when none of its terms is in the index."""
        from qdrant_client import models

        terms = self.analyzer.terms(question)
        weights: dict[int, float] = {}
        for term in terms:
            if term in self.terms.ids:
                weights[self.terms.ids[term]] = weights.get(self.terms.ids[term], 0.0) + 1.0
        if self.bigram_weight:
            for pair in bigrams(terms):
                if pair in self.terms.bigram_ids:
                    number = self.terms.bigram_ids[pair]
                    weights[number] = weights.get(number, 0.0) + self.bigram_weight
        if not weights:
            return None
        indices = sorted(weights)
        return models.SparseVector(indices=indices, values=[float(weights[i]) for i in indices])

    def condition(self, filters: Filters) -> Any | None:
        """``filters`` as a Qdrant payload filter (None: no filter)."""
        from qdrant_client import models

        if not filters.active:
            return None
        must: list[Any] = []
        if filters.outlets:
            named = [outlet for outlet in filters.outlets if outlet is not None]
            either: list[Any] = []
            if named:
                either.append(models.FieldCondition(key="outlet", match=models.MatchAny(any=named)))
            if len(named) < len(filters.outlets):  # None: articles that name no outlet
                either.append(models.IsNullCondition(is_null=models.PayloadField(key="outlet")))
            must.append(models.Filter(should=either))
        if filters.date_from is not None or filters.date_to is not None:
            first = day_number(filters.date_from) if filters.date_from is not None else None
            last = day_number(filters.date_to) if filters.date_to is not None else None
            dated = models.FieldCondition(key="day", range=models.Range(gte=first, lte=last))
            if filters.include_undated:
                undated = models.IsNullCondition(is_null=models.PayloadField(key="day"))
                must.append(models.Filter(should=[dated, undated]))
            else:
                must.append(dated)
        return models.Filter(must=must)

    def query(self, **request: Any) -> list[Any]:
        try:
            return list(self.client.query_points(self.collection, with_payload=False, **request).points)
        except Exception as error:  # transport and server errors of several libraries
            raise _unavailable(self.collection, error) from None


def _unavailable(collection: str, error: Exception) -> EngineUnavailableError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return EngineUnavailableError(f"Searching the Qdrant collection {collection!r} failed: {reason}")


def _candidates(points: list[Any]) -> Candidates:
    """Points as candidates, best first, ties by row (as the local backend orders them)."""
    if not points:
        return Candidates.empty()
    rows = np.fromiter((int(point.id) for point in points), np.int64, len(points))
    scores = np.fromiter((point.score for point in points), np.float32, len(points))
    order = np.lexsort((rows, -scores))
    return Candidates(rows[order], scores[order])


def _by_id(rows: np.ndarray) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.HasIdCondition(has_id=[int(row) for row in rows.tolist()])])


class QdrantLexical:
    """BM25 over the passage and bigram fields, as sparse vectors scored by Qdrant."""

    def __init__(self, search: QdrantSearch) -> None:
        self._search = search

    @property
    def analyzer(self) -> Analyzer:
        return self._search.analyzer

    def idf(self, term: str) -> float:
        return self._search.terms.idf(term)

    def vocabulary(self) -> Mapping[str, int]:
        return self._search.terms.df

    def search(self, question: str, depth: int, filters: Filters) -> Candidates:
        vector = self._search.sparse(question)
        if vector is None:
            return Candidates.empty()
        condition = self._search.condition(filters)
        return _candidates(self._search.query(query=vector, using=LEXICAL, limit=depth, query_filter=condition))

    def count(self, question: str, filters: Filters) -> int:
        """Passages passing ``filters`` that share a term with ``question``, counted up to COUNT_LIMIT."""
        vector = self._search.sparse(question)
        if vector is None:
            return 0
        condition = self._search.condition(filters)
        return len(self._search.query(query=vector, using=LEXICAL, limit=COUNT_LIMIT, query_filter=condition))

    def scores_for(self, question: str, rows: np.ndarray) -> np.ndarray:
        scores = np.zeros(len(rows), dtype=np.float32)
        vector = self._search.sparse(question)
        if vector is None or len(rows) == 0:
            return scores
        points = self._search.query(query=vector, using=LEXICAL, limit=len(rows), query_filter=_by_id(rows))
        found = {int(point.id): point.score for point in points}
        for position, row in enumerate(rows.tolist()):
            scores[position] = found.get(row, 0.0)
        return scores


class QdrantDense:
    """Nearest passages by cosine, from the collection's dense vectors (HNSW on a server, exact in local mode)."""

    def __init__(self, search: QdrantSearch, dimension: int) -> None:
        self._search = search
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def search(self, vectors: np.ndarray, depth: int, filters: Filters) -> list[Candidates]:
        from qdrant_client import models

        condition = self._search.condition(filters)
        requests = [
            models.QueryRequest(query=vector.tolist(), using=DENSE, limit=depth, filter=condition)
            for vector in np.atleast_2d(vectors)
        ]
        try:
            answers = self._search.client.query_batch_points(self._search.collection, requests=requests)
        except Exception as error:
            raise _unavailable(self._search.collection, error) from None
        return [_candidates(list(answer.points)) for answer in answers]

    def scores_for(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        ids = [int(row) for row in rows.tolist()]
        try:
            points = self._search.client.retrieve(self._search.collection, ids=ids, with_vectors=[DENSE])
        except Exception as error:
            raise _unavailable(self._search.collection, error) from None
        stored = {int(point.id): point.vector[DENSE] for point in points}
        matrix = np.asarray([stored[row] for row in ids], dtype=np.float32)
        return matrix @ np.asarray(vector, dtype=np.float32)

    def sentence_scores_for(self, vector: np.ndarray, rows: np.ndarray) -> None:
        """None: a collection holds no sentence vectors, so dense scores are the passages' cosines alone and a
        Qdrant index is built without them (a multivector per point, scored by max-sim, would hold them)."""
        return None

    def sentence_cosines(self, vector: np.ndarray, rows: np.ndarray) -> None:
        """None, as above: the highlight encodes the sentences it weighs."""
        return None


class QdrantHybrid:
    """Hybrid search in one request: a sparse and a dense prefetch, fused on the server by RRF."""

    def __init__(self, search: QdrantSearch) -> None:
        self._search = search

    def search(self, question: str, vector: np.ndarray, depth: int, filters: Filters, k: int) -> Candidates:
        from qdrant_client import models

        condition = self._search.condition(filters)
        sparse = self._search.sparse(question)
        prefetch = [models.Prefetch(query=vector.tolist(), using=DENSE, limit=depth, filter=condition)]
        if sparse is not None:  # the lexical list first: RRF ties then favour it, as qa.search.fusion does
            prefetch.insert(0, models.Prefetch(query=sparse, using=LEXICAL, limit=depth, filter=condition))
        # Qdrant's RRF scores 1 / (k + position) counting positions from 0; ours counts ranks from 1.
        fusion = models.RrfQuery(rrf=models.Rrf(k=k + 1))
        points = self._search.query(prefetch=prefetch, query=fusion, limit=depth)
        if not points:
            return Candidates.empty()
        rows = np.fromiter((int(point.id) for point in points), np.int64, len(points))
        return Candidates(rows, np.fromiter((point.score for point in points), np.float32, len(points)))


def open_qdrant(index_dir: Path, manifest: Manifest, catalog: Catalog, mmap: bool = True) -> Backend:
    """The searchers of an index built with ``qa build --backend qdrant``: its collection, opened at the
    server URL or local folder the manifest records."""
    info = manifest.qdrant
    if info is None:
        raise IndexFormatError(
            f"The index in {index_dir} is searched by Qdrant but its manifest names no collection.",
            path=index_dir,
            remedy=Remedy.REBUILD,
        )
    settings = QdrantSettings(url=info.url, path=info.path, collection=info.alias, sparse=info.sparse)
    client = client_for(settings)
    try:
        exists = client.collection_exists(info.collection)
    except Exception as error:
        raise _unavailable(info.collection, error) from None
    if not exists:
        raise IndexFormatError(
            f"The Qdrant collection {info.collection!r} that the index in {index_dir} was built into is not at "
            f"{settings.where} (deleted, or replaced by a later build of another index folder).",
            path=index_dir,
            remedy=Remedy.REBUILD,
        )
    search = QdrantSearch(
        client,
        info.collection,
        Terms(index_dir / TERMS_FILE),
        manifest.lexical.analyzer(),
        manifest.lexical.bigram_weight,
    )
    dense = QdrantDense(search, manifest.model.dimension) if manifest.model is not None else None
    return Backend("qdrant", QdrantLexical(search), dense, QdrantHybrid(search) if dense is not None else None)
