"""`python -m benchmarks.confidence_tuning`: which evidence tells an answerable question from an unanswerable one.

SQuAD's removed-article protocol on cached arrays (:mod:`benchmarks.semantic_data`): each question
asked of all 2,067 paragraphs (answerable) and of the paragraphs without its article (unanswerable),
in lexical, dense and hybrid mode (the model's fusion as shipped, qa.settings.MODEL_FUSION), 5 hits. Rules are fitted on
articles 1-24 (at most 4 % of answerable questions called not confident) and reported on 25-48, next to the
shipped rules (qa.search.confidence.MODEL_RULES). ``--sentence-weight μ`` ranks dense and hybrid candidates by
(1 − μ)·cosine + μ·best sentence's cosine, as an index with sentence vectors does; the cosine evidence stays
the passage's, as in the product.
An approximation of the product's protocol, for choosing the evidence: BM25 keeps the full corpus's
statistics when an article is removed (the product rebuilds). `qa eval --confidence` gives the exact
figures of the rule that ships.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.semantic_data import DEFAULT_CACHE, SQUAD, Arrays, load_arrays
from qa.evaluate.calibration import Evidence, fit_rule
from qa.evaluate.evaldata import load_eval_set
from qa.search.confidence import MODEL_RULES, term_coverage
from qa.search.fusion import gated_weight, interpolate_scores
from qa.settings import MODEL_FUSION, FusionSettings

K = 5
DEPTH = 100
MAX_FALSE_ALARMS = 0.04


def top_hits(  # type: ignore[no-untyped-def]
    lexical: np.ndarray, cosine: np.ndarray, fusion: FusionSettings, coverage_of, dense: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Top-K rows per mode for one question (rows removed from the corpus carry −inf); hybrid as ``fusion``
    (the manifest's form) says, ``coverage_of(rows)`` giving the best coverage among ``rows`` for its gate.
    ``dense`` (with sentence evidence) orders the vectors' candidates, which ``cosine`` chooses."""
    lex_order = np.argsort(-lexical, kind="stable")
    dense_order = np.argsort(-cosine, kind="stable")[:DEPTH]
    if dense is None:
        dense = cosine
    else:
        dense_order = dense_order[np.argsort(-dense[dense_order], kind="stable")]
    lex100 = lex_order[:DEPTH][lexical[lex_order[:DEPTH]] > 0]
    rows = np.concatenate([lex100, dense_order[~np.isin(dense_order, lex100)]])
    weight = gated_weight(fusion.lexical_weight, coverage_of(lex100[:5]), fusion.coverage_gate)
    _, fused_rows = (
        None,
        interpolate_scores(rows, lexical[rows], dense[rows], weight, fusion.normalise)[0],
    )
    return {
        "lexical": lex100[:K],
        "dense": dense_order[:K],
        "hybrid": fused_rows[:K],
    }


def collect(
    eval_dir: Path, arrays: Arrays, fusion: FusionSettings, sentence_weight: float = 0.0
) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """{"answerable"|"unanswerable": {mode: {feature: per-question values}}}."""
    from qa.index.build import index_articles
    from qa.search.retriever import Retriever

    squad = load_eval_set(eval_dir / SQUAD)
    with tempfile.TemporaryDirectory(prefix="qa-tune-") as scratch:
        index_articles(squad.articles, Path(scratch) / "index", model=None, split=False)
        lexical_index = Retriever.load(Path(scratch) / "index").lexical
        analyzer, idf_of = lexical_index.analyzer, lexical_index.idf
        passage_terms = [set(analyzer.terms(a.title or "") + analyzer.terms(a.text)) for a in squad.articles]
        question_terms = [analyzer.terms(q) for q in arrays.questions]
        idf: dict[str, float] = {}

        def coverage(q: int, rows: np.ndarray) -> float:
            for term in question_terms[q]:
                if term not in idf:
                    idf[term] = idf_of(term)
            return max(
                (term_coverage(question_terms[q], passage_terms[row], idf.__getitem__) for row in rows.tolist()),
                default=0.0,
            )

        article_of_row = np.array([int(doc.split("-")[0]) for doc in arrays.doc_ids])
        cosines = arrays.query_vectors @ arrays.docs.T
        blended = None
        if sentence_weight:
            from benchmarks.fusion_tuning import dense_scores

            blended = dense_scores(arrays, sentence_weight, np.arange(len(arrays.questions)))
        out: dict[str, dict[str, dict[str, list[float]]]] = {"answerable": {}, "unanswerable": {}}
        for q in range(len(arrays.questions)):
            for kind in out:
                lexical, cosine = arrays.lexical[q].astype(np.float64), cosines[q].astype(np.float64)
                dense = blended[q].astype(np.float64) if blended is not None else None
                if kind == "unanswerable":
                    gone = article_of_row == arrays.groups[q]
                    lexical, cosine = np.where(gone, -1.0, lexical), np.where(gone, -np.inf, cosine)
                    dense = np.where(gone, -np.inf, dense) if dense is not None else None
                hits = top_hits(lexical, cosine, fusion, lambda rows, q=q: coverage(q, rows), dense)
                lexical_top, dense_top = set(hits["lexical"][:1].tolist()), set(hits["dense"][:K].tolist())
                for mode, rows in hits.items():
                    values = out[kind].setdefault(mode, {})
                    found = np.sort(cosine[rows])[::-1]
                    values.setdefault("coverage", []).append(coverage(q, rows))
                    values.setdefault("cosine", []).append(float(found[0]) if len(found) else 0.0)
                    values.setdefault("cosine_gap", []).append(float(found[0] - found[1]) if len(found) > 1 else 0.0)
                    values.setdefault("agree", []).append(float(bool(lexical_top & dense_top)))
    return {
        kind: {mode: {f: np.asarray(v) for f, v in feats.items()} for mode, feats in modes.items()}
        for kind, modes in out.items()
    }


def rates(confident_answerable: np.ndarray, confident_unanswerable: np.ndarray) -> tuple[float, float]:
    return float(1 - confident_answerable.mean()), float(1 - confident_unanswerable.mean())


def logistic(answerable: dict[str, np.ndarray], unanswerable: dict[str, np.ndarray], names: list[str], fit: np.ndarray):
    """A logistic regression on ``names`` fitted on the ``fit`` questions, its threshold set to MAX_FALSE_ALARMS."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate(
        [np.column_stack([answerable[n] for n in names]), np.column_stack([unanswerable[n] for n in names])]
    )
    y = np.concatenate([np.ones(len(answerable[names[0]])), np.zeros(len(unanswerable[names[0]]))])
    both = np.concatenate([fit, fit])
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x[both], y[both])
    score_a = model.decision_function(np.column_stack([answerable[n] for n in names]))
    score_u = model.decision_function(np.column_stack([unanswerable[n] for n in names]))
    threshold = float(np.quantile(score_a[fit], MAX_FALSE_ALARMS))
    return model, threshold, score_a, score_u


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--sentence-weight", type=float, default=0.0, help="μ: dense scores blend the best sentence")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    eval_dir = args.eval_data.resolve()
    arrays = load_arrays(eval_dir, "squad", args.model, args.cache, sentences=bool(args.sentence_weight))
    found = collect(eval_dir, arrays, MODEL_FUSION[args.model], args.sentence_weight)
    fit, held = arrays.groups <= 24, arrays.groups > 24
    report: dict[str, dict[str, object]] = {}
    for mode in ("lexical", "dense", "hybrid"):
        a, u = found["answerable"][mode], found["unanswerable"][mode]
        rows: dict[str, object] = {}
        shipped = MODEL_RULES[args.model][mode]
        decided_a, decided_u = (
            Evidence(a["coverage"], a["cosine"]).decide(shipped),
            Evidence(u["coverage"], u["cosine"]).decide(shipped),
        )
        rows["shipped rule"] = {
            "rule": shipped.to_dict(),
            "fit": rates(decided_a[fit], decided_u[fit]),
            "held out": rates(decided_a[held], decided_u[held]),
        }
        for name, use_cosine in (("coverage", False), ("coverage or cosine", True)):
            ev_a = Evidence(a["coverage"], a["cosine"] if use_cosine else np.full(len(a["coverage"]), np.nan))
            ev_u = Evidence(u["coverage"], u["cosine"] if use_cosine else np.full(len(u["coverage"]), np.nan))
            rule = fit_rule(
                Evidence(ev_a.coverage[fit], ev_a.cosine[fit]),
                Evidence(ev_u.coverage[fit], ev_u.cosine[fit]),
                MAX_FALSE_ALARMS,
            )
            decided_a, decided_u = ev_a.decide(rule), ev_u.decide(rule)
            rows[name] = {
                "rule": rule.to_dict(),
                "fit": rates(decided_a[fit], decided_u[fit]),
                "held out": rates(decided_a[held], decided_u[held]),
            }
        for names in (
            ["coverage", "cosine"],
            ["coverage", "cosine", "cosine_gap"],
            ["coverage", "cosine", "cosine_gap", "agree"],
        ):
            model, threshold, score_a, score_u = logistic(a, u, names, fit)
            rows["logistic " + "+".join(names)] = {
                "weights": dict(zip(names, np.round(model.coef_[0], 3).tolist())),
                "intercept": round(float(model.intercept_[0] - threshold), 3),
                "fit": rates(score_a[fit] >= threshold, score_u[fit] >= threshold),
                "held out": rates(score_a[held] >= threshold, score_u[held] >= threshold),
            }
        report[mode] = rows
        for name, row in rows.items():
            fa, caught = row["held out"]  # type: ignore[index]
            print(
                f"{mode:8} {name:45} held out: not confident on answerable {fa:.1%}, unanswerable caught {caught:.1%}"
            )
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
