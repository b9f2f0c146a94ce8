"""The same passages and questions through peer libraries: rank_bm25, plain bm25s, and txtai.

* Lexical peers get exactly the text our passage field indexes (title + passage) and the
  same analyzer's terms (stemmed, stopwords removed), so only the scoring engine differs.
  Ours scores three fields per question (passage, best sentence, bigrams); plain bm25s is
  the one-field baseline, so the ratio to it is the price of those extra fields.
* txtai uses the same stand-in encoder (sentence-transformers folder) for its vectors, its
  own FAISS configuration (IVF, nprobe = cells/16 above 5,000 rows) and its own BM25 for
  hybrid search. Its search API takes text, so its figures include question encoding; its
  dense index is also searched with pre-computed question vectors, without encoding, and
  its recall@10 against exact search is measured the same way as ours.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import size_dir, static_model_dir
from benchmarks.data import load_questions
from benchmarks.measure import memory, percentiles, time_each


def _documents(index_dir: Path) -> list[str]:
    """What our passage field indexed, row by row: the article title, a newline, the passage text."""
    from qa.index.build import passage_document
    from qa.index.catalog import Catalog
    from qa.index.store import open_manifest

    manifest = open_manifest(index_dir)
    catalog = Catalog.load(index_dir, manifest.passages, manifest.articles)
    titles = {}
    documents = []
    for row, passage in enumerate(catalog.passages):
        article_row = int(catalog.passage_article[row])
        if article_row not in titles:
            titles[article_row] = catalog.articles.rows[article_row]
        documents.append(passage_document(titles[article_row], passage))
    return documents


def _terms() -> Any:
    from qa.index.lexical import LexicalSettings

    return LexicalSettings().analyzer().terms


def rank_bm25(work: str, passages: int, questions: int = 100) -> dict[str, Any]:
    """rank_bm25's BM25Okapi: index, then score every passage per question and take the top 10."""
    from rank_bm25 import BM25Okapi

    terms = _terms()
    tokens = [terms(document) for document in _documents(size_dir(Path(work), passages) / "index")]
    asked = [terms(question) for question in load_questions(limit=questions)]
    started = time.perf_counter()
    bm25 = BM25Okapi(tokens)
    index_seconds = time.perf_counter() - started
    del tokens

    def search(query: list[str]) -> np.ndarray:
        scores = bm25.get_scores(query)
        top = np.argpartition(-scores, 9)[:10]
        return top[np.argsort(-scores[top])]

    durations = time_each(search, asked, warmup=1)
    return {
        "passages": passages,
        "index_seconds": round(index_seconds, 2),
        "search": percentiles(durations),
        "queries_per_second": round(len(durations) / sum(durations), 2),
        "memory": memory(),
    }


def plain_bm25s(work: str, passages: int, questions: int = 200) -> dict[str, Any]:
    """bm25s alone: one field, same BM25 variant and parameters, top 10 per question."""
    import bm25s

    from qa.index.lexical import LexicalSettings

    settings = LexicalSettings()
    terms = _terms()
    tokens = [terms(document) for document in _documents(size_dir(Path(work), passages) / "index")]
    started = time.perf_counter()
    bm25 = bm25s.BM25(method=settings.method, k1=settings.k1, b=settings.b)
    bm25.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - started
    del tokens
    vocabulary = bm25.vocab_dict
    asked = [[t for t in terms(q) if t in vocabulary] for q in load_questions(limit=questions)]
    asked = [query for query in asked if query]
    durations = time_each(lambda query: bm25.retrieve([query], k=10, show_progress=False), asked)
    started = time.perf_counter()
    bm25.retrieve(asked, k=10, show_progress=False)
    batched = time.perf_counter() - started
    return {
        "passages": passages,
        "index_seconds": round(index_seconds, 2),
        "search": percentiles(durations),
        "queries_per_second": round(len(durations) / sum(durations), 1),
        "batched_retrieve_ms_per_question": round(batched / len(asked) * 1e3, 3),
        "memory": memory(),
    }


def _txtai_faiss(embeddings: Any) -> str:
    """txtai's FAISS factory string and nprobe, as it chose them."""
    settings = (embeddings.ann.config.get("build") or {}).get("settings") or {}
    components = settings.get("components", "?")
    nprobe = embeddings.ann.nprobe() if hasattr(embeddings.ann, "nprobe") else None
    return f"{components}, nprobe {nprobe}" if "IVF" in components else components


def _txtai_vectors(embeddings: Any, documents: list[str], root: Path, passages: int, check: int = 2000) -> np.ndarray:
    """txtai's vectors of ``documents``, for exact search: ours (vectors.npy) when they are the same.

    Same encoder, same strings: txtai's vectors equal ours to float rounding. That is checked on
    the first ``check`` documents; only if they differ does txtai embed every document again.
    """
    ours = np.load(size_dir(root, passages) / "index" / "vectors.npy", mmap_mode="r")
    sample = embeddings.batchtransform(documents[:check])
    if ours.shape == (len(documents), sample.shape[1]) and np.abs(sample - ours[: len(sample)]).max() < 1e-5:
        return np.asarray(ours)
    return embeddings.batchtransform(documents)


def txtai(work: str, passages: int, questions: int = 100) -> dict[str, Any]:
    """One txtai hybrid index with the stand-in encoder.

    Hybrid is ``Embeddings.search``. On a hybrid index that always runs its BM25 too, so dense
    search is timed as what txtai's dense path does: encode the question, search its FAISS index.
    """
    from txtai import Embeddings

    from qa.index.dense import exact_top_k, recall_at

    root = Path(work)
    documents = _documents(size_dir(root, passages) / "index")
    asked = load_questions(limit=questions)
    config = {"path": str(static_model_dir(root)), "method": "sentence-transformers", "content": False, "hybrid": True}
    embeddings = Embeddings(config)
    started = time.perf_counter()
    embeddings.index(documents)
    result: dict[str, Any] = {
        "passages": passages,
        "index_seconds": round(time.perf_counter() - started, 2),
        "faiss": _txtai_faiss(embeddings),
    }
    ann = embeddings.ann
    for name, search in (
        ("dense", lambda q: ann.search(embeddings.batchtransform([q]), 10)),
        ("hybrid", lambda q: embeddings.search(q, 10)),
    ):
        durations = time_each(search, asked)
        result[name] = {
            "search_with_encoding": percentiles(durations),
            "queries_per_second": round(len(durations) / sum(durations), 1),
        }
    vectors = embeddings.batchtransform(asked)
    result["dense"]["search_without_encoding"] = percentiles(
        time_each(lambda v: ann.search(v[None, :], 100), list(vectors))
    )
    found = ann.search(vectors, 100)
    found_scores = np.array([[score for _, score in row[:10]] for row in found], dtype=np.float32)
    truth, _ = exact_top_k(_txtai_vectors(embeddings, documents, root, passages), vectors, 10)
    result["dense"]["recall_at_10_vs_exact"] = round(recall_at(found_scores, truth), 4)
    result["memory"] = memory()
    return result
