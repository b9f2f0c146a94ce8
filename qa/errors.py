"""Every error this package raises on purpose, under one base class.

    QAError                      anything the user can act on; the CLI prints it as one line
    ├── CorpusError              the corpus folder is missing, empty, or a file failed in strict mode
    ├── IndexNotFoundError       no index at the given folder (remedy: build one)
    ├── IndexFormatError         an index file is missing, corrupt, or from another format version (remedy: rebuild)
    ├── IndexMismatchError       index files disagree with each other or with the manifest (remedy: rebuild)
    ├── IndexWriteError          the index folder cannot be written (read-only, disk full, not qa's)
    ├── EngineUnavailableError   a build engine (Ray) or search backend (Qdrant) cannot run: its library is
    │                            missing, or its cluster or server cannot be reached
    ├── ModelUnavailableError    a sentence-transformers model cannot be loaded
    │   ├── ModelVerificationError     a model file does not match its pinned sha256 (named in the message)
    │   └── RerankerUnavailableError   reranking was asked for but its cross-encoder cannot be loaded
    ├── DatasetError             an evaluation dataset (BEIR folder, SQuAD file) is missing or malformed
    ├── EmptyQuestionError       a blank question
    └── InvalidRequestError      a bad argument: k, a date filter, an unknown mode

Like httpx's errors, each carries its context as fields: ``message`` (what is wrong, naming the
file or value), ``path`` (the file or folder concerned), ``option`` (the argument at fault, by its
Python name) and ``remedy`` (what to do, as a :class:`Remedy`). ``str(error)`` is the message and
the remedy in plain words; the CLI and the page word the remedy with their own commands and flags
(qa.serve.hints), so library messages never tell an API user to pass a command-line flag.
"""

from __future__ import annotations

import enum
from pathlib import Path


class Remedy(enum.Enum):
    """What the user can do about an error; each front end words it with its own commands."""

    BUILD = "Build an index there first."
    BUILD_FROM_CORPUS = "Give the index folder, or build an index from this folder of articles."
    GIVE_INDEX_FOLDER = "Give the folder the index was built into."
    REBUILD = "Rebuild the index."
    REBUILD_WITH_MODEL = "Rebuild the index with this model."
    UPGRADE = "Upgrade qa, or rebuild the index."
    CHECK_PERMISSIONS = "Check the index folder's permissions, or rebuild the index."
    OTHER_INDEX_FOLDER = "Choose another folder for the index."
    MOVE_OUT = "Move them out of it, or choose another folder for the index."
    FIX_LINK = "Point it at a folder, or choose another folder for the index."
    FREE_SPACE = "Free space or fix permissions, or choose another folder for the index."
    NAME_MODEL = "Name a model, or do not require semantic search."
    TRAIN_LONGER = "Give the training more time."


class QAError(Exception):
    """Base class: an error whose message is meant for the user, not a bug."""

    remedy_default: Remedy | None = None  # what to do about this kind of error, unless the raiser says otherwise

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        option: str | None = None,
        remedy: Remedy | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.option = option
        self.remedy = remedy if remedy is not None else self.remedy_default

    def __str__(self) -> str:
        return f"{self.message} {self.remedy.value}" if self.remedy is not None else self.message


class CorpusError(QAError):
    """The corpus cannot be indexed as asked."""


class IndexNotFoundError(QAError):
    """There is no index at the given folder (``path``)."""

    remedy_default = Remedy.BUILD


class IndexFormatError(QAError):
    """An index file is missing, unreadable, or written by another format version."""

    remedy_default = Remedy.REBUILD


class IndexMismatchError(QAError):
    """The index files do not agree with each other or with the manifest."""

    remedy_default = Remedy.REBUILD


class IndexWriteError(QAError):
    """The index folder (``path``) cannot be written."""


class EngineUnavailableError(QAError):
    """A build engine (Ray) or search backend (Qdrant) cannot run: its library is missing or its server is away."""


class ModelUnavailableError(QAError):
    """A sentence-transformers model cannot be loaded (not cached and no hub access, or broken)."""


class ModelVerificationError(ModelUnavailableError):
    """A model's file is missing, altered or unexpected against the sha256 values pinned for it; never loaded."""


class RerankerUnavailableError(ModelUnavailableError):
    """Reranking was asked for, but the cross-encoder cannot be loaded; the message says why."""


class DatasetError(QAError):
    """An evaluation dataset is missing, of an unknown layout, or malformed."""


class EmptyQuestionError(QAError):
    """The question is blank."""


class InvalidRequestError(QAError):
    """An argument of a search (``option``) is out of range or malformed."""
