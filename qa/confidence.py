"""Whether the corpus plausibly answers a question at all: the rule behind ``Answer.confident``.

The rule is evidence-based and stated in one place:

* lexical evidence — *coverage*: the share of the question's IDF weight (its informative
  words, stemmed, stopwords ignored) that occurs in a returned passage. A question whose
  key words appear nowhere in the corpus has coverage near 0; words the corpus has never
  seen count with the highest IDF, so they pull coverage down. Confident when the best
  returned passage reaches ``min_coverage``.
* dense evidence — the best cosine similarity between question and passage, when a model
  is loaded and a threshold for it is set (cosines are model-specific, so there is no
  universal default).

A question with no informative words at all ("what is it?") is never confident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

DEFAULT_MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class ConfidenceRule:
    min_coverage: float = DEFAULT_MIN_COVERAGE
    min_cosine: float | None = None

    def decide(self, coverage: float, cosine: float | None) -> bool:
        if coverage >= self.min_coverage:
            return True
        return self.min_cosine is not None and cosine is not None and cosine >= self.min_cosine


def term_coverage(question_terms: Iterable[str], passage_terms: Iterable[str], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF mass present in the passage (0 when the question has no terms)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    present = wanted & set(passage_terms)
    total = sum(idf(term) for term in wanted)
    return sum(idf(term) for term in present) / total if total > 0 else 0.0
