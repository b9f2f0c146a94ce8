"""From ranked rows to what a reader gets: hits with their passage, article, per-method scores and
highlighted sentence, and whether the corpus plausibly answers the question (confidence)."""

from __future__ import annotations

import numpy as np

from qa.index.catalog import Catalog
from qa.models.encoder import Encoder
from qa.records import Hit
from qa.search.backend import Backend
from qa.search.confidence import ConfidenceRule, term_coverage
from qa.search.highlight import best_sentences
from qa.search.ranking import Ranking


def build_hits(
    catalog: Catalog,
    backend: Backend,
    encoder: Encoder | None,
    question: str,
    ranking: Ranking,
    vector: np.ndarray | None,
    reranked: bool = False,
) -> list[Hit]:
    """Hits for the rows of ``ranking``, in its order; ``vector`` (the question's, when the mode used one)
    adds each hit's cosine and lets the model break ties when choosing the highlighted sentence."""
    rows = ranking.rows.tolist()
    passages = [catalog.passages[row] for row in rows]
    articles = [catalog.article_of(row) for row in rows]
    per_method: list[dict[str, float]] = [{"lexical": float(value)} for value in ranking.lexical.tolist()]
    if reranked:  # the ranking score is the cross-encoder's
        for scores, value in zip(per_method, ranking.scores.tolist()):
            scores["rerank"] = float(value)
    cosine_of = None
    if vector is not None and backend.dense is not None and encoder is not None:
        for scores, cosine in zip(per_method, backend.dense.scores_for(vector, ranking.rows).tolist()):
            scores["dense"] = float(cosine)
        query_vector, sentence_encoder = vector, encoder

        def cosine_of(sentences: list[str]) -> np.ndarray:
            return sentence_encoder.encode_sentences(sentences) @ query_vector

    lexical = backend.lexical
    # The model only breaks ties among the lexically best sentences: the answer sentence was
    # found as often or more (SQuAD: 83.2 % vs 81.2 % for the sum of both scores) and a
    # search encodes ~3 sentences instead of ~23 (docs/performance.md).
    spans = best_sentences(
        [p.text for p in passages],
        set(lexical.analyzer.terms(question)),
        lexical.analyzer.terms,
        lexical.idf,
        cosine_of,
        lexical_first=True,
    )
    return [
        Hit(rank, float(score), scores, passage, article, span)
        for rank, (passage, article, score, scores, span) in enumerate(
            zip(passages, articles, ranking.scores.tolist(), per_method, spans), 1
        )
    ]


def evidence(backend: Backend, question: str, hits: list[Hit]) -> tuple[float, float | None]:
    """What the confidence rule weighs: the best coverage and the best cosine (None without vectors) of ``hits``."""
    if not hits:
        return 0.0, None
    lexical = backend.lexical
    question_terms = lexical.analyzer.terms(question)
    coverage = max(
        term_coverage(
            question_terms,
            lexical.analyzer.terms(hit.article.title or "") + lexical.analyzer.terms(hit.passage.text),
            lexical.idf,
        )
        for hit in hits
    )
    cosine = max((hit.scores["dense"] for hit in hits if "dense" in hit.scores), default=None)
    return coverage, cosine


def is_confident(rule: ConfidenceRule, backend: Backend, question: str, hits: list[Hit]) -> bool:
    """Whether ``hits`` plausibly answer ``question`` by ``rule`` (never with no hits)."""
    return bool(hits) and rule.decide(*evidence(backend, question, hits))
