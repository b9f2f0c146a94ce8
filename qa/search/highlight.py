"""The answering sentence inside a passage: the one that best matches the question. Never generated."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from qa.ingest.sentences import sentence_spans


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
    lexical_first: bool = False,
    known_cosines: Sequence[np.ndarray | None] | None = None,
) -> list[tuple[int, int]]:
    """For each passage, the (start, end) span of its best-matching sentence.

    Lexical evidence always counts; with an encoder (``sentence_cosines`` maps sentences to
    their cosine with the question) both are scaled to [0, 1] within the passage and added.
    With ``lexical_first`` the cosine only breaks ties among the sentences with the best
    lexical score (all of them when no sentence shares a word with the question), so only
    those are encoded. Remaining ties go to the earlier sentence. ``known_cosines`` holds, per
    passage, the cosines of all its sentences where they are already known (an index's stored
    sentence vectors; None: encode that passage's as above).
    """
    spans = [sentence_spans(text) or [(0, len(text))] for text in passages]
    sentences = [[text[a:b] for a, b in passage_spans] for text, passage_spans in zip(passages, spans)]
    idf_of = {term: idf(term) for term in question_terms}
    lexical = [
        lexical_sentence_scores(group, question_terms, terms, idf_of.__getitem__) if len(group) > 1 else None
        for group in sentences
    ]
    known = list(known_cosines) if known_cosines is not None else [None] * len(passages)
    cosine_of: dict[str, float] = {}
    if sentence_cosines is not None:
        # Only sentences whose cosine can change the choice are encoded, each distinct one once:
        # encoding is most of a search's cost (and the same sentence often recurs among the hits).
        candidates = (
            [group[i] for i in np.flatnonzero(scores >= scores.max() - 1e-9).tolist()] if lexical_first else group
            for group, scores, given in zip(sentences, lexical, known)
            if scores is not None and given is None
        )
        wanted = list(dict.fromkeys(sentence for group in candidates if len(group) > 1 for sentence in group))
        if wanted:
            cosine_of = dict(zip(wanted, np.asarray(sentence_cosines(wanted), dtype=np.float64).tolist()))
    chosen = []
    for passage_spans, group, scores, given in zip(spans, sentences, lexical, known):
        if scores is None:  # one sentence: nothing to choose
            chosen.append(passage_spans[0])
            continue

        def cosine(i: int, group: list[str] = group, given: np.ndarray | None = given) -> float:
            return float(given[i]) if given is not None else cosine_of[group[i]]

        has_cosines = given is not None or bool(cosine_of)
        if lexical_first:
            best = np.flatnonzero(scores >= scores.max() - 1e-9)
            if len(best) > 1 and has_cosines:
                best = best[[int(np.argmax([cosine(i) for i in best.tolist()]))]]
            chosen.append(passage_spans[int(best[0])])
            continue
        score = _unit_range(scores)
        if has_cosines:
            score = score + _unit_range(np.array([cosine(i) for i in range(len(group))], dtype=np.float64))
        chosen.append(passage_spans[int(np.argmax(score))])
    return chosen
