"""`qa eval`: index an evaluation dataset with the product's own code, ask all its queries, score the rankings.

The dataset is indexed by :func:`qa.index.build.index_articles` (one passage per document, as
given) into a temporary folder and opened with :meth:`Retriever.load`, so the figures are those
of the code users run. Queries are asked in one batch per mode (:meth:`Retriever.rank_many`),
and queries per second cover everything after the index is loaded: query encoding, every
field's scoring, fusion and, in ``rerank`` mode, the first stage plus the cross-encoder.

``rerank`` rescores the top ``rerank_depth`` candidates of the first stage (hybrid when a
model is loaded, else lexical); ranks below them keep the first stage's order, as they would
for a user asking for more hits than the depth, so Recall@100 is the first stage's.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.evaluate.evaldata import EvalSet
from qa.evaluate.metrics import METRICS, mean_metrics
from qa.index.options import BuildOptions
from qa.settings import EVAL_DEPTH, EVAL_MODES, SEMANTIC_MODES

RANK_DEPTH = EVAL_DEPTH
log = logging.getLogger("qa")


@dataclass(frozen=True, slots=True)
class ModeResult:
    mode: str
    metrics: dict[str, float]
    qps: float
    seconds: float

    def to_dict(self) -> dict[str, float]:
        return {**{name: round(self.metrics[name], 4) for name in METRICS}, "qps": round(self.qps, 1)}


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Figures per mode for one dataset split, and the modes that could not run (with the reason)."""

    dataset: str
    split: str
    queries: int
    passages: int
    modes: dict[str, ModeResult]
    skipped: dict[str, str] = field(default_factory=dict)
    subset: str | None = None
    build_seconds: float = 0.0
    first_stage: str | None = None  # what `rerank` rescored
    semantic_layer: str | None = None  # Manifest.semantic_layer() of the evaluation index
    stale: list[dict[str, Any]] = field(default_factory=list)  # relevance marks whose passage changed or went
    unjudged: list[str] = field(default_factory=list)  # marked questions without a usable relevant mark
    problems: list[str] = field(default_factory=list)  # lines of a marks file that could not be read
    index: str | None = None  # the built index evaluated (relevance marks), rather than one built for the run

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dataset": self.dataset,
            "split": self.split,
            "queries": self.queries,
            "passages": self.passages,
            "modes": {name: result.to_dict() for name, result in self.modes.items()},
        }
        if self.subset:
            data["articles"] = self.subset
        if self.skipped:
            data["skipped"] = dict(self.skipped)
        if self.first_stage:
            data["rerank_first_stage"] = self.first_stage
        if self.semantic_layer:
            data["semantic_layer"] = self.semantic_layer
        if self.index:
            data["index"] = self.index
        if self.stale:
            data["stale_marks"] = list(self.stale)
        if self.unjudged:
            data["questions_without_relevant_marks"] = list(self.unjudged)
        if self.problems:
            data["unreadable_lines"] = list(self.problems)
        return data


def splice_reranked(reranked: np.ndarray, first_stage: np.ndarray, depth: int) -> np.ndarray:
    """The reranked rows, then the first stage's remaining rows in their order, ``depth`` in all."""
    seen = set(reranked.tolist())
    tail = [row for row in first_stage.tolist() if row not in seen]
    return np.concatenate([reranked, np.asarray(tail, dtype=np.int64)])[:depth].astype(np.int64)


def evaluate(
    eval_set: EvalSet,
    modes: Sequence[str] = ("lexical",),
    building: BuildOptions | None = None,
    *,
    reranker: Any = None,
    rerank_depth: int | None = None,
    work_dir: Path | None = None,
    keep_dir: Path | None = None,
) -> EvalReport:
    """Index ``eval_set`` as ``building`` says and score each of ``modes`` (``"all"`` = every mode that can
    run here).

    ``building.model`` is the embedding model (id, folder or Encoder; None for lexical only;
    "self" trains one on the dataset's passages) and ``reranker`` the cross-encoder (id, folder or
    Reranker; None for the default). A mode asked for by name that cannot run raises the reason;
    under ``"all"`` it is skipped and reported.
    With ``keep_dir`` the evaluation index is built there and kept: a later run with the same model
    reuses its passage vectors (the other splits of a dataset, other modes, calibration). With
    ``building.qdrant`` the passages are searched in a Qdrant collection, deleted after the run unless kept.
    """
    from qa.index.build import index_articles
    from qa.index.manifest import CorpusInfo
    from qa.models.encoder import Encoder
    from qa.models.reranker import DEFAULT_RERANKER, RERANK_DEPTH
    from qa.search.retriever import Retriever

    wanted, explicit = wanted_modes(modes)
    building = building or BuildOptions(model=None)
    needs_model = any(mode in SEMANTIC_MODES for mode in wanted) or (building.model is not None and "rerank" in wanted)
    with tempfile.TemporaryDirectory(prefix="qa-eval-", dir=work_dir) as scratch:
        started = time.perf_counter()
        index_dir = keep_dir or Path(scratch) / "index"
        options = BuildOptions.of(
            building,
            model=building.model if needs_model else None,
            require_dense=explicit and any(mode in SEMANTIC_MODES for mode in wanted),
            auto_self=False,
            split=False,
            duplicates=None,  # dataset passages are judged one by one: no wire copies to group
        )
        report = index_articles(eval_set.articles, index_dir, options, corpus=CorpusInfo(eval_set.name))
        retriever = Retriever.load(
            index_dir,
            reranker=reranker or DEFAULT_RERANKER,
            rerank_depth=rerank_depth or RERANK_DEPTH,
            encoder=building.model if isinstance(building.model, Encoder) else None,
        )
        build_seconds = time.perf_counter() - started
        skipped: dict[str, str] = {}
        if retriever.mode == "lexical":
            for mode in SEMANTIC_MODES:
                if mode in wanted:
                    skipped[mode] = report.manifest.semantic_off_reason or "no embedding model"
        questions = [query.text for query in eval_set.queries]
        qrels = [eval_set.qrels[query.id] for query in eval_set.queries]
        ids = [passage.article_id for passage in retriever.passages]
        try:
            results, first_stage = score_modes(retriever, questions, qrels, ids.__getitem__, wanted, explicit, skipped)
        finally:  # also when scoring fails or is interrupted: a run's collection never outlives it
            if options.qdrant is not None and keep_dir is None and report.manifest.qdrant is not None:
                from qa.index.qdrant import delete_collection

                delete_collection(options.qdrant, report.manifest.qdrant.collection)  # its index folder goes too
    return EvalReport(
        dataset=eval_set.name,
        split=eval_set.split,
        queries=len(eval_set.queries),
        passages=len(retriever.passages),
        modes=results,
        skipped=skipped,
        subset=eval_set.subset,
        build_seconds=build_seconds,
        first_stage=first_stage,
        semantic_layer=report.manifest.semantic_layer() if report.manifest.model else None,
    )


def wanted_modes(modes: Sequence[str]) -> tuple[list[str], bool]:
    """The modes to score (``"all"`` = every mode) and whether they were named (so one that cannot run is an error)."""
    from qa.errors import InvalidRequestError

    wanted = list(EVAL_MODES) if "all" in modes else list(dict.fromkeys(modes))
    for mode in wanted:
        if mode not in EVAL_MODES:
            raise InvalidRequestError(f"Unknown mode {mode!r}; use one of {', '.join(EVAL_MODES)} or all.")
    return wanted, "all" not in modes


def score_modes(
    retriever: Any,
    questions: Sequence[str],
    qrels: Sequence[dict[str, int]],
    id_of: Callable[[int], str],
    wanted: Sequence[str],
    explicit: bool,
    skipped: dict[str, str],
) -> tuple[dict[str, ModeResult], str | None]:
    """Rank ``questions`` in each mode of ``wanted`` with ``retriever`` and score the rankings against ``qrels``
    (judgements keyed by ``id_of(row)``); modes that cannot run are added to ``skipped`` (or raise, if ``explicit``).

    Returns the results per mode and the first stage ``rerank`` rescored (None without rerank).
    """
    from qa.errors import ModelUnavailableError, RerankerUnavailableError

    if "rerank" in wanted and "rerank" not in skipped:
        status = retriever.reranker_status()
        if not status.available:
            if explicit:
                raise RerankerUnavailableError(f"Reranking is off: {status.detail}.")
            skipped["rerank"] = status.detail
    results: dict[str, ModeResult] = {}
    first_stage = retriever.mode
    base_rows: list[np.ndarray] | None = None
    for mode in wanted:
        if mode in skipped:
            continue
        started = time.perf_counter()
        try:
            if mode == "rerank":
                ranked = retriever.rank_many(questions, retriever.rerank_depth, mode=first_stage, rerank=True)
            else:
                ranked = retriever.rank_many(questions, RANK_DEPTH, mode=mode)
        except ModelUnavailableError as error:
            if explicit:
                raise
            skipped[mode] = str(error)
            continue
        seconds = time.perf_counter() - started
        rows = [found for found, _ in ranked]
        if mode == first_stage:
            base_rows = rows
        if mode == "rerank":
            if base_rows is None:
                base_rows = [found for found, _ in retriever.rank_many(questions, RANK_DEPTH, mode=first_stage)]
            rows = [splice_reranked(top, base, RANK_DEPTH) for top, base in zip(rows, base_rows)]
        metrics = mean_metrics([[id_of(row) for row in found.tolist()] for found in rows], qrels)
        results[mode] = ModeResult(mode, metrics, len(questions) / seconds if seconds > 0 else 0.0, seconds)
        log.debug("%s: %s", mode, metrics)
    return results, first_stage if "rerank" in results else None


def format_report(report: EvalReport) -> str:
    """The report as a table for people."""
    subset = f", articles {report.subset}" if report.subset else ""
    lines = [
        f"{report.dataset} ({report.split}{subset}): {report.queries:,} queries, {report.passages:,} passages, "
        + (
            f"index {report.index} (opened in {report.build_seconds:.1f} s)"
            if report.index
            else f"indexed in {report.build_seconds:.1f} s"
        ),
        *([f"semantic layer: {report.semantic_layer}"] if report.semantic_layer else []),
        "",
        f"{'mode':<9}{'nDCG@10':>9}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'R@100':>8}{'MRR@10':>8}{'q/s':>9}",
    ]
    for name, result in report.modes.items():
        values = "".join(f"{result.metrics[metric]:>8.4f}" for metric in METRICS[1:])
        lines.append(f"{name:<9}{result.metrics['ndcg@10']:>9.4f}{values}{result.qps:>9.1f}")
    if report.first_stage:
        lines.append(f"\nrerank rescored the top candidates of {report.first_stage} search.")
    for name, reason in report.skipped.items():
        lines.append(f"{name}: skipped — {reason}")
    if report.stale:
        lines.append(f"\n{len(report.stale)} stale mark(s), not used:")
        lines += [f"  {m['article_id']} ¶{m['paragraph']} for {m['question']!r}: {m['reason']}" for m in report.stale]
    if report.unjudged:
        lines.append(f"\n{len(report.unjudged)} marked question(s) have no usable relevant passage, not evaluated:")
        lines += [f"  {question!r}" for question in report.unjudged]
    for problem in report.problems:
        lines.append(f"skipped {problem}")
    return "\n".join(lines)
