"""Calibrating ``Answer.confident``: the same questions asked with and without their answer in the corpus.

*Answerable*: each question of an evaluation set asked of the whole corpus. *Unanswerable*:
the same question asked of the corpus without its gold source — for SQuAD its whole article
(one rebuild per article, so no other paragraph of it can give the answer away); where there
are too many distinct sources for one build each (a BEIR split), one build without every
evaluated query's relevant documents. Both runs go through :meth:`Retriever.ask_many`, so
the evidence is exactly what the rule sees in use.

A rule is judged by two rates: *false alarms* — answerable questions it calls not
confident (kept ≤ 5 %) — and *catches* — unanswerable questions it calls not confident (as
high as possible). :func:`fit_rule` picks thresholds on one set of questions; report the
rates on other questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from qa.evaluate.evaldata import EvalSet
from qa.index.options import BuildOptions
from qa.search.confidence import ConfidenceRule
from qa.settings import SEMANTIC_MODES, Mode

CALIBRATION_K = 5  # hits per question, as `qa ask` and `Retriever.ask` return by default
MAX_REBUILDS = 64
DEFAULT_MAX_FALSE_ALARMS = 0.04  # fit below the 5 % target, to leave room for unseen questions


@dataclass(frozen=True, slots=True)
class Evidence:
    """Per question: the best coverage and the best cosine (NaN without vectors) among its hits."""

    coverage: np.ndarray
    cosine: np.ndarray

    def decide(self, rule: ConfidenceRule) -> np.ndarray:
        if rule.linear:
            has_cosine = ~np.isnan(self.cosine)
            score = rule.coverage_weight * self.coverage + rule.cosine_weight * np.nan_to_num(self.cosine)  # type: ignore[operator]
            fallback = self.decide(ConfidenceRule(rule.min_coverage, rule.min_cosine))
            return np.where(has_cosine, score + rule.bias >= 0, fallback)  # type: ignore[operator]
        confident = self.coverage >= rule.min_coverage
        if rule.min_cosine is not None:
            confident |= np.nan_to_num(self.cosine, nan=-np.inf) >= rule.min_cosine
        return confident


@dataclass(frozen=True, slots=True)
class Rates:
    not_confident_answerable: float
    not_confident_unanswerable: float

    def to_dict(self) -> dict[str, float]:
        return {
            "not_confident_answerable": round(self.not_confident_answerable, 4),
            "not_confident_unanswerable": round(self.not_confident_unanswerable, 4),
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    """One mode's evidence on answerable and unanswerable questions, the rule in use and a fitted one."""

    mode: str
    answerable: Evidence
    unanswerable: Evidence
    rule: ConfidenceRule
    fitted: ConfidenceRule
    rebuilds: int

    def rates(self, rule: ConfidenceRule) -> Rates:
        return Rates(float(1 - self.answerable.decide(rule).mean()), float(1 - self.unanswerable.decide(rule).mean()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.to_dict(),
            **self.rates(self.rule).to_dict(),
            "fitted": {**self.fitted.to_dict(), **self.rates(self.fitted).to_dict()},
            "questions": len(self.answerable.coverage),
            "rebuilds": self.rebuilds,
        }


def fit_rule(answerable: Evidence, unanswerable: Evidence, max_false_alarms: float) -> ConfidenceRule:
    """The rule that catches the most unanswerable questions with at most ``max_false_alarms`` of answerable
    ones called not confident: thresholds on coverage and cosine, or — where there are cosines — a linear
    rule from a logistic regression on both (:func:`fit_linear`), whichever catches more."""
    thresholds = fit_thresholds(answerable, unanswerable, max_false_alarms)
    if np.isnan(answerable.cosine).all() or np.isnan(unanswerable.cosine).all():
        return thresholds
    linear = fit_linear(answerable, unanswerable, max_false_alarms, thresholds)
    caught = [float(1 - unanswerable.decide(rule).mean()) for rule in (thresholds, linear)]
    return linear if caught[1] > caught[0] + 1e-12 else thresholds


def fit_linear(
    answerable: Evidence, unanswerable: Evidence, max_false_alarms: float, fallback: ConfidenceRule
) -> ConfidenceRule:
    """A logistic regression of answerable (1) vs unanswerable (0) on (coverage, cosine), by Newton's method
    (a small L2 penalty), its bias then moved so that at most ``max_false_alarms`` of answerable questions fall
    below 0. Questions without a cosine are left to ``fallback``'s thresholds."""
    a, u = ~np.isnan(answerable.cosine), ~np.isnan(unanswerable.cosine)
    x = np.column_stack(
        [
            np.concatenate([answerable.coverage[a], unanswerable.coverage[u]]),
            np.concatenate([answerable.cosine[a], unanswerable.cosine[u]]),
            np.ones(int(a.sum() + u.sum())),
        ]
    )
    y = np.concatenate([np.ones(int(a.sum())), np.zeros(int(u.sum()))])
    weights = np.zeros(3)
    penalty = np.diag([1e-3, 1e-3, 0.0]) * len(y)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ weights)))
        gradient = x.T @ (y - p) - penalty @ weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        weights += step
        if np.abs(step).max() < 1e-9:
            break
    scores = x[: int(a.sum())] @ weights  # the answerable questions' scores
    allowed = int(np.floor(max_false_alarms * len(answerable.coverage)))
    shift = float(np.sort(scores)[allowed]) if allowed < len(scores) else float(scores.max())
    return ConfidenceRule(
        fallback.min_coverage,
        fallback.min_cosine,
        round(float(weights[0]), 4),
        round(float(weights[1]), 4),
        round(float(weights[2] - shift) + 5e-4, 4),  # a hair lenient, so rounding never adds a false alarm
    )


def fit_thresholds(answerable: Evidence, unanswerable: Evidence, max_false_alarms: float) -> ConfidenceRule:
    """The thresholds that catch the most unanswerable questions with at most ``max_false_alarms`` of answerable
    ones called not confident. A cosine threshold is tried only where there are cosines."""
    options: list[float | None] = [None]
    cosines = answerable.cosine[~np.isnan(answerable.cosine)]
    if len(cosines):  # the rescued set only changes at answerable cosines: try (up to 200 of) those
        options += sorted(set(np.quantile(cosines, np.linspace(0, 1, 200), method="lower").tolist()))
    best: tuple[float, ConfidenceRule] | None = None
    for min_cosine in options:
        rescued = (
            np.zeros(len(answerable.coverage), dtype=bool)
            if min_cosine is None
            else np.nan_to_num(answerable.cosine, nan=-np.inf) >= min_cosine
        )
        # the highest coverage threshold that leaves at most max_false_alarms of answerable questions below it
        allowed = int(np.floor(max_false_alarms * len(answerable.coverage)))
        pending = np.sort(answerable.coverage[~rescued])
        min_coverage = float(pending[allowed]) if allowed < len(pending) else 1.0 + 1e-9
        rule = ConfidenceRule(round(np.floor(min_coverage * 1000) / 1000, 3), min_cosine)
        caught = float(1 - unanswerable.decide(rule).mean())
        if best is None or caught > best[0] + 1e-12:
            best = (caught, rule)
    assert best is not None
    return best[1]


def gather_evidence(retriever: Any, questions: Sequence[str], mode: str, rerank: bool = False) -> Evidence:
    """The rule's inputs for each question, from the hits :meth:`Retriever.ask_many` returns."""
    answers = retriever.ask_many(list(questions), CALIBRATION_K, mode=mode, rerank=rerank)
    evidence = [retriever.evidence(answer.question, answer.hits) for answer in answers]
    coverage = np.array([value for value, _ in evidence], dtype=np.float64)
    cosine = np.array([np.nan if value is None else value for _, value in evidence], dtype=np.float64)
    return Evidence(coverage, cosine)


def leave_out_units(eval_set: EvalSet, max_rebuilds: int = MAX_REBUILDS) -> list[tuple[set[str], list[int]]]:
    """(sources to remove, indices of the queries asked without them) — one unit per distinct gold source set,
    or a single unit removing all of them when that would take more than ``max_rebuilds`` builds."""
    units: dict[frozenset[str], list[int]] = {}
    for number, query in enumerate(eval_set.queries):
        units.setdefault(frozenset(eval_set.gold_groups(query.id)), []).append(number)
    if len(units) > max_rebuilds:
        everything = set().union(*units)
        return [(everything, list(range(len(eval_set.queries))))]
    return [(set(groups), numbers) for groups, numbers in units.items()]


def calibrate(
    eval_set: EvalSet,
    modes: Sequence[str],
    building: BuildOptions | None = None,
    *,
    reranker: Any = None,
    max_false_alarms: float = DEFAULT_MAX_FALSE_ALARMS,
    work_dir: Path | None = None,
    keep_dir: Path | None = None,
) -> dict[str, Calibration]:
    """Evidence for every mode in ``modes`` (lexical, dense, hybrid, rerank) with and without the answers,
    each corpus indexed as ``building`` says (its model: how to train one on each corpus with "self").

    With ``keep_dir`` the full index is built there and kept (see :func:`qa.evaluate.evaluation.evaluate`).
    """
    import shutil
    import tempfile

    from qa.index.build import index_articles
    from qa.models.encoder import Encoder
    from qa.models.reranker import DEFAULT_RERANKER
    from qa.search.retriever import Retriever

    questions = [query.text for query in eval_set.queries]
    building = building or BuildOptions(model=None)
    needs_model = any(mode in SEMANTIC_MODES for mode in modes)
    used = building.model if needs_model else None
    if isinstance(used, str) and used.strip().lower() not in ("self", "none", ""):
        from qa.models.encoder import load_encoder

        used = load_encoder(used)  # loaded once for every rebuild
    rules: dict[str, ConfidenceRule] = {}

    def run(
        index_dir: Path, articles: list[Any], asked: list[int], into: dict[str, list[tuple[list[int], Evidence]]]
    ) -> None:
        index_articles(
            articles,
            index_dir,
            building,
            model=used,
            require_dense=needs_model,
            auto_self=False,
            split=False,
            duplicates=None,  # dataset passages are judged one by one: no wire copies to group
        )
        encoder = used if isinstance(used, Encoder) else None  # loaded once, not once per rebuild
        retriever = Retriever.load(index_dir, reranker=reranker or DEFAULT_RERANKER, encoder=encoder)
        first_stage = retriever.mode
        for mode in modes:
            texts = [questions[number] for number in asked]
            if mode == "rerank":
                evidence = gather_evidence(retriever, texts, first_stage, rerank=True)
                rules[mode] = retriever.confidence_rule(first_stage, rerank=True)
            else:
                evidence = gather_evidence(retriever, texts, mode)
                rules[mode] = retriever.confidence_rule(cast(Mode, mode))
            into.setdefault(mode, []).append((asked, evidence))

    full: dict[str, list[tuple[list[int], Evidence]]] = {}
    removed: dict[str, list[tuple[list[int], Evidence]]] = {}
    units = leave_out_units(eval_set)
    with tempfile.TemporaryDirectory(prefix="qa-calibrate-", dir=work_dir) as folder:
        full_dir = keep_dir or Path(folder) / "full"
        run(full_dir, eval_set.articles, list(range(len(questions))), full)
        for number, (groups, asked) in enumerate(units):
            # Rebuilt in a copy of the full index, whose passage vectors are reused: a pretrained model
            # embeds the corpus once; BM25 (and a model trained on the corpus) is rebuilt without the source.
            unit_dir = Path(folder) / f"without-{number}"
            shutil.copytree(full_dir, unit_dir)
            kept = [article for article in eval_set.articles if eval_set.groups[article.id] not in groups]
            run(unit_dir, kept, asked, removed)
            shutil.rmtree(unit_dir)
    results = {}
    for mode in modes:
        with_answers, without = _assemble(full[mode], len(questions)), _assemble(removed[mode], len(questions))
        fitted = fit_rule(with_answers, without, max_false_alarms)
        results[mode] = Calibration(mode, with_answers, without, rules[mode], fitted, len(units))
    return results


def _assemble(parts: list[tuple[list[int], Evidence]], count: int) -> Evidence:
    coverage = np.full(count, np.nan)
    cosine = np.full(count, np.nan)
    for numbers, evidence in parts:
        coverage[numbers] = evidence.coverage
        cosine[numbers] = evidence.cosine
    return Evidence(coverage, cosine)


def format_calibration(results: dict[str, Calibration]) -> str:
    lines = ["", "confident rule: not confident on answerable / unanswerable questions (own source removed)"]
    for mode, result in results.items():
        current, fitted = result.rates(result.rule), result.rates(result.fitted)
        lines.append(
            f"{mode:<9}in use ({result.rule.describe()}): "
            f"{current.not_confident_answerable:.1%} / {current.not_confident_unanswerable:.1%}   "
            f"fitted here ({result.fitted.describe()}): "
            f"{fitted.not_confident_answerable:.1%} / {fitted.not_confident_unanswerable:.1%}"
        )
    first = next(iter(results.values()), None)
    if first is not None:
        lines.append(f"({len(first.answerable.coverage):,} questions; {first.rebuilds} rebuilds without their source)")
    return "\n".join(lines)
