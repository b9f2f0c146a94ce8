"""Relevance marks: a user's own judgements of hits, kept across rebuilds and turned into an evaluation.

A marks file holds one JSON object per line::

    {"question": "...", "article_id": "...", "paragraph": 4, "passage_sha256": "<hex>", "relevant": true,
     "at": "2026-12-02T10:00:00+00:00"}

``passage_sha256`` is the sha256 of the passage text as UTF-8 (``at`` may be left out in a file
written by hand). The page appends a line for every ✓ / ✗ click; a later line about the same
passage and question replaces an earlier one. The file lives outside every index — at
``$QA_MARKS`` when set, else ``$XDG_DATA_HOME/news-qa/marks.jsonl`` — so marks survive rebuilds.

To evaluate, each mark is found again in the current index by article and passage hash (the
paragraph number may have moved). A mark whose article is gone, or whose passage text changed,
is *stale*: it is reported and not used, never silently matched to different text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import DatasetError
from qa.settings import SEMANTIC_MODES, user_data_dir

if TYPE_CHECKING:
    from qa.evaluate.evaluation import EvalReport

MARKS_ENV = "QA_MARKS"
MARKS_FILE = "marks.jsonl"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_write_lock = threading.Lock()


def default_marks_path() -> Path:
    """``$QA_MARKS`` when set, else ``marks.jsonl`` in the user data folder."""
    configured = os.environ.get(MARKS_ENV, "").strip()
    return Path(configured).expanduser() if configured else user_data_dir() / MARKS_FILE


@dataclass(frozen=True, slots=True)
class Mark:
    """One judgement: is this passage relevant to this question?"""

    question: str
    article_id: str
    paragraph: int
    passage_sha256: str
    relevant: bool
    at: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.question, self.article_id, self.passage_sha256

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "article_id": self.article_id,
            "paragraph": self.paragraph,
            "passage_sha256": self.passage_sha256,
            "relevant": self.relevant,
        }
        if self.at is not None:
            data["at"] = self.at
        return data


@dataclass(frozen=True, slots=True)
class StaleMark:
    """A mark that no longer points at the text it judged, and why."""

    mark: Mark
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.mark.to_dict(), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.mark.article_id} ¶{self.mark.paragraph} for {self.mark.question!r}: {self.reason}"


def _mark(record: Any, where: str) -> Mark:
    if not isinstance(record, dict):
        raise ValueError(f"{where} is not a JSON object")
    question, article_id, paragraph = record.get("question"), record.get("article_id"), record.get("paragraph")
    sha, relevant, at = record.get("passage_sha256"), record.get("relevant"), record.get("at")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where} has no 'question'")
    if not isinstance(article_id, str) or not article_id:
        raise ValueError(f"{where} has no 'article_id'")
    if isinstance(paragraph, bool) or not isinstance(paragraph, int) or paragraph < 1:
        raise ValueError(f"{where}: 'paragraph' must be a whole number from 1")
    if not isinstance(sha, str) or not _SHA256.match(sha.lower()):
        raise ValueError(f"{where}: 'passage_sha256' must be 64 hexadecimal digits")
    if not isinstance(relevant, bool):
        raise ValueError(f"{where}: 'relevant' must be true or false")
    if at is not None and not isinstance(at, str):
        raise ValueError(f"{where}: 'at' must be a timestamp string")
    return Mark(" ".join(question.split()), article_id, paragraph, sha.lower(), relevant, at)


def read_marks(path: Path | str) -> tuple[list[Mark], list[str]]:
    """The marks in a file, a later mark of the same passage for the same question replacing an
    earlier one, and a line per line that could not be used. Raises DatasetError when the file cannot be read."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DatasetError(
            f"No marks file at {path}. Mark hits relevant or not on the page first, or name another marks file.",
            path=path,
            option="marks",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"Cannot read the marks file {path}: {getattr(error, 'strerror', None) or error}.") from None
    latest: dict[tuple[str, str, str], Mark] = {}
    problems = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            mark = _mark(json.loads(line), where)
        except json.JSONDecodeError as error:
            problems.append(f"{where} is not valid JSON ({error.msg})")
            continue
        except ValueError as error:
            problems.append(str(error))
            continue
        latest.pop(mark.key, None)  # re-inserted: the file order of the latest judgement
        latest[mark.key] = mark
    return list(latest.values()), problems


def append_mark(path: Path | str, mark: Mark) -> Mark:
    """Append ``mark`` (stamped with the time now when it has none) to the marks file; returns what was written."""
    if mark.at is None:
        mark = dataclasses.replace(mark, at=_now())
    path = Path(path)
    line = json.dumps(mark.to_dict(), ensure_ascii=False) + "\n"
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            with contextlib.suppress(ImportError, OSError):
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            handle.write(line)
    return mark


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class JudgedQuestions:
    """Marks resolved against one index: questions in file order, each one's relevant passage rows."""

    questions: list[str]
    relevant_rows: list[set[int]]
    stale: list[StaleMark]
    unjudged: list[str]  # questions with no usable relevant mark (only ✗ marks, or only stale ones)
    marks: int


def resolve_marks(marks: Iterable[Mark], catalog: Any) -> JudgedQuestions:
    """Find each mark's passage in ``catalog`` (an index's :class:`qa.index.catalog.Catalog`) by its
    article and text hash; a mark whose article or text is gone is stale."""
    ids = catalog.articles.ids()
    row_of_article = {article_id: row for row, article_id in enumerate(ids)}
    passage_article = np.asarray(catalog.passage_article)
    hashes: dict[str, dict[str, int]] = {}  # article id -> passage sha256 -> row

    def rows_by_hash(article_id: str) -> dict[str, int]:
        if article_id not in hashes:
            rows = np.flatnonzero(passage_article == row_of_article[article_id]).tolist()
            hashes[article_id] = {catalog.passages[row].sha256: row for row in rows}
        return hashes[article_id]

    by_question: dict[str, set[int]] = {}
    stale: list[StaleMark] = []
    count = 0
    for mark in marks:
        count += 1
        by_question.setdefault(mark.question, set())
        if mark.article_id not in row_of_article:
            stale.append(StaleMark(mark, "the article is no longer in the index"))
            continue
        row = rows_by_hash(mark.article_id).get(mark.passage_sha256)
        if row is None:
            stale.append(StaleMark(mark, "the passage text has changed since it was marked"))
            continue
        if mark.relevant:
            by_question[mark.question].add(row)
    questions = [question for question, rows in by_question.items() if rows]
    return JudgedQuestions(
        questions,
        [by_question[question] for question in questions],
        stale,
        [question for question, rows in by_question.items() if not rows],
        count,
    )


def qrels_of(judged: JudgedQuestions) -> tuple[list[str], list[dict[str, int]]]:
    """The questions and their judgements keyed by passage row (as text), for :mod:`qa.evaluate.metrics`."""
    return judged.questions, [{str(row): 1 for row in rows} for rows in judged.relevant_rows]


def evaluate_marks(
    marks_path: Path | str,
    index_dir: Path | str,
    modes: Sequence[str] | None = None,
    *,
    reranker: Any = None,
    rerank_depth: int | None = None,
) -> EvalReport:
    """Score the index in ``index_dir`` on the questions of a marks file, as `qa eval` scores a dataset.

    ``modes`` defaults to the index's own mode; ``"all"`` is every mode that can run. Stale marks,
    questions left without a relevant passage and unreadable lines are part of the report.
    """
    from qa.evaluate.evaluation import EvalReport, score_modes, wanted_modes
    from qa.models.reranker import DEFAULT_RERANKER, RERANK_DEPTH
    from qa.search.retriever import Retriever

    marks_path = Path(marks_path)
    marks, problems = read_marks(marks_path)
    started = time.perf_counter()
    retriever = Retriever.load(
        index_dir, reranker=reranker or DEFAULT_RERANKER, rerank_depth=rerank_depth or RERANK_DEPTH
    )
    opened = time.perf_counter() - started
    judged = resolve_marks(marks, retriever.catalog)
    if not judged.questions:
        detail = f" ({len(judged.stale)} stale)" if judged.stale else ""
        raise DatasetError(
            f"No question in {marks_path} has a passage marked relevant that is still in the index{detail}. "
            "Mark at least one hit relevant first."
        )
    wanted, explicit = wanted_modes(modes or [retriever.mode])
    skipped: dict[str, str] = {}
    if retriever.mode == "lexical" and not explicit:
        for mode in SEMANTIC_MODES:
            if mode in wanted:
                skipped[mode] = retriever.semantic_off_reason or "no embedding model"
    questions, qrels = qrels_of(judged)
    results, first_stage = score_modes(retriever, questions, qrels, str, wanted, explicit, skipped)
    return EvalReport(
        dataset=marks_path.name,
        split="marks",
        queries=len(questions),
        passages=len(retriever.passages),
        modes=results,
        skipped=skipped,
        build_seconds=opened,
        first_stage=first_stage,
        semantic_layer=retriever.manifest.semantic_layer() if retriever.manifest.model else None,
        stale=[stale.to_dict() for stale in judged.stale],
        unjudged=judged.unjudged,
        problems=problems,
        index=str(index_dir),
    )
