"""`python -m benchmarks.highlight_quality`: how often the highlighted sentence holds the SQuAD answer.

Each sampled SQuAD question is put to its own gold paragraph; the product's highlight
(:func:`qa.search.highlight.best_sentences`, as the retriever calls it: the model only breaks ties
among the lexically best sentences) picks a sentence, which counts when it contains the answer's
character span (any of the given answers). Compared: BM25 sentence scores alone, the same with
the default model breaking ties on the bare sentences (what a search encoded before indexes stored
sentence vectors), and on the sentences as the build embeds them, with the article title
(qa.index.sentences: what a search reads from an index that has them).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from qa.search.highlight import best_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path("/work/shared/eval/squad-v1.1/dev-v1.1.json"))
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    args = parser.parse_args()
    from qa.evaluate.evaldata import load_eval_set
    from qa.index.build import index_articles
    from qa.models.encoder import load_encoder
    from qa.search.retriever import Retriever

    data = json.loads(args.squad.read_text(encoding="utf-8"))["data"]
    cases = [
        (
            article["title"].replace("_", " ").strip(),
            paragraph["context"],
            qa["question"],
            [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]],
        )
        for article in data
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    rng = np.random.default_rng(0)
    chosen = [cases[i] for i in rng.choice(len(cases), min(args.questions, len(cases)), replace=False)]
    with tempfile.TemporaryDirectory(prefix="qa-highlight-") as scratch:  # BM25 statistics of the whole set
        index_articles(load_eval_set(args.squad).articles, Path(scratch) / "index", model=None, split=False)
        lexical = Retriever.load(Path(scratch) / "index").lexical
    encoder = load_encoder(args.model)
    from qa.index.sentences import passage_sentences

    found = {"lexical": 0, "lexical, model breaks ties": 0, "lexical, stored (titled) sentence vectors break ties": 0}
    for title, context, question, answers in chosen:
        terms = set(lexical.analyzer.terms(question))
        vector = encoder.encode_queries([question])[0]
        for name, cosines in (
            ("lexical", None),
            (
                "lexical, model breaks ties",
                lambda sentences, vector=vector: encoder.encode_sentences(sentences) @ vector,
            ),
            (
                "lexical, stored (titled) sentence vectors break ties",
                lambda sentences, vector=vector, title=title: (
                    encoder.encode_passages([passage_sentences(s, title)[0] for s in sentences]) @ vector
                ),
            ),
        ):
            start, end = best_sentences([context], terms, lexical.analyzer.terms, lexical.idf, cosines, True)[0]
            found[name] += any(start <= a and b <= end for a, b in answers)
    for name, count in found.items():
        print(f"{name}: answer in the highlighted sentence for {count / len(chosen):.1%} of {len(chosen)} questions")


if __name__ == "__main__":
    main()
