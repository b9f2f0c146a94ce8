"""What the real model (BAAI/bge-small-en-v1.5) would cost, measured on a random-weight model of its shape.

Weights do not change how long a forward pass takes, so encoding synthetic passages with a
random BERT of bge-small's exact architecture gives its real throughput on this machine;
the analytic FLOPs per token say how much of the CPU's arithmetic that is. Extrapolating to
a corpus: seconds = passages × mean tokens per passage / tokens per second.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import bge_model_dir, static_model_dir
from benchmarks.data import load_questions, make_articles
from benchmarks.encoders import BGE_SMALL
from benchmarks.measure import percentiles, time_each


def _documents(count: int) -> list[str]:
    documents = []
    for article in make_articles(count):
        documents.extend(f"{article.title}\n{paragraph}" for paragraph in article.text.split("\n\n"))
    return documents[:count]


def _encode_speed(encoder: Any, documents: list[str], questions: list[str], sentences: list[str]) -> dict[str, Any]:
    encoder.encode_passages(documents[:16])  # warm-up
    started = time.perf_counter()
    encoder.encode_passages(documents)
    seconds = time.perf_counter() - started
    return {
        "passages_per_second": round(len(documents) / seconds, 2),
        "question_encoding": percentiles(time_each(lambda q: encoder.encode_queries([q]), questions)),
        "highlight_encoding": percentiles(time_each(lambda _: encoder.encode_sentences(sentences), [0] * 5, warmup=1)),
    }


def model_cost(work: str, passages: int = 256) -> dict[str, Any]:
    """Throughput of the bge-small-shaped model with one and with two torch threads, and the stand-in's.

    Both thread counts are measured because on a shared machine a second intra-op thread can
    wait on a busy core and make things slower; extrapolations use the faster of the two.
    """
    import torch

    from qa.models.encoder import load_encoder

    root = Path(work)
    started = time.perf_counter()
    encoder = load_encoder(bge_model_dir(root))
    load_seconds = time.perf_counter() - started
    documents = _documents(passages)
    tokenizer = encoder.model.tokenizer
    tokens = [len(ids) for ids in tokenizer(documents, truncation=True, max_length=512)["input_ids"]]
    mean_tokens = float(np.mean(tokens))
    questions = load_questions(limit=30)
    question_tokens = [len(ids) for ids in tokenizer([encoder.query_prompt + q for q in questions])["input_ids"]]
    sentences = [s for document in documents[:5] for s in document.split(". ")]
    by_threads = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        by_threads[str(threads)] = _encode_speed(encoder, documents, questions, sentences)
    best = max(by_threads.values(), key=lambda speed: speed["passages_per_second"])
    fastest_question = min(by_threads.values(), key=lambda speed: speed["question_encoding"]["p50_ms"])
    tokens_per_second = best["passages_per_second"] * mean_tokens
    flops_per_passage = BGE_SMALL.flops_per_token(round(mean_tokens)) * mean_tokens
    static = load_encoder(static_model_dir(root))
    stand_in = _encode_speed(static, documents, questions, sentences)
    return {
        "model": "BAAI/bge-small-en-v1.5 architecture, random weights",
        "parameters": BGE_SMALL.parameters(),
        "load_seconds": round(load_seconds, 3),
        "passages_measured": len(documents),
        "mean_tokens_per_passage": round(mean_tokens, 1),
        "by_torch_threads": by_threads,
        "passages_per_second": best["passages_per_second"],
        "tokens_per_second": round(tokens_per_second, 1),
        "gflops_per_passage": round(flops_per_passage / 1e9, 3),
        "effective_gflops_per_second": round(flops_per_passage * best["passages_per_second"] / 1e9, 2),
        "question_tokens_mean": round(float(np.mean(question_tokens)), 1),
        "question_encoding": fastest_question["question_encoding"],
        "highlight_sentences": len(sentences),
        "highlight_encoding": fastest_question["highlight_encoding"],
        "stand_in": stand_in,
    }
