"""Evaluation sets as arrays for offline tuning: passage, question and sentence vectors of a model, and the
product's lexical scores — each computed once and cached, so fusion and confidence can be tuned in seconds.

Passages are embedded exactly as `qa eval` indexes them (:func:`qa.index.build.passage_document`: title,
newline, text; one passage per document), questions with the model's query prompt, and each sentence
(:func:`qa.ingest.sentences.split_sentences`) with its article title as context, the way the sentence
field of the lexical index reads it. Lexical scores come from the product's own three-field BM25 index.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.evaluate.evaldata import load_eval_set
from qa.index.build import index_articles, passage_document
from qa.ingest.sentences import split_sentences
from qa.records import Article, Passage

DEFAULT_CACHE = Path("/work/cache/semantic")
SCIFACT = "beir-scifact"
SQUAD = "squad-v1.1/dev-v1.1.json"


@dataclass
class Arrays:
    """One dataset: passages, their vectors and sentence vectors; questions, their vectors, lexical scores, gold."""

    name: str
    doc_ids: list[str]
    docs: np.ndarray  # passages × d, unit length
    sentences: np.ndarray  # sentences × d
    sentence_rows: np.ndarray  # passage row of each sentence (sorted)
    questions: list[str]
    query_vectors: np.ndarray  # questions × d
    lexical: np.ndarray  # questions × passages, the product's BM25 (three fields)
    coverage: np.ndarray  # questions × 5: coverage of the question by its 5 best BM25 passages
    relevance: list[dict[int, int]]  # per question: passage row -> relevance
    groups: np.ndarray  # per question: its source (SQuAD article number; SciFact: 0)
    split: np.ndarray  # per question: "train"/"test" (SciFact) or article number as text (SQuAD)


def documents(articles: list[Article]) -> list[str]:
    return [passage_document(a, Passage(a.id, 1, 0, len(a.text), a.text)) for a in articles]


def sentence_texts(articles: list[Article]) -> tuple[list[str], np.ndarray]:
    rows, texts = [], []
    for row, article in enumerate(articles):
        for sentence in split_sentences(article.text) or [article.text]:
            rows.append(row)
            texts.append((article.title + "\n" if article.title else "") + sentence)
    return texts, np.asarray(rows, dtype=np.int64)


def _cached(path: Path, compute) -> np.ndarray:  # type: ignore[no-untyped-def]
    if path.is_file():
        return np.load(path)
    values = np.asarray(compute(), dtype=np.float32)
    np.save(path, values)
    return values


def lexical_scores(articles: list[Article], questions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The product's BM25 scores of every passage for every question (an index built with no model), and each
    question's coverage (:func:`qa.search.confidence.term_coverage`) by each of its 5 best BM25 passages."""
    from qa.search.confidence import term_coverage
    from qa.search.retriever import Retriever

    with tempfile.TemporaryDirectory(prefix="qa-tune-") as scratch:
        index_articles(articles, Path(scratch) / "index", model=None, split=False)
        retriever = Retriever.load(Path(scratch) / "index")
        analyzer = retriever.lexical.analyzer
        rows = np.arange(len(retriever.passages))
        scores = np.stack([retriever.lexical.scores_for(q, rows).astype(np.float32) for q in questions])
        coverage = np.zeros((len(questions), 5), dtype=np.float32)
        for number, question in enumerate(questions):
            terms = analyzer.terms(question)
            for rank, row in enumerate(np.argsort(-scores[number], kind="stable")[:5].tolist()):
                article = articles[row]
                passage_terms = analyzer.terms(article.title or "") + analyzer.terms(article.text)
                coverage[number, rank] = term_coverage(terms, passage_terms, retriever.lexical.idf)
        return scores, coverage


def load_arrays(eval_dir: Path, which: str, model: str, cache: Path = DEFAULT_CACHE, sentences: bool = True) -> Arrays:
    """``which`` is "scifact" (train + test queries) or "squad" (all questions); vectors are cached by model.
    Without ``sentences`` no sentence vectors are computed (or read)."""
    from qa.models.encoder import load_encoder

    cache.mkdir(parents=True, exist_ok=True)
    tag = model.rstrip("/").split("/")[-1]
    if which == "scifact":
        sets = [load_eval_set(eval_dir / SCIFACT, split=split) for split in ("train", "test")]
    else:
        sets = [load_eval_set(eval_dir / SQUAD)]
    articles = sets[0].articles
    row_of = {a.id: row for row, a in enumerate(articles)}
    questions, relevance, groups, split = [], [], [], []
    for eval_set in sets:
        for query in eval_set.queries:
            questions.append(query.text)
            relevance.append({row_of[doc]: grade for doc, grade in eval_set.qrels[query.id].items()})
            if eval_set.kind == "squad":
                number = int(eval_set.groups[next(iter(eval_set.qrels[query.id]))])
                groups.append(number)
                split.append(str(number))
            else:
                groups.append(0)
                split.append(eval_set.split)
    encoder = None

    def model_encoder():  # type: ignore[no-untyped-def]
        nonlocal encoder
        if encoder is None:
            encoder = load_encoder(model)
        return encoder

    texts, sentence_rows = sentence_texts(articles)
    docs = _cached(cache / f"{which}-{tag}-docs.npy", lambda: model_encoder().encode_passages(documents(articles)))
    query_vectors = _cached(cache / f"{which}-{tag}-queries.npy", lambda: model_encoder().encode_queries(questions))
    sentence_vectors = (
        _cached(cache / f"{which}-{tag}-sentences.npy", lambda: model_encoder().encode_passages(texts))
        if sentences
        else np.zeros((0, docs.shape[1]), dtype=np.float32)
    )
    if not (cache / f"{which}-lexical.npy").is_file():
        scores, coverage = lexical_scores(articles, questions)
        np.save(cache / f"{which}-lexical.npy", scores)
        np.save(cache / f"{which}-coverage.npy", coverage)
    lexical, coverage = np.load(cache / f"{which}-lexical.npy"), np.load(cache / f"{which}-coverage.npy")
    (cache / f"{which}-questions.json").write_text(json.dumps(questions))
    return Arrays(
        which,
        [a.id for a in articles],
        docs,
        sentence_vectors,
        sentence_rows,
        questions,
        query_vectors,
        lexical,
        coverage,
        relevance,
        np.asarray(groups),
        np.asarray(split),
    )
