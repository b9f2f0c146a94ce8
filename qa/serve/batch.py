"""Many questions at once: read them from a file or pasted text, ask them, and say which failed.

A batch file is one of

* ``.csv`` — a header naming the columns, with ``question`` and optionally ``id`` (any
  order, any case; other columns are ignored); each id is echoed in every output format;
* ``.jsonl`` — one object per line with ``question`` and optionally ``id``;
* anything else — one question per line; blank lines and lines starting with ``#`` are skipped.

A question that cannot be asked (empty, a line that is not JSON, …) gets an error in its place
and the others are still answered.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.serve.export import Asked

MAX_PASTED = 200  # questions the page's Batch tab takes at once
MAX_BATCH_BYTES = 16 << 20  # a batch file: a million questions, far more than anyone asks at once
SHOWN_CHARS = 200  # of a question that failed, this much is echoed with its error
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class BatchItem:
    """A question read from a batch, where it was (``file:line``), its id, or why it cannot be asked."""

    where: str
    question: str | None
    id: str | None = None
    problem: str | None = None


def read_batch(path: Path) -> list[BatchItem]:
    """The questions of a batch file, in file order; raises QAError when the file cannot be read at all
    (missing, not a regular file, over MAX_BATCH_BYTES, binary, not UTF-8)."""
    from qa.ingest.limits import UnreadableFile, read_capped

    try:
        data = read_capped(path, MAX_BATCH_BYTES)
    except UnreadableFile as reason:
        raise QAError(f"Cannot read the batch file {path}: {reason}.") from None
    if b"\x00" in data:
        raise QAError(f"{path} is a binary file, not questions (one per line, or a .csv or .jsonl file).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QAError(f"{path} is not UTF-8 text; save it as UTF-8 and ask again.") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_items(text, str(path))
    if suffix == ".jsonl":
        return _jsonl_items(text, str(path))
    return text_items(text, str(path))


def text_items(text: str, source: str = "line") -> list[BatchItem]:
    """One question per line; blank lines and ``#`` comment lines are skipped."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            items.append(BatchItem(f"{source}:{number}", stripped))
    return items


def _jsonl_items(text: str, source: str) -> list[BatchItem]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            items.append(BatchItem(where, None, problem=f"{where} is not valid JSON ({error.msg})"))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            items.append(BatchItem(where, None, _id(record), f"{where} has no 'question' field"))
            continue
        items.append(BatchItem(where, record["question"], _id(record)))
    return items


def _id(record: Any) -> str | None:
    value = record.get("id") if isinstance(record, dict) else None
    return None if value is None else str(value)


def _csv_items(text: str, source: str) -> list[BatchItem]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    if "question" not in names:
        raise QAError(f"{source} has no 'question' column: its first line must name the columns, e.g. id,question.")
    column, id_column = names.index("question"), names.index("id") if "id" in names else None
    items = []
    for row in reader:
        where = f"{source}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        item_id = row[id_column].strip() if id_column is not None and id_column < len(row) else None
        if column >= len(row):
            items.append(BatchItem(where, None, item_id or None, f"{where} has no question"))
            continue
        items.append(BatchItem(where, row[column], item_id or None))
    return items


def ask_batch(retriever: Any, items: Sequence[BatchItem], k: int, **options: Any) -> list[Asked]:
    """Ask every askable item in one batch (questions are encoded together); failed ones carry their error.

    ``options`` are :meth:`qa.search.retriever.Retriever.ask_many`'s keyword arguments (filters,
    mode, rerank, …); an option that is wrong for every question (a bad date) raises QAError.
    """
    from qa.search.retriever import clean_question
    from qa.search.syntax import parse_query

    outcomes: list[Asked | None] = []
    askable: list[str] = []
    for item in items:
        problem = item.problem
        if problem is None:
            try:
                parse_query(clean_question(item.question)[0])
            except QAError as error:
                problem = str(error)
        if problem is None:
            askable.append(item.question or "")
            outcomes.append(None)
        else:
            outcomes.append(Asked(_shown(item.question), error=problem, id=item.id))
    answers = iter(retriever.ask_many(askable, k, **options) if askable else [])
    return [
        outcome if outcome is not None else Asked(item.question or "", next(answers), id=item.id)
        for item, outcome in zip(items, outcomes)
    ]


def _shown(question: str | None) -> str | None:
    """A failed question as echoed with its error: control characters written as escapes (they could
    drive the terminal), and only its start when it is long."""
    if question is None:
        return None
    shown = _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), question[:SHOWN_CHARS])
    return shown if len(question) <= SHOWN_CHARS else f"{shown}… ({len(question):,} characters)"


def failure_summary(items: Sequence[BatchItem], asked: Sequence[Asked]) -> str | None:
    """One line naming the questions that failed and why (None when none did)."""
    failed = [(item, result) for item, result in zip(items, asked) if result.error is not None]
    if not failed:
        return None
    listing = "; ".join(
        (result.error or "") if (result.error or "").startswith(item.where) else f"{item.where}: {result.error}"
        for item, result in failed
    )
    return f"{len(failed)} of {len(asked)} questions failed — {listing}"
