"""The search-backend protocol: what ranking asks of whatever holds an index's passages.

A backend is a lexical searcher and, when the index has passage vectors, a dense searcher. Each
returns :class:`Candidates` (passage rows and scores, best first) for a question and
:class:`Filters`, and scores given rows on request. Rows are the catalog's passage rows
(qa.index.catalog) whatever the backend, so hits, citations and highlights are built the same way.

The manifest's ``backend`` field names the backend an index was built for; :func:`open_backend`
opens it. ``local`` (qa.search.local) searches the bm25s and FAISS files inside the index folder.
A second backend (a search server) is one more class per searcher and one line in
:data:`BACKENDS`.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import IndexFormatError, Remedy
from qa.index.catalog import Catalog
from qa.index.manifest import Manifest
from qa.index.terms import Analyzer


@dataclass(frozen=True, slots=True)
class Filters:
    """Which passages a search may return; the default lets every passage through.

    Plain values, so each backend can translate them: the local one into passage rows (from the
    catalog's arrays), a search server into payload conditions on outlet and date.
    """

    outlets: tuple[str | None, ...] = ()  # the article's outlet is one of these (any when empty; None: no outlet)
    date_from: dt.date | None = None  # the article is dated on or after this day ...
    date_to: dt.date | None = None  # ... and on or before this one
    include_undated: bool = False  # with a date range, also let through articles without a date

    @property
    def active(self) -> bool:
        """Whether these filters exclude anything at all."""
        return bool(self.outlets) or self.date_from is not None or self.date_to is not None


NO_FILTERS = Filters()


@dataclass(frozen=True, slots=True)
class Candidates:
    """Passage rows (int64) and their scores (higher is better), best first, aligned."""

    rows: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class LexicalSearcher(Protocol):
    """Keyword (BM25) scoring of passages, and the term statistics highlighting and confidence use."""

    @property
    def analyzer(self) -> Analyzer:
        """How text becomes terms (stopwords, stemming), as the index was built."""
        ...

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term; a term the corpus lacks gets the highest value."""
        ...

    def vocabulary(self) -> Mapping[str, int]:
        """Every analysed term the passages contain, with the number of passages holding it (spelling
        correction matches a question's unknown words against it)."""
        ...

    def search(self, question: str, depth: int, filters: Filters) -> Candidates:
        """Up to ``depth`` passages with a positive score for ``question`` that pass ``filters``, best first
        (ties by row)."""
        ...

    def scores_for(self, question: str, rows: np.ndarray) -> np.ndarray:
        """The lexical score of each of ``rows`` for ``question`` (0 where nothing matches)."""
        ...

    def count(self, question: str, filters: Filters) -> int:
        """How many passages passing ``filters`` have a positive score for ``question``."""
        ...


class DenseSearcher(Protocol):
    """Nearest passages by cosine between normalized question and passage vectors."""

    @property
    def dimension(self) -> int: ...

    def search(self, vectors: np.ndarray, depth: int, filters: Filters) -> list[Candidates]:
        """Per question vector (one row each), up to ``depth`` passages passing ``filters``, best first,
        in one batched call."""
        ...

    def scores_for(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The exact cosine of one question vector with each of ``rows``."""
        ...

    def sentence_scores_for(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """The largest cosine of one question vector with a sentence of each of ``rows`` (qa.index.sentences),
        or None when the backend holds no sentence vectors (dense scores are then the passages' cosines alone).
        A search server can hold them as a multivector per passage point (max-sim over its sentences)."""
        ...

    def sentence_cosines(self, vector: np.ndarray, rows: np.ndarray) -> list[np.ndarray] | None:
        """The cosine of one question vector with every sentence of each of ``rows``, in sentence order
        (qa.index.sentences splits them as qa.ingest.sentences.split_sentences does), or None when the backend
        holds no sentence vectors. The highlight reads them instead of encoding sentences at search time."""
        ...


class HybridSearcher(Protocol):
    """Lexical and dense candidates fused by reciprocal rank fusion where the passages are (a search server
    does it in one request); a backend without one is fused by the retriever (qa.search.ranking)."""

    def search(self, question: str, vector: np.ndarray, depth: int, filters: Filters, k: int) -> Candidates:
        """Up to ``depth`` passages passing ``filters``, best first by Σ 1 / (``k`` + rank) over the lexical
        and the dense ranking (rank from 1; ties favour the lexical ranking)."""
        ...


@dataclass(frozen=True, slots=True)
class Backend:
    """The searchers of one opened index; ``dense`` is None when it has no usable passage vectors, and
    ``hybrid`` is None when the backend leaves rank fusion to the retriever (the local backend does)."""

    name: str
    lexical: LexicalSearcher
    dense: DenseSearcher | None = None
    hybrid: HybridSearcher | None = None


Opener = Callable[[Path, Manifest, Catalog, bool], Backend]

# Manifest ``backend`` → "module:function" that opens it (index folder, manifest, catalog, mmap).
# Imported on use, so a backend's client library loads only for indexes that need it.
BACKENDS: dict[str, str] = {"local": "qa.search.local:open_local", "qdrant": "qa.search.qdrant:open_qdrant"}


def open_backend(index_dir: Path, manifest: Manifest, catalog: Catalog, mmap: bool = True) -> Backend:
    """The searchers for the index in ``index_dir``, chosen by its manifest's ``backend``."""
    target = BACKENDS.get(manifest.backend)
    if target is None:
        known = ", ".join(sorted(BACKENDS))
        raise IndexFormatError(
            f"The index in {index_dir} is searched by backend {manifest.backend!r}, which this qa does not "
            f"know (it knows {known}).",
            path=index_dir,
            remedy=Remedy.UPGRADE,
        )
    module, _, function = target.partition(":")
    opener: Opener = getattr(importlib.import_module(module), function)
    return opener(index_dir, manifest, catalog, mmap)
