"""Defaults and user-facing words shared by more than one stage, each stated once: the version, search modes,
how deep each stage looks, fusion, the default models and budgets, and what the CLI and the page say when the
corpus does not answer. The CLI's help reads its defaults from here, so they are never repeated by hand.

Every stage may import this module; it imports nothing from qa.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

__version__ = "0.1.0"

RRF_K = 60  # reciprocal rank fusion's k (Cormack et al. 2009), used when a manifest names no other

# How many passages each step looks at.
DEFAULT_K = 5  # passages an answer shows unless asked for another number
CANDIDATE_DEPTH = 100  # candidates each first-stage searcher (BM25, vectors) proposes per question
RERANK_DEPTH = 20  # first-stage candidates the cross-encoder rescores
EVAL_DEPTH = 100  # passages ranked per question by `qa eval` (Recall@100 needs them)
TIMELINE_DEPTH = 100  # best matches the page's timeline places by date

# Budgets and thresholds of a build.
TRAIN_SECONDS = 60.0  # time budget for training a model on the corpus
APPROXIMATE_ABOVE = 50_000  # passages above which the vector index is approximate (IVF-SQ8)
DEFAULT_SPLIT = "test"  # the BEIR qrels split `qa eval` scores

# What people read when the corpus does not seem to answer (the CLI, the page and exports say the same).
NOT_CONFIDENT = "The corpus does not seem to answer this question. These are the nearest passages:"
NO_HITS = "The corpus does not seem to answer this question: no passage shares its key words."

# How a question is ranked: BM25 alone, passage vectors alone, or both fused.
Mode = Literal["lexical", "dense", "hybrid"]
MODES: tuple[Mode, ...] = get_args(Mode)
SEMANTIC_MODES: tuple[Mode, ...] = ("dense", "hybrid")  # the modes that need passage vectors
EVAL_MODES = (*MODES, "rerank")  # what `qa eval` scores: each mode, and reranking the index's own mode


@dataclass(frozen=True, slots=True)
class FusionSettings:
    """How hybrid mode fuses the two rankings: reciprocal rank fusion (``k``), or score interpolation with
    ``lexical_weight`` on BM25 after each method's scores are normalised over the candidates (``minmax`` or
    ``zscore``); with ``coverage_gate`` the lexical weight is scaled by ``min(1, coverage / coverage_gate)``,
    coverage being the share of the question's informative words BM25's best passages hold. With
    ``sentence_weight`` (and sentence vectors in the index) a passage's dense score, in dense and hybrid mode,
    is ``(1 − sentence_weight)·its cosine + sentence_weight·its best sentence's cosine``. Recorded in each
    index's manifest."""

    method: Literal["rrf", "interpolation"] = "rrf"
    k: int = RRF_K
    lexical_weight: float = 0.5
    normalise: Literal["minmax", "zscore"] = "minmax"
    coverage_gate: float | None = None
    sentence_weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method}
        if self.method == "interpolation":
            data["lexical_weight"] = self.lexical_weight
            if self.normalise != "minmax":
                data["normalise"] = self.normalise
            if self.coverage_gate:
                data["coverage_gate"] = self.coverage_gate
        else:
            data["k"] = self.k
        if self.sentence_weight:
            data["sentence_weight"] = self.sentence_weight
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionSettings:
        method = data.get("method")
        sentences = float(data.get("sentence_weight", 0.0))
        if not 0.0 <= sentences <= 1.0:
            raise ValueError(f"sentence weight {sentences} is not between 0 and 1")
        if method == "interpolation":
            normalise = data.get("normalise", "minmax")
            if normalise not in ("minmax", "zscore"):
                raise ValueError(f"unknown score normalisation {normalise!r}")
            gate = data.get("coverage_gate")
            return cls(
                "interpolation",
                lexical_weight=float(data["lexical_weight"]),
                normalise=normalise,
                coverage_gate=float(gate) if gate else None,
                sentence_weight=sentences,
            )
        if method == "rrf":
            return cls("rrf", k=int(data.get("k", RRF_K)), sentence_weight=sentences)
        raise ValueError(f"unknown fusion method {method!r}")


RRF_FUSION = FusionSettings()  # what an index whose model has no tuned fusion uses
# The corpus-trained model (--model self) is fused by min-max normalised score interpolation (weight tuned
# on SciFact train and SQuAD articles 1-24); rank fusion lost to BM25 alone with it.
SELF_FUSION = FusionSettings("interpolation", lexical_weight=0.65)

DEFAULT_RERANKER = "cross-encoder/ms-marco-MiniLM-L6-v2"  # the cross-encoder behind "Rerank" unless another is named
DEFAULT_OCR_LANGUAGE = "eng"  # Tesseract's language for scanned pages

DATA_ENV = "XDG_DATA_HOME"


def user_data_dir() -> Path:
    """Where news-qa keeps what a user makes while searching (audit log, relevance marks):
    ``$XDG_DATA_HOME/news-qa``, by default ``~/.local/share/news-qa``. Never inside an index,
    which a rebuild replaces."""
    base = os.environ.get(DATA_ENV, "").strip()
    return (Path(base) if base else Path.home() / ".local" / "share") / "news-qa"


# How hybrid search fuses BM25 with a pretrained model's cosines, per model (the name an index records),
# tuned on SciFact train and SQuAD articles 1-24 (benchmarks/fusion_tuning.py, docs/retrieval-quality.md).
# A model not listed is fused by rank (RRF, k = RRF_K); each index's manifest records what it uses.
MODEL_FUSION: dict[str, FusionSettings] = {
    # z-scores over the candidates; lexical weight 0.65 × min(1, coverage / 0.85), coverage being how much of the
    # question's informative words BM25's best five passages hold (a paraphrase leans on the vectors); each
    # passage's dense score 0.4 × its cosine + 0.6 × its best sentence's (benchmarks/sentence_evidence.py)
    "sentence-transformers/all-MiniLM-L6-v2": FusionSettings(
        "interpolation", lexical_weight=0.65, normalise="zscore", coverage_gate=0.85, sentence_weight=0.6
    ),
}
