"""Where questions become ranked passage rows: the one ranking path behind search, ask and evaluation.

    questions ──encode──► vectors ──dense searcher──► candidates ─┐
        └─────────────────────────lexical searcher──► candidates ─┴─fuse (hybrid)─► rows ─rerank?─► Ranking

Each stage takes ``depth`` candidates (at least :data:`CANDIDATE_DEPTH`) so that fusion and the
cross-encoder see more than the ``k`` finally kept. Between the first stage and the
cross-encoder the candidates are narrowed: a passage lacking a quoted phrase or holding an
excluded word is dropped (qa.search.syntax), and with ``collapse`` so is every wire copy after
the best-ranked one of its group. When narrowing leaves fewer than ``depth``, the first stage
is asked again four times as deep, up to :data:`MAX_DEPTH` candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.models.encoder import Encoder
from qa.models.reranker import Reranker
from qa.search.backend import Backend, Candidates, DenseSearcher, Filters, LexicalSearcher
from qa.search.confidence import term_coverage
from qa.search.fusion import gated_weight, interpolate_scores, reciprocal_rank_fusion
from qa.search.request import SearchRequest
from qa.search.reranking import rerank
from qa.search.syntax import Query
from qa.settings import CANDIDATE_DEPTH, RRF_FUSION, FusionSettings, Mode

GATE_HITS = 5  # BM25's best passages whose coverage of the question gates the lexical weight
MAX_DEPTH = 6_400  # the deepest the first stage goes to find enough passages that pass the narrowing


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
    encode_lexical: bool = False,
    text_of: Callable[[int], str] | None = None,
    groups: np.ndarray | None = None,
) -> Ranked:
    """Rank each of ``request``'s questions: its best ``depth`` rows (default ``request.k``).

    With ``reranker`` the first stage's best ``depth`` rows are reordered by the cross-encoder,
    which reads ``document_of(row)``. ``fusion`` is the manifest's (None: RRF); its coverage gate reads
    ``document_of`` too. ``encode_lexical`` encodes the questions in lexical mode as well (their cosines
    with the hits are confidence evidence).
    Search syntax is checked against ``text_of(row)``, the passage text; ``groups`` holds each
    row's wire-copy group (-1: none), used when the request collapses copies.
    """
    queries = [request.query(number) for number in range(len(request.questions))]
    texts = [query.text for query in queries]
    fusion = fusion or RRF_FUSION
    depth = request.k if depth is None else depth
    wide = max(CANDIDATE_DEPTH, depth)
    vectors = None
    if encoder is not None and (request.mode != "lexical" or (encode_lexical and backend.dense is not None)):
        vectors = encoder.encode_queries(texts)
    dense: list[Candidates | None] = [None] * len(texts)
    server_fused = request.mode == "hybrid" and _fused_by_backend(backend, fusion)
    if vectors is not None and backend.dense is not None and request.mode != "lexical" and not server_fused:
        dense = list(backend.dense.search(vectors, wide, request.filters))
    collapse_by = groups if request.collapse else None
    rankings = []
    for number, (query, text) in enumerate(zip(queries, texts)):
        vector = vectors[number] if vectors is not None else None
        candidates, searched = dense[number], wide
        while True:
            ranking, more = _first_stage(
                request.mode, backend, fusion, text, vector, candidates, searched, request.filters, document_of
            )
            if not query.restricts and collapse_by is None:
                break
            ranking = _narrow(ranking, query, text_of, collapse_by)
            if len(ranking.rows) >= depth or not more or searched >= MAX_DEPTH:
                break
            searched *= 4
            if vector is not None and backend.dense is not None and not server_fused:
                candidates = backend.dense.search(vector[None, :], searched, request.filters)[0]
        rankings.append(ranking.top(depth))
    if reranker is not None:
        if document_of is None:
            raise ValueError("reranking needs document_of, the text the cross-encoder reads for a row")
        reordered = rerank(reranker, texts, [ranking.rows for ranking in rankings], document_of)
        rankings = [
            Ranking(ranking.rows[order], scores, ranking.lexical[order])
            for ranking, (order, scores) in zip(rankings, reordered)
        ]
    return Ranked(rankings, vectors)


def _narrow(ranking: Ranking, query: Query, text_of: Callable[[int], str] | None, groups: np.ndarray | None) -> Ranking:
    """The rows that pass the question's phrases and exclusions, and (with ``groups``) only the
    best-ranked passage of each group of wire copies."""
    if query.restricts and text_of is None:
        raise ValueError("search syntax needs text_of, the passage text of a row")
    kept, seen = [], set()
    for position, row in enumerate(ranking.rows.tolist()):
        if query.restricts and not query.admits(text_of(row)):  # type: ignore[misc]
            continue
        if groups is not None:
            group = int(groups[row])
            if group >= 0:
                if group in seen:
                    continue
                seen.add(group)
        kept.append(position)
    index = np.asarray(kept, dtype=np.int64)
    return Ranking(ranking.rows[index], ranking.scores[index], ranking.lexical[index])


def _first_stage(
    mode: Mode,
    backend: Backend,
    fusion: FusionSettings,
    question: str,
    vector: np.ndarray | None,
    dense: Candidates | None,
    depth: int,
    filters: Filters,
    document_of: Callable[[int], str] | None = None,
) -> tuple[Ranking, bool]:
    """One question's candidates from the searchers ``mode`` uses, fused in hybrid mode, and whether
    a searcher may hold more (it returned all ``depth`` it was asked for)."""
    lexical = backend.lexical
    if mode == "hybrid" and backend.hybrid is not None and _fused_by_backend(backend, fusion):
        assert vector is not None
        both = backend.hybrid.search(question, vector, depth, filters, fusion.k)
        ranking = Ranking(both.rows, both.scores.astype(np.float64), lexical.scores_for(question, both.rows))
        return ranking, len(both) >= depth
    if mode == "dense":
        assert dense is not None  # check_mode refuses dense mode where there are no vectors
        assert vector is not None and backend.dense is not None
        scores = dense_scores(backend.dense, vector, dense.rows, fusion, dense.scores)
        order = np.argsort(-scores, kind="stable")
        rows = dense.rows[order]
        return Ranking(rows, scores[order], lexical.scores_for(question, rows)), len(dense) >= depth
    found = lexical.search(question, depth, filters)
    if mode == "lexical":
        return Ranking(found.rows, found.scores.astype(np.float64), found.scores), len(found) >= depth
    assert dense is not None and vector is not None and backend.dense is not None
    rows, fused = fuse(found, dense, fusion, lexical, backend.dense, question, vector, document_of)
    return Ranking(rows, fused, lexical.scores_for(question, rows)), len(found) >= depth or len(dense) >= depth


def _fused_by_backend(backend: Backend, fusion: FusionSettings) -> bool:
    """Whether the backend fuses hybrid rankings itself (rank fusion on a search server)."""
    return backend.hybrid is not None and fusion.method == "rrf"


def fuse(
    lexical: Candidates,
    dense: Candidates,
    fusion: FusionSettings,
    lexical_searcher: LexicalSearcher,
    dense_searcher: DenseSearcher,
    question: str,
    vector: np.ndarray,
    document_of: Callable[[int], str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hybrid ranking as the index says (manifest ``fusion``): rank fusion, or score interpolation over the
    union of both candidate lists with every candidate's exact lexical score and cosine — its lexical weight
    scaled down, with a coverage gate, when even BM25's best passages (read with ``document_of``) hold
    little of the question."""
    if fusion.method == "interpolation":
        rows = np.concatenate([lexical.rows, dense.rows[~np.isin(dense.rows, lexical.rows)]])
        weight = fusion.lexical_weight
        if fusion.coverage_gate and document_of is not None:
            terms, analyse = lexical_searcher.analyzer.terms(question), lexical_searcher.analyzer.terms
            coverage = max(
                (
                    term_coverage(terms, analyse(document_of(row)), lexical_searcher.idf)
                    for row in lexical.rows[:GATE_HITS].tolist()
                ),
                default=0.0,
            )
            weight = gated_weight(weight, coverage, fusion.coverage_gate)
        return interpolate_scores(
            rows,
            lexical_searcher.scores_for(question, rows),
            dense_scores(dense_searcher, vector, rows, fusion),
            weight,
            fusion.normalise,
        )
    dense_rows = dense.rows
    if fusion.sentence_weight:
        dense_rows = dense_rows[np.argsort(-dense_scores(dense_searcher, vector, dense_rows, fusion), kind="stable")]
    return reciprocal_rank_fusion([lexical.rows, dense_rows], k=fusion.k)


def dense_scores(
    searcher: DenseSearcher,
    vector: np.ndarray,
    rows: np.ndarray,
    fusion: FusionSettings,
    cosines: np.ndarray | None = None,
) -> np.ndarray:
    """The dense score of each of ``rows`` (float64): its cosine (``cosines`` when known), blended with its best
    sentence's cosine as ``fusion.sentence_weight`` says, where the backend holds sentence vectors."""
    passage = np.asarray(searcher.scores_for(vector, rows) if cosines is None else cosines, dtype=np.float64)
    if not fusion.sentence_weight:
        return passage
    best = searcher.sentence_scores_for(vector, rows)
    if best is None:
        return passage
    return (1 - fusion.sentence_weight) * passage + fusion.sentence_weight * np.asarray(best, dtype=np.float64)
