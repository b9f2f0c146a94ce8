"""The facade: a loaded index answers questions with cited, highlighted passages.

A question becomes hits in four steps, each in its own module:

    check_request (request.py) → rank (ranking.py: backend searchers, fusion, rerank)
        → build_hits (answers.py: passages, scores, highlight) → is_confident (answers.py, confidence.py)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from qa.errors import InvalidRequestError
from qa.index.catalog import EPOCH, NO_DAY, Catalog
from qa.index.document import passage_document
from qa.index.duplicates import CopyGroups
from qa.index.manifest import Manifest
from qa.models.encoder import Encoder
from qa.models.reranker import DEFAULT_RERANKER, RERANK_DEPTH, Reranker, RerankerStatus
from qa.records import Answer, Article, Hit, Passage
from qa.search.answers import build_hits, evidence, is_confident, undated_left_out
from qa.search.backend import Backend, DenseSearcher, LexicalSearcher
from qa.search.confidence import ConfidenceRule, rule_for
from qa.search.opening import open_index
from qa.search.ranking import Ranked, rank
from qa.search.request import (
    MAX_QUESTION_CHARS,
    SearchOptions,
    SearchRequest,
    check_k,
    check_request,
    clean_question,
    resolve_outlets,
)
from qa.search.reranking import LazyReranker
from qa.search.rewriting import QuestionRewriter
from qa.settings import DEFAULT_K, MODES, TIMELINE_DEPTH, Mode

if TYPE_CHECKING:
    from qa.index.options import BuildOptions

__all__ = ["MAX_QUESTION_CHARS", "MODES", "Retriever", "clean_question"]
log = logging.getLogger("qa")


class Retriever:
    """Answers questions from one index folder. Build with :meth:`build`, open with :meth:`load`."""

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        catalog: Catalog,
        backend: Backend,
        encoder: Encoder | None = None,
        semantic_off_reason: str | None = None,
        confidence: ConfidenceRule | None = None,
        reranker: str | Reranker = DEFAULT_RERANKER,
        rerank_depth: int = RERANK_DEPTH,
        copies: CopyGroups | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.catalog = catalog
        self.backend = backend
        self.encoder = encoder  # encodes questions; None when semantic search is off
        self.semantic_off_reason = semantic_off_reason
        self.confidence = confidence  # None: the calibrated rules (qa/search/confidence.py)
        self.rerank_depth = check_k(rerank_depth)
        self._reranker = LazyReranker(reranker)  # located on first status check, loaded on first use
        self._rewriting: QuestionRewriter | None = None  # spelling, built on the first question
        self.copies = copies  # wire-copy groups (None: an index built before they were grouped)

    @classmethod
    def build(
        cls,
        corpus_dir: Path | str,
        index_dir: Path | str = "index",
        options: BuildOptions | None = None,
        **changes: Any,
    ) -> Retriever:
        """Build an index of ``corpus_dir`` (see :func:`qa.index.build.build_index`) and open it."""
        from qa.index.build import build_index

        return cls.load(build_index(corpus_dir, index_dir, options, **changes).index_dir)

    @classmethod
    def load(
        cls,
        index_dir: Path | str = "index",
        mmap: bool = True,
        *,
        reranker: str | Reranker = DEFAULT_RERANKER,
        rerank_depth: int = RERANK_DEPTH,
        encoder: Encoder | None = None,
    ) -> Retriever:
        """Open a built index; raises IndexNotFoundError, IndexFormatError or IndexMismatchError.

        ``reranker`` (a CrossEncoder id or folder) is only loaded when a search asks for ``rerank``.
        ``encoder``, an already loaded model, answers instead of the index's model when it embeds exactly as
        the index was built (the same model key) — evaluation rebuilding often loads it once.
        """
        opened = open_index(Path(index_dir), mmap=mmap, encoder=encoder)
        return cls(
            opened.index_dir,
            opened.manifest,
            opened.catalog,
            opened.backend,
            opened.encoder,
            opened.semantic_off_reason,
            reranker=reranker,
            rerank_depth=rerank_depth,
            copies=CopyGroups.load(opened.index_dir, opened.manifest.passages),
        )

    # -- facts -----------------------------------------------------------------------------

    @property
    def passages(self) -> Sequence[Passage]:
        """Row *i* of every index is ``passages[i]``; each is read from disk when asked for."""
        return self.catalog.passages

    @property
    def articles(self) -> Mapping[str, Article]:
        """Article id → Article, read from disk when asked for."""
        return self.catalog.articles

    @property
    def lexical(self) -> LexicalSearcher:
        return self.backend.lexical

    @property
    def dense(self) -> DenseSearcher | None:
        return self.backend.dense

    @property
    def mode(self) -> Mode:
        """``hybrid`` when passage vectors and their model are available, else ``lexical``."""
        return "hybrid" if self.backend.dense is not None and self.encoder is not None else "lexical"

    def reranker_status(self) -> RerankerStatus:
        """Whether ``rerank=True`` can work: the cross-encoder is loaded, can be found, or why not.

        Finding the model does not load its weights (that happens on the first reranked search);
        the answer is remembered, and updated if loading later fails.
        """
        return self._reranker.status()

    def outlets(self) -> list[str]:
        return list(self.catalog.outlets)

    def resolve_outlets(self, outlets: Iterable[str | None] | str | None) -> list[str | None]:
        """The index's own spelling of each outlet asked for (matched ignoring case); ``None`` stands for
        articles that name no outlet. Raises InvalidRequestError for an outlet the index does not have."""
        return list(resolve_outlets(outlets, self.catalog.outlets))

    def article(self, article_id: str) -> Article:
        try:
            return self.articles[article_id]
        except KeyError:
            raise InvalidRequestError(f"No article with id {article_id!r} in this index.") from None

    # -- searching -------------------------------------------------------------------------

    def search(self, question: str, k: int = DEFAULT_K, **options: Unpack[SearchOptions]) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first (filters apply before ranking).

        Takes the options of :meth:`ask_many`. With ``rerank`` the top ``max(k, rerank_depth)``
        candidates of ``mode`` are rescored by the cross-encoder; raises RerankerUnavailableError
        (with the reason) when it cannot be loaded.
        """
        return self.ask(question, k, **options).hits

    def ask(self, question: str, k: int = DEFAULT_K, **options: Unpack[SearchOptions]) -> Answer:
        """Like :meth:`search`, plus whether the corpus plausibly answers the question at all."""
        return self.ask_many([question], k, **options)[0]

    def ask_many(self, questions: Sequence[str], k: int = DEFAULT_K, **options: Unpack[SearchOptions]) -> list[Answer]:
        """Answers for many questions in input order; questions are encoded in batches.

        Options: ``outlets`` and a ``date_from``/``date_to`` range (ISO dates, dates or timestamps)
        filter the passages before ranking; with a range, articles without a date are left out
        (and counted in ``Answer.undated_excluded``) unless ``include_undated``. ``mode`` is
        lexical, dense or hybrid (default: the best the index offers); ``rerank`` rescores the
        candidates with the cross-encoder; ``collapse`` (default True) shows only the best of
        each group of wire copies, the others listed in its ``also_in``. A question may use
        search syntax: ``"exact phrase"``, ``-word``, ``NOT word`` (qa.search.syntax). An
        answer's ``mode`` is the ranking mode, with ``+rerank`` when the cross-encoder rescored it.
        """
        options.setdefault("collapse", True)
        request = self._check(questions, k, **options)
        asked = request.questions
        rewritten = [self._rewriter().rewrite(question) for question in asked]
        notes = [[*warnings, *rewrite.notes] for warnings, rewrite in zip(request.warnings, rewritten)]
        for warnings in notes:
            for warning in warnings:
                log.warning("%s", warning)
        request = dataclasses.replace(request, questions=tuple(rewrite.text for rewrite in rewritten))
        rule = self.confidence_rule(request.mode, rerank=request.rerank)
        # Keyword answers still encode the question when their calibrated rule weighs the hits' cosines.
        ranked = self._rank(request, encode_lexical=rule.linear)
        answers = []
        for number, ranking in enumerate(ranked.rankings):
            text = request.query(number).text
            hits = build_hits(
                self.catalog,
                self.backend,
                self.encoder,
                text,
                ranking.top(request.k),
                ranked.vector(number),
                reranked=request.rerank,
                copies=self.copies,
            )
            confident = is_confident(rule, self.backend, text, hits)
            as_searched = text if text != asked[number] else None  # corrected, or search syntax taken out
            undated = undated_left_out(self.backend.lexical, text, request.filters)
            answers.append(
                Answer(
                    asked[number],
                    request.mode,
                    hits,
                    confident,
                    notes[number],
                    rewritten[number].corrections,
                    as_searched,
                    reranked=request.rerank,
                    undated_excluded=undated,
                )
            )
        return answers

    def _rewriter(self) -> QuestionRewriter:
        if self._rewriting is None:
            self._rewriting = QuestionRewriter(self.lexical, self.catalog)
        return self._rewriting

    def rank_many(
        self,
        questions: Sequence[str],
        k: int = 10,
        *,
        mode: str | None = None,
        rerank: bool = False,
        collapse: bool = False,
        syntax: bool = False,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(passage rows, ranking scores) per question, best first: the bare ranking, for evaluation.

        With ``rerank`` the top ``max(k, rerank_depth)`` rows are rescored and the best ``k`` returned.
        Wire copies are all ranked unless ``collapse``; questions are searched as written unless
        ``syntax`` (an evaluation set's ``"quoted"`` words or ``-1`` are not search syntax).
        """
        request = self._check(questions, k, mode=mode, rerank=rerank, collapse=collapse, syntax=syntax)
        return [(ranking.rows[: request.k], ranking.scores[: request.k]) for ranking in self._rank(request).rankings]

    def match_dates(
        self, question: str, depth: int = TIMELINE_DEPTH, **options: Unpack[SearchOptions]
    ) -> list[dt.date | None]:
        """The publication date (None: undated) of each of the ``depth`` passages that best match
        ``question`` with ``options``, every wire copy counted: what a timeline of the matches draws."""
        every_copy: SearchOptions = {**options, "collapse": False, "rerank": False}
        request = self._check([question], depth, **every_copy)
        (ranking,) = self._rank(request).rankings
        days = np.asarray(self.catalog.article_day)[np.asarray(self.catalog.passage_article)[ranking.rows]]
        return [None if day == NO_DAY else EPOCH + dt.timedelta(days=int(day)) for day in days.tolist()]

    def _check(self, questions: Sequence[str], k: object, **options: Unpack[SearchOptions]) -> SearchRequest:
        return check_request(
            questions,
            k,
            index_mode=self.mode,
            semantic_off_reason=self.semantic_off_reason,
            known_outlets=self.catalog.outlets,
            **options,
        )

    def _rank(self, request: SearchRequest, encode_lexical: bool = False) -> Ranked:
        """The one ranking path: the first stage to ``max(k, rerank_depth)`` rows when reranking, else ``k``."""
        reranker = self._reranker.load() if request.rerank else None
        return rank(
            request,
            self.backend,
            self.encoder,
            self.manifest.fusion,
            reranker,
            depth=max(request.k, self.rerank_depth) if request.rerank else request.k,
            document_of=self._document,
            text_of=self._text,
            groups=self.copies.groups if self.copies is not None else None,
            encode_lexical=encode_lexical,
        )

    def _text(self, row: int) -> str:
        """The passage text at ``row``: what search syntax is checked against."""
        return self.catalog.passages[row].text

    def _document(self, row: int) -> str:
        """The passage at ``row`` as indexed (title + text): what the cross-encoder reads."""
        return passage_document(self.catalog.article_of(row), self.catalog.passages[row])

    # -- confidence ------------------------------------------------------------------------

    def confidence_rule(self, mode: Mode, rerank: bool = False) -> ConfidenceRule:
        """The rule that decides ``confident`` for answers ranked in ``mode`` (and reranked, with ``rerank``)."""
        if self.confidence is not None:
            return self.confidence
        model = self.manifest.model.name if self.manifest.model else None
        return rule_for(model, "rerank" if rerank else mode)

    def evidence(self, question: str, hits: list[Hit]) -> tuple[float, float | None]:
        """What the confidence rule weighs: the best coverage and the best cosine (None without vectors) of ``hits``."""
        return evidence(self.backend, question, hits)
