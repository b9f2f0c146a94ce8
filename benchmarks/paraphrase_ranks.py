"""`python -m benchmarks.paraphrase_ranks [--index DIR]`: where each paraphrased question of tests/paraphrases.json
ranks its answer paragraph on the shipped corpus, in lexical, dense and hybrid mode (default model)."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ranks(index_dir: Path) -> list[dict[str, object]]:
    from qa.search.retriever import Retriever

    retriever = Retriever.load(index_dir)
    questions = json.loads((ROOT / "tests" / "paraphrases.json").read_text(encoding="utf-8"))["questions"]
    rows = []
    for entry in questions:
        found: dict[str, object] = {"question": entry["question"], "set": entry["set"], "pinned": entry["pinned"]}
        for mode in ("lexical", "dense", "hybrid"):
            hits = retriever.search(entry["question"], k=len(retriever.passages), mode=mode)
            where = [(h.passage.article_id, h.passage.paragraph) for h in hits]
            target = (entry["article"], entry["paragraph"])
            found[mode] = where.index(target) + 1 if target in where else None
        rows.append(found)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, help="an index of corpus/ built with the default model (built if absent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-paraphrases-") as scratch:
        index_dir = args.index
        if index_dir is None:
            from qa.index.build import build_index

            index_dir = Path(scratch) / "index"
            build_index(ROOT / "corpus", index_dir)
        rows = ranks(index_dir)
    for kind in ("zero overlap", "topical"):
        chosen = [row for row in rows if row["set"] == kind]
        summary = {mode: sum(1 for row in chosen if row[mode] == 1) for mode in ("lexical", "dense", "hybrid")}
        print(f"{kind}: {len(chosen)} questions; answered at rank 1: {summary}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
