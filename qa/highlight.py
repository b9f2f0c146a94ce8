"""The answering sentence inside a passage: the one that best matches the question. Never generated."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qa.sentences import sentence_spans


def lexical_sentence_scores(
    sentences: list[str], question_terms: set[str], terms: Callable[[str], list[str]], idf: Callable[[str], float]
) -> np.ndarray:
    """Σ IDF of the question's terms that each sentence contains."""
    return np.array(
        [sum(idf(term) for term in question_terms & set(terms(sentence))) for sentence in sentences],
        dtype=np.float64,
    )


def _unit_range(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def best_sentences(
    passages: list[str],
    question_terms: set[str],
    terms: Callable[[str], list[str]],
    idf: Callable[[str], float],
    sentence_cosines: Callable[[list[str]], np.ndarray] | None = None,
) -> list[tuple[int, int]]:
    """For each passage, the (start, end) span of its best-matching sentence.

    Lexical evidence always counts; with an encoder (``sentence_cosines`` maps sentences to
    their cosine with the question) both are scaled to [0, 1] within the passage and added.
    Ties go to the earlier sentence.
    """
    spans = [sentence_spans(text) or [(0, len(text))] for text in passages]
    sentences = [[text[a:b] for a, b in passage_spans] for text, passage_spans in zip(passages, spans)]
    cosines = None
    if sentence_cosines is not None:
        flat = [sentence for group in sentences for sentence in group]
        cosines = np.asarray(sentence_cosines(flat), dtype=np.float64) if flat else np.zeros(0)
    chosen, offset = [], 0
    for passage_spans, group in zip(spans, sentences):
        score = _unit_range(lexical_sentence_scores(group, question_terms, terms, idf))
        if cosines is not None:
            score = score + _unit_range(cosines[offset : offset + len(group)])
            offset += len(group)
        chosen.append(passage_spans[int(np.argmax(score))])
    return chosen
