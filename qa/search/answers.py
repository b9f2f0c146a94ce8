"""From ranked rows to what a reader gets: hits with their passage, article, per-method scores and
highlighted sentence, and whether the corpus plausibly answers the question (confidence)."""

from __future__ import annotations

import dataclasses

import numpy as np

from qa.index.catalog import Catalog
from qa.index.duplicates import CopyGroups
from qa.models.encoder import Encoder
from qa.records import Copy, Hit
from qa.search.backend import Backend, Filters, LexicalSearcher
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
    copies: CopyGroups | None = None,
) -> list[Hit]:
    """Hits for the rows of ``ranking``, in its order; ``vector`` (the question's, when the mode used one)
    adds each hit's cosine and lets the model break ties when choosing the highlighted sentence.
    With ``copies`` each hit lists the other articles that ran its passage (``also_in``)."""
    rows = ranking.rows.tolist()
    passages = [catalog.passages[row] for row in rows]
    articles = [catalog.article_of(row) for row in rows]
    per_method: list[dict[str, float]] = [{"lexical": float(value)} for value in ranking.lexical.tolist()]
    if reranked:  # the ranking score is the cross-encoder's
        for scores, value in zip(per_method, ranking.scores.tolist()):
            scores["rerank"] = float(value)
    cosine_of, known = None, None
    if vector is not None and backend.dense is not None and encoder is not None:
        for scores, cosine in zip(per_method, backend.dense.scores_for(vector, ranking.rows).tolist()):
            scores["dense"] = float(cosine)
        # The index's own sentence vectors (qa.index.sentences, embedded with the title) when it has them:
        # a search then encodes no sentence at all, which was most of its time (docs/default-model.md).
        known = backend.dense.sentence_cosines(vector, ranking.rows)
        query_vector, sentence_encoder = vector, encoder

        def cosine_of(sentences: list[str]) -> np.ndarray:
            return sentence_encoder.encode_sentences(sentences) @ query_vector

    lexical = backend.lexical
    # The model only breaks ties among the lexically best sentences: the answer sentence was
    # found as often or more (SQuAD: 83.2 % vs 81.2 % for the sum of both scores).
    spans = best_sentences(
        [p.text for p in passages],
        set(lexical.analyzer.terms(question)),
        lexical.analyzer.terms,
        lexical.idf,
        cosine_of,
        lexical_first=True,
        known_cosines=known,
    )
    also_in = [wire_copies(catalog, copies, row) for row in rows] if copies is not None else [()] * len(rows)
    return [
        Hit(rank, float(score), scores, passage, article, span, copied)
        for rank, (passage, article, score, scores, span, copied) in enumerate(
            zip(passages, articles, ranking.scores.tolist(), per_method, spans, also_in), 1
        )
    ]


def wire_copies(catalog: Catalog, copies: CopyGroups, row: int) -> tuple[Copy, ...]:
    """Where else passage ``row`` ran: its copies in other articles, earliest date first (undated last)."""
    found = []
    own = int(catalog.passage_article[row])
    for other in copies.copies_of(row).tolist():
        if int(catalog.passage_article[other]) == own:  # the same paragraph twice in one article: not a copy
            continue
        article, passage = catalog.article_of(other), catalog.passages[other]
        found.append(Copy(article.id, article.outlet, article.title, article.date, passage.paragraph))
    return tuple(sorted(found, key=lambda copy: (copy.date is None, copy.date or "", copy.article_id)))


def undated_left_out(lexical: LexicalSearcher, question: str, filters: Filters) -> int:
    """How many passages sharing words with ``question`` a date range leaves out only for being undated."""
    if filters.include_undated or (filters.date_from is None and filters.date_to is None):
        return 0
    return lexical.count(question, dataclasses.replace(filters, include_undated=True)) - lexical.count(
        question, filters
    )


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
