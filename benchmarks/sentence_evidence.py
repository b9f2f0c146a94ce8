"""`python -m benchmarks.sentence_evidence`: does scoring a passage by its best sentence's cosine help?

Issue 11, item 4. A passage's dense score becomes (1 − μ)·its cosine + μ·its best sentence's cosine,
each sentence embedded on its own with its article title as context (:mod:`benchmarks.semantic_data`).
The vectors' candidates are the passage index's top 100 (``--select passages``, what a sentence matrix
beside the passage index gives) or the blended score's top 100 (``--select blended``, what a searched
sentence index would propose), re-ordered by the blended score; the union with BM25's top 100 is fused.

μ is tuned on the tuning splits only (SQuAD articles 1–24, SciFact train where its sentence vectors are
cached), with the shipped fusion held fixed and with its lexical weight re-tuned for each μ; the chosen
settings are reported on the held-out splits (SQuAD 25–48 and all 2,067 paragraphs, SciFact test).
It also reports the memory the sentence vectors add per passage and, with ``--time N``, the cost of
embedding N passages' sentences against embedding the passages themselves (one process, same load).
Figures come from cached arrays; nothing here changes the product.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.fusion_tuning import candidates, dense_scores, fuse, metrics
from benchmarks.semantic_data import DEFAULT_CACHE, Arrays, documents, load_arrays, sentence_texts

MIXES = tuple(round(m, 2) for m in np.arange(0.0, 1.0001, 0.1))
WEIGHTS = tuple(round(w, 2) for w in np.arange(0.4, 0.9001, 0.05))
SHIPPED = ("zscore", 0.65, 0.85)  # qa.settings.MODEL_FUSION for all-MiniLM-L6-v2
KEY_BYTES = 16  # qa.index.vectorcache.KEY_BYTES: one content key per embedded text
SPLITS = {
    "squad": (("squad 1-24", lambda a: a.groups <= 24), ("squad 25-48", lambda a: a.groups > 24), ("squad all", None)),
    "scifact": (("scifact train", lambda a: a.split == "train"), ("scifact test", lambda a: a.split == "test")),
}
TUNING = {"squad 1-24": "mrr@10", "scifact train": "ndcg@10"}


def scores_by_mix(arrays: Arrays, mixes: tuple[float, ...], select: str):  # type: ignore[no-untyped-def]
    """For each μ, the candidates of every question (:class:`benchmarks.fusion_tuning.Candidates`)."""
    everyone = np.arange(len(arrays.questions))
    passages = arrays.query_vectors @ arrays.docs.T
    for mix in mixes:
        blended = dense_scores(arrays, mix, everyone) if mix else passages
        yield mix, candidates(arrays, everyone, blended, passages if select == "passages" and mix else None)


def evaluate(arrays: Arrays, found, settings) -> dict:  # type: ignore[no-untyped-def]
    """{setting: {split: {metric: mean}}} for the given (method, weight, gate) settings."""
    out = {}
    for method, weight, gate in settings:
        values = metrics(found, fuse(found, method, weight, gate=gate))
        out[(method, weight, gate)] = {
            split: {
                name: float(v[np.ones(len(v), bool) if mask is None else mask(arrays)].mean())
                for name, v in values.items()
            }
            for split, mask in SPLITS[arrays.name]
        }
    return out


def tuning_score(row: dict) -> float:  # type: ignore[type-arg]
    parts = [row[split][metric] for split, metric in TUNING.items() if split in row]
    return sum(parts) / len(parts)


def memory(arrays: Arrays, dimension: int) -> dict[str, float]:
    """Bytes the sentence files add per passage: float32 vectors, content keys, offsets (one int64 each)."""
    passages, sentences = len(arrays.doc_ids), len(arrays.sentence_rows)
    per_passage = sentences / passages
    return {
        "passages": passages,
        "sentences": sentences,
        "sentences per passage": per_passage,
        "bytes per passage": per_passage * (4 * dimension + KEY_BYTES) + 8,
        "passage vector bytes": 4 * dimension,
    }


def time_embedding(eval_dir: Path, model: str, count: int) -> dict[str, float]:
    """Seconds to embed ``count`` random SQuAD passages, then the same passages' sentences (medians of 3
    alternating runs, so both see the same machine load)."""
    from benchmarks.semantic_data import SQUAD
    from qa.evaluate.evaldata import load_eval_set
    from qa.models.encoder import load_encoder

    articles = load_eval_set(eval_dir / SQUAD).articles
    rows = np.sort(np.random.default_rng(0).choice(len(articles), count, replace=False))
    chosen = [articles[row] for row in rows.tolist()]
    passages = documents(chosen)
    sentences = sentence_texts(chosen)[0]
    encoder = load_encoder(model)
    encoder.encode_passages(passages[:8])  # warm
    passage_times, sentence_times = [], []
    for _ in range(3):
        started = time.perf_counter()
        encoder.encode_passages(passages)
        passage_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        encoder.encode_passages(sentences)
        sentence_times.append(time.perf_counter() - started)
    passage_seconds, sentence_seconds = float(np.median(passage_times)), float(np.median(sentence_times))
    return {
        "passages": count,
        "sentences": len(sentences),
        "passage seconds": passage_seconds,
        "sentence seconds": sentence_seconds,
        "added build time": sentence_seconds / passage_seconds,
    }


def row_figures(row: dict) -> list[str]:  # type: ignore[type-arg]
    wanted = [("squad 1-24", "mrr@10"), ("squad 1-24", "recall@1"), ("squad 25-48", "recall@1")]
    wanted += [("squad 25-48", "mrr@10"), ("squad all", "recall@1"), ("squad all", "mrr@10")]
    wanted += [("scifact train", "ndcg@10"), ("scifact test", "ndcg@10")]
    return [f"{row[split][metric]:.4f}" if split in row else "–" for split, metric in wanted]


HEADER = (
    "| setting | μ | SQ 1–24 MRR@10 | SQ 1–24 R@1 | SQ 25–48 R@1 | SQ 25–48 MRR@10 | SQ all R@1 | SQ all MRR@10 "
    "| SF train nDCG@10 | SF test nDCG@10 |\n|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--datasets", default="squad", help="comma-separated: squad, scifact")
    parser.add_argument("--mixes", default=",".join(map(str, MIXES)), help="sentence weights μ to try")
    parser.add_argument("--select", choices=("passages", "blended"), default="passages")
    parser.add_argument("--time", type=int, default=0, metavar="N", help="also time embedding N SQuAD passages")
    args = parser.parse_args()
    eval_dir = args.eval_data.resolve()
    mixes = tuple(float(value) for value in args.mixes.split(","))
    grid = [SHIPPED, ("dense", 0.0, 0.0)]
    grid += [(method, w, g) for method in ("zscore", "minmax") for g in (0.0, 0.7, 0.85, 1.0) for w in WEIGHTS]
    table: dict[tuple[float, tuple], dict] = {}  # type: ignore[type-arg]
    sizes = {}
    for which in args.datasets.split(","):
        arrays = load_arrays(eval_dir, which, args.model, args.cache)
        sizes[which] = memory(arrays, arrays.docs.shape[1])
        for mix, found in scores_by_mix(arrays, mixes, args.select):
            for setting, row in evaluate(arrays, found, grid).items():
                table.setdefault((mix, setting), {}).update(row)
            print(f"{which} μ={mix:g} done", flush=True)
    name = {SHIPPED: "shipped fusion (z-score 0.65, gate 0.85)", ("dense", 0.0, 0.0): "dense alone"}
    print(f"\nCandidates from the vectors selected by: {args.select}\n")
    print(HEADER)
    for setting in (("dense", 0.0, 0.0), SHIPPED):
        for mix in mixes:
            print(f"| {name[setting]} | {mix:g} | " + " | ".join(row_figures(table[(mix, setting)])) + " |")
    print("\nBest lexical weight and gate re-tuned per μ (on the tuning splits):\n")
    print(HEADER)
    for mix in mixes:
        tuned = [(s, r) for (m, s), r in table.items() if m == mix and s[0] != "dense"]
        setting, row = max(tuned, key=lambda item: tuning_score(item[1]))
        label = f"{setting[0]} {setting[1]:g}" + (f", gate {setting[2]:g}" if setting[2] else "")
        print(f"| {label} | {mix:g} | " + " | ".join(row_figures(row)) + " |")
    best_mix = max(mixes, key=lambda mix: tuning_score(table[(mix, SHIPPED)]))
    print(f"\nμ chosen on the tuning splits with the shipped fusion: {best_mix:g}")
    print("\nMemory the sentence vectors add (float32, plus content keys and offsets):\n")
    for which, size in sizes.items():
        print(
            f"{which}: {size['sentences']:,} sentences for {size['passages']:,} passages "
            f"({size['sentences per passage']:.2f} per passage): {size['bytes per passage']:,.0f} bytes per passage "
            f"(a passage vector is {size['passage vector bytes']:,} bytes)"
        )
    if args.time:
        timing = time_embedding(eval_dir, args.model, args.time)
        print(
            f"\nEmbedding {timing['passages']} SQuAD passages: {timing['passage seconds']:.1f} s; their "
            f"{timing['sentences']} sentences: {timing['sentence seconds']:.1f} s (median of 3): the sentences add "
            f"{timing['added build time']:.0%} to the embedding stage"
        )


if __name__ == "__main__":
    main()
