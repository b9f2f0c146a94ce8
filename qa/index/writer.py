"""The first pass of a build, in bounded memory whatever the corpus size: articles in, catalog and BM25 out.

    articles ──split──► passages ──► catalog (JSON lines)
                           └──────► BM25 term counts (scratch) ──► lexical/

Nothing holds every passage: the catalog writer keeps an id, outlet and day per article and a
line offset per passage, and the BM25 fields spill their term counts to a scratch folder.
Later stages read the passages back from the catalog written here (:func:`passage_documents`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.index.catalog import Catalog, CatalogWriter
from qa.index.lexical import LexicalWriter
from qa.progress import stage
from qa.records import Article, Passage

CHUNK_PASSAGES = 8192  # passages per chunk: ~4 MB of text (12 MB of vectors when they are embedded)
Splitter = Callable[[Article], list[Passage]]
DocumentOf = Callable[[Article, Passage, int], str]  # (article, passage, title repeats) -> the indexed string


@dataclass
class PassageSummary:
    """What the first pass wrote."""

    articles: int = 0
    passages: int = 0
    words: int = 0  # in passage texts: whether a model trained on the corpus can help
    seconds: dict[str, float] = field(default_factory=dict)


def _tick(seconds: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    seconds[name] = seconds.get(name, 0.0) + now - started
    return now


def _article_chunks(articles: Iterable[Article], split: Splitter) -> Iterator[list[tuple[Article, list[Passage]]]]:
    """Articles with their passages, grouped into chunks of about CHUNK_PASSAGES passages."""
    chunk: list[tuple[Article, list[Passage]]] = []
    size = 0
    for article in articles:
        passages = split(article)
        chunk.append((article, passages))
        size += len(passages)
        if size >= CHUNK_PASSAGES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def write_passages(
    articles: Iterable[Article],
    staging: Path,
    split: Splitter,
    document_of: DocumentOf,
    lexical: LexicalWriter,
    progress: bool = False,
    keep_weights: bool = False,
) -> PassageSummary:
    """First pass: split ``articles`` and write the catalog into ``staging``; ``lexical`` gets every passage
    and is finished (``lexical/`` written) at the end, keeping its weights for a search server when asked."""
    summary = PassageSummary()
    seconds = summary.seconds
    catalog = CatalogWriter(staging)
    settings = lexical.settings
    try:
        started = time.perf_counter()
        for chunk in _article_chunks(articles, split):
            started = _tick(seconds, "split", started)
            pairs = [(article, passage) for article, passages in chunk for passage in passages]
            catalog.add([article for article, _ in chunk], [passage for _, passage in pairs])
            started = _tick(seconds, "write", started)
            lexical.add(
                [document_of(article, passage, settings.title_repeats) for article, passage in pairs],
                [passage.text for _, passage in pairs],
                [article.title for article, _ in pairs],
            )
            started = _tick(seconds, "lexical", started)
            summary.articles += len(chunk)
            summary.passages += len(pairs)
            summary.words += sum(len(passage.text.split()) for _, passage in pairs)
        catalog.finish()
        started = _tick(seconds, "write", started)
        with stage("lexical", 1, progress) as bar:  # the terms were counted chunk by chunk; now the scores
            lexical.finish(staging, keep_weights)
            bar.update(1)
        _tick(seconds, "lexical", started)
    except BaseException:
        lexical.close()
        raise
    return summary


def passage_documents(catalog: Catalog, document_of: DocumentOf) -> Iterator[list[str]]:
    """The embedded string of every passage (title once, then text), CHUNK_PASSAGES at a time, in row order."""
    chunk: list[str] = []
    for article, passages in catalog.scan():
        chunk.extend(document_of(article, passage, 1) for passage in passages)
        if len(chunk) >= CHUNK_PASSAGES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
