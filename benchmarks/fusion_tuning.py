"""`python -m benchmarks.fusion_tuning`: how to fuse BM25 with a model's cosines, tuned on the train splits.

For one embedding model (default: the bundled all-MiniLM-L6-v2) and both evaluation sets, every
fusion method is tried over a grid of weights on the tuning split (SciFact train, SQuAD articles
1-24) and the best setting of each is reported on SciFact test, SQuAD articles 25-48 and all of
SQuAD. Candidates are what the product fuses (qa/search): the union of BM25's and the vectors' top
100, every candidate scored by both. Methods:

* ``rrf``: Σ w_i / (k + rank_i) (Cormack et al. 2009), a weight on the lexical list;
* ``minmax``: each method's scores min-max normalised over the candidates, then α·BM25 + (1 − α)·cosine;
* ``zscore``: the same with each method's scores standardised (mean 0, sd 1) over the candidates;
* ``rank``: rank-normalised convex combination: each method's scores replaced by 1 − (rank − 1)/n over the n
  candidates (a candidate's place in that method's order, whatever the score gaps), then interpolated.

Dense evidence can also come from sentences: a passage's dense score is (1 − μ)·its cosine +
μ·its best sentence's cosine (sentence vectors, each with its article title as context).
Figures are computed from cached arrays (:mod:`benchmarks.semantic_data`); confirm the chosen
setting with `qa eval`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.semantic_data import DEFAULT_CACHE, Arrays, load_arrays

DEPTH = 100
WEIGHTS = tuple(round(w, 2) for w in np.arange(0.0, 1.0001, 0.05))
SENTENCE_MIX = (0.0, 0.25, 0.5, 0.75, 1.0)
RRF_KS = (10, 30, 60)


@dataclass
class Candidates:
    rows: np.ndarray  # questions × width, passage rows (-1 pads)
    lexical: np.ndarray  # their BM25 scores
    dense: np.ndarray  # their dense scores
    lexical_rank: np.ndarray  # 1-based rank in BM25's top DEPTH, or 0
    dense_rank: np.ndarray
    gain: np.ndarray  # relevance of each candidate
    ideal_dcg: np.ndarray  # per question, for nDCG@10
    coverage: np.ndarray  # per question: the best coverage among BM25's top 5 (how much lexical evidence there is)


def _top(scores: np.ndarray, depth: int, positive: bool) -> np.ndarray:
    part = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    top = np.take_along_axis(part, order, 1)
    if positive:
        top = np.where(np.take_along_axis(scores, top, 1) > 0, top, -1)
    return top


def dense_scores(arrays: Arrays, mix: float, questions: np.ndarray) -> np.ndarray:
    """(1 − mix)·passage cosine + mix·best sentence cosine, for the chosen questions × every passage."""
    cosines = arrays.query_vectors[questions] @ arrays.docs.T
    if mix == 0:
        return cosines
    starts = np.flatnonzero(np.r_[True, np.diff(arrays.sentence_rows) != 0])
    best = np.empty_like(cosines)
    for begin in range(0, len(questions), 512):
        chunk = arrays.query_vectors[questions[begin : begin + 512]] @ arrays.sentences.T
        best[begin : begin + 512] = np.maximum.reduceat(chunk, starts, axis=1)
    return (1 - mix) * cosines + mix * best


def candidates(
    arrays: Arrays, questions: np.ndarray, dense: np.ndarray, select: np.ndarray | None = None
) -> Candidates:
    """The union of BM25's and the vectors' top DEPTH, each candidate scored by both. The vectors' candidates
    are chosen by ``select`` (passage cosines: what the passage index proposes) and ordered by ``dense``
    (with sentence evidence, the blended score), as the product does."""
    lexical = arrays.lexical[questions]
    top_lexical = _top(lexical, DEPTH, True)
    top_dense = _top(dense if select is None else select, DEPTH, False)
    if select is not None:
        order = np.argsort(-np.take_along_axis(dense, top_dense, 1), axis=1, kind="stable")
        top_dense = np.take_along_axis(top_dense, order, 1)
    width = 2 * DEPTH
    rows = np.full((len(questions), width), -1, dtype=np.int64)
    lexical_rank = np.zeros((len(questions), width), dtype=np.int64)
    dense_rank = np.zeros_like(lexical_rank)
    for q in range(len(questions)):
        lex = top_lexical[q][top_lexical[q] >= 0]
        union = np.concatenate([lex, top_dense[q][~np.isin(top_dense[q], lex)]])
        rows[q, : len(union)] = union
        position = {row: rank for rank, row in enumerate(lex.tolist(), 1)}
        lexical_rank[q, : len(union)] = [position.get(row, 0) for row in union.tolist()]
        position = {row: rank for rank, row in enumerate(top_dense[q].tolist(), 1)}
        dense_rank[q, : len(union)] = [position.get(row, 0) for row in union.tolist()]
    safe = np.maximum(rows, 0)
    gain = np.zeros(rows.shape)
    ideal = np.zeros(len(questions))
    discounts = 1 / np.log2(np.arange(2, 12))
    for q, number in enumerate(questions.tolist()):
        judged = arrays.relevance[number]
        gain[q] = [judged.get(row, 0) if row >= 0 else 0 for row in rows[q].tolist()]
        best = sorted(judged.values(), reverse=True)[:10]
        ideal[q] = float(np.dot(best, discounts[: len(best)]))
    return Candidates(
        rows,
        np.take_along_axis(lexical, safe, 1),
        np.take_along_axis(dense, safe, 1),
        lexical_rank,
        dense_rank,
        gain,
        ideal,
        arrays.coverage[questions].max(1),
    )


def _normalise(values: np.ndarray, valid: np.ndarray, how: str) -> np.ndarray:
    masked = np.where(valid, values, np.nan)
    if how == "rank":
        order = np.argsort(np.argsort(-masked, axis=1, kind="stable"), axis=1, kind="stable")  # NaNs sort last
        count = valid.sum(1, keepdims=True)
        return np.where(valid, 1 - order / np.maximum(count - 1, 1), 0.0)
    if how == "minmax":
        low, high = np.nanmin(masked, 1, keepdims=True), np.nanmax(masked, 1, keepdims=True)
        span = np.where(high > low, high - low, 1.0)
        return np.where(valid, (values - low) / span, 0.0)
    mean, sd = np.nanmean(masked, 1, keepdims=True), np.nanstd(masked, 1, keepdims=True)
    return np.where(valid, (values - mean) / np.where(sd > 0, sd, 1.0), 0.0)


def fuse(c: Candidates, method: str, weight: float, k: int = 60, gate: float = 0.0) -> np.ndarray:
    """Fused scores of the candidates (higher is better; pads −inf).

    With ``gate`` the lexical weight shrinks for questions whose words BM25 finds poorly:
    weight · min(1, coverage / gate), coverage being the best of BM25's top 5.
    """
    valid = c.rows >= 0
    if method == "lexical":
        score = np.where(c.lexical_rank > 0, -c.lexical_rank.astype(float), -1e9)
    elif method == "dense":
        score = np.where(c.dense_rank > 0, -c.dense_rank.astype(float), -1e9)
    elif method == "rrf":
        score = np.where(c.lexical_rank > 0, weight / (k + c.lexical_rank), 0.0)
        score += np.where(c.dense_rank > 0, (1 - weight) / (k + c.dense_rank), 0.0)
    else:
        alpha = weight * np.minimum(1.0, c.coverage / gate)[:, None] if gate else weight
        score = alpha * _normalise(c.lexical, valid, method) + (1 - alpha) * _normalise(c.dense, valid, method)
    return np.where(valid, score, -np.inf)


def metrics(c: Candidates, score: np.ndarray) -> dict[str, np.ndarray]:
    """Per question: nDCG@10, R@1 (first hit relevant), MRR@10, R@100 over the fused order."""
    order = np.argsort(-score, axis=1, kind="stable")
    gain = np.take_along_axis(c.gain, order, 1)[:, :DEPTH]
    relevant = gain > 0
    dcg = gain[:, :10] @ (1 / np.log2(np.arange(2, 12)))
    first = np.where(relevant[:, :10].any(1), relevant[:, :10].argmax(1) + 1, 0)
    return {
        "ndcg@10": np.divide(dcg, c.ideal_dcg, out=np.zeros_like(dcg), where=c.ideal_dcg > 0),
        "recall@1": relevant[:, 0].astype(float),
        "mrr@10": np.where(first > 0, 1 / np.maximum(first, 1), 0.0),
        "hits@100": relevant.any(1).astype(float),
    }


GATES = (0.0, 0.5, 0.7, 0.85, 1.0)


def settings() -> list[tuple[str, float, int, float]]:
    """(method, lexical weight, RRF k, coverage gate) to try."""
    grid: list[tuple[str, float, int, float]] = [("lexical", 1.0, 0, 0.0), ("dense", 0.0, 0, 0.0)]
    grid += [("rrf", w, k, 0.0) for k in RRF_KS for w in WEIGHTS if 0 < w < 1]
    grid += [(method, w, 0, gate) for method in ("minmax", "zscore", "rank") for gate in GATES for w in WEIGHTS]
    return grid


def setting_name(method: str, weight: float, k: int, gate: float, mix: float) -> str:
    name = f"{method} w={weight:g}" + (f" k={k}" if method == "rrf" else "") + (f" gate={gate:g}" if gate else "")
    return name + f" mix={mix:g}"


def split_masks(scifact: Arrays | None, squad: Arrays | None) -> dict[str, tuple[str, np.ndarray | None]]:
    """Report name → (dataset, which of its questions): the tuning splits first."""
    return {
        "scifact train": ("scifact", scifact.split == "train" if scifact else None),
        "squad 1-24": ("squad", squad.groups <= 24 if squad else None),
        "scifact test": ("scifact", scifact.split == "test" if scifact else None),
        "squad 25-48": ("squad", squad.groups > 24 if squad else None),
        "squad all": ("squad", np.ones(len(squad.questions), dtype=bool) if squad else None),
    }


def run(
    eval_dir: Path,
    model: str,
    cache: Path,
    datasets: tuple[str, ...] = ("scifact", "squad"),
    mixes: tuple[float, ...] = SENTENCE_MIX,
) -> dict[str, dict[str, dict[str, float]]]:
    """Every setting's mean metrics on every split: {setting: {split: {metric: value}}}."""
    data = {which: load_arrays(eval_dir, which, model, cache, sentences=any(mixes)) for which in datasets}
    masks = {
        split: (dataset, mask)
        for split, (dataset, mask) in split_masks(data.get("scifact"), data.get("squad")).items()
        if mask is not None
    }
    table: dict[str, dict[str, dict[str, float]]] = {}
    for mix in mixes:
        found = {}
        for name, arrays in data.items():
            everyone = np.arange(len(arrays.questions))
            select = arrays.query_vectors @ arrays.docs.T if mix else None
            found[name] = candidates(arrays, everyone, dense_scores(arrays, mix, everyone), select)
        for method, weight, k, gate in settings():
            if mix and method == "lexical":
                continue
            key = setting_name(method, weight, k, gate, mix)
            values = {name: metrics(c, fuse(c, method, weight, k, gate)) for name, c in found.items()}
            table[key] = {
                split: {metric: float(v[mask].mean()) for metric, v in values[dataset].items()}
                for split, (dataset, mask) in masks.items()
            }
        print(f"sentence mix {mix:g}: {len(table)} settings", flush=True)
    return table


def tuning_score(row: dict[str, dict[str, float]]) -> float:
    """What settings are chosen by: the mean of SciFact train nDCG@10 and SQuAD 1-24 MRR@10 (those present)."""
    parts = [
        row[split][metric] for split, metric in (("scifact train", "ndcg@10"), ("squad 1-24", "mrr@10")) if split in row
    ]
    return sum(parts) / len(parts)


def best_per_method(table: dict[str, dict[str, dict[str, float]]]) -> dict[str, str]:
    """For each method (and sentence mix), the setting with the best tuning score."""
    best: dict[str, str] = {}
    for key, row in table.items():
        words = key.split()
        method = " ".join([words[0], *(w for w in words if w.startswith("gate=")), words[-1]])
        if method not in best or tuning_score(row) > tuning_score(table[best[method]]):
            best[method] = key
    return best


def format_table(table: dict[str, dict[str, dict[str, float]]], keys: list[str]) -> str:
    lines = [
        "| setting | SF train nDCG@10 | SQ 1-24 MRR@10 | SF test nDCG@10 | SQ 25-48 MRR@10 | SQ all R@1 "
        "| SQ all MRR@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in keys:
        row = table[key]
        wanted = [("scifact train", "ndcg@10"), ("squad 1-24", "mrr@10"), ("scifact test", "ndcg@10")]
        wanted += [("squad 25-48", "mrr@10"), ("squad all", "recall@1"), ("squad all", "mrr@10")]
        figures = [f"{row[split][metric]:.4f}" if split in row else "–" for split, metric in wanted]
        lines.append(f"| {key} | " + " | ".join(figures) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--datasets", default="scifact,squad", help="comma-separated: scifact, squad")
    parser.add_argument("--mixes", default=",".join(map(str, SENTENCE_MIX)), help="sentence mixes μ to try")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    datasets = tuple(args.datasets.split(","))
    mixes = tuple(float(value) for value in args.mixes.split(","))
    table = run(args.eval_data.resolve(), args.model, args.cache, datasets, mixes)
    if args.out:
        args.out.write_text(json.dumps(table, indent=1))
    best = best_per_method(table)
    print(format_table(table, sorted(best.values(), key=lambda key: -tuning_score(table[key]))))


if __name__ == "__main__":
    main()
