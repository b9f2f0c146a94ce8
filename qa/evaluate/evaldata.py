"""Evaluation datasets: a BEIR folder or a SQuAD v1.1 file, read into articles, queries and judgements.

Every document (BEIR) or paragraph (SQuAD) becomes one :class:`~qa.records.Article` that is
indexed as one passage, so ``qrels`` can name gold passages by article id.

* BEIR: ``corpus.jsonl`` or ``corpus.jsonl.gz`` (``_id``, ``title``, ``text``), ``queries.jsonl``
  (``_id``, ``text``), ``qrels/<split>.tsv`` (header, then ``query-id  corpus-id  score``).
  Only queries with at least one positive judgement in the split are evaluated.
* SQuAD v1.1: each paragraph is a passage titled by its article ("Super_Bowl_50" reads
  "Super Bowl 50"); a question's one gold passage is its own paragraph. ``articles`` picks the
  questions of some articles (1-based, file order) while the corpus stays whole, so tuning on
  one half and reporting on the other searches the same passages.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import DatasetError
from qa.records import Article
from qa.settings import DEFAULT_SPLIT

BEIR_CORPUS_FILES = ("corpus.jsonl", "corpus.jsonl.gz")
BEIR_LAYOUT = "a BEIR folder holds corpus.jsonl (or .jsonl.gz), queries.jsonl and qrels/<split>.tsv"
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class EvalSet:
    """A corpus (one article per passage), the queries to ask of it, and their gold passages.

    ``groups`` maps an article id to the source it belongs to (the SQuAD article number; a BEIR
    document is its own source); removing a query's gold sources makes it unanswerable.
    """

    name: str
    kind: str  # "beir" or "squad"
    split: str
    articles: list[Article]
    queries: list[Query]
    qrels: dict[str, dict[str, int]]  # query id -> {article id: relevance > 0}
    groups: dict[str, str]
    subset: str | None = None  # the SQuAD articles whose questions are asked, e.g. "1-24"

    def gold_groups(self, query_id: str) -> set[str]:
        return {self.groups[article_id] for article_id in self.qrels[query_id]}


def load_eval_set(path: Path | str, split: str | None = None, articles: str | None = None) -> EvalSet:
    """Read a BEIR folder (``split`` defaults to test) or a SQuAD v1.1 JSON file; raises DatasetError."""
    path = Path(path)
    if path.is_dir():
        if articles is not None:
            raise DatasetError("Articles pick SQuAD questions; a BEIR folder has splits instead.", option="articles")
        return _load_beir(path, split or DEFAULT_SPLIT)
    if path.is_file():
        if split is not None:
            raise DatasetError(
                f"{path} is a SQuAD file, which has no splits; pick questions by article.", option="split"
            )
        return _load_squad(path, articles)
    raise DatasetError(f"No dataset at {path}: give {BEIR_LAYOUT}, or a SQuAD v1.1 JSON file.")


# -- BEIR ------------------------------------------------------------------------------------


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DatasetError(f"{path}:{number} is not JSON ({error.msg}).") from None
                if not isinstance(record, dict) or "_id" not in record:
                    raise DatasetError(f"{path}:{number} has no '_id' field; {BEIR_LAYOUT}.")
                yield number, record
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DatasetError(f"Cannot read {path}: {error}.") from None


def _load_beir(folder: Path, split: str) -> EvalSet:
    corpus_path = next((folder / name for name in BEIR_CORPUS_FILES if (folder / name).is_file()), None)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    queries_path = folder / "queries.jsonl"
    for needed in (corpus_path, queries_path, qrels_path):
        if needed is None or not needed.is_file():
            missing = needed or folder / BEIR_CORPUS_FILES[0]
            splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
            hint = f" Splits here: {', '.join(splits)}." if splits and needed == qrels_path else ""
            raise DatasetError(f"{missing} is missing; {BEIR_LAYOUT}.{hint}")
    assert corpus_path is not None
    qrels = _read_qrels(qrels_path)
    texts = {str(record["_id"]): str(record.get("text") or "") for _, record in _jsonl(queries_path)}
    articles, seen = [], set()
    for number, record in _jsonl(corpus_path):
        doc_id = str(record["_id"])
        if doc_id in seen:
            raise DatasetError(f"{corpus_path}:{number} repeats document id {doc_id!r}.")
        seen.add(doc_id)
        title = str(record.get("title") or "").strip() or None
        articles.append(Article(id=doc_id, path=str(corpus_path), text=str(record.get("text") or ""), title=title))
    unknown_docs = {doc for judged in qrels.values() for doc in judged} - seen
    if unknown_docs:
        raise DatasetError(f"{qrels_path} judges {len(unknown_docs)} document(s) not in {corpus_path}.")
    unasked = [query_id for query_id in qrels if query_id not in texts]
    if unasked:
        raise DatasetError(f"{qrels_path} judges query {unasked[0]!r}, which is not in {queries_path}.")
    queries = [Query(query_id, texts[query_id]) for query_id in qrels]
    groups = {article.id: article.id for article in articles}
    return EvalSet(folder.name, "beir", split, articles, queries, qrels, groups)


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Positive judgements per query, in file order; CRLF and a header line are accepted."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"Cannot read {path}: {error}.") from None
    for number, line in enumerate(lines, start=1):
        fields = line.strip().split("\t") if "\t" in line else line.split()
        if not fields or (number == 1 and fields[0] == "query-id"):
            continue
        if len(fields) != 3:
            raise DatasetError(f"{path}:{number} should be 'query-id<TAB>corpus-id<TAB>score'.")
        query_id, doc_id, score = fields
        try:
            relevance = int(float(score))
        except ValueError:
            raise DatasetError(f"{path}:{number} has score {score!r}, not a number.") from None
        if relevance > 0:
            qrels.setdefault(query_id, {})[doc_id] = relevance
    if not qrels:
        raise DatasetError(f"{path} has no positive judgements.")
    return qrels


# -- SQuAD -----------------------------------------------------------------------------------


def parse_article_numbers(spec: str, count: int) -> list[int]:
    """``"1-24"``, ``"25-48"``, ``"3,5,7-9"`` → sorted 1-based article numbers within ``count``."""
    chosen: set[int] = set()
    for part in spec.split(","):
        match = _RANGE.match(part)
        if not match:
            raise DatasetError(
                f"Articles {spec!r}: write article numbers and ranges, like 1-24 or 3,5,7-9.", option="articles"
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not 1 <= first <= last <= count:
            raise DatasetError(f"Articles {spec!r}: this file has articles 1-{count}.", option="articles")
        chosen.update(range(first, last + 1))
    return sorted(chosen)


def _load_squad(path: Path, subset: str | None) -> EvalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"Cannot read {path} as a SQuAD JSON file ({error}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list) or not data["data"]:
        raise DatasetError(f"{path} is not a SQuAD v1.1 file: it needs a non-empty 'data' list of articles.")
    wanted = set(parse_article_numbers(subset, len(data["data"]))) if subset else None
    articles, queries, qrels, groups = [], [], {}, {}
    try:
        for number, entry in enumerate(data["data"], start=1):
            title = str(entry["title"]).replace("_", " ").strip() or None
            for paragraph_number, paragraph in enumerate(entry["paragraphs"], start=1):
                article_id = f"{number}-{paragraph_number}"
                articles.append(Article(id=article_id, path=str(path), text=paragraph["context"], title=title))
                groups[article_id] = str(number)
                if wanted is not None and number not in wanted:
                    continue
                for qa in paragraph["qas"]:
                    queries.append(Query(str(qa["id"]), str(qa["question"])))
                    qrels[str(qa["id"])] = {article_id: 1}
    except (KeyError, TypeError) as error:
        raise DatasetError(f"{path} is not a SQuAD v1.1 file (missing or wrong field {error}).") from None
    if len(qrels) != len(queries):
        raise DatasetError(f"{path} repeats question ids; each question needs its own id.")
    if not queries:
        raise DatasetError(f"{path} has no questions in the chosen articles.")
    return EvalSet(path.name, "squad", "dev", articles, queries, qrels, groups, subset)
