"""Query measurements on a built index: latency per mode, question encoding, recall, memory."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import size_dir
from benchmarks.data import OUTLETS, load_questions
from benchmarks.measure import mapped_rss, memory, percentiles, time_each

MODES = ("lexical", "dense", "hybrid")


def _precomputed(encoder: Any, questions: list[str], vectors: np.ndarray) -> Any:
    """The same encoder, answering ``encode_queries`` from vectors it computed beforehand.

    Question encoding is measured on its own; this keeps it out of the search figures while
    everything else (including the encoder's highlight work) runs for real.
    """
    table = {question: vector for question, vector in zip(questions, vectors)}

    @dataclasses.dataclass
    class Precomputed(type(encoder)):  # type: ignore[misc]
        sentences_encoded: int = 0  # highlight sentences encoded, and the seconds it took (stand-in)
        sentence_seconds: float = 0.0

        def encode_queries(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
            # A question the spelling step rewrote is a new text: it is encoded for real.
            missing = [text for text in texts if text not in table]
            if missing:
                table.update(zip(missing, super().encode_queries(missing, batch_size)))
            return np.stack([table[text] for text in texts])

        def encode_sentences(self, texts: list[str]) -> np.ndarray:
            started = time.perf_counter()
            found = super().encode_sentences(texts)
            self.sentence_seconds += time.perf_counter() - started
            self.sentences_encoded += len(texts)
            return found

    return Precomputed(**{field.name: getattr(encoder, field.name) for field in dataclasses.fields(encoder)})


def latency(work: str, passages: int, questions: int = 200) -> dict[str, Any]:
    """Open the index of ``passages`` passages and time searching it, one question at a time."""
    from qa.index.dense import exact_top_k, recall_at
    from qa.search.local import LocalDense
    from qa.search.retriever import Retriever, clean_question

    index_dir = size_dir(Path(work), passages) / "index"
    asked = [clean_question(q)[0] for q in load_questions(limit=questions)]
    started = time.perf_counter()
    retriever = Retriever.load(index_dir)
    result: dict[str, Any] = {"passages": len(retriever.passages), "questions": len(asked)}
    result["load_seconds"] = round(time.perf_counter() - started, 3)
    result["memory_after_load"] = memory()
    encoder = retriever.encoder
    assert encoder is not None and retriever.dense is not None

    result["question_encoding"] = percentiles(time_each(lambda q: encoder.encode_queries([q]), asked[:50]))
    started = time.perf_counter()
    vectors = encoder.encode_queries(asked)
    result["question_encoding_batched_ms_per_question"] = round((time.perf_counter() - started) / len(asked) * 1e3, 3)
    retriever.encoder = _precomputed(encoder, asked, vectors)

    result["modes"] = {}
    precomputed = retriever.encoder
    for mode in MODES:
        rank = time_each(lambda q, mode=mode: retriever.rank_many([q], 10, mode=mode), asked)
        time_each(lambda q, mode=mode: retriever.search(q, 10, mode=mode), asked[:3], warmup=0)  # warm-up
        precomputed.sentences_encoded, precomputed.sentence_seconds = 0, 0.0
        search = time_each(lambda q, mode=mode: retriever.search(q, 10, mode=mode), asked, warmup=0)
        result["modes"][mode] = {
            "rank": percentiles(rank),
            "search": percentiles(search),
            "queries_per_second": round(len(search) / sum(search), 1),
            "ranking_queries_per_second": round(len(rank) / sum(rank), 1),
            # The highlight encodes hit sentences with the model: how many per search, and their cost here.
            "highlight_sentences_per_search": round(precomputed.sentences_encoded / len(search), 2),
            "highlight_encoding_ms_per_search": round(precomputed.sentence_seconds / len(search) * 1e3, 3),
        }
    day_filter = {"date_from": "2019-01-01", "date_to": "2019-12-31"}
    result["filtered_hybrid"] = {
        "one_outlet": percentiles(time_each(lambda q: retriever.search(q, 10, outlets=[OUTLETS[3]]), asked[:100])),
        "one_year": percentiles(time_each(lambda q: retriever.search(q, 10, **day_filter), asked[:100])),
    }
    started = time.perf_counter()
    retriever.ask_many(asked, 10)
    result["batched_hybrid_ms_per_question"] = round((time.perf_counter() - started) / len(asked) * 1e3, 3)
    # Memory now, before exact search below reads every vector into the page cache.
    result["memory"] = memory()
    result["mapped_index_files_rss"] = mapped_rss(index_dir)
    result["rss_bytes_per_passage"] = round(result["memory"]["peak_rss"] / result["passages"], 1)
    result["anon_bytes_per_passage"] = round(result["memory"]["rss_anon"] / result["passages"], 1)

    assert isinstance(retriever.dense, LocalDense)  # the FAISS index itself is measured here
    dense = retriever.dense.index
    truth, _ = exact_top_k(dense.vectors if dense.vectors is not None else dense._vectors(), vectors, 10)
    found, _ = dense.search(vectors, 100)  # the depth the retriever asks for
    result["dense_index"] = {
        **(retriever.manifest.dense.to_dict() if retriever.manifest.dense else {}),
        "recall_at_10_vs_exact": round(recall_at(found[:, :10], truth), 4),
    }
    if dense.approximate:  # the measurement behind the default share of cells searched
        chosen, nlist, sweep = dense.nprobe, int(dense._ivf().nlist), {}
        for share in (64, 32, 16, 8):
            dense.nprobe = max(1, nlist // share)
            found, _ = dense.search(vectors, 100)
            timing = percentiles(time_each(lambda v: dense.search(v[None, :], 100), list(vectors[:100])))
            sweep[f"1/{share}"] = {
                "nprobe": dense.nprobe,
                "recall_at_10": round(recall_at(found[:, :10], truth), 4),
                "dense_search": timing,
            }
        dense.nprobe = chosen
        result["dense_index"]["nprobe_sweep"] = sweep
    return result
