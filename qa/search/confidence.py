"""Whether the corpus plausibly answers a question at all: the rule behind ``Answer.confident``.

The rule is evidence-based, stated in one place, and calibrated (qa/evaluate/calibration.py, figures in
docs/retrieval-quality.md):

* lexical evidence — *coverage*: the share of the question's IDF weight (its informative
  words, stemmed, stopwords ignored) that occurs in one returned passage or its article
  title. A question whose key words appear nowhere in the corpus has coverage near 0; words
  the corpus has never seen count with the highest IDF, so they pull coverage down.
  Confident when the best returned passage reaches ``min_coverage``. The default, 0.46, was
  fitted on SQuAD (articles 1-24) so that at most 4 % of answerable questions fall below it;
  on the held-out articles 25-48 it flags 3.4 % of answerable questions and 64.6 % of the same
  questions asked of the corpus without their article.
* dense evidence — the best cosine similarity between question and passage, when semantic
  search is on and a threshold is known *for that model*: cosines are model-specific, so
  each model's rules come from :data:`MODEL_RULES`, per mode (dense hits share fewer words
  with the question than lexical ones, so dense and hybrid mode need their own coverage
  threshold too), filled by calibrating that model (see the docs). Lexical mode always uses
  the lexical rule; a model that is not listed contributes no evidence.

A question with no informative words at all ("what is it?") is never confident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

DEFAULT_MIN_COVERAGE = 0.46


@dataclass(frozen=True, slots=True)
class ConfidenceRule:
    """Confident when coverage ≥ ``min_coverage``, or (with a calibrated model) cosine ≥ ``min_cosine``.

    A fitted *linear* rule (a logistic regression on both kinds of evidence) instead says: confident when
    ``coverage_weight · coverage + cosine_weight · cosine + bias ≥ 0`` — a question whose words the passage
    lacks can still be answered when its meaning matches closely, and the other way round. It needs a
    cosine; without one (no vectors) the thresholds decide.
    """

    min_coverage: float = DEFAULT_MIN_COVERAGE
    min_cosine: float | None = None
    coverage_weight: float | None = None
    cosine_weight: float | None = None
    bias: float | None = None

    @property
    def linear(self) -> bool:
        return self.coverage_weight is not None and self.cosine_weight is not None and self.bias is not None

    def decide(self, coverage: float, cosine: float | None) -> bool:
        if self.linear and cosine is not None:
            return self.coverage_weight * coverage + self.cosine_weight * cosine + self.bias >= 0  # type: ignore[operator]
        if coverage >= self.min_coverage:
            return True
        return self.min_cosine is not None and cosine is not None and cosine >= self.min_cosine

    def describe(self) -> str:
        """The rule as people read it."""
        if self.linear:
            return (
                f"{self.coverage_weight:g}·coverage {self.cosine_weight:+g}·cosine {self.bias:+g} ≥ 0"  # type: ignore[str-format]
                f" (without a cosine: coverage ≥ {self.min_coverage:g})"
            )
        cosine = f" or cosine ≥ {self.min_cosine:g}" if self.min_cosine is not None else ""
        return f"coverage ≥ {self.min_coverage:g}{cosine}"

    def to_dict(self) -> dict[str, float | None]:
        if self.linear:
            return {"coverage_weight": self.coverage_weight, "cosine_weight": self.cosine_weight, "bias": self.bias}
        return {"min_coverage": self.min_coverage, "min_cosine": self.min_cosine}


# Per embedding model (the name recorded in the index manifest), per mode ("lexical", "dense", "hybrid",
# "rerank" for reranked answers): the rule calibrated for it; a mode not listed uses the lexical rule.
# all-MiniLM-L6-v2: fitted on SQuAD articles 1-24 (removed-article protocol, at most 4 % false alarms),
# held out 25-48 (docs/default-model.md), dense and hybrid ranked with sentence evidence (sentence weight 0.6):
# lexical 3.4 % / 81.8 %, hybrid 3.7 % / 80.7 %, dense 3.8 % / 79.5 % (refitted for sentence evidence).
MODEL_RULES: dict[str, dict[str, ConfidenceRule]] = {
    "sentence-transformers/all-MiniLM-L6-v2": {
        "lexical": ConfidenceRule(coverage_weight=5.9686, cosine_weight=7.9094, bias=-6.3071),
        "hybrid": ConfidenceRule(coverage_weight=6.3837, cosine_weight=7.852, bias=-6.6531),
        "dense": ConfidenceRule(coverage_weight=6.0794, cosine_weight=7.0599, bias=-5.6242),
    },
}


def rule_for(model_name: str | None, mode: str = "lexical") -> ConfidenceRule:
    """The calibrated rule for answers in ``mode`` from an index built with ``model_name`` (None: lexical only)."""
    if model_name is None:
        return ConfidenceRule()
    return MODEL_RULES.get(model_name, {}).get(mode, ConfidenceRule())


def term_coverage(question_terms: Iterable[str], passage_terms: Iterable[str], idf: Callable[[str], float]) -> float:
    """Share of the question's IDF mass present in the passage (0 when the question has no terms)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    present = wanted & set(passage_terms)
    total = sum(idf(term) for term in wanted)
    return sum(idf(term) for term in present) / total if total > 0 else 0.0
