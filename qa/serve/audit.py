"""The audit log: one JSON line per question asked, so a journalist can show how a quote was found.

Each line records when the question was asked and through what (``cli``, ``page`` or ``api``,
the page's `/ask` endpoint), the question, its filters and mode, the index
folder and its manifest checksum (which pins the exact index), and the citations returned with
the sha256 of each quoted passage. It is on by default and stays on this machine:

* location: ``$QA_AUDIT_LOG`` when set, else ``$XDG_DATA_HOME/news-qa/audit.jsonl``
  (``~/.local/share/news-qa/audit.jsonl``);
* off: ``QA_AUDIT_LOG=off``, ``qa ask --no-audit``, or the page's "Keep an audit log" setting.

A script using the Python API keeps its own record with ``AuditLog.default().record(...)``.

Lines are appended under an exclusive file lock, so the CLI and a running page can share one
log. When the log cannot be written the question is still answered and a warning says why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.records import Answer
from qa.settings import user_data_dir

if TYPE_CHECKING:
    from qa.search.retriever import Retriever

AUDIT_ENV = "QA_AUDIT_LOG"
AUDIT_FILE = "audit.jsonl"
OFF = ("off", "0", "no", "false", "none")
RECORDED_OPTIONS = ("outlets", "date_from", "date_to", "include_undated", "collapse")  # the line's "filters"
log = logging.getLogger("qa")


class AuditLog:
    """Appends question records to one JSON-lines file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._warned = False
        self._checksum: tuple[Any, str] | None = None  # (manifest, its checksum): computed once per index

    @classmethod
    def default(cls) -> AuditLog | None:
        """The log at ``$QA_AUDIT_LOG`` or in the user data folder; None when ``QA_AUDIT_LOG=off``."""
        configured = os.environ.get(AUDIT_ENV, "").strip()
        if configured.lower() in OFF:
            return None
        return cls(configured or user_data_dir() / AUDIT_FILE)

    def record(self, answer: Answer, *, source: str, retriever: Retriever, options: Mapping[str, Any], k: int) -> None:
        """Append one line for ``answer``, asked of ``retriever``'s index with ``options`` (the
        keyword arguments of ``Retriever.ask``); a write failure is a warning, never the caller's error."""
        manifest = retriever.manifest
        if self._checksum is None or self._checksum[0] is not manifest:
            self._checksum = (manifest, manifest.checksum())
        line = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "source": source,
            "question": answer.question,
            "filters": {name: options[name] for name in RECORDED_OPTIONS if options.get(name) not in (None, [], ())},
            "k": k,
            "mode": answer.label,
            "index": str(Path(retriever.index_dir).resolve()),
            "manifest_checksum": self._checksum[1],
            "confident": answer.confident,
            "citations": [
                {
                    "rank": hit.rank,
                    "citation": hit.full_citation,
                    "article_id": hit.article.id,
                    "paragraph": hit.passage.paragraph,
                    "char_start": hit.passage.char_start,
                    "char_end": hit.passage.char_end,
                    "passage_sha256": hit.passage.sha256,
                }
                for hit in answer.hits
            ],
        }
        self._append(json.dumps(line, ensure_ascii=False, default=str) + "\n")

    def _append(self, text: str) -> None:
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    _lock_file(handle)
                    handle.write(text)
        except OSError as error:
            if not self._warned:
                self._warned = True
                log.warning(
                    "The audit log %s cannot be written (%s); questions are answered but not logged. "
                    "Set %s to another file, or to off.",
                    self.path,
                    error.strerror or error,
                    AUDIT_ENV,
                )

    def __repr__(self) -> str:
        return f"AuditLog({self.path})"


def _lock_file(handle: Any) -> None:
    """An exclusive lock until the file is closed (POSIX); elsewhere appends go unlocked."""
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def read_audit(path: Path | str) -> list[dict[str, Any]]:
    """Every record in an audit log, oldest first (lines that are not JSON are left out)."""
    records = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
    return records
