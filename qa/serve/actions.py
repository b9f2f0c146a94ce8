"""What the page does with an answer besides showing it: download picked hits, mark a hit relevant
or not, answer a pasted list of questions, and keep the audit log. Plain functions over answers
and files, and the :class:`Desk` that holds the page's audit log and marks file, so the page's
buttons and the tests call the same code."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import InvalidRequestError, QAError
from qa.evaluate.marks import Mark, append_mark, default_marks_path, read_marks
from qa.records import Answer
from qa.serve.audit import AuditLog
from qa.serve.batch import MAX_PASTED, ask_batch, text_items
from qa.serve.export import Asked, to_csv, to_markdown

DOWNLOAD_TYPES = {"csv": ("csv", "text/csv"), "markdown": ("md", "text/markdown")}
BOM = "\ufeff"  # a downloaded CSV starts with one, so spreadsheet programs read it as UTF-8


@dataclass(frozen=True, slots=True)
class Download:
    """A file for the browser to save: its name, media type and text."""

    name: str
    media_type: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.media_type, "text": self.text}


def _file_name(stem: str, extension: str) -> str:
    words = re.findall(r"[a-z0-9]+", stem.lower())[:8]
    return f"news-qa-{'-'.join(words) or 'answer'}-{dt.date.today().isoformat()}.{extension}"


def download_answer(answer: Answer, ranks: Sequence[int] | None, file_format: str) -> Download:
    """The hits of ``answer`` whose ranks are in ``ranks`` (all when None or empty) as CSV or Markdown."""
    if file_format not in DOWNLOAD_TYPES:
        raise InvalidRequestError(f"Unknown download format {file_format!r}; use csv or markdown.")
    extension, media_type = DOWNLOAD_TYPES[file_format]
    picked = [rank for rank in ranks or [] if any(hit.rank == rank for hit in answer.hits)] or None
    if ranks and picked is None:
        raise InvalidRequestError("None of the picked passages is in this answer; ask again and pick them.")
    asked = [Asked(answer.question, answer)]
    text = BOM + to_csv(asked, picked) if file_format == "csv" else to_markdown(asked, picked)
    return Download(_file_name(answer.question, extension), media_type, text)


def download_batch(results: Sequence[Asked]) -> Download:
    """A pasted batch's answers as one CSV (a row per hit, a row per failed question)."""
    return Download(_file_name("batch", "csv"), "text/csv", BOM + to_csv(results))


def mark_hit(marks_path: Path, answer: Answer, rank: int, relevant: bool) -> Mark:
    """Record that hit ``rank`` of ``answer`` is (not) relevant to its question, in the marks file."""
    hit = next((hit for hit in answer.hits if hit.rank == rank), None)
    if hit is None:
        raise InvalidRequestError(f"There is no passage {rank} in this answer; ask again and mark it.")
    mark = Mark(answer.question, hit.article.id, hit.passage.paragraph, hit.passage.sha256, bool(relevant))
    return append_mark(marks_path, mark)


def ask_pasted(retriever: Any, text: str, k: int, **options: Any) -> list[Asked]:
    """Answers for questions pasted one per line (``#`` lines are comments), at most :data:`MAX_PASTED`."""
    items = text_items(text or "")
    if not items:
        raise InvalidRequestError("Paste one question per line first.")
    if len(items) > MAX_PASTED:
        raise InvalidRequestError(
            f"{len(items)} questions were pasted; the page takes at most {MAX_PASTED} at once. "
            "Split them, or use `qa ask --batch FILE`."
        )
    return ask_batch(retriever, items, k, **options)


class Desk:
    """The page's investigation tools for one server: its audit log (None when ``QA_AUDIT_LOG=off``)
    and the marks file ✓ / ✗ clicks are appended to."""

    def __init__(self, audit: AuditLog | None, marks_path: Path) -> None:
        self.audit = audit
        self.marks_path = marks_path

    @classmethod
    def default(cls) -> Desk:
        """The documented locations: ``$QA_AUDIT_LOG`` and ``$QA_MARKS``, else the user data folder."""
        return cls(AuditLog.default(), default_marks_path())

    def audit_option(self) -> tuple[bool, str]:
        """Whether the page can keep an audit log, and where it is (the setting's explanation)."""
        if self.audit is None:
            return False, "turned off for this server (QA_AUDIT_LOG=off)"
        return True, f"each question and the citations returned are added to {self.audit.path} on this computer"

    def record(self, answers: Sequence[Answer], source: str, retriever: Any, options: dict[str, Any], k: int) -> None:
        """Add ``answers`` to the audit log (when there is one), with the options they were asked with."""
        if self.audit is not None:
            for answer in answers:
                self.audit.record(answer, source=source, retriever=retriever, options=options, k=k)

    def marks_for(self, answer: Answer) -> dict[int, bool]:
        """Rank → the relevance mark already given to that hit's passage for this question (unmarked left out)."""
        try:
            marks, _ = read_marks(self.marks_path)
        except QAError:  # no marks file yet (or unreadable: marking says so)
            return {}
        given = {(m.article_id, m.passage_sha256): m.relevant for m in marks if m.question == answer.question}
        found = {hit.rank: given.get((hit.article.id, hit.passage.sha256)) for hit in answer.hits}
        return {rank: relevant for rank, relevant in found.items() if relevant is not None}

    def mark(self, answer: Answer | None, request: dict[str, Any]) -> str:
        """Record a ✓ / ✗ on a card (``{"rank", "relevant"}``); returns the line the page shows.

        Raises QAError (with what to do) when there is no answer, no such hit, or the file cannot be written.
        """
        if answer is None:
            raise InvalidRequestError("Ask a question first; then mark its passages.")
        try:
            rank, relevant = int(request["rank"]), bool(request["relevant"])
        except (KeyError, TypeError, ValueError):
            raise InvalidRequestError("That mark could not be read.") from None
        try:
            mark = mark_hit(self.marks_path, answer, rank, relevant)
        except OSError as error:
            raise QAError(f"The mark could not be saved in {self.marks_path}: {error.strerror or error}.") from None
        name = next(hit.article.name for hit in answer.hits if hit.rank == rank)
        verdict = "relevant" if mark.relevant else "not relevant"
        return (
            f"Marked ¶{mark.paragraph} of “{name}” {verdict} "
            f"(saved in {self.marks_path}; qa eval --marks scores the index on your marks)."
        )

    def download(self, answer: Answer | None, request: dict[str, Any]) -> Download:
        """The hits of the answer on screen picked in ``request`` (``{"format", "ranks"}``) as a file."""
        if answer is None:
            raise InvalidRequestError("Ask a question first; then pick passages to download.")
        ranks = [int(rank) for rank in request.get("ranks") or []]
        return download_answer(answer, ranks, str(request.get("format", "csv")))
