"""Cited answers from a collection of news articles: every word shown is a quote.

``import qa`` is cheap: the retriever and its heavy dependencies load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.errors import (
    CorpusError,
    DatasetError,
    EmptyQuestionError,
    EngineUnavailableError,
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    InvalidRequestError,
    ModelUnavailableError,
    QAError,
    RerankerUnavailableError,
)
from qa.records import Answer, Article, Hit, Passage
from qa.settings import __version__

if TYPE_CHECKING:
    from qa.search.retriever import Retriever

__all__ = [
    "Answer",
    "Article",
    "CorpusError",
    "DatasetError",
    "EmptyQuestionError",
    "EngineUnavailableError",
    "Hit",
    "IndexFormatError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "InvalidRequestError",
    "ModelUnavailableError",
    "Passage",
    "QAError",
    "RerankerUnavailableError",
    "Retriever",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Retriever":
        from qa.search.retriever import Retriever

        return Retriever
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
