"""The facade: a loaded index answers questions with cited, highlighted passages."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import (
    EmptyQuestionError,
    IndexMismatchError,
    InvalidRequestError,
    ModelUnavailableError,
    RerankerUnavailableError,
)
from qa.index.build import BuildReport, build_index, passage_document
from qa.index.catalog import Catalog, day_number
from qa.index.dense import DenseIndex
from qa.index.lexical import LexicalIndex, LexicalSettings
from qa.index.manifest import Manifest
from qa.index.store import open_manifest
from qa.models.encoder import DEFAULT_MODEL, Encoder, load_encoder
from qa.models.reranker import (
    DEFAULT_RERANKER,
    RERANK_DEPTH,
    Reranker,
    RerankerStatus,
    load_reranker,
    locate_reranker,
    rerank_order,
)
from qa.records import Answer, Article, Hit, Passage
from qa.search.confidence import ConfidenceRule, rule_for, term_coverage
from qa.search.fusion import RRF_K, interpolate_scores, reciprocal_rank_fusion
from qa.search.highlight import best_sentences

MAX_QUESTION_CHARS = 2000
MODES = ("lexical", "dense", "hybrid")
CANDIDATE_DEPTH = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
log = logging.getLogger("qa")


def clean_question(question: object) -> tuple[str, list[str]]:
    """The question as searched, and warnings about what was changed. Blank raises."""
    if not isinstance(question, str):
        raise InvalidRequestError(f"The question must be text, not {type(question).__name__}.")
    text = " ".join(_CONTROL.sub(" ", question).split())
    if not text:
        raise EmptyQuestionError("The question is empty. Type a question about the articles.")
    warnings = []
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUESTION_CHARS]
        warnings.append(f"The question was longer than {MAX_QUESTION_CHARS:,} characters; only its start was used.")
    return text, warnings


def _parse_date(value: object, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):  # a timestamp, as date pickers send
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise InvalidRequestError(f"{name} {value!r} is not a date.") from None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InvalidRequestError(f"{name} {value!r} is not a date; write it as YYYY-MM-DD.") from None


class Retriever:
    """Answers questions from one index folder. Build with :meth:`build`, open with :meth:`load`."""

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        catalog: Catalog,
        lexical: LexicalIndex,
        dense: DenseIndex | None = None,
        encoder: Encoder | None = None,
        semantic_off_reason: str | None = None,
        confidence: ConfidenceRule | None = None,
        reranker: str | Reranker = DEFAULT_RERANKER,
        rerank_depth: int = RERANK_DEPTH,
    ) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.catalog = catalog
        self.lexical = lexical
        self.dense = dense
        self.encoder = encoder
        self.semantic_off_reason = semantic_off_reason
        self.confidence = confidence  # None: the calibrated rules (qa/search/confidence.py)
        self.rerank_depth = _check_k(rerank_depth)
        # The cross-encoder loads on first use; until then it is only located.
        self._reranker: Reranker | None = reranker if isinstance(reranker, Reranker) else None
        self._reranker_name = reranker.name if isinstance(reranker, Reranker) else str(reranker)
        self._reranker_status: RerankerStatus | None = None

    @property
    def passages(self) -> Sequence[Passage]:
        """Row *i* of every index is ``passages[i]``; each is read from disk when asked for."""
        return self.catalog.passages

    @property
    def articles(self) -> Mapping[str, Article]:
        """Article id → Article, read from disk when asked for."""
        return self.catalog.articles

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        corpus_dir: Path | str,
        index_dir: Path | str = "index",
        model: str | None = DEFAULT_MODEL,
        **options: Any,
    ) -> Retriever:
        """Build an index of ``corpus_dir`` (see :func:`qa.index.build.build_index`) and open it."""
        report: BuildReport = build_index(corpus_dir, index_dir, model=model, **options)
        return cls.load(report.index_dir)

    @classmethod
    def load(
        cls,
        index_dir: Path | str = "index",
        mmap: bool = True,
        *,
        reranker: str | Reranker = DEFAULT_RERANKER,
        rerank_depth: int = RERANK_DEPTH,
    ) -> Retriever:
        """Open a built index; raises IndexNotFoundError, IndexFormatError or IndexMismatchError.

        ``reranker`` (a CrossEncoder id or folder) is only loaded when a search asks for ``rerank``.
        """
        index_dir = Path(index_dir)
        manifest = open_manifest(index_dir)
        catalog = Catalog.load(index_dir, manifest.passages, manifest.articles, mmap_arrays=mmap)
        passages = catalog.passages
        lexical = LexicalIndex.load(index_dir, LexicalSettings.from_dict(manifest.lexical), mmap=mmap)
        problem = lexical.check_rows(len(passages))
        if problem:
            raise IndexMismatchError(f"The lexical index in {index_dir} is inconsistent: {problem}. Rebuild it.")
        dense = encoder = None
        off_reason = manifest.semantic_off_reason
        if manifest.model is not None:
            dense = DenseIndex.load(index_dir, manifest.dense, mmap=mmap)
            if dense.size != len(passages) or dense.dimension != manifest.model["dimension"]:
                raise IndexMismatchError(
                    f"The vector index in {index_dir} has {dense.size} vectors of dimension {dense.dimension}; "
                    f"the manifest expects {len(passages)} of dimension {manifest.model['dimension']}. Rebuild it."
                )
            try:
                encoder = _load_index_encoder(manifest.model, index_dir)
            except ModelUnavailableError as error:
                off_reason = f"the index has passage vectors but its model cannot be loaded now: {error}"
                log.warning("semantic search is off: %s", off_reason)
                dense = None
        return cls(
            index_dir,
            manifest,
            catalog,
            lexical,
            dense,
            encoder,
            off_reason,
            reranker=reranker,
            rerank_depth=rerank_depth,
        )

    # -- facts -----------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``hybrid`` when passage vectors and their model are available, else ``lexical``."""
        return "hybrid" if self.dense is not None and self.encoder is not None else "lexical"

    def reranker_status(self) -> RerankerStatus:
        """Whether ``rerank=True`` can work: the cross-encoder is loaded, can be found, or why not.

        Finding the model does not load its weights (that happens on the first reranked search);
        the answer is remembered, and updated if loading later fails.
        """
        if self._reranker is not None:
            return RerankerStatus(True, self._reranker.name, True, "loaded")
        if self._reranker_status is None:
            self._reranker_status = locate_reranker(self._reranker_name)
        return self._reranker_status

    def _load_reranker(self) -> Reranker:
        if self._reranker is None:
            status = self.reranker_status()
            if not status.available:
                raise RerankerUnavailableError(f"Reranking is off: {status.detail}.")
            try:
                self._reranker = load_reranker(self._reranker_name)
            except RerankerUnavailableError as error:
                self._reranker_status = RerankerStatus(False, self._reranker_name, False, str(error))
                raise
            log.info("reranking with cross-encoder %s", self._reranker.name)
        return self._reranker

    def outlets(self) -> list[str]:
        return list(self.catalog.outlets)

    def article(self, article_id: str) -> Article:
        try:
            return self.articles[article_id]
        except KeyError:
            raise InvalidRequestError(f"No article with id {article_id!r} in this index.") from None

    # -- searching -------------------------------------------------------------------------

    def resolve_outlets(self, outlets: Iterable[str | None] | str | None) -> list[str | None]:
        """The index's own spelling of each outlet asked for (matched ignoring case); ``None`` stands for
        articles that name no outlet. Raises InvalidRequestError for an outlet the index does not have."""
        if isinstance(outlets, str):  # one outlet given as a plain string
            outlets = [outlets]
        by_case = {name.casefold(): name for name in self.outlets()}
        resolved: list[str | None] = []
        for outlet in outlets or []:
            if outlet is None:
                resolved.append(None)
                continue
            if not outlet.strip():
                continue
            name = by_case.get(outlet.strip().casefold())
            if name is None:
                listing = ", ".join(sorted(by_case.values())) or "none are named in this corpus"
                raise InvalidRequestError(f"No articles from outlet {outlet!r}. Known outlets: {listing}.")
            resolved.append(name)
        return list(dict.fromkeys(resolved))

    def _allowed_rows(
        self, outlets: Iterable[str | None] | str | None, date_from: object, date_to: object
    ) -> np.ndarray | None:
        """Passage rows passing the filters (None when there are no filters)."""
        wanted = self.resolve_outlets(outlets)
        start, end = _parse_date(date_from, "date_from"), _parse_date(date_to, "date_to")
        if not wanted and start is None and end is None:
            return None
        if start and end and start > end:
            raise InvalidRequestError(f"date_from {start} is after date_to {end}; swap them.")
        first = day_number(start) if start is not None else None
        last = day_number(end) if end is not None else None
        return self.catalog.rows_matching(wanted, first, last)

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        outlets: Iterable[str | None] | None = None,
        date_from: object = None,
        date_to: object = None,
        mode: str | None = None,
        rerank: bool = False,
    ) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first (filters apply before ranking).

        With ``rerank`` the top ``max(k, rerank_depth)`` candidates of ``mode`` are rescored by the
        cross-encoder; raises RerankerUnavailableError (with the reason) when it cannot be loaded.
        """
        return self.ask(
            question, k, outlets=outlets, date_from=date_from, date_to=date_to, mode=mode, rerank=rerank
        ).hits

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        outlets: Iterable[str | None] | None = None,
        date_from: object = None,
        date_to: object = None,
        mode: str | None = None,
        rerank: bool = False,
    ) -> Answer:
        """Like :meth:`search`, plus whether the corpus plausibly answers the question at all."""
        return self.ask_many(
            [question], k, outlets=outlets, date_from=date_from, date_to=date_to, mode=mode, rerank=rerank
        )[0]

    def ask_many(
        self,
        questions: Sequence[str],
        k: int = 5,
        *,
        outlets: Iterable[str | None] | None = None,
        date_from: object = None,
        date_to: object = None,
        mode: str | None = None,
        rerank: bool = False,
    ) -> list[Answer]:
        """Answers for many questions in input order; questions are encoded in batches.

        An answer's ``mode`` is the first-stage mode, with ``+rerank`` when the cross-encoder rescored it.
        """
        cleaned = [clean_question(question) for question in questions]
        for _, warnings in cleaned:
            for warning in warnings:
                log.warning("%s", warning)
        texts = [text for text, _ in cleaned]
        k = _check_k(k)
        mode = self._check_mode(mode)
        allowed = self._allowed_rows(outlets, date_from, date_to)
        reranker = self._load_reranker() if rerank else None
        vectors = self._encode(texts, mode)
        pool = self._pool(k, rerank)
        dense = self._dense_rankings(vectors, len(texts), pool, mode, allowed)
        ranked = []  # (rows, ranking scores, lexical scores of those rows) per question
        for number, text in enumerate(texts):
            vector = vectors[number] if vectors is not None else None
            rows, ranking, lexical_scores = self._rank(text, vector, dense[number], pool, mode, allowed)
            ranked.append((rows, ranking, lexical_scores[rows]))
        if reranker is not None:
            reordered = self._rerank_many(reranker, texts, [rows for rows, _, _ in ranked])
            ranked = [
                (rows[order], scores, lexical[order]) for (rows, _, lexical), (order, scores) in zip(ranked, reordered)
            ]
        answers = []
        for number, ((text, warnings), (rows, ranking, lexical)) in enumerate(zip(cleaned, ranked)):
            vector = vectors[number] if vectors is not None else None
            hits = self._hits(text, rows[:k], ranking[:k], lexical[:k], vector, reranked=reranker is not None)
            label = f"{mode}+rerank" if reranker is not None else mode
            answers.append(Answer(text, label, hits, self._confident(text, hits, label), warnings))
        return answers

    def rank_many(
        self, questions: Sequence[str], k: int = 10, *, mode: str | None = None, rerank: bool = False
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(passage rows, ranking scores) per question, best first: the bare ranking, for evaluation.

        With ``rerank`` the top ``max(k, rerank_depth)`` rows are rescored and the best ``k`` returned.
        """
        texts = [clean_question(question)[0] for question in questions]
        k = _check_k(k)
        mode = self._check_mode(mode)
        reranker = self._load_reranker() if rerank else None
        vectors = self._encode(texts, mode)
        pool = self._pool(k, rerank)
        dense = self._dense_rankings(vectors, len(texts), pool, mode, None)
        ranked = []
        for number, text in enumerate(texts):
            vector = vectors[number] if vectors is not None else None
            rows, ranking, _ = self._rank(text, vector, dense[number], pool, mode, None)
            ranked.append((rows, ranking))
        if reranker is not None:
            reordered = self._rerank_many(reranker, texts, [rows for rows, _ in ranked])
            ranked = [(rows[order], scores) for (rows, _), (order, scores) in zip(ranked, reordered)]
        return [(rows[:k], ranking[:k]) for rows, ranking in ranked]

    def _pool(self, k: int, rerank: bool) -> int:
        return max(k, self.rerank_depth) if rerank else k

    def _rerank_many(
        self, reranker: Reranker, questions: list[str], pools: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per question, the order of its candidate rows by cross-encoder score and the sorted scores.

        The cross-encoder reads the passage as indexed (title + text); all pairs go in one batched call.
        """
        pairs = [
            (question, passage_document(self.catalog.article_of(row), self.catalog.passages[row]))
            for question, rows in zip(questions, pools)
            for row in rows.tolist()
        ]
        scores = reranker.score_pairs(pairs).astype(np.float64)
        reordered, start = [], 0
        for rows in pools:
            mine = scores[start : start + len(rows)]
            start += len(rows)
            order = rerank_order(mine)
            reordered.append((order, mine[order]))
        return reordered

    def _encode(self, texts: list[str], mode: str) -> np.ndarray | None:
        if mode == "lexical" or self.encoder is None:
            return None
        return self.encoder.encode_queries(texts)

    def _check_mode(self, mode: str | None) -> str:
        if mode is None:
            return self.mode
        if mode not in MODES:
            raise InvalidRequestError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
        if mode != "lexical" and self.mode == "lexical":
            raise InvalidRequestError(
                f"Mode {mode!r} needs semantic search, which is off for this index: {self.semantic_off_reason}"
            )
        return mode

    def _dense_rankings(
        self, vectors: np.ndarray | None, count: int, k: int, mode: str, allowed: np.ndarray | None
    ) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """(rows, cosines) best first for each of ``count`` questions, from one batched FAISS search
        (None for each when the mode does not use vectors)."""
        if vectors is None or mode == "lexical" or self.dense is None:
            return [None] * count
        if allowed is not None and len(allowed) == 0:
            return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))] * len(vectors)
        scores, rows = self.dense.search(vectors, max(CANDIDATE_DEPTH, k), allowed)
        return [(found[found >= 0], cosines[found >= 0]) for found, cosines in zip(rows, scores)]

    def _rank(
        self,
        question: str,
        vector: np.ndarray | None,
        dense_ranking: tuple[np.ndarray, np.ndarray] | None,
        k: int,
        mode: str,
        allowed: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, ranking scores, lexical scores of all passages) for the top k."""
        lexical_scores = self.lexical.scores(question)
        if allowed is not None and len(allowed) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0), lexical_scores
        depth = max(CANDIDATE_DEPTH, k)
        lexical_rows = _top_rows(lexical_scores, depth, allowed)
        if mode == "lexical":
            rows = lexical_rows[:k]
            return rows, lexical_scores[rows].astype(np.float64), lexical_scores
        assert dense_ranking is not None
        dense_rows, dense_scores = dense_ranking
        if mode == "dense":
            return dense_rows[:k], dense_scores[:k].astype(np.float64), lexical_scores
        rows, fused = self._fuse(lexical_rows, lexical_scores, dense_rows, vector)
        return rows[:k], fused[:k], lexical_scores

    def _fuse(
        self, lexical_rows: np.ndarray, lexical_scores: np.ndarray, dense_rows: np.ndarray, vector: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hybrid ranking as the index says (manifest ``fusion``): rank fusion, or score interpolation
        over the union of both candidate lists with every candidate's exact cosine."""
        fusion = self.manifest.fusion or {"method": "rrf", "k": RRF_K}
        if fusion["method"] == "interpolation" and vector is not None and self.dense is not None:
            rows = np.concatenate([lexical_rows, dense_rows[~np.isin(dense_rows, lexical_rows)]])
            cosines = self.dense.scores_for(vector, rows)
            return interpolate_scores(rows, lexical_scores[rows], cosines, float(fusion["lexical_weight"]))
        return reciprocal_rank_fusion([lexical_rows, dense_rows], k=int(fusion.get("k", RRF_K)))

    def _hits(
        self,
        question: str,
        rows: np.ndarray,
        fused: np.ndarray,
        lexical_values: np.ndarray,
        query_vector: np.ndarray | None,
        reranked: bool = False,
    ) -> list[Hit]:
        """Hits for ``rows``; ``fused`` and ``lexical_values`` are aligned with them."""
        passages = [self.catalog.passages[row] for row in rows.tolist()]
        articles = [self.catalog.article_of(row) for row in rows.tolist()]
        per_method: list[dict[str, float]] = [{"lexical": float(value)} for value in lexical_values.tolist()]
        if reranked:  # the ranking score is the cross-encoder's
            for scores, value in zip(per_method, fused.tolist()):
                scores["rerank"] = float(value)
        cosine_of = None
        if query_vector is not None and self.dense is not None and self.encoder is not None:
            for scores, cosine in zip(per_method, self.dense.scores_for(query_vector, rows).tolist()):
                scores["dense"] = float(cosine)
            encoder = self.encoder

            def cosine_of(sentences: list[str]) -> np.ndarray:
                return encoder.encode_sentences(sentences) @ query_vector

        analyzer = self.lexical.analyzer
        # The model only breaks ties among the lexically best sentences: the answer sentence was
        # found as often or more (SQuAD: 83.2 % vs 81.2 % for the sum of both scores) and a
        # search encodes ~3 sentences instead of ~23 (docs/performance.md).
        spans = best_sentences(
            [p.text for p in passages],
            set(analyzer.terms(question)),
            analyzer.terms,
            self.lexical.idf,
            cosine_of,
            lexical_first=True,
        )
        return [
            Hit(rank, float(score), scores, passage, article, span)
            for rank, (passage, article, score, scores, span) in enumerate(
                zip(passages, articles, fused.tolist(), per_method, spans), 1
            )
        ]

    def confidence_rule(self, mode: str) -> ConfidenceRule:
        """The rule that decides ``confident`` for answers in ``mode`` (e.g. "hybrid", "lexical+rerank")."""
        if self.confidence is not None:
            return self.confidence
        first_stage, _, reranked = mode.partition("+")
        model = self.manifest.model["name"] if self.manifest.model else None
        return rule_for(model, "rerank" if reranked else first_stage)

    def _confident(self, question: str, hits: list[Hit], mode: str) -> bool:
        if not hits:
            return False
        return self.confidence_rule(mode).decide(*self.evidence(question, hits))

    def evidence(self, question: str, hits: list[Hit]) -> tuple[float, float | None]:
        """What the confidence rule weighs: the best coverage and the best cosine (None without vectors) of ``hits``."""
        if not hits:
            return 0.0, None
        analyzer = self.lexical.analyzer
        question_terms = analyzer.terms(question)
        coverage = max(
            term_coverage(
                question_terms,
                analyzer.terms(hit.article.title or "") + analyzer.terms(hit.passage.text),
                self.lexical.idf,
            )
            for hit in hits
        )
        cosine = max((hit.scores["dense"] for hit in hits if "dense" in hit.scores), default=None)
        return coverage, cosine


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidRequestError(f"k must be a whole number, not {k!r}.")
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1 (got {k}).")
    return int(k)


def _top_rows(scores: np.ndarray, depth: int, allowed: np.ndarray | None) -> np.ndarray:
    """Rows with a positive score, best first (ties by row order), at most ``depth`` of them."""
    if allowed is not None:
        candidates = allowed[scores[allowed] > 0]
    else:
        candidates = np.flatnonzero(scores > 0)
    if len(candidates) > depth:
        part = np.argpartition(-scores[candidates], depth - 1)[:depth]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order]


def _load_index_encoder(model: dict[str, Any], index_dir: Path) -> Encoder:
    name = model["name"]
    folder = Path(name) if Path(name).is_absolute() else index_dir / name
    # A manifest may come from anyone: the model it names is read from disk, never downloaded.
    encoder = load_encoder(folder if folder.is_dir() else name, allow_download=False)
    if model.get("fingerprint") and encoder.fingerprint and encoder.fingerprint != model["fingerprint"]:
        raise IndexMismatchError(
            f"The model at {name} has changed since the index was built. Rebuild it with `qa build --model {name}`."
        )
    if encoder.dimension != model["dimension"]:
        raise IndexMismatchError(
            f"Model {name} makes {encoder.dimension}-dimensional vectors but the index holds "
            f"{model['dimension']}-dimensional ones. Rebuild it with `qa build --model {name}`."
        )
    encoder.query_prompt = model.get("query_prompt", encoder.query_prompt)
    encoder.document_prompt = model.get("document_prompt", encoder.document_prompt)
    return encoder
