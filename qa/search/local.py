"""The local backend: the bm25s fields and the FAISS index inside the index folder, searched in-process.

Filters become passage rows from the catalog's arrays (outlet and day of every article), which
FAISS takes as an ID selector and BM25 as a mask over its score vector.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa.errors import IndexMismatchError
from qa.index.catalog import Catalog, day_number
from qa.index.dense import DenseIndex
from qa.index.lexical import LexicalIndex
from qa.index.manifest import Manifest
from qa.index.sentences import SentenceVectors
from qa.index.terms import Analyzer
from qa.search.backend import Backend, Candidates, Filters


class CatalogRows:
    """Filters as the passage rows that pass them (None: no filter), from the catalog's arrays.

    The last answer is kept: the lexical and the dense searcher of one search ask for the same filters.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._last: tuple[Filters, np.ndarray] | None = None

    def __call__(self, filters: Filters) -> np.ndarray | None:
        if not filters.active:
            return None
        last = self._last
        if last is not None and last[0] == filters:
            return last[1]
        first = day_number(filters.date_from) if filters.date_from is not None else None
        final = day_number(filters.date_to) if filters.date_to is not None else None
        rows = self.catalog.rows_matching(filters.outlets, first, final, filters.include_undated)
        self._last = (filters, rows)
        return rows


class LocalLexical:
    """A :class:`~qa.index.lexical.LexicalIndex` as a lexical searcher."""

    def __init__(self, index: LexicalIndex, rows_for: CatalogRows) -> None:
        self.index = index
        self._rows_for = rows_for
        # Scoring a question covers every passage; a search asks for candidates and then for the
        # scores of some rows, so each thread keeps its last question's scores.
        self._last = threading.local()

    @property
    def analyzer(self) -> Analyzer:
        return self.index.analyzer

    def idf(self, term: str) -> float:
        return self.index.idf(term)

    def vocabulary(self) -> dict[str, int]:
        return self.index.vocabulary()

    def _scores(self, question: str) -> np.ndarray:
        last = getattr(self._last, "scores", None)
        if last is not None and last[0] == question:
            return last[1]
        scores = self.index.scores(question)
        self._last.scores = (question, scores)
        return scores

    def search(self, question: str, depth: int, filters: Filters) -> Candidates:
        scores = self._scores(question)
        allowed = self._rows_for(filters)
        if allowed is not None and len(allowed) == 0:
            return Candidates.empty()
        rows = top_rows(scores, depth, allowed)
        return Candidates(rows, scores[rows])

    def scores_for(self, question: str, rows: np.ndarray) -> np.ndarray:
        return self._scores(question)[rows]

    def count(self, question: str, filters: Filters) -> int:
        scores = self._scores(question)
        allowed = self._rows_for(filters)
        return int(np.count_nonzero((scores if allowed is None else scores[allowed]) > 0))


class LocalDense:
    """A :class:`~qa.index.dense.DenseIndex` (exact or IVF-SQ8) as a dense searcher."""

    def __init__(self, index: DenseIndex, rows_for: CatalogRows, sentences: SentenceVectors | None = None) -> None:
        self.index = index
        self._rows_for = rows_for
        self.sentences = sentences

    @property
    def dimension(self) -> int:
        return self.index.dimension

    def search(self, vectors: np.ndarray, depth: int, filters: Filters) -> list[Candidates]:
        allowed = self._rows_for(filters)
        if allowed is not None and len(allowed) == 0:
            return [Candidates.empty()] * len(vectors)
        scores, rows = self.index.search(vectors, depth, allowed)
        return [Candidates(found[found >= 0], cosines[found >= 0]) for found, cosines in zip(rows, scores)]

    def scores_for(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.index.scores_for(vector, rows)

    def sentence_scores_for(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        return self.sentences.best(vector, rows) if self.sentences is not None else None

    def sentence_cosines(self, vector: np.ndarray, rows: np.ndarray) -> list[np.ndarray] | None:
        return self.sentences.each(vector, rows) if self.sentences is not None else None


def top_rows(scores: np.ndarray, depth: int, allowed: np.ndarray | None) -> np.ndarray:
    """Rows with a positive score, best first (ties by row order), at most ``depth`` of them."""
    if allowed is not None:
        candidates = allowed[scores[allowed] > 0]
    else:
        candidates = np.flatnonzero(scores > 0)
    if len(candidates) > depth:
        part = np.argpartition(-scores[candidates], depth - 1)[:depth]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order]


def open_local(index_dir: Path, manifest: Manifest, catalog: Catalog, mmap: bool = True) -> Backend:
    """Open the lexical index and (when the manifest records a model) the dense one, checked against the catalog."""
    rows_for = CatalogRows(catalog)
    passages = len(catalog.passages)
    lexical = LexicalIndex.load(index_dir, manifest.lexical, mmap=mmap)
    problem = lexical.check_rows(passages)
    if problem:
        raise IndexMismatchError(f"The lexical index in {index_dir} is inconsistent: {problem}.", path=index_dir)
    dense = None
    if manifest.model is not None:
        dense = DenseIndex.load(index_dir, manifest.dense, mmap=mmap)
        if dense.size != passages or dense.dimension != manifest.model.dimension:
            raise IndexMismatchError(
                f"The vector index in {index_dir} has {dense.size} vectors of dimension {dense.dimension}; "
                f"the manifest expects {passages} of dimension {manifest.model.dimension}.",
                path=index_dir,
            )
    sentences = None
    if dense is not None and manifest.sentences is not None:
        sentences = SentenceVectors.load(index_dir, passages, dense.dimension, mmap=mmap)
    searcher = LocalDense(dense, rows_for, sentences) if dense is not None else None
    return Backend("local", LocalLexical(lexical, rows_for), searcher)
