"""Where questions become ranked passage rows: the one ranking path behind search, ask and evaluation.

    questions ──encode──► vectors ──dense searcher──► candidates ─┐
        └─────────────────────────lexical searcher──► candidates ─┴─fuse (hybrid)─► rows ─rerank?─► Ranking

Each stage takes ``depth`` candidates (at least :data:`CANDIDATE_DEPTH`) so that fusion and the
cross-encoder see more than the ``k`` finally kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.models.encoder import Encoder
from qa.models.reranker import Reranker
from qa.search.backend import Backend, Candidates, DenseSearcher, Filters, LexicalSearcher
from qa.search.fusion import interpolate_scores, reciprocal_rank_fusion
from qa.search.request import SearchRequest
from qa.search.reranking import rerank
from qa.settings import RRF_FUSION, FusionSettings, Mode

CANDIDATE_DEPTH = 100  # candidates each first-stage searcher proposes per question


@dataclass(frozen=True, slots=True)
class Ranking:
    """One question's passage rows, best first, with the score that ranked each and its lexical score."""

    rows: np.ndarray
    scores: np.ndarray  # float64: lexical, cosine, fused or cross-encoder score, by how it was ranked
    lexical: np.ndarray  # the lexical score of each row

    def top(self, k: int) -> Ranking:
        return Ranking(self.rows[:k], self.scores[:k], self.lexical[:k])


@dataclass(frozen=True, slots=True)
class Ranked:
    """The rankings of a request's questions, in order, and their question vectors (None in lexical mode)."""

    rankings: list[Ranking]
    vectors: np.ndarray | None

    def vector(self, number: int) -> np.ndarray | None:
        return self.vectors[number] if self.vectors is not None else None


def rank(
    request: SearchRequest,
    backend: Backend,
    encoder: Encoder | None,
    fusion: FusionSettings | None,
    reranker: Reranker | None = None,
    depth: int | None = None,
    document_of: Callable[[int], str] | None = None,
) -> Ranked:
    """Rank each of ``request``'s questions: its best ``depth`` rows (default ``request.k``).

    With ``reranker`` the first stage's best ``depth`` rows are reordered by the cross-encoder,
    which reads ``document_of(row)``. ``fusion`` is the manifest's (None: RRF).
    """
    questions = list(request.questions)
    fusion = fusion or RRF_FUSION
    depth = request.k if depth is None else depth
    wide = max(CANDIDATE_DEPTH, depth)
    vectors = None
    if request.mode != "lexical" and encoder is not None:
        vectors = encoder.encode_queries(questions)
    dense: list[Candidates | None] = [None] * len(questions)
    if vectors is not None and backend.dense is not None:
        dense = list(backend.dense.search(vectors, wide, request.filters))
    rankings = []
    for number, question in enumerate(questions):
        vector = vectors[number] if vectors is not None else None
        ranking = _first_stage(request.mode, backend, fusion, question, vector, dense[number], wide, request.filters)
        rankings.append(ranking.top(depth))
    if reranker is not None:
        if document_of is None:
            raise ValueError("reranking needs document_of, the text the cross-encoder reads for a row")
        reordered = rerank(reranker, questions, [ranking.rows for ranking in rankings], document_of)
        rankings = [
            Ranking(ranking.rows[order], scores, ranking.lexical[order])
            for ranking, (order, scores) in zip(rankings, reordered)
        ]
    return Ranked(rankings, vectors)


def _first_stage(
    mode: Mode,
    backend: Backend,
    fusion: FusionSettings,
    question: str,
    vector: np.ndarray | None,
    dense: Candidates | None,
    depth: int,
    filters: Filters,
) -> Ranking:
    """One question's candidates from the searchers ``mode`` uses, fused in hybrid mode."""
    lexical = backend.lexical
    if mode == "dense":
        assert dense is not None  # check_mode refuses dense mode where there are no vectors
        return Ranking(dense.rows, dense.scores.astype(np.float64), lexical.scores_for(question, dense.rows))
    found = lexical.search(question, depth, filters)
    if mode == "lexical":
        return Ranking(found.rows, found.scores.astype(np.float64), found.scores)
    assert dense is not None and vector is not None and backend.dense is not None
    rows, fused = fuse(found, dense, fusion, lexical, backend.dense, question, vector)
    return Ranking(rows, fused, lexical.scores_for(question, rows))


def fuse(
    lexical: Candidates,
    dense: Candidates,
    fusion: FusionSettings,
    lexical_searcher: LexicalSearcher,
    dense_searcher: DenseSearcher,
    question: str,
    vector: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Hybrid ranking as the index says (manifest ``fusion``): rank fusion, or score interpolation over the
    union of both candidate lists with every candidate's exact lexical score and cosine."""
    if fusion.method == "interpolation":
        rows = np.concatenate([lexical.rows, dense.rows[~np.isin(dense.rows, lexical.rows)]])
        return interpolate_scores(
            rows,
            lexical_searcher.scores_for(question, rows),
            dense_searcher.scores_for(vector, rows),
            fusion.lexical_weight,
        )
    return reciprocal_rank_fusion([lexical.rows, dense.rows], k=fusion.k)
