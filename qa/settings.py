"""Defaults shared by more than one stage, each stated once: the version, fusion constants, candidate depths.

Every stage may import this module; it imports nothing from qa.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

__version__ = "0.1.0"

RRF_K = 60  # reciprocal rank fusion's k (Cormack et al. 2009), used when a manifest names no other

# How a question is ranked: BM25 alone, passage vectors alone, or both fused.
Mode = Literal["lexical", "dense", "hybrid"]
MODES: tuple[Mode, ...] = get_args(Mode)

DEFAULT_RERANKER = "cross-encoder/ms-marco-MiniLM-L6-v2"  # the cross-encoder behind "Rerank" unless another is named

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
MODEL_FUSION: dict[str, dict[str, object]] = {
    "sentence-transformers/all-MiniLM-L6-v2": {"method": "interpolation", "lexical_weight": 0.65},
}
