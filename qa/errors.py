"""Every error this package raises on purpose, under one base class.

    QAError                      anything the user can act on; the CLI prints its message
    ├── CorpusError              the corpus folder is missing, empty, or a file failed in --strict mode
    ├── IndexNotFoundError       no index at the given folder (run `qa build`)
    ├── IndexFormatError         an index file is missing, corrupt, or from another format version
    ├── IndexMismatchError       index files disagree with each other or with the manifest
    ├── IndexWriteError          the index folder cannot be written (read-only, disk full)
    ├── ModelUnavailableError    a sentence-transformers model cannot be loaded
    │   ├── ModelVerificationError     a model file does not match its pinned sha256 (named in the message)
    │   └── RerankerUnavailableError   reranking was asked for but its cross-encoder cannot be loaded
    ├── DatasetError             an evaluation dataset (BEIR folder, SQuAD file) is missing or malformed
    ├── EmptyQuestionError       a blank question
    └── InvalidRequestError      a bad argument: k, a date filter, an unknown mode

Messages name the file or value involved and say what to do next.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: an error whose message is meant for the user, not a bug."""


class CorpusError(QAError):
    """The corpus cannot be indexed as asked."""


class IndexNotFoundError(QAError):
    """There is no index at the given folder."""


class IndexFormatError(QAError):
    """An index file is missing, unreadable, or written by another format version."""


class IndexMismatchError(QAError):
    """The index files do not agree with each other or with the manifest."""


class IndexWriteError(QAError):
    """The index folder cannot be written."""


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
    """An argument of a search is out of range or malformed."""
