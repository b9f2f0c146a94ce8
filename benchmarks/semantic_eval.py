"""`python -m benchmarks.semantic_eval`: the product's `qa eval` and `--confidence` with the default model, its
passage, question and sentence vectors read from the cache of :mod:`benchmarks.semantic_data` instead of computed
again.

The figures are those of the product's own code (:func:`qa.evaluate.evaluation.evaluate`,
:func:`qa.evaluate.calibration.calibrate`: the index build, BM25, fusion, confidence evidence); only the
model's forward passes are replaced by a lookup of vectors it computed before, for the exact same strings
(anything not cached is encoded by the model). Highlights are not part of these figures: highlight
sentences get zero vectors here (they change no ranking and no confidence evidence).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks.semantic_data import DEFAULT_CACHE, SCIFACT, SQUAD, documents, sentence_texts
from qa.evaluate.evaldata import load_eval_set
from qa.index.options import BuildOptions
from qa.models.encoder import Encoder, load_encoder


@dataclasses.dataclass
class CachedEncoder(Encoder):
    """An Encoder that answers from vectors computed before (text → vector), falling back to the model."""

    cached: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def _lookup(self, texts: list[str], compute) -> np.ndarray:  # type: ignore[no-untyped-def]
        missing = [text for text in dict.fromkeys(texts) if text not in self.cached]
        if missing:
            self.cached.update(zip(missing, compute(missing)))
        return np.stack([self.cached[text] for text in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        return self._lookup(texts, lambda missing: Encoder.encode_passages(self, missing, progress, batch_size))

    def encode_queries(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self._lookup(texts, lambda missing: Encoder.encode_queries(self, missing, batch_size))

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), self.dimension), dtype=np.float32)


def cached_encoder(model: str, cache: Path, eval_dir: Path) -> CachedEncoder:
    encoder = load_encoder(model)
    fields = {field.name: getattr(encoder, field.name) for field in dataclasses.fields(Encoder)}
    cached = CachedEncoder(**fields)
    tag = model.rstrip("/").split("/")[-1]
    for which in ("squad", "scifact"):
        docs_file, queries_file = cache / f"{which}-{tag}-docs.npy", cache / f"{which}-{tag}-queries.npy"
        if not docs_file.is_file() or not queries_file.is_file():
            continue
        if which == "squad":
            sets = [load_eval_set(eval_dir / SQUAD)]
        else:
            sets = [load_eval_set(eval_dir / SCIFACT, split=split) for split in ("train", "test")]
        cached.cached.update(zip(documents(sets[0].articles), np.load(docs_file)))
        cached.cached.update(zip([q.text for s in sets for q in s.queries], np.load(queries_file)))
        sentences_file = cache / f"{which}-{tag}-sentences.npy"  # each passage's sentences (qa.index.sentences)
        if sentences_file.is_file():
            cached.cached.update(zip(sentence_texts(sets[0].articles)[0], np.load(sentences_file)))
    return cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="a BEIR folder or SQuAD file, as for qa eval")
    parser.add_argument("--eval-data", type=Path, default=Path("/work/shared/eval"))
    parser.add_argument("--split")
    parser.add_argument("--articles")
    parser.add_argument("--mode", action="append")
    parser.add_argument("--confidence", action="store_true")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--evidence-out", type=Path, help="with --confidence: save each question's evidence (npz)")
    args = parser.parse_args()
    from qa.evaluate.calibration import calibrate, format_calibration
    from qa.evaluate.evaluation import evaluate, format_report

    encoder = cached_encoder(args.model, args.cache, args.eval_data)
    eval_set = load_eval_set(args.dataset, split=args.split, articles=args.articles)
    modes = args.mode or ["lexical", "dense", "hybrid"]
    report = evaluate(eval_set, modes, BuildOptions(model=encoder))
    data, text = report.to_dict(), format_report(report)
    if args.confidence:
        results = calibrate(eval_set, list(report.modes), BuildOptions(model=encoder))
        data["confidence"] = {mode: result.to_dict() for mode, result in results.items()}
        text += "\n" + format_calibration(results)
        if args.evidence_out:
            source = [int(min(eval_set.gold_groups(query.id), key=int)) for query in eval_set.queries]
            arrays = {"source": np.asarray(source)}
            for mode, result in results.items():
                for kind, evidence in (("answerable", result.answerable), ("unanswerable", result.unanswerable)):
                    arrays[f"{mode}-{kind}-coverage"] = evidence.coverage
                    arrays[f"{mode}-{kind}-cosine"] = evidence.cosine
            np.savez(args.evidence_out, **arrays)
    print(text)
    print(json.dumps(data))


if __name__ == "__main__":
    main()
