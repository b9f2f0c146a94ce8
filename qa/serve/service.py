"""What the web page does, without Gradio: open (or build) the index, answer, render, report.

app.py only lays out components and wires events to these methods, so the page, the CLI
and the Python API give the same answers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from qa.errors import IndexNotFoundError, InvalidRequestError, QAError
from qa.index.build import build_index
from qa.index.manifest import MANIFEST_FILE
from qa.models.encoder import DEFAULT_MODEL
from qa.models.reranker import DEFAULT_RERANKER
from qa.search.retriever import Retriever
from qa.serve import web

# Questions the shipped corpus answers; the page offers those the open index answers confidently.
SEED_EXAMPLES = [
    "How many traffickers did the FIA arrest in Gujranwala?",
    "Why did Pakistan decline to pursue the case against Chinese sex traffickers?",
    "How many girls and women were brought to China to be sold as brides?",
    "What are Uyghurs forbidden from doing in the re-education centers?",
    "How do traffickers use online recruitment and fraudulent job listings?",
    "What did the Chinese team that visited Pakistan offer?",
]
MAX_K = 20
log = logging.getLogger("qa")


class Service:
    """One index folder, answering for the page and for the `/ask` API endpoint.

    A rebuild swaps a new index into the folder; the next request notices the new manifest
    and opens it, while requests already running finish on the old one.
    """

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever
        self._stamp = _stamp(retriever.index_dir)
        self._lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        """The retriever for the index in the folder now (reopened after a rebuild)."""
        stamp = _stamp(self._retriever.index_dir)
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._reopen(stamp)
        return self._retriever

    def _reopen(self, stamp: tuple[int, int]) -> None:
        index_dir = self._retriever.index_dir
        try:
            self._retriever = Retriever.load(index_dir, reranker=self._retriever.reranker_status().model)
            log.info("Opened the rebuilt index in %s (%d passages).", index_dir, len(self._retriever.passages))
        except QAError as error:
            log.warning("Kept serving the index opened earlier: the one now in %s cannot be used: %s", index_dir, error)
        self._stamp = stamp

    @classmethod
    def open(
        cls,
        index_dir: Path | str,
        corpus_dir: Path | str,
        model: str | None = DEFAULT_MODEL,
        reranker: str = DEFAULT_RERANKER,
    ) -> Service:
        """Load ``index_dir``; when there is no index yet, build it from ``corpus_dir`` first."""
        index_dir = Path(index_dir)
        try:
            return cls(Retriever.load(index_dir, reranker=reranker))
        except IndexNotFoundError:
            log.info("No index at %s yet; building it from %s …", index_dir, corpus_dir)
        report = build_index(corpus_dir, index_dir, model=model, progress=True)
        log.info(
            "Indexed %d articles as %d passages (%s search).",
            report.manifest.articles,
            report.manifest.passages,
            report.manifest.mode,
        )
        return cls(Retriever.load(index_dir, reranker=reranker))

    # -- answering -----------------------------------------------------------------------

    def ask_html(
        self,
        question: str,
        k: float = 5,
        outlets: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        rerank: bool = False,
    ) -> str:
        """The results panel for a question; a user's mistake becomes a message, not an exception."""
        try:
            answer = self.retriever.ask(
                question or "",
                _k(k),
                outlets=outlets or None,
                date_from=date_from or None,
                date_to=date_to or None,
                rerank=bool(rerank),
            )
        except QAError as error:
            return web.render_message(str(error))
        return web.render_answer(answer)

    def ask_json(self, question: str, k: float = 5) -> str:
        """Exactly what `qa ask --json` prints for the question; raises QAError for a bad one."""
        return json.dumps(self.retriever.ask(question, _k(k)).to_dict(), ensure_ascii=False)

    def article_html(self, request: Any) -> str:
        """The reader for a "show in article" click: ``{"article", "start", "end", "hlStart", "hlEnd"}``."""
        try:
            data = json.loads(request) if isinstance(request, str) else dict(request or {})
            article = self.retriever.article(str(data["article"]))
            start, end = int(data["start"]), int(data["end"])
            highlight = (int(data["hlStart"]), int(data["hlEnd"]))
        except (KeyError, TypeError, ValueError, json.JSONDecodeError):
            return web.render_message("That passage could not be opened.")
        except QAError as error:
            return web.render_message(str(error))
        if not 0 <= start <= end <= len(article.text):
            return web.render_message("That passage is not in this article.")
        return web.render_article(article, start, end, highlight)

    # -- facts about the index -------------------------------------------------------------

    def rerank_option(self) -> tuple[bool, str]:
        """Whether the rerank toggle can be used, and the line explaining it."""
        status = self.retriever.reranker_status()
        if status.available:
            return True, f"rescore the top passages with the cross-encoder {status.model} (slower, often more precise)"
        return False, f"unavailable: {status.detail}"

    def banner_html(self) -> str:
        retriever = self.retriever
        return web.render_banner(retriever.mode, retriever.semantic_off_reason, retriever.manifest.semantic_layer())

    def about_html(self) -> str:
        retriever = self.retriever
        manifest = retriever.manifest
        about = web.render_about(manifest, retriever.mode, retriever.semantic_off_reason)
        if "skipped" in manifest.corpus:  # kept by builds since the skipped-file record exists
            about += web.render_skipped(manifest.skipped())
        return about

    def articles_html(self) -> str:
        retriever = self.retriever
        counts = Counter(passage.article_id for passage in retriever.passages)
        articles = sorted(retriever.articles.values(), key=lambda a: (a.date or "", a.id), reverse=True)
        return web.render_articles(articles, counts)

    def outlets(self) -> list[str]:
        return self.retriever.outlets()

    def examples(self, limit: int = 6) -> list[str]:
        """The seed questions this index answers confidently (none for an unrelated corpus)."""
        found = []
        for question in SEED_EXAMPLES:
            answer = self.retriever.ask(question, 1)
            if answer.confident:
                found.append(question)
        return found[:limit]


def _stamp(index_dir: Path) -> tuple[int, int] | None:
    """Identity of the manifest file now in ``index_dir``; a swapped-in index has a new one."""
    try:
        status = os.stat(index_dir / MANIFEST_FILE)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def _k(k: object) -> int:
    try:
        value = int(k)  # the slider sends floats
    except (TypeError, ValueError):
        raise InvalidRequestError(f"k must be a whole number, not {k!r}.") from None
    if value > MAX_K:
        raise InvalidRequestError(f"k can be at most {MAX_K} here (got {value}).")
    return value
