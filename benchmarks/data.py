"""Synthetic news-like articles built from SciFact text, and the questions asked of them.

Every article takes its title from a SciFact abstract and has 4–12 paragraphs; a paragraph is
1–2 consecutive sentences of an abstract (mostly the article's own, sometimes another) with
one sentence from anywhere put before, between or after them. The text is real English with the word
statistics of scientific abstracts, so BM25 postings and embedding neighbourhoods look like
those of a real collection, and the same seed always gives the same corpus.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from qa.ingest.sentences import split_sentences
from qa.records import Article

SCIFACT_DIR = Path("/work/shared/eval/beir-scifact")
OUTLETS = [
    "Daily Ledger",
    "Evening Courier",
    "Harbour Times",
    "Metro Post",
    "National Review",
    "Northern Star",
    "Public Wire",
    "Science Desk",
    "The Chronicle",
    "Valley Gazette",
    "Weekly Observer",
    "World Report",
]
AUTHORS = ["A. Khan", "B. Ortiz", "C. Lee", "D. Novak", "E. Mensah", "F. Rossi", "G. Tanaka", "H. Silva"]
FIRST_DAY = dt.date(2015, 1, 1)
DAYS = 3650


@dataclass(frozen=True)
class Abstract:
    title: str
    sentences: tuple[str, ...]


def scifact_dir() -> Path:
    return SCIFACT_DIR


@cache
def load_abstracts(folder: Path = SCIFACT_DIR) -> tuple[Abstract, ...]:
    """SciFact's 5,183 abstracts, split into sentences with the product's own splitter."""
    found = []
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            sentences = tuple(split_sentences(record["text"]))
            if record["title"].strip() and sentences:
                found.append(Abstract(" ".join(record["title"].split()), sentences))
    return tuple(found)


def load_questions(folder: Path = SCIFACT_DIR, limit: int | None = None) -> list[str]:
    """SciFact claims, in file order: short scientific statements used as questions."""
    questions = []
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            text = " ".join(json.loads(line)["text"].split())
            if text:
                questions.append(text)
    return questions[:limit] if limit else questions


def _paragraph(rng: np.random.Generator, abstracts: tuple[Abstract, ...], own: int) -> str:
    """1–2 consecutive sentences of an abstract (the article's own 60 % of the time) and one sentence from anywhere.

    The extra sentence makes (almost) every paragraph unique, as paragraphs of real articles are.
    """
    source = abstracts[own] if rng.random() < 0.6 else abstracts[int(rng.integers(len(abstracts)))]
    length = int(rng.integers(1, 3))
    start = int(rng.integers(max(1, len(source.sentences) - length + 1)))
    sentences = list(source.sentences[start : start + length])
    other = abstracts[int(rng.integers(len(abstracts)))]
    extra = other.sentences[int(rng.integers(len(other.sentences)))]
    sentences.insert(int(rng.integers(len(sentences) + 1)), extra)
    return " ".join(sentences)


def iter_articles(seed: int = 0, start: int = 0) -> Iterator[Article]:
    """An endless, reproducible stream of synthetic articles (``start`` skips that many)."""
    abstracts = load_abstracts()
    number = 0
    while True:
        rng = np.random.default_rng([seed, number])
        own = int(rng.integers(len(abstracts)))
        paragraphs = [_paragraph(rng, abstracts, own) for _ in range(int(rng.integers(4, 13)))]
        if number >= start:
            yield Article(
                id=f"synthetic-{number:07d}",
                path=f"synthetic/{number // 1000:04d}.jsonl",
                text="\n\n".join(paragraphs),
                title=abstracts[own].title,
                outlet=OUTLETS[int(rng.integers(len(OUTLETS)))],
                author=AUTHORS[int(rng.integers(len(AUTHORS)))],
                date=(FIRST_DAY + dt.timedelta(days=int(rng.integers(DAYS)))).isoformat(),
            )
        number += 1


def article_stream(passages: int, seed: int = 0) -> Iterator[Article]:
    """Articles adding up to at least ``passages`` paragraphs (one passage each, as a build makes them),
    made one at a time (a streaming build never holds them all)."""
    total = 0
    for article in iter_articles(seed):
        if total >= passages:
            return
        yield article
        total += article.text.count("\n\n") + 1


def make_articles(passages: int, seed: int = 0) -> list[Article]:
    """:func:`article_stream` as a list."""
    return list(article_stream(passages, seed))


def write_corpus(articles: Iterable[Article], corpus_dir: Path, per_file: int = 1000) -> Path:
    """The articles as a corpus folder of ``.jsonl`` files, the way `qa build` reads them."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    stream = iter(articles)
    for number in itertools.count():
        batch = list(itertools.islice(stream, per_file))
        if not batch:
            break
        with (corpus_dir / f"part-{number:05d}.jsonl").open("w", encoding="utf-8") as handle:
            for article in batch:
                row = {
                    "id": article.id,
                    "title": article.title,
                    "outlet": article.outlet,
                    "author": article.author,
                    "date": article.date,
                    "text": article.text,
                }
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return corpus_dir
