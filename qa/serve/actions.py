"""What the page does with an answer besides showing it: download picked hits, mark a hit relevant
or not, and answer a pasted list of questions. Plain functions over answers and files, so the
page's buttons and the tests call the same code."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import InvalidRequestError
from qa.evaluate.marks import Mark, append_mark
from qa.records import Answer
from qa.serve.batch import MAX_PASTED, ask_batch, text_items
from qa.serve.export import Asked, to_csv, to_markdown

DOWNLOAD_TYPES = {"csv": ("csv", "text/csv"), "markdown": ("md", "text/markdown")}


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
    text = to_csv(asked, picked) if file_format == "csv" else to_markdown(asked, picked)
    return Download(_file_name(answer.question, extension), media_type, text)


def download_batch(results: Sequence[Asked]) -> Download:
    """A pasted batch's answers as one CSV (a row per hit, a row per failed question)."""
    return Download(_file_name("batch", "csv"), "text/csv", to_csv(results))


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
