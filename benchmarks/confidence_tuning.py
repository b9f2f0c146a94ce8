"""`python -m benchmarks.confidence_tuning`: which evidence tells an answerable question from an unanswerable one.

SQuAD's removed-article protocol on cached arrays (:mod:`benchmarks.semantic_data`): each question
asked of all 2,067 paragraphs (answerable) and of the paragraphs without its article (unanswerable),
in lexical, dense and hybrid mode, 5 hits. Per question and mode it computes the evidence a rule can
use and fits rules on articles 1-24 (at most 4 % of answerable questions called not confident),
reported on articles 25-48. An approximation of the product's protocol: BM25 keeps the full corpus's
statistics when an article is removed (the product rebuilds); `qa eval --confidence` gives the
exact figures for the rule that ships.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.semantic_data import DEFAULT_CACHE, Arrays, load_arrays

K = 5
LEXICAL_WEIGHT = 0.65
MAX_FALSE_ALARMS = 0.04


def _unit(values: np.ndarray) -> np.ndarray:
    low, high = values.min(1, keepdims=True), values.max(1, keepdims=True)
    return (values - low) / np.where(high > low, high - low, 1)


def rankings(arrays: Arrays, removed: bool) -> dict[str, np.ndarray]:
    """Top-K passage rows per question and mode, with each question's article taken out when ``removed``."""
    lexical = arrays.lexical.astype(np.float64).copy()
    cosine = (arrays.query_vectors @ arrays.docs.T).astype(np.float64)
    if removed:
        article_of_row = np.array([int(doc.split("-")[0]) for doc in arrays.doc_ids])
        gone = article_of_row[None, :] == arrays.groups[:, None]
        lexical[gone] = -np.inf
        cosine[gone] = -np.inf
    top = {}
    top["lexical"] = np.argsort(-lexical, 1, kind="stable")[:, :K]
    top["dense"] = np.argsort(-cosine, 1, kind="stable")[:, :K]
    # hybrid: min-max over the union of both top-100 lists, as the product does
    depth = 100
    lex100 = np.argsort(-lexical, 1, kind="stable")[:, :depth]
    den100 = np.argsort(-cosine, 1, kind="stable")[:, :depth]
    hybrid = np.empty((len(lexical), K), dtype=np.int64)
    for q in range(len(lexical)):
        rows = np.concatenate([lex100[q][lexical[q, lex100[q]] > 0], den100[q]])
        rows = rows[np.sort(np.unique(rows, return_index=True)[1])]
        fused = (
            LEXICAL_WEIGHT * _unit(lexical[q, rows][None])[0] + (1 - LEXICAL_WEIGHT) * _unit(cosine[q, rows][None])[0]
        )
        hybrid[q] = rows[np.argsort(-fused, kind="stable")[:K]]
    top["hybrid"] = hybrid
    return top


def evidence(
    arrays: Arrays,
    top: dict[str, np.ndarray],
    terms: list[set[str]],
    idf: dict[str, float],
    question_terms: list[list[str]],
) -> dict[str, dict[str, np.ndarray]]:
    cosine_all = arrays.query_vectors @ arrays.docs.T
    features: dict[str, dict[str, np.ndarray]] = {}
    for mode, rows in top.items():
        coverage = np.zeros(len(rows))
        for q, hits in enumerate(rows):
            wanted = set(question_terms[q])
            total = sum(idf.get(t, MAX_IDF) for t in wanted)
            if total > 0:
                coverage[q] = max(sum(idf.get(t, MAX_IDF) for t in wanted & terms[row]) / total for row in hits)
        cos = np.take_along_axis(cosine_all, rows, 1)
        features[mode] = {
            "coverage": coverage,
            "cosine": cos.max(1),
            "cosine_gap": np.sort(cos, 1)[:, -1] - np.sort(cos, 1)[:, -2],
        }
    return features


MAX_IDF = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    arrays = load_arrays(args.eval_data.resolve(), "squad", args.model, args.cache)
    print(arrays.docs.shape)


if __name__ == "__main__":
    main()
